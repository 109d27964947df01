//! Reconcile: Connect made to match what Okta holds *now*, not only what events said.
//!
//! Events describe changes; a site goes live with agents who already exist, Okta drops
//! deliveries, admins change mappings. A reconcile run reads Okta's current state (every
//! mapped group's members and app's users, with their status) and Connect's (every user,
//! with tags), turns what it saw into dated *snapshot facts* — "member of G at t",
//! "not a member of H at t", "deactivated at t" — and converges each user through the
//! same path events use. Facts compete by date as always: an event newer than the
//! snapshot still wins, an older one arriving late loses.
//!
//! Guardrails: a failed Okta read aborts the run (it never counts as "not a member"); a
//! dry run writes nothing and returns the plan; more revocations than the cap stop the
//! run before anything is applied.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use okta_connect_core::config::{AccessSource, Config, SourceKind};
use okta_connect_core::desired::{Desired, desired_user};
use okta_connect_core::fact::{Assertion, Fact, SourceRef, UserFacts, UserSnapshot};
use okta_connect_core::identity::{OktaUser, SourceId};
use okta_connect_core::outcome::{Converged, StepKind};
use okta_connect_core::ownership::{Owner, UserFilter};
use okta_connect_core::plan::{ConnectUser, Step, plan};
use okta_connect_core::ports::{EventQueue, IdentitySource, Ledger, UserDirectory};
use okta_connect_core::queue::{MAX_BATCH_ENTRIES, QueueMessage, ReconcileRequest};
use okta_connect_core::time::UnixMillis;
use serde::Serialize;

use crate::error::SyncError;

/// What a reconcile run saw, at `taken_at` (when reading began). Built by
/// [`Snapshot::new`], which indexes it once: planning looks each user up, never scans.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub taken_at: UnixMillis,
    /// Each mapped source, by id, with its current members.
    pub members: BTreeMap<SourceId, Vec<OktaUser>>,
    /// Every Connect user of the instance.
    pub connect: Vec<ConnectUser>,
    index: Index,
}

/// Positions in a snapshot, by the keys planning looks users up by.
#[derive(Debug, Clone, Default)]
struct Index {
    /// Okta user id → its record in the first list that holds it.
    okta_user: HashMap<String, (SourceId, usize)>,
    /// (source, Okta user id) pairs that are members.
    member_of: HashSet<(SourceId, String)>,
    /// Okta user id → the Connect user tagged for it (the smallest Connect id).
    owned: HashMap<String, usize>,
    connect_by_id: HashMap<String, usize>,
    /// Lower-cased username → Connect user.
    connect_by_name: HashMap<String, usize>,
}

impl Snapshot {
    pub fn new(
        taken_at: UnixMillis,
        members: BTreeMap<SourceId, Vec<OktaUser>>,
        connect: Vec<ConnectUser>,
    ) -> Self {
        let mut index = Index::default();
        for (source, users) in &members {
            for (at, user) in users.iter().enumerate() {
                index
                    .okta_user
                    .entry(user.id.clone())
                    .or_insert_with(|| (source.clone(), at));
                index.member_of.insert((source.clone(), user.id.clone()));
            }
        }
        for (at, user) in connect.iter().enumerate() {
            index.connect_by_id.insert(user.id.clone(), at);
            index
                .connect_by_name
                .entry(user.username.to_lowercase())
                .or_insert(at);
            if let Owner::Okta(okta_id) = Owner::of(user) {
                let held = index.owned.entry(okta_id.to_string()).or_insert(at);
                if connect[*held].id > user.id {
                    *held = at;
                }
            }
        }
        Self {
            taken_at,
            members,
            connect,
            index,
        }
    }

    /// The Okta user's record, if any mapped source lists it.
    fn okta_user(&self, okta_user_id: &str) -> Option<&OktaUser> {
        let (source, at) = self.index.okta_user.get(okta_user_id)?;
        self.members.get(source)?.get(*at)
    }

