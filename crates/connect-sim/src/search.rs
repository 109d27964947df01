//! SearchUsers criteria: parsing Connect's `UserSearchCriteria` and `UserSearchFilter`
//! (its `TagFilter`), and matching users.

use serde_json::Value;

use crate::error::ApiError;
use crate::model::User;

/// A user attribute a `StringCondition` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SearchField {
    Username,
    FirstName,
    LastName,
    Email,
    ResourceId,
    RoutingProfileId,
    SecurityProfileId,
    HierarchyGroupId,
}

impl SearchField {
    fn parse(name: &str) -> Option<Self> {
        // Connect's documentation spells these both ways (`username`, `Username`).
        let field = match name.to_ascii_lowercase().as_str() {
            "username" => SearchField::Username,
            "firstname" => SearchField::FirstName,
            "lastname" => SearchField::LastName,
            "email" => SearchField::Email,
            "resourceid" | "id" => SearchField::ResourceId,
            "routingprofileid" => SearchField::RoutingProfileId,
            "securityprofileid" => SearchField::SecurityProfileId,
            "agentgroupid" | "hierarchygroupid" => SearchField::HierarchyGroupId,
            _ => return None,
        };
        Some(field)
    }

    fn values(self, user: &User) -> Vec<&str> {
        match self {
            SearchField::Username => vec![user.username.as_str()],
            SearchField::FirstName => user
                .identity_info
                .first_name
                .as_deref()
                .into_iter()
                .collect(),
            SearchField::LastName => user
                .identity_info
                .last_name
                .as_deref()
                .into_iter()
                .collect(),
            SearchField::Email => user.identity_info.email.as_deref().into_iter().collect(),
            SearchField::ResourceId => vec![user.id.as_str()],
            SearchField::RoutingProfileId => vec![user.routing_profile_id.as_str()],
            SearchField::SecurityProfileId => user
                .security_profile_ids
                .iter()
                .map(String::as_str)
                .collect(),
            SearchField::HierarchyGroupId => {
                user.hierarchy_group_id.as_deref().into_iter().collect()
            }
        }
    }
}

/// How a `StringCondition` compares. Comparisons ignore ASCII case, as usernames do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    Exact,
    StartsWith,
    Contains,
}

/// A parsed search criterion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Criteria {
    /// No criteria: every user matches.
    All,
    /// One `StringCondition`.
    Field {
        field: SearchField,
        value: String,
        comparison: Comparison,
    },
    /// Every nested criterion matches.
    And(Vec<Criteria>),
    /// At least one nested criterion matches.
    Or(Vec<Criteria>),
    /// A `TagCondition`: the user has tag `key` with exactly `value` (tags are
    /// case-sensitive, unlike usernames).
    Tag { key: String, value: String },
}

impl Criteria {
    /// Parses `SearchCriteria` as the SDK serialises it (`OrConditions`, `AndConditions`,
    /// `StringCondition`, `HierarchyGroupCondition`). Members present side by side must all
    /// match. `ListCondition` is not implemented and answers `InvalidRequestException`.
    pub(crate) fn parse(value: Option<&Value>) -> Result<Criteria, ApiError> {
        let Some(value) = value else {
            return Ok(Criteria::All);
        };
        let object = value
            .as_object()
            .ok_or_else(|| ApiError::MalformedBody("SearchCriteria must be an object".into()))?;
        let mut all = Vec::new();
        for (key, member) in object {
            match key.as_str() {
                "OrConditions" => all.push(Criteria::Or(Self::parse_list(member)?)),
                "AndConditions" => all.push(Criteria::And(Self::parse_list(member)?)),
                "StringCondition" => all.push(Self::parse_string_condition(member)?),
                "HierarchyGroupCondition" => all.push(Self::parse_hierarchy_condition(member)?),
                other => {
                    return Err(ApiError::UnsupportedSearch(format!(
                        "{other} is not supported by connect-sim"
                    )));
                }
            }
        }
        Ok(match all.len() {
            0 => Criteria::All,
            1 => all.remove(0),
            _ => Criteria::And(all),
        })
    }

