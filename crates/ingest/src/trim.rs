//! Events larger than an SQS message, cut down to the fields the worker reads.
//!
//! The worker reads an event through `okta_connect_core::okta::OktaEvent`: `uuid`,
//! `published`, `eventType`, `displayMessage`, `target[]` and `actor` (each `id`,
//! `type`, `alternateId`, `displayName`), `outcome` (`result`, `reason`) and, of
//! `debugContext.debugData`, only `changedAttributes` (`OktaEvent::changed_attributes`).
//! Everything else (`client`, `transaction`, `authenticationContext`, the rest of
//! `debugData`, each target's `detailEntry`, …) is there for people, not for the
//! pipeline, and is what grows without bound. Trimming keeps the worker's fields byte
//! for byte and drops the rest, so the trimmed event classifies exactly as the whole one.
//!
//! If that is still too large, a second, [`Level::Minimal`] pass keeps only what
//! `okta_connect_core::rules::classify` uses: the identity fields, `outcome`,
//! `changedAttributes`, and the first target of each type it looks up (`User`,
//! `UserGroup`, `AppInstance`); `displayMessage`, `actor` and further targets go.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// How much of an event to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Every field `OktaEvent` deserializes.
    WorkerFields,
    /// Only what `rules::classify` reads.
    Minimal,
}

/// The target types `rules::classify` looks up (the first of each).
const CLASSIFIED_TARGETS: &[&str] = &["User", "UserGroup", "AppInstance"];

type Raw<'a> = Option<&'a RawValue>;

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Kept<'a> {
    #[serde(borrow)]
    uuid: &'a RawValue,
    #[serde(borrow)]
    published: &'a RawValue,
    #[serde(borrow)]
    event_type: &'a RawValue,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    display_message: Raw<'a>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    target: Option<Vec<KeptTarget<'a>>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    actor: Option<KeptTarget<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    outcome: Option<KeptOutcome<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    debug_context: Option<KeptDebugContext<'a>>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct KeptTarget<'a> {
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    id: Raw<'a>,
    #[serde(
        rename = "type",
        borrow,
        default,
        skip_serializing_if = "Option::is_none"
    )]
    kind: Raw<'a>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    alternate_id: Raw<'a>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    display_name: Raw<'a>,
}

#[derive(Deserialize, Serialize)]
struct KeptOutcome<'a> {
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    result: Raw<'a>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    reason: Raw<'a>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct KeptDebugContext<'a> {
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    debug_data: Option<KeptDebugData<'a>>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct KeptDebugData<'a> {
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    changed_attributes: Raw<'a>,
}

impl KeptTarget<'_> {
    fn kind(&self) -> Option<String> {
        self.kind.and_then(|k| serde_json::from_str(k.get()).ok())
    }
}

/// `raw` (an event that `OktaEvent::parse` accepted) with only the fields of `level`,
/// their values byte for byte. `None` if `raw` does not have an event's shape.
pub fn trim(raw: &str, level: Level) -> Option<String> {
    let mut kept: Kept<'_> = serde_json::from_str(raw).ok()?;
    if level == Level::Minimal {
        kept.display_message = None;
        kept.actor = None;
        if let Some(targets) = kept.target.take() {
            let mut seen: Vec<String> = Vec::new();
            let firsts = targets
                .into_iter()
                .filter(|t| match t.kind() {
                    Some(kind) if CLASSIFIED_TARGETS.contains(&kind.as_str()) => {
                        if seen.contains(&kind) {
                            false
                        } else {
                            seen.push(kind);
                            true
                        }
                    }
                    _ => false,
                })
                .collect();
            kept.target = Some(firsts);
        }
    }
    serde_json::to_string(&kept).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use okta_connect_core::config::Config;
    use okta_connect_core::okta::{Delivery, OktaEvent};
    use okta_connect_core::rules::classify;
    use okta_connect_testkit::fixtures;

    /// The event as the worker sees it: of `debugData` it reads `changedAttributes` only.
    fn worker_view(event: &OktaEvent) -> (OktaEvent, Vec<String>) {
        let mut rest = event.clone();
        rest.debug_context = None;
        (rest, event.changed_attributes())
    }

    #[test]
    fn trimmed_events_read_and_classify_as_the_whole_ones() {
        let config = Config::from_ini(fixtures::CONFIG_INI).unwrap();
        for (name, text) in fixtures::deliveries() {
            let delivery = Delivery::parse(text.as_bytes()).unwrap();
            for delivered in &delivery.events {
                let whole = &delivered.event;
                let trimmed = trim(delivered.raw.get(), Level::WorkerFields).unwrap();
                let back = OktaEvent::parse(&trimmed).unwrap();
                assert_eq!(
                    worker_view(&back),
                    worker_view(whole),
                    "{name}: a field the worker reads changed"
                );
                assert!(trimmed.len() <= delivered.raw.get().len(), "{name}");
                let minimal = trim(delivered.raw.get(), Level::Minimal).unwrap();
                let back = OktaEvent::parse(&minimal).unwrap();
                assert_eq!(
                    classify(&back, &config),
                    classify(whole, &config),
                    "{name}: classification changed"
                );
                assert_eq!(back.changed_attributes(), whole.changed_attributes());
            }
        }
    }

    #[test]
    fn values_are_kept_byte_for_byte_and_the_rest_dropped() {
        let raw = r#"{"uuid":"u\u0031","published":"2026-01-01T00:00:00.000Z","eventType":"user.account.update_profile",
            "target":[{"id":"00u1","type":"User","alternateId":"a@b.example","displayName":"A \"B\"","detailEntry":{"x":1}}],
            "debugContext":{"debugData":{"changedAttributes":"login,lastName","huge":"xxxxxxxx"}},
            "client":{"ipAddress":"203.0.113.1"},"actor":null}"#;
        let trimmed = trim(raw, Level::WorkerFields).unwrap();
        assert_eq!(
            trimmed,
            r#"{"uuid":"u\u0031","published":"2026-01-01T00:00:00.000Z","eventType":"user.account.update_profile","target":[{"id":"00u1","type":"User","alternateId":"a@b.example","displayName":"A \"B\""}],"debugContext":{"debugData":{"changedAttributes":"login,lastName"}}}"#
        );
    }

    #[test]
    fn the_minimal_level_keeps_the_first_target_of_each_classified_type() {
        let raw = r#"{"uuid":"u","published":"2026-01-01T00:00:00Z","eventType":"group.user_membership.add",
            "displayMessage":"m","actor":{"id":"admin"},
            "target":[{"id":"1","type":"User"},{"id":"2","type":"User"},{"id":"g","type":"UserGroup"},{"id":"x","type":"Other"},{"id":"a","type":"AppInstance"}]}"#;
        let minimal = trim(raw, Level::Minimal).unwrap();
        let event = OktaEvent::parse(&minimal).unwrap();
        let ids: Vec<&str> = event
            .target
            .iter()
            .filter_map(|t| t.id.as_deref())
            .collect();
        assert_eq!(ids, ["1", "g", "a"]);
        assert!(event.actor.is_none() && event.display_message.is_none());
    }

    #[test]
    fn not_an_event_is_none() {
        assert_eq!(trim("7", Level::WorkerFields), None);
        assert_eq!(trim(r#"{"uuid":"u"}"#, Level::WorkerFields), None);
    }
}
