//! Rate quotas: one token bucket per operation, as Connect meters its APIs.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::RateSpecError;
use crate::operation::Operation;

/// A refill rate and burst size.
///
/// JSON: `{"perSecond": 2.0, "burst": 5}`. Text (CLI): `2`, `2/s`, or `2/s:5` with a burst.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket capacity: how many calls may pass at once after a quiet spell.
    pub burst: u32,
}

impl RateLimit {
    /// Connect's default for most user APIs: 2 requests/s, burst 5.
    pub const CONNECT_DEFAULT: RateLimit = RateLimit {
        per_second: 2.0,
        burst: 5,
    };

    /// A rate limit; see [`RateLimit::check`] for the valid ranges.
    pub fn new(per_second: f64, burst: u32) -> Self {
        RateLimit { per_second, burst }
    }

    /// The rate must be positive and finite, the burst at least 1.
    pub fn check(&self) -> Result<(), RateSpecError> {
        if !(self.per_second.is_finite() && self.per_second > 0.0) {
            return Err(RateSpecError::Rate(self.per_second.to_string()));
        }
        if self.burst == 0 {
            return Err(RateSpecError::Burst(self.burst.to_string()));
        }
        Ok(())
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit::CONNECT_DEFAULT
    }
}

/// Parses a rate in requests per second: `10` or `10/s`.
pub fn parse_rate(text: &str) -> Result<f64, RateSpecError> {
    let number = text.trim().trim_end_matches("/s").trim();
    number
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r > 0.0)
        .ok_or_else(|| RateSpecError::Rate(text.to_owned()))
}

impl FromStr for RateLimit {
    type Err = RateSpecError;

    /// `RATE[/s][:BURST]`; without a burst, Connect's default burst (5).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (rate, burst) = match s.split_once(':') {
            Some((rate, burst)) => (rate, Some(burst)),
            None => (s, None),
        };
        let per_second = parse_rate(rate)?;
        let burst = match burst {
            Some(b) => b
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|b| *b >= 1)
                .ok_or_else(|| RateSpecError::Burst(b.to_owned()))?,
            None => RateLimit::CONNECT_DEFAULT.burst,
        };
        Ok(RateLimit { per_second, burst })
    }
}

/// Per-operation rate quotas.
///
/// JSON: `{"enabled": true, "default": {"perSecond": 2, "burst": 5},
/// "perOperation": {"CreateUser": {"perSecond": 1, "burst": 2}}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimits {
    /// When false, no call is ever throttled.
    pub enabled: bool,
    /// The limit of every operation without an override.
    pub default: RateLimit,
    /// Overrides by operation.
    #[serde(default)]
    pub per_operation: BTreeMap<Operation, RateLimit>,
}

impl RateLimit {
    /// Connect's default for DescribeUser, ListUsers and ListRoutingProfiles: 10
    /// requests/s. The burst of these APIs is unpublished; 5 is the stricter guess.
    pub const CONNECT_READ_DEFAULT: RateLimit = RateLimit {
        per_second: 10.0,
        burst: 5,
    };
}

impl Default for RateLimits {
    /// Enabled, like Connect's default quotas per API: 10 requests/s for DescribeUser,
    /// ListUsers and ListRoutingProfiles, 2 requests/s with burst 5 for every other
    /// operation.
    fn default() -> Self {
        RateLimits {
            enabled: true,
            default: RateLimit::CONNECT_DEFAULT,
            per_operation: [
                Operation::DescribeUser,
                Operation::ListUsers,
                Operation::ListRoutingProfiles,
            ]
            .into_iter()
            .map(|op| (op, RateLimit::CONNECT_READ_DEFAULT))
            .collect(),
        }
    }
}

impl RateLimits {
    /// No throttling at all.
    pub fn disabled() -> Self {
        RateLimits {
            enabled: false,
            ..RateLimits::default()
        }
    }

    /// The same limit for every operation.
    pub fn uniform(limit: RateLimit) -> Self {
        RateLimits {
            enabled: true,
            default: limit,
            per_operation: BTreeMap::new(),
        }
    }

    /// Overrides one operation's limit (builder style).
    pub fn with_operation(mut self, operation: Operation, limit: RateLimit) -> Self {
        self.per_operation.insert(operation, limit);
        self
    }

    /// The limit that applies to `operation`.
    pub fn limit_for(&self, operation: Operation) -> RateLimit {
        self.per_operation
            .get(&operation)
            .copied()
            .unwrap_or(self.default)
    }

    /// Every limit must be valid (see [`RateLimit::check`]).
    pub fn check(&self) -> Result<(), RateSpecError> {
        self.default.check()?;
        self.per_operation.values().try_for_each(RateLimit::check)
    }
}

