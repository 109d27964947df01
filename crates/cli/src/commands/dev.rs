//! `okta-connect dev`: the whole pipeline on this machine, until Ctrl-C.

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use okta_connect_core::config::Config;
use okta_connect_core::rules::relevant_event_types;
use okta_connect_local::QueueSettings;
use serde::Serialize;

use crate::commands::{ConfigArg, config_dir, init_logs, load_config};
use crate::live::{self, LiveStatus, init_logs_with, live_status_wanted};
use crate::okta::OktaTarget;
use crate::output::{self, Report};
use crate::pipeline::{self, ConnectTarget, LocalSettings, Pipeline, Storage};

/// Run the whole pipeline locally: the event-hook endpoint on 127.0.0.1, the worker
/// on an embedded durable queue, the ledger in SQLite, and a simulated Connect.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Folder for the queue, ledger, simulated Connect users and hook secret.
    #[arg(long, default_value = ".local-state")]
    pub state: PathBuf,
    /// Port of the event-hook endpoint (0: any free port).
    #[arg(long, default_value_t = 8686)]
    pub port: u16,
    /// Address to listen on. Keep loopback unless a tunnel needs otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// The shared secret Okta sends; default: generated once and kept in the state folder.
    #[arg(long, env = "OKTA_CONNECT_HOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Which Connect to provision: the simulator, or the real instance of config.ini
    /// through the standard AWS credential chain.
    #[arg(long, value_enum, default_value = "sim")]
    pub connect: ConnectChoice,
    /// connect-sim seed file (default: the built-in seed matching config.ini).
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Which Okta: a simulated org in process (its admin changes become event hooks to
    /// this pipeline), or the org of config.ini's [OktaApi] (its own event hook must
    /// reach this endpoint, e.g. through a tunnel).
    #[arg(long, value_enum, default_value = "sim")]
    pub okta: OktaChoice,
    /// okta-sim seed file: users, groups and apps that exist before the hook (default:
    /// config.ini's groups and apps and three agents in none of them).
    #[arg(long)]
    pub okta_seed: Option<PathBuf>,
    /// Do not throttle the simulated Connect (it allows 2 requests/s, burst 5, like Connect).
    #[arg(long)]
    pub no_throttle: bool,
    /// Seconds a received event stays invisible before another attempt may take it
    /// (the crash-recovery delay).
    #[arg(long, default_value_t = 30)]
    pub visibility_timeout: u64,
    /// Receives before an event moves to the dead-letter queue.
    #[arg(long, default_value_t = 5)]
    pub max_receive_count: u32,
    /// Use this SQS queue instead of the embedded one (with --dlq-url and --ledger-table).
    #[arg(long, requires_all = ["dlq_url", "ledger_table"])]
    pub queue_url: Option<String>,
    /// The SQS dead-letter queue, with --queue-url.
    #[arg(long, requires = "queue_url")]
    pub dlq_url: Option<String>,
    /// Use this DynamoDB table as the ledger, with --queue-url.
    #[arg(long, requires = "queue_url")]
    pub ledger_table: Option<String>,
}

/// Which Amazon Connect the worker provisions.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ConnectChoice {
    Sim,
    Aws,
}

/// Which Okta the pipeline listens to and reads.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum OktaChoice {
    Sim,
    Org,
}

/// What `dev` prints once it runs: where to point Okta, and where its state lives.
#[derive(Serialize)]
pub struct Banner {
    pub event_hook_url: String,
    pub header: String,
    pub secret: String,
    pub state: PathBuf,
    pub connect: String,
    pub subscribe_event_types: Vec<String>,
    pub okta: OktaBanner,
}

/// Where the pipeline's Okta is, and (simulated) how to act as its admin.
#[derive(Serialize)]
pub struct OktaBanner {
    /// `simulated`, `org` or `none`.
    pub kind: &'static str,
    pub org_url: Option<String>,
    /// The simulated org's SSWS token.
    pub api_token: Option<String>,
    /// A command that adds a seeded agent to the first configured group.
    pub try_it: Option<String>,
}

impl Report for Banner {
    fn headline(&self) -> Vec<String> {
        let header = display_header(&self.header);
        let state = self.state.display().to_string();
        let state_flag = if self.state == Path::new(".local-state") {
            String::new()
        } else {
            format!(" --state {state}")
        };
        let url = &self.event_hook_url;
        let secret = &self.secret;
        vec![
            String::new(),
            "okta-connect dev is running.".to_string(),
            String::new(),
            format!("  Event hook URL  {url}"),
            format!("  Header          {header}: {secret}"),
            format!("  State           {state} (queue, ledger, simulated Connect users)"),
            format!("  Connect         {}", self.connect),
            format!("  Okta            {}", self.okta.describe()),
            String::new(),
        ]
        .into_iter()
        .chain(self.okta.try_it.iter().flat_map(|cmd| {
            [
                "Act as the Okta admin (the event hook reaches this pipeline within a second):"
                    .to_string(),
                String::new(),
                format!("  {cmd}"),
                String::new(),
            ]
        }))
        .chain([
            "Or give a real Okta the URL and header (Workflow → Event Hooks), or post events:"
                .to_string(),
            String::new(),
            format!(
                "  curl -s -H '{header}: {secret}' -H 'x-okta-verification-challenge: hello' {url}"
            ),
            format!(
                "  scripts/okta-connect send{state_flag} tests/fixtures/okta/group_membership_add.json"
            ),
            "  scripts/okta-connect demo".to_string(),
            String::new(),
            format!(
                "Subscribe the hook to: {}",
                self.subscribe_event_types.join(", ")
            ),
            "Ctrl-C finishes in-flight work and stops; state is kept for the next start \
             (the simulated Okta org starts again from its seed)."
                .to_string(),
        ])
        .collect()
    }
}

