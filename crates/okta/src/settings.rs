//! What the adapter is configured with, validated once at construction.

use std::fmt;
use std::time::Duration;

use reqwest::Url;

/// A credential (an API token or a private key). Its `Debug` prints `Secret(***)` and it
/// has no `Display`, so it cannot end up in a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the adapter authenticates to Okta.
#[derive(Debug, Clone)]
pub enum OktaAuth {
    /// An OAuth 2.0 service app (client credentials, `private_key_jwt`): the preferred
    /// way, with only the scopes granted to the app.
    PrivateKeyJwt {
        /// The service app's client id (`0oa…`).
        client_id: String,
        /// The `kid` of the registered public key; sent in the assertion's header when
        /// given (Okta then needs not try every key).
        key_id: Option<String>,
        /// The RSA private key, PEM (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
        private_key_pem: Secret,
        /// The scopes to request, e.g. [`OktaAuth::read_scopes`].
        scopes: Vec<String>,
    },
    /// An API token (`Authorization: SSWS …`), with its creating admin's rights.
    ApiToken(Secret),
}

impl OktaAuth {
    /// Every scope the adapter's reads need: users, groups, apps and the System Log.
    pub fn read_scopes() -> Vec<String> {
        [
            crate::scope::USERS,
            crate::scope::GROUPS,
            crate::scope::APPS,
            crate::scope::LOGS,
        ]
        .map(String::from)
        .to_vec()
    }
}

/// The adapter's settings. [`OktaApiSettings::new`] fills in the defaults.
#[derive(Debug, Clone)]
pub struct OktaApiSettings {
    /// `https://{org}.okta.com` (`http://` only for 127.0.0.1/localhost emulators).
    pub org_url: String,
    pub auth: OktaAuth,
    /// Bound of each HTTP request, connect to last byte (default 10 s).
    pub timeout: Duration,
    /// Requests in flight at once, across clones (default 4; Okta allows 75 per org,
    /// shared with everything else the org runs).
    pub max_concurrent_requests: usize,
    /// The longest the adapter sleeps for a rate-limit window to reset (default 60 s);
    /// a reset further away is returned as `RateLimited { retry_at }` at once.
    pub max_rate_limit_wait: Duration,
    /// Extra attempts after a 5xx, timeout or connection failure (default 2).
    pub transient_retries: u32,
    /// Wait before the first such retry, doubled at each next one (default 250 ms).
    pub retry_backoff: Duration,
}

impl OktaApiSettings {
    pub fn new(org_url: impl Into<String>, auth: OktaAuth) -> Self {
        Self {
            org_url: org_url.into(),
            auth,
            timeout: Duration::from_secs(10),
            max_concurrent_requests: 4,
            max_rate_limit_wait: Duration::from_secs(60),
            transient_retries: 2,
            retry_backoff: Duration::from_millis(250),
        }
    }
}

/// A setting the adapter cannot work with; the message names the setting and never
/// contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OktaError {
    #[error("Okta org URL {url:?} is not usable: {reason}")]
    OrgUrl { url: String, reason: String },
    #[error("the Okta private key is not usable: {0}")]
    PrivateKey(String),
    #[error("Okta credentials are incomplete: {0}")]
    Credentials(String),
    #[error("Okta API setting {setting} is invalid: {reason}")]
    Setting {
        setting: &'static str,
        reason: String,
    },
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// Parses and checks the org URL: `https://`, or `http://` to a loopback emulator; no
/// path, query or credentials (they would end up in every request).
pub(crate) fn org_url(text: &str) -> Result<Url, OktaError> {
    let bad = |reason: &str| OktaError::OrgUrl {
        url: text.to_string(),
        reason: reason.to_string(),
    };
    let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    let host = url.host_str().unwrap_or_default().to_string();
    match url.scheme() {
        "https" => {}
        "http" if matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") => {}
        "http" => {
            return Err(bad(
                "must be https:// (http:// is only allowed for 127.0.0.1 or localhost)",
            ));
        }
        _ => return Err(bad("must be an https:// URL")),
    }
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Not echoed: the text holds a password.
        return Err(OktaError::OrgUrl {
            url: format!("{}://…@{host}", url.scheme()),
            reason: "must not contain credentials".into(),
        });
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "must be the org's base URL only, like https://example.okta.com",
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_hides_the_value() {
        let s = Secret::new("00abcSECRET");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let auth = OktaAuth::ApiToken(s.clone());
        assert!(!format!("{auth:?}").contains("SECRET"));
        let settings = OktaApiSettings::new("https://x.okta.com", auth);
        assert!(!format!("{settings:?}").contains("SECRET"));
        assert_eq!(s.expose(), "00abcSECRET");
    }

    #[test]
    fn org_url_must_be_https_except_loopback() {
        for ok in [
            "https://example.okta.com",
            "https://example.okta.com/",
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "https://id.example.com:8443",
        ] {
            assert!(org_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.okta.com",
            "ftp://example.okta.com",
            "example.okta.com",
            "",
            "https://example.okta.com/api/v1",
            "https://example.okta.com/?x=1",
            "https://admin:pw@example.okta.com",
        ] {
            let err = org_url(bad).expect_err(bad);
            assert!(matches!(err, OktaError::OrgUrl { .. }), "{bad}: {err}");
        }
        let err = org_url("https://admin:pw@example.okta.com").unwrap_err();
        assert!(err.to_string().contains("credentials"));
        assert!(!err.to_string().contains("pw"), "{err}");
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = OktaApiSettings::new("https://x", OktaAuth::ApiToken(Secret::new("t")));
        assert_eq!(s.timeout, Duration::from_secs(10));
        assert_eq!(s.max_concurrent_requests, 4);
        assert_eq!(s.max_rate_limit_wait, Duration::from_secs(60));
        assert_eq!(
            OktaAuth::read_scopes(),
            [
                "okta.users.read",
                "okta.groups.read",
                "okta.apps.read",
                "okta.logs.read"
            ]
        );
    }
}
