//! `okta-connect`, the operator's command line, as a library.
//!
//! - [`commands`]: one module per subcommand (its arguments, its report, its run).
//! - [`output`]: tables for people, JSON with `--json`.
//! - [`pipeline`]: the whole pipeline in one process (`dev`, `demo`, tests), over
//!   [`backends`] (embedded SQLite or AWS, behind the core ports).
//! - [`live`]: `dev`'s live status line on a terminal.
//! - [`okta`]: the pipeline's Okta: okta-sim in process, or the configured org.
//! - [`sender`]: posting to an event hook the way Okta does; [`demo`]: the story.
//!
//! Dependency rule: a front door. It wires adapters (`aws`, `local`, `okta`, connect-sim, okta-sim) into
//! `sync` and the ingest handler; it calls the AWS SDKs only through the adapters.

pub mod backends;
pub mod commands;
pub mod demo;
pub mod live;
pub mod okta;
pub mod output;
pub mod pipeline;
pub mod sender;
