use proptest::prelude::*;

use super::*;
use crate::config::{ConnectId, SourceKind};
use crate::fact::{Assertion, Fact, SourceRef, UserSnapshot};
use crate::fixtures;
use crate::outcome::StepKind;
use crate::plan::{Change, ConnectUser, Step, plan};
use crate::time::UnixMillis;

const AGENTS: (&str, &str) = ("00g1c0nn3ctAgents0d7", "amazon_connect");
const SUPERVISORS: (&str, &str) = ("00g1c0nn3ctSup3rv1s7", "connect_supervisors");
const FINANCE: (&str, &str) = ("00g1f1nanc3Gr0up00d7", "Finance");
const CONNECT_APP: (&str, &str) = ("0oa1awsF3d3rat10n0d7", "AWS Account Federation");

fn config_with(replace: &[(&str, &str)]) -> Config {
    let mut text = fixtures::CONFIG_INI.to_string();
    for (from, to) in replace {
        assert!(text.contains(from), "{from}");
        text = text.replace(from, to);
    }
    Config::from_ini(&text).unwrap()
}

fn config() -> Config {
    config_with(&[])
}

fn fact(n: u32, at: i64, assertion: Assertion) -> Fact {
    Fact {
        okta_user_id: "00u1jane".into(),
        event_uuid: format!("uuid-{n:04}"),
        published: UnixMillis(at),
        subject: UserSnapshot {
            login: Some("jane.doe@acme.example".into()),
            display_name: Some("Doe, Jane".into()),
        },
        assertion,
    }
}

fn group(n: u32, at: i64, (id, name): (&str, &str), member: bool) -> Fact {
    fact(
        n,
        at,
        Assertion::Membership {
            source: SourceRef {
                kind: SourceKind::Group,
                id: id.into(),
                name: Some(name.into()),
            },
            member,
        },
    )
}

fn app(n: u32, at: i64, (id, name): (&str, &str), member: bool) -> Fact {
    fact(
        n,
        at,
        Assertion::Membership {
            source: SourceRef {
                kind: SourceKind::App,
                id: id.into(),
                name: Some(name.into()),
            },
            member,
        },
    )
}

fn status(n: u32, at: i64, status: OktaStatus) -> Fact {
    fact(n, at, Assertion::Status { status })
}

fn desired(facts: &[Fact], config: &Config) -> Desired {
    desired_user(
        &UserFacts::from_facts("00u1jane", facts.iter().cloned()),
        None,
        config,
    )
    .unwrap()
}

/// `mapping:<name>`, `revoked:<why>:<policy>` or `unmanaged`, for the table.
fn summary(d: &Desired) -> String {
    match d {
        Desired::Present(u) => format!("mapping:{}", u.mapping),
        Desired::Revoked {
            removal, because, ..
        } => {
            let policy = match removal {
                RemovalPolicy::Delete => "delete",
                RemovalPolicy::NoPermission { .. } => "no_permission",
                RemovalPolicy::Ignore => "ignore",
            };
            format!("revoked:{because:?}:{policy}")
        }
        Desired::Unmanaged => "unmanaged".into(),
    }
}

