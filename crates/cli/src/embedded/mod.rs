//! The embedded, durable queue and ledger of the local all-in-one run (`okta-connect dev`):
//! SQS and DynamoDB stand-ins in one SQLite file, so a newcomer needs no AWS account.
//!
//! # One file, many handles
//!
//! Every [`EmbeddedQueue`] (e.g. `events` and `events-dlq`) and the [`SqliteLedger`] may
//! live in the same SQLite file, each opened on its own connection, from several threads
//! and from two processes at once (a `send` while `dev` runs). What makes that safe:
//!
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
//! and every call is one short transaction (no await while the lock is held), so the
//! async port methods run it inline on the runtime thread. That blocks a runtime thread
//! for the length of one commit, or up to the busy timeout when another process holds
//! the write lock: acceptable for a local single-user tool, and it keeps the adapters
//! free of `'static` copies that `spawn_blocking` would need. A server would move the
//! calls onto a blocking pool.

mod ledger;
mod queue;

pub use ledger::SqliteLedger;
pub use queue::{EmbeddedQueue, QueueCounts, QueueSettings, Received, StoredMessage};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use okta_connect_core::ports::{LedgerError, QueueError};
use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};

/// How long a writer waits for another connection's write lock before giving up with
/// [`EmbeddedError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema version this build writes (`PRAGMA user_version`). A file with a higher
/// version was written by a newer build and is refused rather than misread.
const SCHEMA_VERSION: i64 = 1;

/// Every table of the embedded store. Queues and ledger share one file; each queue is a
/// value of the `queue` column. Instants are integer milliseconds since the epoch.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue_messages (
    -- Arrival order; AUTOINCREMENT never reuses a number, so a redriven message queues
    -- behind everything already there.
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    queue         TEXT    NOT NULL,
    message_id    TEXT    NOT NULL UNIQUE,
    body          TEXT    NOT NULL,
    attributes    TEXT    NOT NULL,           -- JSON object of string to string
    sent_at       INTEGER NOT NULL,
    visible_at    INTEGER NOT NULL,           -- receivable when visible_at <= now
    receive_count INTEGER NOT NULL,
    receipt       TEXT    UNIQUE              -- the latest receive's handle; NULL if none
);
CREATE INDEX IF NOT EXISTS queue_messages_by_queue ON queue_messages (queue);

CREATE TABLE IF NOT EXISTS ledger_events (
    uuid        TEXT    PRIMARY KEY,
    state       TEXT    NOT NULL CHECK (state IN ('IN_PROGRESS', 'COMPLETED', 'FAILED')),
    lease_until INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    detail      TEXT
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ledger_facts (
    okta_user_id TEXT    NOT NULL,
    slot         TEXT    NOT NULL,            -- Fact::key()
    published_ms INTEGER NOT NULL,
    event_uuid   TEXT    NOT NULL,
    fact         TEXT    NOT NULL,            -- the Fact as JSON
    PRIMARY KEY (okta_user_id, slot)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ledger_users (
    okta_user_id    TEXT PRIMARY KEY,
    connect_user_id TEXT,
    lease_holder    TEXT,
    lease_until     INTEGER
) WITHOUT ROWID;
";

/// What went wrong with the embedded store, sorted by what a caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbeddedError {
    /// Another connection held the write lock longer than [`BUSY_TIMEOUT`]. Transient:
    /// retry.
    #[error("the local database is busy (locked by another thread or process): {0}")]
    Busy(String),
    /// The file or its folder cannot be created, read or written (permissions, disk
    /// full, missing mount). Transient: fix the environment and retry.
    #[error("cannot read or write the local database: {0}")]
    Io(String),
    /// The file is not an okta-connect database, is damaged, or was written by a newer
    /// version. Retrying cannot help: move the file aside to start afresh.
    #[error("the local database is unusable: {0}; move the file aside to start afresh")]
    Corrupt(String),
    /// The call itself is wrong (bad settings, a redrive target in another file, a
    /// batch over SQS's limits). Permanent.
    #[error("invalid request to the local database: {0}")]
    Invalid(String),
    /// Any other SQLite failure. Permanent.
    #[error("local database error: {0}")]
    Database(String),
}

impl EmbeddedError {
    /// Whether repeating the same call may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, EmbeddedError::Busy(_) | EmbeddedError::Io(_))
    }
}

