//! A queue's age of oldest message read back from CloudWatch on moto through the real
//! SDK (its rpc-v2-cbor protocol): datapoints put into `AWS/SQS`
//! `ApproximateAgeOfOldestMessage` (dimension `QueueName`) the way SQS publishes them,
//! the newest one read back, other queues and old datapoints left out, an unreachable
//! endpoint transient.

use std::time::Duration;

use aws_config::SdkConfig;

use okta_connect_aws::cloudwatch::{MetricsError, QueueAge, QueueMetrics, READ};
use okta_connect_core::ports::ErrorClass;
use okta_connect_core::time::UnixMillis;
use okta_connect_testkit::contract::ledger::unique;

use crate::support::{self, moto};

/// Puts one datapoint of `queue`'s age of oldest message, `seconds` old at `at`.
async fn put_age(config: &SdkConfig, queue: &str, at: UnixMillis, seconds: f64) {
    okta_connect_testkit::cloudwatch::put_queue_age(
        config,
        queue,
        at,
        Duration::from_secs_f64(seconds),
    )
    .await;
}

/// The start of `at`'s minute: how CloudWatch stamps a one-minute datapoint.
fn minute_of(at: UnixMillis) -> UnixMillis {
    UnixMillis(at.0 - at.0.rem_euclid(60_000))
}

#[tokio::test]
async fn the_newest_datapoint_of_the_queue_is_read_back() {
    let moto = moto();
    let config = support::config(&moto).await;
    let reader = QueueMetrics::from_config(&config);
    let queue = unique("agedq");
    let now = UnixMillis::now();
    let earlier = now.minus(Duration::from_secs(10 * 60));
    let latest = now.minus(Duration::from_secs(3 * 60));
    put_age(&config, &queue, earlier, 100.0).await;
    put_age(&config, &queue, latest, 312.5).await;

    let age = reader.oldest_message_age(&queue, now).await.unwrap();
    let expected = QueueAge {
        age: Duration::from_millis(312_500),
        at: minute_of(latest),
    };
    assert_eq!(age, Some(expected));
    assert_eq!(
        expected.sent_at(),
        minute_of(latest).minus(Duration::from_millis(312_500))
    );
    assert_eq!(reader.requests(), 1, "one GetMetricData");
}

#[tokio::test]
async fn another_queue_or_only_old_datapoints_give_none() {
    let moto = moto();
    let config = support::config(&moto).await;
    let reader = QueueMetrics::from_config(&config);
    let queue = unique("agedq");
    let now = UnixMillis::now();
    put_age(&config, &queue, now.minus(Duration::from_secs(60)), 42.0).await;
    // A queue whose name starts like it is another queue.
    let other = format!("{queue}-dlq");
    assert_eq!(reader.oldest_message_age(&other, now).await.unwrap(), None);
    // A datapoint older than the window is not an answer about now.
    let stale = unique("staleq");
    put_age(
        &config,
        &stale,
        now.minus(Duration::from_secs(40 * 60)),
        7.0,
    )
    .await;
    assert_eq!(reader.oldest_message_age(&stale, now).await.unwrap(), None);
    // Read from 40 minutes ago, the same datapoint is the newest.
    let then = now.minus(Duration::from_secs(39 * 60));
    let got = reader.oldest_message_age(&stale, then).await.unwrap();
    assert_eq!(got.map(|a| a.age), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable() {
    let unreachable = okta_connect_aws::sdk::load(&support::unreachable()).await;
    let reader = QueueMetrics::from_config(&unreachable);
    let err = reader
        .oldest_message_age("okta-events", UnixMillis::now())
        .await
        .unwrap_err();
    match &err {
        MetricsError::Unavailable {
            operation,
            queue,
            region,
            ..
        } => {
            assert_eq!(*operation, READ);
            assert_eq!(queue, "okta-events");
            assert_eq!(region, "us-east-1");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Transient);
}
