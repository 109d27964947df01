//! `okta-connect demo`: the local pipeline, with this program playing an Okta admin.
//!
//! Every change is made through the simulated org's own API (okta-sim), so Okta's own
//! sender delivers it to the pipeline's event hook: agents added to the Connect group
//! and app, a supervisor, one agent removed, one deactivated and reactivated, a profile
//! edit, the group renamed before a member leaves it, another instance of the same
//! catalog app, and a login Connect rejects. Then what Okta's at-least-once delivery
//! adds: a delivery repeated, and a change made while the hook was off arriving late,
//! after a newer one. It waits for the queue to drain and checks that Connect holds
//! exactly what Okta now implies — names from the Okta profile included.

use std::collections::BTreeSet;
use std::time::Duration;

use okta_connect_core::config::{AccessSource, Config, SourceKind};
use okta_connect_core::outcome::Outcome;
use okta_connect_core::ports::{EventState, Ledger};
use okta_sim::{NewUser, OktaSimServer};
use serde::Serialize;
use serde_json::json;

use crate::okta::OTHER_AWS_APP_LABEL;
use crate::output::{Report, Table};
use crate::pipeline::Pipeline;
use crate::sender::{OktaSender, SenderError};

/// A user of the story and what Connect should hold for them at the end.
#[derive(Debug, Clone, Copy)]
struct Agent {
    login: &'static str,
    first: &'static str,
    last: &'static str,
    /// The mapping the user ends with and the last name Connect shows; `None`: no
    /// Connect user.
    ends_in: Option<(&'static str, &'static str)>,
}

const JANE: Agent = Agent {
    login: "jane.doe@acme.example",
    first: "Jane",
    last: "Doe",
    ends_in: Some(("default", "Doe")),
};
const OMAR: Agent = Agent {
    login: "omar.haddad@acme.example",
    first: "Omar",
    last: "Haddad",
    ends_in: None,
};
const LIN: Agent = Agent {
    login: "lin.chen@acme.example",
    first: "Lin",
    last: "Chen",
    ends_in: Some(("supervisors", "Chen")),
};
const ZOE: Agent = Agent {
    login: "zoe.angstrom@acme.example",
    first: "Zoë",
    last: "Ångström",
    ends_in: Some(("default", "Ångström-Berg")),
};
const JURGEN: Agent = Agent {
    login: "juergen.mueller@acme.example",
    first: "Jürgen",
    last: "Müller",
    ends_in: None,
};
const SAM: Agent = Agent {
    login: "sam+connect@acme.example",
    first: "Sam",
    last: "Plus",
    ends_in: None,
};
const PRIYA: Agent = Agent {
    login: "priya.nair@acme.example",
    first: "Priya",
    last: "Nair",
    ends_in: None,
};
const AGENTS: [Agent; 7] = [JANE, OMAR, LIN, ZOE, JURGEN, SAM, PRIYA];

/// The renamed agents group's new name in Okta (config.ini keeps the old one).
pub const RENAMED_GROUP: &str = "Contact Centre Agents (EMEA)";

/// A row of the Connect users table.
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub mapping: String,
    pub security_profiles: usize,
    pub hierarchy_group: Option<String>,
}

/// A row of the events table: the ledger's record of one event of the story.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub uuid: String,
    pub delivery: String,
    /// `None`: the ledger has no record of the event.
    pub state: Option<EventState>,
    pub outcome: Option<Outcome>,
}

/// A row of the dead-letter table.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetterRow {
    pub uuid: String,
    pub reason: String,
}

/// Everything the demo saw, and whether it is what the events imply.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    pub deliveries: Vec<(String, Vec<Option<u16>>)>,
    pub users: Vec<UserRow>,
    pub events: Vec<EventRow>,
    pub dead_letters: Vec<DeadLetterRow>,
    /// Requests the worker made to Okta's API (profiles, names to ids), retries included.
    pub okta_requests: u64,
    pub problems: Vec<String>,
}

