//! The contract of the [`Ledger`] port: what every adapter (in-memory, DynamoDB, SQLite,
//! …) must do, as one async function per case, generic over the adapter.
//!
//! `okta_connect_testkit::memory::MemoryLedger` is the reference: the suite passes
//! against it, so a case that fails on an adapter is the adapter's bug (or the port's doc needs
//! saying more).
//!
//! An adapter's test file runs every case as its own `#[tokio::test]` with one line:
//!
//! ```ignore
//! okta_connect_testkit::ledger_contract_tests!(memory, async { MemoryLedger::new() });
//! // When the ledger needs something kept alive beside it (an emulator process), build a
//! // fixture and say how to reach the ledger inside it:
//! okta_connect_testkit::ledger_contract_tests!(dynamo, async { fixture().await }, |f| &f.ledger);
//! ```
//!
//! The first argument names the module the tests go in (so one file can run several
//! adapters); the calling crate needs `tokio` (macros, multi-threaded runtime).
//!
//! Cases never sleep and never read the clock: every instant is a fixed [`UnixMillis`]
//! passed to the port, so lease and expiry boundaries are tested exactly. Every case uses
//! fresh event uuids and user ids ([`unique`]), so cases may share one ledger (one table).

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use okta_connect_core::config::{BoundBy, SourceBinding, SourceKind};
use okta_connect_core::fact::{
    Assertion, Fact, OktaStatus, Recorded, SourceRef, UserFacts, UserSnapshot,
};
use okta_connect_core::outcome::{Converged, DesiredState, FactKind, Failure, Outcome, StepKind};
use okta_connect_core::ports::{
    Claim, ErrorClass, EventAbout, EventQuery, EventRecord, EventState, Ledger, RunMode, RunRecord,
    UserRecord,
};
use okta_connect_core::rules::NotRelevant;
use okta_connect_core::time::UnixMillis;

/// The instant cases start from (2027-01-15T08:00:00Z).
pub const T0: UnixMillis = UnixMillis(1_800_000_000_000);
/// The event lease cases claim with.
pub const LEASE: Duration = Duration::from_secs(30);
/// The retention cases complete and fail with.
pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// The per-user lease cases take.
pub const USER_LEASE: Duration = Duration::from_secs(10);

/// How many tasks race in the concurrency cases.
const RACERS: usize = 16;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A fresh id (`{kind}-{run}-{n}`): unique within the process and, through the run
/// stamp, across processes sharing a persistent ledger.
pub fn unique(kind: &str) -> String {
    static RUN: LazyLock<u128> = LazyLock::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ u128::from(std::process::id())
    });
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{kind}-{:x}-{}", *RUN, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A membership fact: `user` is (or is not) a member of group `group` since `published`.
pub fn membership(
    user: &str,
    uuid: &str,
    published: UnixMillis,
    group: &str,
    member: bool,
) -> Fact {
    Fact {
        okta_user_id: user.into(),
        event_uuid: uuid.into(),
        published,
        subject: UserSnapshot {
            login: Some(format!("{user}@example.com")),
            display_name: Some(format!("User {uuid}")),
        },
        assertion: Assertion::Membership {
            source: SourceRef {
                kind: SourceKind::Group,
                id: group.into(),
                name: Some(format!("name of {group}")),
            },
            member,
        },
    }
}

/// A status fact.
pub fn status(user: &str, uuid: &str, published: UnixMillis, status: OktaStatus) -> Fact {
    Fact {
        okta_user_id: user.into(),
        event_uuid: uuid.into(),
        published,
        subject: UserSnapshot::default(),
        assertion: Assertion::Status { status },
    }
}

/// A converged outcome that created Connect user `connect_user_id`.
pub fn created(connect_user_id: &str) -> Outcome {
    Outcome::Converged {
        fact: FactKind::Membership,
        converged: Converged {
            desired: DesiredState::Present {
                mapping: "default".into(),
            },
            steps: vec![StepKind::Create],
            connect_user_id: Some(connect_user_id.into()),
        },
    }
}

/// A not-relevant outcome.
pub fn skipped() -> Outcome {
    Outcome::NotRelevant {
        reason: NotRelevant::OtherGroup("Finance".into()),
    }
}

/// A permanent failure with `reason`.
pub fn permanent(reason: &str) -> Failure {
    Failure {
        class: ErrorClass::Permanent,
        reason: reason.into(),
    }
}

/// Runs `futures` concurrently on the current task and returns their outputs in order.
/// Requests to a real service overlap on the wire; no `'static` bound, so futures may
/// borrow the ledger.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Option<Pin<Box<F>>>> =
        futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot
                && let Poll::Ready(value) = future.as_mut().poll(cx)
            {
                *out = Some(value);
                *slot = None;
            }
        }
        if pending.iter().all(Option::is_none) {
            Poll::Ready(done.iter_mut().filter_map(Option::take).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// A fixed permutation of `0..len` (a deterministic shuffle, no randomness).
fn shuffled(len: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..len).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = usize::try_from(state >> 33).unwrap_or(0) % (i + 1);
        order.swap(i, j);
    }
    order
}

async fn claim<L: Ledger>(ledger: &L, uuid: &str, now: UnixMillis) -> Claim {
    ledger
        .claim_event(uuid, &EventAbout::default(), now, LEASE)
        .await
        .expect("claim_event failed")
}

