//! Every operation and every error of the simulator, driven through the real
//! `aws-sdk-connect` client; errors are matched by their typed SDK variants.

use std::time::{Duration, Instant};

use aws_sdk_connect::error::ProvideErrorMetadata;
use aws_sdk_connect::operation::create_user::CreateUserError;
use aws_sdk_connect::operation::delete_user::DeleteUserError;
use aws_sdk_connect::operation::describe_user::DescribeUserError;
use aws_sdk_connect::operation::list_routing_profiles::ListRoutingProfilesError;
use aws_sdk_connect::operation::list_security_profiles::ListSecurityProfilesError;
use aws_sdk_connect::operation::list_users::ListUsersError;
use aws_sdk_connect::operation::search_users::SearchUsersError;
use aws_sdk_connect::operation::tag_resource::TagResourceError;
use aws_sdk_connect::operation::untag_resource::UntagResourceError;
use aws_sdk_connect::operation::update_user_hierarchy::UpdateUserHierarchyError;
use aws_sdk_connect::operation::update_user_identity_info::UpdateUserIdentityInfoError;
use aws_sdk_connect::operation::update_user_routing_profile::UpdateUserRoutingProfileError;
use aws_sdk_connect::operation::update_user_security_profiles::UpdateUserSecurityProfilesError;
use aws_sdk_connect::types::{
    ControlPlaneTagFilter, ListCondition, PhoneType, StringComparisonType, StringCondition,
    TagCondition, UserIdentityInfo, UserSearchCriteria, UserSearchFilter,
};
use connect_sim::seed::{
    AGENT_SECURITY_PROFILE_ID, CALL_CENTER_MANAGER_SECURITY_PROFILE_ID, DEFAULT_INSTANCE_ID,
    DEFAULT_ROUTING_PROFILE_ID, SUPERVISOR_SECURITY_PROFILE_ID, SUPERVISORS_HIERARCHY_GROUP_ID,
    SUPERVISORS_ROUTING_PROFILE_ID,
};
use connect_sim::{
    ErrorKind, Faults, IdentityInfo, IdentityManagementType, InstanceSeed, NewUser, Operation,
    RateLimit, RateLimits, ScriptedFault, Seed, Sim,
};

use crate::common::{client, create_user, start, temp_dir};

const ARN_PREFIX: &str = "arn:aws:connect:us-east-1:123456789012:instance";

/// Awaits a call that must fail and checks its typed service error.
macro_rules! expect_err {
    ($call:expr, $pattern:pat) => {{
        let error = $call
            .await
            .expect_err("the call must fail")
            .into_service_error();
        assert!(matches!(error, $pattern), "unexpected error: {error:?}");
        error
    }};
}

