//! In-memory adapters of every port, with exactly the semantics the ports document: the
//! references the contract suites are checked against, and the fast doubles of flow
//! tests. No I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use okta_connect_core::config::SourceBinding;
use okta_connect_core::config::SourceKind;
use okta_connect_core::desired::DesiredUser;
use okta_connect_core::fact::{Fact, Recorded, UserFacts};
use okta_connect_core::identity::{LogEvent, LogQuery, OktaApp, OktaGroup, OktaUser, SourceId};
use okta_connect_core::okta::OktaEvent;
use okta_connect_core::outcome::{Failure, Outcome};
use okta_connect_core::ownership::{Owner, UserFilter};
use okta_connect_core::plan::{Change, ConnectUser};
use okta_connect_core::ports::{
    Claim, CreatedUser, DirectoryError, ErrorClass, EventAbout, EventQuery, EventQueue,
    EventRecord, EventState, IdentityError, IdentitySource, Ledger, LedgerError, QueueConsumer,
    QueueError, RunRecord, UserDirectory, UserRecord,
};
use okta_connect_core::queue::{
    Attributes, DeadLetter, Delivery, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_RECEIVE, QueueCounts,
    QueueMessage, Receipt, RedriveMethod, Redriven, RejectedEntry,
};
use okta_connect_core::time::UnixMillis;

use crate::contract::identity::IdentitySeed;

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

/// An in-process SQS-like queue and its dead-letter queue: the reference of the queue
/// contract suite, and the queue of fast worker and CLI tests.
///
/// Semantics as SQS with a redrive policy: a received message stays invisible for the
/// visibility timeout unless acknowledged or handed back; each receive counts; a visible
/// message received `max_receive_count` times already is moved to the dead-letter queue
/// by the next receive that meets it, instead of being delivered. A redrive moves dead
/// letters back as new messages (new ids, receive count 0) in one step
/// ([`RedriveMethod::Transaction`]). Receipts are stale once the message is received
/// again: acknowledging or handing back with one does nothing.
///
/// Time is tokio's clock, so a test on a paused runtime controls visibility timeouts.
/// Clones share the queues.
#[derive(Debug, Clone)]
pub struct MemoryQueues {
    shared: Arc<QueuesShared>,
}

/// Sends to one of a [`MemoryQueues`] pair: the source queue or the dead-letter queue
/// (as the worker does with a message that can never succeed).
#[derive(Debug, Clone)]
pub struct MemorySender {
    shared: Arc<QueuesShared>,
    target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Source,
    DeadLetter,
}

#[derive(Debug)]
struct QueuesShared {
    state: Mutex<QueuesState>,
    /// Wakes waiting receives when a message may have become visible.
    arrived: Notify,
    max_receive_count: u32,
    visibility_timeout: Duration,
}

#[derive(Debug, Default)]
struct QueuesState {
    source: Vec<StoredMessage>,
    dead: Vec<StoredMessage>,
    next: u64,
    /// When set, every call fails transiently (an unreachable queue).
    unavailable: bool,
    calls: usize,
}

#[derive(Debug, Clone)]
struct StoredMessage {
    message_id: String,
    body: String,
    attributes: Attributes,
    receive_count: u32,
    sent_at: UnixMillis,
    visible_at: Instant,
    /// The receipt of the latest delivery, if any.
    receipt: Option<Receipt>,
}

/// A message as a [`MemoryQueues`] holds it, for tests to inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub message_id: String,
    pub body: String,
    pub attributes: Attributes,
    pub receive_count: u32,
    /// Received and neither settled nor visible again yet.
    pub in_flight: bool,
}

