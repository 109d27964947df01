//! The reads: shapes, search, pagination through `Link` headers, errors.

use std::collections::BTreeSet;

use okta_sim::{OktaSim, RateLimits, Seed};
use serde_json::Value;

use crate::common::{TOKEN, all_pages, big_seed, get, ssws, start};

fn builder(seed: Seed) -> okta_sim::OktaSimBuilder {
    OktaSim::builder()
        .seed(seed)
        .api_token(TOKEN)
        .rate_limits(RateLimits::unlimited())
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn users_page_through_link_headers_with_opaque_cursors() {
    let server = start(builder(big_seed(450))).await;
    let org = server.url();
    let first = get(&org, "/api/v1/users?limit=200", &ssws()).await;
    assert_eq!(first.body.as_array().unwrap().len(), 200);
    let links: Vec<String> = first
        .headers
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(links.len(), 2, "{links:?}");
    assert!(
        links[0].starts_with(&format!("<{org}/api/v1/users?limit=200>"))
            && links[0].ends_with("rel=\"self\"")
    );
    let next = first.next_link().unwrap();
    assert!(next.starts_with(&format!("{org}/api/v1/users?")), "{next}");
    assert!(
        next.contains("limit=200") && next.contains("after="),
        "{next}"
    );
    let cursor = next
        .split("after=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert!(
        !cursor.contains("00u"),
        "the cursor must not be a user id: {cursor}"
    );

    let (users, pages) = all_pages(&org, "/api/v1/users?limit=200", &ssws()).await;
    assert_eq!((users.len(), pages), (450, 3));
    assert_eq!(ids(&users).len(), 450, "no duplicates across pages");
    assert!(
        users.iter().all(|u| u["status"] == "ACTIVE"),
        "a plain list omits DEPROVISIONED"
    );

    // A limit above the endpoint's maximum (200) is capped, and the cap carries on.
    let capped = get(&org, "/api/v1/users?limit=1000", &ssws()).await;
    assert_eq!(capped.body.as_array().unwrap().len(), 200);
    assert!(capped.next_link().unwrap().contains("limit=200"));
    // Default 200.
    assert_eq!(
        get(&org, "/api/v1/users", &ssws())
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        200
    );
    // The last page has no next link.
    let small = get(
        &org,
        "/api/v1/users?search=profile.login%20sw%20%22user00%22",
        &ssws(),
    )
    .await;
    assert_eq!(small.body.as_array().unwrap().len(), 10);
    assert!(small.next_link().is_none());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn group_members_and_app_users_page_and_cap() {
    let server = start(builder(big_seed(450))).await;
    let org = server.url();
    let sim = server.sim();
    let group = sim.group_by_name("big").unwrap();
    let app = sim.app_by_label("Contact Centre").unwrap();

    let (members, pages) = all_pages(
        &org,
        &format!("/api/v1/groups/{}/users?limit=200", group.id),
        &ssws(),
    )
    .await;
    assert_eq!((members.len(), pages), (450, 3));
    assert_eq!(ids(&members).len(), 450);
    let default = get(&org, &format!("/api/v1/groups/{}/users", group.id), &ssws()).await;
    assert_eq!(
        default.body.as_array().unwrap().len(),
        450,
        "default limit 1000"
    );

    let default = get(&org, &format!("/api/v1/apps/{}/users", app.id), &ssws()).await;
    assert_eq!(
        default.body.as_array().unwrap().len(),
        50,
        "default limit 50"
    );
    let capped = get(
        &org,
        &format!("/api/v1/apps/{}/users?limit=1000", app.id),
        &ssws(),
    )
    .await;
    assert_eq!(
        capped.body.as_array().unwrap().len(),
        450,
        "capped at 500, all fit"
    );
    assert!(capped.next_link().is_none());
    let (app_users, pages) = all_pages(
        &org,
        &format!("/api/v1/apps/{}/users?limit=100&expand=user", app.id),
        &ssws(),
    )
    .await;
    assert_eq!((app_users.len(), pages), (450, 5));
    for app_user in &app_users {
        assert_eq!(app_user["scope"], "USER");
        assert_eq!(
            app_user["credentials"]["userName"],
            app_user["_embedded"]["user"]["profile"]["login"]
        );
        assert_eq!(app_user["id"], app_user["_embedded"]["user"]["id"]);
    }
    let bad = get(
        &org,
        &format!("/api/v1/apps/{}/users?after=garbage", app.id),
        &ssws(),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["errorCode"], "E0000001");
    let zero = get(
        &org,
        &format!("/api/v1/apps/{}/users?limit=0", app.id),
        &ssws(),
    )
    .await;
    assert_eq!(zero.status, 400);
    server.shutdown().await.unwrap();
}

const SMALL: &str = r#"{
  "users": [
    {"id": "00uJaneDoe000000001", "profile": {"login": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe", "email": "jane.doe@example.com"}},
    {"profile": {"login": "omar@example.com", "firstName": "Omar", "lastName": "Haddad", "email": "omar@example.com"}},
    {"status": "SUSPENDED", "profile": {"login": "sam@example.com", "firstName": "Sam", "lastName": "Ito", "email": "sam@example.com"}}
  ],
  "groups": [
    {"id": "00gConnectAgents0001", "name": "amazon_connect", "description": "Agents", "members": ["jane.doe@example.com", "sam@example.com"]},
    {"name": "amazon_connect_supervisors", "members": []},
    {"name": "Finance", "members": ["omar@example.com"]}
  ],
  "apps": [
    {"id": "0oaContactCentre0001", "label": "Contact Centre", "name": "amazon_aws", "assignees": ["omar@example.com"], "groups": ["amazon_connect"]},
    {"label": "Slack", "name": "slack"}
  ]
}"#;

#[tokio::test]
async fn each_read_has_oktas_shape() {
    let server = start(builder(Seed::from_json(SMALL).unwrap())).await;
    let org = server.url();

    let user = get(&org, "/api/v1/users/00uJaneDoe000000001", &ssws()).await;
    assert_eq!(user.status, 200);
    for member in [
        "id",
        "status",
        "created",
        "activated",
        "statusChanged",
        "lastLogin",
        "lastUpdated",
        "passwordChanged",
        "type",
        "profile",
        "credentials",
        "_links",
    ] {
        assert!(
            user.body.get(member).is_some(),
            "user lacks {member}: {}",
            user.body
        );
    }
    assert_eq!(user.body["profile"]["firstName"], "Jane");
    assert_eq!(
        user.body["_links"]["self"]["href"],
        format!("{org}/api/v1/users/00uJaneDoe000000001")
    );
    assert!(user.body["created"].as_str().unwrap().ends_with('Z'));
    // By login too, percent-encoded or not.
    let by_login = get(&org, "/api/v1/users/jane.doe%40example.com", &ssws()).await;
    assert_eq!(by_login.body["id"], "00uJaneDoe000000001");
    let by_login = get(&org, "/api/v1/users/jane.doe@example.com", &ssws()).await;
    assert_eq!(by_login.body["id"], "00uJaneDoe000000001");

    let missing = get(&org, "/api/v1/users/00uNobody", &ssws()).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["errorCode"], "E0000007");
    assert_eq!(
        missing.body["errorSummary"],
        "Not found: Resource not found: 00uNobody (User)"
    );
    assert_eq!(missing.body["errorLink"], "E0000007");
    assert!(missing.body["errorId"].as_str().unwrap().starts_with("oae"));
    assert_eq!(missing.body["errorCauses"], serde_json::json!([]));

    let group = get(&org, "/api/v1/groups/00gConnectAgents0001", &ssws()).await;
    assert_eq!(group.body["type"], "OKTA_GROUP");
    assert_eq!(group.body["profile"]["name"], "amazon_connect");
    assert_eq!(group.body["profile"]["description"], "Agents");
    let found = get(
        &org,
        "/api/v1/groups?search=profile.name%20eq%20%22AMAZON_CONNECT%22",
        &ssws(),
    )
    .await;
    assert_eq!(
        ids(found.body.as_array().unwrap()),
        BTreeSet::from(["00gConnectAgents0001".to_owned()])
    );
    let prefix = get(&org, "/api/v1/groups?q=amazon_connect", &ssws()).await;
    assert_eq!(
        prefix.body.as_array().unwrap().len(),
        2,
        "q is a prefix search"
    );
    let bad = get(
        &org,
        "/api/v1/groups?search=profile.name%20like%20%22x%22",
        &ssws(),
    )
    .await;
    assert_eq!(
        (bad.status, bad.body["errorCode"].as_str()),
        (400, Some("E0000031"))
    );

    let apps = get(&org, "/api/v1/apps?q=Contact", &ssws()).await;
    let app = &apps.body.as_array().unwrap()[0];
    assert_eq!(apps.body.as_array().unwrap().len(), 1);
    assert_eq!(app["id"], "0oaContactCentre0001");
    assert_eq!(
        (app["name"].as_str(), app["label"].as_str()),
        (Some("amazon_aws"), Some("Contact Centre"))
    );
    assert_eq!(
        (app["status"].as_str(), app["signOnMode"].as_str()),
        (Some("ACTIVE"), Some("SAML_2_0"))
    );
    assert_eq!(
        get(&org, "/api/v1/apps?q=amazon", &ssws())
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get(&org, "/api/v1/apps?q=AWS%20Account", &ssws())
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        0,
        "not by catalog name"
    );
    assert_eq!(
        get(&org, "/api/v1/apps/0oaContactCentre0001", &ssws())
            .await
            .body["label"],
        "Contact Centre"
    );

    let app_users = get(
        &org,
        "/api/v1/apps/0oaContactCentre0001/users?expand=user",
        &ssws(),
    )
    .await;
    let scopes: BTreeSet<(String, String)> = app_users
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["_embedded"]["user"]["profile"]["login"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                u["scope"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        scopes,
        BTreeSet::from([
            ("jane.doe@example.com".to_owned(), "GROUP".to_owned()),
            ("omar@example.com".to_owned(), "USER".to_owned()),
            ("sam@example.com".to_owned(), "GROUP".to_owned()),
        ])
    );
    let one = &app_users.body[0];
    for member in [
        "id",
        "scope",
        "status",
        "credentials",
        "_links",
        "created",
        "lastUpdated",
        "syncState",
    ] {
        assert!(one.get(member).is_some(), "app user lacks {member}");
    }
    let plain = get(&org, "/api/v1/apps/0oaContactCentre0001/users", &ssws()).await;
    assert!(plain.body[0].get("_embedded").is_none());
    assert_eq!(
        get(&org, "/api/v1/apps/0oaNope/users", &ssws())
            .await
            .status,
        404
    );
    assert_eq!(
        get(&org, "/api/v1/groups/00gNope/users", &ssws())
            .await
            .status,
        404
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn user_search_filter_and_q() {
    let server = start(builder(Seed::from_json(SMALL).unwrap())).await;
    let org = server.url();
    let search = |q: &str| {
        let org = org.clone();
        let q = q.to_owned();
        async move { get(&org, &format!("/api/v1/users?{q}"), &ssws()).await }
    };
    let one = search("search=profile.login%20eq%20%22omar%40example.com%22").await;
    assert_eq!(one.body.as_array().unwrap().len(), 1);
    let one = search("filter=profile.login%20eq%20%22omar%40example.com%22").await;
    assert_eq!(one.body[0]["profile"]["login"], "omar@example.com");
    let suspended = search("search=status%20eq%20%22SUSPENDED%22").await;
    assert_eq!(suspended.body[0]["profile"]["login"], "sam@example.com");
    let q = search("q=ja").await;
    assert_eq!(q.body.as_array().unwrap().len(), 1);
    let bad = search("search=profile.login%20eq").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["errorCode"], "E0000031");
    // A + in a query string is a space, as in any form encoding.
    let plus = search("search=profile.login+eq+%22omar%40example.com%22").await;
    assert_eq!(plus.body.as_array().unwrap().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let server = start(builder(Seed::default())).await;
    let org = server.url();
    let nope = get(&org, "/api/v1/nothing", &ssws()).await;
    assert_eq!(nope.status, 404);
    let wrong = crate::common::send(
        crate::common::http()
            .patch(format!("{org}/api/v1/users"))
            .header("Authorization", ssws()),
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.body["errorCode"].as_str()),
        (405, Some("E0000022"))
    );
    assert!(
        get(&org, "/api/v1/users", &ssws())
            .await
            .header("x-okta-request-id")
            .is_some()
    );
    server.shutdown().await.unwrap();
}
