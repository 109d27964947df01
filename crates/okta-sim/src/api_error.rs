//! The error answers of the simulated API, in Okta's body shape.

use serde_json::{Value, json};

use crate::ratelimit::RateHeaders;
use crate::util::random_alnum;

/// An Okta error answer: `{"errorCode","errorSummary","errorLink","errorId","errorCauses"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub summary: String,
    pub causes: Vec<String>,
    pub www_authenticate: Option<String>,
    pub rate: Option<RateHeaders>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, summary: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            summary: summary.into(),
            causes: Vec::new(),
            www_authenticate: None,
            rate: None,
        }
    }

    /// 404 E0000007, e.g. `not_found("x", "User")`.
    pub(crate) fn not_found(what: &str, kind: &str) -> ApiError {
        ApiError::new(
            404,
            "E0000007",
            format!("Not found: Resource not found: {what} ({kind})"),
        )
    }

    /// 401 E0000011: no, unknown or expired credentials.
    pub(crate) fn invalid_token() -> ApiError {
        ApiError::new(401, "E0000011", "Invalid token provided")
    }

    /// 403 E0000006 with the `WWW-Authenticate` Okta sends for a missing scope.
    pub(crate) fn insufficient_scope(resource: &str) -> ApiError {
        let mut error = ApiError::new(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
        );
        error.www_authenticate = Some(format!(
            "Bearer realm=\"IdpMyAccountAPI\", error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", resource=\"{resource}\""
        ));
        error
    }

    /// 429 E0000047.
    pub(crate) fn rate_limited(rate: Option<RateHeaders>) -> ApiError {
        let mut error = ApiError::new(
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        );
        error.rate = rate;
        error
    }

    /// 400 E0000001 "Api validation failed: {field}" with one cause.
    pub(crate) fn validation(field: &str, cause: impl Into<String>) -> ApiError {
        let mut error = ApiError::new(400, "E0000001", format!("Api validation failed: {field}"));
        error.causes.push(cause.into());
        error
    }

    /// 400 E0000031 for a `search`/`filter` that does not parse.
    pub(crate) fn bad_search(cause: impl Into<String>) -> ApiError {
        let mut error = ApiError::new(400, "E0000031", "Invalid search criteria.");
        error.causes.push(cause.into());
        error
    }

    /// 400 E0000003 for a body that is not the JSON expected.
    pub(crate) fn bad_body(cause: impl Into<String>) -> ApiError {
        let mut error = ApiError::new(400, "E0000003", "The request body was not well-formed.");
        error.causes.push(cause.into());
        error
    }

    /// 405 E0000022.
    pub(crate) fn method_not_allowed() -> ApiError {
        ApiError::new(
            405,
            "E0000022",
            "The endpoint does not support the provided HTTP method",
        )
    }

    /// 404 for a path outside the API.
    pub(crate) fn no_such_endpoint(path: &str) -> ApiError {
        ApiError::not_found(path, "Endpoint")
    }

    /// An injected fault: the status asked for, with the body Okta uses for it.
    pub(crate) fn injected(status: u16) -> ApiError {
        match status {
            429 => ApiError::rate_limited(None),
            401 => ApiError::invalid_token(),
            403 => ApiError::new(
                403,
                "E0000006",
                "You do not have permission to perform the requested action",
            ),
            404 => ApiError::new(404, "E0000007", "Not found: Resource not found (injected)"),
            400..=499 => ApiError::new(status, "E0000001", "Api validation failed (injected)"),
            _ => ApiError::new(status, "E0000009", "Internal Server Error"),
        }
    }

    pub(crate) fn body(&self) -> Value {
        json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": format!("oae{}", random_alnum(19)),
            "errorCauses": self.causes.iter().map(|c| json!({ "errorSummary": c })).collect::<Vec<_>>()
        })
    }
}
