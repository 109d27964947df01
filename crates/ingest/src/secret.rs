//! The shared secret Okta sends in a header on every request, where it comes from, and
//! how a rotated one reaches a warm Lambda.
//!
//! # Rotation
//!
//! The stored secret is read at cold start. When a request presents a value that is not
//! accepted, the [`SecretStore`] reads the stored secret again, at most once per
//! [`REFRESH_INTERVAL`] (60 s) per process, and accepts the request if the value read
//! now matches. So after an operator stores `{"current": "NEW", "previous": "OLD"}` and
//! changes Okta, a warm Lambda accepts `NEW` from the first delivery that carries it (at
//! worst a minute later, if a wrong value was presented just before), without a cold
//! start. A request without the header never causes a read, and a flood of wrong values
//! causes at most one `GetSecretValue` a minute, each bounded by [`REFRESH_TIMEOUT`].

use std::fmt;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use okta_connect_aws::secrets::{SecretError, SecretValues};
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
#[derive(Clone, PartialEq, Eq)]
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

/// Reads after which another read waits: the most a rotated secret waits to be seen by
/// a warm process, and the fewest seconds between two `GetSecretValue` calls however
/// many wrong values arrive.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// Bound on one read of the stored secret during a request, so the request keeps most
/// of its 2 s budget for the queue (Okta waits 3 s in all).
pub const REFRESH_TIMEOUT: Duration = Duration::from_secs(1);

/// Reads the stored secret (Secrets Manager in the Lambda).
pub trait SecretReader: Send + Sync {
    fn read(&self) -> BoxFuture<'_, Result<SecretValues, SecretSourceError>>;
}

/// What a presented secret amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Missing, repeated or wrong: 401.
    Rejected,
    /// Not accepted, and the stored secret could not be read again to check whether it
    /// was rotated: a transient fault, so 503 (Okta retries), never 401.
    Unverifiable,
}

/// The accepted secret values, and (in the Lambda) how to read them again after a
/// rotation. See the module's *Rotation*.
pub struct SecretStore {
    accepted: RwLock<HookSecret>,
    refresh: Option<Refresh>,
}

struct Refresh {
    reader: Box<dyn SecretReader>,
    interval: Duration,
    /// When the last read started; held during a read, so concurrent requests wait for
    /// its result instead of reading too.
    last_read: tokio::sync::Mutex<Option<Instant>>,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("accepted", &"<redacted>")
            .field("refresh", &self.refresh.as_ref().map(|r| r.interval))
            .finish()
    }
}

impl From<HookSecret> for SecretStore {
    fn from(secret: HookSecret) -> Self {
        SecretStore::fixed(secret)
    }
}

impl SecretStore {
    /// Values that never change (local runs, values from the environment).
    pub fn fixed(secret: HookSecret) -> Self {
        Self {
            accepted: RwLock::new(secret),
            refresh: None,
        }
    }

    /// `secret` as read at start-up, read again through `reader` on a mismatch at most
    /// once per `interval`.
    pub fn refreshing(
        secret: HookSecret,
        reader: impl SecretReader + 'static,
        interval: Duration,
    ) -> Self {
        Self {
            accepted: RwLock::new(secret),
            refresh: Some(Refresh {
                reader: Box::new(reader),
                interval,
                last_read: tokio::sync::Mutex::new(None),
            }),
        }
    }

