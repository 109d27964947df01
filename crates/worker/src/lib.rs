//! The worker: drains the queue of Okta events and keeps Connect in step.
//!
//! Per message: parse → claim the event uuid in the ledger → record the fact it asserts →
//! converge that Okta user under a per-user lease → mark the event completed. Transient
//! failures (throttling, 5xx, timeouts) are retried inside the invocation while time
//! allows, then handed back to SQS; failures that can never succeed are recorded, sent
//! to the dead-letter queue with their reason, and acknowledged, so they burn no
//! retries. Nothing here knows about Lambda: [`lambda`] translates its envelopes.

pub mod converge;
pub mod lambda;
pub mod pacing;

use std::collections::BTreeMap;
use std::time::Duration;

use okta_connect_core::config::AccessSource;
use okta_connect_core::config::Config;
use okta_connect_core::desired::OktaProfile;
use okta_connect_core::names::UsernameError;
use okta_connect_core::okta::OktaEvent;
use okta_connect_core::ports::{
    Claim, DirectoryError, ErrorClass, EventQueue, IdentityError, IdentitySource, Ledger,
    LedgerError, OktaMember, QueueError, QueueMessage, UserDirectory,
};
use okta_connect_core::rules::{Classification, classify};
use okta_connect_core::time::UnixMillis;
use serde::Serialize;
use tokio::time::Instant;

pub use converge::{Converged, converge_user};
pub use pacing::{Paced, TokenBucket};

/// Why processing a message stopped short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkerError {
    /// Retrying later can succeed: throttling, 5xx, timeouts, a busy lease.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying cannot succeed until someone changes config or data.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl WorkerError {
    pub fn class(&self) -> ErrorClass {
        match self {
            WorkerError::Transient(_) => ErrorClass::Transient,
            WorkerError::Permanent(_) => ErrorClass::Permanent,
        }
    }
}

impl From<LedgerError> for WorkerError {
    fn from(e: LedgerError) -> Self {
        match e.class() {
            ErrorClass::Transient => WorkerError::Transient(e.to_string()),
            ErrorClass::Permanent => WorkerError::Permanent(e.to_string()),
        }
    }
}

impl From<DirectoryError> for WorkerError {
    fn from(e: DirectoryError) -> Self {
        match e.class() {
            ErrorClass::Transient => WorkerError::Transient(e.to_string()),
            ErrorClass::Permanent => WorkerError::Permanent(e.to_string()),
        }
    }
}

impl From<IdentityError> for WorkerError {
    fn from(e: IdentityError) -> Self {
        match e.class() {
            ErrorClass::Transient => WorkerError::Transient(e.to_string()),
            ErrorClass::Permanent => WorkerError::Permanent(e.to_string()),
        }
    }
}

impl From<UsernameError> for WorkerError {
    fn from(e: UsernameError) -> Self {
        WorkerError::Permanent(e.to_string())
    }
}

/// One queue message, whatever queue it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerMessage {
    /// The queue's id for this delivery of the message (changes on redrive).
    pub message_id: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
}

/// What happened to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Done: converged, skipped as a duplicate, or not relevant.
    Done,
    /// Hand back to the queue for a later attempt (a batch item failure).
    Retry,
    /// Can never succeed: recorded as failed and sent to the dead-letter queue.
    DeadLettered,
}

/// The outcome of one message, logged as one line and returned to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub message_id: String,
    pub event_uuid: Option<String>,
    pub okta_user_id: Option<String>,
    pub disposition: Disposition,
    /// `fact:<kind>`, `duplicate`, `not_relevant`, `unparseable` or `busy`.
    pub fact: String,
    pub converged: Option<Converged>,
    /// The reason, for anything but a clean success.
    pub reason: Option<String>,
    pub duration_ms: u64,
}

/// Where [`Worker::settle`] left a set of messages.
#[derive(Debug, Clone, Default)]
pub struct Settled {
    /// The last report of every message that is no longer pending (done or dead-lettered).
    pub reports: Vec<Report>,
    /// Messages still handed back when the rounds ran out.
    pub pending: Vec<WorkerMessage>,
    /// Delivery rounds used.
    pub rounds: usize,
}

