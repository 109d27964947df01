//! Opening one store file from many threads and processes at once, on a fresh file, is
//! safe: every opener succeeds and can use the file at once. Also the open lock's
//! bound, openers that skip the lock, and the schema migrations from versions 1 and 3.
//!
//! A fresh file is the dangerous case: each opener switches it to WAL, and two
//! switches at once made one fail with "database is locked" without waiting (SQLite
//! answers `SQLITE_BUSY` to a read-to-write upgrade without calling the busy handler).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use okta_connect_core::fact::{Fact, Recorded};
use okta_connect_core::outcome::Outcome;
use okta_connect_core::ports::{
    Claim, EventAbout, EventQuery, EventQueue, EventRecord, Ledger, RunMode, RunRecord,
};
use okta_connect_core::queue::QueueMessage;
use okta_connect_core::time::UnixMillis;
use okta_connect_local::{
    BUSY_TIMEOUT, EmbeddedError, EmbeddedQueue, LocalQueue, QueueSettings, SCHEMA_VERSION,
    SqliteLedger,
};
use okta_connect_testkit::contract::ledger::{created, membership, permanent};

const T0: UnixMillis = UnixMillis(1_800_000_000_000);
const LEASE: Duration = Duration::from_secs(30);
const SETTINGS: QueueSettings = QueueSettings {
    visibility_timeout: Duration::from_secs(30),
    max_receive_count: 3,
};
/// Fresh files per run of each test: every round is a new race.
const ROUNDS: usize = 10;
const THREADS: usize = 8;

