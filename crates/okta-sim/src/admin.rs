//! [`Admin`]: a small client of Okta's write endpoints, for demos and tests that play an
//! Okta admin. It speaks the real API with an SSWS token, so it works against any org,
//! simulated or not.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::error::Error;

/// Each request's time limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A user to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// `profile.login`, usually an email address.
    pub login: String,
    /// `profile.firstName`.
    pub first_name: String,
    /// `profile.lastName`.
    pub last_name: String,
    /// `profile.email`.
    pub email: String,
}

/// An event hook to register.
#[derive(Clone, PartialEq, Eq)]
pub struct HookRegistration {
    /// The hook's name.
    pub name: String,
    /// Where deliveries go.
    pub uri: String,
    /// The header Okta sends the secret in (usually `Authorization`).
    pub auth_key: String,
    /// The secret.
    pub auth_value: String,
    /// The event types to subscribe to.
    pub event_types: Vec<String>,
}

impl fmt::Debug for HookRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookRegistration")
            .field("name", &self.name)
            .field("uri", &self.uri)
            .field("auth_key", &self.auth_key)
            .field("auth_value", &"***")
            .field("event_types", &self.event_types)
            .finish()
    }
}

/// An Okta admin with an API token.
#[derive(Clone)]
pub struct Admin {
    org_url: String,
    token: String,
    http: reqwest::Client,
}

impl fmt::Debug for Admin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admin")
            .field("org_url", &self.org_url)
            .field("token", &"***")
            .finish()
    }
}

