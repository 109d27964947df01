//! The embedded queue behaves like SQS wherever the worker depends on it: visibility
//! timeout, receive counts, receipts, redrive to the DLQ after `max_receive_count`,
//! operator redrive, partial batch failures, atomic batches, durability, and concurrent
//! receivers. Every instant is an explicit `UnixMillis`; nothing sleeps.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use crate::Files;
use okta_connect_core::ports::{EventQueue, QueueError};
use okta_connect_core::queue::{Delivery, MAX_BATCH_BYTES, QueueCounts, QueueMessage, Receipt};
use okta_connect_core::time::UnixMillis;
use okta_connect_local::{EmbeddedError, EmbeddedQueue, QueueSettings};

const T0: UnixMillis = UnixMillis(1_800_000_000_000);
const TIMEOUT: Duration = Duration::from_secs(30);
const SETTINGS: QueueSettings = QueueSettings {
    visibility_timeout: TIMEOUT,
    max_receive_count: 3,
};

fn at(ms: u64) -> UnixMillis {
    T0.plus(Duration::from_millis(ms))
}

impl Files {
    fn events(&self) -> EmbeddedQueue {
        open(&self.path(), "events")
    }
    fn dlq(&self) -> EmbeddedQueue {
        EmbeddedQueue::open(&self.path(), "events-dlq", SETTINGS, None).unwrap()
    }
}

fn open(path: &Path, name: &str) -> EmbeddedQueue {
    EmbeddedQueue::open(path, name, SETTINGS, Some("events-dlq")).unwrap()
}

fn message(id: &str) -> QueueMessage {
    QueueMessage {
        entry_id: id.into(),
        body: format!(r#"{{"uuid":"{id}","eventType":"group.user_membership.add"}}"#),
        attributes: BTreeMap::from([
            (
                "eventType".to_string(),
                "group.user_membership.add".to_string(),
            ),
            ("uuid".to_string(), id.to_string()),
        ]),
    }
}

async fn send(queue: &EmbeddedQueue, ids: &[&str]) {
    let batch: Vec<QueueMessage> = ids.iter().map(|id| message(id)).collect();
    assert_eq!(queue.send_batch(&batch).await.unwrap(), vec![]);
}

fn bodies(received: &[Delivery]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.attributes["uuid"].clone())
        .collect()
}

fn counts(visible: u64, in_flight: u64) -> QueueCounts {
    QueueCounts {
        visible,
        in_flight,
        dead_lettered: 0,
    }
}

/// Counts of a queue with messages in its dead-letter queue.
fn counts_dead(visible: u64, in_flight: u64, dead_lettered: u64) -> QueueCounts {
    QueueCounts {
        visible,
        in_flight,
        dead_lettered,
    }
}

#[tokio::test]
async fn send_receive_delete() {
    let files = Files::new();
    let q = files.events();
    assert_eq!(q.name(), "events");
    send(&q, &["a", "b", "c"]).await;
    assert_eq!(q.counts(T0).unwrap(), counts(3, 0));

    let got = q.receive(2, T0).unwrap();
    assert_eq!(bodies(&got), ["a", "b"], "oldest first, at most max");
    assert_eq!(got[0].body, message("a").body);
    assert_eq!(got[0].attributes, message("a").attributes);
    assert!(got.iter().all(|r| r.receive_count == 1));
    assert_ne!(got[0].message_id, got[1].message_id);
    assert_eq!(q.counts(T0).unwrap(), counts(1, 2));

    assert!(q.delete(&got[0].receipt).unwrap());
    assert!(!q.delete(&got[0].receipt).unwrap(), "deleting twice");
    assert_eq!(q.counts(T0).unwrap(), counts(1, 1));

    let rest = q.receive(10, T0).unwrap();
    assert_eq!(bodies(&rest), ["c"]);
    assert!(q.receive(10, T0).unwrap().is_empty(), "nothing visible");
    assert!(q.receive(0, T0).unwrap().is_empty());
    for r in got.iter().skip(1).chain(&rest) {
        assert!(q.delete(&r.receipt).unwrap());
    }
    assert_eq!(q.counts(at(3_600_000)).unwrap(), counts(0, 0));
    assert!(q.list().unwrap().is_empty());
    assert!(!q.delete(&Receipt("no-such-receipt".into())).unwrap());
}

