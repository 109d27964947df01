//! `dev`'s HTTP front behaves like the deployed endpoint: deliveries only on the hook
//! path (404 in JSON elsewhere), the secret checked before the size and before the body
//! is read, a body that never arrives answered 408 instead of holding the connection,
//! every answer JSON, and unusable events in the local dead-letter queue. Driven through
//! the real server on a free loopback port, with a raw TCP client where a well-behaved
//! HTTP client cannot misbehave enough.

use std::net::SocketAddr;
use std::time::Duration;

use okta_connect::pipeline::{self, Pipeline};
use okta_connect_core::queue::{DeadLetterReason, attribute};
use okta_connect_testkit::fixtures;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "dev-http-test-secret";

async fn start(state: &std::path::Path) -> Pipeline {
    crate::start_pipeline(state, fixtures::CONFIG_INI, SECRET).await
}

fn addr_of(pipeline: &Pipeline) -> SocketAddr {
    let rest = pipeline.ingest_url.strip_prefix("http://").unwrap();
    rest.split('/').next().unwrap().parse().unwrap()
}

/// An answer read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Writes `head` (request line and headers, no body unless the caller adds one) and
/// reads one response: status line, headers, and `Content-Length` bytes of body. The
/// 30 s bound only turns a hang into a failure; nothing here measures time.
async fn exchange(addr: SocketAddr, head: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let read = async {
        let mut buffer = Vec::new();
        let mut chunk = [0_u8; 4096];
        loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let text = String::from_utf8_lossy(&buffer[..end]).to_string();
                let mut lines = text.split("\r\n");
                let status: u16 = lines
                    .next()
                    .unwrap()
                    .split(' ')
                    .nth(1)
                    .unwrap()
                    .parse()
                    .unwrap();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                    .collect();
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap_or(0);
                if buffer.len() >= end + 4 + length {
                    let body = &buffer[end + 4..end + 4 + length];
                    let body = serde_json::from_slice(body).unwrap_or_else(|_| {
                        panic!("body is not JSON: {:?}", String::from_utf8_lossy(body))
                    });
                    return Answer {
                        status,
                        headers,
                        body,
                    };
                }
            }
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed before a whole answer: {buffer:?}");
            buffer.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("no answer at all")
}

fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_answers_like_the_deployed_endpoint() {
    let state = tempfile::tempdir().unwrap();
    let pipeline = start(state.path()).await;
    let addr = addr_of(&pipeline);
    let auth = ("Authorization", SECRET);

    // Only the hook path, only GET and POST: elsewhere 404 in JSON, secret or not.
    for (method, path) in [
        ("POST", "/"),
        ("GET", "/"),
        ("POST", "/okta"),
        ("POST", "/okta/events/"),
        ("POST", "/okta/events/x"),
        ("GET", "/health"),
        ("PUT", pipeline::HOOK_PATH),
        ("DELETE", pipeline::HOOK_PATH),
    ] {
        for headers in [
            vec![auth, ("Content-Length", "0")],
            vec![("Content-Length", "0")],
        ] {
            let answer = exchange(addr, &request(method, path, &headers)).await;
            assert_eq!(answer.status, 404, "{method} {path}");
            assert_eq!(
                answer.body,
                json!({"error": "not found"}),
                "{method} {path}"
            );
            assert_eq!(answer.header("content-type"), Some("application/json"));
        }
    }
    let verified = exchange(
        addr,
        &request(
            "GET",
            "/okta/events?x=1",
            &[auth, ("x-okta-verification-challenge", "echo-me")],
        ),
    )
    .await;
    assert_eq!(verified.status, 200);
    assert_eq!(verified.body, json!({"verification": "echo-me"}));

    // The secret before the size, and before any body: 401 at once, nothing read.
    let huge = "100000000";
    let unauthenticated = exchange(
        addr,
        &request(
            "POST",
            pipeline::HOOK_PATH,
            &[
                ("Content-Length", huge),
                ("Content-Type", "application/json"),
            ],
        ),
    )
    .await;
    assert_eq!(unauthenticated.status, 401);
    assert_eq!(
        unauthenticated.body,
        json!({"error": "missing or wrong secret"})
    );
    let wrong = exchange(
        addr,
        &request(
            "POST",
            pipeline::HOOK_PATH,
            &[("Authorization", "wrong"), ("Content-Length", "1000")],
        ),
    )
    .await;
    assert_eq!(wrong.status, 401, "no wait for a body it will never read");
    // With the secret, a declared size over the limit is refused before the body.
    let too_large = exchange(
        addr,
        &request(
            "POST",
            pipeline::HOOK_PATH,
            &[auth, ("Content-Length", huge)],
        ),
    )
    .await;
    assert_eq!(too_large.status, 413);
    assert!(too_large.body["error"].is_string());
    assert_eq!(too_large.header("connection"), Some("close"));

    // Headers, then no body: answered 408, not held.
    let stalled = exchange(
        addr,
        &request(
            "POST",
            pipeline::HOOK_PATH,
            &[
                auth,
                ("Content-Type", "application/json"),
                ("Content-Length", "1000"),
            ],
        ),
    )
    .await;
    assert_eq!(stalled.status, 408);
    assert_eq!(
        stalled.body,
        json!({"error": "request body not received in time"})
    );
    assert_eq!(stalled.header("connection"), Some("close"));
    // Half a body, then silence: the same.
    let half = format!(
        "{}{}",
        request(
            "POST",
            pipeline::HOOK_PATH,
            &[auth, ("Content-Length", "1000")]
        ),
        &fixtures::GROUP_MEMBERSHIP_ADD[..100]
    );
    assert_eq!(exchange(addr, &half).await.status, 408);

    // The endpoint still serves deliveries, larger than the old 1 MiB limit too.
    let client = reqwest::Client::new();
    let mut events = events(fixtures::HUNDRED_EVENTS);
    events.truncate(30);
    for event in &mut events {
        event["debugContext"]["debugData"]["trace"] = "t".repeat(100 * 1024).into();
        // Events the worker records as not relevant: no Connect calls for shutdown to
        // wait for (the worker paces those at Connect's 2/s).
        event["eventType"] = "user.session.start".into();
    }
    let big = delivery(&events);
    assert!(big.len() > 2 * 1024 * 1024);
    let response = client
        .post(&pipeline.ingest_url)
        .header("authorization", SECRET)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"queued": 30, "deadLettered": 0})
    );

    pipeline.shutdown().await.unwrap();
}

fn events(delivery: &str) -> Vec<Value> {
    let whole: Value = serde_json::from_str(delivery).unwrap();
    whole["data"]["events"].as_array().unwrap().clone()
}

fn delivery(events: &[Value]) -> String {
    json!({
        "eventType": "com.okta.event_hook",
        "eventId": "delivery-dev-http",
        "data": { "events": events }
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_events_go_to_the_local_dead_letter_queue_and_the_rest_is_processed() {
    let state = tempfile::tempdir().unwrap();
    let pipeline = start(state.path()).await;
    let good = events(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    let bad =
        json!({"uuid": "bad-one", "eventType": "group.user_membership.add", "published": "soon"});
    let response = reqwest::Client::new()
        .post(&pipeline.ingest_url)
        .header("authorization", SECRET)
        .body(delivery(&[bad.clone(), good]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"queued": 1, "deadLettered": 1})
    );
    assert!(pipeline.drain(Duration::from_secs(60)).await.unwrap());

    let dead = pipeline.dead_letter_messages().await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].body, bad.to_string());
    assert_eq!(dead[0].attributes[attribute::UUID], "bad-one");
    let reason = DeadLetterReason::read(&dead[0].attributes).unwrap();
    assert!(reason.reason.contains("RFC 3339"), "{}", reason.reason);
    assert_eq!(dead[0].attributes[attribute::FAILURE_CLASS], "permanent");

    // A delivery with nothing usable: 400 in JSON, its event kept all the same.
    let response = reqwest::Client::new()
        .post(&pipeline.ingest_url)
        .header("authorization", SECRET)
        .body(delivery(&[json!(7)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    assert_eq!(pipeline.dead_letter_messages().await.unwrap().len(), 2);

    pipeline.shutdown().await.unwrap();
}
