//! Okta's current state as its management API reports it: users with their status and
//! profile, groups, app instances, and the System Log query that replays events.
//!
//! These are the shapes the [`IdentitySource`](crate::ports::IdentitySource) port speaks;
//! the HTTP adapter (`okta-connect-okta`) maps Okta's JSON onto them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::SourceKind;
use crate::desired::OktaProfile;
use crate::fact::OktaStatus;
use crate::time::UnixMillis;

/// An Okta user's `status` (Okta's lifecycle states).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OktaUserStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    PasswordExpired,
    LockedOut,
    Suspended,
    Deprovisioned,
    /// A status this version does not know, kept verbatim.
    #[serde(untagged)]
    Other(String),
}

impl OktaUserStatus {
    /// Reads Okta's `status` string.
    pub fn parse(text: &str) -> Self {
        match text {
            "STAGED" => Self::Staged,
            "PROVISIONED" => Self::Provisioned,
            "ACTIVE" => Self::Active,
            "RECOVERY" => Self::Recovery,
            "PASSWORD_EXPIRED" => Self::PasswordExpired,
            "LOCKED_OUT" => Self::LockedOut,
            "SUSPENDED" => Self::Suspended,
            "DEPROVISIONED" => Self::Deprovisioned,
            other => Self::Other(other.to_string()),
        }
    }

    /// The lifecycle status this state means for Connect access. A locked-out user or one
    /// whose password expired is still an employee (the lock is temporary), so they keep
    /// access; `STAGED`/`PROVISIONED` users were created but never activated, and an
    /// unknown state grants nothing until someone looks.
    pub fn lifecycle(&self) -> OktaStatus {
        match self {
            Self::Active | Self::Recovery | Self::PasswordExpired | Self::LockedOut => {
                OktaStatus::Active
            }
            Self::Suspended => OktaStatus::Suspended,
            Self::Deprovisioned | Self::Staged | Self::Provisioned | Self::Other(_) => {
                OktaStatus::Deactivated
            }
        }
    }
}

impl fmt::Display for OktaUserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Staged => "STAGED",
            Self::Provisioned => "PROVISIONED",
            Self::Active => "ACTIVE",
            Self::Recovery => "RECOVERY",
            Self::PasswordExpired => "PASSWORD_EXPIRED",
            Self::LockedOut => "LOCKED_OUT",
            Self::Suspended => "SUSPENDED",
            Self::Deprovisioned => "DEPROVISIONED",
            Self::Other(s) => s,
        })
    }
}

/// An Okta user (`GET /api/v1/users/{id}`, or embedded in a member list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OktaUser {
    /// `00u…`.
    pub id: String,
    pub status: OktaUserStatus,
    pub profile: OktaProfile,
}

/// An Okta group (`00g…`) with its current name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OktaGroup {
    pub id: String,
    pub name: String,
}

/// An Okta app instance (`0oa…`). `label` is what the admin named this instance (the
/// System Log's `alternateId`); `catalog_name` is the app's key in Okta's catalog
/// (`amazon_aws`), the same for every instance of that app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OktaApp {
    pub id: String,
    pub label: String,
    pub catalog_name: String,
}

/// A group or app by its Okta id: what member lists are read for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceId {
    pub kind: SourceKind,
    pub id: String,
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SourceKind::Group => write!(f, "group {}", self.id),
            SourceKind::App => write!(f, "app {}", self.id),
        }
    }
}

/// A bounded System Log query (`/api/v1/logs?since=&until=&filter=`). Bounded queries
/// come back ordered by `published`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub since: UnixMillis,
    /// `None`: up to now.
    pub until: Option<UnixMillis>,
    /// Only these `eventType`s (an `eq … or eq …` filter); empty means all.
    pub event_types: Vec<String>,
}

/// One System Log event exactly as Okta returned it: the same JSON an event hook
/// delivers, so it can be queued like one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_map_to_access() {
        for text in [
            "STAGED",
            "PROVISIONED",
            "ACTIVE",
            "RECOVERY",
            "PASSWORD_EXPIRED",
            "LOCKED_OUT",
            "SUSPENDED",
            "DEPROVISIONED",
            "SOMETHING_NEW",
        ] {
            assert_eq!(OktaUserStatus::parse(text).to_string(), text);
        }
        assert_eq!(
            OktaUserStatus::LockedOut.lifecycle(),
            OktaStatus::Active,
            "a lockout is temporary"
        );
        assert_eq!(OktaUserStatus::Suspended.lifecycle(), OktaStatus::Suspended);
        assert_eq!(
            OktaUserStatus::parse("SOMETHING_NEW").lifecycle(),
            OktaStatus::Deactivated
        );
        let json = serde_json::to_string(&OktaUserStatus::PasswordExpired).unwrap_or_default();
        assert_eq!(json, "\"PASSWORD_EXPIRED\"");
    }
}
