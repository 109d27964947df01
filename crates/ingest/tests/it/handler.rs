//! The handler over the shared Okta fixtures, against the in-process queue: what is
//! queued, what is answered, how failures are resent, and what is logged.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use okta_connect_core::config::Config;
use okta_connect_core::okta::{Delivery, OktaEvent};
use okta_connect_core::ports::{ErrorClass, EventQueue, QueueError};
use okta_connect_core::queue::attribute as attr;
use okta_connect_core::queue::{DeadLetterReason, QueueMessage, RejectedEntry};
use okta_connect_core::rules::classify;
use okta_connect_core::time::UnixMillis;
use okta_connect_ingest::enqueue::{MAX_MESSAGE_BYTES, TRIMMED_ATTRIBUTE};
use okta_connect_ingest::handle;
use okta_connect_testkit::fixtures;
use okta_connect_testkit::memory::{MemoryQueue, QueueFault};

#[tokio::test]
async fn every_valid_fixture_is_queued_whole_one_message_per_event() {
    for (name, text) in fixtures::deliveries() {
        let ctx = memory();
        let response = handle(post(text), &ctx).await;
        let delivery = Delivery::parse(text.as_bytes()).unwrap();
        let n = delivery.events.len();
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(json(&response)["queued"], n, "{name}");
        assert_eq!(
            response.header("content-type"),
            Some("application/json"),
            "{name}"
        );

        let accepted = ctx.queue.inner.accepted();
        assert_eq!(accepted.len(), n, "{name}");
        assert!(ctx.queue.violations().is_empty(), "{name}");
        // Delivery order is kept when nothing fails.
        for (message, delivered) in accepted.iter().zip(&delivery.events) {
            let event = &delivered.event;
            assert!(message.body == delivered.raw.get(), "{name}: body altered");
            assert!(text.contains(&message.body), "{name}: not Okta's bytes");
            assert_eq!(message.attributes[attr::UUID], event.uuid, "{name}");
            assert_eq!(
                message.attributes[attr::EVENT_TYPE],
                event.event_type,
                "{name}"
            );
            assert_eq!(
                message.attributes[attr::PUBLISHED],
                event.published,
                "{name}"
            );
            assert_eq!(
                message
                    .attributes
                    .get(attr::OKTA_USER_ID)
                    .map(String::as_str),
                event.okta_user().and_then(|u| u.id.as_deref()),
                "{name}"
            );
            assert_eq!(
                message.attributes.get(attr::DELIVERY_ID),
                delivery.event_id.as_ref(),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn irrelevant_events_are_queued_too() {
    // The mixed batch holds events no mapping cares about: ingest still queues them all,
    // so the worker can record why each one was ignored.
    let ctx = memory();
    let response = handle(post(fixtures::MIXED_BATCH), &ctx).await;
    assert_eq!(response.status, 200);
    let types: Vec<String> = ctx
        .queue
        .inner
        .accepted()
        .iter()
        .map(|m| m.attributes[attr::EVENT_TYPE].clone())
        .collect();
    assert_eq!(
        types.len(),
        crate::common::events_of(fixtures::MIXED_BATCH).len()
    );
}

#[tokio::test]
async fn a_hundred_events_go_in_ten_batches_of_ten() {
    let ctx = memory();
    let response = handle(post(fixtures::HUNDRED_EVENTS), &ctx).await;
    assert_eq!(response.status, 200);
    assert_eq!(json(&response)["queued"], 100);
    assert_eq!(ctx.queue.batch_sizes(), vec![10; 10]);
    assert!(ctx.queue.violations().is_empty());
    let uuids: std::collections::BTreeSet<String> = ctx
        .queue
        .inner
        .accepted()
        .iter()
        .map(|m| m.attributes[attr::UUID].clone())
        .collect();
    assert_eq!(uuids.len(), 100);
}

#[tokio::test]
async fn large_events_are_packed_by_bytes() {
    // 12 events of ~60 KiB: 4 per batch by bytes (256 KiB), never 10.
    let template = crate::common::events_of(fixtures::GROUP_MEMBERSHIP_ADD)[0].clone();
    let events: Vec<serde_json::Value> = (0..12)
        .map(|i| {
            let mut e = template.clone();
            e["uuid"] = format!("big-{i}").into();
            e["displayMessage"] = "x".repeat(60 * 1024).into();
            e
        })
        .collect();
    let body = crate::common::delivery_with(&events);
    let mut settings = crate::common::settings(Duration::from_secs(2));
    settings.max_body_bytes = 4 * 1024 * 1024;
    let ctx = ingest_with(MemoryQueue::new(), settings);
    let response = handle(post(body), &ctx).await;
    assert_eq!(response.status, 200);
    assert_eq!(ctx.queue.inner.accepted().len(), 12);
    assert!(
        ctx.queue.violations().is_empty(),
        "{:?}",
        ctx.queue.violations()
    );
    assert_eq!(ctx.queue.batch_sizes(), vec![4, 4, 4]);
}

/// The group fixture's event with `debugContext.debugData` blown up by `kib` KiB, as a
/// System Log event with a long request trace can be.
fn huge_debug_context_event(uuid: &str, kib: usize) -> serde_json::Value {
    let mut event = crate::common::events_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    event["uuid"] = uuid.into();
    event["debugContext"]["debugData"]["trace"] = "t".repeat(kib * 1024).into();
    event
}

#[tokio::test]
async fn an_event_larger_than_a_message_is_trimmed_to_the_workers_fields() {
    let small = crate::common::events_of(fixtures::HUNDRED_EVENTS);
    let big = huge_debug_context_event("big-one", 400);
    let events = vec![small[0].clone(), big.clone(), small[1].clone()];
    let body = crate::common::delivery_with(&events);
    let ctx = ingest_with(
        MemoryQueue::new(),
        crate::common::settings(Duration::from_secs(2)),
    );
    let response = handle(post(body.clone()), &ctx).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        json(&response),
        serde_json::json!({"queued": 3, "deadLettered": 0})
    );
    assert!(
        ctx.queue.violations().is_empty(),
        "{:?}",
        ctx.queue.violations()
    );

    let accepted = ctx.queue.inner.accepted();
    let trimmed: Vec<&QueueMessage> = accepted
        .iter()
        .filter(|m| m.attributes.get(TRIMMED_ATTRIBUTE).map(String::as_str) == Some("true"))
        .collect();
    assert_eq!(trimmed.len(), 1, "only the big event is marked");
    let message = trimmed[0];
    assert!(message.payload_bytes() <= MAX_MESSAGE_BYTES);
    assert_eq!(message.attributes[attr::UUID], "big-one");
    // What the worker reads is all there, and classifies as the whole event does.
    let whole = OktaEvent::parse(&big.to_string()).unwrap();
    let kept = OktaEvent::parse(&message.body).unwrap();
    assert_eq!(kept.target, whole.target);
    assert_eq!(kept.actor, whole.actor);
    assert_eq!(kept.outcome, whole.outcome);
    assert_eq!(kept.display_message, whole.display_message);
    let config = Config::from_ini(fixtures::CONFIG_INI).unwrap();
    assert_eq!(classify(&kept, &config), classify(&whole, &config));
    assert!(!message.body.contains("ttttt") && !message.body.contains("ipAddress"));
    // The small events are untouched, byte for byte.
    for message in accepted
        .iter()
        .filter(|m| m.attributes[attr::UUID] != "big-one")
    {
        assert!(body.contains(&message.body));
        assert!(!message.attributes.contains_key(TRIMMED_ATTRIBUTE));
    }
}

#[tokio::test]
async fn an_event_whose_own_fields_are_too_large_keeps_only_what_rules_read() {
    let mut events = crate::common::events_of(fixtures::HUNDRED_EVENTS);
    events.truncate(3);
    events[1]["displayMessage"] = "x".repeat(300 * 1024).into();
    let ctx = ingest_with(
        MemoryQueue::new(),
        crate::common::settings(Duration::from_secs(2)),
    );
    let response = handle(post(crate::common::delivery_with(&events)), &ctx).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let accepted = ctx.queue.inner.accepted();
    assert_eq!(accepted.len(), 3);
    assert!(ctx.queue.violations().is_empty());
    let trimmed = accepted
        .iter()
        .find(|m| m.attributes.contains_key(TRIMMED_ATTRIBUTE))
        .unwrap();
    let kept = OktaEvent::parse(&trimmed.body).unwrap();
    assert_eq!(kept.display_message, None);
    assert!(kept.okta_user().is_some());
}

#[tokio::test]
async fn an_event_too_large_even_trimmed_is_dead_lettered_cut_not_refused() {
    let mut events = crate::common::events_of(fixtures::GROUP_MEMBERSHIP_ADD);
    let mut absurd = events[0].clone();
    absurd["uuid"] = "absurd".into();
    absurd["target"][0]["displayName"] = "J".repeat(300 * 1024).into();
    let absurd_raw = absurd.to_string();
    events.push(absurd);
    let ctx = ingest_with(
        MemoryQueue::new(),
        crate::common::settings(Duration::from_secs(2)),
    );
    let response = handle(post(crate::common::delivery_with(&events)), &ctx).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        json(&response),
        serde_json::json!({"queued": 1, "deadLettered": 1})
    );
    let dead = ctx.dead_letters.inner.accepted();
    assert!(ctx.dead_letters.violations().is_empty());
    let letter = &dead[0];
    assert!(letter.payload_bytes() <= MAX_MESSAGE_BYTES);
    assert_eq!(letter.attributes[TRIMMED_ATTRIBUTE], "true");
    assert_eq!(letter.attributes[attr::UUID], "absurd");
    let reason = DeadLetterReason::read(&letter.attributes).unwrap();
    assert_eq!(reason.class, ErrorClass::Permanent);
    assert!(
        reason.reason.contains("larger than an SQS message"),
        "{}",
        reason.reason
    );
    assert!(reason.reason.contains("body cut"), "{}", reason.reason);
    assert!(
        letter.body.len() > 200 * 1024 && absurd_raw.starts_with(&letter.body),
        "the raw JSON, cut"
    );
}

#[tokio::test]
async fn one_bad_event_costs_only_itself() {
    let mut events = crate::common::events_of(fixtures::HUNDRED_EVENTS);
    events[57]["uuid"] = serde_json::json!(57);
    let bad_raw = events[57].to_string();
    let body = crate::common::delivery_with(&events);
    let before = UnixMillis::now();
    let ctx = ingest_with(
        MemoryQueue::new(),
        crate::common::settings(Duration::from_secs(2)),
    );
    let response = handle(post(body), &ctx).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        json(&response),
        serde_json::json!({"queued": 99, "deadLettered": 1})
    );
    assert_eq!(ctx.queue.inner.accepted().len(), 99);

    let dead = ctx.dead_letters.inner.accepted();
    assert_eq!(dead.len(), 1);
    let letter = &dead[0];
    assert_eq!(letter.body, bad_raw, "the raw JSON, byte for byte");
    let reason = DeadLetterReason::read(&letter.attributes).unwrap();
    assert!(
        reason.reason.contains("data.events[57]"),
        "{}",
        reason.reason
    );
    assert_eq!(reason.class, ErrorClass::Permanent);
    assert_eq!(letter.attributes[attr::FAILURE_CLASS], "permanent");
    assert!(reason.failed_at >= before && reason.failed_at <= UnixMillis::now());
    assert!(!letter.attributes.contains_key(attr::SOURCE_MESSAGE_ID));
    // What could be read of it, for the operator's listing.
    assert!(
        !letter.attributes.contains_key(attr::UUID),
        "its uuid is no string"
    );
    assert_eq!(
        letter.attributes[attr::EVENT_TYPE],
        events[57]["eventType"].as_str().unwrap()
    );
    assert_eq!(letter.attributes[attr::DELIVERY_ID], "delivery-test");
    assert!(!letter.attributes.contains_key(TRIMMED_ATTRIBUTE));
}

#[tokio::test]
async fn dead_letters_not_durable_make_the_answer_503() {
    let mut events = crate::common::events_of(fixtures::HUNDRED_EVENTS);
    events.truncate(5);
    events[2]["published"] = "yesterday".into();
    let ctx = ingest_with_dead_letters(
        MemoryQueue::new(),
        MemoryQueue::always_failing(vec![QueueFault::FailCall]),
        crate::common::settings(Duration::from_millis(300)),
    );
    let response = handle(post(crate::common::delivery_with(&events)), &ctx).await;
    assert_eq!(response.status, 503);
    assert!(
        json(&response)["error"]
            .as_str()
            .unwrap()
            .contains("1 of 5")
    );
    // The usable ones are durable anyway; Okta's retry only duplicates them.
    assert_eq!(ctx.queue.inner.accepted().len(), 4);
}

#[tokio::test]
async fn a_delivery_between_one_and_six_mib_is_taken_by_default() {
    // 50 events of ~100 KiB: a 5 MiB delivery, refused before the limit was raised.
    let events: Vec<serde_json::Value> = (0..50)
        .map(|i| huge_debug_context_event(&format!("e{i}"), 100))
        .collect();
    let body = crate::common::delivery_with(&events);
    assert!(
        body.len() > 4 * 1024 * 1024 && body.len() < okta_connect_ingest::DEFAULT_MAX_BODY_BYTES
    );
    let ctx = ingest_with(
        MemoryQueue::new(),
        okta_connect_ingest::Settings {
            retry: okta_connect_ingest::RetryPolicy {
                budget: Duration::from_secs(2),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let response = handle(post(body), &ctx).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(ctx.queue.inner.accepted().len(), 50);
    assert!(ctx.queue.violations().is_empty());
}

#[tokio::test]
async fn empty_events_answer_200_without_calling_the_queue() {
    let ctx = memory();
    let response = handle(post(fixtures::EMPTY_EVENTS), &ctx).await;
    assert_eq!(response.status, 200);
    assert_eq!(json(&response)["queued"], 0);
    assert_eq!(ctx.queue.inner.calls(), 0);
}

#[tokio::test]
async fn invalid_fixtures_answer_400_and_queue_nothing() {
    for (name, text) in fixtures::ALL
        .iter()
        .filter(|(n, _)| n.starts_with("invalid_"))
    {
        let ctx = memory();
        let response = handle(post(*text), &ctx).await;
        assert_eq!(response.status, 400, "{name}");
        let reason = json(&response)["error"].as_str().unwrap().to_string();
        assert!(!reason.is_empty() && reason.len() < 200, "{name}: {reason}");
        assert_eq!(ctx.queue.inner.calls(), 0, "{name}");
        // A well-formed delivery whose only event is unusable keeps that event.
        let dead = ctx.dead_letters.inner.accepted().len();
        let expected = usize::from(*name == "invalid_event_uuid_number.json");
        assert_eq!(dead, expected, "{name}");
    }
}

#[tokio::test]
async fn verification_echoes_the_challenge() {
    let ctx = memory();
    let response = handle(challenge("a-random-challenge-123"), &ctx).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        json(&response),
        serde_json::json!({"verification": "a-random-challenge-123"})
    );
    assert_eq!(ctx.queue.inner.calls(), 0);
}

// ------------------------------------------------------------------ resending

#[tokio::test]
async fn rejected_entries_are_resent_until_queued() {
    let queue = MemoryQueue::with_script(vec![
        vec![QueueFault::RejectEntry(0), QueueFault::RejectEntry(3)],
        vec![QueueFault::RejectEntry(9)],
        vec![QueueFault::RejectEntry(0)],
        vec![QueueFault::FailCall],
    ]);
    let ctx = ingest_with(queue, crate::common::settings(Duration::from_secs(2)));
    let response = handle(post(fixtures::HUNDRED_EVENTS), &ctx).await;
    assert_eq!(response.status, 200);
    assert_eq!(json(&response)["queued"], 100);
    let accepted = ctx.queue.inner.accepted();
    assert_eq!(accepted.len(), 100, "each event exactly once");
    let ids: std::collections::BTreeSet<&str> =
        accepted.iter().map(|m| m.entry_id.as_str()).collect();
    assert_eq!(ids.len(), 100);
    // 10 first-round calls; the 3 entries rejected (0 and 3 of the first batch, 9 of
    // the second) are resent in 1 call, whose entry 0 is rejected again ... until done.
    assert!(ctx.queue.inner.calls() > 10);
    assert!(ctx.queue.violations().is_empty());
}

#[tokio::test]
async fn a_failed_call_is_resent_whole() {
    let queue =
        MemoryQueue::with_script(vec![vec![QueueFault::FailCall], vec![QueueFault::FailCall]]);
    let ctx = ingest_with(queue, crate::common::settings(Duration::from_secs(2)));
    let response = handle(post(fixtures::GROUP_MEMBERSHIP_ADD), &ctx).await;
    assert_eq!(response.status, 200);
    assert_eq!(ctx.queue.inner.accepted().len(), 1);
    assert_eq!(ctx.queue.inner.calls(), 3);
}

#[tokio::test]
async fn a_queue_that_always_fails_gets_503_within_the_budget() {
    for budget in [Duration::from_millis(300), Duration::from_secs(2)] {
        let queue = MemoryQueue::always_failing(vec![QueueFault::FailCall]);
        let ctx = ingest_with(queue, crate::common::settings(budget));
        let started = Instant::now();
        let response = handle(post(fixtures::HUNDRED_EVENTS), &ctx).await;
        let elapsed = started.elapsed();
        assert_eq!(response.status, 503);
        assert_eq!(response.header("retry-after"), Some("1"));
        assert!(
            json(&response)["error"]
                .as_str()
                .unwrap()
                .contains("100 of 100")
        );
        assert!(
            elapsed <= budget + Duration::from_millis(100),
            "{elapsed:?}"
        );
        // Resent with backoff, several rounds, not a busy loop.
        let rounds = ctx.queue.inner.calls() / 10;
        assert!(rounds >= 3, "{rounds} rounds in {budget:?}");
        assert!(rounds <= 20, "{rounds} rounds in {budget:?}");
    }
}

#[tokio::test]
async fn always_rejected_entries_get_503_the_rest_is_queued() {
    let queue = MemoryQueue::always_failing(vec![QueueFault::RejectEntry(0)]);
    let ctx = ingest_with(queue, crate::common::settings(Duration::from_millis(300)));
    let response = handle(post(fixtures::HUNDRED_EVENTS), &ctx).await;
    assert_eq!(response.status, 503);
    // Each round the first entry of every batch is refused again: the rest got through.
    assert!(ctx.queue.inner.accepted().len() >= 90);
    assert!(ctx.queue.inner.accepted().len() < 100);
}

/// Refuses every entry permanently, counting calls.
#[derive(Default)]
struct RefusingQueue {
    calls: Mutex<usize>,
}

impl EventQueue for RefusingQueue {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        *self.calls.lock().unwrap() += 1;
        Ok(batch
            .iter()
            .map(|m| RejectedEntry {
                entry_id: m.entry_id.clone(),
                class: ErrorClass::Permanent,
                reason: "InvalidMessageContents".into(),
            })
            .collect())
    }
}

#[tokio::test]
async fn permanent_rejections_are_not_resent() {
    let ctx = ingest_with(
        RefusingQueue::default(),
        crate::common::settings(Duration::from_secs(2)),
    );
    let started = Instant::now();
    let response = handle(post(fixtures::HUNDRED_EVENTS), &ctx).await;
    assert_eq!(response.status, 503);
    assert_eq!(*ctx.queue.inner.calls.lock().unwrap(), 10);
    assert!(started.elapsed() < Duration::from_millis(500));
}

/// Never answers in time.
struct HangingQueue;

impl EventQueue for HangingQueue {
    async fn send_batch(&self, _batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn a_hanging_queue_is_cut_off_at_the_budget() {
    let ctx = ingest_with(
        HangingQueue,
        crate::common::settings(Duration::from_millis(400)),
    );
    let started = Instant::now();
    let response = handle(post(fixtures::GROUP_MEMBERSHIP_ADD), &ctx).await;
    assert_eq!(response.status, 503);
    assert!(started.elapsed() < Duration::from_millis(600));
}

// ------------------------------------------------------------------ logs

/// Collects what the JSON formatter writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged(requests: Vec<okta_connect_ingest::IngestRequest>) -> Vec<serde_json::Value> {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = lambda_runtime::tracing::subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer(move || writer.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let ctx = memory();
        for request in requests {
            runtime.block_on(handle(request, &ctx));
        }
    });
    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn one_log_line_per_request_without_secret_body_or_email() {
    let lines = logged(vec![
        post(fixtures::HUNDRED_EVENTS),
        challenge("challenge-value"),
        post(fixtures::GROUP_MEMBERSHIP_ADD).header("authorization", "wrong"),
        okta_connect_ingest::IngestRequest::new("POST")
            .header("authorization", "not-the-secret")
            .body(fixtures::GROUP_MEMBERSHIP_ADD),
        post("{not json"),
    ]);
    assert_eq!(lines.len(), 5);

    let first = &lines[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(
        first["delivery_id"],
        "delivery-7541a496-5cab-4b2c-a66b-cb1a9d68c2c3"
    );
    assert_eq!(first["events_received"], 100);
    assert_eq!(first["events_queued"], 100);
    assert_eq!(first["status"], 200);
    assert!(first["latency_ms"].is_u64());
    assert_eq!(lines[1]["status"], 200);
    assert_eq!(lines[2]["status"], 401);
    assert_eq!(lines[3]["status"], 401);
    assert_eq!(lines[4]["status"], 400);

    let all: String = lines.iter().map(|l| l.to_string()).collect();
    assert!(!all.contains(SECRET) && !all.contains("not-the-secret"));
    assert!(!all.contains('@'), "an email or login was logged");
    assert!(!all.contains("displayMessage") && !all.contains("challenge-value"));
}
