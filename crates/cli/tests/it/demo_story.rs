//! The demo's story as a test: the same deliveries and the same checks as
//! `okta-connect demo`, plus explicit assertions on what an admin would look at.

use std::time::Duration;

use okta_connect::demo;
use okta_connect::pipeline::{self, LocalSettings, Pipeline};
use okta_connect_core::config::Config;
use okta_connect_core::outcome::Outcome;
use okta_connect_core::ports::EventState;
use okta_connect_testkit::fixtures;

async fn start(state: &std::path::Path, throttle: bool) -> (Pipeline, Config, String) {
    let config = Config::from_ini(fixtures::CONFIG_INI).unwrap();
    let secret = pipeline::hook_secret(state, None).unwrap();
    let pipeline = Pipeline::start(LocalSettings::isolated(
        config.clone(),
        state.to_path_buf(),
        secret.clone(),
        throttle,
    ))
    .await
    .unwrap();
    (pipeline, config, secret)
}

fn temp_state(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("okta-connect-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_story_ends_as_the_events_imply() {
    let state = temp_state("demo");
    // Throttled like Connect (2/s, burst 5): the story must hold at the real pace too.
    let (pipeline, config, secret) = start(&state, true).await;
    let report = demo::run(&pipeline, &config, &secret, Duration::from_secs(120))
        .await
        .unwrap();
    assert!(report.passed(), "{}", okta_connect::output::render(&report));

    // Every delivery was accepted at the first attempt, inside Okta's 3 s.
    assert!(
        report
            .deliveries
            .iter()
            .all(|(_, attempts)| attempts == &vec![Some(200)]),
        "{:?}",
        report.deliveries
    );
    let users: Vec<(&str, &str)> = report
        .users
        .iter()
        .map(|u| (u.username.as_str(), u.mapping.as_str()))
        .collect();
    assert_eq!(
        users,
        [
            ("jane.doe@acme.example", "default"),
            ("juergen.mueller@acme.example", "default"),
            ("lin.chen@acme.example", "supervisors"),
            ("zoe.angstrom@acme.example", "default"),
        ]
    );
    let lin = report
        .users
        .iter()
        .find(|u| u.username.starts_with("lin"))
        .unwrap();
    assert_eq!(
        (lin.first_name.as_str(), lin.last_name.as_str()),
        ("Lin", "Chen"),
        "\"Chen, Lin\" split"
    );
    assert!(lin.hierarchy_group.is_some());
    assert_eq!(report.dead_letters.len(), 1);
    assert!(
        report.dead_letters[0].reason.contains("'+'"),
        "{}",
        report.dead_letters[0].reason
    );
    // The irrelevant events are recorded with their reason, not retried.
    let skipped: Vec<&Outcome> = report
        .events
        .iter()
        .filter_map(|e| e.outcome.as_ref())
        .filter(|o| matches!(o, Outcome::NotRelevant { .. }))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        report
            .events
            .iter()
            .all(|e| matches!(e.state, Some(EventState::Completed | EventState::Failed)))
    );

    pipeline.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&state);
}