    fn current(&self) -> HookSecret {
        // A panic elsewhere while holding the lock cannot leave a half-written secret
        // (it is replaced whole), so a poisoned lock still holds a valid value.
        self.accepted
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether `presented` (the single secret header's value, `None` when missing or
    /// repeated) is accepted, reading the stored secret again if it is not and the last
    /// read is older than the interval.
    pub async fn check(&self, presented: Option<&[u8]>) -> Verdict {
        let Some(presented) = presented.filter(|p| !trim_ows(p).is_empty()) else {
            return Verdict::Rejected;
        };
        if self.current().matches(presented) {
            return Verdict::Accepted;
        }
        let Some(refresh) = &self.refresh else {
            return Verdict::Rejected;
        };
        let mut last_read = refresh.last_read.lock().await;
        // Another request may have read a rotated secret while this one waited.
        if self.current().matches(presented) {
            return Verdict::Accepted;
        }
        let now = Instant::now();
        if last_read.is_some_and(|at| now.duration_since(at) < refresh.interval) {
            return Verdict::Rejected;
        }
        *last_read = Some(now);
        match tokio::time::timeout(REFRESH_TIMEOUT, refresh.reader.read()).await {
            Ok(Ok(values)) => {
                let fresh = HookSecret::new(&values);
                let changed = fresh != self.current();
                let accepted = fresh.matches(presented);
                *self
                    .accepted
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = fresh;
                tracing::info!(changed, accepted, "hook secret read again after a mismatch");
                if accepted {
                    Verdict::Accepted
                } else {
                    Verdict::Rejected
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read the hook secret again; keeping the values in use");
                Verdict::Unverifiable
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = u64::try_from(REFRESH_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
                    "reading the hook secret again timed out; keeping the values in use"
                );
                Verdict::Unverifiable
            }
        }
    }
}

/// Reads a stored `SecretString`: the JSON form `{"current": …, "previous": …}` or a
/// plain value. Text that starts like JSON (`{`) must be that JSON: a broken object is
/// an error, never taken as the literal secret (every delivery would then get 401 and
/// be lost, Okta never retrying a 4xx).
pub fn parse_secret_string(text: &str) -> Result<SecretValues, SecretSourceError> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_err() {
        return Err(SecretSourceError::MalformedJson);
    }
    SecretValues::parse(text).map_err(SecretSourceError::Read)
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

/// Why there is no usable hook secret. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretSourceError {
    #[error("no hook secret configured: set {SECRET_ARN_VAR} (Secrets Manager) or {SECRET_VAR}")]
    Missing,
    #[error("{SECRET_VAR} is set but empty: refusing to start without a secret")]
    Empty,
    /// The stored value starts with `{` but is not JSON.
    #[error(
        "the stored hook secret starts with '{{' but is not valid JSON: store \
         {{\"current\": \"…\", \"previous\": \"…\"}} or a plain value that does not start with '{{'"
    )]
    MalformedJson,
    /// Secrets Manager could not be read, or the value is empty or malformed.
    #[error("cannot load the hook secret: {0}")]
    Read(SecretError),
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

    #[test]
    fn a_stored_value_that_starts_like_json_must_be_json() {
        for broken in [
            "{not json",
            "{\"current\": \"a\",}",
            "{\"current\": \"a\"} trailing",
            "  {\"current\": \"a\"",
        ] {
            assert_eq!(
                parse_secret_string(broken),
                Err(SecretSourceError::MalformedJson),
                "{broken:?}"
            );
        }
        let message = SecretSourceError::MalformedJson.to_string();
        assert!(message.contains("not valid JSON") && message.contains("current"));
        assert_eq!(
            parse_secret_string("{\"current\": \"new\", \"previous\": \"old\"}\n"),
            Ok(SecretValues::new("new", Some("old")).unwrap())
        );
        assert_eq!(
            parse_secret_string("plain-value\n"),
            Ok(SecretValues::new("plain-value", None).unwrap())
        );
        assert!(matches!(
            parse_secret_string("{\"previous\": \"x\"}"),
            Err(SecretSourceError::Read(SecretError::BadJson))
        ));
        assert!(matches!(
            parse_secret_string(""),
            Err(SecretSourceError::Read(SecretError::Empty))
        ));
    }

    /// A stored secret whose value the test sets, counting reads.
    #[derive(Clone, Default)]
    struct Stored {
        value: std::sync::Arc<std::sync::Mutex<Option<Result<String, SecretSourceError>>>>,
        reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        delay: Duration,
    }

    impl Stored {
        fn set(&self, value: Result<&str, SecretSourceError>) {
            *self.value.lock().unwrap() = Some(value.map(String::from));
        }
        fn reads(&self) -> usize {
            self.reads.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    impl SecretReader for Stored {
        fn read(&self) -> BoxFuture<'_, Result<SecretValues, SecretSourceError>> {
            Box::pin(async move {
                self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(self.delay).await;
                let value = self.value.lock().unwrap().clone();
                parse_secret_string(&value.ok_or(SecretSourceError::Missing)??)
            })
        }
    }

