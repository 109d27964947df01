//! The SQS adapters against moto through the real SDK: what lands, with which
//! attributes, how failures are classified, and what only SQS has (redrive by relay,
//! long polls, request counts).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use okta_connect_aws::sqs::{SqsConsumer, SqsQueue, SqsRedrive};
use okta_connect_core::ports::{EventQueue, QueueConsumer, QueueError};
use okta_connect_core::queue::{QueueMessage, RedriveMethod};
use okta_connect_testkit::contract::ledger::unique;

use crate::support::{self, config, create_queue, moto};
use okta_connect_testkit::sqs::read_queue;

fn message(id: usize, body: &str, attributes: &[(&str, &str)]) -> QueueMessage {
    QueueMessage {
        entry_id: id.to_string(),
        body: body.to_string(),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

okta_connect_testkit::queue_contract_tests!(contract, async { support::queues().await });

#[tokio::test]
async fn a_batch_lands_with_bodies_and_string_attributes() {
    let moto = moto();
    let config = config(&moto).await;
    let client = Client::new(&config);
    let url = create_queue(&client, &unique("events")).await;
    let queue = SqsQueue::from_config(&config, &url);

    let batch: Vec<QueueMessage> = (0..10)
        .map(|i| {
            message(
                i,
                &format!(r#"{{"uuid": "u-{i}", "n": "ünïcödé ✓ {i}"}}"#),
                &[
                    ("uuid", &format!("u-{i}")),
                    ("eventType", "group.user_membership.add"),
                    ("oktaUserId", if i % 2 == 0 { "00u1" } else { "" }),
                ],
            )
        })
        .collect();
    assert_eq!(queue.send_batch(&batch).await, Ok(Vec::new()));

    let received: HashMap<String, BTreeMap<String, String>> = read_queue(&client, &url, 10)
        .await
        .into_iter()
        .map(|m| (m.body, m.attributes))
        .collect();
    assert_eq!(received.len(), 10);
    for m in &batch {
        let attributes = &received[&m.body];
        assert_eq!(attributes["uuid"], m.attributes["uuid"]);
        assert_eq!(attributes["eventType"], "group.user_membership.add");
        // Empty values are not sent (SQS refuses them).
        assert_eq!(
            attributes.get("oktaUserId").map(String::as_str),
            Some(m.attributes["oktaUserId"].as_str()).filter(|v| !v.is_empty())
        );
    }
    let before = queue.requests();
    assert_eq!(
        queue.send_batch(&[]).await,
        Ok(Vec::new()),
        "empty batch: no call"
    );
    assert_eq!(queue.requests(), before, "empty batch: no request");
}

#[tokio::test]
async fn malformed_batches_and_missing_queues_are_permanent() {
    let moto = moto();
    let config = config(&moto).await;
    let url = create_queue(&Client::new(&config), &unique("events")).await;
    let queue = SqsQueue::from_config(&config, &url);

    let eleven: Vec<QueueMessage> = (0..11).map(|i| message(i, "{}", &[])).collect();
    assert!(matches!(
        queue.send_batch(&eleven).await,
        Err(QueueError::Permanent(_))
    ));
    let twins = vec![message(1, "{}", &[]), message(1, "{}", &[])];
    assert!(matches!(
        queue.send_batch(&twins).await,
        Err(QueueError::Permanent(_))
    ));
    let mut bad_id = message(0, "{}", &[]);
    bad_id.entry_id = "not.valid".into();
    assert!(matches!(
        queue.send_batch(&[bad_id]).await,
        Err(QueueError::Permanent(_))
    ));

    let missing = SqsQueue::from_config(
        &config,
        format!("{}/123456789012/does-not-exist", moto.url()),
    );
    match missing.send_batch(&[message(0, "{}", &[])]).await {
        Err(QueueError::Permanent(reason)) => assert!(!reason.contains("{}"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient() {
    let config = okta_connect_aws::sdk::load(&support::unreachable()).await;
    let queue = SqsQueue::from_config(&config, "http://127.0.0.1:1/123456789012/events");
    assert!(matches!(
        queue.send_batch(&[message(0, "{}", &[])]).await,
        Err(QueueError::Transient(_))
    ));
    let consumer = SqsConsumer::from_config(
        &config,
        "http://127.0.0.1:1/123456789012/events",
        "http://127.0.0.1:1/123456789012/events-dlq",
    );
    let started = Instant::now();
    let results = [
        consumer.receive(1, Duration::ZERO).await.map(|_| ()),
        consumer.counts().await.map(|_| ()),
        consumer.dead_letters(10).await.map(|_| ()),
        consumer.redrive(None).await.map(|_| ()),
    ];
    for result in results {
        assert!(
            matches!(result, Err(QueueError::Transient(_))),
            "expected a transient error, got {result:?}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sdk_errors_are_matched_by_type() {
    use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    use okta_connect_aws::sqs::classify_batch_error;
    use okta_connect_core::ports::ErrorClass;

    let moto = moto();
    let client = Client::new(&config(&moto).await);
    let entry = SendMessageBatchRequestEntry::builder()
        .id("0")
        .message_body("{}")
        .build()
        .unwrap();
    let err = client
        .send_message_batch()
        .queue_url(format!("{}/123456789012/does-not-exist", moto.url()))
        .entries(entry)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.as_service_error(),
            Some(SendMessageBatchError::QueueDoesNotExist(_))
        ),
        "{err:?}"
    );
    assert_eq!(classify_batch_error(&err), ErrorClass::Permanent);
}

/// A missing queue is permanent for every consumer call.
#[tokio::test]
async fn a_missing_queue_is_permanent_for_the_consumer() {
    let moto = moto();
    let config = config(&moto).await;
    let consumer = SqsConsumer::from_config(
        &config,
        format!("{}/123456789012/does-not-exist", moto.url()),
        format!("{}/123456789012/does-not-exist-dlq", moto.url()),
    );
    let results = [
        consumer.receive(1, Duration::ZERO).await.map(|_| ()),
        consumer.counts().await.map(|_| ()),
        consumer.dead_letters(10).await.map(|_| ()),
        consumer.redrive(None).await.map(|_| ()),
        consumer.redrive(Some(1)).await.map(|_| ()),
    ];
    for result in results {
        match result {
            Err(QueueError::Permanent(message)) => {
                assert!(message.contains("does-not-exist"), "{message}")
            }
            other => panic!("expected a permanent error, got {other:?}"),
        }
    }
}

/// On an emulator endpoint the consumer relays; the method is a setting, and a count
/// always relays.
#[tokio::test]
async fn redrive_method_follows_the_configuration() {
    let moto = moto();
    let config = config(&moto).await;
    let client = Client::new(&config);
    let (source, dead) = support::create_queue_pair(&client, &unique("redrive")).await;
    let consumer = SqsConsumer::from_config(&config, &source, &dead);
    assert_eq!(
        consumer.redrive_method(),
        SqsRedrive::Relay,
        "emulator: relay"
    );
    let aws = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    assert_eq!(
        SqsRedrive::for_config(&aws),
        SqsRedrive::MoveTask,
        "AWS: move task"
    );

    // Asked for a count, even a move-task consumer relays (a move task moves all).
    let dead_queue = SqsQueue::from_config(&config, &dead);
    dead_queue
        .send_batch(&[message(0, "{\"n\":0}", &[("uuid", "u0")])])
        .await
        .unwrap();
    let moved = consumer
        .clone()
        .with_redrive(SqsRedrive::MoveTask)
        .redrive(Some(5))
        .await
        .unwrap();
    assert_eq!((moved.moved, moved.method), (1, RedriveMethod::Relay));
}

/// A relay of more messages than one receive returns moves them all, and costs a
/// bounded number of requests.
#[tokio::test]
async fn relay_moves_more_than_one_receive() {
    let moto = moto();
    let config = config(&moto).await;
    let client = Client::new(&config);
    let (source, dead) = support::create_queue_pair(&client, &unique("relay")).await;
    let dead_queue = SqsQueue::from_config(&config, &dead);
    for chunk in 0..3 {
        let batch: Vec<QueueMessage> = (0..10)
            .map(|i| {
                message(
                    i,
                    &format!("{{\"n\":{}}}", chunk * 10 + i),
                    &[("uuid", "u")],
                )
            })
            .collect();
        assert_eq!(dead_queue.send_batch(&batch).await, Ok(Vec::new()));
    }
    let consumer = SqsConsumer::from_config(&config, &source, &dead);
    let letters = consumer.dead_letters(100).await.unwrap();
    assert_eq!(letters.len(), 30, "every dead letter listed");
    assert_eq!(consumer.dead_letters(7).await.unwrap().len(), 7);
    let before = consumer.requests();
    let moved = consumer.redrive(None).await.unwrap();
    assert_eq!(moved.moved, 30);
    // Per 10 messages: receive, send, delete; then one empty receive.
    assert!(
        consumer.requests() - before <= 3 * 3 + 1,
        "{}",
        consumer.requests() - before
    );
    let counts = consumer.counts().await.unwrap();
    assert_eq!((counts.visible, counts.dead_lettered), (30, 0));
}

/// A long poll may last its whole `wait`, beyond the client's attempt and operation
/// timeouts (1 s and 2 s here): an empty queue answers empty after the wait, not with a
/// timeout.
#[tokio::test]
async fn long_polls_outlast_the_attempt_timeout() {
    let moto = moto();
    let (source, dead) =
        support::create_queue_pair(&Client::new(&config(&moto).await), &unique("poll")).await;
    let short = okta_connect_aws::sdk::AwsSettings {
        operation_timeout: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(1),
        ..support::settings(&moto)
    };
    let consumer =
        SqsConsumer::from_config(&okta_connect_aws::sdk::load(&short).await, &source, &dead);
    let started = Instant::now();
    let got = consumer.receive(10, Duration::from_secs(4)).await.unwrap();
    let waited = started.elapsed();
    assert!(got.is_empty());
    assert!(waited >= Duration::from_secs(3), "{waited:?}");
    assert_eq!(consumer.requests(), 1, "one request, no SDK retry");
}
