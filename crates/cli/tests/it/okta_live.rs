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
    start_dev_with(state, &[])
}

/// `dev` on `state` (any free port, unthrottled) with `extra` arguments; reads its banner.
fn start_dev_with(state: &Path, extra: &[&std::ffi::OsStr]) -> Dev {
    let mut child = Command::new(env!("CARGO_BIN_EXE_okta-connect"))
        .args(["--json", "dev", "--port", "0", "--no-throttle", "--state"])
        .arg(state)
        .args(extra)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_recovers_what_okta_never_delivered_and_twice_changes_nothing() {
    let state = temp_state("okta-replay");
    let dev = start_dev(&state);
    let okta = &dev.banner["okta"];
    let (url, token) = (
        okta["org_url"].as_str().unwrap().to_string(),
        okta["api_token"].as_str().unwrap().to_string(),
    );
    let admin = Admin::new(&url, &token).unwrap();
    let connect = dev.connect_url();
    let client = reqwest::Client::new();
    let hooks: Value = client
        .get(format!("{url}/api/v1/eventHooks"))
        .header("authorization", format!("SSWS {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hook = hooks[0]["id"].as_str().unwrap().to_string();
    let lifecycle = |verb: &str| {
        client
            .post(format!("{url}/api/v1/eventHooks/{hook}/lifecycle/{verb}"))
            .header("authorization", format!("SSWS {token}"))
            .send()
    };
    let since = okta_connect_core::time::UnixMillis::now().to_string();

    // The hook is down while the admin adds an agent: Okta never delivers the event.
    assert!(lifecycle("deactivate").await.unwrap().status().is_success());
    let agents = admin.group_id("amazon_connect").await.unwrap();
    let kofi = admin.user_id("kofi.mensah@example.com").await.unwrap();
    admin.add_to_group(&agents, &kofi).await.unwrap();
    assert!(lifecycle("activate").await.unwrap().status().is_success());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        connect_users(&connect).await.is_empty(),
        "nothing was delivered"
    );

    let replay = |dry_run: bool| {
        let (state, url, token, since) = (state.clone(), url.clone(), token.clone(), since.clone());
        tokio::task::spawn_blocking(move || {
            let mut command = Command::new(env!("CARGO_BIN_EXE_okta-connect"));
            command
                .args(["--json", "replay", "--since", &since, "--state"])
                .arg(&state)
                .env("OKTA_CONNECT__OKTAAPI__ORG_URL", url)
                .env("OKTA_CONNECT_OKTA_CREDENTIALS", token);
            if dry_run {
                command.arg("--dry-run");
            }
            let out = command.output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        })
    };
    let dry = replay(true).await.unwrap();
    assert_eq!(dry["queued"], 0);
    assert!(dry["read"].as_u64().unwrap() >= 1, "{dry}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        connect_users(&connect).await.is_empty(),
        "a dry run queues nothing"
    );

    let replayed = replay(false).await.unwrap();
    assert_eq!(replayed["queued"], replayed["read"], "{replayed}");
    until(&connect, "kofi provisioned from the System Log", |users| {
        users.iter().any(|u| {
            u == &(
                "kofi.mensah@example.com".into(),
                "Kofi".into(),
                "Mensah".into(),
            )
        })
    })
    .await;

    // Overlap is harmless: the same events again are duplicates.
    replay(false).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(connect_users(&connect).await.len(), 1);
    drop(dev);
    let _ = std::fs::remove_dir_all(&state);
}

/// `dev` on `state` with these okta-sim and connect-sim seed files.
fn start_dev_seeded(state: &Path, okta_seed: &Path, connect_seed: &Path) -> Dev {
    start_dev_with(
        state,
        &[
            "--okta-seed".as_ref(),
            okta_seed.as_os_str(),
            "--seed".as_ref(),
            connect_seed.as_os_str(),
        ],
    )
}

fn reconcile(state: &Path, extra: &[&str]) -> (bool, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_okta-connect"))
        .args(["--json", "reconcile", "--state"])
        .arg(state)
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_live_reconcile_adopts_creates_and_revokes_agents_that_existed_before_the_hook() {
    let state = temp_state("go-live");
    std::fs::create_dir_all(&state).unwrap();
    // Before go-live: three agents in Okta's group (one deactivated since), two of them
    // already in Connect by CSV, untagged.
    let okta_seed = state.join("okta-seed.json");
    std::fs::write(
        &okta_seed,
        json!({
            "users": [
                {"id": "00uGoLive00000000001", "profile": {"login": "ada@acme.example", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@acme.example"}},
                {"id": "00uGoLive00000000002", "profile": {"login": "alan@acme.example", "firstName": "Alan", "lastName": "Turing", "email": "alan@acme.example"}},
                {"id": "00uGoLive00000000003", "status": "DEPROVISIONED", "profile": {"login": "grace@acme.example", "firstName": "Grace", "lastName": "Hopper", "email": "grace@acme.example"}}
            ],
            "groups": [
                {"id": "00g1c0nn3ctAgents0d7", "name": "amazon_connect", "members": ["ada@acme.example", "alan@acme.example", "grace@acme.example"]},
                {"id": "00g1c0nn3ctSup3rv1s7", "name": "connect_supervisors"}
            ],
            "apps": [{"id": "0oa1awsF3d3rat10n0d7", "label": "AWS Account Federation", "name": "amazon_aws", "catalogDisplayName": "AWS Account Federation"}]
        })
        .to_string(),
    )
    .unwrap();
    let mut connect_seed: Value =
        serde_json::from_str(connect_sim::seed::DEFAULT_SEED_JSON).unwrap();
    connect_seed["instances"][0]["users"] = json!([
        {"username": "ada@acme.example", "firstName": "Ada", "lastName": "CSV",
         "securityProfileIds": ["12345678-1234-2345-abd8-0aa7f5b46852"],
         "routingProfileId": "5b3c0f3e-8a31-4d2a-9a61-2f1d3c7e9b10"},
        {"username": "grace@acme.example", "firstName": "Grace", "lastName": "CSV",
         "securityProfileIds": ["12345678-1234-2345-abd8-0aa7f5b46852"],
         "routingProfileId": "87654321-69fb-43b6-a5e6-f8666ac189cb"}
    ]);
    let connect_file = state.join("connect-seed.json");
    std::fs::write(&connect_file, connect_seed.to_string()).unwrap();
    let dev = start_dev_seeded(&state, &okta_seed, &connect_file);
    let connect = dev.connect_url();

    let st = state.clone();
    let (ok, plan) = tokio::task::spawn_blocking(move || reconcile(&st, &["--dry-run"]))
        .await
        .unwrap();
    assert!(ok, "{plan}");
    let action = |report: &Value, login: &str| {
        report["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["login"] == login)
            .map(|u| u["action"]["action"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{login} not in {report}"))
    };
    assert_eq!(action(&plan, "ada@acme.example"), "adopt");
    assert_eq!(action(&plan, "alan@acme.example"), "create");
    assert_eq!(action(&plan, "grace@acme.example"), "revoke");
    assert_eq!(
        connect_users(&connect).await.len(),
        2,
        "the dry run wrote nothing"
    );

    let st = state.clone();
    let (ok, run) = tokio::task::spawn_blocking(move || reconcile(&st, &[]))
        .await
        .unwrap();
    assert!(ok, "{run}");
    let mut users = connect_users(&connect).await;
    users.sort();
    assert_eq!(
        users,
        [
            (
                "ada@acme.example".to_string(),
                "Ada".to_string(),
                "Lovelace".to_string()
            ),
            (
                "alan@acme.example".to_string(),
                "Alan".to_string(),
                "Turing".to_string()
            ),
        ],
        "ada adopted (names from Okta), alan created, grace (deactivated) revoked"
    );
    // Nothing left to do.
    let st = state.clone();
    let (ok, again) = tokio::task::spawn_blocking(move || reconcile(&st, &["--dry-run"]))
        .await
        .unwrap();
    assert!(ok);
    assert!(
        again["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["action"]["action"] == "unchanged"),
        "{again}"
    );
    drop(dev);
    let _ = std::fs::remove_dir_all(&state);
}
