//! The Okta event hook's shared secret, read once at cold start from AWS Secrets
//! Manager.
//!
//! The secret's `SecretString` is either the value itself, or, to rotate without
//! downtime, a JSON object `{"current": "…", "previous": "…"}` (`previous` optional):
//! both values are accepted until `previous` is removed. Surrounding whitespace (a
//! trailing newline from `echo`, say) is trimmed; an empty `current` is refused.
//!
//! The values never appear in `Debug` output, errors or logs.

use std::fmt;

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use okta_connect_core::ports::ErrorClass;
use serde_json::Value;

use crate::sdk::{self, HttpResponse, SdkError};

/// The accepted secret values: `current`, and during a rotation `previous` as well.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValues {
    pub current: String,
    pub previous: Option<String>,
}

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretValues")
            .field("current", &"<redacted>")
            .field("previous", &self.previous.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Why the secret could not be read. Messages never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the hook secret is empty")]
    Empty,
    #[error(
        "the hook secret's JSON form needs a non-empty string \"current\" (and optionally \"previous\")"
    )]
    BadJson,
    #[error("secret {id} has no SecretString (binary secrets are not supported)")]
    NotAString { id: String },
    #[error("cannot read secret {id}: {detail}")]
    Unavailable {
        id: String,
        class: ErrorClass,
        detail: String,
    },
}

impl SecretValues {
    /// Trimmed values; `previous` empty or missing means none. Refuses an empty `current`.
    pub fn new(current: &str, previous: Option<&str>) -> Result<Self, SecretError> {
        let current = current.trim();
        if current.is_empty() {
            return Err(SecretError::Empty);
        }
        let previous = previous
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(String::from);
        Ok(Self {
            current: current.to_string(),
            previous,
        })
    }

    /// Reads a `SecretString`: a JSON object with `current`/`previous`, or else the
    /// plain value.
    pub fn parse(secret_string: &str) -> Result<Self, SecretError> {
        let trimmed = secret_string.trim();
        if trimmed.starts_with('{')
            && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed)
        {
            let current = match map.get("current") {
                Some(Value::String(s)) => s.as_str(),
                _ => return Err(SecretError::BadJson),
            };
            let previous = match map.get("previous") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.as_str()),
                Some(_) => return Err(SecretError::BadJson),
            };
            return Self::new(current, previous).map_err(|_| SecretError::BadJson);
        }
        Self::new(secret_string, None)
    }
}

/// Fetches and parses secret `secret_id` (ARN or name) with one `GetSecretValue`.
pub async fn load(config: &SdkConfig, secret_id: &str) -> Result<SecretValues, SecretError> {
    let client = sdk::secretsmanager_client(config, &sdk::RequestCounter::new());
    fetch(&client, secret_id).await
}

/// [`load`] on an existing client.
pub async fn fetch(client: &Client, secret_id: &str) -> Result<SecretValues, SecretError> {
    SecretValues::parse(&fetch_text(client, secret_id).await?)
}

/// The secret's `SecretString` as stored, with one `GetSecretValue`: for credentials
/// that are not hook secrets (an Okta private key or API token). A secret created empty
/// and never filled answers `ResourceNotFoundException` (permanent): the error says so.
pub async fn load_text(config: &SdkConfig, secret_id: &str) -> Result<String, SecretError> {
    let client = sdk::secretsmanager_client(config, &sdk::RequestCounter::new());
    fetch_text(&client, secret_id).await
}

async fn fetch_text(client: &Client, secret_id: &str) -> Result<String, SecretError> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|err| SecretError::Unavailable {
            id: secret_id.to_string(),
            class: classify(&err),
            // Error answers carry a code and a message, never the secret.
            detail: sdk::describe(&err),
        })?;
    output
        .secret_string()
        .map(String::from)
        .ok_or_else(|| SecretError::NotAString {
            id: secret_id.to_string(),
        })
}

