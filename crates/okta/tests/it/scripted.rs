//! Protocol corners okta-sim does not produce, against a scripted server: an app user
//! without its embedded user, `self` and `next` in separate `Link` headers, a next link
//! to another host, a body that is not JSON, a token revoked early (401 → one new
//! token), and a System Log that always has a next link (Okta's polling queries).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use okta_connect_core::config::SourceKind;
use okta_connect_core::identity::{LogQuery, SourceId};
use okta_connect_core::okta::OktaEvent;
use okta_connect_core::ports::{IdentityError, IdentitySource};
use okta_connect_core::time::UnixMillis;
use okta_connect_okta::OktaApi;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::support::{jwt, ssws};

#[derive(Default)]
struct Script {
    base: String,
    tokens_issued: AtomicUsize,
    /// Access tokens the API refuses (401) as if revoked.
    refuse_all_tokens: bool,
}

/// The scripted server; stops when dropped.
struct Server {
    url: String,
    script: Arc<Script>,
    _stop: oneshot::Sender<()>,
}

async fn start(refuse_all_tokens: bool) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let script = Arc::new(Script {
        base: url.clone(),
        refuse_all_tokens,
        ..Script::default()
    });
    let app = Router::new()
        .route("/oauth2/v1/token", post(token))
        .route("/api/v1/users/{id}", get(user))
        .route("/api/v1/apps/{id}/users", get(app_users))
        .route("/api/v1/groups/{id}/users", get(group_users))
        .route("/api/v1/groups", get(not_json))
        .route("/api/v1/logs", get(logs))
        .with_state(Arc::clone(&script));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .ok();
    });
    Server {
        url,
        script,
        _stop: stop,
    }
}

fn user_json(id: &str, login: &str) -> Value {
    json!({"id": id, "status": "ACTIVE",
           "profile": {"login": login, "firstName": "F", "lastName": "L", "email": login}})
}

fn with_links(body: Value, links: &[String]) -> Response {
    let mut response = axum::Json(body).into_response();
    for link in links {
        response
            .headers_mut()
            .append(header::LINK, HeaderValue::from_str(link).unwrap());
    }
    response
}

fn okta_401() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(
            json!({"errorCode": "E0000011", "errorSummary": "Invalid token provided",
                          "errorLink": "E0000011", "errorId": "oae1", "errorCauses": []}),
        ),
    )
        .into_response()
}

async fn token(State(s): State<Arc<Script>>) -> Response {
    let n = s.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
    axum::Json(json!({"token_type": "Bearer", "expires_in": 3600,
                      "access_token": format!("token-{n}"), "scope": "okta.users.read"}))
    .into_response()
}

/// The first token is "revoked": refused. Later ones work, unless all are refused.
async fn user(
    State(s): State<Arc<Script>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth.starts_with("Bearer ") && (s.refuse_all_tokens || auth == "Bearer token-1") {
        return okta_401();
    }
    axum::Json(user_json(&id, &format!("{id}@example.com"))).into_response()
}