async fn record<L: Ledger>(ledger: &L, uuid: &str) -> EventRecord {
    ledger
        .event_record(uuid)
        .await
        .expect("event_record failed")
        .unwrap_or_else(|| panic!("no record for event {uuid}"))
}

async fn user<L: Ledger>(ledger: &L, okta_user_id: &str) -> UserRecord {
    ledger
        .user_record(okta_user_id)
        .await
        .expect("user_record failed")
}

async fn fact<L: Ledger>(ledger: &L, fact: &Fact) -> Recorded {
    ledger.record_fact(fact).await.expect("record_fact failed")
}

async fn lease<L: Ledger>(ledger: &L, okta_user_id: &str, holder: &str, now: UnixMillis) -> bool {
    ledger
        .lease_user(okta_user_id, holder, now, USER_LEASE)
        .await
        .expect("lease_user failed")
}

// ---------------------------------------------------------------- event claims

/// The first claim of an unknown event is attempt 1 and holds the lease; the in-flight
/// record outlives its lease.
pub async fn first_claim_is_attempt_one<L: Ledger>(ledger: &L) {
    let uuid = unique("first-claim");
    assert_eq!(
        ledger.event_record(&uuid).await.expect("event_record"),
        None
    );
    assert_eq!(
        claim(ledger, &uuid, T0).await,
        Claim::Claimed { attempt: 1 }
    );
    let r = record(ledger, &uuid).await;
    assert_eq!(r.uuid, uuid);
    assert_eq!(r.state, EventState::InProgress);
    assert_eq!(r.lease_until, T0.plus(LEASE));
    assert_eq!(r.attempts, 1);
    assert_eq!(r.outcome, None);
    assert!(
        r.expires_at > r.lease_until,
        "an in-flight record must outlive its lease: {r:?}"
    );
}

/// While the lease is live (up to, not including, its end) another claim is `Busy` with
/// the lease's end, and changes nothing.
pub async fn claim_during_lease_is_busy<L: Ledger>(ledger: &L) {
    let uuid = unique("busy");
    assert_eq!(
        claim(ledger, &uuid, T0).await,
        Claim::Claimed { attempt: 1 }
    );
    let busy = Claim::Busy {
        lease_until: T0.plus(LEASE),
    };
    assert_eq!(claim(ledger, &uuid, T0).await, busy);
    assert_eq!(claim(ledger, &uuid, T0.plus(ms(1_000))).await, busy);
    assert_eq!(claim(ledger, &uuid, T0.plus(LEASE - ms(1))).await, busy);
    let r = record(ledger, &uuid).await;
    assert_eq!((r.state, r.attempts), (EventState::InProgress, 1));
    assert_eq!(r.lease_until, T0.plus(LEASE));
}

/// Once the lease has ended (at its end exactly) the event can be claimed again, as the
/// next attempt, with a new lease.
pub async fn claim_after_lease_ends_is_next_attempt<L: Ledger>(ledger: &L) {
    let uuid = unique("lease-ended");
    assert_eq!(
        claim(ledger, &uuid, T0).await,
        Claim::Claimed { attempt: 1 }
    );
    let t1 = T0.plus(LEASE);
    assert_eq!(
        claim(ledger, &uuid, t1).await,
        Claim::Claimed { attempt: 2 }
    );
    assert_eq!(
        claim(ledger, &uuid, t1.plus(ms(1))).await,
        Claim::Busy {
            lease_until: t1.plus(LEASE)
        }
    );
    let r = record(ledger, &uuid).await;
    assert_eq!((r.state, r.attempts), (EventState::InProgress, 2));
    assert_eq!(r.lease_until, t1.plus(LEASE));
}

/// A completed event is a duplicate: every later claim answers `Completed` with the
/// record (what was done, attempts, expiry), even inside the old lease.
pub async fn completed_event_is_a_duplicate<L: Ledger>(ledger: &L) {
    let uuid = unique("completed");
    assert_eq!(
        claim(ledger, &uuid, T0).await,
        Claim::Claimed { attempt: 1 }
    );
    let done_at = T0.plus(ms(2_500));
    ledger
        .complete_event(&uuid, &created("c-1"), done_at, RETENTION)
        .await
        .expect("complete_event");
    let r = record(ledger, &uuid).await;
    assert_eq!(r.state, EventState::Completed);
    assert_eq!(r.outcome, Some(created("c-1")));
    assert_eq!(r.attempts, 1);
    assert_eq!(r.expires_at, done_at.plus(RETENTION));
    for at in [
        done_at,
        T0.plus(ms(3_000)),
        done_at.plus(Duration::from_secs(3600)),
    ] {
        assert_eq!(
            claim(ledger, &uuid, at).await,
            Claim::Completed(r.clone()),
            "claim at {at}"
        );
    }
    assert_eq!(
        record(ledger, &uuid).await,
        r,
        "a duplicate changes nothing"
    );
}

