//! The queue's message schema, shared by every producer and consumer (ingest, worker,
//! CLI, the SQS and SQLite adapters): the message types, their limits, and the attribute
//! names as one set of constants with typed readers and writers.
//!
//! A message body is an Okta event's raw JSON, byte for byte, or a [`ReconcileRequest`]
//! that a reconcile run queued ([`Work::parse`] tells them apart by the body alone).
//! Attributes are SQS `String` message attributes; an empty value is never sent (SQS
//! refuses it).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::okta::{EventError, OktaEvent};
use crate::ports::ErrorClass;
use crate::time::UnixMillis;

/// SQS's limits for one `SendMessageBatch`: 10 entries, 256 KiB of payload in all.
pub const MAX_BATCH_ENTRIES: usize = 10;
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// SQS's limit for one `ReceiveMessage`.
pub const MAX_RECEIVE: usize = 10;

/// Message attributes: name → string value.
pub type Attributes = BTreeMap<String, String>;

/// The attribute names. Nothing else names an attribute.
pub mod attribute {
    /// The Okta event's `uuid`: the de-duplication key (never the SQS message id).
    pub const UUID: &str = "uuid";
    /// The Okta event's `eventType`.
    pub const EVENT_TYPE: &str = "eventType";
    /// The Okta event's `published` (RFC 3339, as Okta wrote it).
    pub const PUBLISHED: &str = "published";
    /// The id of the event's `User` target, when it has one.
    pub const OKTA_USER_ID: &str = "oktaUserId";
    /// The envelope's `eventId` (one per delivery), when present.
    pub const DELIVERY_ID: &str = "deliveryId";
    /// `true` when the body is not the event's whole JSON: an event larger than an SQS
    /// message trimmed to the fields the worker reads, or a dead letter cut to fit.
    /// Operators read it; the worker decides from the body alone.
    pub const TRIMMED: &str = "trimmed";
    /// Dead letters only: why the message can never succeed.
    pub const FAILURE_REASON: &str = "failureReason";
    /// Dead letters only: [`ErrorClass`](crate::ports::ErrorClass) of the failure.
    pub const FAILURE_CLASS: &str = "failureClass";
    /// Dead letters only: when it was dead-lettered (epoch milliseconds).
    pub const FAILED_AT: &str = "failedAt";
    /// Dead letters only: the message id it had in the source queue.
    pub const SOURCE_MESSAGE_ID: &str = "sourceMessageId";
}

/// Longest `failureReason` written (SQS attributes count against the message size).
pub const MAX_FAILURE_REASON_CHARS: usize = 1000;

/// What ingest states about an event in its message's attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAttributes {
    pub uuid: String,
    pub event_type: String,
    pub published: String,
    pub okta_user_id: Option<String>,
    pub delivery_id: Option<String>,
}

impl EventAttributes {
    /// The attributes to send; empty values are left out.
    pub fn to_attributes(&self) -> Attributes {
        let mut out = Attributes::new();
        put(&mut out, attribute::UUID, Some(&self.uuid));
        put(&mut out, attribute::EVENT_TYPE, Some(&self.event_type));
        put(&mut out, attribute::PUBLISHED, Some(&self.published));
        put(
            &mut out,
            attribute::OKTA_USER_ID,
            self.okta_user_id.as_ref(),
        );
        put(&mut out, attribute::DELIVERY_ID, self.delivery_id.as_ref());
        out
    }

    /// Reads what is there; missing names read as empty / `None`. Attributes are hints
    /// for logs and operators: the worker decides from the body alone.
    pub fn read(attributes: &Attributes) -> Self {
        let get = |name: &str| attributes.get(name).filter(|v| !v.is_empty()).cloned();
        Self {
            uuid: get(attribute::UUID).unwrap_or_default(),
            event_type: get(attribute::EVENT_TYPE).unwrap_or_default(),
            published: get(attribute::PUBLISHED).unwrap_or_default(),
            okta_user_id: get(attribute::OKTA_USER_ID),
            delivery_id: get(attribute::DELIVERY_ID),
        }
    }
}

/// The `eventType` attribute of a reconcile request (not an Okta event type: Okta's have
/// no hyphen).
pub const RECONCILE_REQUEST_TYPE: &str = "okta-connect.reconcile";

/// "Converge this Okta user": queued by a reconcile run for each user whose Connect user
/// should change, after the run recorded the user's snapshot facts in the ledger. The
/// worker converges the user from the ledger's newest facts, whatever they are by then,
/// so a late or redriven request is as correct as a prompt one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReconcileRequest {
    pub run_id: String,
    pub okta_user_id: String,
    /// When the run read Okta and Connect (its facts' date).
    pub taken_at: UnixMillis,
}

/// A reconcile request's body: one top-level key Okta events never have.
#[derive(Serialize, Deserialize)]
struct ReconcileBody<T> {
    #[serde(rename = "okta-connect.reconcile")]
    request: Option<T>,
}

