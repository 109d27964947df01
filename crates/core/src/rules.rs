//! From one Okta event to the fact it asserts about one Okta user, or why it asserts
//! nothing this pipeline cares about.
//!
//! Each event is judged on its own: one event that matches nothing never affects the
//! others of its delivery (the original sample reset its list of users on every
//! non-matching target), and an event type is relevant only if it is one of the types
//! named here (the sample's type test was always true).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{Config, SourceKind, same_name};
use crate::fact::{Assertion, Fact, OktaStatus, SourceRef, UserSnapshot};
use crate::okta::OktaEvent;

/// Why an event asserts nothing for this pipeline. Final: the same event will never
/// become relevant, so it is recorded and never retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "detail", rename_all = "snake_case")]
pub enum NotRelevant {
    /// Not a membership, lifecycle or profile event.
    OtherEventType(String),
    /// Okta reports the action failed, so nothing changed.
    FailedOutcome(String),
    /// A membership event for a group no mapping names.
    OtherGroup(String),
    /// A membership event for an app no mapping names.
    OtherApp(String),
    /// The group or app has a configured name, but that name is bound to another Okta
    /// id: another group took the name after a rename, or the binding is stale.
    NameBoundElsewhere {
        kind: SourceKind,
        name: String,
        id: String,
        bound_id: String,
    },
    /// No `User` target with an id: nobody to apply it to.
    NoUserTarget,
    /// A membership event without its group/app target.
    NoSourceTarget,
}

impl fmt::Display for NotRelevant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotRelevant::OtherEventType(t) => {
                write!(f, "event type {t} is not one this pipeline acts on")
            }
            NotRelevant::FailedOutcome(r) => write!(f, "Okta reports the action failed ({r})"),
            NotRelevant::OtherGroup(g) => write!(f, "group {g:?} is in no mapping"),
            NotRelevant::OtherApp(a) => write!(f, "app {a:?} is in no mapping"),
            NotRelevant::NameBoundElsewhere {
                kind,
                name,
                id,
                bound_id,
            } => write!(
                f,
                "{kind} {name:?} is {id}, but the configured name {name:?} is bound to {bound_id} \
                 (configure the id you mean in config.ini)"
            ),
            NotRelevant::NoUserTarget => f.write_str("event has no User target"),
            NotRelevant::NoSourceTarget => {
                f.write_str("membership event has no group or app target")
            }
        }
    }
}

/// What one event means here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    Fact(Fact),
    NotRelevant(NotRelevant),
}

/// Okta lifecycle event types and the status each leaves the user in.
const LIFECYCLE: &[(&str, OktaStatus)] = &[
    ("user.lifecycle.activate", OktaStatus::Active),
    ("user.lifecycle.reactivate", OktaStatus::Active),
    ("user.lifecycle.unsuspend", OktaStatus::Active),
    ("user.lifecycle.suspend", OktaStatus::Suspended),
    ("user.lifecycle.deactivate", OktaStatus::Deactivated),
    // Okta deletes only deactivated users; the event can still arrive first.
    ("user.lifecycle.delete.initiated", OktaStatus::Deleted),
];

/// The profile-update event type.
pub const PROFILE_UPDATE: &str = "user.account.update_profile";

/// Every event type [`classify`] can turn into a fact under `config`: what an Okta
/// event hook should subscribe to.
pub fn relevant_event_types(config: &Config) -> Vec<String> {
    let e = &config.events;
    let mut types: Vec<String> = [&e.group_add, &e.group_remove, &e.app_add, &e.app_remove]
        .into_iter()
        .cloned()
        .chain(LIFECYCLE.iter().map(|(t, _)| (*t).to_string()))
        .chain([PROFILE_UPDATE.to_string()])
        .collect();
    types.dedup();
    types
}

