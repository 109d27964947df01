//! The whole pipeline in one process: the ingest handler served over HTTP on loopback
//! (like the deployed endpoint: only `GET`/`POST` of [`HOOK_PATH`], 404 elsewhere),
//! the worker draining an embedded durable queue, the ledger in SQLite, and Amazon
//! Connect either simulated in process (connect-sim) or real (the AWS credential chain).
//!
//! The handlers are the Lambdas' own; only the adapters differ. Everything durable lives
//! in one state folder, so `kill -9` and a restart lose nothing: queued events wait in
//! SQLite, in-flight ones reappear after the visibility timeout, and the ledger makes
//! their reprocessing a no-op where it already happened.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use connect_sim::{RateLimit, Seed, Sim, SimServer};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::dynamodb::DynamoLedger;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::secrets::SecretValues;
use okta_connect_aws::sqs::{SqsConsumer, SqsQueue};
use okta_connect_core::config::Config;
use okta_connect_core::ports::{EventQueue, QueueConsumer, QueueError};
use okta_connect_core::queue::{
    DeadLetter, MAX_RECEIVE, QueueCounts, QueueMessage, RejectedEntry, retry_delay,
};
use okta_connect_ingest::{
    HookSecret, Ingest, IngestError, IngestRequest, IngestResponse, Settings,
};
use okta_connect_local::{EmbeddedError, LocalQueue, QueueSettings, SqliteLedger};
use okta_connect_okta::OktaApi;
use okta_connect_sync::{Disposition, Engine};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::backends::{AnyDeadLetters, AnyLedger, AnyQueue};
use crate::okta::{self, LocalOkta, OKTA_TOKEN_FILE, OktaTarget};

/// The SQLite file holding queue, dead-letter queue and ledger.
pub const STATE_DB: &str = "pipeline.sqlite";
/// connect-sim's users, so simulated Connect survives a restart too.
pub const SIM_STATE: &str = "connect-sim.json";
/// The generated hook secret, readable by the owner only.
pub const SECRET_FILE: &str = "hook-secret";
pub const QUEUE: &str = "events";
pub const DEAD_LETTER_QUEUE: &str = "events-dlq";

/// The one path deliveries are answered on, as in the deployed stack (its HTTP API
/// routes only `GET` and `POST` of this path; everything else is API Gateway's 404).
pub const HOOK_PATH: &str = "/okta/events";

/// How long the endpoint waits for a request's body before answering 408. Okta waits
/// 3 s for the whole answer, so a live delivery is never cut by this, while a client
/// that sends headers and then nothing stops holding a connection and a request slot.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// The running `dev`'s endpoints, written to its state folder.
pub const ENDPOINTS_FILE: &str = "endpoints.json";

/// Where a running local pipeline's parts listen.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Endpoints {
    pub ingest_url: String,
    /// connect-sim, when Connect is simulated.
    pub connect_url: Option<String>,
    /// okta-sim, when Okta is simulated (its API token is in [`OKTA_TOKEN_FILE`]).
    pub okta_url: Option<String>,
}

/// Which Amazon Connect the worker provisions.
#[derive(Debug, Clone)]
pub enum ConnectTarget {
    /// connect-sim in process: the built-in seed (matching `config.ini`) or a seed file,
    /// throttled like Connect unless `throttle` is off.
    Simulated {
        seed: Option<PathBuf>,
        throttle: bool,
    },
    /// The real instance of `config.ini`, through the standard AWS credential chain.
    Aws,
}

/// Where the queue, dead-letter queue and ledger live.
#[derive(Debug, Clone, Default)]
pub enum Storage {
    /// SQLite in the state folder: durable, no account needed.
    #[default]
    Embedded,
    /// Existing SQS queues and DynamoDB table (e.g. the deployed stack's), through the
    /// standard AWS credential chain.
    Aws {
        queue_url: String,
        dead_letter_url: String,
        ledger_table: String,
    },
}

/// How to run the local pipeline.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    pub config: Config,
    pub state_dir: PathBuf,
    /// Where the ingest endpoint listens; port 0 picks a free one.
    pub bind: SocketAddr,
    pub secret: String,
    pub connect: ConnectTarget,
    pub okta: OktaTarget,
    pub queue: QueueSettings,
    pub storage: Storage,
}

