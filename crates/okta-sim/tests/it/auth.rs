//! SSWS tokens and OAuth 2.0 client credentials with private_key_jwt.

use std::time::Duration;

use okta_sim::{OAuthClient, OktaSim, RateLimits, Seed};
use serde_json::json;

use crate::common::{
    CLIENT_ID, TOKEN, assertion, get, good_claims, key_pem, now, registered_jwk, send, ssws, start,
    token_request,
};

fn builder() -> okta_sim::OktaSimBuilder {
    OktaSim::builder()
        .seed(Seed::from_json(r#"{"users":[{"profile":{"login":"a@example.com","firstName":"A","lastName":"B"}}],"groups":[{"name":"g"}]}"#).unwrap())
        .api_token(TOKEN)
        .api_token("second-token")
        .oauth_client(OAuthClient::new(CLIENT_ID, vec![registered_jwk()], ["okta.users.read", "okta.groups.read"]))
        .rate_limits(RateLimits::unlimited())
}

#[tokio::test]
async fn ssws_tokens() {
    let server = start(builder()).await;
    let org = server.url();
    assert_eq!(get(&org, "/api/v1/users", &ssws()).await.status, 200);
    assert_eq!(
        get(&org, "/api/v1/users", "SSWS second-token").await.status,
        200
    );
    for bad in ["SSWS wrong", "Bearer test-api-token", "test-api-token", ""] {
        let answer = get(&org, "/api/v1/users", bad).await;
        assert_eq!(answer.status, 401, "{bad}");
        assert_eq!(answer.body["errorCode"], "E0000011");
        assert_eq!(answer.body["errorSummary"], "Invalid token provided");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_good_assertion_gets_a_scoped_token() {
    let server = start(builder()).await;
    let org = server.url();
    let jwt = assertion(
        &key_pem("service-app.pem"),
        Some("test-key-1"),
        good_claims(&org),
    );
    let answer = token_request(&org, "okta.users.read okta.groups.read", &jwt).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.body["expires_in"], 3600);
    assert_eq!(answer.body["scope"], "okta.groups.read okta.users.read");
    let token = answer.body["access_token"].as_str().unwrap();
    let bearer = format!("Bearer {token}");
    assert_eq!(get(&org, "/api/v1/users", &bearer).await.status, 200);
    assert_eq!(get(&org, "/api/v1/groups", &bearer).await.status, 200);

    // No kid: every registered key is tried.
    let jwt = assertion(&key_pem("service-app.pem"), None, good_claims(&org));
    assert_eq!(
        token_request(&org, "okta.users.read", &jwt).await.status,
        200
    );
    assert_eq!(server.sim().counters().token_requests(), 2);

    // A token with only okta.users.read cannot read groups: 403 with Okta's challenge.
    let narrow = token_request(
        &org,
        "okta.users.read",
        &assertion(&key_pem("service-app.pem"), None, good_claims(&org)),
    )
    .await;
    let narrow = format!("Bearer {}", narrow.body["access_token"].as_str().unwrap());
    let denied = get(&org, "/api/v1/groups", &narrow).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.body["errorCode"], "E0000006");
    assert_eq!(
        denied.body["errorSummary"],
        "You do not have permission to perform the requested action"
    );
    let challenge = denied.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer realm=\"IdpMyAccountAPI\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("resource=\"/api/v1/groups\""),
        "{challenge}"
    );
    // Writes need the manage scope even with read.
    let write = send(
        crate::common::http()
            .post(format!("{org}/api/v1/users"))
            .header("Authorization", &narrow)
            .json(&json!({"profile": {"login": "x@x"}})),
    )
    .await;
    assert_eq!(write.status, 403);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_assertions_get_oktas_errors() {
    let server = start(builder()).await;
    let org = server.url();
    let pem = key_pem("service-app.pem");
    let invalid_client = |answer: &crate::common::Answer, what: &str| {
        assert_eq!(answer.status, 401, "{what}: {}", answer.body);
        assert_eq!(answer.body["error"], "invalid_client", "{what}");
        assert!(
            answer.body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    };

    let wrong_key = assertion(&key_pem("other-key.pem"), None, good_claims(&org));
    invalid_client(
        &token_request(&org, "okta.users.read", &wrong_key).await,
        "wrong key",
    );
    let unknown_kid = assertion(
        &key_pem("other-key.pem"),
        Some("test-key-2"),
        good_claims(&org),
    );
    invalid_client(
        &token_request(&org, "okta.users.read", &unknown_kid).await,
        "unknown kid",
    );

    let mut claims = good_claims(&org);
    claims["aud"] = json!("https://elsewhere.okta.com/oauth2/v1/token");
    let answer = token_request(&org, "okta.users.read", &assertion(&pem, None, claims)).await;
    invalid_client(&answer, "wrong aud");
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("audience")
    );

    let mut claims = good_claims(&org);
    claims["iat"] = json!(now() - 900);
    claims["exp"] = json!(now() - 600);
    let answer = token_request(&org, "okta.users.read", &assertion(&pem, None, claims)).await;
    invalid_client(&answer, "expired");
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let mut claims = good_claims(&org);
    claims["exp"] = json!(now() + 7200);
    invalid_client(
        &token_request(&org, "okta.users.read", &assertion(&pem, None, claims)).await,
        "exp > 1 h",
    );

    let mut claims = good_claims(&org);
    claims["sub"] = json!("someone-else");
    invalid_client(
        &token_request(&org, "okta.users.read", &assertion(&pem, None, claims)).await,
        "sub",
    );

    let mut claims = good_claims(&org);
    claims.as_object_mut().unwrap().remove("jti");
    invalid_client(
        &token_request(&org, "okta.users.read", &assertion(&pem, None, claims)).await,
        "no jti",
    );

    let mut claims = good_claims(&org);
    claims["iss"] = json!("0oaUnknownClient");
    claims["sub"] = json!("0oaUnknownClient");
    invalid_client(
        &token_request(&org, "okta.users.read", &assertion(&pem, None, claims)).await,
        "unknown client",
    );

    let reused = assertion(&pem, None, good_claims(&org));
    assert_eq!(
        token_request(&org, "okta.users.read", &reused).await.status,
        200
    );
    let answer = token_request(&org, "okta.users.read", &reused).await;
    invalid_client(&answer, "reused jti");
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );

    let answer = token_request(
        &org,
        "okta.users.read okta.apps.read okta.logs.read",
        &assertion(&pem, None, good_claims(&org)),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "invalid_scope");
    assert_eq!(
        answer.body["error_description"],
        "The following scopes are not allowed: okta.apps.read okta.logs.read"
    );

    let answer = token_request(&org, "", &assertion(&pem, None, good_claims(&org))).await;
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    let form = [("grant_type", "password"), ("scope", "okta.users.read")];
    let answer = send(crate::common::form_post(
        &format!("{org}/oauth2/v1/token"),
        &form,
    ))
    .await;
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let answer = send(
        crate::common::http()
            .post(format!("{org}/oauth2/v1/token"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(server.sim().counters().token_requests(), 14);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn access_tokens_expire() {
    let server = start(builder().token_lifetime(Duration::from_secs(1))).await;
    let org = server.url();
    let answer = token_request(
        &org,
        "okta.users.read",
        &assertion(&key_pem("service-app.pem"), None, good_claims(&org)),
    )
    .await;
    assert_eq!(answer.body["expires_in"], 1);
    let bearer = format!("Bearer {}", answer.body["access_token"].as_str().unwrap());
    assert_eq!(get(&org, "/api/v1/users", &bearer).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let expired = get(&org, "/api/v1/users", &bearer).await;
    assert_eq!(
        (expired.status, expired.body["errorCode"].as_str()),
        (401, Some("E0000011"))
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unusable_client_keys_are_refused_at_build() {
    let result = OktaSim::builder()
        .oauth_client(OAuthClient::new(
            "0oaX",
            vec![json!({"kty": "RSA"})],
            ["okta.users.read"],
        ))
        .build();
    assert!(matches!(result, Err(okta_sim::Error::OAuthClient { .. })));
    let result = OktaSim::builder()
        .oauth_client(OAuthClient::new(
            "0oaX",
            vec![registered_jwk()],
            ["okta.everything"],
        ))
        .build();
    assert!(result.is_err());
}
