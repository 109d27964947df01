//! Helpers shared by the ingest tests.
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use okta_connect_aws::secrets::SecretValues;
use okta_connect_core::ports::{EventQueue, QueueError};
use okta_connect_core::queue::{MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, QueueMessage, RejectedEntry};
use okta_connect_ingest::{
    HookSecret, Ingest, IngestRequest, IngestResponse, RetryPolicy, Settings,
};
use okta_connect_testkit::memory::MemoryQueue;

pub const SECRET: &str = "s3cr3t-current-value-0123456789";
pub const PREVIOUS: &str = "s3cr3t-previous-value-9876543210";

pub fn secret() -> HookSecret {
    HookSecret::new(&SecretValues::new(SECRET, Some(PREVIOUS)).unwrap())
}

/// Settings with a short budget so failing paths end quickly.
pub fn settings(budget: Duration) -> Settings {
    Settings {
        retry: RetryPolicy {
            budget,
            ..RetryPolicy::default()
        },
        ..Settings::default()
    }
}

/// The handler's context in the tests: any queue, dead letters in memory; both checked
/// against the port's contract.
pub type TestIngest<Q, D = MemoryQueue> = Ingest<CheckedQueue<Q>, CheckedQueue<D>>;

pub fn ingest<Q: EventQueue>(queue: Q) -> TestIngest<Q> {
    ingest_with(queue, settings(Duration::from_millis(500)))
}

pub fn ingest_with<Q: EventQueue>(queue: Q, settings: Settings) -> TestIngest<Q> {
    ingest_with_dead_letters(queue, MemoryQueue::new(), settings)
}

pub fn ingest_with_dead_letters<Q: EventQueue, D: EventQueue>(
    queue: Q,
    dead_letters: D,
    settings: Settings,
) -> TestIngest<Q, D> {
    Ingest::new(
        settings,
        secret(),
        CheckedQueue::new(queue),
        CheckedQueue::new(dead_letters),
    )
}

pub fn memory() -> TestIngest<MemoryQueue> {
    ingest(MemoryQueue::new())
}

/// A POST carrying the current secret.
pub fn post(body: impl Into<Vec<u8>>) -> IngestRequest {
    IngestRequest::new("POST")
        .header("Authorization", SECRET)
        .header("Content-Type", "application/json")
        .body(body)
}

/// A verification GET carrying the current secret.
pub fn challenge(value: &str) -> IngestRequest {
    IngestRequest::new("GET")
        .header("authorization", SECRET)
        .header("x-okta-verification-challenge", value)
}

pub fn json(response: &IngestResponse) -> serde_json::Value {
    serde_json::from_str(&response.body).unwrap()
}

/// Wraps a queue and checks every batch against the port's contract: 1 to 10 entries,
/// at most 256 KiB of payload, ids unique within the batch.
pub struct CheckedQueue<Q> {
    pub inner: Q,
    violations: Mutex<Vec<String>>,
    batches: Mutex<Vec<usize>>,
}

impl<Q> CheckedQueue<Q> {
    pub fn new(inner: Q) -> Self {
        Self {
            inner,
            violations: Mutex::new(Vec::new()),
            batches: Mutex::new(Vec::new()),
        }
    }

    pub fn violations(&self) -> Vec<String> {
        self.violations.lock().unwrap().clone()
    }

    /// Sizes of the batches sent, in order.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.batches.lock().unwrap().clone()
    }
}

impl<Q: EventQueue> EventQueue for CheckedQueue<Q> {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        {
            let mut violations = self.violations.lock().unwrap();
            if batch.is_empty() || batch.len() > MAX_BATCH_ENTRIES {
                violations.push(format!("batch of {} entries", batch.len()));
            }
            let bytes: usize = batch.iter().map(QueueMessage::payload_bytes).sum();
            if bytes > MAX_BATCH_BYTES {
                violations.push(format!("batch of {bytes} bytes"));
            }
            let ids: HashSet<&str> = batch.iter().map(|m| m.entry_id.as_str()).collect();
            if ids.len() != batch.len() {
                violations.push("duplicate entry ids".to_string());
            }
            self.batches.lock().unwrap().push(batch.len());
        }
        self.inner.send_batch(batch).await
    }
}

/// The events of a delivery as JSON values.
pub fn events_of(delivery: &str) -> Vec<serde_json::Value> {
    let whole: serde_json::Value = serde_json::from_str(delivery).unwrap();
    whole["data"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A delivery with the given events (as JSON values).
pub fn delivery_with(events: &[serde_json::Value]) -> String {
    serde_json::json!({
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": "https://acme.okta.com/api/v1/eventHooks/test",
        "eventId": "delivery-test",
        "data": { "events": events }
    })
    .to_string()
}
