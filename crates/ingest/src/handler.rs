//! The request handler: a plain async function of the request and an [`Ingest`]
//! context (settings, secret, queue, dead-letter queue). No Lambda runtime needed to
//! run or test it.

use std::future::Future;
use std::time::Instant;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use okta_connect_core::config::IngestSettings;
use okta_connect_core::ports::EventQueue;
use okta_connect_core::time::UnixMillis;
use serde_json::json;

use crate::enqueue::{self, EnqueueReport, RetryPolicy};
use crate::error::IngestError;
use crate::http::{IngestRequest, IngestResponse};
use crate::metrics::{Counts, MetricsSink};
use crate::secret::{SecretStore, Verdict};
use okta_connect_core::okta::Delivery;

/// The header Okta's verification `GET` carries (compared case-insensitively).
pub const CHALLENGE_HEADER: &str = "x-okta-verification-challenge";

/// The default body limit: 6 MiB (6,291,456 bytes), the largest request the deployed
/// endpoint can hand over at all. API Gateway's HTTP API accepts payloads up to 10 MB
/// ("Quotas for configuring and running an HTTP API in API Gateway": payload size
/// 10 MB, not adjustable), but it invokes the Lambda synchronously, and a synchronous
/// invocation's payload is at most 6 MB (Lambda API reference, `Invoke`: "For
/// synchronous invocations, the maximum payload size is 6 MB"; Lambda refuses
/// "Request must be smaller than 6291456 bytes"). That payload is the whole API Gateway
/// event with the body inside it, so any body that reaches ingest is below 6 MiB and
/// ingest never refuses a delivery the platform delivered. `[Ingest] MAX_BODY_BYTES`
/// defaults to the same figure.
pub const DEFAULT_MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// What the handler needs besides the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Header carrying the shared secret (any case; compared case-insensitively).
    pub secret_header: String,
    /// Larger bodies are refused with 413, before any parsing (and only once the
    /// secret is accepted).
    pub max_body_bytes: usize,
    pub retry: RetryPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            secret_header: "authorization".to_string(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
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
pub struct Ingest<Q, D> {
    pub settings: Settings,
    pub secret: SecretStore,
    /// Where usable events go.
    pub queue: Q,
    /// Where unusable events go, raw, with their reason.
    pub dead_letters: D,
    /// Where metric lines go (the Lambda's standard output); none locally.
    pub metrics: Option<MetricsSink>,
}

impl<Q: EventQueue, D: EventQueue> Ingest<Q, D> {
    pub fn new(
        settings: Settings,
        secret: impl Into<SecretStore>,
        queue: Q,
        dead_letters: D,
    ) -> Self {
        Self {
            settings,
            secret: secret.into(),
            queue,
            dead_letters,
            metrics: None,
        }
    }

    pub fn with_metrics(mut self, metrics: MetricsSink) -> Self {
        self.metrics = Some(metrics);
        self
    }
}

/// What one request amounted to, for its log line and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub delivery_id: Option<String>,
    /// Elements of `data.events`, usable or not.
    pub received: usize,
    pub queued: usize,
    pub dead_lettered: usize,
    pub trimmed: usize,
    pub calls: usize,
    pub rounds: u32,
    pub last_error: Option<String>,
}

impl Summary {
    fn add(&mut self, queued: &EnqueueReport, dead: &EnqueueReport) {
        self.queued = queued.queued;
        self.dead_lettered = dead.queued;
        self.calls = queued.calls + dead.calls;
        self.rounds = queued.rounds.max(dead.rounds);
        self.last_error = queued
            .last_error
            .clone()
            .or_else(|| dead.last_error.clone());
    }
}

/// Handles one request whose body is already in memory (API Gateway's), as
/// [`handle_streaming`] does.
pub async fn handle<Q: EventQueue, D: EventQueue>(
    mut request: IngestRequest,
    ctx: &Ingest<Q, D>,
) -> IngestResponse {
    let body = std::mem::take(&mut request.body);
    handle_streaming(request, std::future::ready(Ok(body)), ctx).await
}

