//! The crate's one error type, for library calls (building, seeding, serving) and for the
//! [`Admin`](crate::Admin) client.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What went wrong in a library call or an [`Admin`](crate::Admin) request.
///
/// [`Error::is_transient`] says whether trying again later may succeed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The seed document is invalid (bad JSON, unknown member, duplicate or dangling
    /// reference); the text names the offending item.
    #[error("invalid seed: {0}")]
    Seed(String),
    /// The seed file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    SeedFile {
        /// The file asked for.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// An OAuth client was configured with an unusable key or scope.
    #[error("OAuth client {client_id}: {reason}")]
    OAuthClient {
        /// The client id.
        client_id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A builder setting is out of range (e.g. a zero rate-limit window).
    #[error("invalid setting: {0}")]
    Config(String),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("okta-sim server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// [`Admin`](crate::Admin): the request did not get an answer (connection refused,
    /// timeout). Transient.
    #[error("request to {url} failed: {reason}")]
    Transport {
        /// The URL called (no secrets: tokens travel in headers).
        url: String,
        /// What the HTTP client reported.
        reason: String,
    },
    /// [`Admin`](crate::Admin): Okta answered with an error body.
    #[error("Okta answered {status} {error_code}: {summary}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// Okta's `errorCode`, e.g. `E0000007`.
        error_code: String,
        /// Okta's `errorSummary`.
        summary: String,
    },
    /// [`Admin`](crate::Admin): a lookup by name found nothing.
    #[error("no {kind} named {name:?}")]
    NotFound {
        /// "user", "group" or "app".
        kind: &'static str,
        /// The name looked up.
        name: String,
    },
    /// [`Admin`](crate::Admin): the answer was not what Okta sends (unparsable body).
    #[error("unexpected answer from {url}: {reason}")]
    Protocol {
        /// The URL called.
        url: String,
        /// What was wrong.
        reason: String,
    },
}

impl Error {
    /// True when the same call may succeed later: transport failures, 429 and 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Api { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}