impl ReconcileRequest {
    /// What the request is about, as the ledger keeps it with the request's record.
    pub fn about(&self) -> crate::ports::EventAbout {
        crate::ports::EventAbout {
            event_type: RECONCILE_REQUEST_TYPE.to_string(),
            okta_user_id: Some(self.okta_user_id.clone()),
            login: None,
            published: Some(self.taken_at),
        }
    }

    /// The de-duplication key: one converge per user per run.
    pub fn uuid(&self) -> String {
        format!("reconcile:{}:{}", self.run_id, self.okta_user_id)
    }

    /// The queue message: the body [`Work::parse`] reads back, and attributes for
    /// operators in the same names events use.
    pub fn to_message(&self, entry_id: String) -> QueueMessage {
        // Serializing plain strings and a number into a String cannot fail.
        let body = serde_json::to_string(&ReconcileBody {
            request: Some(self),
        })
        .unwrap_or_default();
        let attributes = EventAttributes {
            uuid: self.uuid(),
            event_type: RECONCILE_REQUEST_TYPE.to_string(),
            published: self.taken_at.to_string(),
            okta_user_id: Some(self.okta_user_id.clone()),
            delivery_id: Some(self.run_id.clone()),
        }
        .to_attributes();
        QueueMessage {
            entry_id,
            body,
            attributes,
        }
    }
}

/// What one queue message asks the worker to do.
#[derive(Debug, Clone)]
pub enum Work {
    /// Record the fact an Okta event asserts, then converge its user.
    Event(Box<OktaEvent>),
    /// Converge a user a reconcile run found out of step.
    Reconcile(ReconcileRequest),
}

/// Why a message body is neither an Okta event nor a reconcile request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("reconcile request is malformed: {0}")]
    Reconcile(String),
}

impl Work {
    /// Reads a message body: a JSON object whose only key is the reconcile key is a
    /// reconcile request; anything else must be an Okta event.
    pub fn parse(body: &str) -> Result<Self, WorkError> {
        if let Ok(ReconcileBody {
            request: Some(request),
        }) = serde_json::from_str::<ReconcileBody<serde_json::Value>>(body)
        {
            return serde_json::from_value(request)
                .map(Work::Reconcile)
                .map_err(|e| WorkError::Reconcile(e.to_string()));
        }
        Ok(Work::Event(Box::new(OktaEvent::parse(body)?)))
    }
}

/// Why a message is in the dead-letter queue, as the worker wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterReason {
    pub reason: String,
    pub class: ErrorClass,
    pub failed_at: UnixMillis,
    pub source_message_id: String,
}

impl DeadLetterReason {
    /// Adds the reason to `attributes` (the reason cut to [`MAX_FAILURE_REASON_CHARS`]).
    pub fn write_into(&self, attributes: &mut Attributes) {
        let reason: String = self.reason.chars().take(MAX_FAILURE_REASON_CHARS).collect();
        put(attributes, attribute::FAILURE_REASON, Some(&reason));
        put(
            attributes,
            attribute::FAILURE_CLASS,
            Some(&self.class.to_string()),
        );
        put(
            attributes,
            attribute::FAILED_AT,
            Some(&self.failed_at.0.to_string()),
        );
        put(
            attributes,
            attribute::SOURCE_MESSAGE_ID,
            Some(&self.source_message_id),
        );
    }

    /// The reason in `attributes`, or `None` for a message the worker did not
    /// dead-letter itself (SQS moved it after too many receives).
    pub fn read(attributes: &Attributes) -> Option<Self> {
        let reason = attributes.get(attribute::FAILURE_REASON)?.clone();
        Some(Self {
            reason,
            class: match attributes.get(attribute::FAILURE_CLASS).map(String::as_str) {
                Some("transient") => ErrorClass::Transient,
                _ => ErrorClass::Permanent,
            },
            failed_at: attributes
                .get(attribute::FAILED_AT)
                .and_then(|v| v.parse().ok())
                .map(UnixMillis)
                .unwrap_or(UnixMillis(0)),
            source_message_id: attributes
                .get(attribute::SOURCE_MESSAGE_ID)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

fn put(out: &mut Attributes, name: &str, value: Option<&String>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        out.insert(name.to_string(), value.clone());
    }
}

/// One message to send: an Okta event's raw JSON and its attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueMessage {
    /// Unique within one batch; reported back for entries that failed.
    pub entry_id: String,
    pub body: String,
    pub attributes: Attributes,
}

impl QueueMessage {
    /// Bytes SQS counts against the batch limit: body plus attribute names and values.
    pub fn payload_bytes(&self) -> usize {
        self.body.len()
            + self
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len() + "String".len())
                .sum::<usize>()
    }
}

/// An entry the queue did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEntry {
    pub entry_id: String,
    pub class: ErrorClass,
    pub reason: String,
}

/// The handle that settles one delivery of a message (SQS's receipt handle). Stale once
/// the message is received again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Receipt(pub String);

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The queue's id for the message (a redrive gives it a new one: never de-duplicate
    /// on it).
    pub message_id: String,
    pub receipt: Receipt,
    pub body: String,
    pub attributes: Attributes,
    /// Receives so far, this one included (from 1).
    pub receive_count: u32,
}

