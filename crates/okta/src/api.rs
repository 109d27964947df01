//! [`OktaApi`]: the HTTP client of Okta's management API behind the
//! [`IdentitySource`] port.
//!
//! Every request goes through [`Inner::exchange`]: it waits while the endpoint family's
//! bucket is low (Okta's rate-limit headers), takes a slot of the concurrency cap, sends
//! with the configured timeout, waits out a 429 until its Reset (or gives up with
//! `RateLimited` when that is too far), and retries 5xx, timeouts and connection
//! failures a few times with backoff. Answers are classified in [`crate::classify`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use okta_connect_core::config::SourceKind;
use okta_connect_core::identity::{LogEvent, LogQuery, OktaApp, OktaGroup, OktaUser, SourceId};
use okta_connect_core::ports::{IdentityError, IdentitySource};
use okta_connect_core::time::UnixMillis;
use rand::Rng;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use crate::auth::{Assertion, Cached, TokenAnswer};
use crate::classify;
use crate::link;
use crate::model::{self, AppJson, AppUserJson, GroupJson, Published, UserJson};
use crate::rate::{self, Bucket, Buckets, Family};
use crate::scope;
use crate::settings::{self, OktaApiSettings, OktaAuth, OktaError, Secret};

/// Page sizes: Okta's recommended 200 for group members, each endpoint's maximum
/// elsewhere (fewer calls against the small apps bucket).
const GROUP_MEMBERS_LIMIT: u32 = 200;
const APP_USERS_LIMIT: u32 = 500;
const SEARCH_LIMIT: u32 = 200;
const LOG_LIMIT: u32 = 1000;

/// A loop guard: no real list of this port has this many pages.
const MAX_PAGES: usize = 100_000;

/// How many 429s in a row one call waits out before giving up.
const MAX_THROTTLED_WAITS: u32 = 5;

/// The adapter. Cheap to clone; clones share the connection pool, the concurrency cap,
/// the rate-limit state and the access token.
#[derive(Clone)]
pub struct OktaApi {
    inner: Arc<Inner>,
}

impl fmt::Debug for OktaApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OktaApi")
            .field("org_url", &self.inner.org.as_str())
            .field(
                "auth",
                &match &self.inner.auth {
                    Auth::Ssws(_) => "SSWS",
                    Auth::Jwt { .. } => "private_key_jwt",
                },
            )
            .finish()
    }
}

enum Auth {
    /// `SSWS <token>`, ready to send.
    Ssws(HeaderValue),
    Jwt {
        assertion: Assertion,
        scopes: Vec<String>,
        /// Held while a token is fetched, so concurrent callers wait for one request.
        token: Mutex<Option<Cached>>,
    },
}

struct Inner {
    http: reqwest::Client,
    org: Url,
    auth: Auth,
    gate: Semaphore,
    buckets: std::sync::Mutex<Buckets>,
    max_rate_limit_wait: Duration,
    transient_retries: u32,
    retry_backoff: Duration,
    timeout: Duration,
    requests: AtomicU64,
    token_requests: AtomicU64,
}

