//! The hook secret in a warm process: a rotated secret is read again on a mismatch and
//! accepted without a cold start; a flood of wrong values reads it at most once; every
//! 401 is counted in a metric line. Then the real start-up against Secrets Manager on
//! moto: a stored value that starts like JSON but is not stops the start.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use futures_util::future::BoxFuture;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::secrets::SecretValues;
use okta_connect_ingest::metrics::{
    DEAD_LETTERED, QUEUED, RECEIVED, REJECTED, TRIMMED, UNAUTHORIZED,
};
use okta_connect_ingest::secret::{
    REFRESH_INTERVAL, SecretReader, SecretSourceError, SecretStore, parse_secret_string,
};
use okta_connect_ingest::startup::{Startup, StartupError};
use okta_connect_ingest::{HookSecret, Ingest, IngestRequest, MetricsSink, handle};
use okta_connect_testkit::MotoServer;
use okta_connect_testkit::fixtures;
use okta_connect_testkit::memory::MemoryQueue;
use serde_json::Value;

/// The stored secret, as an operator edits it; counts reads.
#[derive(Clone, Default)]
struct Stored {
    text: Arc<Mutex<String>>,
    reads: Arc<AtomicUsize>,
}

impl SecretReader for Stored {
    fn read(&self) -> BoxFuture<'_, Result<SecretValues, SecretSourceError>> {
        Box::pin(async move {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let text = self.text.lock().unwrap().clone();
            parse_secret_string(&text)
        })
    }
}

type Lines = Arc<Mutex<Vec<Value>>>;

fn warm_ingest(stored: &Stored) -> (Ingest<MemoryQueue, MemoryQueue>, Lines) {
    *stored.text.lock().unwrap() = "old-secret".into();
    let secret = SecretStore::refreshing(
        HookSecret::new(&SecretValues::new("old-secret", None).unwrap()),
        stored.clone(),
        REFRESH_INTERVAL,
    );
    let lines: Lines = Arc::default();
    let sink = {
        let lines = Arc::clone(&lines);
        MetricsSink::new("OktaConnect-test", move |line| {
            lines
                .lock()
                .unwrap()
                .push(serde_json::from_str(line).unwrap());
        })
    };
    let ingest = Ingest::new(
        settings(Duration::from_secs(2)),
        secret,
        MemoryQueue::new(),
        MemoryQueue::new(),
    )
    .with_metrics(sink);
    (ingest, lines)
}

fn delivery_with_secret(secret: &str) -> IngestRequest {
    IngestRequest::new("POST")
        .header("authorization", secret)
        .body(fixtures::GROUP_MEMBERSHIP_ADD)
}

#[tokio::test]
async fn a_rotated_secret_is_accepted_by_a_warm_process() {
    let stored = Stored::default();
    let (ctx, _) = warm_ingest(&stored);
    assert_eq!(
        handle(delivery_with_secret("old-secret"), &ctx)
            .await
            .status,
        200
    );

    // The operator's rotation: both values stored, then Okta switched to the new one.
    *stored.text.lock().unwrap() = r#"{"current": "new-secret", "previous": "old-secret"}"#.into();
    assert_eq!(
        handle(delivery_with_secret("new-secret"), &ctx)
            .await
            .status,
        200
    );
    assert_eq!(
        handle(delivery_with_secret("old-secret"), &ctx)
            .await
            .status,
        200
    );
    assert_eq!(stored.reads.load(Ordering::SeqCst), 1);
    assert_eq!(ctx.queue.accepted().len(), 3);
}

#[tokio::test]
async fn a_flood_of_wrong_secrets_reads_the_secret_once_and_is_counted() {
    let stored = Stored::default();
    let (ctx, lines) = warm_ingest(&stored);
    for i in 0..200 {
        let request = if i % 2 == 0 {
            delivery_with_secret(&format!("forged-{i}"))
        } else {
            IngestRequest::new("POST").body(fixtures::GROUP_MEMBERSHIP_ADD)
        };
        let response = handle(request, &ctx).await;
        assert_eq!(response.status, 401);
        assert_eq!(
            json(&response),
            serde_json::json!({"error": "missing or wrong secret"})
        );
    }
    assert_eq!(
        stored.reads.load(Ordering::SeqCst),
        1,
        "at most one read per interval"
    );
    assert_eq!(ctx.queue.calls(), 0);

    // One line per rejected request, and one for the accepted delivery's events.
    assert_eq!(
        handle(delivery_with_secret("old-secret"), &ctx)
            .await
            .status,
        200
    );
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 201);
    let accepted = &lines[200];
    assert_eq!(accepted[UNAUTHORIZED], 0.0);
    assert!(accepted[RECEIVED].as_f64().unwrap() >= 1.0, "{accepted}");
    assert_eq!(accepted[QUEUED], accepted[RECEIVED]);
    for line in lines.iter().take(200) {
        assert_eq!(line[UNAUTHORIZED], 1.0);
        assert_eq!(line["Stack"], "OktaConnect-test");
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "OktaConnect"
        );
    }
    let all: String = lines.iter().map(Value::to_string).collect();
    assert!(!all.contains("forged") && !all.contains("old-secret"));
}

