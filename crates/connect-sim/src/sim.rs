//! The simulator handle ([`Sim`]), its builder, and the running server ([`SimServer`]).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{self, Reply};
use crate::counters::{CallCounters, Outcome};
use crate::directory::{Directory, NewUser};
use crate::error::{ApiError, ErrorKind, SimError};
use crate::faults::{Faults, ScriptedFault};
use crate::model::{Instance, InstanceUser, User};
use crate::operation::{Operation, Route};
use crate::persist;
use crate::quota::{RateLimit, RateLimits, Throttle};
use crate::seed::Seed;

/// How long [`SimServer::shutdown`] waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Configures a [`Sim`]. Defaults: [`Seed::default()`], Connect's rate quotas
/// (2 requests/s, burst 5, per operation), no faults, no state file.
#[derive(Clone, Debug)]
#[must_use]
pub struct SimBuilder {
    seed: Seed,
    rate_limits: RateLimits,
    faults: Faults,
    state_file: Option<PathBuf>,
    /// Load `state_file` but never write it.
    read_only: bool,
}

impl Default for SimBuilder {
    fn default() -> Self {
        SimBuilder {
            seed: Seed::default(),
            rate_limits: RateLimits::default(),
            faults: Faults::none(),
            state_file: None,
            read_only: false,
        }
    }
}

impl SimBuilder {
    /// The instances to start with (replaces the default seed).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// All rate quotas at once.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// The same rate limit for every operation, keeping per-operation overrides and
    /// switching throttling on.
    pub fn rate(mut self, limit: RateLimit) -> Self {
        self.rate_limits.enabled = true;
        self.rate_limits.default = limit;
        self
    }

    /// A rate limit for one operation.
    pub fn operation_rate(mut self, operation: Operation, limit: RateLimit) -> Self {
        self.rate_limits.per_operation.insert(operation, limit);
        self
    }

    /// Never throttle.
    pub fn no_throttle(mut self) -> Self {
        self.rate_limits.enabled = false;
        self
    }

    /// Faults active from the start.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Persist instances and users to this JSON file: it is loaded at start when it exists,
    /// and rewritten atomically after every change.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Load the state this JSON file holds, like [`SimBuilder::state_file`], but never
    /// write it: for looking at the users another running simulator keeps there without
    /// racing its writes. Changes made to this simulator live in memory only.
    pub fn read_state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self.read_only = true;
        self
    }

    /// Builds the simulator.
    ///
    /// With a state file, the saved directory is loaded first and the seed applied on top:
    /// the seed's instances take the seed's catalogue (profiles, groups, quota) and keep
    /// their saved users; instances only in the file stay as saved; seeded users are
    /// created only when missing. The result is written back at once, so an unwritable
    /// path fails here rather than at the first change.
    pub fn build(self) -> Result<Sim, SimError> {
        self.rate_limits.check()?;
        self.faults.check()?;
        let mut directory = match &self.state_file {
            Some(path) => persist::load(path)?.unwrap_or_default(),
            None => Directory::default(),
        };
        directory.apply_seed(&self.seed, &mut new_user_id, now_epoch_seconds())?;
        let sim = Sim {
            inner: Arc::new(Inner {
                directory: Mutex::new(directory),
                throttle: Mutex::new(Throttle::new(self.rate_limits)),
                faults: Mutex::new(self.faults),
                counters: Mutex::new(CallCounters::default()),
                state_file: if self.read_only {
                    None
                } else {
                    self.state_file
                },
                persist_lock: Mutex::new(()),
            }),
        };
        sim.save()?;
        Ok(sim)
    }
}

/// A simulated Amazon Connect user service: its state, quotas, faults and counters.
///
/// `Sim` is a cheap handle (clone it freely); every clone and every server started from it
/// share one state. All methods are safe to call while a server is running, from any
/// thread; changes apply to the next request.
#[derive(Clone, Debug)]
pub struct Sim {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    directory: Mutex<Directory>,
    throttle: Mutex<Throttle>,
    faults: Mutex<Faults>,
    counters: Mutex<CallCounters>,
    state_file: Option<PathBuf>,
    /// Serialises state-file writes so the last write always holds the newest state.
    persist_lock: Mutex<()>,
}