/// A final answer (2xx, or an error status that is not retried any more).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl OktaApi {
    /// Validates `settings` (org URL, key, numbers) and builds the client. No request is
    /// sent: the first call fetches the access token.
    pub fn new(settings: OktaApiSettings) -> Result<Self, OktaError> {
        let org = settings::org_url(&settings.org_url)?;
        if settings.max_concurrent_requests == 0 {
            return Err(OktaError::Setting {
                setting: "max_concurrent_requests",
                reason: "must be at least 1".into(),
            });
        }
        if settings.timeout.is_zero() {
            return Err(OktaError::Setting {
                setting: "timeout",
                reason: "must be more than zero".into(),
            });
        }
        let auth = match &settings.auth {
            OktaAuth::ApiToken(token) => {
                let token = token.expose().trim();
                if token.is_empty() {
                    return Err(OktaError::Credentials("the API token is empty".into()));
                }
                let mut value = HeaderValue::from_str(&format!("SSWS {token}")).map_err(|_| {
                    OktaError::Credentials(
                        "the API token has characters a header cannot carry".into(),
                    )
                })?;
                value.set_sensitive(true);
                Auth::Ssws(value)
            }
            OktaAuth::PrivateKeyJwt {
                client_id,
                key_id,
                private_key_pem,
                scopes,
            } => {
                let scopes: Vec<String> = scopes
                    .iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                if scopes.is_empty() {
                    return Err(OktaError::Credentials(
                        "no scopes to request (e.g. okta.users.read okta.groups.read \
                         okta.apps.read okta.logs.read)"
                            .into(),
                    ));
                }
                let audience = token_url(&org).to_string();
                Auth::Jwt {
                    assertion: Assertion::new(
                        client_id,
                        key_id.as_deref(),
                        private_key_pem,
                        audience,
                    )?,
                    scopes,
                    token: Mutex::new(None),
                }
            }
        };
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            // Okta's API does not redirect; following one could send the credentials
            // elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("okta-connect/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OktaError::Client(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                org,
                auth,
                gate: Semaphore::new(settings.max_concurrent_requests),
                buckets: std::sync::Mutex::new(Buckets::default()),
                max_rate_limit_wait: settings.max_rate_limit_wait,
                transient_retries: settings.transient_retries,
                retry_backoff: settings.retry_backoff,
                timeout: settings.timeout,
                requests: AtomicU64::new(0),
                token_requests: AtomicU64::new(0),
            }),
        })
    }

    /// The org URL requests go to.
    pub fn org_url(&self) -> &str {
        self.inner.org.as_str()
    }

    /// HTTP requests sent so far (each attempt counts; token requests included).
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Token requests sent so far (private_key_jwt only).
    pub fn token_requests(&self) -> u64 {
        self.inner.token_requests.load(Ordering::Relaxed)
    }
}

fn token_url(org: &Url) -> Url {
    endpoint(org, &["oauth2", "v1", "token"])
}

/// `org` with this path (each segment percent-encoded) and no query.
fn endpoint(org: &Url, segments: &[&str]) -> Url {
    let mut url = org.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.clear().extend(segments);
    }
    url
}

fn with_query(mut url: Url, pairs: &[(&str, &str)]) -> Url {
    url.query_pairs_mut().extend_pairs(pairs);
    url
}

fn now() -> UnixMillis {
    UnixMillis::now()
}

/// 100–400 ms, so callers released by the same Reset do not all arrive at once.
fn jitter() -> Duration {
    Duration::from_millis(rand::rng().random_range(100..=400))
}

impl Inner {
    fn bucket_pause(&self, family: Family) -> Option<(Duration, Bucket)> {
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pause(family, now())
    }

    /// Sleeps while the family's bucket is low; `RateLimited` at once when it is empty
    /// until further away than the caller will wait.
    async fn pace(&self, family: Family) -> Result<(), IdentityError> {
        if let Some((pause, bucket)) = self.bucket_pause(family) {
            if bucket.remaining == 0 {
                if pause > self.max_rate_limit_wait {
                    return Err(IdentityError::RateLimited {
                        retry_at: bucket.reset,
                    });
                }
                tokio::time::sleep(pause + jitter()).await;
            } else {
                tracing::debug!(
                    ?family,
                    remaining = bucket.remaining,
                    pause_ms = pause.as_millis() as u64,
                    "okta rate limit low: pacing"
                );
                tokio::time::sleep(pause.min(self.max_rate_limit_wait)).await;
            }
        }
        Ok(())
    }

    fn record(&self, family: Family, headers: &HeaderMap) -> Option<u64> {
        let bucket = Bucket::from_headers(headers)?;
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(family, bucket);
        Some(bucket.remaining)
    }

    fn backoff(&self, failures: u32) -> Duration {
        self.retry_backoff
            .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
    }