/// Classifies one event under `config`. Pure; never fails: an event that cannot be
/// used is [`Classification::NotRelevant`] with the reason.
pub fn classify(event: &OktaEvent, config: &Config) -> Classification {
    let kind = event.event_type.as_str();
    let e = &config.events;
    let assertion = if kind == e.group_add || kind == e.group_remove {
        Pending::Membership(SourceKind::Group, kind == e.group_add)
    } else if kind == e.app_add || kind == e.app_remove {
        Pending::Membership(SourceKind::App, kind == e.app_add)
    } else if let Some((_, status)) = LIFECYCLE.iter().find(|(t, _)| *t == kind) {
        Pending::Ready(Assertion::Status { status: *status })
    } else if kind == PROFILE_UPDATE {
        Pending::Ready(Assertion::ProfileChanged {
            changed_attributes: event.changed_attributes(),
        })
    } else {
        return Classification::NotRelevant(NotRelevant::OtherEventType(kind.to_string()));
    };
    if !event.succeeded() {
        let outcome = event.outcome.as_ref();
        let reason = outcome
            .and_then(|o| o.reason.clone())
            .or_else(|| outcome.and_then(|o| o.result.clone()))
            .unwrap_or_default();
        return Classification::NotRelevant(NotRelevant::FailedOutcome(reason));
    }
    let Some((user, okta_user_id)) = event.okta_user().and_then(|u| {
        u.id.as_deref()
            .filter(|id| !id.is_empty())
            .map(|id| (u, id))
    }) else {
        return Classification::NotRelevant(NotRelevant::NoUserTarget);
    };
    let assertion = match assertion {
        Pending::Ready(a) => a,
        Pending::Membership(source_kind, member) => {
            let target_type = match source_kind {
                SourceKind::Group => "UserGroup",
                SourceKind::App => "AppInstance",
            };
            let Some((target, id)) = event
                .target_of_kind(target_type)
                .and_then(|t| t.id.as_deref().map(|id| (t, id)))
            else {
                return Classification::NotRelevant(NotRelevant::NoSourceTarget);
            };
            // A group is named by its `displayName`; an app instance by its label, which
            // Okta puts in `alternateId` (its `displayName` is the catalog app's name,
            // shared by every instance of that app).
            let name = match source_kind {
                SourceKind::Group => target.display_name.as_deref(),
                SourceKind::App => target.alternate_id.as_deref(),
            };
            let mapped = config.mappings.iter().any(|m| {
                m.sources
                    .iter()
                    .any(|s| s.matches(source_kind, Some(id), name))
            });
            if !mapped {
                let elsewhere = config
                    .sources()
                    .filter(|s| s.kind == source_kind && !s.configured_by_id())
                    .find(|s| name.is_some_and(|n| same_name(n, &s.name)))
                    .and_then(|s| s.id.clone());
                if let (Some(bound_id), Some(name)) = (elsewhere, name) {
                    return Classification::NotRelevant(NotRelevant::NameBoundElsewhere {
                        kind: source_kind,
                        name: name.to_string(),
                        id: id.to_string(),
                        bound_id,
                    });
                }
                let label = name.unwrap_or(id).to_string();
                return Classification::NotRelevant(match source_kind {
                    SourceKind::Group => NotRelevant::OtherGroup(label),
                    SourceKind::App => NotRelevant::OtherApp(label),
                });
            }
            Assertion::Membership {
                source: SourceRef {
                    kind: source_kind,
                    id: id.to_string(),
                    name: name.map(String::from),
                },
                member,
            }
        }
    };
    Classification::Fact(Fact {
        okta_user_id: okta_user_id.to_string(),
        event_uuid: event.uuid.clone(),
        published: event.published_at(),
        subject: UserSnapshot {
            login: user
                .alternate_id
                .clone()
                .filter(|l| !l.is_empty() && l != "unknown"),
            display_name: user.display_name.clone().filter(|d| !d.is_empty()),
        },
        assertion,
    })
}

enum Pending {
    Ready(Assertion),
    Membership(SourceKind, bool),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::fixtures;
    use crate::okta::Delivery;

    fn config() -> Config {
        Config::from_ini(fixtures::CONFIG_INI).unwrap()
    }

    fn classify_all(text: &str) -> Vec<Classification> {
        let config = config();
        Delivery::parse(text.as_bytes())
            .unwrap()
            .events
            .iter()
            .map(|e| classify(&e.event, &config))
            .collect()
    }

    /// A compact description of a classification, for the table below.
    fn describe(c: &Classification) -> String {
        match c {
            Classification::NotRelevant(reason) => format!(
                "skip {}",
                serde_json::to_value(reason).unwrap()["reason"]
                    .as_str()
                    .unwrap()
            ),
            Classification::Fact(f) => {
                let what = match &f.assertion {
                    Assertion::Membership { source, member } => format!(
                        "{} {:?} {}",
                        if *member { "+" } else { "-" },
                        source.kind,
                        source.name.as_deref().unwrap_or("?")
                    ),
                    Assertion::Status { status } => format!("status {status:?}"),
                    Assertion::ProfileChanged { changed_attributes } => {
                        format!("profile {}", changed_attributes.join("/"))
                    }
                };
                format!("{} {what}", f.subject.login.as_deref().unwrap_or("?"))
            }
        }
    }

