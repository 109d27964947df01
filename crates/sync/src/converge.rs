//! Converging one Okta user: read its facts, compute the desired Connect user, find the
//! Connect user it *owns*, apply the difference. Safe to repeat at any point (Connect has
//! no client token): a create that meets `Duplicate` looks the user up and carries on.
//!
//! Ownership (see `okta_connect_core::ownership`): the Connect user of an Okta user is
//! the one the ledger remembers for it, else the one tagged with its Okta id. A Connect
//! user tagged for another Okta user is never updated or revoked; an untagged one with
//! the wanted username is adopted (tagged) only when `[Sync] ADOPT_EXISTING_USERS`
//! allows; revocation never goes by username alone.

use okta_connect_core::config::{Config, LoginChange};
use okta_connect_core::desired::{Desired, RevokedBecause, desired_user};
use okta_connect_core::fact::OktaStatus;
use okta_connect_core::fact::UserFacts;
use okta_connect_core::outcome::{Converged, DesiredState, StepKind};
use okta_connect_core::ownership::{self, Owner, UserFilter};
use okta_connect_core::plan::{Change, ConnectUser, Step, plan};
use okta_connect_core::ports::{DirectoryError, IdentitySource, Ledger, UserDirectory, UserRecord};

use crate::error::SyncError;

/// Converges `okta_user_id` with the facts in `ledger`. The caller holds the user lease
/// and paces `directory`.
///
/// Errors: transient ones (throttling, a user not yet searchable after a 409, a user
/// deleted behind our back) are worth retrying; permanent ones (Connect rejects a value,
/// a Connect user owned by another Okta user, an untagged one when adoption is off, a
/// changed login under `ON_LOGIN_CHANGE = FAIL`) are not.
///
/// Facts recorded while it runs are not missed: the facts are read again before the
/// first write and once the writes are done, and the user is converged again from the
/// newer facts (at most [`MAX_ROUNDS`] times; the steps of every round are reported).
pub async fn converge_user<L, D, I>(
    okta_user_id: &str,
    config: &Config,
    ledger: &L,
    directory: &D,
    identity: Option<&I>,
) -> Result<Converged, SyncError>
where
    L: Ledger,
    D: UserDirectory,
    I: IdentitySource,
{
    let mut steps = Vec::new();
    let mut round = 0;
    loop {
        round += 1;
        let record = ledger.user_record(okta_user_id).await?;
        let converged = match converge_once(
            okta_user_id,
            &record,
            config,
            ledger,
            directory,
            identity,
        )
        .await?
        {
            Round::Done(converged) => converged,
            Round::Stale if round < MAX_ROUNDS => {
                tracing::info!(
                    okta_user_id,
                    "newer facts arrived before the first write; planning again"
                );
                continue;
            }
            Round::Stale => {
                return Err(SyncError::Transient(
                    "the user's facts kept changing while converging".into(),
                ));
            }
        };
        steps.extend(converged.steps.iter().copied());
        let after = ledger.user_record(okta_user_id).await?;
        if after.facts == record.facts || round >= MAX_ROUNDS {
            return Ok(Converged { steps, ..converged });
        }
        tracing::info!(
            okta_user_id,
            "newer facts arrived while converging; converging again"
        );
    }
}

/// Converge rounds one call makes at most: a user whose facts change faster than this is
/// handed back (transient) rather than converged forever.
pub const MAX_ROUNDS: usize = 3;

/// How one round ended.
enum Round {
    Done(Converged),
    /// The facts changed between planning and the first write: nothing was written.
    Stale,
}

