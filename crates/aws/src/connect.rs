//! Amazon Connect users of one instance, behind the [`UserDirectory`] port.
//!
//! Every SDK error is classified here into [`DirectoryError`] through
//! [`sdk::classify`]: the operations' modelled variants by type — Duplicate (CreateUser's
//! 409), NotFound, Invalid and LimitExceeded (permanent), Throttled and Unavailable
//! (transient) — and errors the SDK does not model (e.g. `AccessDeniedException`) by HTTP
//! status: 401/403 Denied, 429 Throttled, 5xx Unavailable, any other status Invalid.
//! Never by message text. Transport failures are Unavailable; a request that could not
//! be built is Invalid.
//!
//! One Connect request per port call, except [`UserDirectory::find_by_username`]
//! (SearchUsers, then DescribeUser for the attributes the search omits).

use aws_config::SdkConfig;
use aws_sdk_connect::Client;
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
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use okta_connect_core::config::ConnectId;
use okta_connect_core::desired::{DesiredUser, IdentityInfo};
use okta_connect_core::plan::{Change, ConnectUser};
use okta_connect_core::ports::{CreatedUser, DirectoryError, UserDirectory};

use crate::sdk::{self, Classified, HttpResponse, RequestCounter, SdkError};

/// The users of one Connect instance.
#[derive(Debug, Clone)]
pub struct ConnectDirectory {
    client: Client,
    instance_id: String,
    requests: RequestCounter,
}

impl ConnectDirectory {
    /// A directory over `instance_id`, with a client built from `config` (see
    /// [`sdk::load`]); build it once per process and share it.
    pub fn from_config(config: &SdkConfig, instance_id: impl Into<String>) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::connect_client(config, &requests),
            instance_id: instance_id.into(),
            requests,
        }
    }

    /// A directory on an existing client, rebuilt with this directory's request counter
    /// (prefer [`from_config`](Self::from_config)).
    pub fn new(client: Client, instance_id: impl Into<String>) -> Self {
        let requests = RequestCounter::new();
        Self {
            client: sdk::counted_connect_client(&client, &requests),
            instance_id: instance_id.into(),
            requests,
        }
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// The Connect client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Connect API requests sent so far by this directory and its clones (counted on
    /// the wire, one per attempt).
    pub fn requests(&self) -> u64 {
        self.requests.get()
    }
}

/// The error kinds common to Connect's user operations, so one function classifies all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Duplicate,
    NotFound,
    Invalid,
    LimitExceeded,
    Throttled,
    Unavailable,
}

/// Maps an operation's error enum onto [`Kind`], variant by variant; `None` for errors
/// the SDK does not model (left to the HTTP status).
macro_rules! kind_of {
    ($ty:ident $(, $extra:ident => $kind:ident)*) => {
        |e: &$ty| match e {
            $($ty::$extra(_) => Some(Kind::$kind),)*
            $ty::ResourceNotFoundException(_) => Some(Kind::NotFound),
            $ty::InvalidParameterException(_) | $ty::InvalidRequestException(_) => {
                Some(Kind::Invalid)
            }
            $ty::ThrottlingException(_) => Some(Kind::Throttled),
            $ty::InternalServiceException(_) => Some(Kind::Unavailable),
            _ => None,
        }
    };
}

fn classify<E>(
    err: &SdkError<E, HttpResponse>,
    typed: impl FnOnce(&E) -> Option<Kind>,
) -> DirectoryError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = sdk::describe(err);
    match sdk::classify(err, typed) {
        Classified::Typed(Kind::Duplicate) => DirectoryError::Duplicate(message),
        Classified::Typed(Kind::NotFound) => DirectoryError::NotFound(message),
        Classified::Typed(Kind::Invalid) => DirectoryError::Invalid(message),
        Classified::Typed(Kind::LimitExceeded) => DirectoryError::LimitExceeded(message),
        Classified::Typed(Kind::Throttled) => DirectoryError::Throttled(message),
        Classified::Typed(Kind::Unavailable) | Classified::Transport => {
            DirectoryError::Unavailable(message)
        }
        Classified::Status(401 | 403) => DirectoryError::Denied(message),
        Classified::Status(429) => DirectoryError::Throttled(message),
        Classified::Status(status) if status >= 500 => DirectoryError::Unavailable(message),
        Classified::Status(_) | Classified::Construction => DirectoryError::Invalid(message),
    }
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

impl ConnectDirectory {
    async fn update_identity(
        &self,
        user_id: &str,
        identity: &IdentityInfo,
    ) -> Result<(), DirectoryError> {
        self.client
            .update_user_identity_info()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .identity_info(identity_info(identity))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(&e, kind_of!(UpdateUserIdentityInfoError)))
    }

    async fn update_routing_profile(
        &self,
        user_id: &str,
        routing_profile_id: &ConnectId,
    ) -> Result<(), DirectoryError> {
        self.client
            .update_user_routing_profile()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .routing_profile_id(routing_profile_id.as_str())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(&e, kind_of!(UpdateUserRoutingProfileError)))
    }

    async fn update_security_profiles(
        &self,
        user_id: &str,
        security_profile_ids: &[ConnectId],
    ) -> Result<(), DirectoryError> {
        self.client
            .update_user_security_profiles()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .set_security_profile_ids(Some(ids(security_profile_ids)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(&e, kind_of!(UpdateUserSecurityProfilesError)))
    }

    async fn update_hierarchy(
        &self,
        user_id: &str,
        hierarchy_group_id: &ConnectId,
    ) -> Result<(), DirectoryError> {
        self.client
            .update_user_hierarchy()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .hierarchy_group_id(hierarchy_group_id.as_str())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(&e, kind_of!(UpdateUserHierarchyError)))
    }
}

