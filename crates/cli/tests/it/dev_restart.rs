//! `okta-connect dev` killed with SIGKILL while events are queued, then restarted:
//! nothing queued is lost and every event is processed once. Then Ctrl-C (SIGINT)
//! stops it cleanly.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use okta_connect::pipeline::{DEAD_LETTER_QUEUE, QUEUE, STATE_DB};
use okta_connect_core::okta::Delivery;
use okta_connect_core::ports::{EventState, Ledger};
use okta_connect_core::time::UnixMillis;
use okta_connect_local::{EmbeddedQueue, QueueSettings, SqliteLedger};
use okta_connect_testkit::fixtures;

const SECRET: &str = "restart-test-secret-value";

struct Dev {
    child: Child,
    sim_url: String,
    hook_url: String,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `okta-connect dev` on `state` and reads its JSON banner.
fn start_dev(state: &Path, port: u16) -> Dev {
    let mut child = Command::new(env!("CARGO_BIN_EXE_okta-connect"))
        .args(["--json", "dev", "--state"])
        .arg(state)
        .args([
            "--port",
            &port.to_string(),
            "--secret",
            SECRET,
            "--visibility-timeout",
            "2",
        ])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let banner: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("banner {line:?}: {e}"));
    let connect = banner["connect"].as_str().unwrap();
    let sim_url = connect
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    Dev {
        child,
        sim_url,
        hook_url: banner["event_hook_url"].as_str().unwrap().to_string(),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn connect_users(client: &reqwest::Client, sim_url: &str) -> usize {
    let Ok(response) = client.get(format!("{sim_url}/_sim/users")).send().await else {
        return 0;
    };
    let value: serde_json::Value = response.json().await.unwrap_or_default();
    match &value {
        serde_json::Value::Array(users) => users.len(),
        other => other["Users"].as_array().map_or(0, Vec::len),
    }
}

fn temp_state() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("okta-connect-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_nine_then_restart_loses_nothing_and_processes_everything_once() {
    let state = temp_state();
    let port = free_port();
    let client = reqwest::Client::new();

    // Connect is throttled like the real one (2/s, burst 5): 100 events take ~50 s, so
    // most are still queued when the process is killed.
    let first = start_dev(&state, port);
    let response = client
        .post(&first.hook_url)
        .header("authorization", SECRET)
        .header("content-type", "application/json")
        .body(fixtures::HUNDRED_EVENTS)
        .timeout(Duration::from_secs(3))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "accepted only once durably queued"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before = connect_users(&client, &first.sim_url).await;
    drop(first); // SIGKILL: no shutdown, no flush beyond what was committed.
    assert!(
        before < 100,
        "the kill must happen mid-way (already {before} users)"
    );

    let second = start_dev(&state, port);
    let started = Instant::now();
    loop {
        let users = connect_users(&client, &second.sim_url).await;
        if users == 100 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "only {users} of 100 users after restart"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Every event completed exactly once in the ledger; nothing left queued or dead.
    let db = state.join(STATE_DB);
    let queue = EmbeddedQueue::open(
        &db,
        QUEUE,
        QueueSettings::default(),
        Some(DEAD_LETTER_QUEUE),
    )
    .unwrap();
    let dlq = EmbeddedQueue::open(&db, DEAD_LETTER_QUEUE, QueueSettings::default(), None).unwrap();
    let ledger = SqliteLedger::open(&db).unwrap();
    let drained = Instant::now();
    while queue.counts(UnixMillis::now()).unwrap().visible
        + queue.counts(UnixMillis::now()).unwrap().in_flight
        > 0
    {
        assert!(
            drained.elapsed() < Duration::from_secs(30),
            "queue did not drain"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(dlq.list().unwrap().is_empty());
    for event in Delivery::parse(fixtures::HUNDRED_EVENTS.as_bytes())
        .unwrap()
        .events
    {
        let record = ledger
            .event_record(&event.event.uuid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.state, EventState::Completed, "{}", event.event.uuid);
    }
    assert_eq!(
        connect_users(&client, &second.sim_url).await,
        100,
        "no user twice, none lost"
    );

    // Ctrl-C: finishes in-flight work and exits 0.
    let mut second = second;
    let pid = second.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = second.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(20),
            "dev did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&state);
}
