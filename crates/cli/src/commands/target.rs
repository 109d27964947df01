//! Where the operator's inspect-and-repair commands (`dlq`, `redrive`, `event`) look:
//! the state folder of a local `dev` (SQLite queue, dead-letter queue and ledger), or
//! the deployed stack's SQS queues and DynamoDB ledger, named by their URLs and table
//! or found by the stack's name in its CloudFormation outputs.
//!
//! Precedence, decided by [`Target::resolve`] (pure; [`Target::resolved`] reads the
//! stack first when one is needed):
//!
//! 1. `--queue-url` / `--dlq-url` / `--ledger-table`: always as given.
//! 2. A stack, `--stack NAME` or `--deployed` (the stack config.ini's `[Deploy]
//!    STACK_NAME` names), supplies from its outputs `QueueUrl`, `DeadLetterQueueUrl` and
//!    `LedgerTableName` whatever the flags leave out; each of those it must then have. It
//!    is not read at all when the flags name all three.
//! 3. Nothing deployed named: the local state folder (`--state`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow, bail};
use okta_connect_aws::cloudformation::{Stack, StackError, StackOutputs};
use okta_connect_aws::cloudwatch::QueueMetrics;
use okta_connect_aws::dynamodb::DynamoLedger;
use okta_connect_aws::sdk::{self, AwsSettings, SdkConfig};
use okta_connect_aws::sqs::{SqsConsumer, SqsQueue};
use okta_connect_local::{EmbeddedQueue, LocalQueue, QueueSettings, SqliteLedger};

use crate::backends::{AnyLedger, AnyQueue};
use crate::commands::{ConfigArg, load_config};
use crate::pipeline::{DEAD_LETTER_QUEUE, QUEUE, STATE_DB};

/// The stack output with the event queue's URL (infra/lib/stack.ts).
pub const QUEUE_URL_OUTPUT: &str = "QueueUrl";
/// The stack output with the dead-letter queue's URL.
pub const DLQ_URL_OUTPUT: &str = "DeadLetterQueueUrl";
/// The stack output with the ledger table's name.
pub const LEDGER_TABLE_OUTPUT: &str = "LedgerTableName";

/// Attempts for the stack lookup: a one-off read with no retry of its own (see
/// [`AwsSettings::max_attempts`]).
const LOOKUP_ATTEMPTS: u32 = 3;

/// The local state folder, or the deployed queues and ledger.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// The local pipeline's state folder, as `okta-connect dev` uses it.
    #[arg(long, default_value = ".local-state")]
    pub state: PathBuf,
    /// The deployed event queue (the stack's output `QueueUrl`); with --dlq-url, or with
    /// --stack/--deployed.
    #[arg(long)]
    pub queue_url: Option<String>,
    /// The deployed dead-letter queue (the stack's output `DeadLetterQueueUrl`).
    #[arg(long)]
    pub dlq_url: Option<String>,
    /// The deployed ledger table (the stack's output `LedgerTableName`).
    #[arg(long)]
    pub ledger_table: Option<String>,
    #[command(flatten)]
    pub deployment: Deployment,
    /// Send AWS requests to this endpoint (an emulator such as moto) instead of AWS.
    #[arg(long, hide = true, env = "OKTA_CONNECT_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    #[command(flatten)]
    pub config: ConfigArg,
}

/// The deployed stack to find the queues and the ledger in.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Deployment {
    /// The deployed stack (name or stack id) whose outputs QueueUrl, DeadLetterQueueUrl
    /// and LedgerTableName name the queues and the ledger; --queue-url, --dlq-url and
    /// --ledger-table override them.
    #[arg(long, value_name = "NAME", conflicts_with = "deployed")]
    pub stack: Option<String>,
    /// The deployed stack config.ini names ([Deploy] STACK_NAME), as with --stack.
    #[arg(long)]
    pub deployed: bool,
    /// The last resolution, with the flags it was made from.
    #[arg(skip)]
    resolved: Remembered,
    /// The AWS configuration, loaded once per command: every client of the command
    /// shares it, so credentials are resolved once, not once per queue, table and metric.
    #[arg(skip)]
    loaded: Arc<tokio::sync::OnceCell<SdkConfig>>,
}

/// What a command reads, flags and stack outputs combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The local state folder.
    Local { state: PathBuf },
    /// Deployed resources; the two queues are named together or not at all.
    Deployed(Deployed),
}

