//! The event queue's age of oldest message, read from Amazon CloudWatch with one
//! `GetMetricData`: SQS's `GetQueueAttributes` has no such attribute, the age exists only
//! as the metric `AWS/SQS` `ApproximateAgeOfOldestMessage` (dimension `QueueName`), which
//! SQS publishes once a minute for active queues.
//!
//! The read asks for the statistic `Maximum` over 60-second periods in the last
//! [`WINDOW`] and keeps the newest datapoint; none in the window is `Ok(None)` (an
//! inactive queue, or SQS not yet publishing for a new one).
//!
//! Every call has the client's operation and attempt timeouts ([`sdk::load`] sets
//! them; a configuration without an operation timeout gets [`sdk::AwsSettings`]'s default
//! ones here), so a status never hangs on CloudWatch.
//!
//! # How errors are classified
//!
//! `GetMetricData` models one error, `InvalidNextToken`: [`MetricsError::Failed`] (this
//! adapter never sends a token, so it is a bug, not a condition to wait out). Every
//! other answer is unmodelled (`PutMetricData`'s modelled errors are all invalid input,
//! left to their HTTP 400), and CloudWatch answers throttling with HTTP 400, so as in
//! the CloudFormation adapter the error *code* is matched next, then the HTTP status;
//! the message text never decides:
//!
//! - `AccessDenied` / `AccessDeniedException`, and any answer with HTTP 401 or 403
//!   (expired or invalid credentials), is [`MetricsError::Denied`]: the caller lacks
//!   `cloudwatch:GetMetricData` (or fresh credentials).
//! - `Throttling` / `ThrottlingException` / `RequestLimitExceeded`, HTTP 429 and 5xx,
//!   and no usable answer at all (timeout, connection failure, unreadable response) are
//!   [`MetricsError::Unavailable`]: transient.
//! - Anything else is [`MetricsError::Failed`]: permanent.
//!
//! A successful answer can still carry a failed query: its status code `Forbidden` is
//! [`MetricsError::Denied`], `InternalError` [`MetricsError::Unavailable`].

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataError;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy, StatusCode,
};
use aws_smithy_types::DateTime;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use okta_connect_core::ports::ErrorClass;
use okta_connect_core::time::UnixMillis;

use crate::sdk::{self, Classified, HttpResponse, RequestCounter, SdkError};

/// The namespace SQS publishes its queue metrics in.
pub const NAMESPACE: &str = "AWS/SQS";
/// The metric: seconds since the oldest message still in the queue was sent.
pub const METRIC: &str = "ApproximateAgeOfOldestMessage";
/// The metric's one dimension.
pub const DIMENSION: &str = "QueueName";
/// SQS publishes every minute; a finer period would only repeat datapoints.
pub const PERIOD_SECONDS: i32 = 60;
/// How far back a datapoint is looked for: long enough to ride over CloudWatch's few
/// minutes of delivery lag, short enough that an answer still describes the queue now.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// The operation that reads the age (IAM action `cloudwatch:GetMetricData`).
pub const READ: &str = "GetMetricData";

/// The id of the one query in a request (any id unique within it would do).
const QUERY_ID: &str = "age";

/// The queue's age of oldest message as CloudWatch last recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueAge {
    /// The largest age SQS reported in the datapoint's minute.
    pub age: Duration,
    /// The start of the datapoint's minute (CloudWatch stamps a period by its start).
    pub at: UnixMillis,
}

impl QueueAge {
    /// When the oldest message was sent, as far as this datapoint tells.
    pub fn sent_at(&self) -> UnixMillis {
        self.at.minus(self.age)
    }
}

/// Why the age could not be read (or recorded). Every variant names the CloudWatch
/// operation, the queue and the region.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    #[error(
        "not allowed to call CloudWatch {operation} for metric {NAMESPACE} {METRIC} of queue \
         {queue} in region {region} (needs cloudwatch:{operation}): {detail}"
    )]
    Denied {
        operation: &'static str,
        queue: String,
        region: String,
        detail: String,
    },
    /// Throttled, a server error, or no answer: may succeed if repeated.
    #[error(
        "CloudWatch {operation} is unavailable for metric {NAMESPACE} {METRIC} of queue {queue} \
         in region {region} (try again): {detail}"
    )]
    Unavailable {
        operation: &'static str,
        queue: String,
        region: String,
        detail: String,
    },
    #[error(
        "CloudWatch {operation} failed for metric {NAMESPACE} {METRIC} of queue {queue} in \
         region {region}: {detail}"
    )]
    Failed {
        operation: &'static str,
        queue: String,
        region: String,
        detail: String,
    },
}

