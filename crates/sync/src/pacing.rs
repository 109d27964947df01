//! Client-side pacing of Connect calls: one token bucket per Connect API, sized for the
//! account.
//!
//! **Per API.** Connect meters each API in its own bucket, per account and Region:
//! CreateUser, DeleteUser, each UpdateUser* (IdentityInfo, RoutingProfile,
//! SecurityProfiles, Hierarchy), TagResource and SearchUsers allow 2 requests/s with a
//! burst of 5 each by default, DescribeUser 10/s. So a [`Pacer`] holds one
//! [`TokenBucket`] per [`ConnectApi`] and every call of a [`Paced`] directory first takes
//! a token of the API (or APIs) it will call: a burst of creates never delays an update,
//! and a mixed workload (new agents while others are promoted) runs each API at its own
//! quota in parallel. `MaximumConcurrency` on the event source caps invocations, not
//! requests, so without this bulk work would bounce off Connect with 429s. Retries go
//! through the buckets too (the SDK's own retries are off), so they never bypass them.
//!
//! **Rates.** `[Connect] REQUESTS_PER_SECOND` and `BURST` are the quota of the 2/s APIs.
//! DescribeUser is paced at [`DESCRIBE_USER_SCALE`] (10/s ÷ 2/s) times that rate, with the
//! same burst: an operator who halves the pace for every API halves DescribeUser's too,
//! and one who raises `REQUESTS_PER_SECOND` after raising the 2/s quotas must raise
//! DescribeUser's quota in the same proportion (or leave a 429, retried, on the rare
//! DescribeUser: converges call it only for a remembered user and before a tag change).
//! The burst is not scaled because Connect publishes no burst for the 10/s APIs; a
//! smaller client burst than Connect's is always safe. Every rate is [`HEADROOM`] × the
//! quota.
//!
//! **For the account.** The quotas belong to the account: with `[Deploy]
//! MAX_CONCURRENCY` = N worker invocations running at once, each process paces every API
//! at 1/N of its rate and 1/N of its burst ([`Pacer::shared`]). N buckets of rate r/N and
//! burst b/N admit at most b + r·T calls in any window of length T, together: exactly one
//! bucket's worth (for N ≤ b; see below). `dev` and the CLI are one process ([`Pacer::new`], a share of 1).
//!
//! What this costs: a worker alone (a shallow queue) still runs at 1/N of each quota.
//! Bulk work, where throughput matters, fills every invocation (the event source scales
//! to N when the queue is deep), so there the split loses nothing; a single event's
//! converge (one to five calls, of different APIs) fits a worker's burst share at the
//! default N = 2 (2.5 tokens per API).
//!
//! Keep `MAX_CONCURRENCY` ≤ `BURST` (the defaults: 2 ≤ 5). Calls are whole: a worker
//! whose share of the burst is below one token still sends its first call as one, so N
//! idle workers starting together (a bulk job's first batches) can send N calls of an
//! API at once, N − `BURST` more than Connect's burst admits (429s, retried). Above
//! `BURST`, more concurrency only slices the same quota thinner: each idle worker's first
//! call of an API waits up to (1 − b/N)·N/r (2.6 s at N = 10), and nothing goes faster.
//!
//! Why not one bucket shared through DynamoDB, which would give a lone worker the whole
//! quota: every Connect call would first need a conditional write on one hot item per
//! API, whose contention under load (N writers retrying failed conditions) is worst
//! exactly when the pace matters; its refill depends on the clocks of N Lambda hosts;
//! and a slow or throttled DynamoDB would stall Connect calls, a new failure mode for a
//! gain (a faster lone worker) that the quota makes small: a user's converge is one to
//! five calls, within a worker's burst share. A fixed split is exact without any of that.
//!
//! Limits of the guarantee: it holds for N processes pacing at once. Lambda can hand the
//! next batch to a fresh execution environment while the old one's bucket is not yet
//! refilled: such a hand-over can add one burst share (b/N) of calls, which Connect's own
//! refill at the 3 % headroom normally absorbs, and a 429 is retried, never dead-lettered.
//! The reconcile Lambda's whole-instance SearchUsers read is one more client of
//! SearchUsers (its pages retry a throttle in the adapter).
//!
//! **Throttles counted.** A [`Paced`] directory given a [`Throttles`] counts every call
//! Connect answered with throttling ([`DirectoryError::Throttled`], a 429) under the
//! APIs that call used: exactly the API for a one-API call; for a call of two APIs
//! (`find_by_username`: SearchUsers then DescribeUser; a tag change: TagResource and
//! DescribeUser) the pair, since the error does not say which of the two was refused.
//! The engine lends one counter to every converge of a message, retries included, and
//! reports the total ([`crate::Report::connect_throttles`]). Not counted: the throttled
//! SearchUsers pages the adapter retries itself (the whole-instance read of a reconcile
//! run), since those never reach this layer unless the adapter gives up.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use okta_connect_core::config::Pacing;
use okta_connect_core::desired::DesiredUser;
use okta_connect_core::ownership::UserFilter;
use okta_connect_core::plan::{Change, ConnectUser};
use okta_connect_core::ports::{CreatedUser, DirectoryError, UserDirectory};
use tokio::time::Instant;