#[tokio::test]
async fn received_message_is_invisible_until_the_timeout_then_comes_back() {
    let files = Files::new();
    let q = files.events();
    send(&q, &["a"]).await;
    let first = q.receive(10, T0).unwrap();
    assert_eq!(first.len(), 1);
    let timeout_ms = u64::try_from(TIMEOUT.as_millis()).unwrap();
    assert!(q.receive(10, at(timeout_ms - 1)).unwrap().is_empty());
    assert_eq!(q.counts(at(timeout_ms - 1)).unwrap(), counts(0, 1));
    assert_eq!(q.counts(at(timeout_ms)).unwrap(), counts(1, 0));

    let second = q.receive(10, at(timeout_ms)).unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_eq!(second[0].receive_count, 2);
    assert_ne!(
        second[0].receipt, first[0].receipt,
        "a fresh receipt per receive"
    );
    assert_eq!(q.list().unwrap()[0].receive_count, 2);
}

#[tokio::test]
async fn stale_receipts_neither_delete_nor_change_visibility() {
    let files = Files::new();
    let q = files.events();
    send(&q, &["a"]).await;
    let first = q.receive(1, T0).unwrap().remove(0);
    // After the timeout but before anyone received it again, the receipt still works.
    assert!(q.change_visibility(&first.receipt, at(1)).unwrap());
    let second = q.receive(1, at(1)).unwrap().remove(0);
    assert!(
        !q.delete(&first.receipt).unwrap(),
        "stale receipt must not delete"
    );
    assert!(!q.change_visibility(&first.receipt, UnixMillis(0)).unwrap());
    assert_eq!(q.counts(at(2)).unwrap(), counts(0, 1));
    assert!(q.delete(&second.receipt).unwrap());
    assert_eq!(q.counts(at(2)).unwrap(), counts(0, 0));
}

#[tokio::test]
async fn change_visibility_retries_sooner_or_later() {
    let files = Files::new();
    let q = files.events();
    send(&q, &["a", "b"]).await;
    let got = q.receive(2, T0).unwrap();
    // The worker failed "a" transiently: make it visible again in 2 s rather than 30.
    assert!(q.change_visibility(&got[0].receipt, at(2_000)).unwrap());
    // And it needs more time on "b": push it out to 60 s.
    assert!(q.change_visibility(&got[1].receipt, at(60_000)).unwrap());
    assert!(q.receive(10, at(1_999)).unwrap().is_empty());
    let retry = q.receive(10, at(2_000)).unwrap();
    assert_eq!(bodies(&retry), ["a"]);
    assert_eq!(retry[0].receive_count, 2);
    assert!(q.delete(&retry[0].receipt).unwrap(), "the retry succeeded");
    assert!(
        q.receive(10, at(30_000)).unwrap().is_empty(),
        "b was extended past its original timeout"
    );
    assert_eq!(bodies(&q.receive(10, at(60_000)).unwrap()), ["b"]);
    // Visible at once.
    let again = q.receive(1, at(100_000)).unwrap().remove(0);
    assert!(q.change_visibility(&again.receipt, UnixMillis(0)).unwrap());
    assert_eq!(q.counts(at(100_000)).unwrap(), counts(1, 0));
}

