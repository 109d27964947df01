//! The use case of the pipeline, over core's ports: every front door (the worker Lambda,
//! the CLI's local run, the reconcile Lambda, later other ingest paths) calls this crate, and
//! nothing else does the work.
//!
//! - [`Engine::process`] / [`Engine::handle_batch`]: one queued Okta event — parse →
//!   claim its uuid in the ledger → record the fact it asserts → converge that Okta user
//!   under a per-user lease → complete the event with its typed
//!   [`Outcome`](okta_connect_core::outcome::Outcome). Transient failures (throttling,
//!   5xx, timeouts) are retried inside the invocation while time allows, then handed back
//!   to the queue; failures that can never succeed are recorded, sent to the
//!   dead-letter queue with their reason, and done, so they burn no retries.
//! - [`converge_user`]: one user's desired Connect state applied as the difference.
//! - [`pacing`]: one token bucket per Connect API, at this process's share of the
//!   account's quotas; every Connect call (retries included) goes through it.
//! - [`reconcile`]: Connect matched to Okta's current state, through the same converge.
//! - [`sources`]: configured group and app names bound to their Okta ids.
//! - [`inspect`]: one user's facts, desired and current Connect user, and the
//!   difference, read without writing (`okta-connect user`).
//!
//! Dependency rule: this crate depends on `okta-connect-core` only (no AWS, no SQLite,
//! no Lambda); adapters are passed in through the ports.

pub mod converge;
pub mod dead_letters;
pub mod engine;
pub mod error;
pub mod identity;
pub mod inspect;
pub mod pacing;
pub mod reconcile;
mod retry;
pub mod sources;

pub use converge::converge_user;
pub use dead_letters::NoDeadLetters;
pub use engine::{Clock, Disposition, Engine, ReconcileError, Report, Settings, Settled};
pub use error::SyncError;
pub use identity::NoIdentitySource;
pub use inspect::UserView;
pub use pacing::{ConnectApi, Paced, Pacer, TokenBucket};
