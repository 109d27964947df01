//! Okta's answers sorted into [`IdentityError`]s, by HTTP status, Okta's `errorCode`, the
//! OAuth `error` code and the `WWW-Authenticate` parameters: never by message text. The
//! messages name what an admin must fix.

use okta_connect_core::ports::IdentityError;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;

/// Okta's error body (`{"errorCode":"E0000007","errorSummary":"Not found: …", …}`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OktaErrorBody {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_summary: Option<String>,
    #[serde(default)]
    error_id: Option<String>,
    #[serde(default)]
    error_causes: Vec<ErrorCause>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorCause {
    #[serde(default)]
    error_summary: Option<String>,
}

impl OktaErrorBody {
    fn parse(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// `E0000007: Not found: … (cause; cause) [errorId oae…]`, for the message.
    fn describe(&self, status: StatusCode) -> String {
        let mut text = match (&self.error_code, &self.error_summary) {
            (Some(code), Some(summary)) => format!("{code}: {summary}"),
            (Some(code), None) => code.clone(),
            (None, Some(summary)) => summary.clone(),
            (None, None) => format!("HTTP {}", status.as_u16()),
        };
        let causes: Vec<&str> = self
            .error_causes
            .iter()
            .filter_map(|c| c.error_summary.as_deref())
            .collect();
        if !causes.is_empty() {
            text.push_str(&format!(" ({})", causes.join("; ")));
        }
        if let Some(id) = &self.error_id {
            text.push_str(&format!(" [errorId {id}]"));
        }
        text
    }
}

/// The parameters of a `WWW-Authenticate: Bearer k="v", …` challenge.
fn challenge_param(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|value| {
            let params = value
                .trim()
                .strip_prefix("Bearer")
                .or_else(|| value.trim().strip_prefix("bearer"))
                .unwrap_or(value);
            split_params(params)
                .into_iter()
                .find_map(|(k, v)| k.eq_ignore_ascii_case(name).then_some(v))
        })
}

/// `a="x, y", b=z` → [(a, "x, y"), (b, "z")].
fn split_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if chars.next_if_eq(&'=').is_none() {
            if chars.peek().is_none() {
                break;
            }
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| *c != ',')));
        }
        out.push((name.trim().to_string(), value.trim().to_string()));
    }
    out
}

/// What a failed (non-2xx, non-429) API answer means. `path` is the request path (no
/// query); `scope` the scope the endpoint needs; `bearer` whether an OAuth access token
/// was sent (an API token has no scopes).
pub(crate) fn api_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    path: &str,
    scope: &str,
    bearer: bool,
) -> IdentityError {
    let okta = OktaErrorBody::parse(body);
    let what = okta.describe(status);
    match status.as_u16() {
        401 if bearer => IdentityError::Denied(format!(
            "the access token was refused ({what}) on {path}; check the service app's \
             credentials and that it is active"
        )),
        401 => IdentityError::Denied(format!(
            "the API token was refused ({what}) on {path}; it may be revoked, expired \
             (30 days unused) or belong to a deactivated admin: create a new one"
        )),
        403 => {
            let insufficient = challenge_param(headers, "error")
                .is_some_and(|e| e.eq_ignore_ascii_case("insufficient_scope"));
            if insufficient && bearer {
                let needed = challenge_param(headers, "scope").unwrap_or_else(|| scope.into());
                IdentityError::Denied(format!(
                    "the service app lacks the scope {needed} needed for {path} ({what}); \
                     grant {needed} on its Okta API Scopes tab"
                ))
            } else {
                IdentityError::Denied(format!(
                    "not allowed to read {path} ({what}); the service app (or the API \
                     token's admin) needs the Read-only Administrator role"
                ))
            }
        }
        404 => IdentityError::NotFound(format!("{path} ({what})")),
        s if s >= 500 => IdentityError::Unavailable(format!("{path}: HTTP {s} ({what})")),
        _ => IdentityError::Invalid(format!("{path}: HTTP {} ({what})", status.as_u16())),
    }
}