    /// One request with pacing, the concurrency cap, 429 waits and transient retries.
    /// Returns the final answer, whatever its status, except: a 429 not worth waiting
    /// for is `RateLimited`, and a transport failure after the retries is `Unavailable`.
    async fn exchange(
        &self,
        method: Method,
        url: &Url,
        authorization: Option<&HeaderValue>,
        form: Option<&str>,
    ) -> Result<Answer, IdentityError> {
        let family = Family::of(url.path());
        let mut failures = 0u32;
        let mut throttled = 0u32;
        loop {
            self.pace(family).await?;
            let sent = {
                let _slot =
                    self.gate.acquire().await.map_err(|_| {
                        IdentityError::Unavailable("the Okta client is closed".into())
                    })?;
                self.buckets
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take(family);
                self.requests.fetch_add(1, Ordering::Relaxed);
                let mut request = self.http.request(method.clone(), url.clone());
                request = request.header(reqwest::header::ACCEPT, "application/json");
                if let Some(value) = authorization {
                    request = request.header(AUTHORIZATION, value.clone());
                }
                if let Some(body) = form {
                    request = request
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(body.to_string());
                }
                match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        let headers = response.headers().clone();
                        response.bytes().await.map(|body| Answer {
                            status,
                            headers,
                            body: body.to_vec(),
                        })
                    }
                    Err(e) => Err(e),
                }
            };
            let answer = match sent {
                Ok(answer) => answer,
                Err(e) => {
                    let what = if e.is_timeout() {
                        format!("no answer within {:?}", self.timeout)
                    } else if e.is_connect() {
                        "could not connect".to_string()
                    } else {
                        e.without_url().to_string()
                    };
                    tracing::debug!(%method, path = url.path(), error = %what, "okta request failed");
                    failures += 1;
                    if failures <= self.transient_retries {
                        tokio::time::sleep(self.backoff(failures)).await;
                        continue;
                    }
                    return Err(IdentityError::Unavailable(format!(
                        "{method} {}: {what} (after {failures} attempts)",
                        url.path()
                    )));
                }
            };
            let remaining = self.record(family, &answer.headers);
            tracing::debug!(
                %method,
                path = url.path(),
                status = answer.status.as_u16(),
                remaining,
                "okta request"
            );
            if answer.status == StatusCode::TOO_MANY_REQUESTS {
                let now = now();
                let retry_at = rate::retry_at(&answer.headers, now);
                let wait = now.until(retry_at) + jitter();
                throttled += 1;
                if wait > self.max_rate_limit_wait || throttled > MAX_THROTTLED_WAITS {
                    return Err(IdentityError::RateLimited { retry_at });
                }
                tracing::debug!(
                    path = url.path(),
                    wait_ms = wait.as_millis() as u64,
                    "okta 429: waiting for the reset"
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            if answer.status.is_server_error() && failures < self.transient_retries {
                failures += 1;
                tokio::time::sleep(self.backoff(failures)).await;
                continue;
            }
            return Ok(answer);
        }
    }

