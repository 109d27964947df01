//! OAuth 2.0 client credentials with `private_key_jwt`: the signed client assertion and
//! the cached access token.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use okta_connect_core::ports::IdentityError;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::settings::{OktaError, Secret};

/// How long a client assertion is valid: Okta accepts at most an hour; five minutes is
/// plenty for one token request and limits what a leaked assertion is worth (its `jti`
/// cannot be replayed anyway).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

/// The longest a token is kept before its `expires_in`, so a call never starts with a
/// token about to expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

/// Signs client assertions for one service app.
pub(crate) struct Assertion {
    client_id: String,
    key_id: Option<String>,
    key: EncodingKey,
    /// `{org}/oauth2/v1/token`.
    audience: String,
}

impl fmt::Debug for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Assertion")
            .field("client_id", &self.client_id)
            .field("key_id", &self.key_id)
            .field("key", &"***")
            .finish()
    }
}

impl Assertion {
    /// Reads the RSA key (PKCS#8 or PKCS#1 PEM) and signs one assertion to prove it is
    /// usable, so a bad key fails at startup and not at the first call.
    pub(crate) fn new(
        client_id: &str,
        key_id: Option<&str>,
        pem: &Secret,
        audience: String,
    ) -> Result<Self, OktaError> {
        if client_id.trim().is_empty() {
            return Err(OktaError::Credentials("the client id is empty".into()));
        }
        let pem_text = pem.expose().trim();
        if !pem_text.starts_with("-----BEGIN") {
            return Err(OktaError::PrivateKey(
                "it is not PEM text (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA \
                 PRIVATE KEY-----)"
                    .into(),
            ));
        }
        // jsonwebtoken's messages describe the format, never the key bytes.
        let key = EncodingKey::from_rsa_pem(pem_text.as_bytes()).map_err(|e| {
            OktaError::PrivateKey(format!(
                "it is not an RSA private key in PKCS#8 or PKCS#1 PEM ({e})"
            ))
        })?;
        let assertion = Self {
            client_id: client_id.trim().to_string(),
            key_id: key_id
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(String::from),
            key,
            audience,
        };
        assertion
            .sign_at(0)
            .map_err(|e| OktaError::PrivateKey(format!("it cannot sign RS256 ({e})")))?;
        Ok(assertion)
    }

    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    pub(crate) fn claims(&self, iat: u64) -> Claims {
        Claims {
            iss: self.client_id.clone(),
            sub: self.client_id.clone(),
            aud: self.audience.clone(),
            iat,
            exp: iat + ASSERTION_LIFETIME.as_secs(),
            jti: uuid::Uuid::new_v4().to_string(),
        }
    }

    fn sign_at(&self, iat: u64) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key_id.clone();
        jsonwebtoken::encode(&header, &self.claims(iat), &self.key)
    }

    /// A fresh assertion (new `jti`), issued now.
    pub(crate) fn sign(&self) -> Result<Secret, IdentityError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.sign_at(now).map(Secret::new).map_err(|e| {
            IdentityError::Invalid(format!("could not sign the client assertion ({e})"))
        })
    }
}

/// The token endpoint's success body.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    pub expires_in: u64,
}

impl fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"***")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// How long before its expiry a token is replaced: a minute, or half its lifetime for
/// short-lived tokens (so a token is always used for a while).
pub(crate) fn refresh_margin(lifetime: Duration) -> Duration {
    REFRESH_MARGIN.min(lifetime / 2)
}

/// An access token and when to stop using it.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    pub token: Secret,
    pub refresh_at: Instant,
}

impl Cached {
    pub(crate) fn new(token: Secret, lifetime: Duration, issued: Instant) -> Self {
        Self {
            token,
            refresh_at: issued + lifetime.saturating_sub(refresh_margin(lifetime)),
        }
    }

    pub(crate) fn fresh(&self, now: Instant) -> bool {
        now < self.refresh_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header, jwk::Jwk};

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../../tests/fixtures/okta/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    const AUD: &str = "https://x.okta.com/oauth2/v1/token";

    #[test]
    fn assertion_has_okta_claims_and_verifies_with_the_registered_jwk() {
        let pem = Secret::new(fixture("service-app.pem"));
        let a = Assertion::new("0oaclient", Some("test-key-1"), &pem, AUD.into()).unwrap();
        let jwt = a.sign().unwrap();
        let header = decode_header(jwt.expose()).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some("test-key-1"));