/// Share of the configured rate actually used. Pacing at exactly Connect's quota keeps
/// Connect's own bucket at zero, where any network jitter between two calls yields a
/// 429; 3 % headroom lets it refill a margin that absorbs the jitter (measured: 160
/// 429s for 300 users at 1.00 × 2/s, none at 0.97 ×).
pub const HEADROOM: f64 = 0.97;

/// DescribeUser's default quota (10/s) over that of the 2/s APIs: its pace is this many
/// times `REQUESTS_PER_SECOND`.
pub const DESCRIBE_USER_SCALE: f64 = 5.0;

/// A Connect API the user directory calls, each metered by Connect in its own bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnectApi {
    CreateUser,
    DescribeUser,
    DeleteUser,
    UpdateUserIdentityInfo,
    UpdateUserRoutingProfile,
    UpdateUserSecurityProfiles,
    UpdateUserHierarchy,
    TagResource,
    SearchUsers,
}

impl ConnectApi {
    /// Every API the directory calls, in a stable order.
    pub const ALL: [ConnectApi; 9] = [
        ConnectApi::CreateUser,
        ConnectApi::DescribeUser,
        ConnectApi::DeleteUser,
        ConnectApi::UpdateUserIdentityInfo,
        ConnectApi::UpdateUserRoutingProfile,
        ConnectApi::UpdateUserSecurityProfiles,
        ConnectApi::UpdateUserHierarchy,
        ConnectApi::TagResource,
        ConnectApi::SearchUsers,
    ];

