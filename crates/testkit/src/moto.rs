//! Emulator processes for tests, started on a free loopback port and stopped when
//! dropped. Emulators are real programs (moto for SQS and DynamoDB); the code under test
//! talks to them through the real AWS SDK, exactly as it talks to AWS.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
        // Usually under a second; minutes of CPU contention (a parallel build, many test
        // binaries at once) can make moto's Python imports take tens of seconds.
        server.wait_ready(Duration::from_secs(90));
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
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
