//! The operator's settings: `config.ini`, overridden key by key from the environment.
//!
//! [`Config::parse`] is the only way in. It validates everything once and reports every
//! problem with the section, key and line (or environment variable) it came from, so a
//! Lambda fails at cold start with a message an admin can act on, never mid-request.
//!
//! Compatible with the original sample's file: `[OKTA] APP_NAME / GROUP_NAME` and
//! `[Connect] ROUTING_PROFILE_ID / SECURITY_PROFILE_IDS / INSTANCE_ID` still form one
//! access mapping, named `default`.

pub mod ini;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

pub use ini::Origin;
use ini::{Entry, Section, normalize};

/// Environment variables named `OKTA_CONNECT__{SECTION}__{KEY}` override (or add) one
/// key. `{SECTION}` and `{KEY}` are upper-cased with every other character turned into
/// `_`: `[Mapping supervisors] PRIORITY` is `OKTA_CONNECT__MAPPING_SUPERVISORS__PRIORITY`.
pub const ENV_PREFIX: &str = "OKTA_CONNECT__";

/// Priority of the mapping formed by the sample's `[OKTA]`/`[Connect]` keys: last resort,
/// so any `[Mapping …]` section outranks it unless it asks for a larger number.
pub const DEFAULT_MAPPING_PRIORITY: u32 = 1000;

/// Connect allows 1–10 security profiles per user.
pub const MAX_SECURITY_PROFILES: usize = 10;

/// An Amazon Connect resource id: five dash-separated groups of 8-4-4-4-12 ASCII letters
/// or digits. Connect issues UUIDs; letters beyond hex are accepted because the original
/// sample's documented instance id (`abcdefgh-0122-…`) uses them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ConnectId(String);

impl ConnectId {
    /// Checks the shape; `None` if `text` is not an id.
    pub fn parse(text: &str) -> Option<Self> {
        let groups: Vec<&str> = text.split('-').collect();
        let shape_ok = groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_alphanumeric()));
        shape_ok.then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What happens to a Connect user whose Okta user left every mapping, or was deactivated
/// or suspended. Connect has no "disabled" state, hence the no-permission profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "policy", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RemovalPolicy {
    /// DeleteUser. The user's history stays in Connect's reports; the login is gone.
    Delete,
    /// Keep the user but replace its security profiles with this one (one that grants
    /// nothing), so it can sign in to nothing and be restored with its id, audit history
    /// and quick connects intact. `None`: `[Sync] NO_PERMISSION_SECURITY_PROFILE_ID` is
    /// unset, for a deployment whose stack creates the profile and sets the key; nothing
    /// runs a revocation without it ([`Config::unset_no_permission_profile`]).
    NoPermission {
        security_profile_id: Option<ConnectId>,
    },
    /// Leave the Connect user as it is.
    Ignore,
}

/// Which Okta attribute becomes the Connect username. Under SAML it must equal what
/// Okta sends as the role session name, which is the Okta login unless the app was
/// configured otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UsernameSource {
    /// The Okta login (`jane.doe@acme.example`).
    Login,
    /// The part of the login before `@` (`jane.doe`).
    LoginLocalPart,
    /// The profile's email; needs the Okta API, else falls back to the login.
    Email,
}

impl RemovalPolicy {
    /// This policy with the no-permission profile `id` filled in where it needs one.
    fn with_profile(self, id: Option<&ConnectId>) -> Self {
        match self {
            RemovalPolicy::NoPermission { .. } => RemovalPolicy::NoPermission {
                security_profile_id: id.cloned(),
            },
            other => other,
        }
    }

    /// Whether this policy needs a no-permission profile that is not configured.
    pub fn lacks_profile(&self) -> bool {
        matches!(
            self,
            RemovalPolicy::NoPermission {
                security_profile_id: None
            }
        )
    }
}

impl fmt::Display for RemovalPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemovalPolicy::Delete => f.write_str("delete the Connect user"),
            RemovalPolicy::NoPermission {
                security_profile_id: Some(id),
            } => write!(f, "keep the Connect user with only security profile {id}"),
            RemovalPolicy::NoPermission {
                security_profile_id: None,
            } => f.write_str(
                "keep the Connect user with only the no-permission security profile \
                 (NO_PERMISSION_SECURITY_PROFILE_ID, unset)",
            ),
            RemovalPolicy::Ignore => f.write_str("leave the Connect user as it is"),
        }
    }
}

impl fmt::Display for UsernameSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UsernameSource::Login => "the Okta login",
            UsernameSource::LoginLocalPart => "the Okta login before @",
            UsernameSource::Email => "the Okta email",
        })
    }
}

/// What happens when the Connect username an Okta user should have differs from the one
/// of the Connect user it owns (a changed login, or a changed `USERNAME_SOURCE`).
/// Connect cannot rename a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LoginChange {
    /// Revoke the old Connect user by the removal policy, then create one under the new
    /// username (SAML sign-in needs the new one).
    Replace,
    /// Fail the event permanently (to the DLQ) and leave both names to an admin.
    Fail,
}

impl fmt::Display for LoginChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoginChange::Replace => {
                "revoke the old Connect user by the removal policy and create one under the new username"
            }
            LoginChange::Fail => "fail the event for an admin to decide",
        })
    }
}

/// Client-side pacing of Connect calls: Connect's quota is per account and Region, by
/// default 2 requests/s with a burst of 5 for most user APIs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pacing {
    pub requests_per_second: f64,
    pub burst: u32,
}

/// The Okta event types that mean "added to" / "removed from" an app or a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembershipEventTypes {
    pub app_add: String,
    pub app_remove: String,
    pub group_add: String,
    pub group_remove: String,
}

/// An Okta group or app that grants a Connect user, as `config.ini` names it: by its
/// Okta id (`00g…` group, `0oa…` app: preferred, renames never break it) or by name (a
/// group's name, an app instance's *label*).
///
/// A source named by name matches by that name only until its id is known
/// ([`Config::with_bindings`]): from then on it matches by id, so renaming the group in
/// Okta orphans nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessSource {
    pub kind: SourceKind,
    /// What `config.ini` says: a name, a label or an id.
    pub name: String,
    /// The Okta id: the configured value when it is one, else the id the name was
    /// bound to; `None` while unknown.
    pub id: Option<String>,
}

