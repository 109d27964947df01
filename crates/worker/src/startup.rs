//! What the worker Lambda reads at cold start, and the engine it builds from it, kept
//! apart from `main.rs` so it can be tested without a process. The reconcile Lambda
//! starts the same way ([`Startup::from_env_sending_to`], [`Startup::clients`]), with
//! the event queue in place of the dead-letter queue.

use std::path::{Path, PathBuf};

use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::dynamodb::DynamoLedger;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::secrets;
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::config::{Config, ConfigError, CredentialSource};
use okta_connect_okta::from_config::{read_local_credential, settings_for};
use okta_connect_okta::{OktaApi, Secret};
use okta_connect_sync::{Engine, Pacer};

/// Path of the bundled `config.ini`; without it only `OKTA_CONNECT__SECTION__KEY`
/// variables configure the worker.
pub const CONFIG_FILE_VAR: &str = "OKTA_CONNECT_CONFIG_FILE";
/// The DynamoDB ledger table.
pub const LEDGER_TABLE_VAR: &str = "OKTA_CONNECT_LEDGER_TABLE";
/// The dead-letter queue's URL (the worker's).
pub const DLQ_URL_VAR: &str = "OKTA_CONNECT_DLQ_URL";
/// The event queue's URL (the reconcile Lambda's).
pub const QUEUE_URL_VAR: &str = "OKTA_CONNECT_QUEUE_URL";
/// The stack's name: the `Stack` dimension of the worker's metrics (default: config.ini's
/// `[Deploy] STACK_NAME`, which is what the stack is named when nothing overrides it).
pub const STACK_NAME_VAR: &str = "OKTA_CONNECT_STACK_NAME";
/// An emulator endpoint for every AWS client (tests and local runs only).
pub const ENDPOINT_URL_VAR: &str = "OKTA_CONNECT_AWS_ENDPOINT_URL";

/// The worker as deployed: DynamoDB ledger, Amazon Connect, SQS dead-letter queue, and
/// Okta's API when `[OktaApi]` is configured.
pub type LambdaEngine = Engine<DynamoLedger, ConnectDirectory, SqsQueue, OktaApi>;

/// Everything the worker needs to build its engine.
#[derive(Debug, Clone)]
pub struct Startup {
    pub config: Config,
    pub ledger_table: String,
    /// The queue this Lambda sends to: the dead-letter queue for the worker, the event
    /// queue for the reconcile Lambda.
    pub queue_url: String,
    pub endpoint_url: Option<String>,
    /// The folder of the config file: where `file:` credentials are read from.
    pub config_dir: PathBuf,
    /// The Okta credential when `[OktaApi] CREDENTIALS` names an environment variable
    /// or a file (read here, once); a `secret:` one is read by [`Startup::build`].
    pub okta_credential: Option<Secret>,
    /// The `Stack` dimension of the metrics ([`STACK_NAME_VAR`]).
    pub stack_name: String,
}

/// Why the worker refuses to start. Each names the variable or key to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("cannot read config file {path}: {source}")]
    ConfigFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {source}")]
    Config { origin: String, source: ConfigError },
    /// The Okta API cannot be used as configured; the message names the key.
    #[error("[OktaApi]: {0}")]
    Okta(String),
    /// A policy needs a setting that is missing; the message names the key.
    #[error("{0}")]
    Incomplete(String),
}

