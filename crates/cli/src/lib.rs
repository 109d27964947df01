//! The operator's tooling as a library: the embedded durable queue and ledger of the
//! local all-in-one pipeline (`dev`).

pub mod embedded;
