//! The handler with the real SQS adapter against moto, through the real AWS SDK: a
//! 100-event delivery lands as 100 messages; entries that fail are resent; a queue that
//! keeps failing gives 503; unusable events land in the DLQ with their reason, huge
//! ones in the queue trimmed.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::*;
use aws_sdk_sqs::Client;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::okta::Delivery;
use okta_connect_core::ports::{ErrorClass, EventQueue, QueueError};
use okta_connect_core::queue::{DeadLetterReason, QueueMessage, RejectedEntry};
use okta_connect_ingest::handle;
use okta_connect_testkit::fixtures;
use okta_connect_testkit::sqs::{QueuedMessage, read_queue};
use okta_connect_testkit::{MotoServer, free_port};

async fn sqs(settings: &AwsSettings) -> Client {
    Client::new(&sdk::load(settings).await)
}

async fn create_queue(client: &Client, name: &str) -> String {
    let output = client.create_queue().queue_name(name).send().await.unwrap();
    output.queue_url().unwrap().to_string()
}

/// Checks that the queue holds exactly the delivery's events, byte for byte, with their
/// attributes, each once.
fn assert_delivery_landed(text: &str, received: &[QueuedMessage]) {
    let delivery = Delivery::parse(text.as_bytes()).unwrap();
    assert_eq!(received.len(), delivery.events.len());
    let by_uuid: HashMap<&str, &QueuedMessage> = received
        .iter()
        .map(|r| (r.attributes["uuid"].as_str(), r))
        .collect();
    assert_eq!(
        by_uuid.len(),
        delivery.events.len(),
        "duplicates or missing"
    );
    for delivered in &delivery.events {
        let event = &delivered.event;
        let got = by_uuid[event.uuid.as_str()];
        assert!(
            got.body == delivered.raw.get(),
            "{}: body differs",
            event.uuid
        );
        assert_eq!(got.attributes["eventType"], event.event_type);
        assert_eq!(got.attributes["published"], event.published);
        assert_eq!(
            got.attributes.get("oktaUserId").map(String::as_str),
            event.okta_user().and_then(|u| u.id.as_deref())
        );
        assert_eq!(got.attributes.get("deliveryId"), delivery.event_id.as_ref());
    }
}

#[tokio::test]
async fn a_hundred_event_delivery_lands_as_a_hundred_messages() {
    let moto = MotoServer::start();
    let client = sqs(&AwsSettings::emulator(moto.url())).await;
    let url = create_queue(&client, "okta-events").await;
    let ctx = ingest_with(
        SqsQueue::new(client.clone(), &url),
        settings(Duration::from_secs(2)),
    );

    let response = handle(post(fixtures::HUNDRED_EVENTS), &ctx).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(json(&response)["queued"], 100);
    assert_eq!(ctx.queue.batch_sizes(), vec![10; 10]);
    assert!(ctx.queue.violations().is_empty());

    let received = read_queue(&client, &url, 100).await;
    assert_delivery_landed(fixtures::HUNDRED_EVENTS, &received);

    // And the other fixtures, non-ASCII names and null targets included.
    for text in [
        fixtures::NON_ASCII_NAMES,
        fixtures::TARGET_NULL_AND_MISSING_FIELDS,
    ] {
        let response = handle(post(text), &ctx).await;
        assert_eq!(response.status, 200);
        let n = Delivery::parse(text.as_bytes()).unwrap().events.len();
        let received = read_queue(&client, &url, n).await;
        assert_delivery_landed(text, &received);
    }
}

/// Around the real adapter: the chosen entries are rejected (transiently) the first
/// time they are seen and not forwarded; everything else goes to SQS.
struct FailFirstTime<Q> {
    inner: Q,
    fail: HashSet<String>,
    failed: Mutex<HashSet<String>>,
}

impl<Q: EventQueue> EventQueue for FailFirstTime<Q> {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        let mut rejected = Vec::new();
        let mut forward = Vec::new();
        {
            let mut failed = self.failed.lock().unwrap();
            for m in batch {
                if self.fail.contains(&m.entry_id) && failed.insert(m.entry_id.clone()) {
                    rejected.push(RejectedEntry {
                        entry_id: m.entry_id.clone(),
                        class: ErrorClass::Transient,
                        reason: "InternalError (injected)".into(),
                    });
                } else {
                    forward.push(m.clone());
                }
            }
        }
        if !forward.is_empty() {
            rejected.extend(self.inner.send_batch(&forward).await?);
        }
        Ok(rejected)
    }
}