    fn is_member(&self, source: &SourceId, okta_user_id: &str) -> bool {
        self.index
            .member_of
            .contains(&(source.clone(), okta_user_id.to_string()))
    }

    /// The Connect user tagged for this Okta user.
    fn owned_by(&self, okta_user_id: &str) -> Option<&ConnectUser> {
        self.index
            .owned
            .get(okta_user_id)
            .map(|at| &self.connect[*at])
    }

    fn connect_user(&self, id: &str) -> Option<&ConnectUser> {
        self.index
            .connect_by_id
            .get(id)
            .map(|at| &self.connect[*at])
    }

    fn connect_user_named(&self, username: &str) -> Option<&ConnectUser> {
        self.index
            .connect_by_name
            .get(&username.to_lowercase())
            .map(|at| &self.connect[*at])
    }
}

/// Why a run could not read a consistent picture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error(
        "{name} has no Okta id yet (not found by name in Okta): configure its id or fix the name"
    )]
    Unresolved { name: String },
    #[error("reading {name} from Okta failed, so nothing is applied: {error}")]
    Okta { name: String, error: String },
    #[error("reading Connect's users failed: {0}")]
    Connect(String),
}

/// Reads Okta's members of every source in `config` (bound: names resolved to ids) and
/// every Connect user. Any failed read fails the whole read: an unread group must never
/// look like an empty one.
pub async fn read_snapshot<I: IdentitySource, D: UserDirectory>(
    config: &Config,
    identity: &I,
    directory: &D,
    taken_at: UnixMillis,
) -> Result<Snapshot, ReadError> {
    let mut members = BTreeMap::new();
    for source in unique_sources(config) {
        let Some(id) = source.id.clone() else {
            return Err(ReadError::Unresolved {
                name: source.to_string(),
            });
        };
        let key = SourceId {
            kind: source.kind,
            id,
        };
        let users = identity.members(&key).await.map_err(|e| ReadError::Okta {
            name: source.to_string(),
            error: e.to_string(),
        })?;
        members.insert(key, users);
    }
    let connect = directory
        .search(&UserFilter::All)
        .await
        .map_err(|e| ReadError::Connect(e.to_string()))?;
    Ok(Snapshot::new(taken_at, members, connect))
}

fn unique_sources(config: &Config) -> Vec<&AccessSource> {
    let mut seen = BTreeSet::new();
    config
        .sources()
        .filter(|s| seen.insert((s.kind, s.id.clone().unwrap_or_else(|| s.name.clone()))))
        .collect()
}

/// The snapshot facts of one Okta user: a membership fact (member or not) for every
/// mapped source, and its status when Okta reported it.
pub fn snapshot_facts(
    okta_user_id: &str,
    snapshot: &Snapshot,
    config: &Config,
    run: &str,
) -> Vec<Fact> {
    let mut facts = Vec::new();
    let listed = snapshot.okta_user(okta_user_id);
    // One subject for every fact of the run: Okta's own login when Okta lists the user,
    // else the username of the Connect user tagged for it (a revocation needs one).
    let seen = match listed {
        Some(user) => subject(Some(user)),
        None => UserSnapshot {
            login: snapshot.owned_by(okta_user_id).map(|u| u.username.clone()),
            display_name: None,
        },
    };
    for source in unique_sources(config) {
        let Some(id) = &source.id else { continue };
        let key = SourceId {
            kind: source.kind,
            id: id.clone(),
        };
        let member = snapshot.is_member(&key, okta_user_id);
        facts.push(Fact {
            okta_user_id: okta_user_id.to_string(),
            event_uuid: format!("reconcile:{run}:{}:{id}", kind_text(source.kind)),
            published: snapshot.taken_at,
            subject: seen.clone(),
            assertion: Assertion::Membership {
                source: SourceRef {
                    kind: source.kind,
                    id: id.clone(),
                    name: Some(source.name.clone()),
                },
                member,
            },
        });
    }
    if let Some(user) = listed {
        facts.push(Fact {
            okta_user_id: okta_user_id.to_string(),
            event_uuid: format!("reconcile:{run}:status"),
            published: snapshot.taken_at,
            subject: subject(Some(user)),
            assertion: Assertion::Status {
                status: user.status.lifecycle(),
            },
        });
    }
    facts
}