fn exact_username(username: &str) -> UserSearchCriteria {
    UserSearchCriteria::builder()
        .string_condition(
            StringCondition::builder()
                .field_name("Username")
                .value(username)
                .comparison_type(StringComparisonType::Exact)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn every_operation_works_through_the_sdk() {
    let server = start(Sim::builder().no_throttle()).await;
    let c = client(&server.url()).await;
    let instance_arn = format!("{ARN_PREFIX}/{DEFAULT_INSTANCE_ID}");

    // ListSecurityProfiles, one page and paginated.
    let profiles = c
        .list_security_profiles()
        .instance_id(DEFAULT_INSTANCE_ID)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = profiles
        .security_profile_summary_list()
        .iter()
        .filter_map(|p| p.name())
        .collect();
    assert_eq!(
        names,
        [
            "Agent",
            "CallCenterManager",
            "NoPermissions",
            "QualityAnalyst",
            "Supervisor"
        ]
    );
    let agent = &profiles.security_profile_summary_list()[0];
    assert_eq!(agent.id(), Some(AGENT_SECURITY_PROFILE_ID));
    assert_eq!(
        agent.arn(),
        Some(format!("{instance_arn}/security-profile/{AGENT_SECURITY_PROFILE_ID}").as_str())
    );
    let paged = c
        .list_security_profiles()
        .instance_id(DEFAULT_INSTANCE_ID)
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(paged.len(), 5);

    // ListRoutingProfiles.
    let routing = c
        .list_routing_profiles()
        .instance_id(DEFAULT_INSTANCE_ID)
        .send()
        .await
        .unwrap();
    let routing: Vec<(Option<&str>, Option<&str>)> = routing
        .routing_profile_summary_list()
        .iter()
        .map(|p| (p.name(), p.arn()))
        .collect();
    assert_eq!(
        routing,
        [
            (
                Some("Basic Routing Profile"),
                Some(
                    format!("{instance_arn}/routing-profile/{DEFAULT_ROUTING_PROFILE_ID}").as_str()
                )
            ),
            (
                Some("Supervisors"),
                Some(
                    format!("{instance_arn}/routing-profile/{SUPERVISORS_ROUTING_PROFILE_ID}")
                        .as_str()
                )
            ),
        ]
    );

    // CreateUser.
    let created = create_user(&c, "jane.doe@example.com")
        .hierarchy_group_id(SUPERVISORS_HIERARCHY_GROUP_ID)
        .tags("team", "blue")
        .send()
        .await
        .unwrap();
    let user_id = created.user_id().unwrap().to_owned();
    assert!(
        uuid::Uuid::parse_str(&user_id).is_ok(),
        "user ids are UUIDs"
    );
    let user_arn = format!("{instance_arn}/agent/{user_id}");
    assert_eq!(created.user_arn(), Some(user_arn.as_str()));

    // DescribeUser returns every attribute.
    let described = c
        .describe_user()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&user_id)
        .send()
        .await
        .unwrap();
    let user = described.user().unwrap();
    assert_eq!(user.id(), Some(user_id.as_str()));
    assert_eq!(user.arn(), Some(user_arn.as_str()));
    assert_eq!(user.username(), Some("jane.doe@example.com"));
    let info = user.identity_info().unwrap();
    assert_eq!(info.first_name(), Some("Test"));
    assert_eq!(info.last_name(), Some("User"));
    assert_eq!(info.email(), Some("jane.doe@example.com"));
    assert_eq!(
        user.phone_config().unwrap().phone_type(),
        &PhoneType::SoftPhone
    );
    assert_eq!(user.security_profile_ids(), [AGENT_SECURITY_PROFILE_ID]);
    assert_eq!(user.routing_profile_id(), Some(DEFAULT_ROUTING_PROFILE_ID));
    assert_eq!(
        user.hierarchy_group_id(),
        Some(SUPERVISORS_HIERARCHY_GROUP_ID)
    );
    assert_eq!(
        user.tags().unwrap().get("team").map(String::as_str),
        Some("blue")
    );
    assert!(user.last_modified_time().is_some());
    assert_eq!(user.last_modified_region(), Some("us-east-1"));

    // The four updates.
    c.update_user_identity_info()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&user_id)
        .identity_info(
            UserIdentityInfo::builder()
                .first_name("Janet")
                .last_name("Doe-Smith")
                .email("janet@example.com")
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.update_user_security_profiles()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&user_id)
        .security_profile_ids(SUPERVISOR_SECURITY_PROFILE_ID)
        .security_profile_ids(CALL_CENTER_MANAGER_SECURITY_PROFILE_ID)
        .send()
        .await
        .unwrap();
    c.update_user_routing_profile()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&user_id)
        .routing_profile_id(SUPERVISORS_ROUTING_PROFILE_ID)
        .send()
        .await
        .unwrap();
    // No group: the user leaves its hierarchy group.
    c.update_user_hierarchy()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&user_id)
        .send()
        .await
        .unwrap();
    let stored = server.sim().user(DEFAULT_INSTANCE_ID, &user_id).unwrap();
    assert_eq!(stored.identity_info.first_name.as_deref(), Some("Janet"));
    assert_eq!(stored.identity_info.last_name.as_deref(), Some("Doe-Smith"));
    assert_eq!(
        stored.security_profile_ids,
        [
            SUPERVISOR_SECURITY_PROFILE_ID,
            CALL_CENTER_MANAGER_SECURITY_PROFILE_ID
        ]
    );
    assert_eq!(stored.routing_profile_id, SUPERVISORS_ROUTING_PROFILE_ID);
    assert_eq!(stored.hierarchy_group_id, None);
    c.update_user_hierarchy()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&user_id)
        .hierarchy_group_id(SUPERVISORS_HIERARCHY_GROUP_ID)
        .send()
        .await
        .unwrap();
    let described = c
        .describe_user()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&user_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.user().unwrap().hierarchy_group_id(),
        Some(SUPERVISORS_HIERARCHY_GROUP_ID)
    );

    // ListUsers, paginated by nextToken/maxResults.
    for i in 1..=4 {
        create_user(&c, &format!("user{i}")).send().await.unwrap();
    }
    let mut pages = c
        .list_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .max_results(2)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.try_next().await.unwrap() {
        page_count += 1;
        listed.extend(
            page.user_summary_list()
                .iter()
                .map(|u| u.username().unwrap().to_owned()),
        );
    }
    assert_eq!(page_count, 3);
    assert_eq!(
        listed,
        ["jane.doe@example.com", "user1", "user2", "user3", "user4"]
    );

    // SearchUsers: exact username (case-insensitive, as usernames are unique that way)…
    let found = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .search_criteria(exact_username("JANE.DOE@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(found.approximate_total_count(), Some(1));
    let hit = &found.users()[0];
    assert_eq!(hit.id(), Some(user_id.as_str()));
    assert_eq!(
        hit.routing_profile_id(),
        Some(SUPERVISORS_ROUTING_PROFILE_ID)
    );
    assert_eq!(hit.identity_info().unwrap().first_name(), Some("Janet"));
    let none = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .search_criteria(exact_username("jane.doe"))
        .send()
        .await
        .unwrap();
    assert!(none.users().is_empty());
    // …and paginated.
    let prefix = UserSearchCriteria::builder()
        .string_condition(
            StringCondition::builder()
                .field_name("Username")
                .value("user")
                .comparison_type(StringComparisonType::StartsWith)
                .build(),
        )
        .build();
    let searched = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .search_criteria(prefix)
        .max_results(3)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let searched: Vec<&str> = searched.iter().filter_map(|u| u.username()).collect();
    assert_eq!(searched, ["user1", "user2", "user3", "user4"]);

    // TagResource and UntagResource on the user's ARN.
    let arn = format!("{ARN_PREFIX}/{DEFAULT_INSTANCE_ID}/agent/{user_id}");
    c.tag_resource()
        .resource_arn(&arn)
        .tags("team", "red")
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();

    // DeleteUser.
    c.delete_user()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&user_id)
        .send()
        .await
        .unwrap();
    expect_err!(
        c.describe_user()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&user_id)
            .send(),
        DescribeUserError::ResourceNotFoundException(_)
    );
    assert_eq!(server.sim().users().len(), 4);

    let counters = server.sim().counters();
    for op in Operation::ALL {
        assert!(counters.successes(op) >= 1, "{op} succeeded at least once");
    }
    assert_eq!(counters.successes(Operation::CreateUser), 5);
    assert_eq!(counters.successes(Operation::ListUsers), 3);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn connect_errors_arrive_as_typed_sdk_errors() {
    let server = start(Sim::builder().no_throttle()).await;
    let sim = server.sim().clone();
    sim.apply_seed(
        &Seed::empty().with_instance(
            InstanceSeed::new("tiny-instance")
                .max_users(1)
                .routing_profile("rp-1", "Basic")
                .security_profile("sp-1", "Agent"),
        ),
    )
    .unwrap();
    let c = client(&server.url()).await;
    let jane = create_user(&c, "jane")
        .send()
        .await
        .unwrap()
        .user_id()
        .unwrap()
        .to_owned();

    // 409: an existing username (ignoring case), with Connect's message.
    let error = expect_err!(
        create_user(&c, "JANE").send(),
        CreateUserError::DuplicateResourceException(_)
    );
    let expected = format!(
        "The user JANE is already associated with the Amazon Connect instance {DEFAULT_INSTANCE_ID}"
    );
    assert_eq!(error.message(), Some(expected.as_str()));

    // 400 InvalidParameterException from CreateUser.
    expect_err!(
        create_user(&c, "a")
            .routing_profile_id("no-such-profile")
            .send(),
        CreateUserError::InvalidParameterException(_)
    );
    expect_err!(
        create_user(&c, "a")
            .security_profile_ids("no-such-profile")
            .send(),
        CreateUserError::InvalidParameterException(_)
    );
    expect_err!(
        create_user(&c, "a")
            .hierarchy_group_id("no-such-group")
            .send(),
        CreateUserError::InvalidParameterException(_)
    );
    expect_err!(
        create_user(&c, "a")
            .set_security_profile_ids(Some(vec![]))
            .send(),
        CreateUserError::InvalidParameterException(_)
    );
    expect_err!(
        create_user(&c, "a")
            .set_security_profile_ids(Some(vec![AGENT_SECURITY_PROFILE_ID.to_owned(); 11]))
            .send(),
        CreateUserError::InvalidParameterException(_)
    );
    let ten = vec![AGENT_SECURITY_PROFILE_ID.to_owned(); 10];
    create_user(&c, "ten.profiles")
        .set_security_profile_ids(Some(ten))
        .send()
        .await
        .expect("ten security profiles are allowed");
    for bad_username in [
        "a".repeat(65),
        "jane doe".to_owned(),
        "jane+tag@example.com".to_owned(),
    ] {
        expect_err!(
            create_user(&c, &bad_username).send(),
            CreateUserError::InvalidParameterException(_)
        );
    }
    create_user(&c, &"b".repeat(64))
        .send()
        .await
        .expect("64 characters are allowed");
    expect_err!(
        create_user(&c, "with.password")
            .password("Passw0rd!")
            .send(),
        CreateUserError::InvalidParameterException(_)
    );
    expect_err!(
        create_user(&c, "nameless")
            .identity_info(UserIdentityInfo::builder().email("n@example.com").build())
            .send(),
        CreateUserError::InvalidParameterException(_)
    );

    // 400 InvalidParameterException from the updates and the listings.
    let update_sp = |ids: Vec<String>| {
        c.update_user_security_profiles()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&jane)
            .set_security_profile_ids(Some(ids))
            .send()
    };
    expect_err!(
        update_sp(vec![]),
        UpdateUserSecurityProfilesError::InvalidParameterException(_)
    );
    expect_err!(
        update_sp(vec!["no-such-profile".into()]),
        UpdateUserSecurityProfilesError::InvalidParameterException(_)
    );
    expect_err!(
        update_sp(vec![AGENT_SECURITY_PROFILE_ID.to_owned(); 11]),
        UpdateUserSecurityProfilesError::InvalidParameterException(_)
    );
    expect_err!(
        c.update_user_routing_profile()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&jane)
            .routing_profile_id("no-such-profile")
            .send(),
        UpdateUserRoutingProfileError::InvalidParameterException(_)
    );
    expect_err!(
        c.update_user_hierarchy()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&jane)
            .hierarchy_group_id("no-such-group")
            .send(),
        UpdateUserHierarchyError::InvalidParameterException(_)
    );
    expect_err!(
        c.update_user_identity_info()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&jane)
            .identity_info(UserIdentityInfo::builder().first_name("OnlyFirst").build())
            .send(),
        UpdateUserIdentityInfoError::InvalidParameterException(_)
    );
    expect_err!(
        c.list_users()
            .instance_id(DEFAULT_INSTANCE_ID)
            .max_results(0)
            .send(),
        ListUsersError::InvalidParameterException(_)
    );
    expect_err!(
        c.search_users()
            .instance_id(DEFAULT_INSTANCE_ID)
            .max_results(501)
            .send(),
        SearchUsersError::InvalidParameterException(_)
    );
    expect_err!(
        c.list_security_profiles()
            .instance_id(DEFAULT_INSTANCE_ID)
            .next_token("not-a-token")
            .send(),
        ListSecurityProfilesError::InvalidParameterException(_)
    );
    expect_err!(
        c.list_routing_profiles()
            .instance_id(DEFAULT_INSTANCE_ID)
            .max_results(1001)
            .send(),
        ListRoutingProfilesError::InvalidParameterException(_)
    );

    // 400 InvalidRequestException.
    expect_err!(
        create_user(&c, "directory.user")
            .directory_user_id("d-123")
            .send(),
        CreateUserError::InvalidRequestException(_)
    );
    expect_err!(
        c.search_users()
            .instance_id(DEFAULT_INSTANCE_ID)
            .search_criteria(
                UserSearchCriteria::builder()
                    .list_condition(ListCondition::builder().build())
                    .build()
            )
            .send(),
        SearchUsersError::InvalidRequestException(_)
    );

    // 404 ResourceNotFoundException: unknown instance, unknown user.
    let unknown_instance = "00000000-0000-0000-0000-000000000000";
    expect_err!(
        create_user(&c, "x").instance_id(unknown_instance).send(),
        CreateUserError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.list_users().instance_id(unknown_instance).send(),
        ListUsersError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.search_users().instance_id(unknown_instance).send(),
        SearchUsersError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.list_security_profiles()
            .instance_id(unknown_instance)
            .send(),
        ListSecurityProfilesError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.list_routing_profiles()
            .instance_id(unknown_instance)
            .send(),
        ListRoutingProfilesError::ResourceNotFoundException(_)
    );
    let ghost = uuid::Uuid::new_v4().to_string();
    expect_err!(
        c.describe_user()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&ghost)
            .send(),
        DescribeUserError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.delete_user()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&ghost)
            .send(),
        DeleteUserError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.update_user_identity_info()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&ghost)
            .identity_info(
                UserIdentityInfo::builder()
                    .first_name("A")
                    .last_name("B")
                    .build()
            )
            .send(),
        UpdateUserIdentityInfoError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.update_user_security_profiles()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&ghost)
            .security_profile_ids(AGENT_SECURITY_PROFILE_ID)
            .send(),
        UpdateUserSecurityProfilesError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.update_user_routing_profile()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&ghost)
            .routing_profile_id(DEFAULT_ROUTING_PROFILE_ID)
            .send(),
        UpdateUserRoutingProfileError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.update_user_hierarchy()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&ghost)
            .send(),
        UpdateUserHierarchyError::ResourceNotFoundException(_)
    );

    // 429 LimitExceededException: the users-per-instance quota (1 here).
    let tiny_user = |name: &str| {
        c.create_user()
            .instance_id("tiny-instance")
            .username(name)
            .identity_info(
                UserIdentityInfo::builder()
                    .first_name("T")
                    .last_name("U")
                    .build(),
            )
            .security_profile_ids("sp-1")
            .routing_profile_id("rp-1")
            .send()
    };
    tiny_user("first").await.unwrap();
    expect_err!(
        tiny_user("second"),
        CreateUserError::LimitExceededException(_)
    );

    // 429 ThrottlingException: an empty token bucket.
    sim.set_rate_limits(RateLimits::uniform(RateLimit::new(0.01, 1)))
        .unwrap();
    c.list_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .send()
        .await
        .unwrap();
    expect_err!(
        c.list_users().instance_id(DEFAULT_INSTANCE_ID).send(),
        ListUsersError::ThrottlingException(_)
    );
    sim.set_rate_limits(RateLimits::disabled()).unwrap();

    // 500 InternalServiceException: the random fault at probability 1.
    sim.set_faults(Faults::none().error_probability(1.0))
        .unwrap();
    expect_err!(
        c.describe_user()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&jane)
            .send(),
        DescribeUserError::InternalServiceException(_)
    );
    sim.clear_faults();
    c.describe_user()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&jane)
        .send()
        .await
        .unwrap();

    let counters = sim.counters();
    assert_eq!(
        counters.errors(Operation::CreateUser, ErrorKind::DuplicateResourceException),
        1
    );
    assert_eq!(
        counters.errors(Operation::CreateUser, ErrorKind::LimitExceededException),
        1
    );
    assert_eq!(
        counters.errors(Operation::ListUsers, ErrorKind::ThrottlingException),
        1
    );
    assert_eq!(
        counters.errors(Operation::DescribeUser, ErrorKind::InternalServiceException),
        1
    );
    server.shutdown().await.unwrap();
}

