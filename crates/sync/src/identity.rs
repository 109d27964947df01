//! The identity source of deployments without Okta API access.

use okta_connect_core::identity::{LogEvent, LogQuery, OktaApp, OktaGroup, OktaUser, SourceId};
use okta_connect_core::ports::{IdentityError, IdentitySource};

/// An [`IdentitySource`] for deployments without Okta API access: no users, so names
/// come from the events' display names; every read that needs the API is refused with a
/// reason (it must never look like "no members").
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIdentitySource;

fn needs_api(what: String) -> IdentityError {
    IdentityError::Denied(format!(
        "no Okta API is configured ([OktaApi] in config.ini) to {what}"
    ))
}

impl IdentitySource for NoIdentitySource {
    async fn user(&self, _: &str) -> Result<Option<OktaUser>, IdentityError> {
        Ok(None)
    }

    async fn members(&self, source: &SourceId) -> Result<Vec<OktaUser>, IdentityError> {
        Err(needs_api(format!("list the members of {source}")))
    }

    async fn find_group(&self, name: &str) -> Result<Option<OktaGroup>, IdentityError> {
        Err(needs_api(format!("find the group {name:?}")))
    }

    async fn find_app(&self, label: &str) -> Result<Option<OktaApp>, IdentityError> {
        Err(needs_api(format!("find the app {label:?}")))
    }

    async fn system_log(&self, _: &LogQuery) -> Result<Vec<LogEvent>, IdentityError> {
        Err(needs_api("read the System Log".to_string()))
    }
}
