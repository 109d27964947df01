//! One module per subcommand: its clap `Args`, its report type, and its `run`. A new
//! command is one file here plus one line in [`Command`].

pub mod check_config;
pub mod demo;
pub mod dev;
pub mod dlq;
pub mod event;
pub mod events;
pub mod reconcile;
pub mod redrive;
pub mod replay;
pub mod send;
pub mod status;
pub mod target;
pub mod user;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use okta_connect_core::config::Config;

/// The project's own config.ini, used when no file is given and none is in the folder.
pub const BUILT_IN_CONFIG: &str = include_str!("../../../../config.ini");

#[derive(Subcommand, Debug)]
pub enum Command {
    Dev(dev::Args),
    Demo(demo::Args),
    Send(send::Args),
    Replay(replay::Args),
    Reconcile(reconcile::Args),
    CheckConfig(check_config::Args),
    Dlq(dlq::Args),
    Redrive(redrive::Args),
    Event(event::Args),
    Events(events::Args),
    Status(status::Args),
    User(user::Args),
}

impl Command {
    /// Runs the command; `json` switches its output to JSON.
    pub async fn run(self, json: bool) -> anyhow::Result<ExitCode> {
        match self {
            Command::Dev(args) => dev::run(args, json).await,
            Command::Demo(args) => demo::run(args, json).await,
            Command::Send(args) => send::run(args, json).await,
            Command::Replay(args) => replay::run(args, json).await,
            Command::Reconcile(args) => reconcile::run(args, json).await,
            Command::CheckConfig(args) => check_config::run(args, json).await,
            Command::Dlq(args) => dlq::run(args, json).await,
            Command::Redrive(args) => redrive::run(args, json).await,
            Command::Event(args) => event::run(args, json).await,
            Command::Events(args) => events::run(args, json).await,
            Command::Status(args) => status::run(args, json).await,
            Command::User(args) => user::run(args, json).await,
        }
    }
}

/// Where a command's config.ini comes from.
#[derive(clap::Args, Clone, Debug)]
pub struct ConfigArg {
    /// The config file; default ./config.ini, else the built-in default.
    #[arg(long, env = "OKTA_CONNECT_CONFIG_FILE")]
    pub config: Option<PathBuf>,
}

/// `--config`, else ./config.ini, else the built-in default; validated with the
/// environment's overrides. The error names the file and every problem's key and line.
pub fn load_config(arg: &ConfigArg) -> anyhow::Result<Config> {
    let (text, origin) = match &arg.config {
        Some(path) => (read(path)?, path.display().to_string()),
        None if Path::new("config.ini").exists() => {
            (read(Path::new("config.ini"))?, "config.ini".to_string())
        }
        None => (
            BUILT_IN_CONFIG.to_string(),
            "the built-in config.ini".to_string(),
        ),
    };
    Config::parse(&text, std::env::vars()).map_err(|e| anyhow::anyhow!("{origin}: {e}"))
}

/// The folder relative paths of the config are read from (`[OktaApi] CREDENTIALS =
/// file:…`): the config file's, else the working directory.
pub fn config_dir(arg: &ConfigArg) -> PathBuf {
    arg.config
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Logs to standard error: JSON with `json`, compact lines otherwise.
pub fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}