fn message(tag: &str) -> QueueMessage {
    QueueMessage {
        entry_id: "0".into(),
        body: format!(r#"{{"uuid":"{tag}"}}"#),
        attributes: [("uuid".to_string(), tag.to_string())].into(),
    }
}

/// What one opener does: opens one kind of handle (by `n`) at `path` and uses it at
/// once. Queue openers send message `tag`; ledger openers claim event `tag`.
fn open_and_use(path: &Path, n: usize, tag: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    let context = |e: &dyn std::fmt::Display| format!("opener {n} ({tag}): {e}");
    match n % 3 {
        0 => {
            let q = EmbeddedQueue::open(path, "events", SETTINGS, Some("events-dlq"))
                .map_err(|e| context(&e))?;
            rt.block_on(q.send_batch(&[message(tag)]))
                .map_err(|e| context(&e))?;
        }
        1 => {
            let q = LocalQueue::open(path, "events", SETTINGS, "events-dlq")
                .map_err(|e| context(&e))?;
            rt.block_on(q.send_batch(&[message(tag)]))
                .map_err(|e| context(&e))?;
        }
        _ => {
            let ledger = SqliteLedger::open(path).map_err(|e| context(&e))?;
            let claim = rt
                .block_on(ledger.claim_event(tag, &EventAbout::default(), T0, LEASE))
                .map_err(|e| context(&e))?;
            if claim != (Claim::Claimed { attempt: 1 }) {
                return Err(context(&format!("{claim:?}")));
            }
        }
    }
    Ok(())
}

fn is_queue_opener(n: usize) -> bool {
    n % 3 != 2
}

/// Checks that the file holds exactly the `sent` messages and the `claimed` events.
fn check_file(path: &Path, sent: &BTreeSet<String>, claimed: &BTreeSet<String>) {
    let q = EmbeddedQueue::open(path, "events", SETTINGS, None).unwrap();
    let stored: BTreeSet<String> = q
        .list()
        .unwrap()
        .into_iter()
        .map(|m| m.attributes["uuid"].clone())
        .collect();
    assert_eq!(&stored, sent, "messages in {}", path.display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ledger = SqliteLedger::open(path).unwrap();
    for uuid in claimed {
        assert!(
            rt.block_on(ledger.event_record(uuid)).unwrap().is_some(),
            "claim of {uuid}"
        );
    }
}

/// Sleeps until the wall clock reads `at` (so openers in several processes start
/// together).
fn sleep_until(at: UnixMillis) {
    let wait = UnixMillis::now().until(at);
    std::thread::sleep(wait);
}

/// Runs `THREADS` openers on `path`, all starting at `at` (or together via a barrier
/// when `at` is `None`), tagged `{prefix}-{n}`; returns what they sent and claimed.
fn race_threads(
    path: &Path,
    prefix: &str,
    at: Option<UnixMillis>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let barrier = Barrier::new(THREADS);
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|n| {
                let barrier = &barrier;
                s.spawn(move || {
                    match at {
                        Some(at) => sleep_until(at),
                        None => {
                            barrier.wait();
                        }
                    }
                    open_and_use(path, n, &format!("{prefix}-{n}"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "openers failed: {failures:#?}");
    let tags = |queue: bool| {
        (0..THREADS)
            .filter(|&n| is_queue_opener(n) == queue)
            .map(|n| format!("{prefix}-{n}"))
            .collect::<BTreeSet<_>>()
    };
    (tags(true), tags(false))
}

#[test]
fn a_fresh_file_opened_from_eight_threads_at_once() {
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let (sent, claimed) = race_threads(&path, &format!("r{round}"), None);
        check_file(&path, &sent, &claimed);
    }
}

// ---------------------------------------------------------------- other processes

/// Set in a child process of this test binary: the file it opens.
const CHILD_DB: &str = "OKTA_CONNECT_LOCAL_OPEN_CHILD_DB";
/// Set in a child process: when to open (epoch milliseconds).
const CHILD_AT: &str = "OKTA_CONNECT_LOCAL_OPEN_CHILD_AT";
/// Rounds of the process test (each waits for two processes to start).
const PROCESS_ROUNDS: usize = 3;

/// Runs only inside a child process started by the test below (a no-op otherwise):
/// opens the file from `THREADS` threads at the given instant and uses it, then prints
/// `ok`.
#[test]
fn open_child() {
    let (Ok(path), Ok(at)) = (std::env::var(CHILD_DB), std::env::var(CHILD_AT)) else {
        return;
    };
    let at = UnixMillis(at.parse().unwrap());
    race_threads(
        Path::new(&path),
        &format!("p{}", std::process::id()),
        Some(at),
    );
    println!("ok");
}

/// Two other processes and eight threads of this one open the same fresh file at the
/// same instant, then use it.
#[test]
fn a_fresh_file_opened_from_two_processes_and_eight_threads_at_once() {
    use std::io::Read;
    for round in 0..PROCESS_ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        // Long enough for both children to start and wait.
        let at = UnixMillis::now().plus(Duration::from_millis(1_000));
        let at_text = at.0.to_string();
        let mut children: Vec<_> = (0..2)
            .map(|_| {
                crate::spawn_child(
                    "open::open_child",
                    &[(CHILD_DB, path.as_os_str()), (CHILD_AT, at_text.as_ref())],
                )
            })
            .collect();
        let (mut sent, mut claimed) = race_threads(&path, &format!("r{round}"), Some(at));
        for child in &mut children {
            let pid = child.id();
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            assert!(child.wait().unwrap().success(), "child {pid} failed");
            assert!(out.lines().any(|l| l == "ok"), "child {pid} said {out:?}");
            for n in 0..THREADS {
                let tag = format!("p{pid}-{n}");
                if is_queue_opener(n) {
                    sent.insert(tag);
                } else {
                    claimed.insert(tag);
                }
            }
        }
        check_file(&path, &sent, &claimed);
    }
}

// ---------------------------------------------------------------- the open lock

fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

#[test]
fn an_opener_waits_for_the_open_lock_within_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let holder = std::fs::File::create(lock_path(&path)).unwrap();
    holder.lock().unwrap();

    // Held past the bound: a transient Busy, after waiting the bound.
    let started = Instant::now();
    let err = SqliteLedger::open(&path).unwrap_err();
    assert!(matches!(err, EmbeddedError::Busy(_)), "{err:?}");
    assert!(err.is_transient());
    assert!(err.to_string().contains("state.db"), "{err}");
    assert!(started.elapsed() >= BUSY_TIMEOUT, "{:?}", started.elapsed());

    // Released while an opener waits: it opens then.
    let opened = std::thread::scope(|s| {
        let opener = s.spawn(|| {
            let started = Instant::now();
            SqliteLedger::open(&path).map(|_| started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(!opener.is_finished(), "opened while the lock was held");
        holder.unlock().unwrap();
        opener.join().unwrap()
    });
    let waited = opened.unwrap();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(lock_path(&path).exists(), "the lock file stays");
}

/// A connection that does not take the open lock (the `sqlite3` shell, an older
/// build) switching the same fresh file to WAL: this crate's openers retry the busy
/// answer and succeed.
#[test]
fn openers_that_skip_the_open_lock_do_not_break_ours() {
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let barrier = Barrier::new(4);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    let conn = rusqlite::Connection::open(&path).unwrap();
                    conn.busy_timeout(BUSY_TIMEOUT).unwrap();
                    barrier.wait();
                    // May itself fail with "database is locked": not ours to fix.
                    let _ = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| {
                        row.get::<_, String>(0)
                    });
                });
            }
            for n in 0..2 {
                let (path, barrier) = (&path, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    open_and_use(path, n, &format!("r{round}-{n}")).unwrap();
                });
            }
        });
    }
}

// ---------------------------------------------------------------- schema versions

