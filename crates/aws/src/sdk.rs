//! The one SDK layer every adapter of this crate goes through:
//!
//! - [`load`]: the SDK configuration, built once per process from [`AwsSettings`]:
//!   region, an operation and an attempt timeout on every call, the SDK's own retries
//!   (off by default, see [`AwsSettings::max_attempts`]), and an optional endpoint
//!   override that points every client at an emulator (moto, connect-sim).
//! - [`classify`] / [`error_class`]: one classification of SDK errors for every
//!   service: the operation's modelled variants first (typed matches, supplied by the
//!   caller), then, for errors the SDK does not model, the HTTP status; never the
//!   message text.
//! - [`describe`]: one bounded description of an SDK error for logs, the ledger and the
//!   dead-letter queue: the service's error code and message, never a request body.
//! - [`RequestCounter`]: an SDK interceptor that counts the requests a client puts on
//!   the wire; every client of this crate is built with one ([`sqs_client`] …).

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use okta_connect_core::ports::ErrorClass;

pub use aws_smithy_runtime_api::client::result::SdkError;
/// The raw HTTP response every SDK error of this crate carries.
pub use aws_smithy_runtime_api::http::Response as HttpResponse;

/// Where and how to reach AWS.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// `None`: the SDK's region chain (`AWS_REGION`, profile, IMDS).
    pub region: Option<String>,
    /// An emulator's URL; `None` for real AWS.
    pub endpoint_url: Option<String>,
    /// Whole-operation limit (every attempt included).
    pub operation_timeout: Duration,
    /// Limit for one attempt.
    pub attempt_timeout: Duration,
    /// Attempts the SDK itself makes per call (1 = the SDK never retries).
    ///
    /// Default 1, on purpose: the pipeline retries at its own level — the worker hands a
    /// message back to the queue with a backoff, and paces every Connect call through
    /// the account-wide token bucket of each API. An SDK retry underneath would send a
    /// second request that bypasses that pace (a throttled CreateUser retried at once
    /// is exactly the burst that trips Connect's 2 requests/s), and would hide from the
    /// caller how many requests a call cost. Raise it only for a front door that has no
    /// retry of its own (a one-off CLI read, say).
    pub max_attempts: u32,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region: None,
            endpoint_url: None,
            operation_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(3),
            max_attempts: 1,
        }
    }
}

impl AwsSettings {
    /// Settings for an emulator at `url`: region us-east-1, dummy static credentials.
    pub fn emulator(url: impl Into<String>) -> Self {
        Self {
            region: Some("us-east-1".into()),
            endpoint_url: Some(url.into()),
            ..Self::default()
        }
    }

    /// The SDK's retry configuration for these settings (at least one attempt).
    pub fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard().with_max_attempts(self.max_attempts.max(1))
    }

    /// The SDK's timeouts for these settings.
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .operation_timeout(self.operation_timeout)
            .operation_attempt_timeout(self.attempt_timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(self.attempt_timeout))
            .build()
    }
}

/// TCP + TLS connection set-up; a healthy AWS endpoint answers in milliseconds.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Loads the SDK configuration. With an endpoint override, static test credentials are
/// used so no credential chain is consulted (emulators do not check signatures).
pub async fn load(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(settings.timeout_config())
        .retry_config(settings.retry_config());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader
            .endpoint_url(url)
            .credentials_provider(Credentials::new("test", "test", None, None, "emulator"));
    }
    loader.load().await
}

// ---------------------------------------------------------------- request counting

/// Counts the requests a client transmits: one per attempt (so an SDK retry, if
/// [`AwsSettings::max_attempts`] allows one, counts too). Cheap to clone; clones share
/// the count.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<AtomicU64>);

impl RequestCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests transmitted so far by every client this counter is attached to.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    // Called once per attempt, just before the request goes on the wire: requests that
    // could not even be built are not counted.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// `timeouts` if it bounds an operation, else [`AwsSettings`]' default: a configuration
