//! The queue contract suite (`EventQueue` + `QueueConsumer`) against [`LocalQueue`]: a
//! fresh file per case, holding the source queue and its dead-letter queue.

use std::time::Duration;

use okta_connect_local::{EmbeddedQueue, LocalQueue, QueueSettings};
use okta_connect_testkit::contract::queue::{MAX_RECEIVE_COUNT, QueueFixture};

/// A source queue and its dead-letter queue in a fresh file; the folder lives as long
/// as the fixture.
pub struct Fixture {
    queue: LocalQueue,
    _dir: tempfile::TempDir,
}

impl QueueFixture for Fixture {
    type Producer = EmbeddedQueue;
    type Consumer = LocalQueue;
    fn producer(&self) -> &EmbeddedQueue {
        self.queue.source()
    }
    fn consumer(&self) -> &LocalQueue {
        &self.queue
    }
    fn dead_letter_producer(&self) -> &EmbeddedQueue {
        self.queue.dead_letter()
    }
}

pub async fn make_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let settings = QueueSettings {
        visibility_timeout: Duration::from_secs(30),
        max_receive_count: MAX_RECEIVE_COUNT,
    };
    let queue = LocalQueue::open(
        &dir.path().join("state.db"),
        "events",
        settings,
        "events-dlq",
    )
    .unwrap();
    Fixture { queue, _dir: dir }
}

okta_connect_testkit::queue_contract_tests!(sqlite, async { make_fixture().await });
