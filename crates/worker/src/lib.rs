//! The worker Lambda: the Lambda adapter of the sync engine and nothing more. An SQS
//! batch comes in ([`envelope::to_deliveries`]), `okta_connect_sync::Engine` processes
//! it, one Embedded Metric Format line counts what it ended in ([`metrics`]), and an
//! `SqsBatchResponse` listing the messages to retry goes out.
//!
//! Dependency rule: wires `okta-connect-sync` to the AWS adapters (`okta-connect-aws`);
//! no domain logic lives here.

pub mod envelope;
pub mod metrics;
pub mod startup;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use okta_connect_core::time::UnixMillis;

pub use metrics::MetricsSink;
pub use startup::{Clients, LambdaEngine, Startup, StartupError};

/// One invocation: translate, process within the invocation's deadline, count, translate
/// back. Never fails: every message's fate is in the response (and in the metrics).
pub async fn handle(
    engine: &LambdaEngine,
    metrics: &MetricsSink,
    event: LambdaEvent<SqsEvent>,
) -> SqsBatchResponse {
    let now = u64::try_from(UnixMillis::now().0).unwrap_or(0);
    let deadline = envelope::deadline_from_epoch_ms(event.context.deadline, now);
    let deliveries = envelope::to_deliveries(event.payload);
    // Read before the engine takes the batch: reports carry no attributes.
    let published = metrics::published_times(&deliveries);
    let reports = engine.handle_batch(&deliveries, deadline).await;
    let finished = UnixMillis::now();
    metrics.record(
        &metrics::Invocation::of(&reports, &published, finished),
        finished,
    );
    envelope::to_batch_response(&reports)
}
