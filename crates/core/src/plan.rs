//! The Connect calls that turn the current Connect user into the desired one.
//!
//! Only differences become calls: Connect allows about 2 requests/s per account, so a
//! converge that finds the user already right costs no write at all.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::{ConnectId, RemovalPolicy};
use crate::desired::{Desired, DesiredUser, IdentityInfo};
use crate::outcome::StepKind;
use crate::ownership;

/// A Connect user as `DescribeUser` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectUser {
    pub id: String,
    pub arn: Option<String>,
    pub username: String,
    pub identity: IdentityInfo,
    pub routing_profile_id: String,
    pub security_profile_ids: Vec<String>,
    pub hierarchy_group_id: Option<String>,
    /// The user's tags (`DescribeUser`/`SearchUsers` return them); the pipeline's own are
    /// in [`crate::ownership`].
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A change to one attribute group of an existing Connect user: one Connect update call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Identity {
        identity: IdentityInfo,
    },
    RoutingProfile {
        routing_profile_id: ConnectId,
    },
    SecurityProfiles {
        security_profile_ids: Vec<ConnectId>,
    },
    /// `None` takes the user out of any hierarchy group.
    Hierarchy {
        hierarchy_group_id: Option<ConnectId>,
    },
    /// Adds or replaces these tags (Connect's `TagResource` on the user's ARN); other
    /// tags stay.
    Tags {
        tags: BTreeMap<String, String>,
    },
}

/// One Connect write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Create(DesiredUser),
    Update(Change),
    Delete,
}

impl Step {
    /// What kind of write this is, for the outcome record and logs.
    pub fn kind(&self) -> StepKind {
        match self {
            Step::Create(_) => StepKind::Create,
            Step::Update(change) => change.kind(),
            Step::Delete => StepKind::Delete,
        }
    }
}

impl Change {
    pub fn kind(&self) -> StepKind {
        match self {
            Change::Identity { .. } => StepKind::UpdateIdentity,
            Change::RoutingProfile { .. } => StepKind::UpdateRoutingProfile,
            Change::SecurityProfiles { .. } => StepKind::UpdateSecurityProfiles,
            Change::Hierarchy { .. } => StepKind::UpdateHierarchy,
            Change::Tags { .. } => StepKind::UpdateTags,
        }
    }
}

/// The writes that make `current` (the Connect user `okta_user_id` owns, `None` if
/// absent) match `desired`. Empty when nothing differs. Updates apply to `current`'s id.
/// A user who keeps access also gets the ownership tags it lacks
/// ([`ownership::tags_for`]): an adopted user is tagged, a changed mapping retagged.
///
/// `send_email` says whether email is managed: when off, a Connect user's email is left
/// as it is rather than cleared.
pub fn plan(
    okta_user_id: &str,
    desired: &Desired,
    current: Option<&ConnectUser>,
    send_email: bool,
) -> Vec<Step> {
    match (desired, current) {
        (Desired::Unmanaged, _) => Vec::new(),
        (Desired::Present(want), None) => vec![Step::Create(want.clone())],
        (Desired::Present(want), Some(have)) => {
            // Access first: if a later step fails, a demoted user has already lost the
            // old security profiles (a promoted one merely has the new ones early).
            let mut steps = Vec::new();
            if !same_set(&want.security_profile_ids, &have.security_profile_ids) {
                steps.push(Step::Update(Change::SecurityProfiles {
                    security_profile_ids: want.security_profile_ids.clone(),
                }));
            }
            if want.routing_profile_id.as_str() != have.routing_profile_id {
                steps.push(Step::Update(Change::RoutingProfile {
                    routing_profile_id: want.routing_profile_id.clone(),
                }));
            }
            match &want.hierarchy_group_id {
                Some(group) if have.hierarchy_group_id.as_deref() != Some(group.as_str()) => {
                    steps.push(Step::Update(Change::Hierarchy {
                        hierarchy_group_id: Some(group.clone()),
                    }));
                }
                // Demoted to a mapping without a group, or the mapping lost its group:
                // leave the group the pipeline set, never one an admin chose.
                None if ownership::hierarchy_set_by_pipeline(have) => {
                    steps.push(Step::Update(Change::Hierarchy {
                        hierarchy_group_id: None,
                    }));
                }
                _ => {}
            }
            let mut identity = want.identity.clone();
            if !send_email {
                identity.email = have.identity.email.clone();
            }
            if identity != have.identity {
                steps.push(Step::Update(Change::Identity { identity }));
            }
            let tags: BTreeMap<String, String> = ownership::tags_for(okta_user_id, want)
                .into_iter()
                .filter(|(k, v)| have.tags.get(k) != Some(v))
                .collect();
            if !tags.is_empty() {
                steps.push(Step::Update(Change::Tags { tags }));
            }
            steps
        }
        (Desired::Revoked { .. }, None) => Vec::new(),
        (Desired::Revoked { removal, .. }, Some(have)) => match removal {
            RemovalPolicy::Delete => vec![Step::Delete],
            RemovalPolicy::Ignore => Vec::new(),
            // No profile configured: nothing can be planned (converge refuses such a
            // revocation with the key to set; reconcile reports it as a conflict).
            RemovalPolicy::NoPermission {
                security_profile_id: None,
            } => Vec::new(),
            RemovalPolicy::NoPermission {
                security_profile_id: Some(security_profile_id),
            } => {
                let only = std::slice::from_ref(security_profile_id);
                if same_set(only, &have.security_profile_ids) {
                    Vec::new()
                } else {
                    vec![Step::Update(Change::SecurityProfiles {
                        security_profile_ids: only.to_vec(),
                    })]
                }
            }
        },
    }
}

fn same_set(want: &[ConnectId], have: &[String]) -> bool {
    let want: BTreeSet<&str> = want.iter().map(ConnectId::as_str).collect();
    let have: BTreeSet<&str> = have.iter().map(String::as_str).collect();
    want == have
}
