//! Reconcile benchmark: one `Engine::reconcile` as a dry run (the read phase: Okta's
//! members and every Connect user, then the plan) and once for real, against okta-sim
//! and connect-sim in this process. Prints figures, every one measured or counted;
//! asserts nothing.
//!
//!   cargo run --release -p okta-connect --example bench_reconcile -- 10000
//!   cargo run --release -p okta-connect --example bench_reconcile -- 10000 --throttled
//!
//! Arguments: N, the members of the agents group (default 10000); `--throttled`: okta-sim
//! at Okta's default rate limits and connect-sim at Connect's default quota (else both
//! unlimited); `--drift PCT`: the share of Connect users seeded with another routing
//! profile, for the apply to fix (default 1); `--memory-ledger`: the in-memory reference
//! ledger instead of SQLite in a temporary folder.
//!
//! The org: N active users (ids `00u` + 17 characters) in `amazon_connect`, an empty
//! `connect_supervisors`, the "AWS Account Federation" app with nobody assigned, ids as
//! in `tests/fixtures/okta`, names as in config.ini (the engine binds them through the
//! Okta API). Connect: the same N usernames, tagged as the pipeline's own with the
//! default mapping's profiles, so the plan is "unchanged" for all but the drifted ones.
//! The engine's client-side pacing is config.ini's (REQUESTS_PER_SECOND 2, BURST 5) in
//! both modes: that is what production runs with.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use connect_sim::seed::{DEFAULT_SEED_JSON, Seed as ConnectSeed, UserSeed as ConnectUserSeed};
use connect_sim::{CallCounters, ErrorKind, Operation, Outcome, RateLimit, Sim};
use okta_connect_aws::connect::{ConnectDirectory, SEARCH_PAGE_SIZE};
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_core::config::Config;
use okta_connect_core::identity::SourceId;
use okta_connect_core::outcome::Converged;
use okta_connect_core::ownership::UserFilter;
use okta_connect_core::ownership::{MAPPING_TAG, OKTA_USER_TAG};
use okta_connect_core::ports::{IdentitySource, Ledger, UserDirectory};
use okta_connect_core::time::UnixMillis;
use okta_connect_local::SqliteLedger;
use okta_connect_okta::{OktaApi, OktaApiSettings, OktaAuth, Secret};
use okta_connect_sync::reconcile::{self, Action, Run, RunOptions};
use okta_connect_sync::{Engine, SyncError};
use okta_connect_testkit::memory::{MemoryLedger, MemoryQueue};
use okta_sim::{Family, OktaSim, RateLimits};
use serde_json::json;

const CONFIG_INI: &str = include_str!("../../../config.ini");
const TOKEN: &str = "bench-reconcile-token";
const AGENTS_GROUP: (&str, &str) = ("00g1c0nn3ctAgents0d7", "amazon_connect");
const SUPERVISORS_GROUP: (&str, &str) = ("00g1c0nn3ctSup3rv1s7", "connect_supervisors");
const CONNECT_APP: (&str, &str) = ("0oa1awsF3d3rat10n0d7", "AWS Account Federation");
/// Okta's page of group members as the adapter asks for it.
const GROUP_PAGE: usize = 200;
/// How often the apply window's sampler looks at connect-sim's counters.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

struct Args {
    members: usize,
    throttled: bool,
    drift_percent: f64,
    memory_ledger: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut parsed = Args {
        members: 10_000,
        throttled: false,
        drift_percent: 1.0,
        memory_ledger: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--throttled" => parsed.throttled = true,
            "--memory-ledger" => parsed.memory_ledger = true,
            "--drift" => {
                parsed.drift_percent = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|p: &f64| (0.0..=100.0).contains(p))
                    .context("--drift takes a percentage, 0 to 100")?;
            }
            n => parsed.members = n.parse().with_context(|| format!("not a count: {n}"))?,
        }
    }
    if parsed.members == 0 {
        bail!("N must be at least 1");
    }
    Ok(parsed)
}