    fn store(stored: &Stored, interval: Duration) -> SecretStore {
        SecretStore::refreshing(secret("old", None), stored.clone(), interval)
    }

    #[tokio::test]
    async fn a_rotated_secret_is_read_again_on_a_mismatch() {
        let stored = Stored::default();
        stored.set(Ok(r#"{"current": "new", "previous": "old"}"#));
        let store = store(&stored, REFRESH_INTERVAL);
        assert_eq!(store.check(Some(b"old")).await, Verdict::Accepted);
        assert_eq!(stored.reads(), 0, "a match never reads");
        assert_eq!(store.check(Some(b"new")).await, Verdict::Accepted);
        assert_eq!(stored.reads(), 1);
        // Both values are accepted now, without further reads.
        assert_eq!(store.check(Some(b"old")).await, Verdict::Accepted);
        assert_eq!(store.check(Some(b"new")).await, Verdict::Accepted);
        assert_eq!(stored.reads(), 1);
    }

    #[tokio::test]
    async fn wrong_values_read_at_most_once_per_interval_and_no_header_never() {
        let stored = Stored::default();
        stored.set(Ok("old"));
        let store = store(&stored, REFRESH_INTERVAL);
        for _ in 0..1000 {
            assert_eq!(store.check(Some(b"forged")).await, Verdict::Rejected);
            assert_eq!(store.check(None).await, Verdict::Rejected);
            assert_eq!(store.check(Some(b"  ")).await, Verdict::Rejected);
        }
        assert_eq!(stored.reads(), 1);
        // Rotated meanwhile: still within the interval, so not seen yet.
        stored.set(Ok("new"));
        assert_eq!(store.check(Some(b"new")).await, Verdict::Rejected);
        assert_eq!(stored.reads(), 1);

        // With a zero interval every mismatch reads, and the rotation is seen.
        let eager = store_with_zero_interval(&stored);
        assert_eq!(eager.check(Some(b"new")).await, Verdict::Accepted);
        assert_eq!(
            eager.check(Some(b"old")).await,
            Verdict::Rejected,
            "old is no longer stored"
        );
    }

    fn store_with_zero_interval(stored: &Stored) -> SecretStore {
        store(stored, Duration::ZERO)
    }

    #[tokio::test]
    async fn concurrent_mismatches_share_one_read() {
        let stored = Stored {
            delay: Duration::from_millis(50),
            ..Stored::default()
        };
        stored.set(Ok(r#"{"current": "new", "previous": "old"}"#));
        let store = store(&stored, REFRESH_INTERVAL);
        let checks = (0..20).map(|_| store.check(Some(b"new")));
        let verdicts = futures_util::future::join_all(checks).await;
        assert!(
            verdicts.iter().all(|v| *v == Verdict::Accepted),
            "{verdicts:?}"
        );
        assert_eq!(stored.reads(), 1);
    }

    #[tokio::test]
    async fn a_failed_read_keeps_the_values_and_is_unverifiable() {
        let stored = Stored::default();
        stored.set(Err(SecretSourceError::MalformedJson));
        let store = store_with_zero_interval(&stored);
        assert_eq!(store.check(Some(b"new")).await, Verdict::Unverifiable);
        assert_eq!(store.check(Some(b"old")).await, Verdict::Accepted);

        let hanging = Stored {
            delay: Duration::from_secs(30),
            ..Stored::default()
        };
        hanging.set(Ok("new"));
        let store = store_with_zero_interval(&hanging);
        assert_eq!(store.check(Some(b"new")).await, Verdict::Unverifiable);
        assert_eq!(store.check(Some(b"old")).await, Verdict::Accepted);
    }

    #[tokio::test]
    async fn a_fixed_store_never_reads() {
        let store = SecretStore::from(secret("only", None));
        assert_eq!(store.check(Some(b"only")).await, Verdict::Accepted);
        assert_eq!(store.check(Some(b"other")).await, Verdict::Rejected);
        assert!(!format!("{store:?}").contains("only"));
    }
}
