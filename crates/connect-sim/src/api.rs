//! The Connect operations on the wire: request bodies and query strings in, JSON out.
//!
//! Member names follow the `aws-sdk-connect` serialisers (`protocol_serde/shape_*`):
//! PascalCase in bodies, `maxResults`/`nextToken` in query strings.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::directory::{Directory, NewUser, PageRequest};
use crate::error::ApiError;
use crate::model::{IdentityInfo, Instance, NamedResource, PhoneConfig, User};
use crate::operation::{Operation, Route, percent_decode};
use crate::search::Criteria;

/// Page size when the caller gives none.
const DEFAULT_PAGE_SIZE: u32 = 100;
/// Connect's `maxResults` ceiling for the List* operations.
const LIST_MAX_RESULTS: u32 = 1000;
/// Connect's `MaxResults` ceiling for SearchUsers.
const SEARCH_MAX_RESULTS: u32 = 500;

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// 200 with this JSON body.
    Json(Value),
    /// 200 with no body (operations whose output has no members).
    Empty,
}

/// Runs one routed Connect call against the directory.
pub(crate) fn dispatch(
    directory: &mut Directory,
    route: &Route,
    query: Option<&str>,
    body: &[u8],
    now: f64,
) -> Result<Reply, ApiError> {
    let instance_id = route.instance_id.as_deref().unwrap_or_default();
    let user_id = route.user_id.as_deref().unwrap_or_default();
    let resource_arn = route.resource_arn.as_deref().unwrap_or_default();
    match route.operation {
        Operation::CreateUser => {
            let request = parse_body::<CreateUserBody>(body)?.into_new_user()?;
            let user = directory.create_user(
                instance_id,
                request,
                uuid::Uuid::new_v4().to_string(),
                now,
            )?;
            Ok(json(&CreateUserReply {
                user_id: &user.id,
                user_arn: &user.arn,
            }))
        }
        Operation::DescribeUser => {
            let user = directory.describe_user(instance_id, user_id)?;
            Ok(json(&DescribeUserReply { user }))
        }
        Operation::DeleteUser => {
            directory.delete_user(instance_id, user_id)?;
            Ok(Reply::Empty)
        }
        Operation::UpdateUserIdentityInfo => {
            let body = parse_body::<IdentityInfoBody>(body)?;
            let info = body
                .identity_info
                .ok_or(ApiError::MissingParameter("IdentityInfo"))?;
            directory.update_identity_info(instance_id, user_id, info, now)?;
            Ok(Reply::Empty)
        }
        Operation::UpdateUserSecurityProfiles => {
            let body = parse_body::<SecurityProfilesBody>(body)?;
            let ids = body
                .security_profile_ids
                .ok_or(ApiError::MissingParameter("SecurityProfileIds"))?;
            directory.update_security_profiles(instance_id, user_id, ids, now)?;
            Ok(Reply::Empty)
        }
        Operation::UpdateUserRoutingProfile => {
            let body = parse_body::<RoutingProfileBody>(body)?;
            let id = body
                .routing_profile_id
                .ok_or(ApiError::MissingParameter("RoutingProfileId"))?;
            directory.update_routing_profile(instance_id, user_id, id, now)?;
            Ok(Reply::Empty)
        }
        Operation::UpdateUserHierarchy => {
            let body = parse_body::<HierarchyBody>(body)?;
            directory.update_hierarchy(instance_id, user_id, body.hierarchy_group_id, now)?;
            Ok(Reply::Empty)
        }
        Operation::ListUsers => {
            let page = query_page(query, LIST_MAX_RESULTS)?;
            let (page, _) = directory.find_users(instance_id, &Criteria::All, &page)?;
            Ok(json(&ListUsersReply {
                user_summary_list: page.items.into_iter().map(UserSummary::from).collect(),
                next_token: page.next_token,
            }))
        }
        Operation::SearchUsers => {
            let body = parse_body::<SearchUsersBody>(body)?;
            let instance_id = body
                .instance_id
                .ok_or(ApiError::MissingParameter("InstanceId"))?;
            let page = PageRequest {
                max_results: max_results(
                    body.max_results.map(|n| n.to_string()).as_deref(),
                    SEARCH_MAX_RESULTS,
                )?,
                next_token: body.next_token,
            };
            let criteria = Criteria::all_of(vec![
                Criteria::parse(body.search_criteria.as_ref())?,
                Criteria::parse_filter(body.search_filter.as_ref())?,
            ]);
            let (page, total) = directory.find_users(&instance_id, &criteria, &page)?;
            Ok(json(&SearchUsersReply {
                users: page
                    .items
                    .into_iter()
                    .map(UserSearchSummary::from)
                    .collect(),
                next_token: page.next_token,
                approximate_total_count: total,
            }))
        }
        Operation::TagResource => {
            let body = parse_body::<TagResourceBody>(body)?;
            let tags = body.tags.ok_or(ApiError::MissingParameter("tags"))?;
            directory.tag_resource(resource_arn, tags)?;
            Ok(Reply::Empty)
        }
        Operation::UntagResource => {
            let keys = query_values(query, "tagKeys")?;
            if keys.is_empty() {
                return Err(ApiError::MissingParameter("tagKeys"));
            }
            directory.untag_resource(resource_arn, &keys)?;
            Ok(Reply::Empty)
        }
        Operation::ListSecurityProfiles => {
            let page = query_page(query, LIST_MAX_RESULTS)?;
            let (instance, page) =
                directory.list_resources(instance_id, |i| &i.security_profiles, &page)?;
            let summaries = page
                .items
                .into_iter()
                .map(|p| ResourceSummary::new(p, instance.security_profile_arn(&p.id), instance))
                .collect();
            Ok(json(&ListSecurityProfilesReply {
                security_profile_summary_list: summaries,
                next_token: page.next_token,
            }))
        }
        Operation::ListRoutingProfiles => {
            let page = query_page(query, LIST_MAX_RESULTS)?;
            let (instance, page) =
                directory.list_resources(instance_id, |i| &i.routing_profiles, &page)?;
            let summaries = page
                .items
                .into_iter()
                .map(|p| ResourceSummary::new(p, instance.routing_profile_arn(&p.id), instance))
                .collect();
            Ok(json(&ListRoutingProfilesReply {
                routing_profile_summary_list: summaries,
                next_token: page.next_token,
            }))
        }
    }
}