/// Modelled errors by type; anything else (an unmodelled `AccessDeniedException` 403,
/// say) by HTTP status, so a missing permission is permanent, never retried.
fn classify(err: &SdkError<GetSecretValueError, HttpResponse>) -> ErrorClass {
    sdk::error_class(err, |e| match e {
        GetSecretValueError::InternalServiceError(_) => Some(ErrorClass::Transient),
        GetSecretValueError::DecryptionFailure(_)
        | GetSecretValueError::InvalidParameterException(_)
        | GetSecretValueError::InvalidRequestException(_)
        | GetSecretValueError::ResourceNotFoundException(_) => Some(ErrorClass::Permanent),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_json_forms() {
        let plain = SecretValues::parse("s3cr3t\n").unwrap();
        assert_eq!(plain.current, "s3cr3t");
        assert_eq!(plain.previous, None);

        let both = SecretValues::parse(r#"{"current": "new", "previous": "old"}"#).unwrap();
        assert_eq!(both.current, "new");
        assert_eq!(both.previous.as_deref(), Some("old"));

        let only = SecretValues::parse(r#"{"current": "new", "previous": ""}"#).unwrap();
        assert_eq!(only.previous, None);

        let null = SecretValues::parse(r#"{"current": "new", "previous": null}"#).unwrap();
        assert_eq!(null.previous, None);

        // Not a JSON object: the whole text is the value.
        let braces = SecretValues::parse("{not json").unwrap();
        assert_eq!(braces.current, "{not json");
    }

    #[test]
    fn empty_or_malformed_secrets_are_refused() {
        assert_eq!(SecretValues::parse(""), Err(SecretError::Empty));
        assert_eq!(SecretValues::parse("  \n"), Err(SecretError::Empty));
        assert_eq!(
            SecretValues::parse(r#"{"current": ""}"#),
            Err(SecretError::BadJson)
        );
        assert_eq!(
            SecretValues::parse(r#"{"previous": "x"}"#),
            Err(SecretError::BadJson)
        );
        assert_eq!(
            SecretValues::parse(r#"{"current": 7}"#),
            Err(SecretError::BadJson)
        );
        assert_eq!(
            SecretValues::parse(r#"{"current": "a", "previous": 1}"#),
            Err(SecretError::BadJson)
        );
    }

    fn service(e: GetSecretValueError, status: u16) -> SdkError<GetSecretValueError, HttpResponse> {
        SdkError::service_error(
            e,
            HttpResponse::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
                aws_smithy_types::body::SdkBody::empty(),
            ),
        )
    }

    fn unmodelled(code: &str) -> GetSecretValueError {
        GetSecretValueError::generic(
            aws_sdk_secretsmanager::error::ErrorMetadata::builder()
                .code(code)
                .message("User is not authorized to perform secretsmanager:GetSecretValue")
                .build(),
        )
    }

    #[test]
    fn unmodelled_errors_are_classified_by_status() {
        // AccessDeniedException is not modelled for GetSecretValue: a 403 is a missing
        // permission, which retrying cannot fix.
        let denied = service(unmodelled("AccessDeniedException"), 403);
        assert_eq!(classify(&denied), ErrorClass::Permanent);
        assert_eq!(
            sdk::describe(&denied),
            "AccessDeniedException: User is not authorized to perform \
             secretsmanager:GetSecretValue (HTTP 403)"
        );
        assert_eq!(
            classify(&service(unmodelled("ThrottlingException"), 429)),
            ErrorClass::Transient
        );
        assert_eq!(
            classify(&service(unmodelled("ServiceUnavailable"), 503)),
            ErrorClass::Transient
        );
    }

    #[test]
    fn modelled_errors_are_classified_by_type() {
        use aws_sdk_secretsmanager::types::error::{
            InternalServiceError, ResourceNotFoundException,
        };
        let missing = GetSecretValueError::ResourceNotFoundException(
            ResourceNotFoundException::builder().build(),
        );
        assert_eq!(classify(&service(missing, 400)), ErrorClass::Permanent);
        let internal =
            GetSecretValueError::InternalServiceError(InternalServiceError::builder().build());
        assert_eq!(classify(&service(internal, 500)), ErrorClass::Transient);
    }

    #[test]
    fn debug_never_shows_the_values() {
        let values = SecretValues::new("hunter2", Some("hunter1")).unwrap();
        let shown = format!("{values:?}");
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
