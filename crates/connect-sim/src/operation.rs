//! The Connect operations the simulator serves and how their HTTP routes map to them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One Amazon Connect API operation served by the simulator.
///
/// Names (`as_str`, serde, `FromStr`) are the AWS operation names, e.g. `CreateUser`, so
/// they can be used verbatim in fault specs, rate-limit overrides and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Operation {
    /// `PUT /users/{InstanceId}`
    CreateUser,
    /// `GET /users/{InstanceId}/{UserId}`
    DescribeUser,
    /// `DELETE /users/{InstanceId}/{UserId}`
    DeleteUser,
    /// `POST /users/{InstanceId}/{UserId}/identity-info`
    UpdateUserIdentityInfo,
    /// `POST /users/{InstanceId}/{UserId}/security-profiles`
    UpdateUserSecurityProfiles,
    /// `POST /users/{InstanceId}/{UserId}/routing-profile`
    UpdateUserRoutingProfile,
    /// `POST /users/{InstanceId}/{UserId}/hierarchy`
    UpdateUserHierarchy,
    /// `GET /users-summary/{InstanceId}`
    ListUsers,
    /// `POST /search-users`
    SearchUsers,
    /// `GET /security-profiles-summary/{InstanceId}`
    ListSecurityProfiles,
    /// `GET /routing-profiles-summary/{InstanceId}`
    ListRoutingProfiles,
    /// `POST /tags/{resourceArn}` (user ARNs only)
    TagResource,
    /// `DELETE /tags/{resourceArn}?tagKeys=…` (user ARNs only)
    UntagResource,
}

impl Operation {
    /// Every operation, in a stable order.
    pub const ALL: [Operation; 13] = [
        Operation::CreateUser,
        Operation::DescribeUser,
        Operation::DeleteUser,
        Operation::UpdateUserIdentityInfo,
        Operation::UpdateUserSecurityProfiles,
        Operation::UpdateUserRoutingProfile,
        Operation::UpdateUserHierarchy,
        Operation::ListUsers,
        Operation::SearchUsers,
        Operation::ListSecurityProfiles,
        Operation::ListRoutingProfiles,
        Operation::TagResource,
        Operation::UntagResource,
    ];

    /// The AWS operation name.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::CreateUser => "CreateUser",
            Operation::DescribeUser => "DescribeUser",
            Operation::DeleteUser => "DeleteUser",
            Operation::UpdateUserIdentityInfo => "UpdateUserIdentityInfo",
            Operation::UpdateUserSecurityProfiles => "UpdateUserSecurityProfiles",
            Operation::UpdateUserRoutingProfile => "UpdateUserRoutingProfile",
            Operation::UpdateUserHierarchy => "UpdateUserHierarchy",
            Operation::ListUsers => "ListUsers",
            Operation::SearchUsers => "SearchUsers",
            Operation::ListSecurityProfiles => "ListSecurityProfiles",
            Operation::ListRoutingProfiles => "ListRoutingProfiles",
            Operation::TagResource => "TagResource",
            Operation::UntagResource => "UntagResource",
        }
    }

    /// Whether the operation changes stored state (and so triggers persistence).
    pub fn is_mutation(self) -> bool {
        matches!(
            self,
            Operation::CreateUser
                | Operation::DeleteUser
                | Operation::UpdateUserIdentityInfo
                | Operation::UpdateUserSecurityProfiles
                | Operation::UpdateUserRoutingProfile
                | Operation::UpdateUserHierarchy
                | Operation::TagResource
                | Operation::UntagResource
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given is not one of the operations the simulator serves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown operation {0:?}; expected one of CreateUser, DescribeUser, DeleteUser, UpdateUserIdentityInfo, UpdateUserSecurityProfiles, UpdateUserRoutingProfile, UpdateUserHierarchy, ListUsers, SearchUsers, ListSecurityProfiles, ListRoutingProfiles, TagResource, UntagResource"
)]
pub struct UnknownOperationName(pub String);

impl FromStr for Operation {
    type Err = UnknownOperationName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownOperationName(s.to_owned()))
    }
}

/// A request matched to an operation, with its decoded path labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub operation: Operation,
    /// `{InstanceId}` from the path; `None` for SearchUsers, whose instance is in the body.
    pub instance_id: Option<String>,
    /// `{UserId}` from the path, for the per-user operations.
    pub user_id: Option<String>,
    /// `{resourceArn}` from the path, for TagResource and UntagResource.
    pub resource_arn: Option<String>,
}

