//! The ledger contract suite against the reference `MemoryLedger` (which proves the suite)
//! and against `DynamoLedger` on moto through the real SDK; then what only the DynamoDB
//! adapter has: its stored layout, error classification, request counts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeyType, ProjectionType, ScalarAttributeType, TimeToLiveStatus,
};
use okta_connect_aws::dynamodb::{
    DynamoLedger, EVENTS_INDEX, EVENTS_INDEX_PARTITION_KEY, EVENTS_INDEX_SORT_KEY, create_table,
};
use okta_connect_core::fact::OktaStatus;
use okta_connect_core::outcome::{Failure, Outcome};
use okta_connect_core::ports::{
    Claim, ErrorClass, EventAbout, EventQuery, EventRecord, EventState, Ledger, LedgerError,
    RunMode, RunRecord,
};
use okta_connect_core::time::UnixMillis;
use okta_connect_testkit::MotoServer;
use okta_connect_testkit::contract::ledger::{
    self as ledger_contract, LEASE, RETENTION, T0, USER_LEASE, created, permanent, skipped, unique,
};
use okta_connect_testkit::memory::MemoryLedger;

use crate::support::{self, moto};

okta_connect_testkit::ledger_contract_tests!(memory, async { MemoryLedger::new() });

okta_connect_testkit::ledger_contract_tests!(dynamo, async { dynamo().await }, |fixture| {
    &fixture.ledger
});

/// A `DynamoLedger` on a fresh table of a (shared) moto, which lives as long as this.
struct Dynamo {
    ledger: DynamoLedger,
    config: SdkConfig,
    _moto: Arc<MotoServer>,
}

async fn dynamo() -> Dynamo {
    let moto = moto();
    let config = support::config(&moto).await;
    let table = unique("ledger");
    // Small pages, so the contract's big user record crosses several Query pages.
    let ledger = DynamoLedger::from_config(&config, table).with_query_page_size(7);
    create_table(ledger.client(), ledger.table())
        .await
        .expect("create_table");
    Dynamo {
        ledger,
        config,
        _moto: moto,
    }
}

async fn raw_item(ledger: &DynamoLedger, pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    ledger
        .client()
        .get_item()
        .table_name(ledger.table())
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get_item")
        .item
        .expect("item stored")
}

async fn put_raw(ledger: &DynamoLedger, item: &[(&str, AttributeValue)]) {
    let mut request = ledger.client().put_item().table_name(ledger.table());
    for (name, value) in item {
        request = request.item(*name, value.clone());
    }
    request.send().await.expect("put_item");
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(text)) => text.parse().unwrap(),
        other => panic!("{name} is {other:?}"),
    }
}

/// What the adapter tests' events are about.
fn about(okta_user_id: &str) -> EventAbout {
    EventAbout {
        event_type: "user.lifecycle.activate".into(),
        okta_user_id: Some(okta_user_id.into()),
        login: Some(format!("{okta_user_id}@example.com")),
        published: Some(T0),
    }
}

/// Nothing known about the event (what the adapter-only tests claim with).
fn nothing() -> EventAbout {
    EventAbout::default()
}

fn run_record(run_id: &str, started_at: UnixMillis) -> RunRecord {
    RunRecord {
        run_id: run_id.into(),
        mode: RunMode::Queued,
        started_at,
        finished_at: started_at.plus(Duration::from_secs(30)),
        users: 3,
        changes: 1,
        revocations: 0,
        conflicts: 0,
        queued: 1,
        stopped_at_cap: None,
        error: None,
    }
}

#[tokio::test]
async fn create_table_is_idempotent_and_enables_ttl() {
    let fixture = dynamo().await;
    let ledger = &fixture.ledger;
    create_table(ledger.client(), ledger.table())
        .await
        .expect("second create_table");
    let ttl = ledger
        .client()
        .describe_time_to_live()
        .table_name(ledger.table())
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
}

