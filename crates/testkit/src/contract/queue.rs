//! The contract of the [`EventQueue`] and [`QueueConsumer`] ports: what every queue
//! adapter (in-memory, SQS, SQLite, …) must do, as one async function per case, generic
//! over a [`QueueFixture`].
//!
//! `okta_connect_testkit::memory::MemoryQueues` is the reference: the suite passes against
//! it, so a case that fails on an adapter is the adapter's bug (or the port's doc needs
//! saying more).
//!
//! An adapter's test file runs every case as its own `#[tokio::test]` with one line:
//!
//! ```ignore
//! okta_connect_testkit::queue_contract_tests!(sqlite, async { make_fixture().await });
//! ```
//!
//! The first argument names the module the tests go in; the second builds a FRESH
//! fixture per case (a new source queue and dead-letter queue, so counts start at zero).
//! The calling crate needs `tokio` (macros, multi-threaded runtime).
//!
//! Cases never sleep: where a message must become visible again they hand it back with
//! [`Duration::ZERO`]. A receive may return fewer messages than are available (SQS
//! samples its servers), so cases receive in a loop until they have what they expect or
//! [`EMPTY_ROUNDS`] receives in a row returned nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use okta_connect_core::ports::{EventQueue, QueueConsumer};
use okta_connect_core::queue::{
    Attributes, DeadLetter, DeadLetterReason, Delivery, EventAttributes, MAX_BATCH_BYTES,
    MAX_BATCH_ENTRIES, MAX_RECEIVE, QueueCounts, QueueMessage, attribute,
};
use okta_connect_core::time::UnixMillis;

use super::ledger::unique;

/// The redrive policy's `maxReceiveCount` every fixture's source queue must have: after
/// this many receives without an acknowledgement, the next receive moves the message to
/// the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 2;

/// How long cases let a receive wait for its first message when they expect one.
pub const WAIT: Duration = Duration::from_secs(1);

/// Receives in a row that may come back empty before a case gives up looking.
pub const EMPTY_ROUNDS: usize = 3;

/// A FRESH source queue and its dead-letter queue per case: redrive policy
/// `maxReceiveCount` = [`MAX_RECEIVE_COUNT`], visibility timeout >= 30 s.
pub trait QueueFixture: Send + Sync {
    type Producer: EventQueue;
    type Consumer: QueueConsumer;
    /// Sends to the source queue.
    fn producer(&self) -> &Self::Producer;
    /// Consumes the source queue; knows its dead-letter queue.
    fn consumer(&self) -> &Self::Consumer;
    /// Sends straight to the dead-letter queue (cases for dead_letters / redrive).
    fn dead_letter_producer(&self) -> &Self::Producer;
}

// ---------------------------------------------------------------- messages

/// A message shaped like ingest's: an Okta event's JSON as the body (with non-ASCII
/// text, escapes, quotes and significant whitespace, which must survive byte for byte)
/// and every event attribute, some with non-ASCII values.
pub fn event_message(entry: usize) -> QueueMessage {
    let uuid = unique("evt");
    let user = format!("00u{entry}Zoë");
    let body = format!(
        "{{\"uuid\":\"{uuid}\",\"eventType\":\"group.user_membership.add\",\
         \"published\":\"2027-01-15T08:00:0{d}.123Z\",\
         \"displayMessage\":\"Add user to group membership — Zoë Ångström, 東京 🚀\",\
         \"target\":[{{\"id\":\"{user}\",\"type\":\"User\",\
         \"displayName\":\"Jürgen \\\"JJ\\\" O'Brien \\u00e9\\n\"}}],\
         \"debugContext\":{{\"note\":\"tab\\there\"}}}}\r\n\t ",
        d = entry % 10,
    );
    let attributes = EventAttributes {
        uuid: uuid.clone(),
        event_type: "group.user_membership.add".into(),
        published: format!("2027-01-15T08:00:0{}.123Z", entry % 10),
        okta_user_id: Some(user),
        delivery_id: Some(format!("dlv-{entry}-ünïcødé-配信")),
    }
    .to_attributes();
    QueueMessage {
        entry_id: format!("entry-{entry}"),
        body,
        attributes,
    }
}