/// One round: plan from `record`, apply.
async fn converge_once<L, D, I>(
    okta_user_id: &str,
    record: &UserRecord,
    config: &Config,
    ledger: &L,
    directory: &D,
    identity: Option<&I>,
) -> Result<Round, SyncError>
where
    L: Ledger,
    D: UserDirectory,
    I: IdentitySource,
{
    let mut desired = desired_user(&record.facts, None, config)?;
    if let (Desired::Present(_), Some(identity)) = (&desired, identity) {
        // Real names only matter for a user who should exist; one Okta call, not two.
        // A transient Okta failure is an error (retried), never a silent fallback to
        // display names: that would write wrong names and flap them back later.
        let user = identity.user(okta_user_id).await?;
        desired = desired_user(&record.facts, user.as_ref().map(|u| &u.profile), config)?;
    }
    // A lifecycle event for a user whose memberships this pipeline never saw (it joined
    // the group before go-live): its own Connect user, if it has one, is still revoked.
    let mut found_for_status = None;
    if let (
        Desired::Unmanaged,
        Some(status @ (OktaStatus::Suspended | OktaStatus::Deactivated | OktaStatus::Deleted)),
    ) = (&desired, record.facts.status())
    {
        let owned = match record.connect_user_id.as_deref() {
            Some(id) => directory.describe(id).await?,
            None => directory
                .search(&UserFilter::OwnedBy(okta_user_id.to_string()))
                .await?
                .into_iter()
                .min_by(|a, b| a.id.cmp(&b.id)),
        };
        if let Some(user) = owned.filter(|u| Owner::of(u) == Owner::Okta(okta_user_id)) {
            desired = match status {
                OktaStatus::Suspended => Desired::Revoked {
                    username: user.username.clone(),
                    removal: config.suspension.clone(),
                    because: RevokedBecause::Suspended,
                },
                OktaStatus::Deleted => Desired::Revoked {
                    username: user.username.clone(),
                    removal: config.removal.clone(),
                    because: RevokedBecause::Deleted,
                },
                _ => Desired::Revoked {
                    username: user.username.clone(),
                    removal: config.removal.clone(),
                    because: RevokedBecause::Deactivated,
                },
            };
            found_for_status = Some(user);
        }
    }
    if let Desired::Revoked { removal, .. } = &desired
        && removal.lacks_profile()
    {
        return Err(SyncError::Permanent(
            config
                .check_revocations_can_run()
                .err()
                .unwrap_or_else(|| "no no-permission security profile is configured".into()),
        ));
    }
    let username = match &desired {
        Desired::Unmanaged => {
            return Ok(Round::Done(Converged {
                desired: DesiredState::Unmanaged,
                steps: Vec::new(),
                connect_user_id: None,
            }));
        }
        Desired::Present(user) => user.username.clone(),
        Desired::Revoked { username, .. } => username.clone(),
    };
    let apply = Apply {
        desired: &desired,
        config,
        ledger,
        directory,
        okta_user_id,
        planned_from: &record.facts,
    };
    let mut done = Converged {
        desired: DesiredState::from(&desired),
        steps: Vec::new(),
        connect_user_id: None,
    };

    // The owned Connect user: by the remembered id (one call), else by tag when
    // something must be revoked. A user who should exist and was never created costs no
    // lookup: the create is tried first and a Duplicate answer leads to the lookup.
    let remembered = record.connect_user_id.as_deref();
    let mut owned = match (found_for_status, remembered) {
        (Some(user), _) => Some(user),
        (None, remembered) => match remembered {
            Some(id) => match directory.describe(id).await? {
                Some(user) => Some(apply.check_owner(user)?),
                None => None,
            },
            None if matches!(desired, Desired::Revoked { .. }) => directory
                .search(&UserFilter::OwnedBy(okta_user_id.to_string()))
                .await?
                .into_iter()
                .min_by(|a, b| a.id.cmp(&b.id)),
            None => None,
        },
    };
    if let (Desired::Present(_), Some(user)) = (&desired, &owned)
        && !user.username.eq_ignore_ascii_case(&username)
    {
        // Connect cannot rename: the login (or USERNAME_SOURCE) changed.
        match config.on_login_change {
            LoginChange::Fail => {
                return Err(SyncError::Permanent(format!(
                    "Okta now names this user {username:?} but its Connect user {} is {:?}; \
                     Connect cannot rename users ([Sync] ON_LOGIN_CHANGE = FAIL): delete or \
                     rename the Connect user, then redrive this event",
                    user.id, user.username
                )));
            }
            LoginChange::Replace => {
                if apply.stale().await? {
                    return Ok(Round::Stale);
                }
                apply.revoke_old(user, &mut done).await?;
                owned = None;
            }
        }
    }
    if apply.run(owned, remembered, &mut done).await? == Ran::Stale {
        return Ok(Round::Stale);
    }
    Ok(Round::Done(done))
}

