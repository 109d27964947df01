//! What the worker counts for the stack's dashboard and alarms: one CloudWatch Embedded
//! Metric Format line on standard output per invocation (no API call, no permission;
//! CloudWatch Logs extracts the metrics from the worker's log group).
//!
//! Namespace `OktaConnect`, dimension `Stack` (from `OKTA_CONNECT_STACK_NAME`, which the
//! stack sets; default `[Deploy] STACK_NAME`). Every line carries every count, zeros
//! included, so a graph or alarm reads 0 rather than "no data" for a quiet outcome:
//!
//! | metric | unit | counts |
//! |---|---|---|
//! | `WorkerCreated` | Count | messages whose converge created a Connect user |
//! | `WorkerUpdated` | Count | ... changed an existing Connect user (no create, no revocation) |
//! | `WorkerRevoked` | Count | ... deleted or parked one (a `Delete` step, or a revocation desired) |
//! | `WorkerUnchanged` | Count | ... found the Connect user already right (no write) |
//! | `WorkerDuplicate` | Count | messages whose event was processed before |
//! | `WorkerNotRelevant` | Count | messages asserting nothing for this pipeline |
//! | `WorkerRetried` | Count | messages handed back to SQS (transient failure) |
//! | `WorkerDeadLettered` | Count | messages the worker sent to the DLQ (permanent failure) |
//! | `ProvisioningLag` | Milliseconds | per converged Okta event: when the batch finished − the event's `published` |
//! | `ConnectThrottles` | Count | Connect calls answered with throttling (429) while processing the messages, retries included ([`Report::connect_throttles`]) |
//!
//! `ProvisioningLag` is written as an array, one value per converged event: EMF publishes
//! each value of a metric's array as its own sample (at most 100 per metric and line), so
//! CloudWatch's `SampleCount`, `Average`, `Maximum` and percentiles all read per event. A
//! per-invocation average or maximum would not: averaging averages weighs a 1-event batch
//! like a 10-event one, and no percentile can be rebuilt from maxima.
//!
//! `ConnectThrottles` sums the invocation's reports, each of which counts every call of
//! its message's converges that Connect throttled, whether a retry inside the invocation
//! then got through or the message was handed back (`WorkerRetried`). The worker paces
//! under the account's quotas, so it should read 0: a sustained count means the pace is
//! above what the account allows (`[Connect] REQUESTS_PER_SECOND`, `[Deploy]
//! MAX_CONCURRENCY` above `BURST`) or another client shares the quota. Which API was
//! refused is in the worker log (one warning per throttled call, field `api`).

use std::collections::HashMap;

use okta_connect_aws::emf::{NAMESPACE, STACK_DIMENSION, Sink};
use okta_connect_core::outcome::{Effect, FactKind, Outcome};
use okta_connect_core::queue::{Delivery, EventAttributes};
use okta_connect_core::time::UnixMillis;
use okta_connect_sync::{Disposition, Report};
use serde_json::{Map, Value, json};

pub const CREATED: &str = "WorkerCreated";
pub const UPDATED: &str = "WorkerUpdated";
pub const REVOKED: &str = "WorkerRevoked";
pub const UNCHANGED: &str = "WorkerUnchanged";
pub const DUPLICATE: &str = "WorkerDuplicate";
pub const NOT_RELEVANT: &str = "WorkerNotRelevant";
pub const RETRIED: &str = "WorkerRetried";
pub const DEAD_LETTERED: &str = "WorkerDeadLettered";
pub const PROVISIONING_LAG: &str = "ProvisioningLag";
pub const CONNECT_THROTTLES: &str = "ConnectThrottles";

/// EMF's limit of values in one metric's array; more are split over further lines.
pub const MAX_VALUES_PER_METRIC: usize = 100;

/// What one message ended in, for counting. Exactly one per report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tally {
    Created,
    Updated,
    Revoked,
    Unchanged,
    Duplicate,
    NotRelevant,
    Retried,
    DeadLettered,
}

