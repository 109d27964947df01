//! The simulated instances and users, and the rules Connect applies to user changes.
//!
//! Everything here is synchronous and free of I/O so the rules are unit-testable; the
//! server holds a [`Directory`] behind a mutex.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, SeedError};
use crate::model::{
    IdentityInfo, IdentityManagementType, Instance, InstanceUser, NamedResource, PhoneConfig,
    SamlEmailPolicy, User,
};
use crate::search::Criteria;
use crate::seed::{InstanceSeed, Seed};

/// Connect's limit on security profiles per user.
pub const MAX_SECURITY_PROFILES: usize = 10;

/// Connect's limit on tags per resource (and per CreateUser/TagResource/UntagResource
/// request).
pub const MAX_TAGS: usize = 50;
/// Connect's longest tag key.
pub const MAX_TAG_KEY: usize = 128;
/// Connect's longest tag value.
pub const MAX_TAG_VALUE: usize = 256;

/// What CreateUser takes, once the request's required members are known to be present.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewUser {
    /// The username.
    pub username: String,
    /// The password (CONNECT_MANAGED instances only). Never stored.
    pub password: Option<String>,
    /// Identity information.
    pub identity_info: IdentityInfo,
    /// Phone settings; Connect's defaults (SOFT_PHONE) when absent.
    pub phone_config: Option<PhoneConfig>,
    /// Directory user id (EXISTING_DIRECTORY instances only).
    pub directory_user_id: Option<String>,
    /// Security profile ids (1–10).
    pub security_profile_ids: Vec<String>,
    /// Routing profile id.
    pub routing_profile_id: String,
    /// Hierarchy group id.
    pub hierarchy_group_id: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// One instance and its users, keyed by user id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstanceState {
    pub instance: Instance,
    pub users: BTreeMap<String, User>,
}

impl InstanceState {
    fn user_named(&self, username: &str) -> Option<&User> {
        // Usernames are unique regardless of case, so `Jane` and `jane` cannot coexist.
        self.users
            .values()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    fn user(&self, user_id: &str) -> Result<&User, ApiError> {
        self.users
            .get(user_id)
            .ok_or_else(|| ApiError::UserNotFound {
                instance_id: self.instance.id.clone(),
                user_id: user_id.to_owned(),
            })
    }

    fn user_mut(&mut self, user_id: &str) -> Result<&mut User, ApiError> {
        let instance_id = &self.instance.id;
        self.users
            .get_mut(user_id)
            .ok_or_else(|| ApiError::UserNotFound {
                instance_id: instance_id.clone(),
                user_id: user_id.to_owned(),
            })
    }
}

/// All instances and users.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Directory {
    pub instances: BTreeMap<String, InstanceState>,
}

/// A page request: `maxResults` already range-checked, `nextToken` as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub max_results: usize,
    pub next_token: Option<String>,
}

/// One page of results and the token for the next, if more remain.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

impl Directory {
    /// Adds or updates the seed's instances, then creates its users.
    ///
    /// An instance already present keeps its users and takes the seed's catalogue
    /// (profiles, groups, quota, rules). Seeded users whose username or id already exists
    /// are skipped, so applying a seed again is harmless.
    pub fn apply_seed(
        &mut self,
        seed: &Seed,
        new_id: &mut dyn FnMut() -> String,
        now: f64,
    ) -> Result<(), SeedError> {
        seed.check()?;
        for instance_seed in &seed.instances {
            self.apply_instance_seed(instance_seed, &seed.region, &seed.account_id, new_id, now)?;
        }
        Ok(())
    }

