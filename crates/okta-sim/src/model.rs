//! The org's objects (users, groups, apps) and their JSON as the Management API renders
//! them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::util::{display_name, rfc3339_ms};

/// A user's lifecycle status, as Okta names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserStatus {
    /// Created but not activated.
    Staged,
    /// Activated, waiting for the user to set credentials.
    Provisioned,
    /// Active.
    Active,
    /// Suspended by an admin.
    Suspended,
    /// Deactivated.
    Deprovisioned,
}

impl UserStatus {
    /// Okta's wire name, e.g. `ACTIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Staged => "STAGED",
            UserStatus::Provisioned => "PROVISIONED",
            UserStatus::Active => "ACTIVE",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Deprovisioned => "DEPROVISIONED",
        }
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            UserStatus::Staged,
            UserStatus::Provisioned,
            UserStatus::Active,
            UserStatus::Suspended,
            UserStatus::Deprovisioned,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| {
            format!("unknown user status {s:?}; expected STAGED, PROVISIONED, ACTIVE, SUSPENDED or DEPROVISIONED")
        })
    }
}

/// An Okta user.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// `00u…`.
    pub id: String,
    /// Lifecycle status.
    pub status: UserStatus,
    /// The profile (`login`, `firstName`, `lastName`, `email`, and any others).
    pub profile: Map<String, Value>,
    pub(crate) created: OffsetDateTime,
    pub(crate) activated: Option<OffsetDateTime>,
    pub(crate) status_changed: Option<OffsetDateTime>,
    pub(crate) last_updated: OffsetDateTime,
}

impl User {
    fn text(&self, key: &str) -> &str {
        self.profile
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// `profile.login`.
    pub fn login(&self) -> &str {
        self.text("login")
    }

    /// `profile.firstName` (empty when absent).
    pub fn first_name(&self) -> &str {
        self.text("firstName")
    }

    /// `profile.lastName` (empty when absent).
    pub fn last_name(&self) -> &str {
        self.text("lastName")
    }

    /// `profile.email` (empty when absent).
    pub fn email(&self) -> &str {
        self.text("email")
    }

    /// "First Last", the `displayName` of the user in System Log targets.
    pub fn display_name(&self) -> String {
        display_name(self.first_name(), self.last_name())
    }

    /// The User JSON of `GET /api/v1/users/{id}`.
    pub(crate) fn to_json(&self, org: &str) -> Value {
        let at = |t: Option<OffsetDateTime>| t.map(rfc3339_ms);
        json!({
            "id": self.id,
            "status": self.status.as_str(),
            "created": rfc3339_ms(self.created),
            "activated": at(self.activated),
            "statusChanged": at(self.status_changed),
            "lastLogin": null,
            "lastUpdated": rfc3339_ms(self.last_updated),
            "passwordChanged": null,
            "type": { "id": "oty1simDefaultUsrTyp" },
            "profile": self.profile,
            "credentials": { "provider": { "type": "OKTA", "name": "OKTA" } },
            "_links": {
                "self": { "href": format!("{org}/api/v1/users/{}", self.id) }
            }
        })
    }
}

/// An Okta group (`OKTA_GROUP`).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// `00g…`.
    pub id: String,
    /// `profile.name`.
    pub name: String,
    /// `profile.description`.
    pub description: Option<String>,
    /// Member user ids.
    pub members: BTreeSet<String>,
    pub(crate) created: OffsetDateTime,
    pub(crate) last_updated: OffsetDateTime,
    pub(crate) last_membership_updated: OffsetDateTime,
}

impl Group {
    /// The Group JSON of `GET /api/v1/groups/{id}`.
    pub(crate) fn to_json(&self, org: &str) -> Value {
        json!({
            "id": self.id,
            "created": rfc3339_ms(self.created),
            "lastUpdated": rfc3339_ms(self.last_updated),
            "lastMembershipUpdated": rfc3339_ms(self.last_membership_updated),
            "objectClass": ["okta:user_group"],
            "type": "OKTA_GROUP",
            "profile": { "name": self.name, "description": self.description },
            "_links": {
                "self": { "href": format!("{org}/api/v1/groups/{}", self.id) },
                "users": { "href": format!("{org}/api/v1/groups/{}/users", self.id) },
                "apps": { "href": format!("{org}/api/v1/groups/{}/apps", self.id) }
            }
        })
    }
}