#[tokio::test]
async fn redrive_to_the_dlq_after_max_receive_count() {
    let files = Files::new();
    let q = files.events();
    let dlq = files.dlq();
    send(&q, &["poison", "good"]).await;
    let step = u64::try_from(TIMEOUT.as_millis()).unwrap();
    let mut now = 0;
    let mut poison_id = None;
    // "poison" fails every time: received max_receive_count (3) times.
    for n in 1..=SETTINGS.max_receive_count {
        let got = q.receive(1, at(now)).unwrap();
        assert_eq!(bodies(&got), ["poison"]);
        assert_eq!(got[0].receive_count, n);
        poison_id = Some(got[0].message_id.clone());
        now += step;
    }
    // The 4th receive does not deliver it: it moves to the DLQ, and the receive goes on
    // to the next message.
    let got = q.receive(1, at(now)).unwrap();
    assert_eq!(bodies(&got), ["good"]);
    assert!(q.delete(&got[0].receipt).unwrap());
    assert_eq!(q.counts(at(now)).unwrap(), counts_dead(0, 0, 1));
    assert!(q.list().unwrap().is_empty());

    let dead = dlq.list().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, message("poison").body);
    assert_eq!(dead[0].attributes, message("poison").attributes);
    assert_eq!(dead[0].receive_count, SETTINGS.max_receive_count);
    assert_eq!(dlq.counts(at(now)).unwrap(), counts(1, 0));
    // Its id is kept on the move to the DLQ (as SQS does)…
    assert_eq!(Some(&dead[0].message_id), poison_id.as_ref());
    // …and the DLQ (no DLQ of its own) delivers it normally.
    let from_dlq = dlq.receive(10, at(now)).unwrap();
    assert_eq!(from_dlq[0].message_id, dead[0].message_id);
    assert_eq!(from_dlq[0].receive_count, SETTINGS.max_receive_count + 1);
}

#[tokio::test]
async fn operator_redrive_moves_messages_back_with_new_ids() {
    let files = Files::new();
    let q = files.events();
    let dlq = files.dlq();
    send(&q, &["x", "y"]).await;
    let step = u64::try_from(TIMEOUT.as_millis()).unwrap();
    let mut now = 0;
    for _ in 0..SETTINGS.max_receive_count {
        assert_eq!(q.receive(10, at(now)).unwrap().len(), 2);
        now += step;
    }
    assert!(q.receive(10, at(now)).unwrap().is_empty());
    let dead = dlq.list().unwrap();
    assert_eq!(dead.len(), 2);
    send(&q, &["z"]).await;

    assert_eq!(dlq.redrive_to(&q, None).unwrap(), 2);
    assert!(dlq.list().unwrap().is_empty());
    let back = q.list().unwrap();
    let uuids: Vec<&str> = back.iter().map(|m| m.attributes["uuid"].as_str()).collect();
    assert_eq!(
        uuids,
        ["z", "x", "y"],
        "redriven messages queue behind the rest"
    );
    for (old, new) in dead.iter().zip(&back[1..]) {
        assert_ne!(
            new.message_id, old.message_id,
            "a redrive gives a new message id"
        );
        assert_eq!(new.body, old.body);
        assert_eq!(new.attributes, old.attributes);
        assert_eq!(new.receive_count, 0);
    }
    let got = q.receive(10, at(now)).unwrap();
    assert_eq!(bodies(&got), ["z", "x", "y"]);
    assert!(got.iter().all(|r| r.receive_count == 1));
    assert_eq!(
        dlq.redrive_to(&q, None).unwrap(),
        0,
        "an empty DLQ moves nothing"
    );

    // Not to itself, nor across files.
    assert!(matches!(
        q.redrive_to(&q, None),
        Err(EmbeddedError::Invalid(_))
    ));
    let other = Files::new();
    assert!(matches!(
        dlq.redrive_to(&other.events(), None),
        Err(EmbeddedError::Invalid(_))
    ));
}

#[tokio::test]
async fn partial_batch_failure_brings_back_only_the_undeleted() {
    let files = Files::new();
    let q = files.events();
    send(&q, &["m0", "m1", "m2", "m3", "m4"]).await;
    let batch = q.receive(10, T0).unwrap();
    assert_eq!(batch.len(), 5);
    // The worker reports m1 and m3 as failed: everything else is deleted.
    for r in &batch {
        if !["m1", "m3"].contains(&r.attributes["uuid"].as_str()) {
            assert!(q.delete(&r.receipt).unwrap());
        }
    }
    assert_eq!(q.counts(T0).unwrap(), counts(0, 2));
    let timeout_ms = u64::try_from(TIMEOUT.as_millis()).unwrap();
    let again = q.receive(10, at(timeout_ms)).unwrap();
    assert_eq!(bodies(&again), ["m1", "m3"]);
    assert!(again.iter().all(|r| r.receive_count == 2));
}

