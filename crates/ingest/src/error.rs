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
    /// 400: API Gateway said base64 but the body is not.
    #[error("body is not valid base64")]
    BadBase64,
    /// 400: the body will never parse as an event-hook delivery.
    #[error("{0}")]
    BadDelivery(String),
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
            IngestError::MethodNotAllowed => 405,
            IngestError::MissingChallenge
            | IngestError::BadChallenge
            | IngestError::BadBase64
            | IngestError::BadDelivery(_)
            | IngestError::NotAGatewayEvent => 400,
            IngestError::TooLarge { .. } => 413,
            IngestError::NotQueued { .. } => 503,
        }
    }

    /// A short machine-friendly outcome name for logs.
    pub fn outcome(&self) -> &'static str {
        match self {
            IngestError::Unauthorized => "unauthorized",
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
    /// `Retry-After` on a 503.
    pub fn response(&self) -> IngestResponse {
        let response = IngestResponse::json(self.status(), &json!({ "error": self.to_string() }));
        match self {
            IngestError::MethodNotAllowed => response.with_header("allow", "GET, POST"),
            IngestError::NotQueued { .. } => response.with_header("retry-after", "1"),
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