impl MemoryQueues {
    /// SQS's default visibility timeout.
    pub const DEFAULT_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);

    /// A source queue whose redrive policy moves a message to the dead-letter queue after
    /// `max_receive_count` receives, with `visibility_timeout` per delivery.
    pub fn new(max_receive_count: u32, visibility_timeout: Duration) -> Self {
        Self {
            shared: Arc::new(QueuesShared {
                state: Mutex::new(QueuesState::default()),
                arrived: Notify::new(),
                max_receive_count,
                visibility_timeout,
            }),
        }
    }

    /// Sends to the source queue.
    pub fn sender(&self) -> MemorySender {
        MemorySender {
            shared: Arc::clone(&self.shared),
            target: Target::Source,
        }
    }

    /// Sends straight to the dead-letter queue.
    pub fn dead_letter_sender(&self) -> MemorySender {
        MemorySender {
            shared: Arc::clone(&self.shared),
            target: Target::DeadLetter,
        }
    }

    /// Every message of the source queue, in the order sent.
    pub fn source_messages(&self) -> Vec<QueuedMessage> {
        let now = Instant::now();
        self.shared
            .lock()
            .source
            .iter()
            .map(|m| m.view(now))
            .collect()
    }

    /// Every message of the dead-letter queue, in the order it arrived there.
    pub fn dead_letter_messages(&self) -> Vec<QueuedMessage> {
        let now = Instant::now();
        self.shared
            .lock()
            .dead
            .iter()
            .map(|m| m.view(now))
            .collect()
    }

    /// Makes every following call (sends included) fail with [`QueueError::Transient`]
    /// (or work again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.shared.lock().unavailable = unavailable;
    }

    /// How many port calls were made (sends included).
    pub fn calls(&self) -> usize {
        self.shared.lock().calls
    }
}

impl StoredMessage {
    fn view(&self, now: Instant) -> QueuedMessage {
        QueuedMessage {
            message_id: self.message_id.clone(),
            body: self.body.clone(),
            attributes: self.attributes.clone(),
            receive_count: self.receive_count,
            in_flight: self.visible_at > now,
        }
    }

    fn dead_letter(&self) -> DeadLetter {
        DeadLetter {
            message_id: self.message_id.clone(),
            body: self.body.clone(),
            attributes: self.attributes.clone(),
            receive_count: self.receive_count,
            sent_at: Some(self.sent_at),
        }
    }
}

impl QueuesShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueuesState> {
        // A test that panicked while holding the lock already failed; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enter(&self) -> Result<std::sync::MutexGuard<'_, QueuesState>, QueueError> {
        let mut state = self.lock();
        state.calls += 1;
        if state.unavailable {
            return Err(QueueError::Transient(
                "queue switched off by the test".into(),
            ));
        }
        Ok(state)
    }

    fn send(
        &self,
        target: Target,
        batch: &[QueueMessage],
    ) -> Result<Vec<RejectedEntry>, QueueError> {
        let mut state = self.enter()?;
        // The whole-call refusals of SendMessageBatch.
        if batch.is_empty() {
            return Err(QueueError::Permanent("empty batch".into()));
        }
        if batch.len() > MAX_BATCH_ENTRIES {
            return Err(QueueError::Permanent(format!(
                "{} entries; a batch holds at most {MAX_BATCH_ENTRIES}",
                batch.len()
            )));
        }
        let bytes: usize = batch.iter().map(QueueMessage::payload_bytes).sum();
        if bytes > MAX_BATCH_BYTES {
            return Err(QueueError::Permanent(format!(
                "{bytes} bytes; a batch holds at most {MAX_BATCH_BYTES}"
            )));
        }
        let entry_ids: BTreeSet<&str> = batch.iter().map(|m| m.entry_id.as_str()).collect();
        if entry_ids.len() != batch.len() {
            return Err(QueueError::Permanent("entry ids are not distinct".into()));
        }
        let now = Instant::now();
        let mut rejected = Vec::new();
        for message in batch {
            if message.body.is_empty() {
                rejected.push(RejectedEntry {
                    entry_id: message.entry_id.clone(),
                    class: ErrorClass::Permanent,
                    reason: "empty message body".into(),
                });
                continue;
            }
            let stored = StoredMessage {
                message_id: state.new_message_id(),
                body: message.body.clone(),
                // SQS refuses empty attribute values; the port leaves them out.
                attributes: message
                    .attributes
                    .iter()
                    .filter(|(_, value)| !value.is_empty())
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect(),
                receive_count: 0,
                sent_at: UnixMillis::now(),
                visible_at: now,
                receipt: None,
            };
            match target {
                Target::Source => state.source.push(stored),
                Target::DeadLetter => state.dead.push(stored),
            }
        }
        drop(state);
        self.arrived.notify_waiters();
        Ok(rejected)
    }
}

