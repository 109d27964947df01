//! `okta-connect replay`: Okta's System Log for a time range, queued like event-hook
//! deliveries — what recovers events Okta dropped (the hook was down or answered 4xx,
//! the org hit its daily hook limit).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::identity::{LogEvent, LogQuery};
use okta_connect_core::okta::{DeliveredEvent, Delivery, OktaEvent};
use okta_connect_core::ports::{EventQueue, IdentitySource};
use okta_connect_core::rules::relevant_event_types;
use okta_connect_core::time::UnixMillis;
use okta_connect_ingest::RetryPolicy;
use okta_connect_ingest::enqueue::{enqueue, messages};
use okta_connect_local::{LocalQueue, QueueSettings};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::commands::{ConfigArg, config_dir, load_config};
use crate::okta;
use crate::output::{self, Report, Table};
use crate::pipeline::{DEAD_LETTER_QUEUE, QUEUE, STATE_DB};

/// Read Okta's System Log (`[OktaApi]`) for the event types the pipeline acts on between
/// two instants and queue every event, as the event hook would have delivered them.
/// Events already processed are skipped by the worker as duplicates (same uuid), so
/// overlapping ranges are harmless. Okta keeps 90 days of System Log.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Start of the range (RFC 3339, e.g. 2026-11-30T08:00:00Z).
    #[arg(long)]
    pub since: String,
    /// End of the range (RFC 3339); default: now.
    #[arg(long)]
    pub until: Option<String>,
    /// The local pipeline's state folder (its embedded queue), as `dev` uses it.
    #[arg(long, default_value = ".local-state")]
    pub state: PathBuf,
    /// Queue to this SQS queue (e.g. the stack's `QueueUrl`) instead of the local one.
    #[arg(long)]
    pub queue_url: Option<String>,
    /// List what would be queued, queue nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What was read and queued.
#[derive(Serialize)]
pub struct Replayed {
    pub since: String,
    pub until: String,
    pub org_url: String,
    pub queue: String,
    pub dry_run: bool,
    /// Events read, by type.
    pub by_type: Vec<(String, usize)>,
    pub read: usize,
    pub queued: usize,
    /// Events the queue refused or that stayed failing; their reason.
    pub not_queued: usize,
    pub error: Option<String>,
}

impl Report for Replayed {
    fn headline(&self) -> Vec<String> {
        vec![format!(
            "{} events in Okta's System Log of {} from {} to {}{}",
            self.read,
            self.org_url,
            self.since,
            self.until,
            if self.dry_run {
                " (dry run: nothing queued)"
            } else {
                ""
            }
        )]
    }

    fn tables(&self) -> Vec<Table> {
        let mut table =
            Table::new("Events by type", &["event type", "events"]).when_empty("(none)");
        for (kind, count) in &self.by_type {
            table.row([kind.clone(), count.to_string()]);
        }
        vec![table]
    }

    fn footer(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.dry_run {
            lines.push(format!(
                "Queued {} of {} to {}; events already processed run as duplicates.",
                self.queued, self.read, self.queue
            ));
        }
        if let Some(e) = &self.error {
            lines.push(format!("{} not queued: {e}", self.not_queued));
        }
        lines
    }
}

fn instant(flag: &str, text: &str) -> anyhow::Result<UnixMillis> {
    UnixMillis::parse_rfc3339(text.trim()).with_context(|| {
        format!("{flag} {text:?} is not an RFC 3339 time such as 2026-11-30T08:00:00Z")
    })
}

/// The System Log events as one delivery (events that do not parse are skipped with a
/// warning: the worker could never use them either).
fn as_delivery(events: &[LogEvent]) -> Delivery {
    let events = events
        .iter()
        .filter_map(|LogEvent(json)| {
            let raw = RawValue::from_string(json.clone()).ok()?;
            match OktaEvent::parse(json) {
                Ok(event) => Some(DeliveredEvent { raw, event }),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping a System Log event that does not parse");
                    None
                }
            }
        })
        .collect();
    Delivery {
        event_id: Some(format!("replay-{}", uuid::Uuid::new_v4())),
        source: None,
        events,
    }
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.config)?;
    let since = instant("--since", &args.since)?;
    let until = match &args.until {
        Some(text) => instant("--until", text)?,
        None => UnixMillis::now(),
    };
    if until <= since {
        bail!("--until must be after --since");
    }
    let Some(identity) = okta::configured(&config, &config_dir(&args.config)).await? else {
        bail!(
            "replay reads Okta's System Log: set [OktaApi] (ORG_URL and a credential) in config.ini"
        );
    };
    let query = LogQuery {
        since,
        until: Some(until),
        event_types: relevant_event_types(&config),
    };
    let events = identity
        .system_log(&query)
        .await
        .map_err(|e| anyhow::anyhow!("reading Okta's System Log: {e}"))?;
    let delivery = as_delivery(&events);
    let mut by_type = std::collections::BTreeMap::<String, usize>::new();
    for e in &delivery.events {
        *by_type.entry(e.event.event_type.clone()).or_default() += 1;
    }
    let mut replayed = Replayed {
        since: since.to_string(),
        until: until.to_string(),
        org_url: identity.org_url().to_string(),
        queue: String::new(),
        dry_run: args.dry_run,
        by_type: by_type.into_iter().collect(),
        read: delivery.events.len(),
        queued: 0,
        not_queued: 0,
        error: None,
    };
    let policy = RetryPolicy {
        budget: Duration::from_secs(120),
        ..RetryPolicy::default()
    };
    let report = match (&args.queue_url, args.dry_run) {
        (_, true) => None,
        (Some(url), false) => {
            replayed.queue = url.clone();
            let aws = sdk::load(&AwsSettings {
                region: config.region.clone(),
                ..AwsSettings::default()
            })
            .await;
            let queue = SqsQueue::from_config(&aws, url.clone());
            Some(send(&queue, &delivery, &policy).await)
        }
        (None, false) => {
            let db = args.state.join(STATE_DB);
            replayed.queue = format!("the local queue in {}", args.state.display());
            let queue = LocalQueue::open(&db, QUEUE, QueueSettings::default(), DEAD_LETTER_QUEUE)
                .with_context(|| format!("opening {}", db.display()))?;
            Some(send(&queue, &delivery, &policy).await)
        }
    };
    if let Some(report) = report {
        replayed.queued = report.queued;
        replayed.not_queued = report.not_queued();
        replayed.error = report.last_error;
    }
    output::print(&replayed, json)?;
    Ok(if replayed.not_queued == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn send<Q: EventQueue>(
    queue: &Q,
    delivery: &Delivery,
    policy: &RetryPolicy,
) -> okta_connect_ingest::enqueue::EnqueueReport {
    enqueue(queue, messages(delivery), policy, Instant::now()).await
}
