//! `OktaApi` against okta-sim (in process, real HTTP): the identity contract with SSWS
//! and with private_key_jwt, then what only the HTTP adapter has: token caching and
//! refresh, Okta's refusals, rate limits, retries and timeouts, System Log paging; and,
//! against a scripted server, the protocol corners the sim does not produce.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod contract;
mod faults;
mod limits;
mod logs;
mod scripted;
mod support;
