//! The simulator's integration tests, one binary (as ripgrep does): every operation and
//! error through the real SDK, the HTTP surface outside the SDK's reach, the rate
//! quotas, and the `connect-sim` binary itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binary;
mod common;
mod http;
mod sdk;
mod throttling;
