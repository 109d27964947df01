//! What the memory adapters do beyond the contracts: waiting, visibility timeouts, the whole-call refusals SQS makes, scripted faults.

use std::time::Duration;

use okta_connect_core::config::ConnectId;
use okta_connect_core::desired::{DesiredUser, IdentityInfo};
use okta_connect_core::plan::Change;
use okta_connect_core::ports::{
    DirectoryError, ErrorClass, EventQueue, QueueConsumer, QueueError, UserDirectory,
};
use okta_connect_core::queue::{
    MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_RECEIVE, QueueCounts, QueueMessage, RedriveMethod,
};
use okta_connect_testkit::contract::queue::{MAX_RECEIVE_COUNT, batch, event_message};
use okta_connect_testkit::memory::{MemoryQueue, MemoryQueues, QueueFault};

const VISIBILITY: Duration = Duration::from_secs(30);

fn permanent<T>(result: Result<T, QueueError>) -> bool {
    matches!(result, Err(QueueError::Permanent(_)))
}

fn transient<T>(result: Result<T, QueueError>) -> bool {
    matches!(result, Err(QueueError::Transient(_)))
}

fn queues() -> MemoryQueues {
    MemoryQueues::new(MAX_RECEIVE_COUNT, VISIBILITY)
}

// These run on the real clock with short, generous intervals. Paused time would need
// tokio's `test-util`, and since README command one builds every target of the
// workspace (so the tests reuse its build), a dev-dependency's features reach the
// operator's binary too.
const SHORT: Duration = Duration::from_millis(300);

#[tokio::test]
async fn visibility_timeout_redelivers_without_hand_back() {
    let q = MemoryQueues::new(MAX_RECEIVE_COUNT, SHORT);
    q.send_batch(&batch(1)).await.unwrap();
    let first = q.receive(1, Duration::ZERO).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(q.receive(1, Duration::ZERO).await.unwrap().is_empty());
    assert_eq!(q.counts().await.unwrap().in_flight, 1);
    tokio::time::sleep(SHORT + Duration::from_millis(50)).await;
    let again = q.receive(1, Duration::ZERO).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id, first[0].message_id);
    assert_eq!(again[0].receive_count, 2);
    // The first receipt is stale now: it settles nothing.
    q.acknowledge(&first[0].receipt).await.unwrap();
    assert_eq!(q.counts().await.unwrap().in_flight, 1);
    q.acknowledge(&again[0].receipt).await.unwrap();
    assert_eq!(q.counts().await.unwrap(), QueueCounts::default());
}

#[tokio::test]
async fn hand_back_delay_is_honoured() {
    let q = queues();
    q.send_batch(&batch(1)).await.unwrap();
    let got = q.receive(1, Duration::ZERO).await.unwrap();
    q.hand_back(&got[0].receipt, SHORT).await.unwrap();
    assert!(q.receive(1, Duration::ZERO).await.unwrap().is_empty());
    tokio::time::sleep(SHORT + Duration::from_millis(50)).await;
    assert_eq!(q.receive(1, Duration::ZERO).await.unwrap().len(), 1);
}

#[tokio::test]
async fn receive_waits_for_a_delayed_message_then_gives_up() {
    let q = queues();
    q.send_batch(&batch(1)).await.unwrap();
    let got = q.receive(1, Duration::ZERO).await.unwrap();
    q.hand_back(&got[0].receipt, SHORT).await.unwrap();
    let start = tokio::time::Instant::now();
    let again = q.receive(1, Duration::from_secs(10)).await.unwrap();
    assert_eq!(again.len(), 1);
    let waited = start.elapsed();
    assert!(
        waited >= SHORT && waited < Duration::from_secs(10),
        "{waited:?}"
    );

    let start = tokio::time::Instant::now();
    assert!(q.receive(1, SHORT).await.unwrap().is_empty());
    assert!(start.elapsed() >= SHORT, "gave up early");
}

#[tokio::test]
async fn receive_wakes_on_a_send() {
    let q = queues();
    let sender = q.sender();
    let (got, sent) = tokio::join!(q.receive(MAX_RECEIVE, Duration::from_secs(20)), async {
        tokio::task::yield_now().await;
        sender.send_batch(&batch(2)).await
    });
    assert!(sent.unwrap().is_empty());
    assert!(!got.unwrap().is_empty());
}

