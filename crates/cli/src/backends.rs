//! Where the local pipeline keeps its queue and ledger: embedded (SQLite, the default)
//! or AWS (SQS and DynamoDB), chosen by configuration. Each enum implements the core
//! ports by delegation, so the ingest handler, the sync engine and the operator's
//! commands are the same either way.

use std::time::Duration;

use okta_connect_aws::dynamodb::DynamoLedger;
use okta_connect_aws::sqs::{SqsConsumer, SqsQueue};
use okta_connect_core::config::SourceBinding;
use okta_connect_core::fact::{Fact, Recorded};
use okta_connect_core::outcome::{Failure, Outcome};
use okta_connect_core::ports::{
    Claim, EventAbout, EventQuery, EventQueue, EventRecord, Ledger, LedgerError, QueueConsumer,
    QueueError, RunRecord, UserRecord,
};
use okta_connect_core::queue::{
    DeadLetter, Delivery, QueueCounts, QueueMessage, Receipt, Redriven, RejectedEntry,
};
use okta_connect_core::time::UnixMillis;
use okta_connect_local::{EmbeddedQueue, LocalQueue, SqliteLedger};

/// The ledger of the local pipeline.
#[derive(Clone)]
pub enum AnyLedger {
    Sqlite(SqliteLedger),
    Dynamo(DynamoLedger),
}

macro_rules! ledger {
    ($self:ident, $l:ident => $call:expr) => {
        match $self {
            AnyLedger::Sqlite($l) => $call.await,
            AnyLedger::Dynamo($l) => $call.await,
        }
    };
}

impl Ledger for AnyLedger {
    async fn claim_event(
        &self,
        uuid: &str,
        about: &EventAbout,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<Claim, LedgerError> {
        ledger!(self, l => l.claim_event(uuid, about, now, lease))
    }
    async fn events(&self, query: &EventQuery) -> Result<Vec<EventRecord>, LedgerError> {
        ledger!(self, l => l.events(query))
    }
    async fn record_run(&self, run: &RunRecord, retention: Duration) -> Result<(), LedgerError> {
        ledger!(self, l => l.record_run(run, retention))
    }
    async fn recent_runs(&self, limit: usize) -> Result<Vec<RunRecord>, LedgerError> {
        ledger!(self, l => l.recent_runs(limit))
    }
    async fn complete_event(
        &self,
        uuid: &str,
        outcome: &Outcome,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        ledger!(self, l => l.complete_event(uuid, outcome, now, retention))
    }
    async fn fail_event(
        &self,
        uuid: &str,
        failure: &Failure,
        now: UnixMillis,
        retention: Duration,
    ) -> Result<(), LedgerError> {
        ledger!(self, l => l.fail_event(uuid, failure, now, retention))
    }
    async fn release_event(&self, uuid: &str) -> Result<(), LedgerError> {
        ledger!(self, l => l.release_event(uuid))
    }
    async fn event_record(&self, uuid: &str) -> Result<Option<EventRecord>, LedgerError> {
        ledger!(self, l => l.event_record(uuid))
    }
    async fn record_fact(&self, fact: &Fact) -> Result<Recorded, LedgerError> {
        ledger!(self, l => l.record_fact(fact))
    }
    async fn user_record(&self, okta_user_id: &str) -> Result<UserRecord, LedgerError> {
        ledger!(self, l => l.user_record(okta_user_id))
    }
    async fn remember_connect_user(
        &self,
        okta_user_id: &str,
        connect_user_id: Option<&str>,
    ) -> Result<(), LedgerError> {
        ledger!(self, l => l.remember_connect_user(okta_user_id, connect_user_id))
    }
    async fn forget_user(&self, tombstone: &Fact) -> Result<(), LedgerError> {
        ledger!(self, l => l.forget_user(tombstone))
    }
    async fn lease_user(
        &self,
        okta_user_id: &str,
        holder: &str,
        now: UnixMillis,
        lease: Duration,
    ) -> Result<bool, LedgerError> {
        ledger!(self, l => l.lease_user(okta_user_id, holder, now, lease))
    }
    async fn release_user(&self, okta_user_id: &str, holder: &str) -> Result<(), LedgerError> {
        ledger!(self, l => l.release_user(okta_user_id, holder))
    }
    async fn source_bindings(&self) -> Result<Vec<SourceBinding>, LedgerError> {
        ledger!(self, l => l.source_bindings())
    }
    async fn bind_source(&self, binding: &SourceBinding) -> Result<SourceBinding, LedgerError> {
        ledger!(self, l => l.bind_source(binding))
    }
}

/// The event queue with its dead-letter queue: ingest sends to it, the worker loop and
/// the operator's commands consume it.
#[derive(Clone)]
pub enum AnyQueue {
    Local(LocalQueue),
    Sqs {
        producer: SqsQueue,
        consumer: SqsConsumer,
    },
}

macro_rules! consumer {
    ($self:ident, $q:ident => $call:expr) => {
        match $self {
            AnyQueue::Local($q) => $call.await,
            AnyQueue::Sqs { consumer: $q, .. } => $call.await,
        }
    };
}

impl EventQueue for AnyQueue {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        match self {
            AnyQueue::Local(q) => q.send_batch(batch).await,
            AnyQueue::Sqs { producer, .. } => producer.send_batch(batch).await,
        }
    }
}

impl QueueConsumer for AnyQueue {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        consumer!(self, q => q.receive(max, wait))
    }
    async fn acknowledge(&self, receipt: &Receipt) -> Result<(), QueueError> {
        consumer!(self, q => q.acknowledge(receipt))
    }
    async fn hand_back(&self, receipt: &Receipt, delay: Duration) -> Result<(), QueueError> {
        consumer!(self, q => q.hand_back(receipt, delay))
    }
    async fn counts(&self) -> Result<QueueCounts, QueueError> {
        consumer!(self, q => q.counts())
    }
    async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, QueueError> {
        consumer!(self, q => q.dead_letters(max))
    }
    async fn redrive(&self, max: Option<u64>) -> Result<Redriven, QueueError> {
        consumer!(self, q => q.redrive(max))
    }
}

/// The dead-letter queue as the sync engine sends to it.
#[derive(Clone)]
pub enum AnyDeadLetters {
    Local(EmbeddedQueue),
    Sqs(SqsQueue),
}

impl EventQueue for AnyDeadLetters {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        match self {
            AnyDeadLetters::Local(q) => q.send_batch(batch).await,
            AnyDeadLetters::Sqs(q) => q.send_batch(batch).await,
        }
    }
}
