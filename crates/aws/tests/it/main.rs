//! The integration tests of the AWS adapters: one binary, one module per subject.
//! Services are real programs on loopback (moto for SQS and DynamoDB, connect-sim for
//! Amazon Connect) reached by the real SDKs, or the SDK's replay client where only the
//! requests on the wire matter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod connect;
mod ledger;
mod queue_metrics;
mod redrive_requests;
mod sdk_layer;
mod secrets;
mod sqs;
mod stack_outputs;
mod support;
