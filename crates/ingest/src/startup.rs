//! Cold-start settings read from the environment, kept apart from `main.rs` so they
//! can be tested without a process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::SdkConfig;
use futures_util::future::BoxFuture;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::secrets::{self, SecretValues};
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::config::{ConfigError, IngestSettings};

use crate::handler::{Ingest, Settings};
use crate::metrics::MetricsSink;
use crate::secret::{
    HookSecret, REFRESH_INTERVAL, SecretReader, SecretSource, SecretSourceError, SecretStore,
    parse_secret_string,
};

/// The SQS queue URL events go to.
pub const QUEUE_URL_VAR: &str = "OKTA_CONNECT_QUEUE_URL";
/// The dead-letter queue URL unusable events go to (the worker's DLQ).
pub const DLQ_URL_VAR: &str = "OKTA_CONNECT_DLQ_URL";
/// Optional stack name, the `Stack` dimension of the metric lines; without it no
/// metric line is written.
pub const STACK_NAME_VAR: &str = "OKTA_CONNECT_STACK_NAME";
/// Optional path of a `config.ini`; without it, only `OKTA_CONNECT__SECTION__KEY`
/// variables configure the Lambda.
pub const CONFIG_FILE_VAR: &str = "OKTA_CONNECT_CONFIG_FILE";
/// Optional time budget of a request in milliseconds (default 2000, 100–2900).
pub const BUDGET_VAR: &str = "OKTA_CONNECT_INGEST_BUDGET_MS";

/// What the binary needs to build its [`crate::Ingest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Startup {
    pub queue_url: String,
    pub dead_letter_url: String,
    pub stack_name: Option<String>,
    pub settings: Settings,
    pub secret: SecretSource,
}

/// Why the Lambda refuses to start. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{QUEUE_URL_VAR} is not set")]
    MissingQueueUrl,
    #[error("{DLQ_URL_VAR} is not set (unusable events go to the dead-letter queue)")]
    MissingDeadLetterUrl,
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

/// Reads the hook secret from Secrets Manager: at cold start, and again after a
/// mismatch (see [`crate::secret`]'s *Rotation*).
struct SecretsManagerReader {
    aws: SdkConfig,
    secret_id: String,
}

impl SecretReader for SecretsManagerReader {
    fn read(&self) -> BoxFuture<'_, Result<SecretValues, SecretSourceError>> {
        Box::pin(async move {
            let text = secrets::load_text(&self.aws, &self.secret_id)
                .await
                .map_err(SecretSourceError::Read)?;
            parse_secret_string(&text)
        })
    }
}