    /// Parses `SearchFilter` (`UserSearchFilter`). Only its `TagFilter`
    /// (`ControlPlaneTagFilter`) is implemented: `OrConditions` is an OR of ANDs (a list of
    /// lists of `TagCondition`), `AndConditions` an AND of `TagCondition`s, `TagCondition` a
    /// single one; members present side by side must all match. `UserAttributeFilter`
    /// answers `InvalidRequestException`.
    ///
    /// A `TagCondition` without `TagValue` is refused (`InvalidRequestException`): the API
    /// reference lists both members as optional but never says what a key alone matches,
    /// so the simulator does not invent an answer for it.
    pub(crate) fn parse_filter(value: Option<&Value>) -> Result<Criteria, ApiError> {
        let Some(value) = value else {
            return Ok(Criteria::All);
        };
        let object = value
            .as_object()
            .ok_or_else(|| ApiError::MalformedBody("SearchFilter must be an object".into()))?;
        let mut all = Vec::new();
        for (key, member) in object {
            match key.as_str() {
                "TagFilter" => all.push(Self::parse_tag_filter(member)?),
                other => {
                    return Err(ApiError::UnsupportedSearch(format!(
                        "SearchFilter.{other} is not supported by connect-sim"
                    )));
                }
            }
        }
        Ok(Self::all_of(all))
    }

    fn parse_tag_filter(value: &Value) -> Result<Criteria, ApiError> {
        let object = value.as_object().ok_or_else(|| {
            ApiError::MalformedBody("SearchFilter.TagFilter must be an object".into())
        })?;
        let list = |member: &Value, name: &str| -> Result<Vec<Criteria>, ApiError> {
            member
                .as_array()
                .ok_or_else(|| {
                    ApiError::MalformedBody(format!("SearchFilter.TagFilter.{name} must be a list"))
                })?
                .iter()
                .map(Self::parse_tag_condition)
                .collect()
        };
        let mut all = Vec::new();
        for (key, member) in object {
            match key.as_str() {
                "OrConditions" => {
                    let groups = member.as_array().ok_or_else(|| {
                        ApiError::MalformedBody(
                            "SearchFilter.TagFilter.OrConditions must be a list of lists".into(),
                        )
                    })?;
                    let any = groups
                        .iter()
                        .map(|group| list(group, "OrConditions[]").map(Criteria::And))
                        .collect::<Result<_, _>>()?;
                    all.push(Criteria::Or(any));
                }
                "AndConditions" => all.push(Criteria::And(list(member, "AndConditions")?)),
                "TagCondition" => all.push(Self::parse_tag_condition(member)?),
                other => {
                    return Err(ApiError::UnsupportedSearch(format!(
                        "SearchFilter.TagFilter.{other} is not supported by connect-sim"
                    )));
                }
            }
        }
        Ok(Self::all_of(all))
    }