/// Maps an HTTP method and path to a Connect operation, as Connect's REST-JSON binding does.
///
/// Returns `None` for anything else, which the server answers as an unknown operation.
pub(crate) fn route(method: &str, path: &str) -> Option<Route> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .map(percent_decode)
        .collect::<Option<_>>()?;
    if segments.iter().any(String::is_empty) {
        return None;
    }
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let for_instance = |operation, instance: &str| Route {
        operation,
        instance_id: Some(instance.to_owned()),
        user_id: None,
        resource_arn: None,
    };
    let for_user = |operation, instance: &str, user: &str| Route {
        operation,
        instance_id: Some(instance.to_owned()),
        user_id: Some(user.to_owned()),
        resource_arn: None,
    };
    // The SDK percent-encodes the whole ARN into one segment (`/` as `%2F`); a client that
    // leaves its slashes raw sends several, so the rest of the path is the ARN either way.
    let for_resource = |operation, arn: &[&str]| Route {
        operation,
        instance_id: None,
        user_id: None,
        resource_arn: Some(arn.join("/")),
    };
    let found = match (method, seg.as_slice()) {
        ("PUT", ["users", instance]) => for_instance(Operation::CreateUser, instance),
        ("GET", ["users", instance, user]) => for_user(Operation::DescribeUser, instance, user),
        ("DELETE", ["users", instance, user]) => for_user(Operation::DeleteUser, instance, user),
        ("POST", ["users", instance, user, "identity-info"]) => {
            for_user(Operation::UpdateUserIdentityInfo, instance, user)
        }
        ("POST", ["users", instance, user, "security-profiles"]) => {
            for_user(Operation::UpdateUserSecurityProfiles, instance, user)
        }
        ("POST", ["users", instance, user, "routing-profile"]) => {
            for_user(Operation::UpdateUserRoutingProfile, instance, user)
        }
        ("POST", ["users", instance, user, "hierarchy"]) => {
            for_user(Operation::UpdateUserHierarchy, instance, user)
        }
        ("GET", ["users-summary", instance]) => for_instance(Operation::ListUsers, instance),
        ("POST", ["search-users"]) => Route {
            operation: Operation::SearchUsers,
            instance_id: None,
            user_id: None,
            resource_arn: None,
        },
        ("POST", ["tags", arn @ ..]) if !arn.is_empty() => {
            for_resource(Operation::TagResource, arn)
        }
        ("DELETE", ["tags", arn @ ..]) if !arn.is_empty() => {
            for_resource(Operation::UntagResource, arn)
        }
        ("GET", ["security-profiles-summary", instance]) => {
            for_instance(Operation::ListSecurityProfiles, instance)
        }
        ("GET", ["routing-profiles-summary", instance]) => {
            for_instance(Operation::ListRoutingProfiles, instance)
        }
        _ => return None,
    };
    Some(found)
}

/// Decodes `%XX` escapes in one path segment; `None` when the escapes are not valid UTF-8.
pub(crate) fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_every_operation() {
        let cases = [
            ("PUT", "/users/i1", Operation::CreateUser),
            ("GET", "/users/i1/u1", Operation::DescribeUser),
            ("DELETE", "/users/i1/u1", Operation::DeleteUser),
            (
                "POST",
                "/users/i1/u1/identity-info",
                Operation::UpdateUserIdentityInfo,
            ),
            (
                "POST",
                "/users/i1/u1/security-profiles",
                Operation::UpdateUserSecurityProfiles,
            ),
            (
                "POST",
                "/users/i1/u1/routing-profile",
                Operation::UpdateUserRoutingProfile,
            ),
            (
                "POST",
                "/users/i1/u1/hierarchy",
                Operation::UpdateUserHierarchy,
            ),
            ("GET", "/users-summary/i1", Operation::ListUsers),
            ("POST", "/search-users", Operation::SearchUsers),
            (
                "GET",
                "/security-profiles-summary/i1",
                Operation::ListSecurityProfiles,
            ),
            (
                "GET",
                "/routing-profiles-summary/i1",
                Operation::ListRoutingProfiles,
            ),
            (
                "POST",
                "/tags/arn%3Aaws%3Aconnect%3Aus-east-1%3A1%3Ainstance%2Fi1%2Fagent%2Fu1",
                Operation::TagResource,
            ),
            ("DELETE", "/tags/arn:x/agent/u1", Operation::UntagResource),
        ];
        for (method, path, op) in cases {
            let found = route(method, path).map(|r| r.operation);
            assert_eq!(found, Some(op), "{method} {path}");
        }
    }

    #[test]
    fn extracts_and_decodes_labels() {
        let r = route("GET", "/users/abc%2Ddef/u%401").unwrap();
        assert_eq!(r.instance_id.as_deref(), Some("abc-def"));
        assert_eq!(r.user_id.as_deref(), Some("u@1"));
        let arn = "arn:aws:connect:us-east-1:123456789012:instance/i1/agent/u1";
        for path in [
            "/tags/arn%3Aaws%3Aconnect%3Aus-east-1%3A123456789012%3Ainstance%2Fi1%2Fagent%2Fu1",
            "/tags/arn:aws:connect:us-east-1:123456789012:instance/i1/agent/u1",
        ] {
            let r = route("POST", path).unwrap();
            assert_eq!(r.resource_arn.as_deref(), Some(arn), "{path}");
        }
        assert!(route("POST", "/tags").is_none());
        assert!(route("GET", "/tags/arn").is_none());
    }

    #[test]
    fn rejects_unknown_paths_and_methods() {
        assert!(route("GET", "/users/i1").is_none());
        assert!(route("PATCH", "/users/i1/u1").is_none());
        assert!(route("GET", "/queues/i1").is_none());
        assert!(route("GET", "/users//u1").is_none());
        assert!(route("GET", "/").is_none());
        assert!(route("GET", "/users/%ZZ/u1").is_none());
    }

    #[test]
    fn operation_names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>(), Ok(op));
        }
        assert!("Nope".parse::<Operation>().is_err());
    }
}
