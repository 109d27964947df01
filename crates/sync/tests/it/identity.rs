//! The engine with Okta's API as its identity source (the in-memory one, which passes the
//! same contract suite as the HTTP adapter): real names, profile edits, transient Okta
//! failures, and configured names bound to Okta ids.

use std::time::Duration;

use okta_connect_core::config::{BoundBy, Config, SourceKind};
use okta_connect_core::desired::OktaProfile;
use okta_connect_core::identity::{OktaGroup, OktaUser, OktaUserStatus};
use okta_connect_core::outcome::{Outcome, StepKind};
use okta_connect_core::ports::{IdentityError, Ledger};
use okta_connect_core::queue::Delivery;
use okta_connect_core::rules::NotRelevant;
use okta_connect_sync::{Disposition, Engine, NoIdentitySource, Report};
use okta_connect_testkit::fixtures;
use okta_connect_testkit::memory::{MemoryDirectory, MemoryIdentity, MemoryLedger, MemoryQueue};
use tokio::time::Instant;

use super::engine::{config, messages_of};

/// The fixtures' user (jane.doe@acme.example) and agents group.
const JANE: &str = "00uU4xlCTasJ0izQ7pGX";
const AGENTS: &str = "00g1c0nn3ctAgents0d7";

type Rig<I> = Engine<MemoryLedger, MemoryDirectory, MemoryQueue, I>;

/// An engine over the in-memory ledger, directory and dead-letter queue, with short
/// backoffs.
pub(crate) fn engine<I: okta_connect_core::ports::IdentitySource>(
    config: Config,
    identity: Option<I>,
) -> Rig<I> {
    let mut engine = Engine::new(
        config,
        MemoryLedger::new(),
        MemoryDirectory::new(),
        MemoryQueue::new(),
        identity,
    );
    engine.settings.first_backoff = Duration::from_millis(5);
    engine.settings.max_backoff = Duration::from_millis(20);
    engine.settings.safety_margin = Duration::from_millis(10);
    engine
}

fn jane(first: &str, last: &str) -> OktaUser {
    OktaUser {
        id: JANE.into(),
        status: OktaUserStatus::Active,
        profile: OktaProfile {
            login: "jane.doe@acme.example".into(),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            email: Some("jane.doe@acme.example".into()),
        },
    }
}

async fn process<I: okta_connect_core::ports::IdentitySource>(
    engine: &Rig<I>,
    delivery: &str,
    deadline: Duration,
) -> Vec<Report> {
    let messages: Vec<Delivery> = messages_of(delivery);
    engine
        .handle_batch(&messages, Instant::now() + deadline)
        .await
}

#[tokio::test]
async fn names_come_from_the_okta_profile_and_a_profile_edit_updates_them() {
    let identity = MemoryIdentity::new();
    identity.add_user(jane("Jane", "Doe-Okafor"));
    let engine = engine(config(), Some(identity));
    let reports = process(
        &engine,
        fixtures::GROUP_MEMBERSHIP_ADD,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        reports[0].disposition,
        Disposition::Done,
        "{:?}",
        reports[0]
    );
    let users = engine.directory.users();
    assert_eq!(users.len(), 1);
    assert_eq!(
        (
            users[0].identity.first_name.as_str(),
            users[0].identity.last_name.as_str()
        ),
        ("Jane", "Doe-Okafor"),
        "the Okta profile wins over the event's display name \"Jane Doe\""
    );

    // The edit's event names the changed attributes only; the value comes from the API.
    if let Some(identity) = &engine.identity {
        identity.add_user(jane("Jane", "Okafor"));
    }
    let reports = process(
        &engine,
        fixtures::USER_UPDATE_PROFILE,
        Duration::from_secs(5),
    )
    .await;
    let converged = reports[0].converged().expect("converged");
    assert_eq!(converged.steps, vec![StepKind::UpdateIdentity]);
    assert_eq!(engine.directory.users()[0].identity.last_name, "Okafor");
}