/// Whether [`Apply::run`] applied its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ran {
    Applied,
    /// The facts changed before the first write: nothing was written.
    Stale,
}

/// One converge's context, so the apply loop reads as the plan it follows.
struct Apply<'a, L, D> {
    desired: &'a Desired,
    config: &'a Config,
    ledger: &'a L,
    directory: &'a D,
    okta_user_id: &'a str,
    /// The facts the plan was made from.
    planned_from: &'a UserFacts,
}

impl<L: Ledger, D: UserDirectory> Apply<'_, L, D> {
    async fn run(
        &self,
        current: Option<ConnectUser>,
        remembered: Option<&str>,
        done: &mut Converged,
    ) -> Result<Ran, SyncError> {
        let send_email = self.config.send_email;
        let mut steps = plan(
            self.okta_user_id,
            self.desired,
            current.as_ref(),
            send_email,
        );
        // Before the first write: a fact recorded since the plan was made (by another
        // worker, which waits for this one's lease) makes the plan stale.
        if !steps.is_empty() && done.steps.is_empty() && self.stale().await? {
            return Ok(Ran::Stale);
        }
        let mut user_id = current.map(|u| u.id);
        let mut index = 0;
        while index < steps.len() {
            let step = steps[index].clone();
            index += 1;
            match (&step, user_id.as_deref()) {
                (Step::Create(want), _) => {
                    let tags = ownership::tags_for(self.okta_user_id, want);
                    match self.directory.create(want, &tags).await {
                        Ok(created) => {
                            // Remember at once: a crash after this point must not lose the id.
                            self.remember(Some(&created.id)).await?;
                            user_id = Some(created.id);
                            done.steps.push(StepKind::Create);
                        }
                        Err(DirectoryError::Duplicate(_)) => {
                            let found = self
                                .directory
                                .find_by_username(&want.username)
                                .await?
                                .ok_or_else(|| {
                                    // Connect's search index lags its writes: try again shortly.
                                    SyncError::Transient(format!(
                                        "{} exists in Connect but is not searchable yet",
                                        want.username
                                    ))
                                })?;
                            let found = self.check_owner(found)?;
                            self.remember(Some(&found.id)).await?;
                            user_id = Some(found.id.clone());
                            steps = plan(self.okta_user_id, self.desired, Some(&found), send_email);
                            index = 0;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                (_, None) => {
                    return Err(SyncError::Transient(format!(
                        "no Connect user id for step {}",
                        step.kind()
                    )));
                }
                (Step::Delete, Some(id)) => {
                    match self.directory.delete(id).await {
                        Ok(()) | Err(DirectoryError::NotFound(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                    self.remember(None).await?;
                    done.steps.push(StepKind::Delete);
                    user_id = None;
                }
                (Step::Update(change), Some(id)) => {
                    if let Err(e) = self.directory.update(id, change).await {
                        return Err(self.update_failed(id, change, e).await);
                    }
                    done.steps.push(change.kind());
                }
            }
        }
        // Remember a user found by tag or name (the next converge then costs one call),
        // and forget one that no longer exists.
        let created_or_deleted = done
            .steps
            .iter()
            .any(|s| matches!(s, StepKind::Create | StepKind::Delete));
        if user_id.as_deref() != remembered && !created_or_deleted {
            self.remember(user_id.as_deref()).await?;
        }
        done.connect_user_id = user_id;
        Ok(Ran::Applied)
    }

    /// Whether the ledger's facts differ from the ones the plan was made from.
    async fn stale(&self) -> Result<bool, SyncError> {
        let now = self.ledger.user_record(self.okta_user_id).await?;
        Ok(now.facts != *self.planned_from)
    }

    /// `user` if this Okta user may act on it: tagged for it, or untagged (then adopted
    /// if `[Sync] ADOPT_EXISTING_USERS` allows). Never a user tagged for another Okta
    /// user.
    fn check_owner(&self, user: ConnectUser) -> Result<ConnectUser, SyncError> {
        match Owner::of(&user) {
            Owner::Okta(owner) if owner == self.okta_user_id => Ok(user),
            Owner::Okta(other) => Err(SyncError::Permanent(format!(
                "Connect user {:?} ({}) belongs to Okta user {other} (tag {}), not to Okta user \
                 {}: it is never updated or revoked for another Okta user. If {other} is gone \
                 and the login was reused (a rehire), delete or retag that Connect user, then \
                 redrive this event",
                user.username,
                user.id,
                ownership::OKTA_USER_TAG,
                self.okta_user_id
            ))),
            Owner::Untagged if self.config.adopt_existing_users => Ok(user),
            Owner::Untagged => Err(SyncError::Permanent(format!(
                "Connect user {:?} ({}) exists and was not created by okta-connect; adoption is \
                 off ([Sync] ADOPT_EXISTING_USERS = false): tag it {}={} to hand it over, or \
                 delete it, then redrive this event",
                user.username,
                user.id,
                ownership::OKTA_USER_TAG,
                self.okta_user_id
            ))),
        }
    }

    /// Revokes the owned Connect user left under an old username, by the removal policy,
    /// and forgets it, so a new one can be created under the new username.
    async fn revoke_old(&self, old: &ConnectUser, done: &mut Converged) -> Result<(), SyncError> {
        if self.config.removal.lacks_profile() {
            return Err(SyncError::Permanent(
                self.config
                    .check_revocations_can_run()
                    .err()
                    .unwrap_or_default(),
            ));
        }
        let revoked = Desired::Revoked {
            username: old.username.clone(),
            removal: self.config.removal.clone(),
            because: RevokedBecause::LoginChanged,
        };
        for step in plan(
            self.okta_user_id,
            &revoked,
            Some(old),
            self.config.send_email,
        ) {
            match step {
                Step::Delete => match self.directory.delete(&old.id).await {
                    Ok(()) | Err(DirectoryError::NotFound(_)) => done.steps.push(StepKind::Delete),
                    Err(e) => return Err(e.into()),
                },
                Step::Update(change) => {
                    match self.directory.update(&old.id, &change).await {
                        Ok(()) | Err(DirectoryError::NotFound(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                    done.steps.push(change.kind());
                }
                Step::Create(_) => {}
            }
        }
        tracing::info!(
            okta_user_id = self.okta_user_id,
            old_username = %old.username,
            connect_user_id = %old.id,
            "login changed: the old Connect user was revoked by the removal policy"
        );
        self.remember(None).await
    }

    async fn remember(&self, connect_user_id: Option<&str>) -> Result<(), SyncError> {
        Ok(self
            .ledger
            .remember_connect_user(self.okta_user_id, connect_user_id)
            .await?)
    }
}

impl<L: Ledger, D: UserDirectory> Apply<'_, L, D> {
    /// Classifies a failed update of user `id`. Connect answers an unknown profile or
    /// hierarchy id with a 400 (permanent already) or with `ResourceNotFound`, which
    /// also means "no such user": the user is looked up to tell them apart. Gone, it was
    /// deleted behind our back (transient: re-read and converge again); still there, the
    /// change names something Connect does not have — a config error, permanent.
    async fn update_failed(&self, id: &str, change: &Change, e: DirectoryError) -> SyncError {
        let DirectoryError::NotFound(message) = e else {
            return e.into();
        };
        match self.directory.describe(id).await {
            Ok(None) => SyncError::Transient(format!(
                "Connect user disappeared while converging: {message}"
            )),
            Ok(Some(_)) => SyncError::Permanent(format!(
                "Connect refused {} of user {id} with \"not found\" although the user exists: \
                 an id in config.ini (routing profile, security profile or hierarchy group) is \
                 not in the instance: {message}",
                change.kind()
            )),
            Err(other) => other.into(),
        }
    }
}
