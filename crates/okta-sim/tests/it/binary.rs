//! The `okta-sim` binary: prints its URL first, serves the API, stops when killed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::common::{fixtures, get};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_serves_a_seed_with_its_flags() {
    let jwk = fixtures().join("keys/service-app.jwk.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_okta-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--api-token",
            "bin-token",
            "--rate-limit",
            "apps=2",
            "--latency",
            "1",
        ])
        .arg("--oauth-client")
        .arg(format!("0oaBinClient={}=okta.users.read", jwk.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line.trim().to_owned()
    })
    .await
    .unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let users = get(&url, "/api/v1/users", "SSWS bin-token").await;
    assert_eq!(users.status, 200);
    assert_eq!(users.body.as_array().unwrap().len(), 3, "the demo seed");
    assert_eq!(
        get(&url, "/api/v1/users", "SSWS sim-token").await.status,
        401,
        "given tokens replace the default"
    );
    let apps = get(&url, "/api/v1/apps", "SSWS bin-token").await;
    assert_eq!(apps.header("x-rate-limit-limit").as_deref(), Some("2"));
    drop(running);

    let bad = Command::new(env!("CARGO_BIN_EXE_okta-sim"))
        .args(["--rate-limit", "nope=3"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown family"));
}
