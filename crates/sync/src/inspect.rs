//! One Okta user as the pipeline sees it, read without writing anything: the ledger's
//! facts, the Connect user they imply, the Connect users that exist, and what the next
//! converge would change (`okta-connect user`).

use std::collections::BTreeMap;

use okta_connect_core::desired::{Desired, desired_user};
use okta_connect_core::ownership::UserFilter;
use okta_connect_core::plan::ConnectUser;
use okta_connect_core::ports::{IdentitySource, Ledger, UserDirectory, UserRecord};
use serde::Serialize;

use crate::engine::Engine;
use crate::error::SyncError;
use crate::reconcile::{Snapshot, UserPlan, plan_user};

/// What the pipeline knows and would do about one Okta user.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub okta_user_id: String,
    /// The ledger's newest fact of each slot, and the remembered Connect user id.
    #[serde(skip)]
    pub record: UserRecord,
    /// The Connect user the facts imply (`None` when no valid username can be made:
    /// `plan` then says why).
    pub desired: Option<Desired>,
    /// The Connect users that bear on this Okta user: its remembered one, the one tagged
    /// for it, and the one holding the desired username (each once).
    pub connect: Vec<ConnectUser>,
    /// What a converge would do now: the difference between `desired` and `connect`.
    pub plan: UserPlan,
}

impl<L, D, Q, I> Engine<L, D, Q, I>
where
    L: Ledger,
    D: UserDirectory,
    I: IdentitySource,
{
    /// Reads `okta_user_id`'s facts and the Connect users that bear on it, and plans
    /// exactly as a reconcile run would (from the ledger's facts alone: names come from
    /// the newest display name, not a fresh Okta profile). Writes nothing, binds no
    /// names: configured names not yet bound count as unknown sources.
    pub async fn inspect_user(&self, okta_user_id: &str) -> Result<UserView, SyncError> {
        let config = self
            .sources
            .peek(&self.config, &self.ledger, None::<&I>, (self.clock)())
            .await?;
        let record = self.ledger.user_record(okta_user_id).await?;
        let desired = desired_user(&record.facts, None, &config).ok();
        let mut connect: BTreeMap<String, ConnectUser> = BTreeMap::new();
        if let Some(id) = record.connect_user_id.as_deref()
            && let Some(user) = self.directory.describe(id).await?
        {
            connect.insert(user.id.clone(), user);
        }
        for user in self
            .directory
            .search(&UserFilter::OwnedBy(okta_user_id.to_string()))
            .await?
        {
            connect.entry(user.id.clone()).or_insert(user);
        }
        let username = match &desired {
            Some(Desired::Present(want)) => Some(want.username.clone()),
            Some(Desired::Revoked { username, .. }) => Some(username.clone()),
            Some(Desired::Unmanaged) | None => None,
        };
        if let Some(username) = username
            && let Some(user) = self.directory.find_by_username(&username).await?
        {
            connect.entry(user.id.clone()).or_insert(user);
        }
        let connect: Vec<ConnectUser> = connect.into_values().collect();
        let snapshot = Snapshot::new((self.clock)(), BTreeMap::new(), connect.clone());
        let plan = plan_user(
            okta_user_id,
            &record.facts,
            record.connect_user_id.as_deref(),
            &snapshot,
            &config,
        );
        Ok(UserView {
            okta_user_id: okta_user_id.to_string(),
            record,
            desired,
            connect,
            plan,
        })
    }
}