/// Tunables of the worker.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How long a claimed event is ours. Shorter than the queue's visibility timeout,
    /// so a crashed worker's event can be claimed when SQS shows it again.
    pub event_lease: Duration,
    /// How long one user's converge is ours.
    pub user_lease: Duration,
    /// Messages of one batch processed at once (Connect pacing is shared).
    pub concurrency: usize,
    /// Stop retrying inside the invocation when less than this is left.
    pub safety_margin: Duration,
    /// First backoff after a transient failure; doubles up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            event_lease: Duration::from_secs(120),
            user_lease: Duration::from_secs(30),
            concurrency: 4,
            safety_margin: Duration::from_secs(3),
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Exponential backoff with jitter that gives up when the next wait would end too close
/// to the invocation's deadline.
struct Backoff {
    next: Duration,
    max: Duration,
    margin: Duration,
    deadline: Instant,
}

impl Backoff {
    fn new(settings: &WorkerSettings, deadline: Instant) -> Self {
        Self {
            next: settings.first_backoff,
            max: settings.max_backoff,
            margin: settings.safety_margin,
            deadline,
        }
    }

    /// The next wait, or `None` when there is no time left for another attempt.
    fn next_wait(&mut self) -> Option<Duration> {
        let jittered = self.next.mul_f64(0.5 + rand::random::<f64>() / 2.0);
        if Instant::now() + jittered + self.margin >= self.deadline {
            return None;
        }
        self.next = (self.next * 2).min(self.max);
        Some(jittered)
    }
}

/// Awaits `$attempt` (re-evaluated each time) until it succeeds, fails permanently, or
/// the backoff runs out of time; then yields the last result. A macro, not a function
/// taking a closure: closures returning borrowing futures defeat the compiler's `Send`
/// inference (rust-lang/rust#64552) once the batch future is spawned.
macro_rules! retrying {
    ($worker:expr, $deadline:expr, $attempt:expr) => {{
        let mut backoff = Backoff::new(&$worker.settings, $deadline);
        loop {
            match $attempt.await {
                Err(WorkerError::Transient(reason)) => match backoff.next_wait() {
                    Some(wait) => {
                        tracing::debug!(%reason, wait_ms = wait.as_millis() as u64, "retrying");
                        tokio::time::sleep(wait).await;
                    }
                    None => break Err(WorkerError::Transient(reason)),
                },
                other => break other,
            }
        }
    }};
}

/// Reads the time; tests substitute a controllable clock.
pub type Clock = std::sync::Arc<dyn Fn() -> UnixMillis + Send + Sync>;

/// An [`IdentitySource`] for deployments without Okta API access: no profiles, so names
/// come from the events' display names.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIdentitySource;

impl IdentitySource for NoIdentitySource {
    async fn user_profile(&self, _: &str) -> Result<Option<OktaProfile>, IdentityError> {
        Ok(None)
    }

    async fn members(&self, source: &AccessSource) -> Result<Vec<OktaMember>, IdentityError> {
        Err(IdentityError::Denied(format!(
            "no Okta API configured to list members of {source:?}"
        )))
    }
}

/// Everything one worker needs, built once per process.
pub struct Worker<L, D, Q, I = NoIdentitySource> {
    pub config: Config,
    pub settings: WorkerSettings,
    pub ledger: L,
    pub directory: D,
    pub dead_letters: Q,
    pub identity: Option<I>,
    pub pacing: TokenBucket,
    pub clock: Clock,
}

