//! `okta-connect`: the operator's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use okta_connect_core::config::Config;
use okta_connect_core::rules::relevant_event_types;

#[derive(Parser)]
#[command(
    name = "okta-connect",
    version,
    about = "Keep Amazon Connect users in step with Okta"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a config.ini (with OKTA_CONNECT__* environment overrides) and show what
    /// it means. Exits 1 and lists every problem, with its key and line, if invalid.
    CheckConfig {
        /// The file to check.
        #[arg(default_value = "config.ini")]
        file: PathBuf,
        /// Print the validated configuration as JSON (for tools such as the CDK app).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::CheckConfig { file, json } => check_config(&file, json),
    }
}

fn check_config(file: &PathBuf, json: bool) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let config = match Config::parse(&text, std::env::vars()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    if json {
        let mut value = serde_json::to_value(&config)?;
        value["subscribe_event_types"] = serde_json::to_value(relevant_event_types(&config))?;
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} is valid.", file.display());
    println!(
        "  Connect instance {} in {}",
        config.instance_id,
        config
            .region
            .as_deref()
            .unwrap_or("the AWS SDK's default region")
    );
    println!("  Access mappings, winner first:");
    for m in &config.mappings {
        let sources: Vec<String> = m
            .sources
            .iter()
            .map(|s| match s {
                okta_connect_core::config::AccessSource::Group(g) => format!("group {g:?}"),
                okta_connect_core::config::AccessSource::App(a) => format!("app {a:?}"),
            })
            .collect();
        println!(
            "    {:>5}  {:<12} {} → routing {}, {} security profile(s){}",
            m.priority,
            m.name,
            sources.join(" or "),
            m.routing_profile_id,
            m.security_profile_ids.len(),
            m.hierarchy_group_id
                .as_ref()
                .map(|h| format!(", hierarchy {h}"))
                .unwrap_or_default()
        );
    }
    println!("  On removal or deactivation: {:?}", config.removal);
    println!(
        "  Username: {:?}; email sent: {}; pacing {}/s burst {}; ledger keeps events {} days",
        config.username_source,
        config.send_email,
        config.pacing.requests_per_second,
        config.pacing.burst,
        config.ledger_retention_days
    );
    println!(
        "  Subscribe the Okta event hook to: {}",
        relevant_event_types(&config).join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
