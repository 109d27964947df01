//! Every way a request can fail, and the status each one answers with.
//!
//! Reasons are fixed, short texts: they never echo the body (which may hold emails)
//! or a header (one of them is the secret).

use okta_connect_core::okta::EnvelopeError;
use serde_json::json;

use crate::http::IngestResponse;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// 401: the secret header is missing, repeated, or holds no accepted value.
    #[error("missing or wrong secret")]
    Unauthorized,
    /// 503: the secret is not one in use and the stored secret could not be read again
    /// to see whether it was rotated. Transient, so not a 4xx: Okta retries a 5xx.
    #[error("cannot check the secret now")]
    SecretUnverifiable,
    /// 404: not the hook path (the local server; API Gateway answers this itself).
    #[error("not found")]
    NotFound,
    /// 405: only `GET` (verification) and `POST` (delivery) exist.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 400: a `GET` without exactly one non-empty `x-okta-verification-challenge`.
    #[error("missing x-okta-verification-challenge header")]
    MissingChallenge,
    /// 400: the challenge is not text that can be echoed in JSON.
    #[error("verification challenge is not UTF-8 text")]
    BadChallenge,
    /// 413: the body (declared, as sent, or decoded) exceeds the limit.
    #[error("body exceeds {limit} bytes")]
    TooLarge { limit: usize },
    /// 408: the body did not arrive in time (the local server; API Gateway hands over
    /// whole requests).
    #[error("request body not received in time")]
    BodyTimeout,
    /// 400: the body could not be read off the connection.
    #[error("request body could not be read")]
    BodyUnreadable,
    /// 400: API Gateway said base64 but the body is not.
    #[error("body is not valid base64")]
    BadBase64,
    /// 400: the body will never parse as an event-hook delivery.
    #[error("{0}")]
    BadDelivery(String),
    /// 400: the delivery holds events but none is usable; each went to the dead-letter
    /// queue with its reason.
    #[error("no usable event in the delivery; {dead_lettered} dead-lettered with the reason")]
    NothingUsable { dead_lettered: usize },
    /// 400: not an API Gateway request at all.
    #[error("not an API Gateway HTTP request")]
    NotAGatewayEvent,
    /// 503: some events are not durably queued; Okta retries once.
    #[error("{not_queued} of {received} events could not be queued")]
    NotQueued { received: usize, not_queued: usize },
}

impl IngestError {
    pub fn status(&self) -> u16 {
        match self {
            IngestError::Unauthorized => 401,
            IngestError::NotFound => 404,
            IngestError::MethodNotAllowed => 405,
            IngestError::BodyTimeout => 408,
            IngestError::MissingChallenge
            | IngestError::BadChallenge
            | IngestError::BadBase64
            | IngestError::BadDelivery(_)
            | IngestError::BodyUnreadable
            | IngestError::NothingUsable { .. }
            | IngestError::NotAGatewayEvent => 400,
            IngestError::TooLarge { .. } => 413,
            IngestError::NotQueued { .. } | IngestError::SecretUnverifiable => 503,
        }
    }

    /// A short machine-friendly outcome name for logs.
    pub fn outcome(&self) -> &'static str {
        match self {
            IngestError::Unauthorized => "unauthorized",
            IngestError::SecretUnverifiable => "secret_unverifiable",
            IngestError::NotFound => "not_found",
            IngestError::BodyTimeout => "body_timeout",
            IngestError::BodyUnreadable => "body_unreadable",
            IngestError::NothingUsable { .. } => "nothing_usable",
            IngestError::MethodNotAllowed => "method_not_allowed",
            IngestError::MissingChallenge | IngestError::BadChallenge => "bad_challenge",
            IngestError::TooLarge { .. } => "too_large",
            IngestError::BadBase64 => "bad_base64",
            IngestError::BadDelivery(_) => "bad_delivery",
            IngestError::NotAGatewayEvent => "not_a_gateway_event",
            IngestError::NotQueued { .. } => "not_queued",
        }
    }

    /// The HTTP answer: `{"error": "<reason>"}`, plus `Allow` on a 405 and
    /// `Retry-After` on a 503. Every answer, errors included, is JSON.
    pub fn response(&self) -> IngestResponse {
        let response = IngestResponse::json(self.status(), &json!({ "error": self.to_string() }));
        match self {
            IngestError::MethodNotAllowed => response.with_header("allow", "GET, POST"),
            IngestError::NotQueued { .. } | IngestError::SecretUnverifiable => {
                response.with_header("retry-after", "1")
            }
            _ => response,
        }
    }
}

impl From<EnvelopeError> for IngestError {
    /// A fixed reason per kind: core's messages may quote parts of the body.
    fn from(e: EnvelopeError) -> Self {
        IngestError::BadDelivery(match e {
            EnvelopeError::NotJson(_) => "body is not JSON".to_string(),
            EnvelopeError::NotAnEnvelope(_) => {
                "body is not an Okta event-hook delivery".to_string()
            }
            EnvelopeError::MissingEvents => "delivery has no data.events array".to_string(),
            EnvelopeError::BadEvent { index, .. } => format!(
                "data.events[{index}] is not a usable event (needs string uuid, eventType and RFC 3339 published)"
            ),
        })
    }
}
