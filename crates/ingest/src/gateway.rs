//! API Gateway's Lambda event formats, translated to and from the handler's own types:
//! HTTP API (payload format 2.0) and REST API (payload format 1.0).
//!
//! The Lambda receives the event as raw JSON and picks the format itself, so an event
//! that fits neither is answered (400) instead of failing the invocation.

use aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest,
    ApiGatewayV2httpResponse,
};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};
use okta_connect_core::ports::EventQueue;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::IngestError;
use crate::handler::{Ingest, handle};
use crate::http::{IngestRequest, IngestResponse};

/// Which API Gateway sent the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// HTTP API, payload format 2.0.
    V2,
    /// REST API (or HTTP API with payload format 1.0).
    V1,
}

/// The answer in the sender's format.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum GatewayResponse {
    V2(ApiGatewayV2httpResponse),
    V1(ApiGatewayProxyResponse),
}

impl GatewayResponse {
    pub fn status(&self) -> i64 {
        match self {
            GatewayResponse::V2(r) => r.status_code,
            GatewayResponse::V1(r) => r.status_code,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    request_context: Option<ProbeContext>,
    #[serde(default)]
    http_method: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ProbeContext {
    #[serde(default)]
    http: Option<IgnoredAny>,
}

/// Tells the formats apart: 2.0 has `requestContext.http`, 1.0 a top-level `httpMethod`.
pub fn detect(event: &str) -> Option<Format> {
    let probe: Probe = serde_json::from_str(event).ok()?;
    if probe.request_context.is_some_and(|c| c.http.is_some()) {
        Some(Format::V2)
    } else if probe.http_method.is_some() {
        Some(Format::V1)
    } else {
        None
    }
}

fn headers_of(map: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    map.iter()
        .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
        .collect()
}

impl From<ApiGatewayV2httpRequest> for IngestRequest {
    /// Payload 2.0 joins a repeated header's values with commas into one.
    fn from(event: ApiGatewayV2httpRequest) -> Self {
        IngestRequest {
            method: event.request_context.http.method.as_str().to_string(),
            headers: headers_of(&event.headers),
            body: event.body.map(String::into_bytes).unwrap_or_default(),
            is_base64_encoded: event.is_base64_encoded,
        }
    }
}

impl From<ApiGatewayProxyRequest> for IngestRequest {
    /// Payload 1.0 has every value of a repeated header in `multiValueHeaders` (and
    /// only the last in `headers`): use the former when present, so a repeated secret
    /// header is seen as repeated.
    fn from(event: ApiGatewayProxyRequest) -> Self {
        let headers = if event.multi_value_headers.is_empty() {
            headers_of(&event.headers)
        } else {
            headers_of(&event.multi_value_headers)
        };
        IngestRequest {
            method: event.http_method.as_str().to_string(),
            headers,
            body: event.body.map(String::into_bytes).unwrap_or_default(),
            is_base64_encoded: event.is_base64_encoded,
        }
    }
}

fn header_map(response: &IngestResponse) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in &response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    map
}

impl IngestResponse {
    pub fn into_v2(self) -> ApiGatewayV2httpResponse {
        let mut out = ApiGatewayV2httpResponse::default();
        out.status_code = i64::from(self.status);
        out.headers = header_map(&self);
        out.body = Some(Body::Text(self.body));
        out.is_base64_encoded = false;
        out
    }

    pub fn into_v1(self) -> ApiGatewayProxyResponse {
        let mut out = ApiGatewayProxyResponse::default();
        out.status_code = i64::from(self.status);
        out.headers = header_map(&self);
        out.body = Some(Body::Text(self.body));
        out.is_base64_encoded = false;
        out
    }
}

/// Decodes an API Gateway event, handles it, and encodes the answer in the same format.
/// Events of neither format get a 400 in the 2.0 format.
pub async fn handle_event<Q: EventQueue, D: EventQueue>(
    event: &RawValue,
    ctx: &Ingest<Q, D>,
) -> GatewayResponse {
    let unreadable = || {
        tracing::warn!(
            status = 400,
            outcome = "not_a_gateway_event",
            "okta event hook request"
        );
        GatewayResponse::V2(IngestError::NotAGatewayEvent.response().into_v2())
    };
    match detect(event.get()) {
        Some(Format::V2) => match serde_json::from_str::<ApiGatewayV2httpRequest>(event.get()) {
            Ok(request) => GatewayResponse::V2(handle(request.into(), ctx).await.into_v2()),
            Err(_) => unreadable(),
        },
        Some(Format::V1) => match serde_json::from_str::<ApiGatewayProxyRequest>(event.get()) {
            Ok(request) => GatewayResponse::V1(handle(request.into(), ctx).await.into_v1()),
            Err(_) => unreadable(),
        },
        None => unreadable(),
    }
}
