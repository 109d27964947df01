//! The admin writes, the System Log events they record (checked against the fixtures'
//! shapes), and `/api/v1/logs`.

use okta_sim::{Admin, NewUser, OktaSim, RateLimits, SIM_ADMIN_ID, Seed};
use serde_json::{Value, json};

use crate::common::{
    TOKEN, all_pages, assert_same_shape, fixture_event, get, http, send, ssws, start,
};

const SEED: &str = r#"{
  "users": [{"profile": {"login": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe", "email": "jane.doe@example.com"}}],
  "groups": [{"name": "amazon_connect"}, {"name": "connect_supervisors"}],
  "apps": [{"label": "Contact Centre", "name": "amazon_aws"}]
}"#;

async fn org() -> (okta_sim::OktaSimServer, Admin) {
    let server = start(
        OktaSim::builder()
            .seed(Seed::from_json(SEED).unwrap())
            .api_token(TOKEN)
            .rate_limits(RateLimits::unlimited()),
    )
    .await;
    let admin = Admin::new(server.url(), TOKEN).unwrap();
    (server, admin)
}

fn omar() -> NewUser {
    NewUser {
        login: "omar.haddad@example.com".into(),
        first_name: "Omar".into(),
        last_name: "Haddad".into(),
        email: "omar.haddad@example.com".into(),
    }
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["eventType"].as_str().unwrap().to_owned())
        .collect()
}

fn target_types(event: &Value) -> Vec<&str> {
    event["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect()
}

/// The fixture whose shape an event type must have.
fn fixture_for(event_type: &str) -> &'static str {
    match event_type {
        "group.user_membership.add" => "group_membership_add.json",
        "group.user_membership.remove" => "group_membership_remove.json",
        "application.user_membership.add" => "app_membership_add.json",
        "application.user_membership.remove" => "app_membership_remove.json",
        "user.account.update_profile" | "group.profile.update" => "user_update_profile.json",
        "user.lifecycle.suspend" => "user_lifecycle_suspend.json",
        "user.lifecycle.unsuspend" => "user_lifecycle_unsuspend.json",
        "user.lifecycle.reactivate" => "user_lifecycle_reactivate.json",
        "user.lifecycle.deactivate" => "user_lifecycle_deactivate.json",
        _ => "user_lifecycle_activate.json",
    }
}

#[tokio::test]
async fn admin_writes_record_the_events_okta_would() {
    let (server, admin) = org().await;
    let sim = server.sim();
    assert!(sim.log_events().is_empty(), "seeding records nothing");
    let group = admin.group_id("amazon_connect").await.unwrap();
    let app = admin.app_id("contact centre").await.unwrap();
    let id = admin.create_user(&omar()).await.unwrap();
    assert!(id.starts_with("00u") && id.len() == 20, "{id}");
    assert_eq!(admin.user_id("omar.haddad@example.com").await.unwrap(), id);
    admin.add_to_group(&group, &id).await.unwrap();
    admin.add_to_group(&group, &id).await.unwrap(); // idempotent: no second event
    admin.assign_app(&app, &id).await.unwrap();
    admin
        .update_profile(
            &id,
            json!({"firstName": "Omer", "lastName": "Hadad", "email": "omar.haddad@example.com"}),
        )
        .await
        .unwrap();
    admin.suspend(&id).await.unwrap();
    admin.unsuspend(&id).await.unwrap();
    admin.deactivate(&id).await.unwrap();
    admin.reactivate(&id).await.unwrap();
    admin.remove_from_group(&group, &id).await.unwrap();
    admin.unassign_app(&app, &id).await.unwrap();
    let new_group = admin.create_group("connect_leads").await.unwrap();
    admin
        .rename_group(&new_group, "connect_team_leads")
        .await
        .unwrap();
    admin.delete_user(&id).await.unwrap();
    assert_eq!(
        sim.user(&id).unwrap().status,
        okta_sim::UserStatus::Deprovisioned
    );
    admin.delete_user(&id).await.unwrap();
    assert!(sim.user(&id).is_none());
    assert_eq!(
        get(&server.url(), &format!("/api/v1/users/{id}"), &ssws())
            .await
            .status,
        404
    );

    let events = sim.log_events();
    assert_eq!(
        types(&events),
        [
            "user.lifecycle.create",
            "user.lifecycle.activate",
            "group.user_membership.add",
            "application.user_membership.add",
            "user.account.update_profile",
            "user.lifecycle.suspend",
            "user.lifecycle.unsuspend",
            "user.lifecycle.deactivate",
            "user.lifecycle.reactivate",
            "group.user_membership.remove",
            "application.user_membership.remove",
            "group.lifecycle.create",
            "group.profile.update",
            "user.lifecycle.deactivate",
            "user.lifecycle.delete.initiated",
        ]
    );
    for event in &events {
        let event_type = event["eventType"].as_str().unwrap();
        assert_same_shape(event, &fixture_event(fixture_for(event_type)), event_type);
        assert_eq!(event["version"], "0");
        assert_eq!(event["severity"], "INFO");
        assert_eq!(
            event["outcome"],
            json!({"result": "SUCCESS", "reason": null})
        );
        assert_eq!(event["actor"]["id"], SIM_ADMIN_ID);
        assert_eq!(event["actor"]["displayName"], "Sim Admin");
        assert!(
            !event["displayMessage"].as_str().unwrap().is_empty(),
            "{event_type}"
        );
        let uuid = uuid::Uuid::parse_str(event["uuid"].as_str().unwrap()).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        let published = event["published"].as_str().unwrap();
        assert!(
            published.len() == 24 && published.ends_with('Z'),
            "{published}"
        );
        assert_eq!(
            event["transaction"]["id"],
            event["debugContext"]["debugData"]["requestId"]
        );
        match event_type {
            "group.user_membership.add" | "group.user_membership.remove" => {
                assert_eq!(target_types(event), ["User", "UserGroup"]);
                assert_eq!(event["target"][1]["id"], group);
                assert_eq!(event["target"][1]["displayName"], "amazon_connect");
            }
            "application.user_membership.add" | "application.user_membership.remove" => {
                assert_eq!(target_types(event), ["AppUser", "AppInstance", "User"]);
                let app_user = &event["target"][0];
                assert!(app_user["id"].as_str().unwrap().starts_with("0ua"));
                assert_eq!(app_user["alternateId"], "omar.haddad@example.com");
                assert_eq!(event["target"][1]["id"], app);
                assert_eq!(event["target"][1]["alternateId"], "Contact Centre");
                assert_eq!(event["target"][1]["displayName"], "AWS Account Federation");
                assert_eq!(event["target"][2]["id"], id);
            }
            "group.lifecycle.create" | "group.profile.update" => {
                assert_eq!(target_types(event), ["UserGroup"]);
                assert_eq!(event["target"][0]["id"], new_group);
            }
            _ => {
                assert_eq!(target_types(event), ["User"]);
                assert_eq!(event["target"][0]["id"], id);
                assert_eq!(event["target"][0]["alternateId"], "omar.haddad@example.com");
            }
        }
    }
    let app_user_ids: Vec<&Value> = events
        .iter()
        .filter(|e| e["eventType"].as_str().unwrap().starts_with("application"))
        .map(|e| &e["target"][0]["id"])
        .collect();
    assert_eq!(app_user_ids[0], app_user_ids[1], "the 0ua id is stable");
    assert_eq!(events[0]["target"][0]["displayName"], "Omar Haddad");
    let update = &events[4];
    assert_eq!(
        update["debugContext"]["debugData"]["changedAttributes"],
        "firstName,lastName"
    );
    assert_eq!(update["target"][0]["displayName"], "Omer Hadad");
    assert!(
        !update.to_string().contains("Omer\","),
        "no values beyond the target's display name"
    );
    assert_eq!(
        events[12]["debugContext"]["debugData"]["changedAttributes"],
        "name"
    );
    assert_eq!(events[12]["target"][0]["displayName"], "connect_team_leads");
    assert!(
        events[0]["debugContext"]["debugData"]
            .get("changedAttributes")
            .is_none()
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn write_errors_follow_oktas_rules() {
    let (server, admin) = org().await;
    let org_url = server.url();
    let jane = admin.user_id("jane.doe@example.com").await.unwrap();
    let error = admin.unsuspend(&jane).await.unwrap_err();
    assert!(
        matches!(&error, okta_sim::Error::Api { status: 400, error_code, .. } if error_code == "E0000001"),
        "{error}"
    );
    assert!(!error.is_transient());
    admin.suspend(&jane).await.unwrap();
    assert!(admin.suspend(&jane).await.is_err());
    let duplicate = NewUser {
        login: "JANE.DOE@example.com".into(),
        ..omar()
    };
    assert!(matches!(
        admin.create_user(&duplicate).await,
        Err(okta_sim::Error::Api { status: 400, .. })
    ));
    assert!(matches!(
        admin.group_id("nope").await,
        Err(okta_sim::Error::NotFound { kind: "group", .. })
    ));
    assert!(
        matches!(
            admin.app_id("Contact").await,
            Err(okta_sim::Error::NotFound { .. })
        ),
        "exact label only"
    );
    assert!(matches!(
        admin.add_to_group("00gNope", &jane).await,
        Err(okta_sim::Error::Api { status: 404, .. })
    ));
    let group = admin.group_id("amazon_connect").await.unwrap();
    admin.remove_from_group(&group, &jane).await.unwrap(); // not a member: no event
    assert!(
        admin.create_group("AMAZON_CONNECT").await.is_err(),
        "group names are unique"
    );
    let unknown_op = send(
        http()
            .post(format!("{org_url}/api/v1/users/{jane}/lifecycle/explode"))
            .header("Authorization", ssws()),
    )
    .await;
    assert_eq!(unknown_op.status, 404);
    let bad_body = send(
        http()
            .post(format!("{org_url}/api/v1/users"))
            .header("Authorization", ssws())
            .body("{not json"),
    )
    .await;
    assert_eq!(bad_body.status, 400);

    // PUT replaces the whole profile; removed attributes count as changed.
    let put = send(
        http()
            .put(format!("{org_url}/api/v1/users/{jane}"))
            .header("Authorization", ssws())
            .json(&json!({"profile": {"login": "jane.doe@example.com", "firstName": "Jane", "lastName": "Doe"}})),
    )
    .await;
    assert_eq!(put.status, 200);
    assert!(put.body["profile"].get("email").is_none());
    // Staged creation: no activate event.
    let staged = send(
        http()
            .post(format!("{org_url}/api/v1/users?activate=false"))
            .header("Authorization", ssws())
            .json(&json!({"profile": {"login": "new@example.com", "firstName": "New", "lastName": "Hire"}})),
    )
    .await;
    assert_eq!(staged.body["status"], "STAGED");
    assert_eq!(
        types(&server.sim().log_events()),
        [
            "user.lifecycle.suspend",
            "user.account.update_profile",
            "user.lifecycle.create"
        ]
    );
    assert_eq!(
        server.sim().log_events()[1]["debugContext"]["debugData"]["changedAttributes"],
        "email"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_group_assigned_to_an_app_makes_group_scope_app_users() {
    let (server, admin) = org().await;
    let org_url = server.url();
    let group = admin.group_id("connect_supervisors").await.unwrap();
    let app = admin.app_id("Contact Centre").await.unwrap();
    let jane = admin.user_id("jane.doe@example.com").await.unwrap();
    let assign = send(
        http()
            .put(format!("{org_url}/api/v1/apps/{app}/groups/{group}"))
            .header("Authorization", ssws()),
    )
    .await;
    assert_eq!(assign.status, 200);
    admin.add_to_group(&group, &jane).await.unwrap();
    let users = get(&org_url, &format!("/api/v1/apps/{app}/users"), &ssws()).await;
    assert_eq!(users.body[0]["scope"], "GROUP");
    assert_eq!(
        types(&server.sim().log_events()),
        [
            "group.user_membership.add",
            "application.user_membership.add"
        ]
    );
    admin.remove_from_group(&group, &jane).await.unwrap();
    assert_eq!(
        types(&server.sim().log_events())[3],
        "application.user_membership.remove"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_system_log_filters_bounds_and_pages() {
    let (server, admin) = org().await;
    let org_url = server.url();
    let before = time_now();
    let group = admin.group_id("amazon_connect").await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let user = NewUser {
            login: format!("u{i}@example.com"),
            ..omar()
        };
        let id = admin.create_user(&user).await.unwrap();
        admin.add_to_group(&group, &id).await.unwrap();
        ids.push(id);
    }
    admin.suspend(&ids[0]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let until = time_now();

    let filter =
        "eventType eq \"group.user_membership.add\" or eventType eq \"user.lifecycle.suspend\"";
    let url = reqwest::Url::parse_with_params(
        &format!("{org_url}/api/v1/logs"),
        &[
            ("since", before.as_str()),
            ("until", until.as_str()),
            ("filter", filter),
            ("limit", "2"),
        ],
    )
    .unwrap();
    let (events, pages) = all_pages(&org_url, url.as_str(), &ssws()).await;
    assert_eq!(pages, 3);
    assert_eq!(events.len(), 6);
    assert_eq!(
        events
            .iter()
            .filter(|e| e["eventType"] == "user.lifecycle.suspend")
            .count(),
        1
    );
    let published: Vec<&str> = events
        .iter()
        .map(|e| e["published"].as_str().unwrap())
        .collect();
    assert!(published.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    assert_eq!(
        events.last().unwrap()["eventType"],
        "user.lifecycle.suspend"
    );

    // Everything before `since` is left out.
    let url = reqwest::Url::parse_with_params(
        &format!("{org_url}/api/v1/logs"),
        &[("since", until.as_str()), ("until", time_now().as_str())],
    )
    .unwrap();
    assert_eq!(get(&org_url, url.as_str(), &ssws()).await.body, json!([]));
    // Default limit 100, max 1000; a polling query (no until) always links on.
    let polling = get(&org_url, "/api/v1/logs?limit=5000", &ssws()).await;
    assert_eq!(polling.body.as_array().unwrap().len(), 16);
    let next = polling
        .next_link()
        .expect("polling queries always have next");
    assert!(next.contains("limit=1000"), "{next}");
    let empty = get(&org_url, &next, &ssws()).await;
    assert_eq!(empty.body, json!([]));
    assert!(empty.next_link().is_some());
    admin.unsuspend(&ids[0]).await.unwrap();
    let later = get(&org_url, &next, &ssws()).await;
    assert_eq!(
        types(later.body.as_array().unwrap()),
        ["user.lifecycle.unsuspend"]
    );

    let bad = get(
        &org_url,
        "/api/v1/logs?filter=eventType%20is%20%22x%22",
        &ssws(),
    )
    .await;
    assert_eq!(
        (bad.status, bad.body["errorCode"].as_str()),
        (400, Some("E0000001"))
    );
    let bad = get(&org_url, "/api/v1/logs?since=yesterday", &ssws()).await;
    assert_eq!(bad.status, 400);
    assert_eq!(server.sim().log_events().len(), 17);
    server.shutdown().await.unwrap();
}

fn time_now() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc().format(&format).unwrap()
}