impl MetricsError {
    /// Transient for [`Unavailable`](Self::Unavailable) only.
    pub fn class(&self) -> ErrorClass {
        match self {
            MetricsError::Unavailable { .. } => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }

    /// The CloudWatch operation that failed ([`READ`]).
    pub fn operation(&self) -> &'static str {
        match self {
            MetricsError::Denied { operation, .. }
            | MetricsError::Unavailable { operation, .. }
            | MetricsError::Failed { operation, .. } => operation,
        }
    }
}

/// Reads SQS queue metrics through one CloudWatch client.
#[derive(Debug, Clone)]
pub struct QueueMetrics {
    client: Client,
    requests: RequestCounter,
}

impl QueueMetrics {
    /// A reader with a client built from `config` (see [`sdk::load`]).
    pub fn from_config(config: &SdkConfig) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::cloudwatch_client(config, &requests),
            requests,
        }
    }

    /// The CloudWatch client (tests use it to put datapoints).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// CloudWatch requests sent so far by this reader and its clones.
    pub fn requests(&self) -> u64 {
        self.requests.get()
    }

    /// The region requests go to, for messages (`"(no region)"` when none is set).
    pub fn region(&self) -> String {
        sdk::region_name(self.client.config().region())
    }

    /// The newest datapoint of queue `queue_name`'s `ApproximateAgeOfOldestMessage` in
    /// the [`WINDOW`] before `now`, with one `GetMetricData`; `None` when there is none.
    pub async fn oldest_message_age(
        &self,
        queue_name: &str,
        now: UnixMillis,
    ) -> Result<Option<QueueAge>, MetricsError> {
        let region = self.region();
        let (start, end) = window(now);
        let query = MetricDataQuery::builder()
            .id(QUERY_ID)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(NAMESPACE)
                            .metric_name(METRIC)
                            .dimensions(
                                Dimension::builder()
                                    .name(DIMENSION)
                                    .value(queue_name)
                                    .build(),
                            )
                            .build(),
                    )
                    .period(PERIOD_SECONDS)
                    .stat("Maximum")
                    .build(),
            )
            .return_data(true)
            .build();
        let output = self
            .client
            .get_metric_data()
            .metric_data_queries(query)
            .start_time(DateTime::from_millis(start.0))
            .end_time(DateTime::from_millis(end.0))
            // Newest first: the one datapoint wanted is on the first page whatever the
            // window holds, so no further page is read.
            .scan_by(ScanBy::TimestampDescending)
            .send()
            .await
            .map_err(|err| metrics_error(READ, queue_name, &region, &err, modelled))?;
        let Some(result) = output
            .metric_data_results()
            .iter()
            .find(|r| r.id() == Some(QUERY_ID))
        else {
            return Ok(None);
        };
        check_result(result).map_err(|(denied, detail)| {
            let queue = queue_name.to_string();
            let region = region.clone();
            if denied {
                MetricsError::Denied {
                    operation: READ,
                    queue,
                    region,
                    detail,
                }
            } else {
                MetricsError::Unavailable {
                    operation: READ,
                    queue,
                    region,
                    detail,
                }
            }
        })?;
        Ok(newest(result.timestamps(), result.values()))
    }
}

/// The request's time range for `now`: [`WINDOW`] ending at the end of `now`'s minute,
/// on whole minutes (CloudWatch answers aligned ranges fastest, and stamps each period
/// by its start only when the range starts on a period boundary).
pub fn window(now: UnixMillis) -> (UnixMillis, UnixMillis) {
    let period = i64::from(PERIOD_SECONDS) * 1000;
    let end = UnixMillis(
        now.0
            .div_euclid(period)
            .saturating_add(1)
            .saturating_mul(period),
    );
    (end.minus(WINDOW), end)
}