/// A dead-lettered message, read without consuming it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    pub body: String,
    pub attributes: Attributes,
    pub receive_count: u32,
    /// When it was first sent, if the queue knows.
    pub sent_at: Option<UnixMillis>,
}

impl DeadLetter {
    /// The worker's reason, if the worker dead-lettered it.
    pub fn reason(&self) -> Option<DeadLetterReason> {
        DeadLetterReason::read(&self.attributes)
    }

    /// The event attributes ingest gave the message.
    pub fn event(&self) -> EventAttributes {
        EventAttributes::read(&self.attributes)
    }
}

/// A queue's depth (SQS: its approximate counts; SQLite: exact).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    /// Receivable now.
    pub visible: u64,
    /// Received and neither acknowledged nor visible again yet.
    pub in_flight: u64,
    /// In the dead-letter queue.
    pub dead_lettered: u64,
}

/// How a redrive moved messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedriveMethod {
    /// SQS's own `StartMessageMoveTask`.
    MoveTask,
    /// Receive from the dead-letter queue, send to the source queue, delete (for
    /// endpoints without `StartMessageMoveTask`, such as moto).
    Relay,
    /// One transaction of the embedded SQLite queue.
    Transaction,
}

/// What a redrive did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Redriven {
    pub moved: u64,
    pub method: RedriveMethod,
}

/// Backoff before a handed-back message is visible again: 1 s, 2 s, 4 s … capped at
/// 30 s, so a throttled or failing Connect is retried promptly but not hammered.
pub fn retry_delay(receive_count: u32) -> Duration {
    Duration::from_secs(1 << receive_count.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_attributes_round_trip_and_skip_empty_values() {
        let event = EventAttributes {
            uuid: "u1".into(),
            event_type: "group.user_membership.add".into(),
            published: "2026-01-01T00:00:00.000Z".into(),
            okta_user_id: Some(String::new()),
            delivery_id: Some("d1".into()),
        };
        let attributes = event.to_attributes();
        assert_eq!(attributes.len(), 4, "{attributes:?}");
        assert!(!attributes.contains_key(attribute::OKTA_USER_ID));
        let back = EventAttributes::read(&attributes);
        assert_eq!(back.okta_user_id, None);
        assert_eq!(back.delivery_id.as_deref(), Some("d1"));
        assert_eq!(back.uuid, "u1");
    }

    #[test]
    fn dead_letter_reason_round_trips_and_is_bounded() {
        let reason = DeadLetterReason {
            reason: "x".repeat(5000),
            class: ErrorClass::Permanent,
            failed_at: UnixMillis(42),
            source_message_id: "m1".into(),
        };
        let mut attributes = EventAttributes {
            uuid: "u1".into(),
            ..EventAttributes::default()
        }
        .to_attributes();
        reason.write_into(&mut attributes);
        assert_eq!(
            attributes[attribute::FAILURE_REASON].chars().count(),
            MAX_FAILURE_REASON_CHARS
        );
        let back = DeadLetterReason::read(&attributes).unwrap();
        assert_eq!(back.class, ErrorClass::Permanent);
        assert_eq!(back.failed_at, UnixMillis(42));
        assert_eq!(back.source_message_id, "m1");
        assert_eq!(DeadLetterReason::read(&Attributes::new()), None);
    }

    #[test]
    fn reconcile_requests_round_trip_and_never_read_as_events() {
        let request = ReconcileRequest {
            run_id: "r1".into(),
            okta_user_id: "00u1".into(),
            taken_at: UnixMillis(1_790_000_000_000),
        };
        let message = request.to_message("0".into());
        let Ok(Work::Reconcile(back)) = Work::parse(&message.body) else {
            panic!("not a reconcile request: {}", message.body);
        };
        assert_eq!(back, request);
        let hints = EventAttributes::read(&message.attributes);
        assert_eq!(hints.uuid, "reconcile:r1:00u1");
        assert_eq!(hints.event_type, RECONCILE_REQUEST_TYPE);
        assert_eq!(hints.okta_user_id.as_deref(), Some("00u1"));

        // A malformed request is refused, not read as an event.
        let bad = r#"{"okta-connect.reconcile": {"runId": "r1"}}"#;
        assert!(matches!(Work::parse(bad), Err(WorkError::Reconcile(_))));
        // An Okta event stays an event; anything else is an event error.
        let event = r#"{"uuid":"e1","published":"2026-11-20T09:15:02.123Z","eventType":"user.lifecycle.suspend","target":null}"#;
        assert!(matches!(Work::parse(event), Ok(Work::Event(_))));
        assert!(matches!(Work::parse("[]"), Err(WorkError::Event(_))));
    }

    #[test]
    fn retry_delay_doubles_to_a_cap() {
        let secs: Vec<u64> = (1..=8).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