impl From<rusqlite::Error> for EmbeddedError {
    fn from(err: rusqlite::Error) -> Self {
        let text = err.to_string();
        match &err {
            rusqlite::Error::SqliteFailure(e, _) => match e.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => EmbeddedError::Busy(text),
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    EmbeddedError::Corrupt(text)
                }
                ErrorCode::SystemIoFailure
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied
                | ErrorCode::ReadOnly
                | ErrorCode::FileLockingProtocolFailed
                | ErrorCode::NoLargeFileSupport => EmbeddedError::Io(text),
                _ => EmbeddedError::Database(text),
            },
            // A stored value is not what this code writes: the file was altered.
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::InvalidColumnType(..) => EmbeddedError::Corrupt(text),
            _ => EmbeddedError::Database(text),
        }
    }
}

impl From<EmbeddedError> for QueueError {
    fn from(err: EmbeddedError) -> Self {
        if err.is_transient() {
            QueueError::Transient(err.to_string())
        } else {
            QueueError::Permanent(err.to_string())
        }
    }
}

impl From<EmbeddedError> for LedgerError {
    fn from(err: EmbeddedError) -> Self {
        if err.is_transient() {
            LedgerError::Transient(err.to_string())
        } else {
            LedgerError::Permanent(err.to_string())
        }
    }
}

/// Decodes a stored JSON column; a failure means the file was altered.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, EmbeddedError> {
    serde_json::from_str(text).map_err(|e| EmbeddedError::Corrupt(format!("stored {what}: {e}")))
}

/// Encodes a value for a JSON column.
pub(crate) fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String, EmbeddedError> {
    serde_json::to_string(value).map_err(|e| EmbeddedError::Invalid(format!("{what}: {e}")))
}

/// Reads an integer column that holds a `u32` count.
pub(crate) fn count_from_sql(what: &str, value: i64) -> Result<u32, EmbeddedError> {
    u32::try_from(value).map_err(|_| EmbeddedError::Corrupt(format!("stored {what} {value}")))
}

/// One connection to the store file, shared by clones of a handle.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
    /// The file, canonical when it could be resolved: tells whether two handles share it.
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed, with its folder) the store at `path`, in WAL mode with
    /// full sync and the busy timeout, and brings the schema up to date.
    pub(crate) fn open(path: &Path) -> Result<Self, EmbeddedError> {
        let shown = path.display();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                EmbeddedError::Io(format!("creating folder {}: {e}", parent.display()))
            })?;
        }
        let context = |e: EmbeddedError| match e {
            EmbeddedError::Busy(m) => EmbeddedError::Busy(format!("{shown}: {m}")),
            EmbeddedError::Io(m) => EmbeddedError::Io(format!("{shown}: {m}")),
            EmbeddedError::Corrupt(m) => EmbeddedError::Corrupt(format!("{shown}: {m}")),
            EmbeddedError::Invalid(m) => EmbeddedError::Invalid(format!("{shown}: {m}")),
            EmbeddedError::Database(m) => EmbeddedError::Database(format!("{shown}: {m}")),
        };
        let mut conn = Connection::open(path).map_err(|e| context(e.into()))?;
        Self::prepare(&mut conn).map_err(context)?;
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    fn prepare(conn: &mut Connection) -> Result<(), EmbeddedError> {
        // First, so that even switching to WAL waits for a concurrent opener.
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Persistent in the file; the answer is the mode in force. A file system without
        // shared memory keeps the rollback journal: still correct, only less concurrent.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                journal_mode = %mode,
                "the local database cannot use WAL here; readers will wait for writers"
            );
        }
        // Per connection: see the module documentation for why FULL.
        conn.pragma_update(None, "synchronous", "FULL")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(EmbeddedError::Corrupt(format!(
                "schema version {version} was written by a newer okta-connect (this one knows {SCHEMA_VERSION})"
            )));
        }
        if version < SCHEMA_VERSION {
            tx.execute_batch(SCHEMA)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether `other` works on the same file (so one transaction can span both).
    pub(crate) fn same_file(&self, other: &Db) -> bool {
        Arc::ptr_eq(&self.conn, &other.conn) || self.path == other.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its transaction, which rolled back:
        // the connection is consistent, so keep using it.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction (write lock taken before any read) and
    /// commits if it returns `Ok`; otherwise rolls back.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, EmbeddedError>,
    ) -> Result<T, EmbeddedError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in a read transaction: its statements see one consistent snapshot.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, EmbeddedError>,
    ) -> Result<T, EmbeddedError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs one statement (atomic on its own) outside an explicit transaction.
    pub(crate) fn single<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, EmbeddedError>,
    ) -> Result<T, EmbeddedError> {
        f(&self.lock())
    }
}