    /// The access token: the cached one while fresh, else a new one. `stale` is a token
    /// an API call just saw refused: replaced unless another caller already did.
    async fn access_token(
        &self,
        stale: Option<&HeaderValue>,
    ) -> Result<HeaderValue, IdentityError> {
        let Auth::Jwt {
            assertion,
            scopes,
            token,
        } = &self.auth
        else {
            return Err(IdentityError::Invalid("not an OAuth client".into()));
        };
        let mut slot = token.lock().await;
        if let Some(cached) = slot.as_ref() {
            let refused = stale.is_some_and(|s| bearer(&cached.token).ok().as_ref() == Some(s));
            if cached.fresh(Instant::now()) && !refused {
                return bearer(&cached.token);
            }
        }
        *slot = None;
        let client_assertion = assertion.sign()?;
        let mut form = Url::parse("http://form.invalid/")
            .map_err(|e| IdentityError::Invalid(e.to_string()))?;
        form.query_pairs_mut()
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", &scopes.join(" "))
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", client_assertion.expose());
        let body = form.query().unwrap_or_default().to_string();
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        let issued = Instant::now();
        let answer = self
            .exchange(Method::POST, &token_url(&self.org), None, Some(&body))
            .await?;
        if !answer.status.is_success() {
            return Err(classify::token_error(answer.status, &answer.body, scopes));
        }
        let parsed: TokenAnswer = serde_json::from_slice(&answer.body).map_err(|e| {
            IdentityError::Invalid(format!(
                "the token endpoint answered {} with an unexpected body ({e})",
                answer.status.as_u16()
            ))
        })?;
        if parsed
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            return Err(IdentityError::Invalid(
                "the token endpoint returned a token that is not a Bearer token".into(),
            ));
        }
        tracing::debug!(
            client_id = assertion.client_id(),
            expires_in = parsed.expires_in,
            "okta access token obtained"
        );
        let cached = Cached::new(
            Secret::new(parsed.access_token),
            Duration::from_secs(parsed.expires_in),
            issued,
        );
        let value = bearer(&cached.token)?;
        *slot = Some(cached);
        Ok(value)
    }

    /// `GET url` with credentials; a 2xx answer, or the classified error. A 401 with an
    /// access token fetches a new token and tries once more (revoked or expired early).
    async fn get(&self, url: &Url, scope: &str) -> Result<Answer, IdentityError> {
        let mut refreshed = false;
        let mut stale: Option<HeaderValue> = None;
        loop {
            let (authorization, is_bearer) = match &self.auth {
                Auth::Ssws(value) => (value.clone(), false),
                Auth::Jwt { .. } => (self.access_token(stale.as_ref()).await?, true),
            };
            let answer = self
                .exchange(Method::GET, url, Some(&authorization), None)
                .await?;
            if answer.status.is_success() {
                return Ok(answer);
            }
            if answer.status == StatusCode::UNAUTHORIZED && is_bearer && !refreshed {
                refreshed = true;
                stale = Some(authorization);
                continue;
            }
            return Err(classify::api_error(
                answer.status,
                &answer.headers,
                &answer.body,
                url.path(),
                scope,
                is_bearer,
            ));
        }
    }

    /// Every item of a paged list, following `Link: rel="next"` on the org's host only.
    async fn pages<T: DeserializeOwned>(
        &self,
        first: Url,
        scope: &str,
    ) -> Result<Vec<T>, IdentityError> {
        let mut items = Vec::new();
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let answer = self.get(&url, scope).await?;
            let page: Vec<T> = parse(&answer, url.path())?;
            let empty = page.is_empty();
            items.extend(page);
            let next = link::next_link(
                answer
                    .headers
                    .get_all(reqwest::header::LINK)
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
            );
            // An empty page ends the list even with a next link (Okta's System Log
            // polling queries always carry one).
            let Some(next) = next.filter(|_| !empty) else {
                return Ok(items);
            };
            let next = url.join(&next).map_err(|e| {
                IdentityError::Invalid(format!(
                    "Okta's next link on {} is not a URL ({e})",
                    url.path()
                ))
            })?;
            if next.origin() != self.org.origin() {
                return Err(IdentityError::Invalid(format!(
                    "Okta's next link on {} points at another host ({}); not following it",
                    url.path(),
                    next.host_str().unwrap_or("?")
                )));
            }
            url = next;
        }
        Err(IdentityError::Invalid(format!(
            "{} has more than {MAX_PAGES} pages; stopping",
            url.path()
        )))
    }
}