#[tokio::test]
async fn send_batch_is_all_or_nothing() {
    let files = Files::new();
    let q = files.events();
    // Over SQS's limits: the whole call fails permanently and nothing is stored.
    let eleven: Vec<QueueMessage> = (0..11).map(|i| message(&format!("e{i}"))).collect();
    assert!(matches!(
        q.send_batch(&eleven).await,
        Err(QueueError::Permanent(_))
    ));
    let mut huge = vec![message("h0"), message("h1")];
    huge[1].body = "x".repeat(MAX_BATCH_BYTES);
    assert!(matches!(
        q.send_batch(&huge).await,
        Err(QueueError::Permanent(_))
    ));
    let twice = vec![message("d"), message("d")];
    assert!(matches!(
        q.send_batch(&twice).await,
        Err(QueueError::Permanent(_))
    ));
    assert_eq!(q.counts(T0).unwrap(), counts(0, 0));
    assert_eq!(q.send_batch(&[]).await.unwrap(), vec![]);

    // A batch that cannot commit (another connection holds the write lock past the busy
    // timeout) stores none of its entries and fails transiently.
    let locker = rusqlite::Connection::open(files.path()).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let ten: Vec<QueueMessage> = (0..10).map(|i| message(&format!("t{i}"))).collect();
    let started = std::time::Instant::now();
    let err = q.send_batch(&ten).await.unwrap_err();
    assert!(matches!(err, QueueError::Transient(_)), "{err:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "waited for the lock first"
    );
    locker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(q.counts(T0).unwrap(), counts(0, 0));

    assert_eq!(q.send_batch(&ten).await.unwrap(), vec![]);
    assert_eq!(q.counts(T0).unwrap(), counts(10, 0));
    let stored = q.list().unwrap();
    let ids: BTreeSet<&str> = stored.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), 10, "every message gets its own id");
}

#[tokio::test]
async fn empty_attribute_values_are_left_out_as_on_sqs() {
    let files = Files::new();
    let q = files.events();
    let mut m = message("a");
    m.attributes.insert("empty".into(), String::new());
    q.send_batch(&[m]).await.unwrap();
    assert_eq!(q.list().unwrap()[0].attributes, message("a").attributes);
}

#[tokio::test]
async fn messages_survive_close_and_reopen() {
    let files = Files::new();
    let (in_flight_id, receipt) = {
        let q = files.events();
        send(&q, &["a", "b"]).await;
        let got = q.receive(1, T0).unwrap().remove(0);
        (got.message_id, got.receipt)
        // Dropped without any explicit close, as `kill -9` would leave it.
    };
    let q = files.events();
    assert_eq!(
        q.counts(T0).unwrap(),
        counts(1, 1),
        "visibility survives too"
    );
    let b = q.receive(10, T0).unwrap();
    assert_eq!(bodies(&b), ["b"]);
    assert!(q.delete(&b[0].receipt).unwrap());
    let timeout_ms = u64::try_from(TIMEOUT.as_millis()).unwrap();
    // The receipt from before the restart still deletes until the message is received again.
    assert!(q.change_visibility(&receipt, at(timeout_ms)).unwrap());
    let a = q.receive(10, at(timeout_ms)).unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].message_id, in_flight_id);
    assert_eq!(a[0].receive_count, 2);
}

#[tokio::test]
async fn concurrent_receivers_never_share_a_message() {
    const MESSAGES: usize = 200;
    const RECEIVERS: usize = 8;
    let files = Files::new();
    let q = files.events();
    for chunk in 0..MESSAGES / 10 {
        let batch: Vec<QueueMessage> = (0..10)
            .map(|i| message(&format!("m{}", chunk * 10 + i)))
            .collect();
        q.send_batch(&batch).await.unwrap();
    }
    // Each receiver has its own connection (as separate processes would), and half share
    // one handle, all receiving at the same instant: with a 30 s timeout nothing comes back
    // during the test, so every message must be delivered exactly once.
    let path = files.path();
    let shared = files.events();
    let delivered: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RECEIVERS)
            .map(|i| {
                let queue = if i % 2 == 0 {
                    shared.clone()
                } else {
                    open(&path, "events")
                };
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let got = queue.receive(3, T0).unwrap();
                        if got.is_empty() {
                            break;
                        }
                        mine.extend(got.into_iter().map(|r| r.message_id));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<&String> = delivered.iter().flatten().collect();
    let unique: BTreeSet<&String> = all.iter().copied().collect();
    assert_eq!(all.len(), MESSAGES, "delivered count");
    assert_eq!(unique.len(), MESSAGES, "a message was delivered twice");
    assert_eq!(q.counts(T0).unwrap(), counts(0, MESSAGES as u64));
}

#[tokio::test]
async fn concurrent_async_receivers_on_one_handle() {
    let files = Files::new();
    let q = files.events();
    send(&q, &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]).await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move { q.receive(1, T0).unwrap() })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        for r in t.await.unwrap() {
            assert!(ids.insert(r.message_id), "delivered twice");
        }
    }
    assert_eq!(ids.len(), 10);
}