impl OktaBanner {
    fn describe(&self) -> String {
        match (self.kind, &self.org_url, &self.api_token) {
            ("simulated", Some(url), Some(token)) => {
                format!("simulated org at {url} (API token: SSWS {token})")
            }
            (_, Some(url), _) => format!("{url} ([OktaApi] of config.ini)"),
            _ => "no Okta API: names come from the events ([OktaApi] unset)".to_string(),
        }
    }
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

fn banner(pipeline: &Pipeline, config: &Config, secret: &str) -> Banner {
    Banner {
        event_hook_url: pipeline.ingest_url.clone(),
        header: pipeline.secret_header.clone(),
        secret: secret.to_string(),
        state: pipeline.state_dir.clone(),
        connect: pipeline.sim.as_ref().map_or_else(
            || format!("AWS, instance {}", config.instance_id),
            |s| format!("simulated at {} (instance {})", s.url(), config.instance_id),
        ),
        subscribe_event_types: relevant_event_types(config),
        okta: okta_banner(pipeline, config),
    }
}

fn okta_banner(pipeline: &Pipeline, config: &Config) -> OktaBanner {
    let okta = &pipeline.okta;
    let Some(sim) = &okta.sim else {
        return OktaBanner {
            kind: if okta.identity.is_some() {
                "org"
            } else {
                "none"
            },
            org_url: okta.org_url(),
            api_token: None,
            try_it: None,
        };
    };
    let url = sim.url();
    let group = config
        .sources()
        .filter(|s| s.kind == okta_connect_core::config::SourceKind::Group)
        .find_map(|s| sim.sim().group_by_name(&crate::okta::seeded_group_name(s)));
    let agent = sim.sim().user("ana.silva@example.com");
    let try_it = match (group, agent, &okta.api_token) {
        (Some(group), Some(agent), Some(token)) => Some(format!(
            "curl -s -X PUT -H 'Authorization: SSWS {token}' {url}/api/v1/groups/{}/users/{}   # {} joins {}",
            group.id, agent.id, "ana.silva@example.com", group.name
        )),
        _ => None,
    };
    OktaBanner {
        kind: "simulated",
        org_url: Some(url),
        api_token: okta.api_token.clone(),
        try_it,
    }
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    // Standard error: where the logs go, and what the line shares the terminal with.
    let mut status = LiveStatus::new(live_status_wanted(json, std::io::stderr().is_terminal()));
    if status.wanted() {
        init_logs_with(json, &status);
    } else {
        init_logs(json);
    }
    let config = load_config(&args.config)?;
    let secret = pipeline::hook_secret(&args.state, args.secret)?;
    let connect = match args.connect {
        ConnectChoice::Sim => ConnectTarget::Simulated {
            seed: args.seed,
            throttle: !args.no_throttle,
        },
        ConnectChoice::Aws => ConnectTarget::Aws,
    };
    let okta = match args.okta {
        OktaChoice::Sim => OktaTarget::Simulated {
            seed: args.okta_seed,
        },
        OktaChoice::Org => OktaTarget::Configured {
            config_dir: config_dir(&args.config),
        },
    };
    let settings = LocalSettings {
        config: config.clone(),
        state_dir: args.state.clone(),
        bind: SocketAddr::new(args.bind, args.port),
        secret: secret.clone(),
        connect,
        okta,
        queue: QueueSettings {
            visibility_timeout: Duration::from_secs(args.visibility_timeout.max(1)),
            max_receive_count: args.max_receive_count.max(1),
        },
        storage: match (args.queue_url, args.dlq_url, args.ledger_table) {
            (Some(queue_url), Some(dead_letter_url), Some(ledger_table)) => Storage::Aws {
                queue_url,
                dead_letter_url,
                ledger_table,
            },
            _ => Storage::Embedded,
        },
    };
    let pipeline = Pipeline::start(settings).await?;
    output::print(&banner(&pipeline, &config, &secret), json)?;
    // After the banner: the line then sits below it, not between its lines.
    status.start(pipeline.live_counter());
    let interrupted = tokio::signal::ctrl_c().await;
    // Cleared before anything else is printed, and on the error path too.
    let live = status.is_live();
    status.finish().await;
    interrupted.context("cannot wait for Ctrl-C")?;
    eprintln!("stopping: finishing in-flight work …");
    let counter = pipeline.live_counter();
    pipeline.shutdown().await?;
    // The summary after shutdown, so it includes the work finished while stopping.
    if live && let Ok(counts) = counter.counts().await {
        eprintln!("{}", live::summary_line(&counts));
    }
    eprintln!("stopped; state kept in {}", args.state.display());
    Ok(ExitCode::SUCCESS)
}
