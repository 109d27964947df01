//! `dev`'s live status line: the counters it reads move as the pipeline works (queued,
//! done, dead-lettered), the line is drawn on a terminal and cleared on stop, and with
//! standard error not a terminal the real binary writes no status at all.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressDrawTarget, TermLike};
use okta_connect::live::{self, LiveStatus, live_status_wanted};
use okta_connect::pipeline::{LiveCounts, Pipeline};
use okta_connect_testkit::fixtures;
use serde_json::{Value, json};

const SECRET: &str = "dev-live-test-secret";

async fn start(state: &std::path::Path) -> Pipeline {
    crate::start_pipeline(state, fixtures::CONFIG_INI, SECRET).await
}

/// A delivery of the membership fixture's first event, under `uuid`.
fn delivery(uuid: &str) -> String {
    let whole: Value = serde_json::from_str(fixtures::GROUP_MEMBERSHIP_ADD).unwrap();
    let mut event = whole["data"]["events"][0].clone();
    event["uuid"] = json!(uuid);
    json!({
        "eventType": "com.okta.event_hook",
        "eventId": format!("delivery-{uuid}"),
        "data": { "events": [event] }
    })
    .to_string()
}

async fn post(url: &str, body: String) -> Value {
    let response = reqwest::Client::new()
        .post(url)
        .header("authorization", SECRET)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

/// Polls the counts until `until` holds (30 s bound: only turns a hang into a failure).
async fn wait_for(pipeline: &Pipeline, until: impl Fn(&LiveCounts) -> bool) -> LiveCounts {
    let started = Instant::now();
    loop {
        let counts = pipeline.live_counts().await.unwrap();
        if until(&counts) {
            return counts;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "counts stuck at {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_live_counts_follow_the_work() {
    let state = tempfile::tempdir().unwrap();
    let pipeline = start(state.path()).await;
    assert_eq!(pipeline.live_counts().await.unwrap(), LiveCounts::default());

    let answer = post(&pipeline.ingest_url, delivery("live-one")).await;
    assert_eq!(answer, json!({"queued": 1, "deadLettered": 0}));
    assert!(pipeline.drain(Duration::from_secs(60)).await.unwrap());
    let counts = pipeline.live_counts().await.unwrap();
    assert_eq!(
        counts,
        LiveCounts {
            done: 1,
            ..LiveCounts::default()
        }
    );
    assert_eq!(
        live::status_line(&counts),
        "queued 0 · in flight 0 · done 1 · retried 0 · dead-lettered 0"
    );

    // The same event again: a duplicate, done too.
    post(&pipeline.ingest_url, delivery("live-one")).await;
    let counts = wait_for(&pipeline, |c| c.done == 2).await;
    assert_eq!(counts.retried, 0);

    // An unusable event goes to the dead-letter queue at ingest, and the line counts it
    // there; the worker's own dead-letter count does not move. (A delivery with nothing
    // usable is refused, so a good event comes along.)
    let bad =
        json!({"uuid": "bad-one", "eventType": "group.user_membership.add", "published": "soon"});
    let good: Value = serde_json::from_str(&delivery("live-two")).unwrap();
    let body = json!({
        "eventType": "com.okta.event_hook",
        "eventId": "delivery-bad-one",
        "data": {"events": [bad, good["data"]["events"][0]]}
    });
    let answer = post(&pipeline.ingest_url, body.to_string()).await;
    assert_eq!(answer, json!({"queued": 1, "deadLettered": 1}));
    let counts = wait_for(&pipeline, |c| c.done == 3).await;
    assert_eq!(counts.dead_lettered, 1);
    assert_eq!(counts.worker_dead_lettered, 0);
    assert_eq!(counts.retried, 0);

    // The counter outlives the pipeline: `dev`'s final summary is read after shutdown.
    let counter = pipeline.live_counter();
    pipeline.shutdown().await.unwrap();
    let last = counter.counts().await.unwrap();
    assert_eq!((last.done, last.dead_lettered, last.queued), (3, 1, 0));
}

/// A terminal stand-in: records what indicatif does to it.
#[derive(Debug, Clone, Default)]
struct Screen(Arc<Mutex<Vec<String>>>);

impl Screen {
    fn ops(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    fn record(&self, op: String) -> std::io::Result<()> {
        self.0.lock().unwrap().push(op);
        Ok(())
    }
}

impl TermLike for Screen {
    fn width(&self) -> u16 {
        200
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.record(format!("up {n}"))
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.record(format!("down {n}"))
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.record(format!("right {n}"))
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.record(format!("left {n}"))
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.record(format!("line {s}"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.record(format!("str {s}"))
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.record("clear".to_string())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_live_line_is_redrawn_in_place_and_cleared_on_stop() {
    let state = tempfile::tempdir().unwrap();
    let pipeline = start(state.path()).await;
    let screen = Screen::default();
    let mut status = LiveStatus::on(Some(ProgressDrawTarget::term_like(Box::new(
        screen.clone(),
    ))));
    assert!(status.wanted());
    assert!(screen.ops().is_empty(), "nothing drawn before start");
    status.start(pipeline.live_counter());
    assert!(status.is_live());

    post(&pipeline.ingest_url, delivery("live-drawn")).await;
    let started = Instant::now();
    while !screen.ops().iter().any(|op| op.contains("done 1")) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never drawn: {:?}",
            screen.ops()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // One line, redrawn in place: never a newline.
    assert!(
        !screen.ops().iter().any(|op| op.starts_with("line ")),
        "{:?}",
        screen.ops()
    );

    status.finish().await;
    let ops = screen.ops();
    let last_draw = ops.iter().rposition(|op| op.starts_with("str ")).unwrap();
    assert!(
        ops[last_draw..].iter().any(|op| op == "clear"),
        "the line is cleared on stop: {ops:?}"
    );
    tokio::time::sleep(live::REFRESH * 3).await;
    assert_eq!(screen.ops(), ops, "nothing drawn after stop");
    pipeline.shutdown().await.unwrap();
}

#[test]
fn dev_live_status_is_off_for_json_and_for_a_pipe() {
    assert!(!LiveStatus::new(live_status_wanted(true, true)).wanted());
    assert!(!LiveStatus::new(live_status_wanted(false, false)).wanted());
    assert!(LiveStatus::new(live_status_wanted(false, true)).wanted());
}

struct Dev(Child);

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real binary, no `--json`, standard error a pipe: events are processed, yet
/// standard error gets no status line, no carriage return, no terminal escape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_live_writes_nothing_when_stderr_is_not_a_terminal() {
    let state = tempfile::tempdir().unwrap();
    let mut dev = Dev(Command::new(env!("CARGO_BIN_EXE_okta-connect"))
        .args(["dev", "--port", "0", "--secret", SECRET, "--state"])
        .arg(state.path())
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap());
    let mut stdout = BufReader::new(dev.0.stdout.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "no banner");
        if let Some(url) = line.trim().strip_prefix("Event hook URL") {
            break url.trim().to_string();
        }
    };
    post(&url, delivery("live-piped")).await;
    // Several refresh periods: a status task, had one started, would have drawn by now.
    tokio::time::sleep(live::REFRESH * 4).await;

    let pid = dev.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = dev.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(20),
            "dev did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    dev.0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("stopping"), "{stderr:?}");
    for noise in ["\r", "\u{1b}", "in flight", "dead-lettered", "final:"] {
        assert!(!stderr.contains(noise), "{noise:?} in {stderr:?}");
    }
}
