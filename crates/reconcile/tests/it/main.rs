//! The reconcile Lambda's run end to end, through the real SDKs: the ledger and both
//! queues on moto, Amazon Connect on connect-sim, Okta on okta-sim. A run queues its
//! requests; the worker engine (as deployed: the same adapters) drains them; Connect
//! ends in the state Okta implies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_connect::types::PhoneType;
use connect_sim::{Seed as ConnectSeed, Sim, SimServer};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::dynamodb::{DynamoLedger, create_table};
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::SqsQueue;
use okta_connect_core::config::{Config, Pacing};
use okta_connect_core::outcome::{FactKind, Outcome};
use okta_connect_core::ownership::{MAPPING_TAG, OKTA_USER_TAG};
use okta_connect_core::ports::Ledger;
use okta_connect_core::queue::{Delivery, RECONCILE_REQUEST_TYPE, Receipt, Work, attribute};
use okta_connect_okta::{OktaApi, OktaApiSettings, OktaAuth, Secret};
use okta_connect_reconcile::{ReconcileEngine, Reconciler, Request};
use okta_connect_sync::reconcile::Action;
use okta_connect_sync::{Disposition, Engine, NoDeadLetters, Pacer};
use okta_connect_testkit::{MotoServer, fixtures};
use okta_sim::{OktaSim, OktaSimServer, RateLimits, Seed as OktaSeed};
use serde_json::{Value, json};

const INSTANCE: &str = "abcdefgh-0122-4131-adc2-a0ebe5a2b2a7";
const AGENT_ROUTING: &str = "87654321-69fb-43b6-a5e6-f8666ac189cb";
const AGENT_PROFILE: &str = "12345678-1234-2345-abd8-0aa7f5b46852";
const TOKEN: &str = "00-reconcile-lambda-test-token";

/// Okta users of the story: (id, login, status).
const ANA: (&str, &str, &str) = ("00uAna000000000001", "ana@acme.example", "ACTIVE");
const BEN: (&str, &str, &str) = ("00uBen000000000002", "ben@acme.example", "ACTIVE");
const CHO: (&str, &str, &str) = ("00uCho000000000003", "cho@acme.example", "ACTIVE");
const DIA: (&str, &str, &str) = ("00uDia000000000004", "dia@acme.example", "DEPROVISIONED");

struct Rig {
    _moto: MotoServer,
    connect: SimServer,
    okta: OktaSimServer,
    aws: aws_config::SdkConfig,
    queue_url: String,
    dlq_url: String,
}

