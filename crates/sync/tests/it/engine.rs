//! The engine end to end: DynamoDB ledger and SQS dead-letter queue on moto, Amazon
//! Connect on connect-sim, all through the real AWS SDKs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use connect_sim::{ErrorKind, Faults, Operation, RateLimit, ScriptedFault, Seed, Sim, SimServer};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::dynamodb::{DynamoLedger, create_table};
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::config::Config;
use okta_connect_core::desired::DesiredUser;
use okta_connect_core::okta::OktaEvent;
use okta_connect_core::outcome::{Outcome, StepKind};
use okta_connect_core::ownership::UserFilter;
use okta_connect_core::plan::{Change, ConnectUser};
use okta_connect_core::ports::{CreatedUser, DirectoryError, EventState, Ledger, UserDirectory};
use okta_connect_core::queue::{Delivery, EventAttributes, Receipt, attribute};
use okta_connect_core::rules::NotRelevant;
use okta_connect_core::time::UnixMillis;
use okta_connect_sync::{Disposition, Engine as Worker, NoIdentitySource};
use okta_connect_testkit::{MotoServer, fixtures};
use tokio::time::Instant;

pub(crate) const INSTANCE: &str = "abcdefgh-0122-4131-adc2-a0ebe5a2b2a7";
pub(crate) const AGENT_ROUTING: &str = "87654321-69fb-43b6-a5e6-f8666ac189cb";
pub(crate) const SUPERVISOR_ROUTING: &str = "5b3c0f3e-8a31-4d2a-9a61-2f1d3c7e9b10";

/// Everything a worker test needs: emulators, adapters, and the queue's DLQ.
pub(crate) struct Rig {
    pub(crate) _moto: MotoServer,
    pub(crate) sim: SimServer,
    pub(crate) aws: aws_config::SdkConfig,
    table: String,
    pub(crate) dlq_url: String,
    clock: Arc<AtomicI64>,
}

impl Rig {
    pub(crate) async fn start(sim: Sim) -> Self {
        let moto = MotoServer::start();
        let aws = sdk::load(&AwsSettings::emulator(moto.url())).await;
        let table = "ledger".to_string();
        create_table(&aws_sdk_dynamodb::Client::new(&aws), &table)
            .await
            .unwrap();
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let dlq_url = sqs
            .create_queue()
            .queue_name("dlq")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let sim = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        Self {
            _moto: moto,
            sim,
            aws,
            table,
            dlq_url,
            clock: Arc::new(AtomicI64::new(UnixMillis::now().0)),
        }
    }

    pub(crate) async fn directory(&self) -> ConnectDirectory {
        let settings = AwsSettings::emulator(self.sim.url());
        let aws = sdk::load(&settings).await;
        ConnectDirectory::from_config(&aws, INSTANCE)
    }

    pub(crate) fn ledger(&self) -> DynamoLedger {
        DynamoLedger::from_config(&self.aws, &self.table)
    }

    /// A worker on a fresh ledger table of its own.
    async fn worker_on_new_table(
        &self,
        config: Config,
        table: &str,
    ) -> Worker<DynamoLedger, ConnectDirectory, SqsQueue, NoIdentitySource> {
        create_table(&aws_sdk_dynamodb::Client::new(&self.aws), table)
            .await
            .unwrap();
        let mut worker = self.worker(config).await;
        worker.ledger = DynamoLedger::from_config(&self.aws, table);
        worker
    }

    pub(crate) fn dlq(&self) -> SqsQueue {
        SqsQueue::from_config(&self.aws, &self.dlq_url)
    }

    /// A worker over these emulators with a clock the test controls.
    pub(crate) async fn worker_with<D: UserDirectory>(
        &self,
        config: Config,
        directory: D,
    ) -> Worker<DynamoLedger, D, SqsQueue, NoIdentitySource> {
        let mut worker = Worker::new(config, self.ledger(), directory, self.dlq(), None);
        let clock = self.clock.clone();
        worker.clock = Arc::new(move || UnixMillis(clock.load(Ordering::SeqCst)));
        worker.settings.first_backoff = Duration::from_millis(20);
        worker.settings.max_backoff = Duration::from_millis(500);
        worker.settings.safety_margin = Duration::from_millis(200);
        worker
    }

    pub(crate) async fn worker(
        &self,
        config: Config,
    ) -> Worker<DynamoLedger, ConnectDirectory, SqsQueue, NoIdentitySource> {
        let directory = self.directory().await;
        self.worker_with(config, directory).await
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.clock
            .fetch_add(i64::try_from(by.as_millis()).unwrap(), Ordering::SeqCst);
    }

