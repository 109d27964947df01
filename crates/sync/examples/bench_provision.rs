//! Provisioning benchmark: N new users through the sync engine against connect-sim at a
//! given Connect quota, ledger and dead-letter queue on moto. Prints figures; asserts
//! nothing.
//!
//!   MOTO_SERVER=~/.cache/okta-connect/venv/bin/moto_server \
//!     cargo run --release -p okta-connect-sync --example bench_provision -- 300 2 5
//!
//! Arguments: users (default 300), quota requests/s (default 2), burst (default 5).
//! The worker's pacing is set to the same quota, as an admin would configure it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use connect_sim::{ErrorKind, Operation, RateLimit, Seed, Sim};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::dynamodb::{DynamoLedger, create_table};
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::config::Config;
use okta_connect_core::queue::{Delivery, EventAttributes, Receipt};
use okta_connect_core::time::UnixMillis;
use okta_connect_sync::{Disposition, Engine, NoIdentitySource};
use okta_connect_testkit::{MotoServer, fixtures};

fn event(i: usize) -> String {
    serde_json::json!({
        "uuid": format!("bench-{i:06}"),
        "published": UnixMillis(1_700_000_000_000 + i as i64).to_string(),
        "eventType": "group.user_membership.add",
        "version": "0",
        "outcome": {"result": "SUCCESS", "reason": null},
        "target": [
            {"id": format!("00ubench{i:012}"), "type": "User", "alternateId": format!("agent{i:05}@acme.example"), "displayName": format!("Agent {i:05}")},
            {"id": "00g1c0nn3ctAgents0d7", "type": "UserGroup", "alternateId": "unknown", "displayName": "amazon_connect"}
        ]
    })
    .to_string()
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

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let users: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let quota: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2.0);
    let burst: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(5);

    let moto = MotoServer::start();
    let aws = sdk::load(&AwsSettings::emulator(moto.url())).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    create_table(&dynamo, "ledger").await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let dlq = sqs
        .create_queue()
        .queue_name("dlq")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let sim = Sim::builder()
        .seed(Seed::default())
        .rate(RateLimit::new(quota, burst))
        .build()
        .unwrap();
    let server = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let connect = sdk::load(&AwsSettings::emulator(server.url())).await;

    let mut config = Config::from_ini(fixtures::CONFIG_INI).unwrap();
    config.pacing.requests_per_second = quota;
    config.pacing.burst = burst;
    let ledger = DynamoLedger::from_config(&aws, "ledger");
    let directory = ConnectDirectory::from_config(&connect, "abcdefgh-0122-4131-adc2-a0ebe5a2b2a7");
    let worker = Engine::new(
        config,
        ledger,
        directory,
        SqsQueue::from_config(&aws, dlq),
        None::<NoIdentitySource>,
    );

    let messages: Vec<Delivery> = (0..users)
        .map(|i| Delivery {
            message_id: format!("m{i}"),
            receipt: Receipt(format!("r{i}")),
            body: event(i),
            attributes: EventAttributes {
                uuid: format!("bench-{i:06}"),
                ..EventAttributes::default()
            }
            .to_attributes(),
            receive_count: 1,
        })
        .collect();
    println!("provisioning {users} new users at a Connect quota of {quota}/s burst {burst} …");
    let started = Instant::now();
    // Batches of 10, as SQS delivers them; one invocation at a time.
    let settled = worker
        .settle(messages, 10, usize::MAX, Duration::from_secs(900))
        .await;
    let dead = settled
        .reports
        .iter()
        .filter(|r| r.disposition == Disposition::DeadLettered)
        .count();
    let elapsed = started.elapsed().as_secs_f64();
    let counters = server.sim().counters();
    let created = counters.successes(Operation::CreateUser);
    let throttled: u64 = [
        Operation::CreateUser,
        Operation::SearchUsers,
        Operation::DescribeUser,
    ]
    .iter()
    .map(|op| counters.errors(*op, ErrorKind::ThrottlingException))
    .sum();
    // The fastest any client can go: the burst at once, then the quota.
    let ideal = (users as f64 - f64::from(burst)).max(0.0) / quota;
    println!("users created         {created} of {users} (dead-lettered {dead})");
    println!("elapsed               {elapsed:.1} s (ideal at the quota: {ideal:.1} s)");
    println!(
        "CreateUser rate       {:.2}/s = {:.3} of the quota",
        (users as f64 - f64::from(burst)).max(0.0) / elapsed.max(1e-9),
        ideal / elapsed.max(1e-9)
    );
    println!("429s received         {throttled}");
    println!(
        "Connect calls/user    {:.3}",
        counters.grand_total() as f64 / users as f64
    );
    println!(
        "DynamoDB requests/evt {:.2}",
        worker.ledger.requests() as f64 / users as f64
    );
    println!("peak RSS              {} MiB", peak_rss_kib() / 1024);
}
