//! Test support shared by every crate: emulator processes started on a free loopback
//! port and stopped when dropped, and SDK settings that point at them.
//!
//! Emulators are real programs (moto for SQS and DynamoDB); the code under test talks
//! to them through the real AWS SDK, exactly as it talks to AWS.

#![allow(clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use okta_connect_aws::sdk::AwsSettings;

/// A free TCP port on 127.0.0.1 (bound, then released for the child to take).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// A moto server (SQS, DynamoDB) child process on 127.0.0.1; killed on drop.
///
/// It runs single-threaded on purpose: `moto_server`'s threaded mode takes no lock
/// between checking a DynamoDB condition and writing, so two racing conditional writes
/// can both win — which real DynamoDB never allows, and which would make every
/// concurrency test here meaningless. One request at a time restores the atomicity.
pub struct MotoServer {
    child: Child,
    port: u16,
}

impl MotoServer {
    /// Starts moto and waits until it accepts connections. moto is found next to
    /// `$MOTO_SERVER` (the venv's `moto_server` script; its `python` sits beside it) or
    /// else as `python3`'s module (`scripts/test.sh` installs it into a venv).
    ///
    /// Panics with the fix when moto is missing: a test that needs it cannot run.
    pub fn start() -> Self {
        let python = std::env::var_os("MOTO_SERVER")
            .map(|m| PathBuf::from(m).with_file_name("python"))
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("python3"));
        let port = free_port();
        let script = format!(
            "from werkzeug.serving import run_simple\n\
             from moto.moto_server.werkzeug_app import (\n\
                 DomainDispatcherApplication, MotoRequestHandler, create_backend_app)\n\
             run_simple('127.0.0.1', {port}, DomainDispatcherApplication(create_backend_app),\n\
                 threaded=False, request_handler=MotoRequestHandler)\n"
        );
        let child = Command::new(&python)
            .args(["-c", &script])
            .env("MOTO_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto with {} ({e}); run ./scripts/test.sh, which installs \
                     moto, or set MOTO_SERVER",
                    python.display()
                )
            });
        let server = Self { child, port };
        server.wait_ready(Duration::from_secs(20));
        server
    }

    fn wait_ready(&self, limit: Duration) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let start = Instant::now();
        while start.elapsed() < limit {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("moto_server did not listen on {addr} within {limit:?}");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SDK settings that reach this server.
    pub fn settings(&self) -> AwsSettings {
        AwsSettings::emulator(self.url())
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
pub mod ledger_contract;

/// A message read back from an SQS queue (on moto).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub body: String,
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// Reads `queue_url` until `n` messages arrived, a receive comes back empty, or 20 s
/// pass. Deletes nothing: each message stays invisible for 5 minutes, so each is read
/// once. Every attribute must be a `String`, as the pipeline writes them all.
pub async fn read_queue(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    n: usize,
) -> Vec<QueuedMessage> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while out.len() < n && Instant::now() < deadline {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .message_attribute_names("All")
            .send()
            .await
            .expect("ReceiveMessage");
        if output.messages().is_empty() {
            break;
        }
        for m in output.messages() {
            let attributes = m
                .message_attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| {
                            assert_eq!(v.data_type(), "String", "attribute {k}");
                            (k.clone(), v.string_value().unwrap_or_default().to_string())
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(QueuedMessage {
                body: m.body().unwrap_or_default().to_string(),
                attributes,
            });
        }
    }
    out
}
