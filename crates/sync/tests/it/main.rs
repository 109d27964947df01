//! The sync engine's flows, one integration binary: the engine over real adapters
//! (DynamoDB ledger and SQS dead-letter queue on moto, Amazon Connect on connect-sim)
//! through the real AWS SDKs; and with Okta's API as its identity source.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod engine;
mod identity;
mod model;
mod ownership;
mod pacing;
mod reconcile;