impl Rig {
    /// The story's org (Ana, Ben, Cho active in the agents group; Dia deactivated but
    /// still in it, as a group rule leaves her) and an empty Connect instance.
    async fn start() -> Self {
        let moto = MotoServer::start();
        let aws = sdk::load(&AwsSettings::emulator(moto.url())).await;
        create_table(&aws_sdk_dynamodb::Client::new(&aws), "ledger")
            .await
            .unwrap();
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let mut urls = Vec::new();
        for name in ["events", "dlq"] {
            let out = sqs.create_queue().queue_name(name).send().await.unwrap();
            urls.push(out.queue_url.unwrap());
        }
        let connect = Sim::builder()
            .seed(ConnectSeed::default())
            .no_throttle()
            .build()
            .unwrap()
            .serve("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let users: Vec<Value> = [ANA, BEN, CHO, DIA]
            .iter()
            .map(|(id, login, status)| {
                json!({"id": id, "status": status,
                       "profile": {"login": login, "firstName": "Okta", "lastName": login.split('@').next()}})
            })
            .collect();
        let seed = json!({
            "users": users,
            "groups": [
                {"id": "00g1c0nn3ctAgents0d7", "name": "amazon_connect",
                 "members": [ANA.0, BEN.0, CHO.0, DIA.0]},
                {"id": "00g1c0nn3ctSup3rv1s7", "name": "connect_supervisors"},
            ],
            "apps": [{"id": "0oa1awsF3d3rat10n0d7", "label": "AWS Account Federation"}],
        });
        let okta = OktaSim::builder()
            .seed(OktaSeed::from_json(&seed.to_string()).unwrap())
            .api_token(TOKEN)
            .rate_limits(RateLimits::unlimited())
            .build()
            .unwrap()
            .serve("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        Self {
            _moto: moto,
            connect,
            okta,
            aws,
            dlq_url: urls.pop().unwrap(),
            queue_url: urls.pop().unwrap(),
        }
    }

    fn ledger(&self) -> DynamoLedger {
        DynamoLedger::from_config(&self.aws, "ledger")
    }

    async fn directory(&self) -> ConnectDirectory {
        let aws = sdk::load(&AwsSettings::emulator(self.connect.url())).await;
        ConnectDirectory::from_config(&aws, INSTANCE)
    }

    fn okta_api(&self) -> OktaApi {
        OktaApi::new(OktaApiSettings::new(
            self.okta.url(),
            OktaAuth::ApiToken(Secret::new(TOKEN)),
        ))
        .unwrap()
    }

    /// The reconcile Lambda as `Reconciler::from_env` builds it, on these emulators.
    async fn reconciler(&self, config: Config) -> Reconciler {
        let mut engine: ReconcileEngine = Engine::new(
            config,
            self.ledger(),
            self.directory().await,
            NoDeadLetters,
            Some(self.okta_api()),
        );
        engine.pacing = unpaced();
        Reconciler {
            engine,
            queue: SqsQueue::from_config(&self.aws, &self.queue_url),
            stack: "OktaConnectTest".into(),
        }
    }

    /// The worker as deployed (Startup::build's types), on these emulators.
    async fn worker(&self) -> Engine<DynamoLedger, ConnectDirectory, SqsQueue, OktaApi> {
        let mut worker = Engine::new(
            config(),
            self.ledger(),
            self.directory().await,
            SqsQueue::from_config(&self.aws, &self.dlq_url),
            Some(self.okta_api()),
        );
        worker.pacing = unpaced();
        worker
    }

    /// Every message now in the event queue, as the worker's event source would hand
    /// them over (read with the plain SDK, not the consumer adapter).
    async fn queued(&self) -> Vec<Delivery> {
        let sqs = aws_sdk_sqs::Client::new(&self.aws);
        okta_connect_testkit::sqs::read_queue(&sqs, &self.queue_url, usize::MAX)
            .await
            .into_iter()
            .enumerate()
            .map(|(n, m)| Delivery {
                message_id: format!("m{n}"),
                receipt: Receipt(format!("r{n}")),
                body: m.body,
                attributes: m.attributes,
                receive_count: 1,
            })
            .collect()
    }

    /// Connect's users by username: (tags, routing profile).
    fn connect_users(&self) -> BTreeMap<String, (BTreeMap<String, String>, String)> {
        self.connect
            .sim()
            .users()
            .into_iter()
            .map(|u| {
                (
                    u.user.username.clone(),
                    (u.user.tags.clone(), u.user.routing_profile_id.clone()),
                )
            })
            .collect()
    }

    /// Creates a Connect user with the plain SDK client (an admin's CSV import).
    async fn hand_made(&self, username: &str, tags: &[(&str, &str)]) {
        let aws = sdk::load(&AwsSettings::emulator(self.connect.url())).await;
        let client = aws_sdk_connect::Client::new(&aws);
        let mut create = client
            .create_user()
            .instance_id(INSTANCE)
            .username(username)
            .routing_profile_id(AGENT_ROUTING)
            .security_profile_ids(AGENT_PROFILE)
            .identity_info(
                aws_sdk_connect::types::UserIdentityInfo::builder()
                    .first_name("Hand")
                    .last_name("Made")
                    .build(),
            )
            .phone_config(
                aws_sdk_connect::types::UserPhoneConfig::builder()
                    .phone_type(PhoneType::SoftPhone)
                    .build(),
            );
        for (k, v) in tags {
            create = create.tags(*k, *v);
        }
        create.send().await.unwrap();
    }
}

fn unpaced() -> Pacer {
    Pacer::new(Pacing {
        requests_per_second: 1000.0,
        burst: 1000,
    })
}

fn config() -> Config {
    Config::from_ini(fixtures::CONFIG_INI).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_go_live_run_queues_what_changes_and_the_worker_applies_it() {
    let rig = Rig::start().await;
    // Before go-live: Ben by CSV (untagged), Dia's user from an earlier life of the
    // pipeline (tagged for her), and a contractor nobody in Okta knows.
    rig.hand_made(BEN.1, &[]).await;
    rig.hand_made(DIA.1, &[(OKTA_USER_TAG, DIA.0), (MAPPING_TAG, "default")])
        .await;
    rig.hand_made("contractor@acme.example", &[]).await;
    let reconciler = rig.reconciler(config()).await;

    // A dry run plans and writes nothing: no request queued, no fact, no binding.
    let dry = reconciler
        .run(
            &Request {
                dry_run: true,
                max_revocations: None,
            },
            "dry-1".into(),
        )
        .await
        .unwrap();
    let actions: BTreeMap<&str, &str> = dry
        .plan
        .iter()
        .map(|p| (p.okta_user_id.as_str(), p.action.name()))
        .collect();
    assert_eq!(
        actions,
        BTreeMap::from([
            (ANA.0, "create"),
            (BEN.0, "adopt"),
            (CHO.0, "create"),
            (DIA.0, "revoke")
        ])
    );
    assert_eq!((dry.changes, dry.queued, dry.revocations), (4, 0, 1));
    assert!(rig.queued().await.is_empty());
    let ledger = rig.ledger();
    assert!(
        ledger
            .user_record(ANA.0)
            .await
            .unwrap()
            .facts
            .facts
            .is_empty()
    );
    assert!(
        ledger.source_bindings().await.unwrap().is_empty(),
        "a dry run binds nothing"
    );

    // The real run queues one request per changing user, and records everyone's facts.
    let run = reconciler
        .run(&Request::default(), "run-1".into())
        .await
        .unwrap();
    assert_eq!((run.changes, run.queued, run.conflicts), (4, 4, 0));
    assert_eq!(run.stopped_at_cap, None);
    let queued = rig.queued().await;
    assert_eq!(queued.len(), 4);
    let mut requested: Vec<String> = queued
        .iter()
        .map(|m| match Work::parse(&m.body) {
            Ok(Work::Reconcile(r)) => {
                assert_eq!(r.run_id, "run-1");
                assert_eq!(m.attributes[attribute::EVENT_TYPE], RECONCILE_REQUEST_TYPE);
                assert_eq!(m.attributes[attribute::UUID], r.uuid());
                r.okta_user_id
            }
            other => panic!("not a reconcile request: {other:?}"),
        })
        .collect();
    requested.sort();
    assert_eq!(requested, [ANA.0, BEN.0, CHO.0, DIA.0]);
    assert!(
        !ledger
            .user_record(ANA.0)
            .await
            .unwrap()
            .facts
            .facts
            .is_empty()
    );
    // Nothing in Connect changed yet: the worker applies.
    assert!(rig.connect_users()[BEN.1].0.is_empty());

    let worker = rig.worker().await;
    let settled = worker
        .settle(queued.clone(), 10, 3, Duration::from_secs(60))
        .await;
    assert!(settled.pending.is_empty());
    for report in &settled.reports {
        assert_eq!(report.disposition, Disposition::Done, "{report:?}");
        assert!(
            matches!(
                report.outcome,
                Outcome::Converged {
                    fact: FactKind::Snapshot,
                    ..
                }
            ),
            "{report:?}"
        );
    }
    let users = rig.connect_users();
    let names: Vec<&str> = users.keys().map(String::as_str).collect();
    assert_eq!(names, [ANA.1, BEN.1, CHO.1, "contractor@acme.example"]);
    for (who, id) in [(ANA.1, ANA.0), (BEN.1, BEN.0), (CHO.1, CHO.0)] {
        assert_eq!(
            users[who].0.get(OKTA_USER_TAG).map(String::as_str),
            Some(id)
        );
        assert_eq!(users[who].1, AGENT_ROUTING);
    }
    assert!(
        users["contractor@acme.example"].0.is_empty(),
        "never touched"
    );

    // A redelivered request is a duplicate.
    let again = worker
        .settle(queued[..1].to_vec(), 10, 1, Duration::from_secs(60))
        .await;
    assert_eq!(again.reports[0].outcome, Outcome::Duplicate);

    // The next run finds nothing to do.
    let next = reconciler
        .run(&Request::default(), "run-2".into())
        .await
        .unwrap();
    assert_eq!((next.changes, next.queued, next.conflicts), (0, 0, 0));
    assert!(next.plan.is_empty());
    assert!(rig.queued().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_above_the_revocation_cap_queues_nothing_and_says_so() {
    let rig = Rig::start().await;
    // Two owned users Okta no longer grants: Dia (deactivated) and one in no group.
    rig.hand_made(DIA.1, &[(OKTA_USER_TAG, DIA.0)]).await;
    rig.hand_made(
        "gone@acme.example",
        &[(OKTA_USER_TAG, "00uGone00000000005")],
    )
    .await;
    let mut capped = config();
    capped.reconcile.max_revocations = 1;
    let reconciler = rig.reconciler(capped).await;

    let run = reconciler
        .run(&Request::default(), "capped".into())
        .await
        .unwrap();
    assert_eq!(run.stopped_at_cap, Some(1));
    assert_eq!((run.revocations, run.queued), (2, 0));
    assert!(rig.queued().await.is_empty());
    assert!(
        rig.ledger()
            .user_record(ANA.0)
            .await
            .unwrap()
            .facts
            .facts
            .is_empty(),
        "a stopped run records nothing"
    );
    let line: Value = serde_json::from_str(
        &run.metrics("OktaConnectTest", okta_connect_core::time::UnixMillis(1))
            .to_line(),
    )
    .unwrap();
    assert_eq!(line["ReconcileStoppedAtCap"], 1.0);
    assert_eq!(line["ReconcileRevocations"], 2.0);
    assert_eq!(line["ReconcileQueued"], 0.0);
    assert_eq!(line["Stack"], "OktaConnectTest");

    // The operator allows it for one run.
    let allowed = reconciler
        .run(
            &Request {
                dry_run: false,
                max_revocations: Some(2),
            },
            "allowed".into(),
        )
        .await
        .unwrap();
    assert_eq!((allowed.stopped_at_cap, allowed.queued), (None, 5));
    let revoked: Vec<&str> = allowed
        .plan
        .iter()
        .filter(|p| matches!(p.action, Action::Revoke { .. }))
        .map(|p| p.okta_user_id.as_str())
        .collect();
    assert_eq!(revoked, [DIA.0, "00uGone00000000005"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_okta_read_fails_the_run_and_queues_nothing() {
    let rig = Rig::start().await;
    let reconciler = rig.reconciler(config()).await;
    rig.okta.sim().faults().fail_next(20, 500);
    let err = reconciler
        .run(&Request::default(), "broken".into())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("nothing is applied") || err.to_string().contains("Okta"),
        "{err}"
    );
    assert!(rig.queued().await.is_empty());
    assert!(
        rig.ledger()
            .user_record(ANA.0)
            .await
            .unwrap()
            .facts
            .facts
            .is_empty()
    );
}
