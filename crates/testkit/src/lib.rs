//! Shared test support for every crate of the workspace.
//!
//! - [`fixtures`]: the Okta deliveries in `tests/fixtures/okta/` and the config files.
//! - [`memory`]: in-memory adapters of every port (the reference semantics).
//! - [`contract`]: one contract suite per port, generic over the adapter; each adapter
//!   crate runs it against its adapters, this crate against the in-memory ones.
//! - [`moto`]: the SQS/DynamoDB emulator as a child process on a free loopback port.
//!
//! Dependency rule: this crate depends on `okta-connect-core` only, so any crate may
//! dev-depend on it without a cycle.

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

pub mod contract;
pub mod fixtures;
pub mod memory;
pub mod moto;

pub use moto::{MotoServer, free_port};
