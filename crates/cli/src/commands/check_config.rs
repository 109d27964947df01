//! `okta-connect check-config`: what a config.ini means, or every problem with its line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use okta_connect_core::config::Config;
use okta_connect_core::rules::relevant_event_types;
use serde::Serialize;

use crate::output::{self, Report, Table};

/// Validate a config.ini (with OKTA_CONNECT__* environment overrides) and show what it
/// means. Exits 1 and lists every problem, with its key and line, if invalid.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The file to check.
    #[arg(default_value = "config.ini")]
    pub file: PathBuf,
}

/// A valid config, as people and the CDK app (`--json`) read it.
#[derive(Serialize)]
pub struct Checked {
    #[serde(skip)]
    pub file: String,
    #[serde(flatten)]
    pub config: Config,
    /// The event types to subscribe the Okta event hook to.
    pub subscribe_event_types: Vec<String>,
}

impl Report for Checked {
    fn headline(&self) -> Vec<String> {
        let c = &self.config;
        vec![
            format!("{} is valid.", self.file),
            format!(
                "Connect instance {} in {}",
                c.instance_id,
                c.region
                    .as_deref()
                    .unwrap_or("the AWS SDK's default region")
            ),
        ]
    }

    fn tables(&self) -> Vec<Table> {
        let mut table = Table::new(
            "Access mappings (the smallest priority wins)",
            &[
                "priority",
                "mapping",
                "Okta sources",
                "routing profile",
                "security profiles",
                "hierarchy group",
            ],
        );
        for m in &self.config.mappings {
            let sources: Vec<String> = m.sources.iter().map(ToString::to_string).collect();
            let profiles: Vec<String> = m
                .security_profile_ids
                .iter()
                .map(ToString::to_string)
                .collect();
            table.row([
                m.priority.to_string(),
                m.name.clone(),
                sources.join(" or "),
                m.routing_profile_id.to_string(),
                profiles.join("\n"),
                m.hierarchy_group_id
                    .as_ref()
                    .map_or_else(|| "-".to_string(), ToString::to_string),
            ]);
        }
        vec![table]
    }

    fn footer(&self) -> Vec<String> {
        let c = &self.config;
        vec![
            format!("On removal, deactivation or suspension: {}.", c.removal),
            format!(
                "Username: {}; email sent to Connect: {}; Connect calls paced at {}/s, burst {}.",
                c.username_source,
                if c.send_email { "yes" } else { "no" },
                c.pacing.requests_per_second,
                c.pacing.burst
            ),
            format!(
                "The ledger remembers processed events for {} days.",
                c.ledger_retention_days
            ),
            format!(
                "Subscribe the Okta event hook to: {}",
                self.subscribe_event_types.join(", ")
            ),
        ]
    }
}

pub fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let file = &args.file;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let config = match Config::parse(&text, std::env::vars()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let checked = Checked {
        file: file.display().to_string(),
        subscribe_event_types: relevant_event_types(&config),
        config,
    };
    output::print(&checked, json)?;
    Ok(ExitCode::SUCCESS)
}
