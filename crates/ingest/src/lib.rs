//! The ingest Lambda behind API Gateway: it authenticates Okta's event-hook requests,
//! answers the one-time verification challenge, and makes every delivered event
//! durable as one SQS message, inside Okta's 3-second window. It never calls Amazon
//! Connect.
//!
//! # Behaviour
//!
//! | request | answer |
//! |---|---|
//! | any method, secret header missing, repeated or wrong | 401 `{"error": …}`, nothing echoed |
//! | `GET` + secret + `x-okta-verification-challenge` (any case) | 200 `{"verification": "<value>"}` |
//! | `GET` + secret, no (or empty, or repeated) challenge | 400 |
//! | `POST` + secret, body (declared, sent or base64-decoded) over the limit | 413 |
//! | `POST` + secret, invalid base64 / not JSON / not a delivery / unusable event | 400 `{"error": …}` |
//! | `POST` + secret, `data.events: []` | 200 `{"queued": 0}`, nothing sent |
//! | `POST` + secret, every event queued | 200 `{"queued": N}` |
//! | `POST` + secret, some event still not queued when the budget ends | 503 (Okta retries once) |
//! | any other method, with the secret | 405, `Allow: GET, POST` |
//!
//! The secret is checked before anything else, so without it nothing about the endpoint
//! is revealed. Reasons are fixed texts: nothing from the body or headers is echoed,
//! except the verification challenge itself.
//!
//! # Every well-formed event is queued
//!
//! Ingest does not decide which events matter: it queues every event of a delivery,
//! relevant or not. The worker records why an event was ignored, so an operator can ask
//! about any event Okta sent and get an answer, and a change of configuration (a new
//! mapping, another group) never depends on what ingest dropped earlier. The cost is a
//! few SQS messages per irrelevant event; Okta's event-hook filters are the place to cut
//! traffic at the source.
//!
//! # Messages
//!
//! Body: the event's raw JSON, byte for byte as Okta sent it. `String` attributes:
//! `uuid`, `eventType`, `published`, `oktaUserId` (the `User` target's id, when there is
//! one) and `deliveryId` (the envelope's `eventId`, when present). Messages are sent
//! with `SendMessageBatch` in batches of at most 10 entries and 256 KiB, concurrently;
//! entries that fail transiently are sent again with exponential backoff and jitter
//! until the request's time budget (default 2 s) ends. Entries refused permanently are
//! not resent. Anything not queued at the end makes the answer 503; the duplicates a
//! resend or Okta's retry may cause are the worker's to absorb (it de-duplicates by
//! `uuid`).
//!
//! # Modules
//!
//! - [`handler`]: [`handle`], a plain async function of an [`IngestRequest`] and an
//!   [`Ingest`] context (settings, secret, any [`EventQueue`](okta_connect_core::ports::EventQueue)).
//! - [`gateway`]: API Gateway HTTP API (2.0) and REST API (1.0) events to and from it.
//! - [`enqueue`]: messages, batching, resending.
//! - [`secret`]: the hook secret, compared in constant time; where it comes from.
//! - [`startup`]: the environment the binary reads at cold start, and the SQS client and
//!   hook secret it builds once.
//!
//! Dependency rule: a front door. Depends on `okta-connect-core` and on the AWS adapters
//! of SQS and Secrets Manager only (`okta-connect-aws` with those two features): it never
//! links Connect or DynamoDB.

pub mod enqueue;
pub mod error;
pub mod gateway;
pub mod handler;
pub mod http;
pub mod secret;
pub mod startup;

pub use enqueue::RetryPolicy;
pub use error::IngestError;
pub use handler::{Ingest, Settings, handle};
pub use http::{IngestRequest, IngestResponse};
pub use secret::HookSecret;