/// Locks a mutex, recovering from poisoning: every critical section leaves the data
/// consistent, so a panic elsewhere must not take the simulator down with it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn new_user_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Now, in seconds since the Unix epoch, to the millisecond (Connect's `LastModifiedTime`).
fn now_epoch_seconds() -> f64 {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    // Millisecond counts stay far below 2^53, so the conversion is exact.
    millis as f64 / 1000.0
}

impl Sim {
    /// A builder with the defaults described on [`SimBuilder`].
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    // ---- serving -------------------------------------------------------------------

    /// Starts serving on `addr` (use port 0 for a free port) in a task on the current
    /// Tokio runtime, and returns once the socket is bound, so the URL is usable at once.
    ///
    /// Must be called within a Tokio runtime. The server stops when the returned
    /// [`SimServer`] is shut down or dropped.
    pub async fn serve(&self, addr: SocketAddr) -> Result<SimServer, SimError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        self.serve_listener(listener)
    }

    /// Like [`Sim::serve`], on a listener the caller has bound.
    pub fn serve_listener(&self, listener: TcpListener) -> Result<SimServer, SimError> {
        let addr = listener.local_addr().map_err(SimError::LocalAddr)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = self.router();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // A send or a dropped sender both mean "stop".
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%addr, "connect-sim listening");
        Ok(SimServer {
            sim: self.clone(),
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The HTTP application (Connect API plus the `/_sim` admin endpoints), for callers
    /// that run their own server or mount it beside other routes.
    pub fn router(&self) -> axum::Router {
        crate::server::router(self.clone())
    }

    // ---- observation ---------------------------------------------------------------

    /// A snapshot of the call counters.
    pub fn counters(&self) -> CallCounters {
        lock(&self.inner.counters).clone()
    }

    /// Zeroes the call counters.
    pub fn reset_counters(&self) {
        *lock(&self.inner.counters) = CallCounters::default();
    }

    /// Every user of every instance with all attributes, ordered by instance then
    /// username.
    pub fn users(&self) -> Vec<InstanceUser> {
        lock(&self.inner.directory).all_users()
    }

    /// One user by id.
    pub fn user(&self, instance_id: &str, user_id: &str) -> Option<User> {
        lock(&self.inner.directory)
            .describe_user(instance_id, user_id)
            .ok()
            .cloned()
    }

    /// One user by username (ignoring ASCII case, as Connect's uniqueness does).
    pub fn user_by_username(&self, instance_id: &str, username: &str) -> Option<User> {
        self.users()
            .into_iter()
            .find(|u| {
                u.instance_id == instance_id && u.user.username.eq_ignore_ascii_case(username)
            })
            .map(|u| u.user)
    }

    /// Every instance's catalogue.
    pub fn instances(&self) -> Vec<Instance> {
        lock(&self.inner.directory)
            .instances
            .values()
            .map(|s| s.instance.clone())
            .collect()
    }

    // ---- seeding -------------------------------------------------------------------

    /// Adds or updates instances (and creates their seeded users) while running; same
    /// merge rules as at build time. Persists the result.
    pub fn apply_seed(&self, seed: &Seed) -> Result<(), SimError> {
        lock(&self.inner.directory).apply_seed(seed, &mut new_user_id, now_epoch_seconds())?;
        self.save()
    }

    /// Creates a user directly, under the same rules as CreateUser but without quotas,
    /// faults or counters. Persists the result.
    pub fn create_user(&self, instance_id: &str, user: NewUser) -> Result<User, SimError> {
        let created = lock(&self.inner.directory)
            .create_user(instance_id, user, new_user_id(), now_epoch_seconds())?
            .clone();
        self.save()?;
        Ok(created)
    }

    /// Removes every user of every instance (catalogues stay). Persists the result.
    pub fn clear_users(&self) -> Result<(), SimError> {
        for state in lock(&self.inner.directory).instances.values_mut() {
            state.users.clear();
        }
        self.save()
    }

    // ---- faults and quotas ---------------------------------------------------------

    /// The current fault settings (scripted faults show their remaining counts).
    pub fn faults(&self) -> Faults {
        lock(&self.inner.faults).clone()
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, faults: Faults) -> Result<(), SimError> {
        faults.check()?;
        *lock(&self.inner.faults) = faults;
        Ok(())
    }

    /// Adds "fail the next N calls of X with E".
    pub fn fail_next(&self, fault: ScriptedFault) {
        lock(&self.inner.faults).scripted.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        *lock(&self.inner.faults) = Faults::none();
    }

    /// The current rate quotas.
    pub fn rate_limits(&self) -> RateLimits {
        lock(&self.inner.throttle).limits().clone()
    }

    /// Replaces the rate quotas; every bucket starts full.
    pub fn set_rate_limits(&self, limits: RateLimits) -> Result<(), SimError> {
        limits.check()?;
        lock(&self.inner.throttle).set_limits(limits);
        Ok(())
    }

    // ---- persistence ---------------------------------------------------------------

    /// The state file, if any.
    pub fn state_file(&self) -> Option<&Path> {
        self.inner.state_file.as_deref()
    }

    /// Writes the state file now (a no-op without one). Changes made through the API or
    /// this handle are saved automatically; this is for callers who want a checkpoint.
    pub fn save(&self) -> Result<(), SimError> {
        let Some(path) = &self.inner.state_file else {
            return Ok(());
        };
        let _writer = lock(&self.inner.persist_lock);
        // Encode under the writer lock so a later writer always encodes a later state.
        let bytes = persist::encode(&lock(&self.inner.directory))?;
        persist::write_atomically(path, &bytes)?;
        Ok(())
    }

    // ---- request handling (used by the server) -------------------------------------

    pub(crate) fn record(&self, operation: Option<Operation>, outcome: Outcome) {
        lock(&self.inner.counters).record(operation, outcome);
    }

    /// Handles one authenticated, routed Connect call: latency, throttling, faults, then
    /// the operation itself. Throttling comes first among the failures so a throttled
    /// call never consumes a scripted fault, as a real front door rejects it early.
    pub(crate) async fn call(
        &self,
        route: &Route,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let latency = lock(&self.inner.faults).latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if !lock(&self.inner.throttle).admit(route.operation, Instant::now()) {
            return Err(ApiError::Throttled);
        }
        self.injected_fault(route.operation)?;
        let reply = api::dispatch(
            &mut lock(&self.inner.directory),
            route,
            query,
            body,
            now_epoch_seconds(),
        )?;
        if route.operation.is_mutation() {
            self.save_in_background().await;
        }
        Ok(reply)
    }

    fn injected_fault(&self, operation: Operation) -> Result<(), ApiError> {
        let mut faults = lock(&self.inner.faults);
        if let Some(kind) = faults.take_scripted(operation) {
            return Err(ApiError::Injected(kind));
        }
        let p = faults.error_probability;
        if p > 0.0 && rand::rng().random::<f64>() < p {
            return Err(ApiError::Injected(ErrorKind::InternalServiceException));
        }
        Ok(())
    }

    /// Saves off the async worker threads. The change is already applied in memory and
    /// answered as done, as a state file is a convenience for local runs, so a failed
    /// write is logged rather than turned into an API error.
    async fn save_in_background(&self) {
        if self.inner.state_file.is_none() {
            return;
        }
        let sim = self.clone();
        let result = tokio::task::spawn_blocking(move || sim.save()).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "connect-sim could not save its state file"),
            Err(error) => tracing::error!(%error, "connect-sim state save task failed"),
        }
    }
}

/// A running simulator server.
///
/// Dropping it stops the server (in-flight requests finish in the background);
/// [`SimServer::shutdown`] stops it and waits.
#[derive(Debug)]
pub struct SimServer {
    sim: Sim,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SimServer {
    /// The base URL for `endpoint_url`, e.g. `http://127.0.0.1:43127` (a wildcard bind
    /// address is reported as loopback, which is where local clients reach it).
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => Ipv4Addr::LOCALHOST.into(),
            ip if ip.is_unspecified() => Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The simulator behind this server (counters, users, faults, quotas).
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// Stops accepting connections, lets open ones finish (up to 5 s, then cuts them),
    /// and writes the state file one last time.
    pub async fn shutdown(mut self) -> Result<(), SimError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
                Ok(joined) => joined?.map_err(SimError::Serve)?,
                Err(_) => task.abort(),
            }
        }
        self.sim.save()
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
