//! The Okta Management API adapter of the core's
//! [`IdentitySource`](okta_connect_core::ports::IdentitySource) port: users' real names
//! and status, group and app members, names resolved to ids, and the System Log.
//!
//! - [`OktaApi`]: the adapter, built from [`OktaApiSettings`] (org URL, [`OktaAuth`],
//!   timeout, concurrency cap, longest rate-limit wait).
//! - Auth: an OAuth 2.0 service app with `private_key_jwt` (RS256 client assertion,
//!   access token cached until a minute before it expires and replaced once on a 401),
//!   or an API token (`SSWS`).
//! - Lists follow `Link: <…>; rel="next"` (on the org's host only); every answer's
//!   `X-Rate-Limit-*` headers pace the next calls of that endpoint family; a 429 is
//!   waited out until its Reset unless that is further than `max_rate_limit_wait`
//!   (`RateLimited { retry_at }`); 5xx, timeouts and connection failures are retried
//!   with backoff, then `Unavailable`.
//! - Errors are classified by status, Okta's `errorCode`, the OAuth `error` and the
//!   `WWW-Authenticate` challenge, never by message text: 401/403 `Denied` (naming the
//!   missing scope or admin role), 404 `NotFound`, 400 `Invalid`. Construction problems
//!   are [`OktaError`]. Secrets are never logged and print as `Secret(***)`.
//!
//! Dependency rule: an adapter crate. Among the workspace's crates it depends on
//! `okta-connect-core` only (dev: the testkit and `okta-sim`), never on `sync` or a
//! front door.

mod api;
mod auth;
mod classify;
pub mod from_config;
mod link;
mod model;
mod rate;
mod settings;

pub use api::OktaApi;
pub use settings::{OktaApiSettings, OktaAuth, OktaError, Secret};

/// The OAuth scopes of the reads this adapter makes (one per endpoint family).
pub mod scope {
    /// `GET /api/v1/users/{id}`.
    pub const USERS: &str = "okta.users.read";
    /// Group search and group members.
    pub const GROUPS: &str = "okta.groups.read";
    /// App search and app users.
    pub const APPS: &str = "okta.apps.read";
    /// The System Log.
    pub const LOGS: &str = "okta.logs.read";
}