/// Scripted faults: every operation yields the SDK's typed ThrottlingException and
/// InternalServiceException variants, so the pipeline's retry classification is testable.
#[tokio::test]
async fn scripted_faults_reach_every_operation_as_typed_errors() {
    let server = start(Sim::builder().no_throttle()).await;
    let sim = server.sim().clone();
    let c = client(&server.url()).await;
    let user = create_user(&c, "target")
        .send()
        .await
        .unwrap()
        .user_id()
        .unwrap()
        .to_owned();
    let i = DEFAULT_INSTANCE_ID;
    for kind in [
        ErrorKind::ThrottlingException,
        ErrorKind::InternalServiceException,
    ] {
        for op in Operation::ALL {
            sim.fail_next(ScriptedFault::new(op, kind, 1));
        }
        let throttled = kind == ErrorKind::ThrottlingException;
        macro_rules! check {
            ($call:expr, $error:ident) => {{
                let error = $call
                    .await
                    .expect_err("scripted fault")
                    .into_service_error();
                if throttled {
                    assert!(matches!(error, $error::ThrottlingException(_)), "{error:?}");
                } else {
                    assert!(
                        matches!(error, $error::InternalServiceException(_)),
                        "{error:?}"
                    );
                }
            }};
        }
        check!(create_user(&c, "other").send(), CreateUserError);
        check!(
            c.describe_user().instance_id(i).user_id(&user).send(),
            DescribeUserError
        );
        check!(
            c.delete_user().instance_id(i).user_id(&user).send(),
            DeleteUserError
        );
        check!(
            c.update_user_identity_info()
                .instance_id(i)
                .user_id(&user)
                .identity_info(
                    UserIdentityInfo::builder()
                        .first_name("A")
                        .last_name("B")
                        .build()
                )
                .send(),
            UpdateUserIdentityInfoError
        );
        check!(
            c.update_user_security_profiles()
                .instance_id(i)
                .user_id(&user)
                .security_profile_ids(AGENT_SECURITY_PROFILE_ID)
                .send(),
            UpdateUserSecurityProfilesError
        );
        check!(
            c.update_user_routing_profile()
                .instance_id(i)
                .user_id(&user)
                .routing_profile_id(DEFAULT_ROUTING_PROFILE_ID)
                .send(),
            UpdateUserRoutingProfileError
        );
        check!(
            c.update_user_hierarchy()
                .instance_id(i)
                .user_id(&user)
                .send(),
            UpdateUserHierarchyError
        );
        check!(c.list_users().instance_id(i).send(), ListUsersError);
        check!(c.search_users().instance_id(i).send(), SearchUsersError);
        check!(
            c.list_security_profiles().instance_id(i).send(),
            ListSecurityProfilesError
        );
        check!(
            c.list_routing_profiles().instance_id(i).send(),
            ListRoutingProfilesError
        );
        let arn = format!("{ARN_PREFIX}/{i}/agent/{user}");
        check!(
            c.tag_resource().resource_arn(&arn).tags("k", "v").send(),
            TagResourceError
        );
        check!(
            c.untag_resource().resource_arn(&arn).tag_keys("k").send(),
            UntagResourceError
        );
    }
    assert!(
        sim.faults().scripted.is_empty(),
        "every scripted fault was consumed"
    );
    // The user was never touched by the failed calls.
    c.describe_user()
        .instance_id(i)
        .user_id(&user)
        .send()
        .await
        .unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn added_latency_delays_calls() {
    let server = start(
        Sim::builder()
            .no_throttle()
            .faults(Faults::none().latency(Duration::from_millis(300))),
    )
    .await;
    let c = client(&server.url()).await;
    let started = Instant::now();
    c.list_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    server.sim().clear_faults();
    server.shutdown().await.unwrap();
}

/// Seeding from library calls: a CONNECT_MANAGED instance needs passwords; users created
/// through the library are visible to the SDK.
#[tokio::test]
async fn library_seeding_and_connect_managed_rules() {
    let server = start(Sim::builder().no_throttle()).await;
    let sim = server.sim().clone();
    let seed = Seed::from_json(
        r#"{"instances": [{
            "id": "managed-1", "identityManagementType": "CONNECT_MANAGED",
            "routingProfiles": [{"id": "rp", "name": "Basic"}],
            "securityProfiles": [{"id": "sp", "name": "Agent"}],
            "users": [{"username": "seeded.user", "password": "Seeded1Pass", "firstName": "Seed", "lastName": "User",
                       "securityProfileIds": ["sp"], "routingProfileId": "rp"}]
        }]}"#,
    )
    .unwrap();
    sim.apply_seed(&seed).unwrap();
    assert_eq!(
        sim.instances()
            .iter()
            .find(|i| i.id == "managed-1")
            .map(|i| i.identity_management_type),
        Some(IdentityManagementType::ConnectManaged)
    );
    let library_user = sim
        .create_user(
            DEFAULT_INSTANCE_ID,
            NewUser {
                username: "library.user".into(),
                identity_info: IdentityInfo {
                    first_name: Some("Lib".into()),
                    last_name: Some("Rary".into()),
                    ..IdentityInfo::default()
                },
                security_profile_ids: vec![AGENT_SECURITY_PROFILE_ID.into()],
                routing_profile_id: DEFAULT_ROUTING_PROFILE_ID.into(),
                ..NewUser::default()
            },
        )
        .unwrap();

    let c = client(&server.url()).await;
    let described = c
        .describe_user()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&library_user.id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.user().unwrap().username(), Some("library.user"));
    let managed = c
        .list_users()
        .instance_id("managed-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        managed.user_summary_list()[0].username(),
        Some("seeded.user")
    );

    let managed_user = |name: &str| {
        c.create_user()
            .instance_id("managed-1")
            .username(name)
            .identity_info(
                UserIdentityInfo::builder()
                    .first_name("M")
                    .last_name("U")
                    .build(),
            )
            .security_profile_ids("sp")
            .routing_profile_id("rp")
    };
    expect_err!(
        managed_user("no.password").send(),
        CreateUserError::InvalidParameterException(_)
    );
    managed_user(&"m".repeat(100))
        .password("Passw0rdX")
        .send()
        .await
        .expect("CONNECT_MANAGED takes a password and 100-character usernames");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn state_file_survives_a_restart() {
    let dir = temp_dir("restart");
    let state = dir.join("state.json");
    let builder = Sim::builder().no_throttle().state_file(&state);

    let first = start(builder.clone()).await;
    let c = client(&first.url()).await;
    let id = create_user(&c, "kept.user")
        .tags("k", "v")
        .send()
        .await
        .unwrap()
        .user_id()
        .unwrap()
        .to_owned();
    create_user(&c, "second.user").send().await.unwrap();
    c.update_user_security_profiles()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&id)
        .security_profile_ids(SUPERVISOR_SECURITY_PROFILE_ID)
        .send()
        .await
        .unwrap();
    let before = first.sim().users();
    first.shutdown().await.unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, [std::ffi::OsString::from("state.json")]);

    let second = start(builder).await;
    assert_eq!(second.sim().users(), before);
    let c = client(&second.url()).await;
    let user = c
        .describe_user()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        user.user().unwrap().security_profile_ids(),
        [SUPERVISOR_SECURITY_PROFILE_ID]
    );
    expect_err!(
        create_user(&c, "kept.user").send(),
        CreateUserError::DuplicateResourceException(_)
    );
    second.shutdown().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_read_only_state_file_is_loaded_and_never_written() {
    let dir = temp_dir("read-only");
    let state = dir.join("state.json");
    let writer = start(Sim::builder().no_throttle().state_file(&state)).await;
    let c = client(&writer.url()).await;
    create_user(&c, "saved.user").send().await.unwrap();
    writer.shutdown().await.unwrap();
    let saved = std::fs::read(&state).unwrap();

    let reader = start(Sim::builder().no_throttle().read_state_file(&state)).await;
    assert_eq!(reader.sim().state_file(), None);
    let c = client(&reader.url()).await;
    let found = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .send()
        .await
        .unwrap();
    assert!(
        found
            .users()
            .iter()
            .any(|u| u.username() == Some("saved.user")),
        "the saved user is loaded"
    );
    create_user(&c, "in.memory.only").send().await.unwrap();
    reader.shutdown().await.unwrap();
    assert_eq!(
        std::fs::read(&state).unwrap(),
        saved,
        "the file is untouched"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tag_condition(key: &str, value: &str) -> TagCondition {
    TagCondition::builder()
        .tag_key(key)
        .tag_value(value)
        .build()
}

fn tag_filter(filter: ControlPlaneTagFilter) -> UserSearchFilter {
    UserSearchFilter::builder().tag_filter(filter).build()
}

/// Tags through the SDK: CreateUser keeps them, DescribeUser and SearchUsers return them,
/// TagResource merges (replacing values of keys it names), UntagResource removes, and
/// Connect's tag rules answer typed errors without changing anything.
#[tokio::test]
async fn tags_are_kept_merged_removed_and_checked() {
    let server = start(Sim::builder().no_throttle()).await;
    let c = client(&server.url()).await;
    let created = create_user(&c, "tagged")
        .tags("okta-connect:okta-user-id", "00u1")
        .tags("team", "red")
        .send()
        .await
        .unwrap();
    let id = created.user_id().unwrap().to_owned();
    let arn = created.user_arn().unwrap().to_owned();
    assert_eq!(
        arn,
        format!("{ARN_PREFIX}/{DEFAULT_INSTANCE_ID}/agent/{id}")
    );
    let tags_of = |c: aws_sdk_connect::Client, id: String| async move {
        let out = c
            .describe_user()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(id)
            .send()
            .await
            .unwrap();
        let mut tags: Vec<(String, String)> = out
            .user()
            .unwrap()
            .tags()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        tags.sort();
        tags
    };
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        tags_of(c.clone(), id.clone()).await,
        pairs(&[("okta-connect:okta-user-id", "00u1"), ("team", "red")])
    );
    let searched = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .search_criteria(exact_username("tagged"))
        .send()
        .await
        .unwrap();
    let summary_tags = searched.users()[0].tags().unwrap();
    assert_eq!(summary_tags.get("team").map(String::as_str), Some("red"));

    c.tag_resource()
        .resource_arn(&arn)
        .tags("team", "blue")
        .tags("okta-connect:mapping", "agents")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(c.clone(), id.clone()).await,
        pairs(&[
            ("okta-connect:mapping", "agents"),
            ("okta-connect:okta-user-id", "00u1"),
            ("team", "blue")
        ])
    );
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .tag_keys("never-there")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(c.clone(), id.clone()).await,
        pairs(&[
            ("okta-connect:mapping", "agents"),
            ("okta-connect:okta-user-id", "00u1")
        ])
    );

    // Connect's rules: the reserved prefix, more than 50 tags, keys over 128 characters
    // and values over 256 are refused as invalid parameters, on TagResource and
    // CreateUser alike; nothing changes.
    let fifty_one = (0..51).fold(c.tag_resource().resource_arn(&arn), |call, n| {
        call.tags(format!("k{n}"), "v")
    });
    expect_err!(
        fifty_one.send(),
        TagResourceError::InvalidParameterException(_)
    );
    for (key, value) in [
        ("aws:reserved".to_owned(), "v".to_owned()),
        ("k".repeat(129), "v".to_owned()),
        ("k".to_owned(), "v".repeat(257)),
    ] {
        expect_err!(
            c.tag_resource().resource_arn(&arn).tags(key, value).send(),
            TagResourceError::InvalidParameterException(_)
        );
    }
    expect_err!(
        create_user(&c, "badtags").tags("aws:x", "v").send(),
        CreateUserError::InvalidParameterException(_)
    );
    expect_err!(
        c.untag_resource()
            .resource_arn(&arn)
            .tag_keys("aws:reserved")
            .send(),
        UntagResourceError::InvalidParameterException(_)
    );
    assert_eq!(tags_of(c.clone(), id.clone()).await.len(), 2);
    // 48 more make 50 in all; then one more is refused.
    let forty_eight = (0..48).fold(c.tag_resource().resource_arn(&arn), |call, n| {
        call.tags(format!("m{n}"), "v")
    });
    forty_eight.send().await.unwrap();
    expect_err!(
        c.tag_resource()
            .resource_arn(&arn)
            .tags("extra", "v")
            .send(),
        TagResourceError::InvalidParameterException(_)
    );
    assert_eq!(tags_of(c.clone(), id.clone()).await.len(), 50);

    // Unknown ARNs are 404s.
    let ghost =
        format!("{ARN_PREFIX}/{DEFAULT_INSTANCE_ID}/agent/00000000-0000-4000-8000-000000000000");
    expect_err!(
        c.tag_resource().resource_arn(&ghost).tags("k", "v").send(),
        TagResourceError::ResourceNotFoundException(_)
    );
    expect_err!(
        c.untag_resource().resource_arn(&ghost).tag_keys("k").send(),
        UntagResourceError::ResourceNotFoundException(_)
    );
    c.delete_user()
        .instance_id(DEFAULT_INSTANCE_ID)
        .user_id(&id)
        .send()
        .await
        .unwrap();
    expect_err!(
        c.tag_resource().resource_arn(&arn).tags("k", "v").send(),
        TagResourceError::ResourceNotFoundException(_)
    );
    let counters = server.sim().counters();
    assert_eq!(counters.successes(Operation::TagResource), 2);
    assert_eq!(counters.successes(Operation::UntagResource), 1);
    server.shutdown().await.unwrap();
}

