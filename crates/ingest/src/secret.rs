//! The shared secret Okta sends in a header on every request, and where it comes from.

use std::fmt;

use okta_connect_aws::secrets::SecretValues;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// Env var naming the Secrets Manager secret (ARN or name) holding the hook secret.
pub const SECRET_ARN_VAR: &str = "OKTA_CONNECT_HOOK_SECRET_ARN";
/// Env var holding the hook secret itself (local runs).
pub const SECRET_VAR: &str = "OKTA_CONNECT_HOOK_SECRET";
/// Env var holding the previous hook secret during a rotation (local runs).
pub const SECRET_PREVIOUS_VAR: &str = "OKTA_CONNECT_HOOK_SECRET_PREVIOUS";

/// The accepted secret values, kept only as SHA-256 digests.
///
/// A presented value is hashed and compared with every accepted digest in constant
/// time ([`subtle`]), all comparisons always made: neither the position of the first
/// differing byte nor the secret's length, nor which value matched, shows in the timing.
/// `Debug` is redacted; there is no way to get a value back out.
#[derive(Clone)]
pub struct HookSecret {
    current: [u8; 32],
    previous: Option<[u8; 32]>,
}

impl fmt::Debug for HookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookSecret")
            .field("current", &"<redacted>")
            .field("previous", &self.previous.map(|_| "<redacted>"))
            .finish()
    }
}

fn digest(value: &[u8]) -> [u8; 32] {
    Sha256::digest(value).into()
}

/// HTTP optional whitespace, which header parsers strip around a value.
fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

impl HookSecret {
    /// From values already checked non-empty (and trimmed) by [`SecretValues`].
    pub fn new(values: &SecretValues) -> Self {
        Self {
            current: digest(values.current.as_bytes()),
            previous: values.previous.as_deref().map(|p| digest(p.as_bytes())),
        }
    }

    /// Whether a presented header value is one of the accepted secrets. Surrounding
    /// spaces and tabs are ignored (HTTP strips them); everything else must match
    /// byte for byte.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let presented = trim_ows(presented);
        if presented.is_empty() {
            return false;
        }
        let presented = digest(presented);
        let current: Choice = presented.ct_eq(&self.current);
        // Without a previous value, compare with `current` again: the same work either
        // way, and a match there is already counted.
        let previous: Choice = presented.ct_eq(self.previous.as_ref().unwrap_or(&self.current));
        bool::from(current | previous)
    }
}

/// Where the hook secret comes from, decided from the environment.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Fetch from Secrets Manager at cold start.
    SecretsManager { secret_id: String },
    /// Given directly (local runs).
    Inline(SecretValues),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::SecretsManager { secret_id } => f
                .debug_struct("SecretsManager")
                .field("secret_id", secret_id)
                .finish(),
            SecretSource::Inline(_) => f.write_str("Inline(<redacted>)"),
        }
    }
}

/// Why no secret source could be decided. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretSourceError {
    #[error("no hook secret configured: set {SECRET_ARN_VAR} (Secrets Manager) or {SECRET_VAR}")]
    Missing,
    #[error("{SECRET_VAR} is set but empty: refusing to start without a secret")]
    Empty,
}

impl SecretSource {
    /// `OKTA_CONNECT_HOOK_SECRET_ARN` wins; else `OKTA_CONNECT_HOOK_SECRET` with the
    /// optional `OKTA_CONNECT_HOOK_SECRET_PREVIOUS`.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SecretSourceError> {
        if let Some(secret_id) = lookup(SECRET_ARN_VAR).filter(|v| !v.trim().is_empty()) {
            return Ok(SecretSource::SecretsManager {
                secret_id: secret_id.trim().to_string(),
            });
        }
        let current = lookup(SECRET_VAR).ok_or(SecretSourceError::Missing)?;
        let previous = lookup(SECRET_PREVIOUS_VAR);
        SecretValues::new(&current, previous.as_deref())
            .map(SecretSource::Inline)
            .map_err(|_| SecretSourceError::Empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn secret(current: &str, previous: Option<&str>) -> HookSecret {
        HookSecret::new(&SecretValues::new(current, previous).unwrap())
    }

    #[test]
    fn current_and_previous_match_nothing_else_does() {
        let s = secret("s3cr3t-current", Some("s3cr3t-previous"));
        assert!(s.matches(b"s3cr3t-current"));
        assert!(s.matches(b"s3cr3t-previous"));
        assert!(s.matches(b"  s3cr3t-current\t"));
        assert!(!s.matches(b"s3cr3t-curren"));
        assert!(!s.matches(b"s3cr3t-current2"));
        assert!(!s.matches(b"S3CR3T-CURRENT"));
        assert!(!s.matches(b""));
        assert!(!s.matches(b"   "));
        assert!(!s.matches(&vec![b'a'; 100_000]));

        let only = secret("one", None);
        assert!(only.matches(b"one"));
        assert!(!only.matches(b"s3cr3t-previous"));
    }

    #[test]
    fn debug_is_redacted() {
        let s = secret("hunter2", Some("hunter1"));
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter"), "{shown}");
        let source = SecretSource::Inline(SecretValues::new("hunter2", None).unwrap());
        assert!(!format!("{source:?}").contains("hunter"));
    }

    #[test]
    fn source_from_env() {
        let env = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |k: &str| map.get(k).cloned()
        };
        assert_eq!(
            SecretSource::from_env(env(&[
                (
                    SECRET_ARN_VAR,
                    "arn:aws:secretsmanager:us-east-1:1:secret:x"
                ),
                (SECRET_VAR, "ignored")
            ])),
            Ok(SecretSource::SecretsManager {
                secret_id: "arn:aws:secretsmanager:us-east-1:1:secret:x".into()
            })
        );
        assert_eq!(
            SecretSource::from_env(env(&[(SECRET_VAR, "a"), (SECRET_PREVIOUS_VAR, "b")])),
            Ok(SecretSource::Inline(
                SecretValues::new("a", Some("b")).unwrap()
            ))
        );
        assert_eq!(
            SecretSource::from_env(env(&[(SECRET_ARN_VAR, " "), (SECRET_VAR, "a")])),
            Ok(SecretSource::Inline(SecretValues::new("a", None).unwrap()))
        );
        assert_eq!(
            SecretSource::from_env(env(&[])),
            Err(SecretSourceError::Missing)
        );
        assert_eq!(
            SecretSource::from_env(env(&[(SECRET_VAR, "  ")])),
            Err(SecretSourceError::Empty)
        );
    }
}
