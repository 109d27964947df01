//! Translation between Lambda's SQS envelopes and the sync engine: nothing else.

use std::time::Duration;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use okta_connect_core::queue::{Delivery, Receipt};
use okta_connect_sync::{Disposition, Report};
use tokio::time::Instant;

/// The SQS system attribute holding how often the message was received.
const APPROXIMATE_RECEIVE_COUNT: &str = "ApproximateReceiveCount";

/// The engine's view of one SQS record: id, receipt, body, string attributes, receive
/// count. Binary attributes are dropped (ingest writes none).
pub fn to_delivery(record: SqsMessage) -> Delivery {
    let attributes = record
        .message_attributes
        .into_iter()
        .filter_map(|(name, value)| value.string_value.map(|v| (name, v)))
        .collect();
    Delivery {
        message_id: record.message_id.unwrap_or_default(),
        receipt: Receipt(record.receipt_handle.unwrap_or_default()),
        body: record.body.unwrap_or_default(),
        attributes,
        receive_count: record
            .attributes
            .get(APPROXIMATE_RECEIVE_COUNT)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
    }
}

pub fn to_deliveries(event: SqsEvent) -> Vec<Delivery> {
    event.records.into_iter().map(to_delivery).collect()
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

#[cfg(test)]
mod tests {
    use okta_connect_core::outcome::{Failure, Outcome};
    use okta_connect_core::ports::ErrorClass;

    use super::*;

    /// An SQS event as Lambda delivers it (shape of the AWS docs' sample event).
    const EVENT: &str = r#"{"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": "{\"uuid\":\"e1\"}",
        "attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1545082649183",
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
        "messageAttributes": {
            "uuid": {"stringValue": "e1", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
            "blob": {"binaryValue": "AQID", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"}
        },
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
        "awsRegion": "us-east-2"
    }]}"#;

    #[test]
    fn an_sqs_record_becomes_a_delivery() {
        let event: SqsEvent = serde_json::from_str(EVENT).unwrap();
        let deliveries = to_deliveries(event);
        assert_eq!(deliveries.len(), 1);
        let d = &deliveries[0];
        assert_eq!(d.message_id, "059f36b4-87a3-44ab-83d2-661975830a7d");
        assert_eq!(d.receipt.0, "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a");
        assert_eq!(d.body, r#"{"uuid":"e1"}"#);
        assert_eq!(d.receive_count, 3);
        assert_eq!(d.attributes.len(), 1, "binary attributes are dropped");
        assert_eq!(d.attributes["uuid"], "e1");
    }

    #[test]
    fn only_retries_become_batch_item_failures() {
        let report = |id: &str, disposition| Report {
            message_id: id.into(),
            event_uuid: None,
            okta_user_id: None,
            disposition,
            outcome: Outcome::Failed(Failure {
                class: ErrorClass::Transient,
                reason: "throttled".into(),
            }),
            duration_ms: 0,
            connect_throttles: 0,
        };
        let response = to_batch_response(&[
            report("a", Disposition::Done),
            report("b", Disposition::Retry),
            report("c", Disposition::DeadLettered),
        ]);
        let ids: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(ids, ["b"]);
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["batchItemFailures"][0]["itemIdentifier"], "b");
    }

    #[test]
    fn the_deadline_is_the_remaining_time_never_negative() {
        let now = Instant::now();
        let d = deadline_from_epoch_ms(10_500, 10_000);
        assert!(d >= now + Duration::from_millis(500));
        assert!(deadline_from_epoch_ms(9_000, 10_000) <= Instant::now());
    }
}
