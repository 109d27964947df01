//! The simulator handle ([`OktaSim`]), its builder, faults, counters, and the running
//! server ([`OktaSimServer`]).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::{Auth, OAuthClient};
use crate::error::Error;
use crate::hooks::{DeliveryAttempt, DeliverySettings, HookHub};
use crate::model::{App, Group, User};
use crate::org::Org;
use crate::ratelimit::{Family, RateLimits, Throttle};
use crate::seed::Seed;

/// How long [`OktaSimServer::shutdown`] waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Locks a mutex, recovering from poisoning: every critical section leaves the data
/// consistent, so a panic elsewhere must not take the simulator down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Configures an [`OktaSim`]. Defaults: an empty org ([`Seed::default`]), no API tokens,
/// no OAuth clients, 1 h access tokens, Okta's rate limits, a 100 ms hook batch window
/// and Okta's 3 s hook timeout.
#[must_use]
pub struct OktaSimBuilder {
    seed: Seed,
    api_tokens: Vec<String>,
    clients: Vec<OAuthClient>,
    token_lifetime: Duration,
    rate_limits: RateLimits,
    batch_window: Duration,
    hook_timeout: Duration,
}

impl std::fmt::Debug for OktaSimBuilder {
    // API tokens are secrets: show how many there are, never their values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OktaSimBuilder")
            .field("seed", &self.seed)
            .field("api_tokens", &self.api_tokens.len())
            .field("clients", &self.clients)
            .field("token_lifetime", &self.token_lifetime)
            .field("rate_limits", &self.rate_limits)
            .field("batch_window", &self.batch_window)
            .field("hook_timeout", &self.hook_timeout)
            .finish()
    }
}

impl Default for OktaSimBuilder {
    fn default() -> Self {
        OktaSimBuilder {
            seed: Seed::default(),
            api_tokens: Vec::new(),
            clients: Vec::new(),
            token_lifetime: Duration::from_secs(3600),
            rate_limits: RateLimits::okta_defaults(),
            batch_window: Duration::from_millis(100),
            hook_timeout: Duration::from_secs(3),
        }
    }
}

impl OktaSimBuilder {
    /// The users, groups and apps to start with (no events are recorded for them).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Accepts `Authorization: SSWS <token>` (all scopes, acting as "Sim Admin").
    /// Repeatable.
    pub fn api_token(mut self, token: impl Into<String>) -> Self {
        self.api_tokens.push(token.into());
        self
    }

    /// Registers a service app for `private_key_jwt`. Repeatable.
    pub fn oauth_client(mut self, client: OAuthClient) -> Self {
        self.clients.push(client);
        self
    }

    /// Lifetime of issued access tokens (Okta: 1 h).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Rate limits (default [`RateLimits::okta_defaults`]).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Events within this long of the first queued one go to a hook in one delivery.
    pub fn hook_batch_window(mut self, window: Duration) -> Self {
        self.batch_window = window;
        self
    }

    /// How long a hook has to answer (Okta: 3 s); also the verification GET's limit.
    pub fn hook_timeout(mut self, timeout: Duration) -> Self {
        self.hook_timeout = timeout;
        self
    }

    /// Validates the settings and the seed, and builds the org.
    pub fn build(self) -> Result<OktaSim, Error> {
        self.rate_limits.check().map_err(Error::Config)?;
        if self.token_lifetime.is_zero() {
            return Err(Error::Config(
                "the token lifetime must be longer than zero".into(),
            ));
        }
        let seeded = self.seed.build(OffsetDateTime::now_utc())?;
        let auth = Auth::new(self.api_tokens, self.clients)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("cannot build the hook HTTP client: {e}")))?;
        Ok(OktaSim {
            inner: Arc::new(Inner {
                org: Mutex::new(Org::from_seed(seeded)),
                auth: Mutex::new(auth),
                throttle: Mutex::new(Throttle::new(self.rate_limits)),
                faults: Faults::default(),
                counters: Mutex::new(Counters::default()),
                hooks: HookHub::default(),
                url: Mutex::new("http://127.0.0.1".to_owned()),
                in_flight: AtomicU32::new(0),
                http,
                token_lifetime: self.token_lifetime,
                batch_window: self.batch_window,
                hook_timeout: self.hook_timeout,
            }),
        })
    }
}

/// Injected faults, shared by every clone of an [`OktaSim`].
#[derive(Clone, Debug, Default)]
pub struct Faults {
    state: Arc<Mutex<FaultState>>,
}

#[derive(Debug, Default)]
struct FaultState {
    /// (family or any, remaining count, status), consumed in order.
    scripted: Vec<(Option<Family>, u32, u16)>,
    latency: Duration,
}

impl Faults {
    /// The next `n` requests (API and token endpoint alike, after the rate limit) are
    /// answered with `status` and Okta's error body for it (5xx: E0000009; 429:
    /// E0000047).
    pub fn fail_next(&self, n: u32, status: u16) {
        lock(&self.state).scripted.push((None, n, status));
    }

