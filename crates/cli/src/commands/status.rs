//! `okta-connect status`: the pipeline's health at a glance — the queue, the last 24
//! hours' outcomes, the failures by reason, the last reconcile run.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use okta_connect_aws::cloudwatch::{self, MetricsError};
use okta_connect_core::outcome::{Effect, Outcome};
use okta_connect_core::ports::{
    EventQuery, EventRecord, EventState, Ledger, QueueConsumer, RunRecord,
};
use okta_connect_core::queue::QueueCounts;
use okta_connect_core::time::UnixMillis;
use serde::Serialize;

use crate::backends::AnyQueue;
use crate::commands::dlq::Letter;
use crate::commands::target::Target;
use crate::output::{self, Report, Table};

/// How far back outcomes are counted.
pub const WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Event records read for the window: past it, counts say "at least".
const EVENTS_CAP: usize = 10_000;
/// Dead letters read to group their reasons.
const DEAD_LETTERS_CAP: usize = 1_000;

/// Show the queue (waiting, in flight, dead-lettered, oldest message), events by outcome
/// over the last 24 hours, failures grouped by reason, and the last reconcile run.
/// Exits 1 when something needs an operator: dead letters, or a last reconcile that
/// failed or stopped at its cap.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,
}

/// What one recorded event ended in, as `status` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tally {
    Created,
    Updated,
    Revoked,
    Unchanged,
    NotRelevant,
    Unparseable,
    Failed,
    InProgress,
    /// Completed by an older version that kept no outcome.
    Unrecorded,
}

impl Tally {
    pub fn of(record: &EventRecord) -> Self {
        match (&record.outcome, record.state) {
            (_, EventState::InProgress) => Tally::InProgress,
            (_, EventState::Failed) | (Some(Outcome::Failed(_)), _) => Tally::Failed,
            (Some(Outcome::Converged { converged, .. }), _) => match converged.effect() {
                Effect::Created => Tally::Created,
                Effect::Updated => Tally::Updated,
                Effect::Revoked => Tally::Revoked,
                Effect::Unchanged => Tally::Unchanged,
            },
            (Some(Outcome::NotRelevant { .. } | Outcome::Duplicate), _) => Tally::NotRelevant,
            (Some(Outcome::Unparseable { .. }), _) => Tally::Unparseable,
            (None, _) => Tally::Unrecorded,
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tally::Created => "created",
            Tally::Updated => "updated",
            Tally::Revoked => "revoked",
            Tally::Unchanged => "unchanged",
            Tally::NotRelevant => "not relevant",
            Tally::Unparseable => "unparseable",
            Tally::Failed => "failed",
            Tally::InProgress => "in progress",
            Tally::Unrecorded => "completed (outcome not recorded)",
        })
    }
}

/// Where the oldest message's age comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OldestSource {
    /// The local SQLite queue, which keeps each message's send time.
    Queue,
    /// SQS, which tells it only as the CloudWatch metric `AWS/SQS`
    /// `ApproximateAgeOfOldestMessage`, published once a minute.
    Cloudwatch,
}

/// The oldest queued message as far as it could be read: [`QueueStatus`]'s `oldest_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oldest {
    /// `oldest_sent_at`.
    pub sent_at: Option<UnixMillis>,
    /// `oldest_known`.
    pub known: bool,
    /// `oldest_source`.
    pub source: OldestSource,
    /// `oldest_as_of`.
    pub as_of: Option<UnixMillis>,
    /// `oldest_unknown_reason`.
    pub unknown_reason: Option<String>,
    /// `oldest_error`.
    pub error: Option<String>,
}

impl Oldest {
    /// The local queue's own answer.
    fn local(sent_at: Option<UnixMillis>) -> Self {
        Self {
            sent_at,
            known: true,
            source: OldestSource::Queue,
            as_of: None,
            unknown_reason: None,
            error: None,
        }
    }

    /// SQS's age of oldest message, unknown for `reason` (and `error`, if a read failed).
    fn cloudwatch_unknown(reason: impl Into<String>, error: Option<String>) -> Self {
        Self {
            sent_at: None,
            known: false,
            source: OldestSource::Cloudwatch,
            as_of: None,
            unknown_reason: Some(reason.into()),
            error,
        }
    }

