//! Instants as integer milliseconds since the Unix epoch.
//!
//! One unit everywhere avoids the seconds-versus-milliseconds lease bug that other
//! idempotency libraries shipped (see PROTOCOLS.md §5). Core never reads a clock:
//! callers pass `now` in, which keeps every rule deterministic and testable.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// Parses an RFC 3339 timestamp such as Okta's `published` (`2026-11-20T09:15:02.123Z`).
    /// Returns `None` when the text is not RFC 3339.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Self)
    }

    /// The current wall-clock time. Only edges (adapters, binaries) call this.
    pub fn now() -> Self {
        Self(
            i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
                .unwrap_or(i64::MAX),
        )
    }

    /// This instant plus `d`, saturating instead of overflowing.
    pub fn plus(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(ms))
    }

    /// This instant minus `d`, saturating instead of overflowing.
    pub fn minus(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_sub(ms))
    }

    /// Whole seconds since the epoch, rounded up: the unit DynamoDB's TTL attribute wants.
    /// Rounding up means an item never expires before the instant it was given.
    pub fn as_epoch_seconds_ceil(self) -> i64 {
        self.0.div_euclid(1000) + i64::from(self.0.rem_euclid(1000) != 0)
    }

    /// Milliseconds from `self` until `later` (zero when `later` is not later).
    pub fn until(self, later: UnixMillis) -> Duration {
        Duration::from_millis(u64::try_from(later.0.saturating_sub(self.0)).unwrap_or(0))
    }
}

impl fmt::Display for UnixMillis {
    /// RFC 3339 with milliseconds, or the raw number if out of range.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = i128::from(self.0) * 1_000_000;
        match OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
        {
            Some(text) => f.write_str(&text),
            None => write!(f, "{}ms", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_undoes_plus_and_saturates() {
        let t = UnixMillis(1_000);
        assert_eq!(
            t.plus(Duration::from_secs(2)).minus(Duration::from_secs(2)),
            t
        );
        assert_eq!(
            UnixMillis(i64::MIN + 1).minus(Duration::from_secs(1)),
            UnixMillis(i64::MIN)
        );
    }

    #[test]
    fn parses_okta_published_with_millis() {
        let t = UnixMillis::parse_rfc3339("2026-11-20T09:15:02.123Z").unwrap();
        assert_eq!(t.0 % 1000, 123);
        assert_eq!(t.to_string(), "2026-11-20T09:15:02.123Z");
    }

    #[test]
    fn parses_offsets_and_rejects_garbage() {
        let utc = UnixMillis::parse_rfc3339("2026-11-20T09:15:02Z").unwrap();
        let cet = UnixMillis::parse_rfc3339("2026-11-20T10:15:02+01:00").unwrap();
        assert_eq!(utc, cet);
        assert!(UnixMillis::parse_rfc3339("20/11/2026").is_none());
        assert!(UnixMillis::parse_rfc3339("").is_none());
    }

    #[test]
    fn ttl_seconds_round_up() {
        assert_eq!(UnixMillis(1_000).as_epoch_seconds_ceil(), 1);
        assert_eq!(UnixMillis(1_001).as_epoch_seconds_ceil(), 2);
        assert_eq!(UnixMillis(0).as_epoch_seconds_ceil(), 0);
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(
            UnixMillis(i64::MAX).plus(Duration::from_secs(1)).0,
            i64::MAX
        );
        assert_eq!(UnixMillis(10).until(UnixMillis(5)), Duration::ZERO);
        assert_eq!(
            UnixMillis(5).until(UnixMillis(10)),
            Duration::from_millis(5)
        );
    }
}