impl DemoReport {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Sender(#[from] SenderError),
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::PipelineError),
    #[error(
        "the demo needs the simulated Connect and Okta (it reads every user back to check them)"
    )]
    NeedsSimulator,
    #[error("the simulated Okta org refused the admin's change ({step}): {error}")]
    Okta { step: String, error: String },
    #[error("the ledger: {0}")]
    Ledger(String),
    #[error(
        "the demo's story is written for config.ini's mappings \"default\" (a group and an app) and \"supervisors\" (a group); {0}"
    )]
    Config(String),
}

/// The simulated org as the story's admin sees it.
struct Org<'a> {
    server: &'a OktaSimServer,
    hook_id: String,
    token: String,
    /// Each step's caption and the statuses of the deliveries Okta made during it.
    deliveries: Vec<(String, Vec<Option<u16>>)>,
    /// Every event delivered, once, in delivery order, with the step that caused it.
    delivered: Vec<(String, String)>,
    seen: BTreeSet<String>,
}

impl Org<'_> {
    /// Runs one admin step, waits until Okta delivered what it caused, and keeps what
    /// the hook answered.
    async fn step<T>(
        &mut self,
        caption: &str,
        change: impl std::future::Future<Output = Result<T, okta_sim::Error>>,
    ) -> Result<T, DemoError> {
        let before = self.server.sim().deliveries().len();
        let out = change.await.map_err(|e| DemoError::Okta {
            step: caption.to_string(),
            error: e.to_string(),
        })?;
        self.server.sim().settle(Duration::from_secs(10)).await;
        let attempts: Vec<_> = self
            .server
            .sim()
            .deliveries()
            .into_iter()
            .skip(before)
            .collect();
        for a in &attempts {
            self.delivered_in(caption, &a.event_uuids);
        }
        self.deliveries.push((
            caption.to_string(),
            attempts.iter().map(|a| a.status).collect(),
        ));
        Ok(out)
    }

    fn delivered_in(&mut self, caption: &str, uuids: &[String]) {
        for uuid in uuids {
            if self.seen.insert(uuid.clone()) {
                self.delivered.push((uuid.clone(), caption.to_string()));
            }
        }
    }

    /// Turns the event hook off or on, through Okta's lifecycle endpoints.
    async fn hook(&self, on: bool) -> Result<(), DemoError> {
        let verb = if on { "activate" } else { "deactivate" };
        let url = format!(
            "{}/api/v1/eventHooks/{}/lifecycle/{verb}",
            self.server.url(),
            self.hook_id
        );
        let answer = reqwest::Client::new()
            .post(url)
            .header("authorization", format!("SSWS {}", self.token))
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(DemoError::Okta {
                step: format!("{verb} the event hook"),
                error: r.status().to_string(),
            }),
            Err(e) => Err(DemoError::Okta {
                step: format!("{verb} the event hook"),
                error: e.to_string(),
            }),
        }
    }

    /// The System Log events with these uuids, as one event-hook delivery.
    fn envelope(&self, uuids: &[String]) -> String {
        let events: Vec<_> = self
            .server
            .sim()
            .log_events()
            .into_iter()
            .filter(|e| {
                e.get("uuid")
                    .and_then(|u| u.as_str())
                    .is_some_and(|u| uuids.iter().any(|x| x == u))
            })
            .collect();
        json!({
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "contentType": "application/json",
            "source": format!("{}/api/v1/eventHooks/{}", self.server.url(), self.hook_id),
            "eventId": uuid::Uuid::new_v4().to_string(),
            "data": {"events": events}
        })
        .to_string()
    }

    /// The uuids of the System Log events recorded since `mark` (a count of events).
    fn logged_since(&self, mark: usize) -> Vec<String> {
        self.server
            .sim()
            .log_events()
            .into_iter()
            .skip(mark)
            .filter_map(|e| e.get("uuid").and_then(|u| u.as_str()).map(String::from))
            .collect()
    }
}

/// The first group or app of `kind` that mapping `name` is granted by.
fn source_of<'a>(
    config: &'a Config,
    name: &str,
    kind: SourceKind,
) -> Result<&'a AccessSource, DemoError> {
    config
        .mapping(name)
        .and_then(|m| m.sources.iter().find(|s| s.kind == kind))
        .ok_or_else(|| {
            DemoError::Config(format!(
                "mapping {name:?} has no {}",
                if kind == SourceKind::Group {
                    "group"
                } else {
                    "app"
                }
            ))
        })
}