#[tokio::test]
async fn entries_that_fail_are_resent_and_land_once() {
    let moto = MotoServer::start();
    let client = sqs(&AwsSettings::emulator(moto.url())).await;
    let url = create_queue(&client, "okta-events").await;
    let fail: HashSet<String> = [0, 7, 10, 55, 99]
        .iter()
        .map(|i: &usize| i.to_string())
        .collect();
    let queue = FailFirstTime {
        inner: SqsQueue::new(client.clone(), &url),
        fail,
        failed: Mutex::new(HashSet::new()),
    };
    let ctx = ingest_with(queue, settings(Duration::from_secs(2)));

    let response = handle(post(fixtures::HUNDRED_EVENTS), &ctx).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(json(&response)["queued"], 100);
    // 10 first-round batches, then one batch with the 5 failed entries.
    assert_eq!(ctx.queue.batch_sizes().len(), 11);
    assert_eq!(ctx.queue.batch_sizes()[10], 5);

    let received = read_queue(&client, &url, 100).await;
    assert_delivery_landed(fixtures::HUNDRED_EVENTS, &received);
}

#[tokio::test]
async fn a_missing_queue_gives_503_at_once() {
    let moto = MotoServer::start();
    let client = sqs(&AwsSettings::emulator(moto.url())).await;
    let url = format!("{}/123456789012/does-not-exist", moto.url());
    let ctx = ingest_with(SqsQueue::new(client, url), settings(Duration::from_secs(2)));
    let started = Instant::now();
    let response = handle(post(fixtures::HUNDRED_EVENTS), &ctx).await;
    assert_eq!(response.status, 503);
    // Permanent: not resent.
    assert_eq!(ctx.queue.batch_sizes().len(), 10);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn an_unreachable_queue_gives_503_within_the_budget() {
    let settings_aws = AwsSettings {
        operation_timeout: Duration::from_millis(800),
        attempt_timeout: Duration::from_millis(300),
        ..AwsSettings::emulator(format!("http://127.0.0.1:{}", free_port()))
    };
    let client = sqs(&settings_aws).await;
    let budget = Duration::from_millis(1500);
    let ctx = ingest_with(
        SqsQueue::new(client, "http://127.0.0.1:9/123456789012/okta-events"),
        settings(budget),
    );
    let started = Instant::now();
    let response = handle(post(fixtures::GROUP_MEMBERSHIP_ADD), &ctx).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status, 503);
    assert!(
        elapsed <= budget + Duration::from_millis(200),
        "{elapsed:?}"
    );
    assert!(ctx.queue.batch_sizes().len() >= 2, "transient: resent");
}

#[tokio::test]
async fn good_bad_and_huge_events_land_in_the_queue_and_the_dlq() {
    let moto = MotoServer::start();
    let client = sqs(&AwsSettings::emulator(moto.url())).await;
    let url = create_queue(&client, "okta-events").await;
    let dlq_url = create_queue(&client, "okta-events-dlq").await;
    let ctx = ingest_with_dead_letters(
        SqsQueue::new(client.clone(), &url),
        SqsQueue::new(client.clone(), &dlq_url),
        settings(Duration::from_secs(2)),
    );

    let mut events = events_of(fixtures::HUNDRED_EVENTS);
    events.truncate(3);
    let bad = serde_json::json!({"uuid": "no-date", "eventType": "user.lifecycle.suspend"});
    events[1] = bad.clone();
    events[2]["debugContext"]["debugData"]["trace"] = "t".repeat(400 * 1024).into();
    let big_uuid = events[2]["uuid"].as_str().unwrap().to_string();
    let response = handle(post(delivery_with(&events)), &ctx).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        json(&response),
        serde_json::json!({"queued": 2, "deadLettered": 1})
    );

    let queued = read_queue(&client, &url, 2).await;
    let big = queued
        .iter()
        .find(|m| m.attributes["uuid"] == big_uuid)
        .unwrap();
    assert_eq!(
        big.attributes.get("trimmed").map(String::as_str),
        Some("true")
    );
    assert!(big.body.len() < 256 * 1024);
    let small = queued
        .iter()
        .find(|m| m.attributes["uuid"] != big_uuid)
        .unwrap();
    assert_eq!(small.body, events[0].to_string());

    let dead = read_queue(&client, &dlq_url, 1).await;
    assert_eq!(dead[0].body, bad.to_string());
    let reason = DeadLetterReason::read(&dead[0].attributes).unwrap();
    assert_eq!(reason.class, ErrorClass::Permanent);
    assert!(
        reason.reason.contains("data.events[1]"),
        "{}",
        reason.reason
    );
    assert!(reason.failed_at.0 > 0);
    assert_eq!(reason.source_message_id, "");
    assert_eq!(dead[0].attributes["uuid"], "no-date");
    assert_eq!(dead[0].attributes["eventType"], "user.lifecycle.suspend");
}