/// Past its retention (at the expiry exactly) a completed record no longer counts: the
/// uuid is claimed afresh, as attempt 1. Expiry is decided by the ledger's own clock
/// comparison, never by the store having deleted the record.
pub async fn completed_event_expires_after_retention<L: Ledger>(ledger: &L) {
    let uuid = unique("retention");
    assert_eq!(
        claim(ledger, &uuid, T0).await,
        Claim::Claimed { attempt: 1 }
    );
    ledger
        .complete_event(&uuid, &created("c-2"), T0, RETENTION)
        .await
        .expect("complete_event");
    let expiry = T0.plus(RETENTION);
    assert!(matches!(
        claim(ledger, &uuid, UnixMillis(expiry.0 - 1)).await,
        Claim::Completed(_)
    ));
    assert_eq!(
        claim(ledger, &uuid, expiry).await,
        Claim::Claimed { attempt: 1 }
    );
    let r = record(ledger, &uuid).await;
    assert_eq!((r.state, r.attempts), (EventState::InProgress, 1));
    assert_eq!(r.lease_until, expiry.plus(LEASE));
    assert_eq!(r.outcome, None);
}

/// Expired records of every state are claimed afresh as attempt 1: a failed one, and an
/// abandoned in-flight one.
pub async fn expired_records_are_claimed_afresh<L: Ledger>(ledger: &L) {
    let failed = unique("expired-failed");
    assert_eq!(
        claim(ledger, &failed, T0).await,
        Claim::Claimed { attempt: 1 }
    );
    assert_eq!(
        claim(ledger, &failed, T0.plus(LEASE)).await,
        Claim::Claimed { attempt: 2 }
    );
    ledger
        .fail_event(
            &failed,
            &permanent("bad profile"),
            T0.plus(LEASE),
            RETENTION,
        )
        .await
        .expect("fail_event");
    let later = T0.plus(LEASE).plus(RETENTION);
    assert_eq!(
        claim(ledger, &failed, later).await,
        Claim::Claimed { attempt: 1 }
    );

    let abandoned = unique("expired-in-progress");
    assert_eq!(
        claim(ledger, &abandoned, T0).await,
        Claim::Claimed { attempt: 1 }
    );
    let expiry = record(ledger, &abandoned).await.expires_at;
    assert_eq!(
        claim(ledger, &abandoned, expiry).await,
        Claim::Claimed { attempt: 1 }
    );
}

/// A failed event keeps its reason and may be claimed again at once (a redrive), as the
/// next attempt; the new claim clears the old reason.
pub async fn failed_event_can_be_claimed_again<L: Ledger>(ledger: &L) {
    let uuid = unique("failed");
    assert_eq!(
        claim(ledger, &uuid, T0).await,
        Claim::Claimed { attempt: 1 }
    );
    ledger
        .fail_event(
            &uuid,
            &permanent("InvalidParameter: security profile"),
            T0.plus(ms(10)),
            RETENTION,
        )
        .await
        .expect("fail_event");
    let r = record(ledger, &uuid).await;
    assert_eq!(r.state, EventState::Failed);
    assert_eq!(
        r.outcome,
        Some(Outcome::Failed(permanent(
            "InvalidParameter: security profile"
        )))
    );
    assert_eq!(r.expires_at, T0.plus(ms(10)).plus(RETENTION));
    assert_eq!(r.attempts, 1);

    // Still inside the first lease: a failure frees the event at once.
    let t1 = T0.plus(ms(20));
    assert_eq!(
        claim(ledger, &uuid, t1).await,
        Claim::Claimed { attempt: 2 }
    );
    let r = record(ledger, &uuid).await;
    assert_eq!((r.state, r.attempts), (EventState::InProgress, 2));
    assert_eq!(r.lease_until, t1.plus(LEASE));
    assert_eq!(r.outcome, None);
    ledger
        .complete_event(&uuid, &created("c-3"), t1.plus(ms(5)), RETENTION)
        .await
        .expect("complete_event");
    assert!(matches!(
        claim(ledger, &uuid, t1.plus(ms(6))).await,
        Claim::Completed(EventRecord { attempts: 2, .. })
    ));
}

/// A released claim can be taken again immediately (by the redelivery), as the next
/// attempt.
pub async fn released_event_can_be_claimed_at_once<L: Ledger>(ledger: &L) {
    let uuid = unique("released");
    assert_eq!(
        claim(ledger, &uuid, T0).await,
        Claim::Claimed { attempt: 1 }
    );
    ledger.release_event(&uuid).await.expect("release_event");
    let r = record(ledger, &uuid).await;
    assert_eq!((r.state, r.attempts), (EventState::InProgress, 1));
    assert!(r.lease_until <= T0, "released lease still live: {r:?}");
    assert_eq!(
        claim(ledger, &uuid, T0.plus(ms(1))).await,
        Claim::Claimed { attempt: 2 }
    );
}

/// Releasing an unknown, completed or failed event does nothing.
pub async fn release_is_a_no_op_unless_in_progress<L: Ledger>(ledger: &L) {
    let unknown = unique("release-unknown");
    ledger.release_event(&unknown).await.expect("release_event");
    assert_eq!(
        ledger.event_record(&unknown).await.expect("event_record"),
        None
    );

    let completed = unique("release-completed");
    claim(ledger, &completed, T0).await;
    ledger
        .complete_event(&completed, &created("c-4"), T0, RETENTION)
        .await
        .expect("complete_event");
    let before = record(ledger, &completed).await;
    ledger
        .release_event(&completed)
        .await
        .expect("release_event");
    assert_eq!(record(ledger, &completed).await, before);
    assert!(matches!(
        claim(ledger, &completed, T0.plus(ms(1))).await,
        Claim::Completed(_)
    ));

    let failed = unique("release-failed");
    claim(ledger, &failed, T0).await;
    ledger
        .fail_event(&failed, &permanent("no"), T0, RETENTION)
        .await
        .expect("fail_event");
    let before = record(ledger, &failed).await;
    ledger.release_event(&failed).await.expect("release_event");
    assert_eq!(record(ledger, &failed).await, before);
}

