//! Rate quotas measured through the real SDK: the accepted rate matches the configured
//! token bucket, and the SDK's standard retry gets every throttled call through.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_connect::operation::list_security_profiles::ListSecurityProfilesError;
use connect_sim::seed::DEFAULT_INSTANCE_ID;
use connect_sim::{ErrorKind, Operation, RateLimit, Sim};

use crate::common::{client, client_with_retry, create_user, start};

/// Hammers one operation for ~3 s with SDK retries off and compares the accepted count
/// with the token bucket's promise: burst + rate × elapsed.
///
/// The upper bound is physical (a bucket cannot hand out more), so it is tight. The lower
/// bound allows for a loaded machine: tokens are only lost when the client pauses longer
/// than burst/rate (0.5 s here), so 70 % leaves a wide margin without hiding a broken
/// bucket (a bucket that never refilled would accept 5 of ~35).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_rate_matches_the_configured_rate() {
    const RATE: f64 = 10.0;
    const BURST: u32 = 5;
    const WINDOW: Duration = Duration::from_secs(3);
    let server = start(Sim::builder().rate(RateLimit::new(RATE, BURST))).await;
    let c = client(&server.url()).await;
    let accepted = Arc::new(AtomicU64::new(0));
    let throttled = Arc::new(AtomicU64::new(0));

    let started = Instant::now();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (c, accepted, throttled) = (c.clone(), accepted.clone(), throttled.clone());
            tokio::spawn(async move {
                while started.elapsed() < WINDOW {
                    match c
                        .list_security_profiles()
                        .instance_id(DEFAULT_INSTANCE_ID)
                        .send()
                        .await
                    {
                        Ok(_) => accepted.fetch_add(1, Ordering::Relaxed),
                        Err(e) => match e.into_service_error() {
                            ListSecurityProfilesError::ThrottlingException(_) => {
                                throttled.fetch_add(1, Ordering::Relaxed)
                            }
                            other => panic!("unexpected error {other:?}"),
                        },
                    };
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();

    let accepted = accepted.load(Ordering::Relaxed);
    let throttled = throttled.load(Ordering::Relaxed);
    let promised = f64::from(BURST) + RATE * elapsed;
    let measured_rate = (accepted as f64 - f64::from(BURST)) / elapsed;
    eprintln!(
        "throttling: configured {RATE}/s burst {BURST}; over {elapsed:.2} s accepted {accepted} \
         (promised {promised:.1}), throttled {throttled}; accepted rate after burst {measured_rate:.2}/s"
    );
    assert!(
        accepted as f64 <= promised + 1.0,
        "accepted {accepted} > burst + rate × time = {promised:.1}"
    );
    assert!(
        accepted as f64 >= 0.7 * promised,
        "accepted {accepted} < 70 % of {promised:.1}"
    );
    assert!(
        throttled > accepted,
        "the client outpaced the bucket, so most calls were refused"
    );

    // The server saw the same thing.
    let counters = server.sim().counters();
    assert_eq!(
        counters.successes(Operation::ListSecurityProfiles),
        accepted
    );
    assert_eq!(
        counters.errors(
            Operation::ListSecurityProfiles,
            ErrorKind::ThrottlingException
        ),
        throttled
    );
    server.shutdown().await.unwrap();
}

/// Twelve concurrent CreateUser calls against 4/s with burst 2: with the SDK's standard
/// retry strategy (exponential backoff with jitter) and enough attempts, every call lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_standard_retry_gets_every_throttled_call_through() {
    const CALLS: u64 = 12;
    let server = start(
        Sim::builder()
            .rate(RateLimit::new(1000.0, 1000))
            .operation_rate(Operation::CreateUser, RateLimit::new(4.0, 2)),
    )
    .await;
    let retry = RetryConfig::standard()
        .with_max_attempts(15)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(2));
    let c = client_with_retry(&server.url(), retry).await;

    let started = Instant::now();
    let calls: Vec<_> = (0..CALLS)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { create_user(&c, &format!("burst.user{i}")).send().await })
        })
        .collect();
    for call in calls {
        call.await
            .unwrap()
            .expect("the SDK retried until the call was admitted");
    }
    let elapsed = started.elapsed();

    let counters = server.sim().counters();
    let throttled = counters.errors(Operation::CreateUser, ErrorKind::ThrottlingException);
    eprintln!(
        "retry: {CALLS} CreateUser calls at 4/s burst 2 all succeeded in {:.2} s after {throttled} throttled attempts",
        elapsed.as_secs_f64()
    );
    assert_eq!(counters.successes(Operation::CreateUser), CALLS);
    assert!(
        throttled > 0,
        "the burst was exceeded, so some attempts were throttled"
    );
    assert_eq!(server.sim().users().len(), CALLS as usize);
    // 12 calls through a 2-burst, 4/s bucket cannot finish faster than (12 - 2) / 4 s.
    assert!(elapsed >= Duration::from_millis(2400));
    server.shutdown().await.unwrap();
}
