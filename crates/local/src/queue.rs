//! An SQS-like standard queue in SQLite: what the worker depends on, nothing more.
//!
//! Semantics (SQS's, where the worker relies on them):
//! - **Send**: a message is visible at once (no delay queues), with receive count 0. A
//!   `send_batch` is one transaction: every entry is stored, or none and the call fails.
//! - **Receive**: up to `max` visible messages (`visible_at <= now`), oldest arrival
//!   first. Each becomes invisible until `now + visibility_timeout`, its receive count
//!   goes up by one, and it gets a fresh receipt; earlier receipts stop working.
//! - **Delete / change visibility** take the latest receipt. A receipt stays valid after
//!   the visibility timeout has passed, until the message is received again (as in SQS:
//!   a slow consumer can still delete what nobody else has taken).
//! - **Redrive to the dead-letter queue**: a message already received
//!   `max_receive_count` times is moved to the dead-letter queue by the receive that
//!   would deliver it once more, instead of being delivered. It keeps its message id,
//!   body, attributes, sent time and receive count (SQS keeps them too), and is visible
//!   there at once. Without a dead-letter queue, messages are delivered forever.
//! - **Operator redrive** ([`EmbeddedQueue::redrive_to`]): messages move to the target
//!   with a new message id and receive count 0, behind what is queued there, as
//!   `StartMessageMoveTask` does. Never de-duplicate on message ids.
//!
//! Differences from SQS, none of which the pipeline relies on: delivery order is exact
//! arrival order and every receive is exact (no sampled "short poll", no duplicate
//! deliveries), there is no retention limit, and [`EmbeddedQueue::receive`] takes any
//! `max` (SQS caps it at 10; the [`QueueConsumer`](okta_connect_core::ports::QueueConsumer)
//! of [`LocalQueue`](crate::LocalQueue) keeps SQS's cap).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use okta_connect_core::ports::{EventQueue, QueueError};
use okta_connect_core::queue::{
    DeadLetter, Delivery, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, QueueCounts, QueueMessage, Receipt,
    RejectedEntry,
};
use okta_connect_core::time::UnixMillis;
use rusqlite::params;

use crate::db::{Db, blocking};
use crate::error::{EmbeddedError, count_from_sql, from_json, to_json};

/// A queue's behaviour, as an SQS queue's attributes and redrive policy set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    /// How long a received message stays invisible unless deleted or changed.
    pub visibility_timeout: Duration,
    /// Receives after which the next receive moves the message to the dead-letter queue
    /// (SQS's `maxReceiveCount`, 1 or more).
    pub max_receive_count: u32,
}

impl Default for QueueSettings {
    /// SQS's default visibility timeout (30 s) and the smallest `maxReceiveCount` that
    /// PROTOCOLS.md §4 recommends (5).
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            max_receive_count: 5,
        }
    }
}

/// One named queue in an SQLite file, every instant passed in. Clones share the
/// connection; other handles on the same file (other queues, the ledger, another
/// process) have their own.
#[derive(Debug, Clone)]
pub struct EmbeddedQueue {
    db: Db,
    name: String,
    settings: QueueSettings,
    dead_letter: Option<String>,
}

impl EmbeddedQueue {
    /// Opens (creating if needed) queue `name` in the SQLite file at `path`; messages
    /// received more than `max_receive_count` times move to queue `dead_letter` (if Some)
    /// on the next receive, as SQS redrive does.
    ///
    /// The settings belong to this handle, not to the file: a process that only sends
    /// (`okta-connect send`) may open the queue with defaults.
    ///
    /// # Errors
    /// [`EmbeddedError::Invalid`] for an empty name, a dead-letter queue named like the
    /// queue, or `max_receive_count` 0 with a dead-letter queue; otherwise what opening
    /// the file met (see [`EmbeddedError`]).
    pub fn open(
        path: &Path,
        name: &str,
        settings: QueueSettings,
        dead_letter: Option<&str>,
    ) -> Result<Self, EmbeddedError> {
        check(name, settings, dead_letter)?;
        Ok(Self::on(Db::open(path)?, name, settings, dead_letter))
    }

    /// A handle on an open connection; the arguments were checked.
    pub(crate) fn on(
        db: Db,
        name: &str,
        settings: QueueSettings,
        dead_letter: Option<&str>,
    ) -> Self {
        Self {
            db,
            name: name.to_string(),
            settings,
            dead_letter: dead_letter.map(String::from),
        }
    }

