//! What ingest counts for the stack's dashboard and alarms: one CloudWatch Embedded
//! Metric Format line on standard output per request with anything to count (events
//! received, a refusal). Okta's one-time verification `GET` writes none.
//!
//! Namespace `OktaConnect`, dimension `Stack` (from `OKTA_CONNECT_STACK_NAME`, which the
//! stack sets); each line carries every count, zeros included:
//!
//! | metric | counts |
//! |---|---|
//! | `IngestReceived` | events in deliveries whose secret was accepted (usable or not) |
//! | `IngestQueued` | events queued for the worker |
//! | `IngestUnauthorized` | requests answered 401 (secret missing, repeated or wrong) |
//! | `IngestRejected` | other requests refused with a 4xx: too large, not JSON, nothing usable, a method other than GET/POST |
//! | `IngestDeadLettered` | events sent to the dead-letter queue (unusable, or too large even trimmed) |
//! | `IngestTrimmed` | events queued trimmed to the fields the worker reads |

use okta_connect_aws::emf::{Metrics, Sink};
use okta_connect_core::time::UnixMillis;

pub const RECEIVED: &str = "IngestReceived";
pub const QUEUED: &str = "IngestQueued";
pub const UNAUTHORIZED: &str = "IngestUnauthorized";
pub const REJECTED: &str = "IngestRejected";
pub const DEAD_LETTERED: &str = "IngestDeadLettered";
pub const TRIMMED: &str = "IngestTrimmed";

/// What one request counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub received: usize,
    pub queued: usize,
    pub unauthorized: usize,
    pub rejected: usize,
    pub dead_lettered: usize,
    pub trimmed: usize,
}

impl Counts {
    fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

/// Where metric lines go, and the stack they are about.
#[derive(Clone, Debug)]
pub struct MetricsSink(Sink);

impl MetricsSink {
    /// Lines to standard output (see [`Sink::stdout`]).
    pub fn stdout(stack: impl Into<String>) -> Self {
        Self(Sink::stdout(stack))
    }

    pub fn new(stack: impl Into<String>, write: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self(Sink::new(stack, write))
    }

    /// The line for `counts`, or `None` when there is nothing to count.
    pub fn line(&self, counts: Counts, now: UnixMillis) -> Option<String> {
        if counts.is_zero() {
            return None;
        }
        Some(
            Metrics::new(self.0.stack(), now.0)
                .count(RECEIVED, counts.received)
                .count(QUEUED, counts.queued)
                .count(UNAUTHORIZED, counts.unauthorized)
                .count(REJECTED, counts.rejected)
                .count(DEAD_LETTERED, counts.dead_lettered)
                .count(TRIMMED, counts.trimmed)
                .to_line(),
        )
    }

    /// Writes the line for `counts`, if any.
    pub fn record(&self, counts: Counts) {
        if let Some(line) = self.line(counts, UnixMillis::now()) {
            self.0.write(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn one_line_with_every_count_or_none() {
        let sink = MetricsSink::new("OktaConnect-prod", |_| {});
        assert_eq!(sink.line(Counts::default(), UnixMillis(1)), None);
        let line = sink
            .line(
                Counts {
                    unauthorized: 1,
                    ..Counts::default()
                },
                UnixMillis(1_790_000_000_000),
            )
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["Stack"], "OktaConnect-prod");
        assert_eq!(v[UNAUTHORIZED], 1.0);
        for zero in [RECEIVED, QUEUED, REJECTED, DEAD_LETTERED, TRIMMED] {
            assert_eq!(v[zero], 0.0, "{zero}");
        }
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "OktaConnect");
        assert_eq!(directive["Dimensions"], serde_json::json!([["Stack"]]));
        assert_eq!(directive["Metrics"].as_array().unwrap().len(), 6);
        assert_eq!(v["_aws"]["Timestamp"], 1_790_000_000_000_i64);
    }
}