    fn parse_tag_condition(value: &Value) -> Result<Criteria, ApiError> {
        let text = |name: &str| value.get(name).and_then(Value::as_str);
        let key = text("TagKey").ok_or(ApiError::MissingParameter("TagCondition.TagKey"))?;
        let value = text("TagValue").ok_or_else(|| {
            ApiError::UnsupportedSearch(format!(
                "TagCondition for key {key:?} without TagValue: what a key alone matches is not documented"
            ))
        })?;
        Ok(Criteria::Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }

    /// One criterion that holds when every one of `all` holds.
    pub(crate) fn all_of(mut all: Vec<Criteria>) -> Criteria {
        all.retain(|c| *c != Criteria::All);
        match all.len() {
            0 => Criteria::All,
            1 => all.remove(0),
            _ => Criteria::And(all),
        }
    }

    fn parse_list(value: &Value) -> Result<Vec<Criteria>, ApiError> {
        let items = value
            .as_array()
            .ok_or_else(|| ApiError::MalformedBody("conditions must be a list".into()))?;
        items.iter().map(|item| Self::parse(Some(item))).collect()
    }

    fn parse_string_condition(value: &Value) -> Result<Criteria, ApiError> {
        let text = |name: &str| value.get(name).and_then(Value::as_str);
        let field_name = text("FieldName").ok_or(ApiError::MissingParameter(
            "SearchCriteria.StringCondition.FieldName",
        ))?;
        let field = SearchField::parse(field_name).ok_or_else(|| {
            ApiError::UnsupportedSearch(format!("FieldName {field_name} is not supported"))
        })?;
        let value_text = text("Value").ok_or(ApiError::MissingParameter(
            "SearchCriteria.StringCondition.Value",
        ))?;
        let comparison = match text("ComparisonType") {
            None | Some("EXACT") => Comparison::Exact,
            Some("STARTS_WITH") => Comparison::StartsWith,
            Some("CONTAINS") => Comparison::Contains,
            Some(other) => {
                return Err(ApiError::UnsupportedSearch(format!(
                    "ComparisonType {other} is not supported"
                )));
            }
        };
        Ok(Criteria::Field {
            field,
            value: value_text.to_owned(),
            comparison,
        })
    }

    fn parse_hierarchy_condition(value: &Value) -> Result<Criteria, ApiError> {
        let group =
            value
                .get("Value")
                .and_then(Value::as_str)
                .ok_or(ApiError::MissingParameter(
                    "SearchCriteria.HierarchyGroupCondition.Value",
                ))?;
        Ok(Criteria::Field {
            field: SearchField::HierarchyGroupId,
            value: group.to_owned(),
            comparison: Comparison::Exact,
        })
    }

    /// Whether the user matches.
    pub(crate) fn matches(&self, user: &User) -> bool {
        match self {
            Criteria::All => true,
            Criteria::Field {
                field,
                value,
                comparison,
            } => {
                let wanted = value.to_ascii_lowercase();
                field.values(user).into_iter().any(|actual| {
                    let actual = actual.to_ascii_lowercase();
                    match comparison {
                        Comparison::Exact => actual == wanted,
                        Comparison::StartsWith => actual.starts_with(&wanted),
                        Comparison::Contains => actual.contains(&wanted),
                    }
                })
            }
            Criteria::And(all) => all.iter().all(|c| c.matches(user)),
            Criteria::Or(any) => any.iter().any(|c| c.matches(user)),
            Criteria::Tag { key, value } => user.tags.get(key) == Some(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IdentityInfo, PhoneConfig};
    use serde_json::json;

    fn user(username: &str, first: &str) -> User {
        User {
            id: format!("id-{username}"),
            arn: String::new(),
            username: username.into(),
            identity_info: IdentityInfo {
                first_name: Some(first.into()),
                ..IdentityInfo::default()
            },
            phone_config: PhoneConfig::default(),
            directory_user_id: None,
            security_profile_ids: vec!["sp".into()],
            routing_profile_id: "rp".into(),
            hierarchy_group_id: None,
            tags: Default::default(),
            last_modified_time: 0.0,
            last_modified_region: "us-east-1".into(),
        }
    }

    #[test]
    fn exact_username_ignores_case_but_not_prefixes() {
        let c = Criteria::parse(Some(&json!({"StringCondition": {
            "FieldName": "Username", "Value": "Jane@Example.com", "ComparisonType": "EXACT"}})))
        .unwrap();
        assert!(c.matches(&user("jane@example.com", "Jane")));
        assert!(!c.matches(&user("jane@example.com.au", "Jane")));
    }

    #[test]
    fn and_or_combine() {
        let c = Criteria::parse(Some(&json!({"OrConditions": [
            {"StringCondition": {"FieldName": "username", "Value": "a", "ComparisonType": "STARTS_WITH"}},
            {"AndConditions": [
                {"StringCondition": {"FieldName": "FirstName", "Value": "zo", "ComparisonType": "CONTAINS"}}
            ]}
        ]})))
        .unwrap();
        assert!(c.matches(&user("alice", "Alice")));
        assert!(c.matches(&user("bob", "Zoe")));
        assert!(!c.matches(&user("bob", "Bob")));
    }

    fn tagged(username: &str, tags: &[(&str, &str)]) -> User {
        let mut u = user(username, "T");
        u.tags = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        u
    }

    #[test]
    fn tag_filter_is_an_or_of_ands_and_values_are_exact() {
        let a = tagged("a", &[("team", "red"), ("site", "x")]);
        let b = tagged("b", &[("team", "blue")]);
        let c = tagged("c", &[("team", "Red")]);
        let none = tagged("d", &[]);
        let only = Criteria::parse_filter(Some(&json!({"TagFilter": {
            "TagCondition": {"TagKey": "team", "TagValue": "red"}}})))
        .unwrap();
        assert!(only.matches(&a));
        assert!(!only.matches(&b));
        assert!(!only.matches(&c), "tag values are case-sensitive");
        assert!(!only.matches(&none));
        let or_of_ands = Criteria::parse_filter(Some(&json!({"TagFilter": {"OrConditions": [
            [{"TagKey": "team", "TagValue": "red"}, {"TagKey": "site", "TagValue": "x"}],
            [{"TagKey": "team", "TagValue": "blue"}]
        ]}})))
        .unwrap();
        assert!(or_of_ands.matches(&a) && or_of_ands.matches(&b));
        assert!(!or_of_ands.matches(&c) && !or_of_ands.matches(&none));
        let and = Criteria::parse_filter(Some(&json!({"TagFilter": {"AndConditions": [
            {"TagKey": "team", "TagValue": "red"}, {"TagKey": "site", "TagValue": "y"}
        ]}})))
        .unwrap();
        assert!(!and.matches(&a));
        assert_eq!(Criteria::parse_filter(None).unwrap(), Criteria::All);
        assert_eq!(
            Criteria::parse_filter(Some(&json!({"TagFilter": {}}))).unwrap(),
            Criteria::All
        );
    }

    #[test]
    fn undocumented_tag_filters_are_refused() {
        for filter in [
            json!({"TagFilter": {"TagCondition": {"TagKey": "team"}}}),
            json!({"UserAttributeFilter": {}}),
            json!({"TagFilter": {"Shoe": []}}),
        ] {
            assert!(
                matches!(
                    Criteria::parse_filter(Some(&filter)),
                    Err(ApiError::UnsupportedSearch(_))
                ),
                "{filter}"
            );
        }
        assert!(matches!(
            Criteria::parse_filter(Some(
                &json!({"TagFilter": {"TagCondition": {"TagValue": "v"}}})
            )),
            Err(ApiError::MissingParameter(_))
        ));
        assert!(matches!(
            Criteria::parse_filter(Some(&json!({"TagFilter": {"OrConditions": [{}]}}))),
            Err(ApiError::MalformedBody(_))
        ));
    }

    #[test]
    fn absent_criteria_match_everyone_and_unknown_ones_are_refused() {
        assert_eq!(Criteria::parse(None).unwrap(), Criteria::All);
        assert!(matches!(
            Criteria::parse(Some(&json!({"ListCondition": {}}))),
            Err(ApiError::UnsupportedSearch(_))
        ));
        assert!(matches!(
            Criteria::parse(Some(
                &json!({"StringCondition": {"FieldName": "Shoe", "Value": "x"}})
            )),
            Err(ApiError::UnsupportedSearch(_))
        ));
        assert!(matches!(
            Criteria::parse(Some(&json!({"StringCondition": {"FieldName": "Username"}}))),
            Err(ApiError::MissingParameter(_))
        ));
    }
}
