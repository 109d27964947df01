//! SQS adapters: [`SqsQueue`] (the [`EventQueue`] port: one `SendMessageBatch` per
//! call) and [`SqsConsumer`] (the [`QueueConsumer`] port over a source queue and its
//! dead-letter queue: receive, acknowledge, hand back, counts, dead letters, redrive).
//!
//! Classification, by typed matching only (never by message text), through
//! [`sdk::error_class`]:
//! - a call as a whole: transport failures (timeout, connection, unreadable answer),
//!   throttling (`RequestThrottled`, `KmsThrottled`, `OverLimit`) and 5xx are
//!   [`QueueError::Transient`]; a missing queue, a malformed batch, KMS or permission
//!   problems (and any other unmodelled 4xx) are [`QueueError::Permanent`];
//! - each failed entry of a batch: `SenderFault = true` (the entry itself is bad, e.g.
//!   invalid characters or too large) is [`ErrorClass::Permanent`]; otherwise SQS had a
//!   problem on its side and the entry is [`ErrorClass::Transient`];
//! - settling a delivery with a receipt handle SQS no longer accepts
//!   (`ReceiptHandleIsInvalid`, `MessageNotInflight`) is not an error: the message was
//!   received again (or moved to the dead-letter queue), and that delivery settles it.
//!
//! An entry that SQS lists neither as successful nor as failed is reported as a
//! transient rejection: the port's contract is that every entry *not* reported is
//! durable, so silence is never taken for success.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::operation::change_message_visibility::ChangeMessageVisibilityError;
use aws_sdk_sqs::operation::change_message_visibility_batch::ChangeMessageVisibilityBatchError;
use aws_sdk_sqs::operation::delete_message::DeleteMessageError;
use aws_sdk_sqs::operation::delete_message_batch::DeleteMessageBatchError;
use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesError;
use aws_sdk_sqs::operation::list_message_move_tasks::ListMessageMoveTasksError;
use aws_sdk_sqs::operation::receive_message::ReceiveMessageError;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
use aws_sdk_sqs::operation::start_message_move_task::StartMessageMoveTaskError;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, Message,
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use okta_connect_core::ports::{ErrorClass, EventQueue, QueueConsumer, QueueError};
use okta_connect_core::queue::{
    Attributes, DeadLetter, Delivery, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_RECEIVE, QueueCounts,
    QueueMessage, Receipt, RedriveMethod, Redriven, RejectedEntry,
};
use okta_connect_core::time::UnixMillis;

use crate::sdk::{self, HttpResponse, RequestCounter, SdkError};

/// SQS's longest long poll.
const MAX_WAIT: Duration = Duration::from_secs(20);
/// SQS's longest visibility timeout (12 h).
const MAX_VISIBILITY_SECS: u64 = 43_200;
/// How long [`SqsConsumer::dead_letters`] hides the messages it reads while it pages
/// through the dead-letter queue; they are made visible again at once afterwards (this
/// is only the fallback if that fails).
const PEEK_VISIBILITY_SECS: i32 = 10;
/// How long the relay hides a dead letter between receiving it and deleting it after the
/// copy was sent; if the relay dies in between, the message reappears in the DLQ.
const RELAY_VISIBILITY_SECS: i32 = 60;
/// Long poll of each receive from the dead-letter queue: a short poll samples only some
/// SQS servers and may come back empty while messages remain.
const DLQ_WAIT_SECS: i32 = 1;
/// Timeouts assumed when the client's configuration has none (it always has: see
/// [`sdk::load`]).
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- producer

/// A standard SQS queue to send to, through one client built at cold start.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    requests: RequestCounter,
}

impl SqsQueue {
    /// A queue on an existing client, rebuilt with this queue's request counter (prefer
    /// [`from_config`](Self::from_config)).
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::counted_sqs_client(&client, &requests),
            queue_url: queue_url.into(),
            requests,
        }
    }

    /// A queue with a client built from `config` (see [`sdk::load`]); build it once per
    /// process and share it.
    pub fn from_config(config: &SdkConfig, queue_url: impl Into<String>) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::sqs_client(config, &requests),
            queue_url: queue_url.into(),
            requests,
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// The SQS client (tests use it to create queues and inspect messages).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// SQS requests sent so far by this queue and its clones.
    pub fn requests(&self) -> u64 {
        self.requests.get()
    }
}

/// The SQS request entry for one message; attributes are of type `String`. Empty
/// attribute values are left out (SQS refuses them).
fn request_entry(message: &QueueMessage) -> Result<SendMessageBatchRequestEntry, QueueError> {
    let mut entry = SendMessageBatchRequestEntry::builder()
        .id(&message.entry_id)
        .message_body(&message.body);
    for (name, value) in &message.attributes {
        if value.is_empty() {
            continue;
        }
        entry = entry.message_attributes(name, string_attribute(name, value)?);
    }
    entry
        .build()
        .map_err(|e| QueueError::Permanent(format!("batch entry {}: {e}", message.entry_id)))
}