impl fmt::Display for AccessSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            SourceKind::Group => "group",
            SourceKind::App => "app",
        };
        match &self.id {
            Some(id) if *id != self.name => write!(f, "{kind} {:?} ({id})", self.name),
            _ => write!(f, "{kind} {:?}", self.name),
        }
    }
}

impl AccessSource {
    /// A group named by name or by id (`00g` + 17 letters or digits).
    pub fn group(name: impl Into<String>) -> Self {
        Self::new(SourceKind::Group, name.into())
    }

    /// An app instance named by label or by id (`0oa` + 17 letters or digits).
    pub fn app(name: impl Into<String>) -> Self {
        Self::new(SourceKind::App, name.into())
    }

    fn new(kind: SourceKind, name: String) -> Self {
        let name = name.trim().to_string();
        let id = is_okta_id(kind, &name).then(|| name.clone());
        Self { kind, name, id }
    }

    /// Whether `config.ini` gave the id itself (not a name to resolve).
    pub fn configured_by_id(&self) -> bool {
        self.id.as_deref() == Some(self.name.as_str())
    }

    /// Whether an Okta group/app with this id and name is this source. By id once the id
    /// is known; before that by name, case-insensitively as Okta compares group names.
    /// For apps `name` must be the instance label (an event's `alternateId`), never the
    /// catalog name that every instance of the app shares.
    pub fn matches(&self, kind: SourceKind, id: Option<&str>, name: Option<&str>) -> bool {
        if self.kind != kind {
            return false;
        }
        match &self.id {
            Some(own) => id == Some(own.as_str()),
            None => name.is_some_and(|n| same_name(n, &self.name)),
        }
    }
}

/// Okta's names compare case-insensitively, ignoring surrounding blanks.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Whether `text` has the shape of an Okta id of this kind: `00g…` (group) or `0oa…`
/// (app) followed by 17 ASCII letters or digits.
pub fn is_okta_id(kind: SourceKind, text: &str) -> bool {
    let prefix = match kind {
        SourceKind::Group => "00g",
        SourceKind::App => "0oa",
    };
    text.len() == 20 && text.starts_with(prefix) && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A configured name and the Okta id it was found to have. Kept by the ledger so that
/// later events (after a rename) still match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SourceBinding {
    pub kind: SourceKind,
    /// The configured name, as [`AccessSource::name`].
    pub name: String,
    pub id: String,
    /// The name the Okta object had when bound (may differ in case or, after a rename
    /// in `config.ini`, entirely).
    pub okta_name: String,
    pub bound_by: BoundBy,
    pub bound_at: crate::time::UnixMillis,
}

impl SourceBinding {
    /// The slot a binding holds: its kind and configured name, lower-cased. Stable text,
    /// so ledgers can store it as a key.
    pub fn slot(&self) -> String {
        let kind = match self.kind {
            SourceKind::Group => "group",
            SourceKind::App => "app",
        };
        format!("{kind}#{}", self.name.trim().to_lowercase())
    }

    /// Whether storing `self` replaces `held` (the binding in the same slot, if any).
    pub fn replaces(&self, held: Option<&SourceBinding>) -> bool {
        held.is_none() || self.bound_by == BoundBy::Api
    }
}

/// How a configured name came to be bound to an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundBy {
    /// Okta's API found the group by name or the app by label: authoritative, replaces
    /// an earlier binding.
    Api,
    /// The first membership event that carried both the name and the id; never replaces
    /// a binding.
    Event,
}

impl fmt::Display for BoundBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BoundBy::Api => "Okta API",
            BoundBy::Event => "first event",
        })
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Group,
    App,
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceKind::Group => "group",
            SourceKind::App => "app",
        })
    }
}

/// An Okta group and/or app → the Connect profiles its members get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessMapping {
    pub name: String,
    /// Membership of any one of these grants the mapping.
    pub sources: Vec<AccessSource>,
    pub routing_profile_id: ConnectId,
    pub security_profile_ids: Vec<ConnectId>,
    pub hierarchy_group_id: Option<ConnectId>,
    /// Smaller wins when a user matches several mappings.
    pub priority: u32,
}

/// The whole validated configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub instance_id: ConnectId,
    /// AWS Region of the Connect instance; `None` means the SDK's usual chain decides.
    pub region: Option<String>,
    /// Whether Connect users get `IdentityInfo.Email` (some SAML setups reject it).
    pub send_email: bool,
    pub pacing: Pacing,
    pub events: MembershipEventTypes,
    /// Sorted by priority, winner first.
    pub mappings: Vec<AccessMapping>,
    /// What revocation means when the Okta user left every mapping, was deactivated, or
    /// its login changed.
    pub removal: RemovalPolicy,
    /// What revocation means while the Okta user is suspended: by default the
    /// no-permission profile, so an unsuspend restores the same Connect user.
    pub suspension: RemovalPolicy,
    pub username_source: UsernameSource,
    /// Whether an existing, untagged Connect user with the wanted username becomes this
    /// pipeline's own (tagged) instead of a conflict.
    pub adopt_existing_users: bool,
    /// What a changed login (or `USERNAME_SOURCE`) does to a user who keeps access.
    pub on_login_change: LoginChange,
    /// How long the ledger keeps a processed event's record (its de-duplication window).
    pub ledger_retention_days: u32,
    pub ingest: IngestSettings,
    pub deploy: DeploySettings,
    /// Okta's management API, when `[OktaApi] ORG_URL` is set: real names, ids of
    /// configured names, reconcile and replay. `None`: events alone.
    pub okta_api: Option<OktaApiConfig>,
    pub reconcile: ReconcileSettings,
}

/// How reconcile runs behave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileSettings {
    /// A run that would revoke more Connect users than this applies nothing and says so
    /// (a mapping typo must not delete the contact centre).
    pub max_revocations: u32,
    /// When the deployed reconcile runs: an EventBridge Scheduler expression,
    /// `rate(N unit)` (at least 15 minutes: a run may take that long) or a six-field
    /// `cron(...)` in UTC.
    pub schedule: String,
    /// Whether the deployed schedule is on; off, the reconcile Lambda still runs when
    /// invoked by hand.
    pub schedule_enabled: bool,
}

/// The default reconcile schedule: once a day catches dropped deliveries and drift
/// within a day at a few dozen Okta and Connect reads per thousand users.
pub const DEFAULT_RECONCILE_SCHEDULE: &str = "rate(1 day)";

