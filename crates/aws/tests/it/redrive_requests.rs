//! The requests the SQS redrive puts on the wire, read back from the SDK's own replay
//! HTTP client (`aws-smithy-http-client`'s `StaticReplayClient`; nothing leaves the
//! process): `StartMessageMoveTask` from the dead-letter queue's ARN to the source
//! queue's, as `GetQueueAttributes` reported them, with no rate of our own; progress
//! followed with `ListMessageMoveTasks` until the task completes; a count-limited
//! redrive that never starts a move task; and a task outliving the redrive's limit.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::http::{Request, Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::{SqsConsumer, SqsRedrive};
use okta_connect_core::ports::{QueueConsumer, QueueError};
use okta_connect_core::queue::{RedriveMethod, Redriven};
use serde_json::{Value, json};

const ENDPOINT: &str = "https://sqs.eu-west-1.amazonaws.com/";
const SOURCE_URL: &str = "https://sqs.eu-west-1.amazonaws.com/210987654321/okta-events";
const DLQ_URL: &str = "https://sqs.eu-west-1.amazonaws.com/210987654321/okta-events-dlq";
const SOURCE_ARN: &str = "arn:aws:sqs:eu-west-1:210987654321:okta-events";
const DLQ_ARN: &str = "arn:aws:sqs:eu-west-1:210987654321:okta-events-dlq";

/// An SQS JSON-protocol request for `operation` with `body`.
fn request(operation: &str, body: &Value) -> Request {
    let mut request = Request::new(SdkBody::from(body.to_string()));
    request.set_uri(ENDPOINT).unwrap();
    request
        .headers_mut()
        .insert("x-amz-target", format!("AmazonSQS.{operation}"));
    request
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    request
}