/// `create_table` makes the events index as the module doc (and the CDK stack) declare
/// it: partition `listing` (S), sort `updated_ms` (N), every attribute projected.
#[tokio::test]
async fn create_table_makes_the_events_index() {
    let fixture = dynamo().await;
    let ledger = &fixture.ledger;
    assert_eq!(
        (
            EVENTS_INDEX,
            EVENTS_INDEX_PARTITION_KEY,
            EVENTS_INDEX_SORT_KEY
        ),
        ("events-by-update", "listing", "updated_ms"),
        "the names infra/lib/stack.ts declares"
    );
    let described = ledger
        .client()
        .describe_table()
        .table_name(ledger.table())
        .send()
        .await
        .unwrap();
    let table = described.table().unwrap();
    let types: HashMap<&str, &ScalarAttributeType> = table
        .attribute_definitions()
        .iter()
        .map(|d| (d.attribute_name(), d.attribute_type()))
        .collect();
    let indexes = table.global_secondary_indexes();
    assert_eq!(indexes.len(), 1, "one index: {indexes:?}");
    let index = &indexes[0];
    assert_eq!(index.index_name(), Some(EVENTS_INDEX));
    let keys: Vec<(&str, &KeyType)> = index
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    assert_eq!(
        keys,
        vec![("listing", &KeyType::Hash), ("updated_ms", &KeyType::Range)]
    );
    assert_eq!(types.get("listing"), Some(&&ScalarAttributeType::S));
    assert_eq!(types.get("updated_ms"), Some(&&ScalarAttributeType::N));
    assert_eq!(
        index.projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::All)
    );
    assert!(table.local_secondary_indexes().is_empty());
}