    #[test]
    fn every_fixture_classifies_to_its_fact_or_reason() {
        let table: &[(&str, &[&str])] = &[
            (
                fixtures::GROUP_MEMBERSHIP_ADD,
                &["jane.doe@acme.example + Group amazon_connect"],
            ),
            (
                fixtures::GROUP_MEMBERSHIP_REMOVE,
                &["jane.doe@acme.example - Group amazon_connect"],
            ),
            (
                fixtures::APP_MEMBERSHIP_ADD,
                &["omar.haddad@acme.example + App AWS Account Federation"],
            ),
            (
                fixtures::APP_MEMBERSHIP_REMOVE,
                &["omar.haddad@acme.example - App AWS Account Federation"],
            ),
            (
                fixtures::SUPERVISOR_GROUP_ADD,
                &["lin.chen@acme.example + Group connect_supervisors"],
            ),
            (
                fixtures::USER_LIFECYCLE_ACTIVATE,
                &["jane.doe@acme.example status Active"],
            ),
            (
                fixtures::USER_LIFECYCLE_DEACTIVATE,
                &["jane.doe@acme.example status Deactivated"],
            ),
            (
                fixtures::USER_LIFECYCLE_SUSPEND,
                &["jane.doe@acme.example status Suspended"],
            ),
            (
                fixtures::USER_LIFECYCLE_UNSUSPEND,
                &["jane.doe@acme.example status Active"],
            ),
            (
                fixtures::USER_LIFECYCLE_REACTIVATE,
                &["jane.doe@acme.example status Active"],
            ),
            (
                fixtures::USER_UPDATE_PROFILE,
                &["jane.doe@acme.example profile lastName/displayName"],
            ),
            (
                fixtures::USERNAME_REJECTED_BY_CONNECT,
                &["sam+connect@acme.example + Group amazon_connect"],
            ),
            (
                fixtures::NON_ASCII_NAMES,
                &[
                    "zoe.angstrom@acme.example + Group amazon_connect",
                    "juergen.mueller@acme.example + Group amazon_connect",
                    "akira.tanaka@acme.example + Group amazon_connect",
                    "prince@acme.example + Group amazon_connect",
                    "ana.rogers@acme.example + Group amazon_connect",
                ],
            ),
            (
                fixtures::MIXED_BATCH,
                &[
                    "jane.doe@acme.example + Group amazon_connect",
                    "skip other_group",
                    "skip other_event_type",
                    "skip other_app",
                    "skip failed_outcome",
                    // The sample lost this one: an earlier non-matching target wiped it.
                    "juergen.mueller@acme.example + App AWS Account Federation",
                    "skip other_event_type",
                ],
            ),
            (
                fixtures::TARGET_NULL_AND_MISSING_FIELDS,
                &[
                    "skip other_event_type",
                    "skip no_user_target",
                    "omar.haddad@acme.example + Group amazon_connect",
                    "lin.chen@acme.example + Group amazon_connect",
                ],
            ),
            (fixtures::EMPTY_EVENTS, &[]),
        ];
        for (text, expected) in table {
            let got: Vec<String> = classify_all(text).iter().map(describe).collect();
            assert_eq!(&got, expected);
        }
        let hundred = classify_all(fixtures::HUNDRED_EVENTS);
        assert_eq!(hundred.len(), 100);
        assert!(hundred.iter().all(|c| matches!(c, Classification::Fact(_))));
    }

    #[test]
    fn facts_carry_the_event_identity_and_date() {
        let delivery = Delivery::parse(fixtures::GROUP_MEMBERSHIP_ADD.as_bytes()).unwrap();
        let event = &delivery.events[0].event;
        let Classification::Fact(fact) = classify(event, &config()) else {
            panic!()
        };
        assert_eq!(fact.event_uuid, event.uuid);
        assert_eq!(fact.published.to_string(), event.published);
        assert_eq!(
            Some(fact.okta_user_id.as_str()),
            event.okta_user().and_then(|u| u.id.as_deref())
        );
        assert_eq!(fact.subject.display_name.as_deref(), Some("Jane Doe"));
    }

