//! The request handler: a plain async function of the request and an [`Ingest`]
//! context (settings, secret, queue). No Lambda runtime needed to run or test it.

use std::time::Instant;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use okta_connect_core::config::IngestSettings;
use okta_connect_core::okta::Delivery;
use okta_connect_core::ports::EventQueue;
use serde_json::json;

use crate::enqueue::{self, EnqueueReport, RetryPolicy};
use crate::error::IngestError;
use crate::http::{IngestRequest, IngestResponse};
use crate::secret::HookSecret;

/// The header Okta's verification `GET` carries (compared case-insensitively).
pub const CHALLENGE_HEADER: &str = "x-okta-verification-challenge";

/// What the handler needs besides the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Header carrying the shared secret (any case; compared case-insensitively).
    pub secret_header: String,
    /// Larger bodies are refused with 413, before any parsing.
    pub max_body_bytes: usize,
    pub retry: RetryPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            secret_header: "authorization".to_string(),
            max_body_bytes: 1_048_576,
            retry: RetryPolicy::default(),
        }
    }
}

impl Settings {
    /// From the validated `[Ingest]` section, with the default retry policy.
    pub fn from_config(ingest: &IngestSettings) -> Self {
        Self {
            secret_header: ingest.secret_header.clone(),
            max_body_bytes: ingest.max_body_bytes,
            retry: RetryPolicy::default(),
        }
    }
}

/// Everything a request is handled with; built once at cold start.
#[derive(Debug)]
pub struct Ingest<Q> {
    pub settings: Settings,
    pub secret: HookSecret,
    pub queue: Q,
}

impl<Q: EventQueue> Ingest<Q> {
    pub fn new(settings: Settings, secret: HookSecret, queue: Q) -> Self {
        Self {
            settings,
            secret,
            queue,
        }
    }
}

/// What one request amounted to, for its log line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub delivery_id: Option<String>,
    pub received: usize,
    pub queued: usize,
    pub calls: usize,
    pub rounds: u32,
    pub last_error: Option<String>,
}

impl Summary {
    fn from_report(delivery_id: Option<String>, report: &EnqueueReport) -> Self {
        Self {
            delivery_id,
            received: report.received,
            queued: report.queued,
            calls: report.calls,
            rounds: report.rounds,
            last_error: report.last_error.clone(),
        }
    }
}

/// Handles one request and logs one line about it. Never panics: every input ends in a
/// response.
pub async fn handle<Q: EventQueue>(request: IngestRequest, ctx: &Ingest<Q>) -> IngestResponse {
    let started = Instant::now();
    let method = request.method.clone();
    let mut summary = Summary::default();
    let result = route(request, ctx, started, &mut summary).await;
    let (response, outcome) = match result {
        Ok((response, outcome)) => (response, outcome),
        Err(e) => (e.response(), e.outcome()),
    };
    log(&method, &summary, response.status, outcome, started);
    response
}

fn log(method: &str, summary: &Summary, status: u16, outcome: &str, started: Instant) {
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Bounded: the method and delivery id come from the sender.
    let method: String = method.chars().take(16).collect();
    let delivery_id: Option<String> = summary
        .delivery_id
        .as_deref()
        .map(|d| d.chars().take(100).collect());
    let delivery_id = delivery_id.as_deref().unwrap_or("");
    let last_error = summary.last_error.as_deref().unwrap_or("");
    if status >= 500 {
        tracing::warn!(
            method = %method,
            delivery_id,
            events_received = summary.received,
            events_queued = summary.queued,
            queue_calls = summary.calls,
            rounds = summary.rounds,
            status,
            outcome,
            last_error,
            latency_ms,
            "okta event hook request"
        );
    } else {
        tracing::info!(
            method = %method,
            delivery_id,
            events_received = summary.received,
            events_queued = summary.queued,
            queue_calls = summary.calls,
            rounds = summary.rounds,
            status,
            outcome,
            latency_ms,
            "okta event hook request"
        );
    }
}

async fn route<Q: EventQueue>(
    request: IngestRequest,
    ctx: &Ingest<Q>,
    started: Instant,
    summary: &mut Summary,
) -> Result<(IngestResponse, &'static str), IngestError> {
    // The secret first, whatever the method: nothing else is revealed without it.
    authenticate(&request, &ctx.settings.secret_header, &ctx.secret)?;
    match request.method.as_str() {
        "GET" => verify(&request).map(|r| (r, "verified")),
        "POST" => deliver(request, ctx, started, summary).await,
        _ => Err(IngestError::MethodNotAllowed),
    }
}