#[tokio::test]
async fn dead_letters_and_trimmed_events_are_counted() {
    let stored = Stored::default();
    let (ctx, lines) = warm_ingest(&stored);
    let mut events = events_of(fixtures::HUNDRED_EVENTS);
    events.truncate(4);
    events[1]["uuid"] = 1.into();
    events[2]["debugContext"]["debugData"]["trace"] = "t".repeat(300 * 1024).into();
    let response = handle(
        delivery_with_secret("old-secret").body(delivery_with(&events)),
        &ctx,
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0][RECEIVED], 4.0);
    assert_eq!(lines[0][QUEUED], 3.0);
    assert_eq!(lines[0][DEAD_LETTERED], 1.0);
    assert_eq!(lines[0][TRIMMED], 1.0);
    assert_eq!(lines[0][UNAUTHORIZED], 0.0);
    assert_eq!(lines[0][REJECTED], 0.0);
}

#[tokio::test]
async fn a_refused_request_is_counted_as_rejected() {
    let stored = Stored::default();
    let (ctx, lines) = warm_ingest(&stored);
    let response = handle(
        delivery_with_secret("old-secret").body("{not json".to_string()),
        &ctx,
    )
    .await;
    assert_eq!(response.status, 400, "{}", response.body);
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0][REJECTED], 1.0);
    assert_eq!(lines[0][UNAUTHORIZED], 0.0);
    assert_eq!(lines[0][QUEUED], 0.0);
}

// ------------------------------------------------------------------ Secrets Manager (moto)

async fn stored_secret(moto: &MotoServer, name: &str, value: &str) -> String {
    let client =
        aws_sdk_secretsmanager::Client::new(&sdk::load(&AwsSettings::emulator(moto.url())).await);
    let created = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    created.arn().unwrap().to_string()
}

async fn put_secret(moto: &MotoServer, id: &str, value: &str) {
    let client =
        aws_sdk_secretsmanager::Client::new(&sdk::load(&AwsSettings::emulator(moto.url())).await);
    client
        .put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .unwrap();
}

async fn queue(moto: &MotoServer, name: &str) -> String {
    let client = aws_sdk_sqs::Client::new(&sdk::load(&AwsSettings::emulator(moto.url())).await);
    let created = client.create_queue().queue_name(name).send().await.unwrap();
    created.queue_url().unwrap().to_string()
}

async fn start(moto: &MotoServer, secret_arn: &str) -> Result<Startup, StartupError> {
    let vars: Vec<(String, String)> = [
        ("OKTA_CONNECT_QUEUE_URL", queue(moto, "events").await),
        ("OKTA_CONNECT_DLQ_URL", queue(moto, "events-dlq").await),
        ("OKTA_CONNECT_HOOK_SECRET_ARN", secret_arn.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Startup::from_env(&vars, |_| Ok(String::new()))
}

#[tokio::test]
async fn a_stored_secret_that_starts_like_json_but_is_not_stops_the_start() {
    let moto = MotoServer::start();
    let arn = stored_secret(&moto, "hook-broken", r#"{"current": "abc", "previous": }"#).await;
    let result = start(&moto, &arn)
        .await
        .unwrap()
        .build_on(AwsSettings::emulator(moto.url()))
        .await;
    match result {
        Err(e @ StartupError::Secret(SecretSourceError::MalformedJson)) => {
            let message = e.to_string();
            assert!(message.contains("not valid JSON"), "{message}");
            assert!(!message.contains("abc"), "the secret leaked: {message}");
        }
        other => panic!("expected MalformedJson, got {other:?}"),
    }
}

#[tokio::test]
async fn a_warm_lambda_picks_up_a_rotation_stored_in_secrets_manager() {
    let moto = MotoServer::start();
    let arn = stored_secret(&moto, "hook", "first-value\n").await;
    let ctx = start(&moto, &arn)
        .await
        .unwrap()
        .build_on(AwsSettings::emulator(moto.url()))
        .await
        .unwrap();
    assert_eq!(
        handle(delivery_with_secret("first-value"), &ctx)
            .await
            .status,
        200
    );

    put_secret(
        &moto,
        &arn,
        r#"{"current": "second-value", "previous": "first-value"}"#,
    )
    .await;
    assert_eq!(
        handle(delivery_with_secret("second-value"), &ctx)
            .await
            .status,
        200
    );
    assert_eq!(
        handle(delivery_with_secret("first-value"), &ctx)
            .await
            .status,
        200
    );

    // Another rotation within the minute is seen only after it: the read that found
    // "second-value" is less than REFRESH_INTERVAL old.
    put_secret(&moto, &arn, "third-value").await;
    assert_eq!(
        handle(delivery_with_secret("third-value"), &ctx)
            .await
            .status,
        401
    );
    assert_eq!(
        handle(delivery_with_secret("second-value"), &ctx)
            .await
            .status,
        200
    );
}
