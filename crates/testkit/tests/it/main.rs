//! The contract suites against the in-memory adapters (which proves the suites: they
//! are the reference semantics), and the memory adapters' own behaviour.

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

mod directory;
mod identity;
mod ledger;
mod memory;
mod queue;
