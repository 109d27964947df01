//! `okta-connect check-config`: what a config.ini means, or every problem with its line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use okta_connect_core::config::{Config, OktaApiAuth, SourceKind};
use okta_connect_core::ports::IdentitySource;
use okta_connect_core::rules::relevant_event_types;
use serde::Serialize;

use crate::okta;
use crate::output::{self, Report, Table};

/// Validate a config.ini (with OKTA_CONNECT__* environment overrides) and show what it
/// means. Exits 1 and lists every problem, with its key and line, if invalid.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The file to check.
    #[arg(default_value = "config.ini")]
    pub file: PathBuf,
    /// Also look every group and app name up in Okta ([OktaApi]) and show its id; exits 1
    /// if one is not found or Okta cannot be read.
    #[arg(long)]
    pub resolve: bool,
}

/// One configured group or app as Okta knows it.
#[derive(Serialize)]
pub struct ResolvedSource {
    pub mapping: String,
    pub kind: SourceKind,
    /// As config.ini says it.
    pub configured: String,
    /// The Okta id: the configured one, or the one found by name.
    pub okta_id: Option<String>,
    /// The name (group) or label (app) Okta has for it.
    pub okta_name: Option<String>,
    /// `configured by id`, `found by name`, `not found`, or why Okta could not say.
    pub status: String,
}

/// A valid config, as people and the CDK app (`--json`) read it.
#[derive(Serialize)]
pub struct Checked {
    #[serde(skip)]
    pub file: String,
    #[serde(flatten)]
    pub config: Config,
    /// The event types to subscribe the Okta event hook to.
    pub subscribe_event_types: Vec<String>,
    /// With `--resolve`: every mapping's groups and apps with their Okta ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<ResolvedSource>>,
}

impl Report for Checked {
    fn headline(&self) -> Vec<String> {
        let c = &self.config;
        vec![
            format!("{} is valid.", self.file),
            format!(
                "Connect instance {} in {}",
                c.instance_id,
                c.region
                    .as_deref()
                    .unwrap_or("the AWS SDK's default region")
            ),
        ]
    }

    fn tables(&self) -> Vec<Table> {
        let mut table = Table::new(
            "Access mappings (the smallest priority wins)",
            &[
                "priority",
                "mapping",
                "Okta sources",
                "routing profile",
                "security profiles",
                "hierarchy group",
            ],
        );
        for m in &self.config.mappings {
            let sources: Vec<String> = m.sources.iter().map(ToString::to_string).collect();
            let profiles: Vec<String> = m
                .security_profile_ids
                .iter()
                .map(ToString::to_string)
                .collect();
            table.row([
                m.priority.to_string(),
                m.name.clone(),
                sources.join(" or "),
                m.routing_profile_id.to_string(),
                profiles.join("\n"),
                m.hierarchy_group_id
                    .as_ref()
                    .map_or_else(|| "-".to_string(), ToString::to_string),
            ]);
        }
        let mut tables = vec![table];
        if let Some(resolved) = &self.resolved {
            let mut ids = Table::new(
                "Groups and apps in Okta",
                &[
                    "mapping",
                    "kind",
                    "config.ini",
                    "Okta id",
                    "Okta name",
                    "status",
                ],
            );
            for r in resolved {
                ids.row([
                    r.mapping.clone(),
                    r.kind.to_string(),
                    r.configured.clone(),
                    r.okta_id.clone().unwrap_or_else(|| "-".into()),
                    r.okta_name.clone().unwrap_or_else(|| "-".into()),
                    r.status.clone(),
                ]);
            }
            tables.push(ids);
        }
        tables
    }

    fn footer(&self) -> Vec<String> {
        let c = &self.config;
        vec![
            format!("On removal, deactivation or suspension: {}.", c.removal),
            format!(
                "Username: {}; email sent to Connect: {}; Connect calls paced at {}/s, burst {}.",
                c.username_source,
                if c.send_email { "yes" } else { "no" },
                c.pacing.requests_per_second,
                c.pacing.burst
            ),
            format!(
                "The ledger remembers processed events for {} days.",
                c.ledger_retention_days
            ),
            match &c.okta_api {
                None => "Okta API: none; names come from the events' display names.".to_string(),
                Some(api) => format!(
                    "Okta API: {} with {}, credential from the {}.",
                    api.org_url,
                    match &api.auth {
                        OktaApiAuth::PrivateKeyJwt { client_id, .. } =>
                            format!("service app {client_id} (private_key_jwt)"),
                        OktaApiAuth::ApiToken => "an API token (SSWS)".to_string(),
                    },
                    api.credentials
                ),
            },
            format!(
                "Subscribe the Okta event hook to: {}",
                self.subscribe_event_types.join(", ")
            ),
        ]
    }
}

/// Looks every configured source up through `identity`.
pub async fn resolve<I: IdentitySource>(config: &Config, identity: &I) -> Vec<ResolvedSource> {
    let mut out = Vec::new();
    for mapping in &config.mappings {
        for source in &mapping.sources {
            let row = |okta_id, okta_name, status: String| ResolvedSource {
                mapping: mapping.name.clone(),
                kind: source.kind,
                configured: source.name.clone(),
                okta_id,
                okta_name,
                status,
            };
            if source.configured_by_id() {
                out.push(row(source.id.clone(), None, "configured by id".into()));
                continue;
            }
            let found = match source.kind {
                SourceKind::Group => identity
                    .find_group(&source.name)
                    .await
                    .map(|g| g.map(|g| (g.id, g.name))),
                SourceKind::App => identity
                    .find_app(&source.name)
                    .await
                    .map(|a| a.map(|a| (a.id, a.label))),
            };
            out.push(match found {
                Ok(Some((id, name))) => row(Some(id), Some(name), "found by name".into()),
                Ok(None) => row(
                    None,
                    None,
                    match source.kind {
                        SourceKind::Group => "not found: no group has this name".into(),
                        SourceKind::App => "not found: no app instance has this label".into(),
                    },
                ),
                Err(e) => row(None, None, format!("Okta could not say: {e}")),
            });
        }
    }
    out
}

pub async fn run(args: Args, json: bool) -> anyhow::Result<ExitCode> {
    let file = &args.file;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let config = match Config::parse(&text, std::env::vars()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let resolved = if args.resolve {
        let dir = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let Some(identity) = okta::configured(&config, dir).await? else {
            eprintln!(
                "{}: --resolve needs [OktaApi] (ORG_URL and a credential) to ask Okta",
                file.display()
            );
            return Ok(ExitCode::FAILURE);
        };
        Some(resolve(&config, &identity).await)
    } else {
        None
    };
    let unresolved = resolved
        .as_ref()
        .is_some_and(|r| r.iter().any(|s| s.okta_id.is_none()));
    let checked = Checked {
        file: file.display().to_string(),
        subscribe_event_types: relevant_event_types(&config),
        config,
        resolved,
    };
    output::print(&checked, json)?;
    Ok(if unresolved {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