fn kind_text(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Group => "group",
        SourceKind::App => "app",
    }
}

fn subject(user: Option<&OktaUser>) -> UserSnapshot {
    UserSnapshot {
        login: user.map(|u| u.profile.login.clone()),
        display_name: user.map(|u| {
            [
                u.profile.first_name.as_deref(),
                u.profile.last_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
        }),
    }
}

/// What a run does, or would do, to one Okta user's Connect user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create,
    /// These fields differ.
    Update {
        steps: Vec<StepKind>,
    },
    /// An untagged Connect user with the wanted username becomes this user's.
    Adopt {
        steps: Vec<StepKind>,
    },
    /// Access withdrawn, by the removal policy.
    Revoke {
        steps: Vec<StepKind>,
    },
    Unchanged,
    /// Nothing can be done without an admin; the reason says why.
    Conflict {
        reason: String,
    },
}

impl Action {
    /// The action's one-word name, as tables and logs show it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update { .. } => "update",
            Action::Adopt { .. } => "adopt",
            Action::Revoke { .. } => "revoke",
            Action::Unchanged => "unchanged",
            Action::Conflict { .. } => "conflict",
        }
    }

    pub fn is_revocation(&self) -> bool {
        matches!(self, Action::Revoke { steps } if !steps.is_empty())
    }

    pub fn changes_something(&self) -> bool {
        match self {
            Action::Create => true,
            Action::Update { steps } | Action::Adopt { steps } | Action::Revoke { steps } => {
                !steps.is_empty()
            }
            Action::Unchanged | Action::Conflict { .. } => false,
        }
    }
}

/// One user's line of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserPlan {
    pub okta_user_id: String,
    pub login: Option<String>,
    /// The mapping the user should have, if any.
    pub mapping: Option<String>,
    pub connect_user_id: Option<String>,
    pub action: Action,
}

/// Every Okta user a run looks at: members of any mapped source, and the Okta users the
/// pipeline's own Connect users are tagged for.
pub fn users_in(snapshot: &Snapshot) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = snapshot
        .members
        .values()
        .flatten()
        .map(|u| u.id.clone())
        .collect();
    for user in &snapshot.connect {
        if let Owner::Okta(id) = Owner::of(user) {
            ids.insert(id.to_string());
        }
    }
    ids
}