#[test]
fn desired_state_table() {
    use OktaStatus::*;
    let no_permission =
        config_with(&[("REMOVAL_POLICY = DELETE", "REMOVAL_POLICY = NO_PERMISSION")]);
    let ignore = config_with(&[("REMOVAL_POLICY = DELETE", "REMOVAL_POLICY = IGNORE")]);
    let seed = Config::from_ini(fixtures::SEED_CONFIG_INI).unwrap();
    let d = config();
    let table: Vec<(&str, Vec<Fact>, &Config, &str)> = vec![
        ("nothing known", vec![], &d, "unmanaged"),
        (
            "lifecycle alone manages nobody",
            vec![status(1, 1, Deactivated)],
            &d,
            "unmanaged",
        ),
        (
            "profile alone manages nobody",
            vec![fact(
                1,
                1,
                Assertion::ProfileChanged {
                    changed_attributes: vec![],
                },
            )],
            &d,
            "unmanaged",
        ),
        (
            "unmapped group manages nobody",
            vec![group(1, 1, FINANCE, true)],
            &d,
            "unmanaged",
        ),
        (
            "added to the agents group",
            vec![group(1, 1, AGENTS, true)],
            &d,
            "mapping:default",
        ),
        (
            "assigned the Connect app",
            vec![app(1, 1, CONNECT_APP, true)],
            &d,
            "mapping:default",
        ),
        (
            "both: supervisors outranks default",
            vec![group(1, 1, AGENTS, true), group(2, 2, SUPERVISORS, true)],
            &d,
            "mapping:supervisors",
        ),
        (
            "priority, not arrival, decides",
            vec![group(2, 2, SUPERVISORS, true), group(1, 9, AGENTS, true)],
            &d,
            "mapping:supervisors",
        ),
        (
            "left supervisors, still an agent",
            vec![
                group(1, 1, AGENTS, true),
                group(2, 2, SUPERVISORS, true),
                group(3, 3, SUPERVISORS, false),
            ],
            &d,
            "mapping:default",
        ),
        (
            "removed from the only group",
            vec![group(1, 1, AGENTS, true), group(2, 2, AGENTS, false)],
            &d,
            "revoked:NoMapping:delete",
        ),
        (
            "removal arriving first still wins",
            vec![group(2, 2, AGENTS, false), group(1, 1, AGENTS, true)],
            &d,
            "revoked:NoMapping:delete",
        ),
        (
            "a late old removal loses",
            vec![group(2, 2, AGENTS, true), group(1, 1, AGENTS, false)],
            &d,
            "mapping:default",
        ),
        (
            "removed from group, app still grants",
            vec![
                group(1, 1, AGENTS, true),
                app(2, 1, CONNECT_APP, true),
                group(3, 2, AGENTS, false),
            ],
            &d,
            "mapping:default",
        ),
        (
            "removed from group, then app added",
            vec![
                group(1, 1, AGENTS, true),
                group(2, 2, AGENTS, false),
                app(3, 3, CONNECT_APP, true),
            ],
            &d,
            "mapping:default",
        ),
        (
            "removed from both",
            vec![
                group(1, 1, AGENTS, true),
                app(2, 1, CONNECT_APP, true),
                group(3, 2, AGENTS, false),
                app(4, 3, CONNECT_APP, false),
            ],
            &d,
            "revoked:NoMapping:delete",
        ),
        (
            "deactivated",
            vec![group(1, 1, AGENTS, true), status(2, 2, Deactivated)],
            &d,
            "revoked:Deactivated:delete",
        ),
        (
            "suspended",
            vec![group(1, 1, AGENTS, true), status(2, 2, Suspended)],
            &d,
            "revoked:Suspended:no_permission",
        ),
        (
            "deactivated then reactivated",
            vec![
                group(1, 1, AGENTS, true),
                status(2, 2, Deactivated),
                status(3, 3, Active),
            ],
            &d,
            "mapping:default",
        ),
        (
            "reactivation arriving before deactivation",
            vec![
                status(3, 3, Active),
                group(1, 1, AGENTS, true),
                status(2, 2, Deactivated),
            ],
            &d,
            "mapping:default",
        ),
        (
            "old reactivation, newer suspension",
            vec![
                group(1, 1, AGENTS, true),
                status(3, 5, Suspended),
                status(2, 4, Active),
            ],
            &d,
            "revoked:Suspended:no_permission",
        ),
        (
            "deactivated even if added later",
            vec![status(1, 1, Deactivated), group(2, 2, AGENTS, true)],
            &d,
            "revoked:Deactivated:delete",
        ),
        (
            "removal policy NO_PERMISSION",
            vec![group(1, 1, AGENTS, true), group(2, 2, AGENTS, false)],
            &no_permission,
            "revoked:NoMapping:no_permission",
        ),
        (
            "deactivation under NO_PERMISSION",
            vec![group(1, 1, AGENTS, true), status(2, 2, Deactivated)],
            &no_permission,
            "revoked:Deactivated:no_permission",
        ),
        (
            "removal policy IGNORE",
            vec![group(1, 1, AGENTS, true), group(2, 2, AGENTS, false)],
            &ignore,
            "revoked:NoMapping:ignore",
        ),
        (
            "seed config: supervisors group is unmapped",
            vec![group(1, 1, SUPERVISORS, true)],
            &seed,
            "unmanaged",
        ),
        (
            "seed config: the app grants",
            vec![app(1, 1, CONNECT_APP, true)],
            &seed,
            "mapping:default",
        ),
        (
            "same instant: uuid breaks the tie",
            vec![group(2, 5, AGENTS, false), group(1, 5, AGENTS, true)],
            &d,
            "revoked:NoMapping:delete",
        ),
    ];
    for (case, facts, config, expected) in table {
        assert_eq!(summary(&desired(&facts, config)), expected, "{case}");
        // Any arrival order gives the same answer.
        let reversed: Vec<Fact> = facts.iter().rev().cloned().collect();
        assert_eq!(
            summary(&desired(&reversed, config)),
            expected,
            "{case} (reversed)"
        );
    }
}

