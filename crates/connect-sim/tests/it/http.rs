//! The HTTP surface outside the SDK's reach: authentication, unknown operations, malformed
//! bodies, and the `/_sim` admin endpoints (checked against what the SDK then sees).

use std::time::{Duration, Instant};

use aws_sdk_connect::operation::describe_user::DescribeUserError;
use aws_sdk_connect::operation::list_users::ListUsersError;
use connect_sim::seed::DEFAULT_INSTANCE_ID;
use connect_sim::{ErrorKind, Operation, Sim};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{client, create_user, start};

const SIGNED: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/connect/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000";

fn error_type(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn unsigned_unknown_and_malformed_requests_are_refused_like_aws() {
    let server = start(Sim::builder().no_throttle()).await;
    let http = reqwest::Client::new();
    let list = format!("{}/users-summary/{DEFAULT_INSTANCE_ID}", server.url());

    let unsigned = http.get(&list).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        error_type(&unsigned).as_deref(),
        Some("MissingAuthenticationTokenException")
    );

    let wrong_scheme = http
        .get(&list)
        .header("Authorization", "Bearer abc")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_scheme.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        error_type(&wrong_scheme).as_deref(),
        Some("IncompleteSignatureException")
    );

    let signed = http
        .get(&list)
        .header("Authorization", SIGNED)
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::OK);
    assert!(signed.headers().contains_key("x-amzn-requestid"));
    let body: Value = signed.json().await.unwrap();
    assert_eq!(body["UserSummaryList"], json!([]));

    let unknown = http
        .get(format!(
            "{}/queues-summary/{DEFAULT_INSTANCE_ID}",
            server.url()
        ))
        .header("Authorization", SIGNED)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        error_type(&unknown).as_deref(),
        Some("UnknownOperationException")
    );

    let malformed = http
        .put(format!("{}/users/{DEFAULT_INSTANCE_ID}", server.url()))
        .header("Authorization", SIGNED)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        error_type(&malformed).as_deref(),
        Some("InvalidRequestException")
    );
    let body: Value = malformed.json().await.unwrap();
    assert!(body["Message"].is_string());

    let counters = server.sim().counters();
    assert_eq!(
        counters.errors(
            Operation::ListUsers,
            ErrorKind::MissingAuthenticationTokenException
        ),
        1
    );
    assert_eq!(
        counters.errors(
            Operation::ListUsers,
            ErrorKind::IncompleteSignatureException
        ),
        1
    );
    assert_eq!(counters.unknown_operation_calls(), 1);
    assert_eq!(
        counters.errors(Operation::CreateUser, ErrorKind::InvalidRequestException),
        1
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn admin_endpoints_observe_and_steer_the_simulator() {
    let server = start(Sim::builder().no_throttle()).await;
    let admin = |path: &str| format!("{}/_sim/{path}", server.url());
    let http = reqwest::Client::new();
    let c = client(&server.url()).await;

    let health: Value = http
        .get(admin("health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    // Users, with every attribute and the instance they belong to.
    let id = create_user(&c, "observed.user")
        .tags("cost-centre", "42")
        .send()
        .await
        .unwrap()
        .user_id()
        .unwrap()
        .to_owned();
    let users: Value = http
        .get(admin("users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user = &users[0];
    assert_eq!(user["InstanceId"], DEFAULT_INSTANCE_ID);
    assert_eq!(user["Id"], id.as_str());
    assert_eq!(user["Username"], "observed.user");
    assert_eq!(user["IdentityInfo"]["Email"], "observed.user@example.com");
    assert_eq!(user["PhoneConfig"]["PhoneType"], "SOFT_PHONE");
    assert_eq!(user["Tags"]["cost-centre"], "42");
    assert!(user["SecurityProfileIds"].is_array());
    let filtered: Value = http
        .get(admin("users?instanceId=other"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered, json!([]));

    // Counters.
    let counters: Value = http
        .get(admin("counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["CreateUser"]["Success"], 1);
    let reset = http.delete(admin("counters")).send().await.unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.sim().counters().grand_total(), 0);

    // Faults at run time: probability, scripted, latency.
    let put = http
        .put(admin("faults"))
        .json(&json!({"errorProbability": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let describe = || {
        c.describe_user()
            .instance_id(DEFAULT_INSTANCE_ID)
            .user_id(&id)
            .send()
    };
    let error = describe().await.unwrap_err().into_service_error();
    assert!(matches!(
        error,
        DescribeUserError::InternalServiceException(_)
    ));
    http.delete(admin("faults")).send().await.unwrap();
    describe().await.unwrap();

    http.post(admin("faults/scripted"))
        .json(
            &json!({"operation": "DescribeUser", "error": "ResourceNotFoundException", "count": 2}),
        )
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        let error = describe().await.unwrap_err().into_service_error();
        assert!(matches!(
            error,
            DescribeUserError::ResourceNotFoundException(_)
        ));
    }
    describe().await.unwrap();

    http.put(admin("faults"))
        .json(&json!({"latencyMs": 250}))
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    describe().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(250));
    http.delete(admin("faults")).send().await.unwrap();

    let refused = http
        .put(admin("faults"))
        .json(&json!({"errorProbability": 3.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    // Rate limits at run time.
    http.put(admin("rate-limits"))
        .json(&json!({"enabled": true, "default": {"perSecond": 0.01, "burst": 1}}))
        .send()
        .await
        .unwrap();
    let list = || c.list_users().instance_id(DEFAULT_INSTANCE_ID).send();
    list().await.unwrap();
    let error = list().await.unwrap_err().into_service_error();
    assert!(matches!(error, ListUsersError::ThrottlingException(_)));
    let limits: Value = http
        .get(admin("rate-limits"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(limits["default"]["burst"], 1);
    http.put(admin("rate-limits"))
        .json(&json!({"enabled": false, "default": {"perSecond": 2, "burst": 5}}))
        .send()
        .await
        .unwrap();
    list().await.unwrap();

    // Instances from a seed document, then a user in them through the SDK.
    let added = http
        .post(admin("instances"))
        .body(
            json!({"instances": [{"id": "added-instance",
                "routingProfiles": [{"id": "rp", "name": "Basic"}],
                "securityProfiles": [{"id": "sp", "name": "Agent"}]}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::OK);
    let instances: Value = http
        .get(admin("instances"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(instances.as_array().map(Vec::len), Some(2));
    let listed = c
        .list_routing_profiles()
        .instance_id("added-instance")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.routing_profile_summary_list().len(), 1);
    let bad_seed = http
        .post(admin("instances"))
        .body(r#"{"instances": [{"id": ""}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_seed.status(), StatusCode::BAD_REQUEST);

    // Clearing users.
    http.delete(admin("users")).send().await.unwrap();
    assert!(server.sim().users().is_empty());
    server.shutdown().await.unwrap();
}
