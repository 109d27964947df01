//! `okta-connect user LOGIN|OKTA_ID`: one Okta user as the pipeline sees it — its facts,
//! the Connect user they imply, the Connect users that exist, the difference, and its
//! last events.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use connect_sim::{Seed, Sim, SimServer};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_core::desired::Desired;
use okta_connect_core::fact::{Assertion, Fact, OktaStatus};
use okta_connect_core::ownership::Owner;
use okta_connect_core::plan::ConnectUser;
use okta_connect_core::ports::{EventQuery, Ledger};
use okta_connect_core::time::UnixMillis;
use okta_connect_sync::reconcile::{Action, UserPlan};
use okta_connect_sync::{Engine, NoDeadLetters, NoIdentitySource};
use serde::Serialize;

use crate::commands::events::{EVENT_HEADER, EventLine};
use crate::commands::load_config;
use crate::commands::target::Target;
use crate::output::{self, Report, Table};
use crate::pipeline::SIM_STATE;

/// Show one Okta user: the facts the ledger holds, the Connect user they imply, the
/// Connect users that exist for it (remembered, tagged for it, or holding its username),
/// what the next converge would change, and its last events. Reads only. Connect is the
/// local state folder's simulator, or the real instance of config.ini when a deployed
/// ledger is named (or the state folder has no simulator). Exits 1 when the ledger
/// knows nothing of the user.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The Okta user: its login (any case) or its Okta id.
    pub user: String,
    #[command(flatten)]
    pub target: Target,
    /// How many of its last events to show.
    #[arg(long, default_value_t = 10)]
    pub events: usize,
    /// Send Connect requests to this endpoint (a simulator) instead of AWS.
    #[arg(long, hide = true, env = "OKTA_CONNECT_CONNECT_ENDPOINT_URL")]
    pub connect_endpoint_url: Option<String>,
}

/// One fact, in words.
#[derive(Debug, Serialize)]
pub struct FactLine {
    #[serde(flatten)]
    pub fact: Fact,
    pub says: String,
}

impl FactLine {
    pub fn of(fact: &Fact) -> Self {
        Self {
            says: says(fact),
            fact: fact.clone(),
        }
    }
}

fn says(fact: &Fact) -> String {
    match &fact.assertion {
        Assertion::Membership { source, member } => format!(
            "{} {} {}",
            if *member {
                "member of"
            } else {
                "not a member of"
            },
            source.kind,
            source.name.as_ref().map_or_else(
                || source.id.clone(),
                |name| format!("{name} ({})", source.id)
            )
        ),
        Assertion::Status { status } => format!(
            "status {}",
            match status {
                OktaStatus::Active => "active",
                OktaStatus::Suspended => "suspended",
                OktaStatus::Deactivated => "deactivated",
                OktaStatus::Deleted => "deleted",
            }
        ),
        Assertion::ProfileChanged { changed_attributes } => {
            format!("profile changed ({})", changed_attributes.join(", "))
        }
    }
}

/// The user as the pipeline sees it.
#[derive(Debug, Serialize)]
pub struct UserReport {
    /// What was asked for.
    pub query: String,
    /// `None`: the ledger knows no such user.
    pub okta_user_id: Option<String>,
    pub facts: Vec<FactLine>,
    pub remembered_connect_user_id: Option<String>,
    pub desired: Option<Desired>,
    /// Which Connect was read, in words.
    pub connect_read: String,
    pub connect: Vec<ConnectUser>,
    /// What the next converge would do.
    pub plan: Option<UserPlan>,
    pub events: Vec<EventLine>,
}

impl UserReport {
    pub fn known(&self) -> bool {
        self.okta_user_id.is_some()
    }
}

