//! The Connect user that an Okta user's newest facts imply: a pure function of the facts,
//! the optional Okta profile, and the config.

use serde::{Deserialize, Serialize};

use crate::config::{AccessMapping, Config, ConnectId, RemovalPolicy};
use crate::fact::{OktaStatus, UserFacts};
use crate::names::{UsernameError, cap, split_display_name, username_for};

/// An Okta user's profile as the Users API returns it (`GET /api/v1/users/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OktaProfile {
    pub login: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

/// Connect's `UserIdentityInfo`, as far as this pipeline manages it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityInfo {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
}

/// A Connect user that should exist, with exactly these attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredUser {
    pub username: String,
    pub identity: IdentityInfo,
    pub routing_profile_id: ConnectId,
    pub security_profile_ids: Vec<ConnectId>,
    /// `None` leaves whatever hierarchy group the user has.
    pub hierarchy_group_id: Option<ConnectId>,
    /// Name of the winning mapping, for logs and status.
    pub mapping: String,
}

/// Why access is withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedBecause {
    /// Member of no mapped group or app any more.
    NoMapping,
    Suspended,
    Deactivated,
    /// Deleted in Okta.
    Deleted,
    /// The Connect user is left under a login the Okta user no longer has.
    LoginChanged,
}

/// What Connect should hold for one Okta user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Desired {
    Present(DesiredUser),
    /// Access withdrawn; `removal` says what that means for the Connect user.
    Revoked {
        username: String,
        removal: RemovalPolicy,
        because: RevokedBecause,
    },
    /// No membership fact of any mapped group/app is known: the user is none of this
    /// pipeline's business, so Connect is left alone.
    Unmanaged,
}

/// The desired Connect user for `facts` under `config`.
///
/// - Unmanaged unless some fact says the user was, at some time, added to or removed
///   from a mapped group/app (a lifecycle or profile event alone manages nobody);
/// - revoked if the newest status is suspended or deactivated, or if every newest
///   membership fact says "not a member";
/// - otherwise present under the highest-priority mapping the user is a member of.
///
/// Names come from `profile` when the Okta API gave one, else from the newest display
/// name; the email only when `send_email` is on. Fails only when a user who should be
/// present has no valid Connect username.
pub fn desired_user(
    facts: &UserFacts,
    profile: Option<&OktaProfile>,
    config: &Config,
) -> Result<Desired, UsernameError> {
    let memberships: Vec<_> = facts
        .memberships()
        .filter(|(source, _)| mappings_of(config, source).next().is_some())
        .collect();
    if memberships.is_empty() {
        return Ok(Desired::Unmanaged);
    }
    let subject = facts.subject();
    let login = profile
        .map(|p| p.login.as_str())
        .or(subject.login.as_deref());
    let email = profile.and_then(|p| p.email.as_deref());
    let username = username_for(config.username_source, login, email);
    let revoked = |because| match &username {
        Ok(username) => Desired::Revoked {
            username: username.clone(),
            // Suspension is temporary: its own policy keeps the Connect user by default.
            removal: match because {
                RevokedBecause::Suspended => config.suspension.clone(),
                _ => config.removal.clone(),
            },
            because,
        },
        // Nobody can exist in Connect under a name Connect rejects.
        Err(_) => Desired::Unmanaged,
    };
    match facts.status() {
        Some(OktaStatus::Suspended) => return Ok(revoked(RevokedBecause::Suspended)),
        Some(OktaStatus::Deactivated) => return Ok(revoked(RevokedBecause::Deactivated)),
        Some(OktaStatus::Deleted) => return Ok(revoked(RevokedBecause::Deleted)),
        Some(OktaStatus::Active) | None => {}
    }
    // `config.mappings` is sorted by priority, so the first member mapping wins.
    let winner = config.mappings.iter().find(|mapping| {
        memberships.iter().any(|(source, member)| {
            *member && mappings_of(config, source).any(|m| m.name == mapping.name)
        })
    });
    let Some(mapping) = winner else {
        return Ok(revoked(RevokedBecause::NoMapping));
    };
    let username = username?;
    let names = profile
        .and_then(|p| match (&p.first_name, &p.last_name) {
            (Some(first), Some(last)) if !first.trim().is_empty() && !last.trim().is_empty() => {
                Some((cap(first.trim()), cap(last.trim())))
            }
            _ => None,
        })
        .or_else(|| {
            subject
                .display_name
                .as_deref()
                .and_then(split_display_name)
                .map(|n| (n.first, n.last))
        })
        .unwrap_or_else(|| {
            let local = username.split('@').next().unwrap_or(&username).to_string();
            (local.clone(), local)
        });
    let email = config.send_email.then(|| {
        email
            .map(String::from)
            .or_else(|| login.filter(|l| l.contains('@')).map(String::from))
    });
    Ok(Desired::Present(DesiredUser {
        username,
        identity: IdentityInfo {
            first_name: names.0,
            last_name: names.1,
            email: email.flatten(),
        },
        routing_profile_id: mapping.routing_profile_id.clone(),
        security_profile_ids: mapping.security_profile_ids.clone(),
        hierarchy_group_id: mapping.hierarchy_group_id.clone(),
        mapping: mapping.name.clone(),
    }))
}

/// The mappings that name `source` (by id or name).
fn mappings_of<'a>(
    config: &'a Config,
    source: &'a crate::fact::SourceRef,
) -> impl Iterator<Item = &'a AccessMapping> {
    config.mappings.iter().filter(move |m| {
        m.sources
            .iter()
            .any(|s| s.matches(source.kind, Some(&source.id), source.name.as_deref()))
    })
}

#[cfg(test)]
mod tests;