/// A query result's failure: `Err((true, detail))` when it was refused, `Err((false,
/// detail))` when CloudWatch failed to compute it; `Ok` for `Complete` and `PartialData`
/// (the newest datapoints come first, so a partial answer still has the one wanted).
fn check_result(result: &MetricDataResult) -> Result<(), (bool, String)> {
    let detail = || {
        let messages: Vec<String> = result
            .messages()
            .iter()
            .map(|m| {
                format!(
                    "{}: {}",
                    m.code().unwrap_or("no code"),
                    m.value().unwrap_or("no message")
                )
            })
            .collect();
        let status = result.status_code().map_or("unknown", StatusCode::as_str);
        sdk::bounded(if messages.is_empty() {
            format!("query status {status}")
        } else {
            format!("query status {status}: {}", messages.join("; "))
        })
    };
    match result.status_code() {
        Some(StatusCode::Forbidden) => Err((true, detail())),
        Some(StatusCode::InternalError) => Err((false, detail())),
        _ => Ok(()),
    }
}

/// The newest datapoint of parallel `timestamps` and `values` (CloudWatch's order is not
/// relied on); datapoints whose value is no age (negative, not finite) are skipped.
pub fn newest(timestamps: &[DateTime], values: &[f64]) -> Option<QueueAge> {
    timestamps
        .iter()
        .zip(values)
        .filter_map(|(at, value)| {
            let age = Duration::try_from_secs_f64(*value).ok()?;
            Some(QueueAge {
                age,
                at: UnixMillis(at.to_millis().ok()?),
            })
        })
        .max_by_key(|q| q.at)
}

/// The queue name in an SQS queue URL: its last path segment
/// (`https://sqs.eu-west-1.amazonaws.com/123456789012/okta-events` → `okta-events`).
/// `None` when the URL has no path or the segment is not a queue name (1–80 letters,
/// digits, hyphens and underscores, with an optional `.fifo`).
pub fn queue_name_of(queue_url: &str) -> Option<&str> {
    let rest = queue_url
        .split_once("://")
        .map_or(queue_url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    // The host comes first: a URL that is only a host names no queue.
    let (_, path) = rest.split_once('/')?;
    let name = path.trim_end_matches('/').rsplit('/').next()?;
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    let valid = !stem.is_empty()
        && name.len() <= 80
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then_some(name)
}

/// What an error of a CloudWatch call means: the operation's modelled variant first,
/// then the code of an unmodelled one (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    Denied,
    Throttled,
    Failed,
}

/// The modelled variants of `GetMetricData`'s error.
fn modelled(err: &GetMetricDataError) -> Option<Code> {
    match err {
        GetMetricDataError::InvalidNextToken(_) => Some(Code::Failed),
        _ => None,
    }
}

/// The code of an error no variant decided.
fn code_of(err: &impl ProvideErrorMetadata) -> Option<Code> {
    match err.code()? {
        "AccessDenied" | "AccessDeniedException" => Some(Code::Denied),
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => Some(Code::Throttled),
        _ => None,
    }
}