impl<L, D, Q, I> Worker<L, D, Q, I>
where
    L: Ledger,
    D: UserDirectory,
    Q: EventQueue,
    I: IdentitySource,
{
    /// A worker with default settings and the wall clock.
    pub fn new(
        config: Config,
        ledger: L,
        directory: D,
        dead_letters: Q,
        identity: Option<I>,
    ) -> Self {
        let pacing = TokenBucket::new(config.pacing);
        Self {
            config,
            settings: WorkerSettings::default(),
            ledger,
            directory,
            dead_letters,
            identity,
            pacing,
            clock: std::sync::Arc::new(UnixMillis::now),
        }
    }

    fn retention(&self) -> Duration {
        Duration::from_secs(u64::from(self.config.ledger_retention_days) * 86_400)
    }

    /// Processes a batch, `settings.concurrency` messages at a time, and returns one
    /// report per message in input order. Never fails as a whole: one bad message
    /// never fails its batch. `deadline` is when the invocation must have answered.
    pub async fn handle_batch(&self, messages: &[WorkerMessage], deadline: Instant) -> Vec<Report> {
        let permits = tokio::sync::Semaphore::new(self.settings.concurrency.max(1));
        // A plain loop of async-fn futures (not a closure over a stream) keeps the
        // batch future `Send` for any caller that spawns it.
        let mut work = Vec::with_capacity(messages.len());
        for message in messages {
            work.push(self.process_with_permit(&permits, message, deadline));
        }
        futures_util::future::join_all(work).await
    }

    /// Delivers `messages` the way an SQS event source does: batches of `batch_size`,
    /// one invocation (of `invocation` length) at a time, redelivering whatever is handed
    /// back, until nothing is or `max_rounds` rounds have run. For benchmarks, tests and
    /// one-shot runs; a live queue does this with its visibility timeout.
    pub async fn settle(
        &self,
        messages: Vec<WorkerMessage>,
        batch_size: usize,
        max_rounds: usize,
        invocation: Duration,
    ) -> Settled {
        let mut settled = Settled {
            pending: messages,
            ..Settled::default()
        };
        while !settled.pending.is_empty() && settled.rounds < max_rounds {
            settled.rounds += 1;
            let mut again = Vec::new();
            for batch in settled.pending.chunks(batch_size.max(1)) {
                let reports = self.handle_batch(batch, Instant::now() + invocation).await;
                // `handle_batch` reports in input order.
                for (report, message) in reports.into_iter().zip(batch) {
                    if report.disposition == Disposition::Retry {
                        again.push(message.clone());
                    } else {
                        settled.reports.push(report);
                    }
                }
            }
            settled.pending = again;
        }
        settled
    }

    async fn process_with_permit(
        &self,
        permits: &tokio::sync::Semaphore,
        message: &WorkerMessage,
        deadline: Instant,
    ) -> Report {
        // The semaphore is never closed, so acquiring cannot fail; without a permit the
        // message would merely run unbounded, which is still correct.
        let _permit = permits.acquire().await.ok();
        self.process(message, deadline).await
    }

    /// Processes one message. See the crate doc for the steps.
    pub async fn process(&self, message: &WorkerMessage, deadline: Instant) -> Report {
        let started = Instant::now();
        let mut report = Report {
            message_id: message.message_id.clone(),
            event_uuid: message.attributes.get("uuid").cloned(),
            okta_user_id: message.attributes.get("oktaUserId").cloned(),
            disposition: Disposition::Done,
            fact: String::new(),
            converged: None,
            reason: None,
            duration_ms: 0,
        };
        let mut claimed = false;
        let result = self
            .process_inner(message, deadline, &mut report, &mut claimed)
            .await;
        if let Err(e) = result {
            report.reason = Some(e.to_string());
            report.disposition = match e {
                WorkerError::Transient(_) => {
                    if let Some(uuid) = report.event_uuid.as_ref().filter(|_| claimed) {
                        // Let the redelivery claim at once instead of waiting out the lease.
                        let _ = self.ledger.release_event(uuid).await;
                    }
                    Disposition::Retry
                }
                WorkerError::Permanent(reason) => self.dead_letter(message, &report, &reason).await,
            };
        }
        report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        log(&report);
        report
    }

    async fn process_inner(
        &self,
        message: &WorkerMessage,
        deadline: Instant,
        report: &mut Report,
        claimed: &mut bool,
    ) -> Result<(), WorkerError> {
        let event = match OktaEvent::parse(&message.body) {
            Ok(event) => event,
            Err(e) => {
                // Never retry what cannot change; remember why when the uuid is known.
                report.fact = "unparseable".into();
                report.reason = Some(e.to_string());
                if let Some(uuid) = &report.event_uuid {
                    let now = (self.clock)();
                    self.ledger
                        .complete_event(uuid, &format!("unparseable: {e}"), now, self.retention())
                        .await?;
                }
                return Ok(());
            }
        };
        report.event_uuid = Some(event.uuid.clone());
        let claim = retrying!(self, deadline, async {
            let now = (self.clock)();
            Ok::<_, WorkerError>(
                self.ledger
                    .claim_event(&event.uuid, now, self.settings.event_lease)
                    .await?,
            )
        })?;
        match claim {
            Claim::Completed(_) => {
                report.fact = "duplicate".into();
                return Ok(());
            }
            Claim::Busy { lease_until } => {
                report.fact = "busy".into();
                return Err(WorkerError::Transient(format!(
                    "event is being processed elsewhere until {lease_until}"
                )));
            }
            Claim::Claimed { .. } => *claimed = true,
        }
        let fact = match classify(&event, &self.config) {
            Classification::NotRelevant(why) => {
                report.fact = "not_relevant".into();
                report.reason = Some(why.to_string());
                let now = (self.clock)();
                self.ledger
                    .complete_event(
                        &event.uuid,
                        &format!("not relevant: {why}"),
                        now,
                        self.retention(),
                    )
                    .await?;
                return Ok(());
            }
            Classification::Fact(fact) => fact,
        };
        report.okta_user_id = Some(fact.okta_user_id.clone());
        report.fact = format!("fact:{}", fact.key().split('#').next().unwrap_or_default());
        retrying!(self, deadline, async {
            Ok::<_, WorkerError>(self.ledger.record_fact(&fact).await?)
        })?;
        // Converge even when the fact was stale: an earlier attempt may have recorded it
        // and died before Connect was updated.
        let holder = format!("{}:{}", event.uuid, message.message_id);
        let converged = retrying!(
            self,
            deadline,
            self.converge_leased(&fact.okta_user_id, &holder)
        )?;
        let detail = serde_json::json!({ "fact": fact.key(), "converged": &converged }).to_string();
        report.converged = Some(converged);
        let now = (self.clock)();
        retrying!(self, deadline, async {
            Ok::<_, WorkerError>(
                self.ledger
                    .complete_event(&event.uuid, &detail, now, self.retention())
                    .await?,
            )
        })
    }

    async fn converge_leased(
        &self,
        okta_user_id: &str,
        holder: &str,
    ) -> Result<Converged, WorkerError> {
        let now = (self.clock)();
        if !self
            .ledger
            .lease_user(okta_user_id, holder, now, self.settings.user_lease)
            .await?
        {
            return Err(WorkerError::Transient(
                "another worker is converging this user".into(),
            ));
        }
        let paced = Paced::new(&self.directory, &self.pacing);
        let result = converge_user(
            okta_user_id,
            &self.config,
            &self.ledger,
            &paced,
            self.identity.as_ref(),
        )
        .await;
        // Best effort: an unreleased lease simply expires.
        let _ = self.ledger.release_user(okta_user_id, holder).await;
        result
    }

    /// Records the failure and sends the original message plus the reason to the DLQ.
    /// If either fails, the message goes back to the queue instead, to try again.
    async fn dead_letter(
        &self,
        message: &WorkerMessage,
        report: &Report,
        reason: &str,
    ) -> Disposition {
        let now = (self.clock)();
        if let Some(uuid) = &report.event_uuid
            && let Err(e) = self
                .ledger
                .fail_event(uuid, reason, now, self.retention())
                .await
        {
            tracing::warn!(event_uuid = %uuid, error = %e, "could not record the failure; retrying");
            return Disposition::Retry;
        }
        let mut attributes = message.attributes.clone();
        attributes.insert("failureReason".into(), truncate(reason, 1000));
        attributes.insert("failedAt".into(), now.to_string());
        attributes.insert("sourceMessageId".into(), message.message_id.clone());
        let entry = QueueMessage {
            entry_id: "0".into(),
            body: message.body.clone(),
            attributes,
        };
        match self
            .dead_letters
            .send_batch(std::slice::from_ref(&entry))
            .await
        {
            Ok(rejected) if rejected.is_empty() => Disposition::DeadLettered,
            Ok(rejected) => {
                let why = rejected
                    .first()
                    .map(|r| r.reason.clone())
                    .unwrap_or_default();
                tracing::warn!(reason = %why, "dead-letter queue rejected the message; retrying");
                Disposition::Retry
            }
            Err(e) => {
                let e: QueueError = e;
                tracing::warn!(error = %e, "dead-letter queue unavailable; retrying");
                Disposition::Retry
            }
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn log(report: &Report) {
    let steps = report
        .converged
        .as_ref()
        .map(|c| c.steps.join(","))
        .unwrap_or_default();
    let connect_user_id = report
        .converged
        .as_ref()
        .and_then(|c| c.connect_user_id.clone());
    let desired = report.converged.as_ref().map(|c| c.desired.clone());
    tracing::info!(
        message_id = %report.message_id,
        event_uuid = report.event_uuid.as_deref().unwrap_or(""),
        okta_user_id = report.okta_user_id.as_deref().unwrap_or(""),
        fact = %report.fact,
        desired = desired.as_deref().unwrap_or(""),
        action = %steps,
        connect_user_id = connect_user_id.as_deref().unwrap_or(""),
        disposition = ?report.disposition,
        reason = report.reason.as_deref().unwrap_or(""),
        duration_ms = report.duration_ms,
        "event processed"
    );
}
