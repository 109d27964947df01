//! Reconcile Lambda entry point: wiring only. The clients are built once per execution
//! environment; each invocation is `okta_connect_reconcile::handle`.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use okta_connect_reconcile::{Reconciler, Request, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let reconciler = Arc::new(
        Reconciler::from_env(std::env::vars(), |path| std::fs::read_to_string(path))
            .await
            .inspect_err(|e| tracing::error!(error = %e, "reconcile cannot start"))?,
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Request>| {
        let reconciler = Arc::clone(&reconciler);
        // The error's Display is the failure Lambda reports (Diagnostic's message).
        async move {
            handle(&reconciler, event)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
