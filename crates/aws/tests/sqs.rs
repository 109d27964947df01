//! The SQS adapter against moto through the real SDK: what lands, with which attributes,
//! and how failures are classified.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_sqs::Client;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::ports::{EventQueue, QueueError, QueueMessage};
use okta_connect_tests::{MotoServer, free_port, read_queue};

async fn client(settings: &AwsSettings) -> Client {
    Client::new(&sdk::load(settings).await)
}

async fn create_queue(client: &Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string()
}

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

#[tokio::test]
async fn a_batch_lands_with_bodies_and_string_attributes() {
    let moto = MotoServer::start();
    let settings = moto.settings();
    let client = client(&settings).await;
    let url = create_queue(&client, "events").await;
    let queue = SqsQueue::new(client.clone(), &url);

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
    assert_eq!(
        queue.send_batch(&[]).await,
        Ok(Vec::new()),
        "empty batch: no call"
    );
}

#[tokio::test]
async fn malformed_batches_and_missing_queues_are_permanent() {
    let moto = MotoServer::start();
    let client = client(&moto.settings()).await;
    let url = create_queue(&client, "events").await;
    let queue = SqsQueue::new(client.clone(), &url);

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

    let missing = SqsQueue::new(
        client,
        format!("{}/123456789012/does-not-exist", moto.url()),
    );
    match missing.send_batch(&[message(0, "{}", &[])]).await {
        Err(QueueError::Permanent(reason)) => assert!(!reason.contains("{}"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient() {
    let settings = AwsSettings {
        operation_timeout: Duration::from_secs(2),
        attempt_timeout: Duration::from_millis(500),
        ..AwsSettings::emulator(format!("http://127.0.0.1:{}", free_port()))
    };
    let client = client(&settings).await;
    let queue = SqsQueue::new(client, "http://127.0.0.1:1/123456789012/events");
    assert!(matches!(
        queue.send_batch(&[message(0, "{}", &[])]).await,
        Err(QueueError::Transient(_))
    ));
}

#[tokio::test]
async fn sdk_errors_are_matched_by_type() {
    use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    use okta_connect_aws::sqs::classify_batch_error;
    use okta_connect_core::ports::ErrorClass;

    let moto = MotoServer::start();
    let client = client(&moto.settings()).await;
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
