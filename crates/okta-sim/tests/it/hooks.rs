//! Event hooks: the verification GET, batched deliveries, and Okta's retry rules.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use okta_sim::{Admin, HookRegistration, NewUser, OktaSim, RateLimits, Seed};
use serde_json::{Value, json};

use crate::common::{TOKEN, assert_same_shape, fixture_delivery, get, http, send, ssws, start};

const SECRET: &str = "hook-secret-value";

#[derive(Clone)]
enum Behaviour {
    Status(u16),
    Sleep(Duration),
}

#[derive(Clone, Default)]
struct ReceiverState {
    requests: Arc<Mutex<Vec<(Method, HeaderMap, Value)>>>,
    script: Arc<Mutex<VecDeque<Behaviour>>>,
    echo: bool,
}

/// A hook endpoint that records every request and answers as scripted (200 otherwise).
struct Receiver {
    url: String,
    state: ReceiverState,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Receiver {
    async fn start(echo: bool) -> Receiver {
        let state = ReceiverState {
            echo,
            ..ReceiverState::default()
        };
        let app = Router::new().fallback(receive).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/okta/hook", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Receiver {
            url,
            state,
            _stop: stop,
        }
    }

    fn script(&self, behaviours: &[Behaviour]) {
        self.state
            .script
            .lock()
            .unwrap()
            .extend(behaviours.iter().cloned());
    }

    fn posts(&self) -> Vec<(HeaderMap, Value)> {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _, _)| m == Method::POST)
            .map(|(_, h, b)| (h.clone(), b.clone()))
            .collect()
    }

    fn gets(&self) -> Vec<HeaderMap> {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _, _)| m == Method::GET)
            .map(|(_, h, _)| h.clone())
            .collect()
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    method: Method,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state
        .requests
        .lock()
        .unwrap()
        .push((method.clone(), headers.clone(), value));
    if method == Method::GET {
        let challenge = headers
            .get("x-okta-verification-challenge")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let echoed = if state.echo {
            challenge
        } else {
            "something else".to_owned()
        };
        return axum::Json(json!({ "verification": echoed })).into_response();
    }
    let next = state.script.lock().unwrap().pop_front();
    match next {
        Some(Behaviour::Status(status)) => StatusCode::from_u16(status).unwrap().into_response(),
        Some(Behaviour::Sleep(delay)) => {
            tokio::time::sleep(delay).await;
            StatusCode::OK.into_response()
        }
        None => StatusCode::OK.into_response(),
    }
}