/// A message as the worker dead-letters it: the event's attributes plus its reason.
pub fn dead_letter_message(entry: usize) -> QueueMessage {
    let mut message = event_message(entry);
    DeadLetterReason {
        reason: format!("InvalidParameterException: security profile — «{entry}» unknown"),
        class: okta_connect_core::ports::ErrorClass::Permanent,
        failed_at: UnixMillis(1_800_000_000_000 + i64::try_from(entry).unwrap_or(0)),
        source_message_id: format!("source-message-{entry}"),
    }
    .write_into(&mut message.attributes);
    message
}

/// The `n` messages of one batch (entries `0..n`).
pub fn batch(n: usize) -> Vec<QueueMessage> {
    (0..n).map(event_message).collect()
}

// ---------------------------------------------------------------- helpers

async fn send<Q: EventQueue>(queue: &Q, batch: &[QueueMessage]) {
    let rejected = queue.send_batch(batch).await.expect("send_batch failed");
    assert!(
        rejected.is_empty(),
        "a healthy queue rejected entries: {rejected:?}"
    );
}

async fn counts<C: QueueConsumer>(consumer: &C) -> QueueCounts {
    consumer.counts().await.expect("counts failed")
}

async fn dead_letters<C: QueueConsumer>(consumer: &C) -> Vec<DeadLetter> {
    consumer
        .dead_letters(MAX_RECEIVE)
        .await
        .expect("dead_letters failed")
}

/// Receives until exactly `n` messages arrived (never asking for more than are still
/// missing), or [`EMPTY_ROUNDS`] receives in a row returned nothing. Asserts `n` distinct
/// messages arrived.
pub async fn receive_n<C: QueueConsumer>(consumer: &C, n: usize) -> Vec<Delivery> {
    let mut got: Vec<Delivery> = Vec::new();
    let mut empty = 0;
    while got.len() < n && empty < EMPTY_ROUNDS {
        let ask = MAX_RECEIVE.min(n - got.len());
        let batch = consumer.receive(ask, WAIT).await.expect("receive failed");
        assert!(
            batch.len() <= ask,
            "asked for {ask} messages, got {}",
            batch.len()
        );
        if batch.is_empty() {
            empty += 1;
        } else {
            empty = 0;
            got.extend(batch);
        }
    }
    assert_eq!(
        got.len(),
        n,
        "expected {n} messages, received {}: {got:?}",
        got.len()
    );
    let ids: BTreeSet<&str> = got.iter().map(|d| d.message_id.as_str()).collect();
    assert_eq!(ids.len(), n, "a message was delivered twice: {got:?}");
    got
}

/// One receive that must return nothing (no wait: the queue is expected empty).
async fn receive_none<C: QueueConsumer>(consumer: &C) {
    let got = consumer
        .receive(MAX_RECEIVE, Duration::ZERO)
        .await
        .expect("receive failed");
    assert!(got.is_empty(), "expected no receivable message: {got:?}");
}

async fn hand_back_now<C: QueueConsumer>(consumer: &C, delivery: &Delivery) {
    consumer
        .hand_back(&delivery.receipt, Duration::ZERO)
        .await
        .expect("hand_back failed");
}

/// The messages by body, to compare regardless of order.
fn by_body<'a, I: IntoIterator<Item = (&'a String, &'a Attributes)>>(
    items: I,
) -> BTreeMap<&'a str, &'a Attributes> {
    items
        .into_iter()
        .map(|(b, a)| (b.as_str(), a))
        .collect::<BTreeMap<_, _>>()
}

fn sent_by_body(sent: &[QueueMessage]) -> BTreeMap<&str, &Attributes> {
    by_body(sent.iter().map(|m| (&m.body, &m.attributes)))
}

fn received_by_body(got: &[Delivery]) -> BTreeMap<&str, &Attributes> {
    by_body(got.iter().map(|d| (&d.body, &d.attributes)))
}

fn dead_by_body(got: &[DeadLetter]) -> BTreeMap<&str, &Attributes> {
    by_body(got.iter().map(|d| (&d.body, &d.attributes)))
}

