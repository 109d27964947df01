//! One SQLite connection to the store file: opening it safely under any concurrency,
//! the schema and its migrations, and the transaction helpers every adapter uses.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::EmbeddedError;

/// How long a call waits for another connection's write lock before giving up with
/// [`EmbeddedError::Busy`]; also the most an open waits, in all, for other openers and
/// for the locks of preparing the file (see the crate documentation).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema version this build writes (`PRAGMA user_version`). A file with a higher
/// version was written by a newer build and is refused rather than misread.
///
/// - 1: first release; `ledger_events.detail` held free text.
/// - 2: `ledger_events.outcome` holds the typed `Outcome` as JSON.
/// - 3: `ledger_sources` holds configured source names bound to Okta ids.
/// - 4: `ledger_events.about` and `ledger_events.updated_at` (both nullable: rows from
///   before have neither), an index on `updated_at`, and `ledger_runs`.
pub const SCHEMA_VERSION: i64 = 4;

/// How long to wait between two tries of a busy open lock or a busy prepare.
const OPEN_RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Every table of the embedded store at [`SCHEMA_VERSION`]. Queues and ledger share one
/// file; each queue is a value of the `queue` column. Instants are integer milliseconds
/// since the epoch.
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
    outcome     TEXT,                         -- the Outcome as JSON; NULL while in progress
    about       TEXT,                         -- the last claim's EventAbout as JSON
    updated_at  INTEGER                       -- the last claim, completion or failure
) WITHOUT ROWID;
-- Listing by time walks this index from the newest end, in exactly the order it answers
-- (ties by uuid, as the reference ledger breaks them), so no sort is ever needed; rows
-- without updated_at (from before version 4) sit outside every `>= since` range.
CREATE INDEX IF NOT EXISTS ledger_events_by_updated ON ledger_events (updated_at DESC, uuid);

CREATE TABLE IF NOT EXISTS ledger_runs (
    started_at INTEGER NOT NULL,
    run_id     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,              -- finished_at + retention
    run        TEXT    NOT NULL,              -- the RunRecord as JSON
    PRIMARY KEY (started_at, run_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ledger_runs_by_expiry ON ledger_runs (expires_at);

CREATE TABLE IF NOT EXISTS ledger_facts (
    okta_user_id TEXT    NOT NULL,
    slot         TEXT    NOT NULL,            -- Fact::key()
    published_ms INTEGER NOT NULL,
    event_uuid   TEXT    NOT NULL,
    fact         TEXT    NOT NULL,            -- the Fact as JSON
    PRIMARY KEY (okta_user_id, slot)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ledger_sources (
    slot    TEXT PRIMARY KEY,                 -- SourceBinding::slot()
    binding TEXT NOT NULL                     -- the SourceBinding as JSON
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ledger_users (
    okta_user_id    TEXT PRIMARY KEY,
    connect_user_id TEXT,
    lease_holder    TEXT,
    lease_until     INTEGER
) WITHOUT ROWID;
";

/// Version 1 → 2: event details were free text, which no typed `Outcome` can be read
/// from (nothing re-parses free text). The event records go; everything else stays.
const MIGRATE_1_TO_2: &str = "
DELETE FROM ledger_events;
ALTER TABLE ledger_events RENAME COLUMN detail TO outcome;
";

/// Versions 1 to 3 → 4: event records gain what their claim was about and when they
/// last changed. Existing rows keep both NULL (nothing recorded them), which the ledger
/// reads as `None` and never lists. Must run before [`SCHEMA`], whose index on
/// `updated_at` needs the column; the new table and indexes come from [`SCHEMA`].
const MIGRATE_3_TO_4: &str = "
ALTER TABLE ledger_events ADD COLUMN about TEXT;
ALTER TABLE ledger_events ADD COLUMN updated_at INTEGER;
";

/// One connection to the store file, shared by clones of a handle.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
    /// The file, canonical when it could be resolved: tells whether two handles share it.
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed, with its folder) the store at `path`, in WAL mode with
    /// full sync and the busy timeout, and brings the schema up to date. Safe from any
    /// number of threads and processes at once (see the crate documentation).
    pub(crate) fn open(path: &Path) -> Result<Self, EmbeddedError> {
        let shown = path.display();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                EmbeddedError::Io(format!("creating folder {}: {e}", parent.display()))
            })?;
        }
        let deadline = Instant::now() + BUSY_TIMEOUT;
        let lock = OpenLock::acquire(path, deadline).map_err(|e| e.context(&shown))?;
        let mut conn =
            Connection::open(path).map_err(|e| EmbeddedError::from(e).context(&shown))?;
        let prepared = prepare_until(&mut conn, deadline).map_err(|e| e.context(&shown));
        drop(lock);
        prepared?;
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
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

/// Runs `f` on Tokio's blocking pool when called inside a runtime (see the crate
/// documentation, "Blocking"), inline otherwise.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, EmbeddedError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, EmbeddedError> + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => match runtime.spawn_blocking(f).await {
            Ok(out) => out,
            // Only a task that never started is cancelled: nothing was written.
            Err(e) if e.is_cancelled() => Err(EmbeddedError::Interrupted(
                "the runtime is shutting down".into(),
            )),
            // The transaction in flight was dropped, so it rolled back.
            Err(e) => Err(EmbeddedError::Database(format!(
                "the database call panicked: {e}"
            ))),
        },
        Err(_) => f(),
    }
}