#[test]
fn two_queues_on_one_file_from_two_threads() {
    let files = Files::new();
    let path = files.path();
    const PER_THREAD: usize = 50;
    std::thread::scope(|s| {
        for name in ["events", "events-dlq"] {
            let path = path.clone();
            s.spawn(move || {
                let q = EmbeddedQueue::open(&path, name, SETTINGS, None).unwrap();
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                for i in 0..PER_THREAD {
                    let m = message(&format!("{name}-{i}"));
                    rt.block_on(q.send_batch(&[m])).unwrap();
                    // Interleave receives and deletes with the other thread's writes.
                    if i % 5 == 4 {
                        for r in q.receive(2, T0).unwrap() {
                            assert!(r.attributes["uuid"].starts_with(name));
                            assert!(q.delete(&r.receipt).unwrap());
                        }
                    }
                }
            });
        }
    });
    for name in ["events", "events-dlq"] {
        let q = EmbeddedQueue::open(&path, name, SETTINGS, None).unwrap();
        let left = q.list().unwrap();
        assert_eq!(left.len(), PER_THREAD - 2 * (PER_THREAD / 5), "{name}");
        assert!(left.iter().all(|m| m.attributes["uuid"].starts_with(name)));
    }
}

#[tokio::test]
async fn zero_visibility_timeout_delivers_each_message_once_per_receive() {
    let files = Files::new();
    let settings = QueueSettings {
        visibility_timeout: Duration::ZERO,
        max_receive_count: 10,
    };
    let q = EmbeddedQueue::open(&files.path(), "events", settings, None).unwrap();
    send(&q, &["a", "b"]).await;
    assert_eq!(bodies(&q.receive(10, T0).unwrap()), ["a", "b"]);
    let again = q.receive(10, T0).unwrap();
    assert_eq!(bodies(&again), ["a", "b"]);
    assert!(again.iter().all(|r| r.receive_count == 2));
}

#[test]
fn default_settings_are_sqs_like() {
    let d = QueueSettings::default();
    assert_eq!(d.visibility_timeout, Duration::from_secs(30));
    assert_eq!(d.max_receive_count, 5);
}

// ---------------------------------------------------------------- other processes

/// Set in a child process of this test binary: the database file it works on.
const CHILD_DB: &str = "OKTA_CONNECT_EMBEDDED_QUEUE_CHILD_DB";
/// Set in a child process: what it does (`send-forever` or `send-100`).
const CHILD_ROLE: &str = "OKTA_CONNECT_EMBEDDED_QUEUE_CHILD_ROLE";

/// Runs only inside a child process started by the tests below (a no-op otherwise):
/// sends batches of 10 to `events`, printing `acked N` after batch N is acknowledged.
#[test]
fn child_process() {
    let (Ok(path), Ok(role)) = (std::env::var(CHILD_DB), std::env::var(CHILD_ROLE)) else {
        return;
    };
    let q = open(Path::new(&path), "events");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let batches = if role == "send-forever" {
        usize::MAX
    } else {
        10
    };
    let tag = std::process::id();
    for n in 0..batches {
        let batch: Vec<QueueMessage> = (0..10)
            .map(|j| message(&format!("p{tag}-b{n}-{j}")))
            .collect();
        // A busy file is transient: the caller (the ingest) retries, so do we.
        while let Err(e) = rt.block_on(q.send_batch(&batch)) {
            assert!(matches!(e, QueueError::Transient(_)), "{e:?}");
        }
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "acked {n}").unwrap();
        out.flush().unwrap();
    }
}

