//! In-memory adapters of every port, with exactly the semantics the ports document: the
//! references the contract suites are checked against, and the fast doubles of flow
//! tests. No I/O.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use okta_connect_core::desired::DesiredUser;
use okta_connect_core::fact::{Fact, Recorded, UserFacts};
use okta_connect_core::outcome::{Failure, Outcome};
use okta_connect_core::plan::{Change, ConnectUser};
use okta_connect_core::ports::{
    Claim, CreatedUser, DirectoryError, ErrorClass, EventQueue, EventRecord, EventState, Ledger,
    LedgerError, QueueError, UserDirectory, UserRecord,
};
use okta_connect_core::queue::{QueueMessage, RejectedEntry};
use okta_connect_core::time::UnixMillis;

/// What a [`MemoryQueue`] does with the next `send_batch` calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueFault {
    /// Reject the entry at this index of the batch, transiently.
    RejectEntry(usize),
    /// Fail the whole call, transiently.
    FailCall,
}

/// An in-process [`EventQueue`] that keeps what it accepted, with scripted faults.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    state: Mutex<MemoryQueueState>,
}

#[derive(Debug, Default)]
struct MemoryQueueState {
    accepted: Vec<QueueMessage>,
    calls: usize,
    /// One entry per future call; calls beyond the script succeed.
    script: Vec<Vec<QueueFault>>,
    /// Applies to every call once the script is used up.
    always: Vec<QueueFault>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    /// Faults for the next calls, in order: `script[0]` for the next call, and so on.
    pub fn with_script(script: Vec<Vec<QueueFault>>) -> Self {
        let queue = Self::default();
        queue.lock().script = script;
        queue
    }

    /// Faults applied to every call.
    pub fn always_failing(faults: Vec<QueueFault>) -> Self {
        let queue = Self::default();
        queue.lock().always = faults;
        queue
    }

    /// Every message accepted so far, in order.
    pub fn accepted(&self) -> Vec<QueueMessage> {
        self.lock().accepted.clone()
    }

    /// How many `send_batch` calls were made.
    pub fn calls(&self) -> usize {
        self.lock().calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryQueueState> {
        // A test that panicked while holding the lock already failed; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl EventQueue for MemoryQueue {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        let mut state = self.lock();
        state.calls += 1;
        let faults = if state.script.is_empty() {
            state.always.clone()
        } else {
            state.script.remove(0)
        };
        if faults.contains(&QueueFault::FailCall) {
            return Err(QueueError::Transient("scripted failure".into()));
        }
        let mut rejected = Vec::new();
        for (index, message) in batch.iter().enumerate() {
            if faults.contains(&QueueFault::RejectEntry(index)) {
                rejected.push(RejectedEntry {
                    entry_id: message.entry_id.clone(),
                    class: ErrorClass::Transient,
                    reason: "scripted rejection".into(),
                });
            } else {
                state.accepted.push(message.clone());
            }
        }
        Ok(rejected)
    }
}

/// An in-process [`Ledger`] with the exact semantics the port documents: the reference
/// the contract suite is checked against, and the ledger of fast worker tests.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    state: Mutex<MemoryLedgerState>,
}

#[derive(Debug, Default)]
struct MemoryLedgerState {
    events: std::collections::BTreeMap<String, EventRecord>,
    users: std::collections::BTreeMap<String, MemoryUser>,
    /// When set, every call fails transiently (an unreachable database).
    unavailable: bool,
    calls: usize,
}

#[derive(Debug, Default)]
struct MemoryUser {
    facts: UserFacts,
    connect_user_id: Option<String>,
    lease: Option<(String, UnixMillis)>,
}

impl MemoryLedger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every following call fail with [`LedgerError::Transient`] (or work again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.lock().unavailable = unavailable;
    }

    /// How many port calls were made.
    pub fn calls(&self) -> usize {
        self.lock().calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryLedgerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enter(&self) -> Result<std::sync::MutexGuard<'_, MemoryLedgerState>, LedgerError> {
        let mut state = self.lock();
        state.calls += 1;
        if state.unavailable {
            return Err(LedgerError::Transient(
                "ledger switched off by the test".into(),
            ));
        }
        Ok(state)
    }

    fn finish(
        &self,
        uuid: &str,
        state: EventState,
        outcome: Outcome,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        let mut s = self.enter()?;
        let record = s
            .events
            .entry(uuid.to_string())
            .or_insert_with(|| EventRecord {
                uuid: uuid.to_string(),
                state,
                lease_until: UnixMillis(0),
                expires_at: now,
                attempts: 1,
                outcome: None,
            });
        record.state = state;
        record.lease_until = UnixMillis(0);
        record.expires_at = now.plus(retention);
        record.outcome = Some(outcome);
        Ok(())
    }
}