    fn apply_instance_seed(
        &mut self,
        seed: &InstanceSeed,
        region: &str,
        account_id: &str,
        new_id: &mut dyn FnMut() -> String,
        now: f64,
    ) -> Result<(), SeedError> {
        let instance = seed.to_instance(region, account_id);
        match self.instances.get_mut(&seed.id) {
            Some(state) => state.instance = instance,
            None => {
                self.instances.insert(
                    seed.id.clone(),
                    InstanceState {
                        instance,
                        users: BTreeMap::new(),
                    },
                );
            }
        }
        for user in &seed.users {
            let exists = self.instances.get(&seed.id).is_some_and(|state| {
                state.user_named(&user.username).is_some()
                    || user
                        .id
                        .as_ref()
                        .is_some_and(|id| state.users.contains_key(id))
            });
            if exists {
                continue;
            }
            let id = user.id.clone().unwrap_or_else(&mut *new_id);
            let request = NewUser {
                username: user.username.clone(),
                password: user.password.clone(),
                identity_info: IdentityInfo {
                    first_name: user.first_name.clone(),
                    last_name: user.last_name.clone(),
                    email: user.email.clone(),
                    ..IdentityInfo::default()
                },
                security_profile_ids: user.security_profile_ids.clone(),
                routing_profile_id: user.routing_profile_id.clone(),
                hierarchy_group_id: user.hierarchy_group_id.clone(),
                tags: user.tags.clone(),
                ..NewUser::default()
            };
            self.create_user(&seed.id, request, id, now)
                .map_err(|source| SeedError::User {
                    instance_id: seed.id.clone(),
                    username: user.username.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    fn instance(&self, instance_id: &str) -> Result<&InstanceState, ApiError> {
        self.instances
            .get(instance_id)
            .ok_or_else(|| ApiError::InstanceNotFound(instance_id.to_owned()))
    }

    fn instance_mut(&mut self, instance_id: &str) -> Result<&mut InstanceState, ApiError> {
        self.instances
            .get_mut(instance_id)
            .ok_or_else(|| ApiError::InstanceNotFound(instance_id.to_owned()))
    }

    /// CreateUser: checks the request against the instance's rules and stores the user
    /// under `user_id`.
    pub fn create_user(
        &mut self,
        instance_id: &str,
        request: NewUser,
        user_id: String,
        now: f64,
    ) -> Result<&User, ApiError> {
        let state = self.instance_mut(instance_id)?;
        let instance = &state.instance;
        validate_username(instance.identity_management_type, &request.username)?;
        validate_password(
            instance.identity_management_type,
            request.password.as_deref(),
        )?;
        if request.directory_user_id.is_some()
            && instance.identity_management_type != IdentityManagementType::ExistingDirectory
        {
            return Err(ApiError::DirectoryUserIdNotAllowed);
        }
        validate_identity_info(instance, &request.identity_info)?;
        let phone_config = request.phone_config.unwrap_or_default();
        validate_phone_config(&phone_config)?;
        validate_security_profiles(instance, &request.security_profile_ids)?;
        validate_routing_profile(instance, &request.routing_profile_id)?;
        if let Some(group) = &request.hierarchy_group_id {
            validate_hierarchy_group(instance, group)?;
        }
        validate_tags(&request.tags)?;
        if state.user_named(&request.username).is_some() {
            return Err(ApiError::DuplicateUsername {
                username: request.username,
                instance_id: instance_id.to_owned(),
            });
        }
        if state.users.len() >= state.instance.max_users {
            return Err(ApiError::UserQuotaExceeded {
                instance_id: instance_id.to_owned(),
                limit: state.instance.max_users,
            });
        }
        let user = User {
            arn: state.instance.user_arn(&user_id),
            id: user_id.clone(),
            username: request.username,
            identity_info: request.identity_info,
            phone_config,
            directory_user_id: request.directory_user_id,
            security_profile_ids: request.security_profile_ids,
            routing_profile_id: request.routing_profile_id,
            hierarchy_group_id: request.hierarchy_group_id,
            tags: request.tags,
            last_modified_time: now,
            last_modified_region: state.instance.region.clone(),
        };
        Ok(state.users.entry(user_id).or_insert(user))
    }

    /// DescribeUser.
    pub fn describe_user(&self, instance_id: &str, user_id: &str) -> Result<&User, ApiError> {
        self.instance(instance_id)?.user(user_id)
    }

    /// DeleteUser.
    pub fn delete_user(&mut self, instance_id: &str, user_id: &str) -> Result<User, ApiError> {
        let state = self.instance_mut(instance_id)?;
        state.user(user_id)?;
        state
            .users
            .remove(user_id)
            .ok_or_else(|| ApiError::UserNotFound {
                instance_id: instance_id.to_owned(),
                user_id: user_id.to_owned(),
            })
    }

    /// UpdateUserIdentityInfo: replaces the whole identity information, as Connect does.
    pub fn update_identity_info(
        &mut self,
        instance_id: &str,
        user_id: &str,
        info: IdentityInfo,
        now: f64,
    ) -> Result<(), ApiError> {
        let state = self.instance_mut(instance_id)?;
        state.user(user_id)?;
        validate_identity_info(&state.instance, &info)?;
        let user = state.user_mut(user_id)?;
        user.identity_info = info;
        user.last_modified_time = now;
        Ok(())
    }

    /// UpdateUserSecurityProfiles: replaces the list (1–10 profiles of the instance).
    pub fn update_security_profiles(
        &mut self,
        instance_id: &str,
        user_id: &str,
        ids: Vec<String>,
        now: f64,
    ) -> Result<(), ApiError> {
        let state = self.instance_mut(instance_id)?;
        state.user(user_id)?;
        validate_security_profiles(&state.instance, &ids)?;
        let user = state.user_mut(user_id)?;
        user.security_profile_ids = ids;
        user.last_modified_time = now;
        Ok(())
    }

    /// UpdateUserRoutingProfile.
    pub fn update_routing_profile(
        &mut self,
        instance_id: &str,
        user_id: &str,
        id: String,
        now: f64,
    ) -> Result<(), ApiError> {
        let state = self.instance_mut(instance_id)?;
        state.user(user_id)?;
        validate_routing_profile(&state.instance, &id)?;
        let user = state.user_mut(user_id)?;
        user.routing_profile_id = id;
        user.last_modified_time = now;
        Ok(())
    }

    /// UpdateUserHierarchy: `None` removes the user from any group.
    pub fn update_hierarchy(
        &mut self,
        instance_id: &str,
        user_id: &str,
        group: Option<String>,
        now: f64,
    ) -> Result<(), ApiError> {
        let state = self.instance_mut(instance_id)?;
        state.user(user_id)?;
        if let Some(group) = &group {
            validate_hierarchy_group(&state.instance, group)?;
        }
        let user = state.user_mut(user_id)?;
        user.hierarchy_group_id = group;
        user.last_modified_time = now;
        Ok(())
    }

    /// The user a user ARN (`arn:aws:connect:{region}:{account}:instance/{id}/agent/{userId}`)
    /// names. Another instance resource is `UntaggableResource`; an ARN of no instance or
    /// user here is `ResourceNotFound`.
    fn user_by_arn_mut(&mut self, arn: &str) -> Result<&mut User, ApiError> {
        if !arn.starts_with("arn:") || arn.split(':').count() < 6 {
            return Err(ApiError::InvalidResourceArn(arn.to_owned()));
        }
        let not_found = || ApiError::ResourceNotFound(arn.to_owned());
        let state = self
            .instances
            .values_mut()
            .find(|state| {
                arn.strip_prefix(&state.instance.arn())
                    .is_some_and(|rest| rest.starts_with('/'))
            })
            .ok_or_else(not_found)?;
        let rest = arn
            .strip_prefix(&state.instance.arn())
            .unwrap_or_default()
            .trim_start_matches('/');
        let user_id = rest
            .strip_prefix("agent/")
            .ok_or_else(|| ApiError::UntaggableResource(arn.to_owned()))?;
        state
            .users
            .get_mut(user_id)
            .filter(|user| user.arn == arn)
            .ok_or_else(not_found)
    }

    /// TagResource on a user ARN: adds `tags`, replacing the values of keys it has, and
    /// keeps the other tags. Nothing changes when the request or the result breaks the
    /// tag rules.
    pub fn tag_resource(
        &mut self,
        arn: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), ApiError> {
        if tags.is_empty() {
            return Err(ApiError::InvalidTags("tags must not be empty".into()));
        }
        validate_tags(&tags)?;
        let user = self.user_by_arn_mut(arn)?;
        let mut merged = user.tags.clone();
        merged.extend(tags);
        if merged.len() > MAX_TAGS {
            return Err(ApiError::InvalidTags(format!(
                "a resource can have at most {MAX_TAGS} tags; this would make {}",
                merged.len()
            )));
        }
        user.tags = merged;
        Ok(())
    }

    /// UntagResource on a user ARN: removes these keys (absent ones are ignored).
    pub fn untag_resource(&mut self, arn: &str, keys: &[String]) -> Result<(), ApiError> {
        if keys.is_empty() || keys.len() > MAX_TAGS {
            return Err(ApiError::InvalidTags(format!(
                "tagKeys must list 1 to {MAX_TAGS} keys, got {}",
                keys.len()
            )));
        }
        for key in keys {
            validate_tag_key(key)?;
        }
        let user = self.user_by_arn_mut(arn)?;
        for key in keys {
            user.tags.remove(key);
        }
        Ok(())
    }

    /// ListUsers / SearchUsers: the instance's users matching `criteria`, ordered by
    /// username, one page at a time; also the total number of matches.
    pub fn find_users(
        &self,
        instance_id: &str,
        criteria: &Criteria,
        page: &PageRequest,
    ) -> Result<(Page<&User>, usize), ApiError> {
        let state = self.instance(instance_id)?;
        let matching: Vec<(String, &User)> = state
            .users
            .values()
            .filter(|u| criteria.matches(u))
            .map(|u| (sort_key(&u.username, &u.id), u))
            .collect();
        let total = matching.len();
        Ok((paginate(matching, page)?, total))
    }

    /// ListSecurityProfiles / ListRoutingProfiles: a page of the given catalogue list,
    /// ordered by name.
    pub fn list_resources<'a>(
        &'a self,
        instance_id: &str,
        pick: fn(&Instance) -> &Vec<NamedResource>,
        page: &PageRequest,
    ) -> Result<(&'a Instance, Page<&'a NamedResource>), ApiError> {
        let instance = &self.instance(instance_id)?.instance;
        let items = pick(instance)
            .iter()
            .map(|r| (sort_key(&r.name, &r.id), r))
            .collect();
        Ok((instance, paginate(items, page)?))
    }

    /// Every user of every instance, ordered by instance then username.
    pub fn all_users(&self) -> Vec<InstanceUser> {
        let mut users: Vec<InstanceUser> = self
            .instances
            .values()
            .flat_map(|state| {
                state.users.values().map(|user| InstanceUser {
                    instance_id: state.instance.id.clone(),
                    user: user.clone(),
                })
            })
            .collect();
        users.sort_by_key(|u| {
            (
                u.instance_id.clone(),
                sort_key(&u.user.username, &u.user.id),
            )
        });
        users
    }
}

/// Orders case-insensitively by name, with the id to break ties, so pages are stable.
fn sort_key(name: &str, id: &str) -> String {
    format!("{}\u{0}{id}", name.to_ascii_lowercase())
}

/// Slices sorted-by-key items into a page. The token is the hex of the last key served,
/// so a page stays correct when items before it are deleted between calls.
fn paginate<T>(mut items: Vec<(String, T)>, page: &PageRequest) -> Result<Page<T>, ApiError> {
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let after = page.next_token.as_deref().map(decode_token).transpose()?;
    let mut rest = items
        .into_iter()
        .filter(|(key, _)| after.as_ref().is_none_or(|after| key > after))
        .peekable();
    let mut served = Vec::new();
    let mut last_key = None;
    while served.len() < page.max_results {
        let Some((key, item)) = rest.next() else {
            break;
        };
        served.push(item);
        last_key = Some(key);
    }
    let next_token = match (rest.peek(), last_key) {
        (Some(_), Some(key)) => Some(encode_token(&key)),
        _ => None,
    };
    Ok(Page {
        items: served,
        next_token,
    })
}

fn encode_token(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str) -> Result<String, ApiError> {
    if token.is_empty() || !token.len().is_multiple_of(2) {
        return Err(ApiError::InvalidNextToken);
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or(ApiError::InvalidNextToken)?;
    String::from_utf8(bytes).map_err(|_| ApiError::InvalidNextToken)
}

/// Connect's username rules: on SAML instances at most 64 of `[A-Za-z0-9_.@-]`; elsewhere
/// at most 100 of the same set.
pub(crate) fn validate_username(
    kind: IdentityManagementType,
    username: &str,
) -> Result<(), ApiError> {
    let invalid = |rule| {
        Err(ApiError::InvalidUsername {
            username: username.to_owned(),
            rule,
        })
    };
    let max = match kind {
        IdentityManagementType::Saml => 64,
        IdentityManagementType::ConnectManaged | IdentityManagementType::ExistingDirectory => 100,
    };
    if username.is_empty() {
        return invalid("must not be empty");
    }
    if username.chars().count() > max {
        return match kind {
            IdentityManagementType::Saml => {
                invalid("must be at most 64 characters on SAML instances")
            }
            _ => invalid("must be at most 100 characters"),
        };
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-');
    if !username.chars().all(allowed) {
        return invalid("may only contain A-Z, a-z, 0-9 and _ . @ -");
    }
    Ok(())
}

/// SAML instances take no password; CONNECT_MANAGED ones need a strong one.
pub(crate) fn validate_password(
    kind: IdentityManagementType,
    password: Option<&str>,
) -> Result<(), ApiError> {
    match (kind, password) {
        (IdentityManagementType::Saml, Some(_)) => Err(ApiError::PasswordOnSaml),
        (IdentityManagementType::ConnectManaged, None) => Err(ApiError::PasswordRequired),
        (_, Some(password)) => {
            let length_ok = (8..=64).contains(&password.chars().count());
            let has = |test: fn(char) -> bool| password.chars().any(test);
            let strong = has(|c| c.is_ascii_uppercase())
                && has(|c| c.is_ascii_lowercase())
                && has(|c| c.is_ascii_digit());
            if length_ok && strong {
                Ok(())
            } else {
                Err(ApiError::WeakPassword)
            }
        }
        (_, None) => Ok(()),
    }
}

/// Names are required where the instance says so; Email follows the SAML switch; lengths
/// follow Connect's limits (names ≤ 100).
pub(crate) fn validate_identity_info(
    instance: &Instance,
    info: &IdentityInfo,
) -> Result<(), ApiError> {
    let names_required = instance.require_names
        && instance.identity_management_type != IdentityManagementType::ExistingDirectory;
    let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if names_required && !present(&info.first_name) {
        return Err(ApiError::InvalidIdentityInfo("FirstName is required"));
    }
    if names_required && !present(&info.last_name) {
        return Err(ApiError::InvalidIdentityInfo("LastName is required"));
    }
    let too_long = |v: &Option<String>| v.as_deref().is_some_and(|s| s.chars().count() > 100);
    if too_long(&info.first_name) || too_long(&info.last_name) {
        return Err(ApiError::InvalidIdentityInfo(
            "FirstName and LastName must be at most 100 characters",
        ));
    }
    if instance.identity_management_type == IdentityManagementType::Saml {
        match (instance.saml_email, info.email.is_some()) {
            (SamlEmailPolicy::Required, false) => {
                return Err(ApiError::InvalidIdentityInfo(
                    "Email is required on this instance",
                ));
            }
            (SamlEmailPolicy::Forbidden, true) => {
                return Err(ApiError::InvalidIdentityInfo(
                    "Email is not allowed on this instance",
                ));
            }
            _ => {}
        }
    }
    for email in [&info.email, &info.secondary_email].into_iter().flatten() {
        let well_formed = email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !well_formed {
            return Err(ApiError::InvalidIdentityInfo(
                "Email is not a valid email address",
            ));
        }
    }
    Ok(())
}

/// Connect's tag rules for CreateUser and TagResource: at most [`MAX_TAGS`] tags, each key
/// valid ([`validate_tag_key`]), each value at most [`MAX_TAG_VALUE`] characters.
pub(crate) fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::InvalidTags(format!(
            "at most {MAX_TAGS} tags, got {}",
            tags.len()
        )));
    }
    for (key, value) in tags {
        validate_tag_key(key)?;
        if value.chars().count() > MAX_TAG_VALUE {
            return Err(ApiError::InvalidTags(format!(
                "the value of tag {key:?} is longer than {MAX_TAG_VALUE} characters"
            )));
        }
    }
    Ok(())
}

/// A tag key: 1–[`MAX_TAG_KEY`] characters of letters, digits, spaces and `_.:/=+-@`
/// (Connect's pattern `^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`), not starting with the
/// reserved `aws:` in any letter case.
pub(crate) fn validate_tag_key(key: &str) -> Result<(), ApiError> {
    let length = key.chars().count();
    if length == 0 || length > MAX_TAG_KEY {
        return Err(ApiError::InvalidTags(format!(
            "tag key {key:?} must be 1 to {MAX_TAG_KEY} characters"
        )));
    }
    if key
        .get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
    {
        return Err(ApiError::InvalidTags(format!(
            "tag key {key:?} uses the reserved prefix aws:"
        )));
    }
    let allowed = |c: char| {
        c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
    };
    if !key.chars().all(allowed) {
        return Err(ApiError::InvalidTags(format!(
            "tag key {key:?} may only contain letters, digits, spaces and _ . : / = + - @"
        )));
    }
    Ok(())
}

/// `PhoneType` is SOFT_PHONE or DESK_PHONE; a desk phone needs its number.
pub(crate) fn validate_phone_config(config: &PhoneConfig) -> Result<(), ApiError> {
    match config.phone_type.as_str() {
        "SOFT_PHONE" => {}
        "DESK_PHONE" if config.desk_phone_number.is_some() => {}
        "DESK_PHONE" => {
            return Err(ApiError::InvalidPhoneConfig(
                "DeskPhoneNumber is required for DESK_PHONE",
            ));
        }
        _ => {
            return Err(ApiError::InvalidPhoneConfig(
                "PhoneType must be SOFT_PHONE or DESK_PHONE",
            ));
        }
    }
    if config.after_contact_work_time_limit < 0 {
        return Err(ApiError::InvalidPhoneConfig(
            "AfterContactWorkTimeLimit must not be negative",
        ));
    }
    Ok(())
}

/// 1–10 ids, each a security profile of the instance.
pub(crate) fn validate_security_profiles(
    instance: &Instance,
    ids: &[String],
) -> Result<(), ApiError> {
    if ids.is_empty() || ids.len() > MAX_SECURITY_PROFILES {
        return Err(ApiError::SecurityProfileCount(ids.len()));
    }
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !instance.has_security_profile(id))
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::UnknownSecurityProfiles(unknown))
    }
}