    /// The AWS operation name.
    pub fn name(self) -> &'static str {
        match self {
            ConnectApi::CreateUser => "CreateUser",
            ConnectApi::DescribeUser => "DescribeUser",
            ConnectApi::DeleteUser => "DeleteUser",
            ConnectApi::UpdateUserIdentityInfo => "UpdateUserIdentityInfo",
            ConnectApi::UpdateUserRoutingProfile => "UpdateUserRoutingProfile",
            ConnectApi::UpdateUserSecurityProfiles => "UpdateUserSecurityProfiles",
            ConnectApi::UpdateUserHierarchy => "UpdateUserHierarchy",
            ConnectApi::TagResource => "TagResource",
            ConnectApi::SearchUsers => "SearchUsers",
        }
    }

    /// Connect's default quota of this API over `REQUESTS_PER_SECOND`'s default (2/s).
    pub fn scale(self) -> f64 {
        match self {
            ConnectApi::DescribeUser => DESCRIBE_USER_SCALE,
            _ => 1.0,
        }
    }

    /// The APIs one `update(change)` calls, the scarcer first (see [`Pacer::acquire`]): a
    /// tag change reads the user's ARN and tags with DescribeUser before TagResource.
    pub fn of_change(change: &Change) -> &'static [ConnectApi] {
        match change {
            Change::Identity { .. } => &[ConnectApi::UpdateUserIdentityInfo],
            Change::RoutingProfile { .. } => &[ConnectApi::UpdateUserRoutingProfile],
            Change::SecurityProfiles { .. } => &[ConnectApi::UpdateUserSecurityProfiles],
            Change::Hierarchy { .. } => &[ConnectApi::UpdateUserHierarchy],
            Change::Tags { .. } => &[ConnectApi::TagResource, ConnectApi::DescribeUser],
        }
    }

    fn index(self) -> usize {
        match self {
            ConnectApi::CreateUser => 0,
            ConnectApi::DescribeUser => 1,
            ConnectApi::DeleteUser => 2,
            ConnectApi::UpdateUserIdentityInfo => 3,
            ConnectApi::UpdateUserRoutingProfile => 4,
            ConnectApi::UpdateUserSecurityProfiles => 5,
            ConnectApi::UpdateUserHierarchy => 6,
            ConnectApi::TagResource => 7,
            ConnectApi::SearchUsers => 8,
        }
    }
}