/// made elsewhere (a test's, a caller's client) may have none, and every call must end.
pub fn bounded_timeouts(timeouts: Option<&TimeoutConfig>) -> TimeoutConfig {
    match timeouts {
        Some(t) if t.operation_timeout().is_some() => t.clone(),
        _ => AwsSettings::default().timeout_config(),
    }
}

/// The region a client sends to, for messages (`"(no region)"` when none is set).
pub fn region_name(region: Option<&Region>) -> String {
    region.map_or_else(|| "(no region)".to_string(), ToString::to_string)
}

/// Builds one service's client from the shared configuration with `counter` attached,
/// and rebuilds an existing client with it; either way with [`bounded_timeouts`].
macro_rules! client_builder {
    ($feature:literal, $sdk:ident, $name:ident, $counted:ident, $service:literal) => {
        #[doc = concat!("An ", $service, " client counting its requests in `counter`.")]
        #[cfg(feature = $feature)]
        pub fn $name(config: &SdkConfig, counter: &RequestCounter) -> $sdk::Client {
            $sdk::Client::from_conf(
                $sdk::config::Builder::from(config)
                    .interceptor(counter.clone())
                    .timeout_config(bounded_timeouts(config.timeout_config()))
                    .build(),
            )
        }

        #[doc = concat!(
            "`client`'s configuration as a new ", $service,
            " client that also counts its requests in `counter` (the original is untouched)."
        )]
        #[cfg(feature = $feature)]
        pub fn $counted(client: &$sdk::Client, counter: &RequestCounter) -> $sdk::Client {
            $sdk::Client::from_conf(
                client
                    .config()
                    .to_builder()
                    .interceptor(counter.clone())
                    .timeout_config(bounded_timeouts(client.config().timeout_config()))
                    .build(),
            )
        }
    };
}

client_builder!("sqs", aws_sdk_sqs, sqs_client, counted_sqs_client, "SQS");
client_builder!(
    "dynamodb",
    aws_sdk_dynamodb,
    dynamodb_client,
    counted_dynamodb_client,
    "DynamoDB"
);
client_builder!(
    "connect",
    aws_sdk_connect,
    connect_client,
    counted_connect_client,
    "Amazon Connect"
);
client_builder!(
    "secretsmanager",
    aws_sdk_secretsmanager,
    secretsmanager_client,
    counted_secretsmanager_client,
    "Secrets Manager"
);
client_builder!(
    "cloudformation",
    aws_sdk_cloudformation,
    cloudformation_client,
    counted_cloudformation_client,
    "AWS CloudFormation"
);
client_builder!(
    "cloudwatch",
    aws_sdk_cloudwatch,
    cloudwatch_client,
    counted_cloudwatch_client,
    "Amazon CloudWatch"
);

// ---------------------------------------------------------------- classification

/// An SDK error, sorted for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classified<K> {
    /// A variant the operation models, as the caller's typed match named it.
    Typed(K),
    /// A service answer the typed match left open (an error this SDK version does not
    /// model for the operation, e.g. `AccessDenied`): its HTTP status decides.
    Status(u16),
    /// No usable answer: timeout, connection failure, unreadable response. Transient.
    Transport,
    /// The request could not be built (a missing required field). Permanent.
    Construction,
}

impl<K> Classified<K> {
    /// The error class, with `typed` deciding for modelled variants.
    pub fn class_with(&self, typed: impl FnOnce(&K) -> ErrorClass) -> ErrorClass {
        match self {
            Classified::Typed(kind) => typed(kind),
            Classified::Status(status) => status_class(*status),
            Classified::Transport => ErrorClass::Transient,
            Classified::Construction => ErrorClass::Permanent,
        }
    }
}

impl Classified<ErrorClass> {
    pub fn class(&self) -> ErrorClass {
        self.class_with(|class| *class)
    }
}

