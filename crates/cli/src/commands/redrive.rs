//! `okta-connect redrive`: dead-lettered messages moved back to the event queue, after
//! the cause was fixed.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use std::io::IsTerminal;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use okta_connect_core::ports::{EventQueue, EventState, Ledger, QueueConsumer};
use okta_connect_core::queue::{DeadLetter, Delivery, QueueMessage, Receipt, RedriveMethod};
use okta_connect_core::time::UnixMillis;
use serde::Serialize;

use crate::backends::{AnyLedger, AnyQueue};
use crate::commands::dlq::Letter;
use crate::commands::target::{DeadLetterBox, Target};
use crate::output::{self, Report, Table};

/// Dead letters read to say which moved (and to choose them for `--dry-run`).
const LIST_CAP: usize = 1000;

/// Move dead-lettered messages back to the event queue, so each runs again. Without
/// options, all of them (SQS's own move task on AWS); `--max N` the oldest N;
/// `--reason TEXT` only those whose reason contains TEXT (received from the dead-letter
/// queue, sent to the queue and deleted, one by one). An event the ledger already
/// completed runs as a duplicate and changes nothing.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,
    /// List what would move; move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Only messages whose reason contains this text (case-insensitive).
    #[arg(long)]
    pub reason: Option<String>,
    /// At most this many messages, oldest first.
    #[arg(long)]
    pub max: Option<u64>,
}

/// One message moved (or that would move) and what the worker will make of it.
#[derive(Debug, Serialize)]
pub struct Moved {
    #[serde(flatten)]
    pub letter: Letter,
    /// Whether the worker will process it (`false`: the ledger completed it, so it is a
    /// duplicate); `None` when no ledger was named.
    pub runs_again: Option<bool>,
    /// The same in words.
    pub next: String,
}

/// What a redrive did.
#[derive(Debug, Serialize)]
pub struct Redrive {
    pub queue: String,
    pub dry_run: bool,
    pub reason: Option<String>,
    pub max: Option<u64>,
    /// How the messages moved; `None` for a dry run.
    pub method: Option<RedriveMethod>,
    /// How many moved (or would move).
    pub moved: u64,
    /// The messages that moved, as far as they could be told apart (see `moved`).
    pub messages: Vec<Moved>,
    /// Dead letters left.
    pub left: u64,
}

fn method_words(method: RedriveMethod) -> &'static str {
    match method {
        RedriveMethod::MoveTask => "by an SQS message move task",
        RedriveMethod::Relay => {
            "by relay (received from the dead-letter queue, sent to the queue, deleted)"
        }
        RedriveMethod::Transaction => "in one transaction of the local queue",
    }
}

impl Report for Redrive {
    fn headline(&self) -> Vec<String> {
        let what = match (&self.reason, self.max) {
            (Some(reason), Some(max)) => format!(" (reason containing {reason:?}, at most {max})"),
            (Some(reason), None) => format!(" (reason containing {reason:?})"),
            (None, Some(max)) => format!(" (at most {max})"),
            (None, None) => String::new(),
        };
        vec![match self.method {
            None => format!(
                "Dry run: {} dead-lettered messages would move back to {}{what}; nothing moved.",
                self.moved, self.queue
            ),
            Some(method) => format!(
                "Moved {} dead-lettered messages back to {}{what}, {}.",
                self.moved,
                self.queue,
                method_words(method)
            ),
        }]
    }

    fn tables(&self) -> Vec<Table> {
        let mut table = Table::new(
            if self.dry_run { "Would move" } else { "Moved" },
            &["event uuid", "event type", "Okta user", "reason", "next"],
        )
        .when_empty("(none)");
        for m in &self.messages {
            table.row([
                m.letter.uuid.clone().unwrap_or_else(|| "-".into()),
                m.letter.event_type.clone().unwrap_or_else(|| "-".into()),
                m.letter.user_cell(),
                m.letter.reason.clone(),
                m.next.clone(),
            ]);
        }
        vec![table]
    }

    fn footer(&self) -> Vec<String> {
        vec![format!(
            "{} dead-lettered messages left; `okta-connect event UUID` follows one event.",
            self.left
        )]
    }
}

