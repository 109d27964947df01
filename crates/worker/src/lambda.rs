//! Translation between Lambda's SQS envelopes and the worker: nothing else.

use std::time::Duration;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tokio::time::Instant;

use crate::{Disposition, Report, WorkerMessage};

/// The worker's view of one SQS record: body, id and string attributes.
pub fn to_worker_message(record: SqsMessage) -> WorkerMessage {
    let attributes = record
        .message_attributes
        .into_iter()
        .filter_map(|(name, value)| value.string_value.map(|v| (name, v)))
        .collect();
    WorkerMessage {
        message_id: record.message_id.unwrap_or_default(),
        body: record.body.unwrap_or_default(),
        attributes,
    }
}

pub fn to_worker_messages(event: SqsEvent) -> Vec<WorkerMessage> {
    event.records.into_iter().map(to_worker_message).collect()
}

/// `batchItemFailures` lists the messages to retry; everything else is deleted by SQS.
pub fn to_batch_response(reports: &[Report]) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = reports
        .iter()
        .filter(|r| r.disposition == Disposition::Retry)
        .map(|r| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = r.message_id.clone();
            failure
        })
        .collect();
    response
}

/// The invocation's deadline (epoch ms from the Lambda context) as an `Instant`.
pub fn deadline_from_epoch_ms(deadline_ms: u64, now_ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}