/// Completing or failing an event that was never claimed records it (as attempt 1), so
/// an outcome is never lost.
pub async fn finishing_an_unclaimed_event_records_it<L: Ledger>(ledger: &L) {
    let completed = unique("unclaimed-completed");
    ledger
        .complete_event(&completed, &skipped(), T0, RETENTION)
        .await
        .expect("complete_event");
    let r = record(ledger, &completed).await;
    assert_eq!(r.state, EventState::Completed);
    assert_eq!(r.attempts, 1);
    assert_eq!(r.outcome, Some(skipped()));
    assert_eq!(r.expires_at, T0.plus(RETENTION));

    let failed = unique("unclaimed-failed");
    ledger
        .fail_event(&failed, &permanent("unparseable"), T0, RETENTION)
        .await
        .expect("fail_event");
    let r = record(ledger, &failed).await;
    assert_eq!((r.state, r.attempts), (EventState::Failed, 1));
    assert_eq!(
        claim(ledger, &failed, T0.plus(ms(1))).await,
        Claim::Claimed { attempt: 2 }
    );
}

/// Many workers claiming one event at the same instant: exactly one wins; every other
/// sees the winner's lease.
pub async fn concurrent_claims_have_one_winner<L: Ledger>(ledger: &L) {
    let uuid = unique("race");
    let nothing = EventAbout::default();
    let claims = join_all(
        (0..RACERS)
            .map(|_| ledger.claim_event(&uuid, &nothing, T0, LEASE))
            .collect(),
    )
    .await;
    let mut claimed = 0;
    for c in claims {
        match c.expect("claim_event") {
            Claim::Claimed { attempt } => {
                assert_eq!(attempt, 1);
                claimed += 1;
            }
            Claim::Busy { lease_until } => assert_eq!(lease_until, T0.plus(LEASE)),
            other => panic!("unexpected claim {other:?}"),
        }
    }
    assert_eq!(claimed, 1, "exactly one of {RACERS} claims must win");
    assert_eq!(record(ledger, &uuid).await.attempts, 1);

    // The same after the lease ended: one winner, attempt 2.
    let t1 = T0.plus(LEASE);
    let claims = join_all(
        (0..RACERS)
            .map(|_| ledger.claim_event(&uuid, &nothing, t1, LEASE))
            .collect(),
    )
    .await;
    let winners: Vec<Claim> = claims
        .into_iter()
        .map(|c| c.expect("claim_event"))
        .filter(|c| matches!(c, Claim::Claimed { .. }))
        .collect();
    assert_eq!(winners, vec![Claim::Claimed { attempt: 2 }]);
}

// ---------------------------------------------------------------- facts

/// Last writer wins by `published`: a newer fact replaces the slot's holder; an older one
/// and a duplicate are `Stale` and change nothing; `user_record` shows the newest.
pub async fn newer_fact_replaces_older<L: Ledger>(ledger: &L) {
    let u = unique("user-lww");
    let g = "00g-agents";
    let f100 = membership(&u, &unique("ev"), T0.plus(ms(100)), g, true);
    let f200 = membership(&u, &unique("ev"), T0.plus(ms(200)), g, false);
    let f50 = membership(&u, &unique("ev"), T0.plus(ms(50)), g, true);
    assert_eq!(fact(ledger, &f100).await, Recorded::Applied);
    assert_eq!(fact(ledger, &f200).await, Recorded::Applied);
    assert_eq!(fact(ledger, &f100).await, Recorded::Stale, "older");
    assert_eq!(fact(ledger, &f50).await, Recorded::Stale, "older still");
    assert_eq!(fact(ledger, &f200).await, Recorded::Stale, "duplicate");
    let got = user(ledger, &u).await;
    assert_eq!(got.facts, UserFacts::from_facts(&u, [f200.clone()]));
    assert_eq!(got.facts.facts.get(&f200.key()), Some(&f200));
    assert_eq!(got.connect_user_id, None);
}

/// Equal `published`: the greater event uuid wins, whatever the arrival order.
pub async fn equal_published_breaks_tie_by_uuid<L: Ledger>(ledger: &L) {
    let at = T0.plus(ms(700));
    for forward in [true, false] {
        let u = unique("user-tie");
        let a = membership(&u, "0000-a", at, "00g-x", true);
        let b = membership(&u, "0000-b", at, "00g-x", false);
        if forward {
            assert_eq!(fact(ledger, &a).await, Recorded::Applied);
            assert_eq!(fact(ledger, &b).await, Recorded::Applied);
        } else {
            assert_eq!(fact(ledger, &b).await, Recorded::Applied);
            assert_eq!(fact(ledger, &a).await, Recorded::Stale);
        }
        assert_eq!(user(ledger, &u).await.facts, UserFacts::from_facts(&u, [b]));
    }
}

