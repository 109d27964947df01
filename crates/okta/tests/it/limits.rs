//! Okta's rate limits on okta-sim: a 429 is waited out until its Reset, or returned as
//! `RateLimited` when the Reset is further than the caller waits; a low bucket paces
//! the calls so a burst does not hit 429 at all; the concurrency cap holds.

use std::time::{Duration, Instant};

use okta_connect_core::ports::{ErrorClass, IdentityError, IdentitySource};
use okta_connect_core::time::UnixMillis;
use okta_connect_okta::OktaApi;
use okta_sim::{Family, RateLimits, Seed};

use crate::support::{serve, ssws};

fn seed() -> Seed {
    Seed::from_json(
        r#"{"users":[{"id":"00u00000000000000001","profile":{"login":"a@example.com","firstName":"A","lastName":"B","email":"a@example.com"}}],
            "apps":[{"label":"Contact Centre","name":"amazon_aws","assignees":["a@example.com"]}]}"#,
    )
    .unwrap()
}

#[tokio::test]
async fn a_429_is_waited_out_until_the_reset() {
    let limits = RateLimits::unlimited()
        .with(Family::Apps, 2)
        .window(Duration::from_secs(2));
    let server = serve(seed(), |b| b.rate_limits(limits)).await;
    let first = OktaApi::new(ssws(&server.url())).unwrap();
    for _ in 0..2 {
        first.find_app("Contact Centre").await.unwrap();
    }
    // A second adapter knows nothing of the bucket: its call meets the 429.
    let second = OktaApi::new(ssws(&server.url())).unwrap();
    let app = second.find_app("Contact Centre").await.unwrap();
    assert_eq!(app.unwrap().label, "Contact Centre");
    assert!(server.sim().counters().throttled() >= 1);
    assert!(second.requests() >= 2, "the 429 and the retry");
}

#[tokio::test]
async fn a_reset_beyond_the_wait_is_rate_limited_at_once() {
    let limits = RateLimits::unlimited()
        .with(Family::Apps, 1)
        .window(Duration::from_secs(60));
    let server = serve(seed(), |b| b.rate_limits(limits)).await;
    let mut settings = ssws(&server.url());
    settings.max_rate_limit_wait = Duration::from_secs(1);
    let api = OktaApi::new(settings.clone()).unwrap();
    api.find_app("Contact Centre").await.unwrap();

    let fresh = OktaApi::new(settings).unwrap();
    let before = UnixMillis::now();
    let started = Instant::now();
    match fresh.find_app("Contact Centre").await {
        Err(e @ IdentityError::RateLimited { retry_at }) => {
            assert!(retry_at > before, "{e}");
            assert!(retry_at <= before.plus(Duration::from_secs(61)), "{e}");
            assert_eq!(e.class(), ErrorClass::Transient);
        }
        other => panic!("{other:?}"),
    }
    // Far less than the 60 s window: it answered at once instead of waiting for Reset.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(server.sim().counters().throttled(), 1);

    // The adapter that saw Remaining 0 does not even ask.
    let sent = api.requests();
    assert!(matches!(
        api.find_app("Contact Centre").await,
        Err(IdentityError::RateLimited { .. })
    ));
    assert_eq!(api.requests(), sent);
    // Other families are not affected.
    assert!(api.user("00u00000000000000001").await.unwrap().is_some());
}

#[tokio::test]
async fn a_burst_is_paced_without_any_429() {
    let limits = RateLimits::unlimited()
        .with(Family::Apps, 4)
        .window(Duration::from_secs(2));
    let server = serve(seed(), |b| b.rate_limits(limits)).await;
    let api = OktaApi::new(ssws(&server.url())).unwrap();
    for _ in 0..7 {
        api.find_app("Contact Centre").await.unwrap();
    }
    assert_eq!(server.sim().counters().throttled(), 0);
    assert_eq!(server.sim().counters().requests(Family::Apps), 7);
}

#[tokio::test]
async fn concurrent_calls_stay_under_the_cap() {
    let limits = RateLimits::unlimited().concurrency(Some(2));
    let server = serve(seed(), |b| b.rate_limits(limits)).await;
    server.sim().faults().latency(Duration::from_millis(100));
    let mut settings = ssws(&server.url());
    settings.max_concurrent_requests = 2;
    let api = OktaApi::new(settings).unwrap();
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
    assert_eq!(server.sim().counters().throttled(), 0);
    assert_eq!(api.requests(), 8);
}
