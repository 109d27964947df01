//! Authentication: SSWS API tokens, and OAuth 2.0 client credentials with
//! `private_key_jwt` at `POST /oauth2/v1/token`, issuing scoped bearer tokens.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;
use crate::util::random_alnum;

/// The `client_assertion_type` of `private_key_jwt`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest client-assertion lifetime Okta accepts (`exp` - `iat`).
const MAX_ASSERTION_LIFETIME_SECS: i64 = 3600;

/// The Okta scopes the simulator knows (the OAuth for Okta scopes of the endpoints it
/// serves).
pub const KNOWN_SCOPES: [&str; 10] = [
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.read",
    "okta.groups.manage",
    "okta.apps.read",
    "okta.apps.manage",
    "okta.logs.read",
    "okta.eventHooks.read",
    "okta.eventHooks.manage",
    "okta.clients.read",
];

/// A service app registered for OAuth 2.0 client credentials with `private_key_jwt`:
/// its client id, its public keys (JWKs, RSA or EC P-256), and the scopes granted to it.
#[derive(Clone, Debug, PartialEq)]
pub struct OAuthClient {
    /// The client id (`0oa…`), which is also the assertion's `iss` and `sub`.
    pub client_id: String,
    /// Public JWKs; a key's `kid`, when present, is matched against the assertion's.
    pub jwks: Vec<Value>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

impl OAuthClient {
    /// A client with its public JWKs and granted scopes.
    pub fn new<S: Into<String>>(
        client_id: impl Into<String>,
        jwks: Vec<Value>,
        scopes: impl IntoIterator<Item = S>,
    ) -> OAuthClient {
        OAuthClient {
            client_id: client_id.into(),
            jwks,
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }
}

struct ClientKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

struct Client {
    keys: Vec<ClientKey>,
    scopes: BTreeSet<String>,
}

fn client_key(client_id: &str, value: &Value) -> Result<ClientKey, Error> {
    let bad = |reason: String| Error::OAuthClient {
        client_id: client_id.to_owned(),
        reason,
    };
    let jwk: Jwk =
        serde_json::from_value(value.clone()).map_err(|e| bad(format!("not a JWK: {e}")))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| bad(format!("unusable JWK: {e}")))?;
    let algorithms = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![Algorithm::RS256, Algorithm::RS384, Algorithm::RS512],
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            vec![Algorithm::ES256]
        }
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P384 => {
            vec![Algorithm::ES384]
        }
        _ => {
            return Err(bad(
                "only RSA and EC (P-256, P-384) keys are supported".into()
            ));
        }
    };
    Ok(ClientKey {
        kid: jwk.common.key_id.clone(),
        key,
        algorithms,
    })
}

/// Who is calling: an SSWS token (all scopes, as the admin that made it) or an OAuth
/// access token (its granted scopes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    ApiToken,
    Client {
        client_id: String,
        scopes: BTreeSet<String>,
    },
}

impl Principal {
    /// Whether the caller holds `scope`; `okta.x.manage` includes `okta.x.read`.
    pub(crate) fn has_scope(&self, scope: &str) -> bool {
        match self {
            Principal::ApiToken => true,
            Principal::Client { scopes, .. } => {
                scopes.contains(scope)
                    || scope
                        .strip_suffix(".read")
                        .is_some_and(|base| scopes.contains(&format!("{base}.manage")))
            }
        }
    }
}

/// An OAuth error answer of the token endpoint: `{"error","error_description"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    fn client(description: impl Into<String>) -> OAuthError {
        OAuthError {
            status: 401,
            error: "invalid_client",
            description: description.into(),
        }
    }

    fn request(error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            status: 400,
            error,
            description: description.into(),
        }
    }

    pub(crate) fn body(&self) -> Value {
        json!({ "error": self.error, "error_description": self.description })
    }
}

struct Issued {
    client_id: String,
    scopes: BTreeSet<String>,
    expires: Instant,
}

#[derive(Deserialize)]
struct AssertionClaims {
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    jti: Option<String>,
}

#[derive(Deserialize)]
struct UnverifiedClaims {
    #[serde(default)]
    iss: Option<String>,
}

/// Tokens, clients, issued access tokens and used assertion ids.
pub(crate) struct Auth {
    api_tokens: HashSet<String>,
    clients: BTreeMap<String, Client>,
    issued: HashMap<String, Issued>,
    /// `jti` → the assertion's `exp`, kept until then so a replay is caught.
    used_jti: HashMap<String, i64>,
}

impl fmt::Debug for Auth {
    // Tokens are secrets even in a simulator: show counts only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("api_tokens", &self.api_tokens.len())
            .field("clients", &self.clients.keys().collect::<Vec<_>>())
            .field("issued", &self.issued.len())
            .finish()
    }
}