/// Each slot (one per group/app, one for status, one for profile) and each user is
/// independent: an old fact in one slot is applied although another slot holds newer.
pub async fn fact_slots_are_independent<L: Ledger>(ledger: &L) {
    let u = unique("user-slots");
    let other = unique("user-other");
    let facts = [
        membership(&u, &unique("ev"), T0.plus(ms(500)), "00g-a", true),
        membership(&u, &unique("ev"), T0.plus(ms(100)), "00g-b", true),
        Fact {
            assertion: Assertion::Membership {
                source: SourceRef {
                    kind: SourceKind::App,
                    id: "00g-a".into(),
                    name: None,
                },
                member: true,
            },
            ..membership(&u, &unique("ev"), T0.plus(ms(50)), "unused", true)
        },
        status(&u, &unique("ev"), T0.plus(ms(10)), OktaStatus::Active),
        Fact {
            assertion: Assertion::ProfileChanged {
                changed_attributes: vec!["firstName".into(), "email".into()],
            },
            ..status(&u, &unique("ev"), T0.plus(ms(1)), OktaStatus::Active)
        },
        membership(&other, &unique("ev"), T0.plus(ms(900)), "00g-a", false),
    ];
    for f in &facts {
        assert_eq!(fact(ledger, f).await, Recorded::Applied, "{}", f.key());
    }
    let mine: Vec<Fact> = facts[..5].to_vec();
    let got = user(ledger, &u).await;
    assert_eq!(got.facts.facts.len(), 5);
    assert_eq!(got.facts, UserFacts::from_facts(&u, mine));
    assert_eq!(
        user(ledger, &other).await.facts,
        UserFacts::from_facts(&other, [facts[5].clone()])
    );
}

/// A user with many slots reads back whole (adapters that page their reads must follow
/// every page), and equals recording the same facts in memory.
pub async fn many_facts_read_back_whole<L: Ledger>(ledger: &L) {
    let u = unique("user-many");
    let mut all = Vec::new();
    for i in 0..40u64 {
        for (j, member) in [(0u64, true), (1, false)] {
            all.push(membership(
                &u,
                &unique("ev"),
                T0.plus(ms(i * 10 + j)),
                &format!("00g-{i:02}"),
                member,
            ));
        }
    }
    all.push(status(&u, &unique("ev"), T0, OktaStatus::Suspended));
    for index in shuffled(all.len()) {
        fact(ledger, &all[index]).await;
    }
    let got = user(ledger, &u).await;
    assert_eq!(got.facts.facts.len(), 41);
    assert_eq!(got.facts, UserFacts::from_facts(&u, all));
}

/// Facts for one slot written concurrently in a shuffled order: the newest survives and
/// its write reports `Applied`.
pub async fn concurrent_facts_newest_survives<L: Ledger>(ledger: &L) {
    let u = unique("user-race");
    let facts: Vec<Fact> = (0..RACERS as u64)
        .map(|i| membership(&u, &unique("ev"), T0.plus(ms(i)), "00g-race", i % 2 == 0))
        .collect();
    let newest = facts.last().cloned().expect("facts");
    let order = shuffled(facts.len());
    let results = join_all(
        order
            .iter()
            .map(|&i| ledger.record_fact(&facts[i]))
            .collect(),
    )
    .await;
    for (&i, result) in order.iter().zip(results) {
        let result = result.expect("record_fact");
        if facts[i] == newest {
            assert_eq!(result, Recorded::Applied, "the newest fact must apply");
        }
    }
    assert_eq!(
        user(ledger, &u).await.facts,
        UserFacts::from_facts(&u, [newest])
    );
}

// ---------------------------------------------------------------- users

/// Nothing known about a user: an empty record naming the user.
pub async fn unknown_user_has_empty_record<L: Ledger>(ledger: &L) {
    let u = unique("user-unknown");
    assert_eq!(
        user(ledger, &u).await,
        UserRecord {
            facts: UserFacts::new(&u),
            connect_user_id: None,
        }
    );
    // Bookkeeping alone (a lease) adds no facts.
    assert!(lease(ledger, &u, "worker-a", T0).await);
    assert_eq!(user(ledger, &u).await.facts, UserFacts::new(&u));
}

/// The Connect user id is remembered, replaced and forgotten, beside the user's facts and
/// without disturbing them or the lease.
pub async fn connect_user_id_is_remembered_and_forgotten<L: Ledger>(ledger: &L) {
    let u = unique("user-connect");
    let f = status(&u, &unique("ev"), T0, OktaStatus::Active);
    fact(ledger, &f).await;
    assert!(lease(ledger, &u, "worker-a", T0).await);
    for id in [Some("c-1"), Some("c-2"), None, None, Some("c-3")] {
        ledger
            .remember_connect_user(&u, id)
            .await
            .expect("remember_connect_user");
        let got = user(ledger, &u).await;
        assert_eq!(got.connect_user_id.as_deref(), id);
        assert_eq!(got.facts, UserFacts::from_facts(&u, [f.clone()]));
    }
    assert!(
        !lease(ledger, &u, "worker-b", T0.plus(ms(1))).await,
        "remembering must not drop the lease"
    );
    let fresh = unique("user-connect-only");
    ledger
        .remember_connect_user(&fresh, Some("c-9"))
        .await
        .expect("remember_connect_user");
    assert_eq!(
        user(ledger, &fresh).await,
        UserRecord {
            facts: UserFacts::new(&fresh),
            connect_user_id: Some("c-9".into()),
        }
    );
}

