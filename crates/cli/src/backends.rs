//! Where the local pipeline keeps its queue and ledger: embedded (SQLite, the default)
//! or AWS (SQS and DynamoDB), chosen by configuration. Each enum implements the core
//! port by delegation, so the ingest handler and the worker are the same either way.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use okta_connect_aws::dynamodb::DynamoLedger;
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::fact::{Fact, Recorded};
use okta_connect_core::ports::{
    Claim, EventQueue, EventRecord, Ledger, LedgerError, QueueError, QueueMessage, RejectedEntry,
    UserRecord,
};
use okta_connect_core::time::UnixMillis;

use crate::embedded::{EmbeddedError, EmbeddedQueue, QueueCounts, SqliteLedger};

/// The ledger of the local pipeline.
#[derive(Clone)]
pub enum AnyLedger {
    Sqlite(SqliteLedger),
    Dynamo(DynamoLedger),
}

macro_rules! delegate {
    ($self:ident, $l:ident => $call:expr) => {
        match $self {
            AnyLedger::Sqlite($l) => $call.await,
            AnyLedger::Dynamo($l) => $call.await,
        }
    };
}

impl Ledger for AnyLedger {
    async fn claim_event(
        &self,
        uuid: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<Claim, LedgerError> {
        delegate!(self, l => l.claim_event(uuid, now, lease))
    }
    async fn complete_event(
        &self,
        uuid: &str,
        detail: &str,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        delegate!(self, l => l.complete_event(uuid, detail, now, retention))
    }
    async fn fail_event(
        &self,
        uuid: &str,
        reason: &str,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        delegate!(self, l => l.fail_event(uuid, reason, now, retention))
    }
    async fn release_event(&self, uuid: &str) -> Result<(), LedgerError> {
        delegate!(self, l => l.release_event(uuid))
    }
    async fn event_record(&self, uuid: &str) -> Result<Option<EventRecord>, LedgerError> {
        delegate!(self, l => l.event_record(uuid))
    }
    async fn record_fact(&self, fact: &Fact) -> Result<Recorded, LedgerError> {
        delegate!(self, l => l.record_fact(fact))
    }
    async fn user_record(&self, okta_user_id: &str) -> Result<UserRecord, LedgerError> {
        delegate!(self, l => l.user_record(okta_user_id))
    }
    async fn remember_connect_user(
        &self,
        okta_user_id: &str,
        connect_user_id: Option<&str>,
    ) -> Result<(), LedgerError> {
        delegate!(self, l => l.remember_connect_user(okta_user_id, connect_user_id))
    }
    async fn lease_user(
        &self,
        okta_user_id: &str,
        holder: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<bool, LedgerError> {
        delegate!(self, l => l.lease_user(okta_user_id, holder, now, lease))
    }
    async fn release_user(&self, okta_user_id: &str, holder: &str) -> Result<(), LedgerError> {
        delegate!(self, l => l.release_user(okta_user_id, holder))
    }
}

/// A queue the pipeline sends to (ingest → source queue, worker → DLQ).
#[derive(Clone)]
pub enum AnyQueue {
    Embedded(EmbeddedQueue),
    Sqs(SqsQueue),
}

impl EventQueue for AnyQueue {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        match self {
            AnyQueue::Embedded(q) => q.send_batch(batch).await,
            AnyQueue::Sqs(q) => q.send_batch(batch).await,
        }
    }
}

/// One received message, whichever queue it came from.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum BacklogError {
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error("SQS: {0}")]
    Sqs(String),
}

/// The source queue as the local stand-in for Lambda's event source sees it.
impl AnyQueue {
    /// Up to 10 messages (SQS: long-polls up to 1 s).
    pub async fn receive(&self) -> Result<Vec<Incoming>, BacklogError> {
        match self {
            AnyQueue::Embedded(q) => Ok(q
                .receive(10, UnixMillis::now())?
                .into_iter()
                .map(|r| Incoming {
                    message_id: r.message_id,
                    receipt: r.receipt,
                    body: r.body,
                    attributes: r.attributes,
                    receive_count: r.receive_count,
                })
                .collect()),
            AnyQueue::Sqs(q) => {
                let out = q
                    .client()
                    .receive_message()
                    .queue_url(q.queue_url())
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .message_attribute_names("All")
                    .message_system_attribute_names(
                        MessageSystemAttributeName::ApproximateReceiveCount,
                    )
                    .send()
                    .await
                    .map_err(|e| {
                        BacklogError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
                    })?;
                Ok(out
                    .messages
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| Incoming {
                        receive_count: m
                            .attributes
                            .as_ref()
                            .and_then(|a| {
                                a.get(&MessageSystemAttributeName::ApproximateReceiveCount)
                            })
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(1),
                        attributes: m
                            .message_attributes
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|(k, v)| v.string_value.map(|s| (k, s)))
                            .collect(),
                        message_id: m.message_id.unwrap_or_default(),
                        receipt: m.receipt_handle.unwrap_or_default(),
                        body: m.body.unwrap_or_default(),
                    })
                    .collect())
            }
        }
    }

    /// Removes a processed message.
    pub async fn delete(&self, receipt: &str) -> Result<(), BacklogError> {
        match self {
            AnyQueue::Embedded(q) => q.delete(receipt).map(|_| ()).map_err(Into::into),
            AnyQueue::Sqs(q) => q
                .client()
                .delete_message()
                .queue_url(q.queue_url())
                .receipt_handle(receipt)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    BacklogError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
                }),
        }
    }

    /// Makes a handed-back message visible again after `delay`.
    pub async fn retry_later(&self, receipt: &str, delay: Duration) -> Result<(), BacklogError> {
        match self {
            AnyQueue::Embedded(q) => q
                .change_visibility(receipt, UnixMillis::now().plus(delay))
                .map(|_| ())
                .map_err(Into::into),
            AnyQueue::Sqs(q) => q
                .client()
                .change_message_visibility()
                .queue_url(q.queue_url())
                .receipt_handle(receipt)
                .visibility_timeout(i32::try_from(delay.as_secs()).unwrap_or(30))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    BacklogError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
                }),
        }
    }

    /// Messages waiting and in flight (SQS: its approximate counts).
    pub async fn counts(&self) -> Result<QueueCounts, BacklogError> {
        match self {
            AnyQueue::Embedded(q) => Ok(q.counts(UnixMillis::now())?),
            AnyQueue::Sqs(q) => {
                let out = q
                    .client()
                    .get_queue_attributes()
                    .queue_url(q.queue_url())
                    .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                    .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                    .send()
                    .await
                    .map_err(|e| {
                        BacklogError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
                    })?;
                let read = |name: QueueAttributeName| {
                    out.attributes()
                        .and_then(|a| a.get(&name))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0)
                };
                Ok(QueueCounts {
                    visible: read(QueueAttributeName::ApproximateNumberOfMessages),
                    in_flight: read(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
                })
            }
        }
    }
}
