//! Seeds: the instances (with profiles, groups and optional users) a simulator starts with.
//!
//! The file format is JSON; `seeds/default.json` in this crate is the built-in default and a
//! template admins can copy:
//!
//! ```json
//! {
//!   "region": "us-east-1",
//!   "accountId": "123456789012",
//!   "instances": [{
//!     "id": "abcdefgh-0122-4131-adc2-a0ebe5a2b2a7",
//!     "identityManagementType": "SAML",
//!     "maxUsers": 500,
//!     "requireNames": true,
//!     "samlEmail": "optional",
//!     "routingProfiles":  [{ "id": "…", "name": "Basic Routing Profile" }],
//!     "securityProfiles": [{ "id": "…", "name": "Agent" }],
//!     "hierarchyGroups":  [{ "id": "…", "name": "Supervisors" }],
//!     "users": [{ "username": "jane@example.com", "firstName": "Jane", "lastName": "Doe",
//!                 "email": "jane@example.com", "securityProfileIds": ["…"],
//!                 "routingProfileId": "…" }]
//!   }]
//! }
//! ```
//!
//! Every member but `instances[].id` has a default (`region` us-east-1, `accountId`
//! 123456789012, `identityManagementType` SAML, `maxUsers` 500, `requireNames` true,
//! `samlEmail` optional, empty lists). Unknown members are rejected so typos surface.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::SeedError;
use crate::model::{IdentityManagementType, Instance, NamedResource, SamlEmailPolicy};

/// The built-in default seed, matching the project's default `config.ini`.
pub const DEFAULT_SEED_JSON: &str = include_str!("../seeds/default.json");

/// Region of the default seed.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Account of the default seed.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// The instance of the default seed (a SAML instance).
pub const DEFAULT_INSTANCE_ID: &str = "abcdefgh-0122-4131-adc2-a0ebe5a2b2a7";
/// "Basic Routing Profile" in the default seed.
pub const DEFAULT_ROUTING_PROFILE_ID: &str = "87654321-69fb-43b6-a5e6-f8666ac189cb";
/// "Supervisors" routing profile in the default seed.
pub const SUPERVISORS_ROUTING_PROFILE_ID: &str = "5b3c0f3e-8a31-4d2a-9a61-2f1d3c7e9b10";
/// "Agent" security profile in the default seed.
pub const AGENT_SECURITY_PROFILE_ID: &str = "12345678-1234-2345-abd8-0aa7f5b46852";
/// "CallCenterManager" security profile in the default seed.
pub const CALL_CENTER_MANAGER_SECURITY_PROFILE_ID: &str = "65345678-1234-2345-abd8-0aa7f5b46852";
/// "QualityAnalyst" security profile in the default seed.
pub const QUALITY_ANALYST_SECURITY_PROFILE_ID: &str = "98345678-1234-2345-abd8-0aa7f5b46852";
/// "Supervisor" security profile in the default seed.
pub const SUPERVISOR_SECURITY_PROFILE_ID: &str = "a1b2c3d4-0000-4000-8000-00000000abcd";
/// "NoPermissions" security profile in the default seed (where disabled users are parked).
pub const NO_PERMISSIONS_SECURITY_PROFILE_ID: &str = "e3b0c442-98fc-4c14-9afb-f4c8996fb924";
/// "Supervisors" hierarchy group in the default seed.
pub const SUPERVISORS_HIERARCHY_GROUP_ID: &str = "f0e1d2c3-b4a5-4697-8899-aabbccddeeff";

/// Connect's default users-per-instance quota.
pub const DEFAULT_MAX_USERS: usize = 500;

/// A set of instances to create, with the region and account their ARNs use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// Region used in ARNs and `LastModifiedRegion`.
    #[serde(default = "default_region")]
    pub region: String,
    /// Account id used in ARNs.
    #[serde(default = "default_account")]
    pub account_id: String,
    /// The instances.
    #[serde(default)]
    pub instances: Vec<InstanceSeed>,
}