/// The plan for one user from its facts (ledger's and the snapshot's, newest wins) and
/// the Connect users of the snapshot: pure, so a dry run is exactly what a run would do
/// (up to Okta profile names, which the apply reads).
pub fn plan_user(
    okta_user_id: &str,
    facts: &UserFacts,
    remembered: Option<&str>,
    snapshot: &Snapshot,
    config: &Config,
) -> UserPlan {
    let member = snapshot.okta_user(okta_user_id);
    let desired = desired_user(facts, member.map(|u| &u.profile), config);
    let mut line = UserPlan {
        okta_user_id: okta_user_id.to_string(),
        login: member
            .map(|u| u.profile.login.clone())
            .or_else(|| facts.subject().login),
        mapping: None,
        connect_user_id: None,
        action: Action::Unchanged,
    };
    let desired = match desired {
        Ok(d) => d,
        Err(e) => {
            line.action = Action::Conflict {
                reason: e.to_string(),
            };
            return line;
        }
    };
    if let Desired::Present(want) = &desired {
        line.mapping = Some(want.mapping.clone());
    }
    let owned = remembered
        .and_then(|id| snapshot.connect_user(id))
        .or_else(|| snapshot.owned_by(okta_user_id));
    let username = match &desired {
        Desired::Present(want) => Some(want.username.as_str()),
        Desired::Revoked { username, .. } => Some(username.as_str()),
        Desired::Unmanaged => None,
    };
    let by_name = username.and_then(|name| snapshot.connect_user_named(name));
    let kinds = |steps: Vec<Step>| steps.iter().map(Step::kind).collect::<Vec<_>>();
    // Search summaries carry no email: take it as it should be here (the converge reads
    // the user whole before writing), or every run would plan an identity update.
    let with_email = |user: &ConnectUser| {
        let mut user = user.clone();
        if let Desired::Present(want) = &desired {
            user.identity.email.clone_from(&want.identity.email);
        }
        user
    };
    let owned = owned.map(with_email);
    let by_name = by_name.map(with_email);
    let (owned, by_name) = (owned.as_ref(), by_name.as_ref());
    line.action = match (&desired, owned, by_name) {
        (Desired::Unmanaged, _, _) => Action::Unchanged,
        (Desired::Present(_), Some(user), _) => {
            line.connect_user_id = Some(user.id.clone());
            let steps = kinds(plan(okta_user_id, &desired, Some(user), config.send_email));
            if steps.is_empty() {
                Action::Unchanged
            } else {
                Action::Update { steps }
            }
        }
        (Desired::Present(_), None, Some(user)) => match Owner::of(user) {
            Owner::Okta(other) => Action::Conflict {
                reason: format!(
                    "Connect user {} belongs to Okta user {other}; never touched for {okta_user_id}",
                    user.username
                ),
            },
            Owner::Untagged if config.adopt_existing_users => {
                line.connect_user_id = Some(user.id.clone());
                Action::Adopt {
                    steps: kinds(plan(okta_user_id, &desired, Some(user), config.send_email)),
                }
            }
            Owner::Untagged => Action::Conflict {
                reason: format!(
                    "Connect user {} exists untagged and ADOPT_EXISTING_USERS is false",
                    user.username
                ),
            },
        },
        (Desired::Present(_), None, None) => Action::Create,
        (Desired::Revoked { .. }, Some(user), _) => {
            line.connect_user_id = Some(user.id.clone());
            Action::Revoke {
                steps: kinds(plan(okta_user_id, &desired, Some(user), config.send_email)),
            }
        }
        // Okta itself lists this user (with its login) in a mapped group or app, so an
        // untagged Connect user under that login is its own (adopted, then revoked):
        // more than a username alone.
        (Desired::Revoked { .. }, None, Some(user))
            if member.is_some()
                && config.adopt_existing_users
                && Owner::of(user) == Owner::Untagged =>
        {
            line.connect_user_id = Some(user.id.clone());
            Action::Revoke {
                steps: kinds(plan(okta_user_id, &desired, Some(user), config.send_email)),
            }
        }
        // Otherwise never revoke by username alone.
        (Desired::Revoked { .. }, None, _) => Action::Unchanged,
    };
    if let (Action::Revoke { .. }, Desired::Revoked { removal, .. }) = (&line.action, &desired)
        && removal.lacks_profile()
    {
        line.action = Action::Conflict {
            reason: config.check_revocations_can_run().err().unwrap_or_default(),
        };
    }
    line
}

/// The result of a whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub run_id: String,
    pub taken_at: UnixMillis,
    pub dry_run: bool,
    /// Set when the run stopped before applying: too many revocations.
    pub stopped_at_cap: Option<usize>,
    /// Users handed to the queue for the worker to converge (a queued run), else 0.
    pub queued: usize,
    pub users: Vec<UserPlan>,
}

impl Run {
    pub fn conflicts(&self) -> usize {
        self.users
            .iter()
            .filter(|u| matches!(u.action, Action::Conflict { .. }))
            .count()
    }

    pub fn revocations(&self) -> usize {
        self.users
            .iter()
            .filter(|u| u.action.is_revocation())
            .count()
    }

    /// Users whose Connect user changes (or would).
    pub fn changes(&self) -> usize {
        self.users
            .iter()
            .filter(|u| u.action.changes_something())
            .count()
    }
}