impl Startup {
    /// Reads the worker's settings from `vars` (pass `std::env::vars()`), reading the
    /// optional config file with `read_file`; the whole config is validated here, once.
    pub fn from_env(
        vars: impl IntoIterator<Item = (String, String)>,
        read_file: impl Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Self, StartupError> {
        Self::from_env_sending_to(vars, read_file, DLQ_URL_VAR)
    }

    /// [`Startup::from_env`] for a Lambda that sends to the queue named by `queue_var`.
    pub fn from_env_sending_to(
        vars: impl IntoIterator<Item = (String, String)>,
        read_file: impl Fn(&Path) -> std::io::Result<String>,
        queue_var: &'static str,
    ) -> Result<Self, StartupError> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let (text, origin) = match lookup(CONFIG_FILE_VAR) {
            Some(path) => {
                let path = PathBuf::from(path);
                let text = read_file(&path).map_err(|source| StartupError::ConfigFile {
                    path: path.clone(),
                    source,
                })?;
                (text, path.display().to_string())
            }
            None => (String::new(), "the environment".to_string()),
        };
        let config = Config::parse(&text, vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|source| StartupError::Config { origin, source })?;

        let config_dir = lookup(CONFIG_FILE_VAR)
            .and_then(|p| PathBuf::from(p).parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        let okta_credential = match config.okta_api.as_ref().map(|a| &a.credentials) {
            None | Some(CredentialSource::Secret(_)) => None,
            Some(local) => Some(
                read_local_credential(local, &config_dir, |name| {
                    vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
                })
                .map_err(|e| StartupError::Okta(e.to_string()))?,
            ),
        };
        let stack_name = lookup(STACK_NAME_VAR).unwrap_or_else(|| config.deploy.stack_name.clone());
        let startup = Self {
            stack_name,
            config,
            ledger_table: lookup(LEDGER_TABLE_VAR)
                .ok_or(StartupError::Missing(LEDGER_TABLE_VAR))?,
            queue_url: lookup(queue_var).ok_or(StartupError::Missing(queue_var))?,
            endpoint_url: lookup(ENDPOINT_URL_VAR),
            config_dir,
            okta_credential,
        };
        // A deployed Lambda must never meet a revocation it cannot apply.
        startup
            .config
            .check_revocations_can_run()
            .map_err(StartupError::Incomplete)?;
        Ok(startup)
    }

    /// Builds the SDK clients and the Okta API adapter (once per execution environment)
    /// and the engine. Fails when `[OktaApi]` is set but its credential cannot be read
    /// (one `GetSecretValue` for a `secret:` credential) or used: then no event is
    /// processed with display names where Okta's real ones were asked for.
    ///
    /// The engine paces Connect at its share of the account's quotas: up to `[Deploy]
    /// MAX_CONCURRENCY` invocations run at once, each in its own execution environment.
    pub async fn build(self) -> Result<LambdaEngine, StartupError> {
        let clients = self.clients().await?;
        let workers = clients.config.deploy.max_concurrency;
        let mut engine = Engine::new(
            clients.config,
            clients.ledger,
            clients.directory,
            clients.queue,
            clients.identity,
        );
        engine.pacing = Pacer::shared(engine.config.pacing, workers);
        Ok(engine)
    }

    /// The adapters this Lambda's engine is made of, built once per execution
    /// environment (see [`Startup::build`] for the failures).
    pub async fn clients(self) -> Result<Clients, StartupError> {
        let aws = sdk::load(&AwsSettings {
            region: self.config.region.clone(),
            endpoint_url: self.endpoint_url,
            ..AwsSettings::default()
        })
        .await;
        let identity = match &self.config.okta_api {
            None => None,
            Some(api) => {
                let credential = match (&api.credentials, self.okta_credential) {
                    (_, Some(read)) => read,
                    (CredentialSource::Secret(id), None) => {
                        let text = secrets::load_text(&aws, id).await.map_err(|e| {
                            StartupError::Okta(format!(
                                "CREDENTIALS: {e} (a stack-created secret starts empty: store the \
                                 key or token with the stack output FillOktaApiCredentialsCommand)"
                            ))
                        })?;
                        Secret::new(text.trim())
                    }
                    (other, None) => {
                        return Err(StartupError::Okta(format!(
                            "CREDENTIALS: {other} was not read"
                        )));
                    }
                };
                Some(
                    OktaApi::new(settings_for(api, credential))
                        .map_err(|e| StartupError::Okta(e.to_string()))?,
                )
            }
        };
        Ok(Clients {
            ledger: DynamoLedger::from_config(&aws, self.ledger_table),
            directory: ConnectDirectory::from_config(&aws, self.config.instance_id.to_string()),
            queue: SqsQueue::from_config(&aws, self.queue_url),
            identity,
            config: self.config,
        })
    }
}

/// A deployed Lambda's adapters and its validated config.
pub struct Clients {
    pub config: Config,
    pub ledger: DynamoLedger,
    pub directory: ConnectDirectory,
    /// The queue of [`Startup::queue_url`].
    pub queue: SqsQueue,
    pub identity: Option<OktaApi>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTANCE: &str = "abcdefgh-0122-4131-adc2-a0ebe5a2b2a7";

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn no_file(_: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, "absent"))
    }

    #[test]
    fn reads_the_config_file_and_the_environment() {
        let config = okta_connect_testkit::fixtures::CONFIG_INI;
        let startup = Startup::from_env(
            vars(&[
                (CONFIG_FILE_VAR, "/var/task/config.ini"),
                (LEDGER_TABLE_VAR, "ledger"),
                (DLQ_URL_VAR, "https://sqs.example/dlq"),
                ("OKTA_CONNECT__SYNC__REMOVAL_POLICY", "IGNORE"),
            ]),
            |path| {
                assert_eq!(path, Path::new("/var/task/config.ini"));
                Ok(config.to_string())
            },
        )
        .unwrap();
        assert_eq!(startup.ledger_table, "ledger");
        assert_eq!(startup.queue_url, "https://sqs.example/dlq");
        assert_eq!(startup.endpoint_url, None);
        assert_eq!(
            startup.stack_name, "OktaConnect",
            "[Deploy] STACK_NAME without {STACK_NAME_VAR}"
        );
        assert_eq!(
            startup.config.removal,
            okta_connect_core::config::RemovalPolicy::Ignore
        );
    }

    #[test]
    fn the_stack_name_comes_from_the_environment_first() {
        let startup = Startup::from_env(
            vars(&[
                (CONFIG_FILE_VAR, "/var/task/config.ini"),
                (LEDGER_TABLE_VAR, "ledger"),
                (DLQ_URL_VAR, "https://sqs.example/dlq"),
                (STACK_NAME_VAR, " OktaConnect-prod "),
            ]),
            |_| Ok(okta_connect_testkit::fixtures::CONFIG_INI.to_string()),
        )
        .unwrap();
        assert_eq!(startup.stack_name, "OktaConnect-prod");
    }

    #[test]
    fn each_missing_setting_is_named() {
        let base = [
            ("OKTA_CONNECT__CONNECT__INSTANCE_ID", INSTANCE),
            ("OKTA_CONNECT__OKTA__GROUP_NAME", "agents"),
            ("OKTA_CONNECT__CONNECT__ROUTING_PROFILE_ID", INSTANCE),
            ("OKTA_CONNECT__CONNECT__SECURITY_PROFILE_IDS", INSTANCE),
        ];
        let mut all = base.to_vec();
        all.push((DLQ_URL_VAR, "https://sqs.example/dlq"));
        let err = Startup::from_env(vars(&all), no_file).unwrap_err();
        assert!(err.to_string().contains(LEDGER_TABLE_VAR), "{err}");

        let mut all = base.to_vec();
        all.push((LEDGER_TABLE_VAR, "ledger"));
        let err = Startup::from_env(vars(&all), no_file).unwrap_err();
        assert!(err.to_string().contains(DLQ_URL_VAR), "{err}");

        let err = Startup::from_env(
            vars(&[(CONFIG_FILE_VAR, "/nowhere.ini"), (LEDGER_TABLE_VAR, "t")]),
            no_file,
        )
        .unwrap_err();
        assert!(err.to_string().contains("/nowhere.ini"), "{err}");
    }

    #[tokio::test]
    async fn okta_api_credentials_are_read_once_and_never_shown() {
        let base = [
            ("OKTA_CONNECT__OKTAAPI__ORG_URL", "https://acme.okta.com"),
            (LEDGER_TABLE_VAR, "ledger"),
            (DLQ_URL_VAR, "https://sqs.example/dlq"),
        ];
        let config = okta_connect_testkit::fixtures::CONFIG_INI;
        let read = |_: &Path| Ok(config.to_string());
        let mut all = base.to_vec();
        all.push((CONFIG_FILE_VAR, "/var/task/config.ini"));
        let err = Startup::from_env(vars(&all), read).unwrap_err();
        assert!(
            err.to_string().contains("OKTA_CONNECT_OKTA_CREDENTIALS"),
            "names the variable to set: {err}"
        );

        all.push(("OKTA_CONNECT_OKTA_CREDENTIALS", "00-token-value"));
        let startup = Startup::from_env(vars(&all), read).unwrap();
        assert!(!format!("{startup:?}").contains("00-token-value"));
        let engine = startup.build().await.unwrap();
        let api = engine.identity.as_ref().expect("an Okta API");
        assert_eq!(api.org_url(), "https://acme.okta.com/");

        // Without [OktaApi], events alone.
        let without = Startup::from_env(
            vars(&[
                (CONFIG_FILE_VAR, "/var/task/config.ini"),
                (LEDGER_TABLE_VAR, "ledger"),
                (DLQ_URL_VAR, "https://sqs.example/dlq"),
            ]),
            read,
        )
        .unwrap();
        assert!(without.build().await.unwrap().identity.is_none());
    }

    #[tokio::test]
    async fn the_engine_paces_its_share_of_the_account() {
        let startup = Startup::from_env(
            vars(&[
                (CONFIG_FILE_VAR, "/var/task/config.ini"),
                (LEDGER_TABLE_VAR, "ledger"),
                (DLQ_URL_VAR, "https://sqs.example/dlq"),
                ("OKTA_CONNECT__DEPLOY__MAX_CONCURRENCY", "4"),
            ]),
            |_| Ok(okta_connect_testkit::fixtures::CONFIG_INI.to_string()),
        )
        .unwrap();
        let engine = startup.build().await.unwrap();
        assert_eq!(engine.pacing.share(), 4, "one of MAX_CONCURRENCY workers");
    }

    #[tokio::test]
    async fn a_service_app_key_that_does_not_parse_stops_start_up() {
        let startup = Startup::from_env(
            vars(&[
                (CONFIG_FILE_VAR, "/var/task/config.ini"),
                (LEDGER_TABLE_VAR, "ledger"),
                (DLQ_URL_VAR, "https://sqs.example/dlq"),
                ("OKTA_CONNECT__OKTAAPI__ORG_URL", "https://acme.okta.com"),
                ("OKTA_CONNECT__OKTAAPI__CLIENT_ID", "0oaclient"),
                ("OKTA_CONNECT_OKTA_CREDENTIALS", "not a pem"),
            ]),
            |_| Ok(okta_connect_testkit::fixtures::CONFIG_INI.to_string()),
        )
        .unwrap();
        let Err(err) = startup.build().await else {
            panic!("a bad key must stop start-up");
        };
        assert!(err.to_string().contains("private key"), "{err}");
        assert!(!err.to_string().contains("not a pem"), "{err}");
    }

    #[test]
    fn a_no_permission_policy_without_its_profile_stops_start_up() {
        let err = Startup::from_env(
            vars(&[
                (CONFIG_FILE_VAR, "/var/task/config.ini"),
                (LEDGER_TABLE_VAR, "ledger"),
                (DLQ_URL_VAR, "https://sqs.example/dlq"),
                ("OKTA_CONNECT__SYNC__NO_PERMISSION_SECURITY_PROFILE_ID", ""),
            ]),
            |_| Ok(okta_connect_testkit::fixtures::CONFIG_INI.to_string()),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("NO_PERMISSION_SECURITY_PROFILE_ID"), "{text}");
        assert!(text.contains("SUSPEND_POLICY"), "{text}");
    }

    #[test]
    fn an_invalid_config_names_the_key() {
        let err = Startup::from_env(
            vars(&[
                ("OKTA_CONNECT__CONNECT__INSTANCE_ID", "not an id"),
                (LEDGER_TABLE_VAR, "t"),
                (DLQ_URL_VAR, "u"),
            ]),
            no_file,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("INSTANCE_ID"), "{text}");
        assert!(
            text.contains("OKTA_CONNECT__CONNECT__INSTANCE_ID"),
            "{text}"
        );
    }
}