fn json<T: Serialize>(value: &T) -> Reply {
    // Serialising these plain structs cannot fail; an empty object keeps the reply valid.
    Reply::Json(serde_json::to_value(value).unwrap_or_else(|_| Value::Object(Default::default())))
}

/// An absent or empty body counts as `{}`, as the SDK sends for members all unset.
fn parse_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::MalformedBody(e.to_string()))
}

fn query_page(query: Option<&str>, max: u32) -> Result<PageRequest, ApiError> {
    let mut max_results_raw = None;
    let mut next_token = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(&value.replace('+', " ")).ok_or(ApiError::MalformedBody(
            format!("query parameter {key} is not valid percent-encoding"),
        ))?;
        match key {
            "maxResults" => max_results_raw = Some(value),
            "nextToken" => next_token = Some(value),
            _ => {}
        }
    }
    Ok(PageRequest {
        max_results: max_results(max_results_raw.as_deref(), max)?,
        next_token: next_token.filter(|t| !t.is_empty()),
    })
}

/// Every value of the query parameter `name`, decoded, in order (`tagKeys=a&tagKeys=b`).
fn query_values(query: Option<&str>, name: &str) -> Result<Vec<String>, ApiError> {
    let mut values = Vec::new();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == name {
            values.push(percent_decode(&value.replace('+', " ")).ok_or_else(|| {
                ApiError::MalformedBody(format!(
                    "query parameter {name} is not valid percent-encoding"
                ))
            })?);
        }
    }
    Ok(values)
}

