//! `okta-connect demo`: the local pipeline, with this program playing Okta.
//!
//! It verifies the hook, then delivers a story — agents added to the Connect group and
//! app, a supervisor, one agent removed, one deactivated and reactivated, a delivery
//! repeated, irrelevant events, a late out-of-order event, and a login Connect rejects —
//! with Okta's 3 s timeout and single retry; waits for the queue to drain; and checks
//! that Connect holds exactly what the events imply.

use std::time::Duration;

use okta_connect_core::config::Config;
use okta_connect_core::outcome::Outcome;
use okta_connect_core::ports::{EventState, Ledger};
use okta_connect_core::time::UnixMillis;
use serde::Serialize;
use serde_json::json;

use crate::output::{Report, Table};
use crate::pipeline::Pipeline;
use crate::sender::{OktaSender, SenderError};

/// One POST of the story.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub caption: &'static str,
    pub body: String,
    pub uuids: Vec<String>,
}

/// A user of the story and what Connect should hold for them at the end.
#[derive(Debug, Clone, Copy)]
struct Agent {
    okta_id: &'static str,
    login: &'static str,
    display: &'static str,
    /// The mapping whose routing profile the user ends with; `None`: no Connect user.
    ends_in: Option<&'static str>,
}

const JANE: Agent = Agent {
    okta_id: "00u1demoJane00000001",
    login: "jane.doe@acme.example",
    display: "Jane Doe",
    ends_in: Some("default"),
};
const OMAR: Agent = Agent {
    okta_id: "00u1demoOmar00000002",
    login: "omar.haddad@acme.example",
    display: "Omar Haddad",
    ends_in: None,
};
const LIN: Agent = Agent {
    okta_id: "00u1demoLin000000003",
    login: "lin.chen@acme.example",
    display: "Chen, Lin",
    ends_in: Some("supervisors"),
};
const ZOE: Agent = Agent {
    okta_id: "00u1demoZoe000000004",
    login: "zoe.angstrom@acme.example",
    display: "Zoë Ångström",
    ends_in: Some("default"),
};
const JURGEN: Agent = Agent {
    okta_id: "00u1demoJurgen000005",
    login: "juergen.mueller@acme.example",
    display: "Müller, Jürgen",
    ends_in: Some("default"),
};
const SAM: Agent = Agent {
    okta_id: "00u1demoSam000000006",
    login: "sam+connect@acme.example",
    display: "Sam Plus",
    ends_in: None,
};
const AGENTS: [Agent; 6] = [JANE, OMAR, LIN, ZOE, JURGEN, SAM];

const AGENTS_GROUP: (&str, &str) = ("00g1c0nn3ctAgents0d7", "amazon_connect");
const SUPERVISORS_GROUP: (&str, &str) = ("00g1c0nn3ctSup3rv1s7", "connect_supervisors");
const FINANCE_GROUP: (&str, &str) = ("00g1f1nanc3Gr0up00d7", "Finance");
const CONNECT_APP: (&str, &str) = ("0oa1awsF3d3rat10n0d7", "AWS Account Federation");

/// Builds the story's events with fresh uuids, published relative to `start`.
struct Story {
    start: i64,
    run: String,
    seq: u32,
}

impl Story {
    fn event(
        &mut self,
        minute: i64,
        event_type: &str,
        who: Agent,
        other: Option<(&str, (&str, &str))>,
    ) -> (String, serde_json::Value) {
        self.seq += 1;
        let uuid = format!("{}-{:04}", self.run, self.seq);
        let mut target = vec![
            json!({"id": who.okta_id, "type": "User", "alternateId": who.login, "displayName": who.display, "detailEntry": null}),
        ];
        if let Some((kind, (id, name))) = other {
            target.push(json!({"id": id, "type": kind, "alternateId": if kind == "AppInstance" { name } else { "unknown" }, "displayName": name, "detailEntry": null}));
        }
        let event = json!({
            "uuid": uuid,
            "published": UnixMillis(self.start + minute * 60_000).to_string(),
            "eventType": event_type,
            "version": "0",
            "displayMessage": event_type,
            "severity": "INFO",
            "actor": {"id": "00u1ad0m1nPq3Rs4T5v6", "type": "User", "alternateId": "it.admin@acme.example", "displayName": "IT Admin", "detailEntry": null},
            "client": {"ipAddress": "203.0.113.24", "zone": "null", "device": "Computer"},
            "outcome": {"result": "SUCCESS", "reason": null},
            "target": target,
            "transaction": {"type": "WEB", "id": format!("tx-{uuid}"), "detail": {}},
            "debugContext": {"debugData": {"requestUri": "/api/v1/groups/users"}}
        });
        (uuid, event)
    }

    fn delivery(
        &self,
        caption: &'static str,
        events: Vec<(String, serde_json::Value)>,
    ) -> Delivery {
        let uuids = events.iter().map(|(u, _)| u.clone()).collect();
        let body = json!({
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": "https://acme.okta.com/api/v1/eventHooks/whoDemo000000000000",
            "eventId": format!("delivery-{}-{caption}", self.run).replace(' ', "-"),
            "eventTime": UnixMillis(self.start).to_string(),
            "contentType": "application/json",
            "data": {"events": events.into_iter().map(|(_, e)| e).collect::<Vec<_>>()}
        });
        Delivery {
            caption,
            body: body.to_string(),
            uuids,
        }
    }
}

