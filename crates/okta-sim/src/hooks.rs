//! Event-hook delivery as Okta does it: a verification GET at registration, then POSTs
//! of batched events to every verified, active hook subscribed to their type, with one
//! retry (same `eventId`) on a 5xx or a timeout/connection error and none on a 4xx.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::org::Hook;
use crate::sim::lock;
use crate::util::{random_alnum, rfc3339_ms};

/// One delivery attempt, as recorded for inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The hook delivered to (`who…`).
    pub hook_id: String,
    /// The delivery's `eventId` (the same on the retry).
    pub event_id: String,
    /// 1 for the first attempt, 2 for the retry.
    pub attempt: u32,
    /// The `uuid` of each event in `data.events`, in order.
    pub event_uuids: Vec<String>,
    /// The HTTP status the hook answered, if it answered.
    pub status: Option<u16>,
    /// Why there was no answer (timeout, connection refused), if there was none.
    pub error: Option<String>,
}

/// What the delivery workers share with the simulator handle.
#[derive(Debug, Default)]
pub(crate) struct HookShared {
    pub attempts: Mutex<Vec<DeliveryAttempt>>,
    /// Events queued or in flight, over all hooks.
    pub pending: AtomicUsize,
}

/// The delivery settings of a worker.
#[derive(Clone, Debug)]
pub(crate) struct DeliverySettings {
    pub org_url: String,
    pub batch_window: Duration,
    pub timeout: Duration,
}

/// The hooks' workers: one queue per verified hook, drained in order.
#[derive(Debug, Default)]
pub(crate) struct HookHub {
    pub shared: Arc<HookShared>,
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Value>>>,
}

fn request_headers(hook: &Hook) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    let auth = (hook.auth_key.clone(), hook.auth_value.clone());
    for (key, value) in hook.headers.iter().chain(std::iter::once(&auth)) {
        if key.is_empty() {
            continue;
        }
        let name = HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| format!("invalid header name {key:?}"))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {key}"))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// Okta's verification: one GET with `x-okta-verification-challenge` (and the hook's
/// headers); the answer must be 200 with `{"verification": <the challenge>}`.
pub(crate) async fn verify(
    http: &reqwest::Client,
    hook: &Hook,
    timeout: Duration,
) -> Result<(), String> {
    let challenge = random_alnum(40);
    let mut headers = request_headers(hook)?;
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        headers.insert("x-okta-verification-challenge", value);
    }
    let response = http
        .get(&hook.uri)
        .headers(headers)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| describe_send_error(&e))?;
    let status = response.status();
    if status.as_u16() != 200 {
        return Err(format!("the endpoint answered {status}, not 200"));
    }
    let body: Value = response
        .json()
        .await
        .map_err(|_| "the endpoint did not answer with JSON".to_owned())?;
    if body.get("verification").and_then(Value::as_str) == Some(challenge.as_str()) {
        Ok(())
    } else {
        Err("the endpoint did not echo the verification challenge".to_owned())
    }
}

fn describe_send_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    }
}

impl HookHub {
    /// Starts the hook's worker unless it runs already. Must be called within a Tokio
    /// runtime (the verify endpoint does).
    pub(crate) fn start(&self, hook: &Hook, http: reqwest::Client, settings: DeliverySettings) {
        let mut queues = lock(&self.queues);
        if queues.contains_key(&hook.id) {
            return;
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        queues.insert(hook.id.clone(), sender);
        let worker = Worker {
            hook: hook.clone(),
            http,
            settings,
            shared: self.shared.clone(),
        };
        tokio::spawn(worker.run(receiver));
    }

    /// Stops the hook's worker once its queue is drained.
    pub(crate) fn stop(&self, hook_id: &str) {
        lock(&self.queues).remove(hook_id);
    }

    /// Queues one event for the hook; false when the hook has no worker.
    pub(crate) fn enqueue(&self, hook_id: &str, event: Value) -> bool {
        let queues = lock(&self.queues);
        let Some(queue) = queues.get(hook_id) else {
            return false;
        };
        self.shared.pending.fetch_add(1, Ordering::SeqCst);
        if queue.send(event).is_err() {
            self.shared.pending.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }
}

struct Worker {
    hook: Hook,
    http: reqwest::Client,
    settings: DeliverySettings,
    shared: Arc<HookShared>,
}

impl Worker {
    async fn run(self, mut queue: mpsc::UnboundedReceiver<Value>) {
        while let Some(first) = queue.recv().await {
            // Events that occur within the window of the first one travel together.
            tokio::time::sleep(self.settings.batch_window).await;
            let mut batch = vec![first];
            while let Ok(event) = queue.try_recv() {
                batch.push(event);
            }
            let count = batch.len();
            self.deliver(batch).await;
            self.shared.pending.fetch_sub(count, Ordering::SeqCst);
        }
    }

    async fn deliver(&self, events: Vec<Value>) {
        let event_id = uuid::Uuid::new_v4().to_string();
        let uuids: Vec<String> = events
            .iter()
            .map(|e| e["uuid"].as_str().unwrap_or_default().to_owned())
            .collect();
        let body = json!({
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "contentType": "application/json",
            "source": format!("{}/api/v1/eventHooks/{}", self.settings.org_url, self.hook.id),
            "eventId": event_id,
            "eventTime": rfc3339_ms(OffsetDateTime::now_utc()),
            "data": { "events": events }
        });
        for attempt in 1..=2 {
            let (status, error) = self.post(&body).await;
            lock(&self.shared.attempts).push(DeliveryAttempt {
                hook_id: self.hook.id.clone(),
                event_id: event_id.clone(),
                attempt,
                event_uuids: uuids.clone(),
                status,
                error: error.clone(),
            });
            let retry = match status {
                Some(s) => s >= 500,
                None => true,
            };
            if !retry {
                break;
            }
            tracing::debug!(hook = %self.hook.id, attempt, ?status, "event hook delivery failed");
        }
    }

    async fn post(&self, body: &Value) -> (Option<u16>, Option<String>) {
        let headers = match request_headers(&self.hook) {
            Ok(headers) => headers,
            Err(reason) => return (None, Some(reason)),
        };
        let result = self
            .http
            .post(&self.hook.uri)
            .headers(headers)
            .json(body)
            .timeout(self.settings.timeout)
            .send()
            .await;
        match result {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(error) => (None, Some(describe_send_error(&error))),
        }
    }
}