/// The stored items follow the module doc's layout; TTL seconds are rounded up.
#[tokio::test]
async fn stored_layout_matches_the_design() {
    let fixture = dynamo().await;
    let ledger = &fixture.ledger;
    let uuid = unique("layout");
    let now = UnixMillis(T0.0 + 1); // not a whole second: TTL must round up
    let user = unique("user-layout");
    ledger
        .claim_event(&uuid, &about(&user), now, LEASE)
        .await
        .unwrap();
    let item = raw_item(ledger, &format!("EVENT#{uuid}"), "EVENT").await;
    assert_eq!(item.get("state"), Some(&s("IN_PROGRESS")));
    let AttributeValue::S(json) = &item["about"] else {
        panic!("about is not a string")
    };
    assert_eq!(
        serde_json::from_str::<EventAbout>(json).unwrap(),
        about(&user),
        "what the event is about is stored as its JSON"
    );
    assert_eq!(number(&item, "updated_ms"), now.0);
    assert_eq!(item.get("listing"), Some(&s("EVENTS")));
    assert_eq!(number(&item, "lease_until_ms"), now.plus(LEASE).0);
    assert_eq!(number(&item, "attempts"), 1);
    let expires_ms = number(&item, "expires_at_ms");
    assert_eq!(
        expires_ms,
        now.plus(LEASE).plus(Duration::from_secs(24 * 3600)).0
    );
    assert_eq!(number(&item, "expires_at"), expires_ms / 1000 + 1);

    let done = now.plus(Duration::from_millis(250));
    ledger
        .complete_event(&uuid, &created("c-1"), done, RETENTION)
        .await
        .unwrap();
    let item = raw_item(ledger, &format!("EVENT#{uuid}"), "EVENT").await;
    assert_eq!(item.get("state"), Some(&s("COMPLETED")));
    assert_eq!(number(&item, "updated_ms"), done.0);
    assert_eq!(item.get("listing"), Some(&s("EVENTS")));
    assert!(
        item.contains_key("about"),
        "completing keeps what it is about"
    );
    let AttributeValue::S(outcome) = &item["outcome"] else {
        panic!("outcome is not a string")
    };
    assert_eq!(
        serde_json::from_str::<Outcome>(outcome).unwrap(),
        created("c-1"),
        "the outcome is stored as its JSON"
    );
    assert_eq!(item.get("detail"), None);
    assert_eq!(number(&item, "lease_until_ms"), 0);
    assert_eq!(number(&item, "expires_at_ms"), done.plus(RETENTION).0);
    assert_eq!(
        number(&item, "expires_at"),
        done.plus(RETENTION).as_epoch_seconds_ceil()
    );

    let fact = ledger_contract::status(&user, &uuid, now, OktaStatus::Active);
    ledger.record_fact(&fact).await.unwrap();
    let item = raw_item(ledger, &format!("USER#{user}"), "FACT#status").await;
    assert_eq!(number(&item, "published_ms"), now.0);
    assert_eq!(item.get("event_uuid"), Some(&s(&uuid)));
    let AttributeValue::S(json) = &item["fact"] else {
        panic!("fact is not a string")
    };
    assert_eq!(
        serde_json::from_str::<okta_connect_core::fact::Fact>(json).unwrap(),
        fact
    );

    ledger
        .lease_user(&user, "worker-a", now, USER_LEASE)
        .await
        .unwrap();
    ledger
        .remember_connect_user(&user, Some("c-1"))
        .await
        .unwrap();
    let item = raw_item(ledger, &format!("USER#{user}"), "META").await;
    assert_eq!(item.get("lease_holder"), Some(&s("worker-a")));
    assert_eq!(number(&item, "lease_until_ms"), now.plus(USER_LEASE).0);
    assert_eq!(item.get("connect_user_id"), Some(&s("c-1")));

    // A run: its start zero-padded to 15 digits, so keys sort as times; TTL from its end.
    let run = run_record("run-layout", UnixMillis(1_767_225_600_123));
    ledger.record_run(&run, RETENTION).await.unwrap();
    let item = raw_item(ledger, "RUNS", "RUN#001767225600123#run-layout").await;
    let AttributeValue::S(json) = &item["run"] else {
        panic!("run is not a string")
    };
    assert_eq!(serde_json::from_str::<RunRecord>(json).unwrap(), run);
    let expires = run.finished_at.plus(RETENTION);
    assert_eq!(number(&item, "expires_at_ms"), expires.0);
    assert_eq!(number(&item, "expires_at"), expires.as_epoch_seconds_ceil());
    assert_eq!(
        item.get("listing"),
        None,
        "runs are not in the events index"
    );
}

/// Items written before the ledger kept `about` and `updated_ms` still read (both `None`),
/// still answer claims, and are never listed; their next write puts them in the index.
#[tokio::test]
async fn items_from_before_the_index_read_and_are_not_listed() {
    let fixture = dynamo().await;
    let ledger = &fixture.ledger;
    let old = |uuid: &str, state: &str| {
        vec![
            ("pk", s(&format!("EVENT#{uuid}"))),
            ("sk", s("EVENT")),
            ("state", s(state)),
            ("lease_until_ms", n(0)),
            ("expires_at_ms", n(T0.plus(RETENTION).0)),
            ("expires_at", n(T0.plus(RETENTION).as_epoch_seconds_ceil())),
            ("attempts", n(1)),
            (
                "outcome",
                s(&serde_json::to_string(&created("c-old")).unwrap()),
            ),
        ]
    };
    let done = unique("old-completed");
    put_raw(ledger, &old(&done, "COMPLETED")).await;
    let failed = unique("old-failed");
    let mut item = old(&failed, "FAILED");
    item.retain(|(name, _)| *name != "outcome");
    item.push((
        "outcome",
        s(&serde_json::to_string(&Outcome::Failed(permanent("bad profile"))).unwrap()),
    ));
    put_raw(ledger, &item).await;

    let record = ledger.event_record(&done).await.unwrap().unwrap();
    assert_eq!((record.about.as_ref(), record.updated_at), (None, None));
    assert_eq!(record.outcome, Some(created("c-old")));
    assert_eq!(
        ledger
            .claim_event(&done, &nothing(), T0, LEASE)
            .await
            .unwrap(),
        Claim::Completed(record),
        "still a duplicate, and the refused claim writes nothing"
    );
    let item = raw_item(ledger, &format!("EVENT#{done}"), "EVENT").await;
    assert_eq!((item.get("about"), item.get("updated_ms")), (None, None));

    let everything = EventQuery::since(UnixMillis(0), 100);
    assert_eq!(ledger.events(&everything).await.unwrap(), vec![]);
    let failures = EventQuery {
        failed_only: true,
        ..everything.clone()
    };
    assert_eq!(ledger.events(&failures).await.unwrap(), vec![]);

    // The failed one claimed again (a redrive): now it is in the index.
    let user = unique("user-old");
    let later = T0.plus(Duration::from_secs(60));
    assert_eq!(
        ledger
            .claim_event(&failed, &about(&user), later, LEASE)
            .await
            .unwrap(),
        Claim::Claimed { attempt: 2 }
    );
    let listed = ledger.events(&everything).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].uuid, failed);
    assert_eq!(listed[0].about, Some(about(&user)));
    assert_eq!(listed[0].updated_at, Some(later));
}