    pub(crate) fn users(&self) -> BTreeMap<String, connect_sim::User> {
        self.sim
            .sim()
            .users()
            .into_iter()
            .map(|u| (u.user.username.clone(), u.user))
            .collect()
    }

    /// Every message in the DLQ: (body, attributes).
    pub(crate) async fn dead_letters(&self) -> Vec<(String, BTreeMap<String, String>)> {
        let sqs = aws_sdk_sqs::Client::new(&self.aws);
        okta_connect_testkit::sqs::read_queue(&sqs, &self.dlq_url, usize::MAX)
            .await
            .into_iter()
            .map(|m| (m.body, m.attributes))
            .collect()
    }
}

pub(crate) fn sim_default() -> Sim {
    Sim::builder()
        .seed(Seed::default())
        .no_throttle()
        .build()
        .unwrap()
}

pub(crate) fn config() -> Config {
    Config::from_ini(fixtures::CONFIG_INI).unwrap()
}

/// A worker invocation's time budget in these tests: long enough never to cut one short.
const INVOCATION: Duration = Duration::from_secs(600);

pub(crate) fn far_deadline() -> Instant {
    Instant::now() + Duration::from_secs(600)
}

/// Queue messages as the ingest Lambda makes them: raw event body plus attributes.
pub(crate) fn messages_of(delivery: &str) -> Vec<Delivery> {
    okta_connect_core::okta::Delivery::parse(delivery.as_bytes())
        .unwrap()
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| message(e.raw.get(), &format!("m-{}-{i}", e.event.uuid)))
        .collect()
}

pub(crate) fn message(raw: &str, message_id: &str) -> Delivery {
    let event = OktaEvent::parse(raw).unwrap();
    let attributes = EventAttributes {
        uuid: event.uuid.clone(),
        event_type: event.event_type.clone(),
        published: event.published.clone(),
        okta_user_id: event.okta_user().and_then(|u| u.id.clone()),
        delivery_id: None,
    }
    .to_attributes();
    Delivery {
        message_id: message_id.into(),
        receipt: Receipt(format!("receipt-{message_id}")),
        body: raw.into(),
        attributes,
        receive_count: 1,
    }
}

/// A System Log event in Okta's shape, for stories the fixtures do not tell.
pub(crate) fn okta_event(
    uuid: &str,
    published_ms: i64,
    event_type: &str,
    user: (&str, &str),
    group: Option<(&str, &str)>,
) -> String {
    let mut targets = vec![serde_json::json!({
        "id": user.0, "type": "User", "alternateId": user.1,
        "displayName": "Test Agent", "detailEntry": null
    })];
    if let Some((id, name)) = group {
        targets.push(serde_json::json!({
            "id": id, "type": "UserGroup", "alternateId": "unknown", "displayName": name, "detailEntry": null
        }));
    }
    serde_json::json!({
        "uuid": uuid,
        "published": UnixMillis(published_ms).to_string(),
        "eventType": event_type,
        "version": "0",
        "severity": "INFO",
        "displayMessage": event_type,
        "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@acme.example", "displayName": "Admin", "detailEntry": null},
        "outcome": {"result": "SUCCESS", "reason": null},
        "target": targets,
        "debugContext": {"debugData": {}}
    })
    .to_string()
}

#[tokio::test]
async fn a_group_add_creates_the_connect_user_with_one_connect_call() {
    let rig = Rig::start(sim_default()).await;
    let worker = rig.worker(config()).await;
    let reports = worker
        .handle_batch(&messages_of(fixtures::GROUP_MEMBERSHIP_ADD), far_deadline())
        .await;
    assert_eq!(
        reports[0].disposition,
        Disposition::Done,
        "{:?}",
        reports[0].reason()
    );
    let users = rig.users();
    let jane = &users["jane.doe@acme.example"];
    assert_eq!(jane.routing_profile_id, AGENT_ROUTING);
    assert_eq!(jane.security_profile_ids.len(), 3);
    assert_eq!(
        (
            jane.identity_info.first_name.as_deref(),
            jane.identity_info.last_name.as_deref()
        ),
        (Some("Jane"), Some("Doe"))
    );
    let counters = rig.sim.sim().counters();
    assert_eq!(
        counters.grand_total(),
        1,
        "one CreateUser and nothing else on the happy path"
    );
    let record = worker
        .ledger
        .event_record(reports[0].event_uuid.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, EventState::Completed);
    // What the event is about is kept with it, for `okta-connect events --user`.
    let about = record
        .about
        .clone()
        .expect("the claim stores what the event is about");
    assert_eq!(about.event_type, "group.user_membership.add");
    assert_eq!(about.login.as_deref(), Some("jane.doe@acme.example"));
    assert!(about.okta_user_id.is_some());
    assert!(about.published.is_some());
    assert!(record.updated_at.is_some());
    let Some(Outcome::Converged { converged, .. }) = record.outcome else {
        panic!("not converged: {:?}", record.outcome)
    };
    assert_eq!(converged.steps, [StepKind::Create]);
}

