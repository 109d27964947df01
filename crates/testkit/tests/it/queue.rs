//! The queue contract against [`MemoryQueues`]: a fresh queue pair per case.

use okta_connect_testkit::contract::queue::{MAX_RECEIVE_COUNT, QueueFixture};
use okta_connect_testkit::memory::{MemoryQueues, MemorySender};

pub struct Fixture {
    queues: MemoryQueues,
    source: MemorySender,
    dead_letter: MemorySender,
}

impl QueueFixture for Fixture {
    type Producer = MemorySender;
    type Consumer = MemoryQueues;

    fn producer(&self) -> &MemorySender {
        &self.source
    }

    fn consumer(&self) -> &MemoryQueues {
        &self.queues
    }

    fn dead_letter_producer(&self) -> &MemorySender {
        &self.dead_letter
    }
}

pub fn fixture() -> Fixture {
    let queues = MemoryQueues::new(MAX_RECEIVE_COUNT, MemoryQueues::DEFAULT_VISIBILITY_TIMEOUT);
    Fixture {
        source: queues.sender(),
        dead_letter: queues.dead_letter_sender(),
        queues,
    }
}

okta_connect_testkit::queue_contract_tests!(memory, async { fixture() });
