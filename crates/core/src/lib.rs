//! The domain of the Okta → Amazon Connect pipeline, with no AWS SDK and no I/O.
//!
//! - [`okta`]: the event-hook envelope and System Log events.
//! - [`config`]: the operator's `config.ini`, validated once.
//! - [`fact`] and [`rules`]: what one event asserts about one Okta user.
//! - [`desired`]: the Connect user that a user's newest facts imply.
//! - [`plan`]: the Connect calls that turn the current user into the desired one.
//! - [`ports`]: the traits adapters implement (queue, ledger, directory, identity).

pub mod config;
pub mod desired;
pub mod fact;
pub mod names;
pub mod okta;
pub mod plan;
pub mod ports;
pub mod rules;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
