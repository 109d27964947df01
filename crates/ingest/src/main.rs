//! The ingest Lambda's entry point: wiring only. Reads the environment once (see
//! `okta_connect_ingest::startup`), loads the hook secret, builds the SQS client once,
//! then serves API Gateway events with `okta_connect_ingest::gateway::handle_event`.

use std::sync::Arc;
use std::time::Duration;

use lambda_runtime::{LambdaEvent, service_fn};
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::secrets;
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_ingest::secret::SecretSource;
use okta_connect_ingest::startup::Startup;
use okta_connect_ingest::{HookSecret, Ingest, gateway};
use serde_json::value::RawValue;

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_target(false)
        .with_current_span(false)
        .with_env_filter(filter)
        .init();
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let startup = Startup::from_env(&vars, |path| std::fs::read_to_string(path))
        .inspect_err(|e| tracing::error!(error = %e, "ingest cannot start"))?;
    drop(vars);

    // Each SQS call must end inside the request's budget; the handler also cuts calls
    // off when the budget ends.
    let budget = startup.settings.retry.budget;
    let aws = sdk::load(&AwsSettings {
        operation_timeout: budget,
        attempt_timeout: budget.min(Duration::from_secs(1)),
        ..AwsSettings::default()
    })
    .await;

    let values = match startup.secret {
        SecretSource::Inline(values) => values,
        SecretSource::SecretsManager { secret_id } => secrets::load(&aws, &secret_id)
            .await
            .inspect_err(|e| tracing::error!(error = %e, "ingest cannot load the hook secret"))?,
    };
    let secret = HookSecret::new(&values);
    drop(values);

    let queue = SqsQueue::from_config(&aws, startup.queue_url);
    let ingest = Arc::new(Ingest::new(startup.settings, secret, queue));
    tracing::info!(
        secret_header = %ingest.settings.secret_header,
        max_body_bytes = ingest.settings.max_body_bytes,
        budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
        "ingest ready"
    );

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let ingest = Arc::clone(&ingest);
        async move {
            Ok::<_, lambda_runtime::Error>(gateway::handle_event(&event.payload, &ingest).await)
        }
    }))
    .await
}
