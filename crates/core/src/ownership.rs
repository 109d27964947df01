//! Which Connect users are this pipeline's own: the ones tagged with the Okta user id
//! they were created (or adopted) for.
//!
//! Usernames are not identities: a rehire can get the login of someone who left, an
//! admin can create a Connect user by hand under an agent's login, and a changed login
//! leaves the Connect user under the old name. A tag naming the Okta user id (`00u…`)
//! is what ties a Connect user to one Okta user, so revocation and updates act only on
//! users whose tag names that Okta user.

use std::collections::BTreeMap;

use crate::desired::DesiredUser;
use crate::plan::ConnectUser;

/// Tag key: the Okta user id (`00u…`) a Connect user belongs to.
pub const OKTA_USER_TAG: &str = "okta-connect:okta-user-id";
/// Tag key: the access mapping that granted the Connect user (informational).
pub const MAPPING_TAG: &str = "okta-connect:mapping";
/// Tag key: the hierarchy group the pipeline last set on the Connect user. A user moved
/// to a mapping without a hierarchy group leaves the group only if it is still this one
/// (an admin's own choice of group is kept).
pub const HIERARCHY_TAG: &str = "okta-connect:hierarchy-group";
/// Every tag key the pipeline writes (its IAM policy allows tagging with these alone).
pub const TAG_KEYS: [&str; 3] = [OKTA_USER_TAG, MAPPING_TAG, HIERARCHY_TAG];

/// The tags the pipeline puts on the Connect user of `desired`.
pub fn tags_for(okta_user_id: &str, desired: &DesiredUser) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([
        (OKTA_USER_TAG.to_string(), okta_user_id.to_string()),
        (MAPPING_TAG.to_string(), desired.mapping.clone()),
    ]);
    if let Some(group) = &desired.hierarchy_group_id {
        tags.insert(HIERARCHY_TAG.to_string(), group.to_string());
    }
    tags
}

/// Whether `user`'s hierarchy group is the one the pipeline set (its [`HIERARCHY_TAG`]).
pub fn hierarchy_set_by_pipeline(user: &ConnectUser) -> bool {
    match (&user.hierarchy_group_id, user.tags.get(HIERARCHY_TAG)) {
        (Some(group), Some(tagged)) => group == tagged,
        _ => false,
    }
}

/// Who a Connect user belongs to, by its tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// Tagged for this Okta user id.
    Okta(&'a str),
    /// Not tagged by this pipeline: made by hand, by CSV, or by another tool.
    Untagged,
}

impl<'a> Owner<'a> {
    /// The owner `user`'s tags name.
    pub fn of(user: &'a ConnectUser) -> Self {
        match user.tags.get(OKTA_USER_TAG) {
            Some(id) if !id.trim().is_empty() => Owner::Okta(id.as_str()),
            _ => Owner::Untagged,
        }
    }
}

/// Which users a directory search returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserFilter {
    /// Every user of the instance.
    All,
    /// Users tagged with any Okta user id (the pipeline's own).
    Owned,
    /// Users tagged with this Okta user id.
    OwnedBy(String),
}