#[tokio::test]
async fn refuses_what_sqs_refuses() {
    let q = queues();
    assert!(permanent(q.send_batch(&[]).await));
    assert!(permanent(q.send_batch(&batch(MAX_BATCH_ENTRIES + 1)).await));
    let mut big = event_message(0);
    big.body = "x".repeat(MAX_BATCH_BYTES);
    assert!(permanent(q.send_batch(&[big]).await));
    let twins = vec![event_message(0), event_message(0)];
    assert!(permanent(q.send_batch(&twins).await));
    assert!(permanent(q.receive(0, Duration::ZERO).await));
    assert!(permanent(q.receive(MAX_RECEIVE + 1, Duration::ZERO).await));
    // An empty body is refused per entry; the rest of the batch goes through.
    let empty = QueueMessage {
        entry_id: "empty".into(),
        body: String::new(),
        attributes: Default::default(),
    };
    let rejected = q.send_batch(&[empty, event_message(1)]).await.unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].entry_id, "empty");
    assert_eq!(rejected[0].class, ErrorClass::Permanent);
    assert_eq!(q.source_messages().len(), 1);
}

#[tokio::test]
async fn unavailable_queue_fails_every_call_transiently() {
    let q = queues();
    q.set_unavailable(true);
    assert!(transient(q.send_batch(&batch(1)).await));
    assert!(transient(q.sender().send_batch(&batch(1)).await));
    assert!(transient(q.receive(1, Duration::ZERO).await));
    assert!(transient(q.counts().await));
    assert!(transient(q.dead_letters(1).await));
    assert!(transient(q.redrive(None).await));
    q.set_unavailable(false);
    assert_eq!(q.counts().await.unwrap(), QueueCounts::default());
    assert_eq!(q.calls(), 7);
}

#[tokio::test]
async fn views_show_both_queues_and_redrive_is_a_transaction() {
    let q = queues();
    q.send_batch(&batch(2)).await.unwrap();
    q.dead_letter_sender().send_batch(&batch(1)).await.unwrap();
    let got = q.receive(1, Duration::ZERO).await.unwrap();
    let source = q.source_messages();
    assert_eq!(source.len(), 2);
    assert_eq!(source.iter().filter(|m| m.in_flight).count(), 1);
    assert_eq!(
        source.iter().find(|m| m.in_flight).unwrap().message_id,
        got[0].message_id
    );
    assert_eq!(q.dead_letter_messages().len(), 1);
    let redriven = q.redrive(None).await.unwrap();
    assert_eq!(redriven.method, RedriveMethod::Transaction);
    assert_eq!(redriven.moved, 1);
    assert!(q.dead_letter_messages().is_empty());
    assert_eq!(q.source_messages().len(), 3);
}

#[tokio::test]
async fn scripted_queue_rejects_and_fails_as_told() {
    let q = MemoryQueue::with_script(vec![
        vec![QueueFault::RejectEntry(1)],
        vec![QueueFault::FailCall],
    ]);
    let rejected = q.send_batch(&batch(3)).await.unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].entry_id, "entry-1");
    assert_eq!(rejected[0].class, ErrorClass::Transient);
    assert!(matches!(
        q.send_batch(&batch(1)).await,
        Err(QueueError::Transient(_))
    ));
    assert!(q.send_batch(&batch(1)).await.unwrap().is_empty());
    assert_eq!(q.accepted().len(), 3);
    assert_eq!(q.calls(), 3);

    let always = MemoryQueue::always_failing(vec![QueueFault::FailCall]);
    for _ in 0..3 {
        assert!(always.send_batch(&batch(1)).await.is_err());
    }
    assert!(always.accepted().is_empty());
}

fn id(text: &str) -> ConnectId {
    ConnectId::parse(text).unwrap()
}

#[tokio::test]
async fn directory_takes_one_to_ten_security_profiles() {
    let d = okta_connect_testkit::memory::MemoryDirectory::new();
    let profile = id("12345678-1234-2345-abd8-0aa7f5b46852");
    let mut user = DesiredUser {
        username: "agent@example.com".into(),
        identity: IdentityInfo {
            first_name: "A".into(),
            last_name: "B".into(),
            email: None,
        },
        routing_profile_id: id("87654321-69fb-43b6-a5e6-f8666ac189cb"),
        security_profile_ids: vec![],
        hierarchy_group_id: None,
        mapping: "m".into(),
    };
    assert!(matches!(
        d.create(&user, &Default::default()).await,
        Err(DirectoryError::Invalid(_))
    ));
    user.security_profile_ids = vec![profile.clone(); 11];
    assert!(matches!(
        d.create(&user, &Default::default()).await,
        Err(DirectoryError::Invalid(_))
    ));
    user.security_profile_ids = vec![profile.clone()];
    let created = d.create(&user, &Default::default()).await.unwrap();
    let too_many = Change::SecurityProfiles {
        security_profile_ids: vec![profile; 11],
    };
    assert!(matches!(
        d.update(&created.id, &too_many).await,
        Err(DirectoryError::Invalid(_))
    ));
    assert_eq!(d.users().len(), 1);
}
