//! Okta's rate limits: one bucket per endpoint family per window (a minute by default),
//! reported in `X-Rate-Limit-*` headers, plus the org-wide concurrent-request cap.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// An endpoint family: the unit Okta meters requests in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// `POST /oauth2/v1/token`.
    Token,
    /// `/api/v1/users` (list, search, create) and user writes (`/api/v1/users/{id}` other
    /// than a plain GET, lifecycle operations).
    Users,
    /// `GET /api/v1/users/{idOrLogin}`.
    UserById,
    /// `/api/v1/groups` (list, search, create).
    Groups,
    /// `/api/v1/groups/{id}` and everything below it (members, membership writes).
    GroupById,
    /// `/api/v1/apps*`, app users included.
    Apps,
    /// `/api/v1/logs`.
    Logs,
    /// `/api/v1/eventHooks*`.
    EventHooks,
}

impl Family {
    /// Every family, in a stable order.
    pub const ALL: [Family; 8] = [
        Family::Token,
        Family::Users,
        Family::UserById,
        Family::Groups,
        Family::GroupById,
        Family::Apps,
        Family::Logs,
        Family::EventHooks,
    ];

    /// The name used on the command line (`--rate-limit apps=100`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Token => "token",
            Family::Users => "users",
            Family::UserById => "user-by-id",
            Family::Groups => "groups",
            Family::GroupById => "group-by-id",
            Family::Apps => "apps",
            Family::Logs => "logs",
            Family::EventHooks => "event-hooks",
        }
    }

    /// Okta's published Workforce default per minute (token and event hooks: the
    /// simulator's choice, as Okta publishes no single figure for them).
    pub fn okta_default(self) -> u32 {
        match self {
            Family::Token => 600,
            Family::Users => 600,
            Family::UserById => 2000,
            Family::Groups => 500,
            Family::GroupById => 1000,
            Family::Apps => 100,
            Family::Logs => 120,
            Family::EventHooks => 100,
        }
    }

    /// The family of a request, from its method and path segments; `None` for paths
    /// outside the simulated API.
    pub(crate) fn of(method: &str, segments: &[&str]) -> Option<Family> {
        match segments {
            ["oauth2", "v1", "token"] => Some(Family::Token),
            ["api", "v1", "users"] => Some(Family::Users),
            ["api", "v1", "users", _] if method == "GET" => Some(Family::UserById),
            ["api", "v1", "users", _, ..] => Some(Family::Users),
            ["api", "v1", "groups"] => Some(Family::Groups),
            ["api", "v1", "groups", _, ..] => Some(Family::GroupById),
            ["api", "v1", "apps", ..] => Some(Family::Apps),
            ["api", "v1", "logs"] => Some(Family::Logs),
            ["api", "v1", "eventHooks", ..] => Some(Family::EventHooks),
            _ => None,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Family {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Family::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Family::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown family {s:?}; expected one of {}", names.join(", "))
            })
    }
}

/// Rate-limit settings: a request budget per family per window, and a cap on requests in
/// flight at once. A family without a budget is unlimited and gets no headers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct RateLimits {
    budgets: BTreeMap<Family, u32>,
    window: Duration,
    concurrency: Option<u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::okta_defaults()
    }
}

impl RateLimits {
    /// Okta's defaults: [`Family::okta_default`] per minute and 75 concurrent requests.
    pub fn okta_defaults() -> Self {
        RateLimits {
            budgets: Family::ALL.iter().map(|f| (*f, f.okta_default())).collect(),
            window: Duration::from_secs(60),
            concurrency: Some(75),
        }
    }

    /// No limits at all (for tests that do not care).
    pub fn unlimited() -> Self {
        RateLimits {
            budgets: BTreeMap::new(),
            window: Duration::from_secs(60),
            concurrency: None,
        }
    }

    /// `family` may make `per_window` requests per window.
    pub fn with(mut self, family: Family, per_window: u32) -> Self {
        self.budgets.insert(family, per_window);
        self
    }

    /// `family` is not metered.
    pub fn without(mut self, family: Family) -> Self {
        self.budgets.remove(&family);
        self
    }

    /// The window length (Okta: one minute). Tests shorten it to see a reset quickly.
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// At most `n` requests in flight at once (Okta: 75 per org); `None` for no cap.
    pub fn concurrency(mut self, n: Option<u32>) -> Self {
        self.concurrency = n;
        self
    }

    /// The budget of one family, `None` when unlimited.
    pub fn budget(&self, family: Family) -> Option<u32> {
        self.budgets.get(&family).copied()
    }

    /// The concurrent-request cap.
    pub fn concurrency_cap(&self) -> Option<u32> {
        self.concurrency
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        if self.window.is_zero() {
            return Err("the rate-limit window must be longer than zero".into());
        }
        if self.concurrency == Some(0) {
            return Err("the concurrent-request cap must be at least 1".into());
        }
        Ok(())
    }
}

