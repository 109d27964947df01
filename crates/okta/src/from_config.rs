//! From `config.ini`'s `[OktaApi]` section to the adapter's settings, and the local
//! forms of its credential (an environment variable or a file). A `secret:` credential
//! is read by the caller through Secrets Manager (the AWS adapter crate), then handed in
//! as a [`Secret`].

use std::path::Path;
use std::time::Duration;

use okta_connect_core::config::{CredentialSource, OKTA_API_SCOPES, OktaApiAuth, OktaApiConfig};

use crate::settings::{OktaApiSettings, OktaAuth, OktaError, Secret};

/// The adapter's settings for `api`, presenting `credential` (the private key PEM for a
/// service app, the token otherwise).
pub fn settings_for(api: &OktaApiConfig, credential: Secret) -> OktaApiSettings {
    let auth = match &api.auth {
        OktaApiAuth::PrivateKeyJwt { client_id, key_id } => OktaAuth::PrivateKeyJwt {
            client_id: client_id.clone(),
            key_id: key_id.clone(),
            private_key_pem: credential,
            scopes: OKTA_API_SCOPES.iter().map(|s| s.to_string()).collect(),
        },
        OktaApiAuth::ApiToken => OktaAuth::ApiToken(credential),
    };
    let mut settings = OktaApiSettings::new(api.org_url.clone(), auth);
    settings.timeout = Duration::from_secs(u64::from(api.timeout_seconds));
    settings.max_concurrent_requests = usize::try_from(api.max_concurrent_requests).unwrap_or(4);
    settings
}

/// Reads an `env:` or `file:` credential: `env` looks variables up, files are relative to
/// `base_dir` (config.ini's folder). Surrounding blanks are trimmed; an empty value is an
/// error naming where it was looked for (never the value). `secret:` is refused: the
/// caller reads Secrets Manager.
pub fn read_local_credential(
    source: &CredentialSource,
    base_dir: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Secret, OktaError> {
    let text = match source {
        CredentialSource::Env(name) => env(name).ok_or_else(|| {
            OktaError::Credentials(format!(
                "[OktaApi] CREDENTIALS names the {source}, which is not set"
            ))
        })?,
        CredentialSource::File(path) => {
            let path = base_dir.join(path);
            std::fs::read_to_string(&path).map_err(|e| {
                OktaError::Credentials(format!(
                    "[OktaApi] CREDENTIALS: cannot read {}: {e}",
                    path.display()
                ))
            })?
        }
        CredentialSource::Secret(_) => {
            return Err(OktaError::Credentials(format!(
                "[OktaApi] CREDENTIALS names a {source}; read it through Secrets Manager"
            )));
        }
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(OktaError::Credentials(format!(
            "[OktaApi] CREDENTIALS: the {source} is empty"
        )));
    }
    Ok(Secret::new(text))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn api(auth: OktaApiAuth) -> OktaApiConfig {
        OktaApiConfig {
            org_url: "https://acme.okta.com".into(),
            auth,
            credentials: CredentialSource::Env("X".into()),
            timeout_seconds: 7,
            max_concurrent_requests: 3,
        }
    }

    #[test]
    fn a_service_app_asks_for_every_read_scope() {
        let settings = settings_for(
            &api(OktaApiAuth::PrivateKeyJwt {
                client_id: "0oaclient".into(),
                key_id: Some("k1".into()),
            }),
            Secret::new("pem"),
        );
        assert_eq!(settings.timeout, Duration::from_secs(7));
        assert_eq!(settings.max_concurrent_requests, 3);
        match settings.auth {
            OktaAuth::PrivateKeyJwt {
                client_id,
                key_id,
                scopes,
                ..
            } => {
                assert_eq!(
                    (client_id.as_str(), key_id.as_deref()),
                    ("0oaclient", Some("k1"))
                );
                assert_eq!(scopes, OKTA_API_SCOPES);
            }
            OktaAuth::ApiToken(_) => panic!("a service app"),
        }
        assert!(matches!(
            settings_for(&api(OktaApiAuth::ApiToken), Secret::new("t")).auth,
            OktaAuth::ApiToken(_)
        ));
    }

    #[test]
    fn local_credentials_come_from_env_or_a_file_and_are_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("okta.pem"),
            "  -----BEGIN PRIVATE KEY-----\n",
        )
        .unwrap();
        let file = read_local_credential(
            &CredentialSource::File("okta.pem".into()),
            dir.path(),
            |_| None,
        )
        .unwrap();
        assert_eq!(file.expose(), "-----BEGIN PRIVATE KEY-----");
        let env =
            read_local_credential(&CredentialSource::Env("TOKEN".into()), dir.path(), |name| {
                (name == "TOKEN").then(|| "00abc".to_string())
            })
            .unwrap();
        assert_eq!(env.expose(), "00abc");
        let missing =
            read_local_credential(&CredentialSource::Env("TOKEN".into()), dir.path(), |_| None)
                .unwrap_err();
        assert!(missing.to_string().contains("TOKEN"), "{missing}");
        let blank =
            read_local_credential(&CredentialSource::Env("TOKEN".into()), dir.path(), |_| {
                Some("  ".into())
            })
            .unwrap_err();
        assert!(blank.to_string().contains("empty"), "{blank}");
        assert!(
            read_local_credential(&CredentialSource::Secret("arn".into()), dir.path(), |_| {
                None
            })
            .is_err()
        );
    }
}