/// Handles one request whose body may still be arriving, and logs one line about it.
/// `head` is the request without its body; `body` yields the body's bytes and is
/// awaited only for a `POST` whose secret is accepted and whose declared length is
/// within the limit: without the secret nothing is read, and the answer is 401 whatever
/// the size. `body` itself fails with [`IngestError::TooLarge`], [`IngestError::BodyTimeout`]
/// or [`IngestError::BodyUnreadable`], which are answered as such. Never panics: every
/// input ends in a JSON response.
pub async fn handle_streaming<Q, D, B>(
    head: IngestRequest,
    body: B,
    ctx: &Ingest<Q, D>,
) -> IngestResponse
where
    Q: EventQueue,
    D: EventQueue,
    B: Future<Output = Result<Vec<u8>, IngestError>>,
{
    let started = Instant::now();
    let method = head.method.clone();
    let mut summary = Summary::default();
    let result = route(head, body, ctx, started, &mut summary).await;
    let (response, outcome) = match result {
        Ok((response, outcome)) => (response, outcome),
        Err(e) => (e.response(), e.outcome()),
    };
    log(&method, &summary, response.status, outcome, started);
    if let Some(metrics) = &ctx.metrics {
        metrics.record(Counts {
            received: summary.received,
            queued: summary.queued,
            unauthorized: usize::from(response.status == 401),
            rejected: usize::from((400..500).contains(&response.status) && response.status != 401),
            dead_lettered: summary.dead_lettered,
            trimmed: summary.trimmed,
        });
    }
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
            events_dead_lettered = summary.dead_lettered,
            events_trimmed = summary.trimmed,
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
            events_dead_lettered = summary.dead_lettered,
            events_trimmed = summary.trimmed,
            queue_calls = summary.calls,
            rounds = summary.rounds,
            status,
            outcome,
            latency_ms,
            "okta event hook request"
        );
    }
}

