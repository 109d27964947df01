//! The embedded, durable adapters of the local all-in-one run (`okta-connect dev`): an
//! SQS-like queue and its dead-letter queue, and the DynamoDB-like ledger, all in one
//! SQLite file, so a newcomer needs no AWS account.
//!
//! - [`EmbeddedQueue`]: one named queue with SQS semantics, every instant explicit
//!   (tests, operator commands); implements [`EventQueue`](okta_connect_core::ports::EventQueue).
//! - [`LocalQueue`]: a source queue and its dead-letter queue in one file; implements
//!   [`EventQueue`](okta_connect_core::ports::EventQueue) (sends to the source) and
//!   [`QueueConsumer`](okta_connect_core::ports::QueueConsumer) on the wall clock.
//! - [`SqliteLedger`]: implements [`Ledger`](okta_connect_core::ports::Ledger).
//!
//! Dependency rule: an adapter crate. It depends on `okta-connect-core` only (plus
//! SQLite and small support crates), never on `sync`, another adapter or a front door.
//!
//! # One file, many handles
//!
//! Every queue (e.g. `events` and `events-dlq`) and the ledger may live in the same
//! SQLite file, each handle on its own connection, from several threads and from several
//! processes at once (a `send` while `dev` runs). What makes that safe:
//!
//! - **Serialised opening.** Opening a file (switching it to WAL, creating or migrating
//!   the schema) holds an OS lock on a sidecar file `<file>.lock` next to it, so openers
//!   in any threads or processes prepare the file one at a time, and an open waits at
//!   most [`BUSY_TIMEOUT`] in all. The lock is held only while opening. Without it, two connections switching a fresh file to WAL at once made one fail at
//!   once with "database is locked": SQLite upgrades to the write lock while already
//!   holding a read lock there, and then returns `SQLITE_BUSY` without calling the busy
//!   handler (it would deadlock otherwise). A file already in WAL is not switched again,
//!   and a busy answer while preparing is retried until [`BUSY_TIMEOUT`] (for openers
//!   that do not take the sidecar lock, such as the `sqlite3` shell).
//! - **WAL journal**: readers never block the writer nor each other, so a `counts` from
//!   one process does not stall a `receive` in another.
//! - **Busy timeout of [`BUSY_TIMEOUT`]**: a writer that finds the write lock taken waits
//!   for it instead of failing at once. Only a lock held longer than that surfaces, as
//!   [`EmbeddedError::Busy`], which callers treat as transient (retry).
//! - **`BEGIN IMMEDIATE`** for every read-modify-write: the write lock is taken before the
//!   read, so two connections can never both decide on the same snapshot (two receivers
//!   getting one message, two workers claiming one event). A deferred transaction could
//!   instead fail with `SQLITE_BUSY_SNAPSHOT` on its upgrade, without waiting.
//!
//! # Durability
//!
//! `synchronous = FULL`: every commit fsyncs the WAL before returning. With WAL,
//! `NORMAL` would already survive `kill -9` (the commit is in the OS page cache), but not
//! a power cut or an OS crash; `FULL` makes "acknowledged" mean "on disk", which is what
//! the ingest's 200 to Okta promises. The price is one fsync per commit, a few
//! milliseconds, far below the pace Connect allows (about 2 calls/s).
//!
//! # Blocking
//!
//! rusqlite is synchronous. Each handle keeps its connection behind a `std::sync::Mutex`
//! and every call is one short transaction. The synchronous methods (those taking an
//! explicit `now`) run on the caller's thread. The async port methods run the same call
//! on Tokio's blocking pool (`spawn_blocking`): a call normally lasts one commit (an
//! fsync, milliseconds), but waits up to [`BUSY_TIMEOUT`] when another process holds the
//! write lock, and inline that would freeze a runtime worker thread that also serves
//! the ingest's HTTP server and the simulators of `dev` (half the runtime on two cores).
//! The thread hop costs microseconds against a commit's milliseconds; handles are cheap
//! to clone (an `Arc`), which is all the `'static` closure needs. Outside a Tokio
//! runtime the call runs inline.
//!
//! # Schema
//!
//! The file records its schema version (`PRAGMA user_version`, now [`SCHEMA_VERSION`]).
//! A file from a newer build is refused ([`EmbeddedError::Corrupt`]). A version-1 file
//! (free-text event details) is migrated on open: its event records are dropped, since
//! free text cannot become a typed [`Outcome`](okta_connect_core::outcome::Outcome), and
//! a warning says how many; facts, Connect ids, user leases and every queued message are
//! kept. Dropping records only forgets which events were processed: a redelivered old
//! event records a stale fact and converges to what the kept facts already say.
//!
//! Files of versions 1 to 3 gain, on open, the event records' `about` and `updated_at`
//! columns (NULL in existing rows, which then read as `None` and are never listed by
//! time), the index that lists them by time, and the table of reconcile runs; this step
//! drops nothing.

mod consumer;
mod db;
mod error;
mod ledger;
mod queue;

pub use consumer::{LocalQueue, POLL_INTERVAL};
pub use db::{BUSY_TIMEOUT, SCHEMA_VERSION};
pub use error::EmbeddedError;
pub use ledger::SqliteLedger;
pub use queue::{EmbeddedQueue, QueueSettings};
