//! Handler latency per delivery (1, 10 and 100 events) against the in-process queue,
//! including parsing, batching, the JSON log line (written to a sink) and the answer.
//!
//! ```text
//! cargo run --release -p okta-connect-ingest --example bench_handler [-- ITERATIONS]
//! ```
//!
//! Prints p50 / p99 / mean / max in microseconds. A program, not a test: figures
//! depend on the machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use okta_connect_aws::secrets::SecretValues;
use okta_connect_ingest::{HookSecret, Ingest, IngestRequest, Settings, handle};
use okta_connect_testkit::fixtures;
use okta_connect_testkit::memory::MemoryQueue;

const SECRET: &str = "bench-secret-value-0123456789abcdef";

fn delivery(events: usize) -> String {
    let mut whole: serde_json::Value = serde_json::from_str(fixtures::HUNDRED_EVENTS).unwrap();
    let all = whole["data"]["events"].as_array_mut().unwrap();
    all.truncate(events);
    // Keep Okta's formatting style (pretty-printed), as in the fixture.
    serde_json::to_string_pretty(&whole).unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    // A real JSON subscriber, writing to a sink: the log line's cost is included.
    tracing::subscriber::set_global_default(
        lambda_runtime::tracing::subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(std::io::sink)
            .finish(),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let secret = HookSecret::new(&SecretValues::new(SECRET, None).unwrap());

    println!(
        "handler latency against MemoryQueue, {iterations} iterations per size (after {} warm-up)",
        iterations / 10
    );
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "events", "body KiB", "p50 µs", "p99 µs", "mean µs", "max µs"
    );
    for events in [1_usize, 10, 100] {
        let body = delivery(events);
        let request = IngestRequest::new("POST")
            .header("authorization", SECRET)
            .header("content-type", "application/json")
            .body(body.clone());
        let mut samples = Vec::with_capacity(iterations);
        for i in 0..iterations + iterations / 10 {
            // A fresh queue each time (outside the timing), so memory stays flat.
            let ctx = Ingest::new(
                Settings::default(),
                secret.clone(),
                MemoryQueue::new(),
                MemoryQueue::new(),
            );
            let request = request.clone();
            let started = Instant::now();
            let response = runtime.block_on(handle(request, &ctx));
            let elapsed = started.elapsed();
            assert_eq!(response.status, 200);
            assert_eq!(ctx.queue.accepted().len(), events);
            if i >= iterations / 10 {
                samples.push(elapsed);
            }
        }
        samples.sort();
        let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "{:>7} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            events,
            body.len() as f64 / 1024.0,
            us(percentile(&samples, 0.50)),
            us(percentile(&samples, 0.99)),
            us(mean),
            us(*samples.last().unwrap()),
        );
    }
}