        let jwk: Jwk = serde_json::from_str(&fixture("service-app.jwk.json")).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[AUD]);
        v.set_issuer(&["0oaclient"]);
        let claims = decode::<Claims>(jwt.expose(), &DecodingKey::from_jwk(&jwk).unwrap(), &v)
            .unwrap()
            .claims;
        assert_eq!(claims.sub, "0oaclient");
        assert_eq!(claims.exp - claims.iat, 300);
        assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());

        let other: Jwk = serde_json::from_str(&fixture("other-key.jwk.json")).unwrap();
        assert!(
            decode::<Claims>(jwt.expose(), &DecodingKey::from_jwk(&other).unwrap(), &v).is_err()
        );
        // Every assertion is new.
        assert_ne!(a.claims(1).jti, a.claims(1).jti);
    }

    #[test]
    fn no_kid_header_without_a_key_id() {
        let pem = Secret::new(fixture("service-app.pem"));
        let a = Assertion::new("0oaclient", None, &pem, AUD.into()).unwrap();
        assert_eq!(decode_header(a.sign().unwrap().expose()).unwrap().kid, None);
        assert!(!format!("{a:?}").contains("BEGIN"));
    }

    #[test]
    fn pkcs1_keys_are_accepted() {
        // The fixture key unwrapped from PKCS#8 to PKCS#1 (`RSA PRIVATE KEY`).
        let pkcs8 = fixture("service-app.pem");
        let body: String = pkcs8.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(body).unwrap();
        let pkcs1 = pkcs8_inner(&der);
        let pem = format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
            STANDARD.encode(pkcs1)
        );
        assert!(Assertion::new("c", None, &Secret::new(pem), AUD.into()).is_ok());
    }

    #[test]
    fn bad_keys_are_named_without_their_content() {
        let cases = [
            ("not a key at all".to_string(), "not PEM"),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_string(),
                "RSA private key",
            ),
            (
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".to_string(),
                "RSA private key",
            ),
        ];
        for (pem, want) in cases {
            let err = Assertion::new("c", None, &Secret::new(pem.clone()), AUD.into()).unwrap_err();
            assert!(matches!(err, OktaError::PrivateKey(_)), "{err}");
            assert!(err.to_string().contains(want), "{err}");
            assert!(!err.to_string().contains("AAAA"), "{err}");
        }
        let pem = Secret::new(fixture("service-app.pem"));
        assert!(matches!(
            Assertion::new(" ", None, &pem, AUD.into()),
            Err(OktaError::Credentials(_))
        ));
    }

    #[test]
    fn tokens_are_refreshed_before_expiry() {
        assert_eq!(
            refresh_margin(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(2)),
            Duration::from_secs(1)
        );
        let t0 = Instant::now();
        let c = Cached::new(Secret::new("t"), Duration::from_secs(3600), t0);
        assert!(c.fresh(t0 + Duration::from_secs(3539)));
        assert!(!c.fresh(t0 + Duration::from_secs(3540)));
        let zero = Cached::new(Secret::new("t"), Duration::ZERO, t0);
        assert!(!zero.fresh(t0));
    }

    /// DER element at `pos`: (header length, content length).
    fn der_len(der: &[u8], pos: usize) -> (usize, usize) {
        let first = der[pos + 1];
        if first < 0x80 {
            (2, usize::from(first))
        } else {
            let n = usize::from(first & 0x7f);
            let len = der[pos + 2..pos + 2 + n]
                .iter()
                .fold(0usize, |a, b| (a << 8) | usize::from(*b));
            (2 + n, len)
        }
    }

    /// PKCS#8 PrivateKeyInfo ::= SEQUENCE { version, algorithm SEQUENCE, privateKey
    /// OCTET STRING }: the OCTET STRING's content is the PKCS#1 key.
    fn pkcs8_inner(der: &[u8]) -> &[u8] {
        let (h, _) = der_len(der, 0);
        let mut pos = h;
        for _ in 0..2 {
            let (h, l) = der_len(der, pos);
            pos += h + l;
        }
        assert_eq!(der[pos], 0x04, "OCTET STRING");
        let (h, l) = der_len(der, pos);
        &der[pos + h..pos + h + l]
    }
}