/// Parses a per-operation override `OPERATION=RATE[/s][:BURST]`.
pub fn parse_operation_rate(text: &str) -> Result<(Operation, RateLimit), RateSpecError> {
    let (op, limit) = text
        .split_once('=')
        .ok_or_else(|| RateSpecError::Override(text.to_owned()))?;
    Ok((op.trim().parse()?, limit.parse()?))
}

/// A token bucket: starts full at `burst`, refills continuously at `per_second`.
///
/// Time is passed in so the arithmetic is testable without sleeping.
#[derive(Clone, Debug)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub(crate) fn new(limit: RateLimit, now: Instant) -> Self {
        TokenBucket {
            limit,
            tokens: f64::from(limit.burst),
            refilled_at: now,
        }
    }

    /// Takes one token if there is one; `false` means the call is throttled.
    pub(crate) fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens =
            (self.tokens + elapsed * self.limit.per_second).min(f64::from(self.limit.burst));
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The buckets of all operations under one [`RateLimits`].
#[derive(Debug)]
pub(crate) struct Throttle {
    limits: RateLimits,
    buckets: BTreeMap<Operation, TokenBucket>,
}

impl Throttle {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Throttle {
            limits,
            buckets: BTreeMap::new(),
        }
    }

    pub(crate) fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Replaces the limits; every bucket starts full again.
    pub(crate) fn set_limits(&mut self, limits: RateLimits) {
        self.limits = limits;
        self.buckets.clear();
    }

    /// Whether a call of `operation` at `now` may proceed.
    pub(crate) fn admit(&mut self, operation: Operation, now: Instant) -> bool {
        if !self.limits.enabled {
            return true;
        }
        let limit = self.limits.limit_for(operation);
        self.buckets
            .entry(operation)
            .or_insert_with(|| TokenBucket::new(limit, now))
            .try_take(now)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_default_quotas_are_connects_per_api() {
        let limits = RateLimits::default();
        assert_eq!(
            limits.limit_for(Operation::CreateUser),
            RateLimit::CONNECT_DEFAULT
        );
        assert_eq!(
            limits.limit_for(Operation::SearchUsers),
            RateLimit::CONNECT_DEFAULT
        );
        assert_eq!(limits.limit_for(Operation::DescribeUser).per_second, 10.0);
        assert_eq!(limits.limit_for(Operation::ListUsers).per_second, 10.0);
    }

    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_burst_then_refills_at_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(RateLimit::new(2.0, 5), t0);
        let burst = (0..10).filter(|_| bucket.try_take(t0)).count();
        assert_eq!(burst, 5);
        // Half a second at 2/s is one token.
        assert!(bucket.try_take(t0 + Duration::from_millis(500)));
        assert!(!bucket.try_take(t0 + Duration::from_millis(500)));
        // A long pause never stores more than the burst.
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| bucket.try_take(later)).count(), 5);
    }

    #[test]
    fn accepted_calls_over_time_are_burst_plus_rate_times_time() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(RateLimit::new(10.0, 5), t0);
        // One attempt per millisecond for 3 s.
        let accepted = (0..=3000)
            .filter(|ms| bucket.try_take(t0 + Duration::from_millis(*ms)))
            .count();
        assert_eq!(accepted, 5 + 30);
    }

    #[test]
    fn throttle_is_per_operation_and_can_be_disabled() {
        let t0 = Instant::now();
        let limits = RateLimits::uniform(RateLimit::new(1.0, 1))
            .with_operation(Operation::ListUsers, RateLimit::new(1.0, 3));
        let mut throttle = Throttle::new(limits);
        assert!(throttle.admit(Operation::CreateUser, t0));
        assert!(!throttle.admit(Operation::CreateUser, t0));
        assert!(throttle.admit(Operation::DescribeUser, t0));
        assert_eq!(
            (0..5)
                .filter(|_| throttle.admit(Operation::ListUsers, t0))
                .count(),
            3
        );
        throttle.set_limits(RateLimits::disabled());
        assert!((0..100).all(|_| throttle.admit(Operation::CreateUser, t0)));
    }

    #[test]
    fn rate_specs_parse() {
        assert_eq!("10".parse::<RateLimit>(), Ok(RateLimit::new(10.0, 5)));
        assert_eq!("2.5/s:7".parse::<RateLimit>(), Ok(RateLimit::new(2.5, 7)));
        assert!("0".parse::<RateLimit>().is_err());
        assert!("2/s:0".parse::<RateLimit>().is_err());
        assert!("fast".parse::<RateLimit>().is_err());
        assert_eq!(
            parse_operation_rate("CreateUser=1/s:2"),
            Ok((Operation::CreateUser, RateLimit::new(1.0, 2)))
        );
        assert!(parse_operation_rate("CreateUser").is_err());
        assert!(parse_operation_rate("Nope=1").is_err());
        assert!(RateLimit::new(f64::NAN, 1).check().is_err());
    }
}
