//! Posting to an event-hook endpoint the way Okta does: a 3 s timeout, one retry on a
//! timeout or 5xx, none on a 4xx, and the verification GET before anything else.

use std::time::{Duration, Instant};

/// Okta's documented wait for an event-hook answer.
pub const OKTA_TIMEOUT: Duration = Duration::from_secs(3);

/// The challenge header Okta's verification GET carries.
pub const CHALLENGE_HEADER: &str = "x-okta-verification-challenge";

/// Where and how to post.
#[derive(Clone)]
pub struct OktaSender {
    client: reqwest::Client,
    url: String,
    header: String,
    secret: String,
}

impl std::fmt::Debug for OktaSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OktaSender")
            .field("url", &self.url)
            .field("header", &self.header)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What happened to one delivery, as Okta would log it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Status of each attempt; `None` for a timeout or connection failure.
    pub attempts: Vec<Option<u16>>,
    pub body: String,
    pub elapsed: Duration,
}

impl Delivered {
    /// The final status, if any attempt got an answer.
    pub fn status(&self) -> Option<u16> {
        self.attempts.last().copied().flatten()
    }

    /// Whether Okta would count this delivery as accepted.
    pub fn accepted(&self) -> bool {
        self.status().is_some_and(|s| (200..300).contains(&s))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("cannot build an HTTP client: {0}")]
    Client(String),
    #[error("verification failed: {0}")]
    Verification(String),
}

impl OktaSender {
    pub fn new(
        url: impl Into<String>,
        header: impl Into<String>,
        secret: impl Into<String>,
    ) -> Result<Self, SenderError> {
        let client = reqwest::Client::builder()
            .timeout(OKTA_TIMEOUT)
            .build()
            .map_err(|e| SenderError::Client(e.to_string()))?;
        Ok(Self {
            client,
            url: url.into(),
            header: header.into(),
            secret: secret.into(),
        })
    }

    /// Okta's one-time verification: GET with a random challenge, expecting it echoed
    /// as `{"verification": …}`.
    pub async fn verify(&self) -> Result<(), SenderError> {
        let challenge = format!("challenge-{}", uuid::Uuid::new_v4());
        let response = self
            .client
            .get(&self.url)
            .header(&self.header, &self.secret)
            .header(CHALLENGE_HEADER, &challenge)
            .send()
            .await
            .map_err(|e| SenderError::Verification(e.to_string()))?;
        let status = response.status().as_u16();
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| SenderError::Verification(format!("HTTP {status}, body not JSON: {e}")))?;
        if status == 200 && body["verification"] == challenge.as_str() {
            Ok(())
        } else {
            Err(SenderError::Verification(format!(
                "HTTP {status}, body {body}"
            )))
        }
    }

    /// POSTs one delivery body; retries once on a timeout, connection failure or 5xx.
    pub async fn deliver(&self, body: &str) -> Delivered {
        let started = Instant::now();
        let mut attempts = Vec::new();
        let mut last_body = String::new();
        for _ in 0..2 {
            let result = self
                .client
                .post(&self.url)
                .header(&self.header, &self.secret)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await;
            match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    last_body = response.text().await.unwrap_or_default();
                    attempts.push(Some(status));
                    if status < 500 {
                        break;
                    }
                }
                Err(e) => {
                    last_body = e.to_string();
                    attempts.push(None);
                }
            }
        }
        Delivered {
            attempts,
            body: last_body,
            elapsed: started.elapsed(),
        }
    }
}