/// The exclusive OS lock on `<file>.lock` that serialises opening one store file across
/// threads and processes (an `flock` on Unix, `LockFileEx` on Windows: both held per open
/// file, so two opens in one process exclude each other too). Released when dropped,
/// and by the OS when the process dies, so a crashed opener never leaves it taken.
///
/// The lock file is left in place: deleting it could let a third opener lock a new file
/// while a second still holds the old one.
struct OpenLock {
    _file: Option<File>,
}

impl OpenLock {
    /// Takes the lock, trying until `deadline`.
    fn acquire(db: &Path, deadline: Instant) -> Result<Self, EmbeddedError> {
        let mut name = db.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| EmbeddedError::Io(format!("opening {}: {e}", path.display())))?;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: Some(file) }),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(OPEN_RETRY_PAUSE);
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(EmbeddedError::Busy(format!(
                        "another opener held {} for more than {BUSY_TIMEOUT:?}",
                        path.display()
                    )));
                }
                // A file system without locks (some network mounts): open unserialised;
                // the retries of `prepare_until` still cover a busy first open.
                Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                    tracing::warn!(
                        lock = %path.display(),
                        "file locks are not supported here; opening the local database unserialised"
                    );
                    return Ok(Self { _file: None });
                }
                Err(TryLockError::Error(e)) => {
                    return Err(EmbeddedError::Io(format!(
                        "locking {}: {e}",
                        path.display()
                    )));
                }
            }
        }
    }
}

/// [`prepare`], retried while SQLite answers busy, until `deadline`.
///
/// The busy handler does not cover every lock of preparing: switching a fresh file to
/// WAL upgrades a read lock to a write lock, and SQLite answers that with `SQLITE_BUSY`
/// at once rather than wait (two upgraders would deadlock). Openers of this crate are
/// serialised by [`OpenLock`]; this covers the others (the `sqlite3` shell, a build that
/// predates the lock).
fn prepare_until(conn: &mut Connection, deadline: Instant) -> Result<(), EmbeddedError> {
    loop {
        match prepare(conn, deadline) {
            Err(EmbeddedError::Busy(_)) if Instant::now() < deadline => {
                std::thread::sleep(OPEN_RETRY_PAUSE);
            }
            // From now on every call waits the full timeout for a lock.
            Ok(()) => return Ok(conn.busy_timeout(BUSY_TIMEOUT)?),
            Err(e) => return Err(e),
        }
    }
}

/// Sets the connection up and brings the file's schema to [`SCHEMA_VERSION`]. Takes the
/// write lock only when there is something to write (a fresh file, an old schema).
/// Locks are waited for until `deadline` at most, so a whole open stays within
/// [`BUSY_TIMEOUT`].
fn prepare(conn: &mut Connection, deadline: Instant) -> Result<(), EmbeddedError> {
    // First, so that every lock below waits for a concurrent writer.
    let left = deadline.saturating_duration_since(Instant::now());
    conn.busy_timeout(left.max(Duration::from_millis(1)))?;
    // Persistent in the file: only a file not yet in WAL is switched (the switch needs
    // the write lock; reading the mode does not). A file system without shared memory
    // keeps the rollback journal: still correct, only less concurrent.
    let mode: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                journal_mode = %mode,
                "the local database cannot use WAL here; readers will wait for writers"
            );
        }
    }
    // Per connection: see the crate documentation for why FULL.
    conn.pragma_update(None, "synchronous", "FULL")?;
    let version = schema_version(conn)?;
    check_version(version)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Again under the write lock: another opener may have migrated meanwhile.
    let version = schema_version(&tx)?;
    check_version(version)?;
    let mut dropped = None;
    if version == 1 {
        let count: i64 = tx.query_row("SELECT COUNT(*) FROM ledger_events", [], |r| r.get(0))?;
        tx.execute_batch(MIGRATE_1_TO_2)?;
        dropped = Some(count);
    }
    // Version 0 is a fresh file: `SCHEMA` creates the table with the columns already.
    if (1..4).contains(&version) {
        tx.execute_batch(MIGRATE_3_TO_4)?;
    }
    if version < SCHEMA_VERSION {
        // Creates what is missing: everything on a fresh file, nothing after a migration.
        tx.execute_batch(SCHEMA)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    if let Some(dropped) = dropped {
        tracing::warn!(
            dropped_event_records = dropped,
            "local database upgraded from schema 1 to 2: event records held free-text \
             details and were dropped; facts, Connect ids, user leases and queued \
             messages are kept"
        );
    }
    Ok(())
}

fn schema_version(conn: &Connection) -> Result<i64, EmbeddedError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

fn check_version(version: i64) -> Result<(), EmbeddedError> {
    if version > SCHEMA_VERSION {
        return Err(EmbeddedError::Corrupt(format!(
            "schema version {version} was written by a newer okta-connect (this one knows {SCHEMA_VERSION})"
        )));
    }
    if version < 0 {
        return Err(EmbeddedError::Corrupt(format!("schema version {version}")));
    }
    Ok(())
}