/// What the worker will do with a redriven event, from its ledger record.
async fn next_of(ledger: Option<&AnyLedger>, letter: Letter) -> anyhow::Result<Moved> {
    let (runs_again, next) = match (ledger, &letter.uuid) {
        (None, _) => (
            None,
            "runs again (no ledger named to tell duplicates)".into(),
        ),
        (Some(_), None) => (Some(true), "runs again".into()),
        (Some(ledger), Some(uuid)) => match ledger.event_record(uuid).await? {
            Some(record) if record.state == EventState::Completed => (
                Some(false),
                format!(
                    "a duplicate: already completed ({})",
                    record
                        .outcome
                        .map_or_else(|| "no outcome".into(), |o| o.to_string())
                ),
            ),
            Some(record) => (
                Some(true),
                format!("runs again (attempt {})", record.attempts + 1),
            ),
            None => (Some(true), "runs again (first attempt)".into()),
        },
    };
    Ok(Moved {
        letter,
        runs_again,
        next,
    })
}

impl DeadLetterBox {
    /// Up to 10 dead letters, hidden from other readers until deleted or released.
    async fn take(&self) -> anyhow::Result<Vec<Delivery>> {
        Ok(match self {
            // One short SQLite transaction: run inline (the command does nothing else).
            DeadLetterBox::Local { dead_letter, .. } => {
                dead_letter.receive(10, UnixMillis::now())?
            }
            // A second of long poll, so that an empty answer means empty, not a sample.
            DeadLetterBox::Sqs { dead_letter, .. } => {
                dead_letter.receive(10, Duration::from_secs(1)).await?
            }
        })
    }

    /// Sends one message to the source queue, durably.
    async fn send(&self, message: &QueueMessage) -> anyhow::Result<()> {
        let batch = std::slice::from_ref(message);
        let rejected = match self {
            DeadLetterBox::Local { source, .. } => source.send_batch(batch).await?,
            DeadLetterBox::Sqs { source, .. } => source.send_batch(batch).await?,
        };
        if let Some(entry) = rejected.first() {
            bail!("the queue refused a redriven message: {}", entry.reason);
        }
        Ok(())
    }

    /// Deletes a taken dead letter.
    async fn delete(&self, receipt: &Receipt) -> anyhow::Result<()> {
        match self {
            DeadLetterBox::Local { dead_letter, .. } => {
                dead_letter.delete(receipt)?;
            }
            DeadLetterBox::Sqs { dead_letter, .. } => dead_letter.acknowledge(receipt).await?,
        }
        Ok(())
    }

    /// Makes taken dead letters visible again (best effort: otherwise they reappear
    /// when their visibility timeout ends).
    async fn release(&self, receipts: &[Receipt]) {
        for receipt in receipts {
            let released = match self {
                DeadLetterBox::Local { dead_letter, .. } => dead_letter
                    .change_visibility(receipt, UnixMillis::now())
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                DeadLetterBox::Sqs { dead_letter, .. } => dead_letter
                    .hand_back(receipt, Duration::ZERO)
                    .await
                    .map_err(|e| e.to_string()),
            };
            if let Err(e) = released {
                tracing::warn!(error = %e, "a dead letter stays hidden until its visibility timeout ends");
            }
        }
    }
}

/// The selective relay: every dead letter is taken once; those whose reason contains
/// `reason` (up to `max`) are sent to the queue and deleted, the others released at
/// the end (releasing earlier would take them again).
async fn relay(
    dead_letters: &DeadLetterBox,
    reason: &str,
    max: Option<u64>,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<Letter>> {
    let mut seen = HashSet::new();
    let mut keep = Vec::new();
    let mut moved = Vec::new();
    let result = async {
        loop {
            if max.is_some_and(|max| moved.len() as u64 >= max) {
                return Ok(());
            }
            let batch = dead_letters.take().await?;
            let mut new = false;
            for delivery in batch {
                if !seen.insert(delivery.message_id.clone()) {
                    keep.push(delivery.receipt);
                    continue;
                }
                new = true;
                let letter = Letter::of(&DeadLetter {
                    message_id: delivery.message_id.clone(),
                    body: delivery.body.clone(),
                    attributes: delivery.attributes.clone(),
                    receive_count: delivery.receive_count,
                    sent_at: None,
                });
                let wanted = max.is_none_or(|max| (moved.len() as u64) < max);
                if wanted && letter.reason_matches(reason) {
                    // Attributes travel with the body, as SQS's own redrive keeps them.
                    dead_letters
                        .send(&QueueMessage {
                            entry_id: "0".into(),
                            body: delivery.body,
                            attributes: delivery.attributes,
                        })
                        .await?;
                    dead_letters.delete(&delivery.receipt).await?;
                    moved.push(letter);
                    bar.inc(1);
                } else {
                    keep.push(delivery.receipt);
                }
            }
            if !new {
                return Ok::<(), anyhow::Error>(());
            }
        }
    }
    .await;
    dead_letters.release(&keep).await;
    result.map(|()| moved)
}

/// A bar over `total` dead letters on a terminal; hidden with `--json` or when standard
/// error is not a terminal (then nothing is drawn at all).
fn progress_bar(show: bool, total: u64) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} dead letters moved ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// Runs `redrive` while reading the dead-letter queue's count every second into `bar`:
/// the move task reports only at its end, the queue's count moves as it goes (SQS's
/// count is approximate, so the bar is too).
async fn watching<F: std::future::Future>(
    queue: &AnyQueue,
    before: u64,
    bar: &ProgressBar,
    redrive: F,
) -> F::Output {
    if bar.is_hidden() {
        return redrive.await;
    }
    tokio::pin!(redrive);
    loop {
        tokio::select! {
            done = &mut redrive => return done,
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if let Ok(counts) = queue.counts().await {
                    bar.set_position(before.saturating_sub(counts.dead_lettered));
                }
            }
        }
    }
}