/// How the pipeline reaches Okta's management API. The credential itself is never here:
/// [`OktaApiConfig::credentials`] says where to read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OktaApiConfig {
    /// `https://acme.okta.com` (no path). `http://` only for a loopback emulator.
    pub org_url: String,
    pub auth: OktaApiAuth,
    /// Where the private key (PEM) or API token is.
    pub credentials: CredentialSource,
    /// Bound on every Okta call, in seconds.
    pub timeout_seconds: u32,
    /// Okta calls in flight at once from one process (Okta allows 75 per org).
    pub max_concurrent_requests: u32,
}

/// Which Okta credential the pipeline presents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum OktaApiAuth {
    /// An OAuth 2.0 service app, client credentials with `private_key_jwt`: Okta's
    /// recommended way, scoped to read-only calls. The credential is the private key.
    PrivateKeyJwt {
        client_id: String,
        /// The key's `kid` as Okta shows it; needed when the app has several keys.
        key_id: Option<String>,
    },
    /// An SSWS API token (inherits its admin's rights; expires after 30 idle days).
    ApiToken,
}

/// The scopes the service app needs: reading users, groups, apps and the System Log.
pub const OKTA_API_SCOPES: &[&str] = &[
    "okta.users.read",
    "okta.groups.read",
    "okta.apps.read",
    "okta.logs.read",
];

/// Where a credential is read from, at start-up only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", content = "name", rename_all = "snake_case")]
pub enum CredentialSource {
    /// `env:NAME`: an environment variable.
    Env(String),
    /// `file:PATH`: a file, relative to `config.ini`'s folder.
    File(String),
    /// `secret:ARN_OR_NAME`: an AWS Secrets Manager secret (deployed stacks).
    Secret(String),
}

/// Where the credential is read from when `[OktaApi] CREDENTIALS` is not set.
pub const DEFAULT_OKTA_CREDENTIALS_VAR: &str = "OKTA_CONNECT_OKTA_CREDENTIALS";

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Env(v) => write!(f, "environment variable {v}"),
            CredentialSource::File(p) => write!(f, "file {p}"),
            CredentialSource::Secret(s) => write!(f, "Secrets Manager secret {s}"),
        }
    }
}

/// What `cdk deploy` builds around the pipeline. Read by the CDK app through
/// `okta-connect check-config --json`, so the Rust side validates it once for both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploySettings {
    pub stack_name: String,
    /// SQS messages per worker invocation (1–10; the worker paces Connect anyway).
    pub batch_size: u32,
    /// Concurrent worker invocations (SQS event source `MaximumConcurrency`, 2–1000).
    pub max_concurrency: u32,
    /// Alarm notifications go to an SNS topic with this email subscribed, if set.
    pub alarm_email: Option<String>,
    pub log_retention_days: u32,
    /// Create the IAM SAML provider and federation role for Okta sign-in.
    pub saml: Option<SamlFederation>,
}

/// The optional SAML federation between Okta and the Connect instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SamlFederation {
    /// Okta's IdP metadata XML, relative to config.ini's folder.
    pub metadata_file: String,
    pub provider_name: String,
}
/// The ingest endpoint's settings. The secret's value is never here: it comes from
/// Secrets Manager or the environment, so `config.ini` can be committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestSettings {
    /// The header Okta sends the shared secret in (Okta's `authScheme.key`), lower-case.
    pub secret_header: String,
    /// Larger bodies are refused with 413 before parsing (after the secret is checked).
    /// Default 6 MiB: the largest request Lambda's synchronous invocation (6 MB payload,
    /// the API Gateway event included) can hand over; API Gateway's HTTP API accepts
    /// 10 MB. At most 10 MiB.
    pub max_body_bytes: usize,
}

impl IngestSettings {
    /// Reads and validates only `[Ingest]` (with its `OKTA_CONNECT__INGEST__*`
    /// overrides); other sections are not looked at. The endpoint that makes Okta's
    /// events durable must keep running whatever a worker-only setting says: a mistake
    /// in `[Connect]` then delays provisioning, it does not lose events.
    pub fn parse<I, K, V>(text: &str, env: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let sections = sections_with_overrides(text, env)?;
        let mut validator = Validator::default();
        let section = sections.iter().find(|s| normalize(&s.name) == "INGEST");
        if let Some(section) = section {
            for entry in &section.entries {
                if !INGEST_KEYS.contains(&normalize(&entry.key).as_str()) {
                    validator.issue(
                        format!("[{}] {}", section.name, entry.key),
                        &entry.origin,
                        format!(
                            "unknown key; [{}] accepts {}",
                            section.name,
                            INGEST_KEYS.join(", ")
                        ),
                    );
                }
            }
        }
        let settings = validator.ingest(&view("Ingest", section));
        if validator.issues.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError {
                issues: validator.issues,
            })
        }
    }
}

/// One problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// `[Section] KEY`, or `[Section]`, or empty for file-level problems.
    pub key: String,
    pub origin: Origin,
    pub problem: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.origin, self.key.is_empty()) {
            (Origin::Unset, true) => write!(f, "{}", self.problem),
            (Origin::Unset, false) => write!(f, "{}: {}", self.key, self.problem),
            (origin, true) => write!(f, "{origin}: {}", self.problem),
            (origin, false) => write!(f, "{} ({origin}): {}", self.key, self.problem),
        }
    }
}

/// Every problem found, in file order. Permanent: the config must be fixed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration")?;
        for issue in &self.issues {
            write!(f, "\n  - {issue}")?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// The issue about `key` (`"[Connect] INSTANCE_ID"`), compared case-insensitively.
    pub fn issue_for(&self, key: &str) -> Option<&ConfigIssue> {
        self.issues.iter().find(|i| i.key.eq_ignore_ascii_case(key))
    }
}