impl Ledger for MemoryLedger {
    async fn claim_event(
        &self,
        uuid: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<Claim, LedgerError> {
        let mut s = self.enter()?;
        let attempts = match s.events.get(uuid) {
            None => 1,
            Some(r) if r.expires_at <= now => 1,
            Some(r) => match r.state {
                EventState::Completed => return Ok(Claim::Completed(r.clone())),
                EventState::InProgress if r.lease_until > now => {
                    return Ok(Claim::Busy {
                        lease_until: r.lease_until,
                    });
                }
                EventState::InProgress | EventState::Failed => r.attempts + 1,
            },
        };
        let lease_until = now.plus(lease);
        s.events.insert(
            uuid.to_string(),
            EventRecord {
                uuid: uuid.to_string(),
                state: EventState::InProgress,
                lease_until,
                // An in-flight record must outlive its lease whatever the retention.
                expires_at: lease_until.plus(Duration::from_secs(24 * 3600)),
                attempts,
                outcome: None,
            },
        );
        Ok(Claim::Claimed { attempt: attempts })
    }

    async fn complete_event(
        &self,
        uuid: &str,
        outcome: &Outcome,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        self.finish(uuid, EventState::Completed, outcome.clone(), now, retention)
    }

    async fn fail_event(
        &self,
        uuid: &str,
        failure: &Failure,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        let outcome = Outcome::Failed(failure.clone());
        self.finish(uuid, EventState::Failed, outcome, now, retention)
    }

    async fn release_event(&self, uuid: &str) -> Result<(), LedgerError> {
        let mut s = self.enter()?;
        if let Some(r) = s.events.get_mut(uuid)
            && r.state == EventState::InProgress
        {
            r.lease_until = UnixMillis(0);
        }
        Ok(())
    }

    async fn event_record(&self, uuid: &str) -> Result<Option<EventRecord>, LedgerError> {
        Ok(self.enter()?.events.get(uuid).cloned())
    }

    async fn record_fact(&self, fact: &Fact) -> Result<Recorded, LedgerError> {
        let mut s = self.enter()?;
        let user = s.users.entry(fact.okta_user_id.clone()).or_default();
        user.facts.okta_user_id = fact.okta_user_id.clone();
        Ok(user.facts.record(fact.clone()))
    }

    async fn user_record(&self, okta_user_id: &str) -> Result<UserRecord, LedgerError> {
        let s = self.enter()?;
        Ok(match s.users.get(okta_user_id) {
            Some(u) => UserRecord {
                facts: u.facts.clone(),
                connect_user_id: u.connect_user_id.clone(),
            },
            None => UserRecord {
                facts: UserFacts::new(okta_user_id),
                connect_user_id: None,
            },
        })
    }

    async fn remember_connect_user(
        &self,
        okta_user_id: &str,
        connect_user_id: Option<&str>,
    ) -> Result<(), LedgerError> {
        let mut s = self.enter()?;
        let user = s.users.entry(okta_user_id.to_string()).or_default();
        user.facts.okta_user_id = okta_user_id.to_string();
        user.connect_user_id = connect_user_id.map(String::from);
        Ok(())
    }

    async fn lease_user(
        &self,
        okta_user_id: &str,
        holder: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<bool, LedgerError> {
        let mut s = self.enter()?;
        let user = s.users.entry(okta_user_id.to_string()).or_default();
        user.facts.okta_user_id = okta_user_id.to_string();
        match &user.lease {
            Some((other, until)) if other != holder && *until > now => Ok(false),
            _ => {
                user.lease = Some((holder.to_string(), now.plus(lease)));
                Ok(true)
            }
        }
    }

    async fn release_user(&self, okta_user_id: &str, holder: &str) -> Result<(), LedgerError> {
        let mut s = self.enter()?;
        if let Some(user) = s.users.get_mut(okta_user_id)
            && user.lease.as_ref().is_some_and(|(h, _)| h == holder)
        {
            user.lease = None;
        }
        Ok(())
    }
}

/// An in-process Amazon Connect user directory with the rules Connect enforces where
/// the pipeline depends on them: usernames unique case-insensitively (`Duplicate`),
/// unknown users `NotFound`, 1–10 security profiles, and — when the directory knows
/// its profiles — unknown profile ids `Invalid`.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    state: Mutex<MemoryDirectoryState>,
}

#[derive(Debug, Default)]
struct MemoryDirectoryState {
    users: BTreeMap<String, ConnectUser>,
    next_id: u64,
    /// Known routing and security profile ids; empty = accept any.
    routing_profiles: Vec<String>,
    security_profiles: Vec<String>,
    calls: usize,
}

impl MemoryDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// A directory that rejects every profile id not listed, as Connect does.
    pub fn with_profiles(routing: &[&str], security: &[&str]) -> Self {
        let directory = Self::default();
        {
            let mut s = directory.lock();
            s.routing_profiles = routing.iter().map(|p| p.to_string()).collect();
            s.security_profiles = security.iter().map(|p| p.to_string()).collect();
        }
        directory
    }