/// Where a run is, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Okta's and Connect's state has been read: this many users to plan.
    Read { users: usize },
    /// Applying: `done` of `of` changing users converged (or queued).
    Applied { done: usize, of: usize },
}

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub run_id: String,
    pub dry_run: bool,
    /// More planned revocations than this stop the run before anything is applied.
    pub max_revocations: usize,
    /// Only this Okta user (id or login).
    pub only: Option<String>,
}

/// Snapshot facts recorded at once: enough to hide DynamoDB's latency, few enough to
/// stay far below a table's write capacity.
const FACT_WRITES_IN_FLIGHT: usize = 16;

/// A planned run, before anything is written: the plan, and what applying it records.
#[derive(Debug, Clone)]
pub struct Planned {
    pub run: Run,
    /// Each planned user's snapshot facts.
    facts_of: BTreeMap<String, Vec<Fact>>,
    /// Each planned user's remembered Connect user, as the ledger held it.
    remembered: BTreeMap<String, Option<String>>,
}

impl Planned {
    /// Whether applying may go ahead: not a dry run, and within the revocation cap.
    pub fn proceeds(&self) -> bool {
        !self.run.dry_run && self.run.stopped_at_cap.is_none()
    }
}

/// Plans every user of `snapshot` from the ledger's facts merged with the snapshot's
/// (reads only). Marks the run stopped at the cap when it would revoke more users than
/// `options.max_revocations` (a dry run never stops: it shows what a run would do).
pub async fn plan_run<L: Ledger>(
    snapshot: &Snapshot,
    config: &Config,
    ledger: &L,
    options: &RunOptions,
) -> Result<Planned, SyncError> {
    let mut users = Vec::new();
    let mut facts_of = BTreeMap::new();
    let mut remembered = BTreeMap::new();
    for okta_user_id in users_in(snapshot) {
        let record = ledger.user_record(&okta_user_id).await?;
        let facts = snapshot_facts(&okta_user_id, snapshot, config, &options.run_id);
        let mut merged = record.facts.clone();
        for fact in &facts {
            merged.record(fact.clone());
        }
        let line = plan_user(
            &okta_user_id,
            &merged,
            record.connect_user_id.as_deref(),
            snapshot,
            config,
        );
        if let Some(only) = &options.only
            && *only != line.okta_user_id
            && !line
                .login
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case(only))
        {
            continue;
        }
        remembered.insert(okta_user_id.clone(), record.connect_user_id);
        facts_of.insert(okta_user_id, facts);
        users.push(line);
    }
    let mut run = Run {
        run_id: options.run_id.clone(),
        taken_at: snapshot.taken_at,
        dry_run: options.dry_run,
        stopped_at_cap: None,
        queued: 0,
        users,
    };
    if !options.dry_run && run.revocations() > options.max_revocations {
        run.stopped_at_cap = Some(options.max_revocations);
    }
    Ok(Planned {
        run,
        facts_of,
        remembered,
    })
}

/// Records every planned user's snapshot facts (a later event is judged against them,
/// changing or not) and makes each planned adoption the remembered Connect user, so the
/// converge acts on exactly the user the plan named.
async fn record(planned: &Planned, ledger: &impl Ledger) -> Result<(), SyncError> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    stream::iter(planned.facts_of.values().flatten())
        .map(|fact| async move { ledger.record_fact(fact).await.map(|_| ()) })
        .buffer_unordered(FACT_WRITES_IN_FLIGHT)
        .try_collect::<()>()
        .await?;
    for line in &planned.run.users {
        let known = planned
            .remembered
            .get(&line.okta_user_id)
            .cloned()
            .flatten();
        if let (Some(planned_id), None, true) = (
            &line.connect_user_id,
            known,
            line.action.changes_something(),
        ) {
            ledger
                .remember_connect_user(&line.okta_user_id, Some(planned_id))
                .await?;
        }
    }
    Ok(())
}

