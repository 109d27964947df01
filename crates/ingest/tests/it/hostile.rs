//! A table of hostile and odd requests: each gets the expected status, nothing is
//! queued unless the request holds a usable event, and nothing is dead-lettered but the
//! unusable events of an authenticated delivery. No input may panic.

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use okta_connect_ingest::{IngestRequest, handle};
use okta_connect_testkit::fixtures;

struct Case {
    name: &'static str,
    request: IngestRequest,
    status: u16,
    /// Messages expected in the queue afterwards.
    queued: usize,
    /// Messages expected in the dead-letter queue afterwards.
    dead: usize,
}

fn case(name: &'static str, request: IngestRequest, status: u16) -> Case {
    Case {
        name,
        request,
        status,
        queued: 0,
        dead: 0,
    }
}

fn queues(name: &'static str, request: IngestRequest, queued: usize) -> Case {
    Case {
        name,
        request,
        status: 200,
        queued,
        dead: 0,
    }
}

/// An authenticated delivery: `queued` events queued, `dead` dead-lettered, answered
/// 200 when something was usable and 400 when nothing was.
fn splits(name: &'static str, request: IngestRequest, queued: usize, dead: usize) -> Case {
    Case {
        name,
        request,
        status: if queued > 0 { 200 } else { 400 },
        queued,
        dead,
    }
}

/// A POST with the given secret header value (raw bytes) and a valid delivery.
fn post_with_secret(value: &[u8]) -> IngestRequest {
    IngestRequest::new("POST")
        .header("authorization", value.to_vec())
        .body(fixtures::GROUP_MEMBERSHIP_ADD)
}

fn one_event_delivery_with(event_patch: impl Fn(&mut serde_json::Value)) -> String {
    let mut events = events_of(fixtures::GROUP_MEMBERSHIP_ADD);
    event_patch(&mut events[0]);
    delivery_with(&events)
}

