//! Which Connect users the engine may act on: its own (remembered or tagged), adopted
//! untagged ones, never another Okta user's; and what a changed login does.

use std::time::Duration;

use okta_connect_core::config::Config;
use okta_connect_core::desired::{IdentityInfo, OktaProfile};
use okta_connect_core::identity::{OktaUser, OktaUserStatus};
use okta_connect_core::outcome::StepKind;
use okta_connect_core::ownership::{MAPPING_TAG, OKTA_USER_TAG};
use okta_connect_core::plan::ConnectUser;
use okta_connect_core::ports::Ledger;
use okta_connect_sync::{Disposition, Engine, NoIdentitySource, Report};
use okta_connect_testkit::fixtures;
use okta_connect_testkit::memory::{MemoryDirectory, MemoryIdentity, MemoryLedger, MemoryQueue};
use tokio::time::Instant;

use super::engine::{config, messages_of};
use super::identity::engine;

/// The fixtures' user: jane.doe@acme.example, added to / removed from the agents group.
const JANE: &str = "00uU4xlCTasJ0izQ7pGX";
const LOGIN: &str = "jane.doe@acme.example";
const AGENT_ROUTING: &str = "87654321-69fb-43b6-a5e6-f8666ac189cb";

async fn process<L, I>(
    engine: &Engine<L, MemoryDirectory, MemoryQueue, I>,
    delivery: &str,
) -> Report
where
    L: Ledger,
    I: okta_connect_core::ports::IdentitySource,
{
    let messages = messages_of(delivery);
    let mut reports = engine
        .handle_batch(&messages, Instant::now() + Duration::from_secs(5))
        .await;
    reports.remove(0)
}

