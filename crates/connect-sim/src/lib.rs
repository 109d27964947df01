//! `connect-sim`: a local Amazon Connect user service that the real `aws-sdk-connect`
//! client talks to through `endpoint_url`.
//!
//! It serves CreateUser, DescribeUser, DeleteUser, UpdateUserIdentityInfo,
//! UpdateUserSecurityProfiles, UpdateUserRoutingProfile, UpdateUserHierarchy, ListUsers,
//! SearchUsers (with `SearchFilter.TagFilter`), ListSecurityProfiles, ListRoutingProfiles,
//! and TagResource / UntagResource on user ARNs, on Connect's REST-JSON paths, with
//! Connect's tag rules (at most 50 per user, keys ≤ 128 characters without `aws:`,
//! values ≤ 256),
//! answers errors the way the SDK parses them into typed variants, meters each operation
//! with a token bucket (Connect's 2 requests/s, burst 5 by default), and can inject faults.
//! Admin endpoints under `/_sim` and the methods of [`Sim`] expose counters, users, faults
//! and quotas.
//!
//! Dependency rule: depends on no crate of this workspace, so it stays an independent
//! oracle of Connect's behaviour; tests check it through the real SDK, not our adapter.
//!
//! ```no_run
//! # async fn demo() -> Result<(), connect_sim::SimError> {
//! use connect_sim::{Faults, RateLimit, Seed, Sim};
//!
//! let server = Sim::builder()
//!     .seed(Seed::default())
//!     .rate(RateLimit::new(10.0, 5))
//!     .faults(Faults::none())
//!     .build()?
//!     .serve("127.0.0.1:0".parse().expect("literal address"))
//!     .await?;
//! let endpoint_url = server.url(); // give this to aws_config's `endpoint_url`
//! // … drive the SDK …
//! let created = server.sim().counters().successes(connect_sim::Operation::CreateUser);
//! # let _ = (endpoint_url, created);
//! server.shutdown().await?;
//! # Ok(()) }
//! ```

mod api;
mod counters;
mod directory;
mod error;
mod faults;
mod model;
mod operation;
mod persist;
mod quota;
mod search;
pub mod seed;
mod server;
mod sim;

pub use counters::{CallCounters, Outcome};
pub use directory::{MAX_SECURITY_PROFILES, MAX_TAG_KEY, MAX_TAG_VALUE, MAX_TAGS, NewUser};
pub use error::{
    ApiError, ErrorKind, FaultSpecError, PersistError, RateSpecError, SeedError, SimError,
    UnknownErrorKind,
};
pub use faults::{Faults, ScriptedFault, parse_duration};
pub use model::{
    IdentityInfo, IdentityManagementType, Instance, InstanceUser, NamedResource, PhoneConfig,
    SamlEmailPolicy, User,
};
pub use operation::{Operation, UnknownOperationName};
pub use quota::{RateLimit, RateLimits, parse_operation_rate, parse_rate};
pub use seed::{InstanceSeed, Seed, UserSeed};
pub use server::ADMIN_PREFIX;
pub use sim::{Sim, SimBuilder, SimServer};