/// The `X-Rate-Limit-*` values of one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds at which the window resets (rounded up).
    pub reset: u64,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    used: u32,
}

/// The buckets. Fixed windows, started by the first request of each family, as a client
/// sees Okta's: a budget, a count down, and a reset time.
#[derive(Debug)]
pub(crate) struct Throttle {
    limits: RateLimits,
    windows: BTreeMap<Family, Window>,
}

impl Throttle {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Throttle {
            limits,
            windows: BTreeMap::new(),
        }
    }

    pub(crate) fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Takes one request from the family's bucket. `Ok` when admitted, `Err` when the
    /// bucket is empty; both carry the headers to send (`None` for unlimited families).
    pub(crate) fn admit(
        &mut self,
        family: Family,
        now: Instant,
    ) -> Result<Option<RateHeaders>, RateHeaders> {
        let Some(limit) = self.limits.budget(family) else {
            return Ok(None);
        };
        let window_len = self.limits.window;
        let window = self.windows.entry(family).or_insert(Window {
            started: now,
            used: 0,
        });
        if now.duration_since(window.started) >= window_len {
            *window = Window {
                started: now,
                used: 0,
            };
        }
        let left = window_len.saturating_sub(now.duration_since(window.started));
        let reset_at = SystemTime::now() + left;
        let reset = reset_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .unwrap_or_default();
        if window.used >= limit {
            return Err(RateHeaders {
                limit,
                remaining: 0,
                reset,
            });
        }
        window.used += 1;
        Ok(Some(RateHeaders {
            limit,
            remaining: limit - window.used,
            reset,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_from_paths() {
        let f = |m, p: &str| {
            Family::of(
                m,
                &p.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(f("GET", "/api/v1/users/00u1"), Some(Family::UserById));
        assert_eq!(f("POST", "/api/v1/users/00u1"), Some(Family::Users));
        assert_eq!(
            f("POST", "/api/v1/users/00u1/lifecycle/suspend"),
            Some(Family::Users)
        );
        assert_eq!(f("GET", "/api/v1/users"), Some(Family::Users));
        assert_eq!(f("GET", "/api/v1/groups"), Some(Family::Groups));
        assert_eq!(
            f("GET", "/api/v1/groups/00g1/users"),
            Some(Family::GroupById)
        );
        assert_eq!(f("GET", "/api/v1/apps/0oa1/users"), Some(Family::Apps));
        assert_eq!(f("GET", "/api/v1/logs"), Some(Family::Logs));
        assert_eq!(f("POST", "/oauth2/v1/token"), Some(Family::Token));
        assert_eq!(
            f("POST", "/api/v1/eventHooks/who1/lifecycle/verify"),
            Some(Family::EventHooks)
        );
        assert_eq!(f("GET", "/nope"), None);
    }

    #[test]
    fn family_names_round_trip() {
        for family in Family::ALL {
            assert_eq!(family.as_str().parse::<Family>(), Ok(family));
        }
        assert!("nope".parse::<Family>().is_err());
    }

    #[test]
    fn bucket_counts_down_refuses_then_resets() {
        let limits = RateLimits::unlimited()
            .with(Family::Apps, 2)
            .window(Duration::from_secs(10));
        let mut throttle = Throttle::new(limits);
        let t0 = Instant::now();
        assert_eq!(throttle.admit(Family::Users, t0), Ok(None));
        let first = throttle.admit(Family::Apps, t0).unwrap().unwrap();
        assert_eq!((first.limit, first.remaining), (2, 1));
        let second = throttle.admit(Family::Apps, t0).unwrap().unwrap();
        assert_eq!(second.remaining, 0);
        let refused = throttle
            .admit(Family::Apps, t0 + Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(refused.remaining, 0);
        let epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            refused.reset >= epoch + 8 && refused.reset <= epoch + 10,
            "{refused:?}"
        );
        let again = throttle
            .admit(Family::Apps, t0 + Duration::from_secs(10))
            .unwrap()
            .unwrap();
        assert_eq!(again.remaining, 1);
    }

    #[test]
    fn defaults_and_checks() {
        let d = RateLimits::okta_defaults();
        assert_eq!(d.budget(Family::Apps), Some(100));
        assert_eq!(d.budget(Family::UserById), Some(2000));
        assert_eq!(d.concurrency_cap(), Some(75));
        assert_eq!(RateLimits::unlimited().budget(Family::Apps), None);
        assert_eq!(d.clone().without(Family::Apps).budget(Family::Apps), None);
        assert!(d.clone().window(Duration::ZERO).check().is_err());
        assert!(d.concurrency(Some(0)).check().is_err());
    }
}
