//! Okta's rate limits as its answers report them (`X-Rate-Limit-Limit`, `-Remaining`,
//! `-Reset`), per endpoint family, and the pacing that follows from them. Pure: the
//! caller passes the wall-clock time in, because Reset is epoch seconds.

use std::collections::HashMap;
use std::time::Duration;

use okta_connect_core::time::UnixMillis;
use reqwest::header::HeaderMap;

/// The endpoint families Okta counts separately (the buckets of its published limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    Token,
    UserById,
    Users,
    Groups,
    GroupById,
    Apps,
    Logs,
    Other,
}

impl Family {
    /// The bucket of a request path (no query).
    pub(crate) fn of(path: &str) -> Self {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["oauth2", "v1", "token"] => Family::Token,
            ["api", "v1", "users"] => Family::Users,
            ["api", "v1", "users", _] => Family::UserById,
            ["api", "v1", "groups"] => Family::Groups,
            ["api", "v1", "groups", _, ..] => Family::GroupById,
            ["api", "v1", "apps", ..] => Family::Apps,
            ["api", "v1", "logs"] => Family::Logs,
            _ => Family::Other,
        }
    }
}

/// One family's bucket as last reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bucket {
    pub limit: u64,
    pub remaining: u64,
    /// When the window resets.
    pub reset: UnixMillis,
}

impl Bucket {
    /// The three headers, when all are present and numeric.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let num =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let reset_secs = num("x-rate-limit-reset")?;
        Some(Bucket {
            limit: num("x-rate-limit-limit")?,
            remaining: num("x-rate-limit-remaining")?,
            reset: UnixMillis(i64::try_from(reset_secs).ok()?.saturating_mul(1000)),
        })
    }

    /// The pause before the next call to this family. Above 10 % of the limit: none. At
    /// or below it, the remaining calls are spread evenly over what is left of the window,
    /// so a burst never runs into a 429; with nothing remaining, the wait is the whole
    /// rest of the window. Nothing once the window has reset.
    pub(crate) fn pause(&self, now: UnixMillis) -> Duration {
        let left = now.until(self.reset);
        if left.is_zero() {
            return Duration::ZERO;
        }
        let low_water = (self.limit / 10).max(1);
        if self.remaining > low_water {
            return Duration::ZERO;
        }
        if self.remaining == 0 {
            return left;
        }
        left / u32::try_from(self.remaining + 1).unwrap_or(u32::MAX)
    }
}

/// The last bucket seen per family.
#[derive(Debug, Default)]
pub(crate) struct Buckets(HashMap<Family, Bucket>);

impl Buckets {
    pub(crate) fn record(&mut self, family: Family, bucket: Bucket) {
        self.0.insert(family, bucket);
    }

    /// The pause before the next call to `family`, and the bucket it comes from.
    pub(crate) fn pause(&self, family: Family, now: UnixMillis) -> Option<(Duration, Bucket)> {
        let bucket = self.0.get(&family)?;
        let pause = bucket.pause(now);
        (!pause.is_zero()).then_some((pause, *bucket))
    }

    /// Counts one call about to be sent, so concurrent callers pace each other before
    /// the answer brings the server's count.
    pub(crate) fn take(&mut self, family: Family) {
        if let Some(b) = self.0.get_mut(&family) {
            b.remaining = b.remaining.saturating_sub(1);
        }
    }
}