impl std::fmt::Display for ConnectApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A token bucket: `rate` tokens per second, at most `burst` saved up. Starts full.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A bucket pacing at [`HEADROOM`] × the configured rate, with the configured burst.
    pub fn new(pacing: Pacing) -> Self {
        Self::with_rate(
            pacing.requests_per_second * HEADROOM,
            f64::from(pacing.burst.max(1)),
        )
    }

    /// A bucket of exactly `rate` tokens/s holding at most `burst` (which may be below
    /// one: then every token waits, and the bucket is a pure rate limit).
    pub fn with_rate(rate: f64, burst: f64) -> Self {
        let burst = if burst.is_finite() && burst > 0.0 {
            burst
        } else {
            1.0
        };
        Self {
            rate: if rate.is_finite() {
                rate.max(0.001)
            } else {
                0.001
            },
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Tokens per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The most tokens saved up.
    pub fn burst(&self) -> f64 {
        self.burst
    }

    /// Takes a token at `now` and returns how long the caller must wait before using it.
    /// Each caller reserves its token up front, so waiters are served in arrival order,
    /// and the instants `now + wait` of all tokens obey the bucket: at most
    /// `burst + rate·T` of them in any window of length T.
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = *state;
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        let refilled = (tokens + elapsed * self.rate).min(self.burst);
        // Going below zero reserves a future token; the deficit is the wait.
        let after = refilled - 1.0;
        *state = (after, now.max(last));
        if after >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-after / self.rate)
        }
    }

    /// Waits until a token is available and takes it.
    pub async fn acquire(&self) {
        let wait = self.reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// One token bucket per [`ConnectApi`], at this process's share of the account's quotas.
#[derive(Debug)]
pub struct Pacer {
    buckets: [TokenBucket; ConnectApi::ALL.len()],
    share: u32,
}

impl Pacer {
    /// The pacer of a process alone on the account (`dev`, the CLI): each API at
    /// [`HEADROOM`] × its whole quota.
    pub fn new(pacing: Pacing) -> Self {
        Self::shared(pacing, 1)
    }

    /// The pacer of one of `workers` processes pacing the account at once (the deployed
    /// worker: `[Deploy] MAX_CONCURRENCY`): each API at 1/`workers` of [`HEADROOM`] × its
    /// quota and 1/`workers` of its burst, so all of them together stay under each
    /// quota. `0` counts as 1.
    pub fn shared(pacing: Pacing, workers: u32) -> Self {
        let share = workers.max(1);
        if share > pacing.burst.max(1) {
            tracing::warn!(
                workers = share,
                burst = pacing.burst,
                "more concurrent workers than Connect's burst: their first calls can exceed it \
                 together (429s, retried); keep [Deploy] MAX_CONCURRENCY <= [Connect] BURST"
            );
        }
        let n = f64::from(share);
        let rate = pacing.requests_per_second * HEADROOM;
        let burst = f64::from(pacing.burst.max(1));
        let buckets =
            ConnectApi::ALL.map(|api| TokenBucket::with_rate(rate * api.scale() / n, burst / n));
        Self { buckets, share }
    }

    /// How many processes this pacer shares the account's quotas with (itself included).
    pub fn share(&self) -> u32 {
        self.share
    }

    /// The bucket of `api`.
    pub fn bucket(&self, api: ConnectApi) -> &TokenBucket {
        &self.buckets[api.index()]
    }

    /// Waits for a token of each of `apis`, one after the other, in that order. Put the
    /// scarcest first: a token is reserved only once the ones before it are granted, so
    /// the later ones (DescribeUser, 5× as plentiful) are used right after their grant
    /// rather than seconds later in a bunch.
    pub async fn acquire(&self, apis: &[ConnectApi]) {
        for api in apis {
            self.bucket(*api).acquire().await;
        }
    }
}

/// The APIs of [`UserDirectory::find_by_username`], the scarcer first.
const FIND_BY_USERNAME: &[ConnectApi] = &[ConnectApi::SearchUsers, ConnectApi::DescribeUser];

/// Connect calls answered with throttling ([`DirectoryError::Throttled`]), by the APIs of
/// the call (see the module documentation): what one unit of work (a message's
/// converges) ran into. Shared by reference; safe to count into from concurrent calls.
#[derive(Debug, Default)]
pub struct Throttles {
    calls: Mutex<BTreeMap<&'static [ConnectApi], u32>>,
}

impl Throttles {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one throttled call of `apis`.
    pub fn record(&self, apis: &'static [ConnectApi]) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let count = calls.entry(apis).or_default();
        *count = count.saturating_add(1);
    }

    /// Throttled calls in all.
    pub fn total(&self) -> u32 {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .fold(0, |sum, n| sum.saturating_add(*n))
    }

    /// Throttled calls by the APIs of the call (one API, or the two of a two-API call),
    /// in a stable order; only those throttled at least once.
    pub fn by_call(&self) -> Vec<(&'static [ConnectApi], u32)> {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(apis, n)| (*apis, *n))
            .collect()
    }
}

/// The APIs of a call for a log line: `CreateUser`, or `SearchUsers|DescribeUser` when
/// either of two may have been refused.
fn call_label(apis: &[ConnectApi]) -> String {
    apis.iter()
        .map(|api| api.name())
        .collect::<Vec<_>>()
        .join("|")
}

/// A [`UserDirectory`] whose every call first takes a token of each Connect API it
/// calls, and, given a [`Throttles`], counts the calls Connect throttled.
#[derive(Debug)]
pub struct Paced<'a, D> {
    inner: &'a D,
    pacer: &'a Pacer,
    throttles: Option<&'a Throttles>,
}

impl<'a, D> Paced<'a, D> {
    /// Paces `inner`'s calls; counts no throttle.
    pub fn new(inner: &'a D, pacer: &'a Pacer) -> Self {
        Self {
            inner,
            pacer,
            throttles: None,
        }
    }

    /// Paces `inner`'s calls and counts each one Connect throttled into `throttles`.
    pub fn counting(inner: &'a D, pacer: &'a Pacer, throttles: &'a Throttles) -> Self {
        Self {
            inner,
            pacer,
            throttles: Some(throttles),
        }
    }

    /// `result` of a call of `apis`, counted if Connect throttled it.
    fn counted<T>(
        &self,
        apis: &'static [ConnectApi],
        result: Result<T, DirectoryError>,
    ) -> Result<T, DirectoryError> {
        if let Err(DirectoryError::Throttled(reason)) = &result {
            if let Some(throttles) = self.throttles {
                throttles.record(apis);
            }
            tracing::warn!(api = %call_label(apis), %reason, "Connect throttled a call (429)");
        }
        result
    }
}

