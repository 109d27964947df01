//! The domain of the Okta → Amazon Connect pipeline, with no AWS SDK and no I/O.
//!
//! - [`okta`]: the event-hook envelope and System Log events.
//! - [`config`]: the operator's `config.ini`, validated once.
//! - [`fact`] and [`rules`]: what one event asserts about one Okta user.
//! - [`desired`]: the Connect user that a user's newest facts imply.
//! - [`plan`]: the Connect writes that turn the current user into the desired one.
//! - [`identity`]: Okta's current state as its management API reports it.
//! - [`ownership`]: which Connect users are the pipeline's own (tags).
//! - [`outcome`]: what processing an event ended in (typed, stored as JSON).
//! - [`queue`]: the queue's message schema and attribute names.
//! - [`ports`]: the traits adapters implement (queue, consumer, ledger, directory,
//!   identity).
//!
//! Dependency rule: this crate depends on no other crate of the workspace, and every
//! other crate may depend on it. Adapters (`aws`, `local`, `testkit`) implement its
//! ports; `sync` is the use case over them.

pub mod config;
pub mod desired;
pub mod fact;
pub mod identity;
pub mod names;
pub mod okta;
pub mod outcome;
pub mod ownership;
pub mod plan;
pub mod ports;
pub mod queue;
pub mod rules;
pub mod time;

#[cfg(test)]
#[path = "../../testkit/src/fixtures.rs"]
mod fixtures;