#[tokio::test]
async fn the_same_event_three_times_also_concurrently_makes_one_user() {
    let rig = Rig::start(sim_default()).await;
    let worker = rig.worker(config()).await;
    let base = messages_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    // Three deliveries of one event (Okta's retry, an SQS redelivery), different message ids.
    let copies: Vec<Delivery> = (0..3)
        .map(|i| Delivery {
            message_id: format!("copy-{i}"),
            ..base.clone()
        })
        .collect();
    let concurrent = worker.handle_batch(&copies, far_deadline()).await;
    // Whatever lost the race comes back later, as SQS would redeliver it.
    let retried: Vec<Delivery> = concurrent
        .iter()
        .filter(|r| r.disposition == Disposition::Retry)
        .map(|r| {
            copies
                .iter()
                .find(|m| m.message_id == r.message_id)
                .unwrap()
                .clone()
        })
        .collect();
    let later = worker.handle_batch(&retried, far_deadline()).await;
    let sequential = worker.handle_batch(&copies, far_deadline()).await;
    for r in concurrent.iter().chain(&later).chain(&sequential) {
        assert_ne!(r.disposition, Disposition::DeadLettered, "{:?}", r.reason());
    }
    assert!(later.iter().all(|r| r.disposition == Disposition::Done));
    assert!(sequential.iter().all(|r| r.outcome == Outcome::Duplicate));
    assert_eq!(rig.users().len(), 1);
    assert_eq!(rig.sim.sim().counters().successes(Operation::CreateUser), 1);
}

/// Gives a CreateUser through, then never answers: the worker "dies" right after
/// Connect created the user and before the ledger heard of it.
struct DiesAfterCreate<D> {
    inner: D,
    armed: AtomicUsize,
}