impl<D: UserDirectory> UserDirectory for Paced<'_, D> {
    /// SearchUsers, then DescribeUser for the user found (the search summary lacks the
    /// email): a token of each. The DescribeUser token is spent even on a miss; it is
    /// the plentiful one.
    async fn find_by_username(
        &self,
        username: &str,
    ) -> Result<Option<ConnectUser>, DirectoryError> {
        self.pacer.acquire(FIND_BY_USERNAME).await;
        let result = self.inner.find_by_username(username).await;
        self.counted(FIND_BY_USERNAME, result)
    }

    async fn describe(&self, user_id: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        const APIS: &[ConnectApi] = &[ConnectApi::DescribeUser];
        self.pacer.acquire(APIS).await;
        let result = self.inner.describe(user_id).await;
        self.counted(APIS, result)
    }

    /// CreateUser alone: tags ride on it, with no TagResource call.
    async fn create(
        &self,
        user: &DesiredUser,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedUser, DirectoryError> {
        const APIS: &[ConnectApi] = &[ConnectApi::CreateUser];
        self.pacer.acquire(APIS).await;
        let result = self.inner.create(user, tags).await;
        self.counted(APIS, result)
    }

    /// The change's own API; a tag change DescribeUser and TagResource (the TagResource
    /// token is spent even when the user has the tags already).
    async fn update(&self, user_id: &str, change: &Change) -> Result<(), DirectoryError> {
        let apis = ConnectApi::of_change(change);
        self.pacer.acquire(apis).await;
        let result = self.inner.update(user_id, change).await;
        self.counted(apis, result)
    }

    async fn delete(&self, user_id: &str) -> Result<(), DirectoryError> {
        const APIS: &[ConnectApi] = &[ConnectApi::DeleteUser];
        self.pacer.acquire(APIS).await;
        let result = self.inner.delete(user_id).await;
        self.counted(APIS, result)
    }

    /// One SearchUsers token per search: a converge's search (one owner tag) fits one
    /// page; a whole-instance read's further pages retry a throttle in the adapter.
    async fn search(&self, filter: &UserFilter) -> Result<Vec<ConnectUser>, DirectoryError> {
        const APIS: &[ConnectApi] = &[ConnectApi::SearchUsers];
        self.pacer.acquire(APIS).await;
        let result = self.inner.search(filter).await;
        self.counted(APIS, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacing(rate: f64, burst: u32) -> Pacing {
        Pacing {
            requests_per_second: rate,
            burst,
        }
    }

    fn bucket(rate: f64, burst: u32) -> TokenBucket {
        TokenBucket::new(pacing(rate, burst))
    }

    #[test]
    fn bucket_allows_the_burst_then_the_rate() {
        let bucket = bucket(2.0, 5);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(bucket.reserve(t0), Duration::ZERO, "the burst is free");
        }
        // 10 more tokens at 2/s (less the headroom), all asked for at t0: the last
        // waits 5 s of bucket time.
        let waits: Vec<f64> = (0..10).map(|_| bucket.reserve(t0).as_secs_f64()).collect();
        let last = waits[9];
        assert!((last - 5.0 / HEADROOM).abs() < 0.01, "{last}");
        assert!(
            waits.windows(2).all(|w| w[0] < w[1]),
            "served in arrival order"
        );
    }

    #[test]
    fn concurrent_waiters_share_the_rate() {
        let bucket = bucket(4.0, 1);
        let t0 = Instant::now();
        let waits: Vec<Duration> = (0..9).map(|_| bucket.reserve(t0)).collect();
        // 1 free + 8 at 4/s (less the headroom) = 2 s.
        let last = waits[8].as_secs_f64();
        assert!((last - 2.0 / HEADROOM).abs() < 0.01, "{last}");
        assert_eq!(waits[0], Duration::ZERO);
    }

    #[test]
    fn an_idle_bucket_refills_to_its_burst_and_no_more() {
        let bucket = bucket(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            bucket.reserve(t0);
        }
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(bucket.reserve(later), Duration::ZERO);
        }
        assert!(
            bucket.reserve(later) > Duration::ZERO,
            "burst caps the saving"
        );
    }

    #[test]
    fn a_burst_below_one_token_makes_every_call_wait_its_turn() {
        let bucket = TokenBucket::with_rate(0.5, 0.5);
        let t0 = Instant::now();
        let first = bucket.reserve(t0).as_secs_f64();
        let second = bucket.reserve(t0).as_secs_f64();
        assert!((first - 1.0).abs() < 1e-6, "half a token missing: {first}");
        assert!((second - 3.0).abs() < 1e-6, "then one every 2 s: {second}");
    }

    #[test]
    fn each_api_has_its_own_bucket_at_its_own_rate() {
        let pacer = Pacer::new(pacing(2.0, 5));
        for api in ConnectApi::ALL {
            let want = 2.0 * HEADROOM * api.scale();
            let bucket = pacer.bucket(api);
            assert!(
                (bucket.rate() - want).abs() < 1e-9,
                "{api}: {}",
                bucket.rate()
            );
            assert!((bucket.burst() - 5.0).abs() < 1e-9, "{api}");
        }
        assert!((pacer.bucket(ConnectApi::DescribeUser).rate() - 10.0 * HEADROOM).abs() < 1e-9);
        assert_eq!(pacer.share(), 1);
    }

    #[test]
    fn a_burst_of_creates_does_not_delay_an_update() {
        let pacer = Pacer::new(pacing(2.0, 5));
        let t0 = Instant::now();
        let creates = pacer.bucket(ConnectApi::CreateUser);
        let last_create = (0..20)
            .map(|_| creates.reserve(t0))
            .max()
            .unwrap_or_default();
        assert!(
            last_create > Duration::from_secs(7),
            "creates queue up: {last_create:?}"
        );
        for api in ConnectApi::ALL
            .into_iter()
            .filter(|a| *a != ConnectApi::CreateUser)
        {
            assert_eq!(
                pacer.bucket(api).reserve(t0),
                Duration::ZERO,
                "{api} waits behind nobody's creates"
            );
        }
    }

    #[test]
    fn each_call_takes_the_tokens_of_the_apis_it_calls() {
        use okta_connect_core::desired::IdentityInfo;
        let of = |change: Change| ConnectApi::of_change(&change).to_vec();
        assert_eq!(
            of(Change::Tags {
                tags: BTreeMap::new()
            }),
            [ConnectApi::TagResource, ConnectApi::DescribeUser],
            "a tag change reads the ARN first; TagResource, the scarce one, is taken first"
        );
        assert_eq!(
            of(Change::Hierarchy {
                hierarchy_group_id: None
            }),
            [ConnectApi::UpdateUserHierarchy]
        );
        assert_eq!(
            of(Change::SecurityProfiles {
                security_profile_ids: Vec::new()
            }),
            [ConnectApi::UpdateUserSecurityProfiles]
        );
        assert_eq!(
            of(Change::Identity {
                identity: IdentityInfo::default()
            }),
            [ConnectApi::UpdateUserIdentityInfo]
        );
    }

    /// Throttles every call but a delete, which finds nothing.
    struct Throttling;

    impl UserDirectory for Throttling {
        async fn find_by_username(&self, _: &str) -> Result<Option<ConnectUser>, DirectoryError> {
            Err(DirectoryError::Throttled("find".into()))
        }
        async fn describe(&self, _: &str) -> Result<Option<ConnectUser>, DirectoryError> {
            Err(DirectoryError::Throttled("describe".into()))
        }
        async fn create(
            &self,
            _: &DesiredUser,
            _: &BTreeMap<String, String>,
        ) -> Result<CreatedUser, DirectoryError> {
            Err(DirectoryError::Throttled("create".into()))
        }
        async fn update(&self, _: &str, _: &Change) -> Result<(), DirectoryError> {
            Err(DirectoryError::Throttled("update".into()))
        }
        async fn delete(&self, _: &str) -> Result<(), DirectoryError> {
            Err(DirectoryError::NotFound("gone".into()))
        }
        async fn search(&self, _: &UserFilter) -> Result<Vec<ConnectUser>, DirectoryError> {
            Err(DirectoryError::Throttled("search".into()))
        }
    }

    #[tokio::test]
    async fn a_counting_directory_counts_each_throttled_call_under_its_apis() {
        let pacer = Pacer::new(pacing(1000.0, 1000));
        let throttles = Throttles::new();
        // Two directories over one counter: a message's retried converges add up.
        for _ in 0..2 {
            let paced = Paced::counting(&Throttling, &pacer, &throttles);
            let _ = paced.describe("u").await;
            let _ = paced.find_by_username("ada").await;
            let _ = paced
                .update(
                    "u",
                    &Change::Tags {
                        tags: BTreeMap::new(),
                    },
                )
                .await;
            let _ = paced
                .update(
                    "u",
                    &Change::Hierarchy {
                        hierarchy_group_id: None,
                    },
                )
                .await;
            let _ = paced.search(&UserFilter::All).await;
            assert!(matches!(
                paced.delete("u").await,
                Err(DirectoryError::NotFound(_))
            ));
        }
        use ConnectApi::*;
        let expected: Vec<(&[ConnectApi], u32)> = vec![
            (&[DescribeUser], 2),
            (&[UpdateUserHierarchy], 2),
            (&[TagResource, DescribeUser], 2),
            (&[SearchUsers], 2),
            (&[SearchUsers, DescribeUser], 2),
        ];
        let mut got = throttles.by_call();
        got.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(got, expected, "a NotFound is no throttle");
        assert_eq!(throttles.total(), 10);
        assert_eq!(
            call_label(&[SearchUsers, DescribeUser]),
            "SearchUsers|DescribeUser"
        );

        // Without a counter, calls are paced and nothing is counted anywhere.
        let uncounted = Paced::new(&Throttling, &pacer);
        assert!(uncounted.describe("u").await.is_err());
        assert_eq!(throttles.total(), 10);
    }

    /// Connect's side: a bucket of `rate`/s and `burst` that refuses a call when it has
    /// no whole token (connect-sim's arithmetic).
    struct ConnectBucket {
        rate: f64,
        burst: f64,
        tokens: f64,
        at: f64,
    }

    impl ConnectBucket {
        fn new(rate: f64, burst: f64) -> Self {
            Self {
                rate,
                burst,
                tokens: burst,
                at: 0.0,
            }
        }

        fn admit(&mut self, t: f64) -> bool {
            self.tokens = (self.tokens + (t - self.at) * self.rate).min(self.burst);
            self.at = t;
            // A nanosecond of float rounding is not a throttle.
            if self.tokens >= 1.0 - 1e-9 {
                self.tokens -= 1.0;
                true
            } else {
                false
            }
        }
    }

    /// A deterministic, uneven stream of request times (a linear congruential
    /// generator): bursts, pauses and steady stretches, never wall-clock time.
    fn arrivals(seed: u64, count: usize) -> Vec<f64> {
        let mut x = seed;
        let mut t = 0.0;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let r = (x >> 33) as f64 / f64::from(u32::MAX);
            // Mostly back-to-back asks, sometimes a pause long enough to refill.
            t += if r < 0.8 { r * 0.05 } else { r * 8.0 };
            out.push(t);
        }
        out
    }

    /// Grants (instants at which tokens may be used) of `workers` split pacers, each asked
    /// for `api` tokens at its own uneven arrival times; sorted, in seconds after t0.
    fn grants_of_split_workers(workers: u32, api: ConnectApi, quota: f64, burst: u32) -> Vec<f64> {
        let t0 = Instant::now();
        let mut granted: Vec<f64> = Vec::new();
        for w in 0..workers {
            let pacer = Pacer::shared(pacing(quota, burst), workers);
            let bucket = pacer.bucket(api);
            for at in arrivals(u64::from(w) * 7919 + 1, 400) {
                let now = t0 + Duration::from_secs_f64(at);
                granted.push(at + bucket.reserve(now).as_secs_f64());
            }
        }
        granted.sort_by(f64::total_cmp);
        granted
    }

    /// The most grants in any window [t, t + T] beyond `rate`·T.
    fn most_beyond_the_rate(granted: &[f64], rate: f64) -> f64 {
        let mut most: f64 = 0.0;
        for (i, start) in granted.iter().enumerate() {
            for (j, end) in granted.iter().enumerate().skip(i) {
                most = most.max((j - i + 1) as f64 - rate * (end - start));
            }
        }
        most
    }

    #[test]
    fn split_workers_together_never_exceed_the_quota_in_any_window() {
        const QUOTA: f64 = 2.0;
        const BURST: u32 = 5;
        for workers in 1..=BURST {
            for api in [ConnectApi::CreateUser, ConnectApi::DescribeUser] {
                let granted = grants_of_split_workers(workers, api, QUOTA, BURST);
                let quota = QUOTA * api.scale();
                let burst = f64::from(BURST);
                // Every window of length T holds at most burst + rate·T grants together.
                let beyond = most_beyond_the_rate(&granted, quota * HEADROOM);
                assert!(beyond <= burst + 1e-6, "{workers} workers, {api}: {beyond}");
                // And Connect's own bucket at the quota admits every one of them.
                let mut connect = ConnectBucket::new(quota, burst);
                let throttled = granted.iter().filter(|t| !connect.admit(**t)).count();
                assert_eq!(throttled, 0, "{workers} workers, {api}");
            }
        }
    }

    #[test]
    fn more_workers_than_the_burst_can_send_one_call_each_at_once() {
        // Calls are whole: a burst share below one token still sends one call, so the
        // account's bound becomes N + rate·T (why MAX_CONCURRENCY should stay <= BURST).
        for workers in [6_u32, 8] {
            let granted = grants_of_split_workers(workers, ConnectApi::CreateUser, 2.0, 5);
            let beyond = most_beyond_the_rate(&granted, 2.0 * HEADROOM);
            assert!(beyond <= f64::from(workers) + 1e-6, "{workers}: {beyond}");
            if workers == 8 {
                assert!(beyond > 5.0, "the limit is real: {beyond}");
            }
        }
    }

    #[test]
    fn an_unsplit_pacer_per_worker_would_exceed_the_quota() {
        // The check above is not vacuous: two workers each pacing the whole quota
        // overrun Connect's bucket.
        let t0 = Instant::now();
        let mut granted: Vec<f64> = Vec::new();
        for _ in 0..2 {
            let pacer = Pacer::new(pacing(2.0, 5));
            let bucket = pacer.bucket(ConnectApi::CreateUser);
            granted.extend((0..50).map(|_| bucket.reserve(t0).as_secs_f64()));
        }
        granted.sort_by(f64::total_cmp);
        let mut connect = ConnectBucket::new(2.0, 5.0);
        assert!(granted.iter().filter(|t| !connect.admit(**t)).count() > 0);
    }

    #[test]
    fn a_split_pacer_takes_its_share_of_rate_and_burst() {
        let pacer = Pacer::shared(pacing(2.0, 5), 2);
        let create = pacer.bucket(ConnectApi::CreateUser);
        assert!((create.rate() - HEADROOM).abs() < 1e-9);
        assert!((create.burst() - 2.5).abs() < 1e-9);
        let describe = pacer.bucket(ConnectApi::DescribeUser);
        assert!((describe.rate() - 5.0 * HEADROOM).abs() < 1e-9);
        assert_eq!(pacer.share(), 2);
        assert_eq!(Pacer::shared(pacing(2.0, 5), 0).share(), 1, "0 counts as 1");
    }
}
