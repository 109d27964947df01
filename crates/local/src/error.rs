//! The embedded store's error, sorted by what a caller can do about it, and its mapping
//! onto the ports' errors.

use okta_connect_core::ports::{LedgerError, QueueError};
use rusqlite::ErrorCode;

/// What went wrong with the embedded store, sorted by what a caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbeddedError {
    /// Another connection held the write lock (or the open lock) longer than
    /// [`BUSY_TIMEOUT`](crate::BUSY_TIMEOUT). Transient: retry.
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
    /// The call never ran: the async runtime is shutting down. Nothing was written.
    /// Transient.
    #[error("the local database call was not run: {0}")]
    Interrupted(String),
    /// Any other SQLite failure. Permanent.
    #[error("local database error: {0}")]
    Database(String),
}

impl EmbeddedError {
    /// Whether repeating the same call may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            EmbeddedError::Busy(_) | EmbeddedError::Io(_) | EmbeddedError::Interrupted(_)
        )
    }

    /// The same error with `context` (e.g. the file name) in front of its message.
    pub(crate) fn context(self, context: &dyn std::fmt::Display) -> Self {
        match self {
            EmbeddedError::Busy(m) => EmbeddedError::Busy(format!("{context}: {m}")),
            EmbeddedError::Io(m) => EmbeddedError::Io(format!("{context}: {m}")),
            EmbeddedError::Corrupt(m) => EmbeddedError::Corrupt(format!("{context}: {m}")),
            EmbeddedError::Invalid(m) => EmbeddedError::Invalid(format!("{context}: {m}")),
            EmbeddedError::Interrupted(m) => EmbeddedError::Interrupted(format!("{context}: {m}")),
            EmbeddedError::Database(m) => EmbeddedError::Database(format!("{context}: {m}")),
        }
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
