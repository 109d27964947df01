//! The SQLite ledger against the shared ledger contract suite, plus durability across a
//! close and reopen of the file.

use std::time::Duration;

use okta_connect_core::config::SourceKind;
use okta_connect_core::fact::{Assertion, Fact, Recorded, SourceRef, UserSnapshot};
use okta_connect_core::ports::{
    Claim, EventAbout, EventQuery, EventState, Ledger, RunMode, RunRecord,
};
use okta_connect_core::time::UnixMillis;
use okta_connect_local::{EmbeddedError, EmbeddedQueue, QueueSettings, SqliteLedger};
use okta_connect_testkit::contract::ledger::created;

/// A ledger in a fresh file; the folder lives as long as the fixture.
struct Fixture {
    ledger: SqliteLedger,
    _dir: tempfile::TempDir,
}

async fn make() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ledger = SqliteLedger::open(&dir.path().join("state.db")).unwrap();
    Fixture { ledger, _dir: dir }
}

okta_connect_testkit::ledger_contract_tests!(sqlite, async { make().await }, |fixture| &fixture
    .ledger);

/// The same suite with the queues sharing the ledger's file (the `dev` layout): the
/// tables must not disturb each other.
async fn make_shared() -> (Fixture, EmbeddedQueue) {
    let fixture = make().await;
    let queue = EmbeddedQueue::open(
        &fixture._dir.path().join("state.db"),
        "events",
        QueueSettings::default(),
        Some("events-dlq"),
    )
    .unwrap();
    (fixture, queue)
}

okta_connect_testkit::ledger_contract_tests!(
    sqlite_shared_file,
    async { make_shared().await },
    |fixture| &fixture.0.ledger
);

const T0: UnixMillis = UnixMillis(1_800_000_000_000);
const DAY: Duration = Duration::from_secs(24 * 3600);

fn fact(user: &str, uuid: &str, published: i64, member: bool) -> Fact {
    Fact {
        okta_user_id: user.into(),
        event_uuid: uuid.into(),
        published: UnixMillis(published),
        subject: UserSnapshot {
            login: Some("émilie@example.com".into()),
            display_name: Some("Émilie Zoë".into()),
        },
        assertion: Assertion::Membership {
            source: SourceRef {
                kind: SourceKind::Group,
                id: "00g-agents".into(),
                name: Some("Connect agents".into()),
            },
            member,
        },
    }
}

#[tokio::test]
async fn everything_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("state.db");
    let newest = fact("00u1", "ev-2", T0.0 + 200, false);
    let about = EventAbout {
        event_type: "user.lifecycle.activate".into(),
        okta_user_id: Some("00u1".into()),
        login: Some("émilie@example.com".into()),
        published: Some(T0),
    };
    {
        let ledger = SqliteLedger::open(&path).unwrap();
        assert_eq!(
            ledger.claim_event("done", &about, T0, DAY).await.unwrap(),
            Claim::Claimed { attempt: 1 }
        );
        ledger
            .complete_event("done", &created("c-1"), T0, DAY)
            .await
            .unwrap();
        assert_eq!(
            ledger
                .claim_event(
                    "in-flight",
                    &EventAbout::default(),
                    T0,
                    Duration::from_secs(30)
                )
                .await
                .unwrap(),
            Claim::Claimed { attempt: 1 }
        );
        ledger
            .record_fact(&fact("00u1", "ev-1", T0.0 + 100, true))
            .await
            .unwrap();
        ledger.record_fact(&newest).await.unwrap();
        ledger
            .remember_connect_user("00u1", Some("c-1"))
            .await
            .unwrap();
        assert!(
            ledger
                .lease_user("00u1", "worker-a", T0, Duration::from_secs(10))
                .await
                .unwrap()
        );
        // Dropped here without any explicit close: every acknowledged write is committed.
    }
    let ledger = SqliteLedger::open(&path).unwrap();
    match ledger
        .claim_event("done", &about, T0.plus(Duration::from_secs(1)), DAY)
        .await
        .unwrap()
    {
        Claim::Completed(r) => {
            assert_eq!(r.state, EventState::Completed);
            assert_eq!(r.outcome, Some(created("c-1")));
            assert_eq!(r.about, Some(about.clone()));
            assert_eq!(r.updated_at, Some(T0));
        }
        other => panic!("expected the completed record, got {other:?}"),
    }
    assert_eq!(
        ledger
            .claim_event(
                "in-flight",
                &EventAbout::default(),
                T0.plus(Duration::from_secs(1)),
                DAY
            )
            .await
            .unwrap(),
        Claim::Busy {
            lease_until: T0.plus(Duration::from_secs(30))
        }
    );
    let listed: Vec<String> = ledger
        .events(&EventQuery::since(T0, 10))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uuid)
        .collect();
    assert_eq!(
        listed,
        ["done", "in-flight"],
        "updated at the same instant: by uuid"
    );
    let user = ledger.user_record("00u1").await.unwrap();
    assert_eq!(user.connect_user_id.as_deref(), Some("c-1"));
    assert_eq!(user.facts.facts.len(), 1);
    assert_eq!(user.facts.facts.get(&newest.key()), Some(&newest));
    assert_eq!(
        ledger
            .record_fact(&fact("00u1", "ev-1", T0.0 + 100, true))
            .await
            .unwrap(),
        Recorded::Stale
    );
    assert!(
        !ledger
            .lease_user("00u1", "worker-b", T0.plus(Duration::from_secs(1)), DAY)
            .await
            .unwrap(),
        "the user lease survives a restart"
    );
}

