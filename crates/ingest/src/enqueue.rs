//! From a parsed delivery to durable queue messages: one message per event, packed into
//! batches within SQS's limits, sent concurrently, and only the entries that failed sent
//! again, with backoff, until everything is queued or the time budget is spent.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use okta_connect_core::okta::{DeliveredEvent, Delivery, SplitDelivery};
use okta_connect_core::ports::{ErrorClass, EventQueue, QueueError};
use okta_connect_core::queue::{
    Attributes, DeadLetterReason, EventAttributes, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES,
    QueueMessage, attribute,
};
use okta_connect_core::time::UnixMillis;

use crate::trim::{self, Level};

/// How hard to try before answering 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total time for the whole request, parsing included, measured from its start.
    /// Okta waits 3 s; the default 2 s leaves room for API Gateway and a cold start.
    pub budget: Duration,
    /// Delay before the first resend; doubled each round up to `max_delay`, with jitter
    /// (each delay is drawn from `[d/2, d]`).
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Batches in flight at once.
    pub concurrency: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            budget: Duration::from_secs(2),
            first_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(400),
            concurrency: 10,
        }
    }
}

impl RetryPolicy {
    /// The delay before resend round `round` (0-based), jittered.
    pub fn delay(&self, round: u32) -> Duration {
        let full = self
            .first_delay
            .saturating_mul(1_u32.checked_shl(round.min(16)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let half = full / 2;
        let span = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
        let jitter = if span == 0 {
            0
        } else {
            random_u64() % (span + 1)
        };
        half + Duration::from_micros(jitter)
    }
}

/// A random number from the standard library's per-hasher random keys: enough for
/// jitter, without another dependency.
fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x9e37_79b9_7f4a_7c15);
    hasher.finish()
}

/// SQS's limit for one message, body and attributes together (SQS counts each
/// attribute's name, type and value): one batch's worth.
pub const MAX_MESSAGE_BYTES: usize = MAX_BATCH_BYTES;

/// Attribute set to `true` on a message whose body is not the event's whole JSON (see
/// [`attribute::TRIMMED`]): an event trimmed to the fields the worker reads
/// ([`crate::trim`]), or a dead letter whose body was cut to fit.
pub const TRIMMED_ATTRIBUTE: &str = attribute::TRIMMED;

/// Longest value of a hint attribute copied into a dead letter, so an event with absurd
/// fields still leaves room for its body.
const MAX_HINT_CHARS: usize = 256;

/// What one delivery becomes: messages for the queue and for the dead-letter queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prepared {
    /// One per usable event, in delivery order (trimmed where needed).
    pub queue: Vec<QueueMessage>,
    /// One per unusable event (and per event too large even when trimmed).
    pub dead_letters: Vec<QueueMessage>,
    /// Queue messages that carry a trimmed event.
    pub trimmed: usize,
}

/// One message per event, in delivery order. Entry ids are the events' indexes, so
/// they are unique within any batch and stable across resends. Body: the event's raw
/// JSON exactly as Okta sent it, or, for an event larger than an SQS message, the event
/// trimmed to the fields the worker reads (marked [`TRIMMED_ATTRIBUTE`]). An event too
/// large even then keeps its whole body here (and is refused as too large by
/// [`enqueue`]); [`prepare`] dead-letters it instead.
pub fn messages(delivery: &Delivery) -> Vec<QueueMessage> {
    delivery
        .events
        .iter()
        .enumerate()
        .map(
            |(index, delivered)| match event_message(index, delivery, delivered) {
                Ok((message, _)) => message,
                Err(whole) => whole,
            },
        )
        .collect()
}

