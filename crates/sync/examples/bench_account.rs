//! Account pacing benchmark: concurrent workers, each pacing its share of Connect's
//! per-API quotas (`Pacer::shared`, as the deployed worker does for `[Deploy]
//! MAX_CONCURRENCY`), against one connect-sim metering every API at Connect's defaults
//! (2/s burst 5; DescribeUser, ListUsers, ListRoutingProfiles 10/s), all workers on one
//! ledger table on moto. The workload mixes new agents (CreateUser) with existing agents
//! promoted by a supervisors-group event (UpdateUserSecurityProfiles,
//! UpdateUserRoutingProfile, UpdateUserHierarchy, DescribeUser + TagResource). Prints
//! figures; asserts nothing.
//!
//!   MOTO_SERVER=~/.cache/okta-connect/venv/bin/moto_server \
//!     cargo run -p okta-connect-sync --example bench_account -- 300 300 2
//!
//! Arguments: new users (default 300), promotions (default 300), workers (default 2),
//! batch size (default 10, SQS's), messages processed at once per invocation (default:
//! the engine's), and `unpaced` as a sixth to time the same workload with neither quotas
//! nor pacing: what this machine (moto, connect-sim, a debug build) allows, the floor
//! under the paced figure. The promoted agents are provisioned first, unthrottled and
//! unmeasured.
//! Workers take the next batch when free, as invocations of an SQS event source do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use connect_sim::{ErrorKind, Operation, RateLimits, Seed, Sim};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::dynamodb::{DynamoLedger, create_table};
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::config::{Config, Pacing};
use okta_connect_core::queue::{Delivery, EventAttributes, Receipt};
use okta_connect_core::time::UnixMillis;
use okta_connect_sync::{ConnectApi, Disposition, Engine, NoIdentitySource, Pacer, Settings};
use okta_connect_testkit::{MotoServer, fixtures};

const INSTANCE: &str = "abcdefgh-0122-4131-adc2-a0ebe5a2b2a7";
const AGENTS: (&str, &str) = ("00g1c0nn3ctAgents0d7", "amazon_connect");
const SUPERVISORS: (&str, &str) = ("00g1c0nn3ctSup3rv1s7", "connect_supervisors");

type Worker = Engine<DynamoLedger, ConnectDirectory, SqsQueue, NoIdentitySource>;

