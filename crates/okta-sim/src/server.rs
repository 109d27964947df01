//! HTTP: routing, the front door every request passes (concurrency cap, latency, rate
//! limit, injected faults, authentication), and the endpoint handlers.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Form, FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::api_error::ApiError;
use crate::auth::{OAuthError, Principal, TokenForm};
use crate::events::{Actor, Ctx};
use crate::filter;
use crate::model::{Scope, app_user_json};
use crate::org::{Hook, Lifecycle, NOT_HOOK_ELIGIBLE, Org};
use crate::ratelimit::{Family, RateHeaders};
use crate::sim::{OktaSim, lock};
use crate::util::{
    decode_cursor, encode_cursor, okta_id, parse_rfc3339, percent_decode, random_alnum, rfc3339_ms,
};

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;
/// Okta's cap on active event hooks per org.
const MAX_ACTIVE_HOOKS: usize = 25;
/// How far back `/api/v1/logs` looks without `since` (Okta: 7 days).
const DEFAULT_LOG_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);

pub(crate) fn router(sim: OktaSim) -> Router {
    Router::new().fallback(front_door).with_state(sim)
}

/// A successful answer.
struct Reply {
    status: StatusCode,
    body: Option<Value>,
    links: Vec<String>,
}

impl Reply {
    fn json(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            links: Vec::new(),
        }
    }

    fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            links: Vec::new(),
        }
    }

    fn into_response(self) -> Response {
        let mut response = match self.body {
            Some(body) => (self.status, axum::Json(body)).into_response(),
            None => self.status.into_response(),
        };
        for link in self.links {
            if let Ok(value) = HeaderValue::from_str(&link) {
                response.headers_mut().append(header::LINK, value);
            }
        }
        response
    }
}

fn error_response(error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(error.body())).into_response();
    if let Some(challenge) = error
        .www_authenticate
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

fn oauth_response(error: &OAuthError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(error.body())).into_response()
}

fn add_rate_headers(response: &mut Response, rate: Option<RateHeaders>) {
    let Some(rate) = rate else { return };
    let headers = response.headers_mut();
    headers.insert("x-rate-limit-limit", HeaderValue::from(rate.limit));
    headers.insert("x-rate-limit-remaining", HeaderValue::from(rate.remaining));
    headers.insert("x-rate-limit-reset", HeaderValue::from(rate.reset));
}

/// Every request: route to a family, then the concurrency cap, latency, the family's
/// bucket, injected faults, and the endpoint. Throttling comes before faults so a
/// throttled request never consumes one, as Okta's edge rejects it first.
async fn front_door(State(sim): State<OktaSim>, request: Request) -> Response {
    let request_id = random_alnum(27);
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = parts.method.as_str().to_owned();
    let mut response = 'answer: {
        let Some(family) = Family::of(&method, &segments) else {
            break 'answer error_response(&ApiError::no_such_endpoint(&path));
        };
        let _slot = match sim.enter() {
            Ok(slot) => slot,
            Err(cap) => {
                sim.count(family, true);
                // Okta reports the concurrency limit in the same headers; a slot frees
                // as soon as a request in flight ends, so Reset is the next second.
                let reset = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() + 1)
                    .unwrap_or_default();
                let rate = RateHeaders {
                    limit: cap,
                    remaining: 0,
                    reset,
                };
                let mut response = error_response(&ApiError::rate_limited(Some(rate)));
                add_rate_headers(&mut response, Some(rate));
                break 'answer response;
            }
        };
        let latency = sim.faults().current_latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let admitted = lock(&sim.inner.throttle).admit(family, Instant::now());
        let rate = match admitted {
            Ok(rate) => {
                sim.count(family, false);
                rate
            }
            Err(rate) => {
                sim.count(family, true);
                let mut response = error_response(&ApiError::rate_limited(Some(rate)));
                add_rate_headers(&mut response, Some(rate));
                break 'answer response;
            }
        };
        let mut response = if let Some(status) = sim.faults().take(family) {
            error_response(&ApiError::injected(status))
        } else {
            match axum::body::to_bytes(body, MAX_BODY).await {
                Err(_) => {
                    error_response(&ApiError::bad_body("the body is too large or was cut off"))
                }
                Ok(bytes) if family == Family::Token => token(&sim, &parts.headers, bytes).await,
                Ok(bytes) => {
                    let call = Call::new(&sim, &parts, &path, bytes, &request_id);
                    match call {
                        Err(error) => error_response(&error),
                        Ok(call) => match call.dispatch(&method, &segments).await {
                            Ok(reply) => reply.into_response(),
                            Err(error) => error_response(&error),
                        },
                    }
                }
            }
        };
        add_rate_headers(&mut response, rate);
        response
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-okta-request-id", value);
    }
    tracing::debug!(%method, %path, status = response.status().as_u16(), "okta-sim request");
    response
}

