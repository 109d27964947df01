//! `okta-connect`: the operator's command line. Wiring and presentation only; the
//! pipeline lives in the library (`okta_connect::pipeline`).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use okta_connect::demo;
use okta_connect::embedded::QueueSettings;
use okta_connect::pipeline::{self, ConnectTarget, LocalSettings, Pipeline, Storage};
use okta_connect::sender::OktaSender;
use okta_connect_core::config::Config;
use okta_connect_core::rules::relevant_event_types;

/// The project's own config.ini, used when no file is given and none is in the folder.
const BUILT_IN_CONFIG: &str = include_str!("../../../config.ini");

#[derive(Parser)]
#[command(
    name = "okta-connect",
    version,
    about = "Keep Amazon Connect users in step with Okta"
)]
struct Cli {
    /// Machine-readable JSON output instead of text for people.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ConfigArg {
    /// The config file; default ./config.ini, else the built-in default.
    #[arg(long, env = "OKTA_CONNECT_CONFIG_FILE")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole pipeline locally: the event-hook endpoint on 127.0.0.1, the worker
    /// on an embedded durable queue, the ledger in SQLite, and a simulated Connect.
    Dev {
        #[command(flatten)]
        config: ConfigArg,
        /// Folder for the queue, ledger, simulated Connect users and hook secret.
        #[arg(long, default_value = ".local-state")]
        state: PathBuf,
        /// Port of the event-hook endpoint (0: any free port).
        #[arg(long, default_value_t = 8686)]
        port: u16,
        /// Address to listen on. Keep loopback unless a tunnel needs otherwise.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// The shared secret Okta sends; default: generated once and kept in the state folder.
        #[arg(long, env = "OKTA_CONNECT_HOOK_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// Which Connect to provision: the simulator, or the real instance of config.ini
        /// through the standard AWS credential chain.
        #[arg(long, value_enum, default_value = "sim")]
        connect: ConnectChoice,
        /// connect-sim seed file (default: the built-in seed matching config.ini).
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Do not throttle the simulated Connect (it allows 2 requests/s, burst 5, like Connect).
        #[arg(long)]
        no_throttle: bool,
        /// Seconds a received event stays invisible before another attempt may take it
        /// (the crash-recovery delay).
        #[arg(long, default_value_t = 30)]
        visibility_timeout: u64,
        /// Receives before an event moves to the dead-letter queue.
        #[arg(long, default_value_t = 5)]
        max_receive_count: u32,
        /// Use this SQS queue instead of the embedded one (with --dlq-url and --ledger-table).
        #[arg(long, requires_all = ["dlq_url", "ledger_table"])]
        queue_url: Option<String>,
        /// The SQS dead-letter queue, with --queue-url.
        #[arg(long, requires = "queue_url")]
        dlq_url: Option<String>,
        /// Use this DynamoDB table as the ledger, with --queue-url.
        #[arg(long, requires = "queue_url")]
        ledger_table: Option<String>,
    },
    /// Start the local pipeline, play Okta through a realistic story, and check that
    /// Connect ends as the events imply. Exits 0 only if it does.
    Demo {
        #[command(flatten)]
        config: ConfigArg,
        /// State folder (default: a fresh temporary one, removed afterwards).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Throttle the simulated Connect like the real one (slower, just as correct).
        #[arg(long)]
        throttle: bool,
    },
    /// POST Okta delivery files (as copied from Okta) to a running `dev`, with the
    /// configured header and secret, the way Okta sends them.
    Send {
        /// Delivery JSON files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        config: ConfigArg,
        /// The event-hook URL of the running `dev`.
        #[arg(long, default_value = "http://127.0.0.1:8686/okta/events")]
        url: String,
        /// The state folder of the running `dev` (to read its secret).
        #[arg(long, default_value = ".local-state")]
        state: PathBuf,
        /// The shared secret (default: the one `dev` keeps in its state folder).
        #[arg(long, env = "OKTA_CONNECT_HOOK_SECRET", hide_env_values = true)]
        secret: Option<String>,
    },
    /// Validate a config.ini (with OKTA_CONNECT__* environment overrides) and show what
    /// it means. Exits 1 and lists every problem, with its key and line, if invalid.
    CheckConfig {
        /// The file to check.
        #[arg(default_value = "config.ini")]
        file: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ConnectChoice {
    Sim,
    Aws,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::CheckConfig { file } => check_config(&file, cli.json),
        Command::Dev {
            config,
            state,
            port,
            bind,
            secret,
            connect,
            seed,
            no_throttle,
            visibility_timeout,
            max_receive_count,
            queue_url,
            dlq_url,
            ledger_table,
        } => {
            init_logs(cli.json);
            let config = load_config(&config)?;
            let secret = pipeline::hook_secret(&state, secret)?;
            let connect = match connect {
                ConnectChoice::Sim => ConnectTarget::Simulated {
                    seed,
                    throttle: !no_throttle,
                },
                ConnectChoice::Aws => ConnectTarget::Aws,
            };
            let settings = LocalSettings {
                config: config.clone(),
                state_dir: state.clone(),
                bind: SocketAddr::new(bind, port),
                secret: secret.clone(),
                connect,
                queue: QueueSettings {
                    visibility_timeout: Duration::from_secs(visibility_timeout.max(1)),
                    max_receive_count: max_receive_count.max(1),
                },
                storage: match (queue_url, dlq_url, ledger_table) {
                    (Some(queue_url), Some(dead_letter_url), Some(ledger_table)) => Storage::Aws {
                        queue_url,
                        dead_letter_url,
                        ledger_table,
                    },
                    _ => Storage::Embedded,
                },
            };
            let pipeline = Pipeline::start(settings).await?;
            print_dev_banner(&pipeline, &config, &secret, cli.json);
            tokio::signal::ctrl_c()
                .await
                .context("cannot wait for Ctrl-C")?;
            eprintln!("stopping: finishing in-flight work …");
            pipeline.shutdown().await?;
            eprintln!("stopped; state kept in {}", state.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            config,
            state,
            throttle,
        } => {
            if cli.json {
                init_logs(true);
            }
            let config = load_config(&config)?;
            let (state_dir, temporary) = match state {
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
                throttle,
            );
            let pipeline = Pipeline::start(settings).await?;
            if !cli.json {
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
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", demo::render(&report));
            }
            Ok(if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Send {
            files,
            config,
            url,
            state,
            secret,
        } => {
            let config = load_config(&config)?;
            let secret = match secret {
                Some(s) => s,
                None => std::fs::read_to_string(state.join(pipeline::SECRET_FILE))
                    .map(|s| s.trim().to_string())
                    .with_context(|| format!("no --secret given and no secret in {} (is `okta-connect dev` running with that --state?)", state.display()))?,
            };
            let sender = OktaSender::new(&url, &config.ingest.secret_header, secret)?;
            let mut all_ok = true;
            let mut results = Vec::new();
            for file in &files {
                let body = std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let sent = sender.deliver(&body).await;
                all_ok &= sent.accepted();
                if cli.json {
                    results.push(serde_json::json!({"file": file, "attempts": sent.attempts, "response": sent.body, "ms": sent.elapsed.as_millis() as u64}));
                } else {
                    let statuses: Vec<String> = sent
                        .attempts
                        .iter()
                        .map(|a| a.map_or_else(|| "no answer".into(), |s| s.to_string()))
                        .collect();
                    println!(
                        "{}: {} {} ({} ms)",
                        file.display(),
                        statuses.join(" → "),
                        sent.body.trim(),
                        sent.elapsed.as_millis()
                    );
                }
            }
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&results)?);
            } else if !all_ok {
                eprintln!(
                    "some deliveries were refused; is `okta-connect dev` running at {url} with the same secret?"
                );
            }
            Ok(if all_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn init_logs(json: bool) {
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

/// `--config`, else ./config.ini, else the built-in default; validated with the
/// environment's overrides.
fn load_config(arg: &ConfigArg) -> anyhow::Result<Config> {
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

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn print_dev_banner(pipeline: &Pipeline, config: &Config, secret: &str, json: bool) {
    let connect = pipeline.sim.as_ref().map_or_else(
        || format!("AWS, instance {}", config.instance_id),
        |s| format!("simulated at {} (instance {})", s.url(), config.instance_id),
    );
    if json {
        let banner = serde_json::json!({
            "event_hook_url": pipeline.ingest_url,
            "header": pipeline.secret_header,
            "secret": secret,
            "state": pipeline.state_dir,
            "connect": connect,
        });
        println!("{banner}");
        return;
    }
    let header = display_header(&pipeline.secret_header);
    let state = pipeline.state_dir.display().to_string();
    let state_flag = if pipeline.state_dir == Path::new(".local-state") {
        String::new()
    } else {
        format!(" --state {state}")
    };
    let url = &pipeline.ingest_url;
    let lines = [
        String::new(),
        "okta-connect dev is running.".to_string(),
        String::new(),
        format!("  Event hook URL  {url}"),
        format!("  Header          {header}: {secret}"),
        format!("  State           {state} (queue, ledger, simulated Connect users)"),
        format!("  Connect         {connect}"),
        String::new(),
        "Give Okta the URL and header (Workflow → Event Hooks), or try it here:".to_string(),
        String::new(),
        format!(
            "  curl -s -H '{header}: {secret}' -H 'x-okta-verification-challenge: hello' {url}"
        ),
        format!(
            "  cargo run -p okta-connect -- send{state_flag} tests/fixtures/okta/group_membership_add.json"
        ),
        "  cargo run -p okta-connect -- demo".to_string(),
        String::new(),
        format!(
            "Subscribe the hook to: {}",
            relevant_event_types(config).join(", ")
        ),
        "Ctrl-C finishes in-flight work and stops; state is kept for the next start.".to_string(),
    ];
    println!("{}", lines.join("\n"));
}

/// `authorization` → `Authorization`, as admins type it into Okta.
fn display_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn check_config(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// clap's own consistency checks (a clash such as two `--json` flags panics only
    /// when that command is parsed in a debug build; this finds it in every build).
    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_is_accepted_before_and_after_the_subcommand() {
        for args in [
            ["okta-connect", "--json", "check-config", "x.ini"],
            ["okta-connect", "check-config", "x.ini", "--json"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert!(cli.json);
        }
    }
}
