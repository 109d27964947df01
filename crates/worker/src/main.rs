//! Worker Lambda entry point: wiring only. Clients and config are built once per
//! execution environment; each invocation translates the SQS batch and back.

use std::sync::Arc;

use anyhow::Context;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::dynamodb::DynamoLedger;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::config::Config;
use okta_connect_core::time::UnixMillis;
use okta_connect_worker::{NoIdentitySource, Worker, lambda};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .init();

    let text = match std::env::var_os("OKTA_CONNECT_CONFIG_FILE") {
        Some(path) => std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.to_string_lossy()))?,
        None => String::new(),
    };
    let config = Config::parse(&text, std::env::vars())?;
    let table = std::env::var("OKTA_CONNECT_LEDGER_TABLE")
        .context("OKTA_CONNECT_LEDGER_TABLE is not set")?;
    let dlq_url =
        std::env::var("OKTA_CONNECT_DLQ_URL").context("OKTA_CONNECT_DLQ_URL is not set")?;

    let settings = AwsSettings {
        region: config.region.clone(),
        endpoint_url: std::env::var("OKTA_CONNECT_AWS_ENDPOINT_URL").ok(),
        ..AwsSettings::default()
    };
    let aws = sdk::load(&settings).await;
    let ledger = DynamoLedger::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let directory = ConnectDirectory::new(
        aws_sdk_connect::Client::new(&aws),
        config.instance_id.to_string(),
    );
    let dead_letters = SqsQueue::new(aws_sdk_sqs::Client::new(&aws), dlq_url);
    let worker = Arc::new(Worker::new(
        config,
        ledger,
        directory,
        dead_letters,
        None::<NoIdentitySource>,
    ));

    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = Arc::clone(&worker);
        async move {
            let now = u64::try_from(UnixMillis::now().0).unwrap_or(0);
            let deadline = lambda::deadline_from_epoch_ms(event.context.deadline, now);
            let messages = lambda::to_worker_messages(event.payload);
            let reports = worker.handle_batch(&messages, deadline).await;
            Ok::<SqsBatchResponse, lambda_runtime::Error>(lambda::to_batch_response(&reports))
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}