impl<D: UserDirectory> UserDirectory for DiesAfterCreate<D> {
    async fn find_by_username(&self, u: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        self.inner.find_by_username(u).await
    }
    async fn describe(&self, id: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        self.inner.describe(id).await
    }
    async fn create(
        &self,
        user: &DesiredUser,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedUser, DirectoryError> {
        let created = self.inner.create(user, tags).await;
        if self.armed.fetch_sub(1, Ordering::SeqCst) == 1 {
            std::future::pending::<()>().await;
        }
        created
    }
    async fn update(&self, id: &str, change: &Change) -> Result<(), DirectoryError> {
        self.inner.update(id, change).await
    }
    async fn delete(&self, id: &str) -> Result<(), DirectoryError> {
        self.inner.delete(id).await
    }
    async fn search(&self, filter: &UserFilter) -> Result<Vec<ConnectUser>, DirectoryError> {
        self.inner.search(filter).await
    }
}

#[tokio::test]
async fn a_crash_between_create_and_completed_converges_on_retry_without_a_second_user() {
    let rig = Rig::start(sim_default()).await;
    let directory = DiesAfterCreate {
        inner: rig.directory().await,
        armed: AtomicUsize::new(1),
    };
    let worker = rig.worker_with(config(), directory).await;
    let message = messages_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    // The invocation is killed mid-flight: its future is dropped, nothing is released.
    let crashed = tokio::time::timeout(
        Duration::from_secs(2),
        worker.process(&message, far_deadline()),
    )
    .await;
    assert!(crashed.is_err(), "the worker was meant to die");
    assert_eq!(
        rig.users().len(),
        1,
        "Connect created the user before the crash"
    );
    let uuid = message.attributes[attribute::UUID].clone();
    assert_eq!(
        worker
            .ledger
            .event_record(&uuid)
            .await
            .unwrap()
            .unwrap()
            .state,
        EventState::InProgress
    );

    // SQS shows the message again after the visibility timeout, by when the leases ended.
    rig.advance(Duration::from_secs(600));
    let redelivered = Delivery {
        message_id: "redelivery".into(),
        ..message
    };
    let report = worker.process(&redelivered, far_deadline()).await;
    assert_eq!(
        report.disposition,
        Disposition::Done,
        "{:?}",
        report.reason()
    );
    assert_eq!(rig.users().len(), 1, "no second user");
    let counters = rig.sim.sim().counters();
    assert_eq!(counters.successes(Operation::CreateUser), 1);
    assert_eq!(
        counters.errors(Operation::CreateUser, ErrorKind::DuplicateResourceException),
        1
    );
    assert_eq!(
        report.converged().unwrap().steps,
        Vec::<StepKind>::new(),
        "already in step"
    );
    assert_eq!(
        worker
            .ledger
            .event_record(&uuid)
            .await
            .unwrap()
            .unwrap()
            .state,
        EventState::Completed
    );
}

#[tokio::test]
async fn a_hundred_events_under_connects_quota_all_arrive_with_nothing_dead_lettered() {
    let sim = Sim::builder()
        .seed(Seed::default())
        .rate(RateLimit::CONNECT_DEFAULT)
        .build()
        .unwrap();
    let rig = Rig::start(sim).await;
    let worker = rig.worker(config()).await;
    let messages = messages_of(fixtures::HUNDRED_EVENTS);
    let settled = worker.settle(messages, 10, 19, INVOCATION).await;
    assert!(settled.pending.is_empty(), "not converging");
    assert!(
        settled
            .reports
            .iter()
            .all(|r| r.disposition != Disposition::DeadLettered)
    );
    assert_eq!(rig.users().len(), 100);
    assert!(rig.dead_letters().await.is_empty());
    let counters = rig.sim.sim().counters();
    assert_eq!(counters.successes(Operation::CreateUser), 100);
}

#[tokio::test]
async fn thirty_percent_connect_failures_still_provision_everyone() {
    let faults = Faults {
        error_probability: 0.3,
        ..Faults::default()
    };
    let sim = Sim::builder()
        .seed(Seed::default())
        .no_throttle()
        .faults(faults)
        .build()
        .unwrap();
    let rig = Rig::start(sim).await;
    let mut config = config();
    config.pacing.requests_per_second = 200.0;
    config.pacing.burst = 50;
    let worker = rig.worker(config).await;
    let messages: Vec<Delivery> = messages_of(fixtures::HUNDRED_EVENTS)
        .into_iter()
        .take(30)
        .collect();
    let settled = worker.settle(messages, 30, 10, INVOCATION).await;
    assert!(
        settled
            .reports
            .iter()
            .all(|r| r.disposition != Disposition::DeadLettered)
    );
    assert!(settled.pending.is_empty());
    assert_eq!(rig.users().len(), 30);
    assert!(rig.dead_letters().await.is_empty());
    let counters = rig.sim.sim().counters();
    assert!(
        counters.errors(Operation::CreateUser, ErrorKind::InternalServiceException) > 0,
        "faults were injected"
    );
}

#[tokio::test]
async fn an_invalid_security_profile_dead_letters_at_once_and_succeeds_after_the_fix_and_a_redrive()
{
    let rig = Rig::start(sim_default()).await;
    let broken = Config::from_ini(&fixtures::CONFIG_INI.replace(
        "SECURITY_PROFILE_IDS = 12345678-1234-2345-abd8-0aa7f5b46852, 65345678",
        "SECURITY_PROFILE_IDS = 00000000-1234-2345-abd8-0aa7f5b46852, 65345678",
    ))
    .unwrap();
    let worker = rig.worker(broken).await;
    let message = messages_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    let report = worker.process(&message, far_deadline()).await;
    assert_eq!(report.disposition, Disposition::DeadLettered);
    let uuid = &message.attributes[attribute::UUID];
    let record = worker.ledger.event_record(uuid).await.unwrap().unwrap();
    assert_eq!(record.state, EventState::Failed);
    let Some(Outcome::Failed(failure)) = record.outcome else {
        panic!("not failed: {:?}", record.outcome)
    };
    assert!(
        failure.reason.contains("InvalidParameter"),
        "{}",
        failure.reason
    );
    assert_eq!(
        rig.sim.sim().counters().total(Operation::CreateUser),
        1,
        "one attempt, no retries"
    );
    let dead = rig.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, message.body, "the original body, unchanged");
    assert_eq!(&dead[0].1[attribute::UUID], uuid);
    assert!(dead[0].1[attribute::FAILURE_REASON].contains("InvalidParameter"));