/// Receives and hands back the one message in the source queue until the receive after
/// the [`MAX_RECEIVE_COUNT`]-th moves it to the dead-letter queue.
async fn exhaust_receives<C: QueueConsumer>(consumer: &C, message: &QueueMessage) -> String {
    let mut message_id = None;
    for attempt in 1..=MAX_RECEIVE_COUNT {
        let got = receive_n(consumer, 1).await;
        assert_eq!(got[0].body, message.body);
        assert_eq!(got[0].receive_count, attempt, "{:?}", got[0]);
        if let Some(id) = &message_id {
            assert_eq!(&got[0].message_id, id, "a hand-back keeps the message id");
        }
        message_id = Some(got[0].message_id.clone());
        hand_back_now(consumer, &got[0]).await;
    }
    // The next receive finds the message over its limit and moves it instead of
    // delivering it. Sampling queues may need a few receives to meet it.
    for _ in 0..EMPTY_ROUNDS {
        receive_none(consumer).await;
        if counts(consumer).await.dead_lettered == 1 {
            break;
        }
    }
    message_id.unwrap_or_default()
}

// ---------------------------------------------------------------- send and receive

/// A batch of ten comes back byte-equal: every body (non-ASCII, escapes, trailing
/// whitespace) and every attribute, nothing more; each delivery has a message id, a
/// receipt and receive count 1.
pub async fn batch_round_trips_byte_equal<F: QueueFixture>(f: &F) {
    let sent = batch(MAX_BATCH_ENTRIES);
    send(f.producer(), &sent).await;
    let got = receive_n(f.consumer(), sent.len()).await;
    assert_eq!(received_by_body(&got), sent_by_body(&sent));
    for d in &got {
        assert!(!d.message_id.is_empty(), "{d:?}");
        assert!(!d.receipt.0.is_empty(), "{d:?}");
        assert_eq!(d.receive_count, 1, "{d:?}");
    }
    let receipts: BTreeSet<&str> = got.iter().map(|d| d.receipt.0.as_str()).collect();
    assert_eq!(receipts.len(), got.len(), "receipts must be distinct");
}

/// `Ok(empty)` from `send_batch` means every entry is durably queued: each is counted
/// visible and each can be received.
pub async fn accepted_entries_are_receivable<F: QueueFixture>(f: &F) {
    let sent = batch(MAX_BATCH_ENTRIES);
    send(f.producer(), &sent).await;
    let more = vec![event_message(10), event_message(11)];
    send(f.producer(), &more).await;
    assert_eq!(
        counts(f.consumer()).await,
        QueueCounts {
            visible: 12,
            in_flight: 0,
            dead_lettered: 0
        }
    );
    let got = receive_n(f.consumer(), 12).await;
    let bodies: BTreeSet<&str> = got.iter().map(|d| d.body.as_str()).collect();
    let expected: BTreeSet<&str> = sent.iter().chain(&more).map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, expected);
}

/// An attribute with an empty value is left out (SQS refuses empty values); the
/// message and its other attributes are delivered.
pub async fn empty_attribute_values_are_left_out<F: QueueFixture>(f: &F) {
    let mut message = event_message(0);
    // Blank one attribute ingest sets and add a blank one it does not.
    for name in [attribute::DELIVERY_ID, attribute::FAILURE_REASON] {
        message.attributes.insert(name.into(), String::new());
    }
    let mut wanted = message.attributes.clone();
    wanted.retain(|_, value| !value.is_empty());
    assert_eq!(wanted.len(), message.attributes.len() - 2);
    send(f.producer(), std::slice::from_ref(&message)).await;
    let got = receive_n(f.consumer(), 1).await;
    assert_eq!(got[0].body, message.body);
    assert_eq!(got[0].attributes, wanted);
}

/// A batch whose payload (body plus attribute names, types and values, as
/// [`QueueMessage::payload_bytes`] counts it) is exactly [`MAX_BATCH_BYTES`] is accepted
/// whole, and its large multi-byte bodies come back uncut.
pub async fn batch_at_the_byte_limit_is_accepted<F: QueueFixture>(f: &F) {
    let mut sent = vec![event_message(0), event_message(1)];
    let base: usize = sent.iter().map(QueueMessage::payload_bytes).sum();
    let room = MAX_BATCH_BYTES - base;
    // Pad with a 3-byte character, then ASCII to land on the limit exactly.
    for (message, share) in sent.iter_mut().zip([room / 2, room - room / 2]) {
        let wide = share / 3;
        let pad: String = "語".repeat(wide) + &"x".repeat(share - wide * 3);
        message.body.push_str(&pad);
    }
    let total: usize = sent.iter().map(QueueMessage::payload_bytes).sum();
    assert_eq!(total, MAX_BATCH_BYTES);
    send(f.producer(), &sent).await;
    let got = receive_n(f.consumer(), 2).await;
    assert_eq!(received_by_body(&got), sent_by_body(&sent));
}