/// The schema of version 1 (free-text `detail`), as the first release wrote it.
const SCHEMA_V1: &str = "
CREATE TABLE queue_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL, attributes TEXT NOT NULL,
    sent_at INTEGER NOT NULL, visible_at INTEGER NOT NULL, receive_count INTEGER NOT NULL,
    receipt TEXT UNIQUE
);
CREATE INDEX queue_messages_by_queue ON queue_messages (queue);
CREATE TABLE ledger_events (
    uuid TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('IN_PROGRESS', 'COMPLETED', 'FAILED')),
    lease_until INTEGER NOT NULL, expires_at INTEGER NOT NULL, attempts INTEGER NOT NULL,
    detail TEXT
) WITHOUT ROWID;
CREATE TABLE ledger_facts (
    okta_user_id TEXT NOT NULL, slot TEXT NOT NULL, published_ms INTEGER NOT NULL,
    event_uuid TEXT NOT NULL, fact TEXT NOT NULL, PRIMARY KEY (okta_user_id, slot)
) WITHOUT ROWID;
CREATE TABLE ledger_users (
    okta_user_id TEXT PRIMARY KEY, connect_user_id TEXT, lease_holder TEXT, lease_until INTEGER
) WITHOUT ROWID;
PRAGMA journal_mode = WAL;
PRAGMA user_version = 1;
";

fn version_1_file(path: &Path, fact: &Fact) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(SCHEMA_V1).unwrap();
    let far = T0.plus(Duration::from_secs(3600)).0;
    conn.execute(
        "INSERT INTO ledger_events VALUES
            ('old-done', 'COMPLETED', 0, ?1, 1, 'created c-1'),
            ('old-failed', 'FAILED', 0, ?1, 2, 'InvalidParameterException: bad id'),
            ('old-busy', 'IN_PROGRESS', ?1, ?1, 1, NULL)",
        [far],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO ledger_facts VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            fact.okta_user_id,
            fact.key(),
            fact.published.0,
            fact.event_uuid,
            serde_json::to_string(fact).unwrap()
        ],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO ledger_users VALUES ('00u-old', 'c-1', 'worker-a', ?1)",
        [far],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO queue_messages
            (queue, message_id, body, attributes, sent_at, visible_at, receive_count)
         VALUES ('events', 'm-old', '{\"uuid\":\"queued\"}', '{\"uuid\":\"queued\"}', 1, 0, 0),
                ('events-dlq', 'm-dead', '{\"uuid\":\"dead\"}', '{\"uuid\":\"dead\"}', 1, 0, 5)",
        [],
    )
    .unwrap();
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

/// Version 1 held free-text details: the event records are dropped, everything else
/// (facts, Connect ids, user leases, queued and dead-lettered messages) is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_file_is_migrated_keeping_facts_users_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let fact = membership("00u-old", "ev-old", T0, "00g-agents", true);
    version_1_file(&path, &fact);

    let ledger = SqliteLedger::open(&path).unwrap();
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    for uuid in ["old-done", "old-failed", "old-busy"] {
        assert_eq!(ledger.event_record(uuid).await.unwrap(), None, "{uuid}");
    }
    assert_eq!(
        ledger
            .claim_event("old-done", &EventAbout::default(), T0, LEASE)
            .await
            .unwrap(),
        Claim::Claimed { attempt: 1 },
        "a dropped record is claimed afresh"
    );
    let user = ledger.user_record("00u-old").await.unwrap();
    assert_eq!(user.connect_user_id.as_deref(), Some("c-1"));
    assert_eq!(user.facts.facts.get(&fact.key()), Some(&fact));
    assert_eq!(
        ledger.record_fact(&fact).await.unwrap(),
        Recorded::Stale,
        "the redelivered old event changes nothing"
    );
    assert!(
        !ledger
            .lease_user("00u-old", "worker-b", T0, LEASE)
            .await
            .unwrap(),
        "the user lease is kept"
    );

    let queue = LocalQueue::open(&path, "events", SETTINGS, "events-dlq").unwrap();
    let queued = queue.source().list().unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].message_id, "m-old");
    let dead = queue.dead_letter().list().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].receive_count, 5);

    // A second open of the migrated file changes nothing.
    drop(SqliteLedger::open(&path).unwrap());
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert!(ledger.event_record("old-done").await.unwrap().is_some());
}

