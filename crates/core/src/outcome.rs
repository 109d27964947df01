//! What processing one Okta event ended in, as typed values: stored as JSON in the
//! ledger, logged, returned to front doors and shown to operators. Nothing re-parses
//! free text; people see the [`fmt::Display`] forms, machines the JSON.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::desired::{Desired, RevokedBecause};
use crate::fact::{Assertion, Fact};
use crate::ports::ErrorClass;
use crate::rules::NotRelevant;

/// Which kind of fact an event asserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    Membership,
    Status,
    Profile,
    /// A reconcile run's observation of the user's memberships and status.
    Snapshot,
}

impl FactKind {
    pub fn of(fact: &Fact) -> Self {
        match fact.assertion {
            Assertion::Membership { .. } => FactKind::Membership,
            Assertion::Status { .. } => FactKind::Status,
            Assertion::ProfileChanged { .. } => FactKind::Profile,
        }
    }
}

/// The desired Connect user, in brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DesiredState {
    /// Should exist under this mapping.
    Present { mapping: String },
    /// Access withdrawn.
    Revoked { because: RevokedBecause },
    /// None of this pipeline's business.
    Unmanaged,
}

impl From<&Desired> for DesiredState {
    fn from(desired: &Desired) -> Self {
        match desired {
            Desired::Present(user) => DesiredState::Present {
                mapping: user.mapping.clone(),
            },
            Desired::Revoked { because, .. } => DesiredState::Revoked { because: *because },
            Desired::Unmanaged => DesiredState::Unmanaged,
        }
    }
}

/// One kind of Connect write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Create,
    UpdateIdentity,
    UpdateRoutingProfile,
    UpdateSecurityProfiles,
    UpdateHierarchy,
    UpdateTags,
    Delete,
}

/// What one converge of one user did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Converged {
    pub desired: DesiredState,
    /// The Connect writes made, in order (empty: already in step).
    pub steps: Vec<StepKind>,
    /// The Connect user afterwards (`None`: none exists).
    pub connect_user_id: Option<String>,
}

/// What a converge did to the Connect user, in one word: what operators count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Created,
    Updated,
    Revoked,
    Unchanged,
}

impl Converged {
    /// No steps → `Unchanged` (nothing was written, even for a revocation already
    /// applied); a `Create` → `Created` (a changed login under `ON_LOGIN_CHANGE =
    /// REPLACE` deletes the old user and creates the new one, and the new user is what an
    /// admin waits for); a `Delete`, or a revocation desired (a user parked on the
    /// no-permission profile) → `Revoked`; any other step → `Updated`.
    pub fn effect(&self) -> Effect {
        if self.steps.is_empty() {
            Effect::Unchanged
        } else if self.steps.contains(&StepKind::Create) {
            Effect::Created
        } else if self.steps.contains(&StepKind::Delete)
            || matches!(self.desired, DesiredState::Revoked { .. })
        {
            Effect::Revoked
        } else {
            Effect::Updated
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Created => "created",
            Effect::Updated => "updated",
            Effect::Revoked => "revoked",
            Effect::Unchanged => "unchanged",
        })
    }
}

/// A failure, with whether retrying can help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub class: ErrorClass,
    pub reason: String,
}

/// What processing one event ended in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The event's fact was recorded and its user converged.
    Converged {
        fact: FactKind,
        #[serde(flatten)]
        converged: Converged,
    },
    /// Processed before: this delivery changed nothing.
    Duplicate,
    /// The event asserts nothing for this pipeline.
    NotRelevant { reason: NotRelevant },
    /// The message body is not an Okta event.
    Unparseable { reason: String },
    /// Processing failed.
    Failed(Failure),
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
        })
    }
}

impl fmt::Display for FactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FactKind::Membership => "membership",
            FactKind::Status => "status",
            FactKind::Profile => "profile",
            FactKind::Snapshot => "reconcile snapshot",
        })
    }
}

impl fmt::Display for RevokedBecause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RevokedBecause::NoMapping => "in no mapping",
            RevokedBecause::Suspended => "suspended",
            RevokedBecause::Deactivated => "deactivated",
            RevokedBecause::Deleted => "deleted in Okta",
            RevokedBecause::LoginChanged => "an old login",
        })
    }
}

impl fmt::Display for DesiredState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DesiredState::Present { mapping } => write!(f, "present ({mapping})"),
            DesiredState::Revoked { because } => write!(f, "revoked ({because})"),
            DesiredState::Unmanaged => f.write_str("unmanaged"),
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepKind::Create => "create",
            StepKind::UpdateIdentity => "update identity",
            StepKind::UpdateRoutingProfile => "update routing profile",
            StepKind::UpdateSecurityProfiles => "update security profiles",
            StepKind::UpdateHierarchy => "update hierarchy",
            StepKind::UpdateTags => "update tags",
            StepKind::Delete => "delete",
        })
    }
}

impl fmt::Display for Converged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.desired)?;
        if self.steps.is_empty() {
            f.write_str(", already in step")
        } else {
            let steps: Vec<String> = self.steps.iter().map(ToString::to_string).collect();
            write!(f, ", {}", steps.join(", "))
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failure: {}", self.class, self.reason)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Converged { fact, converged } => {
                write!(f, "converged on a {fact} fact: {converged}")
            }
            Outcome::Duplicate => f.write_str("duplicate"),
            Outcome::NotRelevant { reason } => write!(f, "not relevant: {reason}"),
            Outcome::Unparseable { reason } => write!(f, "unparseable: {reason}"),
            Outcome::Failed(failure) => write!(f, "failed: {failure}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_as_json() {
        let all = [
            Outcome::Converged {
                fact: FactKind::Membership,
                converged: Converged {
                    desired: DesiredState::Present {
                        mapping: "default".into(),
                    },
                    steps: vec![StepKind::Create],
                    connect_user_id: Some("c-1".into()),
                },
            },
            Outcome::Duplicate,
            Outcome::NotRelevant {
                reason: NotRelevant::OtherGroup("Finance".into()),
            },
            Outcome::Unparseable {
                reason: "expected value".into(),
            },
            Outcome::Failed(Failure {
                class: ErrorClass::Permanent,
                reason: "InvalidParameterException".into(),
            }),
        ];
        for outcome in all {
            let json = serde_json::to_string(&outcome).unwrap();
            let back: Outcome = serde_json::from_str(&json).unwrap();
            assert_eq!(back, outcome, "{json}");
        }
    }

    #[test]
    fn people_read_sentences_not_debug_output() {
        let converged = Outcome::Converged {
            fact: FactKind::Status,
            converged: Converged {
                desired: DesiredState::Revoked {
                    because: RevokedBecause::Deactivated,
                },
                steps: vec![StepKind::Delete],
                connect_user_id: None,
            },
        };
        assert_eq!(
            converged.to_string(),
            "converged on a status fact: revoked (deactivated), delete"
        );
        let skipped = Outcome::NotRelevant {
            reason: NotRelevant::OtherGroup("Finance".into()),
        };
        assert_eq!(
            skipped.to_string(),
            "not relevant: group \"Finance\" is in no mapping"
        );
        let failed = Outcome::Failed(Failure {
            class: ErrorClass::Permanent,
            reason: "bad id".into(),
        });
        assert_eq!(failed.to_string(), "failed: permanent failure: bad id");
    }
}