impl UserDirectory for ConnectDirectory {
    async fn find_by_username(
        &self,
        username: &str,
    ) -> Result<Option<ConnectUser>, DirectoryError> {
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
            .map_err(|e| classify(&e, kind_of!(SearchUsersError)))?;
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
        self.describe(id).await
    }

    async fn describe(&self, user_id: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        match self
            .client
            .describe_user()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .send()
            .await
        {
            Ok(out) => Ok(out.user().and_then(to_connect_user)),
            Err(e) => match classify(&e, kind_of!(DescribeUserError)) {
                DirectoryError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn create(&self, user: &DesiredUser) -> Result<CreatedUser, DirectoryError> {
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
                classify(
                    &e,
                    kind_of!(CreateUserError,
                        DuplicateResourceException => Duplicate,
                        LimitExceededException => LimitExceeded),
                )
            })?;
        let id = out
            .user_id()
            .ok_or_else(|| DirectoryError::Unavailable("CreateUser returned no UserId".into()))?;
        Ok(CreatedUser {
            id: id.to_string(),
            arn: out.user_arn().map(String::from),
        })
    }

    /// One Connect call per change: UpdateUserIdentityInfo, UpdateUserRoutingProfile,
    /// UpdateUserSecurityProfiles or UpdateUserHierarchy.
    async fn update(&self, user_id: &str, change: &Change) -> Result<(), DirectoryError> {
        match change {
            Change::Identity { identity } => self.update_identity(user_id, identity).await,
            Change::RoutingProfile { routing_profile_id } => {
                self.update_routing_profile(user_id, routing_profile_id)
                    .await
            }
            Change::SecurityProfiles {
                security_profile_ids,
            } => {
                self.update_security_profiles(user_id, security_profile_ids)
                    .await
            }
            Change::Hierarchy { hierarchy_group_id } => {
                self.update_hierarchy(user_id, hierarchy_group_id).await
            }
        }
    }

    async fn delete(&self, user_id: &str) -> Result<(), DirectoryError> {
        self.client
            .delete_user()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(&e, kind_of!(DeleteUserError)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_connect::types::error::{
        DuplicateResourceException, LimitExceededException, ThrottlingException,
    };
    use aws_smithy_runtime_api::client::result::ConstructionFailure;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    fn service<E>(e: E, status: u16) -> SdkError<E, HttpResponse> {
        SdkError::service_error(
            e,
            HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()),
        )
    }

    fn create_error(e: CreateUserError, status: u16) -> DirectoryError {
        classify(
            &service(e, status),
            kind_of!(CreateUserError,
                DuplicateResourceException => Duplicate,
                LimitExceededException => LimitExceeded),
        )
    }

    fn unmodelled(code: &str) -> CreateUserError {
        CreateUserError::generic(
            aws_sdk_connect::error::ErrorMetadata::builder()
                .code(code)
                .message("m")
                .build(),
        )
    }

    #[test]
    fn modelled_errors_by_type() {
        let duplicate = CreateUserError::DuplicateResourceException(
            DuplicateResourceException::builder().build(),
        );
        assert!(matches!(
            create_error(duplicate, 409),
            DirectoryError::Duplicate(_)
        ));
        // LimitExceeded is a 429 too, but a quota: permanent, not throttling.
        let quota =
            CreateUserError::LimitExceededException(LimitExceededException::builder().build());
        let err = create_error(quota, 429);
        assert!(matches!(err, DirectoryError::LimitExceeded(_)), "{err:?}");
        assert_eq!(err.class(), okta_connect_core::ports::ErrorClass::Permanent);
        let throttled =
            CreateUserError::ThrottlingException(ThrottlingException::builder().build());
        let err = create_error(throttled, 429);
        assert!(matches!(err, DirectoryError::Throttled(_)), "{err:?}");
        assert_eq!(err.class(), okta_connect_core::ports::ErrorClass::Transient);
    }

    #[test]
    fn unmodelled_errors_by_status() {
        for (status, want) in [
            (403, "Denied"),
            (401, "Denied"),
            (429, "Throttled"),
            (500, "Unavailable"),
            (503, "Unavailable"),
            (400, "Invalid"),
            (404, "Invalid"),
        ] {
            let got = create_error(unmodelled("SomethingNew"), status);
            let name = match got {
                DirectoryError::Denied(_) => "Denied",
                DirectoryError::Throttled(_) => "Throttled",
                DirectoryError::Unavailable(_) => "Unavailable",
                DirectoryError::Invalid(_) => "Invalid",
                _ => "other",
            };
            assert_eq!(name, want, "HTTP {status}: {got:?}");
        }
    }

    #[test]
    fn construction_failures_are_permanent() {
        let err: SdkError<CreateUserError, HttpResponse> = SdkError::ConstructionFailure(
            ConstructionFailure::builder()
                .source("no InstanceId")
                .build(),
        );
        let got = classify(&err, kind_of!(CreateUserError));
        assert!(matches!(got, DirectoryError::Invalid(_)), "{got:?}");
    }
}
