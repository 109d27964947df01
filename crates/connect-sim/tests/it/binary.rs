//! The `connect-sim` binary: starts from a seed file, serves the SDK, keeps state across a
//! restart, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_connect::operation::create_user::CreateUserError;
use aws_sdk_connect::types::UserIdentityInfo;

use crate::common::{self, client, temp_dir};

const BINARY: &str = env!("CARGO_BIN_EXE_connect-sim");

const SEED: &str = r#"{
  "region": "eu-west-2",
  "accountId": "210987654321",
  "instances": [{
    "id": "binary-test-instance",
    "routingProfiles": [{ "id": "rp-basic", "name": "Basic Routing Profile" }],
    "securityProfiles": [{ "id": "sp-agent", "name": "Agent" }]
  }]
}"#;

/// A running binary; killed on drop so a failing test never leaks it.
struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on a free port (`--port 0`) and reads the URL it prints.
fn spawn(args: &[&str]) -> Running {
    let mut child = Command::new(BINARY)
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the binary prints its URL");
    let url = line
        .strip_prefix("connect-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "binds loopback by default: {url}"
    );
    Running { child, url }
}

fn create(
    c: &aws_sdk_connect::Client,
    username: &str,
) -> aws_sdk_connect::operation::create_user::builders::CreateUserFluentBuilder {
    c.create_user()
        .instance_id("binary-test-instance")
        .username(username)
        .identity_info(
            UserIdentityInfo::builder()
                .first_name("Bin")
                .last_name("Ary")
                .build(),
        )
        .security_profile_ids("sp-agent")
        .routing_profile_id("rp-basic")
}

fn terminate(running: &mut Running) {
    let status = Command::new("kill")
        .args(["-TERM", &running.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..100 {
        if let Some(status) = running.child.try_wait().unwrap() {
            assert!(status.success(), "exits cleanly on SIGTERM: {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the binary did not stop within 10 s of SIGTERM");
}

#[tokio::test]
async fn binary_serves_the_sdk_from_a_seed_file_and_keeps_state() {
    let dir = temp_dir("binary");
    let seed = dir.join("seed.json");
    std::fs::write(&seed, SEED).unwrap();
    let state = dir.join("state.json");
    let args = [
        "--seed",
        seed.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--rate",
        "50/s",
        "--burst",
        "10",
    ];

    let mut running = spawn(&args);
    let c = client(&running.url).await;
    let profiles = c
        .list_routing_profiles()
        .instance_id("binary-test-instance")
        .send()
        .await
        .unwrap();
    let arns: Vec<&str> = profiles
        .routing_profile_summary_list()
        .iter()
        .filter_map(|p| p.arn())
        .collect();
    assert_eq!(
        arns,
        [
            "arn:aws:connect:eu-west-2:210987654321:instance/binary-test-instance/routing-profile/rp-basic"
        ]
    );
    let created = create(&c, "from.binary").send().await.unwrap();
    assert!(created.user_arn().unwrap().starts_with(
        "arn:aws:connect:eu-west-2:210987654321:instance/binary-test-instance/agent/"
    ));
    let user_id = created.user_id().unwrap().to_owned();
    let admin: serde_json::Value = reqwest::get(format!("{}/_sim/users", running.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin[0]["Username"], "from.binary");
    terminate(&mut running);
    assert!(Path::new(&state).exists());

    // A restart from the state file still knows the user.
    let running = spawn(&args);
    let c = client(&running.url).await;
    let described = c
        .describe_user()
        .instance_id("binary-test-instance")
        .user_id(&user_id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.user().unwrap().username(), Some("from.binary"));
    let error = create(&c, "from.binary")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(
        error,
        CreateUserError::DuplicateResourceException(_)
    ));
    drop(running);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn binary_applies_faults_and_throttling_flags() {
    let running = spawn(&[
        "--no-throttle",
        "--faults",
        "fail=CreateUser:InternalServiceException:1",
    ]);
    let c = client(&running.url).await;
    let first = common::create_user(&c, "faulted")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(
        first,
        CreateUserError::InternalServiceException(_)
    ));
    common::create_user(&c, "faulted").send().await.unwrap();
    // No throttling: a burst well beyond Connect's 5 passes.
    for _ in 0..12 {
        c.list_security_profiles()
            .instance_id(connect_sim::seed::DEFAULT_INSTANCE_ID)
            .send()
            .await
            .unwrap();
    }
}

#[test]
fn binary_prints_the_default_seed_and_refuses_bad_flags() {
    let output = Command::new(BINARY)
        .arg("--print-default-seed")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        connect_sim::seed::DEFAULT_SEED_JSON
    );
    for bad in [
        vec!["--faults", "error-rate=7"],
        vec!["--rate", "fast"],
        vec!["--no-throttle", "--rate", "3"],
        vec!["--seed", "/nonexistent/seed.json"],
    ] {
        let status = Command::new(BINARY)
            .args(["--port", "0"])
            .args(&bad)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{bad:?} must be refused");
    }
}
