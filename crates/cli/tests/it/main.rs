//! The operator's command line end to end, one integration binary: the local pipeline
//! (ingest over HTTP, embedded queue and ledger, sync engine, connect-sim) driven the
//! way Okta drives it, and the `okta-connect` binary killed and restarted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod demo_story;
mod dev_http;
mod dev_live;
mod dev_restart;
mod okta_live;
mod operate;
