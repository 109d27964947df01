//! `okta-connect events`: the events the ledger recorded, newest first, with what each
//! ended in and why.

use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use okta_connect_core::outcome::Outcome;
use okta_connect_core::ports::{EventQuery, EventRecord, EventState, Ledger};
use okta_connect_core::time::UnixMillis;
use serde::Serialize;

use crate::commands::target::Target;
use crate::output::{self, Report, Table};

/// List recorded events, newest first: when, type, Okta user, state, outcome or
/// failure reason, attempts. Duplicates are not listed (a duplicate delivery changes
/// no record); records kept from before this version's ledger are not listed either.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,
    /// Only events that failed (dead-lettered or waiting for a redrive).
    #[arg(long)]
    pub failed: bool,
    /// Only events about this Okta user: its login (any case) or its Okta id.
    #[arg(long, value_name = "LOGIN|OKTA_ID")]
    pub user: Option<String>,
    /// Events updated since: a duration back from now (`90m`, `24h`, `7d`) or an RFC
    /// 3339 instant (`2026-12-07T08:00:00Z`).
    #[arg(long, value_name = "T", default_value = "24h")]
    pub since: Since,
    /// Show at most this many.
    #[arg(long, default_value_t = 100)]
    pub max: usize,
}

/// Where a listing starts: a span back from now, or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Ago(Duration),
    At(UnixMillis),
}

impl Since {
    /// The instant, given the current time.
    pub fn at(self, now: UnixMillis) -> UnixMillis {
        match self {
            Since::Ago(span) => now.minus(span),
            Since::At(at) => at,
        }
    }
}

impl FromStr for Since {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Some(at) = UnixMillis::parse_rfc3339(text) {
            return Ok(Since::At(at));
        }
        let unit = |suffix: char, seconds: u64| {
            text.strip_suffix(suffix)
                .and_then(|n| n.parse::<u64>().ok())
                .map(|n| Since::Ago(Duration::from_secs(n.saturating_mul(seconds))))
        };
        unit('s', 1)
            .or_else(|| unit('m', 60))
            .or_else(|| unit('h', 3600))
            .or_else(|| unit('d', 86_400))
            .ok_or_else(|| {
                format!(
                    "{text:?} is neither a span back from now (90m, 24h, 7d) nor an RFC 3339 \
                     instant (2026-12-07T08:00:00Z)"
                )
            })
    }
}

/// One event as a line of a listing.
#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    #[serde(flatten)]
    pub record: EventRecord,
    /// The outcome, or the failure's reason, in words.
    pub summary: String,
}

impl EventLine {
    pub fn of(record: EventRecord) -> Self {
        Self {
            summary: summary(&record),
            record,
        }
    }

    /// The cells of a listing's row: updated, event type, Okta user, state, summary,
    /// attempts, uuid.
    pub fn cells(&self) -> [String; 7] {
        let about = self.record.about.as_ref();
        [
            self.record
                .updated_at
                .map_or_else(|| "-".into(), |t| t.to_string()),
            about.map_or_else(|| "-".into(), |a| a.event_type.clone()),
            about.map_or_else(
                || "-".into(),
                |a| user_cell(a.login.as_deref(), a.okta_user_id.as_deref()),
            ),
            self.record.state.to_string(),
            self.summary.clone(),
            self.record.attempts.to_string(),
            self.record.uuid.clone(),
        ]
    }
}

/// The header matching [`EventLine::cells`].
pub const EVENT_HEADER: [&str; 7] = [
    "updated",
    "event type",
    "Okta user",
    "state",
    "outcome",
    "attempts",
    "event uuid",
];