impl QueuesState {
    fn new_message_id(&mut self) -> String {
        self.next += 1;
        format!("mem-msg-{:06}", self.next)
    }

    /// Delivers up to `max` visible messages, moving those over the receive limit to the
    /// dead-letter queue on the way. Also returns when the next invisible message shows.
    fn take(
        &mut self,
        max: usize,
        now: Instant,
        max_receive_count: u32,
        visibility_timeout: Duration,
    ) -> (Vec<Delivery>, Option<Instant>) {
        let mut delivered = Vec::new();
        let mut index = 0;
        while index < self.source.len() && delivered.len() < max {
            if self.source[index].visible_at > now {
                index += 1;
                continue;
            }
            if self.source[index].receive_count >= max_receive_count {
                let mut moved = self.source.remove(index);
                moved.receipt = None;
                self.dead.push(moved);
                continue;
            }
            self.next += 1;
            let receipt = Receipt(format!("{}/{}", self.source[index].message_id, self.next));
            let message = &mut self.source[index];
            message.receive_count += 1;
            message.visible_at = now + visibility_timeout;
            message.receipt = Some(receipt.clone());
            delivered.push(Delivery {
                message_id: message.message_id.clone(),
                receipt,
                body: message.body.clone(),
                attributes: message.attributes.clone(),
                receive_count: message.receive_count,
            });
            index += 1;
        }
        let next_visible = self
            .source
            .iter()
            .map(|m| m.visible_at)
            .filter(|&at| at > now)
            .min();
        (delivered, next_visible)
    }

    fn current(&mut self, receipt: &Receipt) -> Option<usize> {
        self.source
            .iter()
            .position(|m| m.receipt.as_ref() == Some(receipt))
    }
}

impl EventQueue for MemorySender {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        self.shared.send(self.target, batch)
    }
}

impl EventQueue for MemoryQueues {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        self.shared.send(Target::Source, batch)
    }
}

