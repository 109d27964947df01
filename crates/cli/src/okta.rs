//! The local pipeline's Okta: a simulated org in process (okta-sim, the default), or the
//! org of `config.ini`'s `[OktaApi]`.
//!
//! The simulated org is seeded to match `config.ini` (every configured group, every
//! configured app instance, a few agents who belong to nothing yet), registers an event
//! hook with the local ingest endpoint exactly as an admin would (Okta's verification GET
//! included), and is read through the same Okta API adapter the worker uses in AWS.

use std::path::{Path, PathBuf};

use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_core::config::Config;
use okta_connect_core::config::{CredentialSource, OktaApiConfig, SourceKind};
use okta_connect_core::rules::relevant_event_types;
use okta_connect_okta::from_config::{read_local_credential, settings_for};
use okta_connect_okta::{OktaApi, OktaApiSettings, OktaAuth, Secret};
use okta_sim::{Admin, HookRegistration, OktaSim, OktaSimServer, RateLimits, Seed};
use serde_json::json;

use crate::pipeline::PipelineError;

/// The catalog app every AWS federation instance shares: what Okta's events put in the
/// AppInstance target's `displayName`.
pub const AWS_FEDERATION_CATALOG: &str = "AWS Account Federation";
/// A second instance of the same catalog app in the seeded org, which grants nothing: a
/// label that differs from its catalog name, to show that only labels and ids match.
pub const OTHER_AWS_APP_LABEL: &str = "AWS Finance Account";
/// The simulated org's API token file in the state folder (owner-only).
pub const OKTA_TOKEN_FILE: &str = "okta-sim-token";

/// Which Okta the local pipeline talks to.
#[derive(Debug, Clone)]
pub enum OktaTarget {
    /// okta-sim in process, seeded from this file or, by default, to match `config.ini`.
    Simulated { seed: Option<PathBuf> },
    /// The org of `[OktaApi]` (events then come from its own event hook); without that
    /// section, no Okta API at all.
    Configured { config_dir: PathBuf },
}

/// The Okta side of a running local pipeline.
pub struct LocalOkta {
    /// The simulated org, when simulated.
    pub sim: Option<OktaSimServer>,
    /// The simulated org's SSWS token (for `curl` and the demo's admin).
    pub api_token: Option<String>,
    /// What the worker reads Okta with; `None` without an Okta API.
    pub identity: Option<OktaApi>,
    /// The simulated org's event hook to this pipeline (`who…`).
    pub hook_id: Option<String>,
}

impl LocalOkta {
    /// The org URL, when there is an Okta API.
    pub fn org_url(&self) -> Option<String> {
        self.identity.as_ref().map(|i| i.org_url().to_string())
    }

    /// An admin of the simulated org, when simulated.
    pub fn admin(&self) -> Option<Admin> {
        match (&self.sim, &self.api_token) {
            (Some(sim), Some(token)) => Admin::new(sim.url(), token.clone()).ok(),
            _ => None,
        }
    }

    /// Stops the simulated org, if any.
    pub async fn shutdown(self) {
        if let Some(sim) = self.sim
            && let Err(e) = sim.shutdown().await
        {
            tracing::warn!(error = %e, "okta-sim did not stop cleanly");
        }
    }
}

/// The ids `tests/fixtures/okta/` gives these names, so the sample events that `send`
/// posts name the same groups and app as the simulated org.
const FIXTURE_IDS: &[(SourceKind, &str, &str)] = &[
    (SourceKind::Group, "amazon_connect", "00g1c0nn3ctAgents0d7"),
    (
        SourceKind::Group,
        "connect_supervisors",
        "00g1c0nn3ctSup3rv1s7",
    ),
    (SourceKind::Group, "Finance", "00g1f1nanc3Gr0up00d7"),
    (
        SourceKind::App,
        "AWS Account Federation",
        "0oa1awsF3d3rat10n0d7",
    ),
];

/// A stable Okta-shaped id for a seeded object: the fixtures' id for their names, else
/// one derived from the name. Stable across restarts, because the ledger keeps the id
/// each configured name was bound to while okta-sim starts again from its seed.
fn seeded_id(kind: SourceKind, prefix: &str, name: &str) -> String {
    if let Some((_, _, id)) = FIXTURE_IDS
        .iter()
        .find(|(k, n, _)| *k == kind && n.eq_ignore_ascii_case(name))
    {
        return (*id).to_string();
    }
    use sha2::Digest;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = sha2::Sha256::digest(name.to_lowercase().as_bytes());
    let tail: String = digest
        .iter()
        .take(17)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{prefix}{tail}")
}

/// The name the seeded org gives a configured group: its configured name, or, for a
/// group configured by id, `group {id}`.
pub fn seeded_group_name(source: &okta_connect_core::config::AccessSource) -> String {
    if source.configured_by_id() {
        format!("group {}", source.name)
    } else {
        source.name.clone()
    }
}

