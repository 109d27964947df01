//! The operator's tooling as a library: the local all-in-one pipeline (`dev`), the
//! embedded durable queue and ledger it runs on, an Okta-like sender, and the demo.

pub mod backends;
pub mod demo;
pub mod embedded;
pub mod pipeline;
pub mod sender;