/// `events` follows the index's pages, newest first, stopping once `limit` match; the
/// user filter skips other users' records across pages.
#[tokio::test]
async fn events_read_every_page() {
    let fixture = dynamo().await;
    let ledger =
        DynamoLedger::from_config(&fixture.config, fixture.ledger.table()).with_query_page_size(2);
    let mine = unique("user-mine");
    let theirs = unique("user-theirs");
    let mut expected = Vec::new();
    for i in 0..9 {
        let uuid = unique("paged");
        let user = if i % 3 == 0 { &mine } else { &theirs };
        let at = T0.plus(Duration::from_secs(i));
        ledger
            .claim_event(&uuid, &about(user), at, LEASE)
            .await
            .unwrap();
        if user == &mine {
            expected.push(uuid);
        }
    }
    expected.reverse();
    let query = EventQuery {
        okta_user: Some(mine.clone()),
        ..EventQuery::since(T0, 100)
    };
    let uuids = |records: Vec<EventRecord>| records.into_iter().map(|r| r.uuid).collect::<Vec<_>>();
    assert_eq!(uuids(ledger.events(&query).await.unwrap()), expected);
    let all = ledger.events(&EventQuery::since(T0, 100)).await.unwrap();
    assert_eq!(all.len(), 9);
    assert!(all.windows(2).all(|w| w[0].updated_at > w[1].updated_at));

    let before = ledger.requests();
    let first = ledger
        .events(&EventQuery {
            limit: 1,
            ..query.clone()
        })
        .await
        .unwrap();
    assert_eq!(uuids(first), expected[..1]);
    // Newest first, pages of 2: events 8 and 7 (another user's), then 6 (this user's)
    // and 5. Two pages, and no third once `limit` matched.
    assert_eq!(ledger.requests() - before, 2);
}

/// `recent_runs` follows pages too, and a start time its key cannot hold is refused.
#[tokio::test]
async fn recent_runs_read_every_page_and_refuse_odd_start_times() {
    let fixture = dynamo().await;
    let ledger =
        DynamoLedger::from_config(&fixture.config, fixture.ledger.table()).with_query_page_size(2);
    let mut runs = Vec::new();
    for i in 0..5 {
        // Across a power of ten: zero-padding keeps the key order the time order.
        let run = run_record(&unique("run"), UnixMillis(99_999 + i * 1_000));
        ledger.record_run(&run, RETENTION).await.unwrap();
        runs.push(run);
    }
    runs.reverse();
    assert_eq!(ledger.recent_runs(10).await.unwrap(), runs);
    assert_eq!(ledger.recent_runs(3).await.unwrap(), runs[..3]);
    assert_eq!(ledger.recent_runs(0).await.unwrap(), vec![]);

    for started in [-1, 1_000_000_000_000_000] {
        let run = run_record("odd", UnixMillis(started));
        match ledger.record_run(&run, RETENTION).await {
            Err(LedgerError::Permanent(message)) => {
                assert!(message.contains("odd"), "{message}")
            }
            other => panic!("expected a permanent error, got {other:?}"),
        }
    }
}

