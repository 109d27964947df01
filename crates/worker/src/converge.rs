//! Converging one Okta user: read its facts, compute the desired Connect user, read the
//! current one, apply the difference. Safe to repeat at any point (Connect has no client
//! token): a CreateUser that meets `Duplicate` looks the user up and carries on.

use okta_connect_core::config::Config;
use okta_connect_core::desired::{Desired, desired_user};
use okta_connect_core::plan::{ConnectUser, Step, plan};
use okta_connect_core::ports::{DirectoryError, IdentitySource, Ledger, UserDirectory};
use serde::Serialize;

use crate::WorkerError;

/// What one converge did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Converged {
    /// `present:<mapping>`, `revoked:<why>`, or `unmanaged`.
    pub desired: String,
    /// Names of the Connect writes made, in order (empty: already in step).
    pub steps: Vec<&'static str>,
    pub connect_user_id: Option<String>,
}

/// Converges `okta_user_id` with the facts in `ledger`. The caller holds the user lease.
pub async fn converge_user<L, D, I>(
    okta_user_id: &str,
    config: &Config,
    ledger: &L,
    directory: &D,
    identity: Option<&I>,
) -> Result<Converged, WorkerError>
where
    L: Ledger,
    D: UserDirectory,
    I: IdentitySource,
{
    let record = ledger.user_record(okta_user_id).await?;
    let mut desired = desired_user(&record.facts, None, config)?;
    if let (Desired::Present(_), Some(identity)) = (&desired, identity) {
        // Real names only matter for a user who should exist; one Okta call, not two.
        let profile = identity.user_profile(okta_user_id).await?;
        desired = desired_user(&record.facts, profile.as_ref(), config)?;
    }
    let (username, label) = match &desired {
        Desired::Unmanaged => {
            return Ok(Converged {
                desired: "unmanaged".into(),
                ..Converged::default()
            });
        }
        Desired::Present(user) => (user.username.clone(), format!("present:{}", user.mapping)),
        Desired::Revoked {
            username, because, ..
        } => (
            username.clone(),
            format!("revoked:{because:?}").to_lowercase(),
        ),
    };
    let mut done = Converged {
        desired: label,
        ..Converged::default()
    };

    // Current state: by the remembered id (one call), else by username when something
    // must be removed. A user that should exist and was never created costs no lookup:
    // CreateUser is tried first and a Duplicate answer leads to the lookup.
    let current = match &record.connect_user_id {
        Some(id) => match directory.describe_user(id).await? {
            Some(user) if !user.username.eq_ignore_ascii_case(&username) => {
                return Err(WorkerError::Permanent(format!(
                    "Okta now names this user {username:?} but its Connect user {id} is {:?}; \
                     Connect cannot rename users: delete or rename the Connect user, then \
                     redrive this event",
                    user.username
                )));
            }
            found => found,
        },
        None if matches!(desired, Desired::Present(_)) => None,
        None => directory.find_user(&username).await?,
    };
    let remembered = record.connect_user_id.as_deref();
    apply(
        &desired,
        current,
        remembered,
        config,
        ledger,
        directory,
        okta_user_id,
        &mut done,
    )
    .await?;
    Ok(done)
}

#[allow(clippy::too_many_arguments)]
async fn apply<L: Ledger, D: UserDirectory>(
    desired: &Desired,
    current: Option<ConnectUser>,
    remembered: Option<&str>,
    config: &Config,
    ledger: &L,
    directory: &D,
    okta_user_id: &str,
    done: &mut Converged,
) -> Result<(), WorkerError> {
    let mut steps = plan(desired, current.as_ref(), config.send_email);
    let mut user_id = current.map(|u| u.id);
    let mut index = 0;
    while index < steps.len() {
        let step = steps[index].clone();
        index += 1;
        match (&step, user_id.as_deref()) {
            (Step::Create(want), _) => match directory.create_user(want).await {
                Ok(created) => {
                    // Remember at once: a crash after this point must not lose the id.
                    ledger
                        .remember_connect_user(okta_user_id, Some(&created.id))
                        .await?;
                    user_id = Some(created.id);
                    done.steps.push(step.name());
                }
                Err(DirectoryError::Duplicate(_)) => {
                    let found = directory.find_user(&want.username).await?.ok_or_else(|| {
                        // Connect's search index lags its writes: try again shortly.
                        WorkerError::Transient(format!(
                            "{} exists in Connect but is not searchable yet",
                            want.username
                        ))
                    })?;
                    ledger
                        .remember_connect_user(okta_user_id, Some(&found.id))
                        .await?;
                    user_id = Some(found.id.clone());
                    steps = plan(desired, Some(&found), config.send_email);
                    index = 0;
                }
                Err(e) => return Err(e.into()),
            },
            (_, None) => {
                return Err(WorkerError::Transient(format!(
                    "no Connect user id for step {}",
                    step.name()
                )));
            }
            (Step::Delete, Some(id)) => {
                match directory.delete_user(id).await {
                    Ok(()) | Err(DirectoryError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                ledger.remember_connect_user(okta_user_id, None).await?;
                done.steps.push(step.name());
                user_id = None;
            }
            (Step::UpdateIdentity { identity }, Some(id)) => {
                directory
                    .update_identity(id, identity)
                    .await
                    .map_err(vanished)?;
                done.steps.push(step.name());
            }
            (Step::UpdateRoutingProfile { routing_profile_id }, Some(id)) => {
                directory
                    .update_routing_profile(id, routing_profile_id)
                    .await
                    .map_err(vanished)?;
                done.steps.push(step.name());
            }
            (
                Step::UpdateSecurityProfiles {
                    security_profile_ids,
                },
                Some(id),
            ) => {
                directory
                    .update_security_profiles(id, security_profile_ids)
                    .await
                    .map_err(vanished)?;
                done.steps.push(step.name());
            }
            (Step::UpdateHierarchy { hierarchy_group_id }, Some(id)) => {
                directory
                    .update_hierarchy(id, hierarchy_group_id)
                    .await
                    .map_err(vanished)?;
                done.steps.push(step.name());
            }
        }
    }
    // Remember a user found by name (the next converge then costs one call), and
    // forget one that no longer exists.
    if user_id.as_deref() != remembered
        && !done.steps.contains(&"create")
        && !done.steps.contains(&"delete")
    {
        ledger
            .remember_connect_user(okta_user_id, user_id.as_deref())
            .await?;
    }
    done.connect_user_id = user_id;
    Ok(())
}

/// A user deleted behind our back between read and write: re-read and converge again.
fn vanished(e: DirectoryError) -> WorkerError {
    match e {
        DirectoryError::NotFound(m) => {
            WorkerError::Transient(format!("Connect user disappeared while converging: {m}"))
        }
        other => other.into(),
    }
}
