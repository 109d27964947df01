//! Okta's event-hook envelope and System Log events.
//!
//! Lenient where Okta is (unknown fields ignored; `target`, `actor`, `outcome` and
//! `debugContext` may be null or missing), strict where the pipeline depends on a field:
//! every event needs a string `uuid` (the de-duplication key), an `eventType` and an
//! RFC 3339 `published` (the fact's date). Each event's raw JSON is kept byte for byte,
//! because the queue carries it whole.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::time::UnixMillis;

/// The envelope's `eventType` for every event-hook delivery.
pub const EVENT_HOOK_TYPE: &str = "com.okta.event_hook";

/// Why a request body is not an Okta event-hook delivery. Always permanent: the same
/// bytes will never parse, so the sender should get a 4xx.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("body is not JSON: {0}")]
    NotJson(String),
    #[error("body is not an Okta event-hook delivery: {0}")]
    NotAnEnvelope(String),
    #[error("delivery has no data.events array")]
    MissingEvents,
    #[error("data.events[{index}] is not a usable event: {problem}")]
    BadEvent { index: usize, problem: String },
}

/// Why one raw event cannot be read. Permanent for that event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event is not a System Log event: {0}")]
    Shape(String),
    #[error("event has an empty uuid")]
    EmptyUuid,
    #[error("event published time {0:?} is not RFC 3339")]
    BadPublished(String),
}

/// One POST from an Okta event hook.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The delivery's id; Okta keeps it when it retries the same delivery.
    pub event_id: Option<String>,
    pub source: Option<String>,
    pub events: Vec<DeliveredEvent>,
}

/// One event of a delivery: its exact bytes and what was read from them.
#[derive(Debug, Clone)]
pub struct DeliveredEvent {
    pub raw: Box<RawValue>,
    pub event: OktaEvent,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeShape<'a> {
    event_type: Option<String>,
    event_id: Option<String>,
    source: Option<String>,
    #[serde(borrow)]
    data: Option<DataShape<'a>>,
}

#[derive(Deserialize)]
struct DataShape<'a> {
    #[serde(borrow)]
    events: Option<&'a RawValue>,
}

/// One element of `data.events` that is not a usable event.
#[derive(Debug, Clone)]
pub struct UnusableEvent {
    /// Its position in `data.events`.
    pub index: usize,
    /// Its JSON exactly as Okta sent it.
    pub raw: Box<RawValue>,
    /// Why it cannot be used.
    pub error: EventError,
}

impl UnusableEvent {
    /// Why it cannot be used, in words, with its position (it may quote the event: it
    /// belongs with the event in a dead-letter queue, never in a log).
    pub fn reason(&self) -> String {
        self.bad_event().to_string()
    }

    fn bad_event(&self) -> EnvelopeError {
        EnvelopeError::BadEvent {
            index: self.index,
            problem: self.error.to_string(),
        }
    }
}

/// A delivery split into its usable events and the ones set aside.
#[derive(Debug, Clone)]
pub struct SplitDelivery {
    /// The usable events, in delivery order.
    pub delivery: Delivery,
    /// The unusable ones, in delivery order.
    pub unusable: Vec<UnusableEvent>,
}

impl SplitDelivery {
    /// Elements of `data.events`, usable or not.
    pub fn received(&self) -> usize {
        self.delivery.events.len() + self.unusable.len()
    }
}