/// The Okta user in one cell: login and id, whichever are known.
pub fn user_cell(login: Option<&str>, id: Option<&str>) -> String {
    match (login, id) {
        (Some(login), Some(id)) => format!("{login} ({id})"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => "-".into(),
    }
}

/// What a record ended in, in a few words: the converge's effect and writes, or the
/// failure's reason.
pub fn summary(record: &EventRecord) -> String {
    match (&record.outcome, record.state) {
        (None, EventState::InProgress) => {
            format!("in progress (claimed until {})", record.lease_until)
        }
        (None, _) => "not recorded (an older version's record)".into(),
        (Some(Outcome::Converged { fact, converged }), _) => {
            let effect = converged.effect();
            if converged.steps.is_empty() {
                format!("{effect}: {} ({fact} fact)", converged.desired)
            } else {
                let steps: Vec<String> = converged.steps.iter().map(ToString::to_string).collect();
                format!("{effect}: {} ({fact} fact)", steps.join(", "))
            }
        }
        (Some(Outcome::Failed(failure)), _) => {
            format!("failed ({}): {}", failure.class, failure.reason)
        }
        (Some(other), _) => other.to_string(),
    }
}

/// A listing of events.
#[derive(Debug, Serialize)]
pub struct EventList {
    pub since: UnixMillis,
    pub user: Option<String>,
    pub failed_only: bool,
    pub max: usize,
    pub events: Vec<EventLine>,
}

impl Report for EventList {
    fn headline(&self) -> Vec<String> {
        let mut what = String::from(if self.failed_only {
            "Failed events"
        } else {
            "Events"
        });
        if let Some(user) = &self.user {
            what.push_str(&format!(" about {user}"));
        }
        vec![format!(
            "{what} updated since {}: {}{}.",
            self.since,
            self.events.len(),
            if self.events.len() >= self.max {
                format!(" (the newest {}; --max shows more)", self.max)
            } else {
                String::new()
            }
        )]
    }

    fn tables(&self) -> Vec<Table> {
        let mut table = Table::new("Events, newest first", &EVENT_HEADER).when_empty("(none)");
        for line in &self.events {
            table.row(line.cells());
        }
        vec![table]
    }

    fn footer(&self) -> Vec<String> {
        if self.events.is_empty() {
            return Vec::new();
        }
        vec![
            "`okta-connect event UUID` shows one event whole; `okta-connect user LOGIN` one user."
                .into(),
        ]
    }
}

/// Reads the ledger's events matching the arguments.
pub async fn list(
    target: &Target,
    since: UnixMillis,
    user: Option<String>,
    failed_only: bool,
    max: usize,
) -> anyhow::Result<EventList> {
    let ledger = target
        .ledger()
        .await?
        .context("name the deployed ledger (--ledger-table, --stack or --deployed)")?;
    let records = ledger
        .events(&EventQuery {
            since,
            okta_user: user.clone(),
            failed_only,
            limit: max,
        })
        .await?;
    Ok(EventList {
        since,
        user,
        failed_only,
        max,
        events: records.into_iter().map(EventLine::of).collect(),
    })
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let since = args.since.at(UnixMillis::now());
    let user = args
        .user
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let report = list(&args.target, since, user, args.failed, args.max).await?;
    output::print(&report, json)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use okta_connect_core::outcome::{Converged, DesiredState, FactKind, Failure, StepKind};
    use okta_connect_core::ports::{ErrorClass, EventAbout};

    use super::*;

    #[test]
    fn since_takes_spans_and_instants() {
        assert_eq!("90m".parse(), Ok(Since::Ago(Duration::from_secs(5400))));
        assert_eq!("24h".parse(), Ok(Since::Ago(Duration::from_secs(86_400))));
        assert_eq!(
            " 7d ".parse(),
            Ok(Since::Ago(Duration::from_secs(7 * 86_400)))
        );
        assert_eq!("30s".parse(), Ok(Since::Ago(Duration::from_secs(30))));
        let at = "2026-12-07T08:00:00Z".parse::<Since>().unwrap();
        assert_eq!(
            at,
            Since::At(UnixMillis::parse_rfc3339("2026-12-07T08:00:00Z").unwrap())
        );
        assert_eq!(
            Since::Ago(Duration::from_secs(60)).at(UnixMillis(100_000)),
            UnixMillis(40_000)
        );
        for bad in ["", "24", "h", "-1h", "yesterday", "1.5h"] {
            let err = bad.parse::<Since>().unwrap_err();
            assert!(err.contains("RFC 3339"), "{bad}: {err}");
        }
    }

    fn record(state: EventState, outcome: Option<Outcome>) -> EventRecord {
        EventRecord {
            uuid: "u-1".into(),
            state,
            lease_until: UnixMillis(0),
            expires_at: UnixMillis(0),
            attempts: 2,
            outcome,
            about: Some(EventAbout {
                event_type: "group.user_membership.add".into(),
                okta_user_id: Some("00u1".into()),
                login: Some("jane@example.com".into()),
                published: None,
            }),
            updated_at: Some(UnixMillis(1_800_000_000_000)),
        }
    }

    #[test]
    fn a_line_says_what_happened_in_words() {
        let created = record(
            EventState::Completed,
            Some(Outcome::Converged {
                fact: FactKind::Membership,
                converged: Converged {
                    desired: DesiredState::Present {
                        mapping: "agents".into(),
                    },
                    steps: vec![StepKind::Create],
                    connect_user_id: Some("c-1".into()),
                },
            }),
        );
        let cells = EventLine::of(created).cells();
        assert_eq!(cells[1], "group.user_membership.add");
        assert_eq!(cells[2], "jane@example.com (00u1)");
        assert_eq!(cells[3], "completed");
        assert_eq!(cells[4], "created: create (membership fact)");
        assert_eq!(cells[5], "2");

        let failed = record(
            EventState::Failed,
            Some(Outcome::Failed(Failure {
                class: ErrorClass::Permanent,
                reason: "no routing profile rp-x".into(),
            })),
        );
        assert_eq!(
            summary(&failed),
            "failed (permanent): no routing profile rp-x"
        );
        let unchanged = record(
            EventState::Completed,
            Some(Outcome::Converged {
                fact: FactKind::Status,
                converged: Converged {
                    desired: DesiredState::Unmanaged,
                    steps: vec![],
                    connect_user_id: None,
                },
            }),
        );
        assert_eq!(summary(&unchanged), "unchanged: unmanaged (status fact)");
        assert!(summary(&record(EventState::InProgress, None)).starts_with("in progress"));
        assert!(!format!("{:?}", EventLine::of(failed.clone()).cells()).contains("Failure {"));
    }
}