pub(crate) fn validate_routing_profile(instance: &Instance, id: &str) -> Result<(), ApiError> {
    if instance.has_routing_profile(id) {
        Ok(())
    } else {
        Err(ApiError::UnknownRoutingProfile(id.to_owned()))
    }
}

pub(crate) fn validate_hierarchy_group(instance: &Instance, id: &str) -> Result<(), ApiError> {
    if instance.has_hierarchy_group(id) {
        Ok(())
    } else {
        Err(ApiError::UnknownHierarchyGroup(id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{
        AGENT_SECURITY_PROFILE_ID, DEFAULT_INSTANCE_ID, DEFAULT_ROUTING_PROFILE_ID,
        NO_PERMISSIONS_SECURITY_PROFILE_ID, SUPERVISORS_HIERARCHY_GROUP_ID,
    };

    fn directory() -> Directory {
        let mut dir = Directory::default();
        let mut n = 0;
        let mut ids = || {
            n += 1;
            format!("seed-{n}")
        };
        dir.apply_seed(&Seed::default(), &mut ids, 1.0).unwrap();
        dir
    }

    fn new_user(username: &str) -> NewUser {
        NewUser {
            username: username.into(),
            identity_info: IdentityInfo {
                first_name: Some("Jane".into()),
                last_name: Some("Doe".into()),
                email: Some("jane@example.com".into()),
                ..IdentityInfo::default()
            },
            security_profile_ids: vec![AGENT_SECURITY_PROFILE_ID.into()],
            routing_profile_id: DEFAULT_ROUTING_PROFILE_ID.into(),
            ..NewUser::default()
        }
    }

    fn instance_of(kind: IdentityManagementType) -> Instance {
        InstanceSeed::new("i")
            .identity_management(kind)
            .security_profile("sp", "Agent")
            .to_instance("us-east-1", "123456789012")
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn tag_rules_follow_connect() {
        assert!(
            validate_tags(&tags(&[
                ("okta-connect:okta-user-id", "00u1"),
                ("a b@=+", "")
            ]))
            .is_ok()
        );
        let fifty: BTreeMap<String, String> =
            (0..50).map(|n| (format!("k{n}"), "v".to_owned())).collect();
        assert!(validate_tags(&fifty).is_ok());
        let mut fifty_one = fifty.clone();
        fifty_one.insert("k50".into(), "v".into());
        let long_key = "k".repeat(129);
        let long_value = "v".repeat(257);
        for bad in [
            fifty_one,
            tags(&[("aws:reserved", "v")]),
            tags(&[("AWS:reserved", "v")]),
            tags(&[("", "v")]),
            tags(&[(long_key.as_str(), "v")]),
            tags(&[("k", long_value.as_str())]),
            tags(&[("semi;colon", "v")]),
        ] {
            assert!(
                matches!(validate_tags(&bad), Err(ApiError::InvalidTags(_))),
                "{bad:?}"
            );
        }
        assert!(validate_tags(&tags(&[(&"k".repeat(128), &"v".repeat(256))])).is_ok());
    }

    #[test]
    fn tagging_merges_untagging_removes_and_arns_are_checked() {
        let mut dir = directory();
        let mut request = new_user("tagged");
        request.tags = tags(&[("keep", "1"), ("change", "old")]);
        let arn = dir
            .create_user(DEFAULT_INSTANCE_ID, request, "u-1".into(), 2.0)
            .unwrap()
            .arn
            .clone();
        dir.tag_resource(&arn, tags(&[("change", "new"), ("add", "2")]))
            .unwrap();
        let user = dir.describe_user(DEFAULT_INSTANCE_ID, "u-1").unwrap();
        assert_eq!(
            user.tags,
            tags(&[("keep", "1"), ("change", "new"), ("add", "2")])
        );
        dir.untag_resource(&arn, &["keep".into(), "absent".into()])
            .unwrap();
        let user = dir.describe_user(DEFAULT_INSTANCE_ID, "u-1").unwrap();
        assert_eq!(user.tags, tags(&[("change", "new"), ("add", "2")]));

        // 48 more would make 50: allowed; one more is refused and changes nothing.
        let more: BTreeMap<String, String> =
            (0..48).map(|n| (format!("m{n}"), "v".to_owned())).collect();
        dir.tag_resource(&arn, more).unwrap();
        assert!(matches!(
            dir.tag_resource(&arn, tags(&[("one-too-many", "v")])),
            Err(ApiError::InvalidTags(_))
        ));
        assert_eq!(
            dir.describe_user(DEFAULT_INSTANCE_ID, "u-1")
                .unwrap()
                .tags
                .len(),
            50
        );
        assert!(matches!(
            dir.tag_resource(&arn, BTreeMap::new()),
            Err(ApiError::InvalidTags(_))
        ));
        assert!(matches!(
            dir.untag_resource(&arn, &[]),
            Err(ApiError::InvalidTags(_))
        ));

        let unknown_user = arn.replace("/agent/u-1", "/agent/u-2");
        let instance_arn = arn.trim_end_matches("/agent/u-1").to_owned();
        let other_instance = arn.replace(DEFAULT_INSTANCE_ID, "elsewhere");
        for missing in [unknown_user, other_instance] {
            assert!(
                matches!(
                    dir.tag_resource(&missing, tags(&[("k", "v")])),
                    Err(ApiError::ResourceNotFound(_))
                ),
                "{missing}"
            );
        }
        assert!(matches!(
            dir.tag_resource(
                &format!("{instance_arn}/routing-profile/{DEFAULT_ROUTING_PROFILE_ID}"),
                tags(&[("k", "v")])
            ),
            Err(ApiError::UntaggableResource(_))
        ));
        assert!(matches!(
            dir.untag_resource("not-an-arn", &["k".into()]),
            Err(ApiError::InvalidResourceArn(_))
        ));
        // CreateUser applies the same rules.
        let mut bad = new_user("badtags");
        bad.tags = tags(&[("aws:x", "v")]);
        assert!(matches!(
            dir.create_user(DEFAULT_INSTANCE_ID, bad, "u-3".into(), 2.0),
            Err(ApiError::InvalidTags(_))
        ));
    }

    #[test]
    fn saml_usernames_follow_connect_rules() {
        let saml = IdentityManagementType::Saml;
        assert!(validate_username(saml, "jane.doe@example.com").is_ok());
        assert!(validate_username(saml, "A_b-9").is_ok());
        assert!(validate_username(saml, &"a".repeat(64)).is_ok());
        assert!(validate_username(saml, &"a".repeat(65)).is_err());
        assert!(validate_username(IdentityManagementType::ConnectManaged, &"a".repeat(65)).is_ok());
        for bad in ["", "jane doe", "jane+tag@example.com", "jané", "a/b", "x,y"] {
            assert!(
                matches!(
                    validate_username(saml, bad),
                    Err(ApiError::InvalidUsername { .. })
                ),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn passwords_follow_identity_management() {
        use IdentityManagementType::*;
        assert_eq!(
            validate_password(Saml, Some("Passw0rdX")),
            Err(ApiError::PasswordOnSaml)
        );
        assert_eq!(validate_password(Saml, None), Ok(()));
        assert_eq!(
            validate_password(ConnectManaged, None),
            Err(ApiError::PasswordRequired)
        );
        assert_eq!(validate_password(ConnectManaged, Some("Passw0rdX")), Ok(()));
        assert_eq!(
            validate_password(ConnectManaged, Some("password")),
            Err(ApiError::WeakPassword)
        );
    }

    #[test]
    fn security_profile_count_is_one_to_ten() {
        let instance = instance_of(IdentityManagementType::Saml);
        assert_eq!(
            validate_security_profiles(&instance, &[]),
            Err(ApiError::SecurityProfileCount(0))
        );
        let eleven = vec!["sp".to_owned(); 11];
        assert_eq!(
            validate_security_profiles(&instance, &eleven),
            Err(ApiError::SecurityProfileCount(11))
        );
        assert_eq!(
            validate_security_profiles(&instance, &["sp".into()]),
            Ok(())
        );
        assert_eq!(
            validate_security_profiles(&instance, &["sp".into(), "nope".into()]),
            Err(ApiError::UnknownSecurityProfiles(vec!["nope".into()]))
        );
    }

    #[test]
    fn identity_info_rules() {
        let mut saml = instance_of(IdentityManagementType::Saml);
        let named = IdentityInfo {
            first_name: Some("A".into()),
            last_name: Some("B".into()),
            ..IdentityInfo::default()
        };
        assert!(validate_identity_info(&saml, &named).is_ok());
        assert!(validate_identity_info(&saml, &IdentityInfo::default()).is_err());
        saml.saml_email = SamlEmailPolicy::Required;
        assert!(validate_identity_info(&saml, &named).is_err());
        saml.saml_email = SamlEmailPolicy::Forbidden;
        let with_email = IdentityInfo {
            email: Some("a@b.co".into()),
            ..named.clone()
        };
        assert!(validate_identity_info(&saml, &with_email).is_err());
        saml.saml_email = SamlEmailPolicy::Optional;
        let bad_email = IdentityInfo {
            email: Some("not-an-email".into()),
            ..named
        };
        assert!(validate_identity_info(&saml, &bad_email).is_err());
        saml.require_names = false;
        assert!(validate_identity_info(&saml, &IdentityInfo::default()).is_ok());
    }

    #[test]
    fn phone_config_rules() {
        assert!(validate_phone_config(&PhoneConfig::default()).is_ok());
        let desk = PhoneConfig {
            phone_type: "DESK_PHONE".into(),
            ..PhoneConfig::default()
        };
        assert!(validate_phone_config(&desk).is_err());
        let other = PhoneConfig {
            phone_type: "PIGEON".into(),
            ..PhoneConfig::default()
        };
        assert!(validate_phone_config(&other).is_err());
    }

    #[test]
    fn create_checks_duplicates_case_insensitively_and_quota() {
        let mut dir = directory();
        let user = dir
            .create_user(
                DEFAULT_INSTANCE_ID,
                new_user("jane@example.com"),
                "u1".into(),
                2.0,
            )
            .unwrap();
        assert_eq!(
            user.arn,
            format!(
                "arn:aws:connect:us-east-1:123456789012:instance/{DEFAULT_INSTANCE_ID}/agent/u1"
            )
        );
        let again = dir.create_user(
            DEFAULT_INSTANCE_ID,
            new_user("JANE@example.com"),
            "u2".into(),
            2.0,
        );
        assert!(matches!(again, Err(ApiError::DuplicateUsername { .. })));

        if let Some(state) = dir.instances.get_mut(DEFAULT_INSTANCE_ID) {
            state.instance.max_users = 1;
        }
        let over = dir.create_user(DEFAULT_INSTANCE_ID, new_user("other"), "u3".into(), 2.0);
        assert!(matches!(
            over,
            Err(ApiError::UserQuotaExceeded { limit: 1, .. })
        ));
    }

    #[test]
    fn unknown_instance_user_and_profiles_are_refused() {
        let mut dir = directory();
        assert!(matches!(
            dir.create_user("nope", new_user("a"), "u".into(), 0.0),
            Err(ApiError::InstanceNotFound(_))
        ));
        let mut bad_rp = new_user("a");
        bad_rp.routing_profile_id = "nope".into();
        assert!(matches!(
            dir.create_user(DEFAULT_INSTANCE_ID, bad_rp, "u".into(), 0.0),
            Err(ApiError::UnknownRoutingProfile(_))
        ));
        let mut bad_group = new_user("a");
        bad_group.hierarchy_group_id = Some("nope".into());
        assert!(matches!(
            dir.create_user(DEFAULT_INSTANCE_ID, bad_group, "u".into(), 0.0),
            Err(ApiError::UnknownHierarchyGroup(_))
        ));
        assert!(matches!(
            dir.describe_user(DEFAULT_INSTANCE_ID, "missing"),
            Err(ApiError::UserNotFound { .. })
        ));
    }

    #[test]
    fn updates_change_attributes_and_time() {
        let mut dir = directory();
        dir.create_user(DEFAULT_INSTANCE_ID, new_user("a"), "u".into(), 1.0)
            .unwrap();
        dir.update_security_profiles(
            DEFAULT_INSTANCE_ID,
            "u",
            vec![NO_PERMISSIONS_SECURITY_PROFILE_ID.into()],
            2.0,
        )
        .unwrap();
        dir.update_hierarchy(
            DEFAULT_INSTANCE_ID,
            "u",
            Some(SUPERVISORS_HIERARCHY_GROUP_ID.into()),
            3.0,
        )
        .unwrap();
        let user = dir.describe_user(DEFAULT_INSTANCE_ID, "u").unwrap();
        assert_eq!(
            user.security_profile_ids,
            vec![NO_PERMISSIONS_SECURITY_PROFILE_ID]
        );
        assert_eq!(
            user.hierarchy_group_id.as_deref(),
            Some(SUPERVISORS_HIERARCHY_GROUP_ID)
        );
        assert_eq!(user.last_modified_time, 3.0);
        dir.update_hierarchy(DEFAULT_INSTANCE_ID, "u", None, 4.0)
            .unwrap();
        assert_eq!(
            dir.describe_user(DEFAULT_INSTANCE_ID, "u")
                .unwrap()
                .hierarchy_group_id,
            None
        );
        dir.delete_user(DEFAULT_INSTANCE_ID, "u").unwrap();
        assert!(dir.delete_user(DEFAULT_INSTANCE_ID, "u").is_err());
    }

    #[test]
    fn pagination_walks_every_user_once_even_across_deletes() {
        let mut dir = directory();
        for i in 0..7 {
            dir.create_user(
                DEFAULT_INSTANCE_ID,
                new_user(&format!("user{i}")),
                format!("id{i}"),
                0.0,
            )
            .unwrap();
        }
        let mut seen = Vec::new();
        let mut token = None;
        loop {
            let page = PageRequest {
                max_results: 3,
                next_token: token.clone(),
            };
            let (page, total) = dir
                .find_users(DEFAULT_INSTANCE_ID, &Criteria::All, &page)
                .unwrap();
            let names: Vec<String> = page.items.iter().map(|u| u.username.clone()).collect();
            let next = page.next_token;
            seen.extend(names);
            // Deleting an already-served user must not shift the next page.
            if seen.len() == 3 {
                assert_eq!(total, 7);
                dir.delete_user(DEFAULT_INSTANCE_ID, "id0").unwrap();
            }
            token = next;
            if token.is_none() {
                break;
            }
        }
        let expected: Vec<String> = (0..7).map(|i| format!("user{i}")).collect();
        assert_eq!(seen, expected);
        let bad = PageRequest {
            max_results: 3,
            next_token: Some("zz".into()),
        };
        assert!(matches!(
            dir.find_users(DEFAULT_INSTANCE_ID, &Criteria::All, &bad),
            Err(ApiError::InvalidNextToken)
        ));
    }

    #[test]
    fn seed_users_are_created_once_and_users_survive_reseeding() {
        let mut seed = Seed::default();
        seed.instances[0].users.push(crate::seed::UserSeed {
            id: Some("fixed".into()),
            username: "seeded".into(),
            password: None,
            first_name: Some("S".into()),
            last_name: Some("U".into()),
            email: None,
            security_profile_ids: vec![AGENT_SECURITY_PROFILE_ID.into()],
            routing_profile_id: DEFAULT_ROUTING_PROFILE_ID.into(),
            hierarchy_group_id: None,
            tags: BTreeMap::new(),
        });
        let mut ids = || "fresh".to_owned();
        let mut dir = Directory::default();
        dir.apply_seed(&seed, &mut ids, 0.0).unwrap();
        dir.apply_seed(&seed, &mut ids, 0.0).unwrap();
        assert_eq!(dir.all_users().len(), 1);

        // A restart: the restored directory takes the seed again and keeps its users.
        let mut restarted = dir.clone();
        restarted
            .apply_seed(&Seed::default(), &mut ids, 0.0)
            .unwrap();
        assert_eq!(restarted.all_users(), dir.all_users());
    }
}
