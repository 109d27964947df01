//! The simulated Connect resources: instances, their profiles and groups, and users.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How an instance authenticates its users; it decides which CreateUser inputs are valid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdentityManagementType {
    /// Users sign in through a SAML IdP: usernames are ≤ 64 of `[A-Za-z0-9_.@-]`, no password.
    #[default]
    Saml,
    /// Connect stores users and passwords: a password is required.
    ConnectManaged,
    /// Users live in an existing directory: `DirectoryUserId` is allowed.
    ExistingDirectory,
}

/// Whether `IdentityInfo.Email` may, must or must not be given on a SAML instance.
///
/// AWS's own documentation disagrees on this, so it is a per-instance switch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SamlEmailPolicy {
    /// Email may be given or left out.
    #[default]
    Optional,
    /// Email must be given.
    Required,
    /// Email must not be given.
    Forbidden,
}

/// A named resource of an instance: a routing profile, security profile or hierarchy group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedResource {
    /// Its id (any non-empty string; Connect uses UUIDs).
    pub id: String,
    /// Its display name.
    pub name: String,
}

impl NamedResource {
    /// A resource with this id and name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        NamedResource {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// A simulated Connect instance and its catalogue of profiles and groups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// The instance id (1–100 characters; not necessarily hex).
    pub id: String,
    /// The AWS region used in its ARNs.
    pub region: String,
    /// The AWS account id used in its ARNs.
    pub account_id: String,
    /// Its identity management type.
    pub identity_management_type: IdentityManagementType,
    /// The users-per-instance quota; CreateUser beyond it answers `LimitExceededException`.
    pub max_users: usize,
    /// Whether FirstName and LastName are required (Connect requires them on SAML and
    /// CONNECT_MANAGED instances).
    pub require_names: bool,
    /// Email rule on SAML instances.
    pub saml_email: SamlEmailPolicy,
    /// Its routing profiles.
    pub routing_profiles: Vec<NamedResource>,
    /// Its security profiles.
    pub security_profiles: Vec<NamedResource>,
    /// Its agent hierarchy groups.
    pub hierarchy_groups: Vec<NamedResource>,
}

impl Instance {
    /// `arn:aws:connect:{region}:{account}:instance/{id}`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:connect:{}:{}:instance/{}",
            self.region, self.account_id, self.id
        )
    }

    /// The ARN of one of the instance's users: `…/instance/{id}/agent/{userId}`.
    pub fn user_arn(&self, user_id: &str) -> String {
        format!("{}/agent/{user_id}", self.arn())
    }

    /// `…/instance/{id}/security-profile/{spId}`.
    pub fn security_profile_arn(&self, id: &str) -> String {
        format!("{}/security-profile/{id}", self.arn())
    }

    /// `…/instance/{id}/routing-profile/{rpId}`.
    pub fn routing_profile_arn(&self, id: &str) -> String {
        format!("{}/routing-profile/{id}", self.arn())
    }

    /// `…/instance/{id}/agent-group/{groupId}`.
    pub fn hierarchy_group_arn(&self, id: &str) -> String {
        format!("{}/agent-group/{id}", self.arn())
    }

    pub(crate) fn has_routing_profile(&self, id: &str) -> bool {
        self.routing_profiles.iter().any(|p| p.id == id)
    }

    pub(crate) fn has_security_profile(&self, id: &str) -> bool {
        self.security_profiles.iter().any(|p| p.id == id)
    }

    pub(crate) fn has_hierarchy_group(&self, id: &str) -> bool {
        self.hierarchy_groups.iter().any(|g| g.id == id)
    }
}

/// A user's identity information, as Connect's `UserIdentityInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityInfo {
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Secondary email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_email: Option<String>,
    /// Mobile number (E.164).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
}

/// A user's phone settings, as Connect's `UserPhoneConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PhoneConfig {
    /// `SOFT_PHONE` or `DESK_PHONE`.
    pub phone_type: String,
    /// Whether contacts are accepted automatically.
    #[serde(default)]
    pub auto_accept: bool,
    /// After-contact work time limit in seconds.
    #[serde(default)]
    pub after_contact_work_time_limit: i32,
    /// The desk phone number, for `DESK_PHONE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk_phone_number: Option<String>,
}

impl Default for PhoneConfig {
    fn default() -> Self {
        PhoneConfig {
            phone_type: "SOFT_PHONE".to_owned(),
            auto_accept: false,
            after_contact_work_time_limit: 0,
            desk_phone_number: None,
        }
    }
}

/// A Connect user with every attribute the simulator keeps.
///
/// Serialises with Connect's `User` member names (`Id`, `Arn`, `Username`, …), the shape
/// DescribeUser returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    /// The user id (a UUID).
    pub id: String,
    /// `arn:aws:connect:{region}:{account}:instance/{instanceId}/agent/{userId}`.
    pub arn: String,
    /// The username (what the IdP sends as the role session name on SAML instances).
    pub username: String,
    /// Identity information.
    #[serde(default)]
    pub identity_info: IdentityInfo,
    /// Phone settings.
    #[serde(default)]
    pub phone_config: PhoneConfig,
    /// The directory user id (existing-directory instances only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_user_id: Option<String>,
    /// Security profile ids (1–10).
    pub security_profile_ids: Vec<String>,
    /// Routing profile id.
    pub routing_profile_id: String,
    /// Hierarchy group id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hierarchy_group_id: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Last change, in seconds since the Unix epoch (Connect's `LastModifiedTime`).
    pub last_modified_time: f64,
    /// The region of the last change.
    pub last_modified_region: String,
}

/// A user together with the instance that holds it, as the observation calls return it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceUser {
    /// The instance id.
    pub instance_id: String,
    /// The user, with Connect's member names.
    #[serde(flatten)]
    pub user: User,
}