/// Forgetting a user leaves only the tombstone: no other fact, no Connect id; the
/// tombstone then judges later facts like any fact, and other users are untouched.
pub async fn forgotten_user_keeps_only_its_tombstone<L: Ledger>(ledger: &L) {
    let u = unique("user-forgotten");
    let other = unique("user-kept");
    let member = membership(&u, &unique("ev"), T0, "00g-agents", true);
    let deleted = status(&u, &unique("ev"), T0.plus(ms(10)), OktaStatus::Deleted);
    let kept = membership(&other, &unique("ev"), T0, "00g-agents", true);
    for f in [&member, &deleted, &kept] {
        fact(ledger, f).await;
    }
    ledger
        .remember_connect_user(&u, Some("c-1"))
        .await
        .expect("remember_connect_user");
    let tombstone = Fact {
        subject: UserSnapshot::default(),
        ..deleted.clone()
    };
    ledger.forget_user(&tombstone).await.expect("forget_user");
    assert_eq!(
        user(ledger, &u).await,
        UserRecord {
            facts: UserFacts::from_facts(&u, [tombstone.clone()]),
            connect_user_id: None,
        }
    );
    // Idempotent.
    ledger
        .forget_user(&tombstone)
        .await
        .expect("forget_user again");
    assert_eq!(
        user(ledger, &u).await.facts,
        UserFacts::from_facts(&u, [tombstone.clone()])
    );
    // An older status arriving late loses to the tombstone.
    let late = status(&u, &unique("ev"), T0.plus(ms(5)), OktaStatus::Active);
    assert_eq!(
        ledger.record_fact(&late).await.expect("record_fact"),
        Recorded::Stale
    );
    assert_eq!(
        user(ledger, &other).await.facts,
        UserFacts::from_facts(&other, [kept])
    );
}

/// The per-user lease is exclusive until it ends (at its end exactly it is free), then
/// anyone may take it.
pub async fn user_lease_is_exclusive_until_it_ends<L: Ledger>(ledger: &L) {
    let u = unique("user-lease");
    assert!(lease(ledger, &u, "worker-a", T0).await);
    assert!(!lease(ledger, &u, "worker-b", T0).await);
    assert!(!lease(ledger, &u, "worker-b", T0.plus(USER_LEASE - ms(1))).await);
    assert!(lease(ledger, &u, "worker-b", T0.plus(USER_LEASE)).await);
    assert!(!lease(ledger, &u, "worker-a", T0.plus(USER_LEASE)).await);
    // Another user's lease is independent.
    assert!(lease(ledger, &unique("user-lease-other"), "worker-a", T0).await);
}

/// The holder may take its own lease again, which extends it.
pub async fn user_lease_is_reentrant_and_extends<L: Ledger>(ledger: &L) {
    let u = unique("user-reentrant");
    assert!(lease(ledger, &u, "worker-a", T0).await);
    let t1 = T0.plus(ms(4_000));
    assert!(lease(ledger, &u, "worker-a", t1).await);
    assert!(
        !lease(ledger, &u, "worker-b", T0.plus(USER_LEASE)).await,
        "the renewal must extend the lease"
    );
    assert!(lease(ledger, &u, "worker-b", t1.plus(USER_LEASE)).await);
}

/// Releasing frees the lease at once, but only when the holder releases it; anyone
/// else's release (and releasing an unknown user) does nothing.
pub async fn user_lease_release_by_holder_only<L: Ledger>(ledger: &L) {
    let u = unique("user-release");
    assert!(lease(ledger, &u, "worker-a", T0).await);
    ledger
        .release_user(&u, "worker-b")
        .await
        .expect("release_user");
    assert!(!lease(ledger, &u, "worker-b", T0.plus(ms(1))).await);
    ledger
        .release_user(&u, "worker-a")
        .await
        .expect("release_user");
    assert!(lease(ledger, &u, "worker-b", T0.plus(ms(2))).await);
    // The old holder releasing again must not free worker-b's lease.
    ledger
        .release_user(&u, "worker-a")
        .await
        .expect("release_user");
    assert!(!lease(ledger, &u, "worker-a", T0.plus(ms(3))).await);
    ledger
        .release_user(&unique("user-never-seen"), "worker-a")
        .await
        .expect("release_user of an unknown user");
}

/// Many workers taking one user's lease at the same instant: exactly one gets it.
pub async fn concurrent_user_leases_have_one_winner<L: Ledger>(ledger: &L) {
    let u = unique("user-lease-race");
    let holders: Vec<String> = (0..RACERS).map(|i| format!("worker-{i}")).collect();
    let taken = join_all(
        holders
            .iter()
            .map(|h| ledger.lease_user(&u, h, T0, USER_LEASE))
            .collect(),
    )
    .await;
    let winners = taken
        .into_iter()
        .map(|t| t.expect("lease_user"))
        .filter(|&t| t)
        .count();
    assert_eq!(
        winners, 1,
        "exactly one of {RACERS} workers may hold the lease"
    );
}

fn binding(name: &str, id: &str, bound_by: BoundBy) -> SourceBinding {
    SourceBinding {
        kind: SourceKind::Group,
        name: name.into(),
        id: id.into(),
        okta_name: name.to_lowercase(),
        bound_by,
        bound_at: T0,
    }
}