/// A receive returns at most `max` messages; what it returned stays invisible (the
/// visibility timeout is at least 30 s), so later receives deliver only the others.
pub async fn receive_respects_max_and_visibility<F: QueueFixture>(f: &F) {
    let sent = batch(5);
    send(f.producer(), &sent).await;
    let first = receive_n(f.consumer(), 2).await;
    let rest = receive_n(f.consumer(), 3).await;
    let mut all: Vec<&str> = first.iter().chain(&rest).map(|d| d.body.as_str()).collect();
    all.sort_unstable();
    let mut expected: Vec<&str> = sent.iter().map(|m| m.body.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(all, expected, "every message exactly once");
    receive_none(f.consumer()).await;
    let c = counts(f.consumer()).await;
    assert_eq!((c.visible, c.in_flight), (0, 5), "{c:?}");
}

// ---------------------------------------------------------------- settling

/// Acknowledging removes the message for good: the counts go to zero and nothing is
/// receivable. Acknowledging the same receipt again is not an error.
pub async fn acknowledge_removes_the_message<F: QueueFixture>(f: &F) {
    send(f.producer(), &batch(2)).await;
    let got = receive_n(f.consumer(), 2).await;
    for d in &got {
        f.consumer()
            .acknowledge(&d.receipt)
            .await
            .expect("acknowledge failed");
    }
    assert_eq!(counts(f.consumer()).await, QueueCounts::default());
    receive_none(f.consumer()).await;
    f.consumer()
        .acknowledge(&got[0].receipt)
        .await
        .expect("acknowledging twice must not be an error");
    assert_eq!(counts(f.consumer()).await, QueueCounts::default());
}

/// A stale receipt (the message was handed back and received again) is not an error to
/// acknowledge; the current receipt settles the message.
pub async fn stale_receipt_is_not_an_error<F: QueueFixture>(f: &F) {
    send(f.producer(), &batch(1)).await;
    let first = receive_n(f.consumer(), 1).await;
    hand_back_now(f.consumer(), &first[0]).await;
    let second = receive_n(f.consumer(), 1).await;
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_ne!(
        second[0].receipt, first[0].receipt,
        "each delivery has its own receipt"
    );
    f.consumer()
        .acknowledge(&first[0].receipt)
        .await
        .expect("a stale receipt must not be an error");
    f.consumer()
        .acknowledge(&second[0].receipt)
        .await
        .expect("acknowledge failed");
    assert_eq!(counts(f.consumer()).await, QueueCounts::default());
    receive_none(f.consumer()).await;
}

/// `hand_back(receipt, 0 s)` makes the message receivable again at once: same message
/// id, same body and attributes, receive count one more.
pub async fn hand_back_makes_it_receivable_again<F: QueueFixture>(f: &F) {
    let sent = batch(1);
    send(f.producer(), &sent).await;
    let first = receive_n(f.consumer(), 1).await;
    assert_eq!(first[0].receive_count, 1);
    hand_back_now(f.consumer(), &first[0]).await;
    let again = receive_n(f.consumer(), 1).await;
    assert_eq!(again[0].message_id, first[0].message_id);
    assert_eq!(again[0].body, sent[0].body);
    assert_eq!(again[0].attributes, sent[0].attributes);
    assert_eq!(again[0].receive_count, first[0].receive_count + 1);
}

/// A received message that is not settled counts as in flight, not visible; handed
/// back, it is visible again.
pub async fn unsettled_message_is_in_flight<F: QueueFixture>(f: &F) {
    send(f.producer(), &batch(1)).await;
    assert_eq!(
        counts(f.consumer()).await,
        QueueCounts {
            visible: 1,
            in_flight: 0,
            dead_lettered: 0
        }
    );
    let got = receive_n(f.consumer(), 1).await;
    assert_eq!(
        counts(f.consumer()).await,
        QueueCounts {
            visible: 0,
            in_flight: 1,
            dead_lettered: 0
        }
    );
    receive_none(f.consumer()).await;
    hand_back_now(f.consumer(), &got[0]).await;
    assert_eq!(
        counts(f.consumer()).await,
        QueueCounts {
            visible: 1,
            in_flight: 0,
            dead_lettered: 0
        }
    );
}

// ---------------------------------------------------------------- dead letters

/// After [`MAX_RECEIVE_COUNT`] receives without an acknowledgement, the next receive
/// moves the message to the dead-letter queue: it is no longer delivered, it counts as
/// dead-lettered, and `dead_letters` lists it with body and attributes intact and a
/// receive count of at least [`MAX_RECEIVE_COUNT`].
pub async fn exhausted_message_moves_to_dead_letter_queue<F: QueueFixture>(f: &F) {
    let sent = batch(1);
    send(f.producer(), &sent).await;
    exhaust_receives(f.consumer(), &sent[0]).await;
    assert_eq!(
        counts(f.consumer()).await,
        QueueCounts {
            visible: 0,
            in_flight: 0,
            dead_lettered: 1
        }
    );
    let dead = dead_letters(f.consumer()).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].body, sent[0].body);
    assert_eq!(dead[0].attributes, sent[0].attributes);
    assert!(
        dead[0].receive_count >= MAX_RECEIVE_COUNT,
        "the dead letter keeps its receive count: {:?}",
        dead[0]
    );
    assert_eq!(dead[0].reason(), None, "the queue moved it, not the worker");
    assert_eq!(dead[0].event(), EventAttributes::read(&sent[0].attributes));
    receive_none(f.consumer()).await;
}