fn max_results(raw: Option<&str>, max: u32) -> Result<usize, ApiError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_PAGE_SIZE.min(max) as usize);
    };
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .map(|n| n as usize)
        .ok_or_else(|| ApiError::InvalidMaxResults {
            given: raw.to_owned(),
            max,
        })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct CreateUserBody {
    username: Option<String>,
    password: Option<String>,
    identity_info: Option<IdentityInfo>,
    phone_config: Option<PhoneConfigBody>,
    directory_user_id: Option<String>,
    security_profile_ids: Option<Vec<String>>,
    routing_profile_id: Option<String>,
    hierarchy_group_id: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

impl CreateUserBody {
    fn into_new_user(self) -> Result<NewUser, ApiError> {
        Ok(NewUser {
            username: self
                .username
                .ok_or(ApiError::MissingParameter("Username"))?,
            password: self.password,
            identity_info: self.identity_info.unwrap_or_default(),
            phone_config: self.phone_config.map(PhoneConfigBody::into_phone_config),
            directory_user_id: self.directory_user_id,
            security_profile_ids: self
                .security_profile_ids
                .ok_or(ApiError::MissingParameter("SecurityProfileIds"))?,
            routing_profile_id: self
                .routing_profile_id
                .ok_or(ApiError::MissingParameter("RoutingProfileId"))?,
            hierarchy_group_id: self.hierarchy_group_id,
            tags: self.tags.unwrap_or_default(),
        })
    }
}

/// `UserPhoneConfig` as sent; the SDK always sends `PhoneType`, other clients may not.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct PhoneConfigBody {
    phone_type: Option<String>,
    #[serde(default)]
    auto_accept: bool,
    #[serde(default)]
    after_contact_work_time_limit: i32,
    desk_phone_number: Option<String>,
}