/// The story's deliveries in the order Okta sends them.
pub fn story(now: UnixMillis) -> Vec<Delivery> {
    let mut s = Story {
        start: now.0 - 30 * 60_000,
        run: format!("demo-{}", uuid::Uuid::new_v4().simple()),
        seq: 0,
    };
    let group = |g| Some(("UserGroup", g));
    let app = |a| Some(("AppInstance", a));
    let late_removal = s.event(
        1,
        "group.user_membership.remove",
        LIN,
        group(SUPERVISORS_GROUP),
    );
    let jane = s.event(3, "group.user_membership.add", JANE, group(AGENTS_GROUP));
    let omar = s.event(3, "application.user_membership.add", OMAR, app(CONNECT_APP));
    let lin = s.event(
        2,
        "group.user_membership.add",
        LIN,
        group(SUPERVISORS_GROUP),
    );
    let batch = vec![
        s.event(4, "group.user_membership.add", ZOE, group(AGENTS_GROUP)),
        s.event(4, "group.user_membership.add", JURGEN, group(AGENTS_GROUP)),
        s.event(4, "group.user_membership.add", OMAR, group(FINANCE_GROUP)),
        s.event(4, "user.session.start", JANE, None),
    ];
    let sam = s.event(5, "group.user_membership.add", SAM, group(AGENTS_GROUP));
    let omar_removed = s.event(
        6,
        "application.user_membership.remove",
        OMAR,
        app(CONNECT_APP),
    );
    let jane_deactivated = s.event(7, "user.lifecycle.deactivate", JANE, None);
    let jane_reactivated = s.event(8, "user.lifecycle.reactivate", JANE, None);
    let lin_delivery = s.delivery("lin joins the supervisors", vec![lin]);
    let mut deliveries = vec![
        s.delivery("jane joins the agents group", vec![jane]),
        s.delivery("omar is assigned the Connect app", vec![omar]),
        lin_delivery.clone(),
        s.delivery("a batch: two agents and two irrelevant events", batch),
        s.delivery("sam, whose login Connect rejects", vec![sam]),
        s.delivery("omar is unassigned from the app", vec![omar_removed]),
        s.delivery("jane is deactivated", vec![jane_deactivated]),
        s.delivery("jane is reactivated", vec![jane_reactivated]),
    ];
    // Okta's at-least-once delivery: the very same POST again.
    deliveries.push(Delivery {
        caption: "okta repeats lin's delivery",
        ..lin_delivery
    });
    deliveries.push(s.delivery(
        "a late, older removal of lin arrives last",
        vec![late_removal],
    ));
    deliveries
}

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
    #[error("the demo needs the simulated Connect (it reads every user back to check them)")]
    NeedsSimulator,
    #[error(
        "the demo's story is written for config.ini's mappings \"default\" and \"supervisors\"; {0}"
    )]
    Config(String),
}

/// Plays Okta against a running pipeline and checks the result.
pub async fn run(
    pipeline: &Pipeline,
    config: &Config,
    secret: &str,
    drain_limit: Duration,
) -> Result<DemoReport, DemoError> {
    let sim = pipeline.sim.as_ref().ok_or(DemoError::NeedsSimulator)?;
    for name in ["default", "supervisors"] {
        if config.mapping(name).is_none() {
            return Err(DemoError::Config(format!(
                "this config has no mapping {name:?}"
            )));
        }
    }
    let sender = OktaSender::new(&pipeline.ingest_url, &pipeline.secret_header, secret)?;
    sender.verify().await?;
    let deliveries = story(UnixMillis::now());
    let mut report = DemoReport {
        deliveries: Vec::new(),
        users: Vec::new(),
        events: Vec::new(),
        dead_letters: Vec::new(),
        problems: Vec::new(),
    };
    for delivery in &deliveries {
        let sent = sender.deliver(&delivery.body).await;
        if !sent.accepted() {
            let answers: Vec<String> = sent
                .attempts
                .iter()
                .map(|a| a.map_or_else(|| "no answer".into(), |s| s.to_string()))
                .collect();
            report.problems.push(format!(
                "delivery \"{}\" was not accepted: {} {}",
                delivery.caption,
                answers.join(" → "),
                sent.body
            ));
        }
        report
            .deliveries
            .push((delivery.caption.to_string(), sent.attempts));
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
    let mut users: Vec<UserRow> = sim
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
            (Some(mapping), Some(user)) if user.mapping == mapping => {}
            (Some(mapping), other) => report.problems.push(format!(
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

    let mut seen = std::collections::BTreeSet::new();
    for delivery in &deliveries {
        for uuid in &delivery.uuids {
            if !seen.insert(uuid.clone()) {
                continue;
            }
            let record = pipeline
                .ledger
                .event_record(uuid)
                .await
                .map_err(|e| DemoError::Config(e.to_string()))?;
            if record.is_none() {
                report
                    .problems
                    .push(format!("event {uuid} has no ledger record"));
            }
            report.events.push(EventRow {
                uuid: uuid.clone(),
                delivery: delivery.caption.to_string(),
                state: record.as_ref().map(|r| r.state),
                outcome: record.and_then(|r| r.outcome),
            });
        }
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
        if self.passed() {
            return vec!["✔ Connect holds exactly what the events imply.".into()];
        }
        let mut lines = vec!["✘ The result differs from what the events imply:".to_string()];
        lines.extend(self.problems.iter().map(|p| format!("  - {p}")));
        lines
    }
}
