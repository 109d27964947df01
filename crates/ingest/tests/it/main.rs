//! The ingest Lambda's flows, one integration binary: the handler over the shared Okta
//! fixtures and hostile requests, API Gateway envelopes, the hook secret's rotation,
//! and SQS and Secrets Manager on moto.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod gateway;
mod handler;
mod hostile;
mod rotation;
mod sqs_moto;