/// The schema of version 3, the last whose event records kept neither what they were
/// about nor when they changed, as that release wrote it.
const SCHEMA_V3: &str = "
CREATE TABLE queue_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL, attributes TEXT NOT NULL,
    sent_at INTEGER NOT NULL, visible_at INTEGER NOT NULL, receive_count INTEGER NOT NULL,
    receipt TEXT UNIQUE
);
CREATE INDEX queue_messages_by_queue ON queue_messages (queue);
CREATE TABLE ledger_events (
    uuid TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('IN_PROGRESS', 'COMPLETED', 'FAILED')),
    lease_until INTEGER NOT NULL, expires_at INTEGER NOT NULL, attempts INTEGER NOT NULL,
    outcome TEXT
) WITHOUT ROWID;
CREATE TABLE ledger_facts (
    okta_user_id TEXT NOT NULL, slot TEXT NOT NULL, published_ms INTEGER NOT NULL,
    event_uuid TEXT NOT NULL, fact TEXT NOT NULL, PRIMARY KEY (okta_user_id, slot)
) WITHOUT ROWID;
CREATE TABLE ledger_sources (slot TEXT PRIMARY KEY, binding TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE ledger_users (
    okta_user_id TEXT PRIMARY KEY, connect_user_id TEXT, lease_holder TEXT, lease_until INTEGER
) WITHOUT ROWID;
PRAGMA journal_mode = WAL;
PRAGMA user_version = 3;
";

fn version_3_file(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(SCHEMA_V3).unwrap();
    let far = T0.plus(Duration::from_secs(3600)).0;
    let done = serde_json::to_string(&created("c-1")).unwrap();
    let failed =
        serde_json::to_string(&Outcome::Failed(permanent("no such routing profile"))).unwrap();
    conn.execute(
        "INSERT INTO ledger_events VALUES
            ('old-done', 'COMPLETED', 0, ?1, 1, ?2),
            ('old-failed', 'FAILED', 0, ?1, 2, ?3)",
        rusqlite::params![far, done, failed],
    )
    .unwrap();
}

fn uuids(records: Vec<EventRecord>) -> Vec<String> {
    records.into_iter().map(|r| r.uuid).collect()
}

/// Version 3 event records knew neither what they were about nor when they changed: they
/// are kept and read with neither, and never listed; records written since are listed,
/// an old one too once claimed again. Runs can be recorded at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_file_is_migrated_keeping_event_records_unlisted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    version_3_file(&path);

    let ledger = SqliteLedger::open(&path).unwrap();
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    let old = ledger.event_record("old-done").await.unwrap().unwrap();
    assert_eq!(old.outcome, Some(created("c-1")));
    assert_eq!((old.about, old.updated_at), (None, None));
    let every = EventQuery::since(UnixMillis(i64::MIN), 100);
    assert_eq!(
        uuids(ledger.events(&every).await.unwrap()),
        Vec::<String>::new(),
        "a record from before is never listed"
    );

    let about = EventAbout {
        event_type: "user.lifecycle.deactivate".into(),
        okta_user_id: Some("00u-old".into()),
        login: Some("Old.Agent@Example.com".into()),
        published: Some(T0),
    };
    match ledger
        .claim_event("old-done", &about, T0, LEASE)
        .await
        .unwrap()
    {
        Claim::Completed(r) => assert_eq!((r.about, r.updated_at), (None, None)),
        other => panic!("the old completion still counts: {other:?}"),
    }
    assert_eq!(
        ledger
            .claim_event("old-failed", &about, T0, LEASE)
            .await
            .unwrap(),
        Claim::Claimed { attempt: 3 },
        "a redrive of an old failure counts on"
    );
    let later = T0.plus(Duration::from_secs(1));
    ledger
        .claim_event("new", &about, later, LEASE)
        .await
        .unwrap();
    ledger
        .complete_event("new", &created("c-2"), later, LEASE)
        .await
        .unwrap();

    let records = ledger.events(&every).await.unwrap();
    assert_eq!(
        (records[1].about.as_ref(), records[1].updated_at),
        (Some(&about), Some(T0))
    );
    assert_eq!(uuids(records), ["new", "old-failed"]);
    let by_login = EventQuery {
        okta_user: Some("old.agent@example.com".into()),
        ..EventQuery::since(later, 100)
    };
    assert_eq!(uuids(ledger.events(&by_login).await.unwrap()), ["new"]);

    let run = RunRecord {
        run_id: "run-1".into(),
        mode: RunMode::DryRun,
        started_at: T0,
        finished_at: later,
        users: 1,
        changes: 0,
        revocations: 0,
        conflicts: 0,
        queued: 0,
        stopped_at_cap: None,
        error: None,
    };
    ledger.record_run(&run, LEASE).await.unwrap();
    assert_eq!(ledger.recent_runs(10).await.unwrap(), [run]);

    // A second open of the migrated file changes nothing.
    drop(SqliteLedger::open(&path).unwrap());
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert_eq!(
        uuids(ledger.events(&every).await.unwrap()),
        ["new", "old-failed"]
    );
}
