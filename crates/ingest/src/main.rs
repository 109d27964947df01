//! The ingest Lambda's entry point: wiring only. Reads the environment once
//! (`okta_connect_ingest::startup`), builds the SQS client and loads the hook secret
//! once, then serves API Gateway events with `okta_connect_ingest::gateway::handle_event`.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use okta_connect_ingest::{gateway, startup::Startup};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let startup = Startup::from_env(&vars, |path| std::fs::read_to_string(path));
    let ingest = match startup {
        Ok(startup) => startup.build().await,
        Err(e) => Err(e),
    }
    .inspect_err(|e| tracing::error!(error = %e, "ingest cannot start"))?;
    let ingest = Arc::new(ingest);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let ingest = Arc::clone(&ingest);
        async move {
            Ok::<_, lambda_runtime::Error>(gateway::handle_event(&event.payload, &ingest).await)
        }
    }))
    .await
}