fn spawn_child(path: &Path, role: &str) -> std::process::Child {
    // The test's path in the `it` binary (module `queue`).
    crate::spawn_child(
        "queue::child_process",
        &[(CHILD_DB, path.as_os_str()), (CHILD_ROLE, role.as_ref())],
    )
}

/// `okta-connect send` while `dev` runs: two other processes send while this one
/// receives and deletes. Every message arrives exactly once.
#[test]
fn other_processes_send_while_this_one_receives() {
    let files = Files::new();
    let q = files.events();
    let children = [
        spawn_child(&files.path(), "send-100"),
        spawn_child(&files.path(), "send-100"),
    ];
    let mut seen = BTreeSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while seen.len() < 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of 200 messages arrived",
            seen.len()
        );
        let got = q.receive(10, T0).unwrap();
        if got.is_empty() {
            // Waiting for the other processes, not for a visibility timeout.
            std::thread::sleep(Duration::from_millis(1));
        }
        for r in got {
            assert!(
                seen.insert(r.attributes["uuid"].clone()),
                "delivered twice: {r:?}"
            );
            assert!(q.delete(&r.receipt).unwrap());
        }
    }
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert!(q.receive(1000, T0).unwrap().is_empty());
    assert_eq!(seen.len(), 200);
}

/// `kill -9` while sending: every acknowledged batch is there after a reopen, and no
/// batch is there in part.
#[test]
fn kill_dash_nine_loses_nothing_acknowledged() {
    use std::io::BufRead;
    let files = Files::new();
    let mut child = spawn_child(&files.path(), "send-forever");
    let stdout = child.stdout.take().unwrap();
    let mut acked: Option<usize> = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("acked ") {
            let n: usize = n.trim().parse().unwrap();
            acked = Some(n);
            if n >= 25 {
                child.kill().unwrap(); // SIGKILL on Unix
                break;
            }
        }
    }
    child.wait().unwrap();
    let acked = acked.expect("the child acknowledged nothing");

    let q = files.events();
    let stored = q.list().unwrap();
    let mut per_batch: BTreeMap<usize, usize> = BTreeMap::new();
    for m in &stored {
        let uuid = &m.attributes["uuid"];
        let batch: usize = uuid
            .split("-b")
            .nth(1)
            .and_then(|rest| rest.split('-').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        *per_batch.entry(batch).or_default() += 1;
    }
    for n in 0..=acked {
        assert_eq!(per_batch.get(&n), Some(&10), "acknowledged batch {n}");
    }
    assert!(
        per_batch.values().all(|&count| count == 10),
        "a batch was stored in part: {per_batch:?}"
    );
    assert_eq!(
        q.receive(10_000, T0).unwrap().len(),
        stored.len(),
        "the reopened queue delivers them"
    );
}

/// The oldest message's send time, in flight or not, is what `status` shows as the
/// queue's age; an empty queue has none.
#[tokio::test]
async fn oldest_sent_at_is_the_oldest_message_still_queued() {
    let files = Files::new();
    let q = files.events();
    assert_eq!(q.oldest_sent_at().unwrap(), None);
    let before = UnixMillis::now();
    send(&q, &["a", "b"]).await;
    let oldest = q.oldest_sent_at().unwrap().expect("two messages queued");
    assert!(oldest >= before && oldest <= UnixMillis::now(), "{oldest}");
    let got = q.receive(1, UnixMillis::now()).unwrap();
    assert_eq!(
        q.oldest_sent_at().unwrap(),
        Some(oldest),
        "a message in flight is still queued"
    );
    assert!(q.delete(&got[0].receipt).unwrap());
    let rest = q.receive(1, UnixMillis::now()).unwrap();
    assert!(q.oldest_sent_at().unwrap() >= Some(oldest));
    assert!(q.delete(&rest[0].receipt).unwrap());
    assert_eq!(q.oldest_sent_at().unwrap(), None);
}