/// Runs the redrive `args` describe.
pub async fn redrive(args: &Args) -> anyhow::Result<Redrive> {
    redrive_showing(args, false).await
}

/// [`redrive`], with a progress bar on a terminal when `show`.
pub async fn redrive_showing(args: &Args, show: bool) -> anyhow::Result<Redrive> {
    let target = &args.target;
    let queue = target.queue().await?.context(
        "name the deployed queues with --queue-url and --dlq-url (and --ledger-table to tell \
         duplicates)",
    )?;
    let ledger = target.ledger().await?;
    let reason = args.reason.as_deref().filter(|r| !r.trim().is_empty());
    let before: Vec<Letter> = queue
        .dead_letters(LIST_CAP)
        .await?
        .iter()
        .map(Letter::of)
        .collect();
    let (method, letters, moved): (_, Vec<Letter>, Option<u64>) = if args.dry_run {
        let chosen = before
            .into_iter()
            .filter(|l| reason.is_none_or(|r| l.reason_matches(r)))
            .take(usize::try_from(args.max.unwrap_or(u64::MAX)).unwrap_or(usize::MAX))
            .collect();
        (None, chosen, None)
    } else if let Some(reason) = reason {
        let dead_letters = target
            .dead_letter_box()
            .await?
            .context("the dead-letter queue is not named")?;
        let matching = before.iter().filter(|l| l.reason_matches(reason)).count() as u64;
        let bar = progress_bar(show, args.max.map_or(matching, |m| m.min(matching)));
        let moved = relay(&dead_letters, reason, args.max, &bar).await;
        bar.finish_and_clear();
        (Some(RedriveMethod::Relay), moved?, None)
    } else {
        let total = queue.counts().await?.dead_lettered;
        let bar = progress_bar(show, args.max.map_or(total, |m| m.min(total)));
        let redriven = watching(&queue, total, &bar, queue.redrive(args.max)).await;
        bar.finish_and_clear();
        let redriven = redriven?;
        // Message ids stay the same in the dead-letter queue: what is gone moved.
        let after: HashSet<String> = queue
            .dead_letters(LIST_CAP)
            .await?
            .into_iter()
            .map(|l| l.message_id)
            .collect();
        let gone = before
            .into_iter()
            .filter(|l| !after.contains(&l.message_id))
            .take(usize::try_from(redriven.moved).unwrap_or(usize::MAX))
            .collect();
        (Some(redriven.method), gone, Some(redriven.moved))
    };
    // The port's own count where it gave one: a move task may move more than were listed.
    let moved = moved.unwrap_or(letters.len() as u64);
    let mut messages = Vec::new();
    for letter in letters {
        messages.push(next_of(ledger.as_ref(), letter).await?);
    }
    let left = queue.counts().await?.dead_lettered;
    Ok(Redrive {
        queue: target.queue_name(),
        dry_run: args.dry_run,
        reason: reason.map(String::from),
        max: args.max,
        method,
        moved,
        messages,
        left,
    })
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let report = redrive_showing(&args, !json).await?;
    output::print(&report, json)?;
    Ok(ExitCode::SUCCESS)
}