/// `dead_letters` does not consume: called twice it lists the same messages (ids,
/// bodies, attributes, the worker's reason), and the counts do not change. It lists at
/// most `max`.
pub async fn dead_letters_do_not_consume<F: QueueFixture>(f: &F) {
    let sent: Vec<QueueMessage> = (0..3).map(dead_letter_message).collect();
    send(f.dead_letter_producer(), &sent).await;
    let before = counts(f.consumer()).await;
    assert_eq!(
        before,
        QueueCounts {
            visible: 0,
            in_flight: 0,
            dead_lettered: 3
        }
    );
    let first = dead_letters(f.consumer()).await;
    assert_eq!(dead_by_body(&first), sent_by_body(&sent));
    for d in &first {
        assert!(!d.message_id.is_empty(), "{d:?}");
        let reason = d.reason().expect("the worker's reason");
        assert!(reason.reason.starts_with("InvalidParameterException"));
        assert!(reason.source_message_id.starts_with("source-message-"));
    }
    assert_eq!(counts(f.consumer()).await, before);
    let second = dead_letters(f.consumer()).await;
    let ids = |list: &[DeadLetter]| -> BTreeSet<String> {
        list.iter().map(|d| d.message_id.clone()).collect()
    };
    assert_eq!(ids(&second), ids(&first));
    assert_eq!(dead_by_body(&second), sent_by_body(&sent));
    assert_eq!(counts(f.consumer()).await, before);
    let two = f.consumer().dead_letters(2).await.expect("dead_letters");
    assert_eq!(two.len(), 2, "{two:?}");
    assert_eq!(counts(f.consumer()).await, before);
    receive_none(f.consumer()).await;
}

/// `redrive(None)` moves every dead letter back to the source queue, each with a new
/// message id and its body and attributes intact; the dead-letter queue is then empty
/// and the messages are receivable as new ones (receive count 1).
pub async fn redrive_all_moves_every_dead_letter<F: QueueFixture>(f: &F) {
    let sent: Vec<QueueMessage> = (0..3).map(dead_letter_message).collect();
    send(f.dead_letter_producer(), &sent).await;
    let dead = dead_letters(f.consumer()).await;
    assert_eq!(dead.len(), 3);
    let redriven = f.consumer().redrive(None).await.expect("redrive failed");
    assert_eq!(redriven.moved, 3, "{redriven:?}");
    assert_eq!(
        counts(f.consumer()).await,
        QueueCounts {
            visible: 3,
            in_flight: 0,
            dead_lettered: 0
        }
    );
    assert!(dead_letters(f.consumer()).await.is_empty());
    let got = receive_n(f.consumer(), 3).await;
    assert_eq!(received_by_body(&got), sent_by_body(&sent));
    let old_ids: BTreeSet<&str> = dead.iter().map(|d| d.message_id.as_str()).collect();
    for d in &got {
        assert!(
            !old_ids.contains(d.message_id.as_str()),
            "a redriven message has a new id: {d:?}"
        );
        assert_eq!(d.receive_count, 1, "{d:?}");
    }
}

