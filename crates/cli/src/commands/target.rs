//! Where the operator's inspect-and-repair commands (`dlq`, `redrive`, `event`) look:
//! the state folder of a local `dev` (SQLite queue, dead-letter queue and ledger), or
//! the deployed stack's SQS queues and DynamoDB ledger named by their URLs and table.

use std::path::PathBuf;

use anyhow::bail;
use okta_connect_aws::dynamodb::DynamoLedger;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::{SqsConsumer, SqsQueue};
use okta_connect_local::{EmbeddedQueue, LocalQueue, QueueSettings, SqliteLedger};

use crate::backends::{AnyLedger, AnyQueue};
use crate::commands::{ConfigArg, load_config};
use crate::pipeline::{DEAD_LETTER_QUEUE, QUEUE, STATE_DB};

/// The local state folder, or the deployed queues and ledger.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// The local pipeline's state folder, as `okta-connect dev` uses it.
    #[arg(long, default_value = ".local-state")]
    pub state: PathBuf,
    /// The deployed event queue (the stack's output `QueueUrl`); needs --dlq-url.
    #[arg(long, requires = "dlq_url")]
    pub queue_url: Option<String>,
    /// The deployed dead-letter queue (the stack's output `DeadLetterQueueUrl`).
    #[arg(long, requires = "queue_url")]
    pub dlq_url: Option<String>,
    /// The deployed ledger table (the stack's output `LedgerTableName`).
    #[arg(long)]
    pub ledger_table: Option<String>,
    /// Send AWS requests to this endpoint (an emulator such as moto) instead of AWS.
    #[arg(long, hide = true, env = "OKTA_CONNECT_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// The dead-letter queue as a queue of its own, for a selective relay: messages are
/// received from it one batch at a time, and each is then deleted or made visible again.
#[derive(Clone)]
pub enum DeadLetterBox {
    Local {
        dead_letter: EmbeddedQueue,
        source: EmbeddedQueue,
    },
    Sqs {
        /// A consumer whose queue is the dead-letter queue.
        dead_letter: SqsConsumer,
        source: SqsQueue,
    },
}

impl Target {
    /// Whether any deployed resource was named: then nothing local is read.
    pub fn deployed(&self) -> bool {
        self.queue_url.is_some() || self.dlq_url.is_some() || self.ledger_table.is_some()
    }

    /// Where the queues are, in words.
    pub fn queue_name(&self) -> String {
        match &self.queue_url {
            Some(url) => url.clone(),
            None => format!("the local queue in {}", self.state.display()),
        }
    }

    /// The AWS configuration: the emulator if one is named, else the standard chain with
    /// config.ini's region (read only here, so local use never needs a valid config).
    fn aws(&self) -> anyhow::Result<AwsSettings> {
        Ok(match &self.aws_endpoint_url {
            Some(url) => AwsSettings::emulator(url.clone()),
            None => AwsSettings {
                region: load_config(&self.config)?.region,
                ..AwsSettings::default()
            },
        })
    }

    /// The SQLite file of the state folder; an error, not a new empty file, when it is
    /// missing (a wrong `--state` would otherwise show an empty queue).
    fn state_db(&self) -> anyhow::Result<PathBuf> {
        let db = self.state.join(STATE_DB);
        if !db.exists() {
            bail!(
                "no local pipeline state in {} (start `okta-connect dev --state {}` first, or \
                 name the deployed stack's --queue-url, --dlq-url and --ledger-table)",
                self.state.display(),
                self.state.display()
            );
        }
        Ok(db)
    }

    /// The event queue with its dead-letter queue; `None` when only a deployed ledger
    /// was named.
    pub async fn queue(&self) -> anyhow::Result<Option<AnyQueue>> {
        match (&self.queue_url, &self.dlq_url) {
            (Some(queue_url), Some(dlq_url)) => {
                let aws = sdk::load(&self.aws()?).await;
                Ok(Some(AnyQueue::Sqs {
                    producer: SqsQueue::from_config(&aws, queue_url.clone()),
                    consumer: SqsConsumer::from_config(&aws, queue_url.clone(), dlq_url.clone()),
                }))
            }
            _ if self.deployed() => Ok(None),
            _ => Ok(Some(AnyQueue::Local(LocalQueue::open(
                &self.state_db()?,
                QUEUE,
                QueueSettings::default(),
                DEAD_LETTER_QUEUE,
            )?))),
        }
    }

    /// The ledger; `None` when only the deployed queues were named.
    pub async fn ledger(&self) -> anyhow::Result<Option<AnyLedger>> {
        match &self.ledger_table {
            Some(table) => Ok(Some(AnyLedger::Dynamo(DynamoLedger::from_config(
                &sdk::load(&self.aws()?).await,
                table.clone(),
            )))),
            None if self.deployed() => Ok(None),
            None => Ok(Some(AnyLedger::Sqlite(SqliteLedger::open(
                &self.state_db()?,
            )?))),
        }
    }

    /// The dead-letter queue to relay from, and the source queue to relay to.
    pub async fn dead_letter_box(&self) -> anyhow::Result<Option<DeadLetterBox>> {
        match (&self.queue_url, &self.dlq_url) {
            (Some(queue_url), Some(dlq_url)) => {
                let aws = sdk::load(&self.aws()?).await;
                Ok(Some(DeadLetterBox::Sqs {
                    dead_letter: SqsConsumer::from_config(&aws, dlq_url.clone(), dlq_url.clone()),
                    source: SqsQueue::from_config(&aws, queue_url.clone()),
                }))
            }
            _ if self.deployed() => Ok(None),
            _ => {
                let local = LocalQueue::open(
                    &self.state_db()?,
                    QUEUE,
                    QueueSettings::default(),
                    DEAD_LETTER_QUEUE,
                )?;
                Ok(Some(DeadLetterBox::Local {
                    dead_letter: local.dead_letter().clone(),
                    source: local.source().clone(),
                }))
            }
        }
    }
}
