//! The ports' contract suites: what every adapter must do, one async function per case,
//! generic over the adapter, with a macro that turns the list of cases into one
//! `#[tokio::test]` each in the calling test binary.

pub mod directory;
pub mod identity;
pub mod ledger;
pub mod queue;