fn join(ids: &[impl ToString]) -> String {
    if ids.is_empty() {
        "-".into()
    } else {
        ids.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn plan_words(plan: &UserPlan) -> String {
    let steps = |steps: &[okta_connect_core::outcome::StepKind]| {
        if steps.is_empty() {
            "nothing to write".to_string()
        } else {
            steps
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    match &plan.action {
        Action::Create => "create the Connect user".into(),
        Action::Update { steps: s } => format!("update: {}", steps(s)),
        Action::Adopt { steps: s } => format!("adopt the untagged Connect user: {}", steps(s)),
        Action::Revoke { steps: s } => format!("revoke: {}", steps(s)),
        Action::Unchanged => "nothing: Connect is in step".into(),
        Action::Conflict { reason } => format!("conflict, needs an admin: {reason}"),
    }
}

impl Report for UserReport {
    fn headline(&self) -> Vec<String> {
        match &self.okta_user_id {
            None => vec![format!(
                "Okta user {}: unknown to the ledger (no facts, no events in its retention).",
                self.query
            )],
            Some(id) => vec![
                format!("Okta user {id} ({})", self.query),
                match &self.plan {
                    Some(plan) => format!("Next converge: {}.", plan_words(plan)),
                    None => "Next converge: unknown.".into(),
                },
            ],
        }
    }

    fn tables(&self) -> Vec<Table> {
        if !self.known() {
            return Vec::new();
        }
        let mut facts = Table::new(
            "Facts (the newest of each kind)",
            &["says", "published", "login", "event uuid"],
        )
        .when_empty("(none)");
        for line in &self.facts {
            facts.row([
                line.says.clone(),
                line.fact.published.to_string(),
                line.fact
                    .subject
                    .login
                    .clone()
                    .unwrap_or_else(|| "-".into()),
                line.fact.event_uuid.clone(),
            ]);
        }
        let mut desired = Table::new("Desired Connect user", &["field", "value"]);
        match &self.desired {
            None => desired.row(["state", "none: no valid Connect username (see the plan)"]),
            Some(Desired::Unmanaged) => {
                desired.row([
                    "state",
                    "unmanaged: in no mapped group or app the ledger knows",
                ]);
            }
            Some(Desired::Revoked {
                username, because, ..
            }) => {
                desired.row(["state".to_string(), format!("revoked ({because})")]);
                desired.row(["username".to_string(), username.clone()]);
            }
            Some(Desired::Present(want)) => {
                desired.row(["state".to_string(), format!("present ({})", want.mapping)]);
                desired.row(["username".to_string(), want.username.clone()]);
                desired.row([
                    "name".to_string(),
                    format!("{} {}", want.identity.first_name, want.identity.last_name),
                ]);
                desired.row([
                    "routing profile".to_string(),
                    want.routing_profile_id.to_string(),
                ]);
                desired.row([
                    "security profiles".to_string(),
                    join(&want.security_profile_ids),
                ]);
                desired.row([
                    "hierarchy group".to_string(),
                    want.hierarchy_group_id
                        .as_ref()
                        .map_or_else(|| "(left as is)".into(), ToString::to_string),
                ]);
            }
        }
        let mut connect = Table::new(
            format!("Connect users ({})", self.connect_read),
            &[
                "id",
                "username",
                "owner",
                "routing profile",
                "security profiles",
            ],
        )
        .when_empty("(none)");
        for user in &self.connect {
            connect.row([
                user.id.clone(),
                user.username.clone(),
                match Owner::of(user) {
                    Owner::Okta(id) => format!("tagged for {id}"),
                    Owner::Untagged => "untagged".into(),
                },
                user.routing_profile_id.clone(),
                join(&user.security_profile_ids),
            ]);
        }
        let mut events =
            Table::new("Last events", &EVENT_HEADER).when_empty("(none in the ledger)");
        for line in &self.events {
            events.row(line.cells());
        }
        vec![facts, desired, connect, events]
    }
}

/// The Connect to read: the state folder's simulator (started here, read-only), or the
/// real instance of config.ini.
enum Connect {
    Simulated(SimServer, ConnectDirectory),
    Real(ConnectDirectory),
}

async fn connect(
    args: &Args,
    instance_id: &str,
    region: Option<String>,
) -> anyhow::Result<(Connect, String)> {
    if let Some(url) = &args.connect_endpoint_url {
        let aws = sdk::load(&AwsSettings::emulator(url.clone())).await;
        return Ok((
            Connect::Real(ConnectDirectory::from_config(&aws, instance_id.to_string())),
            format!("Connect at {url}"),
        ));
    }
    let state = args.target.state.join(SIM_STATE);
    if !args.target.deployed() && state.exists() {
        let sim = Sim::builder()
            .seed(Seed::default())
            .no_throttle()
            .read_state_file(&state)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", state.display()))?;
        let server = sim
            .serve(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the simulator's reader: {e}"))?;
        let aws = sdk::load(&AwsSettings::emulator(server.url())).await;
        let directory = ConnectDirectory::from_config(&aws, instance_id.to_string());
        return Ok((
            Connect::Simulated(server, directory),
            format!("the simulated Connect of {}", args.target.state.display()),
        ));
    }
    let aws = sdk::load(&AwsSettings {
        region,
        ..AwsSettings::default()
    })
    .await;
    Ok((
        Connect::Real(ConnectDirectory::from_config(&aws, instance_id.to_string())),
        format!("Amazon Connect instance {instance_id}"),
    ))
}

/// Reads what the ledger and Connect hold about `args.user`, at `now`.
pub async fn inspect(args: &Args, now: UnixMillis) -> anyhow::Result<UserReport> {
    let query = args.user.trim().to_string();
    let config = load_config(&args.target.config)?;
    let ledger = args
        .target
        .ledger()
        .await?
        .context("name the deployed ledger (--ledger-table, --stack or --deployed)")?;
    let retention = Duration::from_secs(u64::from(config.ledger_retention_days) * 86_400);
    let since = now.minus(retention);
    // An Okta id has facts of its own; a login is found through the events about it.
    let record = ledger.user_record(&query).await?;
    let okta_user_id = if record.facts.facts.is_empty() && record.connect_user_id.is_none() {
        ledger
            .events(&EventQuery {
                okta_user: Some(query.clone()),
                ..EventQuery::since(since, 1)
            })
            .await?
            .into_iter()
            .find_map(|r| r.about.and_then(|a| a.okta_user_id))
    } else {
        Some(query.clone())
    };
    let Some(okta_user_id) = okta_user_id else {
        return Ok(UserReport {
            query,
            okta_user_id: None,
            facts: Vec::new(),
            remembered_connect_user_id: None,
            desired: None,
            connect_read: String::new(),
            connect: Vec::new(),
            plan: None,
            events: Vec::new(),
        });
    };
    let events = ledger
        .events(&EventQuery {
            okta_user: Some(okta_user_id.clone()),
            ..EventQuery::since(since, args.events)
        })
        .await?
        .into_iter()
        .map(EventLine::of)
        .collect();
    let instance_id = config.instance_id.to_string();
    let region = config.region.clone();
    let (connect, connect_read) = connect(args, &instance_id, region).await?;
    let view = match &connect {
        Connect::Simulated(_, directory) | Connect::Real(directory) => {
            let engine = Engine::new(
                config,
                ledger,
                directory.clone(),
                NoDeadLetters,
                None::<NoIdentitySource>,
            );
            engine.inspect_user(&okta_user_id).await?
        }
    };
    if let Connect::Simulated(server, _) = connect {
        server.shutdown().await.ok();
    }
    let mut facts: Vec<FactLine> = view.record.facts.facts.values().map(FactLine::of).collect();
    facts.sort_by(|a, b| b.fact.recency().cmp(&a.fact.recency()));
    Ok(UserReport {
        query,
        okta_user_id: Some(okta_user_id),
        facts,
        remembered_connect_user_id: view.record.connect_user_id.clone(),
        desired: view.desired,
        connect_read,
        connect: view.connect,
        plan: Some(view.plan),
        events,
    })
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let report = inspect(&args, UnixMillis::now()).await?;
    output::print(&report, json)?;
    Ok(if report.known() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
