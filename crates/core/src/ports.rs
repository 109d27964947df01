//! The capabilities the pipeline needs from the outside world, one small trait each.
//! Adapters live elsewhere (`okta-connect-aws` for AWS, `okta-connect-local` for the local
//! run, `okta-connect-testkit` in memory); each port has one contract suite, in the
//! testkit, that every adapter must pass.
//!
//! Every method is async and `Send`, so handlers can run them on a multi-threaded
//! runtime. Time is passed in (`now`), never read, so contracts are testable.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::SourceBinding;
use crate::desired::DesiredUser;
use crate::fact::{Fact, Recorded, UserFacts};
use crate::identity::{LogEvent, LogQuery, OktaApp, OktaGroup, OktaUser, SourceId};
use crate::outcome::{Failure, Outcome};
use crate::ownership::UserFilter;
use crate::plan::{Change, ConnectUser};
use crate::queue::{
    DeadLetter, Delivery, QueueCounts, QueueMessage, Receipt, Redriven, RejectedEntry,
};
use crate::time::UnixMillis;

/// Whether retrying the same call can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Throttling, 5xx, timeouts, network: retry with backoff.
    Transient,
    /// Bad input, missing resource, quota, permissions: retrying cannot help.
    Permanent,
}

// ---------------------------------------------------------------- event queue

/// A whole call that failed; nothing can be assumed sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Transient(String),
    #[error("queue refused the request: {0}")]
    Permanent(String),
}

impl QueueError {
    pub fn class(&self) -> ErrorClass {
        match self {
            QueueError::Transient(_) => ErrorClass::Transient,
            QueueError::Permanent(_) => ErrorClass::Permanent,
        }
    }
}

/// A durable queue of Okta events (SQS in AWS; an embedded queue locally).
pub trait EventQueue: Send + Sync {
    /// Sends at most [`MAX_BATCH_ENTRIES`](crate::queue::MAX_BATCH_ENTRIES) messages totalling at
    /// most [`MAX_BATCH_BYTES`](crate::queue::MAX_BATCH_BYTES).
    /// `Ok` lists the entries that were NOT accepted (empty: all durable); every entry
    /// not listed is durably queued. `Err` means the call failed as a whole.
    fn send_batch(
        &self,
        batch: &[QueueMessage],
    ) -> impl Future<Output = Result<Vec<RejectedEntry>, QueueError>> + Send;
}

/// The consuming side of the event queue and its dead-letter queue (SQS with its
/// redrive policy in AWS; the SQLite queue locally): what the worker loop and the
/// operator's commands need.
pub trait QueueConsumer: Send + Sync {
    /// Up to `max` (at most [`crate::queue::MAX_RECEIVE`]) messages, waiting up to `wait`
    /// for the first. Each stays invisible to other receivers until acknowledged, handed
    /// back, or its visibility timeout ends.
    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<Delivery>, QueueError>> + Send;

    /// Deletes a processed message. A stale receipt is not an error (the message was
    /// received again elsewhere; that delivery settles it).
    fn acknowledge(&self, receipt: &Receipt)
    -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Makes a message visible again after `delay`, for another attempt.
    fn hand_back(
        &self,
        receipt: &Receipt,
        delay: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Visible, in-flight and dead-lettered messages.
    fn counts(&self) -> impl Future<Output = Result<QueueCounts, QueueError>> + Send;

    /// Up to `max` dead-lettered messages, oldest first where the queue knows the order,
    /// without consuming them: they stay in the dead-letter queue.
    fn dead_letters(
        &self,
        max: usize,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, QueueError>> + Send;

    /// Moves up to `max` (all when `None`) dead-lettered messages back to the queue, each
    /// with a new message id; returns once they are moved.
    fn redrive(
        &self,
        max: Option<u64>,
    ) -> impl Future<Output = Result<Redriven, QueueError>> + Send;
}

// ---------------------------------------------------------------- ledger

/// Where an event stands in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventState {
    InProgress,
    Completed,
    Failed,
}

impl std::fmt::Display for EventState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EventState::InProgress => "in progress",
            EventState::Completed => "completed",
            EventState::Failed => "failed",
        })
    }
}

/// The ledger's record of one event (by Okta event uuid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    pub uuid: String,
    pub state: EventState,
    /// While `InProgress`: until when the claim holds.
    pub lease_until: UnixMillis,
    /// When the record stops counting (TTL): after it, the uuid may be claimed afresh.
    pub expires_at: UnixMillis,
    /// How many times the event has been claimed.
    pub attempts: u32,
    /// What processing ended in (`Completed`: never `Failed`; `Failed`: always
    /// [`Outcome::Failed`]). `None` while in progress.
    pub outcome: Option<Outcome>,
    /// What the event is about, as its last claim gave it. `None` for a record written
    /// before the ledger kept it, or one failed without a claim.
    pub about: Option<EventAbout>,
    /// When the record last changed (claimed, completed or failed). `None` for a record
    /// written before the ledger kept it: such a record is never listed by
    /// [`Ledger::events`].
    pub updated_at: Option<UnixMillis>,
}