    /// Like [`Faults::fail_next`], for requests of one family only.
    pub fn fail_next_in(&self, family: Family, n: u32, status: u16) {
        lock(&self.state).scripted.push((Some(family), n, status));
    }

    /// Every request waits this long before it is handled (zero: none).
    pub fn latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }

    /// Removes every fault.
    pub fn clear(&self) {
        *lock(&self.state) = FaultState::default();
    }

    pub(crate) fn current_latency(&self) -> Duration {
        lock(&self.state).latency
    }

    /// Consumes one scripted failure for a request of `family`, if any is due.
    pub(crate) fn take(&self, family: Family) -> Option<u16> {
        let mut state = lock(&self.state);
        let slot = state
            .scripted
            .iter_mut()
            .find(|(f, n, _)| *n > 0 && f.is_none_or(|f| f == family))?;
        slot.1 -= 1;
        let status = slot.2;
        state.scripted.retain(|(_, n, _)| *n > 0);
        Some(status)
    }
}

/// Request counters (a snapshot).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    requests: BTreeMap<Family, u64>,
    throttled: u64,
}

impl Counters {
    /// Requests to `POST /oauth2/v1/token`, whatever their outcome.
    pub fn token_requests(&self) -> u64 {
        self.requests(Family::Token)
    }

    /// Requests of one family, whatever their outcome (throttled ones included).
    pub fn requests(&self, family: Family) -> u64 {
        self.requests.get(&family).copied().unwrap_or_default()
    }

    /// Requests answered 429 by the rate limits or the concurrency cap.
    pub fn throttled(&self) -> u64 {
        self.throttled
    }
}

/// A simulated Okta org: its state, auth, rate limits, faults, counters and hooks.
///
/// `OktaSim` is a cheap handle (clone it freely); every clone shares one org. Methods are
/// safe to call while a server runs; changes apply to the next request.
#[derive(Clone, Debug)]
pub struct OktaSim {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub org: Mutex<Org>,
    pub auth: Mutex<Auth>,
    pub throttle: Mutex<Throttle>,
    pub faults: Faults,
    pub counters: Mutex<Counters>,
    pub hooks: HookHub,
    pub url: Mutex<String>,
    pub in_flight: AtomicU32,
    pub http: reqwest::Client,
    pub token_lifetime: Duration,
    pub batch_window: Duration,
    pub hook_timeout: Duration,
}

/// Holds one slot of the concurrent-request cap; frees it when dropped.
pub(crate) struct InFlight<'a>(&'a AtomicU32);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl OktaSim {
    /// A builder with the defaults described on [`OktaSimBuilder`].
    pub fn builder() -> OktaSimBuilder {
        OktaSimBuilder::default()
    }