/// `redrive(Some(1))` moves exactly one dead letter; the others stay.
pub async fn redrive_some_moves_exactly_that_many<F: QueueFixture>(f: &F) {
    let sent: Vec<QueueMessage> = (0..3).map(dead_letter_message).collect();
    send(f.dead_letter_producer(), &sent).await;
    let redriven = f.consumer().redrive(Some(1)).await.expect("redrive failed");
    assert_eq!(redriven.moved, 1, "{redriven:?}");
    assert_eq!(
        counts(f.consumer()).await,
        QueueCounts {
            visible: 1,
            in_flight: 0,
            dead_lettered: 2
        }
    );
    let got = receive_n(f.consumer(), 1).await;
    let left = dead_letters(f.consumer()).await;
    assert_eq!(left.len(), 2, "{left:?}");
    let mut bodies: Vec<&str> = got
        .iter()
        .map(|d| d.body.as_str())
        .chain(left.iter().map(|d| d.body.as_str()))
        .collect();
    bodies.sort_unstable();
    let mut expected: Vec<&str> = sent.iter().map(|m| m.body.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(bodies, expected, "each message exactly once, in one queue");
    receive_none(f.consumer()).await;
}

/// Redriving an empty dead-letter queue moves nothing and is not an error.
pub async fn redrive_of_nothing_moves_nothing<F: QueueFixture>(f: &F) {
    let redriven = f.consumer().redrive(None).await.expect("redrive failed");
    assert_eq!(redriven.moved, 0);
    assert_eq!(counts(f.consumer()).await, QueueCounts::default());
}

/// The whole life of a failing message: exhausted into the dead-letter queue, redriven
/// with a new id and a fresh receive count (so it gets its full retries again), then
/// processed and acknowledged; every queue ends empty.
pub async fn dead_letter_redrives_with_fresh_retries<F: QueueFixture>(f: &F) {
    let sent = batch(1);
    send(f.producer(), &sent).await;
    let original_id = exhaust_receives(f.consumer(), &sent[0]).await;
    assert_eq!(counts(f.consumer()).await.dead_lettered, 1);
    let redriven = f.consumer().redrive(None).await.expect("redrive failed");
    assert_eq!(redriven.moved, 1);
    let got = receive_n(f.consumer(), 1).await;
    assert_ne!(got[0].message_id, original_id, "a redrive gives a new id");
    assert_eq!(got[0].body, sent[0].body);
    assert_eq!(got[0].attributes, sent[0].attributes);
    assert_eq!(got[0].receive_count, 1);
    // Its full retries again: handed back it is delivered, not dead-lettered.
    hand_back_now(f.consumer(), &got[0]).await;
    let again = receive_n(f.consumer(), 1).await;
    assert_eq!(again[0].receive_count, 2);
    f.consumer()
        .acknowledge(&again[0].receipt)
        .await
        .expect("acknowledge failed");
    assert_eq!(counts(f.consumer()).await, QueueCounts::default());
}

/// Expands to one `#[tokio::test]` per contract case, in a module named by the first
/// argument; the second builds a fresh fixture per case. See the module documentation.
#[macro_export]
macro_rules! queue_contract_tests {
    ($module:ident, $make:expr $(,)?) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            $crate::__queue_contract_cases!(
                ($make)
                batch_round_trips_byte_equal
                accepted_entries_are_receivable
                empty_attribute_values_are_left_out
                batch_at_the_byte_limit_is_accepted
                receive_respects_max_and_visibility
                acknowledge_removes_the_message
                stale_receipt_is_not_an_error
                hand_back_makes_it_receivable_again
                unsettled_message_is_in_flight
                exhausted_message_moves_to_dead_letter_queue
                dead_letters_do_not_consume
                redrive_all_moves_every_dead_letter
                redrive_some_moves_exactly_that_many
                redrive_of_nothing_moves_nothing
                dead_letter_redrives_with_fresh_retries
            );
        }
    };
}

/// Implementation detail of [`queue_contract_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __queue_contract_cases {
    (($make:expr) $($case:ident)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = $make.await;
                $crate::contract::queue::$case(&fixture).await;
            }
        )*
    };
}
