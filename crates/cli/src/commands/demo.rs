//! `okta-connect demo`: the local pipeline with this program playing Okta through a
//! story; exits 0 only when Connect ends as the events imply.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::commands::{ConfigArg, init_logs, load_config};
use crate::demo;
use crate::output;
use crate::pipeline::{self, LocalSettings, Pipeline};

/// Start the local pipeline, play Okta through a realistic story, and check that
/// Connect ends as the events imply. Exits 0 only if it does.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// State folder (default: a fresh temporary one, removed afterwards).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Throttle the simulated Connect like the real one (slower, just as correct).
    #[arg(long)]
    pub throttle: bool,
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        init_logs(true);
    }
    let config = load_config(&args.config)?;
    let (state_dir, temporary) = match args.state {
        Some(dir) => (dir, false),
        None => (
            std::env::temp_dir().join(format!(
                "okta-connect-demo-{}",
                uuid::Uuid::new_v4().simple()
            )),
            true,
        ),
    };
    let secret = pipeline::hook_secret(&state_dir, None)?;
    let settings = LocalSettings::isolated(
        config.clone(),
        state_dir.clone(),
        secret.clone(),
        args.throttle,
    );
    let pipeline = Pipeline::start(settings).await?;
    if !json {
        println!(
            "Local pipeline at {} (state: {}); playing Okta …",
            pipeline.ingest_url,
            state_dir.display()
        );
    }
    let outcome = demo::run(&pipeline, &config, &secret, Duration::from_secs(120)).await;
    pipeline.shutdown().await?;
    if temporary {
        let _ = std::fs::remove_dir_all(&state_dir);
    }
    let report = outcome?;
    output::print(&report, json)?;
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