impl Admin {
    /// A client of `org_url` (e.g. `http://127.0.0.1:PORT`) with SSWS `api_token`.
    pub fn new(org_url: impl Into<String>, api_token: impl Into<String>) -> Result<Admin, Error> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Admin {
            org_url: org_url.into().trim_end_matches('/').to_owned(),
            token: api_token.into(),
            http,
        })
    }

    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> Result<Option<Value>, Error> {
        let url = format!("{}{}", self.org_url, path_and_query);
        let mut request = self
            .http
            .request(method, &url)
            .header("Authorization", format!("SSWS {}", self.token))
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| Error::Transport {
            url: url.clone(),
            reason: if e.is_timeout() {
                "timed out".into()
            } else {
                e.to_string()
            },
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| Error::Transport {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        if !status.is_success() {
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            return Err(Error::Api {
                status: status.as_u16(),
                error_code: body["errorCode"].as_str().unwrap_or("unknown").to_owned(),
                summary: body["errorSummary"]
                    .as_str()
                    .unwrap_or("(no error body)")
                    .to_owned(),
            });
        }
        if status == StatusCode::NO_CONTENT || text.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Protocol {
                url,
                reason: format!("the body is not JSON: {e}"),
            })
    }

    fn id_of(value: Option<Value>, path: &str) -> Result<String, Error> {
        value
            .as_ref()
            .and_then(|v| v["id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| Error::Protocol {
                url: path.to_owned(),
                reason: "the answer has no id".into(),
            })
    }

    /// Creates and activates a user; returns its id.
    pub async fn create_user(&self, user: &NewUser) -> Result<String, Error> {
        let path = "/api/v1/users?activate=true";
        let body = json!({ "profile": {
            "login": user.login, "firstName": user.first_name,
            "lastName": user.last_name, "email": user.email
        }});
        Self::id_of(self.call(Method::POST, path, Some(body)).await?, path)
    }

    /// Changes the given profile attributes (Okta's partial "update user").
    pub async fn update_profile(&self, user_id: &str, partial_profile: Value) -> Result<(), Error> {
        let path = format!("/api/v1/users/{}", encode(user_id));
        self.call(
            Method::POST,
            &path,
            Some(json!({ "profile": partial_profile })),
        )
        .await?;
        Ok(())
    }

    async fn lifecycle(&self, user_id: &str, op: &str) -> Result<(), Error> {
        let path = format!("/api/v1/users/{}/lifecycle/{op}", encode(user_id));
        self.call(Method::POST, &path, None).await?;
        Ok(())
    }

    /// Activates a STAGED or deactivated user.
    pub async fn activate(&self, user_id: &str) -> Result<(), Error> {
        self.lifecycle(user_id, "activate").await
    }

    /// Deactivates a user.
    pub async fn deactivate(&self, user_id: &str) -> Result<(), Error> {
        self.lifecycle(user_id, "deactivate").await
    }

    /// Reactivates a deactivated user.
    pub async fn reactivate(&self, user_id: &str) -> Result<(), Error> {
        self.lifecycle(user_id, "reactivate").await
    }

    /// Suspends an active user.
    pub async fn suspend(&self, user_id: &str) -> Result<(), Error> {
        self.lifecycle(user_id, "suspend").await
    }

    /// Unsuspends a suspended user.
    pub async fn unsuspend(&self, user_id: &str) -> Result<(), Error> {
        self.lifecycle(user_id, "unsuspend").await
    }

    /// Okta's DELETE: deactivates the user, or deletes it when already deactivated.
    pub async fn delete_user(&self, user_id: &str) -> Result<(), Error> {
        let path = format!("/api/v1/users/{}", encode(user_id));
        self.call(Method::DELETE, &path, None).await?;
        Ok(())
    }

    /// Adds a user to a group.
    pub async fn add_to_group(&self, group_id: &str, user_id: &str) -> Result<(), Error> {
        let path = format!(
            "/api/v1/groups/{}/users/{}",
            encode(group_id),
            encode(user_id)
        );
        self.call(Method::PUT, &path, None).await?;
        Ok(())
    }

    /// Removes a user from a group.
    pub async fn remove_from_group(&self, group_id: &str, user_id: &str) -> Result<(), Error> {
        let path = format!(
            "/api/v1/groups/{}/users/{}",
            encode(group_id),
            encode(user_id)
        );
        self.call(Method::DELETE, &path, None).await?;
        Ok(())
    }

    /// Assigns a user to an app directly, with the login as the app username.
    pub async fn assign_app(&self, app_id: &str, user_id: &str) -> Result<(), Error> {
        let path = format!("/api/v1/apps/{}/users", encode(app_id));
        self.call(
            Method::POST,
            &path,
            Some(json!({ "id": user_id, "scope": "USER" })),
        )
        .await?;
        Ok(())
    }

    /// Removes a user's direct app assignment.
    pub async fn unassign_app(&self, app_id: &str, user_id: &str) -> Result<(), Error> {
        let path = format!("/api/v1/apps/{}/users/{}", encode(app_id), encode(user_id));
        self.call(Method::DELETE, &path, None).await?;
        Ok(())
    }

    /// Creates a group; returns its id.
    pub async fn create_group(&self, name: &str) -> Result<String, Error> {
        let path = "/api/v1/groups";
        let body = json!({ "profile": { "name": name, "description": null } });
        Self::id_of(self.call(Method::POST, path, Some(body)).await?, path)
    }

    /// Renames a group (keeping its description).
    pub async fn rename_group(&self, group_id: &str, name: &str) -> Result<(), Error> {
        let path = format!("/api/v1/groups/{}", encode(group_id));
        let current = self
            .call(Method::GET, &path, None)
            .await?
            .unwrap_or(Value::Null);
        let description = current["profile"]["description"].clone();
        let body = json!({ "profile": { "name": name, "description": description } });
        self.call(Method::PUT, &path, Some(body)).await?;
        Ok(())
    }

    /// Registers an event hook and verifies it; returns its id.
    pub async fn register_event_hook(&self, hook: &HookRegistration) -> Result<String, Error> {
        let path = "/api/v1/eventHooks";
        let body = json!({
            "name": hook.name,
            "events": { "type": "EVENT_TYPE", "items": hook.event_types },
            "channel": {
                "type": "HTTP",
                "version": "1.0.0",
                "config": {
                    "uri": hook.uri,
                    "headers": [],
                    "authScheme": { "type": "HEADER", "key": hook.auth_key, "value": hook.auth_value }
                }
            }
        });
        let id = Self::id_of(self.call(Method::POST, path, Some(body)).await?, path)?;
        let verify = format!("/api/v1/eventHooks/{id}/lifecycle/verify");
        self.call(Method::POST, &verify, None).await?;
        Ok(id)
    }

    /// The id of the group with exactly this name (ignoring case).
    pub async fn group_id(&self, name: &str) -> Result<String, Error> {
        let search = format!(
            "profile.name eq \"{}\"",
            name.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let path = format!("/api/v1/groups?search={}", encode(&search));
        self.find(&path, "group", name, |v| v["profile"]["name"].as_str())
            .await
    }

    /// The id of the app with exactly this label (ignoring case).
    pub async fn app_id(&self, label: &str) -> Result<String, Error> {
        let path = format!("/api/v1/apps?q={}&limit=200", encode(label));
        self.find(&path, "app", label, |v| v["label"].as_str())
            .await
    }

    /// The id of the user with this login.
    pub async fn user_id(&self, login: &str) -> Result<String, Error> {
        let path = format!("/api/v1/users/{}", encode(login));
        match self.call(Method::GET, &path, None).await {
            Ok(value) => Self::id_of(value, &path),
            Err(Error::Api { status: 404, .. }) => Err(Error::NotFound {
                kind: "user",
                name: login.to_owned(),
            }),
            Err(error) => Err(error),
        }
    }

    async fn find(
        &self,
        path: &str,
        kind: &'static str,
        name: &str,
        name_of: impl Fn(&Value) -> Option<&str>,
    ) -> Result<String, Error> {
        let found = self
            .call(Method::GET, path, None)
            .await?
            .unwrap_or(Value::Null);
        found
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| name_of(v).is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .and_then(|v| v["id"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| Error::NotFound {
                kind,
                name: name.to_owned(),
            })
    }
}

/// Percent-encodes a path segment or query value (everything but RFC 3986 unreserved).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_keeps_unreserved_only() {
        assert_eq!(encode("a@b.com"), "a%40b.com");
        assert_eq!(
            encode("profile.name eq \"x\""),
            "profile.name%20eq%20%22x%22"
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let admin = Admin::new("http://127.0.0.1:1/", "s3cret").unwrap();
        assert!(!format!("{admin:?}").contains("s3cret"));
        let hook = HookRegistration {
            name: "n".into(),
            uri: "u".into(),
            auth_key: "Authorization".into(),
            auth_value: "hunter2".into(),
            event_types: vec![],
        };
        assert!(!format!("{hook:?}").contains("hunter2"));
    }
}