async fn app_users(
    State(s): State<Arc<Script>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let self_link = format!(
        "<{}/api/v1/apps/{id}/users?limit=500>; rel=\"self\"",
        s.base
    );
    match q.get("after").map(String::as_str) {
        None => with_links(
            json!([
                {"id": "00u1", "scope": "USER", "status": "PROVISIONED",
                 "_embedded": {"user": user_json("00u1", "one@example.com")}},
                {"id": "00u2", "scope": "GROUP", "status": "PROVISIONED"}
            ]),
            &[
                self_link,
                format!(
                    "<{}/api/v1/apps/{id}/users?after=cursor%2B1&limit=500>; rel=\"next\"",
                    s.base
                ),
            ],
        ),
        Some("cursor+1") => with_links(
            json!([{"id": "00u3", "_embedded": {"user": user_json("00u3", "three@example.com")}}]),
            &[self_link],
        ),
        Some(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn group_users(State(s): State<Arc<Script>>, Path(id): Path<String>) -> Response {
    let _ = s;
    with_links(
        json!([user_json("00u1", "one@example.com")]),
        &[format!(
            "<https://evil.example.com/api/v1/groups/{id}/users?after=x>; rel=\"next\""
        )],
    )
}

async fn not_json() -> Response {
    (StatusCode::OK, "<html>sign in</html>").into_response()
}

fn event(uuid: &str, published: &str) -> Value {
    json!({"uuid": uuid, "published": published, "eventType": "user.lifecycle.suspend",
           "version": "0", "target": [], "unknownField": {"kept": [1, 2.5, null]}})
}

/// Polling style: a next link on every page, the last page empty.
async fn logs(State(s): State<Arc<Script>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let next = |cursor: &str| {
        vec![format!(
            "<{}/api/v1/logs?after={cursor}&limit=1000>; rel=\"next\"",
            s.base
        )]
    };
    match q.get("after").map(String::as_str) {
        None => with_links(
            json!([
                event("b", "2026-01-01T10:00:02.000Z"),
                event("c", "2026-01-01T10:00:03.000Z")
            ]),
            &next("p2"),
        ),
        // A delayed event, published before the ones already served.
        Some("p2") => with_links(json!([event("a", "2026-01-01T10:00:01.000Z")]), &next("p3")),
        Some(_) => with_links(json!([]), &next("p4")),
    }
}

#[tokio::test]
async fn app_users_without_an_embedded_user_are_fetched_across_split_link_headers() {
    let server = start(false).await;
    let api = OktaApi::new(ssws(&server.url)).unwrap();
    let members = api
        .members(&SourceId {
            kind: SourceKind::App,
            id: "0oa1".into(),
        })
        .await
        .unwrap();
    let logins: Vec<&str> = members.iter().map(|u| u.profile.login.as_str()).collect();
    assert_eq!(
        logins,
        ["one@example.com", "00u2@example.com", "three@example.com"]
    );
    assert_eq!(api.requests(), 3, "two pages and one user");
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let server = start(false).await;
    let api = OktaApi::new(ssws(&server.url)).unwrap();
    match api
        .members(&SourceId {
            kind: SourceKind::Group,
            id: "00g1".into(),
        })
        .await
    {
        Err(IdentityError::Invalid(m)) => assert!(m.contains("evil.example.com"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(api.requests(), 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_invalid() {
    let server = start(false).await;
    let api = OktaApi::new(ssws(&server.url)).unwrap();
    match api.find_group("x").await {
        Err(IdentityError::Invalid(m)) => assert!(m.contains("org URL"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once() {
    let server = start(false).await;
    let api = OktaApi::new(jwt(&server.url)).unwrap();
    assert!(api.user("00u7").await.unwrap().is_some());
    assert_eq!(server.script.tokens_issued.load(Ordering::SeqCst), 2);
    assert!(api.user("00u8").await.unwrap().is_some());
    assert_eq!(
        server.script.tokens_issued.load(Ordering::SeqCst),
        2,
        "cached"
    );

    let refusing = start(true).await;
    let api = OktaApi::new(jwt(&refusing.url)).unwrap();
    match api.user("00u7").await {
        Err(IdentityError::Denied(m)) => assert!(m.contains("access token"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        refusing.script.tokens_issued.load(Ordering::SeqCst),
        2,
        "one refresh only"
    );
}

#[tokio::test]
async fn a_polling_log_ends_at_the_empty_page_and_comes_back_ordered_and_verbatim() {
    let server = start(false).await;
    let api = OktaApi::new(ssws(&server.url)).unwrap();
    let events = api
        .system_log(&LogQuery {
            since: UnixMillis::parse_rfc3339("2026-01-01T00:00:00Z").unwrap(),
            until: None,
            event_types: vec![],
        })
        .await
        .unwrap();
    let uuids: Vec<String> = events
        .iter()
        .map(|e| OktaEvent::parse(&e.0).unwrap().uuid)
        .collect();
    assert_eq!(uuids, ["a", "b", "c"]);
    let raw: Value = serde_json::from_str(&events[0].0).unwrap();
    assert_eq!(raw, event("a", "2026-01-01T10:00:01.000Z"));
    assert_eq!(api.requests(), 3);
}
