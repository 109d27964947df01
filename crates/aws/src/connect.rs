//! Amazon Connect users of one instance, behind the `UserDirectory` port.
//!
//! Every SDK error is classified here by typed matching into [`DirectoryError`]:
//! Duplicate (CreateUser's 409), NotFound, Invalid and LimitExceeded (permanent),
//! Throttled and Unavailable (transient). Errors the SDK does not model (`Unhandled`,
//! e.g. AccessDenied) are classified by HTTP status, never by message text.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_connect::Client;
use aws_sdk_connect::error::SdkError;
use aws_sdk_connect::operation::create_user::CreateUserError;
use aws_sdk_connect::operation::delete_user::DeleteUserError;
use aws_sdk_connect::operation::describe_user::DescribeUserError;
use aws_sdk_connect::operation::search_users::SearchUsersError;
use aws_sdk_connect::operation::update_user_hierarchy::UpdateUserHierarchyError;
use aws_sdk_connect::operation::update_user_identity_info::UpdateUserIdentityInfoError;
use aws_sdk_connect::operation::update_user_routing_profile::UpdateUserRoutingProfileError;
use aws_sdk_connect::operation::update_user_security_profiles::UpdateUserSecurityProfilesError;
use aws_sdk_connect::types::{
    PhoneType, StringComparisonType, StringCondition, User, UserIdentityInfo, UserPhoneConfig,
    UserSearchCriteria,
};
use aws_smithy_runtime_api::http::Response;
use okta_connect_core::config::ConnectId;
use okta_connect_core::desired::{DesiredUser, IdentityInfo};
use okta_connect_core::plan::ConnectUser;
use okta_connect_core::ports::{CreatedUser, DirectoryError, UserDirectory};

use crate::sdk::{http_status, is_transport_failure};

/// The users of one Connect instance.
#[derive(Debug, Clone)]
pub struct ConnectDirectory {
    client: Client,
    instance_id: String,
    calls: std::sync::Arc<AtomicU64>,
}

impl ConnectDirectory {
    /// A directory over `instance_id`, using a client built once per process.
    pub fn new(client: Client, instance_id: impl Into<String>) -> Self {
        Self {
            client,
            instance_id: instance_id.into(),
            calls: Default::default(),
        }
    }