/// The first event's binding of a name is kept; a later event's (another id, the same
/// name in other case) does not replace it; the API's does.
pub async fn source_binding_by_event_is_kept_and_by_api_replaced<L: Ledger>(ledger: &L) {
    let name = unique("Agents");
    let first = binding(&name, &unique("00g-first"), BoundBy::Event);
    assert_eq!(
        ledger.bind_source(&first).await.expect("bind_source"),
        first
    );
    let later = binding(&name.to_uppercase(), &unique("00g-later"), BoundBy::Event);
    assert_eq!(
        ledger.bind_source(&later).await.expect("bind_source"),
        first,
        "an event never replaces a binding: the name's first id is kept"
    );
    let api = binding(&name.to_lowercase(), &unique("00g-api"), BoundBy::Api);
    assert_eq!(ledger.bind_source(&api).await.expect("bind_source"), api);
    let held: Vec<SourceBinding> = ledger
        .source_bindings()
        .await
        .expect("source_bindings")
        .into_iter()
        .filter(|b| b.slot() == first.slot())
        .collect();
    assert_eq!(held, vec![api], "one binding per name, the API's");
}

/// Bindings of different names and kinds are independent and all read back.
pub async fn source_bindings_are_independent_and_read_back<L: Ledger>(ledger: &L) {
    let name = unique("contact-centre");
    let group = binding(&name, &unique("00g"), BoundBy::Event);
    let app = SourceBinding {
        kind: SourceKind::App,
        ..binding(&name, &unique("0oa"), BoundBy::Event)
    };
    ledger.bind_source(&group).await.expect("bind group");
    ledger.bind_source(&app).await.expect("bind app");
    let all = ledger.source_bindings().await.expect("source_bindings");
    assert!(all.contains(&group), "{all:?}");
    assert!(
        all.contains(&app),
        "a group and an app of one name are two bindings"
    );
}

// ---------------------------------------------------------------- listings

/// Where the listing cases' instants start: ten years after [`T0`], which no other case
/// reaches, so that a ledger shared by every case lists only this case's records there.
const LISTED: UnixMillis = UnixMillis(T0.0 + 10 * 365 * 24 * 3600 * 1000);

fn about(user: &str, login: &str) -> EventAbout {
    EventAbout {
        event_type: "group.user_membership.add".into(),
        okta_user_id: Some(user.into()),
        login: Some(login.into()),
        published: Some(T0),
    }
}

async fn claim_about<L: Ledger>(ledger: &L, uuid: &str, about: &EventAbout, now: UnixMillis) {
    let claim = ledger
        .claim_event(uuid, about, now, LEASE)
        .await
        .expect("claim_event failed");
    assert!(matches!(claim, Claim::Claimed { .. }), "{claim:?}");
}

/// A claim stores what the event is about; every change of the record moves
/// `updated_at`, and a later claim's `about` replaces the earlier one.
pub async fn event_record_keeps_what_its_claim_is_about<L: Ledger>(ledger: &L) {
    let uuid = unique("about");
    let user = unique("00u");
    let first = about(&user, "old.login@example.com");
    claim_about(ledger, &uuid, &first, T0).await;
    let r = record(ledger, &uuid).await;
    assert_eq!(r.about.as_ref(), Some(&first));
    assert_eq!(r.updated_at, Some(T0));

    let failed_at = T0.plus(ms(700));
    ledger
        .fail_event(&uuid, &permanent("bad profile"), failed_at, RETENTION)
        .await
        .expect("fail_event");
    let r = record(ledger, &uuid).await;
    assert_eq!(
        r.about.as_ref(),
        Some(&first),
        "failing keeps what it is about"
    );
    assert_eq!(r.updated_at, Some(failed_at));

    let second = about(&user, "new.login@example.com");
    let again = T0.plus(ms(5_000));
    claim_about(ledger, &uuid, &second, again).await;
    let done_at = again.plus(ms(300));
    ledger
        .complete_event(&uuid, &created("c-about"), done_at, RETENTION)
        .await
        .expect("complete_event");
    let r = record(ledger, &uuid).await;
    assert_eq!(r.about.as_ref(), Some(&second));
    assert_eq!(r.updated_at, Some(done_at));
    assert_eq!((r.state, r.attempts), (EventState::Completed, 2));
}