const SEED: &str = r#"{
  "users": [{"profile": {"login": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe", "email": "jane.doe@example.com"}},
            {"profile": {"login": "lin.chen@example.com", "firstName": "Lin", "lastName": "Chen", "email": "lin.chen@example.com"}}],
  "groups": [{"name": "amazon_connect"}]
}"#;

async fn org(window: Duration, timeout: Duration) -> (okta_sim::OktaSimServer, Admin) {
    let server = start(
        OktaSim::builder()
            .seed(Seed::from_json(SEED).unwrap())
            .api_token(TOKEN)
            .rate_limits(RateLimits::unlimited())
            .hook_batch_window(window)
            .hook_timeout(timeout),
    )
    .await;
    let admin = Admin::new(server.url(), TOKEN).unwrap();
    (server, admin)
}

fn registration(uri: &str) -> HookRegistration {
    HookRegistration {
        name: "okta-connect".into(),
        uri: uri.to_owned(),
        auth_key: "Authorization".into(),
        auth_value: SECRET.into(),
        event_types: vec![
            "group.user_membership.add".into(),
            "user.lifecycle.suspend".into(),
        ],
    }
}

#[tokio::test]
async fn registration_sends_the_verification_get() {
    let receiver = Receiver::start(true).await;
    let (server, admin) = org(Duration::from_millis(50), Duration::from_secs(3)).await;
    let id = admin
        .register_event_hook(&registration(&receiver.url))
        .await
        .unwrap();
    assert!(id.starts_with("who") && id.len() == 20, "{id}");
    let gets = receiver.gets();
    assert_eq!(gets.len(), 1, "exactly one verification GET");
    let challenge = gets[0]
        .get("x-okta-verification-challenge")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(challenge.len() >= 20);
    assert_eq!(gets[0].get("authorization").unwrap(), SECRET);
    let hook = get(&server.url(), &format!("/api/v1/eventHooks/{id}"), &ssws()).await;
    assert_eq!(hook.body["status"], "ACTIVE");
    assert_eq!(hook.body["verificationStatus"], "VERIFIED");
    assert_eq!(hook.body["channel"]["config"]["uri"], receiver.url.as_str());
    assert_eq!(
        hook.body["channel"]["config"]["authScheme"],
        json!({"type": "HEADER", "key": "Authorization"})
    );
    assert!(
        !hook.body.to_string().contains(SECRET),
        "the secret is write-only"
    );
    assert_eq!(
        get(&server.url(), "/api/v1/eventHooks", &ssws())
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failed_verification_leaves_the_hook_unverified_and_silent() {
    let receiver = Receiver::start(false).await;
    let (server, admin) = org(Duration::from_millis(50), Duration::from_secs(3)).await;
    let error = admin
        .register_event_hook(&registration(&receiver.url))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, okta_sim::Error::Api { status: 400, error_code, .. } if error_code == "E0000001"),
        "{error}"
    );
    let hooks = get(&server.url(), "/api/v1/eventHooks", &ssws()).await;
    assert_eq!(hooks.body[0]["verificationStatus"], "UNVERIFIED");
    let jane = admin.user_id("jane.doe@example.com").await.unwrap();
    admin.suspend(&jane).await.unwrap();
    assert!(server.sim().settle(Duration::from_secs(2)).await);
    assert!(receiver.posts().is_empty());
    assert!(server.sim().deliveries().is_empty());
    // Nobody listening at all.
    let nobody = registration("http://127.0.0.1:9/okta/hook");
    assert!(admin.register_event_hook(&nobody).await.is_err());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn nearby_events_travel_in_one_delivery() {
    let receiver = Receiver::start(true).await;
    let (server, admin) = org(Duration::from_millis(300), Duration::from_secs(3)).await;
    let hook = admin
        .register_event_hook(&registration(&receiver.url))
        .await
        .unwrap();
    let group = admin.group_id("amazon_connect").await.unwrap();
    let jane = admin.user_id("jane.doe@example.com").await.unwrap();
    let lin = admin.user_id("lin.chen@example.com").await.unwrap();
    admin.add_to_group(&group, &jane).await.unwrap();
    admin.add_to_group(&group, &lin).await.unwrap();
    admin
        .update_profile(&lin, json!({"lastName": "Chen-Li"}))
        .await
        .unwrap(); // not subscribed
    admin.suspend(&jane).await.unwrap();
    assert!(server.sim().settle(Duration::from_secs(5)).await);

    let posts = receiver.posts();
    assert_eq!(posts.len(), 1, "one delivery for events within the window");
    let (headers, body) = &posts[0];
    assert_eq!(headers.get("authorization").unwrap(), SECRET);
    assert!(
        headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_same_shape(
        body,
        &fixture_delivery("group_membership_add.json"),
        "delivery",
    );
    assert_eq!(body["eventType"], "com.okta.event_hook");
    assert_eq!(
        body["source"],
        format!("{}/api/v1/eventHooks/{hook}", server.url())
    );
    let types: Vec<&str> = body["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "group.user_membership.add",
            "group.user_membership.add",
            "user.lifecycle.suspend"
        ]
    );

    let deliveries = server.sim().deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        (deliveries[0].attempt, deliveries[0].status),
        (1, Some(200))
    );
    assert_eq!(deliveries[0].hook_id, hook);
    assert_eq!(deliveries[0].event_id, body["eventId"].as_str().unwrap());
    let uuids: Vec<&str> = body["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(deliveries[0].event_uuids, uuids);

    // Events after the delivery go in a new one; the log has every event regardless.
    admin.unsuspend(&jane).await.unwrap();
    admin.suspend(&jane).await.unwrap();
    assert!(server.sim().settle(Duration::from_secs(5)).await);
    assert_eq!(receiver.posts().len(), 2);
    assert_ne!(
        server.sim().deliveries()[1].event_id,
        deliveries[0].event_id
    );
    assert_eq!(server.sim().log_events().len(), 6);
    server.shutdown().await.unwrap();
}

async fn one_suspend(
    behaviours: &[Behaviour],
    timeout: Duration,
) -> (Vec<okta_sim::DeliveryAttempt>, Vec<(HeaderMap, Value)>) {
    let receiver = Receiver::start(true).await;
    let (server, admin) = org(Duration::from_millis(20), timeout).await;
    admin
        .register_event_hook(&registration(&receiver.url))
        .await
        .unwrap();
    receiver.script(behaviours);
    let jane = admin.user_id("jane.doe@example.com").await.unwrap();
    admin.suspend(&jane).await.unwrap();
    assert!(server.sim().settle(Duration::from_secs(5)).await);
    let deliveries = server.sim().deliveries();
    server.shutdown().await.unwrap();
    (deliveries, receiver.posts())
}

#[tokio::test]
async fn a_5xx_is_retried_once_with_the_same_event_id() {
    let (deliveries, posts) = one_suspend(&[Behaviour::Status(500)], Duration::from_secs(3)).await;
    assert_eq!(deliveries.len(), 2);
    assert_eq!(
        (deliveries[0].attempt, deliveries[0].status),
        (1, Some(500))
    );
    assert_eq!(
        (deliveries[1].attempt, deliveries[1].status),
        (2, Some(200))
    );
    assert_eq!(deliveries[0].event_id, deliveries[1].event_id);
    assert_eq!(posts[0].1["eventId"], posts[1].1["eventId"]);
    assert_eq!(posts[0].1["data"], posts[1].1["data"]);

    // Two 5xx: Okta gives up after the one retry.
    let (deliveries, _) = one_suspend(
        &[Behaviour::Status(503), Behaviour::Status(502)],
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(
        deliveries.iter().map(|d| d.status).collect::<Vec<_>>(),
        [Some(503), Some(502)]
    );
}

#[tokio::test]
async fn a_timeout_is_retried_once() {
    let (deliveries, posts) = one_suspend(
        &[Behaviour::Sleep(Duration::from_millis(800))],
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[0].status, None);
    assert_eq!(deliveries[0].error.as_deref(), Some("timed out"));
    assert_eq!(
        (deliveries[1].attempt, deliveries[1].status),
        (2, Some(200))
    );
    assert_eq!(posts.len(), 2);
}

#[tokio::test]
async fn a_4xx_is_never_retried() {
    for status in [400, 401, 404] {
        let (deliveries, posts) =
            one_suspend(&[Behaviour::Status(status)], Duration::from_secs(3)).await;
        assert_eq!(deliveries.len(), 1, "{status}");
        assert_eq!(deliveries[0].status, Some(status));
        assert_eq!(posts.len(), 1);
    }
}

#[tokio::test]
async fn inactive_hooks_get_nothing_and_only_inactive_ones_can_be_deleted() {
    let receiver = Receiver::start(true).await;
    let (server, admin) = org(Duration::from_millis(20), Duration::from_secs(3)).await;
    let org_url = server.url();
    let hook = admin
        .register_event_hook(&registration(&receiver.url))
        .await
        .unwrap();
    let delete = send(
        http()
            .delete(format!("{org_url}/api/v1/eventHooks/{hook}"))
            .header("Authorization", ssws()),
    )
    .await;
    assert_eq!(delete.status, 400, "an active hook cannot be deleted");
    let deactivate = send(
        http()
            .post(format!(
                "{org_url}/api/v1/eventHooks/{hook}/lifecycle/deactivate"
            ))
            .header("Authorization", ssws()),
    )
    .await;
    assert_eq!(deactivate.body["status"], "INACTIVE");
    let jane = admin.user_id("jane.doe@example.com").await.unwrap();
    admin.suspend(&jane).await.unwrap();
    assert!(server.sim().settle(Duration::from_secs(2)).await);
    assert!(receiver.posts().is_empty());
    let activate = send(
        http()
            .post(format!(
                "{org_url}/api/v1/eventHooks/{hook}/lifecycle/activate"
            ))
            .header("Authorization", ssws()),
    )
    .await;
    assert_eq!(activate.body["status"], "ACTIVE");
    admin.unsuspend(&jane).await.unwrap();
    assert!(server.sim().settle(Duration::from_secs(2)).await);
    assert_eq!(receiver.posts().len(), 0, "unsuspend is not subscribed");
    admin.suspend(&jane).await.unwrap();
    assert!(server.sim().settle(Duration::from_secs(2)).await);
    assert_eq!(receiver.posts().len(), 1);
    send(
        http()
            .post(format!(
                "{org_url}/api/v1/eventHooks/{hook}/lifecycle/deactivate"
            ))
            .header("Authorization", ssws()),
    )
    .await;
    let delete = send(
        http()
            .delete(format!("{org_url}/api/v1/eventHooks/{hook}"))
            .header("Authorization", ssws()),
    )
    .await;
    assert_eq!(delete.status, 204);
    assert_eq!(
        get(&org_url, "/api/v1/eventHooks", &ssws()).await.body,
        json!([])
    );

    let mut bad = registration(&receiver.url);
    bad.event_types = vec!["user.lifecycle.delete.completed".into()];
    assert!(
        admin.register_event_hook(&bad).await.is_err(),
        "not hook-eligible"
    );
    let _ = NewUser {
        login: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        email: String::new(),
    };
    server.shutdown().await.unwrap();
}