fn string_attribute(name: &str, value: &str) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| QueueError::Permanent(format!("message attribute {name}: {e}")))
}

/// Whether a failed `SendMessageBatch` as a whole may succeed if repeated.
pub fn classify_batch_error(err: &SdkError<SendMessageBatchError, HttpResponse>) -> ErrorClass {
    sdk::error_class(err, Typed::class)
}

/// A rejected entry from SQS's per-entry failure report.
fn rejected(id: &str, sender_fault: bool, code: &str, message: Option<&str>) -> RejectedEntry {
    RejectedEntry {
        entry_id: id.to_string(),
        class: if sender_fault {
            ErrorClass::Permanent
        } else {
            ErrorClass::Transient
        },
        reason: match message {
            Some(m) => format!("{code}: {m}"),
            None => code.to_string(),
        },
    }
}

/// Sends `entries` (at most 10, at most 256 KiB) to `queue_url`; `Ok` lists the entries
/// SQS did not accept, including those it did not answer for.
async fn send_entries(
    client: &Client,
    queue_url: &str,
    entries: Vec<SendMessageBatchRequestEntry>,
) -> Result<Vec<RejectedEntry>, QueueError> {
    let ids: Vec<String> = entries.iter().map(|e| e.id().to_string()).collect();
    let output = client
        .send_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(|err| queue_error("SendMessageBatch", queue_url, &err))?;
    let mut out: Vec<RejectedEntry> = output
        .failed()
        .iter()
        .map(|f| rejected(f.id(), f.sender_fault(), f.code(), f.message()))
        .collect();
    let mut answered: HashSet<&str> = output.successful().iter().map(|s| s.id()).collect();
    answered.extend(output.failed().iter().map(|f| f.id()));
    out.extend(
        ids.iter()
            .filter(|id| !answered.contains(id.as_str()))
            .map(|id| RejectedEntry {
                entry_id: id.clone(),
                class: ErrorClass::Transient,
                reason: "SQS reported no result for this entry".into(),
            }),
    );
    Ok(out)
}

impl EventQueue for SqsQueue {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let entries = batch
            .iter()
            .map(request_entry)
            .collect::<Result<Vec<_>, _>>()?;
        send_entries(&self.client, &self.queue_url, entries).await
    }
}

// ---------------------------------------------------------------- consumer

/// How [`SqsConsumer::redrive`] moves dead letters back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqsRedrive {
    /// SQS's own `StartMessageMoveTask` (DLQ ARN → source ARN), followed with
    /// `ListMessageMoveTasks` until it completes. AWS only.
    MoveTask,
    /// Receive from the DLQ, send to the source queue, delete from the DLQ: for
    /// endpoints without `StartMessageMoveTask` (moto answers it with a 500).
    Relay,
}

impl SqsRedrive {
    /// The method for an SDK configuration: [`Relay`](Self::Relay) when it points at an
    /// endpoint override (an emulator: [`sdk::AwsSettings::emulator`]), otherwise
    /// [`MoveTask`](Self::MoveTask). Decided from configuration, never by trying one
    /// and reading the error; override it with [`SqsConsumer::with_redrive`] (a VPC
    /// endpoint of real SQS, say, supports move tasks).
    pub fn for_config(config: &SdkConfig) -> Self {
        match config.endpoint_url() {
            Some(_) => SqsRedrive::Relay,
            None => SqsRedrive::MoveTask,
        }
    }
}

/// The consuming side of a standard SQS queue with a redrive policy to `dead_letter_url`.
#[derive(Debug, Clone)]
pub struct SqsConsumer {
    client: Client,
    queue_url: String,
    dead_letter_url: String,
    redrive: SqsRedrive,
    move_task_poll: Duration,
    redrive_limit: Duration,
    requests: RequestCounter,
}