/// The queue messages of `parsed`'s usable events (as [`messages`]) and a dead letter
/// for each unusable event and each event too large even when trimmed: the event's raw
/// JSON (cut to fit if it must be, and then marked [`TRIMMED_ATTRIBUTE`]) with
/// `failureReason`, `failureClass` = permanent and `failedAt` = `now`, and whatever of
/// `uuid`, `eventType`, `published`, `oktaUserId` could be read from it. Dead letters
/// have no `sourceMessageId`: they never were in the queue.
pub fn prepare(parsed: &SplitDelivery, now: UnixMillis) -> Prepared {
    let delivery = &parsed.delivery;
    let mut prepared = Prepared::default();
    for (index, delivered) in delivery.events.iter().enumerate() {
        match event_message(index, delivery, delivered) {
            Ok((message, trimmed)) => {
                prepared.trimmed += usize::from(trimmed);
                prepared.queue.push(message);
            }
            Err(whole) => prepared.dead_letters.push(dead_letter(
                format!("big-{index}"),
                &whole.body,
                whole.attributes,
                "event is larger than an SQS message even when trimmed to the fields the worker reads",
                now,
            )),
        }
    }
    for unusable in &parsed.unusable {
        let hints = hints(unusable.raw.get(), delivery.event_id.as_ref());
        prepared.dead_letters.push(dead_letter(
            format!("bad-{}", unusable.index),
            unusable.raw.get(),
            hints,
            &unusable.reason(),
            now,
        ));
    }
    prepared
}

/// The queue message of one usable event, trimmed if it must be (`true` then); `Err`
/// with the untrimmed message when even the minimal form does not fit.
fn event_message(
    index: usize,
    delivery: &Delivery,
    delivered: &DeliveredEvent,
) -> Result<(QueueMessage, bool), QueueMessage> {
    let event = &delivered.event;
    let attributes = EventAttributes {
        uuid: event.uuid.clone(),
        event_type: event.event_type.clone(),
        published: event.published.clone(),
        okta_user_id: event.okta_user().and_then(|u| u.id.clone()),
        delivery_id: delivery.event_id.clone(),
    }
    .to_attributes();
    let whole = QueueMessage {
        entry_id: index.to_string(),
        body: delivered.raw.get().to_string(),
        attributes,
    };
    if whole.payload_bytes() <= MAX_MESSAGE_BYTES {
        return Ok((whole, false));
    }
    let mut attributes = whole.attributes.clone();
    attributes.insert(TRIMMED_ATTRIBUTE.to_string(), "true".to_string());
    for level in [Level::WorkerFields, Level::Minimal] {
        if let Some(body) = trim::trim(delivered.raw.get(), level) {
            let message = QueueMessage {
                entry_id: whole.entry_id.clone(),
                body,
                attributes: attributes.clone(),
            };
            if message.payload_bytes() <= MAX_MESSAGE_BYTES {
                return Ok((message, true));
            }
        }
    }
    Err(whole)
}

/// What can be read of an unusable event for its attributes: only string values, each
/// bounded.
fn hints(raw: &str, delivery_id: Option<&String>) -> Attributes {
    let value: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().map(String::from);
    let okta_user_id = value
        .get("target")
        .and_then(serde_json::Value::as_array)
        .and_then(|targets| {
            targets
                .iter()
                .find(|t| t.get("type") == Some(&"User".into()))
        })
        .and_then(|user| user.get("id"))
        .and_then(text);
    EventAttributes {
        uuid: value.get("uuid").and_then(text).unwrap_or_default(),
        event_type: value.get("eventType").and_then(text).unwrap_or_default(),
        published: value.get("published").and_then(text).unwrap_or_default(),
        okta_user_id,
        delivery_id: delivery_id.cloned(),
    }
    .to_attributes()
}

/// A dead letter: `body` with its reason, cut to fit one SQS message if it must be.
fn dead_letter(
    entry_id: String,
    body: &str,
    mut attributes: Attributes,
    reason: &str,
    now: UnixMillis,
) -> QueueMessage {
    for value in attributes.values_mut() {
        if value.chars().count() > MAX_HINT_CHARS {
            *value = value.chars().take(MAX_HINT_CHARS).collect();
        }
    }
    let reason_of = |reason: String, attributes: &mut Attributes| {
        DeadLetterReason {
            reason,
            class: ErrorClass::Permanent,
            failed_at: now,
            source_message_id: String::new(),
        }
        .write_into(attributes);
    };
    let mut message = QueueMessage {
        entry_id,
        body: body.to_string(),
        attributes: attributes.clone(),
    };
    reason_of(reason.to_string(), &mut message.attributes);
    if message.payload_bytes() <= MAX_MESSAGE_BYTES {
        return message;
    }
    // The reason says the body is cut; the attributes then take what they take and the
    // body gets the rest.
    reason_of(
        format!("{reason} (body cut to fit one SQS message)"),
        &mut attributes,
    );
    attributes.insert(TRIMMED_ATTRIBUTE.to_string(), "true".to_string());
    message.attributes = attributes;
    message.body.clear();
    let room = MAX_MESSAGE_BYTES.saturating_sub(message.payload_bytes());
    let mut cut = room.min(body.len());
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    message.body = body[..cut].to_string();
    message
}

