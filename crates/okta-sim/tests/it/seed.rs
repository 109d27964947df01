//! Seed files through the public API.

use std::io::Write;

use okta_sim::{OktaSim, Seed};

#[test]
fn seeds_load_from_files_and_validate_references() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        r#"{{"users":[{{"profile":{{"login":"a@example.com","firstName":"A","lastName":"B","email":"a@example.com"}}}}],
            "groups":[{{"id":"00gFixedGroupId00001","name":"amazon_connect","members":["a@example.com"]}}],
            "apps":[{{"label":"Contact Centre","assignees":["a@example.com"]}}]}}"#
    )
    .unwrap();
    let seed = Seed::load(file.path()).unwrap();
    let sim = OktaSim::builder().seed(seed).build().unwrap();
    let group = sim.group_by_name("AMAZON_CONNECT").unwrap();
    assert_eq!(group.id, "00gFixedGroupId00001");
    let user = sim.user("a@example.com").unwrap();
    assert!(group.members.contains(&user.id));
    assert_eq!(
        (
            user.first_name(),
            user.last_name(),
            user.display_name().as_str()
        ),
        ("A", "B", "A B")
    );
    let app = sim.app_by_label("contact centre").unwrap();
    assert_eq!(
        (app.name.as_str(), app.catalog_display_name.as_str()),
        ("amazon_aws", "AWS Account Federation")
    );
    assert_eq!(app.users[&user.id].user_name, "a@example.com");
    assert!(sim.log_events().is_empty());

    let missing = Seed::load("/nonexistent/seed.json").unwrap_err();
    assert!(matches!(missing, okta_sim::Error::SeedFile { .. }));
    let dangling =
        Seed::from_json(r#"{"groups":[{"name":"g","members":["ghost@example.com"]}]}"#).unwrap();
    let error = OktaSim::builder().seed(dangling).build().unwrap_err();
    assert!(error.to_string().contains("ghost@example.com"), "{error}");
}

#[test]
fn the_demo_seed_matches_the_default_config() {
    let sim = OktaSim::builder().seed(Seed::demo()).build().unwrap();
    assert!(sim.group_by_name("amazon_connect").is_some());
    assert!(sim.group_by_name("connect_supervisors").is_some());
    assert!(sim.app_by_label("AWS Account Federation").is_some());
    assert_eq!(sim.users().len(), 3);
}