// ---- OAuth token endpoint --------------------------------------------------------------

async fn token(sim: &OktaSim, headers: &HeaderMap, body: Bytes) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).cloned();
    let form_request = Request::builder()
        .method("POST")
        .header(
            header::CONTENT_TYPE,
            content_type.unwrap_or(HeaderValue::from_static("application/octet-stream")),
        )
        .body(Body::from(body));
    let form = match form_request {
        Ok(request) => Form::<TokenForm>::from_request(request, &()).await.ok(),
        Err(_) => None,
    };
    let Some(Form(form)) = form else {
        return oauth_response(&OAuthError {
            status: 400,
            error: "invalid_request",
            description: "The request must be an application/x-www-form-urlencoded form.".into(),
        });
    };
    let token_url = format!("{}/oauth2/v1/token", sim.url());
    let issued =
        lock(&sim.inner.auth).issue(&form, &token_url, sim.inner.token_lifetime, Instant::now());
    match issued {
        Ok(body) => {
            let mut response = (StatusCode::OK, axum::Json(body)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
                .headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(error) => oauth_response(&error),
    }
}

// ---- the Management API ------------------------------------------------------------------

const USER_ATTRIBUTES: &[&str] = &[
    "profile.*",
    "status",
    "id",
    "created",
    "lastUpdated",
    "statusChanged",
    "activated",
    "type.id",
];
const GROUP_ATTRIBUTES: &[&str] = &[
    "profile.name",
    "profile.description",
    "type",
    "id",
    "created",
    "lastUpdated",
    "lastMembershipUpdated",
];
const APP_ATTRIBUTES: &[&str] = &["status", "name", "id", "label", "signOnMode"];
const LOG_ATTRIBUTES: &[&str] = &[
    "eventType",
    "severity",
    "uuid",
    "actor.id",
    "actor.alternateId",
    "actor.type",
    "outcome.result",
    "transaction.id",
    "legacyEventType",
];

/// One authenticated API call.
struct Call<'a> {
    sim: &'a OktaSim,
    principal: Principal,
    path: &'a str,
    query: Vec<(String, String)>,
    body: Bytes,
    request_id: &'a str,
    user_agent: String,
    org_url: String,
}