#[test]
fn present_user_carries_the_winning_mappings_profiles_and_names() {
    let Desired::Present(user) = desired(&[group(1, 1, SUPERVISORS, true)], &config()) else {
        panic!()
    };
    let id = |s: &str| ConnectId::parse(s).unwrap();
    assert_eq!(user.username, "jane.doe@acme.example");
    assert_eq!(
        user.identity,
        IdentityInfo {
            first_name: "Jane".into(),
            last_name: "Doe".into(),
            email: None
        }
    );
    assert_eq!(
        user.routing_profile_id,
        id("5b3c0f3e-8a31-4d2a-9a61-2f1d3c7e9b10")
    );
    assert_eq!(
        user.security_profile_ids,
        vec![
            id("a1b2c3d4-0000-4000-8000-00000000abcd"),
            id("65345678-1234-2345-abd8-0aa7f5b46852")
        ]
    );
    assert_eq!(
        user.hierarchy_group_id,
        Some(id("f0e1d2c3-b4a5-4697-8899-aabbccddeeff"))
    );
}

#[test]
fn okta_profile_names_win_over_display_name_and_email_is_a_switch() {
    let facts = UserFacts::from_facts("00u1jane", [group(1, 1, AGENTS, true)]);
    let profile = OktaProfile {
        login: "jane.doe@acme.example".into(),
        first_name: Some("Janet".into()),
        last_name: Some("Doe-Smith".into()),
        email: Some("janet@acme.example".into()),
    };
    let with_email = config_with(&[("SEND_EMAIL = false", "SEND_EMAIL = true")]);
    let Desired::Present(user) = desired_user(&facts, Some(&profile), &with_email).unwrap() else {
        panic!()
    };
    assert_eq!(
        user.identity,
        IdentityInfo {
            first_name: "Janet".into(),
            last_name: "Doe-Smith".into(),
            email: Some("janet@acme.example".into())
        }
    );
    let Desired::Present(user) = desired_user(&facts, None, &with_email).unwrap() else {
        panic!()
    };
    assert_eq!(
        user.identity.email.as_deref(),
        Some("jane.doe@acme.example"),
        "login as email fallback"
    );
    let Desired::Present(user) = desired_user(&facts, Some(&profile), &config()).unwrap() else {
        panic!()
    };
    assert_eq!(user.identity.email, None);
    let local = config_with(&[(
        "USERNAME_SOURCE = LOGIN",
        "USERNAME_SOURCE = LOGIN_LOCAL_PART",
    )]);
    let Desired::Present(user) = desired_user(&facts, None, &local).unwrap() else {
        panic!()
    };
    assert_eq!(user.username, "jane.doe");
}

#[test]
fn a_username_connect_rejects_fails_only_when_the_user_must_exist() {
    let mut add = group(1, 1, AGENTS, true);
    add.subject.login = Some("sam+connect@acme.example".into());
    let facts = UserFacts::from_facts("00u1", [add.clone()]);
    assert!(matches!(
        desired_user(&facts, None, &config()),
        Err(UsernameError::BadCharacter { bad: '+', .. })
    ));
    let mut remove = group(2, 2, AGENTS, false);
    remove.subject = add.subject.clone();
    let facts = UserFacts::from_facts("00u1", [add, remove]);
    assert_eq!(
        desired_user(&facts, None, &config()),
        Ok(Desired::Unmanaged)
    );
}

fn connect_user(d: &DesiredUser) -> ConnectUser {
    ConnectUser {
        id: "cu-1".into(),
        arn: None,
        username: d.username.clone(),
        identity: d.identity.clone(),
        routing_profile_id: d.routing_profile_id.to_string(),
        security_profile_ids: d
            .security_profile_ids
            .iter()
            .rev()
            .map(|s| s.to_string())
            .collect(),
        hierarchy_group_id: d.hierarchy_group_id.as_ref().map(|h| h.to_string()),
        tags: crate::ownership::tags_for("00u1", d),
    }
}