impl QueueConsumer for MemoryQueues {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 || max > MAX_RECEIVE {
            return Err(QueueError::Permanent(format!(
                "receive of {max} messages; 1 to {MAX_RECEIVE} allowed"
            )));
        }
        let deadline = Instant::now() + wait;
        loop {
            // Registered before looking, so a send between the look and the wait wakes us.
            let arrived = self.shared.arrived.notified();
            let mut arrived = std::pin::pin!(arrived);
            arrived.as_mut().enable();
            let now = Instant::now();
            let (delivered, next_visible) = self.shared.enter()?.take(
                max,
                now,
                self.shared.max_receive_count,
                self.shared.visibility_timeout,
            );
            if !delivered.is_empty() || now >= deadline {
                return Ok(delivered);
            }
            let until = next_visible.map_or(deadline, |at| at.min(deadline));
            tokio::select! {
                () = arrived => {}
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    async fn acknowledge(&self, receipt: &Receipt) -> Result<(), QueueError> {
        let mut state = self.shared.enter()?;
        if let Some(index) = state.current(receipt) {
            state.source.remove(index);
        }
        Ok(())
    }

    async fn hand_back(&self, receipt: &Receipt, delay: Duration) -> Result<(), QueueError> {
        let mut state = self.shared.enter()?;
        if let Some(index) = state.current(receipt) {
            state.source[index].visible_at = Instant::now() + delay;
        }
        drop(state);
        self.shared.arrived.notify_waiters();
        Ok(())
    }

    async fn counts(&self) -> Result<QueueCounts, QueueError> {
        let state = self.shared.enter()?;
        let now = Instant::now();
        let visible = state.source.iter().filter(|m| m.visible_at <= now).count();
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        Ok(QueueCounts {
            visible: count(visible),
            in_flight: count(state.source.len() - visible),
            dead_lettered: count(state.dead.len()),
        })
    }

    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError> {
        let state = self.shared.enter()?;
        let mut dead: Vec<&StoredMessage> = state.dead.iter().collect();
        // Stable: messages sent in the same millisecond keep their arrival order.
        dead.sort_by_key(|m| m.sent_at);
        Ok(dead
            .into_iter()
            .take(max)
            .map(StoredMessage::dead_letter)
            .collect())
    }

    async fn redrive(&self, max: Option<u64>) -> Result<Redriven, QueueError> {
        let mut state = self.shared.enter()?;
        let limit = max.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
        let mut order: Vec<usize> = (0..state.dead.len()).collect();
        order.sort_by_key(|&i| state.dead[i].sent_at);
        let chosen: BTreeSet<usize> = order.into_iter().take(limit).collect();
        let mut kept = Vec::new();
        let mut moved = Vec::new();
        for (index, message) in std::mem::take(&mut state.dead).into_iter().enumerate() {
            if chosen.contains(&index) {
                moved.push(message);
            } else {
                kept.push(message);
            }
        }
        state.dead = kept;
        let now = Instant::now();
        let count = u64::try_from(moved.len()).unwrap_or(u64::MAX);
        for message in moved {
            // A new message, as SQS makes it: new id, no receives, full retries again.
            let redriven = StoredMessage {
                message_id: state.new_message_id(),
                receive_count: 0,
                sent_at: UnixMillis::now(),
                visible_at: now,
                receipt: None,
                ..message
            };
            state.source.push(redriven);
        }
        drop(state);
        self.shared.arrived.notify_waiters();
        Ok(Redriven {
            moved: count,
            method: RedriveMethod::Transaction,
        })
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
    bindings: std::collections::BTreeMap<String, SourceBinding>,
    /// Reconcile runs by (started_at, run_id).
    runs: std::collections::BTreeMap<(UnixMillis, String), RunRecord>,
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
                about: None,
                updated_at: None,
            });
        record.state = state;
        record.updated_at = Some(now);
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
        about: &EventAbout,
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
                about: Some(about.clone()),
                updated_at: Some(now),
            },
        );
        Ok(Claim::Claimed { attempt: attempts })
    }

    async fn events(&self, query: &EventQuery) -> Result<Vec<EventRecord>, LedgerError> {
        let s = self.enter()?;
        let mut listed: Vec<EventRecord> = s
            .events
            .values()
            .filter(|r| r.updated_at.is_some_and(|at| at >= query.since) && query.matches(r))
            .cloned()
            .collect();
        listed.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.uuid.cmp(&b.uuid)));
        listed.truncate(query.limit);
        Ok(listed)
    }

    async fn record_run(&self, run: &RunRecord, _retention: Duration) -> Result<(), LedgerError> {
        let mut s = self.enter()?;
        s.runs
            .insert((run.started_at, run.run_id.clone()), run.clone());
        Ok(())
    }

    async fn recent_runs(&self, limit: usize) -> Result<Vec<RunRecord>, LedgerError> {
        let s = self.enter()?;
        Ok(s.runs.values().rev().take(limit).cloned().collect())
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

    async fn forget_user(&self, tombstone: &Fact) -> Result<(), LedgerError> {
        let mut s = self.enter()?;
        let user = s.users.entry(tombstone.okta_user_id.clone()).or_default();
        user.facts = UserFacts::new(&tombstone.okta_user_id);
        user.facts.record(tombstone.clone());
        user.connect_user_id = None;
        Ok(())
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
    async fn source_bindings(&self) -> Result<Vec<SourceBinding>, LedgerError> {
        Ok(self.enter()?.bindings.values().cloned().collect())
    }

    async fn bind_source(&self, binding: &SourceBinding) -> Result<SourceBinding, LedgerError> {
        let mut s = self.enter()?;
        let slot = binding.slot();
        if binding.replaces(s.bindings.get(&slot)) {
            s.bindings.insert(slot.clone(), binding.clone());
        }
        Ok(s.bindings
            .get(&slot)
            .cloned()
            .unwrap_or_else(|| binding.clone()))
    }
}

/// An in-process Amazon Connect user directory with the rules Connect enforces where
/// the pipeline depends on them: usernames unique case-insensitively (`Duplicate`),
/// unknown users `NotFound`, 1–10 security profiles, Connect's tag rules (at most 50 per
/// user, keys 1–128 characters not starting with `aws:`, values ≤ 256: `Invalid`), and —
/// when the directory knows its profiles — unknown profile ids `Invalid`.
///
/// `search` answers as the Connect adapter does: every matching user, selected by
/// [`Owner::of`], with names but no email (Connect's search summaries carry none).
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
        match ids
            .iter()
            .find(|id| !self.security_profiles.is_empty() && !self.security_profiles.contains(id))
        {
            Some(id) => Err(DirectoryError::Invalid(format!(
                "security profile {id} does not exist"
            ))),
            None => Ok(()),
        }
    }
}