fn cases() -> Vec<Case> {
    let valid = fixtures::GROUP_MEMBERSHIP_ADD;
    let limit = okta_connect_ingest::Settings::default().max_body_bytes;
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let deep_in_event = format!(
        r#"{{"data": {{"events": [{{"uuid": "u1", "published": "2026-01-01T00:00:00Z", "eventType": "x", "deep": {}1{}}}]}}}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let mut invalid_utf8 = valid.as_bytes().to_vec();
    let at = invalid_utf8.iter().position(|b| *b == b'J').unwrap();
    invalid_utf8[at] = 0xff;
    let mut url_safe = STANDARD.encode(valid);
    // Force characters only the URL-safe alphabet has.
    url_safe.insert_str(8, "-_");
    let url_safe_only = URL_SAFE.encode([0xfb_u8, 0xff, 0xbf, 0xfb, 0xff]);
    let mut b64_lines = STANDARD.encode(valid);
    b64_lines.insert(40, '\n');
    let over_limit_decoded = STANDARD.encode(vec![b' '; limit + 1]);
    let b64_nested = STANDARD.encode(STANDARD.encode(valid));

    vec![
        // ---------------------------------------------------------------- secret
        case(
            "no secret header",
            IngestRequest::new("POST").body(valid),
            401,
        ),
        case("empty secret", post_with_secret(b""), 401),
        case("blank secret", post_with_secret(b"   "), 401),
        case("wrong secret", post_with_secret(b"wrong"), 401),
        case(
            "secret minus its last byte",
            post_with_secret(&SECRET.as_bytes()[..SECRET.len() - 1]),
            401,
        ),
        case(
            "secret plus a byte",
            post_with_secret(format!("{SECRET}x").as_bytes()),
            401,
        ),
        case(
            "secret in upper case",
            post_with_secret(SECRET.to_uppercase().as_bytes()),
            401,
        ),
        case(
            "Bearer secret",
            post_with_secret(format!("Bearer {SECRET}").as_bytes()),
            401,
        ),
        case("1 MiB secret", post_with_secret(&vec![b'a'; 1 << 20]), 401),
        // The secret before the size: no body is judged (or read) without it.
        case(
            "no secret, body over the limit",
            IngestRequest::new("POST").body(vec![b' '; limit + 1]),
            401,
        ),
        case(
            "wrong secret, declared length over the limit",
            post_with_secret(b"wrong").header("content-length", (limit + 1).to_string()),
            401,
        ),
        case(
            "wrong secret, base64 body over the limit",
            post_with_secret(b"wrong")
                .body(over_limit_decoded.clone())
                .base64(true),
            401,
        ),
        case(
            "secret with a NUL appended",
            post_with_secret(format!("{SECRET}\0").as_bytes()),
            401,
        ),
        case(
            "non-UTF-8 secret",
            post_with_secret(&[0xff, 0xfe, 0x80]),
            401,
        ),
        case(
            "secret in another header",
            IngestRequest::new("POST")
                .header("x-authorization", SECRET)
                .body(valid),
            401,
        ),
        case(
            "secret header twice: right then wrong",
            post(valid).header("Authorization", "wrong"),
            401,
        ),
        case(
            "secret header twice: both right",
            post(valid).header("AUTHORIZATION", SECRET),
            401,
        ),
        case(
            "both secrets in one comma-joined header",
            post_with_secret(format!("{SECRET},{PREVIOUS}").as_bytes()),
            401,
        ),
        case(
            "challenge without secret",
            IngestRequest::new("GET").header("x-okta-verification-challenge", "echo-me"),
            401,
        ),
        case(
            "challenge with wrong secret",
            IngestRequest::new("GET")
                .header("authorization", "nope")
                .header("x-okta-verification-challenge", "echo-me"),
            401,
        ),
        case("DELETE without secret", IngestRequest::new("DELETE"), 401),
        queues(
            "secret header name in odd case",
            IngestRequest::new("POST")
                .header("AuThOrIzAtIoN", SECRET)
                .body(valid),
            1,
        ),
        queues(
            "previous secret accepted",
            post_with_secret(PREVIOUS.as_bytes()),
            1,
        ),
        queues(
            "secret surrounded by spaces",
            post_with_secret(format!("  {SECRET}\t").as_bytes()),
            1,
        ),
        // ---------------------------------------------------------------- methods
        case(
            "PUT",
            IngestRequest::new("PUT")
                .header("authorization", SECRET)
                .body(valid),
            405,
        ),
        case(
            "PATCH",
            IngestRequest::new("PATCH").header("authorization", SECRET),
            405,
        ),
        case(
            "HEAD",
            IngestRequest::new("HEAD").header("authorization", SECRET),
            405,
        ),
        case(
            "OPTIONS",
            IngestRequest::new("OPTIONS").header("authorization", SECRET),
            405,
        ),
        case(
            "lower-case post",
            IngestRequest::new("post")
                .header("authorization", SECRET)
                .body(valid),
            405,
        ),
        case(
            "empty method",
            IngestRequest::new("").header("authorization", SECRET),
            405,
        ),
        // ---------------------------------------------------------------- verification
        case(
            "GET without challenge",
            IngestRequest::new("GET").header("authorization", SECRET),
            400,
        ),
        case("GET with empty challenge", challenge(""), 400),
        case(
            "GET with non-UTF-8 challenge",
            IngestRequest::new("GET")
                .header("authorization", SECRET)
                .header("x-okta-verification-challenge", vec![0xc3, 0x28]),
            400,
        ),
        case(
            "GET with two challenges",
            challenge("one").header("X-Okta-Verification-Challenge", "two"),
            400,
        ),
        case(
            "challenge header in upper case",
            IngestRequest::new("GET")
                .header("authorization", SECRET)
                .header("X-OKTA-VERIFICATION-CHALLENGE", "abc"),
            200,
        ),
        case(
            "challenge with JSON metacharacters",
            challenge("\"},{\\\"x\":1</script>"),
            200,
        ),
        // ---------------------------------------------------------------- bodies
        case("empty body", post(""), 400),
        case("not JSON", post(fixtures::INVALID_NOT_JSON), 400),
        case("truncated JSON", post(fixtures::INVALID_TRUNCATED), 400),
        case("trailing garbage", post(format!("{valid} x")), 400),
        case("byte-order mark", post(format!("\u{feff}{valid}")), 400),
        case("JSON array", post("[1, 2, 3]"), 400),
        case("JSON string", post("\"events\""), 400),
        case("JSON null", post("null"), 400),
        case("JSON number", post("12345"), 400),
        case(
            "wrong envelope",
            post(fixtures::INVALID_WRONG_ENVELOPE),
            400,
        ),
        case(
            "no data.events",
            post(fixtures::INVALID_MISSING_DATA_EVENTS),
            400,
        ),
        case(
            "data.events an object",
            post(fixtures::INVALID_EVENTS_NOT_ARRAY),
            400,
        ),
        case("data is a string", post(r#"{"data": "events"}"#), 400),
        // Unusable events: dead-lettered; 4xx only when nothing else was usable.
        splits(
            "event uuid a number",
            post(fixtures::INVALID_EVENT_UUID_NUMBER),
            0,
            1,
        ),
        splits(
            "event without published",
            post(one_event_delivery_with(|e| {
                e.as_object_mut().unwrap().remove("published");
            })),
            0,
            1,
        ),
        splits(
            "published not RFC 3339",
            post(one_event_delivery_with(|e| {
                e["published"] = "yesterday".into()
            })),
            0,
            1,
        ),
        splits(
            "eventType an array",
            post(one_event_delivery_with(|e| {
                e["eventType"] = serde_json::json!(["a"])
            })),
            0,
            1,
        ),
        splits(
            "event is a number",
            post(r#"{"data": {"events": [1]}}"#),
            0,
            1,
        ),
        splits(
            "every event unusable",
            post(r#"{"data": {"events": [1, "two", null, {}, []]}}"#),
            0,
            5,
        ),
        splits(
            "one bad event among good ones",
            post({
                let mut events = events_of(fixtures::HUNDRED_EVENTS);
                events[57]["uuid"] = serde_json::json!(57);
                delivery_with(&events)
            }),
            99,
            1,
        ),
        splits(
            "a good event among bad ones",
            post({
                let good = events_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
                delivery_with(&[serde_json::json!(1), good, serde_json::json!({"uuid": ""})])
            }),
            1,
            2,
        ),
        case(
            "envelope of another hook type",
            post(r#"{"eventType": "com.okta.import.transform", "data": {"events": []}}"#),
            400,
        ),
        case("invalid UTF-8 in a string", post(invalid_utf8), 400),
        case("100k nested arrays", post(deep_array), 400),
        case("50k nested objects", post(deep_object), 400),
        queues(
            "5k nested arrays in an ignored event field",
            post(deep_in_event),
            1,
        ),
        case("body over the limit", post(vec![b' '; limit + 1]), 413),
        case(
            "declared length over the limit",
            post(valid).header("content-length", (limit + 1).to_string()),
            413,
        ),
        case(
            "declared length beyond u64",
            post(valid).header("Content-Length", "99999999999999999999999"),
            413,
        ),
        queues(
            "declared length not a number",
            post(valid).header("Content-Length", "twelve"),
            1,
        ),
        // ---------------------------------------------------------------- base64
        queues("base64 body", post(STANDARD.encode(valid)).base64(true), 1),
        queues(
            "base64 body without padding",
            post(base64::engine::general_purpose::STANDARD_NO_PAD.encode(valid)).base64(true),
            1,
        ),
        case("base64 flag on plain JSON", post(valid).base64(true), 400),
        case(
            "base64 with URL-safe characters",
            post(url_safe).base64(true),
            400,
        ),
        case(
            "URL-safe-only base64",
            post(url_safe_only).base64(true),
            400,
        ),
        case(
            "base64 with a line break",
            post(b64_lines).base64(true),
            400,
        ),
        case("base64 of nothing", post("").base64(true), 400),
        case("base64 of base64", post(b64_nested).base64(true), 400),
        case(
            "base64 of invalid UTF-8",
            post(STANDARD.encode([0xff, 0xfe, b'{', b'}'])).base64(true),
            400,
        ),
        case(
            "base64 decoding over the limit",
            post(over_limit_decoded).base64(true),
            413,
        ),
        case("base64 garbage", post("%%%%").base64(true), 400),
    ]
}

#[tokio::test]
async fn hostile_requests_get_the_right_status_and_queue_nothing_wrongly() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let ctx = memory();
        let challenge_sent: Option<Vec<u8>> = case
            .request
            .header_values("x-okta-verification-challenge")
            .next()
            .map(<[u8]>::to_vec);
        let response = handle(case.request, &ctx).await;
        let queued = ctx.queue.inner.accepted().len();
        let dead = ctx.dead_letters.inner.accepted().len();
        if response.status != case.status || queued != case.queued || dead != case.dead {
            failures.push(format!(
                "{}: status {} (want {}), queued {} (want {}), dead-lettered {} (want {})",
                case.name, response.status, case.status, queued, case.queued, dead, case.dead
            ));
        }
        if case.queued == 0 && ctx.queue.inner.calls() != 0 {
            failures.push(format!("{}: the queue was called", case.name));
        }
        if case.dead == 0 && ctx.dead_letters.inner.calls() != 0 {
            failures.push(format!("{}: the dead-letter queue was called", case.name));
        }
        // Every answer is short JSON; nothing but a verified challenge is echoed.
        let body: serde_json::Value = match serde_json::from_str(&response.body) {
            Ok(v) => v,
            Err(_) => {
                failures.push(format!("{}: body is not JSON", case.name));
                continue;
            }
        };
        if response.body.len() > 300 {
            failures.push(format!(
                "{}: long body ({} bytes)",
                case.name,
                response.body.len()
            ));
        }
        if response.body.contains(SECRET) || response.body.contains(PREVIOUS) {
            failures.push(format!("{}: secret echoed", case.name));
        }
        if response.header("content-type") != Some("application/json") {
            failures.push(format!("{}: content type", case.name));
        }
        let status = response.status;
        if let (200, Some(sent)) = (status, challenge_sent) {
            let sent = String::from_utf8(sent).unwrap();
            if body["verification"] != sent.as_str() {
                failures.push(format!("{}: challenge not echoed exactly", case.name));
            }
        }
        if status == 401 && body != serde_json::json!({"error": "missing or wrong secret"}) {
            failures.push(format!("{}: 401 body {}", case.name, response.body));
        }
        if status == 405 && response.header("allow") != Some("GET, POST") {
            failures.push(format!("{}: no Allow header", case.name));
        }
        if (status == 400 || status == 413) && !body["error"].is_string() {
            failures.push(format!("{}: no error reason", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