#[test]
fn plan_applies_only_the_difference() {
    let config = config();
    let want = desired(&[group(1, 1, SUPERVISORS, true)], &config);
    let Desired::Present(user) = &want else {
        panic!()
    };
    assert_eq!(
        plan("00u1", &want, None, false),
        vec![Step::Create(user.clone())]
    );
    let same = connect_user(user);
    assert_eq!(
        plan("00u1", &want, Some(&same), false),
        vec![],
        "order of security profiles is irrelevant"
    );

    let mut drifted = same.clone();
    drifted.routing_profile_id = "87654321-69fb-43b6-a5e6-f8666ac189cb".into();
    drifted.security_profile_ids = vec!["12345678-1234-2345-abd8-0aa7f5b46852".into()];
    drifted.identity.last_name = "Old".into();
    drifted.hierarchy_group_id = None;
    let names: Vec<StepKind> = plan("00u1", &want, Some(&drifted), false)
        .iter()
        .map(Step::kind)
        .collect();
    assert_eq!(
        names,
        // Access first: a failure part-way never leaves more access than before.
        [
            StepKind::UpdateSecurityProfiles,
            StepKind::UpdateRoutingProfile,
            StepKind::UpdateHierarchy,
            StepKind::UpdateIdentity,
        ]
    );

    let mut with_email = same.clone();
    with_email.identity.email = Some("set-by-admin@acme.example".into());
    assert_eq!(
        plan("00u1", &want, Some(&with_email), false),
        vec![],
        "email left alone when not managed"
    );
    let names: Vec<StepKind> = plan("00u1", &want, Some(&with_email), true)
        .iter()
        .map(Step::kind)
        .collect();
    assert_eq!(
        names,
        [StepKind::UpdateIdentity],
        "email cleared when managed and Okta has none"
    );
}

#[test]
fn plan_tags_an_adopted_user_and_retags_a_changed_mapping() {
    let config = config();
    let want = desired(&[group(1, 1, SUPERVISORS, true)], &config);
    let Desired::Present(user) = &want else {
        panic!()
    };
    let mut untagged = connect_user(user);
    untagged.tags = [("cost-centre".to_string(), "cc-7".to_string())].into();
    assert_eq!(
        plan("00u1", &want, Some(&untagged), false),
        vec![Step::Update(Change::Tags {
            tags: crate::ownership::tags_for("00u1", user)
        })],
        "an adopted user gets the ownership tags; its own tags stay (TagResource merges)"
    );
    let mut other_mapping = connect_user(user);
    other_mapping
        .tags
        .insert(crate::ownership::MAPPING_TAG.into(), "default".into());
    assert_eq!(
        plan("00u1", &want, Some(&other_mapping), false),
        vec![Step::Update(Change::Tags {
            tags: [(
                crate::ownership::MAPPING_TAG.to_string(),
                user.mapping.clone()
            )]
            .into()
        })]
    );
}

#[test]
fn plan_for_revoked_users_follows_the_removal_policy() {
    let facts = [group(1, 1, AGENTS, true), group(2, 2, AGENTS, false)];
    let present = desired(&[group(1, 1, AGENTS, true)], &config());
    let Desired::Present(user) = &present else {
        panic!()
    };
    let existing = connect_user(user);

    let delete = desired(&facts, &config());
    assert_eq!(
        plan("00u1", &delete, Some(&existing), false),
        vec![Step::Delete]
    );
    assert_eq!(plan("00u1", &delete, None, false), vec![], "already gone");

    let np = config_with(&[("REMOVAL_POLICY = DELETE", "REMOVAL_POLICY = NO_PERMISSION")]);
    let revoke = desired(&facts, &np);
    let only = vec![ConnectId::parse("e3b0c442-98fc-4c14-9afb-f4c8996fb924").unwrap()];
    assert_eq!(
        plan("00u1", &revoke, Some(&existing), false),
        vec![Step::Update(Change::SecurityProfiles {
            security_profile_ids: only.clone()
        })]
    );
    let mut parked = existing.clone();
    parked.security_profile_ids = vec![only[0].to_string()];
    assert_eq!(
        plan("00u1", &revoke, Some(&parked), false),
        vec![],
        "already parked"
    );
    assert_eq!(
        plan("00u1", &revoke, None, false),
        vec![],
        "never create a parked user"
    );

    let ignore = config_with(&[("REMOVAL_POLICY = DELETE", "REMOVAL_POLICY = IGNORE")]);
    assert_eq!(
        plan("00u1", &desired(&facts, &ignore), Some(&existing), false),
        vec![]
    );
    assert_eq!(
        plan("00u1", &Desired::Unmanaged, Some(&existing), false),
        vec![]
    );
}