    #[test]
    fn the_seed_config_ignores_the_supervisor_group() {
        let config = Config::from_ini(fixtures::SEED_CONFIG_INI).unwrap();
        let delivery = Delivery::parse(fixtures::SUPERVISOR_GROUP_ADD.as_bytes()).unwrap();
        assert_eq!(
            classify(&delivery.events[0].event, &config),
            Classification::NotRelevant(NotRelevant::OtherGroup("connect_supervisors".into()))
        );
    }

    #[test]
    fn groups_and_apps_can_be_configured_by_okta_id() {
        let text = fixtures::CONFIG_INI.replace(
            "GROUP_NAME = amazon_connect",
            "GROUP_NAME = 00g1c0nn3ctAgents0d7",
        );
        let config = Config::from_ini(&text).unwrap();
        let delivery = Delivery::parse(fixtures::GROUP_MEMBERSHIP_ADD.as_bytes()).unwrap();
        assert!(matches!(
            classify(&delivery.events[0].event, &config),
            Classification::Fact(_)
        ));
    }

    #[test]
    fn an_app_matches_by_its_instance_label_never_by_the_catalog_name() {
        // Okta's AppInstance target: alternateId = this instance's label, displayName =
        // the catalog app every instance shares.
        let raw = fixtures::APP_MEMBERSHIP_ADD.replacen(
            "\"alternateId\": \"AWS Account Federation\"",
            "\"alternateId\": \"Contact Centre EU\"",
            1,
        );
        let event = &Delivery::parse(raw.as_bytes()).unwrap().events[0].event;
        let by_catalog = config();
        assert_eq!(
            classify(event, &by_catalog),
            Classification::NotRelevant(NotRelevant::OtherApp("Contact Centre EU".into())),
            "APP_NAME = the catalog name must not grant every instance of the app"
        );
        let by_label = Config::from_ini(&fixtures::CONFIG_INI.replace(
            "APP_NAME = AWS Account Federation",
            "APP_NAME = contact centre eu",
        ))
        .unwrap();
        let Classification::Fact(fact) = classify(event, &by_label) else {
            panic!("the label matches");
        };
        let Assertion::Membership { source, .. } = fact.assertion else {
            panic!("a membership fact");
        };
        assert_eq!(
            (source.id.as_str(), source.name.as_deref()),
            ("0oa1awsF3d3rat10n0d7", Some("Contact Centre EU"))
        );
    }

    #[test]
    fn a_renamed_group_still_matches_once_its_name_is_bound() {
        let config = config();
        let raw =
            fixtures::GROUP_MEMBERSHIP_ADD.replace("\"amazon_connect\"", "\"cc-agents-emea\"");
        let event = &Delivery::parse(raw.as_bytes()).unwrap().events[0].event;
        assert!(matches!(
            classify(event, &config),
            Classification::NotRelevant(NotRelevant::OtherGroup(_))
        ));
        let group_id = event
            .target_of_kind("UserGroup")
            .and_then(|t| t.id.clone())
            .unwrap();
        let bound = config.with_bindings(&[crate::config::SourceBinding {
            kind: SourceKind::Group,
            name: "amazon_connect".into(),
            id: group_id,
            okta_name: "amazon_connect".into(),
            bound_by: crate::config::BoundBy::Event,
            bound_at: crate::time::UnixMillis(0),
        }]);
        assert!(matches!(classify(event, &bound), Classification::Fact(_)));

        // Another group now carries the configured name: not ours, and the reason says so.
        let other =
            fixtures::GROUP_MEMBERSHIP_ADD.replace("00g1c0nn3ctAgents0d7", "00gNewGroupTookName0");
        let event = &Delivery::parse(other.as_bytes()).unwrap().events[0].event;
        let Classification::NotRelevant(reason) = classify(event, &bound) else {
            panic!("another group");
        };
        assert!(
            reason
                .to_string()
                .contains("is bound to 00g1c0nn3ctAgents0d7"),
            "{reason}"
        );
    }

    #[test]
    fn relevant_types_cover_every_fact_kind() {
        let types = relevant_event_types(&config());
        for t in [
            "group.user_membership.add",
            "application.user_membership.remove",
            "user.lifecycle.suspend",
            PROFILE_UPDATE,
        ] {
            assert!(types.iter().any(|x| x == t), "{t}");
        }
    }
}
