//! API Gateway events (HTTP API payload 2.0, REST API payload 1.0) through the handler
//! and back: the verification round trip as the Lambda sees it.

use crate::common::*;
use base64::Engine;
use okta_connect_ingest::gateway::{Format, detect, handle_event};
use okta_connect_testkit::fixtures;
use serde_json::value::RawValue;
use serde_json::{Value, json};

fn v2_event(method: &str, headers: Value, body: Option<&str>, base64: bool) -> String {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/okta/events",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "id.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "id",
            "http": {
                "method": method,
                "path": "/okta/events",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "Okta Event Hook"
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Mar/2026:19:03:58 +0000",
            "timeEpoch": 1_773_342_238_000_i64
        },
        "body": body,
        "isBase64Encoded": base64
    })
    .to_string()
}

fn v1_event(method: &str, multi: Value, body: Option<&str>) -> String {
    json!({
        "resource": "/okta/events",
        "path": "/okta/events",
        "httpMethod": method,
        "headers": {},
        "multiValueHeaders": multi,
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc",
            "stage": "prod",
            "requestId": "id",
            "identity": { "sourceIp": "192.0.2.1" },
            "resourcePath": "/okta/events",
            "httpMethod": method,
            "apiId": "api-id"
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

async fn invoke(event: &str) -> Value {
    let ctx = memory();
    let raw: Box<RawValue> = serde_json::from_str(event).unwrap();
    let response = handle_event(&raw, &ctx).await;
    serde_json::to_value(&response).unwrap()
}

#[tokio::test]
async fn verification_round_trip_http_api() {
    let event = v2_event(
        "GET",
        json!({
            "authorization": SECRET,
            "x-okta-verification-challenge": "chal-lenge-42",
            "user-agent": "Okta Event Hook"
        }),
        None,
        false,
    );
    assert_eq!(detect(&event), Some(Format::V2));
    let response = invoke(&event).await;
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["headers"]["content-type"], "application/json");
    assert_eq!(response["isBase64Encoded"], false);
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"verification": "chal-lenge-42"}));
}

#[tokio::test]
async fn verification_round_trip_rest_api_with_original_case_headers() {
    let event = v1_event(
        "GET",
        json!({
            "Authorization": [SECRET],
            "X-Okta-Verification-Challenge": ["chal-lenge-43"]
        }),
        None,
    );
    assert_eq!(detect(&event), Some(Format::V1));
    let response = invoke(&event).await;
    assert_eq!(response["statusCode"], 200);
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"verification": "chal-lenge-43"}));
}

#[tokio::test]
async fn verification_without_secret_echoes_nothing() {
    let event = v2_event(
        "GET",
        json!({"x-okta-verification-challenge": "do-not-echo"}),
        None,
        false,
    );
    let response = invoke(&event).await;
    assert_eq!(response["statusCode"], 401);
    assert!(!response.to_string().contains("do-not-echo"));
}

#[tokio::test]
async fn deliveries_through_both_formats() {
    let text = fixtures::HUNDRED_EVENTS;
    let plain = v2_event("POST", json!({"authorization": SECRET}), Some(text), false);
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let base64 = v2_event(
        "POST",
        json!({"authorization": SECRET}),
        Some(&encoded),
        true,
    );
    let rest = v1_event("POST", json!({"Authorization": [SECRET]}), Some(text));
    for event in [plain, base64, rest] {
        let response = invoke(&event).await;
        assert_eq!(response["statusCode"], 200);
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(body, json!({"queued": 100, "deadLettered": 0}));
    }
}

#[tokio::test]
async fn repeated_secret_headers_in_rest_api_are_refused() {
    let event = v1_event(
        "POST",
        json!({"Authorization": ["wrong", SECRET]}),
        Some(fixtures::GROUP_MEMBERSHIP_ADD),
    );
    assert_eq!(invoke(&event).await["statusCode"], 401);
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let event = v2_event("DELETE", json!({"authorization": SECRET}), None, false);
    let response = invoke(&event).await;
    assert_eq!(response["statusCode"], 405);
    assert_eq!(response["headers"]["allow"], "GET, POST");
}

#[tokio::test]
async fn events_of_neither_format_get_400() {
    for event in [
        "{}",
        "[]",
        "null",
        r#"{"Records": []}"#,
        r#"{"requestContext": {}}"#,
        r#"{"requestContext": {"http": {"method": 7}}}"#,
        r#"{"httpMethod": "GET", "requestContext": 5}"#,
    ] {
        let response = invoke(event).await;
        assert_eq!(response["statusCode"], 400, "{event}");
    }
}