/// The class of an error answer by HTTP status alone: 429 (throttling) and 5xx are
/// transient; every other status, 4xx above all (a 403 is a permission an admin must
/// grant), is permanent.
pub fn status_class(status: u16) -> ErrorClass {
    if status == 429 || status >= 500 {
        ErrorClass::Transient
    } else {
        ErrorClass::Permanent
    }
}

/// Sorts `err`: a service error goes to `typed` first (the operation's modelled
/// variants; `None` leaves it to the HTTP status), transport failures and construction
/// failures are recognised by the SDK's own error kinds.
pub fn classify<E, K>(
    err: &SdkError<E, HttpResponse>,
    typed: impl FnOnce(&E) -> Option<K>,
) -> Classified<K> {
    match err {
        SdkError::ServiceError(service) => match typed(service.err()) {
            Some(kind) => Classified::Typed(kind),
            None => Classified::Status(service.raw().status().as_u16()),
        },
        SdkError::ConstructionFailure(_) => Classified::Construction,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Classified::Transport
        }
        // A kind newer than this code: nothing says the request was refused, so it is
        // treated as a failure to get an answer.
        _ => Classified::Transport,
    }
}

/// [`classify`] straight to an [`ErrorClass`], for operations whose callers need no
/// more than transient/permanent.
pub fn error_class<E>(
    err: &SdkError<E, HttpResponse>,
    typed: impl FnOnce(&E) -> Option<ErrorClass>,
) -> ErrorClass {
    classify(err, typed).class()
}

/// The HTTP status of a service error, when there is one.
pub fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    match err {
        SdkError::ServiceError(e) => Some(e.raw().status().as_u16()),
        _ => None,
    }
}

/// Longest [`describe`] text: it is stored in the ledger and carried to the DLQ.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// A short description of an SDK error: for a service error its code, message and HTTP
/// status; otherwise the kind of failure and its cause (timeout, connection refused …).
/// Never a request body (those carry event payloads and secrets). At most
/// [`MAX_DESCRIPTION_CHARS`] characters.
pub fn describe<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
{
    let text = match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            format!(
                "{}: {} (HTTP {})",
                e.code().unwrap_or("unknown error"),
                e.message().unwrap_or("no message"),
                service.raw().status().as_u16()
            )
        }
        other => DisplayErrorContext(other).to_string(),
    };
    bounded(text)
}