    /// Connect API requests made so far (one per operation; SDK retries not counted).
    pub fn requests(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

/// The error kinds common to Connect's user operations, so one function classifies all.
enum Kind {
    Duplicate,
    NotFound,
    Invalid,
    LimitExceeded,
    Throttled,
    Unavailable,
    /// Not modelled by the SDK for this operation: decide by HTTP status.
    Other,
}

/// Maps an operation's error enum onto [`Kind`], variant by variant.
macro_rules! kind_of {
    ($err:expr, $ty:ident $(, $extra:ident => $kind:ident)*) => {
        match $err {
            $($ty::$extra(_) => Kind::$kind,)*
            $ty::ResourceNotFoundException(_) => Kind::NotFound,
            $ty::InvalidParameterException(_) | $ty::InvalidRequestException(_) => Kind::Invalid,
            $ty::ThrottlingException(_) => Kind::Throttled,
            $ty::InternalServiceException(_) => Kind::Unavailable,
            _ => Kind::Other,
        }
    };
}

fn classify<E>(err: SdkError<E, Response>, kind: impl FnOnce(&E) -> Kind) -> DirectoryError
where
    E: std::error::Error + 'static,
{
    if is_transport_failure(&err) {
        return DirectoryError::Unavailable(describe(&err));
    }
    let status = http_status(&err);
    let message = describe(&err);
    let Some(service) = err.as_service_error() else {
        return DirectoryError::Unavailable(message);
    };
    match kind(service) {
        Kind::Duplicate => DirectoryError::Duplicate(message),
        Kind::NotFound => DirectoryError::NotFound(message),
        Kind::Invalid => DirectoryError::Invalid(message),
        Kind::LimitExceeded => DirectoryError::LimitExceeded(message),
        Kind::Throttled => DirectoryError::Throttled(message),
        Kind::Unavailable => DirectoryError::Unavailable(message),
        Kind::Other => match status {
            Some(401 | 403) => DirectoryError::Denied(message),
            Some(429) => DirectoryError::Throttled(message),
            Some(s) if s >= 500 => DirectoryError::Unavailable(message),
            _ => DirectoryError::Invalid(message),
        },
    }
}

/// The service's own message (with its error code) for logs and the ledger.
fn describe<E: std::error::Error + 'static, R: std::fmt::Debug>(err: &SdkError<E, R>) -> String {
    let mut text = aws_sdk_connect::error::DisplayErrorContext(err).to_string();
    // Bounded: this text is stored in the ledger and carried to the DLQ.
    text.truncate(500);
    text
}

fn to_connect_user(user: &User) -> Option<ConnectUser> {
    let identity = user.identity_info();
    Some(ConnectUser {
        id: user.id()?.to_string(),
        arn: user.arn().map(String::from),
        username: user.username()?.to_string(),
        identity: IdentityInfo {
            first_name: identity
                .and_then(|i| i.first_name())
                .unwrap_or_default()
                .to_string(),
            last_name: identity
                .and_then(|i| i.last_name())
                .unwrap_or_default()
                .to_string(),
            email: identity.and_then(|i| i.email()).map(String::from),
        },
        routing_profile_id: user.routing_profile_id().unwrap_or_default().to_string(),
        security_profile_ids: user.security_profile_ids().to_vec(),
        hierarchy_group_id: user.hierarchy_group_id().map(String::from),
    })
}

fn identity_info(identity: &IdentityInfo) -> UserIdentityInfo {
    UserIdentityInfo::builder()
        .first_name(&identity.first_name)
        .last_name(&identity.last_name)
        .set_email(identity.email.clone())
        .build()
}

fn ids(ids: &[ConnectId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

impl UserDirectory for ConnectDirectory {
    async fn find_user(&self, username: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        self.count();
        let criteria = UserSearchCriteria::builder()
            .string_condition(
                StringCondition::builder()
                    .field_name("Username")
                    .value(username)
                    .comparison_type(StringComparisonType::Exact)
                    .build(),
            )
            .build();
        let found = self
            .client
            .search_users()
            .instance_id(&self.instance_id)
            .search_criteria(criteria)
            .max_results(2)
            .send()
            .await
            .map_err(|e| classify(e, |e| kind_of!(e, SearchUsersError)))?;
        // Exact match, though Connect compares usernames case-insensitively.
        let Some(id) = found
            .users()
            .iter()
            .find(|u| {
                u.username()
                    .is_some_and(|n| n.eq_ignore_ascii_case(username))
            })
            .and_then(|u| u.id())
        else {
            return Ok(None);
        };
        // The search summary lacks the email; DescribeUser has every attribute.
        self.describe_user(id).await
    }

    async fn describe_user(&self, user_id: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        self.count();
        match self
            .client
            .describe_user()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .send()
            .await
        {
            Ok(out) => Ok(out.user().and_then(to_connect_user)),
            Err(e) => match classify(e, |e| kind_of!(e, DescribeUserError)) {
                DirectoryError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn create_user(&self, user: &DesiredUser) -> Result<CreatedUser, DirectoryError> {
        self.count();
        let phone = UserPhoneConfig::builder()
            .phone_type(PhoneType::SoftPhone)
            .build();
        let out = self
            .client
            .create_user()
            .instance_id(&self.instance_id)
            .username(&user.username)
            .identity_info(identity_info(&user.identity))
            .phone_config(phone)
            .routing_profile_id(user.routing_profile_id.as_str())
            .set_security_profile_ids(Some(ids(&user.security_profile_ids)))
            .set_hierarchy_group_id(user.hierarchy_group_id.as_ref().map(ToString::to_string))
            .send()
            .await
            .map_err(|e| {
                classify(e, |e| {
                    kind_of!(e, CreateUserError,
                        DuplicateResourceException => Duplicate,
                        LimitExceededException => LimitExceeded)
                })
            })?;
        let id = out
            .user_id()
            .ok_or_else(|| DirectoryError::Unavailable("CreateUser returned no UserId".into()))?;
        Ok(CreatedUser {
            id: id.to_string(),
            arn: out.user_arn().map(String::from),
        })
    }

    async fn update_identity(
        &self,
        user_id: &str,
        identity: &IdentityInfo,
    ) -> Result<(), DirectoryError> {
        self.count();
        self.client
            .update_user_identity_info()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .identity_info(identity_info(identity))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(e, |e| kind_of!(e, UpdateUserIdentityInfoError)))
    }

    async fn update_routing_profile(
        &self,
        user_id: &str,
        routing_profile_id: &ConnectId,
    ) -> Result<(), DirectoryError> {
        self.count();
        self.client
            .update_user_routing_profile()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .routing_profile_id(routing_profile_id.as_str())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(e, |e| kind_of!(e, UpdateUserRoutingProfileError)))
    }

    async fn update_security_profiles(
        &self,
        user_id: &str,
        security_profile_ids: &[ConnectId],
    ) -> Result<(), DirectoryError> {
        self.count();
        self.client
            .update_user_security_profiles()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .set_security_profile_ids(Some(ids(security_profile_ids)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(e, |e| kind_of!(e, UpdateUserSecurityProfilesError)))
    }

    async fn update_hierarchy(
        &self,
        user_id: &str,
        hierarchy_group_id: &ConnectId,
    ) -> Result<(), DirectoryError> {
        self.count();
        self.client
            .update_user_hierarchy()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .hierarchy_group_id(hierarchy_group_id.as_str())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(e, |e| kind_of!(e, UpdateUserHierarchyError)))
    }

    async fn delete_user(&self, user_id: &str) -> Result<(), DirectoryError> {
        self.count();
        self.client
            .delete_user()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(e, |e| kind_of!(e, DeleteUserError)))
    }
}