impl Tally {
    /// Every tally, in the order the line lists them.
    pub const ALL: [Tally; 8] = [
        Tally::Created,
        Tally::Updated,
        Tally::Revoked,
        Tally::Unchanged,
        Tally::Duplicate,
        Tally::NotRelevant,
        Tally::Retried,
        Tally::DeadLettered,
    ];

    /// The metric this tally counts in.
    pub fn metric(self) -> &'static str {
        match self {
            Tally::Created => CREATED,
            Tally::Updated => UPDATED,
            Tally::Revoked => REVOKED,
            Tally::Unchanged => UNCHANGED,
            Tally::Duplicate => DUPLICATE,
            Tally::NotRelevant => NOT_RELEVANT,
            Tally::Retried => RETRIED,
            Tally::DeadLettered => DEAD_LETTERED,
        }
    }

    /// The tally of one report, from its typed disposition and outcome only.
    ///
    /// What the queue does decides first: a message handed back is `Retried` and one
    /// dead-lettered is `DeadLettered`, whatever its outcome. A message done is counted
    /// by its outcome; a converge by its [`Effect`] (`Converged::effect`).
    pub fn of(report: &Report) -> Self {
        match report.disposition {
            Disposition::Retry => return Tally::Retried,
            Disposition::DeadLettered => return Tally::DeadLettered,
            Disposition::Done => {}
        }
        match &report.outcome {
            Outcome::Converged { converged, .. } => match converged.effect() {
                Effect::Unchanged => Tally::Unchanged,
                Effect::Created => Tally::Created,
                Effect::Revoked => Tally::Revoked,
                Effect::Updated => Tally::Updated,
            },
            Outcome::Duplicate => Tally::Duplicate,
            // A body that is not work for the pipeline, deleted without a trace in the
            // DLQ: nothing for this pipeline, like an event of another group. (Today's
            // engine dead-letters such bodies, which the disposition counts above.)
            Outcome::NotRelevant { .. } | Outcome::Unparseable { .. } => Tally::NotRelevant,
            // The engine answers a failure with Retry or DeadLettered, never Done. Were
            // it to, the message would be gone without success: counted where the
            // dead-letter alarm reads, so an operator looks.
            Outcome::Failed(_) => Tally::DeadLettered,
        }
    }
}

/// The metrics of one invocation: a count per tally, the provisioning lags and the
/// Connect throttles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    counts: HashMap<Tally, usize>,
    /// Milliseconds from each converged Okta event's `published` to `finished`.
    pub lags_ms: Vec<u64>,
    /// Connect calls throttled, over every report (whatever its tally).
    pub connect_throttles: u64,
}

impl Invocation {
    /// Tallies `reports`. `published` maps an SQS message id to its event's `published`
    /// attribute (see [`published_times`]); `finished` is when the batch was done.
    ///
    /// A lag is taken for every report that converged an Okta event (any tally from
    /// `Created` to `Unchanged`), not for a reconcile request: its `published` is when the
    /// run read Okta, so a long run's queue would read as slow provisioning. A
    /// `published` that is missing or not RFC 3339 gives no lag; one after `finished`
    /// (Okta's clock ahead of Lambda's) gives 0, since a negative lag means nothing.
    /// `finished` is the batch's end, not the message's: the lag is overstated by at most
    /// the rest of the batch (under the worker's 60 s timeout).
    pub fn of(
        reports: &[Report],
        published: &HashMap<String, UnixMillis>,
        finished: UnixMillis,
    ) -> Self {
        let mut invocation = Invocation::default();
        for report in reports {
            *invocation.counts.entry(Tally::of(report)).or_default() += 1;
            invocation.connect_throttles += u64::from(report.connect_throttles);
            let converged_event = report.disposition == Disposition::Done
                && matches!(
                    &report.outcome,
                    Outcome::Converged { fact, .. } if *fact != FactKind::Snapshot
                );
            if converged_event && let Some(at) = published.get(&report.message_id) {
                invocation
                    .lags_ms
                    .push(u64::try_from(finished.0.saturating_sub(at.0)).unwrap_or(0));
            }
        }
        invocation
    }