#[tokio::test]
async fn a_transient_okta_failure_is_retried_never_replaced_by_the_display_name() {
    let identity = MemoryIdentity::new();
    identity.add_user(jane("Janet", "Doe"));
    identity.fail_next(
        std::iter::repeat_with(|| IdentityError::Unavailable("503 from Okta".into())).take(200),
    );
    let engine = engine(config(), Some(identity));
    let reports = process(
        &engine,
        fixtures::GROUP_MEMBERSHIP_ADD,
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        reports[0].disposition,
        Disposition::Retry,
        "{:?}",
        reports[0]
    );
    assert!(
        engine.directory.users().is_empty(),
        "no Connect user under the display name while Okta is down"
    );

    // Okta answers again: the redelivery creates the user with the profile's names.
    let engine = Engine {
        identity: {
            let identity = MemoryIdentity::new();
            identity.add_user(jane("Janet", "Doe"));
            Some(identity)
        },
        ..engine
    };
    let reports = process(
        &engine,
        fixtures::GROUP_MEMBERSHIP_ADD,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        reports[0].disposition,
        Disposition::Done,
        "{:?}",
        reports[0]
    );
    assert_eq!(engine.directory.users()[0].identity.first_name, "Janet");
}

#[tokio::test]
async fn a_permanent_okta_refusal_dead_letters_with_the_reason() {
    let identity = MemoryIdentity::new();
    // Every call refused: resolving config.ini's names fails softly (names still match
    // by name), reading the user is the converge's own call and fails it.
    identity.fail_next(
        std::iter::repeat_with(|| {
            IdentityError::Denied("the service app lacks okta.users.read".into())
        })
        .take(10),
    );
    let engine = engine(config(), Some(identity));
    let reports = process(
        &engine,
        fixtures::GROUP_MEMBERSHIP_ADD,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(reports[0].disposition, Disposition::DeadLettered);
    assert!(
        reports[0]
            .reason()
            .unwrap_or_default()
            .contains("okta.users.read"),
        "{:?}",
        reports[0].reason()
    );
}

#[tokio::test]
async fn the_api_binds_a_configured_name_so_a_renamed_group_still_matches() {
    let identity = MemoryIdentity::new();
    identity.add_user(jane("Jane", "Doe"));
    identity.add_group(
        OktaGroup {
            id: AGENTS.into(),
            name: "amazon_connect".into(),
        },
        &[JANE.to_string()],
    );
    let engine = engine(config(), Some(identity));
    // The group was renamed in Okta before the event: its display name no longer
    // matches config.ini, its id does.
    let renamed = fixtures::GROUP_MEMBERSHIP_ADD.replace("\"amazon_connect\"", "\"CC Agents\"");
    let reports = process(&engine, &renamed, Duration::from_secs(5)).await;
    assert!(
        matches!(reports[0].outcome, Outcome::Converged { .. }),
        "{:?}",
        reports[0].outcome
    );
    let bindings = engine.ledger.source_bindings().await.unwrap();
    let agents = bindings
        .iter()
        .find(|b| b.kind == SourceKind::Group && b.name == "amazon_connect")
        .expect("bound");
    assert_eq!(
        (agents.id.as_str(), agents.bound_by),
        (AGENTS, BoundBy::Api)
    );
}

#[tokio::test]
async fn without_the_api_the_first_event_binds_the_name_and_later_renames_still_match() {
    let engine = engine(config(), None::<NoIdentitySource>);
    let reports = process(
        &engine,
        fixtures::GROUP_MEMBERSHIP_ADD,
        Duration::from_secs(5),
    )
    .await;
    assert!(matches!(reports[0].outcome, Outcome::Converged { .. }));
    let bindings = engine.ledger.source_bindings().await.unwrap();
    assert!(
        bindings
            .iter()
            .any(|b| b.id == AGENTS && b.bound_by == BoundBy::Event),
        "{bindings:?}"
    );
    assert_eq!(engine.directory.users().len(), 1);

    // Renamed in Okta, then the member removed: the removal still revokes.
    engine.sources.invalidate().await;
    let removal = fixtures::GROUP_MEMBERSHIP_REMOVE.replace("\"amazon_connect\"", "\"CC Agents\"");
    let reports = process(&engine, &removal, Duration::from_secs(5)).await;
    let converged = reports[0].converged().expect("converged");
    assert_eq!(converged.steps, vec![StepKind::Delete]);
    assert!(engine.directory.users().is_empty());

    // A different group that took the old name is not ours, and says why.
    let impostor = fixtures::GROUP_MEMBERSHIP_ADD
        .replace(AGENTS, "00gImpostorTookName1")
        .replace("adf104eb", "bdf104eb");
    let reports = process(&engine, &impostor, Duration::from_secs(5)).await;
    assert!(
        matches!(
            &reports[0].outcome,
            Outcome::NotRelevant {
                reason: NotRelevant::NameBoundElsewhere { .. }
            }
        ),
        "{:?}",
        reports[0].outcome
    );
}
