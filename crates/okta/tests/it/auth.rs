//! private_key_jwt and SSWS against okta-sim: the token is fetched once and cached,
//! replaced after it expires, and Okta's refusals come back as `Denied` saying what to
//! fix.

use std::time::Duration;

use okta_connect_core::ports::{IdentityError, IdentitySource};
use okta_connect_okta::{OktaApi, OktaApiSettings, OktaAuth, Secret};
use okta_sim::Seed;

use crate::support::{TOKEN, jwt, jwt_with, serve};

fn seed() -> Seed {
    Seed::from_json(
        r#"{"users":[{"id":"00u00000000000000001","profile":{"login":"a@example.com","firstName":"A","lastName":"B","email":"a@example.com"}}],
            "groups":[{"name":"amazon_connect","members":["a@example.com"]}]}"#,
    )
    .unwrap()
}

#[tokio::test]
async fn one_token_serves_many_calls_even_concurrent_ones() {
    let server = serve(seed(), |b| b).await;
    let api = OktaApi::new(jwt(&server.url())).unwrap();
    let mut calls = Vec::new();
    for _ in 0..8 {
        let api = api.clone();
        calls.push(tokio::spawn(async move {
            api.user("00u00000000000000001").await
        }));
    }
    for call in calls {
        assert!(call.await.unwrap().unwrap().is_some());
    }
    for _ in 0..10 {
        assert!(api.find_group("amazon_connect").await.unwrap().is_some());
    }
    assert_eq!(server.sim().counters().token_requests(), 1);
    assert_eq!(api.token_requests(), 1);
}

#[tokio::test]
async fn an_expired_token_is_replaced() {
    let server = serve(seed(), |b| b.token_lifetime(Duration::from_secs(2))).await;
    let api = OktaApi::new(jwt(&server.url())).unwrap();
    assert!(api.user("00u00000000000000001").await.unwrap().is_some());
    assert_eq!(server.sim().counters().token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert!(api.user("00u00000000000000001").await.unwrap().is_some());
    assert_eq!(server.sim().counters().token_requests(), 2);
}

#[tokio::test]
async fn an_unregistered_key_is_denied_with_what_to_check() {
    let server = serve(seed(), |b| b).await;
    for key_id in [Some("test-key-2"), None] {
        let api = OktaApi::new(jwt_with(
            &server.url(),
            "other-key.pem",
            key_id,
            OktaAuth::read_scopes(),
        ))
        .unwrap();
        match api.user("00u00000000000000001").await {
            Err(IdentityError::Denied(m)) => {
                assert!(m.contains("invalid_client"), "{m}");
                assert!(m.contains("CLIENT_ID, KEY_ID"), "{m}");
                assert!(!m.contains("BEGIN"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_scope_not_requested_is_denied_naming_it() {
    let server = serve(seed(), |b| b).await;
    let api = OktaApi::new(jwt_with(
        &server.url(),
        "service-app.pem",
        Some("test-key-1"),
        vec!["okta.users.read".into()],
    ))
    .unwrap();
    assert!(api.user("00u00000000000000001").await.unwrap().is_some());
    match api.find_group("amazon_connect").await {
        Err(IdentityError::Denied(m)) => assert!(m.contains("okta.groups.read"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_scope_not_granted_is_denied_naming_the_scopes() {
    let server = serve(seed(), |b| b).await;
    let api = OktaApi::new(jwt_with(
        &server.url(),
        "service-app.pem",
        Some("test-key-1"),
        vec!["okta.users.read".into(), "okta.users.manage".into()],
    ))
    .unwrap();
    match api.user("00u00000000000000001").await {
        Err(IdentityError::Denied(m)) => {
            assert!(m.contains("invalid_scope"), "{m}");
            assert!(m.contains("okta.users.manage"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_api_token_is_denied_without_echoing_it() {
    let server = serve(seed(), |b| b).await;
    let mut settings = OktaApiSettings::new(
        server.url(),
        OktaAuth::ApiToken(Secret::new("00wrong-token-value")),
    );
    settings.retry_backoff = Duration::from_millis(10);
    let api = OktaApi::new(settings).unwrap();
    match api.find_group("amazon_connect").await {
        Err(IdentityError::Denied(m)) => {
            assert!(m.contains("E0000011"), "{m}");
            assert!(m.contains("API token"), "{m}");
            assert!(!m.contains("wrong-token"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // The right one works on the same org.
    let ok = OktaApi::new(OktaApiSettings::new(
        server.url(),
        OktaAuth::ApiToken(Secret::new(TOKEN)),
    ))
    .unwrap();
    assert!(ok.find_group("amazon_connect").await.unwrap().is_some());
}