impl PhoneConfigBody {
    fn into_phone_config(self) -> PhoneConfig {
        PhoneConfig {
            phone_type: self
                .phone_type
                .unwrap_or_else(|| PhoneConfig::default().phone_type),
            auto_accept: self.auto_accept,
            after_contact_work_time_limit: self.after_contact_work_time_limit,
            desk_phone_number: self.desk_phone_number,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct IdentityInfoBody {
    identity_info: Option<IdentityInfo>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SecurityProfilesBody {
    security_profile_ids: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RoutingProfileBody {
    routing_profile_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct HierarchyBody {
    hierarchy_group_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SearchUsersBody {
    instance_id: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    search_criteria: Option<Value>,
    search_filter: Option<Value>,
}

/// TagResource's body: its one member is lower-case `tags`, unlike the user operations.
#[derive(Deserialize, Default)]
struct TagResourceBody {
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserReply<'a> {
    user_id: &'a str,
    user_arn: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeUserReply<'a> {
    user: &'a User,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserSummary<'a> {
    id: &'a str,
    arn: &'a str,
    username: &'a str,
    last_modified_time: f64,
    last_modified_region: &'a str,
}

impl<'a> From<&'a User> for UserSummary<'a> {
    fn from(user: &'a User) -> Self {
        UserSummary {
            id: &user.id,
            arn: &user.arn,
            username: &user.username,
            last_modified_time: user.last_modified_time,
            last_modified_region: &user.last_modified_region,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListUsersReply<'a> {
    user_summary_list: Vec<UserSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// `UserIdentityInfoLite`: search results carry only the names.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct IdentityInfoLite<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserSearchSummary<'a> {
    id: &'a str,
    arn: &'a str,
    username: &'a str,
    identity_info: IdentityInfoLite<'a>,
    phone_config: &'a PhoneConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    directory_user_id: Option<&'a str>,
    security_profile_ids: &'a [String],
    routing_profile_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hierarchy_group_id: Option<&'a str>,
    tags: &'a BTreeMap<String, String>,
}

impl<'a> From<&'a User> for UserSearchSummary<'a> {
    fn from(user: &'a User) -> Self {
        UserSearchSummary {
            id: &user.id,
            arn: &user.arn,
            username: &user.username,
            identity_info: IdentityInfoLite {
                first_name: user.identity_info.first_name.as_deref(),
                last_name: user.identity_info.last_name.as_deref(),
            },
            phone_config: &user.phone_config,
            directory_user_id: user.directory_user_id.as_deref(),
            security_profile_ids: &user.security_profile_ids,
            routing_profile_id: &user.routing_profile_id,
            hierarchy_group_id: user.hierarchy_group_id.as_deref(),
            tags: &user.tags,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SearchUsersReply<'a> {
    users: Vec<UserSearchSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    approximate_total_count: usize,
}

/// `SecurityProfileSummary` / `RoutingProfileSummary`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceSummary<'a> {
    id: &'a str,
    arn: String,
    name: &'a str,
    last_modified_region: &'a str,
}

impl<'a> ResourceSummary<'a> {
    fn new(resource: &'a NamedResource, arn: String, instance: &'a Instance) -> Self {
        ResourceSummary {
            id: &resource.id,
            arn,
            name: &resource.name,
            last_modified_region: &instance.region,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListSecurityProfilesReply<'a> {
    security_profile_summary_list: Vec<ResourceSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListRoutingProfilesReply<'a> {
    routing_profile_summary_list: Vec<ResourceSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::route;
    use crate::seed::{
        AGENT_SECURITY_PROFILE_ID, DEFAULT_INSTANCE_ID, DEFAULT_ROUTING_PROFILE_ID, Seed,
    };
    use serde_json::json;

    fn directory() -> Directory {
        let mut dir = Directory::default();
        dir.apply_seed(&Seed::default(), &mut || "x".to_owned(), 0.0)
            .unwrap();
        dir
    }

    fn call(
        dir: &mut Directory,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: Value,
    ) -> Result<Reply, ApiError> {
        let route = route(method, path).unwrap();
        dispatch(dir, &route, query, body.to_string().as_bytes(), 0.0)
    }

    #[test]
    fn create_then_describe_uses_connect_member_names() {
        let mut dir = directory();
        let reply = call(
            &mut dir,
            "PUT",
            &format!("/users/{DEFAULT_INSTANCE_ID}"),
            None,
            json!({
                "Username": "jane", "SecurityProfileIds": [AGENT_SECURITY_PROFILE_ID],
                "RoutingProfileId": DEFAULT_ROUTING_PROFILE_ID,
                "IdentityInfo": {"FirstName": "Jane", "LastName": "Doe"},
                "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
                "Tags": {"team": "a"}
            }),
        )
        .unwrap();
        let Reply::Json(created) = reply else {
            panic!("CreateUser answers JSON");
        };
        let id = created["UserId"].as_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok());
        assert!(
            created["UserArn"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/agent/{id}"))
        );
        let Reply::Json(described) = call(
            &mut dir,
            "GET",
            &format!("/users/{DEFAULT_INSTANCE_ID}/{id}"),
            None,
            Value::Null,
        )
        .unwrap() else {
            panic!("DescribeUser answers JSON");
        };
        let user = &described["User"];
        assert_eq!(user["Username"], "jane");
        assert_eq!(user["IdentityInfo"]["FirstName"], "Jane");
        assert_eq!(user["PhoneConfig"]["PhoneType"], "SOFT_PHONE");
        assert_eq!(user["Tags"]["team"], "a");
        assert_eq!(user["LastModifiedRegion"], "us-east-1");
    }

    #[test]
    fn malformed_bodies_and_queries_are_refused() {
        let mut dir = directory();
        let route = route("PUT", &format!("/users/{DEFAULT_INSTANCE_ID}")).unwrap();
        assert!(matches!(
            dispatch(&mut dir, &route, None, b"{not json", 0.0),
            Err(ApiError::MalformedBody(_))
        ));
        assert!(matches!(
            dispatch(&mut dir, &route, None, b"{}", 0.0),
            Err(ApiError::MissingParameter("Username"))
        ));
        let list = format!("/users-summary/{DEFAULT_INSTANCE_ID}");
        for bad in ["maxResults=0", "maxResults=1001", "maxResults=ten"] {
            assert!(
                matches!(
                    call(&mut dir, "GET", &list, Some(bad), Value::Null),
                    Err(ApiError::InvalidMaxResults { .. })
                ),
                "{bad}"
            );
        }
        assert!(call(&mut dir, "GET", &list, Some("maxResults=1000"), Value::Null).is_ok());
    }
}
