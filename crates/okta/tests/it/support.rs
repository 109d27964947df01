//! Starting okta-sim over a seed, and adapters pointed at it.

use std::collections::BTreeMap;
use std::time::Duration;

use okta_connect_core::identity::OktaUserStatus;
use okta_connect_okta::{OktaApi, OktaApiSettings, OktaAuth, Secret};
use okta_connect_testkit::contract::identity::{IdentityFixture, IdentitySeed};
use okta_sim::{OAuthClient, OktaSim, OktaSimBuilder, OktaSimServer, RateLimits, Seed};
use serde_json::{Value, json};

pub const TOKEN: &str = "sim-api-token";
pub const CLIENT_ID: &str = "0oaservice0000000001";
pub const KEY_ID: &str = "test-key-1";

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../tests/fixtures/okta/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub fn registered_jwk() -> Value {
    serde_json::from_str(&fixture("service-app.jwk.json")).unwrap()
}

/// The sim's seed for a contract seed, with ids chosen here so the fixture knows them.
pub fn sim_seed(seed: &IdentitySeed) -> (Seed, Ids) {
    let mut ids = Ids::default();
    let users: Vec<Value> = seed
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let id = format!("00u{:017}", i + 1);
            ids.users.insert(u.login.clone(), id.clone());
            json!({
                "id": id,
                "status": status(&u.status),
                "profile": {"login": u.login, "firstName": u.first, "lastName": u.last, "email": u.email}
            })
        })
        .collect();
    let groups: Vec<Value> = seed
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let id = format!("00g{:017}", i + 1);
            ids.groups.insert(g.name.clone(), id.clone());
            json!({"id": id, "name": g.name, "members": g.members})
        })
        .collect();
    let apps: Vec<Value> = seed
        .apps
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let id = format!("0oa{:017}", i + 1);
            ids.apps.insert(a.label.clone(), id.clone());
            json!({
                "id": id, "label": a.label, "name": a.catalog_name,
                "catalogDisplayName": "AWS Account Federation", "assignees": a.assignees
            })
        })
        .collect();
    let text = json!({"users": users, "groups": groups, "apps": apps}).to_string();
    (Seed::from_json(&text).unwrap(), ids)
}

fn status(s: &OktaUserStatus) -> String {
    s.to_string()
}

#[derive(Debug, Default, Clone)]
pub struct Ids {
    pub users: BTreeMap<String, String>,
    pub groups: BTreeMap<String, String>,
    pub apps: BTreeMap<String, String>,
}

/// A sim with the API token and the service app (all read scopes) registered, no rate
/// limits unless `configure` sets some.
pub async fn serve(
    seed: Seed,
    configure: impl FnOnce(OktaSimBuilder) -> OktaSimBuilder,
) -> OktaSimServer {
    let builder = OktaSim::builder()
        .seed(seed)
        .api_token(TOKEN)
        .oauth_client(OAuthClient::new(
            CLIENT_ID,
            vec![registered_jwk()],
            OktaAuth::read_scopes(),
        ))
        .rate_limits(RateLimits::unlimited());
    configure(builder)
        .build()
        .unwrap()
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

pub fn ssws(url: &str) -> OktaApiSettings {
    fast(OktaApiSettings::new(
        url,
        OktaAuth::ApiToken(Secret::new(TOKEN)),
    ))
}

pub fn jwt_with(
    url: &str,
    key: &str,
    key_id: Option<&str>,
    scopes: Vec<String>,
) -> OktaApiSettings {
    fast(OktaApiSettings::new(
        url,
        OktaAuth::PrivateKeyJwt {
            client_id: CLIENT_ID.into(),
            key_id: key_id.map(String::from),
            private_key_pem: Secret::new(fixture(key)),
            scopes,
        },
    ))
}

pub fn jwt(url: &str) -> OktaApiSettings {
    jwt_with(
        url,
        "service-app.pem",
        Some(KEY_ID),
        OktaAuth::read_scopes(),
    )
}

/// Short retry backoff so fault tests stay quick.
fn fast(mut s: OktaApiSettings) -> OktaApiSettings {
    s.retry_backoff = Duration::from_millis(20);
    s
}

/// An `OktaApi` on a sim holding a contract seed.
pub struct SimFixture {
    pub api: OktaApi,
    pub server: OktaSimServer,
    pub ids: Ids,
}

impl IdentityFixture for SimFixture {
    type Source = OktaApi;

    fn source(&self) -> &OktaApi {
        &self.api
    }

    fn user_id(&self, login: &str) -> String {
        self.ids.users[login].clone()
    }

    fn group_id(&self, name: &str) -> String {
        self.ids.groups[name].clone()
    }

    fn app_id(&self, label: &str) -> String {
        self.ids.apps[label].clone()
    }
}

pub async fn start(
    seed: IdentitySeed,
    settings: fn(&str) -> OktaApiSettings,
    configure: impl FnOnce(OktaSimBuilder) -> OktaSimBuilder,
) -> SimFixture {
    let (sim_seed, ids) = sim_seed(&seed);
    let server = serve(sim_seed, configure).await;
    let api = OktaApi::new(settings(&server.url())).unwrap();
    SimFixture { api, server, ids }
}
