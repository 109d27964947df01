//! AWS adapters for the core ports. Each module owns one AWS service and is compiled
//! only with that service's cargo feature (`sqs`, `dynamodb`, `connect`,
//! `secretsmanager`, `cloudformation`, `cloudwatch`; all on by default). Every SDK
//! error is classified in [`sdk`], by typed matching and HTTP status, into the ports'
//! transient/permanent errors, so nothing above this crate ever inspects an SDK error.
//!
//! Dependency rule: an adapter crate. It depends on `okta-connect-core` only among the
//! workspace's crates (plus the AWS SDKs), never on `sync` or a front door.

#[cfg(feature = "cloudformation")]
pub mod cloudformation;
#[cfg(feature = "cloudwatch")]
pub mod cloudwatch;
#[cfg(feature = "connect")]
pub mod connect;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
pub mod emf;
pub mod sdk;
#[cfg(feature = "secretsmanager")]
pub mod secrets;
#[cfg(feature = "sqs")]
pub mod sqs;