/// A Connect user made outside the pipeline, with `tags`.
fn existing(username: &str, tags: &[(&str, &str)]) -> ConnectUser {
    ConnectUser {
        id: String::new(),
        arn: None,
        username: username.into(),
        identity: IdentityInfo {
            first_name: "Hand".into(),
            last_name: "Made".into(),
            email: None,
        },
        routing_profile_id: "00000000-0000-4000-8000-000000000001".into(),
        security_profile_ids: vec!["00000000-0000-4000-8000-000000000002".into()],
        hierarchy_group_id: None,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// The fixtures' config with one `[Sync]` key set, the way the Lambdas get overrides.
fn config_with(key: &str, value: &str) -> Config {
    Config::parse(
        fixtures::CONFIG_INI,
        [(format!("OKTA_CONNECT__SYNC__{key}"), value.to_string())],
    )
    .unwrap()
}

#[tokio::test]
async fn created_users_carry_the_okta_id_and_mapping_tags() {
    let engine = engine(config(), None::<NoIdentitySource>);
    let report = process(&engine, fixtures::GROUP_MEMBERSHIP_ADD).await;
    assert_eq!(report.disposition, Disposition::Done, "{report:?}");
    let user = &engine.directory.users()[0];
    assert_eq!(user.tags.get(OKTA_USER_TAG).map(String::as_str), Some(JANE));
    assert_eq!(
        user.tags.get(MAPPING_TAG).map(String::as_str),
        Some("default")
    );
}

#[tokio::test]
async fn an_untagged_user_with_the_login_is_adopted_and_its_own_tags_kept() {
    let engine = engine(config(), None::<NoIdentitySource>);
    let id = engine
        .directory
        .insert(existing(LOGIN, &[("cost-centre", "cc-7")]));
    let report = process(&engine, fixtures::GROUP_MEMBERSHIP_ADD).await;
    let converged = report.converged().unwrap_or_else(|| panic!("{report:?}"));
    assert_eq!(converged.connect_user_id.as_deref(), Some(id.as_str()));
    assert!(converged.steps.contains(&StepKind::UpdateTags));
    let users = engine.directory.users();
    assert_eq!(users.len(), 1, "adopted, not created twice");
    assert_eq!(users[0].routing_profile_id, AGENT_ROUTING);
    assert_eq!(
        users[0].tags.get(OKTA_USER_TAG).map(String::as_str),
        Some(JANE)
    );
    assert_eq!(
        users[0].tags.get("cost-centre").map(String::as_str),
        Some("cc-7")
    );
    let record = engine.ledger.user_record(JANE).await.unwrap();
    assert_eq!(record.connect_user_id, Some(id));
}

#[tokio::test]
async fn without_adoption_an_untagged_user_is_a_conflict_and_left_alone() {
    let engine = engine(
        config_with("ADOPT_EXISTING_USERS", "false"),
        None::<NoIdentitySource>,
    );
    engine.directory.insert(existing(LOGIN, &[]));
    let report = process(&engine, fixtures::GROUP_MEMBERSHIP_ADD).await;
    assert_eq!(report.disposition, Disposition::DeadLettered, "{report:?}");
    assert!(
        report
            .reason()
            .unwrap_or_default()
            .contains("ADOPT_EXISTING_USERS")
    );
    assert_eq!(engine.directory.users()[0].identity.first_name, "Hand");
}

#[tokio::test]
async fn a_user_tagged_for_another_okta_user_is_never_touched() {
    // A rehire: the login belonged to someone who left, whose Connect user still exists.
    let engine = engine(config(), None::<NoIdentitySource>);
    let before = existing(LOGIN, &[(OKTA_USER_TAG, "00uLeaver000000000001")]);
    engine.directory.insert(before.clone());
    let report = process(&engine, fixtures::GROUP_MEMBERSHIP_ADD).await;
    assert_eq!(report.disposition, Disposition::DeadLettered, "{report:?}");
    let reason = report.reason().unwrap_or_default().to_string();
    assert!(
        reason.contains("00uLeaver000000000001") && reason.contains(JANE),
        "{reason}"
    );
    // And a removal for the new hire never deletes the leaver's user.
    let report = process(&engine, fixtures::GROUP_MEMBERSHIP_REMOVE).await;
    assert_eq!(report.disposition, Disposition::Done, "{report:?}");
    let users = engine.directory.users();
    assert_eq!(users.len(), 1);
    assert_eq!(
        (
            users[0].identity.first_name.as_str(),
            users[0].tags.get(OKTA_USER_TAG).map(String::as_str)
        ),
        ("Hand", Some("00uLeaver000000000001"))
    );
}

#[tokio::test]
async fn revocation_finds_the_user_by_tag_never_by_username_alone() {
    let engine = engine(config(), None::<NoIdentitySource>);
    // Untagged, same login: not the pipeline's, so a removal leaves it.
    engine.directory.insert(existing(LOGIN, &[]));
    let report = process(&engine, fixtures::GROUP_MEMBERSHIP_REMOVE).await;
    assert_eq!(report.converged().map(|c| c.steps.clone()), Some(vec![]));
    assert_eq!(engine.directory.users().len(), 1);

    // Tagged for this Okta user but never remembered (the ledger was lost): found by tag.
    let engine = engine_with_tagged();
    let report = process(&engine, fixtures::GROUP_MEMBERSHIP_REMOVE).await;
    assert_eq!(
        report.converged().map(|c| c.steps.clone()),
        Some(vec![StepKind::Delete]),
        "{report:?}"
    );
    assert!(engine.directory.users().is_empty());
}

fn engine_with_tagged() -> Engine<MemoryLedger, MemoryDirectory, MemoryQueue, NoIdentitySource> {
    let engine = engine(config(), None::<NoIdentitySource>);
    engine.directory.insert(existing(
        "jane.old-login@acme.example",
        &[(OKTA_USER_TAG, JANE)],
    ));
    engine
}

fn jane_in_okta(login: &str) -> MemoryIdentity {
    let identity = MemoryIdentity::new();
    identity.add_user(OktaUser {
        id: JANE.into(),
        status: OktaUserStatus::Active,
        profile: OktaProfile {
            login: login.into(),
            first_name: Some("Jane".into()),
            last_name: Some("Doe".into()),
            email: Some(login.into()),
        },
    });
    identity
}

#[tokio::test]
async fn a_changed_login_revokes_the_old_user_and_creates_the_new_one() {
    let engine = engine(config(), Some(jane_in_okta(LOGIN)));
    process(&engine, fixtures::GROUP_MEMBERSHIP_ADD).await;
    let old_id = engine.directory.users()[0].id.clone();

    // Okta renames the login; the next event for the user (a profile edit) converges.
    let engine = Engine {
        identity: Some(jane_in_okta("jane.okafor@acme.example")),
        ..engine
    };
    let report = process(&engine, fixtures::USER_UPDATE_PROFILE).await;
    let converged = report.converged().unwrap_or_else(|| panic!("{report:?}"));
    assert_eq!(converged.steps, vec![StepKind::Delete, StepKind::Create]);
    let users = engine.directory.users();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].username, "jane.okafor@acme.example");
    assert_ne!(users[0].id, old_id);
    let record = engine.ledger.user_record(JANE).await.unwrap();
    assert_eq!(
        record.connect_user_id.as_deref(),
        Some(users[0].id.as_str())
    );

    // Removed from the group later: the new user is revoked.
    let report = process(&engine, fixtures::GROUP_MEMBERSHIP_REMOVE).await;
    assert_eq!(
        report.converged().map(|c| c.steps.clone()),
        Some(vec![StepKind::Delete])
    );
    assert!(engine.directory.users().is_empty());
}