/// `text` cut to [`MAX_DESCRIPTION_CHARS`] characters (on a character boundary).
pub fn bounded(text: String) -> String {
    match text.char_indices().nth(MAX_DESCRIPTION_CHARS) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::{ConstructionFailure, TimeoutError};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    /// A stand-in for an SDK operation error: a modelled variant and an unmodelled one.
    #[derive(Debug)]
    enum OpError {
        Throttled(ErrorMetadata),
        Unhandled(ErrorMetadata),
    }

    impl std::fmt::Display for OpError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("operation error")
        }
    }

    impl Error for OpError {}

    impl ProvideErrorMetadata for OpError {
        fn meta(&self) -> &ErrorMetadata {
            match self {
                OpError::Throttled(m) | OpError::Unhandled(m) => m,
            }
        }
    }

    fn typed(e: &OpError) -> Option<ErrorClass> {
        match e {
            OpError::Throttled(_) => Some(ErrorClass::Transient),
            OpError::Unhandled(_) => None,
        }
    }

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty())
    }

    fn service(e: OpError, status: u16) -> SdkError<OpError, HttpResponse> {
        SdkError::service_error(e, response(status))
    }

    fn unmodelled(code: &str, message: &str) -> OpError {
        OpError::Unhandled(ErrorMetadata::builder().code(code).message(message).build())
    }

    #[test]
    fn typed_variants_decide_first() {
        // A modelled throttling error is transient whatever its status says.
        let throttled = OpError::Throttled(ErrorMetadata::builder().code("Throttling").build());
        assert_eq!(
            error_class(&service(throttled, 400), typed),
            ErrorClass::Transient
        );
    }

    #[test]
    fn unmodelled_errors_are_classified_by_status() {
        for (status, class) in [
            (403, ErrorClass::Permanent),
            (400, ErrorClass::Permanent),
            (401, ErrorClass::Permanent),
            (404, ErrorClass::Permanent),
            (409, ErrorClass::Permanent),
            (429, ErrorClass::Transient),
            (500, ErrorClass::Transient),
            (502, ErrorClass::Transient),
            (503, ErrorClass::Transient),
        ] {
            let err = service(unmodelled("SomethingNew", "x"), status);
            assert_eq!(error_class(&err, typed), class, "HTTP {status}");
            assert_eq!(classify(&err, typed), Classified::Status(status));
        }
    }

    #[test]
    fn message_text_never_decides() {
        // The words in the message must not matter, only type and status.
        let err = service(unmodelled("AccessDenied", "Rate exceeded, throttling"), 403);
        assert_eq!(error_class(&err, typed), ErrorClass::Permanent);
        let err = service(unmodelled("Whatever", "access denied"), 503);
        assert_eq!(error_class(&err, typed), ErrorClass::Transient);
    }

    #[test]
    fn transport_failures_are_transient_and_construction_failures_permanent() {
        let timeout: SdkError<OpError, HttpResponse> =
            SdkError::TimeoutError(TimeoutError::builder().source("slow").build());
        assert_eq!(classify(&timeout, typed), Classified::Transport);
        assert_eq!(error_class(&timeout, typed), ErrorClass::Transient);
        let unreadable: SdkError<OpError, HttpResponse> =
            SdkError::response_error("truncated body", response(200));
        assert_eq!(error_class(&unreadable, typed), ErrorClass::Transient);
        let construction: SdkError<OpError, HttpResponse> = SdkError::ConstructionFailure(
            ConstructionFailure::builder()
                .source("missing QueueUrl")
                .build(),
        );
        assert_eq!(classify(&construction, typed), Classified::Construction);
        assert_eq!(error_class(&construction, typed), ErrorClass::Permanent);
    }

    #[test]
    fn descriptions_name_code_message_and_status_and_are_bounded() {
        let err = service(unmodelled("AccessDenied", "not allowed"), 403);
        assert_eq!(describe(&err), "AccessDenied: not allowed (HTTP 403)");
        let bare = service(OpError::Unhandled(ErrorMetadata::builder().build()), 500);
        assert_eq!(describe(&bare), "unknown error: no message (HTTP 500)");
        let long = service(unmodelled("Big", &"é".repeat(2000)), 400);
        let text = describe(&long);
        assert_eq!(text.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(text.starts_with("Big: é"));
        let timeout: SdkError<OpError, HttpResponse> =
            SdkError::TimeoutError(TimeoutError::builder().source("slow").build());
        assert!(
            describe(&timeout).contains("slow"),
            "{}",
            describe(&timeout)
        );
    }

    #[test]
    fn settings_default_to_no_sdk_retry() {
        let settings = AwsSettings::default();
        assert_eq!(settings.max_attempts, 1);
        assert_eq!(settings.retry_config().max_attempts(), 1);
        let zero = AwsSettings {
            max_attempts: 0,
            ..AwsSettings::default()
        };
        assert_eq!(zero.retry_config().max_attempts(), 1, "never zero attempts");
        let timeouts = settings.timeout_config();
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(3))
        );
    }

    #[tokio::test]
    async fn loaded_config_carries_retry_and_timeouts() {
        let settings = AwsSettings {
            operation_timeout: Duration::from_secs(4),
            attempt_timeout: Duration::from_secs(1),
            ..AwsSettings::emulator("http://127.0.0.1:1")
        };
        let config = load(&settings).await;
        assert_eq!(config.retry_config().map(|r| r.max_attempts()), Some(1));
        let timeouts = config.timeout_config().unwrap();
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(4)));
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(1))
        );
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:1"));
    }
}