/// The OAuth error body of the token endpoint (`{"error":"invalid_client", …}`).
#[derive(Debug, Default, Deserialize)]
struct OAuthErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// What a failed (non-2xx, non-429) answer of `POST /oauth2/v1/token` means.
pub(crate) fn token_error(status: StatusCode, body: &[u8], scopes: &[String]) -> IdentityError {
    let oauth: OAuthErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let description = oauth
        .error_description
        .clone()
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    match oauth.error.as_deref() {
        Some("invalid_client") => IdentityError::Denied(format!(
            "Okta refused the service app's client assertion (invalid_client: \
             {description}); check CLIENT_ID, KEY_ID and that the public key is registered \
             on the service app"
        )),
        Some("invalid_scope") => IdentityError::Denied(format!(
            "the service app may not request the scopes {} (invalid_scope: {description}); \
             grant them on its Okta API Scopes tab",
            scopes.join(" ")
        )),
        Some("unauthorized_client") => IdentityError::Denied(format!(
            "the app may not use client credentials (unauthorized_client: {description}); \
             it must be an API Services app with the Client Credentials grant"
        )),
        Some(code) if status.is_client_error() && status.as_u16() != 404 => {
            IdentityError::Invalid(format!("token request refused ({code}: {description})"))
        }
        _ if status.is_server_error() => {
            IdentityError::Unavailable(format!("token endpoint: HTTP {}", status.as_u16()))
        }
        _ if status.as_u16() == 401 || status.as_u16() == 403 => IdentityError::Denied(format!(
            "the token endpoint refused the service app ({description})"
        )),
        _ => IdentityError::Invalid(format!(
            "token endpoint: HTTP {} ({description}); is the org URL right?",
            status.as_u16()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn err(code: &str) -> Vec<u8> {
        serde_json::json!({
            "errorCode": code,
            "errorSummary": "summary text",
            "errorLink": code,
            "errorId": "oae123",
            "errorCauses": [{"errorSummary": "a cause"}]
        })
        .to_string()
        .into_bytes()
    }

    fn api(status: u16, headers: &HeaderMap, body: &[u8], bearer: bool) -> IdentityError {
        api_error(
            StatusCode::from_u16(status).unwrap(),
            headers,
            body,
            "/api/v1/users/00u1",
            "okta.users.read",
            bearer,
        )
    }

    #[test]
    fn statuses_map_to_kinds() {
        let h = HeaderMap::new();
        let e = api(401, &h, &err("E0000011"), false);
        assert!(
            matches!(&e, IdentityError::Denied(m) if m.contains("E0000011") && m.contains("API token")),
            "{e}"
        );
        let e = api(401, &h, &err("E0000011"), true);
        assert!(
            matches!(&e, IdentityError::Denied(m) if m.contains("access token")),
            "{e}"
        );
        let e = api(404, &h, &err("E0000007"), false);
        assert!(
            matches!(&e, IdentityError::NotFound(m) if m.contains("E0000007") && m.contains("oae123") && m.contains("a cause")),
            "{e}"
        );
        assert!(matches!(
            api(400, &h, &err("E0000031"), false),
            IdentityError::Invalid(_)
        ));
        assert!(matches!(
            api(409, &h, b"", false),
            IdentityError::Invalid(_)
        ));
        assert!(
            matches!(api(503, &h, b"<html>", false), IdentityError::Unavailable(m) if m.contains("503"))
        );
    }

    #[test]
    fn forbidden_names_the_scope_or_the_role() {
        let mut h = HeaderMap::new();
        h.insert(
            "www-authenticate",
            HeaderValue::from_static(
                r#"Bearer realm="IdpMyAccountAPI", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="/api/v1/users""#,
            ),
        );
        let e = api(403, &h, &err("E0000006"), true);
        assert!(
            matches!(&e, IdentityError::Denied(m) if m.contains("lacks the scope okta.users.read")),
            "{e}"
        );

        h.insert(
            "www-authenticate",
            HeaderValue::from_static(
                r#"Bearer error="insufficient_scope", scope="okta.logs.read""#,
            ),
        );
        let e = api(403, &h, b"", true);
        assert!(
            matches!(&e, IdentityError::Denied(m) if m.contains("okta.logs.read")),
            "{e}"
        );

        let e = api(403, &HeaderMap::new(), &err("E0000006"), true);
        assert!(
            matches!(&e, IdentityError::Denied(m) if m.contains("Read-only Administrator")),
            "{e}"
        );
        // An API token has no scopes: a 403 is about the admin's role.
        let e = api(403, &h, b"", false);
        assert!(
            matches!(&e, IdentityError::Denied(m) if m.contains("Read-only Administrator")),
            "{e}"
        );
    }

    #[test]
    fn challenge_params_parse_quoted_commas() {
        let mut h = HeaderMap::new();
        h.insert(
            "www-authenticate",
            HeaderValue::from_static(
                r#"Bearer a="x, y", error=insufficient_scope, q="say \"hi\"""#,
            ),
        );
        assert_eq!(challenge_param(&h, "a").as_deref(), Some("x, y"));
        assert_eq!(
            challenge_param(&h, "ERROR").as_deref(),
            Some("insufficient_scope")
        );
        assert_eq!(challenge_param(&h, "q").as_deref(), Some(r#"say "hi""#));
        assert_eq!(challenge_param(&h, "none"), None);
    }

    #[test]
    fn token_errors_say_what_to_fix() {
        let scopes = vec!["okta.users.read".to_string(), "okta.logs.read".to_string()];
        let body = |e: &str| {
            serde_json::json!({"error": e, "error_description": "desc"})
                .to_string()
                .into_bytes()
        };
        let e = token_error(StatusCode::UNAUTHORIZED, &body("invalid_client"), &scopes);
        assert!(
            matches!(&e, IdentityError::Denied(m) if m.contains("CLIENT_ID, KEY_ID") && m.contains("desc")),
            "{e}"
        );
        let e = token_error(StatusCode::BAD_REQUEST, &body("invalid_scope"), &scopes);
        assert!(
            matches!(&e, IdentityError::Denied(m) if m.contains("okta.users.read okta.logs.read")),
            "{e}"
        );
        let e = token_error(
            StatusCode::BAD_REQUEST,
            &body("unauthorized_client"),
            &scopes,
        );
        assert!(matches!(e, IdentityError::Denied(_)));
        let e = token_error(StatusCode::BAD_REQUEST, &body("invalid_request"), &scopes);
        assert!(matches!(e, IdentityError::Invalid(_)));
        let e = token_error(StatusCode::BAD_GATEWAY, b"", &scopes);
        assert!(matches!(e, IdentityError::Unavailable(_)));
        let e = token_error(StatusCode::NOT_FOUND, b"", &scopes);
        assert!(
            matches!(&e, IdentityError::Invalid(m) if m.contains("org URL")),
            "{e}"
        );
        let e = token_error(StatusCode::UNAUTHORIZED, b"", &scopes);
        assert!(matches!(e, IdentityError::Denied(_)));
    }
}
