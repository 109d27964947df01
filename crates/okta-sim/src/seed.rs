//! Seeds: the users, groups and apps an org starts with.
//!
//! ```json
//! {
//!   "users":  [{ "id": "00u… (optional)", "status": "ACTIVE",
//!                "profile": { "login": "a@x", "firstName": "A", "lastName": "B", "email": "a@x" } }],
//!   "groups": [{ "id": "00g… (optional)", "name": "amazon_connect", "description": "optional",
//!                "members": ["a@x or 00u…"] }],
//!   "apps":   [{ "id": "0oa… (optional)", "label": "Contact Centre", "name": "amazon_aws",
//!                "catalogDisplayName": "AWS Account Federation",
//!                "assignees": ["a@x or 00u…"], "groups": ["group name or 00g…"] }]
//! }
//! ```
//!
//! Every list may be omitted. Defaults: user `status` ACTIVE; app `name` `amazon_aws`;
//! `catalogDisplayName` "AWS Account Federation" for `amazon_aws` (otherwise the label).
//! `assignees` are direct (USER-scope) assignments, with the login as the app username;
//! the members of `groups` become GROUP-scope app users. Absent ids are generated
//! (prefix + 17 alphanumerics). Unknown members, duplicate ids, logins or group names, and
//! references to users or groups the seed does not define are refused with an error that
//! names them. Seeding records no System Log events.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::Error;
use crate::model::{App, Assignment, Group, User, UserStatus};
use crate::util::okta_id;

/// The built-in demo seed the binary starts with when given no `--seed` (groups
/// `amazon_connect` and `connect_supervisors`, the "AWS Account Federation" app, three
/// users), matching the project's default `config.ini`.
pub const DEMO_SEED_JSON: &str = include_str!("../seeds/demo.json");

/// A seed document (see the [module docs](self) for the format).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Users.
    #[serde(default)]
    pub users: Vec<UserSeed>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<GroupSeed>,
    /// Apps.
    #[serde(default)]
    pub apps: Vec<AppSeed>,
}

/// One seeded user.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSeed {
    /// `00u…`; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// `ACTIVE` (default), `STAGED`, `PROVISIONED`, `SUSPENDED` or `DEPROVISIONED`.
    #[serde(default)]
    pub status: Option<String>,
    /// The profile; `login` is required.
    pub profile: Map<String, Value>,
}

/// One seeded group.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSeed {
    /// `00g…`; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// `profile.name`.
    pub name: String,
    /// `profile.description`.
    #[serde(default)]
    pub description: Option<String>,
    /// Members by login or id.
    #[serde(default)]
    pub members: Vec<String>,
}

/// One seeded app.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppSeed {
    /// `0oa…`; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The instance label.
    pub label: String,
    /// The catalog key (default `amazon_aws`).
    #[serde(default)]
    pub name: Option<String>,
    /// The catalog display name.
    #[serde(default)]
    pub catalog_display_name: Option<String>,
    /// Directly assigned users by login or id.
    #[serde(default)]
    pub assignees: Vec<String>,
    /// Assigned groups by name or id.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// The objects a seed creates.
pub(crate) struct Seeded {
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub apps: BTreeMap<String, App>,
}

fn check_id(kind: &str, id: &str, prefix: &str) -> Result<(), Error> {
    if id.starts_with(prefix)
        && id.len() > prefix.len()
        && id.chars().all(|c| c.is_ascii_alphanumeric())
    {
        Ok(())
    } else {
        Err(Error::Seed(format!(
            "{kind} id {id:?} must be {prefix} followed by letters and digits"
        )))
    }
}

impl Seed {
    /// Parses a seed document.
    pub fn from_json(text: &str) -> Result<Seed, Error> {
        serde_json::from_str(text).map_err(|e| Error::Seed(e.to_string()))
    }

