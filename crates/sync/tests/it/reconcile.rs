//! Reconcile runs over the in-memory adapters (each passes its port's contract suite):
//! go-live, drift, deactivated agents, removed mappings, rehires, dry runs and the cap.

use std::time::Duration;

use okta_connect_core::config::Config;
use okta_connect_core::desired::{IdentityInfo, OktaProfile};
use okta_connect_core::identity::{OktaApp, OktaGroup, OktaUser, OktaUserStatus};
use okta_connect_core::outcome::StepKind;
use okta_connect_core::ownership::OKTA_USER_TAG;
use okta_connect_core::plan::ConnectUser;
use okta_connect_core::ports::{Ledger, RunMode};
use okta_connect_sync::Engine;
use okta_connect_sync::reconcile::{Action, Run, RunOptions};
use okta_connect_testkit::fixtures;
use okta_connect_testkit::memory::{MemoryDirectory, MemoryIdentity, MemoryLedger, MemoryQueue};

const AGENTS: &str = "00g1c0nn3ctAgents0d7";
const SUPERVISORS: &str = "00g1c0nn3ctSup3rv1s7";
const APP: &str = "0oa1awsF3d3rat10n0d7";
const AGENT_ROUTING: &str = "87654321-69fb-43b6-a5e6-f8666ac189cb";
const SUPERVISOR_ROUTING: &str = "5b3c0f3e-8a31-4d2a-9a61-2f1d3c7e9b10";

type Rig = Engine<MemoryLedger, MemoryDirectory, MemoryQueue, MemoryIdentity>;

fn okta_user(n: u32, status: OktaUserStatus) -> OktaUser {
    OktaUser {
        id: format!("00uRecon{n:012}"),
        status,
        profile: OktaProfile {
            login: format!("agent{n}@acme.example"),
            first_name: Some(format!("Agent{n}")),
            last_name: Some("Okta".into()),
            email: None,
        },
    }
}

/// An org with the fixtures' groups and app; `agents` and `supervisors` are members.
fn org(agents: &[&OktaUser], supervisors: &[&OktaUser]) -> MemoryIdentity {
    let identity = MemoryIdentity::new();
    for user in agents.iter().chain(supervisors) {
        identity.add_user((*user).clone());
    }
    let ids = |users: &[&OktaUser]| users.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
    identity.add_group(
        OktaGroup {
            id: AGENTS.into(),
            name: "amazon_connect".into(),
        },
        &ids(agents),
    );
    identity.add_group(
        OktaGroup {
            id: SUPERVISORS.into(),
            name: "connect_supervisors".into(),
        },
        &ids(supervisors),
    );
    identity.add_app(
        OktaApp {
            id: APP.into(),
            label: "AWS Account Federation".into(),
            catalog_name: "amazon_aws".into(),
        },
        &[],
    );
    identity
}

fn rig(config: Config, identity: MemoryIdentity) -> Rig {
    let mut engine = Engine::new(
        config,
        MemoryLedger::new(),
        MemoryDirectory::new(),
        MemoryQueue::new(),
        Some(identity),
    );
    engine.settings.first_backoff = Duration::from_millis(5);
    engine
}

fn config() -> Config {
    Config::from_ini(fixtures::CONFIG_INI).unwrap()
}

fn options(dry_run: bool) -> RunOptions {
    RunOptions {
        run_id: uuid_like(),
        dry_run,
        max_revocations: 10,
        only: None,
    }
}

fn uuid_like() -> String {
    okta_connect_testkit::contract::ledger::unique("run")
}

/// A Connect user made before go-live (by CSV): untagged.
fn hand_made(username: &str, routing: &str) -> ConnectUser {
    ConnectUser {
        id: String::new(),
        arn: None,
        username: username.into(),
        identity: IdentityInfo {
            first_name: "Csv".into(),
            last_name: "Import".into(),
            email: None,
        },
        routing_profile_id: routing.into(),
        security_profile_ids: vec!["12345678-1234-2345-abd8-0aa7f5b46852".into()],
        hierarchy_group_id: None,
        tags: Default::default(),
    }
}

