//! The identity source of deployments without Okta API access.

use okta_connect_core::config::AccessSource;
use okta_connect_core::desired::OktaProfile;
use okta_connect_core::ports::{IdentityError, IdentitySource, OktaMember};

/// An [`IdentitySource`] for deployments without Okta API access: no profiles, so names
/// come from the events' display names; member lists are refused (reconcile needs the
/// API).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIdentitySource;

impl IdentitySource for NoIdentitySource {
    async fn user_profile(&self, _: &str) -> Result<Option<OktaProfile>, IdentityError> {
        Ok(None)
    }

    async fn members(&self, source: &AccessSource) -> Result<Vec<OktaMember>, IdentityError> {
        Err(IdentityError::Denied(format!(
            "no Okta API configured to list the members of {source}"
        )))
    }
}