    /// How many messages ended in `tally`.
    pub fn count(&self, tally: Tally) -> usize {
        self.counts.get(&tally).copied().unwrap_or(0)
    }

    /// Messages tallied.
    pub fn messages(&self) -> usize {
        self.counts.values().sum()
    }

    /// The EMF lines, dated `now`: none for an empty invocation; else one with every
    /// count (the Connect throttles too) and up to [`MAX_VALUES_PER_METRIC`] lags, and
    /// one more per further 100 lags (a batch holds at most 10 messages, so in practice
    /// always one line).
    pub fn lines(&self, stack: &str, now: UnixMillis) -> Vec<String> {
        if self.messages() == 0 {
            return Vec::new();
        }
        let mut lines = Vec::new();
        let mut chunks = self.lags_ms.chunks(MAX_VALUES_PER_METRIC);
        let mut metrics: Vec<(&str, &str, Value)> = Tally::ALL
            .iter()
            .map(|t| (t.metric(), "Count", json!(self.count(*t))))
            .collect();
        metrics.push((CONNECT_THROTTLES, "Count", json!(self.connect_throttles)));
        if let Some(first) = chunks.next() {
            metrics.push((PROVISIONING_LAG, "Milliseconds", json!(first)));
        }
        lines.push(emf_line(stack, now, metrics));
        for more in chunks {
            lines.push(emf_line(
                stack,
                now,
                vec![(PROVISIONING_LAG, "Milliseconds", json!(more))],
            ));
        }
        lines
    }
}

/// One EMF object as one line: the `_aws` directive (namespace, the `Stack` dimension
/// set, each metric's name and unit) and each metric and the dimension as root members,
/// as the specification requires. `okta_connect_aws::emf::Metrics` writes counts only;
/// the lag needs a unit and an array of values.
fn emf_line(stack: &str, now: UnixMillis, metrics: Vec<(&str, &str, Value)>) -> String {
    let mut root = Map::new();
    let mut definitions = Vec::with_capacity(metrics.len());
    for (name, unit, value) in metrics {
        definitions.push(json!({"Name": name, "Unit": unit}));
        root.insert(name.to_string(), value);
    }
    root.insert(STACK_DIMENSION.to_string(), json!(stack));
    root.insert(
        "_aws".to_string(),
        json!({
            "Timestamp": now.0,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[STACK_DIMENSION]],
                "Metrics": definitions,
            }],
        }),
    );
    Value::Object(root).to_string()
}

/// Each delivery's event `published` (the attribute ingest sets from the event), by SQS
/// message id; deliveries without a readable one are left out.
pub fn published_times(deliveries: &[Delivery]) -> HashMap<String, UnixMillis> {
    deliveries
        .iter()
        .filter_map(|d| {
            let published = EventAttributes::read(&d.attributes).published;
            UnixMillis::parse_rfc3339(&published).map(|at| (d.message_id.clone(), at))
        })
        .collect()
}

/// Where metric lines go, and the stack they are about.
#[derive(Clone, Debug)]
pub struct MetricsSink(Sink);

impl MetricsSink {
    /// Lines to standard output (see [`Sink::stdout`]).
    pub fn stdout(stack: impl Into<String>) -> Self {
        Self(Sink::stdout(stack))
    }

    pub fn new(stack: impl Into<String>, write: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self(Sink::new(stack, write))
    }

    pub fn stack(&self) -> &str {
        self.0.stack()
    }

