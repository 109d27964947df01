//! The one integration-test binary of `okta-connect-local`.
//!
//! - [`queue`]: the embedded queue behaves like SQS where the worker depends on it.
//! - [`consumer`]: the `QueueConsumer` port of [`okta_connect_local::LocalQueue`].
//! - [`ledger`]: the SQLite ledger (contract suite, durability, races, bad files).
//! - [`open`]: opening one file from many threads and processes at once; migrations.
//! - [`contract`]: the queue contract suite.
//!
//! Some tests re-run this binary as a child process, naming one test by its full path
//! (`module::test`) with `--exact`; see [`spawn_child`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consumer;
mod contract;
mod ledger;
mod open;
mod queue;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Starts this test binary again to run only the test at `test_path` (as libtest names
/// it in this binary, e.g. `queue::child_process`), with `envs` set; its stdout is piped.
pub fn spawn_child(test_path: &str, envs: &[(&str, &OsStr)]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test_path, "--nocapture", "--test-threads=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in envs {
        command.env(name, value);
    }
    command.spawn().unwrap()
}

/// A fresh state file in its own temporary folder, removed when dropped.
pub struct Files {
    dir: tempfile::TempDir,
}

impl Default for Files {
    fn default() -> Self {
        Self::new()
    }
}

impl Files {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("state.db")
    }
}