const OKTA_KEYS: &[&str] = &[
    "APP_NAME",
    "GROUP_NAME",
    "APP_MEMBERSHIP_ADD_EVENT",
    "APP_MEMBERSHIP_REMOVE_EVENT",
    "GROUP_MEMBERSHIP_ADD_EVENT",
    "GROUP_MEMBERSHIP_REMOVE_EVENT",
];
const CONNECT_KEYS: &[&str] = &[
    "INSTANCE_ID",
    "REGION",
    "ROUTING_PROFILE_ID",
    "SECURITY_PROFILE_IDS",
    "HIERARCHY_GROUP_ID",
    "SEND_EMAIL",
    "REQUESTS_PER_SECOND",
    "BURST",
];
const SYNC_KEYS: &[&str] = &[
    "REMOVAL_POLICY",
    "SUSPEND_POLICY",
    "NO_PERMISSION_SECURITY_PROFILE_ID",
    "USERNAME_SOURCE",
    "LEDGER_RETENTION_DAYS",
    "ADOPT_EXISTING_USERS",
    "ON_LOGIN_CHANGE",
];
const INGEST_KEYS: &[&str] = &["SECRET_HEADER", "MAX_BODY_BYTES"];
const RECONCILE_KEYS: &[&str] = &["MAX_REVOCATIONS", "SCHEDULE", "SCHEDULE_ENABLED"];
const OKTA_API_KEYS: &[&str] = &[
    "ORG_URL",
    "CLIENT_ID",
    "KEY_ID",
    "CREDENTIALS",
    "TIMEOUT_SECONDS",
    "MAX_CONCURRENT_REQUESTS",
];
const DEPLOY_KEYS: &[&str] = &[
    "STACK_NAME",
    "BATCH_SIZE",
    "MAX_CONCURRENCY",
    "ALARM_EMAIL",
    "LOG_RETENTION_DAYS",
    "SAML_FEDERATION",
    "SAML_METADATA_FILE",
    "SAML_PROVIDER_NAME",
];
const MAPPING_KEYS: &[&str] = &[
    "GROUP",
    "APP",
    "ROUTING_PROFILE_ID",
    "SECURITY_PROFILE_IDS",
    "HIERARCHY_GROUP_ID",
    "PRIORITY",
];

const MAPPING_PREFIX: &str = "MAPPING ";

impl Config {
    /// The policy keys that are `NO_PERMISSION` while `[Sync]
    /// NO_PERMISSION_SECURITY_PROFILE_ID` is unset (empty: every policy can run). A
    /// process that may revoke refuses to start while this is not empty; the stack
    /// creates a no-permission profile and sets the key for its Lambdas.
    pub fn unset_no_permission_profile(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.removal.lacks_profile() {
            keys.push("REMOVAL_POLICY");
        }
        if self.suspension.lacks_profile() {
            keys.push("SUSPEND_POLICY");
        }
        keys
    }

    /// The [`Config::unset_no_permission_profile`] check as an error naming the key.
    pub fn check_revocations_can_run(&self) -> Result<(), String> {
        match self.unset_no_permission_profile().as_slice() {
            [] => Ok(()),
            keys => Err(format!(
                "[Sync] NO_PERMISSION_SECURITY_PROFILE_ID is unset but {} = NO_PERMISSION: set it \
                 to the id of a security profile that grants nothing (a deployed stack creates \
                 one and sets it itself)",
                keys.join(" and ")
            )),
        }
    }

    /// Parses INI text with no environment overrides.
    pub fn from_ini(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, std::iter::empty::<(String, String)>())
    }

    /// Parses INI text, then applies `OKTA_CONNECT__SECTION__KEY` overrides from `env`
    /// (pass `std::env::vars()` at a binary's edge), then validates. Other variables in
    /// `env` are ignored.
    pub fn parse<I, K, V>(text: &str, env: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let sections = sections_with_overrides(text, env)?;
        Validator::default().run(&sections)
    }

    /// The mapping with this name.
    pub fn mapping(&self, name: &str) -> Option<&AccessMapping> {
        self.mappings.iter().find(|m| m.name == name)
    }

    /// Every configured source, in mapping order (a source named by two mappings
    /// appears twice).
    pub fn sources(&self) -> impl Iterator<Item = &AccessSource> {
        self.mappings.iter().flat_map(|m| m.sources.iter())
    }

    /// The configured sources named by name whose id is not known yet.
    pub fn unbound_sources(&self) -> impl Iterator<Item = &AccessSource> {
        self.sources().filter(|s| s.id.is_none())
    }

    /// This config with every name-configured source that has a binding matched by id
    /// from now on. Bindings for names no longer configured are ignored.
    pub fn with_bindings(&self, bindings: &[SourceBinding]) -> Config {
        let mut bound = self.clone();
        for source in bound.mappings.iter_mut().flat_map(|m| m.sources.iter_mut()) {
            if source.id.is_some() {
                continue;
            }
            if let Some(b) = bindings
                .iter()
                .find(|b| b.kind == source.kind && same_name(&b.name, &source.name))
            {
                source.id = Some(b.id.clone());
            }
        }
        bound
    }
}

/// The INI text's sections with the `OKTA_CONNECT__…` overrides of `env` applied.
fn sections_with_overrides<I, K, V>(text: &str, env: I) -> Result<Vec<Section>, ConfigError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut sections = ini::parse(text).map_err(|e| ConfigError {
        issues: vec![ConfigIssue {
            key: String::new(),
            origin: Origin::Line(e.line),
            problem: e.problem,
        }],
    })?;
    apply_env(&mut sections, env);
    Ok(sections)
}

fn apply_env<I, K, V>(sections: &mut Vec<Section>, env: I)
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    // Sorted so that two variables naming one key resolve the same way on every run.
    let overrides: BTreeMap<String, String> = env
        .into_iter()
        .filter(|(k, _)| k.as_ref().starts_with(ENV_PREFIX))
        .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().trim().to_string()))
        .collect();
    for (var, value) in overrides {
        let Some((section_name, key)) = var[ENV_PREFIX.len()..].split_once("__") else {
            continue;
        };
        let index = match sections
            .iter()
            .position(|s| normalize(&s.name) == section_name)
        {
            Some(i) => i,
            None => {
                let name = match section_name.strip_prefix("MAPPING_") {
                    Some(mapping) => format!("Mapping {}", mapping.to_lowercase()),
                    None => section_name.to_string(),
                };
                sections.push(Section {
                    name,
                    origin: Origin::Env(var.clone()),
                    entries: Vec::new(),
                });
                sections.len() - 1
            }
        };
        let section = &mut sections[index];
        let origin = Origin::Env(var.clone());
        match section
            .entries
            .iter_mut()
            .find(|e| normalize(&e.key) == key)
        {
            Some(entry) => {
                entry.value = value;
                entry.origin = origin;
            }
            None => section.entries.push(Entry {
                key: key.to_string(),
                value,
                origin,
            }),
        }
    }
}

#[derive(Default)]
struct Validator {
    issues: Vec<ConfigIssue>,
}

/// A section's entries, looked up by canonical key; absent sections read as empty.
struct View<'a> {
    label: String,
    section: Option<&'a Section>,
}