impl<'a> Call<'a> {
    fn new(
        sim: &'a OktaSim,
        parts: &axum::http::request::Parts,
        path: &'a str,
        body: Bytes,
        request_id: &'a str,
    ) -> Result<Call<'a>, ApiError> {
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let principal = lock(&sim.inner.auth)
            .authenticate(authorization, Instant::now())
            .ok_or_else(ApiError::invalid_token)?;
        let Query(query) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|_| ApiError::validation("query", "the query string is not well-formed"))?;
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("unknown")
            .to_owned();
        Ok(Call {
            sim,
            principal,
            path,
            query,
            body,
            request_id,
            user_agent,
            org_url: sim.url(),
        })
    }

    fn need(&self, scope: &str) -> Result<(), ApiError> {
        if self.principal.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(self.path))
        }
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn body_json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| ApiError::bad_body(e.to_string()))
    }

    fn ctx(&self) -> Ctx {
        let actor = match &self.principal {
            Principal::ApiToken => Actor::sim_admin(),
            Principal::Client { client_id, .. } => Actor::client(client_id),
        };
        Ctx {
            actor,
            request_id: self.request_id.to_owned(),
            user_agent: self.user_agent.clone(),
            request_uri: self.path.to_owned(),
            now: OffsetDateTime::now_utc(),
        }
    }

    /// Runs a change under the org lock and publishes its events (System Log, hooks) in
    /// the same critical section, so log order and delivery order agree.
    fn write<T>(
        &self,
        change: impl FnOnce(&mut Org, &Ctx, &mut Vec<Value>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let ctx = self.ctx();
        let mut events = Vec::new();
        let mut org = lock(&self.sim.inner.org);
        let result = change(&mut org, &ctx, &mut events);
        self.sim.publish_locked(&mut org, events, ctx.now);
        result
    }

    fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.param("limit") {
            None => Ok(default),
            Some(text) => match text.trim().parse::<i64>() {
                Ok(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(max).min(max)),
                _ => Err(ApiError::validation(
                    "limit",
                    format!("limit: {text:?} is not a positive number"),
                )),
            },
        }
    }

    /// One page of `items` (sorted by key) after the `after` cursor, with Okta's `Link`
    /// headers. `always_next` is for System Log polling queries, which always link on.
    fn page(
        &self,
        items: Vec<(String, Value)>,
        default: usize,
        max: usize,
        always_next: bool,
    ) -> Result<Reply, ApiError> {
        let limit = self.limit(default, max)?;
        let after =
            match self.param("after") {
                None => None,
                Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
                    ApiError::validation("after", "after: the cursor is not valid")
                })?),
            };
        let mut rest = items
            .into_iter()
            .filter(|(key, _)| after.as_ref().is_none_or(|a| key > a))
            .peekable();
        let mut page = Vec::new();
        let mut last_key = after.clone();
        while page.len() < limit {
            let Some((key, value)) = rest.next() else {
                break;
            };
            last_key = Some(key);
            page.push(value);
        }
        let more = rest.peek().is_some();
        let mut reply = Reply::json(Value::Array(page));
        reply
            .links
            .push(format!("<{}>; rel=\"self\"", self.url_with(None, None)));
        if more || always_next {
            let cursor = encode_cursor(last_key.as_deref().unwrap_or(""));
            reply.links.push(format!(
                "<{}>; rel=\"next\"",
                self.url_with(Some(&cursor), Some(limit))
            ));
        }
        Ok(reply)
    }

    /// The request's URL on the org, optionally with `after`/`limit` replaced.
    fn url_with(&self, after: Option<&str>, limit: Option<usize>) -> String {
        let base = format!("{}{}", self.org_url, self.path);
        let Ok(mut url) = reqwest::Url::parse(&base) else {
            return base;
        };
        {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in &self.query {
                if after.is_some() && (key == "after" || key == "limit") {
                    continue;
                }
                pairs.append_pair(key, value);
            }
            if let Some(after) = after {
                pairs.append_pair("after", after);
                pairs.append_pair("limit", &limit.unwrap_or_default().to_string());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url.to_string()
    }

    fn segment(raw: &str) -> Result<String, ApiError> {
        percent_decode(raw).ok_or_else(|| ApiError::not_found(raw, "Resource"))
    }

    async fn dispatch(&self, method: &str, segments: &[&str]) -> Result<Reply, ApiError> {
        let rest = match segments {
            ["api", "v1", rest @ ..] => rest,
            _ => return Err(ApiError::no_such_endpoint(self.path)),
        };
        match (method, rest) {
            ("GET", ["users"]) => self.list_users(),
            ("POST", ["users"]) => self.create_user(),
            ("GET", ["users", id]) => self.get_user(&Self::segment(id)?),
            ("POST", ["users", id]) => self.update_user(&Self::segment(id)?, false),
            ("PUT", ["users", id]) => self.update_user(&Self::segment(id)?, true),
            ("DELETE", ["users", id]) => {
                self.need("okta.users.manage")?;
                let id = Self::segment(id)?;
                self.write(|org, ctx, ev| org.delete_user(&id, ctx, ev))?;
                Ok(Reply::no_content())
            }
            ("POST", ["users", id, "lifecycle", op]) => {
                self.need("okta.users.manage")?;
                let op =
                    Lifecycle::parse(op).ok_or_else(|| ApiError::no_such_endpoint(self.path))?;
                let id = Self::segment(id)?;
                self.write(|org, ctx, ev| org.lifecycle(&id, op, ctx, ev))?;
                Ok(Reply::json(json!({})))
            }
            ("GET", ["groups"]) => self.list_groups(),
            ("POST", ["groups"]) => self.save_group(None),
            ("GET", ["groups", id]) => {
                self.need("okta.groups.read")?;
                let org = lock(&self.sim.inner.org);
                let group = org
                    .groups
                    .get(*id)
                    .ok_or_else(|| ApiError::not_found(id, "UserGroup"))?;
                Ok(Reply::json(group.to_json(&self.org_url)))
            }
            ("PUT", ["groups", id]) => self.save_group(Some(id)),
            ("GET", ["groups", id, "users"]) => self.group_users(id),
            ("PUT" | "DELETE", ["groups", gid, "users", uid]) => {
                self.need("okta.groups.manage")?;
                let uid = Self::segment(uid)?;
                self.write(|org, ctx, ev| org.set_membership(gid, &uid, method == "PUT", ctx, ev))?;
                Ok(Reply::no_content())
            }
            ("GET", ["apps"]) => self.list_apps(),
            ("GET", ["apps", id]) => {
                self.need("okta.apps.read")?;
                let org = lock(&self.sim.inner.org);
                let app = org
                    .apps
                    .get(*id)
                    .ok_or_else(|| ApiError::not_found(id, "AppInstance"))?;
                Ok(Reply::json(app.to_json(&self.org_url)))
            }
            ("GET", ["apps", id, "users"]) => self.app_users(id),
            ("POST", ["apps", id, "users"]) => self.assign_app(id),
            ("GET", ["apps", id, "users", uid]) => {
                self.need("okta.apps.read")?;
                let org = lock(&self.sim.inner.org);
                let app = org
                    .apps
                    .get(*id)
                    .ok_or_else(|| ApiError::not_found(id, "AppInstance"))?;
                let scope = org.app_users(app).get(*uid).copied();
                match (scope, org.users.get(*uid)) {
                    (Some(scope), Some(user)) => {
                        let embed = self.param("expand") == Some("user");
                        Ok(Reply::json(app_user_json(
                            &self.org_url,
                            app,
                            user,
                            scope,
                            embed,
                        )))
                    }
                    _ => Err(ApiError::not_found(uid, "AppUser")),
                }
            }
            ("DELETE", ["apps", id, "users", uid]) => {
                self.need("okta.apps.manage")?;
                let uid = Self::segment(uid)?;
                self.write(|org, ctx, ev| org.unassign_app(id, &uid, ctx, ev))?;
                Ok(Reply::no_content())
            }
            ("PUT" | "DELETE", ["apps", id, "groups", gid]) => {
                self.need("okta.apps.manage")?;
                let assign = method == "PUT";
                self.write(|org, ctx, ev| org.set_app_group(id, gid, assign, ctx, ev))?;
                if assign {
                    Ok(Reply::json(
                        json!({ "id": gid, "priority": 0, "profile": {} }),
                    ))
                } else {
                    Ok(Reply::no_content())
                }
            }
            ("GET", ["logs"]) => self.logs(),
            ("GET", ["eventHooks"]) => {
                self.need("okta.eventHooks.read")?;
                let org = lock(&self.sim.inner.org);
                let hooks: Vec<Value> = org
                    .hooks
                    .values()
                    .map(|h| hook_json(&self.org_url, h))
                    .collect();
                Ok(Reply::json(Value::Array(hooks)))
            }
            ("POST", ["eventHooks"]) => self.create_hook(),
            ("GET", ["eventHooks", id]) => {
                self.need("okta.eventHooks.read")?;
                let org = lock(&self.sim.inner.org);
                let hook = org
                    .hooks
                    .get(*id)
                    .ok_or_else(|| ApiError::not_found(id, "EventHook"))?;
                Ok(Reply::json(hook_json(&self.org_url, hook)))
            }
            ("DELETE", ["eventHooks", id]) => {
                self.need("okta.eventHooks.manage")?;
                let mut org = lock(&self.sim.inner.org);
                let hook = org
                    .hooks
                    .get(*id)
                    .ok_or_else(|| ApiError::not_found(id, "EventHook"))?;
                if hook.active {
                    return Err(ApiError::validation(
                        "status",
                        "An ACTIVE event hook cannot be deleted: deactivate it first",
                    ));
                }
                org.hooks.remove(*id);
                self.sim.inner.hooks.stop(id);
                Ok(Reply::no_content())
            }
            ("POST", ["eventHooks", id, "lifecycle", op]) => self.hook_lifecycle(id, op).await,
            _ if known_path(rest) => Err(ApiError::method_not_allowed()),
            _ => Err(ApiError::no_such_endpoint(self.path)),
        }
    }

    // ---- users -----------------------------------------------------------------------

    fn list_users(&self) -> Result<Reply, ApiError> {
        self.need("okta.users.read")?;
        let expression = match (self.param("search"), self.param("filter")) {
            (Some(text), _) | (None, Some(text)) => {
                Some(filter::parse(text, USER_ATTRIBUTES).map_err(|e| ApiError::bad_search(e.0))?)
            }
            (None, None) => None,
        };
        let prefix = self.param("q").map(str::to_ascii_lowercase);
        let org = lock(&self.sim.inner.org);
        let items = org
            .users
            .values()
            .map(|u| (u, u.to_json(&self.org_url)))
            .filter(|(user, json)| match (&expression, &prefix) {
                (Some(expression), _) => expression.matches(json),
                (None, Some(prefix)) => {
                    user.status != crate::UserStatus::Deprovisioned
                        && [
                            user.login(),
                            user.email(),
                            user.first_name(),
                            user.last_name(),
                        ]
                        .iter()
                        .any(|v| v.to_ascii_lowercase().starts_with(prefix.as_str()))
                }
                // A plain list leaves deactivated users out, as Okta's does.
                (None, None) => user.status != crate::UserStatus::Deprovisioned,
            })
            .map(|(u, json)| (u.id.clone(), json))
            .collect();
        self.page(items, 200, 200, false)
    }

    fn get_user(&self, key: &str) -> Result<Reply, ApiError> {
        self.need("okta.users.read")?;
        let org = lock(&self.sim.inner.org);
        let user = org
            .find_user(key)
            .ok_or_else(|| ApiError::not_found(key, "User"))?;
        Ok(Reply::json(user.to_json(&self.org_url)))
    }

    fn profile_of(&self) -> Result<Map<String, Value>, ApiError> {
        let body: Value = self.body_json()?;
        match body.get("profile") {
            Some(Value::Object(profile)) => Ok(profile.clone()),
            _ => Err(ApiError::validation(
                "profile",
                "profile: The field is required",
            )),
        }
    }

    fn create_user(&self) -> Result<Reply, ApiError> {
        self.need("okta.users.manage")?;
        let profile = self.profile_of()?;
        let activate = match self.param("activate") {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(ApiError::validation(
                    "activate",
                    format!("activate: {other:?} is not true or false"),
                ));
            }
        };
        let user = self.write(|org, ctx, ev| org.create_user(profile, activate, ctx, ev))?;
        Ok(Reply::json(user.to_json(&self.org_url)))
    }

    fn update_user(&self, key: &str, replace: bool) -> Result<Reply, ApiError> {
        self.need("okta.users.manage")?;
        let profile = self.profile_of()?;
        let user = self.write(|org, ctx, ev| org.update_user(key, profile, replace, ctx, ev))?;
        Ok(Reply::json(user.to_json(&self.org_url)))
    }

    // ---- groups ----------------------------------------------------------------------

    fn list_groups(&self) -> Result<Reply, ApiError> {
        self.need("okta.groups.read")?;
        let expression = match (self.param("search"), self.param("filter")) {
            (Some(text), _) | (None, Some(text)) => {
                Some(filter::parse(text, GROUP_ATTRIBUTES).map_err(|e| ApiError::bad_search(e.0))?)
            }
            (None, None) => None,
        };
        let prefix = self.param("q").map(str::to_ascii_lowercase);
        let org = lock(&self.sim.inner.org);
        let items = org
            .groups
            .values()
            .map(|g| (g, g.to_json(&self.org_url)))
            .filter(|(group, json)| {
                expression.as_ref().is_none_or(|e| e.matches(json))
                    && prefix
                        .as_ref()
                        .is_none_or(|p| group.name.to_ascii_lowercase().starts_with(p.as_str()))
            })
            .map(|(g, json)| (g.id.clone(), json))
            .collect();
        self.page(items, 10_000, 10_000, false)
    }

    fn save_group(&self, id: Option<&str>) -> Result<Reply, ApiError> {
        self.need("okta.groups.manage")?;
        let profile = self.profile_of()?;
        let name = profile
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::validation("name", "name: The field cannot be left blank"))?
            .to_owned();
        let description = profile
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let group = self.write(|org, ctx, ev| match id {
            None => org.create_group(&name, description, ctx, ev),
            Some(id) => org.update_group(id, &name, description, ctx, ev),
        })?;
        Ok(Reply::json(group.to_json(&self.org_url)))
    }

    fn group_users(&self, id: &str) -> Result<Reply, ApiError> {
        self.need("okta.groups.read")?;
        let org = lock(&self.sim.inner.org);
        let group = org
            .groups
            .get(id)
            .ok_or_else(|| ApiError::not_found(id, "UserGroup"))?;
        let items = group
            .members
            .iter()
            .filter_map(|uid| org.users.get(uid))
            .map(|u| (u.id.clone(), u.to_json(&self.org_url)))
            .collect();
        self.page(items, 1000, 1000, false)
    }

    // ---- apps ------------------------------------------------------------------------

    fn list_apps(&self) -> Result<Reply, ApiError> {
        self.need("okta.apps.read")?;
        let expression = match self.param("filter") {
            Some(text) => {
                Some(filter::parse(text, APP_ATTRIBUTES).map_err(|e| ApiError::bad_search(e.0))?)
            }
            None => None,
        };
        let prefix = self.param("q").map(str::to_ascii_lowercase);
        let org = lock(&self.sim.inner.org);
        let items = org
            .apps
            .values()
            .map(|a| (a, a.to_json(&self.org_url)))
            .filter(|(app, json)| {
                expression.as_ref().is_none_or(|e| e.matches(json))
                    && prefix.as_ref().is_none_or(|p| {
                        app.label.to_ascii_lowercase().starts_with(p.as_str())
                            || app.name.to_ascii_lowercase().starts_with(p.as_str())
                    })
            })
            .map(|(a, json)| (a.id.clone(), json))
            .collect();
        self.page(items, 20, 200, false)
    }

    fn app_users(&self, id: &str) -> Result<Reply, ApiError> {
        self.need("okta.apps.read")?;
        let embed = self.param("expand") == Some("user");
        let org = lock(&self.sim.inner.org);
        let app = org
            .apps
            .get(id)
            .ok_or_else(|| ApiError::not_found(id, "AppInstance"))?;
        let items = org
            .app_users(app)
            .into_iter()
            .filter_map(|(uid, scope)| org.users.get(&uid).map(|u| (u, scope)))
            .map(|(u, scope)| {
                (
                    u.id.clone(),
                    app_user_json(&self.org_url, app, u, scope, embed),
                )
            })
            .collect();
        self.page(items, 50, 500, false)
    }

    fn assign_app(&self, app_id: &str) -> Result<Reply, ApiError> {
        self.need("okta.apps.manage")?;
        let body: Value = self.body_json()?;
        let uid = body
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::validation("id", "id: The field is required"))?
            .to_owned();
        if let Some(scope) = body.get("scope").and_then(Value::as_str)
            && scope != "USER"
        {
            return Err(ApiError::validation(
                "scope",
                "scope: only USER can be assigned directly",
            ));
        }
        let user_name = body["credentials"]["userName"].as_str().map(str::to_owned);
        self.write(|org, ctx, ev| org.assign_app(app_id, &uid, user_name, ctx, ev))?;
        let org = lock(&self.sim.inner.org);
        match (org.apps.get(app_id), org.find_user(&uid)) {
            (Some(app), Some(user)) => Ok(Reply::json(app_user_json(
                &self.org_url,
                app,
                user,
                Scope::User,
                false,
            ))),
            _ => Err(ApiError::not_found(&uid, "AppUser")),
        }
    }

    // ---- System Log ------------------------------------------------------------------

    fn logs(&self) -> Result<Reply, ApiError> {
        self.need("okta.logs.read")?;
        let time_param = |name: &str| -> Result<Option<OffsetDateTime>, ApiError> {
            match self.param(name) {
                None => Ok(None),
                Some(text) => parse_rfc3339(text).map(Some).ok_or_else(|| {
                    ApiError::validation(name, format!("{name}: {text:?} is not an RFC 3339 time"))
                }),
            }
        };
        let since = time_param("since")?
            .unwrap_or_else(|| OffsetDateTime::now_utc() - DEFAULT_LOG_LOOKBACK);
        let until = time_param("until")?;
        let expression = match self.param("filter") {
            Some(text) => Some(
                filter::parse(text, LOG_ATTRIBUTES)
                    .map_err(|e| ApiError::validation("filter", e.0))?,
            ),
            None => None,
        };
        let org = lock(&self.sim.inner.org);
        // Sequence numbers, zero-padded so the page's key order is the log's order.
        let items = org
            .log_slice(since, until, 0)
            .filter(|l| expression.as_ref().is_none_or(|e| e.matches(&l.event)))
            .map(|l| (format!("{:020}", l.seq), l.event.clone()))
            .collect();
        // Without `until` a query is a polling query: Okta always links to the next
        // page, which fills as new events arrive; clients stop on an empty page.
        self.page(items, 100, 1000, until.is_none())
    }

    // ---- event hooks -----------------------------------------------------------------

    fn create_hook(&self) -> Result<Reply, ApiError> {
        self.need("okta.eventHooks.manage")?;
        let body: Value = self.body_json()?;
        let name = body["name"]
            .as_str()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ApiError::validation("name", "name: The field cannot be left blank"))?;
        if body["events"]["type"].as_str() != Some("EVENT_TYPE") {
            return Err(ApiError::validation(
                "events.type",
                "events.type: must be EVENT_TYPE",
            ));
        }
        let items: Vec<String> = body["events"]["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if items.is_empty() {
            return Err(ApiError::validation(
                "events.items",
                "events.items: at least one event type is required",
            ));
        }
        if let Some(bad) = items
            .iter()
            .find(|t| NOT_HOOK_ELIGIBLE.contains(&t.as_str()))
        {
            return Err(ApiError::validation(
                "events.items",
                format!("events.items: {bad} is not eligible for event hooks"),
            ));
        }
        let channel = &body["channel"];
        if channel["type"].as_str() != Some("HTTP") {
            return Err(ApiError::validation(
                "channel.type",
                "channel.type: must be HTTP",
            ));
        }
        let config = &channel["config"];
        let uri = config["uri"].as_str().unwrap_or_default();
        match reqwest::Url::parse(uri) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Err(ApiError::validation(
                    "channel.config.uri",
                    "channel.config.uri: must be an http(s) URL",
                ));
            }
        }
        let headers = config["headers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| {
                        Some((
                            h["key"].as_str()?.to_owned(),
                            h["value"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let auth = &config["authScheme"];
        let (auth_key, auth_value) = match auth["type"].as_str() {
            None if auth.is_null() => (String::new(), String::new()),
            Some("HEADER") => (
                auth["key"].as_str().unwrap_or_default().to_owned(),
                auth["value"].as_str().unwrap_or_default().to_owned(),
            ),
            _ => {
                return Err(ApiError::validation(
                    "channel.config.authScheme",
                    "authScheme.type: must be HEADER",
                ));
            }
        };
        let now = OffsetDateTime::now_utc();
        let hook = Hook {
            id: okta_id("who"),
            name: name.to_owned(),
            uri: uri.to_owned(),
            headers,
            auth_key,
            auth_value,
            events: items,
            active: true,
            verified: false,
            created: now,
            last_updated: now,
        };
        let mut org = lock(&self.sim.inner.org);
        if org.hooks.values().filter(|h| h.active).count() >= MAX_ACTIVE_HOOKS {
            return Err(ApiError::validation(
                "eventHook",
                "The org already has the maximum of 25 active event hooks",
            ));
        }
        let json = hook_json(&self.org_url, &hook);
        org.hooks.insert(hook.id.clone(), hook);
        Ok(Reply::json(json))
    }

    async fn hook_lifecycle(&self, id: &str, op: &str) -> Result<Reply, ApiError> {
        self.need("okta.eventHooks.manage")?;
        let hook = lock(&self.sim.inner.org)
            .hooks
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(id, "EventHook"))?;
        match op {
            "verify" => {
                // No lock is held across the GET: the hook may call back into the org.
                crate::hooks::verify(&self.sim.inner.http, &hook, self.sim.inner.hook_timeout)
                    .await
                    .map_err(|why| {
                        ApiError::validation(
                            "verify",
                            format!("Event hook verification failed: {why}"),
                        )
                    })?;
            }
            "activate" | "deactivate" => {}
            _ => return Err(ApiError::no_such_endpoint(self.path)),
        }
        let mut org = lock(&self.sim.inner.org);
        let hook = org
            .hooks
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(id, "EventHook"))?;
        match op {
            "verify" => hook.verified = true,
            "activate" => hook.active = true,
            _ => hook.active = false,
        }
        hook.last_updated = OffsetDateTime::now_utc();
        if hook.active && hook.verified {
            self.sim.inner.hooks.start(
                hook,
                self.sim.inner.http.clone(),
                self.sim.delivery_settings(),
            );
        } else {
            self.sim.inner.hooks.stop(id);
        }
        Ok(Reply::json(hook_json(&self.org_url, hook)))
    }
}