    /// The queue's name (the value of its `queue` column).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The settings this handle receives with.
    pub fn settings(&self) -> QueueSettings {
        self.settings
    }

    /// The dead-letter queue this handle moves messages to, if any.
    pub fn dead_letter_name(&self) -> Option<&str> {
        self.dead_letter.as_deref()
    }

    /// Up to `max` visible messages; each becomes invisible until now + visibility_timeout;
    /// receive_count += 1; returns a fresh receipt per receive (an old receipt no longer
    /// deletes once the message was received again).
    ///
    /// Messages due for the dead-letter queue are moved there on the way and not counted
    /// against `max`. One `BEGIN IMMEDIATE` transaction: concurrent receivers, in this
    /// process or another, never get the same message while it is invisible.
    pub fn receive(&self, max: usize, now: UnixMillis) -> Result<Vec<Delivery>, EmbeddedError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let visible_at = now.plus(self.settings.visibility_timeout);
        self.db.write(|tx| {
            let mut received = Vec::new();
            // Walk forward by `seq` rather than re-running "visible now": with a zero
            // visibility timeout a delivered message is still visible and would come back.
            let mut after: i64 = 0;
            while received.len() < max {
                let want = i64::try_from(max - received.len()).unwrap_or(i64::MAX);
                let batch: Vec<(i64, String, String, String, i64)> = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT seq, message_id, body, attributes, receive_count
                           FROM queue_messages
                          WHERE queue = ?1 AND visible_at <= ?2 AND seq > ?3
                          ORDER BY seq LIMIT ?4",
                    )?;
                    stmt.query_map(params![self.name, now.0, after, want], |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        ))
                    })?
                    .collect::<Result<_, _>>()?
                };
                if batch.is_empty() {
                    break;
                }
                for (seq, message_id, body, attributes, count) in batch {
                    after = seq;
                    let count = count_from_sql("receive count", count)?;
                    if let Some(dlq) = &self.dead_letter
                        && count >= self.settings.max_receive_count
                    {
                        tx.execute(
                            "UPDATE queue_messages SET queue = ?2, visible_at = 0, receipt = NULL
                              WHERE seq = ?1",
                            params![seq, dlq],
                        )?;
                        continue;
                    }
                    let receipt = new_id();
                    let receive_count = count.saturating_add(1);
                    tx.execute(
                        "UPDATE queue_messages
                            SET visible_at = ?2, receive_count = ?3, receipt = ?4
                          WHERE seq = ?1",
                        params![seq, visible_at.0, receive_count, receipt],
                    )?;
                    received.push(Delivery {
                        message_id,
                        receipt: Receipt(receipt),
                        body,
                        attributes: from_json("message attributes", &attributes)?,
                        receive_count,
                    });
                }
            }
            Ok(received)
        })
    }

    /// Whether a receive at `now` would find anything (a message to deliver, or one to
    /// move to the dead-letter queue). A read: takes no write lock.
    pub(crate) fn any_visible(&self, now: UnixMillis) -> Result<bool, EmbeddedError> {
        self.db.single(|conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM queue_messages WHERE queue = ?1 AND visible_at <= ?2)",
                params![self.name, now.0],
                |row| row.get(0),
            )?)
        })
    }

    /// Deletes the message this receipt delivered. `false` if the receipt is stale (the
    /// message was received again, moved, or deleted already) or unknown.
    pub fn delete(&self, receipt: &Receipt) -> Result<bool, EmbeddedError> {
        self.db.single(|conn| {
            let deleted = conn.execute(
                "DELETE FROM queue_messages WHERE queue = ?1 AND receipt = ?2",
                params![self.name, receipt.0],
            )?;
            Ok(deleted == 1)
        })
    }

    /// Makes the message this receipt delivered visible again at `visible_at` (earlier
    /// to retry sooner, later to keep working on it; `UnixMillis(0)` for at once).
    /// `false` if the receipt is stale or unknown. The receipt stays valid.
    pub fn change_visibility(
        &self,
        receipt: &Receipt,
        visible_at: UnixMillis,
    ) -> Result<bool, EmbeddedError> {
        self.db.single(|conn| {
            let changed = conn.execute(
                "UPDATE queue_messages SET visible_at = ?3 WHERE queue = ?1 AND receipt = ?2",
                params![self.name, receipt.0, visible_at.0],
            )?;
            Ok(changed == 1)
        })
    }

    /// How many messages are receivable at `now` and how many are in flight, and how
    /// many are in this queue's dead-letter queue (0 without one), from one snapshot.
    /// Messages due for the dead-letter queue count as visible until a receive moves
    /// them.
    pub fn counts(&self, now: UnixMillis) -> Result<QueueCounts, EmbeddedError> {
        self.db.read(|tx| {
            let (visible, in_flight): (i64, i64) = tx.query_row(
                "SELECT COALESCE(SUM(visible_at <= ?2), 0), COALESCE(SUM(visible_at > ?2), 0)
                   FROM queue_messages WHERE queue = ?1",
                params![self.name, now.0],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let dead_lettered: i64 = match &self.dead_letter {
                Some(dlq) => tx.query_row(
                    "SELECT COUNT(*) FROM queue_messages WHERE queue = ?1",
                    params![dlq],
                    |row| row.get(0),
                )?,
                None => 0,
            };
            Ok(QueueCounts {
                visible: u64::try_from(visible).unwrap_or(0),
                in_flight: u64::try_from(in_flight).unwrap_or(0),
                dead_lettered: u64::try_from(dead_lettered).unwrap_or(0),
            })
        })
    }

    /// When the oldest message still in the queue (visible or in flight) was first sent;
    /// `None` when the queue is empty. What SQS reports as `ApproximateAgeOfOldestMessage`.
    pub fn oldest_sent_at(&self) -> Result<Option<UnixMillis>, EmbeddedError> {
        self.db.read(|tx| {
            let oldest: Option<i64> = tx.query_row(
                "SELECT MIN(sent_at) FROM queue_messages WHERE queue = ?1",
                params![self.name],
                |row| row.get(0),
            )?;
            Ok(oldest.map(UnixMillis))
        })
    }

    /// Every message of the queue, visible or not, in arrival order, without consuming
    /// any (for showing a queue, typically a dead-letter queue; [`DeadLetter`] is the
    /// core's type for a message read that way).
    pub fn list(&self) -> Result<Vec<DeadLetter>, EmbeddedError> {
        self.peek(None)
    }

    /// The first `max` messages (all with `None`) in arrival order, without consuming.
    pub(crate) fn peek(&self, max: Option<u64>) -> Result<Vec<DeadLetter>, EmbeddedError> {
        // SQLite reads a negative LIMIT as "no limit".
        let limit = max.map_or(-1, |m| i64::try_from(m).unwrap_or(i64::MAX));
        self.db.single(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT message_id, body, attributes, receive_count, sent_at
                   FROM queue_messages WHERE queue = ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows: Vec<(String, String, String, i64, i64)> = stmt
                .query_map(params![self.name, limit], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                })?
                .collect::<Result<_, _>>()?;
            rows.into_iter()
                .map(|(message_id, body, attributes, count, sent_at)| {
                    Ok(DeadLetter {
                        message_id,
                        body,
                        attributes: from_json("message attributes", &attributes)?,
                        receive_count: count_from_sql("receive count", count)?,
                        sent_at: Some(UnixMillis(sent_at)),
                    })
                })
                .collect()
        })
    }

    /// Moves the oldest `max` messages (all with `None`) of this queue to `target`, with
    /// new message ids and receive_count 0 (operator redrive), in one transaction: a
    /// crash leaves each message in exactly one of the two queues. Messages in flight
    /// move too (an operator redrives a dead-letter queue nobody consumes). Returns how
    /// many moved.
    ///
    /// # Errors
    /// [`EmbeddedError::Invalid`] if `target` is this queue or lives in another file.
    pub fn redrive_to(
        &self,
        target: &EmbeddedQueue,
        max: Option<u64>,
    ) -> Result<u64, EmbeddedError> {
        if !self.db.same_file(&target.db) {
            return Err(EmbeddedError::Invalid(format!(
                "cannot redrive {} to {}: the queues are in different database files",
                self.name, target.name
            )));
        }
        if target.name == self.name {
            return Err(EmbeddedError::Invalid(format!(
                "cannot redrive queue {} to itself",
                self.name
            )));
        }
        let limit = max.map_or(-1, |m| i64::try_from(m).unwrap_or(i64::MAX));
        let sent_at = UnixMillis::now();
        self.db.write(|tx| {
            let rows: Vec<(i64, String, String)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT seq, body, attributes FROM queue_messages
                      WHERE queue = ?1 ORDER BY seq LIMIT ?2",
                )?;
                stmt.query_map(params![self.name, limit], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?
                .collect::<Result<_, _>>()?
            };
            for (seq, body, attributes) in &rows {
                insert(tx, &target.name, body, attributes, sent_at)?;
                tx.prepare_cached("DELETE FROM queue_messages WHERE seq = ?1")?
                    .execute(params![seq])?;
            }
            Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
        })
    }

    /// Stores a batch in one transaction after SQS's checks; see [`EventQueue`].
    pub(crate) fn store(&self, batch: &[QueueMessage]) -> Result<(), EmbeddedError> {
        if batch.len() > MAX_BATCH_ENTRIES {
            return Err(EmbeddedError::Invalid(format!(
                "{} entries in one batch (SQS allows {MAX_BATCH_ENTRIES})",
                batch.len()
            )));
        }
        let bytes: usize = batch.iter().map(QueueMessage::payload_bytes).sum();
        if bytes > MAX_BATCH_BYTES {
            return Err(EmbeddedError::Invalid(format!(
                "batch of {bytes} bytes (SQS allows {MAX_BATCH_BYTES})"
            )));
        }
        for (i, message) in batch.iter().enumerate() {
            if batch[..i].iter().any(|m| m.entry_id == message.entry_id) {
                return Err(EmbeddedError::Invalid(format!(
                    "entry id {} appears twice in one batch",
                    message.entry_id
                )));
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let encoded = batch
            .iter()
            .map(|m| {
                // SQS refuses empty attribute values, and the SQS adapter leaves them
                // out: leave them out here too, so the worker sees what it sees on AWS.
                let attributes: BTreeMap<&str, &str> = m
                    .attributes
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                to_json("message attributes", &attributes)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sent_at = UnixMillis::now();
        self.db.write(|tx| {
            for (message, attributes) in batch.iter().zip(&encoded) {
                insert(tx, &self.name, &message.body, attributes, sent_at)?;
            }
            Ok(())
        })
    }
}

/// Checks a queue's name, settings and dead-letter queue (see [`EmbeddedQueue::open`]).
pub(crate) fn check(
    name: &str,
    settings: QueueSettings,
    dead_letter: Option<&str>,
) -> Result<(), EmbeddedError> {
    if name.is_empty() {
        return Err(EmbeddedError::Invalid("a queue needs a name".into()));
    }
    if let Some(dlq) = dead_letter {
        if dlq.is_empty() || dlq == name {
            return Err(EmbeddedError::Invalid(format!(
                "queue {name}: the dead-letter queue must be another, named queue"
            )));
        }
        if settings.max_receive_count == 0 {
            return Err(EmbeddedError::Invalid(format!(
                "queue {name}: max_receive_count must be at least 1 with a dead-letter queue"
            )));
        }
    }
    Ok(())
}

/// Adds a new message (fresh id, visible at once, never received) to `queue`.
fn insert(
    tx: &rusqlite::Transaction<'_>,
    queue: &str,
    body: &str,
    attributes_json: &str,
    sent_at: UnixMillis,
) -> Result<(), EmbeddedError> {
    tx.prepare_cached(
        "INSERT INTO queue_messages
                (queue, message_id, body, attributes, sent_at, visible_at, receive_count)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)",
    )?
    .execute(params![queue, new_id(), body, attributes_json, sent_at.0])?;
    Ok(())
}

/// A random id for messages and receipts (a v4 UUID, as SQS message ids are).
fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl EventQueue for EmbeddedQueue {
    /// Stores the whole batch in one transaction and answers `Ok(vec![])`, or stores
    /// nothing and fails the call: never a partial batch. Like SQS, more than
    /// [`MAX_BATCH_ENTRIES`] entries, more than [`MAX_BATCH_BYTES`] or a repeated entry id
    /// fail the whole call permanently; a busy or unwritable file fails it transiently.
    /// An empty batch stores nothing and succeeds. Runs on the blocking pool.
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        let this = self.clone();
        let batch = batch.to_vec();
        blocking(move || this.store(&batch)).await?;
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_max_receive_count_needs_no_dead_letter_queue() {
        let dir = std::env::temp_dir().join(format!("okta-connect-queue-unit-{}", new_id()));
        let path = dir.join("q.db");
        let settings = QueueSettings {
            max_receive_count: 0,
            ..QueueSettings::default()
        };
        assert!(matches!(
            EmbeddedQueue::open(&path, "events", settings, Some("dlq")),
            Err(EmbeddedError::Invalid(_))
        ));
        assert!(matches!(
            EmbeddedQueue::open(&path, "events", QueueSettings::default(), Some("events")),
            Err(EmbeddedError::Invalid(_))
        ));
        assert!(EmbeddedQueue::open(&path, "events", settings, None).is_ok());
        let _ = std::fs::remove_dir_all(dir);
    }
}