/// Connect's tag limits (TagResource / CreateUser in the Amazon Connect API reference).
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), DirectoryError> {
    if tags.len() > MAX_TAGS {
        return Err(DirectoryError::Invalid(format!(
            "{} tags; Connect takes at most {MAX_TAGS} per user",
            tags.len()
        )));
    }
    for (key, value) in tags {
        let length = key.chars().count();
        if length == 0 || length > MAX_TAG_KEY {
            return Err(DirectoryError::Invalid(format!(
                "tag key {key:?} must be 1 to {MAX_TAG_KEY} characters"
            )));
        }
        if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(DirectoryError::Invalid(format!(
                "tag key {key:?} uses the reserved prefix aws:"
            )));
        }
        if value.chars().count() > MAX_TAG_VALUE {
            return Err(DirectoryError::Invalid(format!(
                "the value of tag {key:?} is longer than {MAX_TAG_VALUE} characters"
            )));
        }
    }
    Ok(())
}

impl UserDirectory for MemoryDirectory {
    async fn find_by_username(
        &self,
        username: &str,
    ) -> Result<Option<ConnectUser>, DirectoryError> {
        let s = self.enter();
        Ok(s.users
            .values()
            .find(|u| u.username.eq_ignore_ascii_case(username))
            .cloned())
    }

    async fn describe(&self, user_id: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        Ok(self.enter().users.get(user_id).cloned())
    }

