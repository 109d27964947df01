//! Processing queued Okta events: the engine every front door drives.

use std::sync::Arc;
use std::time::Duration;

use okta_connect_core::config::Config;
use okta_connect_core::desired::RevokedBecause;
use okta_connect_core::fact::{Assertion, Fact, OktaStatus, UserSnapshot};
use okta_connect_core::outcome::{Converged, DesiredState, FactKind, Failure, Outcome};
use okta_connect_core::ports::{
    Claim, EventAbout, EventQueue, IdentitySource, Ledger, RunMode, RunRecord, UserDirectory,
};
use okta_connect_core::queue::{
    DeadLetterReason, Delivery, EventAttributes, QueueMessage, ReconcileRequest, Work,
};
use okta_connect_core::rules::{Classification, classify};
use okta_connect_core::time::UnixMillis;
use serde::Serialize;
use tokio::time::Instant;

use crate::converge::converge_user;
use crate::error::SyncError;
use crate::identity::NoIdentitySource;
use crate::pacing::{Paced, Pacer, Throttles};
use crate::reconcile::{self, Planned, Progress, ReadError, Run, RunOptions, read_snapshot};
use crate::retry::Backoff;
use crate::sources::{BoundSources, learned_from};

/// What the queue should do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Done: delete it (converged, a duplicate, not relevant, or unparseable).
    Done,
    /// Hand it back for a later attempt (a batch item failure).
    Retry,
    /// Can never succeed: recorded as failed and sent to the dead-letter queue; delete it.
    DeadLettered,
}

impl std::fmt::Display for Disposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Disposition::Done => "done",
            Disposition::Retry => "retry",
            Disposition::DeadLettered => "dead-lettered",
        })
    }
}

/// The outcome of one message, logged as one line and returned to the front door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The queue's id for this delivery of the message.
    pub message_id: String,
    pub event_uuid: Option<String>,
    pub okta_user_id: Option<String>,
    pub disposition: Disposition,
    /// What processing ended in: [`Outcome::Failed`] for `Retry` and `DeadLettered`.
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// Connect calls of this delivery's converges (every attempt, retries included)
    /// that Connect answered with throttling (429), each retried or handed back; see
    /// [`Throttles`].
    pub connect_throttles: u32,
}

impl Report {
    /// The failure's reason, for anything that did not end well.
    pub fn reason(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Failed(failure) => Some(&failure.reason),
            _ => None,
        }
    }

    /// What the converge did, when the event's user was converged.
    pub fn converged(&self) -> Option<&Converged> {
        match &self.outcome {
            Outcome::Converged { converged, .. } => Some(converged),
            _ => None,
        }
    }
}

/// Where [`Engine::settle`] left a set of messages.
#[derive(Debug, Clone, Default)]
pub struct Settled {
    /// The last report of every message that is no longer pending (done or dead-lettered).
    pub reports: Vec<Report>,
    /// Messages still handed back when the rounds ran out.
    pub pending: Vec<Delivery>,
    /// The last report of each message in `pending` (why it was handed back).
    pub retried: Vec<Report>,
    /// Delivery rounds used.
    pub rounds: usize,
}

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a claimed event is ours. Shorter than the queue's visibility timeout,
    /// so a crashed worker's event can be claimed when the queue shows it again.
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