/// A seed matching `config`: each configured group (by its name, or with its id when
/// configured by id), each configured app instance labelled as configured (catalog
/// app: AWS Account Federation), one more instance of that catalog app that no mapping
/// names, a `Finance` group no mapping names, and three agents who belong to nothing.
/// Nothing pre-exists in a mapping, so nothing needs a reconcile to be right.
pub fn seed_matching(config: &Config) -> Result<Seed, PipelineError> {
    let mut groups = Vec::new();
    let mut apps = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for source in config.sources() {
        if !seen.insert((source.kind, source.name.to_lowercase())) {
            continue;
        }
        let by_id = source.configured_by_id();
        match source.kind {
            SourceKind::Group => groups.push(json!({
                "id": if by_id { source.name.clone() } else { seeded_id(SourceKind::Group, "00g", &source.name) },
                "name": seeded_group_name(source),
            })),
            SourceKind::App => apps.push(json!({
                "id": if by_id { source.name.clone() } else { seeded_id(SourceKind::App, "0oa", &source.name) },
                "label": if by_id { "Amazon Connect".to_string() } else { source.name.clone() },
                "name": "amazon_aws",
                "catalogDisplayName": AWS_FEDERATION_CATALOG,
            })),
        }
    }
    groups.push(json!({"id": seeded_id(SourceKind::Group, "00g", "Finance"), "name": "Finance"}));
    apps.push(json!({
        "id": seeded_id(SourceKind::App, "0oa", OTHER_AWS_APP_LABEL),
        "label": OTHER_AWS_APP_LABEL,
        "name": "amazon_aws",
        "catalogDisplayName": AWS_FEDERATION_CATALOG,
    }));
    let users: Vec<_> = [
        ("ana.silva@example.com", "Ana", "Silva"),
        ("kofi.mensah@example.com", "Kofi", "Mensah"),
        ("mei.tanaka@example.com", "Mei", "Tanaka"),
    ]
    .iter()
    .map(|(login, first, last)| {
        json!({"id": seeded_id(SourceKind::Group, "00u", login), "status": "ACTIVE",
               "profile": {"login": login, "firstName": first, "lastName": last, "email": login}})
    })
    .collect();
    let seed = json!({"users": users, "groups": groups, "apps": apps});
    Seed::from_json(&seed.to_string()).map_err(|e| PipelineError::Okta(e.to_string()))
}

/// Starts the simulated org (seeded from `seed_file`, else [`seed_matching`]) with the
/// API token `token`, registers and verifies an event hook to `hook_url` with the
/// header `header: secret` for the event types the pipeline acts on, and builds the
/// Okta API adapter over it.
pub async fn start_simulated(
    config: &Config,
    seed_file: Option<&Path>,
    token: &str,
    hook: (&str, &str, &str),
) -> Result<LocalOkta, PipelineError> {
    let okta_error = |e: okta_sim::Error| PipelineError::Okta(e.to_string());
    let seed = match seed_file {
        Some(path) => Seed::load(path).map_err(okta_error)?,
        None => seed_matching(config)?,
    };
    let server = OktaSim::builder()
        .seed(seed)
        .api_token(token)
        // Okta's published per-minute defaults: the adapter paces itself by the headers.
        .rate_limits(RateLimits::okta_defaults())
        .build()
        .map_err(okta_error)?
        .serve(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(okta_error)?;
    let (hook_url, header, secret) = hook;
    let admin = Admin::new(server.url(), token).map_err(okta_error)?;
    let mut event_types = relevant_event_types(config);
    // Not acted on, but an operator reading the ledger sees the rename happen.
    event_types.push("group.profile.update".to_string());
    let hook_id = admin
        .register_event_hook(&HookRegistration {
            name: "okta-connect (local)".into(),
            uri: hook_url.to_string(),
            auth_key: header.to_string(),
            auth_value: secret.to_string(),
            event_types,
        })
        .await
        .map_err(|e| PipelineError::Okta(format!("registering the event hook: {e}")))?;
    let identity = OktaApi::new(OktaApiSettings::new(
        server.url(),
        OktaAuth::ApiToken(Secret::new(token)),
    ))
    .map_err(|e| PipelineError::Okta(e.to_string()))?;
    Ok(LocalOkta {
        sim: Some(server),
        api_token: Some(token.to_string()),
        identity: Some(identity),
        hook_id: Some(hook_id),
    })
}

/// The Okta API of `config.ini`'s `[OktaApi]`, its credential read from the
/// environment, a file next to `config.ini`, or Secrets Manager; `None` without that
/// section.
pub async fn configured(
    config: &Config,
    config_dir: &Path,
) -> Result<Option<OktaApi>, PipelineError> {
    let Some(api) = &config.okta_api else {
        return Ok(None);
    };
    let credential = credential(api, config_dir, config.region.clone()).await?;
    OktaApi::new(settings_for(api, credential))
        .map(Some)
        .map_err(|e| PipelineError::Okta(e.to_string()))
}

/// Reads `[OktaApi]`'s credential wherever it is.
pub async fn credential(
    api: &OktaApiConfig,
    config_dir: &Path,
    region: Option<String>,
) -> Result<Secret, PipelineError> {
    match &api.credentials {
        CredentialSource::Secret(id) => {
            let aws = sdk::load(&AwsSettings {
                region,
                ..AwsSettings::default()
            })
            .await;
            let text = okta_connect_aws::secrets::load_text(&aws, id)
                .await
                .map_err(|e| PipelineError::Okta(format!("[OktaApi] CREDENTIALS: {e}")))?;
            Ok(Secret::new(text.trim()))
        }
        local => read_local_credential(local, config_dir, |name| std::env::var(name).ok())
            .map_err(|e| PipelineError::Okta(e.to_string())),
    }
}