impl LocalSettings {
    /// A self-contained pipeline for the demo and tests: any free loopback port,
    /// simulated Connect (throttled like Connect if asked), embedded storage with a
    /// short visibility timeout so retries come round quickly.
    pub fn isolated(config: Config, state_dir: PathBuf, secret: String, throttle: bool) -> Self {
        Self {
            config,
            state_dir,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            secret,
            connect: ConnectTarget::Simulated {
                seed: None,
                throttle,
            },
            okta: OktaTarget::Simulated { seed: None },
            queue: QueueSettings {
                visibility_timeout: Duration::from_secs(10),
                max_receive_count: 5,
            },
            storage: Storage::Embedded,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("state folder {0}: {1}")]
    State(PathBuf, std::io::Error),
    #[error("embedded storage: {0}")]
    Storage(#[from] EmbeddedError),
    #[error("queue: {0}")]
    Queue(#[from] QueueError),
    #[error("connect-sim: {0}")]
    Sim(String),
    #[error("Okta: {0}")]
    Okta(String),
    #[error(
        "cannot listen on {0}: {1} (is another `okta-connect dev` running? pick another --port)"
    )]
    Bind(SocketAddr, std::io::Error),
    #[error("the hook secret is empty")]
    EmptySecret,
}

/// The hook secret for this state folder: `explicit` if given, else the one saved in
/// the folder, else a new random one saved there (mode 0600).
pub fn hook_secret(state_dir: &Path, explicit: Option<String>) -> Result<String, PipelineError> {
    saved_secret(state_dir, SECRET_FILE, explicit)
}

/// The simulated Okta org's API token for this state folder, made like [`hook_secret`].
pub fn okta_token(state_dir: &Path) -> Result<String, PipelineError> {
    saved_secret(state_dir, OKTA_TOKEN_FILE, None)
}

fn saved_secret(
    state_dir: &Path,
    file: &str,
    explicit: Option<String>,
) -> Result<String, PipelineError> {
    if let Some(secret) = explicit.filter(|s| !s.trim().is_empty()) {
        return Ok(secret.trim().to_string());
    }
    let path = state_dir.join(file);
    if let Ok(saved) = std::fs::read_to_string(&path)
        && !saved.trim().is_empty()
    {
        return Ok(saved.trim().to_string());
    }
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    std::fs::create_dir_all(state_dir).map_err(|e| PipelineError::State(state_dir.into(), e))?;
    write_private(&path, &secret).map_err(|e| PipelineError::State(path.clone(), e))?;
    Ok(secret)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(text.as_bytes())
}

/// Wakes the worker as soon as ingest has queued something.
#[derive(Clone)]
struct WakingQueue {
    inner: AnyQueue,
    wake: Arc<Notify>,
}

impl EventQueue for WakingQueue {
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<RejectedEntry>, QueueError> {
        let result = self.inner.send_batch(batch).await;
        self.wake.notify_one();
        result
    }
}

type LocalEngine = Engine<AnyLedger, ConnectDirectory, AnyDeadLetters, OktaApi>;

/// What the worker loop did with the messages it received since this process started.
/// Atomics, not a lock: the worker only adds, and readers (`dev`'s status line) only need
/// each number to be right on its own, not a consistent snapshot of all three.
#[derive(Debug, Default)]
struct WorkerTally {
    done: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
}

impl WorkerTally {
    fn record(&self, disposition: Disposition) {
        let counter = match disposition {
            Disposition::Done => &self.done,
            Disposition::Retry => &self.retried,
            Disposition::DeadLettered => &self.dead_lettered,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What `dev`'s live status line shows: the queues as they are now, and what the worker
/// did since this process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveCounts {
    /// Waiting in the queue, receivable now.
    pub queued: u64,
    /// Received and not settled yet, including retries waiting out their delay.
    pub in_flight: u64,
    /// In the dead-letter queue now, whoever put it there and whenever.
    pub dead_lettered: u64,
    /// Finished by the worker since start: converged, not relevant or a duplicate.
    pub done: u64,
    /// Attempts handed back for a later retry since start.
    pub retried: u64,
    /// Sent to the dead-letter queue by the worker since start (also in `dead_lettered`).
    pub worker_dead_lettered: u64,
}

/// Reads [`LiveCounts`] of a pipeline; cloneable and independent of the [`Pipeline`]
/// value, so a status task can own one and a final summary can still be read after
/// [`Pipeline::shutdown`].
#[derive(Clone)]
pub struct LiveCounter {
    queue: AnyQueue,
    tally: Arc<WorkerTally>,
}

impl LiveCounter {
    pub async fn counts(&self) -> Result<LiveCounts, PipelineError> {
        let queue = self.queue.counts().await?;
        Ok(LiveCounts {
            queued: queue.visible,
            in_flight: queue.in_flight,
            dead_lettered: queue.dead_lettered,
            done: self.tally.done.load(Ordering::Relaxed),
            retried: self.tally.retried.load(Ordering::Relaxed),
            worker_dead_lettered: self.tally.dead_lettered.load(Ordering::Relaxed),
        })
    }
}

/// A running local pipeline.
pub struct Pipeline {
    /// The event-hook URL to give Okta (or `send`).
    pub ingest_url: String,
    pub secret_header: String,
    pub state_dir: PathBuf,
    /// The event queue and its dead-letter queue.
    pub queue: AnyQueue,
    pub ledger: AnyLedger,
    /// The simulated Connect, when the target is simulated.
    pub sim: Option<SimServer>,
    /// The simulated Okta org (or the configured one's API).
    pub okta: LocalOkta,
    tally: Arc<WorkerTally>,
    stop: watch::Sender<bool>,
    http: JoinHandle<()>,
    worker: JoinHandle<()>,
}

impl Pipeline {
    /// Opens the state folder, starts Connect (simulated or real), the worker loop and
    /// the ingest endpoint. Returns once the endpoint accepts connections.
    pub async fn start(settings: LocalSettings) -> Result<Self, PipelineError> {
        if settings.secret.trim().is_empty() {
            return Err(PipelineError::EmptySecret);
        }
        let dir = &settings.state_dir;
        std::fs::create_dir_all(dir).map_err(|e| PipelineError::State(dir.clone(), e))?;
        let (queue, dead_letters, ledger) = match &settings.storage {
            Storage::Embedded => {
                let db = dir.join(STATE_DB);
                let queue = LocalQueue::open(&db, QUEUE, settings.queue, DEAD_LETTER_QUEUE)?;
                let dead_letters = AnyDeadLetters::Local(queue.dead_letter().clone());
                (
                    AnyQueue::Local(queue),
                    dead_letters,
                    AnyLedger::Sqlite(SqliteLedger::open(&db)?),
                )
            }
            Storage::Aws {
                queue_url,
                dead_letter_url,
                ledger_table,
            } => {
                let aws = sdk::load(&AwsSettings {
                    region: settings.config.region.clone(),
                    ..AwsSettings::default()
                })
                .await;
                (
                    AnyQueue::Sqs {
                        producer: SqsQueue::from_config(&aws, queue_url.clone()),
                        consumer: SqsConsumer::from_config(
                            &aws,
                            queue_url.clone(),
                            dead_letter_url.clone(),
                        ),
                    },
                    AnyDeadLetters::Sqs(SqsQueue::from_config(&aws, dead_letter_url.clone())),
                    AnyLedger::Dynamo(DynamoLedger::from_config(&aws, ledger_table.clone())),
                )
            }
        };

        let (sim, directory) = match &settings.connect {
            ConnectTarget::Simulated { seed, throttle } => {
                let seed = match seed {
                    Some(path) => {
                        Seed::from_path(path).map_err(|e| PipelineError::Sim(e.to_string()))?
                    }
                    None => Seed::default(),
                };
                let mut builder = Sim::builder().seed(seed).state_file(dir.join(SIM_STATE));
                builder = if *throttle {
                    builder.rate(RateLimit::CONNECT_DEFAULT)
                } else {
                    builder.no_throttle()
                };
                let sim = builder
                    .build()
                    .map_err(|e| PipelineError::Sim(e.to_string()))?;
                let server = sim
                    .serve(SocketAddr::from(([127, 0, 0, 1], 0)))
                    .await
                    .map_err(|e| PipelineError::Sim(e.to_string()))?;
                let aws = sdk::load(&AwsSettings::emulator(server.url())).await;
                let directory =
                    ConnectDirectory::from_config(&aws, settings.config.instance_id.to_string());
                (Some(server), directory)
            }
            ConnectTarget::Aws => {
                let aws = sdk::load(&AwsSettings {
                    region: settings.config.region.clone(),
                    ..AwsSettings::default()
                })
                .await;
                let directory =
                    ConnectDirectory::from_config(&aws, settings.config.instance_id.to_string());
                (None, directory)
            }
        };

        let wake = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(false);
        let secret_values =
            SecretValues::new(&settings.secret, None).map_err(|_| PipelineError::EmptySecret)?;
        // Unusable events go where the worker's hopeless ones go: the same dead-letter
        // queue, listed by `dlq` and redriven the same way.
        let ingest = Arc::new(Ingest::new(
            Settings::from_config(&settings.config.ingest),
            HookSecret::new(&secret_values),
            WakingQueue {
                inner: queue.clone(),
                wake: wake.clone(),
            },
            dead_letters.clone(),
        ));
        let listener = tokio::net::TcpListener::bind(settings.bind)
            .await
            .map_err(|e| PipelineError::Bind(settings.bind, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| PipelineError::Bind(settings.bind, e))?;
        // No body limit layer: it would refuse a large body before the secret is checked
        // (413 to whoever has no secret). The handler checks the secret first and reads
        // the body itself, within the limit and BODY_TIMEOUT.
        let app = axum::Router::new()
            .route(
                HOOK_PATH,
                get(serve_ingest).post(serve_ingest).fallback(not_found),
            )
            .fallback(not_found)
            .with_state(ingest);
        let mut http_stop = stopped.clone();
        let http = tokio::spawn(async move {
            let graceful = async move {
                let _ = http_stop.wait_for(|stop| *stop).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(graceful)
                .await
            {
                tracing::error!(error = %e, "ingest endpoint stopped");
            }
        });
        let ingest_url = format!("http://{addr}{HOOK_PATH}");

        // Okta after the endpoint: registering the hook sends its verification GET.
        let okta = match &settings.okta {
            OktaTarget::Simulated { seed } => {
                let token = okta_token(dir)?;
                okta::start_simulated(
                    &settings.config,
                    seed.as_deref(),
                    &token,
                    (
                        &ingest_url,
                        &settings.config.ingest.secret_header,
                        &settings.secret,
                    ),
                )
                .await
            }
            OktaTarget::Configured { config_dir } => okta::configured(&settings.config, config_dir)
                .await
                .map(|identity| LocalOkta {
                    sim: None,
                    api_token: None,
                    identity,
                    hook_id: None,
                }),
        };
        let okta = match okta {
            Ok(okta) => okta,
            Err(e) => {
                let _ = stop.send(true);
                let _ = http.await;
                return Err(e);
            }
        };

        // Where the running simulators are, for other commands (`reconcile`) on this state.
        let endpoints = Endpoints {
            ingest_url: ingest_url.clone(),
            connect_url: sim.as_ref().map(SimServer::url),
            okta_url: okta.sim.as_ref().map(okta_sim::OktaSimServer::url),
        };
        if let Ok(text) = serde_json::to_string_pretty(&endpoints) {
            let path = dir.join(ENDPOINTS_FILE);
            if let Err(e) = std::fs::write(&path, text) {
                tracing::warn!(path = %path.display(), error = %e, "cannot record the endpoints");
            }
        }

        let mut worker = Engine::new(
            settings.config.clone(),
            ledger.clone(),
            directory,
            dead_letters,
            okta.identity.clone(),
        );
        // A claim must end by the time the queue shows the message again, or a crashed
        // run's claims would hold up the redelivery (the stack does the same with its
        // visibility timeout of 6 × the worker timeout).
        let visibility = settings.queue.visibility_timeout;
        worker.settings.event_lease = worker.settings.event_lease.min(visibility);
        worker.settings.user_lease = worker.settings.user_lease.min(visibility);
        let tally = Arc::new(WorkerTally::default());
        let worker = tokio::spawn(drain_forever(
            worker,
            queue.clone(),
            tally.clone(),
            wake,
            stopped,
        ));
        Ok(Self {
            ingest_url,
            secret_header: settings.config.ingest.secret_header.clone(),
            state_dir: settings.state_dir.clone(),
            queue,
            ledger,
            sim,
            okta,
            tally,
            stop,
            http,
            worker,
        })
    }

    /// The live status line's numbers now.
    pub async fn live_counts(&self) -> Result<LiveCounts, PipelineError> {
        self.live_counter().counts().await
    }

    /// A reader of [`LiveCounts`] that outlives this value.
    pub fn live_counter(&self) -> LiveCounter {
        LiveCounter {
            queue: self.queue.clone(),
            tally: self.tally.clone(),
        }
    }

    /// Messages waiting, in flight and dead-lettered.
    pub async fn backlog(&self) -> Result<QueueCounts, PipelineError> {
        Ok(self.queue.counts().await?)
    }

    /// The dead-lettered messages (up to 1000), left where they are.
    pub async fn dead_letter_messages(&self) -> Result<Vec<DeadLetter>, PipelineError> {
        Ok(self.queue.dead_letters(1000).await?)
    }

    /// Waits until the source queue is empty (nothing visible, nothing in flight), or
    /// `limit` passes. Returns whether it drained.
    pub async fn drain(&self, limit: Duration) -> Result<bool, PipelineError> {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let counts = self.backlog().await?;
            if counts.visible == 0 && counts.in_flight == 0 {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= until {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops accepting requests, lets the worker finish its current batch, then stops
    /// Connect's simulator (which saves its state).
    pub async fn shutdown(self) -> Result<(), PipelineError> {
        // Okta first: no delivery may arrive at an endpoint that is going away.
        self.okta.shutdown().await;
        let _ = self.stop.send(true);
        let _ = self.http.await;
        let _ = self.worker.await;
        if let Some(sim) = self.sim {
            sim.shutdown()
                .await
                .map_err(|e| PipelineError::Sim(e.to_string()))?;
        }
        Ok(())
    }
}

/// `GET` and `POST` of the hook path: the Lambda's own handler, which checks the secret
/// before it reads the body (see [`read_body`]).
async fn serve_ingest(
    State(ingest): State<Arc<Ingest<WakingQueue, AnyDeadLetters>>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let mut head = IngestRequest::new(parts.method.as_str());
    for (name, value) in &parts.headers {
        head = head.header(name.as_str(), value.as_bytes().to_vec());
    }
    let limit = ingest.settings.max_body_bytes;
    let response =
        okta_connect_ingest::handle_streaming(head, read_body(body, limit, BODY_TIMEOUT), &ingest)
            .await;
    to_http(response)
}

/// The body's bytes: at most `limit` (else [`IngestError::TooLarge`]), within `timeout`
/// (else [`IngestError::BodyTimeout`]). Read frame by frame so an over-long body is cut
/// off at the limit, not buffered whole.
async fn read_body(
    mut body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, IngestError> {
    let read = async {
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let frame = frame.map_err(|_| IngestError::BodyUnreadable)?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > limit {
                    return Err(IngestError::TooLarge { limit });
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or(Err(IngestError::BodyTimeout))
}

/// Any other path or method: 404 in JSON, as API Gateway answers there, without looking
/// at the secret.
async fn not_found() -> Response {
    to_http(IngestError::NotFound.response())
}

fn to_http(response: IngestResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // After a 408 or 413 the rest of the body may still be on its way: close rather
    // than read it.
    let close = matches!(response.status, 408 | 413);
    let mut out = (status, response.body).into_response();
    for (name, value) in response.headers {
        if let Ok(value) = value.parse() {
            out.headers_mut().insert(name, value);
        }
    }
    if close {
        out.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    out
}

/// The local stand-in for Lambda's SQS event source: receive up to 10, run the worker,
/// delete what is done, hand back what must be retried.
async fn drain_forever(
    worker: LocalEngine,
    queue: AnyQueue,
    tally: Arc<WorkerTally>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let received = match queue.receive(MAX_RECEIVE, Duration::ZERO).await {
            Ok(received) => received,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the queue; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if received.is_empty() {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        // Lambda's worker timeout in the stack is 60 s; the same budget here.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let reports = worker.handle_batch(&received, deadline).await;
        // Counted before settling: whoever sees the queue empty (`drain`) then also sees
        // the message counted. The cost is a moment where it shows both in flight and done.
        for report in &reports {
            tally.record(report.disposition);
        }
        for (report, message) in reports.iter().zip(&received) {
            let settled = match report.disposition {
                Disposition::Done | Disposition::DeadLettered => {
                    queue.acknowledge(&message.receipt).await
                }
                Disposition::Retry => {
                    queue
                        .hand_back(&message.receipt, retry_delay(message.receive_count))
                        .await
                }
            };
            if let Err(e) = settled {
                // The message reappears after its visibility timeout; the ledger makes
                // its second run a duplicate.
                tracing::warn!(error = %e, message_id = %message.message_id, "cannot settle message");
            }
        }
    }
}
