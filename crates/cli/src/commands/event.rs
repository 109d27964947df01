//! `okta-connect event UUID`: everything known about one event — what it is about, its
//! ledger record (attempts, outcome, the Connect writes and user, or the failure) and
//! whether it sits in the dead-letter queue, with its raw JSON.

use std::process::ExitCode;

use okta_connect_core::outcome::Outcome;
use okta_connect_core::ports::{EventRecord, EventState, Ledger, QueueConsumer};
use serde::Serialize;

use crate::commands::dlq::Letter;
use crate::commands::events::user_cell;
use crate::commands::target::Target;
use crate::commands::user::FactLine;
use crate::output::{self, Report, Table};

/// Dead letters searched for the event.
const SEARCH_CAP: usize = 1000;

/// Show one event (by its Okta event uuid, or a reconcile request's
/// `reconcile:RUN:USER`): the ledger's record — state, attempts, outcome with the
/// Connect writes and user, or the failure's reason — and its dead letters with their
/// raw JSON. Exits 1 when neither knows it.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The event's uuid.
    pub uuid: String,
    #[command(flatten)]
    pub target: Target,
}

/// One event, as the ledger and the dead-letter queue know it.
#[derive(Debug, Serialize)]
pub struct EventReport {
    pub uuid: String,
    /// `None`: the ledger has no record (never processed, or expired), or no ledger
    /// was named (`ledger_read` false).
    pub record: Option<EventRecord>,
    /// The fact it asserted, while that is still its user's newest of its kind.
    pub fact: Option<FactLine>,
    pub ledger_read: bool,
    /// Its messages in the dead-letter queue (usually none or one).
    pub dead_letters: Vec<Letter>,
    pub dead_letters_read: bool,
}

impl EventReport {
    /// Whether anything is known about the event.
    pub fn known(&self) -> bool {
        self.record.is_some() || !self.dead_letters.is_empty()
    }
}