/// One instance of a seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstanceSeed {
    /// The instance id: any string of 1–100 characters.
    pub id: String,
    /// SAML (default), CONNECT_MANAGED or EXISTING_DIRECTORY.
    #[serde(default)]
    pub identity_management_type: IdentityManagementType,
    /// Users-per-instance quota (default 500).
    #[serde(default = "default_max_users")]
    pub max_users: usize,
    /// Whether CreateUser requires FirstName and LastName on SAML and CONNECT_MANAGED
    /// instances, as Connect does (default true).
    #[serde(default = "default_true")]
    pub require_names: bool,
    /// Email rule on SAML instances (default optional).
    #[serde(default)]
    pub saml_email: SamlEmailPolicy,
    /// Routing profiles.
    #[serde(default)]
    pub routing_profiles: Vec<NamedResource>,
    /// Security profiles.
    #[serde(default)]
    pub security_profiles: Vec<NamedResource>,
    /// Agent hierarchy groups.
    #[serde(default)]
    pub hierarchy_groups: Vec<NamedResource>,
    /// Users to create at start, under the same rules as CreateUser; skipped when the
    /// username already exists (e.g. restored from the state file).
    #[serde(default)]
    pub users: Vec<UserSeed>,
}

/// A user to create when a seed is applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserSeed {
    /// A fixed user id; a fresh UUID when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The username.
    pub username: String,
    /// The password (CONNECT_MANAGED instances need one; SAML instances refuse one).
    #[serde(default)]
    pub password: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Security profile ids (1–10, all of the instance).
    pub security_profile_ids: Vec<String>,
    /// Routing profile id (of the instance).
    pub routing_profile_id: String,
    /// Hierarchy group id (of the instance).
    #[serde(default)]
    pub hierarchy_group_id: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn default_region() -> String {
    DEFAULT_REGION.to_owned()
}

fn default_account() -> String {
    DEFAULT_ACCOUNT_ID.to_owned()
}

fn default_max_users() -> usize {
    DEFAULT_MAX_USERS
}

fn default_true() -> bool {
    true
}

impl Default for Seed {
    /// The built-in seed of [`DEFAULT_SEED_JSON`] (one SAML instance matching the project's
    /// default `config.ini`).
    fn default() -> Self {
        // The embedded file is checked by a unit test, so the fallback is never taken.
        Seed::from_json(DEFAULT_SEED_JSON).unwrap_or_else(|_| Seed::empty())
    }
}

impl Seed {
    /// A seed with no instances, in the default region and account.
    pub fn empty() -> Self {
        Seed {
            region: default_region(),
            account_id: default_account(),
            instances: Vec::new(),
        }
    }

    /// Parses and checks a seed from JSON text.
    pub fn from_json(text: &str) -> Result<Self, SeedError> {
        let seed: Seed = serde_json::from_str(text)?;
        seed.check()?;
        Ok(seed)
    }

