//! The source queue and its dead-letter queue as one handle: the [`QueueConsumer`] port
//! (and the producer side of the source queue) on the wall clock.

use std::path::Path;
use std::time::{Duration, Instant};

use okta_connect_core::ports::{EventQueue, QueueConsumer, QueueError};
use okta_connect_core::queue::{
    DeadLetter, Delivery, MAX_RECEIVE, QueueCounts, QueueMessage, Receipt, RedriveMethod, Redriven,
    RejectedEntry,
};
use okta_connect_core::time::UnixMillis;

use crate::db::{Db, blocking};
use crate::error::EmbeddedError;
use crate::queue::{EmbeddedQueue, QueueSettings, check};

/// How often [`LocalQueue`]'s `receive` looks again while it waits for a message.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A source queue and its dead-letter queue in one SQLite file, on one connection:
/// what the local worker loop consumes and the operator's `dlq` / `redrive` commands
/// read. Clones share the connection.
///
/// Messages received more than `max_receive_count` times move to the dead-letter queue
/// on the next receive (SQS's redrive policy); see [`EmbeddedQueue`] for the queue's
/// semantics.
#[derive(Debug, Clone)]
pub struct LocalQueue {
    source: EmbeddedQueue,
    dead_letter: EmbeddedQueue,
}

impl LocalQueue {
    /// Opens (creating if needed) queue `name` and its dead-letter queue `dead_letter`
    /// in the SQLite file at `path`.
    ///
    /// # Errors
    /// [`EmbeddedError::Invalid`] for an empty name, a dead-letter queue named like the
    /// queue, or `max_receive_count` 0; otherwise what opening the file met.
    pub fn open(
        path: &Path,
        name: &str,
        settings: QueueSettings,
        dead_letter: &str,
    ) -> Result<Self, EmbeddedError> {
        check(name, settings, Some(dead_letter))?;
        let db = Db::open(path)?;
        Ok(Self {
            source: EmbeddedQueue::on(db.clone(), name, settings, Some(dead_letter)),
            // The dead-letter queue has no dead-letter queue of its own (as in SQS):
            // whoever receives from it directly gets its messages forever.
            dead_letter: EmbeddedQueue::on(db, dead_letter, settings, None),
        })
    }

    /// The source queue (to send to it, or to work on it at explicit instants).
    pub fn source(&self) -> &EmbeddedQueue {
        &self.source
    }

    /// The dead-letter queue (the worker sends a message it gives up on here).
    pub fn dead_letter(&self) -> &EmbeddedQueue {
        &self.dead_letter
    }
}

impl EventQueue for LocalQueue {
    /// Sends to the source queue; see [`EmbeddedQueue`]'s `send_batch`.
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        self.source.send_batch(batch).await
    }
}

impl QueueConsumer for LocalQueue {
    /// Up to `max` messages, at most [`MAX_RECEIVE`] as on SQS (`max` 0 or above it is
    /// refused, [`QueueError::Permanent`]). When nothing is visible it looks again every
    /// [`POLL_INTERVAL`] until `wait` has passed (SQS's long poll), then answers empty;
    /// with `wait` zero it answers at once. Dropping the future between two looks loses
    /// nothing: each look is one transaction that delivers or does not.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 || max > MAX_RECEIVE {
            return Err(QueueError::Permanent(format!(
                "receive takes 1 to {MAX_RECEIVE} messages, not {max}"
            )));
        }
        let deadline = Instant::now() + wait;
        loop {
            let source = self.source.clone();
            let got = blocking(move || {
                let now = UnixMillis::now();
                // A read first, so that an idle poll never takes the write lock.
                if source.any_visible(now)? {
                    source.receive(max, now)
                } else {
                    Ok(Vec::new())
                }
            })
            .await?;
            let left = deadline.saturating_duration_since(Instant::now());
            if !got.is_empty() || left.is_zero() {
                return Ok(got);
            }
            // Slept on the blocking pool rather than with a Tokio timer, which would
            // need a runtime with timers enabled (and panic in one without).
            let pause = left.min(POLL_INTERVAL);
            blocking(move || {
                std::thread::sleep(pause);
                Ok(())
            })
            .await?;
        }
    }

    /// Deletes the delivered message; a stale or unknown receipt does nothing.
    async fn acknowledge(&self, receipt: &Receipt) -> Result<(), QueueError> {
        let (source, receipt) = (self.source.clone(), receipt.clone());
        blocking(move || source.delete(&receipt)).await?;
        Ok(())
    }

    /// Makes the delivered message visible again `delay` from now; a stale or unknown
    /// receipt does nothing (the message's newer delivery settles it).
    async fn hand_back(&self, receipt: &Receipt, delay: Duration) -> Result<(), QueueError> {
        let (source, receipt) = (self.source.clone(), receipt.clone());
        blocking(move || source.change_visibility(&receipt, UnixMillis::now().plus(delay))).await?;
        Ok(())
    }

    /// Exact counts from one snapshot: the source queue's visible and in-flight messages
    /// and everything in the dead-letter queue.
    async fn counts(&self) -> Result<QueueCounts, QueueError> {
        let source = self.source.clone();
        Ok(blocking(move || source.counts(UnixMillis::now())).await?)
    }

    /// The oldest `max` messages of the dead-letter queue, in arrival order, visible or
    /// not; none is consumed.
    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError> {
        let dead_letter = self.dead_letter.clone();
        let max = u64::try_from(max).unwrap_or(u64::MAX);
        Ok(blocking(move || dead_letter.peek(Some(max))).await?)
    }

    /// Moves the oldest `max` (all with `None`) dead-lettered messages behind the
    /// source queue's, with new message ids and receive count 0, in one transaction
    /// ([`RedriveMethod::Transaction`]).
    async fn redrive(&self, max: Option<u64>) -> Result<Redriven, QueueError> {
        let (source, dead_letter) = (self.source.clone(), self.dead_letter.clone());
        let moved = blocking(move || dead_letter.redrive_to(&source, max)).await?;
        Ok(Redriven {
            moved,
            method: RedriveMethod::Transaction,
        })
    }
}