    // The admin fixes config.ini and redrives: a new message id, same event uuid.
    let fixed = rig.worker(config()).await;
    let redriven = Delivery {
        message_id: "redriven".into(),
        receipt: Receipt("redriven".into()),
        body: dead[0].0.clone(),
        attributes: dead[0].1.clone(),
        receive_count: 1,
    };
    let report = fixed.process(&redriven, far_deadline()).await;
    assert_eq!(
        report.disposition,
        Disposition::Done,
        "{:?}",
        report.reason()
    );
    assert_eq!(rig.users().len(), 1);
    assert_eq!(
        fixed
            .ledger
            .event_record(uuid)
            .await
            .unwrap()
            .unwrap()
            .state,
        EventState::Completed
    );
}

#[tokio::test]
async fn a_username_connect_rejects_is_dead_lettered_with_the_reason() {
    let rig = Rig::start(sim_default()).await;
    let worker = rig.worker(config()).await;
    let report = worker
        .process(
            &messages_of(fixtures::USERNAME_REJECTED_BY_CONNECT).remove(0),
            far_deadline(),
        )
        .await;
    assert_eq!(report.disposition, Disposition::DeadLettered);
    assert!(report.reason().unwrap().contains("'+'"));
    assert_eq!(
        rig.sim.sim().counters().grand_total(),
        0,
        "rejected before calling Connect"
    );
}

#[tokio::test]
async fn irrelevant_and_mixed_events_are_recorded_not_retried() {
    let rig = Rig::start(sim_default()).await;
    let worker = rig.worker(config()).await;
    let reports = worker
        .handle_batch(&messages_of(fixtures::MIXED_BATCH), far_deadline())
        .await;
    let facts: Vec<&str> = reports
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Converged { fact, .. } => match fact {
                okta_connect_core::outcome::FactKind::Membership => "fact:membership",
                _ => "fact:other",
            },
            Outcome::NotRelevant { .. } => "not_relevant",
            _ => "other",
        })
        .collect();
    assert_eq!(
        facts,
        [
            "fact:membership",
            "not_relevant",
            "not_relevant",
            "not_relevant",
            "not_relevant",
            "fact:membership",
            "not_relevant"
        ]
    );
    assert!(reports.iter().all(|r| r.disposition == Disposition::Done));
    let users = rig.users();
    assert!(
        users.contains_key("jane.doe@acme.example")
            && users.contains_key("juergen.mueller@acme.example")
    );
    let skipped = worker
        .ledger
        .event_record(reports[1].event_uuid.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        skipped.outcome,
        Some(Outcome::NotRelevant {
            reason: NotRelevant::OtherGroup("Finance".into())
        })
    );
}

#[tokio::test]
async fn an_unreachable_ledger_mid_batch_hands_messages_back_and_loses_nothing() {
    let rig = Rig::start(sim_default()).await;
    let healthy = rig.worker(config()).await;
    // A second worker whose DynamoDB endpoint is a port where nothing listens.
    let dead_port = okta_connect_testkit::free_port();
    let mut dead = AwsSettings::emulator(format!("http://127.0.0.1:{dead_port}"));
    dead.operation_timeout = Duration::from_millis(500);
    dead.attempt_timeout = Duration::from_millis(200);
    let unreachable = DynamoLedger::from_config(&sdk::load(&dead).await, "ledger");
    let mut broken = Worker::new(
        config(),
        unreachable,
        rig.directory().await,
        rig.dlq(),
        None::<NoIdentitySource>,
    );
    broken.settings.safety_margin = Duration::ZERO;

    let messages = messages_of(fixtures::HUNDRED_EVENTS);
    let first = healthy.handle_batch(&messages[..5], far_deadline()).await;
    assert!(first.iter().all(|r| r.disposition == Disposition::Done));
    // DynamoDB goes away for the next five: every one is handed back, none dead-lettered.
    let during = broken
        .handle_batch(&messages[5..10], Instant::now() + Duration::from_secs(2))
        .await;
    assert!(
        during.iter().all(|r| r.disposition == Disposition::Retry),
        "{during:?}"
    );
    assert!(rig.dead_letters().await.is_empty());
    // It comes back; SQS redelivers; everything converges.
    let after = healthy.handle_batch(&messages[5..10], far_deadline()).await;
    assert!(after.iter().all(|r| r.disposition == Disposition::Done));
    assert_eq!(rig.users().len(), 10);
}