#[tokio::test]
async fn two_handles_on_one_file_see_each_other_and_race_safely() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let a = SqliteLedger::open(&path).unwrap();
    let b = SqliteLedger::open(&path).unwrap();
    // Separate connections on separate threads, as two processes would be.
    let winners: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let ledger = if i % 2 == 0 {
                    a.clone()
                } else {
                    SqliteLedger::open(&path).unwrap()
                };
                s.spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    let mut won = 0;
                    for n in 0..20 {
                        if let Claim::Claimed { .. } = rt
                            .block_on(ledger.claim_event(
                                &format!("race-{n}"),
                                &EventAbout::default(),
                                T0,
                                DAY,
                            ))
                            .unwrap()
                        {
                            won += 1;
                        }
                    }
                    won
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(winners, 20, "each of 20 events claimed exactly once");
    assert!(matches!(
        b.claim_event("race-7", &EventAbout::default(), T0, DAY)
            .await
            .unwrap(),
        Claim::Busy { .. }
    ));
}

#[test]
fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(
        &path,
        b"this is not an SQLite database, it is a text file. ".repeat(100),
    )
    .unwrap();
    let err = SqliteLedger::open(&path).unwrap_err();
    assert!(matches!(err, EmbeddedError::Corrupt(_)), "{err:?}");
    assert!(!err.is_transient());
    assert!(err.to_string().contains("state.db"), "{err}");
}

#[test]
fn a_file_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(SqliteLedger::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = SqliteLedger::open(&path).unwrap_err();
    assert!(matches!(err, EmbeddedError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("newer"), "{err}");
}

fn run(run_id: &str, started_at: UnixMillis) -> RunRecord {
    RunRecord {
        run_id: run_id.into(),
        mode: RunMode::Queued,
        started_at,
        finished_at: started_at.plus(Duration::from_secs(60)),
        users: 3,
        changes: 1,
        revocations: 0,
        conflicts: 0,
        queued: 1,
        stopped_at_cap: None,
        error: None,
    }
}

/// Runs expire lazily: recording a run deletes those whose retention ended by the time
/// it finished, and only those.
#[tokio::test]
async fn recording_a_run_deletes_the_runs_expired_by_its_finish() {
    let fixture = make().await;
    let ledger = &fixture.ledger;
    let first = run("run-1", T0);
    ledger.record_run(&first, DAY).await.unwrap();
    // Finishes exactly when the first run's retention ends.
    let second = run("run-2", T0.plus(DAY));
    ledger
        .record_run(&second, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        ledger.recent_runs(10).await.unwrap(),
        std::slice::from_ref(&second),
        "the first run expired at the second's finish"
    );
    // Recorded late, finished before the second's retention ended: nothing goes.
    let late = run("run-0", T0.plus(Duration::from_secs(1)));
    ledger.record_run(&late, DAY).await.unwrap();
    assert_eq!(ledger.recent_runs(10).await.unwrap(), [second, late]);
}
