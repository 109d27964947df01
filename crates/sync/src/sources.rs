//! The configured groups and apps as Okta knows them: names bound to ids.
//!
//! `config.ini` may name a group by name or an app by label. Matching by name breaks
//! when an admin renames the group, so each name is bound to its Okta id as soon as the
//! id is known — from Okta's API when one is configured, else from the first membership
//! event that carries both — and the ledger keeps the binding. From then on the source
//! matches by id only ([`Config::with_bindings`]).

use std::sync::Arc;
use std::time::Duration;

use okta_connect_core::config::{AccessSource, BoundBy, Config, SourceBinding, SourceKind};
use okta_connect_core::fact::{Assertion, Fact};
use okta_connect_core::ports::{IdentitySource, Ledger};
use okta_connect_core::time::UnixMillis;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::SyncError;

/// How long a process trusts its copy of the bindings before reading them again (other
/// workers may have bound a name meanwhile; this process's own bindings refresh at once).
pub const BINDINGS_TTL: Duration = Duration::from_secs(60);

/// A process's copy of the config with its bindings applied.
#[derive(Debug, Default)]
pub struct BoundSources {
    cached: Mutex<Option<(Instant, Arc<Config>)>>,
}

impl BoundSources {
    /// The config with every known binding applied: cached for [`BINDINGS_TTL`]. On a
    /// refresh, names still unbound are looked up through `identity` when there is one
    /// (a failed lookup is logged and leaves the name matching by name: events still
    /// work, and the next refresh tries again).
    pub async fn config<L: Ledger, I: IdentitySource>(
        &self,
        config: &Config,
        ledger: &L,
        identity: Option<&I>,
        now: UnixMillis,
    ) -> Result<Arc<Config>, SyncError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, bound)) = cached.as_ref()
            && at.elapsed() < BINDINGS_TTL
        {
            return Ok(Arc::clone(bound));
        }
        let bound = Arc::new(bind(config, ledger, identity, now, Store::Yes).await?);
        *cached = Some((Instant::now(), Arc::clone(&bound)));
        Ok(bound)
    }

    /// The config as [`BoundSources::config`] would bind it, without writing the
    /// bindings it learns from Okta to the ledger and without caching (for dry runs).
    pub async fn peek<L: Ledger, I: IdentitySource>(
        &self,
        config: &Config,
        ledger: &L,
        identity: Option<&I>,
        now: UnixMillis,
    ) -> Result<Arc<Config>, SyncError> {
        Ok(Arc::new(
            bind(config, ledger, identity, now, Store::No).await?,
        ))
    }

    /// Forgets the cached copy, so the next [`config`](Self::config) reads the ledger.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

/// Looks `source` up in Okta: a group by exact name, an app by exact label.
/// Whether bindings learned from Okta are written to the ledger.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Store {
    Yes,
    No,
}

/// `config` with the ledger's bindings, and names still unbound looked up in Okta.
async fn bind<L: Ledger, I: IdentitySource>(
    config: &Config,
    ledger: &L,
    identity: Option<&I>,
    now: UnixMillis,
    store: Store,
) -> Result<Config, SyncError> {
    let mut bindings = ledger.source_bindings().await?;
    let bound = config.with_bindings(&bindings);
    let Some(identity) = identity else {
        return Ok(bound);
    };
    let unbound: Vec<AccessSource> = bound.unbound_sources().cloned().collect();
    if unbound.is_empty() {
        return Ok(bound);
    }
    for source in unbound {
        if let Some(binding) = resolve(identity, &source, now).await {
            bindings.push(match store {
                // The ledger answers with the binding that holds (another worker's may
                // have come first).
                Store::Yes => ledger.bind_source(&binding).await?,
                Store::No => binding,
            });
        }
    }
    Ok(config.with_bindings(&bindings))
}

async fn resolve<I: IdentitySource>(
    identity: &I,
    source: &AccessSource,
    now: UnixMillis,
) -> Option<SourceBinding> {
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
    match found {
        Ok(Some((id, okta_name))) => {
            tracing::info!(source = %source, okta_id = %id, "bound a configured name to its Okta id");
            Some(SourceBinding {
                kind: source.kind,
                name: source.name.clone(),
                id,
                okta_name,
                bound_by: BoundBy::Api,
                bound_at: now,
            })
        }
        Ok(None) => {
            tracing::warn!(source = %source, "no such group or app in Okta; matching it by name");
            None
        }
        Err(e) => {
            tracing::warn!(source = %source, error = %e, "could not look the name up in Okta; matching it by name for now");
            None
        }
    }
}

/// The binding a membership fact teaches: the configured source it matched by name
/// (still unbound in `config`), with the id the event carried. `None` when the fact
/// matched by id, or is not a membership fact.
pub fn learned_from(fact: &Fact, config: &Config, now: UnixMillis) -> Option<SourceBinding> {
    let Assertion::Membership { source, .. } = &fact.assertion else {
        return None;
    };
    let okta_name = source.name.as_deref()?;
    let configured = config
        .unbound_sources()
        .find(|s| s.matches(source.kind, Some(&source.id), Some(okta_name)))?;
    Some(SourceBinding {
        kind: configured.kind,
        name: configured.name.clone(),
        id: source.id.clone(),
        okta_name: okta_name.to_string(),
        bound_by: BoundBy::Event,
        bound_at: now,
    })
}

#[cfg(test)]
mod tests {
    use okta_connect_core::fact::{SourceRef, UserSnapshot};

    use super::*;

    fn config() -> Config {
        Config::from_ini(
            "[OKTA]\nGROUP_NAME = Agents\n[Connect]\n\
             INSTANCE_ID = 11111111-2222-3333-4444-555555555555\n\
             ROUTING_PROFILE_ID = 87654321-69fb-43b6-a5e6-f8666ac189cb\n\
             SECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852\n",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn fact(id: &str, name: &str) -> Fact {
        Fact {
            okta_user_id: "00u1".into(),
            event_uuid: "e1".into(),
            published: UnixMillis(1),
            subject: UserSnapshot::default(),
            assertion: Assertion::Membership {
                source: SourceRef {
                    kind: SourceKind::Group,
                    id: id.into(),
                    name: Some(name.into()),
                },
                member: true,
            },
        }
    }

    #[test]
    fn a_fact_matched_by_name_teaches_its_id_once() {
        let config = config();
        let learned = learned_from(&fact("00gA", "agents"), &config, UnixMillis(5));
        let binding = learned.unwrap_or_else(|| panic!("nothing learned"));
        assert_eq!(
            (binding.name.as_str(), binding.id.as_str(), binding.bound_by),
            ("Agents", "00gA", BoundBy::Event)
        );
        let bound = config.with_bindings(&[binding]);
        assert_eq!(
            learned_from(&fact("00gA", "agents"), &bound, UnixMillis(6)),
            None
        );
        assert_eq!(
            learned_from(&fact("00gB", "other"), &config, UnixMillis(6)),
            None,
            "an unconfigured group teaches nothing"
        );
    }
}
