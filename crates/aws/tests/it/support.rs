//! What the integration tests share: one moto process for the tests running at the same
//! time, SDK configuration that reaches it, queue fixtures for the contract suite, and a
//! read-back helper for SQS.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::{SqsConsumer, SqsQueue};
use okta_connect_testkit::MotoServer;
use okta_connect_testkit::contract::ledger::unique;
use okta_connect_testkit::contract::queue::{MAX_RECEIVE_COUNT, QueueFixture};

/// One moto process shared by the tests that run at the same time, stopped when the
/// last of them finishes (a `static` server would never be dropped, leaking the child).
static MOTO: Mutex<Weak<MotoServer>> = Mutex::new(Weak::new());

pub fn moto() -> Arc<MotoServer> {
    let mut shared = MOTO.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(server) = shared.upgrade() {
        return server;
    }
    let server = Arc::new(MotoServer::start());
    *shared = Arc::downgrade(&server);
    server
}

/// SDK settings that reach `moto`. Its timeouts are generous: the shared moto serves one
/// request at a time (see `MotoServer`), and an SQS long poll holds it for up to its
/// wait, so under parallel tests a request may queue for seconds behind others.
pub fn settings(moto: &MotoServer) -> AwsSettings {
    AwsSettings {
        operation_timeout: Duration::from_secs(30),
        attempt_timeout: Duration::from_secs(20),
        ..AwsSettings::emulator(moto.url())
    }
}

pub async fn config(moto: &MotoServer) -> SdkConfig {
    sdk::load(&settings(moto)).await
}

/// Settings for an endpoint where nothing listens, with short timeouts.
pub fn unreachable() -> AwsSettings {
    AwsSettings {
        operation_timeout: Duration::from_secs(2),
        attempt_timeout: Duration::from_millis(500),
        ..AwsSettings::emulator(format!(
            "http://127.0.0.1:{}",
            okta_connect_testkit::free_port()
        ))
    }
}

pub async fn create_queue(client: &Client, name: &str) -> String {
    client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string()
}

/// A fresh source queue (visibility timeout 30 s) with a redrive policy to a fresh
/// dead-letter queue after [`MAX_RECEIVE_COUNT`] receives; returns (source, DLQ) URLs.
pub async fn create_queue_pair(client: &Client, name: &str) -> (String, String) {
    let dead = create_queue(client, &format!("{name}-dlq")).await;
    let arn = client
        .get_queue_attributes()
        .queue_url(&dead)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let policy =
        format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"{MAX_RECEIVE_COUNT}"}}"#);
    let source = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, "30")
        .attributes(QueueAttributeName::RedrivePolicy, policy)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    (source, dead)
}

/// The queue contract's fixture: fresh queues on the shared moto.
pub struct Queues {
    pub producer: SqsQueue,
    pub consumer: SqsConsumer,
    pub dead_letter_producer: SqsQueue,
    pub _moto: Arc<MotoServer>,
}

impl QueueFixture for Queues {
    type Producer = SqsQueue;
    type Consumer = SqsConsumer;

    fn producer(&self) -> &SqsQueue {
        &self.producer
    }

    fn consumer(&self) -> &SqsConsumer {
        &self.consumer
    }

    fn dead_letter_producer(&self) -> &SqsQueue {
        &self.dead_letter_producer
    }
}

pub async fn queues() -> Queues {
    let moto = moto();
    let config = config(&moto).await;
    let (source, dead) = create_queue_pair(&Client::new(&config), &unique("q")).await;
    Queues {
        producer: SqsQueue::from_config(&config, &source),
        consumer: SqsConsumer::from_config(&config, &source, &dead),
        dead_letter_producer: SqsQueue::from_config(&config, &dead),
        _moto: moto,
    }
}
