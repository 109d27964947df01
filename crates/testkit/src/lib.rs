//! Shared test support for every crate of the workspace.
//!
//! - [`fixtures`]: the Okta deliveries in `tests/fixtures/okta/` and the config files.
//! - [`memory`]: in-memory adapters of every port (the reference semantics).
//! - [`contract`]: one contract suite per port, generic over the adapter; each adapter
//!   crate runs it against its adapters, this crate against the in-memory ones.
//! - [`moto`]: the SQS/DynamoDB emulator as a child process on a free loopback port.
//! - [`sqs`]: reading a queue back with the plain SDK client.
//!
//! Dependency rule: among the workspace's crates this depends on `okta-connect-core`
//! only (plus the plain SQS SDK for [`sqs`]), so any crate may
//! dev-depend on it without a cycle.

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

pub mod cloudwatch;
pub mod contract;
pub mod fixtures;
pub mod memory;
pub mod moto;
pub mod sqs;

pub use moto::{MotoServer, free_port};