/// A line of `/proc/self/status` in KiB (`VmHWM`: peak resident set; `VmRSS`: now).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0), so the next peak is one phase's.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The peak RSS since the last [`reset_peak`], as text.
fn peak() -> String {
    format!("{:.0} MiB", mib(status_kib("VmHWM:")))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn okta_id(i: usize) -> String {
    format!("00ubench{i:012}")
}

fn login(i: usize) -> String {
    format!("agent{i:06}@acme.example")
}

fn last_name(i: usize) -> String {
    format!("No{i:06}")
}

/// Whether user `i` of `n` is seeded drifted: `drifted` of them, evenly spread.
fn is_drifted(i: usize, n: usize, drifted: usize) -> bool {
    drifted > 0 && (i * drifted) / n != ((i + 1) * drifted) / n
}

fn okta_seed(n: usize) -> anyhow::Result<okta_sim::Seed> {
    let users: Vec<_> = (0..n)
        .map(|i| {
            json!({"id": okta_id(i), "status": "ACTIVE", "profile": {
                "login": login(i), "firstName": "Agent", "lastName": last_name(i), "email": login(i)}})
        })
        .collect();
    let members: Vec<String> = (0..n).map(okta_id).collect();
    let seed = json!({
        "users": users,
        "groups": [
            {"id": AGENTS_GROUP.0, "name": AGENTS_GROUP.1, "members": members},
            {"id": SUPERVISORS_GROUP.0, "name": SUPERVISORS_GROUP.1}
        ],
        "apps": [{"id": CONNECT_APP.0, "label": CONNECT_APP.1, "name": "amazon_aws",
                  "catalogDisplayName": "AWS Account Federation"}]
    });
    okta_sim::Seed::from_json(&seed.to_string()).context("okta-sim seed")
}

/// The default seed's instance with N users of the default mapping (the drifted ones on
/// another routing profile) and room for them; returns the drifted routing profile too.
fn connect_seed(
    config: &Config,
    n: usize,
    drifted: usize,
) -> anyhow::Result<(ConnectSeed, String)> {
    let mapping = config
        .mappings
        .iter()
        .find(|m| m.name == "default")
        .context("config.ini has no default mapping")?;
    let mut seed = ConnectSeed::from_json(DEFAULT_SEED_JSON)?;
    let instance = seed
        .instances
        .iter_mut()
        .find(|i| i.id == config.instance_id.as_str())
        .context("the default seed has no instance of config.ini")?;
    let other = instance
        .routing_profiles
        .iter()
        .map(|r| r.id.clone())
        .find(|id| id != mapping.routing_profile_id.as_str())
        .context("the default seed has one routing profile only")?;
    instance.max_users = instance.max_users.max(n + 100);
    instance.users = (0..n)
        .map(|i| ConnectUserSeed {
            id: None,
            username: login(i),
            password: None,
            first_name: Some("Agent".into()),
            last_name: Some(last_name(i)),
            email: Some(login(i)),
            security_profile_ids: mapping
                .security_profile_ids
                .iter()
                .map(|s| s.to_string())
                .collect(),
            routing_profile_id: if is_drifted(i, n, drifted) {
                other.clone()
            } else {
                mapping.routing_profile_id.to_string()
            },
            hierarchy_group_id: mapping.hierarchy_group_id.as_ref().map(|h| h.to_string()),
            tags: BTreeMap::from([
                (OKTA_USER_TAG.to_string(), okta_id(i)),
                (MAPPING_TAG.to_string(), mapping.name.clone()),
            ]),
        })
        .collect();
    Ok((seed, other))
}

fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update { .. } => "update",
        Action::Adopt { .. } => "adopt",
        Action::Revoke { .. } => "revoke",
        Action::Unchanged => "unchanged",
        Action::Conflict { .. } => "conflict",
    }
}

