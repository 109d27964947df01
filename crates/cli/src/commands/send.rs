//! `okta-connect send`: POST delivery files to a running `dev` the way Okta sends them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::commands::{ConfigArg, load_config};
use crate::output::{self, Report, Table};
use crate::pipeline;
use crate::sender::OktaSender;

/// POST Okta delivery files (as copied from Okta) to a running `dev`, with the
/// configured header and secret, the way Okta sends them (3 s timeout, one retry on a
/// timeout or 5xx).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Delivery JSON files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArg,
    /// The event-hook URL of the running `dev`.
    #[arg(long, default_value = "http://127.0.0.1:8686/okta/events")]
    pub url: String,
    /// The state folder of the running `dev` (to read its secret).
    #[arg(long, default_value = ".local-state")]
    pub state: PathBuf,
    /// The shared secret (default: the one `dev` keeps in its state folder).
    #[arg(long, env = "OKTA_CONNECT_HOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
}

/// One file's delivery, as Okta would log it.
#[derive(Serialize)]
pub struct Sent {
    pub file: PathBuf,
    /// HTTP status of each attempt; `null` for a timeout or a refused connection.
    pub attempts: Vec<Option<u16>>,
    pub response: String,
    pub ms: u64,
    pub accepted: bool,
}

#[derive(Serialize)]
pub struct SendReport {
    pub url: String,
    pub deliveries: Vec<Sent>,
}

impl SendReport {
    fn all_accepted(&self) -> bool {
        self.deliveries.iter().all(|d| d.accepted)
    }
}

impl Report for SendReport {
    fn tables(&self) -> Vec<Table> {
        let mut table = Table::new(
            format!("Deliveries to {}", self.url),
            &["file", "attempts", "answer", "ms"],
        );
        for d in &self.deliveries {
            let attempts: Vec<String> = d
                .attempts
                .iter()
                .map(|a| a.map_or_else(|| "no answer".into(), |s| s.to_string()))
                .collect();
            table.row([
                d.file.display().to_string(),
                attempts.join(" → "),
                d.response.trim().to_string(),
                d.ms.to_string(),
            ]);
        }
        vec![table]
    }

    fn footer(&self) -> Vec<String> {
        if self.all_accepted() {
            Vec::new()
        } else {
            vec![format!(
                "Some deliveries were refused; is `okta-connect dev` running at {} with the same secret?",
                self.url
            )]
        }
    }
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let config = load_config(&args.config)?;
    let secret = match args.secret {
        Some(s) => s,
        None => std::fs::read_to_string(args.state.join(pipeline::SECRET_FILE))
            .map(|s| s.trim().to_string())
            .with_context(|| {
                format!(
                    "no --secret given and no secret in {} (is `okta-connect dev` running with that --state?)",
                    args.state.display()
                )
            })?,
    };
    let sender = OktaSender::new(&args.url, &config.ingest.secret_header, secret)?;
    let mut report = SendReport {
        url: args.url.clone(),
        deliveries: Vec::new(),
    };
    for file in args.files {
        let body = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let sent = sender.deliver(&body).await;
        report.deliveries.push(Sent {
            accepted: sent.accepted(),
            attempts: sent.attempts,
            response: sent.body,
            ms: u64::try_from(sent.elapsed.as_millis()).unwrap_or(u64::MAX),
            file,
        });
    }
    output::print(&report, json)?;
    Ok(if report.all_accepted() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
