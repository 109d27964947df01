//! 5xx answers, slow answers and unreachable orgs: retried a few times, then
//! `Unavailable`, never an empty answer.

use std::time::Duration;

use okta_connect_core::config::SourceKind;
use okta_connect_core::identity::SourceId;
use okta_connect_core::ports::{ErrorClass, IdentityError, IdentitySource};
use okta_connect_okta::OktaApi;
use okta_sim::{Family, Seed};

use crate::support::{jwt, serve, ssws};

fn seed() -> Seed {
    Seed::from_json(
        r#"{"users":[{"id":"00u00000000000000001","profile":{"login":"a@example.com","firstName":"A","lastName":"B","email":"a@example.com"}}],
            "groups":[{"id":"00g00000000000000001","name":"amazon_connect","members":["a@example.com"]}]}"#,
    )
    .unwrap()
}

fn group() -> SourceId {
    SourceId {
        kind: SourceKind::Group,
        id: "00g00000000000000001".into(),
    }
}

#[tokio::test]
async fn a_few_5xx_are_retried_away() {
    let server = serve(seed(), |b| b).await;
    let api = OktaApi::new(ssws(&server.url())).unwrap();
    server.sim().faults().fail_next(2, 503);
    assert_eq!(api.members(&group()).await.unwrap().len(), 1);
    assert_eq!(api.requests(), 3);
}

#[tokio::test]
async fn persistent_5xx_is_unavailable_after_the_retries() {
    let server = serve(seed(), |b| b).await;
    let api = OktaApi::new(ssws(&server.url())).unwrap();
    server.sim().faults().fail_next(10, 500);
    match api.members(&group()).await {
        Err(e @ IdentityError::Unavailable(_)) => {
            assert_eq!(e.class(), ErrorClass::Transient);
            assert!(e.to_string().contains("500"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(api.requests(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn a_token_endpoint_5xx_is_retried_too() {
    let server = serve(seed(), |b| b).await;
    let api = OktaApi::new(jwt(&server.url())).unwrap();
    server.sim().faults().fail_next_in(Family::Token, 1, 502);
    assert!(api.user("00u00000000000000001").await.unwrap().is_some());
    assert_eq!(server.sim().counters().token_requests(), 2);
}

#[tokio::test]
async fn a_slow_org_times_out_as_unavailable() {
    let server = serve(seed(), |b| b).await;
    server.sim().faults().latency(Duration::from_millis(800));
    let mut settings = ssws(&server.url());
    settings.timeout = Duration::from_millis(200);
    settings.transient_retries = 1;
    let api = OktaApi::new(settings).unwrap();
    // The message proves the client's timeout ended each attempt, not the slow answer.
    match api.user("00u00000000000000001").await {
        Err(IdentityError::Unavailable(m)) => assert!(m.contains("no answer within"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(api.requests(), 2);
}

#[tokio::test]
async fn an_unreachable_org_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let api = OktaApi::new(ssws(&url)).unwrap();
    match api.find_group("x").await {
        Err(IdentityError::Unavailable(m)) => assert!(m.contains("could not connect"), "{m}"),
        other => panic!("{other:?}"),
    }
}