#[tokio::test]
async fn lifecycle_and_removal_follow_the_newest_facts_and_the_policy() {
    let rig = Rig::start(sim_default()).await;
    let worker = rig.worker(config()).await;
    let user = ("00u1lifecycle0000001", "pat.lee@acme.example");
    let agents = ("00g1c0nn3ctAgents0d7", "amazon_connect");
    let supervisors = ("00g1c0nn3ctSup3rv1s7", "connect_supervisors");
    let t = 1_700_000_000_000_i64;
    let run = |events: Vec<String>| {
        let worker = &worker;
        async move {
            let messages: Vec<Delivery> = events
                .iter()
                .enumerate()
                .map(|(i, e)| message(e, &format!("life-{i}-{}", e.len())))
                .collect();
            for r in worker.handle_batch(&messages, far_deadline()).await {
                assert_eq!(r.disposition, Disposition::Done, "{:?}", r.reason());
            }
        }
    };
    run(vec![okta_event(
        "e1",
        t,
        "group.user_membership.add",
        user,
        Some(agents),
    )])
    .await;
    assert_eq!(
        rig.users()["pat.lee@acme.example"].routing_profile_id,
        AGENT_ROUTING
    );
    run(vec![okta_event(
        "e2",
        t + 10,
        "group.user_membership.add",
        user,
        Some(supervisors),
    )])
    .await;
    let pat = rig.users()["pat.lee@acme.example"].clone();
    assert_eq!(pat.routing_profile_id, SUPERVISOR_ROUTING);
    assert_eq!(
        pat.hierarchy_group_id.as_deref(),
        Some("f0e1d2c3-b4a5-4697-8899-aabbccddeeff")
    );
    run(vec![okta_event(
        "e3",
        t + 20,
        "user.lifecycle.deactivate",
        user,
        None,
    )])
    .await;
    assert!(
        rig.users().is_empty(),
        "deactivation deletes under REMOVAL_POLICY = DELETE"
    );
    // A late, older event changes nothing.
    run(vec![okta_event(
        "e0",
        t - 10,
        "group.user_membership.add",
        user,
        Some(agents),
    )])
    .await;
    assert!(rig.users().is_empty());
    run(vec![okta_event(
        "e4",
        t + 30,
        "user.lifecycle.reactivate",
        user,
        None,
    )])
    .await;
    assert_eq!(
        rig.users()["pat.lee@acme.example"].routing_profile_id,
        SUPERVISOR_ROUTING
    );
    let counters = rig.sim.sim().counters();
    assert_eq!(counters.successes(Operation::CreateUser), 2);
    assert_eq!(counters.successes(Operation::DeleteUser), 1);
}

#[tokio::test]
async fn throttling_is_retried_never_dead_lettered() {
    let sim = sim_default();
    sim.fail_next(ScriptedFault::new(
        Operation::CreateUser,
        ErrorKind::ThrottlingException,
        8,
    ));
    let rig = Rig::start(sim).await;
    let worker = rig.worker(config()).await;
    let message = messages_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    let mut report = worker.process(&message, far_deadline()).await;
    for _ in 0..5 {
        if report.disposition != Disposition::Retry {
            break;
        }
        report = worker.process(&message, far_deadline()).await;
    }
    assert_eq!(
        report.disposition,
        Disposition::Done,
        "{:?}",
        report.reason()
    );
    assert!(rig.dead_letters().await.is_empty());
    assert_eq!(rig.users().len(), 1);
}

