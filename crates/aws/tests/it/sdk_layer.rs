//! The SDK layer seen through the SDK's own test HTTP client (no network): the
//! `StartMessageMoveTask` redrive's requests on the wire, the retry setting, and the
//! request-counting interceptor.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::http::{Request, Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::{SqsConsumer, SqsRedrive};
use okta_connect_core::ports::{QueueConsumer, QueueError};
use okta_connect_core::queue::{RedriveMethod, Redriven};

const SQS: &str = "https://sqs.us-east-1.amazonaws.com/";
const SOURCE_URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/events";
const DLQ_URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/events-dlq";
const SOURCE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:events";
const DLQ_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:events-dlq";

/// An SQS JSON-protocol request as the SDK must send it.
fn request(operation: &str, body: &str) -> Request {
    let mut request = Request::new(SdkBody::from(body));
    request.set_uri(SQS).unwrap();
    request
        .headers_mut()
        .insert("x-amz-target", format!("AmazonSQS.{operation}"));
    request
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    request
}

fn response(status: u16, body: &str) -> Response {
    let mut response = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

/// Real-AWS configuration (no endpoint override, so the consumer picks the move task)
/// whose HTTP client is `replay`; static credentials, nothing leaves the process.
async fn aws_config(settings: AwsSettings, replay: &StaticReplayClient) -> SdkConfig {
    let mut builder = sdk::load(&AwsSettings {
        region: Some("us-east-1".into()),
        ..AwsSettings::emulator("http://127.0.0.1:1")
    })
    .await
    .to_builder();
    builder.set_endpoint_url(None);
    builder
        .http_client(replay.clone())
        .retry_config(settings.retry_config())
        .timeout_config(settings.timeout_config())
        .build()
}

fn queue_arn(url: &str, arn: &str) -> ReplayEvent {
    ReplayEvent::new(
        request(
            "GetQueueAttributes",
            &format!(r#"{{"QueueUrl":"{url}","AttributeNames":["QueueArn"]}}"#),
        ),
        response(200, &format!(r#"{{"Attributes":{{"QueueArn":"{arn}"}}}}"#)),
    )
}

fn list_tasks(result: &str) -> ReplayEvent {
    ReplayEvent::new(
        request(
            "ListMessageMoveTasks",
            &format!(r#"{{"SourceArn":"{DLQ_ARN}","MaxResults":1}}"#),
        ),
        response(200, &format!(r#"{{"Results":[{result}]}}"#)),
    )
}

/// `redrive(None)` on AWS: the two queue ARNs, `StartMessageMoveTask` from the DLQ's ARN
/// to the source queue's, then `ListMessageMoveTasks` until the task completed.
#[tokio::test]
async fn move_task_redrive_sends_the_documented_requests() {
    let replay = StaticReplayClient::new(vec![
        queue_arn(DLQ_URL, DLQ_ARN),
        queue_arn(SOURCE_URL, SOURCE_ARN),
        ReplayEvent::new(
            request(
                "StartMessageMoveTask",
                &format!(r#"{{"SourceArn":"{DLQ_ARN}","DestinationArn":"{SOURCE_ARN}"}}"#),
            ),
            response(200, r#"{"TaskHandle":"task-1"}"#),
        ),
        list_tasks(&format!(
            r#"{{"TaskHandle":"task-1","Status":"RUNNING","SourceArn":"{DLQ_ARN}",
                "DestinationArn":"{SOURCE_ARN}","ApproximateNumberOfMessagesMoved":2,
                "ApproximateNumberOfMessagesToMove":5,"StartedTimestamp":1800000000000}}"#
        )),
        // Only a running task shows its handle.
        list_tasks(&format!(
            r#"{{"Status":"COMPLETED","SourceArn":"{DLQ_ARN}","DestinationArn":"{SOURCE_ARN}",
                "ApproximateNumberOfMessagesMoved":5,"ApproximateNumberOfMessagesToMove":5,
                "StartedTimestamp":1800000000000}}"#
        )),
    ]);
    let config = aws_config(AwsSettings::default(), &replay).await;
    let consumer = SqsConsumer::from_config(&config, SOURCE_URL, DLQ_URL)
        .with_redrive_timing(Duration::from_millis(10), Duration::from_secs(30));
    assert_eq!(consumer.redrive_method(), SqsRedrive::MoveTask);
    let redriven = consumer.redrive(None).await.unwrap();
    assert_eq!(
        redriven,
        Redriven {
            moved: 5,
            method: RedriveMethod::MoveTask
        }
    );
    replay.assert_requests_match(&[]);
    assert_eq!(consumer.requests(), 5, "counted on the wire");
}

/// A move task that fails is a permanent error with SQS's reason.
#[tokio::test]
async fn a_failed_move_task_is_reported() {
    let replay = StaticReplayClient::new(vec![
        queue_arn(DLQ_URL, DLQ_ARN),
        queue_arn(SOURCE_URL, SOURCE_ARN),
        ReplayEvent::new(
            request(
                "StartMessageMoveTask",
                &format!(r#"{{"SourceArn":"{DLQ_ARN}","DestinationArn":"{SOURCE_ARN}"}}"#),
            ),
            response(200, r#"{"TaskHandle":"task-2"}"#),
        ),
        list_tasks(&format!(
            r#"{{"Status":"FAILED","SourceArn":"{DLQ_ARN}","ApproximateNumberOfMessagesMoved":1,
                "FailureReason":"AWS.SimpleQueueService.NonExistentQueue","StartedTimestamp":1}}"#
        )),
    ]);
    let config = aws_config(AwsSettings::default(), &replay).await;
    let consumer = SqsConsumer::from_config(&config, SOURCE_URL, DLQ_URL)
        .with_redrive_timing(Duration::from_millis(10), Duration::from_secs(30));
    match consumer.redrive(None).await {
        Err(QueueError::Permanent(message)) => {
            assert!(message.contains("NonExistentQueue"), "{message}");
            assert!(message.contains("after 1 messages"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    replay.assert_requests_match(&[]);
}

fn counts_request(url: &str) -> Request {
    request(
        "GetQueueAttributes",
        &format!(
            r#"{{"QueueUrl":"{url}","AttributeNames":["ApproximateNumberOfMessages","ApproximateNumberOfMessagesNotVisible"]}}"#
        ),
    )
}

fn internal_error() -> Response {
    response(
        500,
        r#"{"__type":"com.amazonaws.sqs#InternalError","message":"We encountered an internal error."}"#,
    )
}

/// By default the SDK makes one attempt: a 500 comes straight back to the caller (as a
/// transient error) after one request, so the caller's own retry and pace decide.
#[tokio::test]
async fn the_sdk_does_not_retry_by_default() {
    let replay = StaticReplayClient::new(vec![ReplayEvent::new(
        counts_request(SOURCE_URL),
        internal_error(),
    )]);
    let config = aws_config(AwsSettings::default(), &replay).await;
    let consumer = SqsConsumer::from_config(&config, SOURCE_URL, DLQ_URL);
    match consumer.counts().await {
        Err(QueueError::Transient(message)) => {
            assert!(message.contains("InternalError"), "{message}");
            assert!(message.contains("HTTP 500"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(replay.actual_requests().count(), 1);
    assert_eq!(consumer.requests(), 1);
}

/// With `max_attempts` raised, the SDK retries a 500, and the interceptor counts every
/// attempt on the wire.
#[tokio::test]
async fn sdk_retries_when_enabled_are_counted_per_attempt() {
    let ok = response(
        200,
        r#"{"Attributes":{"ApproximateNumberOfMessages":"4","ApproximateNumberOfMessagesNotVisible":"1"}}"#,
    );
    let dlq = response(
        200,
        r#"{"Attributes":{"ApproximateNumberOfMessages":"2","ApproximateNumberOfMessagesNotVisible":"1"}}"#,
    );
    let replay = StaticReplayClient::new(vec![
        ReplayEvent::new(counts_request(SOURCE_URL), internal_error()),
        ReplayEvent::new(counts_request(SOURCE_URL), ok),
        ReplayEvent::new(counts_request(DLQ_URL), dlq),
    ]);
    let settings = AwsSettings {
        max_attempts: 3,
        ..AwsSettings::default()
    };
    let config = aws_config(settings, &replay).await;
    let consumer = SqsConsumer::from_config(&config, SOURCE_URL, DLQ_URL);
    let counts = consumer.counts().await.unwrap();
    assert_eq!(
        (counts.visible, counts.in_flight, counts.dead_lettered),
        (4, 1, 3)
    );
    replay.assert_requests_match(&[]);
    assert_eq!(consumer.requests(), 3, "two attempts and one request");
    // Clones share the count; another adapter has its own.
    assert_eq!(consumer.clone().requests(), 3);
    assert_eq!(
        SqsConsumer::from_config(&config, SOURCE_URL, DLQ_URL).requests(),
        0
    );
}