/// Plays an Okta admin against a running pipeline and checks the result.
pub async fn run(
    pipeline: &Pipeline,
    config: &Config,
    secret: &str,
    drain_limit: Duration,
) -> Result<DemoReport, DemoError> {
    let connect = pipeline.sim.as_ref().ok_or(DemoError::NeedsSimulator)?;
    let okta = &pipeline.okta;
    let (Some(server), Some(admin), Some(hook_id), Some(token)) =
        (&okta.sim, okta.admin(), &okta.hook_id, &okta.api_token)
    else {
        return Err(DemoError::NeedsSimulator);
    };
    let agents_group = source_of(config, "default", SourceKind::Group)?;
    let connect_app = source_of(config, "default", SourceKind::App)?;
    let supervisors_group = source_of(config, "supervisors", SourceKind::Group)?;
    let lookup = |what: String, found: Result<String, okta_sim::Error>| {
        found.map_err(|e| DemoError::Okta {
            step: what,
            error: e.to_string(),
        })
    };
    let by_name = |s: &AccessSource| s.id.clone().unwrap_or_else(|| s.name.clone());
    let agents = lookup(
        format!("find {agents_group}"),
        match &agents_group.id {
            Some(id) if agents_group.configured_by_id() => Ok(id.clone()),
            _ => admin.group_id(&by_name(agents_group)).await,
        },
    )?;
    let supervisors = lookup(
        format!("find {supervisors_group}"),
        match &supervisors_group.id {
            Some(id) if supervisors_group.configured_by_id() => Ok(id.clone()),
            _ => admin.group_id(&by_name(supervisors_group)).await,
        },
    )?;
    let app = lookup(
        format!("find {connect_app}"),
        match &connect_app.id {
            Some(id) if connect_app.configured_by_id() => Ok(id.clone()),
            _ => admin.app_id(&by_name(connect_app)).await,
        },
    )?;
    let other_app = lookup(
        format!("find app {OTHER_AWS_APP_LABEL:?}"),
        admin.app_id(OTHER_AWS_APP_LABEL).await,
    )?;
    let finance = match admin.group_id("Finance").await {
        Ok(id) => id,
        Err(_) => lookup(
            "create group Finance".into(),
            admin.create_group("Finance").await,
        )?,
    };
    let mut org = Org {
        server,
        hook_id: hook_id.clone(),
        token: token.clone(),
        deliveries: Vec::new(),
        delivered: Vec::new(),
        seen: BTreeSet::new(),
    };

    let mut ids = std::collections::BTreeMap::new();
    for agent in AGENTS {
        let new = NewUser {
            login: agent.login.into(),
            first_name: agent.first.into(),
            last_name: agent.last.into(),
            email: agent.login.into(),
        };
        let id = org
            .step(
                &format!("{} {} is hired", agent.first, agent.last),
                admin.create_user(&new),
            )
            .await?;
        ids.insert(agent.login, id);
    }
    let id = |a: Agent| ids.get(a.login).cloned().unwrap_or_default();
    org.step(
        "jane joins the agents group",
        admin.add_to_group(&agents, &id(JANE)),
    )
    .await?;
    org.step(
        "omar is assigned the Connect app",
        admin.assign_app(&app, &id(OMAR)),
    )
    .await?;
    let lin_joins = org.server.sim().log_events().len();
    org.step(
        "lin joins the supervisors",
        admin.add_to_group(&supervisors, &id(LIN)),
    )
    .await?;
    let lin_first_delivery = org.logged_since(lin_joins);
    org.step(
        "zoë and jürgen join the agents, omar joins Finance",
        async {
            admin.add_to_group(&agents, &id(ZOE)).await?;
            admin.add_to_group(&agents, &id(JURGEN)).await?;
            admin.add_to_group(&finance, &id(OMAR)).await
        },
    )
    .await?;
    org.step(
        "sam joins the agents (a login Connect rejects)",
        admin.add_to_group(&agents, &id(SAM)),
    )
    .await?;
    org.step(
        "priya gets another instance of the AWS Account Federation app",
        admin.assign_app(&other_app, &id(PRIYA)),
    )
    .await?;
    org.step(
        "omar is unassigned from the Connect app",
        admin.unassign_app(&app, &id(OMAR)),
    )
    .await?;
    org.step("jane is deactivated", admin.deactivate(&id(JANE)))
        .await?;
    org.step("jane is reactivated", admin.reactivate(&id(JANE)))
        .await?;
    org.step(
        "zoë's last name changes in Okta",
        admin.update_profile(&id(ZOE), json!({"lastName": "Ångström-Berg"})),
    )
    .await?;
    org.step(
        "the agents group is renamed in Okta",
        admin.rename_group(&agents, RENAMED_GROUP),
    )
    .await?;
    org.step(
        "jürgen leaves the renamed group",
        admin.remove_from_group(&agents, &id(JURGEN)),
    )
    .await?;
    // Okta drops what happens while a hook is off; the System Log keeps it.
    org.hook(false).await?;
    let lin_leaves = org.server.sim().log_events().len();
    org.step(
        "lin leaves the supervisors while the hook is off (never delivered)",
        admin.remove_from_group(&supervisors, &id(LIN)),
    )
    .await?;
    let missed = org.logged_since(lin_leaves);
    org.hook(true).await?;
    org.step(
        "lin rejoins the supervisors",
        admin.add_to_group(&supervisors, &id(LIN)),
    )
    .await?;

    // What Okta's at-least-once delivery adds, sent the way Okta sends.
    let sender = OktaSender::new(&pipeline.ingest_url, &pipeline.secret_header, secret)?;
    let mut problems = Vec::new();
    for (caption, uuids) in [
        ("okta repeats lin's first delivery", lin_first_delivery),
        ("the missed, older removal of lin arrives last", missed),
    ] {
        let sent = sender.deliver(&org.envelope(&uuids)).await;
        if !sent.accepted() {
            problems.push(format!(
                "delivery \"{caption}\" was not accepted: {}",
                sent.body
            ));
        }
        org.delivered_in(caption, &uuids);
        org.deliveries.push((caption.to_string(), sent.attempts));
    }

    let delivered = std::mem::take(&mut org.delivered);
    let mut report = DemoReport {
        deliveries: org.deliveries,
        users: Vec::new(),
        events: Vec::new(),
        dead_letters: Vec::new(),
        okta_requests: 0,
        problems,
    };
    for (caption, attempts) in &report.deliveries {
        if attempts
            .iter()
            .any(|a| !a.is_some_and(|s| (200..300).contains(&s)))
        {
            report.problems.push(format!(
                "a delivery of \"{caption}\" was not accepted at once: {attempts:?}"
            ));
        }
    }
    if !pipeline.drain(drain_limit).await? {
        report.problems.push(format!(
            "the queue did not drain within {} s",
            drain_limit.as_secs()
        ));
    }

    let instance = config.instance_id.as_str();
    let mapping_of = |routing: &str| {
        config
            .mappings
            .iter()
            .find(|m| m.routing_profile_id.as_str() == routing)
            .map_or_else(|| routing.to_string(), |m| m.name.clone())
    };
    let mut users: Vec<UserRow> = connect
        .sim()
        .users()
        .into_iter()
        .filter(|u| u.instance_id == instance)
        .map(|u| UserRow {
            mapping: mapping_of(&u.user.routing_profile_id),
            username: u.user.username,
            first_name: u.user.identity_info.first_name.unwrap_or_default(),
            last_name: u.user.identity_info.last_name.unwrap_or_default(),
            security_profiles: u.user.security_profile_ids.len(),
            hierarchy_group: u.user.hierarchy_group_id,
        })
        .collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    for agent in AGENTS {
        let found = users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(agent.login));
        match (agent.ends_in, found) {
            (Some((mapping, last)), Some(user)) if user.mapping == mapping => {
                if (user.first_name.as_str(), user.last_name.as_str()) != (agent.first, last) {
                    report.problems.push(format!(
                        "{} should be named {} {last} as in Okta, is {} {}",
                        agent.login, agent.first, user.first_name, user.last_name
                    ));
                }
            }
            (Some((mapping, _)), other) => report.problems.push(format!(
                "{} should have the \"{mapping}\" mapping, has {}",
                agent.login,
                other.map_or_else(
                    || "no Connect user".to_string(),
                    |u| format!("\"{}\"", u.mapping)
                )
            )),
            (None, Some(_)) => report
                .problems
                .push(format!("{} should not exist in Connect", agent.login)),
            (None, None) => {}
        }
    }
    report.users = users;

    for (uuid, caption) in &delivered {
        let record = pipeline
            .ledger
            .event_record(uuid)
            .await
            .map_err(|e| DemoError::Ledger(e.to_string()))?;
        if record.is_none() {
            report
                .problems
                .push(format!("event {uuid} has no ledger record"));
        }
        report.events.push(EventRow {
            uuid: uuid.clone(),
            delivery: caption.clone(),
            state: record.as_ref().map(|r| r.state),
            outcome: record.and_then(|r| r.outcome),
        });
    }
    let failed: Vec<&EventRow> = report
        .events
        .iter()
        .filter(|e| e.state == Some(EventState::Failed))
        .collect();
    if failed.len() != 1 || !failed[0].delivery.starts_with("sam") {
        report.problems.push(format!(
            "exactly sam's event should fail, {} failed",
            failed.len()
        ));
    }
    report.okta_requests = okta.identity.as_ref().map_or(0, |i| i.requests());
    let dead = pipeline.dead_letter_messages().await?;
    report.dead_letters = dead
        .iter()
        .map(|m| DeadLetterRow {
            uuid: m.event().uuid,
            reason: m.reason().map(|r| r.reason).unwrap_or_default(),
        })
        .collect();
    if report.dead_letters.len() != 1
        || failed
            .first()
            .is_none_or(|f| f.uuid != report.dead_letters[0].uuid)
    {
        report.problems.push(format!(
            "the dead-letter queue should hold sam's event only, holds {}",
            report.dead_letters.len()
        ));
    }
    Ok(report)
}

