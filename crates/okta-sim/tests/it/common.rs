//! Shared helpers: start an org, call it, sign client assertions, load fixtures.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use okta_sim::{OktaSimBuilder, OktaSimServer};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const TOKEN: &str = "test-api-token";
pub const CLIENT_ID: &str = "0oaTestServiceApp01";

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/okta")
}

/// The first event of a fixture delivery.
pub fn fixture_event(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    let delivery: Value = serde_json::from_str(&text).unwrap();
    delivery["data"]["events"][0].clone()
}

pub fn fixture_delivery(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn registered_jwk() -> Value {
    let text = std::fs::read_to_string(fixtures().join("keys/service-app.jwk.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn key_pem(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("keys").join(name)).unwrap()
}

pub async fn start(builder: OktaSimBuilder) -> OktaSimServer {
    builder
        .build()
        .expect("sim builds")
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("sim serves")
}

/// A seed with `n` users `user000@example.com`… all in group `big` and assigned to app
/// "Contact Centre", plus a deprovisioned one.
pub fn big_seed(n: usize) -> okta_sim::Seed {
    let users: Vec<Value> = (0..n)
        .map(|i| {
            let login = format!("user{i:03}@example.com");
            json!({ "profile": { "login": login, "firstName": format!("First{i}"), "lastName": format!("Last{i}"), "email": login } })
        })
        .chain(std::iter::once(json!({ "status": "DEPROVISIONED", "profile": { "login": "gone@example.com", "firstName": "Gone", "lastName": "User", "email": "gone@example.com" } })))
        .collect();
    let logins: Vec<String> = (0..n).map(|i| format!("user{i:03}@example.com")).collect();
    let seed = json!({
        "users": users,
        "groups": [{ "name": "big", "members": logins }, { "name": "amazon_connect", "members": [] }],
        "apps": [{ "label": "Contact Centre", "name": "amazon_aws", "assignees": logins }]
    });
    okta_sim::Seed::from_json(&seed.to_string()).unwrap()
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The `rel="next"` URL of the `Link` headers (Okta sends one header per link).
    pub fn next_link(&self) -> Option<String> {
        self.headers.get_all("link").iter().find_map(|v| {
            let v = v.to_str().unwrap();
            v.ends_with("rel=\"next\"")
                .then(|| v[v.find('<').unwrap() + 1..v.find('>').unwrap()].to_owned())
        })
    }
}

pub async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// GET with `Authorization: <auth>`; `url` may be a path on `base`.
pub async fn get(base: &str, url: &str, auth: &str) -> Answer {
    let url = if url.starts_with("http") {
        url.to_owned()
    } else {
        format!("{base}{url}")
    };
    send(http().get(url).header("Authorization", auth)).await
}

pub fn ssws() -> String {
    format!("SSWS {TOKEN}")
}

/// Every item of a paged list, following `next` links; returns items and page count.
pub async fn all_pages(base: &str, first: &str, auth: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut url = Some(first.to_owned());
    while let Some(next) = url {
        let answer = get(base, &next, auth).await;
        assert_eq!(answer.status, 200, "{next}: {}", answer.body);
        pages += 1;
        items.extend(answer.body.as_array().unwrap().iter().cloned());
        url = answer.next_link();
        assert!(pages < 100, "runaway paging");
    }
    (items, pages)
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A client assertion as Okta documents it (RS256; iss = sub = client id).
pub fn assertion(pem: &[u8], kid: Option<&str>, claims: Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(pem).unwrap()).unwrap()
}

pub fn good_claims(org: &str) -> Value {
    json!({
        "iss": CLIENT_ID, "sub": CLIENT_ID, "aud": format!("{org}/oauth2/v1/token"),
        "iat": now(), "exp": now() + 300, "jti": uuid::Uuid::new_v4().to_string()
    })
}

/// POSTs the token form; returns the answer.
pub async fn token_request(org: &str, scope: &str, assertion: &str) -> Answer {
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", scope),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ];
    send(form_post(&format!("{org}/oauth2/v1/token"), &form)).await
}

/// A POST of an `application/x-www-form-urlencoded` body.
pub fn form_post(url: &str, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let encoded = reqwest::Url::parse_with_params("http://form.invalid/", pairs).unwrap();
    http()
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(encoded.query().unwrap_or_default().to_owned())
}

/// Asserts `ours` has the shape of `fixture`: the same member names in every object
/// (recursively); a null on either side matches anything.
pub fn assert_same_shape(ours: &Value, fixture: &Value, at: &str) {
    match (ours, fixture) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(a), Value::Object(b)) => {
            let ka: std::collections::BTreeSet<_> = a.keys().collect();
            let kb: std::collections::BTreeSet<_> = b.keys().collect();
            assert_eq!(ka, kb, "members differ at {at}");
            for key in ka {
                assert_same_shape(&a[key], &b[key], &format!("{at}.{key}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                assert_same_shape(x, y, &format!("{at}[0]"));
            }
        }
        (a, b) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "type differs at {at}: {a} vs {b}"
        ),
    }
}