/// Paths the API serves with some method (for 405 rather than 404).
fn known_path(rest: &[&str]) -> bool {
    matches!(
        rest,
        ["users"]
            | ["users", _]
            | ["users", _, "lifecycle", _]
            | ["groups"]
            | ["groups", _]
            | ["groups", _, "users"]
            | ["groups", _, "users", _]
            | ["apps"]
            | ["apps", _]
            | ["apps", _, "users"]
            | ["apps", _, "users", _]
            | ["apps", _, "groups", _]
            | ["logs"]
            | ["eventHooks"]
            | ["eventHooks", _]
            | ["eventHooks", _, "lifecycle", _]
    )
}

/// The EventHook JSON. The auth header's value is write-only, as in Okta.
fn hook_json(org: &str, hook: &Hook) -> Value {
    let auth = if hook.auth_key.is_empty() {
        Value::Null
    } else {
        json!({ "type": "HEADER", "key": hook.auth_key })
    };
    json!({
        "id": hook.id,
        "status": if hook.active { "ACTIVE" } else { "INACTIVE" },
        "verificationStatus": if hook.verified { "VERIFIED" } else { "UNVERIFIED" },
        "name": hook.name,
        "created": rfc3339_ms(hook.created),
        "lastUpdated": rfc3339_ms(hook.last_updated),
        "createdBy": crate::events::SIM_ADMIN_ID,
        "events": { "type": "EVENT_TYPE", "items": hook.events, "filter": null },
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": hook.uri,
                "headers": hook.headers.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect::<Vec<_>>(),
                "authScheme": auth
            }
        },
        "_links": {
            "self": { "href": format!("{org}/api/v1/eventHooks/{}", hook.id) },
            "verify": { "href": format!("{org}/api/v1/eventHooks/{}/lifecycle/verify", hook.id), "hints": { "allow": ["POST"] } }
        }
    })
}
