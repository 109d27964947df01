//! Okta's JSON, as far as the port needs it, mapped onto the core's identity types.

use okta_connect_core::desired::OktaProfile;
use okta_connect_core::identity::{OktaApp, OktaGroup, OktaUser, OktaUserStatus};
use serde::Deserialize;

/// A User (`GET /api/v1/users/{id}`, group members, `_embedded.user`).
#[derive(Debug, Deserialize)]
pub(crate) struct UserJson {
    pub id: String,
    pub status: String,
    pub profile: ProfileJson,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileJson {
    pub login: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

impl From<UserJson> for OktaUser {
    fn from(u: UserJson) -> Self {
        OktaUser {
            id: u.id,
            status: OktaUserStatus::parse(&u.status),
            profile: OktaProfile {
                login: u.profile.login,
                first_name: u.profile.first_name,
                last_name: u.profile.last_name,
                email: u.profile.email,
            },
        }
    }
}

/// An AppUser (`GET /api/v1/apps/{id}/users?expand=user`): its `id` is the user's.
#[derive(Debug, Deserialize)]
pub(crate) struct AppUserJson {
    pub id: String,
    #[serde(rename = "_embedded", default)]
    pub embedded: Option<EmbeddedUser>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddedUser {
    #[serde(default)]
    pub user: Option<UserJson>,
}

/// A Group (`GET /api/v1/groups`).
#[derive(Debug, Deserialize)]
pub(crate) struct GroupJson {
    pub id: String,
    pub profile: GroupProfileJson,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GroupProfileJson {
    pub name: String,
}

impl From<GroupJson> for OktaGroup {
    fn from(g: GroupJson) -> Self {
        OktaGroup {
            id: g.id,
            name: g.profile.name,
        }
    }
}

/// An Application (`GET /api/v1/apps`).
#[derive(Debug, Deserialize)]
pub(crate) struct AppJson {
    pub id: String,
    pub name: String,
    pub label: String,
}

impl From<AppJson> for OktaApp {
    fn from(a: AppJson) -> Self {
        OktaApp {
            id: a.id,
            label: a.label,
            catalog_name: a.name,
        }
    }
}

/// The only field of a System Log event the adapter reads (to keep the port's order).
#[derive(Debug, Deserialize)]
pub(crate) struct Published {
    #[serde(default)]
    pub published: Option<String>,
}

/// A string literal of Okta's filter/search expression language: quoted, with `\` and
/// `"` escaped, so a name with a quote can neither break nor extend the expression.
pub(crate) fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `eventType eq "a" or eventType eq "b"`; `None` for no types (all events).
pub(crate) fn event_type_filter(types: &[String]) -> Option<String> {
    (!types.is_empty()).then(|| {
        types
            .iter()
            .map(|t| format!("eventType eq {}", literal(t)))
            .collect::<Vec<_>>()
            .join(" or ")
    })
}

/// Okta compares names case-insensitively; so does the port.
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(literal("amazon_connect"), r#""amazon_connect""#);
        assert_eq!(literal(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(
            literal(r#"x" or profile.name sw ""#),
            r#""x\" or profile.name sw \"""#
        );
    }

    #[test]
    fn event_type_filters_join_with_or() {
        assert_eq!(event_type_filter(&[]), None);
        assert_eq!(
            event_type_filter(&[
                "group.user_membership.add".into(),
                "user.lifecycle.suspend".into()
            ])
            .as_deref(),
            Some(
                r#"eventType eq "group.user_membership.add" or eventType eq "user.lifecycle.suspend""#
            )
        );
    }

    #[test]
    fn names_match_case_insensitively_and_exactly() {
        assert!(same_name("Amazon_Connect", "amazon_connect"));
        assert!(same_name("ÅSA", "åsa"));
        assert!(!same_name("amazon_connect", "amazon_connect_admins"));
        assert!(!same_name("amazon", "amazon_connect"));
    }

    #[test]
    fn users_map_with_missing_and_null_fields() {
        let u: UserJson = serde_json::from_value(serde_json::json!({
            "id": "00u1", "status": "SUSPENDED", "created": "2020-01-01T00:00:00.000Z",
            "profile": {"login": "a@x", "firstName": "Zoë", "lastName": null, "mobilePhone": null},
            "_links": {}
        }))
        .unwrap();
        let u = OktaUser::from(u);
        assert_eq!(u.status, OktaUserStatus::Suspended);
        assert_eq!(u.profile.first_name.as_deref(), Some("Zoë"));
        assert_eq!(u.profile.last_name, None);
        assert_eq!(u.profile.email, None);

        let a: AppUserJson = serde_json::from_value(serde_json::json!({
            "id": "00u2", "scope": "GROUP", "status": "PROVISIONED",
            "credentials": {"userName": "b@x"}
        }))
        .unwrap();
        assert!(a.embedded.is_none());

        let app = OktaApp::from(
            serde_json::from_value::<AppJson>(serde_json::json!({
                "id": "0oa1", "name": "amazon_aws", "label": "Contact Centre", "status": "ACTIVE"
            }))
            .unwrap(),
        );
        assert_eq!(app.catalog_name, "amazon_aws");
        assert_eq!(app.label, "Contact Centre");
    }
}