/// The form of `POST /oauth2/v1/token`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenForm {
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl Auth {
    pub(crate) fn new(api_tokens: Vec<String>, clients: Vec<OAuthClient>) -> Result<Auth, Error> {
        let mut registered = BTreeMap::new();
        for client in clients {
            if client.jwks.is_empty() {
                return Err(Error::OAuthClient {
                    client_id: client.client_id,
                    reason: "it has no public key".into(),
                });
            }
            let keys = client
                .jwks
                .iter()
                .map(|jwk| client_key(&client.client_id, jwk))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(unknown) = client
                .scopes
                .iter()
                .find(|s| !KNOWN_SCOPES.contains(&s.as_str()))
            {
                return Err(Error::OAuthClient {
                    client_id: client.client_id.clone(),
                    reason: format!("unknown scope {unknown:?}"),
                });
            }
            registered.insert(
                client.client_id.clone(),
                Client {
                    keys,
                    scopes: client.scopes.into_iter().collect(),
                },
            );
        }
        Ok(Auth {
            api_tokens: api_tokens.into_iter().collect(),
            clients: registered,
            issued: HashMap::new(),
            used_jti: HashMap::new(),
        })
    }

    /// Authenticates an API call's `Authorization` header.
    pub(crate) fn authenticate(&mut self, header: Option<&str>, now: Instant) -> Option<Principal> {
        let header = header?.trim();
        let (scheme, credential) = header.split_once(' ')?;
        let credential = credential.trim();
        if scheme.eq_ignore_ascii_case("SSWS") {
            return self
                .api_tokens
                .contains(credential)
                .then_some(Principal::ApiToken);
        }
        if !scheme.eq_ignore_ascii_case("Bearer") {
            return None;
        }
        self.issued.retain(|_, t| t.expires > now);
        self.issued.get(credential).map(|t| Principal::Client {
            client_id: t.client_id.clone(),
            scopes: t.scopes.clone(),
        })
    }

    /// Handles a token request: verifies the client assertion against `token_url` (the
    /// `aud` Okta requires) and issues a token for the requested scopes.
    pub(crate) fn issue(
        &mut self,
        form: &TokenForm,
        token_url: &str,
        lifetime: Duration,
        now: Instant,
    ) -> Result<Value, OAuthError> {
        if form.grant_type.as_deref() != Some("client_credentials") {
            return Err(OAuthError::request(
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].",
            ));
        }
        if form.client_assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(OAuthError::client(
                "The client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            ));
        }
        let assertion = form
            .client_assertion
            .as_deref()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| OAuthError::client("client_assertion is required."))?;
        let claims = self.verify_assertion(assertion, form.client_id.as_deref(), token_url)?;
        let client_id = claims.0;
        let requested: BTreeSet<String> = form
            .scope
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if requested.is_empty() {
            return Err(OAuthError::request(
                "invalid_scope",
                "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
            ));
        }
        let granted = self.clients.get(&client_id).map(|c| &c.scopes);
        let refused: Vec<&str> = requested
            .iter()
            .filter(|s| !granted.is_some_and(|g| g.contains(*s)))
            .map(String::as_str)
            .collect();
        if !refused.is_empty() {
            return Err(OAuthError::request(
                "invalid_scope",
                format!(
                    "The following scopes are not allowed: {}",
                    refused.join(" ")
                ),
            ));
        }
        // The assertion is spent only once it was good enough to get a token.
        self.used_jti.insert(claims.1, claims.2);
        let token = random_alnum(48);
        let scope = requested.iter().cloned().collect::<Vec<_>>().join(" ");
        self.issued.insert(
            token.clone(),
            Issued {
                client_id,
                scopes: requested,
                expires: now + lifetime,
            },
        );
        Ok(json!({
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
            "access_token": token,
            "scope": scope
        }))
    }

    /// Verifies the assertion; returns (client id, jti, exp).
    fn verify_assertion(
        &mut self,
        assertion: &str,
        form_client_id: Option<&str>,
        token_url: &str,
    ) -> Result<(String, String, i64), OAuthError> {
        let header = jsonwebtoken::decode_header(assertion)
            .map_err(|_| OAuthError::client("The client_assertion is not a well-formed JWT."))?;
        let unverified: UnverifiedClaims =
            jsonwebtoken::dangerous::insecure_decode_claims(assertion).map_err(|_| {
                OAuthError::client("The client_assertion is not a well-formed JWT.")
            })?;
        let client_id = unverified.iss.ok_or_else(|| {
            OAuthError::client("The client_assertion token must contain an 'iss' claim.")
        })?;
        if form_client_id.is_some_and(|id| id != client_id) {
            return Err(OAuthError::client(
                "The client_id parameter does not match the client_assertion's issuer.",
            ));
        }
        let client = self
            .clients
            .get(&client_id)
            .ok_or_else(|| OAuthError::client("Invalid value for 'client_id' parameter."))?;
        let candidates: Vec<&ClientKey> = match &header.kid {
            Some(kid) => client
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                .collect(),
            None => client.keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(OAuthError::client(
                "The client_assertion token has a kid which does not identify a key registered for the client.",
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[token_url]);
        validation.set_issuer(&[client_id.as_str()]);
        validation.sub = Some(client_id.clone());
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 0;
        let mut last = OAuthError::client("The client_assertion signature is invalid.");
        for key in candidates
            .into_iter()
            .filter(|k| k.algorithms.contains(&header.alg))
        {
            match jsonwebtoken::decode::<AssertionClaims>(assertion, &key.key, &validation) {
                Ok(data) => return self.check_claims(client_id, data.claims),
                Err(error) => {
                    last = match error.kind() {
                        JwtErrorKind::InvalidSignature => continue,
                        JwtErrorKind::ExpiredSignature => {
                            OAuthError::client("The client_assertion token is expired.")
                        }
                        JwtErrorKind::InvalidAudience => OAuthError::client(
                            "The audience claim for client_assertion must be the endpoint invoked for the request.",
                        ),
                        JwtErrorKind::InvalidIssuer | JwtErrorKind::InvalidSubject => {
                            OAuthError::client(
                                "The issuer and subject claims of the client_assertion must both be the client_id.",
                            )
                        }
                        JwtErrorKind::MissingRequiredClaim(claim) => OAuthError::client(format!(
                            "The client_assertion token must contain a '{claim}' claim."
                        )),
                        _ => OAuthError::client("The client_assertion is not a well-formed JWT."),
                    };
                    return Err(last);
                }
            }
        }
        Err(last)
    }

    fn check_claims(
        &mut self,
        client_id: String,
        claims: AssertionClaims,
    ) -> Result<(String, String, i64), OAuthError> {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let issued = claims.iat.unwrap_or(now);
        if claims.exp - issued > MAX_ASSERTION_LIFETIME_SECS {
            return Err(OAuthError::client(
                "The client_assertion token has an expiration too far into the future.",
            ));
        }
        let jti = claims.jti.filter(|j| !j.is_empty()).ok_or_else(|| {
            OAuthError::client("The client_assertion token must contain a 'jti' claim.")
        })?;
        self.used_jti.retain(|_, exp| *exp >= now);
        if self.used_jti.contains_key(&jti) {
            return Err(OAuthError::client(
                "The client_assertion token has already been used.",
            ));
        }
        Ok((client_id, jti, claims.exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(scopes: &[&str]) -> Principal {
        Principal::Client {
            client_id: "c".into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn manage_includes_read() {
        let p = principal(&["okta.users.manage", "okta.apps.read"]);
        assert!(p.has_scope("okta.users.read"));
        assert!(p.has_scope("okta.users.manage"));
        assert!(p.has_scope("okta.apps.read"));
        assert!(!p.has_scope("okta.apps.manage"));
        assert!(!p.has_scope("okta.groups.read"));
        assert!(Principal::ApiToken.has_scope("okta.logs.read"));
    }

    #[test]
    fn ssws_and_bearer_headers() {
        let mut auth = Auth::new(vec!["t0k".into()], Vec::new()).unwrap();
        let now = Instant::now();
        assert_eq!(
            auth.authenticate(Some("SSWS t0k"), now),
            Some(Principal::ApiToken)
        );
        assert_eq!(
            auth.authenticate(Some("ssws t0k"), now),
            Some(Principal::ApiToken)
        );
        assert_eq!(auth.authenticate(Some("SSWS nope"), now), None);
        assert_eq!(auth.authenticate(Some("Bearer t0k"), now), None);
        assert_eq!(auth.authenticate(Some("t0k"), now), None);
        assert_eq!(auth.authenticate(None, now), None);
    }

    #[test]
    fn bad_client_configuration_is_refused() {
        let no_key = OAuthClient::new("0oa1", Vec::new(), ["okta.users.read"]);
        assert!(Auth::new(Vec::new(), vec![no_key]).is_err());
        let junk = OAuthClient::new("0oa1", vec![json!({"kty": "nope"})], ["okta.users.read"]);
        assert!(Auth::new(Vec::new(), vec![junk]).is_err());
    }
}