/// Plans every user of `snapshot`; then, unless a dry run or above the cap, records each
/// user's snapshot facts and converges each changing user with `converge` (the engine's
/// leased, paced converge), replacing its planned action by what the converge did.
pub async fn run<L, F, Fut>(
    snapshot: &Snapshot,
    config: &Config,
    ledger: &L,
    options: &RunOptions,
    mut converge: F,
) -> Result<Run, SyncError>
where
    L: Ledger,
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<Converged, SyncError>>,
{
    let planned = plan_run(snapshot, config, ledger, options).await?;
    apply(planned, ledger, &mut converge, &|_| {}).await
}

/// Applies a planned run in this process: records its facts and converges each changing
/// user with `converge`, one at a time (the converge is paced), telling `progress`.
/// Returns the plan unchanged when it does not proceed.
pub async fn apply<L, F, Fut>(
    planned: Planned,
    ledger: &L,
    converge: &mut F,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Run, SyncError>
where
    L: Ledger,
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<Converged, SyncError>>,
{
    if !planned.proceeds() {
        return Ok(planned.run);
    }
    record(&planned, ledger).await?;
    let mut result = planned.run;
    let changing = result.changes();
    let mut applied = 0;
    for line in &mut result.users {
        if !line.action.changes_something() {
            continue;
        }
        let converged = converge(line.okta_user_id.clone()).await;
        applied += 1;
        progress(Progress::Applied {
            done: applied,
            of: changing,
        });
        line.action = match converged {
            Ok(done) => {
                line.connect_user_id = done.connect_user_id.clone();
                done_action(&line.action, done.steps)
            }
            Err(e) => Action::Conflict {
                reason: e.to_string(),
            },
        };
    }
    Ok(result)
}

/// Sends attempts per batch before a run gives up on the queue.
const QUEUE_ATTEMPTS: u32 = 3;

/// Applies a planned run through the queue: records its facts, then queues one
/// [`ReconcileRequest`] per changing user, for workers to converge at the pace of the
/// account's quotas. Entries the queue refuses are sent again (twice); a queue that keeps
/// refusing fails the run (the requests already queued stay valid: the next run plans
/// from what they changed). Returns the plan with `queued` set.
pub async fn enqueue<L: Ledger, Q: EventQueue>(
    planned: Planned,
    ledger: &L,
    queue: &Q,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Run, SyncError> {
    if !planned.proceeds() {
        return Ok(planned.run);
    }
    record(&planned, ledger).await?;
    let mut run = planned.run;
    let requests: Vec<QueueMessage> = run
        .users
        .iter()
        .filter(|u| u.action.changes_something())
        .enumerate()
        .map(|(at, line)| {
            ReconcileRequest {
                run_id: run.run_id.clone(),
                okta_user_id: line.okta_user_id.clone(),
                taken_at: run.taken_at,
            }
            .to_message(at.to_string())
        })
        .collect();
    let of = requests.len();
    for batch in requests.chunks(MAX_BATCH_ENTRIES) {
        let mut pending = batch.to_vec();
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let refused = queue.send_batch(&pending).await.map_err(|e| {
                SyncError::Transient(format!("queueing reconcile requests failed: {e}"))
            })?;
            if refused.is_empty() {
                break;
            }
            if attempt >= QUEUE_ATTEMPTS {
                let why = refused
                    .first()
                    .map(|r| r.reason.clone())
                    .unwrap_or_default();
                return Err(SyncError::Transient(format!(
                    "the queue refused {} reconcile request(s) {QUEUE_ATTEMPTS} times: {why}",
                    refused.len()
                )));
            }
            pending.retain(|m| refused.iter().any(|r| r.entry_id == m.entry_id));
        }
        run.queued += batch.len();
        progress(Progress::Applied {
            done: run.queued,
            of,
        });
    }
    Ok(run)
}

/// The planned action, with the steps the converge really took.
fn done_action(planned: &Action, steps: Vec<StepKind>) -> Action {
    match planned {
        _ if steps.is_empty() => Action::Unchanged,
        Action::Adopt { .. } => Action::Adopt { steps },
        Action::Revoke { .. } => Action::Revoke { steps },
        _ if steps.contains(&StepKind::Create) => Action::Create,
        _ => Action::Update { steps },
    }
}