/// The deployed queues and ledger a command reads (`None`: not read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployed {
    pub queue_url: Option<String>,
    pub dlq_url: Option<String>,
    pub ledger_table: Option<String>,
    /// The stack whose outputs supplied what the flags left out, if one was read.
    pub stack: Option<String>,
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
    /// Whether anything deployed was named (a resource or a stack): then nothing local
    /// is read.
    pub fn deployed(&self) -> bool {
        self.queue_url.is_some()
            || self.dlq_url.is_some()
            || self.ledger_table.is_some()
            || self.names_stack()
    }

    /// Whether a stack is named, by `--stack` or `--deployed`.
    pub fn names_stack(&self) -> bool {
        self.deployment.stack.is_some() || self.deployment.deployed
    }

    /// The stack outputs [`resolve`](Self::resolve) needs: those of the resources no
    /// flag names, when a stack is named; none otherwise.
    pub fn outputs_needed(&self) -> Vec<&'static str> {
        if !self.names_stack() {
            return Vec::new();
        }
        [
            (&self.queue_url, QUEUE_URL_OUTPUT),
            (&self.dlq_url, DLQ_URL_OUTPUT),
            (&self.ledger_table, LEDGER_TABLE_OUTPUT),
        ]
        .into_iter()
        .filter(|(flag, _)| flag.is_none())
        .map(|(_, key)| key)
        .collect()
    }

    /// What to read, from the flags and `stack` (the named stack as read, needed when
    /// [`outputs_needed`](Self::outputs_needed) is not empty). No I/O.
    pub fn resolve(&self, stack: Option<&Stack>) -> anyhow::Result<Resolved> {
        let needed = self.outputs_needed();
        if !needed.is_empty() {
            let stack = stack.context("the stack's outputs were not read")?;
            stack
                .require(&needed)
                .map_err(|err| missing_outputs(&err))?;
            let pick = |flag: &Option<String>, key: &str| {
                flag.clone().or_else(|| stack.output(key).map(String::from))
            };
            return Ok(Resolved::Deployed(Deployed {
                queue_url: pick(&self.queue_url, QUEUE_URL_OUTPUT),
                dlq_url: pick(&self.dlq_url, DLQ_URL_OUTPUT),
                ledger_table: pick(&self.ledger_table, LEDGER_TABLE_OUTPUT),
                stack: Some(stack.name.clone()),
            }));
        }
        match (&self.queue_url, &self.dlq_url) {
            (Some(_), None) => bail!(
                "--queue-url needs --dlq-url (or --stack NAME / --deployed to take it from \
                 the stack's outputs)"
            ),
            (None, Some(_)) => bail!(
                "--dlq-url needs --queue-url (or --stack NAME / --deployed to take it from \
                 the stack's outputs)"
            ),
            _ => {}
        }
        if self.queue_url.is_none() && self.ledger_table.is_none() {
            return Ok(Resolved::Local {
                state: self.state.clone(),
            });
        }
        Ok(Resolved::Deployed(Deployed {
            queue_url: self.queue_url.clone(),
            dlq_url: self.dlq_url.clone(),
            ledger_table: self.ledger_table.clone(),
            stack: None,
        }))
    }

    /// [`resolve`](Self::resolve), after reading the named stack from CloudFormation
    /// when an output is needed (once per target: the result is remembered).
    pub async fn resolved(&self) -> anyhow::Result<Resolved> {
        let key = self.key();
        if let Some(resolved) = self.deployment.resolved.get(&key) {
            return Ok(resolved);
        }
        let resolved = if self.outputs_needed().is_empty() {
            self.resolve(None)?
        } else {
            let name = self
                .stack_name()?
                .context("no stack named (--stack NAME or --deployed)")?;
            let settings = AwsSettings {
                max_attempts: LOOKUP_ATTEMPTS,
                ..self.aws()?
            };
            let stack = StackOutputs::from_config(&sdk::load(&settings).await)
                .describe(&name)
                .await
                .map_err(|err| lookup_failed(&err))?;
            self.resolve(Some(&stack))?
        };
        self.deployment.resolved.set(key, resolved.clone());
        Ok(resolved)
    }

    /// The stack named: `--stack`, else with `--deployed` config.ini's `[Deploy]
    /// STACK_NAME`.
    fn stack_name(&self) -> anyhow::Result<Option<String>> {
        Ok(match (&self.deployment.stack, self.deployment.deployed) {
            (Some(name), _) => Some(name.clone()),
            (None, true) => Some(load_config(&self.config)?.deploy.stack_name),
            (None, false) => None,
        })
    }

    /// Where the queues are, in words: the queue's URL once resolved.
    pub fn queue_name(&self) -> String {
        if let Some(Resolved::Deployed(Deployed {
            queue_url: Some(url),
            ..
        })) = self.deployment.resolved.get(&self.key())
        {
            return url;
        }
        match (&self.queue_url, &self.deployment.stack) {
            (Some(url), _) => url.clone(),
            (None, Some(stack)) => format!("the queue of stack {stack}"),
            (None, None) if self.deployment.deployed => "the deployed stack's queue".into(),
            (None, None) => format!("the local queue in {}", self.state.display()),
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

    /// The deployed queue's CloudWatch metrics, read with the same AWS settings (and
    /// emulator) as the queues and the ledger.
    pub async fn queue_metrics(&self) -> anyhow::Result<QueueMetrics> {
        Ok(QueueMetrics::from_config(self.sdk_config().await?))
    }

    /// The AWS configuration of [`Target::aws`], loaded on first use and shared after.
    async fn sdk_config(&self) -> anyhow::Result<&SdkConfig> {
        let settings = self.aws()?;
        Ok(self
            .deployment
            .loaded
            .get_or_init(|| sdk::load(&settings))
            .await)
    }

    /// The SQLite file of the state folder; an error, not a new empty file, when it is
    /// missing (a wrong `--state` would otherwise show an empty queue).
    fn state_db(state: &std::path::Path) -> anyhow::Result<PathBuf> {
        let db = state.join(STATE_DB);
        if !db.exists() {
            bail!(
                "no local pipeline state in {} (start `okta-connect dev --state {}` first, or \
                 name the deployed stack with --stack NAME or --deployed, or its \
                 --queue-url, --dlq-url and --ledger-table)",
                state.display(),
                state.display()
            );
        }
        Ok(db)
    }

    /// The event queue with its dead-letter queue; `None` when only a deployed ledger
    /// was named.
    pub async fn queue(&self) -> anyhow::Result<Option<AnyQueue>> {
        match self.resolved().await? {
            Resolved::Deployed(Deployed {
                queue_url: Some(queue_url),
                dlq_url: Some(dlq_url),
                ..
            }) => {
                let aws = self.sdk_config().await?;
                Ok(Some(AnyQueue::Sqs {
                    producer: SqsQueue::from_config(aws, queue_url.clone()),
                    consumer: SqsConsumer::from_config(aws, queue_url, dlq_url),
                }))
            }
            Resolved::Deployed(_) => Ok(None),
            Resolved::Local { state } => Ok(Some(AnyQueue::Local(LocalQueue::open(
                &Self::state_db(&state)?,
                QUEUE,
                QueueSettings::default(),
                DEAD_LETTER_QUEUE,
            )?))),
        }
    }

    /// The ledger; `None` when only the deployed queues were named.
    pub async fn ledger(&self) -> anyhow::Result<Option<AnyLedger>> {
        match self.resolved().await? {
            Resolved::Deployed(Deployed {
                ledger_table: Some(table),
                ..
            }) => Ok(Some(AnyLedger::Dynamo(DynamoLedger::from_config(
                self.sdk_config().await?,
                table,
            )))),
            Resolved::Deployed(_) => Ok(None),
            Resolved::Local { state } => Ok(Some(AnyLedger::Sqlite(SqliteLedger::open(
                &Self::state_db(&state)?,
            )?))),
        }
    }

    /// The dead-letter queue to relay from, and the source queue to relay to.
    pub async fn dead_letter_box(&self) -> anyhow::Result<Option<DeadLetterBox>> {
        match self.resolved().await? {
            Resolved::Deployed(Deployed {
                queue_url: Some(queue_url),
                dlq_url: Some(dlq_url),
                ..
            }) => {
                let aws = self.sdk_config().await?;
                Ok(Some(DeadLetterBox::Sqs {
                    dead_letter: SqsConsumer::from_config(aws, dlq_url.clone(), dlq_url),
                    source: SqsQueue::from_config(aws, queue_url),
                }))
            }
            Resolved::Deployed(_) => Ok(None),
            Resolved::Local { state } => {
                let local = LocalQueue::open(
                    &Self::state_db(&state)?,
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

    /// Every flag a resolution depends on.
    fn key(&self) -> Key {
        Key {
            state: self.state.clone(),
            queue_url: self.queue_url.clone(),
            dlq_url: self.dlq_url.clone(),
            ledger_table: self.ledger_table.clone(),
            stack: self.deployment.stack.clone(),
            deployed: self.deployment.deployed,
            aws_endpoint_url: self.aws_endpoint_url.clone(),
            config: self.config.config.clone(),
        }
    }
}

/// The flags a remembered resolution was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    state: PathBuf,
    queue_url: Option<String>,
    dlq_url: Option<String>,
    ledger_table: Option<String>,
    stack: Option<String>,
    deployed: bool,
    aws_endpoint_url: Option<String>,
    config: Option<PathBuf>,
}

/// The last resolution of a target, shared by its clones and used only while the flags
/// are the ones it was made from (so a clone with other flags resolves again).
#[derive(Debug, Clone, Default)]
struct Remembered(Arc<Mutex<Option<(Key, Resolved)>>>);

impl Remembered {
    fn get(&self, key: &Key) -> Option<Resolved> {
        let slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()
            .filter(|(k, _)| k == key)
            .map(|(_, resolved)| resolved.clone())
    }

    fn set(&self, key: Key, resolved: Resolved) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((key, resolved));
    }
}

/// The flag that replaces a stack output.
fn flag_of(output: &str) -> Option<&'static str> {
    match output {
        QUEUE_URL_OUTPUT => Some("--queue-url"),
        DLQ_URL_OUTPUT => Some("--dlq-url"),
        LEDGER_TABLE_OUTPUT => Some("--ledger-table"),
        _ => None,
    }
}

/// A stack without the outputs needed, with the flags that would replace them.
fn missing_outputs(err: &StackError) -> anyhow::Error {
    match err {
        StackError::MissingOutputs { missing, .. } => {
            let flags: Vec<&str> = missing.iter().filter_map(|key| flag_of(key)).collect();
            anyhow!(
                "{err}: deploy this version's stack, or name {} instead",
                flags.join(", ")
            )
        }
        other => anyhow!("{other}"),
    }
}

/// A failed stack lookup, with what to check.
fn lookup_failed(err: &StackError) -> anyhow::Error {
    match err {
        StackError::NotFound { .. } => anyhow!(
            "{err}; check the stack's name (--stack, or config.ini's [Deploy] STACK_NAME) and \
             region (config.ini's [Connect] REGION)"
        ),
        StackError::Denied { .. } => {
            anyhow!("{err}; the AWS credentials need cloudformation:DescribeStacks on the stack")
        }
        other => anyhow!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        target: Target,
    }

    fn target(args: &[&str]) -> Target {
        Cli::try_parse_from(std::iter::once("okta-connect").chain(args.iter().copied()))
            .unwrap()
            .target
    }

    fn stack(outputs: &[(&str, &str)]) -> Stack {
        Stack {
            name: "OktaConnect".into(),
            region: "eu-west-1".into(),
            status: "UPDATE_COMPLETE".into(),
            outputs: outputs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn full_stack() -> Stack {
        stack(&[
            (QUEUE_URL_OUTPUT, "https://sqs/q"),
            (DLQ_URL_OUTPUT, "https://sqs/dlq"),
            (LEDGER_TABLE_OUTPUT, "ledger"),
            ("HookUrl", "https://hook"),
        ])
    }

    fn deployed(queue: Option<&str>, dlq: Option<&str>, ledger: Option<&str>) -> Deployed {
        Deployed {
            queue_url: queue.map(String::from),
            dlq_url: dlq.map(String::from),
            ledger_table: ledger.map(String::from),
            stack: None,
        }
    }

    #[test]
    fn nothing_named_is_the_local_state_folder() {
        for args in [&[][..], &["--state", "/tmp/s"][..]] {
            let t = target(args);
            assert!(!t.deployed());
            assert!(t.outputs_needed().is_empty());
            let state = if args.is_empty() {
                ".local-state"
            } else {
                "/tmp/s"
            };
            assert_eq!(
                t.resolve(None).unwrap(),
                Resolved::Local {
                    state: PathBuf::from(state)
                }
            );
            // A stack read anyway changes nothing when none is named.
            assert_eq!(
                t.resolve(Some(&full_stack())).unwrap(),
                t.resolve(None).unwrap()
            );
        }
    }

    #[test]
    fn explicit_flags_alone_need_no_stack() {
        let t = target(&["--queue-url", "q", "--dlq-url", "d"]);
        assert!(t.deployed() && t.outputs_needed().is_empty());
        assert_eq!(
            t.resolve(None).unwrap(),
            Resolved::Deployed(deployed(Some("q"), Some("d"), None))
        );
        let t = target(&["--ledger-table", "t"]);
        assert_eq!(
            t.resolve(None).unwrap(),
            Resolved::Deployed(deployed(None, None, Some("t")))
        );
    }

    #[test]
    fn without_a_stack_the_queues_are_named_together() {
        let err = target(&["--queue-url", "q"]).resolve(None).unwrap_err();
        assert!(
            err.to_string().contains("--queue-url needs --dlq-url"),
            "{err}"
        );
        let err = target(&["--dlq-url", "d", "--ledger-table", "t"])
            .resolve(None)
            .unwrap_err();
        assert!(
            err.to_string().contains("--dlq-url needs --queue-url"),
            "{err}"
        );
    }

    #[test]
    fn a_stack_supplies_every_resource_from_its_outputs() {
        for args in [&["--stack", "OktaConnect"][..], &["--deployed"][..]] {
            let t = target(args);
            assert!(t.deployed());
            assert_eq!(
                t.outputs_needed(),
                [QUEUE_URL_OUTPUT, DLQ_URL_OUTPUT, LEDGER_TABLE_OUTPUT]
            );
            assert_eq!(
                t.resolve(Some(&full_stack())).unwrap(),
                Resolved::Deployed(Deployed {
                    stack: Some("OktaConnect".into()),
                    ..deployed(
                        Some("https://sqs/q"),
                        Some("https://sqs/dlq"),
                        Some("ledger")
                    )
                })
            );
        }
    }

    #[test]
    fn explicit_flags_override_the_stack_s_outputs() {
        let t = target(&["--stack", "OktaConnect", "--ledger-table", "other-ledger"]);
        assert_eq!(t.outputs_needed(), [QUEUE_URL_OUTPUT, DLQ_URL_OUTPUT]);
        assert_eq!(
            t.resolve(Some(&full_stack())).unwrap(),
            Resolved::Deployed(Deployed {
                stack: Some("OktaConnect".into()),
                ..deployed(
                    Some("https://sqs/q"),
                    Some("https://sqs/dlq"),
                    Some("other-ledger")
                )
            })
        );
        // With a stack, one queue may be overridden alone.
        let t = target(&["--deployed", "--queue-url", "q2"]);
        assert_eq!(t.outputs_needed(), [DLQ_URL_OUTPUT, LEDGER_TABLE_OUTPUT]);
        let Resolved::Deployed(d) = t.resolve(Some(&full_stack())).unwrap() else {
            panic!("not deployed");
        };
        assert_eq!(
            (d.queue_url.as_deref(), d.dlq_url.as_deref()),
            (Some("q2"), Some("https://sqs/dlq"))
        );
    }

    #[test]
    fn a_stack_is_not_read_when_the_flags_name_everything() {
        let t = target(&[
            "--stack",
            "OktaConnect",
            "--queue-url",
            "q",
            "--dlq-url",
            "d",
            "--ledger-table",
            "t",
        ]);
        assert!(t.outputs_needed().is_empty());
        assert_eq!(
            t.resolve(None).unwrap(),
            Resolved::Deployed(deployed(Some("q"), Some("d"), Some("t")))
        );
    }

    #[test]
    fn missing_outputs_name_stack_region_keys_and_flags() {
        let t = target(&["--stack", "OktaConnect", "--queue-url", "q"]);
        let partial = stack(&[(QUEUE_URL_OUTPUT, "https://sqs/q")]);
        let err = t.resolve(Some(&partial)).unwrap_err().to_string();
        assert_eq!(
            err,
            "CloudFormation stack OktaConnect in region eu-west-1 (status UPDATE_COMPLETE) has \
             no outputs DeadLetterQueueUrl, LedgerTableName: deploy this version's stack, or \
             name --dlq-url, --ledger-table instead"
        );
        // An output the flags replace need not be there.
        let t = target(&[
            "--stack",
            "OktaConnect",
            "--dlq-url",
            "d",
            "--ledger-table",
            "t",
        ]);
        assert!(t.resolve(Some(&partial)).is_ok());
        // A needed stack that was not read is an error, never the local folder.
        assert!(target(&["--deployed"]).resolve(None).is_err());
    }

    #[test]
    fn stack_and_deployed_exclude_each_other() {
        let args = ["okta-connect", "--stack", "A", "--deployed"];
        assert!(Cli::try_parse_from(args).is_err());
    }

    #[test]
    fn deployed_takes_the_stack_name_from_config_ini() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.ini");
        let text = crate::commands::BUILT_IN_CONFIG.replace(
            "STACK_NAME = OktaConnect",
            "STACK_NAME = OktaConnect-Staging",
        );
        assert_ne!(text, crate::commands::BUILT_IN_CONFIG);
        std::fs::write(&path, text).unwrap();
        let config = path.to_str().unwrap();
        let t = target(&["--deployed", "--config", config]);
        assert_eq!(
            t.stack_name().unwrap().as_deref(),
            Some("OktaConnect-Staging")
        );
        // --stack wins without reading the config; nothing named reads nothing.
        let t = target(&["--stack", "Other", "--config", "/nonexistent/config.ini"]);
        assert_eq!(t.stack_name().unwrap().as_deref(), Some("Other"));
        let t = target(&["--config", "/nonexistent/config.ini"]);
        assert_eq!(t.stack_name().unwrap(), None);
    }

    #[test]
    fn a_remembered_resolution_holds_only_for_the_same_flags() {
        let t = target(&["--queue-url", "q", "--dlq-url", "d"]);
        let resolved = t.resolve(None).unwrap();
        t.deployment.resolved.set(t.key(), resolved.clone());
        assert_eq!(t.deployment.resolved.get(&t.key()), Some(resolved));
        assert_eq!(t.queue_name(), "q");
        // A clone shares the memory but not with other flags.
        let other = Target {
            queue_url: Some("q2".into()),
            ..t.clone()
        };
        assert_eq!(other.deployment.resolved.get(&other.key()), None);
        assert_eq!(other.queue_name(), "q2");
    }

    #[test]
    fn queue_names_before_resolution() {
        assert_eq!(
            target(&["--state", "s"]).queue_name(),
            "the local queue in s"
        );
        assert_eq!(
            target(&["--stack", "OktaConnect"]).queue_name(),
            "the queue of stack OktaConnect"
        );
        assert_eq!(
            target(&["--deployed"]).queue_name(),
            "the deployed stack's queue"
        );
    }

    /// The whole lookup against CloudFormation on moto: `--stack` finds the queues and
    /// the ledger; a missing stack names itself and the region.
    #[tokio::test]
    async fn a_stack_on_moto_is_resolved_from_its_outputs() {
        let moto = okta_connect_testkit::MotoServer::start();
        let reader =
            StackOutputs::from_config(&sdk::load(&AwsSettings::emulator(moto.url())).await);
        let template = r#"{
            "Resources": {
                "Dlq": { "Type": "AWS::SQS::Queue", "Properties": { "QueueName": "t-dlq" } },
                "Queue": { "Type": "AWS::SQS::Queue", "Properties": { "QueueName": "t" } },
                "Ledger": { "Type": "AWS::DynamoDB::Table", "Properties": {
                    "TableName": "t-ledger", "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{ "AttributeName": "pk", "AttributeType": "S" }],
                    "KeySchema": [{ "AttributeName": "pk", "KeyType": "HASH" }] } }
            },
            "Outputs": {
                "QueueUrl": { "Value": { "Ref": "Queue" } },
                "DeadLetterQueueUrl": { "Value": { "Ref": "Dlq" } },
                "LedgerTableName": { "Value": { "Ref": "Ledger" } }
            }
        }"#;
        reader
            .client()
            .create_stack()
            .stack_name("OpsStack")
            .template_body(template)
            .send()
            .await
            .unwrap();
        let url = moto.url();
        let t = target(&[
            "--stack",
            "OpsStack",
            "--ledger-table",
            "mine",
            "--aws-endpoint-url",
            &url,
        ]);
        let Resolved::Deployed(d) = t.resolved().await.unwrap() else {
            panic!("not deployed");
        };
        assert!(d.queue_url.as_deref().unwrap().ends_with("/t"), "{d:?}");
        assert!(d.dlq_url.as_deref().unwrap().ends_with("/t-dlq"), "{d:?}");
        assert_eq!(d.ledger_table.as_deref(), Some("mine"));
        assert_eq!(d.stack.as_deref(), Some("OpsStack"));
        assert_eq!(t.queue_name(), d.queue_url.clone().unwrap());

        let t = target(&["--stack", "NoSuchStack", "--aws-endpoint-url", &url]);
        let err = format!("{:#}", t.resolved().await.unwrap_err());
        assert!(
            err.contains("NoSuchStack") && err.contains("us-east-1") && err.contains("not exist"),
            "{err}"
        );
    }
}
