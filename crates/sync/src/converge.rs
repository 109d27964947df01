//! Converging one Okta user: read its facts, compute the desired Connect user, read the
//! current one, apply the difference. Safe to repeat at any point (Connect has no client
//! token): a create that meets `Duplicate` looks the user up and carries on.

use okta_connect_core::config::Config;
use okta_connect_core::desired::{Desired, desired_user};
use okta_connect_core::outcome::{Converged, DesiredState, StepKind};
use okta_connect_core::plan::{ConnectUser, Step, plan};
use okta_connect_core::ports::{DirectoryError, IdentitySource, Ledger, UserDirectory};

use crate::error::SyncError;

/// Converges `okta_user_id` with the facts in `ledger`. The caller holds the user lease
/// and paces `directory`.
///
/// Errors: transient ones (throttling, a user not yet searchable after a 409, a user
/// deleted behind our back) are worth retrying; permanent ones (Connect rejects a value,
/// a changed login) are not.
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
    let record = ledger.user_record(okta_user_id).await?;
    let mut desired = desired_user(&record.facts, None, config)?;
    if let (Desired::Present(_), Some(identity)) = (&desired, identity) {
        // Real names only matter for a user who should exist; one Okta call, not two.
        // A transient Okta failure is an error (retried), never a silent fallback to
        // display names: that would write wrong names and flap them back later.
        let user = identity.user(okta_user_id).await?;
        desired = desired_user(&record.facts, user.as_ref().map(|u| &u.profile), config)?;
    }
    let username = match &desired {
        Desired::Unmanaged => {
            return Ok(Converged {
                desired: DesiredState::Unmanaged,
                steps: Vec::new(),
                connect_user_id: None,
            });
        }
        Desired::Present(user) => user.username.clone(),
        Desired::Revoked { username, .. } => username.clone(),
    };

    // Current state: by the remembered id (one call), else by username when something
    // must be removed. A user that should exist and was never created costs no lookup:
    // the create is tried first and a Duplicate answer leads to the lookup.
    let current = match &record.connect_user_id {
        Some(id) => match directory.describe(id).await? {
            Some(user) if !user.username.eq_ignore_ascii_case(&username) => {
                return Err(SyncError::Permanent(format!(
                    "Okta now names this user {username:?} but its Connect user {id} is {:?}; \
                     Connect cannot rename users: delete or rename the Connect user, then \
                     redrive this event",
                    user.username
                )));
            }
            found => found,
        },
        None if matches!(desired, Desired::Present(_)) => None,
        None => directory.find_by_username(&username).await?,
    };
    let mut done = Converged {
        desired: DesiredState::from(&desired),
        steps: Vec::new(),
        connect_user_id: None,
    };
    let remembered = record.connect_user_id.as_deref();
    let apply = Apply {
        desired: &desired,
        config,
        ledger,
        directory,
        okta_user_id,
    };
    apply.run(current, remembered, &mut done).await?;
    Ok(done)
}

/// One converge's context, so the apply loop reads as the plan it follows.
struct Apply<'a, L, D> {
    desired: &'a Desired,
    config: &'a Config,
    ledger: &'a L,
    directory: &'a D,
    okta_user_id: &'a str,
}

impl<L: Ledger, D: UserDirectory> Apply<'_, L, D> {
    async fn run(
        &self,
        current: Option<ConnectUser>,
        remembered: Option<&str>,
        done: &mut Converged,
    ) -> Result<(), SyncError> {
        let mut steps = plan(self.desired, current.as_ref(), self.config.send_email);
        let mut user_id = current.map(|u| u.id);
        let mut index = 0;
        while index < steps.len() {
            let step = steps[index].clone();
            index += 1;
            match (&step, user_id.as_deref()) {
                (Step::Create(want), _) => match self.directory.create(want).await {
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
                        self.remember(Some(&found.id)).await?;
                        user_id = Some(found.id.clone());
                        steps = plan(self.desired, Some(&found), self.config.send_email);
                        index = 0;
                    }
                    Err(e) => return Err(e.into()),
                },
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
                    self.directory.update(id, change).await.map_err(vanished)?;
                    done.steps.push(change.kind());
                }
            }
        }
        // Remember a user found by name (the next converge then costs one call), and
        // forget one that no longer exists.
        let created_or_deleted = done
            .steps
            .iter()
            .any(|s| matches!(s, StepKind::Create | StepKind::Delete));
        if user_id.as_deref() != remembered && !created_or_deleted {
            self.remember(user_id.as_deref()).await?;
        }
        done.connect_user_id = user_id;
        Ok(())
    }

    async fn remember(&self, connect_user_id: Option<&str>) -> Result<(), SyncError> {
        Ok(self
            .ledger
            .remember_connect_user(self.okta_user_id, connect_user_id)
            .await?)
    }
}

/// A user deleted behind our back between read and write: re-read and converge again.
fn vanished(e: DirectoryError) -> SyncError {
    match e {
        DirectoryError::NotFound(m) => {
            SyncError::Transient(format!("Connect user disappeared while converging: {m}"))
        }
        other => other.into(),
    }
}
