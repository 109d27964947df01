//! Okta as a live source, through the `okta-connect` binary: `dev` with its simulated
//! org (an admin's changes become Connect users, with the Okta profile's names), and
//! `check-config --resolve` against an org reached by configuration only.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use okta_connect::okta::seed_matching;
use okta_connect_core::config::Config;
use okta_connect_testkit::fixtures;
use okta_sim::{Admin, OktaSim, RateLimits};
use serde_json::{Value, json};

struct Dev {
    child: Child,
    banner: Value,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dev {
    fn connect_url(&self) -> String {
        self.banner["connect"]
            .as_str()
            .and_then(|c| c.split_whitespace().find(|w| w.starts_with("http://")))
            .unwrap()
            .to_string()
    }
}

fn start_dev(state: &Path) -> Dev {
    let mut child = Command::new(env!("CARGO_BIN_EXE_okta-connect"))
        .args(["--json", "dev", "--port", "0", "--no-throttle", "--state"])
        .arg(state)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let banner = serde_json::from_str(&line).unwrap_or_else(|e| panic!("banner {line:?}: {e}"));
    Dev { child, banner }
}

/// The simulated Connect's users by username: (first name, last name).
async fn connect_users(url: &str) -> Vec<(String, String, String)> {
    let users: Value = reqwest::get(format!("{url}/_sim/users"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = users
        .as_array()
        .cloned()
        .or_else(|| users["Users"].as_array().cloned())
        .unwrap_or_default();
    list.iter()
        .map(|u| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&u["Username"]),
                s(&u["IdentityInfo"]["FirstName"]),
                s(&u["IdentityInfo"]["LastName"]),
            )
        })
        .collect()
}

/// Polls until `check` holds for Connect's users, or fails after 30 s.
async fn until(url: &str, what: &str, check: impl Fn(&[(String, String, String)]) -> bool) {
    let started = Instant::now();
    loop {
        let users = connect_users(url).await;
        if check(&users) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what}: Connect holds {users:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn temp_state(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("okta-connect-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_turns_an_okta_admins_changes_into_connect_users_with_okta_names() {
    let state = temp_state("okta-live");
    let dev = start_dev(&state);
    let okta = &dev.banner["okta"];
    assert_eq!(okta["kind"], "simulated");
    let admin = Admin::new(
        okta["org_url"].as_str().unwrap(),
        okta["api_token"].as_str().unwrap(),
    )
    .unwrap();
    let connect = dev.connect_url();
    let agents = admin.group_id("amazon_connect").await.unwrap();
    let ana = admin.user_id("ana.silva@example.com").await.unwrap();

    // Added in Okta: created in Connect with the profile's names.
    admin.add_to_group(&agents, &ana).await.unwrap();
    until(&connect, "ana provisioned", |users| {
        users
            .iter()
            .any(|u| u == &("ana.silva@example.com".into(), "Ana".into(), "Silva".into()))
    })
    .await;

    // A profile edit (the event carries attribute names only): names updated.
    admin
        .update_profile(&ana, json!({"firstName": "Ana Luísa"}))
        .await
        .unwrap();
    until(&connect, "ana renamed", |users| {
        users.iter().any(|u| u.1 == "Ana Luísa" && u.2 == "Silva")
    })
    .await;

    // The group renamed in Okta, then the member removed: still recognised, revoked.
    admin
        .rename_group(&agents, "Contact Centre Agents")
        .await
        .unwrap();
    admin.remove_from_group(&agents, &ana).await.unwrap();
    until(&connect, "ana revoked", |users| users.is_empty()).await;

    // Another instance of the same catalog app, by a label no mapping names: nothing.
    let other = admin.app_id("AWS Finance Account").await.unwrap();
    let kofi = admin.user_id("kofi.mensah@example.com").await.unwrap();
    admin.assign_app(&other, &kofi).await.unwrap();
    // The configured instance (label "AWS Account Federation"): provisioned.
    let connect_app = admin.app_id("AWS Account Federation").await.unwrap();
    let mei = admin.user_id("mei.tanaka@example.com").await.unwrap();
    admin.assign_app(&connect_app, &mei).await.unwrap();
    until(&connect, "mei provisioned", |users| {
        users.iter().any(|u| u.0 == "mei.tanaka@example.com")
    })
    .await;
    let users = connect_users(&connect).await;
    assert_eq!(
        users.iter().map(|u| u.0.as_str()).collect::<Vec<_>>(),
        ["mei.tanaka@example.com"],
        "kofi's app shares the catalog name but not the label"
    );
    drop(dev);
    let _ = std::fs::remove_dir_all(&state);
}

fn check_config(args: &[&str], env: &[(&str, String)]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_okta-connect"));
    command
        .args(args)
        .env_remove("OKTA_CONNECT_OKTA_CREDENTIALS");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_resolve_shows_every_mappings_okta_ids() {
    let config = Config::from_ini(fixtures::CONFIG_INI).unwrap();
    let server = OktaSim::builder()
        .seed(seed_matching(&config).unwrap())
        .api_token("resolve-token")
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap()
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.ini");
    std::fs::write(&file, fixtures::CONFIG_INI).unwrap();
    let file = file.display().to_string();
    let env = vec![
        ("OKTA_CONNECT__OKTAAPI__ORG_URL", server.url()),
        ("OKTA_CONNECT_OKTA_CREDENTIALS", "resolve-token".to_string()),
    ];

    let (ok, stdout, stderr) = tokio::task::spawn_blocking({
        let (file, env) = (file.clone(), env.clone());
        move || check_config(&["--json", "check-config", &file, "--resolve"], &env)
    })
    .await
    .unwrap();
    assert!(ok, "{stderr}");
    let checked: Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<(String, String)> = checked["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["configured"].as_str().unwrap().to_string(),
                r["okta_id"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert!(
        ids.contains(&("amazon_connect".into(), "00g1c0nn3ctAgents0d7".into())),
        "{ids:?}"
    );
    assert!(
        ids.contains(&(
            "AWS Account Federation".into(),
            "0oa1awsF3d3rat10n0d7".into()
        )),
        "{ids:?}"
    );
    assert!(
        !stdout.contains("resolve-token"),
        "the credential never reaches the output"
    );

    // A name Okta does not have: said in the table, exit 1.
    let mut missing = env.clone();
    missing.push((
        "OKTA_CONNECT__OKTA__GROUP_NAME",
        "no_such_group".to_string(),
    ));
    let (ok, stdout, _) = tokio::task::spawn_blocking({
        let file = file.clone();
        move || check_config(&["check-config", &file, "--resolve"], &missing)
    })
    .await
    .unwrap();
    assert!(!ok);
    assert!(
        stdout.contains("not found: no group has this name"),
        "{stdout}"
    );

    // Without [OktaApi] there is nothing to ask.
    let (ok, _, stderr) = tokio::task::spawn_blocking(move || {
        check_config(&["check-config", &file, "--resolve"], &[])
    })
    .await
    .unwrap();
    assert!(!ok);
    assert!(stderr.contains("[OktaApi]"), "{stderr}");
    server.shutdown().await.unwrap();
}
