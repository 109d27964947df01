//! The handler's own small HTTP request and response, independent of API Gateway's
//! event formats (see [`crate::gateway`] for the translations).

use serde::Serialize;

/// One HTTP request as API Gateway hands it over.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IngestRequest {
    /// As received; methods are case-sensitive (`get` is not `GET`).
    pub method: String,
    /// Names in any letter case; a name may repeat. Values are raw bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body as received: base64 text when `is_base64_encoded`.
    pub body: Vec<u8>,
    pub is_base64_encoded: bool,
}

/// Never shows header values (one of them is the secret) nor the body.
impl std::fmt::Debug for IngestRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestRequest")
            .field("method", &self.method)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .field("is_base64_encoded", &self.is_base64_encoded)
            .finish()
    }
}

impl IngestRequest {
    pub fn new(method: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            ..Self::default()
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn base64(mut self, encoded: bool) -> Self {
        self.is_base64_encoded = encoded;
        self
    }

    /// Every value of header `name`, compared ASCII-case-insensitively.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The value of header `name` if it occurs exactly once.
    pub fn single_header<'a>(&'a self, name: &'a str) -> Option<&'a [u8]> {
        let mut values = self.header_values(name);
        match (values.next(), values.next()) {
            (Some(value), None) => Some(value),
            _ => None,
        }
    }
}

/// The answer: a status, a few headers and a small JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl IngestResponse {
    /// A JSON response (`Content-Type: application/json`, not cached).
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        // Serializing these small maps of strings and numbers cannot fail; the fallback
        // only keeps the function total.
        let body = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_string());
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".to_string()),
                ("cache-control", "no-store".to_string()),
            ],
            body,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of a response header (names here are lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