fn action_of<'a>(run: &'a Run, user: &OktaUser) -> &'a Action {
    &run.users
        .iter()
        .find(|u| u.okta_user_id == user.id)
        .unwrap_or_else(|| panic!("{} not in the run", user.id))
        .action
}

#[tokio::test]
async fn go_live_adopts_the_csv_users_and_creates_the_rest() {
    let (a, b, c) = (
        okta_user(1, OktaUserStatus::Active),
        okta_user(2, OktaUserStatus::Active),
        okta_user(3, OktaUserStatus::Deprovisioned),
    );
    let engine = rig(config(), org(&[&a, &b, &c], &[]));
    engine
        .directory
        .insert(hand_made(&a.profile.login, SUPERVISOR_ROUTING));
    engine
        .directory
        .insert(hand_made(&c.profile.login, AGENT_ROUTING));

    let dry_options = options(true);
    let dry = engine.reconcile(&dry_options).await.unwrap();
    assert!(
        matches!(action_of(&dry, &a), Action::Adopt { .. }),
        "{dry:?}"
    );
    assert_eq!(action_of(&dry, &b), &Action::Create);
    assert!(
        action_of(&dry, &c).is_revocation(),
        "deactivated before go-live: {dry:?}"
    );
    assert!(
        engine.directory.users().iter().all(|u| u.tags.is_empty()),
        "a dry run writes nothing"
    );
    assert!(
        engine
            .ledger
            .user_record(&b.id)
            .await
            .unwrap()
            .facts
            .facts
            .is_empty()
    );

    let run = engine.reconcile(&options(false)).await.unwrap();
    assert_eq!(run.conflicts(), 0, "{run:?}");
    let users = engine.directory.users();
    assert_eq!(
        users.len(),
        2,
        "c's Connect user revoked (deleted), b's created: {users:?}"
    );
    for user in &users {
        assert_eq!(user.routing_profile_id, AGENT_ROUTING);
        assert!(user.tags.contains_key(OKTA_USER_TAG));
        assert_eq!(
            user.identity.last_name, "Okta",
            "names from the Okta profile"
        );
    }

    // A second run finds nothing to do.
    let again = engine.reconcile(&options(false)).await.unwrap();
    assert!(
        again.users.iter().all(|u| u.action == Action::Unchanged),
        "{again:?}"
    );

    // Each run, the dry one too, is kept for `status`.
    let runs = engine.ledger.recent_runs(10).await.unwrap();
    assert_eq!(runs.len(), 3, "{runs:?}");
    let kept = |id: &str| runs.iter().find(|r| r.run_id == id).unwrap().clone();
    let dry_kept = kept(&dry_options.run_id);
    assert_eq!(dry_kept.mode, RunMode::DryRun);
    assert_eq!(
        (dry_kept.users, dry_kept.changes, dry_kept.revocations),
        (3, 3, 1)
    );
    let run_kept = kept(&run.run_id);
    assert_eq!(run_kept.mode, RunMode::InProcess);
    assert_eq!((run_kept.changes, run_kept.conflicts), (3, 0));
    assert!(run_kept.finished_at >= run_kept.started_at);
    assert_eq!(kept(&again.run_id).changes, 0);
}

#[tokio::test]
async fn drift_is_repaired_and_a_hand_deleted_user_recreated() {
    let (a, b) = (
        okta_user(11, OktaUserStatus::Active),
        okta_user(12, OktaUserStatus::Active),
    );
    let engine = rig(config(), org(&[&a, &b], &[]));
    engine.reconcile(&options(false)).await.unwrap();
    let users = engine.directory.users();
    let (ua, ub) = (
        users
            .iter()
            .find(|u| u.username == a.profile.login)
            .unwrap(),
        users
            .iter()
            .find(|u| u.username == b.profile.login)
            .unwrap(),
    );
    // An admin edits a's security profiles by hand and deletes b.
    use okta_connect_core::plan::Change;
    use okta_connect_core::ports::UserDirectory;
    engine
        .directory
        .update(
            &ua.id,
            &Change::SecurityProfiles {
                security_profile_ids: vec![
                    okta_connect_core::config::ConnectId::parse(
                        "a1b2c3d4-0000-4000-8000-00000000abcd",
                    )
                    .unwrap(),
                ],
            },
        )
        .await
        .unwrap();
    engine.directory.delete(&ub.id).await.unwrap();

    let run = engine.reconcile(&options(false)).await.unwrap();
    assert_eq!(
        action_of(&run, &a),
        &Action::Update {
            steps: vec![StepKind::UpdateSecurityProfiles]
        }
    );
    assert_eq!(action_of(&run, &b), &Action::Create);
    assert_eq!(engine.directory.users().len(), 2);
}