/// Every call Connect throttles is counted in the report of the message whose converge
/// made it, each retry of the converge included: over all reports (those handed back
/// too, as the worker's metrics line sums them), exactly the 429s Connect answered.
#[tokio::test]
async fn each_report_counts_the_connect_throttles_of_its_message() {
    // CreateUser metered at 2/s with a burst of 2; every other API far above any need.
    let limits = connect_sim::RateLimits::uniform(RateLimit::new(10_000.0, 10_000))
        .with_operation(Operation::CreateUser, RateLimit::new(2.0, 2));
    let sim = Sim::builder()
        .seed(Seed::default())
        .rate_limits(limits)
        .build()
        .unwrap();
    let rig = Rig::start(sim).await;
    let mut worker = rig.worker(config()).await;
    // Paced far above Connect's quota, so its calls bounce off Connect's bucket.
    worker.pacing = okta_connect_sync::Pacer::new(okta_connect_core::config::Pacing {
        requests_per_second: 1000.0,
        burst: 1000,
    });
    const USERS: usize = 12;
    let mut pending: Vec<Delivery> = messages_of(fixtures::HUNDRED_EVENTS)
        .into_iter()
        .take(USERS)
        .collect();
    let mut reports = Vec::new();
    for _ in 0..5 {
        if pending.is_empty() {
            break;
        }
        let batch = worker.handle_batch(&pending, far_deadline()).await;
        pending = batch
            .iter()
            .zip(&pending)
            .filter(|(report, _)| report.disposition == Disposition::Retry)
            .map(|(_, message)| message.clone())
            .collect();
        reports.extend(batch);
    }
    assert!(pending.is_empty(), "not converging");
    assert_eq!(rig.users().len(), USERS);
    assert!(rig.dead_letters().await.is_empty());

    let counters = rig.sim.sim().counters();
    let refused: u64 = Operation::ALL
        .into_iter()
        .map(|op| counters.errors(op, ErrorKind::ThrottlingException))
        .sum();
    assert_eq!(
        counters.errors(Operation::CreateUser, ErrorKind::ThrottlingException),
        refused,
        "only CreateUser is metered"
    );
    assert!(refused > 0, "Connect throttled the worker");
    let counted: u64 = reports.iter().map(|r| u64::from(r.connect_throttles)).sum();
    assert_eq!(counted, refused, "every 429 is in exactly one report");
    assert!(
        reports.iter().any(|r| r.connect_throttles >= 2),
        "one message's retried converges add up: {:?}",
        reports
            .iter()
            .map(|r| r.connect_throttles)
            .collect::<Vec<_>>()
    );
    let json = serde_json::to_value(&reports[0]).unwrap();
    assert_eq!(json["connect_throttles"], reports[0].connect_throttles);
}

/// One generated Okta event for the property test.
#[derive(Debug, Clone)]
struct Story {
    user: usize,
    /// 0 add agents, 1 remove agents, 2 add supervisors, 3 remove supervisors,
    /// 4 deactivate, 5 reactivate, 6 suspend, 7 unsuspend.
    kind: usize,
    published: i64,
    /// The event names the user by its second login (an Okta login change).
    renamed: bool,
}

const STORY_USERS: [(&str, &str, &str); 3] = [
    (
        "00u1prop000000000001",
        "ada.prop@acme.example",
        "ada.new@acme.example",
    ),
    (
        "00u1prop000000000002",
        "bo.prop@acme.example",
        "bo.new@acme.example",
    ),
    (
        "00u1prop000000000003",
        "cy.prop@acme.example",
        "cy.new@acme.example",
    ),
];

/// The security profile suspended users are parked on (config.ini's).
const PARKED: &str = "e3b0c442-98fc-4c14-9afb-f4c8996fb924";

/// What the newest facts imply, written independently of the core's rules: the Connect
/// users that should give access, by username, with their routing profile. A user gives
/// access unless deactivated, suspended (parked: kept, but granting nothing) or in no
/// mapping; its username is the login of its newest event, and no user remains under an
/// older login.
fn oracle(stories: &[(String, Story)]) -> BTreeMap<String, &'static str> {
    let mut expected = BTreeMap::new();
    for (index, (_, login, new_login)) in STORY_USERS.iter().enumerate() {
        let newest = |kinds: &[usize]| {
            stories
                .iter()
                .filter(|(_, s)| s.user == index && kinds.contains(&s.kind))
                .max_by(|(ua, a), (ub, b)| (a.published, ua).cmp(&(b.published, ub)))
                .map(|(_, s)| s.clone())
        };
        let managed = newest(&[0, 1, 2, 3]).is_some();
        let status = newest(&[4, 5, 6, 7]).map(|s| s.kind);
        let access = !matches!(status, Some(4 | 6));
        let agent = newest(&[0, 1]).map(|s| s.kind) == Some(0);
        let supervisor = newest(&[2, 3]).map(|s| s.kind) == Some(2);
        let renamed = newest(&[0, 1, 2, 3, 4, 5, 6, 7]).is_some_and(|s| s.renamed);
        if managed && access && (agent || supervisor) {
            expected.insert(
                if renamed { new_login } else { login }.to_string(),
                if supervisor {
                    SUPERVISOR_ROUTING
                } else {
                    AGENT_ROUTING
                },
            );
        }
    }
    expected
}