impl Delivery {
    /// Parses an event-hook POST body. Errors name what is wrong (not JSON, not an
    /// envelope, no `data.events`, or the first event that is unusable and why). Each
    /// event's bytes are kept exactly as sent.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        let split = Self::split(body)?;
        match split.unusable.first() {
            Some(bad) => Err(bad.bad_event()),
            None => Ok(split.delivery),
        }
    }

    /// Parses an event-hook POST body event by event: `Err` only when the body as a
    /// whole is not a delivery (not JSON, not an envelope, no `data.events` array); an
    /// element that is not a usable event (see [`OktaEvent::parse`]) is set aside in
    /// [`SplitDelivery::unusable`]. Okta never retries a 4xx, so refusing a whole
    /// delivery for one bad event would lose the good ones with it.
    pub fn split(body: &[u8]) -> Result<SplitDelivery, EnvelopeError> {
        let whole: &RawValue =
            serde_json::from_slice(body).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
        if !whole.get().starts_with('{') {
            return Err(EnvelopeError::NotAnEnvelope(
                "expected a JSON object at the top level".into(),
            ));
        }
        let shape: EnvelopeShape<'_> = serde_json::from_str(whole.get())
            .map_err(|e| EnvelopeError::NotAnEnvelope(e.to_string()))?;
        if let Some(kind) = shape.event_type.as_deref()
            && kind != EVENT_HOOK_TYPE
        {
            return Err(EnvelopeError::NotAnEnvelope(format!(
                "eventType is {kind:?}, expected {EVENT_HOOK_TYPE:?}"
            )));
        }
        let events = shape
            .data
            .and_then(|d| d.events)
            .filter(|raw| raw.get() != "null")
            .ok_or(EnvelopeError::MissingEvents)?;
        let elements: Vec<&RawValue> = serde_json::from_str(events.get())
            .map_err(|_| EnvelopeError::NotAnEnvelope("data.events is not an array".into()))?;
        let mut usable = Vec::with_capacity(elements.len());
        let mut unusable = Vec::new();
        for (index, raw) in elements.into_iter().enumerate() {
            match OktaEvent::parse(raw.get()) {
                Ok(event) => usable.push(DeliveredEvent {
                    raw: raw.to_owned(),
                    event,
                }),
                Err(error) => unusable.push(UnusableEvent {
                    index,
                    raw: raw.to_owned(),
                    error,
                }),
            }
        }
        Ok(SplitDelivery {
            delivery: Delivery {
                event_id: shape.event_id,
                source: shape.source,
                events: usable,
            },
            unusable,
        })
    }
}

/// A System Log event, reduced to what the pipeline reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaEvent {
    pub uuid: String,
    pub published: String,
    pub event_type: String,
    #[serde(default)]
    pub display_message: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub target: Vec<Target>,
    #[serde(default)]
    pub actor: Option<Target>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub debug_context: Option<DebugContext>,
}