/// SearchUsers' TagFilter (an OR of ANDs of exact tag conditions) and its paging: at
/// most 500 a page, every match exactly once across pages.
#[tokio::test]
async fn search_filters_by_tags_and_pages_past_500() {
    const USERS: usize = 520;
    let mut seed = Seed::default();
    seed.instances[0].max_users = 1000;
    let server = start(Sim::builder().seed(seed).no_throttle()).await;
    let sim = server.sim();
    for n in 0..USERS {
        let team = if n % 2 == 0 { "even" } else { "odd" };
        sim.create_user(
            DEFAULT_INSTANCE_ID,
            NewUser {
                username: format!("user{n:04}"),
                identity_info: IdentityInfo {
                    first_name: Some("Bulk".into()),
                    last_name: Some(format!("User{n}")),
                    ..IdentityInfo::default()
                },
                security_profile_ids: vec![AGENT_SECURITY_PROFILE_ID.into()],
                routing_profile_id: DEFAULT_ROUTING_PROFILE_ID.into(),
                tags: [
                    ("team".to_owned(), team.to_owned()),
                    ("n".to_owned(), n.to_string()),
                ]
                .into(),
                ..NewUser::default()
            },
        )
        .unwrap();
    }
    let c = client(&server.url()).await;

    // Pages of at most 500, following NextToken.
    let first = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .max_results(500)
        .send()
        .await
        .unwrap();
    assert_eq!(first.users().len(), 500);
    assert_eq!(first.approximate_total_count(), Some(USERS as i64));
    let second = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .max_results(500)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.users().len(), USERS - 500);
    assert_eq!(second.next_token(), None);
    let mut ids: Vec<&str> = first
        .users()
        .iter()
        .chain(second.users())
        .filter_map(|u| u.id())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), USERS, "every user exactly once");
    for bad in [0, 501] {
        expect_err!(
            c.search_users()
                .instance_id(DEFAULT_INSTANCE_ID)
                .max_results(bad)
                .send(),
            SearchUsersError::InvalidParameterException(_)
        );
    }

    // One condition, over pages.
    let evens = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .search_filter(tag_filter(
            ControlPlaneTagFilter::builder()
                .tag_condition(tag_condition("team", "even"))
                .build(),
        ))
        .max_results(100)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(evens.len(), USERS / 2);
    assert!(evens.iter().all(|u| {
        u.tags()
            .and_then(|t| t.get("team"))
            .is_some_and(|t| t == "even")
    }));
    // An OR of ANDs: (team=even AND n=4) OR (n=7).
    let picked = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .search_filter(tag_filter(
            ControlPlaneTagFilter::builder()
                .or_conditions(vec![tag_condition("team", "even"), tag_condition("n", "4")])
                .or_conditions(vec![tag_condition("n", "7")])
                .build(),
        ))
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = picked.users().iter().filter_map(|u| u.username()).collect();
    names.sort_unstable();
    assert_eq!(names, ["user0004", "user0007"]);
    // AND, combined with SearchCriteria.
    let and = c
        .search_users()
        .instance_id(DEFAULT_INSTANCE_ID)
        .search_criteria(exact_username("user0005"))
        .search_filter(tag_filter(
            ControlPlaneTagFilter::builder()
                .and_conditions(tag_condition("team", "odd"))
                .and_conditions(tag_condition("n", "5"))
                .build(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(and.users().len(), 1);
    // A key alone: undocumented, so refused rather than guessed.
    expect_err!(
        c.search_users()
            .instance_id(DEFAULT_INSTANCE_ID)
            .search_filter(tag_filter(
                ControlPlaneTagFilter::builder()
                    .tag_condition(TagCondition::builder().tag_key("team").build())
                    .build(),
            ))
            .send(),
        SearchUsersError::InvalidRequestException(_)
    );
    server.shutdown().await.unwrap();
}