/// The adapter's error for a failed CloudWatch `operation` for `queue` in `region`;
/// `typed` matches the operation's modelled variants.
fn metrics_error<E>(
    operation: &'static str,
    queue: &str,
    region: &str,
    err: &SdkError<E, HttpResponse>,
    typed: impl FnOnce(&E) -> Option<Code>,
) -> MetricsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let queue = queue.to_string();
    let region = region.to_string();
    let detail = sdk::describe(err);
    match sdk::classify(err, |e| typed(e).or_else(|| code_of(e))) {
        Classified::Typed(Code::Denied) | Classified::Status(401 | 403) => MetricsError::Denied {
            operation,
            queue,
            region,
            detail,
        },
        Classified::Typed(Code::Throttled) | Classified::Transport => MetricsError::Unavailable {
            operation,
            queue,
            region,
            detail,
        },
        Classified::Status(status) if sdk::status_class(status) == ErrorClass::Transient => {
            MetricsError::Unavailable {
                operation,
                queue,
                region,
                detail,
            }
        }
        Classified::Typed(Code::Failed) | Classified::Status(_) | Classified::Construction => {
            MetricsError::Failed {
                operation,
                queue,
                region,
                detail,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::AwsSettings;
    use aws_sdk_cloudwatch::error::ErrorMetadata;
    use aws_sdk_cloudwatch::types::MessageData;
    use aws_sdk_cloudwatch::types::error::InvalidNextToken;
    use aws_smithy_runtime_api::client::result::{ConstructionFailure, TimeoutError};
    use aws_smithy_runtime_api::http::StatusCode as HttpStatus;
    use aws_smithy_types::body::SdkBody;

    fn answer(code: &str, status: u16) -> SdkError<GetMetricDataError, HttpResponse> {
        let err =
            GetMetricDataError::generic(ErrorMetadata::builder().code(code).message("m").build());
        with_status(err, status)
    }

    fn with_status(
        err: GetMetricDataError,
        status: u16,
    ) -> SdkError<GetMetricDataError, HttpResponse> {
        SdkError::service_error(
            err,
            HttpResponse::new(HttpStatus::try_from(status).unwrap(), SdkBody::empty()),
        )
    }

    fn kind(err: &MetricsError) -> &'static str {
        match err {
            MetricsError::Denied { .. } => "denied",
            MetricsError::Unavailable { .. } => "unavailable",
            MetricsError::Failed { .. } => "failed",
        }
    }

    #[test]
    fn answers_are_classified_by_variant_then_code_then_status() {
        for (code, status, expected) in [
            ("AccessDenied", 403, "denied"),
            ("AccessDeniedException", 400, "denied"),
            ("ExpiredToken", 403, "denied"),
            ("InvalidClientTokenId", 403, "denied"),
            ("SomethingNew", 401, "denied"),
            ("Throttling", 400, "unavailable"),
            ("ThrottlingException", 400, "unavailable"),
            ("InternalServiceError", 500, "unavailable"),
            ("ServiceUnavailable", 503, "unavailable"),
            ("SomethingNew", 429, "unavailable"),
            ("InvalidParameterValue", 400, "failed"),
            ("SomethingNew", 400, "failed"),
        ] {
            let err = metrics_error(READ, "q", "eu-west-1", &answer(code, status), modelled);
            assert_eq!(kind(&err), expected, "{code} {status}");
            assert_eq!(
                err.class() == ErrorClass::Transient,
                expected == "unavailable",
                "{code}"
            );
        }
        // The modelled variant decides whatever the status says.
        let token = GetMetricDataError::InvalidNextToken(
            InvalidNextToken::builder().message("bad token").build(),
        );
        assert_eq!(
            kind(&metrics_error(
                READ,
                "q",
                "r",
                &with_status(token, 503),
                modelled
            )),
            "failed"
        );
    }

    #[test]
    fn no_answer_is_transient_and_an_unbuildable_request_permanent() {
        let timeout: SdkError<GetMetricDataError, HttpResponse> =
            SdkError::TimeoutError(TimeoutError::builder().source("slow").build());
        assert_eq!(
            kind(&metrics_error(READ, "q", "r", &timeout, modelled)),
            "unavailable"
        );
        let unbuilt: SdkError<GetMetricDataError, HttpResponse> = SdkError::ConstructionFailure(
            ConstructionFailure::builder().source("no region").build(),
        );
        assert_eq!(
            kind(&metrics_error(READ, "q", "r", &unbuilt, modelled)),
            "failed"
        );
    }

    #[test]
    fn errors_name_the_queue_the_region_the_action_and_the_answer() {
        let text = metrics_error(
            READ,
            "okta-events",
            "eu-west-1",
            &answer("AccessDenied", 403),
            modelled,
        )
        .to_string();
        for words in [
            "okta-events",
            "eu-west-1",
            "needs cloudwatch:GetMetricData",
            "AccessDenied: m (HTTP 403)",
        ] {
            assert!(text.contains(words), "{words} missing in {text}");
        }
    }

    #[test]
    fn a_refused_or_failed_query_inside_an_answer_is_an_error() {
        let result = |status: StatusCode| {
            MetricDataResult::builder()
                .id(QUERY_ID)
                .status_code(status)
                .messages(
                    MessageData::builder()
                        .code("Forbidden")
                        .value("no access")
                        .build(),
                )
                .build()
        };
        let (denied, detail) = check_result(&result(StatusCode::Forbidden)).unwrap_err();
        assert!(denied);
        assert_eq!(detail, "query status Forbidden: Forbidden: no access");
        assert!(
            !check_result(&result(StatusCode::InternalError))
                .unwrap_err()
                .0
        );
        assert_eq!(check_result(&result(StatusCode::Complete)), Ok(()));
        assert_eq!(check_result(&result(StatusCode::PartialData)), Ok(()));
    }

    #[test]
    fn the_newest_datapoint_wins_in_any_order() {
        let at = |secs: i64| DateTime::from_secs(secs);
        assert_eq!(newest(&[], &[]), None);
        let got = newest(&[at(60), at(180), at(120)], &[5.0, 30.5, 20.0]).unwrap();
        assert_eq!(
            got,
            QueueAge {
                age: Duration::from_millis(30_500),
                at: UnixMillis(180_000),
            }
        );
        assert_eq!(got.sent_at(), UnixMillis(149_500));
        // A value that is no age is skipped, not taken as the newest.
        let got = newest(&[at(60), at(120)], &[7.0, f64::NAN]).unwrap();
        assert_eq!(got.at, UnixMillis(60_000));
        assert_eq!(newest(&[at(60)], &[-1.0]), None);
    }

    #[test]
    fn the_window_is_fifteen_whole_minutes_ending_after_now() {
        // 10:07:30 → 09:53:00 .. 10:08:00.
        let now = UnixMillis(36_450_000);
        assert_eq!(
            window(now),
            (UnixMillis(35_580_000), UnixMillis(36_480_000))
        );
        // On a minute boundary the minute just begun is included.
        assert_eq!(window(UnixMillis(36_420_000)).1, UnixMillis(36_480_000));
    }

    #[test]
    fn the_queue_name_is_the_url_s_last_path_segment() {
        for (url, name) in [
            (
                "https://sqs.eu-west-1.amazonaws.com/123456789012/okta-events",
                Some("okta-events"),
            ),
            (
                "https://sqs.eu-west-1.amazonaws.com/123456789012/OktaConnect-Queue_1/",
                Some("OktaConnect-Queue_1"),
            ),
            (
                "https://sqs.us-east-1.amazonaws.com/123456789012/events.fifo",
                Some("events.fifo"),
            ),
            (
                "http://127.0.0.1:5000/123456789012/operate",
                Some("operate"),
            ),
            ("https://sqs.eu-west-1.amazonaws.com/1/q?x=1", Some("q")),
            ("https://sqs.eu-west-1.amazonaws.com", None),
            ("https://sqs.eu-west-1.amazonaws.com/", None),
            ("https://sqs.eu-west-1.amazonaws.com/1/bad.name", None),
            ("https://sqs.eu-west-1.amazonaws.com/1/.fifo", None),
            ("", None),
        ] {
            assert_eq!(queue_name_of(url), name, "{url}");
        }
        let long = format!("https://sqs/1/{}", "a".repeat(81));
        assert_eq!(queue_name_of(&long), None);
    }

    #[tokio::test]
    async fn every_reader_has_an_operation_timeout() {
        use aws_config::{BehaviorVersion, Region};

        let timeout = |reader: &QueueMetrics| {
            reader
                .client()
                .config()
                .timeout_config()
                .and_then(|t| t.operation_timeout())
        };
        let bare = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .build();
        let reader = QueueMetrics::from_config(&bare);
        assert_eq!(
            timeout(&reader),
            Some(AwsSettings::default().operation_timeout)
        );
        assert_eq!(reader.region(), "eu-west-1");
        let loaded = sdk::load(&AwsSettings {
            operation_timeout: Duration::from_secs(42),
            ..AwsSettings::emulator("http://127.0.0.1:1")
        })
        .await;
        assert_eq!(
            timeout(&QueueMetrics::from_config(&loaded)),
            Some(Duration::from_secs(42))
        );
    }
}
