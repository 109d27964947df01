//! `okta-connect reconcile`: Connect made to match what Okta holds now.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::dynamodb::DynamoLedger;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_core::ports::Ledger;
use okta_connect_local::SqliteLedger;
use okta_connect_okta::{OktaApi, OktaApiSettings, OktaAuth, Secret};
use okta_connect_sync::reconcile::{Action, Progress, Run, RunOptions};
use okta_connect_sync::{Engine, NoDeadLetters};
use serde::Serialize;

use crate::commands::{ConfigArg, config_dir, init_logs, load_config};
use crate::okta::{self, OKTA_TOKEN_FILE};
use crate::output::{self, Report, Table};
use crate::pipeline::{ENDPOINTS_FILE, Endpoints, STATE_DB};

/// Read Okta's current members and status for every mapped group and app, and every
/// Connect user, and converge each user through the same path events use: creates,
/// updates, adoptions (untagged users with the right username), revocations (owned
/// users Okta no longer grants). Exits 1 on conflicts or when the run stops at the
/// revocation cap.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Print the plan; write nothing (neither Connect nor the ledger).
    #[arg(long)]
    pub dry_run: bool,
    /// Only this Okta user (login or 00u… id).
    #[arg(long)]
    pub user: Option<String>,
    /// Allow this many revocations in this run (default: [Reconcile] MAX_REVOCATIONS).
    #[arg(long)]
    pub max_revocations: Option<u32>,
    /// The running `dev`'s state folder: its simulated Okta and Connect and its ledger.
    #[arg(long, default_value = ".local-state")]
    pub state: PathBuf,
    /// Reconcile the deployed pipeline instead: this DynamoDB ledger table, the Connect
    /// instance of config.ini and the org of its [OktaApi].
    #[arg(long)]
    pub ledger_table: Option<String>,
}

/// The run, as people and `--json` read it.
#[derive(Serialize)]
pub struct Reconciled {
    #[serde(flatten)]
    pub run: Run,
    pub max_revocations: usize,
}

fn detail(action: &Action) -> String {
    match action {
        Action::Update { steps } | Action::Adopt { steps } | Action::Revoke { steps } => steps
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        Action::Conflict { reason } => reason.clone(),
        Action::Create | Action::Unchanged => String::new(),
    }
}

