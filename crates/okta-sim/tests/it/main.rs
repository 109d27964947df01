//! okta-sim's integration tests, one binary: the protocol checked with plain reqwest and
//! jsonwebtoken code written from Okta's documentation (never our adapter).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod binary;
mod common;
mod hooks;
mod rate_limits;
mod reads;
mod seed;
mod writes;