    /// Reads and parses a seed file.
    pub fn load(path: impl AsRef<Path>) -> Result<Seed, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::SeedFile {
            path: path.to_owned(),
            source,
        })?;
        Seed::from_json(&text)
    }

    /// The built-in demo seed ([`DEMO_SEED_JSON`]).
    pub fn demo() -> Seed {
        // The file is part of the crate and covered by a unit test; an empty org is the
        // safe answer should it ever fail to parse.
        Seed::from_json(DEMO_SEED_JSON).unwrap_or_default()
    }

    /// Validates the seed and builds the objects, without events.
    pub(crate) fn build(&self, now: OffsetDateTime) -> Result<Seeded, Error> {
        let mut users = BTreeMap::new();
        let mut by_login: BTreeMap<String, String> = BTreeMap::new();
        for seed in &self.users {
            let login = seed
                .profile
                .get("login")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
                .ok_or_else(|| Error::Seed("a user has no profile.login".into()))?;
            let id = match &seed.id {
                Some(id) => {
                    check_id("user", id, "00u")?;
                    id.clone()
                }
                None => okta_id("00u"),
            };
            let status = match &seed.status {
                Some(s) => s
                    .parse::<UserStatus>()
                    .map_err(|e| Error::Seed(format!("user {login}: {e}")))?,
                None => UserStatus::Active,
            };
            if by_login
                .insert(login.to_ascii_lowercase(), id.clone())
                .is_some()
            {
                return Err(Error::Seed(format!("duplicate user login {login:?}")));
            }
            let activated = (status != UserStatus::Staged).then_some(now);
            let user = User {
                id: id.clone(),
                status,
                profile: seed.profile.clone(),
                created: now,
                activated,
                status_changed: activated,
                last_updated: now,
            };
            if users.insert(id.clone(), user).is_some() {
                return Err(Error::Seed(format!("duplicate user id {id:?}")));
            }
        }
        let resolve_user = |reference: &str, owner: &str| -> Result<String, Error> {
            if users.contains_key(reference) {
                return Ok(reference.to_owned());
            }
            by_login
                .get(&reference.to_ascii_lowercase())
                .cloned()
                .ok_or_else(|| Error::Seed(format!("{owner} names unknown user {reference:?}")))
        };

        let mut groups = BTreeMap::new();
        let mut names = BTreeSet::new();
        for seed in &self.groups {
            let id = match &seed.id {
                Some(id) => {
                    check_id("group", id, "00g")?;
                    id.clone()
                }
                None => okta_id("00g"),
            };
            if !names.insert(seed.name.to_ascii_lowercase()) {
                return Err(Error::Seed(format!("duplicate group name {:?}", seed.name)));
            }
            let owner = format!("group {:?}", seed.name);
            let members = seed
                .members
                .iter()
                .map(|m| resolve_user(m, &owner))
                .collect::<Result<BTreeSet<_>, _>>()?;
            let group = Group {
                id: id.clone(),
                name: seed.name.clone(),
                description: seed.description.clone(),
                members,
                created: now,
                last_updated: now,
                last_membership_updated: now,
            };
            if groups.insert(id.clone(), group).is_some() {
                return Err(Error::Seed(format!("duplicate group id {id:?}")));
            }
        }

        let mut apps = BTreeMap::new();
        for seed in &self.apps {
            let id = match &seed.id {
                Some(id) => {
                    check_id("app", id, "0oa")?;
                    id.clone()
                }
                None => okta_id("0oa"),
            };
            let owner = format!("app {:?}", seed.label);
            let mut assigned = BTreeMap::new();
            for reference in &seed.assignees {
                let uid = resolve_user(reference, &owner)?;
                let login = users
                    .get(&uid)
                    .map(|u: &User| u.login().to_owned())
                    .unwrap_or_default();
                assigned.insert(
                    uid,
                    Assignment {
                        user_name: login,
                        created: now,
                    },
                );
            }
            let mut app_groups = BTreeSet::new();
            for reference in &seed.groups {
                let gid = groups
                    .values()
                    .find(|g: &&Group| g.id == *reference || g.name.eq_ignore_ascii_case(reference))
                    .map(|g| g.id.clone())
                    .ok_or_else(|| {
                        Error::Seed(format!("{owner} names unknown group {reference:?}"))
                    })?;
                app_groups.insert(gid);
            }
            let name = seed.name.clone().unwrap_or_else(|| "amazon_aws".to_owned());
            let catalog_display_name = seed
                .catalog_display_name
                .clone()
                .unwrap_or_else(|| App::catalog_name_for(&name, &seed.label));
            let app = App {
                id: id.clone(),
                name,
                label: seed.label.clone(),
                catalog_display_name,
                users: assigned,
                groups: app_groups,
                app_user_ids: BTreeMap::new(),
                created: now,
                last_updated: now,
            };
            if apps.insert(id.clone(), app).is_some() {
                return Err(Error::Seed(format!("duplicate app id {id:?}")));
            }
        }
        Ok(Seeded {
            users,
            groups,
            apps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(text: &str) -> Result<Seeded, Error> {
        Seed::from_json(text)?.build(OffsetDateTime::now_utc())
    }

    #[test]
    fn demo_seed_parses_and_builds() {
        let seed = Seed::from_json(DEMO_SEED_JSON).unwrap();
        let built = seed.build(OffsetDateTime::now_utc()).unwrap();
        assert_eq!(built.users.len(), 3);
        assert_eq!(built.groups.len(), 2);
        let app = built.apps.values().next().unwrap();
        assert_eq!(app.catalog_display_name, "AWS Account Federation");
        assert_eq!(app.users.len(), 1);
    }

    #[test]
    fn references_resolve_by_login_or_id() {
        let built = build(
            r#"{"users":[{"id":"00uAAAAAAAAAAAAAAAAA","profile":{"login":"a@x"}},{"profile":{"login":"b@x"}}],
                "groups":[{"name":"g","members":["00uAAAAAAAAAAAAAAAAA","B@X"]}],
                "apps":[{"label":"L","name":"other","assignees":["a@x"],"groups":["g"]}]}"#,
        )
        .unwrap();
        let group = built.groups.values().next().unwrap();
        assert_eq!(group.members.len(), 2);
        assert!(group.id.starts_with("00g") && group.id.len() == 20);
        let app = built.apps.values().next().unwrap();
        assert_eq!(app.catalog_display_name, "L");
        assert_eq!(app.users["00uAAAAAAAAAAAAAAAAA"].user_name, "a@x");
        assert_eq!(app.groups.len(), 1);
    }

    #[test]
    fn bad_seeds_are_refused_with_the_culprit_named() {
        let cases = [
            (
                r#"{"groups":[{"name":"g","members":["ghost@x"]}]}"#,
                "ghost@x",
            ),
            (
                r#"{"apps":[{"label":"L","assignees":["ghost@x"]}]}"#,
                "ghost@x",
            ),
            (r#"{"apps":[{"label":"L","groups":["nope"]}]}"#, "nope"),
            (
                r#"{"users":[{"profile":{"login":"a"}},{"profile":{"login":"A"}}]}"#,
                "duplicate user login",
            ),
            (r#"{"users":[{"profile":{"firstName":"a"}}]}"#, "login"),
            (
                r#"{"users":[{"status":"HAPPY","profile":{"login":"a"}}]}"#,
                "HAPPY",
            ),
            (r#"{"users":[{"id":"xyz","profile":{"login":"a"}}]}"#, "xyz"),
            (
                r#"{"groups":[{"name":"g"},{"name":"G"}]}"#,
                "duplicate group name",
            ),
            (r#"{"usres":[]}"#, "usres"),
        ];
        for (text, needle) in cases {
            let error = build(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }
}
