//! Worker Lambda entry point: wiring only. The engine and its clients are built once per
//! execution environment; each invocation is `okta_connect_worker::handle`.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use okta_connect_worker::{MetricsSink, Startup, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let startup = Startup::from_env(std::env::vars(), |path| std::fs::read_to_string(path))
        .inspect_err(|e| tracing::error!(error = %e, "worker cannot start"))?;
    let metrics = Arc::new(MetricsSink::stdout(startup.stack_name.clone()));
    let engine = Arc::new(
        startup
            .build()
            .await
            .inspect_err(|e| tracing::error!(error = %e, "worker cannot start"))?,
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        let engine = Arc::clone(&engine);
        let metrics = Arc::clone(&metrics);
        async move { Ok::<_, lambda_runtime::Error>(handle(&engine, &metrics, event).await) }
    }))
    .await
}