/// When a 429 says to come back: its Reset; a second from now when that Reset is
/// already past (the window turned, or the clocks differ a little); a minute (Okta's
/// window) when the header is missing.
pub(crate) fn retry_at(headers: &HeaderMap, now: UnixMillis) -> UnixMillis {
    let reset = headers
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|secs| UnixMillis(secs.saturating_mul(1000)));
    match reset {
        Some(reset) if reset > now => reset,
        Some(_) => now.plus(Duration::from_secs(1)),
        None => now.plus(Duration::from_secs(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(limit: &str, remaining: &str, reset: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-limit", HeaderValue::from_str(limit).unwrap());
        h.insert(
            "x-rate-limit-remaining",
            HeaderValue::from_str(remaining).unwrap(),
        );
        h.insert("x-rate-limit-reset", HeaderValue::from_str(reset).unwrap());
        h
    }

    #[test]
    fn families_follow_okta_buckets() {
        assert_eq!(Family::of("/oauth2/v1/token"), Family::Token);
        assert_eq!(Family::of("/api/v1/users"), Family::Users);
        assert_eq!(Family::of("/api/v1/users/00u1"), Family::UserById);
        assert_eq!(Family::of("/api/v1/groups"), Family::Groups);
        assert_eq!(Family::of("/api/v1/groups/00g1"), Family::GroupById);
        assert_eq!(Family::of("/api/v1/groups/00g1/users"), Family::GroupById);
        assert_eq!(Family::of("/api/v1/apps"), Family::Apps);
        assert_eq!(Family::of("/api/v1/apps/0oa1/users"), Family::Apps);
        assert_eq!(Family::of("/api/v1/logs"), Family::Logs);
        assert_eq!(Family::of("/api/v1/eventHooks"), Family::Other);
    }

    #[test]
    fn reads_the_three_headers() {
        let b = Bucket::from_headers(&headers("100", "42", "1700000060")).unwrap();
        assert_eq!(
            b,
            Bucket {
                limit: 100,
                remaining: 42,
                reset: UnixMillis(1_700_000_060_000)
            }
        );
        assert_eq!(Bucket::from_headers(&headers("100", "x", "1")), None);
        assert_eq!(Bucket::from_headers(&HeaderMap::new()), None);
    }

    #[test]
    fn pacing_starts_at_ten_percent() {
        let now = UnixMillis(1_000_000);
        let reset = UnixMillis(1_000_000 + 10_000);
        let b = |remaining| Bucket {
            limit: 100,
            remaining,
            reset,
        };
        assert_eq!(b(11).pause(now), Duration::ZERO);
        assert_eq!(b(10).pause(now), Duration::from_secs(10) / 11);
        assert_eq!(b(1).pause(now), Duration::from_millis(5_000));
        assert_eq!(b(0).pause(now), Duration::from_secs(10));
        // After the reset the old numbers mean nothing.
        assert_eq!(b(0).pause(reset), Duration::ZERO);
        // A tiny bucket paces on its last call only.
        let tiny = Bucket {
            limit: 3,
            remaining: 2,
            reset,
        };
        assert_eq!(tiny.pause(now), Duration::ZERO);
    }

    #[test]
    fn buckets_count_calls_in_flight() {
        let now = UnixMillis(0);
        let mut buckets = Buckets::default();
        assert_eq!(buckets.pause(Family::Apps, now), None);
        buckets.record(
            Family::Apps,
            Bucket {
                limit: 100,
                remaining: 11,
                reset: UnixMillis(60_000),
            },
        );
        assert_eq!(buckets.pause(Family::Apps, now), None);
        buckets.take(Family::Apps);
        let (pause, bucket) = buckets.pause(Family::Apps, now).unwrap();
        assert_eq!(bucket.remaining, 10);
        assert_eq!(pause, Duration::from_secs(60) / 11);
        assert_eq!(buckets.pause(Family::Logs, now), None);
    }

    #[test]
    fn retry_at_is_reset_or_a_minute() {
        let now = UnixMillis(1_700_000_000_000);
        assert_eq!(
            retry_at(&headers("100", "0", "1700000007"), now),
            UnixMillis(1_700_000_007_000)
        );
        let mut only_reset = HeaderMap::new();
        only_reset.insert("x-rate-limit-reset", HeaderValue::from_static("1700000009"));
        assert_eq!(retry_at(&only_reset, now), UnixMillis(1_700_000_009_000));
        assert_eq!(
            retry_at(&HeaderMap::new(), now),
            UnixMillis(1_700_000_060_000)
        );
        // A reset already past: the window turned; try again shortly.
        assert_eq!(
            retry_at(&headers("100", "0", "1600000000"), now),
            UnixMillis(1_700_000_001_000)
        );
    }
}
