//! `okta-sim`: a simulated Okta org speaking Okta's real Management API, OAuth 2.0 token
//! endpoint, System Log and event-hook delivery, for tests and local demos.
//!
//! It serves the reads a sync engine makes (users, groups and members, apps and app
//! users, the System Log) with Okta's pagination (`Link` headers, opaque cursors, capped
//! limits), JSON shapes and error bodies; the writes an Okta admin makes (users,
//! lifecycle, group membership, app assignment, groups, event hooks), each recording the
//! System Log events Okta would; and delivers those events to verified event hooks in
//! batches, with Okta's retry rules. Authentication is `SSWS` API tokens or OAuth 2.0
//! client credentials with `private_key_jwt`, with Okta's scopes. Rate limits per
//! endpoint family (with `X-Rate-Limit-*` headers and 429s) and a concurrent-request cap
//! follow Okta's defaults; faults (scripted failures, latency) can be injected.
//!
//! Dependency rule: depends on no crate of this workspace, so it stays an independent
//! oracle of Okta's behaviour; its tests check it with plain HTTP and JWT code written
//! from Okta's documentation, never with our adapter.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use okta_sim::{Admin, NewUser, OktaSim, RateLimits, Seed};
//!
//! let server = OktaSim::builder()
//!     .seed(Seed::from_json(r#"{"groups": [{"name": "amazon_connect"}]}"#)?)
//!     .api_token("sim-token")
//!     .rate_limits(RateLimits::unlimited())
//!     .build()?
//!     .serve("127.0.0.1:0".parse()?)
//!     .await?;
//! let admin = Admin::new(server.url(), "sim-token")?;
//! let user = admin.create_user(&NewUser {
//!     login: "jane@example.com".into(), first_name: "Jane".into(),
//!     last_name: "Doe".into(), email: "jane@example.com".into(),
//! }).await?;
//! let group = admin.group_id("amazon_connect").await?;
//! admin.add_to_group(&group, &user).await?;
//! server.sim().settle(Duration::from_secs(5)).await;
//! assert_eq!(server.sim().log_events().len(), 3); // create, activate, membership add
//! server.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! # Seed file
//!
//! ```json
//! {
//!   "users":  [{"id": "00u… (optional)", "status": "ACTIVE",
//!               "profile": {"login": "a@x", "firstName": "A", "lastName": "B", "email": "a@x"}}],
//!   "groups": [{"id": "optional", "name": "amazon_connect", "description": "optional",
//!               "members": ["a@x or 00u…"]}],
//!   "apps":   [{"id": "optional", "label": "Contact Centre", "name": "amazon_aws",
//!               "catalogDisplayName": "AWS Account Federation", "assignees": ["a@x"],
//!               "groups": ["amazon_connect"]}]
//! }
//! ```
//!
//! See [`seed`] for defaults and validation. Seeding records no events.
//!
//! # Behaviour worth knowing
//!
//! - The org URL is the server's `http://127.0.0.1:PORT`; a client assertion's `aud` must
//!   be `{url}/oauth2/v1/token`.
//! - Plain `GET /api/v1/users` omits DEPROVISIONED users; `search`/`filter` include them.
//! - `GET /api/v1/logs` without `until` is a *polling* query: as in Okta, its answer
//!   always has a `next` link; stop on an empty page. With `until`, `next` appears only
//!   while events remain.
//! - Users assigned to an app through a group are app users with scope GROUP; changes
//!   that make or end such a membership record `application.user_membership.add/.remove`.
//! - `reactivate` also brings back a DEPROVISIONED user (Okta's own rules would make that
//!   `activate`), so demos can produce `user.lifecycle.reactivate`.
//! - Unlimited families send no `X-Rate-Limit-*` headers.

mod admin;
mod api_error;
mod auth;
mod error;
mod events;
mod filter;
mod hooks;
mod model;
mod org;
mod ratelimit;
pub mod seed;
mod server;
mod sim;
mod util;

pub use admin::{Admin, HookRegistration, NewUser};
pub use auth::{JWT_BEARER, KNOWN_SCOPES, OAuthClient};
pub use error::Error;
pub use events::SIM_ADMIN_ID;
pub use hooks::DeliveryAttempt;
pub use model::{App, Assignment, Group, User, UserStatus};
pub use ratelimit::{Family, RateLimits};
pub use seed::{AppSeed, GroupSeed, Seed, UserSeed};
pub use sim::{Counters, Faults, OktaSim, OktaSimBuilder, OktaSimServer};