/// DynamoDB requests per port call: one for everything on the worker's paths; two only
/// to re-claim a record that expired but still exists.
#[tokio::test]
async fn requests_per_call() {
    let fixture = dynamo().await;
    let ledger = DynamoLedger::from_config(&fixture.config, fixture.ledger.table());
    let ledger = &ledger;
    /// Runs `$call` and checks how many requests it sent.
    macro_rules! costs {
        ($expected:expr, $label:literal, $call:expr) => {{
            let before = ledger.requests();
            let result = $call;
            assert_eq!(
                ledger.requests() - before,
                $expected,
                "requests for {}",
                $label
            );
            result
        }};
    }
    let uuid = unique("count");
    let user = unique("user-count");
    let fact = ledger_contract::status(&user, &uuid, T0, OktaStatus::Active);
    let what = about(&user);
    let claim = |now| ledger.claim_event(&uuid, &what, now, LEASE);

    let c = costs!(1, "first claim", claim(T0).await.unwrap());
    assert_eq!(c, Claim::Claimed { attempt: 1 });
    let c = costs!(1, "busy claim", claim(T0).await.unwrap());
    assert!(matches!(c, Claim::Busy { .. }));
    costs!(1, "record_fact", ledger.record_fact(&fact).await.unwrap());
    costs!(
        1,
        "stale record_fact",
        ledger.record_fact(&fact).await.unwrap()
    );
    let leased = costs!(
        1,
        "lease_user",
        ledger.lease_user(&user, "w", T0, USER_LEASE).await
    );
    assert!(leased.unwrap());
    costs!(1, "user_record", ledger.user_record(&user).await.unwrap());
    costs!(
        1,
        "remember",
        ledger
            .remember_connect_user(&user, Some("c"))
            .await
            .unwrap()
    );
    costs!(
        1,
        "release_user",
        ledger.release_user(&user, "w").await.unwrap()
    );
    costs!(
        1,
        "fail",
        ledger
            .fail_event(&uuid, &permanent("x"), T0, RETENTION)
            .await
            .unwrap()
    );
    let c = costs!(1, "redrive claim", claim(T0).await.unwrap());
    assert_eq!(c, Claim::Claimed { attempt: 2 });
    costs!(
        1,
        "release_event",
        ledger.release_event(&uuid).await.unwrap()
    );
    let c = costs!(1, "claim after release", claim(T0).await.unwrap());
    assert_eq!(c, Claim::Claimed { attempt: 3 });
    costs!(
        1,
        "complete",
        ledger
            .complete_event(&uuid, &created("c-done"), T0, RETENTION)
            .await
            .unwrap()
    );
    let c = costs!(1, "duplicate claim", claim(T0).await.unwrap());
    assert!(matches!(c, Claim::Completed(_)));
    costs!(1, "event_record", ledger.event_record(&uuid).await.unwrap());
    let c = costs!(
        2,
        "claim of an expired record",
        claim(T0.plus(RETENTION)).await.unwrap()
    );
    assert_eq!(c, Claim::Claimed { attempt: 1 });

    let listed = costs!(
        1,
        "events",
        ledger.events(&EventQuery::since(T0, 10)).await.unwrap()
    );
    assert_eq!(listed.len(), 1);
    let by_user = EventQuery {
        okta_user: Some(user.clone()),
        ..EventQuery::since(T0, 10)
    };
    let listed = costs!(
        1,
        "events of a user",
        ledger.events(&by_user).await.unwrap()
    );
    assert_eq!(listed.len(), 1);
    let run = run_record(&unique("run"), T0);
    costs!(
        1,
        "record_run",
        ledger.record_run(&run, RETENTION).await.unwrap()
    );
    let runs = costs!(1, "recent_runs", ledger.recent_runs(5).await.unwrap());
    assert_eq!(runs, vec![run]);
}