#[tokio::test]
async fn a_pre_existing_supervisor_removed_from_supervisors_stays_an_agent() {
    let lin = okta_user(21, OktaUserStatus::Active);
    let engine = rig(config(), org(&[&lin], &[&lin]));
    engine
        .directory
        .insert(hand_made(&lin.profile.login, SUPERVISOR_ROUTING));
    engine.reconcile(&options(false)).await.unwrap();
    assert_eq!(
        engine.directory.users()[0].routing_profile_id,
        SUPERVISOR_ROUTING
    );

    // The removal event arrives after the run: Okta still has lin among the agents.
    let removal = fixtures::GROUP_MEMBERSHIP_REMOVE
        .replace("00uU4xlCTasJ0izQ7pGX", &lin.id)
        .replace("jane.doe@acme.example", &lin.profile.login)
        .replace(AGENTS, SUPERVISORS)
        .replace("\"amazon_connect\"", "\"connect_supervisors\"")
        .replace(
            "2026-11-20T09:00:02.742Z",
            &okta_connect_core::time::UnixMillis::now()
                .plus(Duration::from_secs(1))
                .to_string(),
        );
    let messages = super::engine::messages_of(&removal);
    // Paced at Connect's 2/s after the run's burst: a few seconds for the demotion.
    let reports = engine
        .handle_batch(
            &messages,
            tokio::time::Instant::now() + Duration::from_secs(30),
        )
        .await;
    assert!(reports[0].converged().is_some(), "{:?}", reports[0]);
    let users = engine.directory.users();
    assert_eq!(users.len(), 1, "not deleted: still an agent");
    assert_eq!(users[0].routing_profile_id, AGENT_ROUTING);
}

#[tokio::test]
async fn a_removed_mapping_revokes_its_users_and_the_cap_stops_a_mass_revocation() {
    let sups: Vec<OktaUser> = (31..34)
        .map(|n| okta_user(n, OktaUserStatus::Active))
        .collect();
    let refs: Vec<&OktaUser> = sups.iter().collect();
    let engine = rig(config(), org(&[], &refs));
    engine.reconcile(&options(false)).await.unwrap();
    assert_eq!(engine.directory.users().len(), 3);

    // config.ini loses [Mapping supervisors]: its users match no mapping any more.
    let text = fixtures::CONFIG_INI;
    let start = text.find("[Mapping supervisors]").unwrap();
    let end = text[start + 1..]
        .find("\n[")
        .map_or(text.len(), |i| start + 2 + i);
    let without = Config::from_ini(&format!("{}{}", &text[..start], &text[end..])).unwrap();
    assert!(without.mapping("supervisors").is_none());
    let engine = Engine {
        config: without,
        ..engine
    };
    let mut capped = options(false);
    capped.max_revocations = 2;
    let stopped = engine.reconcile(&capped).await.unwrap();
    assert_eq!(stopped.stopped_at_cap, Some(2));
    assert_eq!(stopped.revocations(), 3);
    assert_eq!(
        engine.directory.users().len(),
        3,
        "nothing applied above the cap"
    );

    let run = engine.reconcile(&options(false)).await.unwrap();
    assert_eq!(run.revocations(), 3, "{run:?}");
    assert!(engine.directory.users().is_empty());

    let runs = engine.ledger.recent_runs(10).await.unwrap();
    let stopped_kept = runs.iter().find(|r| r.run_id == stopped.run_id).unwrap();
    assert_eq!(stopped_kept.stopped_at_cap, Some(2));
    assert_eq!(stopped_kept.revocations, 3);
    assert_eq!(stopped_kept.error, None);
}