fn membership(i: usize, group: (&str, &str), published: i64) -> Delivery {
    let uuid = format!("bench-{}-{i:06}", group.1);
    let body = serde_json::json!({
        "uuid": uuid,
        "published": UnixMillis(published).to_string(),
        "eventType": "group.user_membership.add",
        "version": "0",
        "outcome": {"result": "SUCCESS", "reason": null},
        "target": [
            {"id": format!("00ubench{i:012}"), "type": "User", "alternateId": format!("agent{i:05}@acme.example"), "displayName": format!("Agent {i:05}")},
            {"id": group.0, "type": "UserGroup", "alternateId": "unknown", "displayName": group.1}
        ]
    })
    .to_string();
    Delivery {
        message_id: format!("m-{uuid}"),
        receipt: Receipt(format!("r-{uuid}")),
        body,
        attributes: EventAttributes {
            uuid,
            ..EventAttributes::default()
        }
        .to_attributes(),
        receive_count: 1,
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn operation(api: ConnectApi) -> Operation {
    api.name().parse().unwrap()
}

/// The queue the workers share: whoever is free takes the next batch; handed-back
/// messages go to its end, as after a visibility timeout.
struct Queue {
    batches: Mutex<VecDeque<Vec<Delivery>>>,
    in_flight: AtomicUsize,
    batch_size: usize,
}

#[derive(Default, Debug)]
struct Tally {
    done: usize,
    dead: usize,
    handed_back: usize,
    batches: usize,
    /// The first dead letter's reason: a benchmark that dead-letters measures nothing.
    first_dead: Option<String>,
}

async fn drain(worker: &Worker, queue: &Queue) -> Tally {
    let mut tally = Tally::default();
    loop {
        let batch = {
            let mut batches = queue.batches.lock().unwrap();
            let batch = batches.pop_front();
            if batch.is_some() {
                queue.in_flight.fetch_add(1, Ordering::SeqCst);
            }
            batch
        };
        let Some(batch) = batch else {
            if queue.in_flight.load(Ordering::SeqCst) == 0 {
                return tally;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tally.batches += 1;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(900);
        let reports = worker.handle_batch(&batch, deadline).await;
        let mut again = Vec::new();
        for (report, message) in reports.into_iter().zip(batch) {
            match report.disposition {
                Disposition::Done => tally.done += 1,
                Disposition::DeadLettered => {
                    tally.dead += 1;
                    if tally.first_dead.is_none() {
                        tally.first_dead = report.reason().map(str::to_string);
                    }
                }
                Disposition::Retry => {
                    tally.handed_back += 1;
                    let mut message = message;
                    message.receive_count += 1;
                    again.push(message);
                }
            }
        }
        {
            let mut batches = queue.batches.lock().unwrap();
            for chunk in again.chunks(queue.batch_size) {
                batches.push_back(chunk.to_vec());
            }
        }
        queue.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg =
        |n: usize, default: usize| args.get(n).and_then(|a| a.parse().ok()).unwrap_or(default);
    let new_users = arg(1, 300);
    let promotions = arg(2, 300);
    let workers = arg(3, 2).max(1);
    let batch_size = arg(4, 10).max(1);
    let concurrency = arg(5, Settings::default().concurrency);
    let share = u32::try_from(workers).unwrap();
    let unpaced = args.get(6).is_some_and(|a| a == "unpaced");
    let free = || {
        Pacer::new(Pacing {
            requests_per_second: 10_000.0,
            burst: 10_000,
        })
    };

    let moto = MotoServer::start();
    let aws = sdk::load(&AwsSettings::emulator(moto.url())).await;
    create_table(&aws_sdk_dynamodb::Client::new(&aws), "ledger")
        .await
        .unwrap();
    let dlq = aws_sdk_sqs::Client::new(&aws)
        .create_queue()
        .queue_name("dlq")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    // Room for every agent: Connect's default of 500 users per instance is a quota an
    // instance of this size has raised.
    let mut seed = Seed::default();
    for instance in &mut seed.instances {
        instance.max_users = 10_000;
    }
    let sim = Sim::builder().seed(seed).no_throttle().build().unwrap();
    let server = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let connect = sdk::load(&AwsSettings::emulator(server.url())).await;
    let config = Config::from_ini(fixtures::CONFIG_INI).unwrap();
    let worker = |pacing: Pacer| {
        let mut worker = Engine::new(
            config.clone(),
            DynamoLedger::from_config(&aws, "ledger"),
            ConnectDirectory::from_config(&connect, INSTANCE),
            SqsQueue::from_config(&aws, dlq.clone()),
            None::<NoIdentitySource>,
        );
        worker.pacing = pacing;
        worker.settings.concurrency = concurrency;
        worker
    };
    let t0 = UnixMillis::now().0;

    // The agents to promote, provisioned without quota or pace: not measured.
    let started = Instant::now();
    let mut setup = worker(free());
    setup.settings.concurrency = 10;
    let agents = (0..promotions).map(|i| membership(i, AGENTS, t0)).collect();
    let settled = setup.settle(agents, 10, 10, Duration::from_secs(900)).await;
    assert!(settled.pending.is_empty(), "setup left messages pending");
    println!(
        "setup: {} existing agents provisioned (unthrottled) in {:.1} s",
        server.sim().users().len(),
        started.elapsed().as_secs_f64()
    );

    if !unpaced {
        server.sim().set_rate_limits(RateLimits::default()).unwrap();
    }
    server.sim().reset_counters();

    // Promotions interleaved with new agents, as a busy morning's events arrive.
    let mut messages = Vec::new();
    for i in 0..new_users.max(promotions) {
        if i < promotions {
            messages.push(membership(i, SUPERVISORS, t0 + 1_000));
        }
        if i < new_users {
            messages.push(membership(promotions + i, AGENTS, t0 + 1_000));
        }
    }
    let total = messages.len();
    let queue = Queue {
        batches: Mutex::new(
            messages
                .chunks(batch_size)
                .map(<[Delivery]>::to_vec)
                .collect(),
        ),
        in_flight: AtomicUsize::new(0),
        batch_size,
    };
    let pool: Vec<Worker> = (0..workers)
        .map(|_| {
            worker(if unpaced {
                free()
            } else {
                Pacer::shared(config.pacing, share)
            })
        })
        .collect();
    let bucket = pool[0].pacing.bucket(ConnectApi::CreateUser);
    println!(
        "{workers} workers, each pacing 1/{} of every quota ({:.3}/s burst {:.2} for the 2/s APIs, \
         {:.3}/s for DescribeUser); batches of {batch_size}, {concurrency} messages at once per invocation",
        pool[0].pacing.share(),
        bucket.rate(),
        bucket.burst(),
        pool[0].pacing.bucket(ConnectApi::DescribeUser).rate(),
    );
    println!(
        "workload: {new_users} new agents + {promotions} promotions = {total} events; {} …",
        if unpaced {
            "UNPACED, Connect without quotas (this machine's floor)"
        } else {
            "Connect at its default per-API quotas"
        }
    );
    let started = Instant::now();
    let tallies = futures_util::future::join_all(pool.iter().map(|w| drain(w, &queue))).await;
    let elapsed = started.elapsed().as_secs_f64();

    let counters = server.sim().counters();
    let limits = RateLimits::default();
    println!();
    // "of quota": the rate beyond the burst Connect grants at once, over the quota.
    println!(
        "{:<28} {:>6} {:>9} {:>8} {:>9} {:>8}",
        "API", "calls", "throttled", "calls/s", "quota/s", "of quota"
    );
    let mut quota_sum = 0.0;
    let mut calls_sum = 0;
    let mut throttled_sum = 0;
    let mut beyond_sum = 0.0;
    let mut bound: f64 = 0.0;
    for api in ConnectApi::ALL {
        let op = operation(api);
        let calls = counters.total(op);
        if calls == 0 {
            continue;
        }
        let throttled = counters.errors(op, ErrorKind::ThrottlingException);
        let limit = limits.limit_for(op);
        let rate = calls as f64 / elapsed;
        let beyond = (calls as f64 - f64::from(limit.burst)).max(0.0);
        beyond_sum += beyond;
        quota_sum += limit.per_second;
        calls_sum += calls;
        throttled_sum += throttled;
        // The fastest any client can make these calls: the burst at once, then the quota.
        bound = bound.max(beyond / limit.per_second);
        println!(
            "{:<28} {calls:>6} {throttled:>9} {rate:>8.3} {:>9.1} {:>8.3}",
            api.name(),
            limit.per_second,
            beyond / elapsed / limit.per_second
        );
    }
    let other = counters.grand_total() - calls_sum;
    println!(
        "{:<28} {:>6} {:>9} {:>8.3} {:>9.1} {:>8.3}",
        "all of them",
        calls_sum,
        throttled_sum,
        calls_sum as f64 / elapsed,
        quota_sum,
        beyond_sum / elapsed / quota_sum
    );
    if other > 0 {
        println!("(other Connect calls: {other})");
    }
    println!();
    println!("throttled calls       expected 0, measured {throttled_sum}");
    let done: usize = tallies.iter().map(|t| t.done).sum();
    let dead: usize = tallies.iter().map(|t| t.dead).sum();
    let back: usize = tallies.iter().map(|t| t.handed_back).sum();
    println!(
        "events                {done} done of {total}, {dead} dead-lettered, {back} handed back"
    );
    if let Some(reason) = tallies.iter().find_map(|t| t.first_dead.as_deref()) {
        println!("first dead letter     {reason}");
    }
    println!(
        "batches per worker    {:?}",
        tallies.iter().map(|t| t.batches).collect::<Vec<_>>()
    );
    println!(
        "wall time             {elapsed:.1} s (the quotas allow {bound:.1} s: {:.3} of that pace)",
        bound / elapsed.max(1e-9)
    );
    println!(
        "DynamoDB requests/evt {:.2}",
        pool.iter().map(|w| w.ledger.requests()).sum::<u64>() as f64 / total as f64
    );
    println!("peak RSS              {} MiB", peak_rss_kib() / 1024);
}