    /// What one CloudWatch read of the age told. Never an error: the rest of the status
    /// is worth showing without it.
    pub fn from_cloudwatch(read: Result<Option<cloudwatch::QueueAge>, MetricsError>) -> Self {
        match read {
            Ok(Some(age)) => Self {
                // SQS reports 0 for a queue with nothing in it.
                sent_at: (!age.age.is_zero()).then(|| age.sent_at()),
                known: true,
                source: OldestSource::Cloudwatch,
                as_of: Some(age.at),
                unknown_reason: None,
                error: None,
            },
            Ok(None) => Self::cloudwatch_unknown(
                format!(
                    "no CloudWatch datapoint in the last {} min",
                    cloudwatch::WINDOW.as_secs() / 60
                ),
                None,
            ),
            Err(err) => {
                let reason = match &err {
                    MetricsError::Denied { operation, .. } => {
                        format!("cloudwatch:{operation} denied")
                    }
                    MetricsError::Unavailable { .. } => "CloudWatch unavailable".to_string(),
                    MetricsError::Failed { .. } => "CloudWatch read failed".to_string(),
                };
                Self::cloudwatch_unknown(reason, Some(err.to_string()))
            }
        }
    }
}

/// The queue's part of the status.
#[derive(Debug, Serialize)]
pub struct QueueStatus {
    pub queue: String,
    #[serde(flatten)]
    pub counts: QueueCounts,
    /// When the oldest message still queued was sent; `None` when empty or unknown.
    pub oldest_sent_at: Option<UnixMillis>,
    /// Whether `oldest_sent_at` could be read at all.
    pub oldest_known: bool,
    /// Where it was read: the local queue itself, or on SQS CloudWatch.
    pub oldest_source: OldestSource,
    /// From CloudWatch: the start of the minute of the datapoint read.
    pub oldest_as_of: Option<UnixMillis>,
    /// Why it is unknown, in a few words (`cloudwatch:GetMetricData denied` …).
    pub oldest_unknown_reason: Option<String>,
    /// The failed read's whole error, when one failed.
    pub oldest_error: Option<String>,
    /// When the oldest dead letter was put in the dead-letter queue.
    pub oldest_dead_letter_at: Option<UnixMillis>,
}

impl QueueStatus {
    /// The queue's counts with `oldest` and `oldest_dead_letter_at`.
    pub fn new(
        queue: String,
        counts: QueueCounts,
        oldest: Oldest,
        oldest_dead_letter_at: Option<UnixMillis>,
    ) -> Self {
        Self {
            queue,
            counts,
            oldest_sent_at: oldest.sent_at,
            oldest_known: oldest.known,
            oldest_source: oldest.source,
            oldest_as_of: oldest.as_of,
            oldest_unknown_reason: oldest.unknown_reason,
            oldest_error: oldest.error,
            oldest_dead_letter_at,
        }
    }

    /// The table's cell for the oldest message, at `now`.
    fn oldest_cell(&self, now: UnixMillis) -> String {
        let seen = match (self.oldest_source, self.oldest_as_of) {
            (OldestSource::Cloudwatch, Some(at)) => format!("CloudWatch, as of {at}"),
            _ => String::new(),
        };
        match (self.oldest_known, self.oldest_sent_at) {
            (false, _) => format!(
                "unknown ({})",
                self.oldest_unknown_reason.as_deref().unwrap_or("not read")
            ),
            (true, None) if seen.is_empty() => "(empty)".into(),
            (true, None) => format!("(empty; {seen})"),
            (true, Some(at)) if seen.is_empty() => format!("{} old (sent {at})", age(now, at)),
            (true, Some(at)) => format!("{} old (sent {at}; {seen})", age(now, at)),
        }
    }
}

/// One failure reason, with how often it occurred.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FailureGroup {
    pub reason: String,
    /// Events that failed for it in the window (the ledger).
    pub failed_events: usize,
    /// Messages in the dead-letter queue for it now.
    pub dead_letters: usize,
}

/// The whole status.
#[derive(Debug, Serialize)]
pub struct Status {
    pub now: UnixMillis,
    pub window_hours: u64,
    /// `None` when no queue was named (only a deployed ledger).
    pub queue: Option<QueueStatus>,
    /// Events by outcome, updated in the window; `None` when no ledger was named.
    pub outcomes: Option<BTreeMap<Tally, usize>>,
    /// More records were in the window than were read: counts are lower bounds.
    pub outcomes_capped: bool,
    pub failures: Vec<FailureGroup>,
    /// The most recent reconcile run, if the ledger keeps one.
    pub last_reconcile: Option<RunRecord>,
}