fn bearer(token: &Secret) -> Result<HeaderValue, IdentityError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        IdentityError::Invalid("the token endpoint returned a token a header cannot carry".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

fn parse<T: DeserializeOwned>(answer: &Answer, path: &str) -> Result<T, IdentityError> {
    serde_json::from_slice(&answer.body).map_err(|e| {
        IdentityError::Invalid(format!(
            "{path} answered {} with a body that is not the expected JSON ({e}); is the org URL right?",
            answer.status.as_u16()
        ))
    })
}

impl OktaApi {
    async fn user_by_id(&self, id: &str) -> Result<Option<OktaUser>, IdentityError> {
        if id.trim().is_empty() {
            return Ok(None);
        }
        let url = endpoint(&self.inner.org, &["api", "v1", "users", id]);
        match self.inner.get(&url, scope::USERS).await {
            Ok(answer) => Ok(Some(parse::<UserJson>(&answer, url.path())?.into())),
            Err(IdentityError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn group_members(&self, id: &str) -> Result<Vec<OktaUser>, IdentityError> {
        let limit = GROUP_MEMBERS_LIMIT.to_string();
        let url = with_query(
            endpoint(&self.inner.org, &["api", "v1", "groups", id, "users"]),
            &[("limit", &limit)],
        );
        let users: Vec<UserJson> = self.inner.pages(url, scope::GROUPS).await?;
        Ok(users.into_iter().map(OktaUser::from).collect())
    }

    async fn app_members(&self, id: &str) -> Result<Vec<OktaUser>, IdentityError> {
        let limit = APP_USERS_LIMIT.to_string();
        let url = with_query(
            endpoint(&self.inner.org, &["api", "v1", "apps", id, "users"]),
            &[("limit", &limit), ("expand", "user")],
        );
        let assigned: Vec<AppUserJson> = self.inner.pages(url, scope::APPS).await?;
        let mut users = Vec::with_capacity(assigned.len());
        for app_user in assigned {
            match app_user.embedded.and_then(|e| e.user) {
                Some(user) => users.push(user.into()),
                // Okta omits the embedded user at times: read it. A user deleted since
                // the page was read is no member any more.
                None => users.extend(self.user_by_id(&app_user.id).await?),
            }
        }
        Ok(users)
    }
}

impl IdentitySource for OktaApi {
    async fn user(&self, okta_user_id: &str) -> Result<Option<OktaUser>, IdentityError> {
        self.user_by_id(okta_user_id).await
    }

    async fn members(&self, source: &SourceId) -> Result<Vec<OktaUser>, IdentityError> {
        if source.id.trim().is_empty() {
            return Err(IdentityError::NotFound(format!("{source}: empty id")));
        }
        let result = match source.kind {
            SourceKind::Group => self.group_members(&source.id).await,
            SourceKind::App => self.app_members(&source.id).await,
        };
        result.map_err(|e| match e {
            IdentityError::NotFound(detail) => {
                IdentityError::NotFound(format!("{source} ({detail})"))
            }
            other => other,
        })
    }

    async fn find_group(&self, name: &str) -> Result<Option<OktaGroup>, IdentityError> {
        let search = format!("profile.name eq {}", model::literal(name));
        let limit = SEARCH_LIMIT.to_string();
        let url = with_query(
            endpoint(&self.inner.org, &["api", "v1", "groups"]),
            &[("search", &search), ("limit", &limit)],
        );
        let groups: Vec<GroupJson> = self.inner.pages(url, scope::GROUPS).await?;
        Ok(groups
            .into_iter()
            .find(|g| model::same_name(&g.profile.name, name))
            .map(OktaGroup::from))
    }

    async fn find_app(&self, label: &str) -> Result<Option<OktaApp>, IdentityError> {
        let limit = SEARCH_LIMIT.to_string();
        // `q` matches name and label prefixes: filter for the exact label.
        let url = with_query(
            endpoint(&self.inner.org, &["api", "v1", "apps"]),
            &[("q", label), ("limit", &limit)],
        );
        let apps: Vec<AppJson> = self.inner.pages(url, scope::APPS).await?;
        Ok(apps
            .into_iter()
            .find(|a| model::same_name(&a.label, label))
            .map(OktaApp::from))
    }

    async fn system_log(&self, query: &LogQuery) -> Result<Vec<LogEvent>, IdentityError> {
        // Without `until` Okta runs a polling query, whose next link never ends: bound
        // it at now, which is what the port means.
        let until = query.until.unwrap_or_else(now);
        let since = query.since.to_string();
        let until = until.to_string();
        let limit = LOG_LIMIT.to_string();
        let filter = model::event_type_filter(&query.event_types);
        let mut pairs = vec![
            ("since", since.as_str()),
            ("until", until.as_str()),
            ("limit", limit.as_str()),
        ];
        if let Some(filter) = &filter {
            pairs.push(("filter", filter));
        }
        let url = with_query(endpoint(&self.inner.org, &["api", "v1", "logs"]), &pairs);
        let raw: Vec<Box<RawValue>> = self.inner.pages(url, scope::LOGS).await?;
        let mut events: Vec<(Option<UnixMillis>, LogEvent)> = raw
            .into_iter()
            .map(|event| {
                let published = serde_json::from_str::<Published>(event.get())
                    .ok()
                    .and_then(|p| p.published)
                    .and_then(|p| UnixMillis::parse_rfc3339(&p));
                (published, LogEvent(event.get().to_string()))
            })
            .collect();
        // Bounded queries come ordered already; a stable sort keeps that order and
        // repairs a delayed event's place.
        events.sort_by_key(|(published, _)| *published);
        Ok(events.into_iter().map(|(_, e)| e).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> String {
        std::fs::read_to_string(format!(
            "{}/../../tests/fixtures/okta/keys/service-app.pem",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn jwt(scopes: Vec<String>) -> OktaAuth {
        OktaAuth::PrivateKeyJwt {
            client_id: "0oaclient".into(),
            key_id: Some("test-key-1".into()),
            private_key_pem: Secret::new(key()),
            scopes,
        }
    }

    #[test]
    fn construction_validates_settings() {
        let ok = OktaApi::new(OktaApiSettings::new(
            "https://x.okta.com",
            jwt(OktaAuth::read_scopes()),
        ))
        .unwrap();
        assert_eq!(ok.org_url(), "https://x.okta.com/");
        let debug = format!("{ok:?}");
        assert!(
            debug.contains("private_key_jwt") && !debug.contains("BEGIN"),
            "{debug}"
        );

        let err = OktaApi::new(OktaApiSettings::new(
            "https://x.okta.com",
            jwt(vec![" ".into()]),
        ))
        .unwrap_err();
        assert!(matches!(err, OktaError::Credentials(_)), "{err}");

        let err = OktaApi::new(OktaApiSettings::new(
            "http://x.okta.com",
            jwt(OktaAuth::read_scopes()),
        ))
        .unwrap_err();
        assert!(matches!(err, OktaError::OrgUrl { .. }), "{err}");

        let bad_key = OktaAuth::PrivateKeyJwt {
            client_id: "0oaclient".into(),
            key_id: None,
            private_key_pem: Secret::new(
                "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
            ),
            scopes: OktaAuth::read_scopes(),
        };
        let err = OktaApi::new(OktaApiSettings::new("https://x.okta.com", bad_key)).unwrap_err();
        assert!(matches!(err, OktaError::PrivateKey(_)), "{err}");
        assert!(!err.to_string().contains("MIIB"), "{err}");

        let err = OktaApi::new(OktaApiSettings::new(
            "https://x.okta.com",
            OktaAuth::ApiToken(Secret::new("  ")),
        ))
        .unwrap_err();
        assert!(matches!(err, OktaError::Credentials(_)));
        let err = OktaApi::new(OktaApiSettings::new(
            "https://x.okta.com",
            OktaAuth::ApiToken(Secret::new("a\nb")),
        ))
        .unwrap_err();
        assert!(matches!(err, OktaError::Credentials(_)));

        let mut s =
            OktaApiSettings::new("https://x.okta.com", OktaAuth::ApiToken(Secret::new("t")));
        s.max_concurrent_requests = 0;
        assert!(matches!(
            OktaApi::new(s.clone()),
            Err(OktaError::Setting {
                setting: "max_concurrent_requests",
                ..
            })
        ));
        s.max_concurrent_requests = 1;
        s.timeout = Duration::ZERO;
        assert!(matches!(
            OktaApi::new(s),
            Err(OktaError::Setting {
                setting: "timeout",
                ..
            })
        ));
    }

    #[test]
    fn endpoints_encode_ids_and_queries() {
        let org = Url::parse("https://x.okta.com").unwrap();
        assert_eq!(
            token_url(&org).as_str(),
            "https://x.okta.com/oauth2/v1/token"
        );
        assert_eq!(
            endpoint(&org, &["api", "v1", "users", "a/b?c"]).as_str(),
            "https://x.okta.com/api/v1/users/a%2Fb%3Fc"
        );
        let url = with_query(
            endpoint(&org, &["api", "v1", "groups"]),
            &[("search", r#"profile.name eq "a&b""#), ("limit", "200")],
        );
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                ("search".to_string(), r#"profile.name eq "a&b""#.to_string()),
                ("limit".to_string(), "200".to_string())
            ]
        );
    }

    #[test]
    fn backoff_doubles() {
        let api = OktaApi::new(OktaApiSettings::new(
            "https://x.okta.com",
            OktaAuth::ApiToken(Secret::new("t")),
        ))
        .unwrap();
        assert_eq!(api.inner.backoff(1), Duration::from_millis(250));
        assert_eq!(api.inner.backoff(2), Duration::from_millis(500));
        assert_eq!(api.inner.backoff(3), Duration::from_millis(1000));
    }
}
