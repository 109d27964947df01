//! A delivery read event by event: every usable event is kept, and each event that is
//! not usable is kept aside, raw, with the reason, for the dead-letter queue.
//!
//! Okta never retries a 4xx, so refusing a whole delivery for one bad event would lose
//! the good ones with it. Only a body that is not an event-hook delivery at all (not
//! JSON, not an envelope, no `data.events` array) is refused as a whole.

use okta_connect_core::okta::{
    DeliveredEvent, Delivery, EVENT_HOOK_TYPE, EnvelopeError, OktaEvent,
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// One element of `data.events` that is not a usable event.
#[derive(Debug, Clone)]
pub struct Unusable {
    /// Its position in `data.events`.
    pub index: usize,
    /// Its JSON exactly as Okta sent it.
    pub raw: Box<RawValue>,
    /// Why it cannot be used (it may quote the event: it goes to the dead-letter queue
    /// with the event, never to a log).
    pub reason: String,
}

/// A delivery split into what can be queued and what cannot.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The usable events, in delivery order.
    pub delivery: Delivery,
    /// The unusable ones, in delivery order.
    pub unusable: Vec<Unusable>,
}

impl Parsed {
    /// Elements of `data.events`, usable or not.
    pub fn received(&self) -> usize {
        self.delivery.events.len() + self.unusable.len()
    }
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

/// Parses an event-hook POST body. `Err` only when the body as a whole is not a
/// delivery; an element of `data.events` that is not a usable event (see
/// [`OktaEvent::parse`]) ends up in [`Parsed::unusable`] instead. Each event's bytes are
/// kept exactly as sent.
pub fn parse(body: &[u8]) -> Result<Parsed, EnvelopeError> {
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
            Err(e) => unusable.push(Unusable {
                index,
                raw: raw.to_owned(),
                reason: format!("data.events[{index}] is not a usable event: {e}"),
            }),
        }
    }
    Ok(Parsed {
        delivery: Delivery {
            event_id: shape.event_id,
            source: shape.source,
            events: usable,
        },
        unusable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use okta_connect_testkit::fixtures;

    #[test]
    fn valid_deliveries_read_as_core_reads_them() {
        for (name, text) in fixtures::deliveries() {
            let ours = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            let core = Delivery::parse(text.as_bytes()).unwrap();
            assert!(ours.unusable.is_empty(), "{name}");
            assert_eq!(ours.delivery.event_id, core.event_id, "{name}");
            assert_eq!(ours.delivery.source, core.source, "{name}");
            assert_eq!(ours.delivery.events.len(), core.events.len(), "{name}");
            for (a, b) in ours.delivery.events.iter().zip(&core.events) {
                assert_eq!(a.raw.get(), b.raw.get(), "{name}");
                assert_eq!(a.event, b.event, "{name}");
            }
        }
    }

    #[test]
    fn bad_events_are_set_aside_raw_with_their_reason() {
        let text = r#"{"eventId": "d1", "data": {"events": [
            {"uuid": "u1", "published": "2026-01-01T00:00:00Z", "eventType": "x"},
            7,
            {"uuid": 5, "published": "2026-01-01T00:00:00Z", "eventType": "x"},
            {"uuid": "u4", "published": "yesterday", "eventType": "x"},
            {"uuid": "u5", "published": "2026-01-01T00:00:01Z", "eventType": "y"}
        ]}}"#;
        let parsed = parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.received(), 5);
        let uuids: Vec<&str> = parsed
            .delivery
            .events
            .iter()
            .map(|e| e.event.uuid.as_str())
            .collect();
        assert_eq!(uuids, ["u1", "u5"]);
        let bad: Vec<(usize, &str)> = parsed
            .unusable
            .iter()
            .map(|u| (u.index, u.raw.get()))
            .collect();
        assert_eq!(bad[0], (1, "7"));
        assert_eq!(bad[1].0, 2);
        assert!(text.contains(bad[1].1) && text.contains(bad[2].1));
        assert!(parsed.unusable[2].reason.contains("data.events[3]"));
        assert!(parsed.unusable[2].reason.contains("RFC 3339"));
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
            assert!(parse(text.as_bytes()).is_err(), "{text:?}");
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(deep.as_bytes()).is_err());
    }
}