fn any_fact() -> impl Strategy<Value = Fact> {
    let sources = prop::sample::select(vec![AGENTS, SUPERVISORS, FINANCE]);
    (
        0u32..1000,
        0i64..20,
        prop_oneof![
            (sources, any::<bool>()).prop_map(|(s, m)| (Some((s, m)), None)),
            prop::sample::select(vec![
                OktaStatus::Active,
                OktaStatus::Suspended,
                OktaStatus::Deactivated
            ])
            .prop_map(|s| (None, Some(s))),
        ],
    )
        .prop_map(|(n, at, kind)| match kind {
            (Some((source, member)), _) => group(n, at, source, member),
            (None, Some(s)) => status(n, at, s),
            (None, None) => status(n, at, OktaStatus::Active),
        })
}

proptest! {
    /// Duplicates and any delivery order give the same desired user.
    #[test]
    fn desired_state_ignores_order_and_duplicates(facts in prop::collection::vec(any_fact(), 0..12), seed in any::<u64>()) {
        let config = config();
        let expected = desired(&facts, &config);
        let mut shuffled: Vec<Fact> = facts.iter().chain(facts.iter().take(3)).cloned().collect();
        // A deterministic shuffle from the seed keeps failures reproducible.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(desired(&shuffled, &config), expected);
    }
}

#[test]
fn a_hierarchy_group_the_pipeline_set_is_cleared_when_the_mapping_has_none() {
    use crate::ownership::{HIERARCHY_TAG, MAPPING_TAG, OKTA_USER_TAG};
    let config = Config::from_ini(fixtures::CONFIG_INI).unwrap();
    // An agent (the default mapping has no hierarchy group).
    let Desired::Present(agent) = desired(&[group(1, 1, AGENTS, true)], &config) else {
        panic!("an agent");
    };
    assert_eq!(agent.hierarchy_group_id, None);
    let user = |hierarchy: Option<&str>, tagged: Option<&str>| ConnectUser {
        id: "c1".into(),
        arn: None,
        username: agent.username.clone(),
        identity: agent.identity.clone(),
        routing_profile_id: agent.routing_profile_id.to_string(),
        security_profile_ids: agent
            .security_profile_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
        hierarchy_group_id: hierarchy.map(String::from),
        tags: [(OKTA_USER_TAG, "00u1"), (MAPPING_TAG, "default")]
            .into_iter()
            .chain(tagged.map(|t| (HIERARCHY_TAG, t)))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let present = Desired::Present(agent.clone());
    let supervisors_group = "f0e1d2c3-b4a5-4697-8899-aabbccddeeff";
    // Demoted from supervisor: the group the pipeline set (and tagged) is left.
    assert_eq!(
        plan(
            "00u1",
            &present,
            Some(&user(Some(supervisors_group), Some(supervisors_group))),
            false
        ),
        vec![Step::Update(Change::Hierarchy {
            hierarchy_group_id: None
        })]
    );
    // A group an admin chose by hand (untagged, or another than the tagged one) stays.
    assert_eq!(
        plan(
            "00u1",
            &present,
            Some(&user(Some(supervisors_group), None)),
            false
        ),
        vec![]
    );
    assert_eq!(
        plan(
            "00u1",
            &present,
            Some(&user(
                Some("aaaaaaaa-b4a5-4697-8899-aabbccddeeff"),
                Some(supervisors_group)
            )),
            false
        ),
        vec![]
    );
    // A supervisor gets the group and the tag that says the pipeline set it.
    let supervisor = Desired::Present(DesiredUser {
        hierarchy_group_id: Some(ConnectId::parse(supervisors_group).unwrap()),
        mapping: "supervisors".into(),
        ..agent.clone()
    });
    let steps = plan("00u1", &supervisor, Some(&user(None, None)), false);
    assert_eq!(
        steps[0],
        Step::Update(Change::Hierarchy {
            hierarchy_group_id: Some(ConnectId::parse(supervisors_group).unwrap())
        })
    );
    let Some(Step::Update(Change::Tags { tags })) = steps.last() else {
        panic!("tags last: {steps:?}");
    };
    assert_eq!(
        tags.get(HIERARCHY_TAG).map(String::as_str),
        Some(supervisors_group)
    );
}
