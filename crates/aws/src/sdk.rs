//! Building SDK configuration once per process: region, timeouts on every call, and an
//! optional endpoint override that points every client at an emulator (moto,
//! connect-sim) in tests and local runs.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;
use aws_sdk_sqs::error::SdkError;

/// Where and how to reach AWS.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// `None`: the SDK's region chain (`AWS_REGION`, profile, IMDS).
    pub region: Option<String>,
    /// An emulator's URL; `None` for real AWS.
    pub endpoint_url: Option<String>,
    /// Whole-operation limit, retries included.
    pub operation_timeout: Duration,
    /// Limit for one attempt.
    pub attempt_timeout: Duration,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region: None,
            endpoint_url: None,
            operation_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(3),
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
}

/// Loads the SDK configuration. With an endpoint override, static test credentials are
/// used so no credential chain is consulted (emulators do not check signatures).
pub async fn load(settings: &AwsSettings) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .operation_timeout(settings.operation_timeout)
        .operation_attempt_timeout(settings.attempt_timeout)
        .connect_timeout(Duration::from_secs(2))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts);
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

/// Whether an SDK error happened before any service answer: timeout, connection
/// failure, unreadable response. Those are always transient.
pub fn is_transport_failure<E, R>(err: &SdkError<E, R>) -> bool {
    matches!(
        err,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    )
}

/// HTTP status of a service error, when there is one.
pub fn http_status<E>(err: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> Option<u16> {
    match err {
        SdkError::ServiceError(e) => Some(e.raw().status().as_u16()),
        _ => None,
    }
}