/// A direct (USER-scope) assignment of a user to an app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// `credentials.userName`, the username in the app.
    pub user_name: String,
    pub(crate) created: OffsetDateTime,
}

/// An app instance (a SAML app such as AWS Account Federation).
#[derive(Clone, Debug, PartialEq)]
pub struct App {
    /// `0oa…`.
    pub id: String,
    /// The catalog key, e.g. `amazon_aws`.
    pub name: String,
    /// The instance label an admin gives it, e.g. "Contact Centre".
    pub label: String,
    /// The catalog app's display name, e.g. "AWS Account Federation" (the `displayName`
    /// of AppInstance targets in System Log events).
    pub catalog_display_name: String,
    /// Direct assignments by user id.
    pub users: BTreeMap<String, Assignment>,
    /// Groups assigned to the app: their members are app users with scope GROUP.
    pub groups: BTreeSet<String>,
    /// The `0ua…` id of each (user, app) pair, kept stable once made.
    pub(crate) app_user_ids: BTreeMap<String, String>,
    pub(crate) created: OffsetDateTime,
    pub(crate) last_updated: OffsetDateTime,
}

impl App {
    /// The catalog display name Okta shows for a catalog key.
    pub(crate) fn catalog_name_for(name: &str, label: &str) -> String {
        match name {
            "amazon_aws" => "AWS Account Federation".to_owned(),
            "amazon_aws_sso" => "AWS IAM Identity Center".to_owned(),
            _ => label.to_owned(),
        }
    }

    /// The App JSON of `GET /api/v1/apps/{id}`.
    pub(crate) fn to_json(&self, org: &str) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "label": self.label,
            "status": "ACTIVE",
            "created": rfc3339_ms(self.created),
            "lastUpdated": rfc3339_ms(self.last_updated),
            "accessibility": { "selfService": false, "errorRedirectUrl": null, "loginRedirectUrl": null },
            "visibility": { "autoSubmitToolbar": false, "hide": { "iOS": false, "web": false } },
            "features": [],
            "signOnMode": "SAML_2_0",
            "credentials": {
                "userNameTemplate": { "template": "${source.login}", "type": "BUILT_IN" },
                "signing": { "kid": "simSigningKey1" }
            },
            "settings": { "app": {} },
            "_links": {
                "self": { "href": format!("{org}/api/v1/apps/{}", self.id) },
                "users": { "href": format!("{org}/api/v1/apps/{}/users", self.id) },
                "groups": { "href": format!("{org}/api/v1/apps/{}/groups", self.id) }
            }
        })
    }
}

/// How a user holds an app: directly, or through an assigned group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    User,
    Group,
}

impl Scope {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::User => "USER",
            Scope::Group => "GROUP",
        }
    }
}

/// The AppUser JSON of `GET /api/v1/apps/{id}/users`.
pub(crate) fn app_user_json(
    org: &str,
    app: &App,
    user: &User,
    scope: Scope,
    embed_user: bool,
) -> Value {
    let assignment = app.users.get(&user.id);
    let user_name = assignment.map_or(user.login(), |a| a.user_name.as_str());
    let created = assignment.map_or(app.created, |a| a.created);
    let mut value = json!({
        "id": user.id,
        "externalId": null,
        "created": rfc3339_ms(created),
        "lastUpdated": rfc3339_ms(created),
        "scope": scope.as_str(),
        "status": "ACTIVE",
        "statusChanged": rfc3339_ms(created),
        "passwordChanged": null,
        "syncState": "DISABLED",
        "credentials": { "userName": user_name },
        "profile": {},
        "_links": {
            "app": { "href": format!("{org}/api/v1/apps/{}", app.id) },
            "user": { "href": format!("{org}/api/v1/users/{}", user.id) }
        }
    });
    if embed_user && let Some(object) = value.as_object_mut() {
        object.insert("_embedded".into(), json!({ "user": user.to_json(org) }));
    }
    value
}
