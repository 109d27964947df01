//! Shared test material for every crate: the Okta fixtures in `tests/fixtures/okta/`
//! and an in-process [`EventQueue`] double. Compiled only for tests and with the
//! `testing` feature, never into a Lambda.

use std::sync::Mutex;
use std::time::Duration;

use crate::fact::{Fact, Recorded, UserFacts};
use crate::ports::{
    Claim, ErrorClass, EventQueue, EventRecord, EventState, Ledger, LedgerError, QueueError,
    QueueMessage, RejectedEntry, UserRecord,
};
use crate::time::UnixMillis;

/// The Okta fixtures, by file name. Real payload shapes: see `regenerate.py` there.
pub mod fixtures {
    macro_rules! fixtures {
        ($($name:ident => $file:literal),* $(,)?) => {
            $(
                #[doc = concat!("`tests/fixtures/okta/", $file, "`")]
                pub const $name: &str =
                    include_str!(concat!("../../../tests/fixtures/okta/", $file));
            )*
            /// Every fixture as `(file name, text)`.
            pub const ALL: &[(&str, &str)] = &[$(($file, $name)),*];
        };
    }

    fixtures! {
        GROUP_MEMBERSHIP_ADD => "group_membership_add.json",
        GROUP_MEMBERSHIP_REMOVE => "group_membership_remove.json",
        APP_MEMBERSHIP_ADD => "app_membership_add.json",
        APP_MEMBERSHIP_REMOVE => "app_membership_remove.json",
        SUPERVISOR_GROUP_ADD => "supervisor_group_add.json",
        USER_LIFECYCLE_ACTIVATE => "user_lifecycle_activate.json",
        USER_LIFECYCLE_DEACTIVATE => "user_lifecycle_deactivate.json",
        USER_LIFECYCLE_SUSPEND => "user_lifecycle_suspend.json",
        USER_LIFECYCLE_UNSUSPEND => "user_lifecycle_unsuspend.json",
        USER_LIFECYCLE_REACTIVATE => "user_lifecycle_reactivate.json",
        USER_UPDATE_PROFILE => "user_update_profile.json",
        NON_ASCII_NAMES => "non_ascii_names.json",
        USERNAME_REJECTED_BY_CONNECT => "username_rejected_by_connect.json",
        MIXED_BATCH => "mixed_batch.json",
        TARGET_NULL_AND_MISSING_FIELDS => "target_null_and_missing_fields.json",
        HUNDRED_EVENTS => "hundred_events.json",
        EMPTY_EVENTS => "empty_events.json",
        INVALID_NOT_JSON => "invalid_not_json.txt",
        INVALID_TRUNCATED => "invalid_truncated.json",
        INVALID_WRONG_ENVELOPE => "invalid_wrong_envelope.json",
        INVALID_MISSING_DATA_EVENTS => "invalid_missing_data_events.json",
        INVALID_EVENTS_NOT_ARRAY => "invalid_events_not_array.json",
        INVALID_EVENT_UUID_NUMBER => "invalid_event_uuid_number.json",
    }

    /// The project's default `config.ini`, which the fixtures are written against.
    pub const CONFIG_INI: &str = include_str!("../../../config.ini");
    /// The original Python sample's `config.ini`, verbatim.
    pub const SEED_CONFIG_INI: &str =
        include_str!("../../../tests/fixtures/config/seed_sample.ini");

    /// The fixtures that are valid deliveries (every `invalid_*` file is not).
    pub fn deliveries() -> impl Iterator<Item = (&'static str, &'static str)> {
        ALL.iter()
            .copied()
            .filter(|(name, _)| !name.starts_with("invalid_"))
    }
}

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
        detail: &str,
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
                detail: None,
            });
        record.state = state;
        record.lease_until = UnixMillis(0);
        record.expires_at = now.plus(retention);
        record.detail = Some(detail.to_string());
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
                detail: None,
            },
        );
        Ok(Claim::Claimed { attempt: attempts })
    }

    async fn complete_event(
        &self,
        uuid: &str,
        detail: &str,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        self.finish(uuid, EventState::Completed, detail, now, retention)
    }

    async fn fail_event(
        &self,
        uuid: &str,
        reason: &str,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        self.finish(uuid, EventState::Failed, reason, now, retention)
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