/// Exactly one secret header whose value is an accepted secret.
fn authenticate(
    request: &IngestRequest,
    header: &str,
    secret: &HookSecret,
) -> Result<(), IngestError> {
    match request.single_header(header) {
        Some(value) if secret.matches(value) => Ok(()),
        _ => Err(IngestError::Unauthorized),
    }
}

/// Okta's one-time verification: echo the challenge.
fn verify(request: &IngestRequest) -> Result<IngestResponse, IngestError> {
    let value = request
        .single_header(CHALLENGE_HEADER)
        .filter(|v| !v.is_empty())
        .ok_or(IngestError::MissingChallenge)?;
    let value = std::str::from_utf8(value).map_err(|_| IngestError::BadChallenge)?;
    Ok(IngestResponse::json(200, &json!({ "verification": value })))
}

/// Base64 as API Gateway writes it (standard alphabet), padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The body's bytes, within the limit: checked on the declared length, on the bytes as
/// received, and again after base64 decoding (which is refused up front when the
/// encoded text alone proves the result too large).
fn body_bytes(request: IngestRequest, limit: usize) -> Result<Vec<u8>, IngestError> {
    let too_large = IngestError::TooLarge { limit };
    // A declared length that is a number over the limit (or beyond u64) is refused;
    // anything else there is ignored: the bytes themselves are checked next.
    let declared = request
        .single_header("content-length")
        .map(<[u8]>::trim_ascii)
        .filter(|v| !v.is_empty() && v.iter().all(u8::is_ascii_digit));
    if let Some(digits) = declared {
        let over = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<u64>().ok())
            .is_none_or(|n| n > limit as u64);
        if over {
            return Err(too_large);
        }
    }
    if !request.is_base64_encoded {
        if request.body.len() > limit {
            return Err(too_large);
        }
        return Ok(request.body);
    }
    // At most `limit` decoded bytes take at most 4 * ceil(limit / 3) characters
    // (padded); anything longer cannot decode within the limit.
    if request.body.len() > limit.div_ceil(3).saturating_mul(4) {
        return Err(too_large);
    }
    let decoded = BASE64
        .decode(&request.body)
        .map_err(|_| IngestError::BadBase64)?;
    if decoded.len() > limit {
        return Err(too_large);
    }
    Ok(decoded)
}

/// A delivery: parse, queue every event, answer once all are durable.
async fn deliver<Q: EventQueue>(
    request: IngestRequest,
    ctx: &Ingest<Q>,
    started: Instant,
    summary: &mut Summary,
) -> Result<(IngestResponse, &'static str), IngestError> {
    let body = body_bytes(request, ctx.settings.max_body_bytes)?;
    let delivery = Delivery::parse(&body)?;
    drop(body);
    summary.delivery_id = delivery.event_id.clone();
    summary.received = delivery.events.len();
    if delivery.events.is_empty() {
        return Ok((IngestResponse::json(200, &json!({ "queued": 0 })), "empty"));
    }
    let messages = enqueue::messages(&delivery);
    drop(delivery);
    let report = enqueue::enqueue(&ctx.queue, messages, &ctx.settings.retry, started).await;
    *summary = Summary::from_report(summary.delivery_id.take(), &report);
    if report.not_queued() > 0 {
        return Err(IngestError::NotQueued {
            received: report.received,
            not_queued: report.not_queued(),
        });
    }
    Ok((
        IngestResponse::json(200, &json!({ "queued": report.queued })),
        "queued",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Vec<u8>, base64: bool) -> IngestRequest {
        IngestRequest::new("POST").body(body).base64(base64)
    }

    #[test]
    fn base64_limit_is_exact() {
        for limit in [1024_usize, 1025, 1026, 1027, 4096] {
            for n in limit - 3..=limit + 3 {
                let raw = vec![b'{'; n];
                for text in [
                    base64::engine::general_purpose::STANDARD.encode(&raw),
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(&raw),
                ] {
                    let result = body_bytes(request(text.into_bytes(), true), limit);
                    if n <= limit {
                        assert_eq!(result.map(|b| b.len()), Ok(n), "limit {limit}, n {n}");
                    } else {
                        assert_eq!(
                            result,
                            Err(IngestError::TooLarge { limit }),
                            "limit {limit}, n {n}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn declared_length_is_checked_first() {
        let small = request(b"{}".to_vec(), false).header("Content-Length", "99999999");
        assert_eq!(
            body_bytes(small, 1024),
            Err(IngestError::TooLarge { limit: 1024 })
        );
        let odd = request(b"{}".to_vec(), false).header("content-length", "nonsense");
        assert_eq!(body_bytes(odd, 1024), Ok(b"{}".to_vec()));
    }
}