#[test]
fn any_order_and_duplication_across_two_workers_ends_in_the_state_the_newest_facts_imply() {
    use proptest::prelude::*;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rig = runtime.block_on(Rig::start(sim_default()));
    let story = (0..3usize, 0..8usize, 0..40i64, prop::bool::weighted(0.2)).prop_map(
        |(user, kind, published, renamed)| Story {
            user,
            kind,
            published,
            renamed,
        },
    );
    let case = (
        prop::collection::vec(story, 1..14),
        prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        any::<u64>(),
    );
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 16,
        ..Default::default()
    });
    let counter = AtomicUsize::new(0);
    runner
        .run(&case, |(stories, duplicates, shuffle)| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let stories: Vec<(String, Story)> = stories
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("p{n:03}-{i:03}"), s))
                .collect();
            let base = 1_700_000_000_000_i64;
            let bodies: Vec<String> = stories
                .iter()
                .map(|(uuid, s)| {
                    let (kind, group) = match s.kind {
                        0 => (
                            "group.user_membership.add",
                            Some(("00g1c0nn3ctAgents0d7", "amazon_connect")),
                        ),
                        1 => (
                            "group.user_membership.remove",
                            Some(("00g1c0nn3ctAgents0d7", "amazon_connect")),
                        ),
                        2 => (
                            "group.user_membership.add",
                            Some(("00g1c0nn3ctSup3rv1s7", "connect_supervisors")),
                        ),
                        3 => (
                            "group.user_membership.remove",
                            Some(("00g1c0nn3ctSup3rv1s7", "connect_supervisors")),
                        ),
                        4 => ("user.lifecycle.deactivate", None),
                        5 => ("user.lifecycle.reactivate", None),
                        6 => ("user.lifecycle.suspend", None),
                        _ => ("user.lifecycle.unsuspend", None),
                    };
                    let (id, login, new_login) = STORY_USERS[s.user];
                    let user = (id, if s.renamed { new_login } else { login });
                    okta_event(uuid, base + s.published, kind, user, group)
                })
                .collect();
            // Deliveries: every event, some twice, in a shuffled order.
            let mut deliveries: Vec<Delivery> = bodies
                .iter()
                .enumerate()
                .map(|(i, b)| message(b, &format!("{n}-{i}")))
                .collect();
            for (k, d) in duplicates.iter().enumerate() {
                let copy = deliveries[d.index(bodies.len())].clone();
                deliveries.push(Delivery {
                    message_id: format!("{}-dup{k}", copy.message_id),
                    ..copy
                });
            }
            let mut state = shuffle | 1;
            for i in (1..deliveries.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                deliveries.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let actual = runtime.block_on(async {
                rig.sim.sim().clear_users().unwrap();
                // Two workers on one ledger, each given every other delivery, at once.
                let table = format!("ledger-{n}");
                let a = rig.worker_on_new_table(config(), &table).await;
                let mut b = rig.worker(config()).await;
                b.ledger = DynamoLedger::from_config(&rig.aws, &table);
                let (for_a, for_b): (Vec<_>, Vec<_>) = deliveries
                    .into_iter()
                    .enumerate()
                    .partition(|(i, _)| i % 2 == 0);
                let strip = |v: Vec<(usize, Delivery)>| v.into_iter().map(|(_, d)| d).collect();
                let (settled_a, settled_b) = tokio::join!(
                    a.settle(strip(for_a), 4, 30, INVOCATION),
                    b.settle(strip(for_b), 4, 30, INVOCATION),
                );
                for settled in [&settled_a, &settled_b] {
                    for r in &settled.reports {
                        assert_ne!(r.disposition, Disposition::DeadLettered, "{:?}", r.reason());
                    }
                    assert!(
                        settled.pending.is_empty(),
                        "messages still pending: {:?}",
                        settled
                            .retried
                            .iter()
                            .map(|r| r.reason())
                            .collect::<Vec<_>>()
                    );
                }
                // Parked (suspended) users are kept but grant nothing.
                rig.users()
                    .into_iter()
                    .filter(|(_, u)| u.security_profile_ids != [PARKED])
                    .map(|(name, u)| (name, u.routing_profile_id))
                    .collect::<BTreeMap<_, _>>()
            });
            let expected: BTreeMap<String, String> = oracle(&stories)
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect();
            prop_assert_eq!(actual, expected);
            Ok(())
        })
        .unwrap();
}
