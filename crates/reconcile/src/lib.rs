//! The reconcile Lambda: the scheduled front door of `okta_connect_sync::reconcile`.
//!
//! Each invocation reads Okta's current state (members of every mapped group and app)
//! and Connect's (`SearchUsers`), plans every user, records the snapshot facts in the
//! ledger, and queues one [`ReconcileRequest`](okta_connect_core::queue::ReconcileRequest)
//! per user whose Connect user should change — into the event queue, so the worker
//! applies them through the same converge as events, paced under Connect's quotas, with
//! the same retries and dead-letter queue. A run that would revoke more users than
//! `[Reconcile] MAX_REVOCATIONS` queues nothing. Each run prints one Embedded Metric
//! Format line (users, queued, revocations, conflicts, stopped at the cap) that the
//! stack's alarms read.
//!
//! Dependency rule: wires `okta-connect-sync` to the AWS adapters through the worker's
//! start-up; no domain logic lives here.

use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::dynamodb::DynamoLedger;
use okta_connect_aws::emf::Metrics;
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::time::UnixMillis;
use okta_connect_okta::OktaApi;
use okta_connect_sync::reconcile::{Action, Run, RunOptions, UserPlan};
use okta_connect_sync::{Engine, NoDeadLetters, ReconcileError};
use okta_connect_worker::startup::QUEUE_URL_VAR;
use okta_connect_worker::{Startup, StartupError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The stack's name, the `Stack` dimension of the run's metrics (default: config.ini's
/// `[Deploy] STACK_NAME`); read by the shared start-up.
pub use okta_connect_worker::startup::STACK_NAME_VAR;

/// Plan lines a run's answer lists at most (Lambda answers are at most 6 MB; the log
/// has every line).
pub const MAX_LISTED: usize = 1000;

/// The deployed reconcile engine: DynamoDB ledger, Amazon Connect, Okta's API; it
/// processes no message, so it has no dead-letter queue.
pub type ReconcileEngine = Engine<DynamoLedger, ConnectDirectory, NoDeadLetters, OktaApi>;

/// What one invocation asks. The schedule sends `{"dryRun": false}`; an operator may
/// invoke `{"dryRun": true}` or raise the cap for one run. Unknown fields are refused: a
/// misspelt `dryRun` must never become a real run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Request {
    #[serde(default)]
    pub dry_run: bool,
    /// This run's revocation cap (default `[Reconcile] MAX_REVOCATIONS`).
    #[serde(default)]
    pub max_revocations: Option<u32>,
}

/// What a run did (or, dry, would do): the invocation's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub run_id: String,
    /// When Okta and Connect were read (RFC 3339).
    pub taken_at: String,
    pub dry_run: bool,
    /// Okta users looked at.
    pub users: usize,
    /// Users whose Connect user changes (or would).
    pub changes: usize,
    /// Requests queued for the worker.
    pub queued: usize,
    pub revocations: usize,
    pub conflicts: usize,
    /// The cap, when the run stopped at it and queued nothing.
    pub stopped_at_cap: Option<usize>,
    /// The users that change or conflict (at most [`MAX_LISTED`]).
    pub plan: Vec<UserPlan>,
    /// Whether `plan` was cut at [`MAX_LISTED`].
    pub plan_truncated: bool,
    /// SearchUsers pages Connect throttled during the run, each asked again.
    pub connect_throttles: u64,
}

impl Summary {
    pub fn of(run: &Run) -> Self {
        let mut listed = run.users.iter().filter(|u| {
            u.action.changes_something() || matches!(u.action, Action::Conflict { .. })
        });
        let plan: Vec<UserPlan> = listed.by_ref().take(MAX_LISTED).cloned().collect();
        Self {
            run_id: run.run_id.clone(),
            taken_at: run.taken_at.to_string(),
            dry_run: run.dry_run,
            users: run.users.len(),
            changes: run.changes(),
            queued: run.queued,
            revocations: run.revocations(),
            conflicts: run.conflicts(),
            stopped_at_cap: run.stopped_at_cap,
            plan_truncated: listed.next().is_some(),
            plan,
            connect_throttles: 0,
        }
    }