    /// Writes the lines of one invocation (see [`Invocation::lines`]).
    pub fn record(&self, invocation: &Invocation, now: UnixMillis) {
        for line in invocation.lines(self.0.stack(), now) {
            self.0.write(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use okta_connect_core::desired::RevokedBecause;
    use okta_connect_core::outcome::{Converged, DesiredState, Failure, StepKind};
    use okta_connect_core::ports::ErrorClass;
    use okta_connect_core::queue::{Attributes, Receipt, attribute};
    use okta_connect_core::rules::NotRelevant;

    use super::*;

    const NOW: UnixMillis = UnixMillis(1_790_000_060_000);

    fn report(id: &str, disposition: Disposition, outcome: Outcome) -> Report {
        Report {
            message_id: id.into(),
            event_uuid: Some(format!("uuid-{id}")),
            okta_user_id: Some("00u1".into()),
            disposition,
            outcome,
            duration_ms: 5,
            connect_throttles: 0,
        }
    }

    fn throttled(mut report: Report, connect_throttles: u32) -> Report {
        report.connect_throttles = connect_throttles;
        report
    }

    fn converged(fact: FactKind, desired: DesiredState, steps: &[StepKind]) -> Outcome {
        Outcome::Converged {
            fact,
            converged: Converged {
                desired,
                steps: steps.to_vec(),
                connect_user_id: Some("c-1".into()),
            },
        }
    }

    fn present() -> DesiredState {
        DesiredState::Present {
            mapping: "default".into(),
        }
    }

    fn revoked(because: RevokedBecause) -> DesiredState {
        DesiredState::Revoked { because }
    }

    fn failed(class: ErrorClass) -> Outcome {
        Outcome::Failed(Failure {
            class,
            reason: "x".into(),
        })
    }

    fn done(id: &str, outcome: Outcome) -> Report {
        report(id, Disposition::Done, outcome)
    }

    /// One report of every kind, with what each must count as.
    fn every_kind() -> Vec<(Report, Tally)> {
        use FactKind::*;
        use StepKind::*;
        vec![
            (
                done("create", converged(Membership, present(), &[Create])),
                Tally::Created,
            ),
            (
                done(
                    "replace-login",
                    converged(Status, present(), &[Delete, Create]),
                ),
                Tally::Created,
            ),
            (
                done(
                    "update",
                    converged(Membership, present(), &[UpdateSecurityProfiles, UpdateTags]),
                ),
                Tally::Updated,
            ),
            (
                done(
                    "delete",
                    converged(Status, revoked(RevokedBecause::Deactivated), &[Delete]),
                ),
                Tally::Revoked,
            ),
            (
                done(
                    "park",
                    converged(
                        Status,
                        revoked(RevokedBecause::Suspended),
                        &[UpdateSecurityProfiles],
                    ),
                ),
                Tally::Revoked,
            ),
            (
                done(
                    "already-revoked",
                    converged(Membership, revoked(RevokedBecause::NoMapping), &[]),
                ),
                Tally::Unchanged,
            ),
            (
                done("in-step", converged(Profile, present(), &[])),
                Tally::Unchanged,
            ),
            (
                done("reconcile", converged(Snapshot, present(), &[Create])),
                Tally::Created,
            ),
            (done("dup", Outcome::Duplicate), Tally::Duplicate),
            (
                done(
                    "other-group",
                    Outcome::NotRelevant {
                        reason: NotRelevant::OtherGroup("Finance".into()),
                    },
                ),
                Tally::NotRelevant,
            ),
            (
                done(
                    "garbage",
                    Outcome::Unparseable {
                        reason: "not json".into(),
                    },
                ),
                Tally::NotRelevant,
            ),
            (
                report(
                    "throttled",
                    Disposition::Retry,
                    failed(ErrorClass::Transient),
                ),
                Tally::Retried,
            ),
            (
                report(
                    "bad-profile",
                    Disposition::DeadLettered,
                    failed(ErrorClass::Permanent),
                ),
                Tally::DeadLettered,
            ),
            (
                // A permanent failure whose DLQ send failed is handed back: retried.
                report(
                    "dlq-down",
                    Disposition::Retry,
                    failed(ErrorClass::Permanent),
                ),
                Tally::Retried,
            ),
        ]
    }

    #[test]
    fn each_report_counts_by_its_typed_outcome_and_steps() {
        for (report, expected) in every_kind() {
            assert_eq!(Tally::of(&report), expected, "{}", report.message_id);
        }
    }

    fn published(pairs: &[(&str, &str)]) -> HashMap<String, UnixMillis> {
        let deliveries: Vec<Delivery> = pairs
            .iter()
            .map(|(id, at)| {
                let mut attributes = Attributes::new();
                attributes.insert(attribute::PUBLISHED.into(), (*at).into());
                Delivery {
                    message_id: (*id).into(),
                    receipt: Receipt(String::new()),
                    body: String::new(),
                    attributes,
                    receive_count: 1,
                }
            })
            .collect();
        published_times(&deliveries)
    }

    /// The line parsed back: metric name → (unit, value), and the root.
    fn parse(line: &str) -> (HashMap<String, (String, Value)>, Value) {
        assert!(!line.contains('\n'), "one line: {line}");
        let v: Value = serde_json::from_str(line).unwrap();
        let directives = v["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        let directive = &directives[0];
        assert_eq!(directive["Namespace"], "OktaConnect");
        assert_eq!(directive["Dimensions"], json!([["Stack"]]));
        let mut metrics = HashMap::new();
        for m in directive["Metrics"].as_array().unwrap() {
            let name = m["Name"].as_str().unwrap().to_string();
            // Every metric is a root member of its name (the spec's target members).
            let value = v[&name].clone();
            assert!(!value.is_null(), "{name} is a root member");
            metrics.insert(name, (m["Unit"].as_str().unwrap().to_string(), value));
        }
        (metrics, v)
    }

    #[test]
    fn one_line_per_invocation_with_every_count_the_lags_and_the_stack() {
        let reports: Vec<Report> = every_kind().into_iter().map(|(r, _)| r).collect();
        let published = published(&[
            // Converged events: 1.5 s, 60 s, and Okta's clock 0.2 s ahead (→ 0).
            ("create", "2026-09-21T14:53:20.000Z"),
            ("update", "2026-09-21T14:52:21.500Z"),
            ("delete", "2026-09-21T14:54:20.200Z"),
            // Converged, but its published is not a date: no lag.
            ("park", "yesterday"),
            // Converged, no attribute: no lag ("in-step", "already-revoked", ...).
            // A reconcile request, a duplicate, a retry: never a lag.
            ("reconcile", "2026-09-21T14:00:00.000Z"),
            ("dup", "2026-09-21T14:00:00.000Z"),
            ("throttled", "2026-09-21T14:00:00.000Z"),
        ]);
        let finished = UnixMillis::parse_rfc3339("2026-09-21T14:53:21.500Z").unwrap();
        let invocation = Invocation::of(&reports, &published, finished);
        assert_eq!(invocation.messages(), reports.len());

        let written = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = {
            let written = Arc::clone(&written);
            MetricsSink::new("OktaConnect-prod", move |line| {
                written.lock().unwrap().push(line.to_string());
            })
        };
        sink.record(&invocation, NOW);
        let lines = written.lock().unwrap().clone();
        assert_eq!(lines.len(), 1, "one line per invocation");

        let (metrics, root) = parse(&lines[0]);
        assert_eq!(root["Stack"], "OktaConnect-prod");
        assert_eq!(root["_aws"]["Timestamp"], NOW.0);
        let count = |name: &str| {
            let (unit, value) = &metrics[name];
            assert_eq!(unit, "Count", "{name}");
            value.as_u64().unwrap()
        };
        assert_eq!(
            count(CREATED),
            3,
            "create, replaced login, reconcile create"
        );
        assert_eq!(count(UPDATED), 1);
        assert_eq!(count(REVOKED), 2, "deleted and parked");
        assert_eq!(count(UNCHANGED), 2);
        assert_eq!(count(DUPLICATE), 1);
        assert_eq!(count(NOT_RELEVANT), 2);
        assert_eq!(count(RETRIED), 2);
        assert_eq!(count(DEAD_LETTERED), 1);
        let (unit, lags) = &metrics[PROVISIONING_LAG];
        assert_eq!(unit, "Milliseconds");
        assert_eq!(
            lags,
            &json!([1_500, 60_000, 0]),
            "one value per converged event"
        );
        assert_eq!(count(CONNECT_THROTTLES), 0, "no report was throttled");
        assert_eq!(metrics.len(), 10);
    }

    #[test]
    fn connect_throttles_sum_every_report_of_the_invocation_whatever_it_ended_in() {
        let reports = vec![
            // Throttled twice, then created within the invocation.
            throttled(
                done(
                    "create",
                    converged(FactKind::Membership, present(), &[StepKind::Create]),
                ),
                2,
            ),
            // Throttled until the deadline: handed back.
            throttled(
                report(
                    "handed-back",
                    Disposition::Retry,
                    failed(ErrorClass::Transient),
                ),
                5,
            ),
            done("dup", Outcome::Duplicate),
            throttled(
                done("reconcile", converged(FactKind::Snapshot, present(), &[])),
                1,
            ),
        ];
        let invocation = Invocation::of(&reports, &HashMap::new(), NOW);
        assert_eq!(invocation.connect_throttles, 8);
        let lines = invocation.lines("OktaConnect-prod", NOW);
        assert_eq!(lines.len(), 1);
        let (metrics, root) = parse(&lines[0]);
        let (unit, value) = &metrics[CONNECT_THROTTLES];
        assert_eq!(unit, "Count");
        assert_eq!(value, &json!(8));
        assert_eq!(root["ConnectThrottles"], 8, "the name the dashboard reads");
        assert_eq!(root["Stack"], "OktaConnect-prod");
        assert_eq!(metrics[RETRIED].1, json!(1), "the tallies are unchanged");
        assert_eq!(metrics[CREATED].1, json!(1));
    }

    #[test]
    fn zeros_are_written_and_an_invocation_without_lags_has_no_lag_metric() {
        let invocation = Invocation::of(&[done("dup", Outcome::Duplicate)], &HashMap::new(), NOW);
        let lines = invocation.lines("S", NOW);
        assert_eq!(lines.len(), 1);
        let (metrics, _) = parse(&lines[0]);
        assert_eq!(metrics.len(), 9, "every count, no empty lag array");
        assert_eq!(metrics[DUPLICATE].1, json!(1));
        assert_eq!(metrics[CREATED].1, json!(0));
        assert_eq!(
            metrics[CONNECT_THROTTLES].1,
            json!(0),
            "a zero, not no data"
        );
        assert!(!metrics.contains_key(PROVISIONING_LAG));

        assert!(
            Invocation::of(&[], &HashMap::new(), NOW)
                .lines("S", NOW)
                .is_empty(),
            "no message, no line"
        );
    }

    #[test]
    fn more_than_a_hundred_lags_spill_into_further_lines_of_lags_only() {
        let invocation = Invocation {
            counts: HashMap::from([(Tally::Created, 250)]),
            lags_ms: (0..250).collect(),
            connect_throttles: 3,
        };
        let lines = invocation.lines("S", NOW);
        assert_eq!(lines.len(), 3);
        let mut all = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let (metrics, _) = parse(line);
            let lags = metrics[PROVISIONING_LAG].1.as_array().unwrap().clone();
            assert!(lags.len() <= MAX_VALUES_PER_METRIC);
            all.extend(lags.into_iter().map(|v| v.as_u64().unwrap()));
            // Counts are written once, so a Sum over lines stays right.
            assert_eq!(metrics.contains_key(CREATED), i == 0);
            assert_eq!(metrics.contains_key(CONNECT_THROTTLES), i == 0);
        }
        assert_eq!(all, (0..250).collect::<Vec<u64>>());
    }
}