fn actions(run: &Run) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for user in &run.users {
        *counts.entry(action_name(&user.action)).or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_okta(counters: &okta_sim::Counters, client_requests: u64) {
    let mut total = 0;
    for family in Family::ALL {
        let n = counters.requests(family);
        total += n;
        if n > 0 {
            println!("  okta {:<22} {n}", family.as_str());
        }
    }
    println!(
        "  okta total               {total} (429s {}; adapter counted {client_requests})",
        counters.throttled()
    );
}

fn print_connect(counters: &CallCounters) {
    for op in Operation::ALL {
        let total = counters.total(op);
        if total > 0 {
            println!(
                "  connect {:<26} {total} (ok {}, throttled {})",
                op.as_str(),
                counters.count(op, Outcome::Success),
                counters.errors(op, ErrorKind::ThrottlingException)
            );
        }
    }
    println!(
        "  connect total                      {}",
        counters.grand_total()
    );
}

/// Connect calls that are not the snapshot's SearchUsers pages.
fn apply_calls(counters: &CallCounters) -> u64 {
    counters.grand_total() - counters.total(Operation::SearchUsers)
}

/// Throttled: lets Connect's bucket refill its burst, as between two scheduled runs.
async fn between_phases(args: &Args) {
    if args.throttled {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

fn options(dry_run: bool, config: &Config) -> RunOptions {
    RunOptions {
        run_id: format!("bench-{}", UnixMillis::now()),
        dry_run,
        max_revocations: usize::try_from(config.reconcile.max_revocations).unwrap_or(usize::MAX),
        only: None,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let tmp = tempfile::tempdir()?;
    if args.memory_ledger {
        bench(&args, MemoryLedger::new()).await
    } else {
        let ledger = SqliteLedger::open(&tmp.path().join("ledger.db"))?;
        bench(&args, ledger).await
    }
}

async fn bench<L: Ledger>(args: &Args, ledger: L) -> anyhow::Result<()> {
    let n = args.members;
    let drifted = ((n as f64) * args.drift_percent / 100.0).round() as usize;
    let config = Config::from_ini(CONFIG_INI).context("config.ini")?;
    let setup = Instant::now();

    let okta = OktaSim::builder()
        .seed(okta_seed(n)?)
        .api_token(TOKEN)
        .rate_limits(if args.throttled {
            RateLimits::okta_defaults()
        } else {
            RateLimits::unlimited()
        })
        .build()?
        .serve("127.0.0.1:0".parse()?)
        .await?;
    let (seed, drift_profile) = connect_seed(&config, n, drifted)?;
    let builder = Sim::builder().seed(seed);
    let builder = if args.throttled {
        builder.rate(RateLimit::CONNECT_DEFAULT)
    } else {
        builder.no_throttle()
    };
    let connect = builder.build()?.serve("127.0.0.1:0".parse()?).await?;
    let seeded = connect.sim().users().len();
    let aws = sdk::load(&AwsSettings::emulator(connect.url())).await;
    let directory = ConnectDirectory::from_config(&aws, config.instance_id.to_string());
    let identity = OktaApi::new(OktaApiSettings::new(
        okta.url(),
        OktaAuth::ApiToken(Secret::new(TOKEN)),
    ))?;
    let pacing = config.pacing;
    let engine = Engine::new(
        config.clone(),
        ledger,
        directory,
        MemoryQueue::new(),
        Some(identity.clone()),
    );
    let setup = setup.elapsed();

    let quota = RateLimit::CONNECT_DEFAULT;
    println!(
        "reconcile of {n} Okta group members, {seeded} Connect users ({drifted} drifted), {} ledger",
        if args.memory_ledger {
            "in-memory"
        } else {
            "SQLite"
        }
    );
    println!(
        "limits: {}; engine pacing {}/s burst {} (config.ini)",
        if args.throttled {
            format!(
                "okta-sim at Okta's defaults, connect-sim at {}/s burst {}",
                quota.per_second, quota.burst
            )
        } else {
            "okta-sim and connect-sim unlimited".to_string()
        },
        pacing.requests_per_second,
        pacing.burst
    );
    println!(
        "setup (seeding both simulators)    {:.1} s",
        setup.as_secs_f64()
    );
    let rss_seeded = status_kib("VmRSS:");

    // ---- the read phase: a dry run ----------------------------------------------------
    let peak_reset = reset_peak();
    okta.sim().reset_counters();
    connect.sim().reset_counters();
    let before = identity.requests();
    let started = Instant::now();
    let dry = engine.reconcile(&options(true, &config)).await;
    let dry_wall = started.elapsed();
    let okta_counters = okta.sim().counters();
    let connect_counters = connect.sim().counters();
    let peak_dry = peak();
    println!();
    println!("dry run (names resolved, Okta and Connect read, plan)");
    match &dry {
        Ok(run) => println!(
            "  plan                     {} users: {}",
            run.users.len(),
            actions(run)
        ),
        Err(e) => println!("  FAILED                   {e}"),
    }
    println!("  wall time                {:.3} s", dry_wall.as_secs_f64());
    println!(
        "  aim                      SearchUsers {} (⌈N/{SEARCH_PAGE_SIZE}⌉), agents' member pages {} (⌈N/{GROUP_PAGE}⌉) + 1 per other group",
        n.div_ceil(SEARCH_PAGE_SIZE as usize),
        n.div_ceil(GROUP_PAGE)
    );
    print_okta(&okta_counters, identity.requests() - before);
    print_connect(&connect_counters);
    println!(
        "  memory                   RSS {:.0} MiB once seeded; peak (VmHWM) during the dry run {peak_dry}{} (both simulators live in this process)",
        mib(rss_seeded),
        if peak_reset {
            ""
        } else {
            " (VmHWM could not be reset: peak since start)"
        }
    );

    // ---- where the dry run's time goes: each read alone, then the plan alone ----------
    let bound = engine.bound_config().await?;
    let identity_ref = engine
        .identity
        .as_ref()
        .context("the engine has an Okta API")?;
    println!();
    println!("breakdown (names already bound)");
    let mut sources = BTreeSet::new();
    for source in bound.sources() {
        if let Some(id) = &source.id {
            sources.insert((source.kind, id.clone()));
        }
    }
    between_phases(args).await;
    okta.sim().reset_counters();
    let started = Instant::now();
    let mut members = 0;
    for (kind, id) in &sources {
        let key = SourceId {
            kind: *kind,
            id: id.clone(),
        };
        match identity_ref.members(&key).await {
            Ok(users) => members += users.len(),
            Err(e) => println!("  Okta members FAILED      {key}: {e}"),
        }
    }
    let okta_read = started.elapsed();
    let okta_calls = okta.sim().counters();
    println!(
        "  Okta members alone       {:.3} s, {members} members of {} sources in {} calls",
        okta_read.as_secs_f64(),
        sources.len(),
        Family::ALL
            .iter()
            .map(|f| okta_calls.requests(*f))
            .sum::<u64>()
    );
    between_phases(args).await;
    connect.sim().reset_counters();
    let started = Instant::now();
    let users = match engine.directory.search(&UserFilter::All).await {
        Ok(users) => users.len().to_string(),
        Err(e) => format!("FAILED ({e}), "),
    };
    let connect_read = started.elapsed();
    println!(
        "  Connect search alone     {:.3} s, {users} users in {} calls",
        connect_read.as_secs_f64(),
        connect.sim().counters().grand_total()
    );
    between_phases(args).await;
    okta.sim().reset_counters();
    connect.sim().reset_counters();
    let started = Instant::now();
    let snapshot =
        reconcile::read_snapshot(&bound, identity_ref, &engine.directory, UnixMillis::now()).await;
    let read_only = started.elapsed();
    match snapshot {
        Ok(snapshot) => {
            let okta_calls = okta.sim().counters();
            println!(
                "  read_snapshot            {:.3} s ({} members in {} sources, {} Connect users; okta {} calls, connect {} calls)",
                read_only.as_secs_f64(),
                snapshot.members.values().map(Vec::len).sum::<usize>(),
                snapshot.members.len(),
                snapshot.connect.len(),
                Family::ALL
                    .iter()
                    .map(|f| okta_calls.requests(*f))
                    .sum::<u64>(),
                connect.sim().counters().grand_total()
            );
            let started = Instant::now();
            let planned = reconcile::run(
                &snapshot,
                &bound,
                &engine.ledger,
                &options(true, &config),
                |_okta_user_id: String| async {
                    Err::<Converged, _>(SyncError::Permanent("a dry run converges nobody".into()))
                },
            )
            .await;
            let plan_only = started.elapsed();
            match planned {
                Ok(run) => println!(
                    "  plan (reconcile::run)    {:.3} s for {} users",
                    plan_only.as_secs_f64(),
                    run.users.len()
                ),
                Err(e) => println!("  plan FAILED              {e}"),
            }
        }
        Err(e) => println!(
            "  read_snapshot FAILED     after {:.3} s: {e}",
            read_only.as_secs_f64()
        ),
    }

    // ---- the apply: a real run ----------------------------------------------------------
    between_phases(args).await;
    let rss_before_run = status_kib("VmRSS:");
    reset_peak();
    okta.sim().reset_counters();
    connect.sim().reset_counters();
    let before = identity.requests();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let sim = connect.sim().clone();
        let stop = Arc::clone(&stop);
        // First and last moment a non-search Connect call was seen: the apply window.
        tokio::spawn(async move {
            let (mut first, mut last, mut seen) = (None, None, 0);
            loop {
                let now = Instant::now();
                let calls = apply_calls(&sim.counters());
                if calls > seen {
                    first = first.or(Some(now));
                    last = Some(now);
                    seen = calls;
                }
                if stop.load(Ordering::Relaxed) {
                    return (first, last);
                }
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
        })
    };
    let started = Instant::now();
    let real = engine.reconcile(&options(false, &config)).await;
    let real_wall = started.elapsed();
    let ended = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let (first, last) = sampler.await?;
    let okta_counters = okta.sim().counters();
    let connect_counters = connect.sim().counters();
    println!();
    println!("real run (read again, facts recorded for everyone, drifted users converged)");
    match &real {
        Ok(run) => {
            let changed = run
                .users
                .iter()
                .filter(|u| {
                    matches!(
                        u.action,
                        Action::Update { .. }
                            | Action::Create
                            | Action::Adopt { .. }
                            | Action::Revoke { .. }
                    )
                })
                .count();
            println!(
                "  result                   {} users: {}",
                run.users.len(),
                actions(run)
            );
            println!("  users changed            {changed}");
            if run.stopped_at_cap.is_some() {
                println!("  stopped at the revocation cap: nothing applied");
            }
        }
        Err(e) => println!("  FAILED                   {e}"),
    }
    println!(
        "  wall time                {:.3} s",
        real_wall.as_secs_f64()
    );
    print_okta(&okta_counters, identity.requests() - before);
    print_connect(&connect_counters);
    let writes: u64 = Operation::ALL
        .iter()
        .filter(|op| op.is_mutation())
        .map(|op| connect_counters.total(*op))
        .sum();
    let apply = apply_calls(&connect_counters);
    println!("  connect write calls      {writes} (all calls after the read: {apply})");
    if let (Some(first), Some(last)) = (first, last) {
        let window = last.duration_since(first).as_secs_f64();
        let tail = ended.duration_since(last).as_secs_f64();
        // The fastest any client can go: the burst at once, then the quota.
        let ideal = (apply as f64 - f64::from(quota.burst)).max(0.0) / quota.per_second;
        println!(
            "  apply window             {window:.1} s from the first to the last Connect call after the read (±{} ms), then {tail:.1} s to the end of the run",
            SAMPLE_EVERY.as_millis()
        );
        println!(
            "  apply rate               {:.2} Connect calls/s over the window; after the burst of {}: {:.2}/s = {:.3} of the quota {}/s (ideal for {apply} calls: {ideal:.1} s)",
            apply as f64 / window.max(1e-9),
            quota.burst,
            (apply as f64 - f64::from(quota.burst)).max(0.0) / window.max(1e-9),
            ideal / window.max(1e-9),
            quota.per_second
        );
    }
    let left = connect
        .sim()
        .users()
        .iter()
        .filter(|u| u.user.routing_profile_id == drift_profile)
        .count();
    println!("  drifted users left       {left} (connect-sim state after the run)");
    println!(
        "  memory                   peak (VmHWM) during the real run {} (RSS at its start {:.0} MiB)",
        peak(),
        mib(rss_before_run)
    );
    Ok(())
}