    /// Starts serving on `addr` (port 0 for a free one) in a task on the current Tokio
    /// runtime; returns once the socket is bound. The server's URL becomes the org URL
    /// (links, the token `aud`, hook `source`). Stops when the [`OktaSimServer`] is shut
    /// down or dropped.
    pub async fn serve(&self, addr: SocketAddr) -> Result<OktaSimServer, Error> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        self.serve_listener(listener)
    }

    /// Like [`OktaSim::serve`], on a listener the caller has bound.
    pub fn serve_listener(&self, listener: TcpListener) -> Result<OktaSimServer, Error> {
        let addr = listener.local_addr().map_err(Error::Serve)?;
        let ip = match addr.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => Ipv4Addr::LOCALHOST.into(),
            ip if ip.is_unspecified() => Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        let url = format!("http://{}", SocketAddr::new(ip, addr.port()));
        *lock(&self.inner.url) = url.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let app = crate::server::router(self.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // A send or a dropped sender both mean "stop".
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%url, "okta-sim listening");
        Ok(OktaSimServer {
            sim: self.clone(),
            url,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The org URL (`http://127.0.0.1:PORT` once served).
    pub fn url(&self) -> String {
        lock(&self.inner.url).clone()
    }

    /// The fault controls.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// A snapshot of the request counters.
    pub fn counters(&self) -> Counters {
        lock(&self.inner.counters).clone()
    }

    /// Zeroes the counters.
    pub fn reset_counters(&self) {
        *lock(&self.inner.counters) = Counters::default();
    }

    /// Replaces the rate limits; every bucket starts full.
    pub fn set_rate_limits(&self, limits: RateLimits) -> Result<(), Error> {
        limits.check().map_err(Error::Config)?;
        *lock(&self.inner.throttle) = Throttle::new(limits);
        Ok(())
    }

    /// Every hook delivery attempt so far, in the order they were made.
    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        lock(&self.inner.hooks.shared.attempts).clone()
    }

    /// Waits until no event is queued for or in flight to any hook; true when that
    /// happened within `timeout`.
    pub async fn settle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.inner.hooks.shared.pending.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every System Log event, oldest first, exactly as `/api/v1/logs` serves them.
    pub fn log_events(&self) -> Vec<Value> {
        lock(&self.inner.org)
            .log
            .iter()
            .map(|l| l.event.clone())
            .collect()
    }

    /// A user by id or login (ignoring case).
    pub fn user(&self, id_or_login: &str) -> Option<User> {
        lock(&self.inner.org).find_user(id_or_login).cloned()
    }

    /// Every user, by id.
    pub fn users(&self) -> Vec<User> {
        lock(&self.inner.org).users.values().cloned().collect()
    }

    /// A group by id or name (ignoring case).
    pub fn group_by_name(&self, name: &str) -> Option<Group> {
        let org = lock(&self.inner.org);
        org.groups
            .get(name)
            .or_else(|| {
                org.groups
                    .values()
                    .find(|g| g.name.eq_ignore_ascii_case(name))
            })
            .cloned()
    }

    /// An app by id or label (ignoring case).
    pub fn app_by_label(&self, label: &str) -> Option<App> {
        let org = lock(&self.inner.org);
        org.apps
            .get(label)
            .or_else(|| {
                org.apps
                    .values()
                    .find(|a| a.label.eq_ignore_ascii_case(label))
            })
            .cloned()
    }

    // ---- used by the server --------------------------------------------------------

    pub(crate) fn count(&self, family: Family, throttled: bool) {
        let mut counters = lock(&self.inner.counters);
        *counters.requests.entry(family).or_default() += 1;
        if throttled {
            counters.throttled += 1;
        }
    }

    /// Takes a slot of the concurrency cap, or `Err(cap)` when the org is at the cap.
    pub(crate) fn enter(&self) -> Result<InFlight<'_>, u32> {
        let cap = lock(&self.inner.throttle).limits().concurrency_cap();
        let before = self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(&self.inner.in_flight);
        match cap {
            Some(cap) if before >= cap => Err(cap),
            _ => Ok(guard),
        }
    }

    /// Records events in the System Log and queues them for every verified, active hook
    /// subscribed to their type. Called with the org locked, so the log order and each
    /// hook's delivery order are the order the changes were made in.
    pub(crate) fn publish_locked(&self, org: &mut Org, events: Vec<Value>, at: OffsetDateTime) {
        if events.is_empty() {
            return;
        }
        org.record(&events, at);
        for event in events {
            let event_type = event["eventType"].as_str().unwrap_or_default();
            for hook in org.hooks.values().filter(|h| h.active && h.verified) {
                if hook.events.iter().any(|t| t == event_type) {
                    self.inner.hooks.enqueue(&hook.id, event.clone());
                }
            }
        }
    }

    pub(crate) fn delivery_settings(&self) -> DeliverySettings {
        DeliverySettings {
            org_url: self.url(),
            batch_window: self.inner.batch_window,
            timeout: self.inner.hook_timeout,
        }
    }
}

/// A running simulator server. Dropping it stops the server; [`OktaSimServer::shutdown`]
/// stops it and waits.
#[derive(Debug)]
pub struct OktaSimServer {
    sim: OktaSim,
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl OktaSimServer {
    /// The org URL, e.g. `http://127.0.0.1:43127`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The simulator behind this server.
    pub fn sim(&self) -> &OktaSim {
        &self.sim
    }

    /// Stops accepting connections and lets open ones finish (up to 5 s, then cuts them).
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
                Ok(Ok(result)) => result.map_err(Error::Serve)?,
                Ok(Err(join)) => return Err(Error::Serve(std::io::Error::other(join.to_string()))),
                Err(_) => task.abort(),
            }
        }
        Ok(())
    }
}

impl Drop for OktaSimServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_faults_are_consumed_in_order_and_by_family() {
        let faults = Faults::default();
        faults.fail_next_in(Family::Apps, 1, 500);
        faults.fail_next(2, 503);
        assert_eq!(faults.take(Family::Users), Some(503));
        assert_eq!(faults.take(Family::Apps), Some(500));
        assert_eq!(faults.take(Family::Apps), Some(503));
        assert_eq!(faults.take(Family::Apps), None);
        faults.latency(Duration::from_millis(5));
        assert_eq!(faults.current_latency(), Duration::from_millis(5));
        faults.clear();
        assert_eq!(faults.current_latency(), Duration::ZERO);
    }

    #[test]
    fn debug_output_hides_api_tokens() {
        let builder = OktaSim::builder().api_token("very-secret-token");
        assert!(!format!("{builder:?}").contains("very-secret-token"));
        let sim = builder.build().unwrap();
        assert!(!format!("{sim:?}").contains("very-secret-token"));
    }

    #[test]
    fn concurrency_cap_counts_slots() {
        let sim = OktaSim::builder()
            .rate_limits(RateLimits::unlimited().concurrency(Some(1)))
            .build()
            .unwrap();
        let first = sim.enter();
        assert!(first.is_ok());
        assert_eq!(sim.enter().err(), Some(1));
        drop(first);
        assert!(sim.enter().is_ok());
    }
}