/// A view of `section`, labelled by its own name or, when absent, by `label`.
fn view<'a>(label: &str, section: Option<&'a Section>) -> View<'a> {
    View {
        label: section.map_or_else(|| label.to_string(), |s| s.name.clone()),
        section,
    }
}

impl View<'_> {
    fn entry(&self, key: &str) -> Option<&Entry> {
        self.section.and_then(|s| s.get(key))
    }

    /// The value, treating an empty value as unset.
    fn value(&self, key: &str) -> Option<(&str, &Origin)> {
        self.entry(key)
            .filter(|e| !e.value.is_empty())
            .map(|e| (e.value.as_str(), &e.origin))
    }

    fn key(&self, key: &str) -> String {
        format!("[{}] {key}", self.label)
    }
}

impl Validator {
    fn issue(&mut self, key: String, origin: &Origin, problem: impl Into<String>) {
        self.issues.push(ConfigIssue {
            key,
            origin: origin.clone(),
            problem: problem.into(),
        });
    }

    fn run(mut self, sections: &[Section]) -> Result<Config, ConfigError> {
        let mut okta = None;
        let mut connect = None;
        let mut sync = None;
        let mut ingest = None;
        let mut deploy = None;
        let mut okta_api = None;
        let mut reconcile = None;
        let mut mapping_sections = Vec::new();
        for section in sections {
            let upper = section.name.to_ascii_uppercase();
            let allowed = match normalize(&section.name).as_str() {
                "OKTA" => {
                    okta = Some(section);
                    OKTA_KEYS
                }
                "CONNECT" => {
                    connect = Some(section);
                    CONNECT_KEYS
                }
                "SYNC" => {
                    sync = Some(section);
                    SYNC_KEYS
                }
                "INGEST" => {
                    ingest = Some(section);
                    INGEST_KEYS
                }
                "DEPLOY" => {
                    deploy = Some(section);
                    DEPLOY_KEYS
                }
                "OKTAAPI" => {
                    okta_api = Some(section);
                    OKTA_API_KEYS
                }
                "RECONCILE" => {
                    reconcile = Some(section);
                    RECONCILE_KEYS
                }
                _ if upper.starts_with(MAPPING_PREFIX)
                    && !section.name[MAPPING_PREFIX.len()..].trim().is_empty() =>
                {
                    mapping_sections.push(section);
                    MAPPING_KEYS
                }
                _ => {
                    self.issue(
                        format!("[{}]", section.name),
                        &section.origin,
                        "unknown section; expected [OKTA], [Connect], [Sync], [Ingest], [Deploy], [OktaApi], [Reconcile] or [Mapping NAME]",
                    );
                    continue;
                }
            };
            for entry in &section.entries {
                if !allowed.contains(&normalize(&entry.key).as_str()) {
                    self.issue(
                        format!("[{}] {}", section.name, entry.key),
                        &entry.origin,
                        format!(
                            "unknown key; [{}] accepts {}",
                            section.name,
                            allowed.join(", ")
                        ),
                    );
                }
            }
        }
        let (okta, connect, sync, ingest, deploy, okta_api) = (
            view("OKTA", okta),
            view("Connect", connect),
            view("Sync", sync),
            view("Ingest", ingest),
            view("Deploy", deploy),
            view("OktaApi", okta_api),
        );
        let reconcile = view("Reconcile", reconcile);

        let instance_id = self.required_id(&connect, "INSTANCE_ID");
        let region = connect.value("REGION").and_then(|(v, origin)| {
            let ok = v.len() <= 32
                && v.split('-').count() >= 3
                && v.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                self.issue(
                    connect.key("REGION"),
                    origin,
                    format!("{v:?} is not an AWS Region name such as us-east-1"),
                );
            }
            ok.then(|| v.to_string())
        });
        let send_email = self.boolean(&connect, "SEND_EMAIL", false);
        let requests_per_second = self.number(&connect, "REQUESTS_PER_SECOND", 2.0_f64, |v| {
            v.is_finite() && v > 0.0 && v <= 1000.0
        });
        let burst = self.number(&connect, "BURST", 5_u32, |v| (1..=1000).contains(&v));
        let events = MembershipEventTypes {
            app_add: self.event_type(
                &okta,
                "APP_MEMBERSHIP_ADD_EVENT",
                "application.user_membership.add",
            ),
            app_remove: self.event_type(
                &okta,
                "APP_MEMBERSHIP_REMOVE_EVENT",
                "application.user_membership.remove",
            ),
            group_add: self.event_type(
                &okta,
                "GROUP_MEMBERSHIP_ADD_EVENT",
                "group.user_membership.add",
            ),
            group_remove: self.event_type(
                &okta,
                "GROUP_MEMBERSHIP_REMOVE_EVENT",
                "group.user_membership.remove",
            ),
        };

