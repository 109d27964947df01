//! [`LocalQueue`] as the worker and the operator use it: the `QueueConsumer` port on the
//! wall clock (waiting receive, acknowledge, hand back, counts, dead letters, redrive)
//! and the producer side of the source and dead-letter queues.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::Files;
use okta_connect_core::ports::{ErrorClass, EventQueue, QueueConsumer, QueueError};
use okta_connect_core::queue::{
    DeadLetterReason, EventAttributes, QueueCounts, QueueMessage, Receipt, RedriveMethod, Redriven,
};
use okta_connect_core::time::UnixMillis;
use okta_connect_local::{EmbeddedError, LocalQueue, QueueSettings};

const SETTINGS: QueueSettings = QueueSettings {
    visibility_timeout: Duration::from_secs(30),
    max_receive_count: 2,
};

impl Files {
    fn queue(&self) -> LocalQueue {
        LocalQueue::open(&self.path(), "events", SETTINGS, "events-dlq").unwrap()
    }
}

fn message(uuid: &str) -> QueueMessage {
    QueueMessage {
        entry_id: uuid.into(),
        body: format!(r#"{{"uuid":"{uuid}"}}"#),
        attributes: EventAttributes {
            uuid: uuid.into(),
            event_type: "group.user_membership.add".into(),
            published: "2027-01-15T08:00:00.000Z".into(),
            okta_user_id: Some("00u1".into()),
            delivery_id: None,
        }
        .to_attributes(),
    }
}

async fn send(queue: &impl EventQueue, uuids: &[&str]) {
    let batch: Vec<QueueMessage> = uuids.iter().map(|u| message(u)).collect();
    assert_eq!(queue.send_batch(&batch).await.unwrap(), vec![]);
}

fn counts(visible: u64, in_flight: u64, dead_lettered: u64) -> QueueCounts {
    QueueCounts {
        visible,
        in_flight,
        dead_lettered,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_answers_at_once_without_wait_and_waits_up_to_wait() {
    let files = Files::new();
    let q = files.queue();
    let started = Instant::now();
    assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty());
    assert!(started.elapsed() < Duration::from_millis(500));

    let started = Instant::now();
    assert!(
        q.receive(10, Duration::from_millis(300))
            .await
            .unwrap()
            .is_empty()
    );
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_during_the_wait_is_delivered_before_the_wait_ends() {
    let files = Files::new();
    let q = files.queue();
    let receiver = {
        let q = q.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let got = q.receive(10, Duration::from_secs(20)).await.unwrap();
            (got, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Another handle on the file, as `okta-connect send` in another process would be.
    send(files.queue().source(), &["late"]).await;
    let (got, waited) = receiver.await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(EventAttributes::read(&got[0].attributes).uuid, "late");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_takes_one_to_ten_like_sqs() {
    let files = Files::new();
    let q = files.queue();
    let uuids: Vec<String> = (0..12).map(|i| format!("m{i}")).collect();
    for chunk in uuids.chunks(6) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        send(&q, &refs).await;
    }
    for max in [0, 11] {
        assert!(
            matches!(
                q.receive(max, Duration::ZERO).await,
                Err(QueueError::Permanent(_))
            ),
            "max {max}"
        );
    }
    let first = q.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(first.len(), 10, "oldest ten");
    let rest = q.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(rest.len(), 2);
    let all: BTreeSet<String> = first
        .iter()
        .chain(&rest)
        .map(|d| EventAttributes::read(&d.attributes).uuid)
        .collect();
    assert_eq!(all, uuids.into_iter().collect());
    assert_eq!(q.counts().await.unwrap(), counts(0, 12, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledge_deletes_and_stale_receipts_do_nothing() {
    let files = Files::new();
    let q = files.queue();
    send(&q, &["a", "b"]).await;
    let got = q.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 2);
    q.acknowledge(&got[0].receipt).await.unwrap();
    assert_eq!(q.counts().await.unwrap(), counts(0, 1, 0));
    // Twice, and an unknown receipt: not errors.
    q.acknowledge(&got[0].receipt).await.unwrap();
    q.acknowledge(&Receipt("no-such-receipt".into()))
        .await
        .unwrap();
    q.hand_back(&Receipt("no-such-receipt".into()), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(q.counts().await.unwrap(), counts(0, 1, 0));

    // A receipt from before a redelivery no longer settles the message.
    q.hand_back(&got[1].receipt, Duration::ZERO).await.unwrap();
    let again = q.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id, got[1].message_id);
    q.acknowledge(&got[1].receipt).await.unwrap();
    q.hand_back(&got[1].receipt, Duration::ZERO).await.unwrap();
    assert_eq!(
        q.counts().await.unwrap(),
        counts(0, 1, 0),
        "still in flight"
    );
    q.acknowledge(&again[0].receipt).await.unwrap();
    assert_eq!(q.counts().await.unwrap(), counts(0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_back_retries_after_the_delay() {
    let files = Files::new();
    let q = files.queue();
    send(&q, &["a", "b"]).await;
    let got = q.receive(10, Duration::ZERO).await.unwrap();
    q.hand_back(&got[0].receipt, Duration::ZERO).await.unwrap();
    q.hand_back(&got[1].receipt, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(q.counts().await.unwrap(), counts(1, 1, 0));
    let retry = q.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].message_id, got[0].message_id);
    assert_eq!(retry[0].receive_count, 2);
    assert_ne!(retry[0].receipt, got[0].receipt, "a fresh receipt");
}

/// Hands the message back at once until the queue dead-letters it.
async fn poison(q: &LocalQueue, uuid: &str) -> String {
    send(q, &[uuid]).await;
    let mut id = None;
    for n in 1..=SETTINGS.max_receive_count {
        let got = q.receive(1, Duration::ZERO).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].receive_count, n);
        id = Some(got[0].message_id.clone());
        q.hand_back(&got[0].receipt, Duration::ZERO).await.unwrap();
    }
    assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty());
    id.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_read_without_consuming_and_redriven_in_one_transaction() {
    let files = Files::new();
    let q = files.queue();
    let ids = [poison(&q, "p1").await, poison(&q, "p2").await];
    send(&q, &["fresh"]).await;
    assert_eq!(q.counts().await.unwrap(), counts(1, 0, 2));

    for _ in 0..2 {
        let dead = q.dead_letters(10).await.unwrap();
        let dead_ids: Vec<&str> = dead.iter().map(|d| d.message_id.as_str()).collect();
        assert_eq!(
            dead_ids,
            [ids[0].as_str(), ids[1].as_str()],
            "oldest first, kept"
        );
        assert!(
            dead.iter()
                .all(|d| d.receive_count == SETTINGS.max_receive_count)
        );
        assert!(dead.iter().all(|d| d.sent_at.is_some()));
        assert_eq!(dead[0].event().uuid, "p1");
        assert_eq!(dead[0].reason(), None, "moved by the queue, not the worker");
    }
    assert_eq!(q.dead_letters(1).await.unwrap().len(), 1);
    assert!(q.dead_letters(0).await.unwrap().is_empty());

    assert_eq!(
        q.redrive(Some(1)).await.unwrap(),
        Redriven {
            moved: 1,
            method: RedriveMethod::Transaction
        }
    );
    assert_eq!(q.counts().await.unwrap(), counts(2, 0, 1));
    assert_eq!(q.dead_letters(10).await.unwrap()[0].message_id, ids[1]);
    assert_eq!(q.redrive(None).await.unwrap().moved, 1);
    assert_eq!(q.redrive(None).await.unwrap().moved, 0, "nothing left");
    assert_eq!(q.counts().await.unwrap(), counts(3, 0, 0));

    let back = q.receive(10, Duration::ZERO).await.unwrap();
    let order: Vec<String> = back
        .iter()
        .map(|d| EventAttributes::read(&d.attributes).uuid)
        .collect();
    assert_eq!(order, ["fresh", "p1", "p2"], "redriven behind the rest");
    for d in &back[1..] {
        assert!(!ids.contains(&d.message_id), "a redrive gives a new id");
        assert_eq!(d.receive_count, 1, "counted afresh");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_dead_letters_with_its_reason() {
    let files = Files::new();
    let q = files.queue();
    send(&q, &["bad"]).await;
    let got = q.receive(1, Duration::ZERO).await.unwrap().remove(0);
    let reason = DeadLetterReason {
        reason: "InvalidParameterException: unknown routing profile".into(),
        class: ErrorClass::Permanent,
        failed_at: UnixMillis(1_800_000_000_000),
        source_message_id: got.message_id.clone(),
    };
    let mut attributes = got.attributes.clone();
    reason.write_into(&mut attributes);
    let letter = QueueMessage {
        entry_id: "0".into(),
        body: got.body.clone(),
        attributes,
    };
    assert_eq!(q.dead_letter().send_batch(&[letter]).await.unwrap(), vec![]);
    q.acknowledge(&got.receipt).await.unwrap();
    assert_eq!(q.counts().await.unwrap(), counts(0, 0, 1));
    let dead = q.dead_letters(10).await.unwrap();
    assert_eq!(dead[0].body, got.body);
    assert_eq!(dead[0].reason(), Some(reason));
    assert_eq!(dead[0].event().uuid, "bad");
}

#[test]
fn open_checks_the_queue_pair() {
    let files = Files::new();
    assert!(matches!(
        LocalQueue::open(&files.path(), "events", SETTINGS, "events"),
        Err(EmbeddedError::Invalid(_))
    ));
    assert!(matches!(
        LocalQueue::open(&files.path(), "", SETTINGS, "dlq"),
        Err(EmbeddedError::Invalid(_))
    ));
    let zero = QueueSettings {
        max_receive_count: 0,
        ..SETTINGS
    };
    assert!(matches!(
        LocalQueue::open(&files.path(), "events", zero, "dlq"),
        Err(EmbeddedError::Invalid(_))
    ));
    let q = files.queue();
    assert_eq!(q.source().name(), "events");
    assert_eq!(q.source().dead_letter_name(), Some("events-dlq"));
    assert_eq!(q.dead_letter().name(), "events-dlq");
    assert_eq!(q.dead_letter().dead_letter_name(), None);
}

/// A runtime built without timers (nothing but `new_current_thread().build()`): the
/// waiting receive needs no Tokio timer.
#[test]
fn a_runtime_without_timers_can_wait() {
    let files = Files::new();
    let q = files.queue();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let started = Instant::now();
    let got = rt
        .block_on(q.receive(10, Duration::from_millis(120)))
        .unwrap();
    assert!(got.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(120));
    rt.block_on(send(&q, &["a"]));
    assert_eq!(
        rt.block_on(q.receive(10, Duration::from_secs(1)))
            .unwrap()
            .len(),
        1
    );
}

/// Polls a future to completion on this thread, with no Tokio runtime at all.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// Outside any Tokio runtime the port methods run inline instead of failing.
#[test]
fn port_calls_outside_a_tokio_runtime_run_inline() {
    let files = Files::new();
    let q = files.queue();
    block_on(send(&q, &["a"]));
    let got = block_on(q.receive(10, Duration::from_millis(50))).unwrap();
    assert_eq!(got.len(), 1);
    block_on(q.acknowledge(&got[0].receipt)).unwrap();
    assert_eq!(block_on(q.counts()).unwrap(), counts(0, 0, 0));
    assert!(
        block_on(q.receive(10, Duration::from_millis(60)))
            .unwrap()
            .is_empty()
    );
}
