//! Pacing for the account: two workers, each pacing its share of Connect's per-API
//! quotas, against one connect-sim metering every API at Connect's defaults (its
//! default `RateLimits`: 2/s burst 5, DescribeUser 10/s). Asserts on
//! connect-sim's counters (what Connect would have refused), never on time.

use connect_sim::{ErrorKind, Operation, RateLimits};
use okta_connect_core::config::Pacing;
use okta_connect_core::queue::Delivery;
use okta_connect_core::time::UnixMillis;
use okta_connect_sync::{Disposition, Pacer};

use crate::engine::{Rig, SUPERVISOR_ROUTING, config, message, okta_event, sim_default};

/// The Okta ids of config.ini's groups, as the fixtures carry them.
const AGENTS: (&str, &str) = ("00g1c0nn3ctAgents0d7", "amazon_connect");
const SUPERVISORS: (&str, &str) = ("00g1c0nn3ctSup3rv1s7", "connect_supervisors");

fn membership(i: usize, group: (&str, &str), at: i64) -> Delivery {
    let uuid = format!("pacing-{}-{i:04}", group.1);
    let raw = okta_event(
        &uuid,
        at,
        "group.user_membership.add",
        (
            &format!("00upacing{i:011}"),
            &format!("agent{i:04}@acme.example"),
        ),
        Some(group),
    );
    message(&raw, &format!("m-{uuid}"))
}

fn throttles(rig: &Rig) -> Vec<(Operation, u64)> {
    let counters = rig.sim.sim().counters();
    Operation::ALL
        .into_iter()
        .map(|op| (op, counters.errors(op, ErrorKind::ThrottlingException)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_at_their_share_of_each_quota_are_never_throttled() {
    const PROMOTED: usize = 6;
    const NEW: usize = 10;
    const WORKERS: u32 = 2;
    let rig = Rig::start(sim_default()).await;
    let t0 = UnixMillis::now().0;

    // Existing agents, provisioned before the measured part without any quota.
    let mut setup = rig.worker(config()).await;
    setup.pacing = Pacer::new(Pacing {
        requests_per_second: 1000.0,
        burst: 1000,
    });
    let agents: Vec<Delivery> = (0..PROMOTED).map(|i| membership(i, AGENTS, t0)).collect();
    let settled = setup
        .settle(agents, 10, 5, std::time::Duration::from_secs(600))
        .await;
    assert!(settled.pending.is_empty());
    assert_eq!(rig.users().len(), PROMOTED);

    rig.sim
        .sim()
        .set_rate_limits(RateLimits::default())
        .unwrap();
    rig.sim.sim().reset_counters();

    // Promotions (security profiles, routing profile, hierarchy, tags) interleaved with
    // new agents (CreateUser), dealt to the two workers as SQS would deal batches.
    let mut work: Vec<Delivery> = Vec::new();
    for i in 0..NEW.max(PROMOTED) {
        if i < PROMOTED {
            work.push(membership(i, SUPERVISORS, t0 + 1_000));
        }
        if i < NEW {
            work.push(membership(PROMOTED + i, AGENTS, t0 + 1_000));
        }
    }
    let mut shares: Vec<Vec<Delivery>> = vec![Vec::new(); WORKERS as usize];
    for (n, batch) in work.chunks(4).enumerate() {
        shares[n % WORKERS as usize].extend_from_slice(batch);
    }
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let mut worker = rig.worker(config()).await;
        worker.pacing = Pacer::shared(worker.config.pacing, WORKERS);
        workers.push(worker);
    }
    let invocation = std::time::Duration::from_secs(600);
    let [first, second] = [&workers[0], &workers[1]];
    let [a, b] = [shares.remove(0), shares.remove(0)];
    let (a, b) = tokio::join!(
        first.settle(a, 4, 10, invocation),
        second.settle(b, 4, 10, invocation)
    );

    for settled in [&a, &b] {
        assert!(settled.pending.is_empty());
        for report in &settled.reports {
            assert_eq!(
                report.disposition,
                Disposition::Done,
                "{:?}",
                report.reason()
            );
        }
        assert_eq!(settled.rounds, 1, "nothing was handed back for a retry");
    }
    assert_eq!(throttles(&rig), [], "Connect refused no call");
    let counters = rig.sim.sim().counters();
    assert_eq!(counters.successes(Operation::CreateUser), NEW as u64);
    for op in [
        Operation::UpdateUserSecurityProfiles,
        Operation::UpdateUserRoutingProfile,
        Operation::UpdateUserHierarchy,
        Operation::TagResource,
    ] {
        assert_eq!(counters.successes(op), PROMOTED as u64, "{op}");
    }
    let users = rig.users();
    assert_eq!(users.len(), PROMOTED + NEW);
    for i in 0..PROMOTED {
        let user = &users[&format!("agent{i:04}@acme.example")];
        assert_eq!(user.routing_profile_id, SUPERVISOR_ROUTING);
    }
    assert!(rig.dead_letters().await.is_empty());
}