    async fn create(
        &self,
        user: &DesiredUser,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedUser, DirectoryError> {
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
        check_tags(tags)?;
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
                tags: tags.clone(),
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
                let ids: Vec<String> = security_profile_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                s.check_security(&ids)?
            }
            // Checked once merged, after the user is found (as the Connect adapter does).
            Change::Tags { .. } | Change::Identity { .. } | Change::Hierarchy { .. } => {}
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
                user.security_profile_ids = security_profile_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            }
            Change::Hierarchy { hierarchy_group_id } => {
                user.hierarchy_group_id = hierarchy_group_id.as_ref().map(ToString::to_string)
            }
            Change::Tags { tags } => {
                let mut merged = user.tags.clone();
                merged.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
                check_tags(&merged)?;
                user.tags = merged;
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

    async fn search(&self, filter: &UserFilter) -> Result<Vec<ConnectUser>, DirectoryError> {
        let s = self.enter();
        let mut found: Vec<ConnectUser> = s
            .users
            .values()
            .filter(|u| match filter {
                UserFilter::All => true,
                UserFilter::Owned => matches!(Owner::of(u), Owner::Okta(_)),
                UserFilter::OwnedBy(id) => Owner::of(u) == Owner::Okta(id.as_str()),
            })
            .map(|u| {
                let mut u = u.clone();
                u.identity.email = None;
                u
            })
            .collect();
        found.sort_by_key(|u| (u.username.to_ascii_lowercase(), u.id.clone()));
        Ok(found)
    }
}

/// An in-process Okta org behind the [`IdentitySource`] port, with the semantics the
/// port documents: users by id (`None` when unknown), members of groups and apps
/// (`NotFound` for an unknown group or app; a member whose user was removed is no
/// member), names resolved exactly and case-insensitively, and the System Log as the
/// recorded events in `[since, until)`, filtered by type and ordered by `published`.
/// Scripted failures ([`MemoryIdentity::fail_next`]) stand in for Okta's errors.
#[derive(Debug, Default)]
pub struct MemoryIdentity {
    state: Mutex<MemoryIdentityState>,
}

#[derive(Debug, Default)]
struct MemoryIdentityState {
    users: BTreeMap<String, OktaUser>,
    /// Group id → the group and its member ids, in insertion order.
    groups: BTreeMap<String, (OktaGroup, Vec<String>)>,
    /// App id → the app and its assignee ids.
    apps: BTreeMap<String, (OktaApp, Vec<String>)>,
    events: Vec<LogEvent>,
    faults: std::collections::VecDeque<IdentityError>,
    calls: usize,
}

/// The ids a [`MemoryIdentity`] gave a seed's entries.
#[derive(Debug, Clone, Default)]
pub struct SeededIds {
    /// Login → `00u…`.
    pub users: BTreeMap<String, String>,
    /// Name → `00g…`.
    pub groups: BTreeMap<String, String>,
    /// Label → `0oa…`.
    pub apps: BTreeMap<String, String>,
}

fn okta_like_id(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:017}")
}

impl MemoryIdentity {
    pub fn new() -> Self {
        Self::default()
    }

    /// An org holding `seed`, with Okta-shaped ids (`00u…`, `00g…`, `0oa…`). Panics on a
    /// member login the seed does not define (a broken test).
    pub fn from_seed(seed: &IdentitySeed) -> (Self, SeededIds) {
        let org = Self::new();
        let mut ids = SeededIds::default();
        for (i, u) in seed.users.iter().enumerate() {
            let id = okta_like_id("00u", i + 1);
            org.add_user(seed.expected_user(&u.login, id.clone()));
            ids.users.insert(u.login.clone(), id);
        }
        let member_ids = |logins: &[String]| -> Vec<String> {
            logins
                .iter()
                .map(|l| {
                    ids.users
                        .get(l)
                        .cloned()
                        .unwrap_or_else(|| panic!("seed member {l} is no seeded user"))
                })
                .collect()
        };
        let mut groups = BTreeMap::new();
        for (i, g) in seed.groups.iter().enumerate() {
            let id = okta_like_id("00g", i + 1);
            let members = member_ids(&g.members);
            org.add_group(
                OktaGroup {
                    id: id.clone(),
                    name: g.name.clone(),
                },
                &members,
            );
            groups.insert(g.name.clone(), id);
        }
        let mut apps = BTreeMap::new();
        for (i, a) in seed.apps.iter().enumerate() {
            let id = okta_like_id("0oa", i + 1);
            let assignees = member_ids(&a.assignees);
            org.add_app(
                OktaApp {
                    id: id.clone(),
                    label: a.label.clone(),
                    catalog_name: a.catalog_name.clone(),
                },
                &assignees,
            );
            apps.insert(a.label.clone(), id);
        }
        ids.groups = groups;
        ids.apps = apps;
        (org, ids)
    }

    /// Adds or replaces a user (by id).
    pub fn add_user(&self, user: OktaUser) {
        self.lock().users.insert(user.id.clone(), user);
    }

