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
//! (SearchUsers, then DescribeUser for the attributes the search omits), a
//! [`Change::Tags`] update (DescribeUser for the user's ARN, then TagResource unless the
//! user has those tags already) and [`UserDirectory::search`] (one SearchUsers per 500
//! users, Connect's largest page).
//!
//! Ownership searches: [`UserFilter::OwnedBy`] is filtered by Connect (a `TagFilter`
//! `TagCondition` with key and value). [`UserFilter::Owned`] ("the key, any value") is
//! searched unfiltered and filtered here: the API reference's `TagCondition` lists
//! `TagKey` and `TagValue` as optional but never says what a key alone matches
//! (<https://docs.aws.amazon.com/connect/latest/APIReference/API_TagCondition.html>,
//! `API_ControlPlaneTagFilter.html`), so the adapter does not rely on it. Every result is
//! checked here against the filter by [`Owner::of`] either way.
//!
//! IAM: besides the user actions, `connect:TagResource` (TagResource, and CreateUser
//! with tags) and `connect:SearchUsers`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::SdkConfig;
use aws_sdk_connect::Client;
use aws_sdk_connect::operation::create_user::CreateUserError;
use aws_sdk_connect::operation::delete_user::DeleteUserError;
use aws_sdk_connect::operation::describe_user::DescribeUserError;
use aws_sdk_connect::operation::search_users::SearchUsersError;
use aws_sdk_connect::operation::tag_resource::TagResourceError;
use aws_sdk_connect::operation::update_user_hierarchy::UpdateUserHierarchyError;
use aws_sdk_connect::operation::update_user_identity_info::UpdateUserIdentityInfoError;
use aws_sdk_connect::operation::update_user_routing_profile::UpdateUserRoutingProfileError;
use aws_sdk_connect::operation::update_user_security_profiles::UpdateUserSecurityProfilesError;
use aws_sdk_connect::types::{
    ControlPlaneTagFilter, PhoneType, StringComparisonType, StringCondition, TagCondition, User,
    UserIdentityInfo, UserPhoneConfig, UserSearchCriteria, UserSearchFilter, UserSearchSummary,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use okta_connect_core::config::ConnectId;
use okta_connect_core::desired::{DesiredUser, IdentityInfo};
use okta_connect_core::ownership::{OKTA_USER_TAG, Owner, UserFilter};
use okta_connect_core::plan::{Change, ConnectUser};
use okta_connect_core::ports::{CreatedUser, DirectoryError, UserDirectory};

use crate::sdk::{self, Classified, HttpResponse, RequestCounter, SdkError};

/// The users of one Connect instance.
#[derive(Debug, Clone)]
pub struct ConnectDirectory {
    client: Client,
    instance_id: String,
    requests: RequestCounter,
    /// SearchUsers pages Connect throttled and this adapter asked again: such 429s never
    /// reach the caller, so they are counted here (shared by clones).
    search_throttles: Arc<AtomicU64>,
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
            search_throttles: Arc::default(),
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
            search_throttles: Arc::default(),
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

    /// SearchUsers pages Connect throttled that this directory and its clones asked
    /// again (each wait counted once). Such throttles never reach the caller, so a paced
    /// caller's own count misses them: add this one.
    pub fn search_throttles(&self) -> u64 {
        self.search_throttles.load(Ordering::Relaxed)
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

/// Retries of one throttled SearchUsers page, waiting 0.5 s, 1 s, 2 s, 4 s.
const SEARCH_THROTTLE_RETRIES: u32 = 4;
const SEARCH_THROTTLE_FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Connect's largest SearchUsers page.
pub const SEARCH_PAGE_SIZE: i32 = 500;

fn tags_of(tags: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Whether `user` belongs in the results of `filter`, by [`Owner::of`].
fn selected(filter: &UserFilter, user: &ConnectUser) -> bool {
    match filter {
        UserFilter::All => true,
        UserFilter::Owned => matches!(Owner::of(user), Owner::Okta(_)),
        UserFilter::OwnedBy(id) => Owner::of(user) == Owner::Okta(id.as_str()),
    }
}

/// Connect's identity fields as the port's, absent names as empty.
fn identity_from(first: Option<&str>, last: Option<&str>, email: Option<&str>) -> IdentityInfo {
    IdentityInfo {
        first_name: first.unwrap_or_default().to_string(),
        last_name: last.unwrap_or_default().to_string(),
        email: email.map(String::from),
    }
}

/// A search summary as a [`ConnectUser`]. Summaries carry `UserIdentityInfoLite` (names
/// only), so `identity.email` is always `None` here.
fn from_summary(user: &UserSearchSummary) -> Option<ConnectUser> {
    let identity = user.identity_info();
    Some(ConnectUser {
        id: user.id()?.to_string(),
        arn: user.arn().map(String::from),
        username: user.username()?.to_string(),
        identity: identity_from(
            identity.and_then(|i| i.first_name()),
            identity.and_then(|i| i.last_name()),
            None,
        ),
        routing_profile_id: user.routing_profile_id().unwrap_or_default().to_string(),
        security_profile_ids: user.security_profile_ids().to_vec(),
        hierarchy_group_id: user.hierarchy_group_id().map(String::from),
        tags: tags_of(user.tags()),
    })
}

fn to_connect_user(user: &User) -> Option<ConnectUser> {
    let identity = user.identity_info();
    Some(ConnectUser {
        id: user.id()?.to_string(),
        arn: user.arn().map(String::from),
        username: user.username()?.to_string(),
        identity: identity_from(
            identity.and_then(|i| i.first_name()),
            identity.and_then(|i| i.last_name()),
            identity.and_then(|i| i.email()),
        ),
        routing_profile_id: user.routing_profile_id().unwrap_or_default().to_string(),
        security_profile_ids: user.security_profile_ids().to_vec(),
        hierarchy_group_id: user.hierarchy_group_id().map(String::from),
        tags: tags_of(user.tags()),
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
        hierarchy_group_id: Option<&ConnectId>,
    ) -> Result<(), DirectoryError> {
        // Without a group id, UpdateUserHierarchy takes the user out of its group.
        self.client
            .update_user_hierarchy()
            .instance_id(&self.instance_id)
            .user_id(user_id)
            .set_hierarchy_group_id(hierarchy_group_id.map(ToString::to_string))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(&e, kind_of!(UpdateUserHierarchyError)))
    }

    /// TagResource takes the user's ARN, but the port gives only its id: DescribeUser
    /// (an action the adapter needs anyway) reads the ARN and the current tags. Building
    /// the ARN instead would need the instance ARN (DescribeInstance, another IAM action)
    /// and would not answer NotFound for a deleted user.
    async fn update_tags(
        &self,
        user_id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), DirectoryError> {
        let user = self
            .describe(user_id)
            .await?
            .ok_or_else(|| DirectoryError::NotFound(format!("user {user_id}")))?;
        // Nothing to write: tags are the one change whose state the adapter reads first.
        if tags.iter().all(|(k, v)| user.tags.get(k) == Some(v)) {
            return Ok(());
        }
        let arn = user.arn.ok_or_else(|| {
            DirectoryError::Unavailable(format!("DescribeUser returned no Arn for {user_id}"))
        })?;
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify(&e, kind_of!(TagResourceError)))
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

    async fn create(
        &self,
        user: &DesiredUser,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedUser, DirectoryError> {
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
            // Connect takes 1–50 tags when `Tags` is present: leave it out when there are none.
            .set_tags((!tags.is_empty()).then(|| tags.clone().into_iter().collect()))
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
    /// UpdateUserSecurityProfiles or UpdateUserHierarchy; for tags DescribeUser, then
    /// TagResource unless the user has those tags already.
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
                self.update_hierarchy(user_id, hierarchy_group_id.as_ref())
                    .await
            }
            Change::Tags { tags } => self.update_tags(user_id, tags).await,
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

    /// SearchUsers, 500 a page, following `NextToken` to the end; `OwnedBy` filtered by
    /// Connect, `Owned` here (see the module documentation). A user seen on two pages
    /// (the instance changed between them) is returned once. Identities carry no email:
    /// search summaries have names only.
    async fn search(&self, filter: &UserFilter) -> Result<Vec<ConnectUser>, DirectoryError> {
        let search_filter = match filter {
            UserFilter::All | UserFilter::Owned => None,
            // A blank id tags no owner (`Owner::of`): nothing can match.
            UserFilter::OwnedBy(id) if id.trim().is_empty() => return Ok(Vec::new()),
            UserFilter::OwnedBy(id) => Some(
                UserSearchFilter::builder()
                    .tag_filter(
                        ControlPlaneTagFilter::builder()
                            .tag_condition(
                                TagCondition::builder()
                                    .tag_key(OKTA_USER_TAG)
                                    .tag_value(id)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            ),
        };
        let mut users = Vec::new();
        let mut seen = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            // A whole instance is many pages at SearchUsers' 2 requests/s: a throttled
            // page waits and is asked again, instead of failing a long read near its end.
            let mut wait = SEARCH_THROTTLE_FIRST_WAIT;
            let mut throttled = 0;
            let page = loop {
                let answer = self
                    .client
                    .search_users()
                    .instance_id(&self.instance_id)
                    .max_results(SEARCH_PAGE_SIZE)
                    .set_search_filter(search_filter.clone())
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| classify(&e, kind_of!(SearchUsersError)));
                match answer {
                    Err(DirectoryError::Throttled(_)) if throttled < SEARCH_THROTTLE_RETRIES => {
                        throttled += 1;
                        self.search_throttles.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(wait).await;
                        wait = wait.saturating_mul(2);
                    }
                    other => break other?,
                }
            };
            for summary in page.users() {
                // Dropping a user silently could hide it from a revocation sweep.
                let user = from_summary(summary).ok_or_else(|| {
                    DirectoryError::Unavailable(
                        "SearchUsers returned a user without Id or Username".into(),
                    )
                })?;
                if selected(filter, &user) && seen.insert(user.id.clone()) {
                    users.push(user);
                }
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => {
                    if token.as_deref() == Some(next) {
                        return Err(DirectoryError::Unavailable(
                            "SearchUsers returned the same NextToken twice".into(),
                        ));
                    }
                    token = Some(next.to_string());
                }
                _ => break,
            }
        }
        Ok(users)
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
    fn search_results_are_selected_by_owner_tag() {
        let user = |tags: &[(&str, &str)]| ConnectUser {
            id: "u".into(),
            arn: None,
            username: "u".into(),
            identity: IdentityInfo {
                first_name: "A".into(),
                last_name: "B".into(),
                email: None,
            },
            routing_profile_id: "rp".into(),
            security_profile_ids: vec!["sp".into()],
            hierarchy_group_id: None,
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        };
        let owned = user(&[(OKTA_USER_TAG, "00u1")]);
        let blank = user(&[(OKTA_USER_TAG, " ")]);
        let other = user(&[("team", "00u1")]);
        let by = |id: &str| UserFilter::OwnedBy(id.into());
        assert!(selected(&UserFilter::All, &other));
        assert!(selected(&UserFilter::Owned, &owned));
        assert!(
            !selected(&UserFilter::Owned, &blank),
            "a blank id owns nothing"
        );
        assert!(!selected(&UserFilter::Owned, &other));
        assert!(selected(&by("00u1"), &owned));
        assert!(!selected(&by("00u2"), &owned));
        assert!(!selected(&by("00U1"), &owned), "ids compare exactly");
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
