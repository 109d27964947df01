//! The demo's story as a test: the same admin changes and the same checks as
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
async fn the_demo_story_ends_as_okta_implies() {
    let state = temp_state("demo");
    // Throttled like Connect (2/s, burst 5): the story must hold at the real pace too.
    let (pipeline, config, secret) = start(&state, true).await;
    let report = demo::run(&pipeline, &config, &secret, Duration::from_secs(120))
        .await
        .unwrap();
    assert!(report.passed(), "{}", okta_connect::output::render(&report));

    // Every delivery Okta made was accepted at the first attempt, inside its 3 s; the
    // one step made while the hook was off was delivered by nobody.
    for (caption, attempts) in &report.deliveries {
        if caption.contains("hook is off") {
            assert!(attempts.is_empty(), "{caption}: {attempts:?}");
        } else {
            assert_eq!(attempts, &vec![Some(200)], "{caption}");
        }
    }
    let users: Vec<(&str, &str, &str, &str)> = report
        .users
        .iter()
        .map(|u| {
            (
                u.username.as_str(),
                u.first_name.as_str(),
                u.last_name.as_str(),
                u.mapping.as_str(),
            )
        })
        .collect();
    assert_eq!(
        users,
        [
            ("jane.doe@acme.example", "Jane", "Doe", "default"),
            ("lin.chen@acme.example", "Lin", "Chen", "supervisors"),
            // The profile edit's event names the changed attribute only: the worker read
            // the value from Okta's API.
            (
                "zoe.angstrom@acme.example",
                "Zoë",
                "Ångström-Berg",
                "default"
            ),
        ],
        "jürgen left the group after Okta renamed it; omar lost the app; priya's app is \
         another instance of the same catalog app; sam's login is refused"
    );
    let lin = report
        .users
        .iter()
        .find(|u| u.username.starts_with("lin"))
        .unwrap();
    assert!(lin.hierarchy_group.is_some());
    assert_eq!(report.dead_letters.len(), 1);
    assert!(
        report.dead_letters[0].reason.contains("'+'"),
        "{}",
        report.dead_letters[0].reason
    );
    // The irrelevant events are recorded with their reason, not retried.
    let skipped: Vec<String> = report
        .events
        .iter()
        .filter_map(|e| e.outcome.as_ref())
        .filter(|o| matches!(o, Outcome::NotRelevant { .. }))
        .map(ToString::to_string)
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("app \"AWS Finance Account\" is in no mapping")),
        "an app instance matches by its label, not its catalog name: {skipped:?}"
    );
    // The older removal that arrived last changed nothing.
    let late = report
        .events
        .iter()
        .find(|e| e.delivery.contains("older removal"))
        .unwrap();
    assert!(
        late.outcome
            .as_ref()
            .is_some_and(|o| o.to_string().contains("present (supervisors)")),
        "{:?}",
        late.outcome
    );
    assert!(
        report
            .events
            .iter()
            .all(|e| matches!(e.state, Some(EventState::Completed | EventState::Failed)))
    );

    pipeline.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&state);
}
