//! Dated facts about one Okta user, and the newest-wins record of them.
//!
//! Okta delivers events at least once, late and out of order, so an event is never an
//! instruction to replay. It is a fact ("member of group G since t"). Per Okta user and
//! per kind of fact, only the newest survives: ordered by `published`, ties broken by the
//! event uuid so every replica and every arrival order picks the same winner.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::SourceKind;
use crate::time::UnixMillis;

/// An Okta group or app as an event names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub kind: SourceKind,
    /// Okta's id (`00g…` group, `0oa…` app); stable across renames, so it keys the fact.
    pub id: String,
    /// The group's name or app's label when the event carried it.
    pub name: Option<String>,
}

/// Okta user status as the lifecycle events report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OktaStatus {
    Active,
    Suspended,
    Deactivated,
    /// Deleted in Okta (`user.lifecycle.delete.initiated`): final. Once the Connect user
    /// is revoked, the user's facts are forgotten but for this one.
    Deleted,
}

/// What a fact says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Assertion {
    /// Member (or not) of a configured group/app.
    Membership { source: SourceRef, member: bool },
    /// The user's Okta status changed.
    Status { status: OktaStatus },
    /// Profile attributes changed; the event carries their names, not their values.
    ProfileChanged { changed_attributes: Vec<String> },
}

/// How the event named the Okta user at the time: login and display name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSnapshot {
    pub login: Option<String>,
    pub display_name: Option<String>,
}

/// One dated fact about one Okta user, from one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub okta_user_id: String,
    pub event_uuid: String,
    pub published: UnixMillis,
    pub subject: UserSnapshot,
    pub assertion: Assertion,
}

impl Fact {
    /// The slot this fact competes for: one per group/app membership, one for status,
    /// one for profile. Stable text, so ledgers can store it as a sort key.
    pub fn key(&self) -> String {
        match &self.assertion {
            Assertion::Membership { source, .. } => {
                let kind = match source.kind {
                    SourceKind::Group => "group",
                    SourceKind::App => "app",
                };
                format!("membership#{kind}#{}", source.id)
            }
            Assertion::Status { .. } => "status".into(),
            Assertion::ProfileChanged { .. } => "profile".into(),
        }
    }

    /// Total order used for last-writer-wins: `published`, then event uuid.
    pub fn recency(&self) -> (UnixMillis, &str) {
        (self.published, self.event_uuid.as_str())
    }

    /// Whether `self` should replace `other` in its slot.
    pub fn supersedes(&self, other: &Fact) -> bool {
        self.recency().cmp(&other.recency()) == Ordering::Greater
    }
}

/// Whether recording a fact changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The fact is now the newest of its kind.
    Applied,
    /// A newer (or the same) fact already holds the slot; nothing changed.
    Stale,
}

/// Everything known about one Okta user: the newest fact per slot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFacts {
    pub okta_user_id: String,
    pub facts: BTreeMap<String, Fact>,
}

impl UserFacts {
    pub fn new(okta_user_id: impl Into<String>) -> Self {
        Self {
            okta_user_id: okta_user_id.into(),
            facts: BTreeMap::new(),
        }
    }

    /// Builds the record from facts in any order; equal to recording them one by one.
    pub fn from_facts(
        okta_user_id: impl Into<String>,
        facts: impl IntoIterator<Item = Fact>,
    ) -> Self {
        let mut all = Self::new(okta_user_id);
        for fact in facts {
            all.record(fact);
        }
        all
    }

    /// Keeps `fact` if it is newer than the slot's current holder.
    pub fn record(&mut self, fact: Fact) -> Recorded {
        match self.facts.get(&fact.key()) {
            Some(held) if !fact.supersedes(held) => Recorded::Stale,
            _ => {
                self.facts.insert(fact.key(), fact);
                Recorded::Applied
            }
        }
    }

    /// The newest membership facts, one per group/app.
    pub fn memberships(&self) -> impl Iterator<Item = (&SourceRef, bool)> {
        self.facts.values().filter_map(|f| match &f.assertion {
            Assertion::Membership { source, member } => Some((source, *member)),
            _ => None,
        })
    }

    /// The newest status fact's status, if any status event was seen.
    pub fn status(&self) -> Option<OktaStatus> {
        self.facts.values().find_map(|f| match f.assertion {
            Assertion::Status { status } => Some(status),
            _ => None,
        })
    }

    /// How the newest event of any kind named the user (newest login and display name
    /// each, since some events omit one of them).
    pub fn subject(&self) -> UserSnapshot {
        let mut by_recency: Vec<&Fact> = self.facts.values().collect();
        by_recency.sort_by(|a, b| b.recency().cmp(&a.recency()));
        UserSnapshot {
            login: by_recency.iter().find_map(|f| f.subject.login.clone()),
            display_name: by_recency
                .iter()
                .find_map(|f| f.subject.display_name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn membership(uuid: &str, at: i64, member: bool) -> Fact {
        Fact {
            okta_user_id: "00u1".into(),
            event_uuid: uuid.into(),
            published: UnixMillis(at),
            subject: UserSnapshot {
                login: Some(format!("login-{uuid}")),
                display_name: None,
            },
            assertion: Assertion::Membership {
                source: SourceRef {
                    kind: SourceKind::Group,
                    id: "00g1".into(),
                    name: Some("agents".into()),
                },
                member,
            },
        }
    }

    #[test]
    fn newer_fact_wins_whatever_the_arrival_order() {
        let old = membership("a", 1, true);
        let new = membership("b", 2, false);
        let forward = UserFacts::from_facts("00u1", [old.clone(), new.clone()]);
        let backward = UserFacts::from_facts("00u1", [new.clone(), old.clone()]);
        assert_eq!(forward, backward);
        assert_eq!(forward.memberships().next().map(|(_, m)| m), Some(false));
        let mut facts = backward;
        assert_eq!(facts.record(old), Recorded::Stale);
        assert_eq!(
            facts.record(new),
            Recorded::Stale,
            "a duplicate changes nothing"
        );
    }

    #[test]
    fn equal_timestamps_break_ties_by_uuid() {
        let a = membership("a", 5, true);
        let b = membership("b", 5, false);
        assert!(b.supersedes(&a));
        assert!(!a.supersedes(&b));
        assert_eq!(
            UserFacts::from_facts("00u1", [b.clone(), a.clone()]),
            UserFacts::from_facts("00u1", [a, b])
        );
    }

    #[test]
    fn subject_comes_from_the_newest_fact() {
        let facts =
            UserFacts::from_facts("00u1", [membership("x", 9, true), membership("y", 3, true)]);
        assert_eq!(facts.subject().login.as_deref(), Some("login-x"));
    }
}
