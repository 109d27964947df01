//! CloudWatch Embedded Metric Format: metrics written as one JSON log line, which
//! CloudWatch Logs turns into metrics (no API call, no extra permission). Lambda sends
//! a function's standard output to its log group; a line holding one EMF object is
//! extracted whatever the function's log format.
//!
//! Specification: "Specification: Embedded metric format" (CloudWatch user guide): a
//! root `_aws` member with `Timestamp` (epoch ms) and `CloudWatchMetrics` (namespace,
//! dimension sets, metric definitions); each dimension and metric is a root member of
//! the same name.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value, json};

/// The namespace every okta-connect metric is in (the stack's alarms read it).
pub const NAMESPACE: &str = "OktaConnect";
/// The dimension naming the stack, so two stacks in one account keep their own series.
pub const STACK_DIMENSION: &str = "Stack";

/// Where a Lambda's EMF lines go, and the stack (the [`STACK_DIMENSION`]) they are about.
#[derive(Clone)]
pub struct Sink {
    stack: String,
    write: Arc<dyn Fn(&str) + Send + Sync>,
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink")
            .field("stack", &self.stack)
            .finish_non_exhaustive()
    }
}

impl Sink {
    /// Lines to standard output, where Lambda's log capture finds them whatever the
    /// function's log format.
    pub fn stdout(stack: impl Into<String>) -> Self {
        Self::new(stack, |line| println!("{line}"))
    }

    /// Lines to `write` (tests collect them).
    pub fn new(stack: impl Into<String>, write: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self {
            stack: stack.into(),
            write: Arc::new(write),
        }
    }

    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// Writes one line.
    pub fn write(&self, line: &str) {
        (self.write)(line);
    }
}

/// One EMF line's worth of counts, dated and dimensioned by stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub stack: String,
    pub timestamp_ms: i64,
    counts: Vec<(&'static str, f64)>,
    /// Extra root members: searchable in Logs Insights, not metrics.
    properties: Map<String, Value>,
}

impl Metrics {
    pub fn new(stack: impl Into<String>, timestamp_ms: i64) -> Self {
        Self {
            stack: stack.into(),
            timestamp_ms,
            counts: Vec::new(),
            properties: Map::new(),
        }
    }

    /// Adds a metric of unit `Count`. A name added twice keeps the last value.
    pub fn count(mut self, name: &'static str, value: usize) -> Self {
        self.counts.retain(|(n, _)| *n != name);
        // Counts far beyond 2^53 do not occur here; f64 is EMF's number.
        self.counts.push((name, value as f64));
        self
    }

    /// Adds a property (not a metric) to the line, e.g. the run id.
    pub fn property(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.properties.insert(name.to_string(), value.into());
        self
    }

    /// The EMF object, as one line of JSON.
    pub fn to_line(&self) -> String {
        let mut root = self.properties.clone();
        for (name, value) in &self.counts {
            root.insert((*name).to_string(), json!(value));
        }
        root.insert(STACK_DIMENSION.to_string(), json!(self.stack));
        let definitions: Vec<Value> = self
            .counts
            .iter()
            .map(|(name, _)| json!({"Name": name, "Unit": "Count"}))
            .collect();
        root.insert(
            "_aws".to_string(),
            json!({
                "Timestamp": self.timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[STACK_DIMENSION]],
                    "Metrics": definitions,
                }],
            }),
        );
        Value::Object(root).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_follows_the_specification() {
        let line = Metrics::new("OktaConnect-prod", 1_790_000_000_123)
            .count("ReconcileQueued", 3)
            .count("ReconcileConflicts", 0)
            .count("ReconcileQueued", 4)
            .property("runId", "r1")
            .to_line();
        assert!(!line.contains('\n'), "one line: {line}");
        let v: Value = serde_json::from_str(&line).unwrap();
        let aws = &v["_aws"];
        assert_eq!(aws["Timestamp"], 1_790_000_000_123_i64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Stack"]]));
        let names: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ReconcileConflicts", "ReconcileQueued"]);
        // Every dimension and metric is a root member (the spec's "target members").
        assert_eq!(v["Stack"], "OktaConnect-prod");
        assert_eq!(v["ReconcileQueued"], 4.0);
        assert_eq!(v["ReconcileConflicts"], 0.0);
        assert_eq!(v["runId"], "r1");
        assert!(
            directive["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["Unit"] == "Count")
        );
    }
}