impl Startup {
    /// Reads the settings from `vars` (pass `std::env::vars()`), reading the optional
    /// config file with `read_file`.
    pub fn from_env(
        vars: &[(String, String)],
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Self, StartupError> {
        let lookup = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let required = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let queue_url = required(QUEUE_URL_VAR).ok_or(StartupError::MissingQueueUrl)?;
        let dead_letter_url = required(DLQ_URL_VAR).ok_or(StartupError::MissingDeadLetterUrl)?;
        let stack_name = required(STACK_NAME_VAR);
        let text = match lookup(CONFIG_FILE_VAR).filter(|p| !p.trim().is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path.trim());
                read_file(&path).map_err(|source| StartupError::ConfigFile { path, source })?
            }
            None => String::new(),
        };
        // Only [Ingest]: a worker-only setting must never stop event intake.
        let ingest =
            IngestSettings::parse(&text, vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let mut settings = Settings::from_config(&ingest);
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
            dead_letter_url,
            stack_name,
            settings,
            secret,
        })
    }

    /// Builds the SQS clients once (each call bounded by the request budget) and loads
    /// the hook secret, from Secrets Manager when configured so (then read again after
    /// a mismatch, at most once per [`REFRESH_INTERVAL`]). A stored secret that cannot
    /// be read, is empty, or starts like JSON without being it stops the start.
    pub async fn build(self) -> Result<Ingest<SqsQueue, SqsQueue>, StartupError> {
        self.build_on(AwsSettings::default()).await
    }

    /// [`Startup::build`] on the SDK settings `base` (an emulator's endpoint and region,
    /// say). The timeouts are always the request budget's.
    pub async fn build_on(
        self,
        base: AwsSettings,
    ) -> Result<Ingest<SqsQueue, SqsQueue>, StartupError> {
        // Each SQS call must end inside the request's budget; the handler also cuts calls
        // off when the budget ends.
        let budget = self.settings.retry.budget;
        let aws = sdk::load(&AwsSettings {
            operation_timeout: budget,
            attempt_timeout: budget.min(Duration::from_secs(1)),
            ..base
        })
        .await;
        let secret = match self.secret {
            SecretSource::Inline(values) => SecretStore::fixed(HookSecret::new(&values)),
            SecretSource::SecretsManager { secret_id } => {
                let reader = SecretsManagerReader {
                    aws: aws.clone(),
                    secret_id,
                };
                let values = reader.read().await?;
                SecretStore::refreshing(HookSecret::new(&values), reader, REFRESH_INTERVAL)
            }
        };
        let queue = SqsQueue::from_config(&aws, self.queue_url);
        let dead_letters = SqsQueue::from_config(&aws, self.dead_letter_url);
        let mut ingest = Ingest::new(self.settings, secret, queue, dead_letters);
        if let Some(stack) = self.stack_name {
            ingest = ingest.with_metrics(MetricsSink::stdout(stack));
        }
        tracing::info!(
            secret_header = %ingest.settings.secret_header,
            max_body_bytes = ingest.settings.max_body_bytes,
            budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
            metrics = ingest.metrics.is_some(),
            "ingest ready"
        );
        Ok(ingest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use okta_connect_testkit::fixtures;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn read_config(path: &Path) -> std::io::Result<String> {
        if path == Path::new("/etc/okta/config.ini") {
            Ok(fixtures::CONFIG_INI.to_string())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file",
            ))
        }
    }

    const BASE: &[(&str, &str)] = &[
        (QUEUE_URL_VAR, "https://sqs.us-east-1.amazonaws.com/1/q"),
        (CONFIG_FILE_VAR, "/etc/okta/config.ini"),
        ("OKTA_CONNECT_HOOK_SECRET", "s"),
        (DLQ_URL_VAR, "https://sqs.us-east-1.amazonaws.com/1/dlq"),
    ];

    #[test]
    fn reads_queue_config_file_overrides_budget_and_secret() {
        let mut env = vars(BASE);
        env.push((
            "OKTA_CONNECT__INGEST__SECRET_HEADER".into(),
            "X-Okta-Secret".into(),
        ));
        env.push((BUDGET_VAR.into(), "1500".into()));
        let startup = Startup::from_env(&env, read_config).unwrap();
        assert_eq!(startup.queue_url, "https://sqs.us-east-1.amazonaws.com/1/q");
        assert_eq!(
            startup.dead_letter_url,
            "https://sqs.us-east-1.amazonaws.com/1/dlq"
        );
        assert_eq!(startup.stack_name, None);
        assert_eq!(startup.settings.secret_header, "x-okta-secret");
        assert_eq!(
            startup.settings.max_body_bytes,
            crate::DEFAULT_MAX_BODY_BYTES
        );
        assert_eq!(startup.settings.retry.budget, Duration::from_millis(1500));
        assert!(matches!(startup.secret, SecretSource::Inline(_)));
    }

    #[test]
    fn refuses_to_start_when_something_is_missing_or_wrong() {
        let without = |name: &str| {
            let env: Vec<_> = vars(BASE).into_iter().filter(|(k, _)| k != name).collect();
            Startup::from_env(&env, read_config)
        };
        assert!(matches!(
            without(QUEUE_URL_VAR),
            Err(StartupError::MissingQueueUrl)
        ));
        assert!(matches!(
            without(DLQ_URL_VAR),
            Err(StartupError::MissingDeadLetterUrl)
        ));
        assert!(matches!(
            without("OKTA_CONNECT_HOOK_SECRET"),
            Err(StartupError::Secret(SecretSourceError::Missing))
        ));
        // Without the file, defaults apply: intake never depends on worker settings.
        assert!(without(CONFIG_FILE_VAR).is_ok());

        let mut env = vars(BASE);
        env.push((CONFIG_FILE_VAR.into(), "/nope.ini".into()));
        env.remove(1);
        assert!(matches!(
            Startup::from_env(&env, read_config),
            Err(StartupError::ConfigFile { .. })
        ));
        for budget in ["0", "99", "2901", "fast", ""] {
            let mut env = vars(BASE);
            env.push((BUDGET_VAR.into(), budget.into()));
            assert!(
                matches!(
                    Startup::from_env(&env, read_config),
                    Err(StartupError::BadBudget)
                ),
                "{budget:?}"
            );
        }
        let mut env = vars(BASE);
        env.push(("OKTA_CONNECT__INGEST__MAX_BODY_BYTES".into(), "12".into()));
        assert!(matches!(
            Startup::from_env(&env, read_config),
            Err(StartupError::Config(_))
        ));
    }

    #[test]
    fn the_stack_name_turns_metrics_on() {
        let mut env = vars(BASE);
        env.push((STACK_NAME_VAR.into(), " OktaConnect-prod ".into()));
        let startup = Startup::from_env(&env, read_config).unwrap();
        assert_eq!(startup.stack_name.as_deref(), Some("OktaConnect-prod"));
        env.pop();
        env.push((STACK_NAME_VAR.into(), "  ".into()));
        assert_eq!(
            Startup::from_env(&env, read_config).unwrap().stack_name,
            None
        );
    }
}