impl Status {
    /// Whether an operator should look: dead letters, or a last run that failed or
    /// stopped at its cap.
    pub fn needs_attention(&self) -> bool {
        self.queue
            .as_ref()
            .is_some_and(|q| q.counts.dead_lettered > 0)
            || self
                .last_reconcile
                .as_ref()
                .is_some_and(|r| r.error.is_some() || r.stopped_at_cap.is_some())
    }
}

fn age(now: UnixMillis, then: UnixMillis) -> String {
    let secs = then.until(now).as_secs();
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}

/// Groups failures by reason: the window's failed events and the dead letters now,
/// the most frequent first (ties by reason, so the order is stable).
pub fn group_failures(failed: &[EventRecord], letters: &[Letter]) -> Vec<FailureGroup> {
    fn entry<'a>(
        groups: &'a mut BTreeMap<String, FailureGroup>,
        reason: &str,
    ) -> &'a mut FailureGroup {
        groups
            .entry(reason.to_string())
            .or_insert_with(|| FailureGroup {
                reason: reason.to_string(),
                failed_events: 0,
                dead_letters: 0,
            })
    }
    let mut groups: BTreeMap<String, FailureGroup> = BTreeMap::new();
    for record in failed {
        if let Some(Outcome::Failed(failure)) = &record.outcome {
            entry(&mut groups, &failure.reason).failed_events += 1;
        }
    }
    for letter in letters {
        entry(&mut groups, &letter.reason).dead_letters += 1;
    }
    let mut merged: Vec<FailureGroup> = groups.into_values().collect();
    merged.sort_by(|a, b| {
        (b.failed_events + b.dead_letters)
            .cmp(&(a.failed_events + a.dead_letters))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    merged
}

impl Report for Status {
    fn headline(&self) -> Vec<String> {
        let mut lines = vec![format!("Status at {}", self.now)];
        if self.needs_attention() {
            lines.push("Needs attention: see the failures and the last reconcile below.".into());
        } else {
            lines.push(
                "Healthy: nothing dead-lettered, the last reconcile (if any) finished.".into(),
            );
        }
        lines
    }

    fn tables(&self) -> Vec<Table> {
        let mut tables = Vec::new();
        if let Some(queue) = &self.queue {
            let mut t = Table::new(format!("Queue ({})", queue.queue), &["", "value"]);
            t.row(["waiting".to_string(), queue.counts.visible.to_string()]);
            t.row(["in flight".to_string(), queue.counts.in_flight.to_string()]);
            t.row([
                "dead-lettered".to_string(),
                queue.counts.dead_lettered.to_string(),
            ]);
            t.row(["oldest message".to_string(), queue.oldest_cell(self.now)]);
            if let Some(at) = queue.oldest_dead_letter_at {
                t.row([
                    "oldest dead letter".to_string(),
                    format!("{} old ({at})", age(self.now, at)),
                ]);
            }
            tables.push(t);
        }
        if let Some(outcomes) = &self.outcomes {
            let mut t = Table::new(
                format!("Events in the last {} h, by outcome", self.window_hours),
                &["outcome", "events"],
            )
            .when_empty("(none recorded)");
            for (tally, n) in outcomes {
                let n = if self.outcomes_capped {
                    format!("≥ {n}")
                } else {
                    n.to_string()
                };
                t.row([tally.to_string(), n]);
            }
            tables.push(t);
        }
        let mut t = Table::new(
            "Failures by reason",
            &["reason", "failed events (window)", "in the DLQ now"],
        )
        .when_empty("(none)");
        for group in &self.failures {
            t.row([
                group.reason.clone(),
                group.failed_events.to_string(),
                group.dead_letters.to_string(),
            ]);
        }
        tables.push(t);
        if self.outcomes.is_some() {
            let mut t = Table::new("Last reconcile", &["", "value"]).when_empty("(none recorded)");
            if let Some(run) = &self.last_reconcile {
                t.row(["run".to_string(), run.run_id.clone()]);
                t.row(["mode".to_string(), run.mode.to_string()]);
                t.row([
                    "started".to_string(),
                    format!("{} ({} ago)", run.started_at, age(self.now, run.started_at)),
                ]);
                t.row([
                    "took".to_string(),
                    format!("{} s", run.started_at.until(run.finished_at).as_secs()),
                ]);
                t.row([
                    "result".to_string(),
                    match (&run.error, run.stopped_at_cap) {
                        (Some(error), _) => format!("failed: {error}"),
                        (None, Some(cap)) => format!(
                            "stopped: {} revocations planned, above the cap of {cap}; nothing applied",
                            run.revocations
                        ),
                        (None, None) => format!(
                            "{} users, {} changing ({} revocations, {} queued), {} conflicts",
                            run.users, run.changes, run.revocations, run.queued, run.conflicts
                        ),
                    },
                ]);
            }
            tables.push(t);
        }
        tables
    }

    fn footer(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.queue.is_none() {
            lines.push(
                "Queues not read: name them with --queue-url and --dlq-url, or --stack.".into(),
            );
        }
        if let Some(error) = self.queue.as_ref().and_then(|q| q.oldest_error.as_ref()) {
            lines.push(format!("Oldest message not read: {error}."));
        }
        if self.outcomes.is_none() {
            lines.push("Ledger not read: name it with --ledger-table, or --stack.".into());
        }
        if !self.failures.is_empty() {
            lines.push(
                "`okta-connect events --failed` lists them; fix the cause, then `okta-connect redrive`."
                    .into(),
            );
        }
        lines
    }
}

/// The SQS queue at `queue_url`'s oldest message, from CloudWatch at `now`.
async fn sqs_oldest(target: &Target, queue_url: &str, now: UnixMillis) -> Oldest {
    let Some(name) = cloudwatch::queue_name_of(queue_url) else {
        return Oldest::cloudwatch_unknown("the queue URL names no queue", None);
    };
    match target.queue_metrics().await {
        Ok(metrics) => Oldest::from_cloudwatch(metrics.oldest_message_age(name, now).await),
        // The queues were just read with the same settings, so this is unlikely; still
        // no reason to hide the rest of the status.
        Err(err) => Oldest::cloudwatch_unknown("CloudWatch not reached", Some(format!("{err:#}"))),
    }
}

/// Reads everything the status shows, at `now`.
pub async fn read(target: &Target, now: UnixMillis) -> anyhow::Result<Status> {
    let queue = target.queue().await?;
    let ledger = target.ledger().await?;
    if queue.is_none() && ledger.is_none() {
        anyhow::bail!("nothing to read: name --ledger-table and/or --queue-url with --dlq-url");
    }
    let mut letters = Vec::new();
    let queue_status = match &queue {
        None => None,
        Some(queue) => {
            let counts = queue.counts().await?;
            let dead = if counts.dead_lettered > 0 {
                queue.dead_letters(DEAD_LETTERS_CAP).await?
            } else {
                Vec::new()
            };
            // When each was dead-lettered: the reason's stamp, else (moved by SQS's
            // redrive policy) when it entered the dead-letter queue.
            let oldest_dead_letter_at = dead
                .iter()
                .filter_map(|d| d.reason().map(|r| r.failed_at).or(d.sent_at))
                .min();
            letters = dead.iter().map(Letter::of).collect();
            let oldest = match queue {
                AnyQueue::Local(local) => Oldest::local(local.source().oldest_sent_at()?),
                AnyQueue::Sqs { producer, .. } => {
                    sqs_oldest(target, producer.queue_url(), now).await
                }
            };
            Some(QueueStatus::new(
                target.queue_name(),
                counts,
                oldest,
                oldest_dead_letter_at,
            ))
        }
    };
    let (outcomes, capped, failed, last_reconcile) = match &ledger {
        None => (None, false, Vec::new(), None),
        Some(ledger) => {
            let records = ledger
                .events(&EventQuery::since(now.minus(WINDOW), EVENTS_CAP))
                .await?;
            let mut outcomes: BTreeMap<Tally, usize> = BTreeMap::new();
            for record in &records {
                *outcomes.entry(Tally::of(record)).or_default() += 1;
            }
            let capped = records.len() >= EVENTS_CAP;
            let failed: Vec<EventRecord> = records
                .into_iter()
                .filter(|r| r.state == EventState::Failed)
                .collect();
            let last = ledger.recent_runs(1).await?.into_iter().next();
            (Some(outcomes), capped, failed, last)
        }
    };
    Ok(Status {
        now,
        window_hours: WINDOW.as_secs() / 3600,
        queue: queue_status,
        outcomes,
        outcomes_capped: capped,
        failures: group_failures(&failed, &letters),
        last_reconcile,
    })
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let status = read(&args.target, UnixMillis::now()).await?;
    output::print(&status, json)?;
    Ok(if status.needs_attention() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use okta_connect_aws::cloudwatch::{QueueAge, READ};

    const NOW: UnixMillis = UnixMillis(1_790_000_000_000);

    fn queue(oldest: Oldest) -> QueueStatus {
        QueueStatus::new("q".into(), QueueCounts::default(), oldest, None)
    }

    #[test]
    fn a_cloudwatch_datapoint_gives_the_send_time_and_says_so() {
        let at = NOW.minus(Duration::from_secs(120));
        let q = queue(Oldest::from_cloudwatch(Ok(Some(QueueAge {
            age: Duration::from_secs(300),
            at,
        }))));
        assert!(q.oldest_known);
        assert_eq!(q.oldest_sent_at, Some(at.minus(Duration::from_secs(300))));
        assert_eq!(q.oldest_source, OldestSource::Cloudwatch);
        assert_eq!(q.oldest_as_of, Some(at));
        assert_eq!(
            q.oldest_cell(NOW),
            format!(
                "7 min old (sent {}; CloudWatch, as of {at})",
                at.minus(Duration::from_secs(300))
            )
        );
        // Age 0 is SQS's value for an empty queue.
        let empty = queue(Oldest::from_cloudwatch(Ok(Some(QueueAge {
            age: Duration::ZERO,
            at,
        }))));
        assert!(empty.oldest_known && empty.oldest_sent_at.is_none());
        assert_eq!(
            empty.oldest_cell(NOW),
            format!("(empty; CloudWatch, as of {at})")
        );
    }

    #[test]
    fn a_failed_or_empty_read_is_unknown_with_its_reason() {
        let denied = queue(Oldest::from_cloudwatch(Err(MetricsError::Denied {
            operation: READ,
            queue: "q".into(),
            region: "eu-west-1".into(),
            detail: "AccessDenied: no (HTTP 403)".into(),
        })));
        assert!(!denied.oldest_known && denied.oldest_sent_at.is_none());
        assert_eq!(
            denied.oldest_cell(NOW),
            "unknown (cloudwatch:GetMetricData denied)"
        );
        let error = denied.oldest_error.as_deref().unwrap();
        assert!(error.contains("AccessDenied: no (HTTP 403)"), "{error}");
        let json = serde_json::to_value(&denied).unwrap();
        assert_eq!(json["oldest_known"], false);
        assert_eq!(json["oldest_source"], "cloudwatch");
        assert_eq!(
            json["oldest_unknown_reason"],
            "cloudwatch:GetMetricData denied"
        );

        let unavailable = queue(Oldest::from_cloudwatch(Err(MetricsError::Unavailable {
            operation: READ,
            queue: "q".into(),
            region: "r".into(),
            detail: "timeout".into(),
        })));
        assert_eq!(
            unavailable.oldest_cell(NOW),
            "unknown (CloudWatch unavailable)"
        );

        let none = queue(Oldest::from_cloudwatch(Ok(None)));
        assert!(!none.oldest_known && none.oldest_error.is_none());
        assert_eq!(
            none.oldest_cell(NOW),
            "unknown (no CloudWatch datapoint in the last 15 min)"
        );
    }

    #[test]
    fn the_local_queue_answers_itself() {
        let sent = NOW.minus(Duration::from_secs(30));
        let q = queue(Oldest::local(Some(sent)));
        assert_eq!(q.oldest_cell(NOW), format!("30 s old (sent {sent})"));
        assert_eq!(q.oldest_source, OldestSource::Queue);
        assert_eq!(queue(Oldest::local(None)).oldest_cell(NOW), "(empty)");
        let json = serde_json::to_value(queue(Oldest::local(None))).unwrap();
        assert_eq!(json["oldest_source"], "queue");
        assert_eq!(json["oldest_known"], true);
    }
}