/// Packs messages, in order, into batches of at most [`MAX_BATCH_ENTRIES`] entries and
/// [`MAX_BATCH_BYTES`] of payload. A message larger than a whole batch must be filtered
/// out before (see [`fits_a_batch`]); if one slips through it travels alone.
pub fn pack(messages: Vec<QueueMessage>) -> Vec<Vec<QueueMessage>> {
    let mut batches: Vec<Vec<QueueMessage>> = Vec::new();
    let mut current: Vec<QueueMessage> = Vec::new();
    let mut bytes = 0;
    for message in messages {
        let size = message.payload_bytes();
        if !current.is_empty()
            && (current.len() == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(message);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Whether a message can be sent at all.
pub fn fits_a_batch(message: &QueueMessage) -> bool {
    message.payload_bytes() <= MAX_BATCH_BYTES
}

/// What happened to a delivery's messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnqueueReport {
    pub received: usize,
    pub queued: usize,
    /// Messages that a resend could not help (too large, refused as invalid, …).
    pub refused: usize,
    /// Messages still failing transiently when the budget ran out.
    pub timed_out: usize,
    /// `SendMessageBatch` calls made.
    pub calls: usize,
    /// Rounds of sending (1 when everything went through at once).
    pub rounds: u32,
    /// The last failure seen, for the log (never a body).
    pub last_error: Option<String>,
}

impl EnqueueReport {
    pub fn not_queued(&self) -> usize {
        self.received - self.queued
    }
}

/// Sends every message, resending only failed entries, until all are queued, all
/// remaining failures are permanent, or `policy.budget` (counted from `started`) is
/// spent. Each call is cut off when the budget ends.
pub async fn enqueue<Q: EventQueue>(
    queue: &Q,
    messages: Vec<QueueMessage>,
    policy: &RetryPolicy,
    started: Instant,
) -> EnqueueReport {
    let mut report = EnqueueReport {
        received: messages.len(),
        ..EnqueueReport::default()
    };
    let (mut pending, too_large): (Vec<_>, Vec<_>) = messages.into_iter().partition(fits_a_batch);
    if !too_large.is_empty() {
        report.refused += too_large.len();
        report.last_error = Some(format!(
            "{} event(s) larger than one SQS batch ({MAX_BATCH_BYTES} bytes)",
            too_large.len()
        ));
    }

    let mut round = 0_u32;
    while !pending.is_empty() {
        let Some(remaining) = policy.budget.checked_sub(started.elapsed()) else {
            break;
        };
        if remaining.is_zero() {
            break;
        }
        report.rounds += 1;
        let batches = pack(std::mem::take(&mut pending));
        report.calls += batches.len();
        let results: Vec<(Vec<QueueMessage>, Result<_, _>)> =
            futures_util::stream::iter(batches.into_iter().map(|batch| async move {
                let result = tokio::time::timeout(remaining, queue.send_batch(&batch)).await;
                (batch, result)
            }))
            .buffer_unordered(policy.concurrency.max(1))
            .collect()
            .await;

        for (batch, result) in results {
            match result {
                Ok(Ok(rejected)) => {
                    let mut rejected: HashMap<String, (ErrorClass, String)> = rejected
                        .into_iter()
                        .map(|r| (r.entry_id, (r.class, r.reason)))
                        .collect();
                    for message in batch {
                        match rejected.remove(&message.entry_id) {
                            None => report.queued += 1,
                            Some((ErrorClass::Transient, reason)) => {
                                report.last_error = Some(reason);
                                pending.push(message);
                            }
                            Some((ErrorClass::Permanent, reason)) => {
                                report.last_error = Some(reason);
                                report.refused += 1;
                            }
                        }
                    }
                }
                Ok(Err(QueueError::Transient(reason))) => {
                    report.last_error = Some(reason);
                    pending.extend(batch);
                }
                Ok(Err(QueueError::Permanent(reason))) => {
                    report.last_error = Some(reason);
                    report.refused += batch.len();
                }
                Err(_elapsed) => {
                    // The outcome is unknown; sending again may duplicate, which the
                    // worker absorbs (it de-duplicates by uuid). Losing is not an option.
                    report.last_error = Some("queue call timed out".to_string());
                    pending.extend(batch);
                }
            }
        }
        if pending.is_empty() {
            break;
        }
        // Keep delivery order for the next round's packing.
        pending.sort_by_key(|m| m.entry_id.parse::<usize>().unwrap_or(usize::MAX));
        let delay = policy.delay(round);
        if started.elapsed() + delay >= policy.budget {
            break;
        }
        tokio::time::sleep(delay).await;
        round += 1;
    }
    report.timed_out = pending.len();
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use okta_connect_core::queue::attribute;
    use okta_connect_testkit::fixtures;

    fn message(id: usize, body_len: usize) -> QueueMessage {
        QueueMessage {
            entry_id: id.to_string(),
            body: "x".repeat(body_len),
            attributes: Default::default(),
        }
    }

    #[test]
    fn messages_carry_raw_bodies_and_attributes() {
        let delivery = Delivery::parse(fixtures::GROUP_MEMBERSHIP_ADD.as_bytes()).unwrap();
        let messages = messages(&delivery);
        assert_eq!(messages.len(), delivery.events.len());
        let first = &messages[0];
        let event = &delivery.events[0].event;
        assert_eq!(first.body, delivery.events[0].raw.get());
        assert!(fixtures::GROUP_MEMBERSHIP_ADD.contains(&first.body));
        assert_eq!(first.attributes[attribute::UUID], event.uuid);
        assert_eq!(first.attributes[attribute::EVENT_TYPE], event.event_type);
        assert_eq!(first.attributes[attribute::PUBLISHED], event.published);
        assert_eq!(
            first
                .attributes
                .get(attribute::OKTA_USER_ID)
                .map(String::as_str),
            event.okta_user().and_then(|u| u.id.as_deref())
        );
        assert_eq!(
            first.attributes.get(attribute::DELIVERY_ID),
            delivery.event_id.as_ref()
        );
    }

    #[test]
    fn events_without_a_user_have_no_user_attribute() {
        let delivery =
            Delivery::parse(fixtures::TARGET_NULL_AND_MISSING_FIELDS.as_bytes()).unwrap();
        let messages = messages(&delivery);
        assert!(!messages[0].attributes.contains_key(attribute::OKTA_USER_ID));
        assert!(
            messages
                .iter()
                .all(|m| m.attributes.contains_key(attribute::UUID))
        );
    }

    #[test]
    fn packing_respects_count_and_bytes() {
        let batches = pack((0..25).map(|i| message(i, 10)).collect());
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [10, 10, 5]
        );

        // 100 KiB each: two fit in 256 KiB, a third does not.
        let batches = pack((0..5).map(|i| message(i, 100 * 1024)).collect());
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        for batch in &batches {
            let bytes: usize = batch.iter().map(QueueMessage::payload_bytes).sum();
            assert!(bytes <= MAX_BATCH_BYTES);
        }

        // Exactly the limit fits.
        let batches = pack(vec![
            message(0, MAX_BATCH_BYTES / 2),
            message(1, MAX_BATCH_BYTES / 2),
        ]);
        assert_eq!(batches.len(), 1);
        assert!(pack(Vec::new()).is_empty());
    }

    #[test]
    fn packing_keeps_order_and_ids_unique() {
        let batches = pack((0..37).map(|i| message(i, i * 1000)).collect());
        let ids: Vec<String> = batches
            .iter()
            .flatten()
            .map(|m| m.entry_id.clone())
            .collect();
        let expected: Vec<String> = (0..37).map(|i| i.to_string()).collect();
        assert_eq!(ids, expected);
    }

    #[test]
    fn delays_grow_with_jitter_and_stay_bounded() {
        let policy = RetryPolicy::default();
        for round in 0..40 {
            let full = (policy.first_delay * 2_u32.pow(round.min(10))).min(policy.max_delay);
            let d = policy.delay(round);
            assert!(d >= full / 2 && d <= full, "round {round}: {d:?}");
        }
        let zero = RetryPolicy {
            first_delay: Duration::ZERO,
            ..policy
        };
        assert_eq!(zero.delay(3), Duration::ZERO);
    }
}