/// The rows of a ledger record, field by field, in words.
fn record_rows(record: &EventRecord) -> Vec<[String; 2]> {
    let mut rows = Vec::new();
    if let Some(about) = &record.about {
        rows.push(["event type".into(), about.event_type.clone()]);
        rows.push([
            "Okta user".into(),
            user_cell(about.login.as_deref(), about.okta_user_id.as_deref()),
        ]);
        if let Some(published) = about.published {
            rows.push(["published".into(), published.to_string()]);
        }
    }
    rows.push(["state".into(), record.state.to_string()]);
    rows.push(["attempts".into(), record.attempts.to_string()]);
    if let Some(updated) = record.updated_at {
        rows.push(["last changed".into(), updated.to_string()]);
    }
    if record.state == EventState::InProgress {
        rows.push(["claimed until".into(), record.lease_until.to_string()]);
    }
    rows.push(["remembered until".into(), record.expires_at.to_string()]);
    match &record.outcome {
        None => {}
        Some(Outcome::Converged { fact, converged }) => {
            rows.push(["outcome".into(), "converged".into()]);
            rows.push(["fact".into(), fact.to_string()]);
            rows.push(["desired Connect user".into(), converged.desired.to_string()]);
            rows.push([
                "Connect writes".into(),
                if converged.steps.is_empty() {
                    "none (already in step)".into()
                } else {
                    converged
                        .steps
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ]);
            rows.push([
                "Connect user".into(),
                converged
                    .connect_user_id
                    .clone()
                    .unwrap_or_else(|| "none".into()),
            ]);
        }
        Some(Outcome::Failed(failure)) => {
            rows.push(["outcome".into(), format!("failed ({})", failure.class)]);
            rows.push(["reason".into(), failure.reason.clone()]);
        }
        Some(other) => rows.push(["outcome".into(), other.to_string()]),
    }
    rows
}

impl Report for EventReport {
    fn headline(&self) -> Vec<String> {
        let mut lines = vec![format!("Event {}", self.uuid)];
        if !self.known() {
            lines.push(
                "Unknown: no ledger record (never processed, or past the ledger's retention) \
                 and not in the dead-letter queue."
                    .into(),
            );
        }
        lines
    }

    fn tables(&self) -> Vec<Table> {
        let mut tables = Vec::new();
        if self.ledger_read {
            let mut ledger = Table::new("Ledger record", &["field", "value"])
                .when_empty("(none: never processed, or expired)");
            for row in self.record.iter().flat_map(record_rows) {
                ledger.row(row);
            }
            if let Some(fact) = &self.fact {
                ledger.row(["fact (still the newest)".to_string(), fact.says.clone()]);
            }
            tables.push(ledger);
        }
        if self.dead_letters_read {
            let mut dlq = Table::new(
                "In the dead-letter queue",
                &[
                    "message id",
                    "event type",
                    "Okta user",
                    "dead-lettered by",
                    "reason",
                ],
            )
            .when_empty("(no)");
            for letter in &self.dead_letters {
                dlq.row([
                    letter.message_id.clone(),
                    letter.event_type.clone().unwrap_or_else(|| "-".into()),
                    letter.user_cell(),
                    letter.by_cell(),
                    letter.reason.clone(),
                ]);
            }
            tables.push(dlq);
        }
        tables
    }

    fn footer(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for letter in &self.dead_letters {
            // The raw JSON as the queue holds it, indented when it parses.
            let raw = serde_json::from_str::<serde_json::Value>(&letter.body)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| letter.body.clone());
            lines.push(format!("Raw JSON of dead letter {}:", letter.message_id));
            lines.push(raw);
        }
        if self.record.is_some() && self.dead_letters.is_empty() {
            lines.push(
                "The raw event is kept only while it is dead-lettered; the ledger keeps what \
                 it is about and what it ended in."
                    .into(),
            );
        }
        if !self.ledger_read {
            lines.push("Ledger not read: name it with --ledger-table.".into());
        }
        if !self.dead_letters_read {
            lines
                .push("Dead-letter queue not read: name it with --queue-url and --dlq-url.".into());
        }
        lines
    }
}

/// Reads what the ledger and the dead-letter queue hold about `uuid`.
pub async fn inspect(target: &Target, uuid: &str) -> anyhow::Result<EventReport> {
    let ledger = target.ledger().await?;
    let queue = target.queue().await?;
    if ledger.is_none() && queue.is_none() {
        anyhow::bail!("nothing to read: name --ledger-table and/or --queue-url with --dlq-url");
    }
    let record = match &ledger {
        Some(ledger) => ledger.event_record(uuid).await?,
        None => None,
    };
    // The fact the event asserted, while it is still its user's newest of its kind (a
    // newer event's fact replaces it; the ledger keeps no history).
    let user = record
        .as_ref()
        .and_then(|r| r.about.as_ref())
        .and_then(|a| a.okta_user_id.clone());
    let fact = match (&ledger, user) {
        (Some(ledger), Some(user)) => ledger
            .user_record(&user)
            .await?
            .facts
            .facts
            .into_values()
            .find(|f| f.event_uuid == uuid)
            .map(|fact| FactLine::of(&fact)),
        _ => None,
    };
    let dead_letters = match &queue {
        Some(queue) => queue
            .dead_letters(SEARCH_CAP)
            .await?
            .iter()
            .map(Letter::of)
            .filter(|l| l.uuid.as_deref() == Some(uuid))
            .collect(),
        None => Vec::new(),
    };
    Ok(EventReport {
        uuid: uuid.to_string(),
        record,
        fact,
        ledger_read: ledger.is_some(),
        dead_letters,
        dead_letters_read: queue.is_some(),
    })
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let report = inspect(&args.target, args.uuid.trim()).await?;
    output::print(&report, json)?;
    Ok(if report.known() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