        let mut mappings = Vec::new();
        let legacy_sources: Vec<AccessSource> = [
            okta.value("GROUP_NAME")
                .map(|(v, _)| AccessSource::group(v)),
            okta.value("APP_NAME").map(|(v, _)| AccessSource::app(v)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let legacy_profiles = [
            "ROUTING_PROFILE_ID",
            "SECURITY_PROFILE_IDS",
            "HIERARCHY_GROUP_ID",
        ]
        .iter()
        .any(|k| connect.value(k).is_some());
        if !legacy_sources.is_empty() || legacy_profiles {
            if legacy_sources.is_empty() {
                let origin = [
                    "ROUTING_PROFILE_ID",
                    "SECURITY_PROFILE_IDS",
                    "HIERARCHY_GROUP_ID",
                ]
                .iter()
                .find_map(|k| connect.value(k).map(|(_, o)| o.clone()))
                .unwrap_or(Origin::Unset);
                self.issue(
                    okta.key("GROUP_NAME"),
                    &origin,
                    "the [Connect] profiles form the default mapping, which needs GROUP_NAME \
                     or APP_NAME in [OKTA] (a mapping with neither group nor app grants nothing)",
                );
            }
            let profiles = self.profiles(&connect);
            if let Some((routing, security, hierarchy)) = profiles {
                mappings.push((
                    AccessMapping {
                        name: "default".into(),
                        sources: legacy_sources,
                        routing_profile_id: routing,
                        security_profile_ids: security,
                        hierarchy_group_id: hierarchy,
                        priority: DEFAULT_MAPPING_PRIORITY,
                    },
                    Origin::Unset,
                ));
            }
        }
        for section in mapping_sections {
            let name = section.name[MAPPING_PREFIX.len()..].trim().to_string();
            let view = view("", Some(section));
            let sources: Vec<AccessSource> = [
                view.value("GROUP").map(|(v, _)| AccessSource::group(v)),
                view.value("APP").map(|(v, _)| AccessSource::app(v)),
            ]
            .into_iter()
            .flatten()
            .collect();
            if sources.is_empty() {
                self.issue(
                    format!("[{}]", section.name),
                    &section.origin,
                    "mapping has neither GROUP nor APP, so no Okta user would ever match it",
                );
            }
            let priority_origin = view
                .entry("PRIORITY")
                .map_or(Origin::Unset, |e| e.origin.clone());
            if view.value("PRIORITY").is_none() {
                self.issue(
                    view.key("PRIORITY"),
                    &section.origin,
                    "required: a whole number, smaller wins when a user matches several mappings",
                );
            }
            let priority = self.number(&view, "PRIORITY", 0_u32, |_| true);
            if let Some((routing, security, hierarchy)) = self.profiles(&view) {
                mappings.push((
                    AccessMapping {
                        name,
                        sources,
                        routing_profile_id: routing,
                        security_profile_ids: security,
                        hierarchy_group_id: hierarchy,
                        priority,
                    },
                    priority_origin,
                ));
            }
        }
        mappings.sort_by_key(|(m, _)| m.priority);
        for pair in mappings.windows(2) {
            let ((first, _), (second, origin)) = (&pair[0], &pair[1]);
            if first.priority == second.priority {
                self.issue(
                    format!("[Mapping {}] PRIORITY", second.name),
                    origin,
                    format!(
                        "priority {} is also mapping {:?}'s; priorities must differ so one \
                         mapping clearly wins",
                        second.priority, first.name
                    ),
                );
            }
        }
        let mappings: Vec<AccessMapping> = mappings.into_iter().map(|(m, _)| m).collect();
        if mappings.is_empty() && self.issues.is_empty() {
            self.issue(
                String::new(),
                &Origin::Unset,
                "no access mapping: set [OKTA] GROUP_NAME or APP_NAME with [Connect] \
                 ROUTING_PROFILE_ID and SECURITY_PROFILE_IDS, or add a [Mapping NAME] section",
            );
        }

        let removal = self.policy(&sync, "REMOVAL_POLICY", RemovalPolicy::Delete);
        let suspension = self.policy(
            &sync,
            "SUSPEND_POLICY",
            RemovalPolicy::NoPermission {
                security_profile_id: None,
            },
        );
        let (removal, suspension) = match (removal, suspension) {
            (Some(r), Some(s)) => {
                let id = self.optional_id(&sync, "NO_PERMISSION_SECURITY_PROFILE_ID");
                (
                    Some(r.with_profile(id.as_ref())),
                    s.with_profile(id.as_ref()),
                )
            }
            _ => (None, RemovalPolicy::Ignore),
        };
        let username_source = match sync.value("USERNAME_SOURCE") {
            None => UsernameSource::Login,
            Some((v, origin)) => match normalize(v).as_str() {
                "LOGIN" => UsernameSource::Login,
                "LOGIN_LOCAL_PART" => UsernameSource::LoginLocalPart,
                "EMAIL" => UsernameSource::Email,
                _ => {
                    self.issue(
                        sync.key("USERNAME_SOURCE"),
                        origin,
                        format!("{v:?} is not one of LOGIN, LOGIN_LOCAL_PART, EMAIL"),
                    );
                    UsernameSource::Login
                }
            },
        };
        let adopt_existing_users = self.boolean(&sync, "ADOPT_EXISTING_USERS", true);
        let on_login_change = match sync.value("ON_LOGIN_CHANGE") {
            None => LoginChange::Replace,
            Some((v, origin)) => match normalize(v).as_str() {
                "REPLACE" => LoginChange::Replace,
                "FAIL" => LoginChange::Fail,
                _ => {
                    self.issue(
                        sync.key("ON_LOGIN_CHANGE"),
                        origin,
                        format!("{v:?} is not one of REPLACE, FAIL"),
                    );
                    LoginChange::Replace
                }
            },
        };
        let ledger_retention_days = self.number(&sync, "LEDGER_RETENTION_DAYS", 30_u32, |d| {
            (1..=3650).contains(&d)
        });
        let ingest = self.ingest(&ingest);
        let deploy = self.deploy(&deploy);
        let okta_api = self.okta_api(&okta_api);
        let reconcile = ReconcileSettings {
            max_revocations: self.number(&reconcile, "MAX_REVOCATIONS", 10_u32, |n| n <= 100_000),
            schedule: self.schedule(&reconcile, "SCHEDULE"),
            schedule_enabled: self.boolean(&reconcile, "SCHEDULE_ENABLED", true),
        };

        match (self.issues.is_empty(), instance_id, removal) {
            (true, Some(instance_id), Some(removal)) => Ok(Config {
                instance_id,
                region,
                send_email,
                pacing: Pacing {
                    requests_per_second,
                    burst,
                },
                events,
                mappings,
                removal,
                suspension,
                username_source,
                adopt_existing_users,
                on_login_change,
                ledger_retention_days,
                ingest,
                deploy,
                okta_api,
                reconcile,
            }),
            _ => {
                self.issues.sort_by_key(|i| match i.origin {
                    Origin::Line(n) => (0, n),
                    Origin::Env(_) => (1, 0),
                    Origin::Unset => (2, 0),
                });
                Err(ConfigError {
                    issues: self.issues,
                })
            }
        }
    }

    fn ingest(&mut self, view: &View<'_>) -> IngestSettings {
        let secret_header = match view.value("SECRET_HEADER") {
            None => "authorization".to_string(),
            Some((v, origin)) => {
                // RFC 9110 token characters: what a header name may contain.
                let token = v
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                if !token {
                    self.issue(
                        view.key("SECRET_HEADER"),
                        origin,
                        format!("{v:?} is not an HTTP header name"),
                    );
                }
                v.to_ascii_lowercase()
            }
        };
        // 6 MiB: Lambda's synchronous invocation payload limit ("6 MB", refused beyond
        // 6,291,456 bytes), below API Gateway HTTP API's 10 MB payload quota; any body
        // that reaches the ingest Lambda is smaller (see okta_connect_ingest's
        // DEFAULT_MAX_BODY_BYTES, which must equal it).
        let max_body_bytes = self.number(view, "MAX_BODY_BYTES", 6_291_456_usize, |n| {
            (1024..=10 * 1_048_576).contains(&n)
        });

        IngestSettings {
            secret_header,
            max_body_bytes,
        }
    }

    fn okta_api(&mut self, view: &View<'_>) -> Option<OktaApiConfig> {
        let (url, origin) = view.value("ORG_URL")?;
        let url = url.trim_end_matches('/');
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| {
                url.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
            });
        let host = url.strip_prefix("https://").unwrap_or("");
        let https_ok = !host.is_empty()
            && !host.contains('/')
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b));
        if !(https_ok || loopback) {
            self.issue(
                view.key("ORG_URL"),
                origin,
                format!(
                    "{url:?} is not an Okta org URL such as https://acme.okta.com (https, no \
                     path; http only for 127.0.0.1)"
                ),
            );
        }
        let auth = match view.value("CLIENT_ID") {
            Some((client_id, _)) => OktaApiAuth::PrivateKeyJwt {
                client_id: client_id.to_string(),
                key_id: view.value("KEY_ID").map(|(k, _)| k.to_string()),
            },
            None => {
                if let Some((_, origin)) = view.value("KEY_ID") {
                    self.issue(
                        view.key("KEY_ID"),
                        origin,
                        "KEY_ID belongs to a service app: set CLIENT_ID too, or remove KEY_ID \
                         to use an API token",
                    );
                }
                OktaApiAuth::ApiToken
            }
        };
        let credentials = match view.value("CREDENTIALS") {
            None => CredentialSource::Env(DEFAULT_OKTA_CREDENTIALS_VAR.to_string()),
            Some((v, origin)) => match v.split_once(':') {
                Some(("env", name)) if !name.trim().is_empty() => {
                    CredentialSource::Env(name.trim().to_string())
                }
                Some(("file", path)) if !path.trim().is_empty() => {
                    CredentialSource::File(path.trim().to_string())
                }
                Some(("secret", id)) if !id.trim().is_empty() => {
                    CredentialSource::Secret(id.trim().to_string())
                }
                _ => {
                    self.issue(
                        view.key("CREDENTIALS"),
                        origin,
                        // Not echoed: a pasted token must not reach logs.
                        "must be env:VARIABLE, file:PATH or secret:ARN_OR_NAME, never the key \
                         or token itself",
                    );
                    CredentialSource::Env(DEFAULT_OKTA_CREDENTIALS_VAR.to_string())
                }
            },
        };
        let timeout_seconds =
            self.number(view, "TIMEOUT_SECONDS", 10_u32, |n| (1..=60).contains(&n));
        let max_concurrent_requests = self.number(view, "MAX_CONCURRENT_REQUESTS", 4_u32, |n| {
            (1..=75).contains(&n)
        });
        Some(OktaApiConfig {
            org_url: url.to_string(),
            auth,
            credentials,
            timeout_seconds,
            max_concurrent_requests,
        })
    }

    fn deploy(&mut self, view: &View<'_>) -> DeploySettings {
        let stack_name = match view.value("STACK_NAME") {
            None => "OktaConnect".to_string(),
            Some((v, origin)) => {
                // CloudFormation: letters, digits and hyphens, starting with a letter.
                let ok = v.len() <= 128
                    && v.starts_with(|c: char| c.is_ascii_alphabetic())
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                if !ok {
                    self.issue(
                        view.key("STACK_NAME"),
                        origin,
                        format!("{v:?} is not a CloudFormation stack name"),
                    );
                }
                v.to_string()
            }
        };
        let batch_size = self.number(view, "BATCH_SIZE", 10_u32, |n| (1..=10).contains(&n));
        let max_concurrency =
            self.number(view, "MAX_CONCURRENCY", 2_u32, |n| (2..=1000).contains(&n));
        let alarm_email = view.value("ALARM_EMAIL").map(|(v, origin)| {
            let ok = v
                .split_once('@')
                .is_some_and(|(a, d)| !a.is_empty() && d.contains('.'))
                && !v.contains(char::is_whitespace);
            if !ok {
                self.issue(
                    view.key("ALARM_EMAIL"),
                    origin,
                    format!("{v:?} is not an email address"),
                );
            }
            v.to_string()
        });
        // The values CloudWatch Logs accepts for a log group's retention.
        const RETENTION: &[u32] = &[
            1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
            2922, 3288, 3653,
        ];
        let log_retention_days = self.number(view, "LOG_RETENTION_DAYS", 30_u32, |d| {
            RETENTION.contains(&d)
        });
        let saml = match (
            self.boolean(view, "SAML_FEDERATION", false),
            view.value("SAML_METADATA_FILE"),
        ) {
            (false, _) => None,
            (true, None) => {
                let origin = view
                    .entry("SAML_FEDERATION")
                    .map_or(Origin::Unset, |e| e.origin.clone());
                self.issue(
                    view.key("SAML_METADATA_FILE"),
                    &origin,
                    "required when SAML_FEDERATION = true: Okta's IdP metadata XML (Okta app → Sign On → metadata)",
                );
                None
            }
            (true, Some((file, _))) => Some(SamlFederation {
                metadata_file: file.to_string(),
                provider_name: view
                    .value("SAML_PROVIDER_NAME")
                    .map_or_else(|| "Okta".to_string(), |(v, _)| v.to_string()),
            }),
        };
        DeploySettings {
            stack_name,
            batch_size,
            max_concurrency,
            alarm_email,
            log_retention_days,
            saml,
        }
    }

    fn required_id(&mut self, view: &View<'_>, key: &str) -> Option<ConnectId> {
        if view.value(key).is_none() {
            let origin = view.section.map_or(Origin::Unset, |s| s.origin.clone());
            self.issue(view.key(key), &origin, "required");
            return None;
        }
        self.optional_id(view, key)
    }

    fn optional_id(&mut self, view: &View<'_>, key: &str) -> Option<ConnectId> {
        let (value, origin) = view.value(key)?;
        let id = ConnectId::parse(value);
        if id.is_none() {
            self.issue(view.key(key), origin, malformed_id(value));
        }
        id
    }

    /// Routing profile, security profiles and optional hierarchy group of one mapping.
    fn profiles(
        &mut self,
        view: &View<'_>,
    ) -> Option<(ConnectId, Vec<ConnectId>, Option<ConnectId>)> {
        let routing = self.required_id(view, "ROUTING_PROFILE_ID");
        let security = match view.entry("SECURITY_PROFILE_IDS") {
            None => {
                let origin = view.section.map_or(Origin::Unset, |s| s.origin.clone());
                self.issue(
                    view.key("SECURITY_PROFILE_IDS"),
                    &origin,
                    "required: 1 to 10 comma-separated security profile ids",
                );
                None
            }
            Some(entry) => self.security_profiles(view, entry),
        };
        let hierarchy = self.optional_id(view, "HIERARCHY_GROUP_ID");
        Some((routing?, security?, hierarchy))
    }

    fn security_profiles(&mut self, view: &View<'_>, entry: &Entry) -> Option<Vec<ConnectId>> {
        let key = view.key("SECURITY_PROFILE_IDS");
        let items: Vec<&str> = entry.value.split(',').map(str::trim).collect();
        if entry.value.trim().is_empty() {
            self.issue(
                key,
                &entry.origin,
                "needs at least 1 security profile id (Connect requires 1 to 10)",
            );
            return None;
        }
        if items.iter().any(|i| i.is_empty()) {
            self.issue(key, &entry.origin, "empty item in the comma-separated list");
            return None;
        }
        if items.len() > MAX_SECURITY_PROFILES {
            self.issue(
                key,
                &entry.origin,
                format!(
                    "{} security profiles; Connect allows at most {MAX_SECURITY_PROFILES}",
                    items.len()
                ),
            );
            return None;
        }
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            match ConnectId::parse(item) {
                Some(id) if ids.contains(&id) => {
                    self.issue(
                        key.clone(),
                        &entry.origin,
                        format!("{item} is listed twice"),
                    );
                }
                Some(id) => ids.push(id),
                None => self.issue(key.clone(), &entry.origin, malformed_id(item)),
            }
        }
        Some(ids)
    }

    fn boolean(&mut self, view: &View<'_>, key: &str, default: bool) -> bool {
        let Some((value, origin)) = view.value(key) else {
            return default;
        };
        // The words configparser's getboolean accepts.
        match value.to_ascii_lowercase().as_str() {
            "1" | "yes" | "true" | "on" => true,
            "0" | "no" | "false" | "off" => false,
            _ => {
                self.issue(
                    view.key(key),
                    origin,
                    format!("{value:?} is not true or false"),
                );
                default
            }
        }
    }

    fn number<T>(&mut self, view: &View<'_>, key: &str, default: T, ok: impl Fn(T) -> bool) -> T
    where
        T: std::str::FromStr + Copy + fmt::Display,
    {
        let Some((value, origin)) = view.value(key) else {
            return default;
        };
        match value.parse::<T>() {
            Ok(v) if ok(v) => v,
            _ => {
                self.issue(
                    view.key(key),
                    origin,
                    format!("{value:?} is not an allowed number"),
                );
                default
            }
        }
    }

    /// One of DELETE, NO_PERMISSION (its profile id filled in by the caller), IGNORE.
    fn policy(
        &mut self,
        view: &View<'_>,
        key: &str,
        default: RemovalPolicy,
    ) -> Option<RemovalPolicy> {
        let Some((value, origin)) = view.value(key) else {
            return Some(default);
        };
        match normalize(value).as_str() {
            "DELETE" => Some(RemovalPolicy::Delete),
            "IGNORE" => Some(RemovalPolicy::Ignore),
            "NO_PERMISSION" => Some(RemovalPolicy::NoPermission {
                security_profile_id: None,
            }),
            _ => {
                self.issue(
                    view.key(key),
                    origin,
                    format!("{value:?} is not one of DELETE, NO_PERMISSION, IGNORE"),
                );
                None
            }
        }
    }

    fn schedule(&mut self, view: &View<'_>, key: &str) -> String {
        let Some((value, origin)) = view.value(key) else {
            return DEFAULT_RECONCILE_SCHEDULE.to_string();
        };
        if let Err(why) = check_schedule(value) {
            self.issue(view.key(key), origin, format!("{value:?} {why}"));
        }
        value.to_string()
    }

    fn event_type(&mut self, view: &View<'_>, key: &str, default: &str) -> String {
        let Some((value, origin)) = view.value(key) else {
            return default.to_string();
        };
        let ok = value.split('.').count() >= 2
            && value.split('.').all(|p| {
                !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
        if !ok {
            self.issue(
                view.key(key),
                origin,
                format!("{value:?} is not an Okta event type such as {default}"),
            );
        }
        value.to_string()
    }
}

/// Checks an EventBridge Scheduler recurring expression: `rate(N minute[s]|hour[s]|day[s])`
/// of at least 15 minutes, or `cron(` six fields `)`.
fn check_schedule(value: &str) -> Result<(), &'static str> {
    if let Some(inner) = value
        .strip_prefix("rate(")
        .and_then(|v| v.strip_suffix(')'))
    {
        let mut parts = inner.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err("is not rate(N unit), e.g. rate(1 day)");
        };
        let n: u64 = n
            .parse()
            .map_err(|_| "is not rate(N unit), e.g. rate(1 day)")?;
        let minutes = match unit {
            "minute" | "hour" | "day" if n != 1 => return Err("needs a plural unit for N > 1"),
            "minutes" | "hours" | "days" if n == 1 => return Err("needs a singular unit for 1"),
            "minute" | "minutes" => n,
            "hour" | "hours" => n.saturating_mul(60),
            "day" | "days" => n.saturating_mul(1440),
            _ => return Err("has a unit other than minutes, hours or days"),
        };
        if minutes < 15 {
            return Err("is more often than every 15 minutes (a run may take 15 minutes)");
        }
        return Ok(());
    }
    if let Some(inner) = value
        .strip_prefix("cron(")
        .and_then(|v| v.strip_suffix(')'))
    {
        if inner.split_whitespace().count() == 6 {
            return Ok(());
        }
        return Err("is not cron(minutes hours day-of-month month day-of-week year)");
    }
    Err("is not an EventBridge Scheduler expression: rate(1 day) or cron(0 3 * * ? *)")
}

fn malformed_id(value: &str) -> String {
    format!(
        "malformed id {value:?}: expected a Connect id such as \
         87654321-69fb-43b6-a5e6-f8666ac189cb (the last part of the resource's ARN)"
    )
}

#[cfg(test)]
mod tests;