#[tokio::test]
async fn on_login_change_fail_leaves_both_names_to_an_admin() {
    let engine = engine(
        config_with("ON_LOGIN_CHANGE", "FAIL"),
        Some(jane_in_okta(LOGIN)),
    );
    process(&engine, fixtures::GROUP_MEMBERSHIP_ADD).await;
    let engine = Engine {
        identity: Some(jane_in_okta("jane.okafor@acme.example")),
        ..engine
    };
    let report = process(&engine, fixtures::USER_UPDATE_PROFILE).await;
    assert_eq!(report.disposition, Disposition::DeadLettered, "{report:?}");
    assert_eq!(engine.directory.users()[0].username, LOGIN);
}

#[tokio::test]
async fn a_revocation_acts_on_the_owned_user_whatever_its_username() {
    let engine = engine(config(), Some(jane_in_okta(LOGIN)));
    process(&engine, fixtures::GROUP_MEMBERSHIP_ADD).await;
    // The login changed in Okta, then the user was removed: the old-named user goes.
    let engine = Engine {
        identity: Some(jane_in_okta("jane.okafor@acme.example")),
        ..engine
    };
    let report = process(&engine, fixtures::GROUP_MEMBERSHIP_REMOVE).await;
    assert_eq!(
        report.converged().map(|c| c.steps.clone()),
        Some(vec![StepKind::Delete]),
        "{report:?}"
    );
    assert!(engine.directory.users().is_empty());
}

#[tokio::test]
async fn a_deactivation_without_membership_facts_still_revokes_the_owned_user() {
    // Jane joined the group before go-live (no membership event was ever seen) and a
    // reconcile gave her a tagged Connect user; then Okta deactivates her.
    let tagged = engine_with_tagged();
    let report = process(&tagged, fixtures::USER_LIFECYCLE_DEACTIVATE).await;
    assert_eq!(
        report.converged().map(|c| c.steps.clone()),
        Some(vec![StepKind::Delete]),
        "{report:?}"
    );
    assert!(tagged.directory.users().is_empty());

    // Someone else's (untagged) Connect user under the same login is never revoked.
    let other = engine(config(), None::<NoIdentitySource>);
    other.directory.insert(existing(LOGIN, &[]));
    let report = process(&other, fixtures::USER_LIFECYCLE_DEACTIVATE).await;
    assert_eq!(report.converged().map(|c| c.steps.clone()), Some(vec![]));
    assert_eq!(other.directory.users().len(), 1);
}