#[tokio::test]
async fn a_run_that_cannot_read_okta_is_kept_with_its_error() {
    let engine = rig(config(), org(&[], &[]));
    let engine = Engine {
        identity: None::<MemoryIdentity>,
        ..engine
    };
    let failing = options(false);
    assert!(engine.reconcile(&failing).await.is_err());
    let runs = engine.ledger.recent_runs(1).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].run_id, failing.run_id);
    assert!(
        runs[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("[OktaApi]"),
        "{runs:?}"
    );
}

#[tokio::test]
async fn a_rehire_never_touches_the_leavers_connect_user() {
    let rehire = okta_user(41, OktaUserStatus::Active);
    let engine = rig(config(), org(&[&rehire], &[]));
    let mut leaver = hand_made(&rehire.profile.login, AGENT_ROUTING);
    leaver
        .tags
        .insert(OKTA_USER_TAG.into(), "00uLeaver000000000041".into());
    engine.directory.insert(leaver);
    let run = engine.reconcile(&options(false)).await.unwrap();
    assert!(
        matches!(action_of(&run, &rehire), Action::Conflict { .. }),
        "{run:?}"
    );
    assert_eq!(run.conflicts(), 1);
    // The leaver's own Connect user matches no mapping: revoked for the leaver (by the
    // removal policy), never updated for the rehire.
    let leaver = run
        .users
        .iter()
        .find(|u| u.okta_user_id == "00uLeaver000000000041")
        .unwrap();
    assert!(leaver.action.is_revocation(), "{leaver:?}");
    assert!(engine.directory.users().is_empty());
    // The next run gives the rehire a Connect user of its own.
    let next = engine.reconcile(&options(false)).await.unwrap();
    assert_eq!(action_of(&next, &rehire), &Action::Create);
    let users = engine.directory.users();
    assert_eq!(users[0].tags.get(OKTA_USER_TAG), Some(&rehire.id));
}

#[tokio::test]
async fn a_reconcile_and_a_newer_event_racing_on_one_user_end_in_the_newest_fact() {
    let ana = okta_user(51, OktaUserStatus::Active);
    let engine = rig(config(), org(&[&ana], &[]));
    let config = engine.bound_config().await.unwrap();
    // The run reads Okta (ana is a member) ...
    let taken_at = okta_connect_core::time::UnixMillis::now();
    let identity = engine.identity.as_ref().unwrap();
    let snapshot =
        okta_connect_sync::reconcile::read_snapshot(&config, identity, &engine.directory, taken_at)
            .await
            .unwrap();
    // ... then, before it applies, ana's removal (published after the read) is processed.
    let removal = fixtures::GROUP_MEMBERSHIP_REMOVE
        .replace("00uU4xlCTasJ0izQ7pGX", &ana.id)
        .replace("jane.doe@acme.example", &ana.profile.login)
        .replace(
            "2026-11-20T09:00:02.742Z",
            &taken_at.plus(Duration::from_secs(1)).to_string(),
        );
    let messages = super::engine::messages_of(&removal);
    engine
        .handle_batch(
            &messages,
            tokio::time::Instant::now() + Duration::from_secs(5),
        )
        .await;
    // The run applies its older snapshot: the newer removal wins, nobody is created.
    let run = okta_connect_sync::reconcile::run(
        &snapshot,
        &config,
        &engine.ledger,
        &options(false),
        |id| {
            let engine = &engine;
            async move { engine.converge_leased(&id, "reconcile:race").await }
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(action_of(&run, &ana), Action::Unchanged),
        "{run:?}"
    );
    assert!(engine.directory.users().is_empty());

    // The other order: an older event arriving after the run loses to the snapshot.
    let bob = okta_user(52, OktaUserStatus::Active);
    let engine = rig(self::config(), org(&[&bob], &[]));
    engine.reconcile(&options(false)).await.unwrap();
    assert_eq!(engine.directory.users().len(), 1);
    let late = fixtures::GROUP_MEMBERSHIP_REMOVE
        .replace("00uU4xlCTasJ0izQ7pGX", &bob.id)
        .replace("jane.doe@acme.example", &bob.profile.login);
    let messages = super::engine::messages_of(&late);
    engine
        .handle_batch(
            &messages,
            tokio::time::Instant::now() + Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        engine.directory.users().len(),
        1,
        "a removal published before the run's read changes nothing"
    );
}
