//! End-to-end flows across crates: the local pipeline (ingest handler over HTTP,
//! embedded queue and ledger, worker, connect-sim) driven the way Okta drives it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod demo_story;