async fn route<Q, D, B>(
    head: IngestRequest,
    body: B,
    ctx: &Ingest<Q, D>,
    started: Instant,
    summary: &mut Summary,
) -> Result<(IngestResponse, &'static str), IngestError>
where
    Q: EventQueue,
    D: EventQueue,
    B: Future<Output = Result<Vec<u8>, IngestError>>,
{
    // The secret first, whatever the method or size: nothing else is revealed (or
    // read) without it.
    authenticate(&head, ctx).await?;
    match head.method.as_str() {
        "GET" => verify(&head).map(|r| (r, "verified")),
        "POST" => {
            let limit = ctx.settings.max_body_bytes;
            check_declared_length(&head, limit)?;
            let body = decode_body(body.await?, head.is_base64_encoded, limit)?;
            deliver(&body, ctx, started, summary).await
        }
        _ => Err(IngestError::MethodNotAllowed),
    }
}

/// Exactly one secret header whose value is an accepted secret.
async fn authenticate<Q, D>(
    request: &IngestRequest,
    ctx: &Ingest<Q, D>,
) -> Result<(), IngestError> {
    let presented = request.single_header(&ctx.settings.secret_header);
    match ctx.secret.check(presented).await {
        Verdict::Accepted => Ok(()),
        Verdict::Rejected => Err(IngestError::Unauthorized),
        Verdict::Unverifiable => Err(IngestError::SecretUnverifiable),
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

/// A declared `Content-Length` that is a number over the limit (or beyond u64) is
/// refused before the body is read; anything else there is ignored: the bytes
/// themselves are checked once read.
fn check_declared_length(head: &IngestRequest, limit: usize) -> Result<(), IngestError> {
    let declared = head
        .single_header("content-length")
        .map(<[u8]>::trim_ascii)
        .filter(|v| !v.is_empty() && v.iter().all(u8::is_ascii_digit));
    if let Some(digits) = declared {
        let over = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<u64>().ok())
            .is_none_or(|n| n > limit as u64);
        if over {
            return Err(IngestError::TooLarge { limit });
        }
    }
    Ok(())
}

/// The body's bytes, within the limit: checked as received, and again after base64
/// decoding (which is refused up front when the encoded text alone proves the result
/// too large).
fn decode_body(body: Vec<u8>, base64: bool, limit: usize) -> Result<Vec<u8>, IngestError> {
    let too_large = IngestError::TooLarge { limit };
    if !base64 {
        if body.len() > limit {
            return Err(too_large);
        }
        return Ok(body);
    }
    // At most `limit` decoded bytes take at most 4 * ceil(limit / 3) characters
    // (padded); anything longer cannot decode within the limit.
    if body.len() > limit.div_ceil(3).saturating_mul(4) {
        return Err(too_large);
    }
    let decoded = BASE64.decode(&body).map_err(|_| IngestError::BadBase64)?;
    if decoded.len() > limit {
        return Err(too_large);
    }
    Ok(decoded)
}

/// A delivery: parse, queue every usable event and dead-letter every unusable one,
/// answer once all are durable. 4xx only when nothing in it is usable.
async fn deliver<Q: EventQueue, D: EventQueue>(
    body: &[u8],
    ctx: &Ingest<Q, D>,
    started: Instant,
    summary: &mut Summary,
) -> Result<(IngestResponse, &'static str), IngestError> {
    let parsed = Delivery::split(body)?;
    summary.delivery_id = parsed.delivery.event_id.clone();
    summary.received = parsed.received();
    if summary.received == 0 {
        return Ok((answer(0, 0), "empty"));
    }
    let prepared = enqueue::prepare(&parsed, UnixMillis::now());
    drop(parsed);
    summary.trimmed = prepared.trimmed;
    let retry = &ctx.settings.retry;
    let (queued, dead) = tokio::join!(
        enqueue::enqueue(&ctx.queue, prepared.queue, retry, started),
        enqueue::enqueue(&ctx.dead_letters, prepared.dead_letters, retry, started),
    );
    summary.add(&queued, &dead);
    let not_queued = queued.not_queued() + dead.not_queued();
    if not_queued > 0 {
        return Err(IngestError::NotQueued {
            received: summary.received,
            not_queued,
        });
    }
    if queued.queued == 0 {
        return Err(IngestError::NothingUsable {
            dead_lettered: dead.queued,
        });
    }
    let outcome = if dead.queued > 0 {
        "queued_with_dead_letters"
    } else {
        "queued"
    };
    Ok((answer(queued.queued, dead.queued), outcome))
}

fn answer(queued: usize, dead_lettered: usize) -> IngestResponse {
    IngestResponse::json(
        200,
        &json!({ "queued": queued, "deadLettered": dead_lettered }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_limit_is_exact() {
        for limit in [1024_usize, 1025, 1026, 1027, 4096] {
            for n in limit - 3..=limit + 3 {
                let raw = vec![b'{'; n];
                for text in [
                    base64::engine::general_purpose::STANDARD.encode(&raw),
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(&raw),
                ] {
                    let result = decode_body(text.into_bytes(), true, limit);
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
    fn declared_length_is_checked_before_the_body() {
        let head = |value: &str| IngestRequest::new("POST").header("Content-Length", value);
        assert_eq!(
            check_declared_length(&head("99999999"), 1024),
            Err(IngestError::TooLarge { limit: 1024 })
        );
        assert_eq!(
            check_declared_length(&head("99999999999999999999999"), 1024),
            Err(IngestError::TooLarge { limit: 1024 })
        );
        assert_eq!(check_declared_length(&head("1024"), 1024), Ok(()));
        assert_eq!(check_declared_length(&head("nonsense"), 1024), Ok(()));
        assert_eq!(decode_body(b"{}".to_vec(), false, 1024), Ok(b"{}".to_vec()));
        assert_eq!(
            decode_body(vec![b' '; 1025], false, 1024),
            Err(IngestError::TooLarge { limit: 1024 })
        );
    }

    #[test]
    fn the_default_limit_is_the_configuration_default() {
        let ingest = IngestSettings::parse("", std::iter::empty::<(&str, &str)>()).unwrap();
        assert_eq!(ingest.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(Settings::default().max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(DEFAULT_MAX_BODY_BYTES, 6_291_456);
    }
}
