//! HTTP: the Connect REST-JSON front door and the `/_sim` admin endpoints.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::api::Reply;
use crate::counters::Outcome;
use crate::error::{ApiError, SimError};
use crate::faults::{Faults, ScriptedFault};
use crate::operation::route;
use crate::quota::RateLimits;
use crate::seed::Seed;
use crate::sim::Sim;

/// The path prefix of the admin endpoints; no Connect path starts with it.
pub const ADMIN_PREFIX: &str = "/_sim";

/// The scheme every SigV4-signed request's `Authorization` header starts with.
const SIGV4_SCHEME: &str = "AWS4-HMAC-SHA256";

pub(crate) fn router(sim: Sim) -> Router {
    Router::new()
        .route("/_sim/health", get(health))
        .route("/_sim/users", get(list_users).delete(clear_users))
        .route("/_sim/instances", get(list_instances).post(add_instances))
        .route("/_sim/counters", get(counters).delete(reset_counters))
        .route(
            "/_sim/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route("/_sim/faults/scripted", post(add_scripted_fault))
        .route(
            "/_sim/rate-limits",
            get(get_rate_limits).put(put_rate_limits),
        )
        .fallback(connect_api)
        .with_state(sim)
}

// ---- Connect API -----------------------------------------------------------------------

async fn connect_api(
    State(sim): State<Sim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let route = route(method.as_str(), uri.path());
    let operation = route.as_ref().map(|r| r.operation);
    let result = match (authenticate(&headers), &route) {
        (Err(error), _) => Err(error),
        (Ok(()), None) => Err(ApiError::UnknownOperation {
            method: method.to_string(),
            path: uri.path().to_owned(),
        }),
        (Ok(()), Some(route)) => sim.call(route, uri.query(), &body).await,
    };
    let outcome = match &result {
        Ok(_) => Outcome::Success,
        Err(error) => Outcome::Error(error.kind()),
    };
    sim.record(operation, outcome);
    tracing::debug!(
        operation = operation.map_or("UnknownOperation", |op| op.as_str()),
        outcome = outcome.as_str(),
        %method,
        path = uri.path(),
        "connect-sim call"
    );
    let mut response = match result {
        Ok(Reply::Json(value)) => (StatusCode::OK, axum::Json(value)).into_response(),
        Ok(Reply::Empty) => StatusCode::OK.into_response(),
        Err(error) => error_response(&error),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// Signatures are not verified: the simulator only insists that a request is signed the
/// way AWS requires, so an unsigned client fails here as it would against AWS.
fn authenticate(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::AUTHORIZATION) {
        None => Err(ApiError::MissingAuthenticationToken),
        Some(value) => {
            let signed = value
                .to_str()
                .is_ok_and(|v| v.trim_start().starts_with(SIGV4_SCHEME));
            if signed {
                Ok(())
            } else {
                Err(ApiError::IncompleteSignature)
            }
        }
    }
}

/// Connect's error shape: the type in `x-amzn-errortype`, the text in `Message`.
fn error_response(error: &ApiError) -> Response {
    let kind = error.kind();
    let status = StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response =
        (status, axum::Json(json!({ "Message": error.to_string() }))).into_response();
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(kind.as_str()));
    response
}

// ---- admin endpoints -------------------------------------------------------------------

/// Admin failures: 400 with `{"message": …}`.
struct AdminError(String);

impl From<SimError> for AdminError {
    fn from(error: SimError) -> Self {
        AdminError(error.to_string())
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "message": self.0 })),
        )
            .into_response()
    }
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, AdminError> {
    serde_json::from_slice(body).map_err(|e| AdminError(format!("invalid JSON body: {e}")))
}

fn ok<T: Serialize>(value: T) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

async fn health() -> Response {
    ok(json!({ "status": "ok" }))
}

async fn list_users(State(sim): State<Sim>, uri: Uri) -> Response {
    let instance_filter = uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == "instanceId")
            .and_then(|(_, value)| crate::operation::percent_decode(value))
    });
    let users: Vec<_> = sim
        .users()
        .into_iter()
        .filter(|u| {
            instance_filter
                .as_ref()
                .is_none_or(|id| &u.instance_id == id)
        })
        .collect();
    ok(users)
}

async fn clear_users(State(sim): State<Sim>) -> Result<Response, AdminError> {
    sim.clear_users()?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_instances(State(sim): State<Sim>) -> Response {
    ok(sim.instances())
}

async fn add_instances(State(sim): State<Sim>, body: Bytes) -> Result<Response, AdminError> {
    let text = std::str::from_utf8(&body).map_err(|e| AdminError(e.to_string()))?;
    let seed = Seed::from_json(text).map_err(|e| AdminError(e.to_string()))?;
    sim.apply_seed(&seed)?;
    Ok(ok(sim.instances()))
}

async fn counters(State(sim): State<Sim>) -> Response {
    ok(sim.counters())
}

async fn reset_counters(State(sim): State<Sim>) -> Response {
    sim.reset_counters();
    StatusCode::NO_CONTENT.into_response()
}

async fn get_faults(State(sim): State<Sim>) -> Response {
    ok(sim.faults())
}

async fn put_faults(State(sim): State<Sim>, body: Bytes) -> Result<Response, AdminError> {
    sim.set_faults(parse::<Faults>(&body)?)?;
    Ok(ok(sim.faults()))
}

async fn clear_faults(State(sim): State<Sim>) -> Response {
    sim.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

async fn add_scripted_fault(State(sim): State<Sim>, body: Bytes) -> Result<Response, AdminError> {
    sim.fail_next(parse::<ScriptedFault>(&body)?);
    Ok(ok(sim.faults()))
}

async fn get_rate_limits(State(sim): State<Sim>) -> Response {
    ok(sim.rate_limits())
}

async fn put_rate_limits(State(sim): State<Sim>, body: Bytes) -> Result<Response, AdminError> {
    sim.set_rate_limits(parse::<RateLimits>(&body)?)?;
    Ok(ok(sim.rate_limits()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_requires_a_sigv4_scheme() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            authenticate(&headers),
            Err(ApiError::MissingAuthenticationToken)
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(authenticate(&headers), Err(ApiError::IncompleteSignature));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/connect/aws4_request, SignedHeaders=host, Signature=00",
            ),
        );
        assert_eq!(authenticate(&headers), Ok(()));
    }
}