fn ok(body: &Value) -> Response {
    let mut response = Response::new(
        StatusCode::try_from(200).unwrap(),
        SdkBody::from(body.to_string()),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

/// A real-AWS configuration (region eu-west-1, no endpoint override, so the consumer
/// picks the move task) whose HTTP client is `replay`.
async fn config(replay: &StaticReplayClient) -> SdkConfig {
    let mut builder = sdk::load(&AwsSettings {
        region: Some("eu-west-1".into()),
        ..AwsSettings::emulator("http://127.0.0.1:1")
    })
    .await
    .to_builder();
    builder.set_endpoint_url(None);
    builder.http_client(replay.clone()).build()
}

fn consumer(config: &SdkConfig, poll: Duration, limit: Duration) -> SqsConsumer {
    SqsConsumer::from_config(config, SOURCE_URL, DLQ_URL).with_redrive_timing(poll, limit)
}

fn queue_arn(url: &str, arn: &str) -> ReplayEvent {
    ReplayEvent::new(
        request(
            "GetQueueAttributes",
            &json!({ "QueueUrl": url, "AttributeNames": ["QueueArn"] }),
        ),
        ok(&json!({ "Attributes": { "QueueArn": arn } })),
    )
}

fn start_task(handle: &str) -> ReplayEvent {
    ReplayEvent::new(
        request(
            "StartMessageMoveTask",
            &json!({ "SourceArn": DLQ_ARN, "DestinationArn": SOURCE_ARN }),
        ),
        ok(&json!({ "TaskHandle": handle })),
    )
}

/// One `ListMessageMoveTasks` answer listing `task` (SQS lists the newest first).
fn listed(task: Value) -> ReplayEvent {
    ReplayEvent::new(
        request(
            "ListMessageMoveTasks",
            &json!({ "SourceArn": DLQ_ARN, "MaxResults": 1 }),
        ),
        ok(&json!({ "Results": [task] })),
    )
}

fn running(handle: &str, moved: u64, to_move: u64) -> Value {
    json!({
        "TaskHandle": handle,
        "Status": "RUNNING",
        "SourceArn": DLQ_ARN,
        "DestinationArn": SOURCE_ARN,
        "ApproximateNumberOfMessagesMoved": moved,
        "ApproximateNumberOfMessagesToMove": to_move,
        "StartedTimestamp": 1_800_000_000_000_u64
    })
}

/// The operation (`x-amz-target` without its prefix) and the JSON body of a request
/// that went on the wire.
fn sent(request: &Request) -> (String, Value) {
    let target = request
        .headers()
        .get("x-amz-target")
        .unwrap_or_default()
        .trim_start_matches("AmazonSQS.")
        .to_string();
    let body = serde_json::from_slice(request.body().bytes().unwrap()).unwrap();
    (target, body)
}

#[tokio::test]
async fn the_move_task_goes_from_the_dlq_arn_to_the_source_arn_and_is_followed_to_completion() {
    let replay = StaticReplayClient::new(vec![
        queue_arn(DLQ_URL, DLQ_ARN),
        queue_arn(SOURCE_URL, SOURCE_ARN),
        start_task("handle-7"),
        listed(running("handle-7", 0, 40)),
        listed(running("handle-7", 25, 40)),
        // Only a running task shows its handle; the completed one is ours all the same.
        listed(json!({
            "Status": "COMPLETED",
            "SourceArn": DLQ_ARN,
            "DestinationArn": SOURCE_ARN,
            "ApproximateNumberOfMessagesMoved": 40,
            "ApproximateNumberOfMessagesToMove": 40,
            "StartedTimestamp": 1_800_000_000_000_u64
        })),
    ]);
    let consumer = consumer(
        &config(&replay).await,
        Duration::from_millis(5),
        Duration::from_secs(30),
    );
    assert_eq!(consumer.redrive_method(), SqsRedrive::MoveTask);
    assert_eq!(
        consumer.redrive(None).await.unwrap(),
        Redriven {
            moved: 40,
            method: RedriveMethod::MoveTask
        }
    );
    // Every request matched the expected one: URI, headers given, and JSON body equal.
    replay.assert_requests_match(&[]);

    let requests: Vec<(String, Value)> = replay.actual_requests().map(sent).collect();
    let operations: Vec<&str> = requests.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        operations,
        [
            "GetQueueAttributes",
            "GetQueueAttributes",
            "StartMessageMoveTask",
            "ListMessageMoveTasks",
            "ListMessageMoveTasks",
            "ListMessageMoveTasks"
        ]
    );
    // The ARNs come from GetQueueAttributes: the DLQ's first, then the source queue's.
    assert_eq!(requests[0].1["QueueUrl"], DLQ_URL);
    assert_eq!(requests[1].1["QueueUrl"], SOURCE_URL);
    let start = requests[2].1.as_object().unwrap();
    assert_eq!(start["SourceArn"], DLQ_ARN);
    assert_eq!(start["DestinationArn"], SOURCE_ARN);
    // No rate of our own: SQS moves as fast as it may (up to 500 messages/s).
    assert!(
        !start.contains_key("MaxNumberOfMessagesPerSecond"),
        "{start:?}"
    );
    assert_eq!(start.len(), 2, "{start:?}");
    for (_, list) in &requests[3..] {
        assert_eq!(list, &json!({ "SourceArn": DLQ_ARN, "MaxResults": 1 }));
    }
    assert_eq!(consumer.requests(), 6);
}

#[tokio::test]
async fn a_counted_redrive_relays_and_never_starts_a_move_task() {
    // A move task cannot be limited to a number of messages: `redrive(Some(2))` relays
    // even where move tasks are available.
    let message = |id: &str| {
        json!({
            "MessageId": id,
            "ReceiptHandle": format!("receipt-{id}"),
            "Body": format!(r#"{{"uuid":"{id}"}}"#),
            "Attributes": { "ApproximateReceiveCount": "5", "SentTimestamp": "1800000000000" },
            "MessageAttributes": { "uuid": { "DataType": "String", "StringValue": id } }
        })
    };
    let replay = StaticReplayClient::new(vec![
        ReplayEvent::new(
            request("ReceiveMessage", &json!({})),
            ok(&json!({ "Messages": [message("m1"), message("m2")] })),
        ),
        ReplayEvent::new(
            request("SendMessageBatch", &json!({})),
            ok(&json!({
                "Successful": [
                    { "Id": "0", "MessageId": "n1", "MD5OfMessageBody": "x" },
                    { "Id": "1", "MessageId": "n2", "MD5OfMessageBody": "x" }
                ],
                "Failed": []
            })),
        ),
        ReplayEvent::new(
            request("DeleteMessageBatch", &json!({})),
            ok(&json!({ "Successful": [{ "Id": "0" }, { "Id": "1" }], "Failed": [] })),
        ),
    ]);
    let consumer = consumer(
        &config(&replay).await,
        Duration::from_millis(5),
        Duration::from_secs(30),
    );
    assert_eq!(consumer.redrive_method(), SqsRedrive::MoveTask);
    assert_eq!(
        consumer.redrive(Some(2)).await.unwrap(),
        Redriven {
            moved: 2,
            method: RedriveMethod::Relay
        }
    );
    let requests: Vec<(String, Value)> = replay.actual_requests().map(sent).collect();
    let operations: Vec<&str> = requests.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        operations,
        ["ReceiveMessage", "SendMessageBatch", "DeleteMessageBatch"]
    );
    let receive = &requests[0].1;
    assert_eq!(receive["QueueUrl"], DLQ_URL);
    assert_eq!(receive["MaxNumberOfMessages"], 2);
    let send = &requests[1].1;
    assert_eq!(send["QueueUrl"], SOURCE_URL);
    let bodies: Vec<&Value> = send["Entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["MessageBody"])
        .collect();
    assert_eq!(bodies, [r#"{"uuid":"m1"}"#, r#"{"uuid":"m2"}"#]);
    assert_eq!(
        send["Entries"][0]["MessageAttributes"]["uuid"]["StringValue"],
        "m1"
    );
    let delete = &requests[2].1;
    assert_eq!(delete["QueueUrl"], DLQ_URL);
    let receipts: Vec<&Value> = delete["Entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["ReceiptHandle"])
        .collect();
    assert_eq!(receipts, ["receipt-m1", "receipt-m2"]);
}

#[tokio::test]
async fn a_task_still_running_at_the_limit_is_transient_and_left_to_sqs() {
    let replay = StaticReplayClient::new(vec![
        queue_arn(DLQ_URL, DLQ_ARN),
        queue_arn(SOURCE_URL, SOURCE_ARN),
        start_task("handle-8"),
        listed(running("handle-8", 3, 1000)),
    ]);
    // A poll as long as the whole limit: the first RUNNING answer already reaches it.
    let limit = Duration::from_millis(200);
    let consumer = consumer(&config(&replay).await, limit, limit);
    match consumer.redrive(None).await {
        Err(QueueError::Transient(message)) => {
            assert!(message.contains(DLQ_ARN), "{message}");
            assert!(message.contains("still running"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    replay.assert_requests_match(&[]);
    let sent: Vec<String> = replay.actual_requests().map(|r| sent(r).0).collect();
    assert_eq!(
        sent.iter()
            .filter(|op| *op == "StartMessageMoveTask")
            .count(),
        1
    );
    // Nothing cancels the task: it goes on in SQS.
    assert!(!sent.iter().any(|op| op == "CancelMessageMoveTask"));
}

#[tokio::test]
async fn a_cancelled_task_is_transient_with_the_count_moved() {
    let replay = StaticReplayClient::new(vec![
        queue_arn(DLQ_URL, DLQ_ARN),
        queue_arn(SOURCE_URL, SOURCE_ARN),
        start_task("handle-9"),
        listed(json!({
            "Status": "CANCELLED",
            "SourceArn": DLQ_ARN,
            "ApproximateNumberOfMessagesMoved": 12,
            "StartedTimestamp": 1_800_000_000_000_u64
        })),
    ]);
    let consumer = consumer(
        &config(&replay).await,
        Duration::from_millis(5),
        Duration::from_secs(30),
    );
    match consumer.redrive(None).await {
        Err(QueueError::Transient(message)) => {
            assert!(message.contains("cancelled after 12 messages"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    replay.assert_requests_match(&[]);
}
