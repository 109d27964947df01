//! The one error of the use case: whether retrying can help.

use okta_connect_core::names::UsernameError;
use okta_connect_core::outcome::Failure;
use okta_connect_core::ports::{DirectoryError, ErrorClass, IdentityError, LedgerError};

/// Why processing a message (or converging a user) stopped short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// Retrying later can succeed: throttling, 5xx, timeouts, a busy lease.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying cannot succeed until someone changes config or data.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl SyncError {
    pub fn class(&self) -> ErrorClass {
        match self {
            SyncError::Transient(_) => ErrorClass::Transient,
            SyncError::Permanent(_) => ErrorClass::Permanent,
        }
    }

    /// The reason without the class prefix.
    pub fn reason(&self) -> &str {
        match self {
            SyncError::Transient(r) | SyncError::Permanent(r) => r,
        }
    }

    /// The failure as the ledger and the outcome record it.
    pub fn to_failure(&self) -> Failure {
        Failure {
            class: self.class(),
            reason: self.reason().to_string(),
        }
    }

    fn from_class(class: ErrorClass, reason: String) -> Self {
        match class {
            ErrorClass::Transient => SyncError::Transient(reason),
            ErrorClass::Permanent => SyncError::Permanent(reason),
        }
    }
}

impl From<LedgerError> for SyncError {
    fn from(e: LedgerError) -> Self {
        Self::from_class(e.class(), e.to_string())
    }
}

impl From<DirectoryError> for SyncError {
    fn from(e: DirectoryError) -> Self {
        Self::from_class(e.class(), e.to_string())
    }
}

impl From<IdentityError> for SyncError {
    fn from(e: IdentityError) -> Self {
        Self::from_class(e.class(), e.to_string())
    }
}

impl From<UsernameError> for SyncError {
    fn from(e: UsernameError) -> Self {
        SyncError::Permanent(e.to_string())
    }
}
