//! The ingest Lambda behind API Gateway: it authenticates Okta's event-hook requests,
//! answers the one-time verification challenge, and makes every delivered event
//! durable as one SQS message, inside Okta's 3-second window. It never calls Amazon
//! Connect.
//!
//! # Behaviour
//!
//! | request | answer |
//! |---|---|
//! | any method, secret header missing, repeated or wrong (any size) | 401 `{"error": …}`, nothing echoed |
//! | wrong secret, and the stored secret cannot be read again to check for a rotation | 503 |
//! | `GET` + secret + `x-okta-verification-challenge` (any case) | 200 `{"verification": "<value>"}` |
//! | `GET` + secret, no (or empty, or repeated) challenge | 400 |
//! | `POST` + secret, body (declared, sent or base64-decoded) over the limit | 413 |
//! | `POST` + secret, invalid base64 / not JSON / not a delivery | 400 `{"error": …}` |
//! | `POST` + secret, events but none usable (each dead-lettered) | 400 `{"error": …}` |
//! | `POST` + secret, `data.events: []` | 200 `{"queued": 0, "deadLettered": 0}`, nothing sent |
//! | `POST` + secret, every usable event queued, every unusable one dead-lettered | 200 `{"queued": N, "deadLettered": M}` |
//! | `POST` + secret, something not durable when the budget ends | 503 (Okta retries once) |
//! | any other method, with the secret | 405, `Allow: GET, POST` |
//!
//! The secret is checked before anything else, so without it nothing about the endpoint
//! is revealed and no body is read. Reasons are fixed texts: nothing from the body or
//! headers is echoed, except the verification challenge itself.
//!
//! # Every well-formed event is queued; the others are kept too
//!
//! Ingest does not decide which events matter: it queues every event of a delivery,
//! relevant or not. The worker records why an event was ignored, so an operator can ask
//! about any event Okta sent and get an answer, and a change of configuration (a new
//! mapping, another group) never depends on what ingest dropped earlier. The cost is a
//! few SQS messages per irrelevant event; Okta's event-hook filters are the place to cut
//! traffic at the source.
//!
//! Okta never retries a 4xx, so one bad event never costs the others of its delivery:
//! an element of `data.events` that is not a usable event goes to the dead-letter queue,
//! raw, with its reason (`failureReason`, `failureClass` = permanent, `failedAt`), and
//! the rest is queued. Only a delivery with nothing usable in it is answered 4xx.
//!
//! # Messages
//!
//! Body: the event's raw JSON, byte for byte as Okta sent it; an event larger than an
//! SQS message (256 KiB, attributes included) is trimmed to the fields the worker reads
//! ([`trim`]) and marked `trimmed=true`. `String` attributes: `uuid`, `eventType`,
//! `published`, `oktaUserId` (the `User` target's id, when there is one) and
//! `deliveryId` (the envelope's `eventId`, when present). Messages are sent with
//! `SendMessageBatch` in batches of at most 10 entries and 256 KiB, concurrently;
//! entries that fail transiently are sent again with exponential backoff and jitter
//! until the request's time budget (default 2 s) ends. Entries refused permanently are
//! not resent. Anything not queued at the end makes the answer 503; the duplicates a
//! resend or Okta's retry may cause are the worker's to absorb (it de-duplicates by
//! `uuid`).
//!
//! # Modules
//!
//! - [`handler`]: [`handle`] and [`handle_streaming`], plain async functions of an
//!   [`IngestRequest`] and an [`Ingest`] context (settings, secret, queue and
//!   dead-letter queue, any [`EventQueue`](okta_connect_core::ports::EventQueue)).
//! - [`gateway`]: API Gateway HTTP API (2.0) and REST API (1.0) events to and from it.
//! - `okta_connect_core::okta::Delivery::split`: a delivery read event by event, unusable events set aside.
//! - [`enqueue`]: messages, dead letters, batching, resending.
//! - [`trim`]: events larger than an SQS message cut to the worker's fields.
//! - [`secret`]: the hook secret, compared in constant time; where it comes from; how a
//!   rotated one reaches a warm Lambda.
//! - [`metrics`]: the Embedded Metric Format line the stack's alarms read.
//! - [`startup`]: the environment the binary reads at cold start, and the SQS clients
//!   and hook secret it builds once.
//!
//! Dependency rule: a front door. Depends on `okta-connect-core` and on the AWS adapters
//! of SQS and Secrets Manager only (`okta-connect-aws` with those two features, and its
//! feature-less EMF writer): it never links Connect or DynamoDB.

pub mod enqueue;
pub mod error;
pub mod gateway;
pub mod handler;
pub mod http;
pub mod metrics;
pub mod secret;
pub mod startup;
pub mod trim;

pub use enqueue::RetryPolicy;
pub use error::IngestError;
pub use handler::{DEFAULT_MAX_BODY_BYTES, Ingest, Settings, handle, handle_streaming};
pub use http::{IngestRequest, IngestResponse};
pub use metrics::MetricsSink;
pub use secret::{HookSecret, SecretStore};