    /// The run's metrics (the stack alarms on `ReconcileStoppedAtCap` and
    /// `ReconcileConflicts`).
    pub fn metrics(&self, stack: &str, now: UnixMillis) -> Metrics {
        Metrics::new(stack, now.0)
            .count("ReconcileUsers", self.users)
            .count("ReconcileQueued", self.queued)
            .count("ReconcileRevocations", self.revocations)
            .count("ReconcileConflicts", self.conflicts)
            .count(
                "ReconcileStoppedAtCap",
                usize::from(self.stopped_at_cap.is_some()),
            )
            .count(
                "ReconcileConnectThrottles",
                usize::try_from(self.connect_throttles).unwrap_or(usize::MAX),
            )
            .property("runId", self.run_id.clone())
    }
}

/// Why the Lambda cannot start. Each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("reconcile reads Okta's current state: configure [OktaApi] in config.ini")]
    NoOktaApi,
}

/// The reconcile Lambda's state, built once per execution environment.
pub struct Reconciler {
    pub engine: ReconcileEngine,
    /// The event queue the worker drains.
    pub queue: SqsQueue,
    /// The `Stack` dimension of the metrics.
    pub stack: String,
}

impl Reconciler {
    /// Reads the environment and config (as the worker does, with `OKTA_CONNECT_QUEUE_URL`
    /// for the queue) and builds the clients.
    pub async fn from_env(
        vars: impl IntoIterator<Item = (String, String)>,
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Self, StartError> {
        let startup = Startup::from_env_sending_to(vars, read_file, QUEUE_URL_VAR)?;
        let stack = startup.stack_name.clone();
        let clients = startup.clients().await?;
        let identity = clients.identity.ok_or(StartError::NoOktaApi)?;
        Ok(Self {
            engine: Engine::new(
                clients.config,
                clients.ledger,
                clients.directory,
                NoDeadLetters,
                Some(identity),
            ),
            queue: clients.queue,
            stack,
        })
    }

    /// One run, named `run_id` (the invocation's request id: Lambda's retry of a failed
    /// asynchronous invocation keeps it, so a retried run's requests de-duplicate
    /// against the first attempt's).
    pub async fn run(&self, request: &Request, run_id: String) -> Result<Summary, ReconcileError> {
        let cap = request
            .max_revocations
            .unwrap_or(self.engine.config.reconcile.max_revocations);
        let options = RunOptions {
            run_id,
            dry_run: request.dry_run,
            max_revocations: usize::try_from(cap).unwrap_or(usize::MAX),
            only: None,
        };
        // Reserved concurrency 1: no other run shares this directory meanwhile.
        let throttled_before = self.engine.directory.search_throttles();
        let run = self
            .engine
            .reconcile_queued(&options, &self.queue, &|_| {})
            .await?;
        for line in &run.users {
            log_line(&run.run_id, line);
        }
        let mut summary = Summary::of(&run);
        summary.connect_throttles = self
            .engine
            .directory
            .search_throttles()
            .saturating_sub(throttled_before);
        Ok(summary)
    }
}

/// One log line per user that changes or conflicts (ids only: logins are emails).
fn log_line(run_id: &str, line: &UserPlan) {
    match &line.action {
        Action::Conflict { reason } => tracing::warn!(
            run_id, okta_user_id = %line.okta_user_id, %reason, "reconcile conflict"
        ),
        action if action.changes_something() => tracing::info!(
            run_id,
            okta_user_id = %line.okta_user_id,
            connect_user_id = line.connect_user_id.as_deref().unwrap_or(""),
            mapping = line.mapping.as_deref().unwrap_or(""),
            action = action.name(),
            "reconcile change"
        ),
        _ => {}
    }
}

/// One invocation: a run named by the request id, its metrics line on standard output
/// (real runs only: a dry run is an operator's question, not the schedule's state), its
/// summary as the answer. A failed read is an error: the invocation fails, the stack's
/// `ReconcileErrors` alarm fires, and nothing was queued.
pub async fn handle(
    reconciler: &Reconciler,
    event: lambda_runtime::LambdaEvent<Request>,
) -> Result<Summary, ReconcileError> {
    let summary = reconciler
        .run(&event.payload, event.context.request_id)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "reconcile run failed"))?;
    if !summary.dry_run {
        println!(
            "{}",
            summary
                .metrics(&reconciler.stack, UnixMillis::now())
                .to_line()
        );
    }
    tracing::info!(
        run_id = %summary.run_id,
        users = summary.users,
        changes = summary.changes,
        queued = summary.queued,
        revocations = summary.revocations,
        conflicts = summary.conflicts,
        stopped_at_cap = summary.stopped_at_cap.is_some(),
        dry_run = summary.dry_run,
        "reconcile run done"
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_default_to_a_real_run_and_refuse_unknown_fields() {
        let parse = |text: &str| serde_json::from_str::<Request>(text);
        assert_eq!(parse("{}").unwrap(), Request::default());
        assert_eq!(
            parse(r#"{"dryRun": true, "maxRevocations": 50}"#).unwrap(),
            Request {
                dry_run: true,
                max_revocations: Some(50)
            }
        );
        // A misspelt flag must not turn a dry run into a real one.
        let err = parse(r#"{"dryrun": true}"#).unwrap_err();
        assert!(err.to_string().contains("dryrun"), "{err}");
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn config_file(_: &Path) -> std::io::Result<String> {
        Ok(okta_connect_testkit::fixtures::CONFIG_INI.to_string())
    }

    #[tokio::test]
    async fn start_up_names_what_is_missing() {
        let base = [
            ("OKTA_CONNECT_CONFIG_FILE", "/var/task/config.ini"),
            ("OKTA_CONNECT_LEDGER_TABLE", "ledger"),
        ];
        let Err(err) = Reconciler::from_env(vars(&base), config_file).await else {
            panic!("the queue URL is required");
        };
        assert!(err.to_string().contains(QUEUE_URL_VAR), "{err}");

        let mut all = base.to_vec();
        all.push((QUEUE_URL_VAR, "https://sqs.example/events"));
        let Err(err) = Reconciler::from_env(vars(&all), config_file).await else {
            panic!("reconcile needs the Okta API");
        };
        assert!(matches!(err, StartError::NoOktaApi), "{err}");

        all.push(("OKTA_CONNECT__OKTAAPI__ORG_URL", "https://acme.okta.com"));
        all.push(("OKTA_CONNECT_OKTA_CREDENTIALS", "00-token"));
        let reconciler = Reconciler::from_env(vars(&all), config_file).await.unwrap();
        assert_eq!(
            reconciler.stack, "OktaConnect",
            "[Deploy] STACK_NAME by default"
        );
        assert_eq!(reconciler.queue.queue_url(), "https://sqs.example/events");

        all.push((STACK_NAME_VAR, "OktaConnect-prod"));
        let reconciler = Reconciler::from_env(vars(&all), config_file).await.unwrap();
        assert_eq!(reconciler.stack, "OktaConnect-prod");
    }

    #[test]
    fn a_summary_lists_only_what_changes_or_conflicts() {
        use okta_connect_core::outcome::StepKind;
        let line = |n: usize, action: Action| UserPlan {
            okta_user_id: format!("00u{n}"),
            login: None,
            mapping: None,
            connect_user_id: None,
            action,
        };
        let mut users: Vec<UserPlan> = (0..MAX_LISTED + 5)
            .map(|n| line(n, Action::Create))
            .collect();
        users.push(line(9998, Action::Unchanged));
        users.push(line(
            9999,
            Action::Revoke {
                steps: vec![StepKind::Delete],
            },
        ));
        let run = Run {
            run_id: "r".into(),
            taken_at: UnixMillis(0),
            dry_run: false,
            stopped_at_cap: Some(0),
            queued: 0,
            users,
        };
        let mut summary = Summary::of(&run);
        summary.connect_throttles = 3;
        assert_eq!(summary.users, MAX_LISTED + 7);
        assert_eq!(summary.changes, MAX_LISTED + 6);
        assert_eq!(summary.revocations, 1);
        assert_eq!(summary.plan.len(), MAX_LISTED);
        assert!(summary.plan_truncated);
        let metrics: serde_json::Value =
            serde_json::from_str(&summary.metrics("S", UnixMillis(5)).to_line()).unwrap();
        assert_eq!(metrics["ReconcileStoppedAtCap"], 1.0);
        assert_eq!(metrics["ReconcileConnectThrottles"], 3.0);
        assert_eq!(metrics["runId"], "r");
    }
}
