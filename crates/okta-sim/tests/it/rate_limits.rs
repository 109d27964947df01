//! Rate-limit headers, 429 until Reset, the concurrency cap, and injected faults.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use okta_sim::{Family, OktaSim, RateLimits, Seed};

use crate::common::{TOKEN, get, ssws, start};

fn builder(limits: RateLimits) -> okta_sim::OktaSimBuilder {
    OktaSim::builder()
        .seed(Seed::from_json(r#"{"apps":[{"label":"Contact Centre"}]}"#).unwrap())
        .api_token(TOKEN)
        .rate_limits(limits)
}

#[tokio::test]
async fn every_answer_carries_the_headers_and_429_lasts_until_reset() {
    let limits = RateLimits::okta_defaults()
        .with(Family::Apps, 3)
        .window(Duration::from_secs(2));
    let server = start(builder(limits)).await;
    let org = server.url();
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let answer = get(&org, "/api/v1/apps", &ssws()).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("x-rate-limit-limit").as_deref(), Some("3"));
        remaining.push(answer.header("x-rate-limit-remaining").unwrap());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let throttled = get(&org, "/api/v1/apps", &ssws()).await;
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.body["errorCode"], "E0000047");
    assert_eq!(
        throttled.body["errorSummary"],
        "API call exceeded rate limit due to too many requests."
    );
    assert_eq!(
        throttled.header("x-rate-limit-remaining").as_deref(),
        Some("0")
    );
    let reset: u64 = throttled
        .header("x-rate-limit-reset")
        .unwrap()
        .parse()
        .unwrap();
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        reset >= epoch && reset <= epoch + 3,
        "reset {reset} vs now {epoch}"
    );
    // Other families have their own buckets, with Okta's default budgets.
    let users = get(&org, "/api/v1/users", &ssws()).await;
    assert_eq!(users.status, 200);
    assert_eq!(users.header("x-rate-limit-limit").as_deref(), Some("600"));
    let user = get(&org, "/api/v1/users/nobody", &ssws()).await;
    assert_eq!(
        user.header("x-rate-limit-limit").as_deref(),
        Some("2000"),
        "errors carry headers too"
    );
    // Still throttled until Reset, then served again.
    assert_eq!(get(&org, "/api/v1/apps", &ssws()).await.status, 429);
    let wait = Duration::from_secs(reset)
        .saturating_sub(SystemTime::now().duration_since(UNIX_EPOCH).unwrap());
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    let again = get(&org, "/api/v1/apps", &ssws()).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("x-rate-limit-remaining").as_deref(), Some("2"));
    let counters = server.sim().counters();
    assert_eq!(counters.throttled(), 2);
    assert_eq!(counters.requests(Family::Apps), 6);
    assert_eq!(counters.requests(Family::UserById), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_concurrency_cap_answers_429() {
    let server = start(builder(RateLimits::unlimited().concurrency(Some(2)))).await;
    server.sim().faults().latency(Duration::from_millis(300));
    let org = server.url();
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let org = org.clone();
            tokio::spawn(async move {
                let answer = get(&org, "/api/v1/users", &ssws()).await;
                if answer.status == 429 {
                    assert_eq!(answer.body["errorCode"], "E0000047");
                    assert_eq!(answer.header("x-rate-limit-limit").as_deref(), Some("2"));
                    assert!(answer.header("x-rate-limit-reset").is_some());
                }
                answer.status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(server.sim().counters().throttled(), 1);
    let unlimited = get(&org, "/api/v1/users", &ssws()).await;
    assert!(
        unlimited.header("x-rate-limit-limit").is_none(),
        "unlimited families send no headers"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn scripted_failures_and_latency() {
    let server = start(builder(RateLimits::unlimited())).await;
    let org = server.url();
    let faults = server.sim().faults();
    faults.fail_next(2, 503);
    let failed = get(&org, "/api/v1/users", &ssws()).await;
    assert_eq!(
        (failed.status, failed.body["errorCode"].as_str()),
        (503, Some("E0000009"))
    );
    assert_eq!(get(&org, "/api/v1/apps", &ssws()).await.status, 503);
    assert_eq!(get(&org, "/api/v1/users", &ssws()).await.status, 200);
    faults.fail_next_in(Family::Logs, 1, 500);
    assert_eq!(get(&org, "/api/v1/users", &ssws()).await.status, 200);
    assert_eq!(get(&org, "/api/v1/logs", &ssws()).await.status, 500);
    faults.latency(Duration::from_millis(250));
    let started = std::time::Instant::now();
    assert_eq!(get(&org, "/api/v1/users", &ssws()).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(250));
    faults.fail_next(5, 500);
    faults.clear();
    assert_eq!(get(&org, "/api/v1/users", &ssws()).await.status, 200);
    server.shutdown().await.unwrap();
}
