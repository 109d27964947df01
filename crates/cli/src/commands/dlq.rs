//! `okta-connect dlq`: what is in the dead-letter queue and why, read without consuming.

use std::process::ExitCode;

use anyhow::Context;
use okta_connect_core::okta::OktaEvent;
use okta_connect_core::ports::{ErrorClass, QueueConsumer};
use okta_connect_core::queue::DeadLetter;
use serde::Serialize;

use crate::commands::events::user_cell;
use crate::commands::target::Target;
use crate::output::{self, Report, Table};

/// List the dead-lettered messages with why each is there (the worker's or ingest's
/// reason, or "moved by SQS" when it kept failing), the event's uuid, type and Okta
/// user. Nothing is consumed: the messages stay for `redrive`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,
    /// Show at most this many (oldest first).
    #[arg(long, default_value_t = 100)]
    pub max: usize,
}

/// Who put a message in the dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetteredBy {
    /// The worker, at once, for a failure retrying cannot fix.
    Worker,
    /// Ingest, for an event it could not use (never queued).
    Ingest,
    /// The queue's redrive policy, after too many receives without success.
    Sqs,
}

impl std::fmt::Display for DeadLetteredBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DeadLetteredBy::Worker => "worker",
            DeadLetteredBy::Ingest => "ingest",
            DeadLetteredBy::Sqs => "SQS",
        })
    }
}

/// One dead letter as an operator reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Letter {
    pub message_id: String,
    /// The Okta event's uuid (or a reconcile request's), when known.
    pub uuid: Option<String>,
    pub event_type: Option<String>,
    pub okta_user_id: Option<String>,
    /// The Okta user's login, from the event's `User` target.
    pub login: Option<String>,
    pub dead_lettered_by: DeadLetteredBy,
    pub reason: String,
    /// `None` when SQS moved it (no one classified the failure).
    pub failure_class: Option<ErrorClass>,
    /// When the worker or ingest dead-lettered it (RFC 3339).
    pub failed_at: Option<String>,
    pub receive_count: u32,
    /// When it was first sent to the queue it is in (RFC 3339), if the queue knows.
    pub sent_at: Option<String>,
    /// The message body: the event's raw JSON as Okta sent it.
    pub body: String,
}

impl Letter {
    pub fn of(letter: &DeadLetter) -> Self {
        let hints = letter.event();
        // The body fills in what the attributes lack (an unusable event has few).
        let event = OktaEvent::parse(&letter.body).ok();
        let user = event.as_ref().and_then(OktaEvent::okta_user);
        let non_empty = |s: String| Some(s).filter(|s| !s.is_empty());
        let (by, reason, class, failed_at) = match letter.reason() {
            Some(why) => (
                if why.source_message_id.is_empty() {
                    DeadLetteredBy::Ingest
                } else {
                    DeadLetteredBy::Worker
                },
                why.reason,
                Some(why.class),
                Some(why.failed_at.to_string()),
            ),
            None => (
                DeadLetteredBy::Sqs,
                format!(
                    "moved by SQS after {} receives (no reason recorded: the worker kept \
                     handing it back or never finished it)",
                    letter.receive_count
                ),
                None,
                None,
            ),
        };
        Self {
            message_id: letter.message_id.clone(),
            uuid: non_empty(hints.uuid).or_else(|| event.as_ref().map(|e| e.uuid.clone())),
            event_type: non_empty(hints.event_type)
                .or_else(|| event.as_ref().map(|e| e.event_type.clone())),
            okta_user_id: hints
                .okta_user_id
                .or_else(|| user.and_then(|u| u.id.clone())),
            login: user.and_then(|u| u.alternate_id.clone()),
            dead_lettered_by: by,
            reason,
            failure_class: class,
            failed_at,
            receive_count: letter.receive_count,
            sent_at: letter.sent_at.map(|t| t.to_string()),
            body: letter.body.clone(),
        }
    }

    /// The Okta user in one cell: login and id, whichever are known.
    pub fn user_cell(&self) -> String {
        user_cell(self.login.as_deref(), self.okta_user_id.as_deref())
    }

    /// Who dead-lettered it and when, in one cell.
    pub fn by_cell(&self) -> String {
        match &self.failed_at {
            Some(at) => format!("{} at {at}", self.dead_lettered_by),
            None => self.dead_lettered_by.to_string(),
        }
    }

    /// Whether `text` occurs in the reason (case-insensitive): `redrive --reason`.
    pub fn reason_matches(&self, text: &str) -> bool {
        self.reason.to_lowercase().contains(&text.to_lowercase())
    }
}

/// The dead-letter queue's contents.
#[derive(Debug, Serialize)]
pub struct DeadLetters {
    pub queue: String,
    /// Everything in the dead-letter queue (the queue's count; SQS's is approximate).
    pub total: u64,
    pub letters: Vec<Letter>,
}

impl Report for DeadLetters {
    fn headline(&self) -> Vec<String> {
        vec![format!(
            "{} dead-lettered messages beside {}{}.",
            self.total,
            self.queue,
            if (self.letters.len() as u64) < self.total {
                format!(" (showing the oldest {})", self.letters.len())
            } else {
                String::new()
            }
        )]
    }

    fn tables(&self) -> Vec<Table> {
        let mut table = Table::new(
            "Dead letters",
            &[
                "event uuid",
                "event type",
                "Okta user",
                "dead-lettered by",
                "reason",
            ],
        )
        .when_empty("(none: nothing failed for good)");
        for letter in &self.letters {
            table.row([
                letter.uuid.clone().unwrap_or_else(|| "-".into()),
                letter.event_type.clone().unwrap_or_else(|| "-".into()),
                letter.user_cell(),
                letter.by_cell(),
                letter.reason.clone(),
            ]);
        }
        vec![table]
    }

    fn footer(&self) -> Vec<String> {
        if self.letters.is_empty() {
            return Vec::new();
        }
        vec![
            "`okta-connect event UUID` shows one event with its raw JSON; fix the cause, then \
             `okta-connect redrive` (`--reason TEXT` for only some)."
                .into(),
        ]
    }
}

/// Reads up to `max` dead letters and the queue's count.
pub async fn list(target: &Target, max: usize) -> anyhow::Result<DeadLetters> {
    let queue = target.queue().await?.context(
        "name the deployed queues with --queue-url and --dlq-url (or drop the deployed flags \
         to read the local state)",
    )?;
    let counts = queue.counts().await?;
    let letters: Vec<Letter> = queue
        .dead_letters(max)
        .await?
        .iter()
        .map(Letter::of)
        .collect();
    Ok(DeadLetters {
        queue: target.queue_name(),
        // SQS's count is approximate and may lag what was just read.
        total: counts.dead_lettered.max(letters.len() as u64),
        letters,
    })
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let report = list(&args.target, args.max).await?;
    output::print(&report, json)?;
    Ok(ExitCode::SUCCESS)
}
