//! Cold-start settings read from the environment, kept apart from `main.rs` so they
//! can be tested without a process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use okta_connect_core::config::{Config, ConfigError};

use crate::handler::Settings;
use crate::secret::{SecretSource, SecretSourceError};

/// The SQS queue URL events go to.
pub const QUEUE_URL_VAR: &str = "OKTA_CONNECT_QUEUE_URL";
/// Optional path of a `config.ini`; without it, only `OKTA_CONNECT__SECTION__KEY`
/// variables configure the Lambda.
pub const CONFIG_FILE_VAR: &str = "OKTA_CONNECT_CONFIG_FILE";
/// Optional time budget of a request in milliseconds (default 2000, 100–2900).
pub const BUDGET_VAR: &str = "OKTA_CONNECT_INGEST_BUDGET_MS";

/// What the binary needs to build its [`crate::Ingest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Startup {
    pub queue_url: String,
    pub settings: Settings,
    pub secret: SecretSource,
}

/// Why the Lambda refuses to start. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{QUEUE_URL_VAR} is not set")]
    MissingQueueUrl,
    #[error("cannot read config file {path}: {source}")]
    ConfigFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretSourceError),
    #[error("{BUDGET_VAR} must be a number of milliseconds between 100 and 2900")]
    BadBudget,
}

impl Startup {
    /// Reads the settings from `vars` (pass `std::env::vars()`), reading the optional
    /// config file with `read_file`.
    pub fn from_env(
        vars: &[(String, String)],
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Self, StartupError> {
        let lookup = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let queue_url = lookup(QUEUE_URL_VAR)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or(StartupError::MissingQueueUrl)?;
        let text = match lookup(CONFIG_FILE_VAR).filter(|p| !p.trim().is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path.trim());
                read_file(&path).map_err(|source| StartupError::ConfigFile { path, source })?
            }
            None => String::new(),
        };
        let config = Config::parse(&text, vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let mut settings = Settings::from_config(&config.ingest);
        if let Some(budget) = lookup(BUDGET_VAR) {
            let ms: u64 = budget.trim().parse().map_err(|_| StartupError::BadBudget)?;
            if !(100..=2900).contains(&ms) {
                return Err(StartupError::BadBudget);
            }
            settings.retry.budget = Duration::from_millis(ms);
        }
        let secret = SecretSource::from_env(lookup)?;
        Ok(Startup {
            queue_url,
            settings,
            secret,
        })
    }
}