impl SqsConsumer {
    /// A consumer of `queue_url` whose dead-letter queue is `dead_letter_url`, with a
    /// client built from `config` and the redrive method [`SqsRedrive::for_config`].
    pub fn from_config(
        config: &SdkConfig,
        queue_url: impl Into<String>,
        dead_letter_url: impl Into<String>,
    ) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::sqs_client(config, &requests),
            queue_url: queue_url.into(),
            dead_letter_url: dead_letter_url.into(),
            redrive: SqsRedrive::for_config(config),
            move_task_poll: Duration::from_secs(2),
            redrive_limit: Duration::from_secs(15 * 60),
            requests,
        }
    }

    /// Chooses the redrive method explicitly.
    pub fn with_redrive(mut self, redrive: SqsRedrive) -> Self {
        self.redrive = redrive;
        self
    }

    /// How often a move task's progress is read, and how long a redrive may take in all
    /// before it gives up (transiently; a move task goes on in SQS). Defaults: 2 s and
    /// 15 minutes.
    pub fn with_redrive_timing(mut self, poll: Duration, limit: Duration) -> Self {
        self.move_task_poll = poll;
        self.redrive_limit = limit;
        self
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn dead_letter_url(&self) -> &str {
        &self.dead_letter_url
    }

    /// The redrive method used when [`QueueConsumer::redrive`] moves everything.
    pub fn redrive_method(&self) -> SqsRedrive {
        self.redrive
    }

    /// The SQS client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// SQS requests sent so far by this consumer and its clones.
    pub fn requests(&self) -> u64 {
        self.requests.get()
    }

    /// A config override that lets one long poll of `wait` finish: the client's attempt
    /// and operation timeouts, each lengthened by `wait`.
    fn long_poll(&self, wait: Duration) -> aws_sdk_sqs::config::Builder {
        let base = self.client.config().timeout_config();
        let attempt = base
            .and_then(|t| t.operation_attempt_timeout())
            .unwrap_or(FALLBACK_TIMEOUT);
        let operation = base
            .and_then(|t| t.operation_timeout())
            .unwrap_or(FALLBACK_TIMEOUT);
        let timeouts = base
            .map(|t| t.to_builder())
            .unwrap_or_default()
            .operation_attempt_timeout(attempt + wait)
            .operation_timeout(operation + wait)
            .build();
        aws_sdk_sqs::config::Builder::default().timeout_config(timeouts)
    }

    /// One `ReceiveMessage` on `queue_url`, with the receive count, sent time and every
    /// message attribute.
    async fn receive_from(
        &self,
        queue_url: &str,
        max: usize,
        wait_secs: i32,
        visibility_secs: Option<i32>,
    ) -> Result<Vec<Message>, QueueError> {
        let max = i32::try_from(max.clamp(1, MAX_RECEIVE)).unwrap_or(1);
        let output = self
            .client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait_secs)
            .set_visibility_timeout(visibility_secs)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_attribute_names("All")
            .customize()
            .config_override(
                self.long_poll(Duration::from_secs(u64::try_from(wait_secs).unwrap_or(0))),
            )
            .send()
            .await
            .map_err(|err| queue_error("ReceiveMessage", queue_url, &err))?;
        Ok(output.messages.unwrap_or_default())
    }

    /// The `QueueArn` of `queue_url`.
    async fn queue_arn(&self, queue_url: &str) -> Result<String, QueueError> {
        let attributes = self
            .queue_attributes(queue_url, &[QueueAttributeName::QueueArn])
            .await?;
        attributes
            .get(&QueueAttributeName::QueueArn)
            .cloned()
            .ok_or_else(|| {
                QueueError::Permanent(format!(
                    "SQS GetQueueAttributes on {queue_url} returned no QueueArn"
                ))
            })
    }

    async fn queue_attributes(
        &self,
        queue_url: &str,
        names: &[QueueAttributeName],
    ) -> Result<HashMap<QueueAttributeName, String>, QueueError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(queue_url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(|err| queue_error("GetQueueAttributes", queue_url, &err))?;
        Ok(output.attributes.unwrap_or_default())
    }

    /// Visible and not-visible counts of one queue.
    async fn depth(&self, queue_url: &str) -> Result<(u64, u64), QueueError> {
        let attributes = self
            .queue_attributes(
                queue_url,
                &[
                    QueueAttributeName::ApproximateNumberOfMessages,
                    QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                ],
            )
            .await?;
        let count = |name: &QueueAttributeName| -> Result<u64, QueueError> {
            match attributes.get(name) {
                None => Ok(0),
                Some(text) => text.parse().map_err(|_| {
                    QueueError::Permanent(format!(
                        "SQS GetQueueAttributes on {queue_url}: {name} is not a count: {text}"
                    ))
                }),
            }
        };
        Ok((
            count(&QueueAttributeName::ApproximateNumberOfMessages)?,
            count(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?,
        ))
    }

    /// Makes received messages of the DLQ visible again (best effort: if it fails they
    /// reappear when their short visibility timeout ends).
    async fn unhide(&self, receipts: Vec<String>) {
        for chunk in receipts.chunks(MAX_BATCH_ENTRIES) {
            let entries: Result<Vec<_>, _> = chunk
                .iter()
                .enumerate()
                .map(|(i, receipt)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(receipt)
                        .visibility_timeout(0)
                        .build()
                })
                .collect();
            let Ok(entries) = entries else { continue };
            let result = self
                .client
                .change_message_visibility_batch()
                .queue_url(&self.dead_letter_url)
                .set_entries(Some(entries))
                .send()
                .await;
            match result {
                Ok(output) if output.failed().is_empty() => {}
                Ok(output) => tracing::warn!(
                    queue = %self.dead_letter_url,
                    failed = output.failed().len(),
                    "some dead letters stay hidden until their visibility timeout ends"
                ),
                Err(err) => tracing::warn!(
                    queue = %self.dead_letter_url,
                    error = %queue_error("ChangeMessageVisibilityBatch", &self.dead_letter_url, &err),
                    "dead letters stay hidden until their visibility timeout ends"
                ),
            }
        }
    }

    /// Relay: receive from the DLQ, send each to the source queue, delete it from the
    /// DLQ once the copy is durable. At least once: a copy whose delete failed is in
    /// both queues (uuid de-duplication makes that harmless).
    async fn relay(&self, max: Option<u64>) -> Result<Redriven, QueueError> {
        let started = Instant::now();
        let mut moved: u64 = 0;
        loop {
            let remaining = max.map_or(MAX_RECEIVE as u64, |m| m.saturating_sub(moved));
            if remaining == 0 {
                break;
            }
            if started.elapsed() > self.redrive_limit {
                return Err(QueueError::Transient(format!(
                    "redrive of {} stopped after {:?} with {moved} messages moved",
                    self.dead_letter_url, self.redrive_limit
                )));
            }
            let want = usize::try_from(remaining.min(MAX_RECEIVE as u64)).unwrap_or(MAX_RECEIVE);
            let messages = self
                .receive_from(
                    &self.dead_letter_url,
                    want,
                    DLQ_WAIT_SECS,
                    Some(RELAY_VISIBILITY_SECS),
                )
                .await?;
            if messages.is_empty() {
                break;
            }
            moved += self.relay_batch(&messages).await.map_err(|err| match err {
                QueueError::Transient(m) => {
                    QueueError::Transient(format!("{m} ({moved} messages moved before)"))
                }
                QueueError::Permanent(m) => {
                    QueueError::Permanent(format!("{m} ({moved} messages moved before)"))
                }
            })?;
        }
        Ok(Redriven {
            moved,
            method: RedriveMethod::Relay,
        })
    }

    /// Copies `messages` (one receive, at most 10) to the source queue and deletes from
    /// the DLQ those whose copy was accepted (even when a later send failed); returns how
    /// many moved. Refused ones stay in the DLQ, visible again after the relay's
    /// visibility timeout.
    async fn relay_batch(&self, messages: &[Message]) -> Result<u64, QueueError> {
        let mut sent: Vec<&str> = Vec::new();
        let copied = self.copy_to_source(messages, &mut sent).await;
        self.delete_dead_letters(&sent).await?;
        copied?;
        Ok(sent.len() as u64)
    }

    /// Sends `messages` to the source queue in batches within SQS's limits, adding the
    /// DLQ receipt of each accepted copy to `sent`; stops at the first refusal.
    async fn copy_to_source<'m>(
        &self,
        messages: &'m [Message],
        sent: &mut Vec<&'m str>,
    ) -> Result<(), QueueError> {
        for group in byte_bounded(messages) {
            let entries = group
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(m.body().unwrap_or_default())
                        .set_message_attributes(m.message_attributes.clone())
                        .build()
                        .map_err(|e| QueueError::Permanent(format!("relay entry: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let rejected = send_entries(&self.client, &self.queue_url, entries).await?;
            let refused: HashSet<&str> = rejected.iter().map(|r| r.entry_id.as_str()).collect();
            sent.extend(
                group
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !refused.contains(i.to_string().as_str()))
                    .filter_map(|(_, m)| m.receipt_handle()),
            );
            if let Some(first) = rejected.first() {
                let reason = format!(
                    "SQS SendMessageBatch on {}: {} of {} relayed messages refused: {}",
                    self.queue_url,
                    rejected.len(),
                    group.len(),
                    first.reason
                );
                return Err(match first.class {
                    ErrorClass::Transient => QueueError::Transient(reason),
                    ErrorClass::Permanent => QueueError::Permanent(reason),
                });
            }
        }
        Ok(())
    }

    async fn delete_dead_letters(&self, receipts: &[&str]) -> Result<(), QueueError> {
        for chunk in receipts.chunks(MAX_BATCH_ENTRIES) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, receipt)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(*receipt)
                        .build()
                        .map_err(|e| QueueError::Permanent(format!("delete entry: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .delete_message_batch()
                .queue_url(&self.dead_letter_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|err| queue_error("DeleteMessageBatch", &self.dead_letter_url, &err))?;
            if let Some(failed) = output.failed().first() {
                let message = format!(
                    "SQS DeleteMessageBatch on {}: {} relayed messages not deleted (they are now \
                     in both queues): {}",
                    self.dead_letter_url,
                    output.failed().len(),
                    failed.code()
                );
                return Err(if failed.sender_fault() {
                    QueueError::Permanent(message)
                } else {
                    QueueError::Transient(message)
                });
            }
        }
        Ok(())
    }

    /// MoveTask: `StartMessageMoveTask` from the DLQ to the source queue, then
    /// `ListMessageMoveTasks` until the task is no longer running.
    async fn move_task(&self) -> Result<Redriven, QueueError> {
        let started = Instant::now();
        let source_arn = self.queue_arn(&self.dead_letter_url).await?;
        let destination_arn = self.queue_arn(&self.queue_url).await?;
        let task = self
            .client
            .start_message_move_task()
            .source_arn(&source_arn)
            .destination_arn(&destination_arn)
            .send()
            .await
            .map_err(|err| queue_error("StartMessageMoveTask", &source_arn, &err))?;
        let handle = task.task_handle().unwrap_or_default().to_string();
        loop {
            let tasks = self
                .client
                .list_message_move_tasks()
                .source_arn(&source_arn)
                .max_results(1)
                .send()
                .await
                .map_err(|err| queue_error("ListMessageMoveTasks", &source_arn, &err))?;
            // SQS lists the newest task first, and runs one task per source queue at a
            // time: the newest one is the task just started. (Only a running task shows
            // its handle.)
            if let Some(newest) = tasks.results().first()
                && newest.task_handle().is_none_or(|h| h == handle)
            {
                let moved =
                    u64::try_from(newest.approximate_number_of_messages_moved()).unwrap_or(0);
                match newest.status() {
                    Some("COMPLETED") => {
                        return Ok(Redriven {
                            moved,
                            method: RedriveMethod::MoveTask,
                        });
                    }
                    Some("FAILED") => {
                        return Err(QueueError::Permanent(format!(
                            "SQS move task from {source_arn} failed after {moved} messages: {}",
                            newest.failure_reason().unwrap_or("no reason given")
                        )));
                    }
                    Some("CANCELLING" | "CANCELLED") => {
                        return Err(QueueError::Transient(format!(
                            "SQS move task from {source_arn} was cancelled after {moved} messages"
                        )));
                    }
                    // RUNNING (or a status newer than this code): keep following it.
                    _ => {}
                }
            }
            if started.elapsed() + self.move_task_poll > self.redrive_limit {
                return Err(QueueError::Transient(format!(
                    "SQS move task from {source_arn} still running after {:?}; it goes on in SQS",
                    self.redrive_limit
                )));
            }
            tokio::time::sleep(self.move_task_poll).await;
        }
    }
}

/// `messages` in runs whose bodies and attributes fit one `SendMessageBatch`.
fn byte_bounded(messages: &[Message]) -> Vec<&[Message]> {
    let size = |m: &Message| -> usize {
        m.body().map_or(0, str::len)
            + m.message_attributes().map_or(0, |a| {
                a.iter()
                    .map(|(k, v)| {
                        k.len()
                            + v.data_type().len()
                            + v.string_value().map_or(0, str::len)
                            + v.binary_value().map_or(0, |b| b.as_ref().len())
                    })
                    .sum()
            })
    };
    let mut groups = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let n = size(m);
        if i > start && (bytes + n > MAX_BATCH_BYTES || i - start == MAX_BATCH_ENTRIES) {
            groups.push(&messages[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += n;
    }
    if start < messages.len() {
        groups.push(&messages[start..]);
    }
    groups
}

/// String (and Number) message attributes; binary ones are not part of the schema.
fn attributes_of(message: &Message) -> Attributes {
    message
        .message_attributes()
        .map(|a| {
            a.iter()
                .filter_map(|(k, v)| v.string_value().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn system_attribute(message: &Message, name: MessageSystemAttributeName) -> Option<&str> {
    message
        .attributes()
        .and_then(|a| a.get(&name))
        .map(String::as_str)
}

fn receive_count(message: &Message) -> u32 {
    system_attribute(message, MessageSystemAttributeName::ApproximateReceiveCount)
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn sent_at(message: &Message) -> Option<UnixMillis> {
    system_attribute(message, MessageSystemAttributeName::SentTimestamp)
        .and_then(|v| v.parse().ok())
        .map(UnixMillis)
}

/// A received message as a [`Delivery`]; SQS always sends an id and a receipt handle.
fn delivery(queue_url: &str, message: Message) -> Result<Delivery, QueueError> {
    let missing = |what: &str| {
        QueueError::Permanent(format!(
            "SQS ReceiveMessage on {queue_url} returned a message without {what}"
        ))
    };
    Ok(Delivery {
        message_id: message
            .message_id()
            .ok_or_else(|| missing("a MessageId"))?
            .to_string(),
        receipt: Receipt(
            message
                .receipt_handle()
                .ok_or_else(|| missing("a ReceiptHandle"))?
                .to_string(),
        ),
        attributes: attributes_of(&message),
        receive_count: receive_count(&message),
        body: message.body.unwrap_or_default(),
    })
}

impl QueueConsumer for SqsConsumer {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let wait_secs = i32::try_from(wait.min(MAX_WAIT).as_secs()).unwrap_or(0);
        self.receive_from(&self.queue_url, max, wait_secs, None)
            .await?
            .into_iter()
            .map(|m| delivery(&self.queue_url, m))
            .collect()
    }

    async fn acknowledge(&self, receipt: &Receipt) -> Result<(), QueueError> {
        let result = self
            .client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(&receipt.0)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_stale_delete(&err) => Ok(()),
            Err(err) => Err(queue_error("DeleteMessage", &self.queue_url, &err)),
        }
    }

    async fn hand_back(&self, receipt: &Receipt, delay: Duration) -> Result<(), QueueError> {
        let seconds = i32::try_from(delay.as_secs().min(MAX_VISIBILITY_SECS)).unwrap_or(0);
        let result = self
            .client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(&receipt.0)
            .visibility_timeout(seconds)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_stale_visibility_change(&err) => Ok(()),
            Err(err) => Err(queue_error(
                "ChangeMessageVisibility",
                &self.queue_url,
                &err,
            )),
        }
    }

    async fn counts(&self) -> Result<QueueCounts, QueueError> {
        let (visible, in_flight) = self.depth(&self.queue_url).await?;
        let (dead_visible, dead_hidden) = self.depth(&self.dead_letter_url).await?;
        Ok(QueueCounts {
            visible,
            in_flight,
            // A dead letter being read (or relayed) right now is still a dead letter.
            dead_lettered: dead_visible + dead_hidden,
        })
    }

    /// Pages through the DLQ, hiding what it read for a few seconds so the next receive
    /// returns other messages, until a receive brings no new message id or `max` are
    /// read; then makes them all visible again. Oldest first by `SentTimestamp`.
    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError> {
        let mut seen: HashMap<String, DeadLetter> = HashMap::new();
        // The newest receipt of each message read: the one that can unhide it.
        let mut receipts: HashMap<String, String> = HashMap::new();
        let mut outcome = Ok(());
        while seen.len() < max {
            let messages = match self
                .receive_from(
                    &self.dead_letter_url,
                    MAX_RECEIVE,
                    DLQ_WAIT_SECS,
                    Some(PEEK_VISIBILITY_SECS),
                )
                .await
            {
                Ok(messages) => messages,
                Err(err) => {
                    outcome = Err(err);
                    break;
                }
            };
            let mut new = 0;
            for m in messages {
                let Some(id) = m.message_id().map(String::from) else {
                    continue;
                };
                if let Some(receipt) = m.receipt_handle() {
                    receipts.insert(id.clone(), receipt.to_string());
                }
                if seen.contains_key(&id) {
                    continue;
                }
                new += 1;
                let letter = DeadLetter {
                    message_id: id.clone(),
                    attributes: attributes_of(&m),
                    receive_count: receive_count(&m),
                    sent_at: sent_at(&m),
                    body: m.body.unwrap_or_default(),
                };
                seen.insert(id, letter);
            }
            if new == 0 {
                break;
            }
        }
        self.unhide(receipts.into_values().collect()).await;
        outcome?;
        let mut letters: Vec<DeadLetter> = seen.into_values().collect();
        letters.sort_by(|a, b| (a.sent_at, &a.message_id).cmp(&(b.sent_at, &b.message_id)));
        letters.truncate(max);
        Ok(letters)
    }

    /// All (`max = None`): by the configured [`SqsRedrive`] method. A count (`Some`):
    /// always by relay, because a move task cannot be limited to a number of messages.
    async fn redrive(&self, max: Option<u64>) -> Result<Redriven, QueueError> {
        match (max, self.redrive) {
            (None, SqsRedrive::MoveTask) => self.move_task().await,
            (_, _) => self.relay(max).await,
        }
    }
}

// ---------------------------------------------------------------- errors

/// Typed classification of one operation's modelled errors; `None` leaves an error to
/// its HTTP status.
trait Typed {
    fn class(&self) -> Option<ErrorClass>;
}

/// Implements [`Typed`] from the operation's lists of transient and permanent variants.
macro_rules! typed {
    ($ty:ty; transient: $($t:ident)|+; permanent: $($p:ident)|+) => {
        impl Typed for $ty {
            fn class(&self) -> Option<ErrorClass> {
                match self {
                    $(Self::$t(_))|+ => Some(ErrorClass::Transient),
                    $(Self::$p(_))|+ => Some(ErrorClass::Permanent),
                    _ => None,
                }
            }
        }
    };
}

typed!(SendMessageBatchError;
    transient: RequestThrottled | KmsThrottled;
    permanent: BatchEntryIdsNotDistinct | BatchRequestTooLong | EmptyBatchRequest
        | InvalidAddress | InvalidBatchEntryId | InvalidSecurity | KmsAccessDenied
        | KmsDisabled | KmsInvalidKeyUsage | KmsInvalidState | KmsNotFound
        | KmsOptInRequired | QueueDoesNotExist | TooManyEntriesInBatchRequest
        | UnsupportedOperation);
typed!(ReceiveMessageError;
    // OverLimit: too many messages in flight; they settle and free the room.
    transient: RequestThrottled | KmsThrottled | OverLimit;
    permanent: InvalidAddress | InvalidSecurity | KmsAccessDenied | KmsDisabled
        | KmsInvalidKeyUsage | KmsInvalidState | KmsNotFound | KmsOptInRequired
        | QueueDoesNotExist | UnsupportedOperation);
typed!(DeleteMessageError;
    transient: RequestThrottled;
    permanent: InvalidAddress | InvalidSecurity | QueueDoesNotExist | ReceiptHandleIsInvalid
        | UnsupportedOperation);
typed!(DeleteMessageBatchError;
    transient: RequestThrottled;
    permanent: BatchEntryIdsNotDistinct | EmptyBatchRequest | InvalidAddress
        | InvalidBatchEntryId | InvalidSecurity | QueueDoesNotExist
        | TooManyEntriesInBatchRequest | UnsupportedOperation);
typed!(ChangeMessageVisibilityError;
    transient: RequestThrottled;
    permanent: InvalidAddress | InvalidSecurity | MessageNotInflight | QueueDoesNotExist
        | ReceiptHandleIsInvalid | UnsupportedOperation);
typed!(ChangeMessageVisibilityBatchError;
    transient: RequestThrottled;
    permanent: BatchEntryIdsNotDistinct | EmptyBatchRequest | InvalidAddress
        | InvalidBatchEntryId | InvalidSecurity | QueueDoesNotExist
        | TooManyEntriesInBatchRequest | UnsupportedOperation);
typed!(GetQueueAttributesError;
    transient: RequestThrottled;
    permanent: InvalidAddress | InvalidAttributeName | InvalidSecurity | QueueDoesNotExist
        | UnsupportedOperation);
typed!(StartMessageMoveTaskError;
    transient: RequestThrottled;
    permanent: InvalidAddress | InvalidSecurity | ResourceNotFoundException
        | UnsupportedOperation);
typed!(ListMessageMoveTasksError;
    transient: RequestThrottled;
    permanent: InvalidAddress | InvalidSecurity | ResourceNotFoundException
        | UnsupportedOperation);

/// The port's error for a failed call: classified, and described without the request.
fn queue_error<E>(operation: &str, queue: &str, err: &SdkError<E, HttpResponse>) -> QueueError
where
    E: Typed + ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = format!("SQS {operation} on {queue}: {}", sdk::describe(err));
    match sdk::error_class(err, Typed::class) {
        ErrorClass::Transient => QueueError::Transient(message),
        ErrorClass::Permanent => QueueError::Permanent(message),
    }
}

/// A delete whose receipt handle SQS no longer accepts: the message was received again
/// (its new delivery settles it) or already moved or deleted.
fn is_stale_delete(err: &SdkError<DeleteMessageError, HttpResponse>) -> bool {
    #[allow(deprecated)] // InvalidIdFormat: older SQS answers for a stale handle.
    let stale = matches!(
        err.as_service_error(),
        Some(
            DeleteMessageError::ReceiptHandleIsInvalid(_) | DeleteMessageError::InvalidIdFormat(_)
        )
    );
    stale
}

/// A visibility change for a delivery that is over: the message is no longer in flight
/// under this receipt.
fn is_stale_visibility_change(err: &SdkError<ChangeMessageVisibilityError, HttpResponse>) -> bool {
    matches!(
        err.as_service_error(),
        Some(
            ChangeMessageVisibilityError::ReceiptHandleIsInvalid(_)
                | ChangeMessageVisibilityError::MessageNotInflight(_)
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::types::error::{
        MessageNotInflight, QueueDoesNotExist, ReceiptHandleIsInvalid, RequestThrottled,
    };
    use aws_smithy_runtime_api::client::result::TimeoutError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    fn service<E>(e: E, status: u16) -> SdkError<E, HttpResponse> {
        SdkError::service_error(
            e,
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()),
        )
    }

    #[test]
    fn whole_call_errors_are_classified_by_type() {
        let throttled =
            SendMessageBatchError::RequestThrottled(RequestThrottled::builder().build());
        assert_eq!(
            classify_batch_error(&service(throttled, 400)),
            ErrorClass::Transient
        );
        let missing =
            SendMessageBatchError::QueueDoesNotExist(QueueDoesNotExist::builder().build());
        assert_eq!(
            classify_batch_error(&service(missing, 400)),
            ErrorClass::Permanent
        );
        let timeout: SdkError<SendMessageBatchError, HttpResponse> =
            SdkError::TimeoutError(TimeoutError::builder().source("slow").build());
        assert_eq!(classify_batch_error(&timeout), ErrorClass::Transient);
        for (status, class) in [
            (500, ErrorClass::Transient),
            (503, ErrorClass::Transient),
            (429, ErrorClass::Transient),
            (403, ErrorClass::Permanent),
        ] {
            let unknown = SendMessageBatchError::generic(
                aws_sdk_sqs::error::ErrorMetadata::builder()
                    .code("SomethingNew")
                    .build(),
            );
            assert_eq!(
                classify_batch_error(&service(unknown, status)),
                class,
                "{status}"
            );
        }
    }

    #[test]
    fn queue_errors_name_operation_queue_code_and_status() {
        // As the SDK deserialises it: the error metadata carries code and message.
        let missing = ReceiveMessageError::QueueDoesNotExist(
            QueueDoesNotExist::builder()
                .message("gone")
                .meta(
                    aws_sdk_sqs::error::ErrorMetadata::builder()
                        .code("AWS.SimpleQueueService.NonExistentQueue")
                        .message("gone")
                        .build(),
                )
                .build(),
        );
        match queue_error(
            "ReceiveMessage",
            "http://q/1/events",
            &service(missing, 400),
        ) {
            QueueError::Permanent(text) => {
                assert!(
                    text.starts_with("SQS ReceiveMessage on http://q/1/events: "),
                    "{text}"
                );
                assert!(
                    text.ends_with("AWS.SimpleQueueService.NonExistentQueue: gone (HTTP 400)"),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
        let throttled =
            ReceiveMessageError::OverLimit(aws_sdk_sqs::types::error::OverLimit::builder().build());
        assert!(matches!(
            queue_error("ReceiveMessage", "q", &service(throttled, 403)),
            QueueError::Transient(_)
        ));
    }

    #[test]
    fn stale_receipts_are_recognised_by_type() {
        let invalid =
            DeleteMessageError::ReceiptHandleIsInvalid(ReceiptHandleIsInvalid::builder().build());
        assert!(is_stale_delete(&service(invalid, 400)));
        let throttled = DeleteMessageError::RequestThrottled(RequestThrottled::builder().build());
        assert!(!is_stale_delete(&service(throttled, 400)));
        let not_in_flight =
            ChangeMessageVisibilityError::MessageNotInflight(MessageNotInflight::builder().build());
        assert!(is_stale_visibility_change(&service(not_in_flight, 400)));
        let missing =
            ChangeMessageVisibilityError::QueueDoesNotExist(QueueDoesNotExist::builder().build());
        assert!(!is_stale_visibility_change(&service(missing, 400)));
    }

    #[test]
    fn entry_failures_follow_sender_fault() {
        let r = rejected("3", true, "InvalidMessageContents", Some("bad char"));
        assert_eq!(r.class, ErrorClass::Permanent);
        assert_eq!(r.entry_id, "3");
        let r = rejected("4", false, "InternalError", None);
        assert_eq!(r.class, ErrorClass::Transient);
        assert_eq!(r.reason, "InternalError");
    }

    #[test]
    fn empty_attributes_are_left_out() {
        let message = QueueMessage {
            entry_id: "0".into(),
            body: "{}".into(),
            attributes: [
                ("uuid".to_string(), "u1".to_string()),
                ("oktaUserId".to_string(), String::new()),
            ]
            .into_iter()
            .collect(),
        };
        let entry = request_entry(&message).unwrap();
        let attributes = entry.message_attributes().unwrap();
        assert_eq!(attributes.len(), 1);
        assert_eq!(attributes["uuid"].string_value(), Some("u1"));
        assert_eq!(attributes["uuid"].data_type(), "String");
    }

    #[test]
    fn relay_batches_respect_entry_and_byte_limits() {
        let message = |bytes: usize| Message::builder().body("x".repeat(bytes)).build();
        let small: Vec<Message> = (0..10).map(|_| message(10)).collect();
        assert_eq!(byte_bounded(&small).len(), 1);
        let big: Vec<Message> = (0..4).map(|_| message(100 * 1024)).collect();
        let groups: Vec<usize> = byte_bounded(&big).iter().map(|g| g.len()).collect();
        assert_eq!(groups, [2, 2]);
        assert!(byte_bounded(&[]).is_empty());
    }
}
