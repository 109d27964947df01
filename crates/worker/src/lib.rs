//! The worker Lambda: the Lambda adapter of the sync engine and nothing more. An SQS
//! batch comes in ([`envelope::to_deliveries`]), `okta_connect_sync::Engine` processes
//! it, and an `SqsBatchResponse` listing the messages to retry goes out.
//!
//! Dependency rule: wires `okta-connect-sync` to the AWS adapters (`okta-connect-aws`);
//! no domain logic lives here.

pub mod envelope;
pub mod startup;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use okta_connect_core::time::UnixMillis;

pub use startup::{Clients, LambdaEngine, Startup, StartupError};

/// One invocation: translate, process within the invocation's deadline, translate back.
pub async fn handle(engine: &LambdaEngine, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
    let now = u64::try_from(UnixMillis::now().0).unwrap_or(0);
    let deadline = envelope::deadline_from_epoch_ms(event.context.deadline, now);
    let deliveries = envelope::to_deliveries(event.payload);
    let reports = engine.handle_batch(&deliveries, deadline).await;
    envelope::to_batch_response(&reports)
}