/// `user_record` follows every Query page.
#[tokio::test]
async fn user_record_reads_every_page() {
    let fixture = dynamo().await;
    let ledger =
        DynamoLedger::from_config(&fixture.config, fixture.ledger.table()).with_query_page_size(2);
    let user = unique("user-pages");
    for i in 0..9 {
        let fact = ledger_contract::membership(&user, &unique("ev"), T0, &format!("00g-{i}"), true);
        ledger.record_fact(&fact).await.unwrap();
    }
    ledger
        .remember_connect_user(&user, Some("c-7"))
        .await
        .unwrap();
    let before = ledger.requests();
    let record = ledger.user_record(&user).await.unwrap();
    assert_eq!(record.facts.facts.len(), 9);
    assert_eq!(record.connect_user_id.as_deref(), Some("c-7"));
    // 10 items, 2 per page: 5 full pages, and a sixth to learn there is no more.
    assert!(ledger.requests() - before >= 5);
}

/// Items the adapter cannot read back are permanent errors naming the item; never a
/// panic, never a silent default.
#[tokio::test]
async fn unreadable_items_are_permanent_errors_naming_the_item() {
    let fixture = dynamo().await;
    let ledger = &fixture.ledger;

    let user = unique("user-corrupt");
    let pk = format!("USER#{user}");
    put_raw(
        ledger,
        &[
            ("pk", s(&pk)),
            ("sk", s("FACT#status")),
            ("published_ms", n(1)),
            ("event_uuid", s("e")),
            ("fact", s("{not json")),
        ],
    )
    .await;
    match ledger.user_record(&user).await {
        Err(LedgerError::Permanent(message)) => {
            assert!(message.contains(&format!("{pk}/FACT#status")), "{message}")
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }

    // A fact stored under the wrong slot is as corrupt as unparseable JSON.
    let user = unique("user-misfiled");
    let fact = ledger_contract::status(&user, "e", T0, OktaStatus::Active);
    put_raw(
        ledger,
        &[
            ("pk", s(&format!("USER#{user}"))),
            ("sk", s("FACT#profile")),
            ("fact", s(&serde_json::to_string(&fact).unwrap())),
        ],
    )
    .await;
    assert!(matches!(
        ledger.user_record(&user).await,
        Err(LedgerError::Permanent(_))
    ));

    let uuid = unique("corrupt-event");
    let pk = format!("EVENT#{uuid}");
    put_raw(
        ledger,
        &[
            ("pk", s(&pk)),
            ("sk", s("EVENT")),
            ("state", s("COMPLETED")),
            ("expires_at_ms", n(i64::MAX)),
            ("lease_until_ms", n(0)),
            // `attempts` missing
        ],
    )
    .await;
    for result in [
        ledger.event_record(&uuid).await.map(|_| ()),
        ledger
            .claim_event(&uuid, &nothing(), T0, LEASE)
            .await
            .map(|_| ()),
    ] {
        match result {
            Err(LedgerError::Permanent(message)) => {
                assert!(
                    message.contains(&pk) && message.contains("attempts"),
                    "{message}"
                )
            }
            other => panic!("expected a permanent error, got {other:?}"),
        }
    }

    let uuid = unique("odd-state");
    put_raw(
        ledger,
        &[
            ("pk", s(&format!("EVENT#{uuid}"))),
            ("sk", s("EVENT")),
            ("state", s("PAUSED")),
            ("expires_at_ms", n(i64::MAX)),
            ("lease_until_ms", n(0)),
            ("attempts", n(1)),
        ],
    )
    .await;
    assert!(matches!(
        ledger.claim_event(&uuid, &nothing(), T0, LEASE).await,
        Err(LedgerError::Permanent(_))
    ));

    // An `about` this version cannot read, on a listed item: both reads name the item.
    let uuid = unique("odd-about");
    let pk = format!("EVENT#{uuid}");
    put_raw(
        ledger,
        &[
            ("pk", s(&pk)),
            ("sk", s("EVENT")),
            ("state", s("FAILED")),
            ("expires_at_ms", n(i64::MAX)),
            ("lease_until_ms", n(0)),
            ("attempts", n(1)),
            ("about", s("[1, 2]")),
            ("updated_ms", n(T0.0)),
            ("listing", s("EVENTS")),
        ],
    )
    .await;
    for result in [
        ledger.event_record(&uuid).await.map(|_| ()),
        ledger.events(&EventQuery::since(T0, 10)).await.map(|_| ()),
    ] {
        match result {
            Err(LedgerError::Permanent(message)) => {
                assert!(
                    message.contains(&pk) && message.contains("about"),
                    "{message}"
                )
            }
            other => panic!("expected a permanent error, got {other:?}"),
        }
    }

    put_raw(
        ledger,
        &[
            ("pk", s("RUNS")),
            ("sk", s("RUN#000000000000001#broken")),
            ("run", s("{}")),
        ],
    )
    .await;
    match ledger.recent_runs(5).await {
        Err(LedgerError::Permanent(message)) => {
            assert!(
                message.contains("RUNS/RUN#000000000000001#broken"),
                "{message}"
            )
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
}

/// A table that does not exist is a configuration error: permanent, for every call.
#[tokio::test]
async fn missing_table_is_permanent() {
    let moto = moto();
    let ledger = DynamoLedger::connect(&support::settings(&moto), "no-such-table").await;
    let fact = ledger_contract::status("00u1", "e", T0, OktaStatus::Active);
    let results = [
        ledger
            .claim_event("e", &nothing(), T0, LEASE)
            .await
            .map(|_| ()),
        ledger.complete_event("e", &skipped(), T0, RETENTION).await,
        ledger.event_record("e").await.map(|_| ()),
        ledger.events(&EventQuery::since(T0, 10)).await.map(|_| ()),
        ledger.record_run(&run_record("r", T0), RETENTION).await,
        ledger.recent_runs(5).await.map(|_| ()),
        ledger.record_fact(&fact).await.map(|_| ()),
        ledger.user_record("00u1").await.map(|_| ()),
        ledger
            .lease_user("00u1", "w", T0, USER_LEASE)
            .await
            .map(|_| ()),
        ledger.release_user("00u1", "w").await,
    ];
    for result in results {
        match result {
            Err(LedgerError::Permanent(message)) => {
                assert!(message.contains("no-such-table"), "{message}")
            }
            other => panic!("expected a permanent error, got {other:?}"),
        }
    }
}

/// Nothing listening: transient (the message is retried, never dead-lettered), and
/// quickly, within the configured timeouts.
#[tokio::test]
async fn unreachable_endpoint_is_transient_and_quick() {
    let ledger = DynamoLedger::connect(&support::unreachable(), "ledger").await;
    let fact = ledger_contract::status("00u1", "e", T0, OktaStatus::Active);
    let started = Instant::now();
    let results = [
        ledger
            .claim_event("e", &nothing(), T0, LEASE)
            .await
            .map(|_| ()),
        ledger.record_fact(&fact).await.map(|_| ()),
        ledger.events(&EventQuery::since(T0, 10)).await.map(|_| ()),
        ledger.user_record("00u1").await.map(|_| ()),
        ledger.release_event("e").await,
    ];
    let elapsed = started.elapsed();
    for result in results {
        assert!(
            matches!(result, Err(LedgerError::Transient(_))),
            "expected a transient error, got {result:?}"
        );
    }
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

/// Items written before outcomes were typed hold a free-text `detail`: they still read
/// (a failure as a permanent failure with that reason, a completion with no outcome),
/// still answer claims, and the next write replaces `detail` with a typed outcome.
#[tokio::test]
async fn legacy_free_text_items_still_read() {
    let fixture = dynamo().await;
    let ledger = &fixture.ledger;
    let legacy = |uuid: &str, state: &str, detail: &str| {
        vec![
            ("pk", s(&format!("EVENT#{uuid}"))),
            ("sk", s("EVENT")),
            ("state", s(state)),
            ("lease_until_ms", n(0)),
            ("expires_at_ms", n(T0.plus(RETENTION).0)),
            ("expires_at", n(T0.plus(RETENTION).as_epoch_seconds_ceil())),
            ("attempts", n(2)),
            ("detail", s(detail)),
        ]
    };

    let done = unique("legacy-completed");
    put_raw(ledger, &legacy(&done, "COMPLETED", "created c-1")).await;
    let record = ledger.event_record(&done).await.unwrap().unwrap();
    assert_eq!((record.state, record.attempts), (EventState::Completed, 2));
    assert_eq!(
        record.outcome, None,
        "a free-text completion states no outcome"
    );
    assert_eq!(
        ledger
            .claim_event(&done, &nothing(), T0, LEASE)
            .await
            .unwrap(),
        Claim::Completed(record),
        "still a duplicate"
    );

    let failed = unique("legacy-failed");
    put_raw(
        ledger,
        &legacy(&failed, "FAILED", "InvalidParameterException: bad profile"),
    )
    .await;
    let record = ledger.event_record(&failed).await.unwrap().unwrap();
    assert_eq!(record.state, EventState::Failed);
    assert_eq!(
        record.outcome,
        Some(Outcome::Failed(Failure {
            class: ErrorClass::Permanent,
            reason: "InvalidParameterException: bad profile".into(),
        }))
    );
    // A claim clears the old text; finishing writes the typed outcome only.
    assert_eq!(
        ledger
            .claim_event(&failed, &nothing(), T0, LEASE)
            .await
            .unwrap(),
        Claim::Claimed { attempt: 3 }
    );
    let item = raw_item(ledger, &format!("EVENT#{failed}"), "EVENT").await;
    assert_eq!((item.get("detail"), item.get("outcome")), (None, None));
    assert_eq!(
        ledger.event_record(&failed).await.unwrap().unwrap().outcome,
        None
    );
    ledger
        .complete_event(&failed, &skipped(), T0, RETENTION)
        .await
        .unwrap();
    let item = raw_item(ledger, &format!("EVENT#{failed}"), "EVENT").await;
    assert_eq!(item.get("detail"), None);
    assert_eq!(
        ledger.event_record(&failed).await.unwrap().unwrap().outcome,
        Some(skipped())
    );

    // A legacy completion rewritten (an unclaimed finish) loses its `detail` too.
    put_raw(ledger, &legacy(&done, "COMPLETED", "created c-1")).await;
    ledger
        .fail_event(&done, &permanent("later"), T0, RETENTION)
        .await
        .unwrap();
    let item = raw_item(ledger, &format!("EVENT#{done}"), "EVENT").await;
    assert_eq!(item.get("detail"), None);

    // An `outcome` this version cannot read is a permanent error naming the item.
    let odd = unique("odd-outcome");
    let mut item = legacy(&odd, "COMPLETED", "x");
    item.push(("outcome", s(r#"{"outcome":"teleported"}"#)));
    put_raw(ledger, &item).await;
    match ledger.event_record(&odd).await {
        Err(LedgerError::Permanent(message)) => {
            assert!(
                message.contains(&odd) && message.contains("outcome"),
                "{message}"
            )
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
}