impl Report for Reconciled {
    fn headline(&self) -> Vec<String> {
        let run = &self.run;
        vec![format!(
            "Reconcile {} of {} users, Okta and Connect read at {}{}.",
            if run.dry_run { "plan" } else { "run" },
            run.users.len(),
            run.taken_at,
            if run.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            }
        )]
    }

    fn tables(&self) -> Vec<Table> {
        let mut summary = Table::new("Summary", &["action", "users"]);
        for name in [
            "create",
            "update",
            "adopt",
            "revoke",
            "unchanged",
            "conflict",
        ] {
            let n = self
                .run
                .users
                .iter()
                .filter(|u| u.action.name() == name)
                .count();
            summary.row([name.to_string(), n.to_string()]);
        }
        let mut users = Table::new(
            "Users with something to do",
            &[
                "Okta user",
                "login",
                "action",
                "details",
                "mapping",
                "Connect user",
            ],
        )
        .when_empty("(none: Connect already matches Okta)");
        for u in self
            .run
            .users
            .iter()
            .filter(|u| u.action != Action::Unchanged)
        {
            users.row([
                u.okta_user_id.clone(),
                u.login.clone().unwrap_or_default(),
                u.action.name().to_string(),
                detail(&u.action),
                u.mapping.clone().unwrap_or_else(|| "-".into()),
                u.connect_user_id.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        vec![summary, users]
    }

    fn footer(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(cap) = self.run.stopped_at_cap {
            lines.push(format!(
                "Stopped: {} revocations planned, more than the cap of {cap}; nothing was applied. \
                 Check the plan (--dry-run), then run again with --max-revocations {} if it is right.",
                self.run.revocations(),
                self.run.revocations()
            ));
        }
        if self.run.conflicts() > 0 {
            lines.push(format!(
                "{} conflicts need an admin (see details).",
                self.run.conflicts()
            ));
        }
        lines
    }
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    init_logs(json);
    let config = load_config(&args.config)?;
    let options = RunOptions {
        run_id: uuid::Uuid::new_v4().to_string(),
        dry_run: args.dry_run,
        max_revocations: usize::try_from(
            args.max_revocations
                .unwrap_or(config.reconcile.max_revocations),
        )
        .unwrap_or(usize::MAX),
        only: args.user.clone(),
    };
    let run = match &args.ledger_table {
        Some(table) => {
            let aws = sdk::load(&AwsSettings {
                region: config.region.clone(),
                ..AwsSettings::default()
            })
            .await;
            let Some(identity) = okta::configured(&config, &config_dir(&args.config)).await? else {
                bail!("reconcile reads Okta's current state: set [OktaApi] in config.ini");
            };
            let ledger = DynamoLedger::from_config(&aws, table.clone());
            let directory = ConnectDirectory::from_config(&aws, config.instance_id.to_string());
            reconcile(config.clone(), ledger, directory, identity, &options, json).await?
        }
        None => {
            let path = args.state.join(ENDPOINTS_FILE);
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "cannot read {} (start `okta-connect dev --state {}` first)",
                    path.display(),
                    args.state.display()
                )
            })?;
            let endpoints: Endpoints = serde_json::from_str(&text)
                .with_context(|| format!("{} is not what `dev` writes", path.display()))?;
            let Some(connect_url) = endpoints.connect_url else {
                bail!("this `dev` provisions a real Connect: reconcile it with --ledger-table");
            };
            let identity = match endpoints.okta_url {
                Some(url) => {
                    let token = std::fs::read_to_string(args.state.join(OKTA_TOKEN_FILE))
                        .context("cannot read the simulated Okta org's API token")?;
                    OktaApi::new(OktaApiSettings::new(
                        url,
                        OktaAuth::ApiToken(Secret::new(token.trim())),
                    ))?
                }
                None => okta::configured(&config, &config_dir(&args.config))
                    .await?
                    .context("reconcile reads Okta's current state: set [OktaApi] in config.ini")?,
            };
            let aws = sdk::load(&AwsSettings::emulator(connect_url)).await;
            let directory = ConnectDirectory::from_config(&aws, config.instance_id.to_string());
            let ledger = SqliteLedger::open(&args.state.join(STATE_DB))?;
            reconcile(config.clone(), ledger, directory, identity, &options, json).await?
        }
    };
    let failed = run.conflicts() > 0 || run.stopped_at_cap.is_some();
    output::print(
        &Reconciled {
            run,
            max_revocations: options.max_revocations,
        },
        json,
    )?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn reconcile<L: Ledger>(
    config: okta_connect_core::config::Config,
    ledger: L,
    directory: ConnectDirectory,
    identity: OktaApi,
    options: &RunOptions,
    json: bool,
) -> anyhow::Result<Run> {
    let engine = Engine::new(config, ledger, directory, NoDeadLetters, Some(identity));
    // On a terminal only, and never with --json: a spinner while Okta and Connect are
    // read, then a bar over the users being converged.
    let bar = if json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new_spinner();
        bar.set_message("reading Okta's members and Connect's users …");
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    };
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} users converged ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let progress = |at: Progress| match at {
        Progress::Read { users } => {
            bar.set_message(format!("read: {users} users to plan"));
        }
        Progress::Applied { done, of } => {
            if bar.length() != Some(of as u64) {
                bar.set_style(style.clone());
                bar.set_length(of as u64);
            }
            bar.set_position(done as u64);
        }
    };
    let run = engine.reconcile_with_progress(options, &progress).await;
    bar.finish_and_clear();
    Ok(run?)
}