/// What an event is about, stored with its claim so that operators can list events by
/// time and by user ([`Ledger::events`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAbout {
    /// Okta's `eventType`, or [`RECONCILE_REQUEST_TYPE`](crate::queue::RECONCILE_REQUEST_TYPE)
    /// for a reconcile run's request.
    pub event_type: String,
    /// The Okta user the event is about, when it names one.
    pub okta_user_id: Option<String>,
    /// That user's login as the event gave it (`alternateId`).
    pub login: Option<String>,
    /// When Okta published the event (a reconcile request: when its run read Okta).
    pub published: Option<UnixMillis>,
}

/// Which event records [`Ledger::events`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Records updated at or after this instant.
    pub since: UnixMillis,
    /// Only records about this Okta user: equal to its Okta id, or to its login compared
    /// case-insensitively.
    pub okta_user: Option<String>,
    /// Only records whose state is [`EventState::Failed`].
    pub failed_only: bool,
    /// At most this many, the most recently updated first.
    pub limit: usize,
}

impl EventQuery {
    /// Every record updated since `since`, up to `limit`.
    pub fn since(since: UnixMillis, limit: usize) -> Self {
        Self {
            since,
            okta_user: None,
            failed_only: false,
            limit,
        }
    }

    /// Whether `record` is one this query asks for (`since` and `limit` aside): the
    /// filter every adapter applies, so they cannot disagree.
    pub fn matches(&self, record: &EventRecord) -> bool {
        if self.failed_only && record.state != EventState::Failed {
            return false;
        }
        match &self.okta_user {
            None => true,
            Some(wanted) => record.about.as_ref().is_some_and(|about| {
                about.okta_user_id.as_deref() == Some(wanted.as_str())
                    || about
                        .login
                        .as_deref()
                        .is_some_and(|login| login.eq_ignore_ascii_case(wanted))
            }),
        }
    }
}

/// How a reconcile run applied its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// Planned only: nothing written to Connect.
    DryRun,
    /// Converged each changing user itself (the command line).
    InProcess,
    /// Queued one request per changing user for the worker (the deployed, scheduled run).
    Queued,
}

impl std::fmt::Display for RunMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RunMode::DryRun => "dry run",
            RunMode::InProcess => "applied in process",
            RunMode::Queued => "queued for the worker",
        })
    }
}

/// What one reconcile run did, kept in the ledger for `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub mode: RunMode,
    pub started_at: UnixMillis,
    pub finished_at: UnixMillis,
    /// Users planned (in Okta's mapped sources, or owned in Connect).
    pub users: usize,
    /// Users whose Connect user changes (or would, in a dry run).
    pub changes: usize,
    pub revocations: usize,
    pub conflicts: usize,
    /// Requests queued for the worker (a queued run).
    pub queued: usize,
    /// Set when the run stopped before applying anything: more revocations than this cap.
    pub stopped_at_cap: Option<usize>,
    /// Why the run failed, when it did (then the counts are what it reached).
    pub error: Option<String>,
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one answer per claim, moved once and never stored in bulk: boxing buys nothing"
)]
pub enum Claim {
    /// The caller holds the event until the lease ends; `attempt` counts from 1.
    Claimed { attempt: u32 },
    /// Processed before: a duplicate delivery. Skip it.
    Completed(EventRecord),
    /// Another worker holds a live lease. Retry after it ends.
    Busy { lease_until: UnixMillis },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger unavailable: {0}")]
    Transient(String),
    #[error("ledger refused the request: {0}")]
    Permanent(String),
}

impl LedgerError {
    pub fn class(&self) -> ErrorClass {
        match self {
            LedgerError::Transient(_) => ErrorClass::Transient,
            LedgerError::Permanent(_) => ErrorClass::Permanent,
        }
    }
}

/// Facts and bookkeeping for one Okta user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    pub facts: UserFacts,
    /// The Connect user id last created or found for this Okta user.
    pub connect_user_id: Option<String>,
}

