//! AWS adapters for the core ports. Each module owns one AWS service; errors from the
//! SDK are classified here, by typed matching, into the ports' transient/permanent
//! errors, so nothing above this crate ever inspects an SDK error.

pub mod connect;
pub mod dynamodb;
pub mod sdk;
pub mod secrets;
pub mod sqs;