impl Default for Settings {
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

/// Awaits `$attempt` (re-evaluated each time) until it succeeds, fails permanently, or
/// the backoff runs out of time; then yields the last result. A macro, not a function
/// taking a closure: closures returning borrowing futures defeat the compiler's `Send`
/// inference (rust-lang/rust#64552) once the batch future is spawned.
///
/// Every attempt is bounded by the invocation's deadline less the safety margin: a slow
/// Connect or DynamoDB call becomes a transient failure (the message is handed back)
/// instead of a Lambda timeout that fails the whole batch and raises every message's
/// receive count toward the dead-letter queue.
macro_rules! retrying {
    ($engine:expr, $deadline:expr, $attempt:expr) => {{
        let mut backoff = Backoff::new(
            $engine.settings.first_backoff,
            $engine.settings.max_backoff,
            $engine.settings.safety_margin,
            $deadline,
        );
        let cutoff = $deadline
            .checked_sub($engine.settings.safety_margin)
            .unwrap_or($deadline);
        loop {
            let attempt = match tokio::time::timeout_at(cutoff, $attempt).await {
                Ok(result) => result,
                Err(_) => Err(SyncError::Transient(
                    "the invocation's deadline came before this step finished: handed back"
                        .into(),
                )),
            };
            match attempt {
                Err(SyncError::Transient(reason)) => match backoff.next_wait() {
                    Some(wait) => {
                        tracing::debug!(%reason, wait_ms = wait.as_millis() as u64, "retrying");
                        tokio::time::sleep(wait).await;
                    }
                    None => break Err(SyncError::Transient(reason)),
                },
                other => break other,
            }
        }
    }};
}

/// How long a reconcile run applied in process retries one user's converge.
pub const RECONCILE_USER_BUDGET: Duration = Duration::from_secs(120);

/// Why a reconcile run did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconcileError {
    #[error("reconcile reads Okta's current state: configure [OktaApi]")]
    NoIdentity,
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

/// Reads the time; tests substitute a controllable clock.
pub type Clock = Arc<dyn Fn() -> UnixMillis + Send + Sync>;

/// Everything one process needs to process events, built once per process.
pub struct Engine<L, D, Q, I = NoIdentitySource> {
    pub config: Config,
    pub settings: Settings,
    pub ledger: L,
    pub directory: D,
    pub dead_letters: Q,
    pub identity: Option<I>,
    /// Connect's per-API buckets at this process's share of the account's quotas: the
    /// whole quota by default (one process); the deployed worker sets its share of
    /// `[Deploy] MAX_CONCURRENCY` ([`Pacer::shared`]).
    pub pacing: Pacer,
    pub clock: Clock,
    /// The config with its group/app names bound to Okta ids.
    pub sources: BoundSources,
}

/// How one message's processing went, before the dead-letter decision.
type Processed = Result<Outcome, SyncError>;

impl<L, D, Q, I> Engine<L, D, Q, I>
where
    L: Ledger,
    D: UserDirectory,
    Q: EventQueue,
    I: IdentitySource,
{
    /// An engine with default settings and the wall clock.
    pub fn new(
        config: Config,
        ledger: L,
        directory: D,
        dead_letters: Q,
        identity: Option<I>,
    ) -> Self {
        let pacing = Pacer::new(config.pacing);
        Self {
            config,
            settings: Settings::default(),
            ledger,
            directory,
            dead_letters,
            identity,
            pacing,
            clock: Arc::new(UnixMillis::now),
            sources: BoundSources::default(),
        }
    }

    /// The config with every known name-to-id binding applied (see [`BoundSources`]).
    pub async fn bound_config(&self) -> Result<Arc<Config>, SyncError> {
        self.sources
            .config(
                &self.config,
                &self.ledger,
                self.identity.as_ref(),
                (self.clock)(),
            )
            .await
    }

    fn retention(&self) -> Duration {
        Duration::from_secs(u64::from(self.config.ledger_retention_days) * 86_400)
    }

    /// Processes a batch, `settings.concurrency` messages at a time, and returns one
    /// report per message in input order. Never fails as a whole: one bad message
    /// never fails its batch. `deadline` is when the invocation must have answered.
    pub async fn handle_batch(&self, messages: &[Delivery], deadline: Instant) -> Vec<Report> {
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
    /// one-shot runs; a live queue does this with its visibility timeout. Like that
    /// timeout, a pause comes between a round that handed messages back and the next
    /// (from `first_backoff`, doubling up to 1 s): redelivered at once, a message whose
    /// event another worker holds would use up every round before that worker is done.
    pub async fn settle(
        &self,
        messages: Vec<Delivery>,
        batch_size: usize,
        max_rounds: usize,
        invocation: Duration,
    ) -> Settled {
        let mut settled = Settled {
            pending: messages,
            ..Settled::default()
        };
        let mut pause = self.settings.first_backoff;
        while !settled.pending.is_empty() && settled.rounds < max_rounds {
            if settled.rounds > 0 {
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2).min(Duration::from_secs(1));
            }
            settled.rounds += 1;
            let mut again = Vec::new();
            settled.retried.clear();
            for batch in settled.pending.chunks(batch_size.max(1)) {
                let reports = self.handle_batch(batch, Instant::now() + invocation).await;
                // `handle_batch` reports in input order.
                for (report, message) in reports.into_iter().zip(batch) {
                    if report.disposition == Disposition::Retry {
                        let mut message = message.clone();
                        message.receive_count += 1;
                        again.push(message);
                        settled.retried.push(report);
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
        message: &Delivery,
        deadline: Instant,
    ) -> Report {
        // The semaphore is never closed, so acquiring cannot fail; without a permit the
        // message would merely run unbounded, which is still correct.
        let _permit = permits.acquire().await.ok();
        self.process(message, deadline).await
    }

    /// Processes one message: parse → claim the event uuid in the ledger → record the
    /// fact it asserts → converge that Okta user under a per-user lease → mark the event
    /// completed. Transient failures are retried while `deadline` allows, then handed
    /// back; permanent ones are recorded, dead-lettered with their reason, and done.
    pub async fn process(&self, message: &Delivery, deadline: Instant) -> Report {
        let started = Instant::now();
        let hinted = EventAttributes::read(&message.attributes);
        let mut report = Report {
            message_id: message.message_id.clone(),
            event_uuid: Some(hinted.uuid).filter(|u| !u.is_empty()),
            okta_user_id: hinted.okta_user_id,
            disposition: Disposition::Done,
            outcome: Outcome::Duplicate,
            duration_ms: 0,
            connect_throttles: 0,
        };
        let mut claimed = false;
        // One counter for every converge of this message, retries included.
        let throttles = Throttles::new();
        let processed = self
            .process_inner(message, deadline, &mut report, &mut claimed, &throttles)
            .await;
        (report.disposition, report.outcome) = match processed {
            Ok(outcome) => (Disposition::Done, outcome),
            Err(SyncError::Transient(reason)) => {
                if let Some(uuid) = report.event_uuid.as_ref().filter(|_| claimed) {
                    // Let the redelivery claim at once instead of waiting out the lease.
                    let _ = self.ledger.release_event(uuid).await;
                }
                (
                    Disposition::Retry,
                    Outcome::Failed(SyncError::Transient(reason).to_failure()),
                )
            }
            Err(permanent @ SyncError::Permanent(_)) => {
                let failure = permanent.to_failure();
                let disposition = self.dead_letter(message, &report, &failure).await;
                (disposition, Outcome::Failed(failure))
            }
        };
        report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        report.connect_throttles = throttles.total();
        log(&report);
        report
    }

    async fn process_inner(
        &self,
        message: &Delivery,
        deadline: Instant,
        report: &mut Report,
        claimed: &mut bool,
        throttles: &Throttles,
    ) -> Processed {
        let event = match Work::parse(&message.body) {
            Ok(Work::Event(event)) => event,
            Ok(Work::Reconcile(request)) => {
                return self
                    .process_reconcile(&request, message, deadline, report, claimed, throttles)
                    .await;
            }
            Err(e) => {
                // Never retried (it cannot change) and never completed: dead-lettered with
                // its reason for an operator. Nothing is recorded under the uuid its
                // attributes claim: attributes are hints, and that uuid may be a real
                // event's.
                report.event_uuid = None;
                return Err(SyncError::Permanent(format!(
                    "the message is neither an Okta event nor a reconcile request: {e}"
                )));
            }
        };
        report.event_uuid = Some(event.uuid.clone());
        if !self
            .claim(&event.uuid, &event.about(), deadline, claimed)
            .await?
        {
            return Ok(Outcome::Duplicate);
        }
        let config = retrying!(self, deadline, self.bound_config())?;
        let fact = match classify(&event, &config) {
            Classification::NotRelevant(reason) => {
                let outcome = Outcome::NotRelevant { reason };
                let now = (self.clock)();
                self.ledger
                    .complete_event(&event.uuid, &outcome, now, self.retention())
                    .await?;
                return Ok(outcome);
            }
            Classification::Fact(fact) => fact,
        };
        report.okta_user_id = Some(fact.okta_user_id.clone());
        if let Some(binding) = learned_from(&fact, &config, (self.clock)()) {
            let held = retrying!(self, deadline, async {
                Ok::<_, SyncError>(self.ledger.bind_source(&binding).await?)
            })?;
            self.sources.invalidate().await;
            if held.id != binding.id {
                // Another worker bound this name to another group first: by that
                // binding, this event's group is not the configured one.
                tracing::warn!(source = %binding.name, held = %held.id, seen = %binding.id,
                    "configured name already bound to another Okta id");
            } else {
                tracing::info!(source = %binding.name, okta_id = %binding.id,
                    "bound a configured name to the Okta id its first event carried");
            }
        }
        retrying!(self, deadline, async {
            Ok::<_, SyncError>(self.ledger.record_fact(&fact).await?)
        })?;
        // Converge even when the fact was stale: an earlier attempt may have recorded it
        // and died before Connect was updated.
        let holder = format!("{}:{}", event.uuid, message.message_id);
        let converged = retrying!(
            self,
            deadline,
            self.converge_counting(&fact.okta_user_id, &holder, throttles)
        )?;
        let deleted = matches!(
            fact.assertion,
            Assertion::Status {
                status: OktaStatus::Deleted
            }
        ) || matches!(
            converged.desired,
            DesiredState::Revoked {
                because: RevokedBecause::Deleted
            }
        );
        if deleted {
            retrying!(self, deadline, self.forget_deleted(&fact.okta_user_id))?;
        }
        let outcome = Outcome::Converged {
            fact: FactKind::of(&fact),
            converged,
        };
        self.complete(&event.uuid, outcome, deadline).await
    }

    /// Forgets a user deleted in Okta whose Connect user was just revoked: its facts
    /// (logins, display names, memberships) and Connect id go; a tombstone with its Okta
    /// id and deletion alone stays, so a late older event cannot bring the user back.
    async fn forget_deleted(&self, okta_user_id: &str) -> Result<(), SyncError> {
        let record = self.ledger.user_record(okta_user_id).await?;
        let Some(deletion) = record.facts.facts.values().find(|f| {
            matches!(
                f.assertion,
                Assertion::Status {
                    status: OktaStatus::Deleted
                }
            )
        }) else {
            return Ok(());
        };
        let tombstone = Fact {
            subject: UserSnapshot::default(),
            ..deletion.clone()
        };
        self.ledger.forget_user(&tombstone).await?;
        tracing::info!(
            okta_user_id,
            "deleted in Okta: the user's facts and Connect id were forgotten"
        );
        Ok(())
    }

    /// A reconcile run's request: its facts are in the ledger already, so claim the
    /// request's uuid, converge the user like an event's, and complete.
    async fn process_reconcile(
        &self,
        request: &ReconcileRequest,
        message: &Delivery,
        deadline: Instant,
        report: &mut Report,
        claimed: &mut bool,
        throttles: &Throttles,
    ) -> Processed {
        let uuid = request.uuid();
        report.event_uuid = Some(uuid.clone());
        report.okta_user_id = Some(request.okta_user_id.clone());
        if !self
            .claim(&uuid, &request.about(), deadline, claimed)
            .await?
        {
            return Ok(Outcome::Duplicate);
        }
        let holder = format!("{uuid}:{}", message.message_id);
        let converged = retrying!(
            self,
            deadline,
            self.converge_counting(&request.okta_user_id, &holder, throttles)
        )?;
        let outcome = Outcome::Converged {
            fact: FactKind::Snapshot,
            converged,
        };
        self.complete(&uuid, outcome, deadline).await
    }

    /// Claims `uuid` for this delivery: `Ok(false)` when it was completed before (a
    /// duplicate), a transient error while another worker holds it.
    async fn claim(
        &self,
        uuid: &str,
        about: &EventAbout,
        deadline: Instant,
        claimed: &mut bool,
    ) -> Result<bool, SyncError> {
        let claim = retrying!(self, deadline, async {
            let now = (self.clock)();
            Ok::<_, SyncError>(
                self.ledger
                    .claim_event(uuid, about, now, self.settings.event_lease)
                    .await?,
            )
        })?;
        match claim {
            Claim::Completed(_) => Ok(false),
            Claim::Busy { lease_until } => Err(SyncError::Transient(format!(
                "event is being processed elsewhere until {lease_until}"
            ))),
            Claim::Claimed { .. } => {
                *claimed = true;
                Ok(true)
            }
        }
    }

    /// Records `outcome` as the completed result of `uuid`, and returns it.
    async fn complete(&self, uuid: &str, outcome: Outcome, deadline: Instant) -> Processed {
        let now = (self.clock)();
        retrying!(self, deadline, async {
            Ok::<_, SyncError>(
                self.ledger
                    .complete_event(uuid, &outcome, now, self.retention())
                    .await?,
            )
        })?;
        Ok(outcome)
    }

    /// Converges one Okta user now (paced, under the per-user lease held by `holder`).
    pub async fn converge_leased(
        &self,
        okta_user_id: &str,
        holder: &str,
    ) -> Result<Converged, SyncError> {
        self.converge_counting(okta_user_id, holder, &Throttles::new())
            .await
    }

    /// [`Engine::converge_leased`], counting the Connect calls Connect throttled into
    /// `throttles` (which outlives the attempt: a retry's throttles add up).
    pub async fn converge_counting(
        &self,
        okta_user_id: &str,
        holder: &str,
        throttles: &Throttles,
    ) -> Result<Converged, SyncError> {
        let config = self.bound_config().await?;
        let now = (self.clock)();
        if !self
            .ledger
            .lease_user(okta_user_id, holder, now, self.settings.user_lease)
            .await?
        {
            return Err(SyncError::Transient(
                "another worker is converging this user".into(),
            ));
        }
        let paced = Paced::counting(&self.directory, &self.pacing, throttles);
        let converge = converge_user(
            okta_user_id,
            &config,
            &self.ledger,
            &paced,
            self.identity.as_ref(),
        );
        let result = self.renewing_lease(okta_user_id, holder, converge).await;
        // Best effort: an unreleased lease simply expires.
        let _ = self.ledger.release_user(okta_user_id, holder).await;
        result
    }

    /// Runs `work` while renewing `holder`'s lease on the user every third of its
    /// length, so a converge slowed by pacing or retries never outlives its lease and
    /// overlaps another worker's. A lease found taken by someone else (ours expired:
    /// the ledger was unreachable for a whole lease) stops the work before its next step.
    async fn renewing_lease<F>(
        &self,
        okta_user_id: &str,
        holder: &str,
        work: F,
    ) -> Result<Converged, SyncError>
    where
        F: std::future::Future<Output = Result<Converged, SyncError>>,
    {
        let every = (self.settings.user_lease / 3).max(Duration::from_millis(10));
        let mut renew = tokio::time::interval_at(Instant::now() + every, every);
        let work = std::pin::pin!(work);
        let mut work = work;
        loop {
            tokio::select! {
                result = &mut work => return result,
                _ = renew.tick() => {
                    let now = (self.clock)();
                    match self.ledger.lease_user(okta_user_id, holder, now, self.settings.user_lease).await {
                        Ok(true) => {}
                        Ok(false) => {
                            return Err(SyncError::Transient(
                                "lost the user's lease to another worker while converging".into(),
                            ));
                        }
                        // Still ours until it expires; the next tick tries again.
                        Err(e) => tracing::warn!(okta_user_id, error = %e, "could not renew the user's lease"),
                    }
                }
            }
        }
    }

    /// One reconcile run (see [`crate::reconcile`]): reads Okta's members of every mapped
    /// source and Connect's users, plans every user, and — unless a dry run or above the
    /// revocation cap — records the snapshot facts and converges each changing user
    /// through [`Engine::converge_leased`]. Needs the Okta API.
    pub async fn reconcile(&self, options: &RunOptions) -> Result<Run, ReconcileError> {
        self.reconcile_with_progress(options, &|_| {}).await
    }

    /// [`Engine::reconcile`], telling `progress` where the run is.
    pub async fn reconcile_with_progress(
        &self,
        options: &RunOptions,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Run, ReconcileError> {
        let started = (self.clock)();
        let result = self.reconcile_in_process(options, progress).await;
        self.record_run(options, RunMode::InProcess, started, &result)
            .await;
        result
    }

    async fn reconcile_in_process(
        &self,
        options: &RunOptions,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Run, ReconcileError> {
        let planned = self.plan_reconcile(options, progress).await?;
        let holder = format!("reconcile:{}", options.run_id);
        let holder = holder.as_str();
        // Throttling and 5xx are retried as for events; only what stays failing after
        // [`RECONCILE_USER_BUDGET`] becomes the user's conflict line.
        let mut converge = |okta_user_id: String| async move {
            let deadline = Instant::now() + RECONCILE_USER_BUDGET;
            retrying!(self, deadline, self.converge_leased(&okta_user_id, holder))
        };
        Ok(reconcile::apply(planned, &self.ledger, &mut converge, progress).await?)
    }

    /// A reconcile run applied through `queue`: reads and plans as [`Engine::reconcile`]
    /// does, records the snapshot facts, and queues one [`ReconcileRequest`] per changing
    /// user for workers to converge at the account's pace (the deployed, scheduled run).
    pub async fn reconcile_queued<S: EventQueue>(
        &self,
        options: &RunOptions,
        queue: &S,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Run, ReconcileError> {
        let started = (self.clock)();
        let result = async {
            let planned = self.plan_reconcile(options, progress).await?;
            Ok(reconcile::enqueue(planned, &self.ledger, queue, progress).await?)
        }
        .await;
        self.record_run(options, RunMode::Queued, started, &result)
            .await;
        result
    }

    /// Keeps what a run did in the ledger, for `okta-connect status`. A record that
    /// cannot be written is logged, not an error: the run itself is done.
    async fn record_run(
        &self,
        options: &RunOptions,
        applied: RunMode,
        started_at: UnixMillis,
        result: &Result<Run, ReconcileError>,
    ) {
        let mode = if options.dry_run {
            RunMode::DryRun
        } else {
            applied
        };
        let mut record = RunRecord {
            run_id: options.run_id.clone(),
            mode,
            started_at,
            finished_at: (self.clock)(),
            users: 0,
            changes: 0,
            revocations: 0,
            conflicts: 0,
            queued: 0,
            stopped_at_cap: None,
            error: None,
        };
        match result {
            Ok(run) => {
                record.users = run.users.len();
                record.changes = run.changes();
                record.revocations = run.revocations();
                record.conflicts = run.conflicts();
                record.queued = run.queued;
                record.stopped_at_cap = run.stopped_at_cap;
            }
            Err(e) => record.error = Some(e.to_string()),
        }
        if let Err(e) = self.ledger.record_run(&record, self.retention()).await {
            tracing::warn!(run_id = %record.run_id, error = %e,
                "could not keep the reconcile run's record in the ledger");
        }
    }

    /// Reads Okta's and Connect's current state and plans every user. A dry run looks
    /// configured names up in Okta without binding them in the ledger: it writes nothing.
    pub async fn plan_reconcile(
        &self,
        options: &RunOptions,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Planned, ReconcileError> {
        let identity = self.identity.as_ref().ok_or(ReconcileError::NoIdentity)?;
        let taken_at = (self.clock)();
        // Bindings are re-read: a run must see names bound by other workers.
        self.sources.invalidate().await;
        let config = if options.dry_run {
            self.sources
                .peek(&self.config, &self.ledger, Some(identity), taken_at)
                .await?
        } else {
            self.bound_config().await?
        };
        let paced = Paced::new(&self.directory, &self.pacing);
        let snapshot = read_snapshot(&config, identity, &paced, taken_at).await?;
        progress(Progress::Read {
            users: reconcile::users_in(&snapshot).len(),
        });
        Ok(reconcile::plan_run(&snapshot, &config, &self.ledger, options).await?)
    }

    /// Records the failure and sends the original message plus the reason to the DLQ.
    /// If either fails, the message goes back to the queue instead, to try again.
    async fn dead_letter(
        &self,
        message: &Delivery,
        report: &Report,
        failure: &Failure,
    ) -> Disposition {
        let now = (self.clock)();
        if let Some(uuid) = &report.event_uuid
            && let Err(e) = self
                .ledger
                .fail_event(uuid, failure, now, self.retention())
                .await
        {
            tracing::warn!(event_uuid = %uuid, error = %e, "could not record the failure; retrying");
            return Disposition::Retry;
        }
        let mut attributes = message.attributes.clone();
        DeadLetterReason {
            reason: failure.reason.clone(),
            class: failure.class,
            failed_at: now,
            source_message_id: message.message_id.clone(),
        }
        .write_into(&mut attributes);
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
                tracing::warn!(error = %e, "dead-letter queue unavailable; retrying");
                Disposition::Retry
            }
        }
    }
}

fn log(report: &Report) {
    let converged = report.converged();
    let steps: Vec<String> = converged
        .map(|c| c.steps.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    let desired = converged.map(|c| c.desired.to_string());
    let connect_user_id = converged.and_then(|c| c.connect_user_id.as_deref());
    tracing::info!(
        message_id = %report.message_id,
        event_uuid = report.event_uuid.as_deref().unwrap_or(""),
        okta_user_id = report.okta_user_id.as_deref().unwrap_or(""),
        outcome = %report.outcome,
        desired = desired.as_deref().unwrap_or(""),
        steps = %steps.join(","),
        connect_user_id = connect_user_id.unwrap_or(""),
        disposition = %report.disposition,
        duration_ms = report.duration_ms,
        connect_throttles = report.connect_throttles,
        "event processed"
    );
}