    /// Every user, by id.
    pub fn users(&self) -> Vec<ConnectUser> {
        self.lock().users.values().cloned().collect()
    }

    /// Adds a user as an admin would by hand (or CSV); returns its id.
    pub fn insert(&self, mut user: ConnectUser) -> String {
        let mut s = self.lock();
        s.next_id += 1;
        if user.id.is_empty() {
            user.id = format!("mem-{:04}", s.next_id);
        }
        let id = user.id.clone();
        s.users.insert(id.clone(), user);
        id
    }

    /// How many port calls were made.
    pub fn calls(&self) -> usize {
        self.lock().calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryDirectoryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enter(&self) -> std::sync::MutexGuard<'_, MemoryDirectoryState> {
        let mut s = self.lock();
        s.calls += 1;
        s
    }
}

impl MemoryDirectoryState {
    fn check_routing(&self, id: &str) -> Result<(), DirectoryError> {
        if self.routing_profiles.is_empty() || self.routing_profiles.iter().any(|p| p == id) {
            Ok(())
        } else {
            Err(DirectoryError::Invalid(format!(
                "routing profile {id} does not exist"
            )))
        }
    }

    fn check_security(&self, ids: &[String]) -> Result<(), DirectoryError> {
        if ids.is_empty() || ids.len() > 10 {
            return Err(DirectoryError::Invalid(format!(
                "{} security profiles; Connect takes 1 to 10",
                ids.len()
            )));
        }
        match ids.iter().find(|id| {
            !self.security_profiles.is_empty() && !self.security_profiles.contains(id)
        }) {
            Some(id) => Err(DirectoryError::Invalid(format!(
                "security profile {id} does not exist"
            ))),
            None => Ok(()),
        }
    }
}

impl UserDirectory for MemoryDirectory {
    async fn find_by_username(&self, username: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        let s = self.enter();
        Ok(s.users
            .values()
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .cloned())
    }

    async fn describe(&self, user_id: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        Ok(self.enter().users.get(user_id).cloned())
    }

    async fn create(&self, user: &DesiredUser) -> Result<CreatedUser, DirectoryError> {
        let mut s = self.enter();
        if s.users
            .values()
            .any(|u| u.username.eq_ignore_ascii_case(&user.username))
        {
            return Err(DirectoryError::Duplicate(format!(
                "the user {} is already associated with the instance",
                user.username
            )));
        }
        s.check_routing(user.routing_profile_id.as_str())?;
        let security: Vec<String> = user
            .security_profile_ids
            .iter()
            .map(ToString::to_string)
            .collect();
        s.check_security(&security)?;
        s.next_id += 1;
        let id = format!("mem-{:04}", s.next_id);
        let arn = format!("arn:aws:connect:us-east-1:000000000000:instance/mem/agent/{id}");
        s.users.insert(
            id.clone(),
            ConnectUser {
                id: id.clone(),
                arn: Some(arn.clone()),
                username: user.username.clone(),
                identity: user.identity.clone(),
                routing_profile_id: user.routing_profile_id.to_string(),
                security_profile_ids: security,
                hierarchy_group_id: user.hierarchy_group_id.as_ref().map(ToString::to_string),
            },
        );
        Ok(CreatedUser { id, arn: Some(arn) })
    }

    async fn update(&self, user_id: &str, change: &Change) -> Result<(), DirectoryError> {
        let mut s = self.enter();
        match change {
            Change::RoutingProfile { routing_profile_id } => {
                s.check_routing(routing_profile_id.as_str())?
            }
            Change::SecurityProfiles {
                security_profile_ids,
            } => {
                let ids: Vec<String> = security_profile_ids.iter().map(ToString::to_string).collect();
                s.check_security(&ids)?
            }
            Change::Identity { .. } | Change::Hierarchy { .. } => {}
        }
        let user = s
            .users
            .get_mut(user_id)
            .ok_or_else(|| DirectoryError::NotFound(format!("user {user_id}")))?;
        match change {
            Change::Identity { identity } => user.identity = identity.clone(),
            Change::RoutingProfile { routing_profile_id } => {
                user.routing_profile_id = routing_profile_id.to_string()
            }
            Change::SecurityProfiles {
                security_profile_ids,
            } => {
                user.security_profile_ids =
                    security_profile_ids.iter().map(ToString::to_string).collect()
            }
            Change::Hierarchy { hierarchy_group_id } => {
                user.hierarchy_group_id = Some(hierarchy_group_id.to_string())
            }
        }
        Ok(())
    }

    async fn delete(&self, user_id: &str) -> Result<(), DirectoryError> {
        self.enter()
            .users
            .remove(user_id)
            .map(|_| ())
            .ok_or_else(|| DirectoryError::NotFound(format!("user {user_id}")))
    }
}