/// The durable memory of the pipeline (DynamoDB in AWS; SQLite locally).
pub trait Ledger: Send + Sync {
    /// Claims event `uuid` for processing until `now + lease`. Succeeds when the event is
    /// unknown, its record expired, it `Failed` before (so a redrive runs), or it is
    /// `InProgress` with a lease that ended. One atomic conditional write: two callers
    /// can never both be `Claimed`. `about` is stored with the record.
    fn claim_event(
        &self,
        uuid: &str,
        about: &EventAbout,
        now: UnixMillis,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, LedgerError>> + Send;

    /// Marks a claimed event `Completed` with its outcome; it then counts as a duplicate
    /// until `now + retention`.
    fn complete_event(
        &self,
        uuid: &str,
        outcome: &Outcome,
        now: UnixMillis,
        retention: Duration,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Marks a claimed event `Failed` (stored as [`Outcome::Failed`]); it may be claimed
    /// again.
    fn fail_event(
        &self,
        uuid: &str,
        failure: &Failure,
        now: UnixMillis,
        retention: Duration,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Ends a claim early after a transient failure, so the redelivery can claim it at
    /// once instead of waiting out the lease.
    fn release_event(&self, uuid: &str) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// The event's record, if any (expired records are reported as they are stored).
    fn event_record(
        &self,
        uuid: &str,
    ) -> impl Future<Output = Result<Option<EventRecord>, LedgerError>> + Send;

    /// Event records updated since `query.since` that `query` [matches](EventQuery::matches),
    /// the most recently updated first, at most `query.limit`; records without
    /// `updated_at` are never listed. Expired records not yet deleted may be listed.
    fn events(
        &self,
        query: &EventQuery,
    ) -> impl Future<Output = Result<Vec<EventRecord>, LedgerError>> + Send;

    /// Keeps a reconcile run's record until `run.finished_at + retention`; a record with
    /// the same `run_id` and `started_at` is replaced.
    fn record_run(
        &self,
        run: &RunRecord,
        retention: Duration,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// The `limit` most recently started reconcile runs, newest first.
    fn recent_runs(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RunRecord>, LedgerError>> + Send;

    /// Stores `fact` if it is newer (by [`Fact::supersedes`]) than the one in its slot;
    /// atomic, so concurrent writers end with the newest.
    fn record_fact(
        &self,
        fact: &Fact,
    ) -> impl Future<Output = Result<Recorded, LedgerError>> + Send;

    /// Everything known about one Okta user (empty if nothing).
    fn user_record(
        &self,
        okta_user_id: &str,
    ) -> impl Future<Output = Result<UserRecord, LedgerError>> + Send;

    /// Remembers (or forgets, with `None`) the Connect user id of an Okta user.
    fn remember_connect_user(
        &self,
        okta_user_id: &str,
        connect_user_id: Option<&str>,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Forgets an Okta user deleted in Okta: every fact of `tombstone.okta_user_id` and
    /// its remembered Connect user go, and `tombstone` (a fact without personal data:
    /// its subject empty) stays, so an older event arriving late cannot bring the user
    /// back. Called once the user's Connect user is revoked. Event records (uuid and
    /// outcome) are untouched: they expire with the ledger's retention.
    fn forget_user(&self, tombstone: &Fact)
    -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Takes the per-user converge lease for `holder` until `now + lease`. `true` if
    /// taken (free, expired, or already `holder`'s); `false` if someone else holds it.
    fn lease_user(
        &self,
        okta_user_id: &str,
        holder: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, LedgerError>> + Send;

    /// Gives the user lease back if `holder` still has it; otherwise does nothing.
    fn release_user(
        &self,
        okta_user_id: &str,
        holder: &str,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Every remembered binding of a configured group/app name to its Okta id.
    fn source_bindings(
        &self,
    ) -> impl Future<Output = Result<Vec<SourceBinding>, LedgerError>> + Send;

    /// Keeps `binding` for its (kind, name), compared case-insensitively: always when it
    /// is [`BoundBy::Api`](crate::config::BoundBy::Api), only if no binding is held when
    /// it is [`BoundBy::Event`](crate::config::BoundBy::Event). Returns the binding held
    /// afterwards (the given one, or the earlier one it did not replace).
    fn bind_source(
        &self,
        binding: &SourceBinding,
    ) -> impl Future<Output = Result<SourceBinding, LedgerError>> + Send;
}

// ---------------------------------------------------------------- user directory

/// What Connect said, sorted by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// The username exists already (CreateUser's 409). Look the user up and carry on.
    #[error("user already exists: {0}")]
    Duplicate(String),
    /// The user (or instance) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Connect rejected the request: unknown profile id, bad username, … Permanent.
    #[error("rejected by Connect: {0}")]
    Invalid(String),
    /// A quota such as users per instance. Permanent until an admin raises it.
    #[error("Connect quota exceeded: {0}")]
    LimitExceeded(String),
    /// Not allowed (IAM). Permanent until an admin fixes permissions.
    #[error("access denied: {0}")]
    Denied(String),
    /// Request rate too high. Transient: back off and retry.
    #[error("throttled by Connect: {0}")]
    Throttled(String),
    /// 5xx, timeout, network. Transient.
    #[error("Connect unavailable: {0}")]
    Unavailable(String),
}

impl DirectoryError {
    pub fn class(&self) -> ErrorClass {
        match self {
            DirectoryError::Throttled(_) | DirectoryError::Unavailable(_) => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }
}

/// A created Connect user's identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedUser {
    pub id: String,
    pub arn: Option<String>,
}

/// The users of one Amazon Connect instance (the instance is the adapter's setting).
pub trait UserDirectory: Send + Sync {
    /// The user with exactly this username (Connect compares case-insensitively), or
    /// `None`.
    fn find_by_username(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<ConnectUser>, DirectoryError>> + Send;

    /// The user with this id, or `None`.
    fn describe(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Option<ConnectUser>, DirectoryError>> + Send;

    /// Creates the user (SAML: no password) tagged with `tags`. `Duplicate` if the
    /// username is taken.
    fn create(
        &self,
        user: &DesiredUser,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<CreatedUser, DirectoryError>> + Send;

    /// Applies one change to an existing user. `NotFound` if the user is gone; `Invalid`
    /// if Connect rejects a value (an unknown profile id).
    fn update(
        &self,
        user_id: &str,
        change: &Change,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Deletes the user. `NotFound` if it is already gone (callers treat that as done).
    fn delete(&self, user_id: &str) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Every user matching `filter`, all pages (Connect's `SearchUsers`, 500 per page),
    /// each with its profiles, hierarchy group, names and tags — but no email (search
    /// summaries carry none: `identity.email` is `None`).
    fn search(
        &self,
        filter: &UserFilter,
    ) -> impl Future<Output = Result<Vec<ConnectUser>, DirectoryError>> + Send;
}

// ---------------------------------------------------------------- identity source

/// Why a call to Okta's management API failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Okta's rate limit: retry after `retry_at` (Okta's `X-Rate-Limit-Reset`).
    #[error("Okta rate limit reached; retry at {retry_at}")]
    RateLimited { retry_at: UnixMillis },
    /// 5xx, a timeout or the network: retrying can help.
    #[error("Okta unavailable: {0}")]
    Unavailable(String),
    /// 401/403: bad credentials, a missing scope or admin role. Permanent until an admin
    /// fixes it; the message says which.
    #[error("Okta refused the request: {0}")]
    Denied(String),
    /// The group or app does not exist in Okta.
    #[error("not found in Okta: {0}")]
    NotFound(String),
    /// Okta rejected the request itself (400): a bug or a bad configured value.
    #[error("Okta rejected the request: {0}")]
    Invalid(String),
}

impl IdentityError {
    pub fn class(&self) -> ErrorClass {
        match self {
            IdentityError::RateLimited { .. } | IdentityError::Unavailable(_) => {
                ErrorClass::Transient
            }
            IdentityError::Denied(_) | IdentityError::NotFound(_) | IdentityError::Invalid(_) => {
                ErrorClass::Permanent
            }
        }
    }
}

/// Okta's management API: users' real names and status, group and app members, names
/// resolved to ids, and the System Log. Every call is bounded by a timeout and paced by
/// Okta's rate-limit headers inside the adapter; a failed read is an error, never an
/// empty answer (an empty member list must mean "no members").
pub trait IdentitySource: Send + Sync {
    /// The user, or `None` if Okta has no user with this id (deleted).
    fn user(
        &self,
        okta_user_id: &str,
    ) -> impl Future<Output = Result<Option<OktaUser>, IdentityError>> + Send;

    /// Every current member of the group, or every user assigned to the app (directly or
    /// through a group), all pages. `NotFound` if the group or app does not exist.
    fn members(
        &self,
        source: &SourceId,
    ) -> impl Future<Output = Result<Vec<OktaUser>, IdentityError>> + Send;

    /// The group with exactly this name (case-insensitive), if any.
    fn find_group(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<OktaGroup>, IdentityError>> + Send;

    /// The app instance with exactly this label (case-insensitive), if any.
    fn find_app(
        &self,
        label: &str,
    ) -> impl Future<Output = Result<Option<OktaApp>, IdentityError>> + Send;

    /// Every System Log event matching `query`, all pages, ordered by `published`.
    fn system_log(
        &self,
        query: &LogQuery,
    ) -> impl Future<Output = Result<Vec<LogEvent>, IdentityError>> + Send;
}