impl Report for DemoReport {
    fn tables(&self) -> Vec<Table> {
        let mut deliveries = Table::new("Deliveries (as Okta sent them)", &["delivery", "answers"]);
        for (caption, attempts) in &self.deliveries {
            let statuses: Vec<String> = attempts
                .iter()
                .map(|a| a.map_or_else(|| "timeout".into(), |s| s.to_string()))
                .collect();
            deliveries.row([caption.clone(), statuses.join(" → ")]);
        }
        let mut users = Table::new(
            "Connect users",
            &[
                "username",
                "name",
                "mapping",
                "security profiles",
                "hierarchy",
            ],
        );
        for u in &self.users {
            users.row([
                u.username.clone(),
                format!("{} {}", u.first_name, u.last_name),
                u.mapping.clone(),
                u.security_profiles.to_string(),
                u.hierarchy_group.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        let mut events = Table::new("Events", &["state", "delivery", "outcome"]);
        for e in &self.events {
            events.row([
                e.state
                    .map_or_else(|| "missing".to_string(), |s| s.to_string()),
                e.delivery.clone(),
                e.outcome
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string),
            ]);
        }
        let mut dead =
            Table::new("Dead-letter queue", &["event uuid", "reason"]).when_empty("(empty)");
        for d in &self.dead_letters {
            dead.row([
                d.uuid.clone(),
                d.reason.chars().take(100).collect::<String>(),
            ]);
        }
        vec![deliveries, users, events, dead]
    }

    fn footer(&self) -> Vec<String> {
        let converged = self
            .events
            .iter()
            .filter(|e| matches!(e.outcome, Some(Outcome::Converged { .. })))
            .count();
        let okta = format!(
            "The worker read Okta's API {} times for {converged} converged events (profiles for \
             names, config.ini's group and app names to ids).",
            self.okta_requests
        );
        if self.passed() {
            return vec![okta, "✔ Connect holds exactly what Okta implies.".into()];
        }
        let mut lines = vec![
            okta,
            "✘ Connect differs from what Okta implies:".to_string(),
        ];
        lines.extend(self.problems.iter().map(|p| format!("  - {p}")));
        lines
    }
}