    /// Reads, parses and checks a seed file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, SeedError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_owned(),
            source,
        })?;
        Seed::from_json(&text)
    }

    /// Adds an instance (builder style).
    pub fn with_instance(mut self, instance: InstanceSeed) -> Self {
        self.instances.push(instance);
        self
    }

    /// Checks the seed for inconsistencies a file can hold: bad or repeated instance ids,
    /// repeated profile or group ids. Users are checked when the seed is applied.
    pub fn check(&self) -> Result<(), SeedError> {
        let mut seen = BTreeSet::new();
        for instance in &self.instances {
            if instance.id.is_empty() || instance.id.chars().count() > 100 {
                return Err(SeedError::InvalidInstanceId(instance.id.clone()));
            }
            if !seen.insert(instance.id.as_str()) {
                return Err(SeedError::DuplicateInstance(instance.id.clone()));
            }
            let mut ids = BTreeSet::new();
            let resources = instance
                .routing_profiles
                .iter()
                .chain(&instance.security_profiles)
                .chain(&instance.hierarchy_groups);
            for resource in resources {
                if !ids.insert(resource.id.as_str()) {
                    return Err(SeedError::DuplicateResourceId {
                        instance_id: instance.id.clone(),
                        id: resource.id.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The seed as pretty JSON in the file format.
    pub fn to_json_pretty(&self) -> Result<String, SeedError> {
        Ok(serde_json::to_string_pretty(self)?)
    }
}

impl InstanceSeed {
    /// An empty SAML instance with Connect's defaults.
    pub fn new(id: impl Into<String>) -> Self {
        InstanceSeed {
            id: id.into(),
            identity_management_type: IdentityManagementType::Saml,
            max_users: DEFAULT_MAX_USERS,
            require_names: true,
            saml_email: SamlEmailPolicy::Optional,
            routing_profiles: Vec::new(),
            security_profiles: Vec::new(),
            hierarchy_groups: Vec::new(),
            users: Vec::new(),
        }
    }

    /// Sets the identity management type.
    pub fn identity_management(mut self, kind: IdentityManagementType) -> Self {
        self.identity_management_type = kind;
        self
    }

    /// Sets the users-per-instance quota.
    pub fn max_users(mut self, max_users: usize) -> Self {
        self.max_users = max_users;
        self
    }

    /// Adds a routing profile.
    pub fn routing_profile(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.routing_profiles.push(NamedResource::new(id, name));
        self
    }

    /// Adds a security profile.
    pub fn security_profile(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.security_profiles.push(NamedResource::new(id, name));
        self
    }

    /// Adds a hierarchy group.
    pub fn hierarchy_group(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.hierarchy_groups.push(NamedResource::new(id, name));
        self
    }

    /// The instance this seed describes, with ARNs in `region` and `account_id`.
    pub(crate) fn to_instance(&self, region: &str, account_id: &str) -> Instance {
        Instance {
            id: self.id.clone(),
            region: region.to_owned(),
            account_id: account_id.to_owned(),
            identity_management_type: self.identity_management_type,
            max_users: self.max_users,
            require_names: self.require_names,
            saml_email: self.saml_email,
            routing_profiles: self.routing_profiles.clone(),
            security_profiles: self.security_profiles.clone(),
            hierarchy_groups: self.hierarchy_groups.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_seed_matches_config_ini_defaults() {
        let seed = Seed::from_json(DEFAULT_SEED_JSON).unwrap();
        assert_eq!(seed, Seed::default());
        assert_eq!(seed.region, DEFAULT_REGION);
        assert_eq!(seed.account_id, DEFAULT_ACCOUNT_ID);
        let [instance] = seed.instances.as_slice() else {
            panic!("default seed must hold exactly one instance");
        };
        assert_eq!(instance.id, DEFAULT_INSTANCE_ID);
        assert_eq!(
            instance.identity_management_type,
            IdentityManagementType::Saml
        );
        assert_eq!(instance.max_users, DEFAULT_MAX_USERS);
        let names = |list: &[NamedResource]| -> Vec<(String, String)> {
            list.iter()
                .map(|r| (r.id.clone(), r.name.clone()))
                .collect()
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(i, n)| ((*i).to_owned(), (*n).to_owned()))
                .collect()
        };
        assert_eq!(
            names(&instance.routing_profiles),
            pairs(&[
                (DEFAULT_ROUTING_PROFILE_ID, "Basic Routing Profile"),
                (SUPERVISORS_ROUTING_PROFILE_ID, "Supervisors"),
            ])
        );
        assert_eq!(
            names(&instance.security_profiles),
            pairs(&[
                (AGENT_SECURITY_PROFILE_ID, "Agent"),
                (CALL_CENTER_MANAGER_SECURITY_PROFILE_ID, "CallCenterManager"),
                (QUALITY_ANALYST_SECURITY_PROFILE_ID, "QualityAnalyst"),
                (SUPERVISOR_SECURITY_PROFILE_ID, "Supervisor"),
                (NO_PERMISSIONS_SECURITY_PROFILE_ID, "NoPermissions"),
            ])
        );
        assert_eq!(
            names(&instance.hierarchy_groups),
            pairs(&[(SUPERVISORS_HIERARCHY_GROUP_ID, "Supervisors")])
        );
    }

    #[test]
    fn members_default_and_typos_are_rejected() {
        let seed = Seed::from_json(r#"{"instances":[{"id":"i-1"}]}"#).unwrap();
        assert_eq!(seed.region, DEFAULT_REGION);
        assert_eq!(seed.instances[0].max_users, DEFAULT_MAX_USERS);
        assert!(seed.instances[0].require_names);
        assert!(matches!(
            Seed::from_json(r#"{"instances":[{"id":"i-1","maxUser":3}]}"#),
            Err(SeedError::Parse(_))
        ));
    }

    #[test]
    fn inconsistent_seeds_are_rejected() {
        let twice = Seed::empty()
            .with_instance(InstanceSeed::new("a"))
            .with_instance(InstanceSeed::new("a"));
        assert!(matches!(twice.check(), Err(SeedError::DuplicateInstance(id)) if id == "a"));
        let empty_id = Seed::empty().with_instance(InstanceSeed::new(""));
        assert!(matches!(
            empty_id.check(),
            Err(SeedError::InvalidInstanceId(_))
        ));
        let repeated = Seed::empty().with_instance(
            InstanceSeed::new("a")
                .routing_profile("x", "one")
                .security_profile("x", "two"),
        );
        assert!(matches!(
            repeated.check(),
            Err(SeedError::DuplicateResourceId { id, .. }) if id == "x"
        ));
    }
}