/// `events` lists records updated since an instant, newest first, filtered by user (its
/// Okta id, or its login in any case) and by failure, and cut at the limit.
pub async fn events_are_listed_newest_first_since_an_instant<L: Ledger>(ledger: &L) {
    let user = unique("00u");
    let login = format!("{}@Example.com", unique("Agent"));
    let mine = about(&user, &login);
    let other = about(&unique("00u"), &format!("{}@example.com", unique("other")));
    let at = |seconds: u64| LISTED.plus(Duration::from_secs(seconds));

    let before = unique("listed-before");
    claim_about(ledger, &before, &mine, at(0)).await;
    let in_progress = unique("listed-in-progress");
    claim_about(ledger, &in_progress, &mine, at(10)).await;
    let completed = unique("listed-completed");
    claim_about(ledger, &completed, &mine, at(20)).await;
    ledger
        .complete_event(&completed, &created("c-listed"), at(21), RETENTION)
        .await
        .expect("complete_event");
    let failed = unique("listed-failed");
    claim_about(ledger, &failed, &mine, at(30)).await;
    ledger
        .fail_event(
            &failed,
            &permanent("no such routing profile"),
            at(31),
            RETENTION,
        )
        .await
        .expect("fail_event");
    let someone_else = unique("listed-other");
    claim_about(ledger, &someone_else, &other, at(25)).await;

    let list = |query: EventQuery| async move {
        ledger
            .events(&query)
            .await
            .expect("events failed")
            .into_iter()
            .map(|r| r.uuid)
            .collect::<Vec<_>>()
    };
    let by_user = |okta_user: &str| EventQuery {
        okta_user: Some(okta_user.to_string()),
        ..EventQuery::since(at(5), 100)
    };
    let expected = vec![failed.clone(), completed.clone(), in_progress.clone()];
    assert_eq!(list(by_user(&user)).await, expected, "by Okta id");
    assert_eq!(
        list(by_user(&login.to_uppercase())).await,
        expected,
        "by login, in any case"
    );
    assert_eq!(
        list(EventQuery {
            failed_only: true,
            ..by_user(&user)
        })
        .await,
        vec![failed.clone()]
    );
    assert_eq!(
        list(EventQuery {
            limit: 2,
            ..by_user(&user)
        })
        .await,
        vec![failed.clone(), completed.clone()]
    );
    assert_eq!(
        list(EventQuery::since(at(5), 100)).await,
        vec![failed, someone_else, completed, in_progress],
        "every user's, newest first"
    );
    assert!(
        list(EventQuery::since(at(32), 100)).await.is_empty(),
        "nothing was updated after the last failure"
    );
    let records = ledger.events(&by_user(&user)).await.expect("events failed");
    assert!(records.iter().all(|r| r.about.as_ref() == Some(&mine)));
    assert_eq!(records[0].updated_at, Some(at(31)));
}

fn run_record(run_id: &str, mode: RunMode, started_at: UnixMillis) -> RunRecord {
    RunRecord {
        run_id: run_id.into(),
        mode,
        started_at,
        finished_at: started_at.plus(ms(42_000)),
        users: 10_000,
        changes: 12,
        revocations: 2,
        conflicts: 1,
        queued: 12,
        stopped_at_cap: None,
        error: None,
    }
}

/// Reconcile runs come back newest first, as recorded; recording a run again replaces it.
pub async fn reconcile_runs_are_listed_newest_first<L: Ledger>(ledger: &L) {
    let base = LISTED.plus(Duration::from_secs(365 * 24 * 3600));
    let first = run_record(&unique("run"), RunMode::DryRun, base);
    let third = run_record(&unique("run"), RunMode::Queued, base.plus(ms(3_000)));
    let mut second = run_record(&unique("run"), RunMode::InProcess, base.plus(ms(2_000)));
    for run in [&first, &third, &second] {
        ledger.record_run(run, RETENTION).await.expect("record_run");
    }
    second.stopped_at_cap = Some(50);
    second.error = Some("Okta refused the request: missing okta.groups.read".into());
    ledger
        .record_run(&second, RETENTION)
        .await
        .expect("record_run again");

    let runs = ledger.recent_runs(2).await.expect("recent_runs");
    assert_eq!(runs, vec![third.clone(), second.clone()]);
    let runs = ledger.recent_runs(10).await.expect("recent_runs");
    let at = runs.iter().position(|r| r.run_id == first.run_id);
    assert_eq!(at, Some(2), "the oldest of the three comes third: {runs:?}");
}

/// Expands to one `#[tokio::test]` per contract case, in a module named by the first
/// argument. See the module documentation for the two forms.
#[macro_export]
macro_rules! ledger_contract_tests {
    ($module:ident, $make:expr $(,)?) => {
        $crate::ledger_contract_tests!($module, $make, |ledger| &ledger);
    };
    ($module:ident, $make:expr, |$fixture:ident| $ledger:expr $(,)?) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            $crate::__ledger_contract_cases!(
                ($make) ($fixture) ($ledger)
                first_claim_is_attempt_one
                claim_during_lease_is_busy
                claim_after_lease_ends_is_next_attempt
                completed_event_is_a_duplicate
                completed_event_expires_after_retention
                expired_records_are_claimed_afresh
                failed_event_can_be_claimed_again
                released_event_can_be_claimed_at_once
                release_is_a_no_op_unless_in_progress
                finishing_an_unclaimed_event_records_it
                concurrent_claims_have_one_winner
                newer_fact_replaces_older
                equal_published_breaks_tie_by_uuid
                fact_slots_are_independent
                many_facts_read_back_whole
                concurrent_facts_newest_survives
                unknown_user_has_empty_record
                connect_user_id_is_remembered_and_forgotten
                forgotten_user_keeps_only_its_tombstone
                user_lease_is_exclusive_until_it_ends
                user_lease_is_reentrant_and_extends
                user_lease_release_by_holder_only
                concurrent_user_leases_have_one_winner
                source_binding_by_event_is_kept_and_by_api_replaced
                source_bindings_are_independent_and_read_back
                event_record_keeps_what_its_claim_is_about
                events_are_listed_newest_first_since_an_instant
                reconcile_runs_are_listed_newest_first
            );
        }
    };
}

/// Implementation detail of [`ledger_contract_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __ledger_contract_cases {
    (($make:expr) ($fixture:ident) ($ledger:expr) $($case:ident)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let $fixture = $make.await;
                $crate::contract::ledger::$case($ledger).await;
            }
        )*
    };
}