    /// Deletes a user, as Okta does after deprovisioning: `user` answers `None` and it
    /// leaves every member list.
    pub fn remove_user(&self, id: &str) {
        self.lock().users.remove(id);
    }

    /// Adds or replaces a group with these member ids.
    pub fn add_group(&self, group: OktaGroup, member_ids: &[String]) {
        self.lock()
            .groups
            .insert(group.id.clone(), (group, member_ids.to_vec()));
    }

    /// Adds or replaces an app with these assignee ids.
    pub fn add_app(&self, app: OktaApp, assignee_ids: &[String]) {
        self.lock()
            .apps
            .insert(app.id.clone(), (app, assignee_ids.to_vec()));
    }

    /// Replaces the members of an existing group or app; `false` if it does not exist.
    pub fn set_members(&self, source: &SourceId, member_ids: &[String]) -> bool {
        let mut s = self.lock();
        let slot = match source.kind {
            SourceKind::Group => s.groups.get_mut(&source.id).map(|(_, m)| m),
            SourceKind::App => s.apps.get_mut(&source.id).map(|(_, m)| m),
        };
        match slot {
            Some(members) => {
                *members = member_ids.to_vec();
                true
            }
            None => false,
        }
    }

    /// Records a System Log event (its raw JSON, as Okta would serve it).
    pub fn record_event(&self, event: LogEvent) {
        self.lock().events.push(event);
    }

    /// The next port calls fail with these errors, one each, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = IdentityError>) {
        self.lock().faults.extend(errors);
    }

    /// How many port calls were made (failed ones included).
    pub fn calls(&self) -> usize {
        self.lock().calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryIdentityState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enter(&self) -> Result<std::sync::MutexGuard<'_, MemoryIdentityState>, IdentityError> {
        let mut s = self.lock();
        s.calls += 1;
        match s.faults.pop_front() {
            Some(e) => Err(e),
            None => Ok(s),
        }
    }
}

fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

impl IdentitySource for MemoryIdentity {
    async fn user(&self, okta_user_id: &str) -> Result<Option<OktaUser>, IdentityError> {
        Ok(self.enter()?.users.get(okta_user_id).cloned())
    }

    async fn members(&self, source: &SourceId) -> Result<Vec<OktaUser>, IdentityError> {
        let s = self.enter()?;
        let ids = match source.kind {
            SourceKind::Group => s.groups.get(&source.id).map(|(_, m)| m),
            SourceKind::App => s.apps.get(&source.id).map(|(_, m)| m),
        }
        .ok_or_else(|| IdentityError::NotFound(source.to_string()))?;
        Ok(ids
            .iter()
            .filter_map(|id| s.users.get(id).cloned())
            .collect())
    }

    async fn find_group(&self, name: &str) -> Result<Option<OktaGroup>, IdentityError> {
        Ok(self
            .enter()?
            .groups
            .values()
            .find(|(g, _)| same_name(&g.name, name))
            .map(|(g, _)| g.clone()))
    }

    async fn find_app(&self, label: &str) -> Result<Option<OktaApp>, IdentityError> {
        Ok(self
            .enter()?
            .apps
            .values()
            .find(|(a, _)| same_name(&a.label, label))
            .map(|(a, _)| a.clone()))
    }

    async fn system_log(&self, query: &LogQuery) -> Result<Vec<LogEvent>, IdentityError> {
        let s = self.enter()?;
        let mut events: Vec<(UnixMillis, LogEvent)> = s
            .events
            .iter()
            .filter_map(|raw| {
                let event = OktaEvent::parse(&raw.0).ok()?;
                let at = event.published_at();
                let in_window = at >= query.since && query.until.is_none_or(|until| at < until);
                let wanted =
                    query.event_types.is_empty() || query.event_types.contains(&event.event_type);
                (in_window && wanted).then(|| (at, raw.clone()))
            })
            .collect();
        events.sort_by_key(|(at, _)| *at);
        Ok(events.into_iter().map(|(_, e)| e).collect())
    }
}