/// An entry of `target[]` (or the `actor`): only these fields are documented.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub alternate_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Outcome {
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugContext {
    #[serde(default)]
    pub debug_data: Option<serde_json::Map<String, serde_json::Value>>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Target>, D::Error> {
    Ok(Option::<Vec<Target>>::deserialize(d)?.unwrap_or_default())
}

impl OktaEvent {
    /// Parses one raw event as carried by the queue.
    pub fn parse(raw: &str) -> Result<Self, EventError> {
        let event: OktaEvent =
            serde_json::from_str(raw).map_err(|e| EventError::Shape(e.to_string()))?;
        if event.uuid.trim().is_empty() {
            return Err(EventError::EmptyUuid);
        }
        if UnixMillis::parse_rfc3339(&event.published).is_none() {
            return Err(EventError::BadPublished(event.published));
        }
        Ok(event)
    }

    /// `published` as an instant; `parse` guarantees it is valid.
    pub fn published_at(&self) -> UnixMillis {
        UnixMillis::parse_rfc3339(&self.published).unwrap_or(UnixMillis(0))
    }

    /// What the event is about, as the ledger keeps it with the event's record.
    pub fn about(&self) -> crate::ports::EventAbout {
        let user = self.okta_user();
        crate::ports::EventAbout {
            event_type: self.event_type.clone(),
            okta_user_id: user.and_then(|u| u.id.clone()),
            login: user.and_then(|u| u.alternate_id.clone()),
            published: UnixMillis::parse_rfc3339(&self.published),
        }
    }

    /// The first target of the given `type` (`User`, `UserGroup`, `AppInstance`, …).
    pub fn target_of_kind(&self, kind: &str) -> Option<&Target> {
        self.target.iter().find(|t| t.kind.as_deref() == Some(kind))
    }

    /// The Okta user the event is about: its `User` target.
    pub fn okta_user(&self) -> Option<&Target> {
        self.target_of_kind("User")
    }

    /// Whether Okta reports the action as done. A missing outcome counts as success:
    /// Okta omits it on some event types that cannot fail.
    pub fn succeeded(&self) -> bool {
        match self.outcome.as_ref().and_then(|o| o.result.as_deref()) {
            None => true,
            Some(result) => result.eq_ignore_ascii_case("SUCCESS"),
        }
    }

    /// `debugContext.debugData.changedAttributes` split on commas, for profile updates.
    pub fn changed_attributes(&self) -> Vec<String> {
        self.debug_context
            .as_ref()
            .and_then(|d| d.debug_data.as_ref())
            .and_then(|d| d.get("changedAttributes"))
            .and_then(|v| v.as_str())
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn split_keeps_the_usable_events_and_sets_the_rest_aside_raw_with_their_reason() {
        let text = r#"{"eventId": "d1", "data": {"events": [
            {"uuid": "u1", "published": "2026-01-01T00:00:00Z", "eventType": "x"},
            7,
            {"uuid": 5, "published": "2026-01-01T00:00:00Z", "eventType": "x"},
            {"uuid": "u4", "published": "yesterday", "eventType": "x"},
            {"uuid": "u5", "published": "2026-01-01T00:00:01Z", "eventType": "y"}
        ]}}"#;
        let split = Delivery::split(text.as_bytes()).unwrap();
        assert_eq!(split.received(), 5);
        let uuids: Vec<&str> = split
            .delivery
            .events
            .iter()
            .map(|e| e.event.uuid.as_str())
            .collect();
        assert_eq!(uuids, ["u1", "u5"]);
        let bad: Vec<(usize, &str)> = split
            .unusable
            .iter()
            .map(|u| (u.index, u.raw.get()))
            .collect();
        assert_eq!(bad[0], (1, "7"));
        assert_eq!(bad[1].0, 2);
        assert!(text.contains(bad[1].1) && text.contains(bad[2].1));
        assert!(split.unusable[2].reason().contains("data.events[3]"));
        assert!(split.unusable[2].reason().contains("RFC 3339"));
        // The strict parse refuses the delivery for its first unusable event.
        let err = Delivery::parse(text.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), split.unusable[0].reason());
    }

    #[test]
    fn valid_deliveries_split_with_nothing_set_aside() {
        for (name, text) in fixtures::deliveries() {
            let split = Delivery::split(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(split.unusable.is_empty(), "{name}");
            assert_eq!(split.received(), split.delivery.events.len(), "{name}");
        }
    }

    #[test]
    fn bodies_that_are_no_delivery_are_refused_whole() {
        for text in [
            "",
            "{",
            "[1]",
            "null",
            r#"{"data": {}}"#,
            r#"{"data": {"events": null}}"#,
            r#"{"data": {"events": {"a": 1}}}"#,
            r#"{"eventType": "com.okta.import.transform", "data": {"events": []}}"#,
        ] {
            assert!(Delivery::split(text.as_bytes()).is_err(), "{text:?}");
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(Delivery::split(deep.as_bytes()).is_err());
    }

    #[test]
    fn every_valid_fixture_parses_and_keeps_each_events_bytes() {
        for (name, text) in fixtures::deliveries() {
            let delivery =
                Delivery::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(delivery.event_id.is_some(), "{name}");
            let whole: serde_json::Value = serde_json::from_str(text).unwrap();
            let originals = whole["data"]["events"].as_array().unwrap();
            assert_eq!(delivery.events.len(), originals.len(), "{name}");
            for (kept, original) in delivery.events.iter().zip(originals) {
                // Byte-for-byte substring of what Okta sent, and the same JSON.
                assert!(text.contains(kept.raw.get()), "{name}: raw bytes altered");
                let reparsed: serde_json::Value = serde_json::from_str(kept.raw.get()).unwrap();
                assert_eq!(&reparsed, original, "{name}");
            }
        }
    }

    #[test]
    fn the_hundred_event_delivery_has_a_hundred_distinct_uuids() {
        let delivery = Delivery::parse(fixtures::HUNDRED_EVENTS.as_bytes()).unwrap();
        let uuids: std::collections::BTreeSet<_> = delivery
            .events
            .iter()
            .map(|e| e.event.uuid.as_str())
            .collect();
        assert_eq!(uuids.len(), 100);
    }

    #[test]
    fn null_and_missing_optional_fields_are_accepted() {
        let delivery =
            Delivery::parse(fixtures::TARGET_NULL_AND_MISSING_FIELDS.as_bytes()).unwrap();
        let events: Vec<&OktaEvent> = delivery.events.iter().map(|e| &e.event).collect();
        assert!(events[0].target.is_empty() && events[0].okta_user().is_none());
        assert!(
            events[1].target.is_empty(),
            "target: null reads as no targets"
        );
        assert!(
            events[2].actor.is_none()
                && events[2].outcome.is_none()
                && events[2].debug_context.is_none()
        );
        assert!(events[2].succeeded(), "a missing outcome counts as success");
        assert!(events[3].actor.is_none() && events[3].outcome.is_none());
    }

    #[test]
    fn invalid_bodies_say_what_is_wrong() {
        let check = |text: &str, expect: fn(&EnvelopeError) -> bool| {
            let e = Delivery::parse(text.as_bytes()).unwrap_err();
            assert!(expect(&e), "{text:.60}: {e}");
        };
        check(fixtures::INVALID_NOT_JSON, |e| {
            matches!(e, EnvelopeError::NotJson(_))
        });
        check(fixtures::INVALID_TRUNCATED, |e| {
            matches!(e, EnvelopeError::NotJson(_))
        });
        check(fixtures::INVALID_WRONG_ENVELOPE, |e| {
            matches!(e, EnvelopeError::MissingEvents)
        });
        check(fixtures::INVALID_MISSING_DATA_EVENTS, |e| {
            matches!(e, EnvelopeError::MissingEvents)
        });
        check(
            fixtures::INVALID_EVENTS_NOT_ARRAY,
            |e| matches!(e, EnvelopeError::NotAnEnvelope(m) if m.contains("not an array")),
        );
        check(fixtures::INVALID_EVENT_UUID_NUMBER, |e| {
            matches!(e, EnvelopeError::BadEvent { index: 0, .. })
        });
        check("[1,2]", |e| matches!(e, EnvelopeError::NotAnEnvelope(_)));
        check("\"text\"", |e| matches!(e, EnvelopeError::NotAnEnvelope(_)));
        check("{\"data\": null}", |e| {
            matches!(e, EnvelopeError::MissingEvents)
        });
        check("{\"data\": {\"events\": null}}", |e| {
            matches!(e, EnvelopeError::MissingEvents)
        });
        check(
            "{\"eventType\": \"com.okta.oauth2.tokens.transform\", \"data\": {\"events\": []}}",
            |e| matches!(e, EnvelopeError::NotAnEnvelope(m) if m.contains("eventType")),
        );
        check(
            "{\"data\": {\"events\": [{\"uuid\": \"\", \"published\": \"2026-01-01T00:00:00Z\", \"eventType\": \"x\"}]}}",
            |e| matches!(e, EnvelopeError::BadEvent { .. }),
        );
        check(
            "{\"data\": {\"events\": [{\"uuid\": \"u\", \"published\": \"yesterday\", \"eventType\": \"x\"}]}}",
            |e| matches!(e, EnvelopeError::BadEvent { problem, .. } if problem.contains("RFC 3339")),
        );
        check("{\"data\": {\"events\": [7]}}", |e| {
            matches!(e, EnvelopeError::BadEvent { .. })
        });
        // Deep nesting is rejected without recursing (no stack overflow), wherever it is.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        check(&deep, |e| {
            matches!(
                e,
                EnvelopeError::NotAnEnvelope(_) | EnvelopeError::NotJson(_)
            )
        });
        let nest = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        let deep_event = format!(
            "{{\"data\": {{\"events\": [{{\"uuid\": \"u\", \"published\": \"2026-01-01T00:00:00Z\", \"eventType\": \"x\", \"deep\": {nest}}}]}}}}"
        );
        // Inside an ignored field, depth is skipped iteratively: accepted, stack intact.
        let parsed = Delivery::parse(deep_event.as_bytes());
        assert!(
            parsed.is_ok_and(|d| d.events.len() == 1),
            "deeply nested ignored field"
        );
        check("", |e| matches!(e, EnvelopeError::NotJson(_)));
    }

    #[test]
    fn invalid_utf8_is_not_json() {
        let mut body = fixtures::GROUP_MEMBERSHIP_ADD.as_bytes().to_vec();
        let at = body.iter().position(|b| *b == b'J').unwrap();
        body[at] = 0xff;
        assert!(matches!(
            Delivery::parse(&body),
            Err(EnvelopeError::NotJson(_))
        ));
    }

    #[test]
    fn changed_attributes_are_split() {
        let delivery = Delivery::parse(fixtures::USER_UPDATE_PROFILE.as_bytes()).unwrap();
        assert_eq!(
            delivery.events[0].event.changed_attributes(),
            ["lastName", "displayName"]
        );
    }
}
