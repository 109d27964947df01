//! The operator's inspect-and-repair commands — `status`, `events`, `event`, `user`,
//! `dlq`, `redrive` — on the
//! local state folder (a running-then-stopped pipeline, and a SQLite queue built
//! directly) and on the deployed kind of queues and ledger (SQS and DynamoDB on moto).
//!
//! The story: a mapping with a routing profile Connect does not know dead-letters the
//! event with its reason; `dlq` and `event` show it; the config is fixed; `redrive`
//! moves it back; the user exists and `event` shows the second attempt.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use okta_connect::commands::target::Target;
use okta_connect::commands::{ConfigArg, dlq, event, events, redrive, status, user};
use okta_connect::output;
use okta_connect::pipeline::{DEAD_LETTER_QUEUE, Pipeline, QUEUE, STATE_DB};
use okta_connect_aws::dynamodb::{DynamoLedger, create_table};
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_aws::sqs::{SqsConsumer, SqsQueue};
use okta_connect_core::desired::Desired;
use okta_connect_core::outcome::{Failure, Outcome};
use okta_connect_core::ports::{
    ErrorClass, EventAbout, EventQueue, EventState, Ledger, QueueConsumer, RunMode, RunRecord,
};
use okta_connect_core::queue::{DeadLetterReason, EventAttributes, QueueMessage, RedriveMethod};
use okta_connect_core::time::UnixMillis;
use okta_connect_local::{LocalQueue, QueueSettings};
use okta_connect_sync::reconcile::Action;
use okta_connect_testkit::{MotoServer, fixtures};

const SECRET: &str = "operate-test-secret";
/// The uuid of the one event in `group_membership_add.json`.
const UUID: &str = "adf104eb-b6d3-430e-a7bf-9cce1df47eae";
const GOOD_ROUTING: &str = "87654321-69fb-43b6-a5e6-f8666ac189cb";
const UNKNOWN_ROUTING: &str = "00000000-dead-4bad-8bad-000000000000";

fn local(state: &Path) -> Target {
    Target {
        state: state.to_path_buf(),
        queue_url: None,
        dlq_url: None,
        ledger_table: None,
        aws_endpoint_url: None,
        config: ConfigArg { config: None },
        deployment: Default::default(),
    }
}

fn redrive_args(
    target: Target,
    dry_run: bool,
    reason: Option<&str>,
    max: Option<u64>,
) -> redrive::Args {
    redrive::Args {
        target,
        dry_run,
        reason: reason.map(String::from),
        max,
    }
}

async fn start(state: &Path, config_text: &str) -> Pipeline {
    crate::start_pipeline(state, config_text, SECRET).await
}

fn temp_state(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("okta-connect-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cli(args: &[&str]) -> (i32, serde_json::Value) {
    cli_with(args, &[])
}

/// Runs the binary with `args` and these environment variables; its exit code and JSON.
fn cli_with(args: &[&str], env: &[(&str, &str)]) -> (i32, serde_json::Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_okta-connect"))
        .args(args)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{args:?}: {e}: {text} {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lettered_event_is_shown_fixed_redriven_and_run_again() {
    let state = temp_state("operate-story");
    let target = local(&state);

    // A mapping whose routing profile Connect does not know: a config error, which the
    // worker dead-letters at once with its reason.
    let broken = fixtures::CONFIG_INI.replace(GOOD_ROUTING, UNKNOWN_ROUTING);
    assert_ne!(broken, fixtures::CONFIG_INI);
    let pipeline = start(&state, &broken).await;
    let response = reqwest::Client::new()
        .post(&pipeline.ingest_url)
        .header("authorization", SECRET)
        .header("content-type", "application/json")
        .body(fixtures::GROUP_MEMBERSHIP_ADD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut waited = Duration::ZERO;
    while pipeline.dead_letter_messages().await.unwrap().is_empty() {
        assert!(waited < Duration::from_secs(60), "never dead-lettered");
        tokio::time::sleep(Duration::from_millis(200)).await;
        waited += Duration::from_millis(200);
    }
    pipeline.shutdown().await.unwrap();

    // dlq: the worker's reason, the event's uuid, type and Okta user.
    let listed = dlq::list(&target, 100).await.unwrap();
    assert_eq!(listed.total, 1);
    let letter = &listed.letters[0];
    assert_eq!(letter.uuid.as_deref(), Some(UUID));
    assert_eq!(
        letter.event_type.as_deref(),
        Some("group.user_membership.add")
    );
    assert_eq!(letter.okta_user_id.as_deref(), Some("00uU4xlCTasJ0izQ7pGX"));
    assert_eq!(letter.login.as_deref(), Some("jane.doe@acme.example"));
    assert_eq!(letter.dead_lettered_by, dlq::DeadLetteredBy::Worker);
    assert_eq!(letter.failure_class, Some(ErrorClass::Permanent));
    assert!(!letter.reason.is_empty());
    let text = output::render(&listed);
    for word in [
        UUID,
        "jane.doe@acme.example",
        "worker",
        letter.reason.as_str(),
    ] {
        assert!(text.contains(word), "{word} missing in\n{text}");
    }

    // event: the failed record, its first attempt, and the dead letter's raw JSON.
    let shown = event::inspect(&target, UUID).await.unwrap();
    let record = shown.record.as_ref().unwrap();
    assert_eq!(record.state, EventState::Failed);
    assert_eq!(record.attempts, 1);
    assert!(matches!(&record.outcome, Some(Outcome::Failed(f)) if f.reason == letter.reason));
    assert_eq!(shown.dead_letters.len(), 1);
    let text = output::render(&shown);
    assert!(
        text.contains("failed")
            && text.contains("\"eventType\"")
            && text.contains("jane.doe@acme.example (00uU4xlCTasJ0izQ7pGX)")
            && text.contains("group.user_membership.add"),
        "{text}"
    );

    // status: the dead letter and its reason; the failed event in the last 24 hours.
    let health = status::read(&target, UnixMillis::now()).await.unwrap();
    assert!(health.needs_attention());
    let queue = health.queue.as_ref().unwrap();
    assert_eq!((queue.counts.visible, queue.counts.dead_lettered), (0, 1));
    assert!(
        queue.oldest_known && queue.oldest_sent_at.is_none(),
        "nothing waits"
    );
    assert!(queue.oldest_dead_letter_at.is_some());
    let outcomes = health.outcomes.as_ref().unwrap();
    assert_eq!(
        outcomes.get(&status::Tally::Failed),
        Some(&1),
        "{outcomes:?}"
    );
    assert_eq!(
        health.failures,
        [status::FailureGroup {
            reason: letter.reason.clone(),
            failed_events: 1,
            dead_letters: 1,
        }]
    );
    assert!(output::render(&health).contains(&letter.reason));

    // events --failed --user LOGIN: the one event, by its login in another case.
    let an_hour_ago = UnixMillis::now().minus(Duration::from_secs(3600));
    let failed = events::list(
        &target,
        an_hour_ago,
        Some("JANE.DOE@acme.example".into()),
        true,
        10,
    )
    .await
    .unwrap();
    assert_eq!(failed.events.len(), 1);
    assert_eq!(failed.events[0].record.uuid, UUID);
    assert!(failed.events[0].summary.contains(&letter.reason));

    // user: the recorded membership implies a user under the unknown routing profile,
    // and none exists in Connect yet: the next converge would create it.
    std::fs::write(state.join("broken.ini"), &broken).unwrap();
    std::fs::write(state.join("fixed.ini"), fixtures::CONFIG_INI).unwrap();
    let with_config = |file: &str| Target {
        config: ConfigArg {
            config: Some(state.join(file)),
        },
        ..local(&state)
    };
    let jane = user::inspect(
        &user::Args {
            user: "jane.doe@acme.example".into(),
            target: with_config("broken.ini"),
            events: 10,
            connect_endpoint_url: None,
        },
        UnixMillis::now(),
    )
    .await
    .unwrap();
    assert_eq!(jane.okta_user_id.as_deref(), Some("00uU4xlCTasJ0izQ7pGX"));
    assert!(
        jane.facts
            .iter()
            .any(|f| f.says.starts_with("member of group")),
        "{:?}",
        jane.facts.iter().map(|f| &f.says).collect::<Vec<_>>()
    );
    let Some(Desired::Present(want)) = &jane.desired else {
        panic!("not present: {:?}", jane.desired)
    };
    assert_eq!(want.routing_profile_id.to_string(), UNKNOWN_ROUTING);
    assert!(jane.connect.is_empty());
    assert_eq!(jane.plan.as_ref().unwrap().action, Action::Create);
    assert_eq!(jane.events.len(), 1);
    let text = output::render(&jane);
    for words in ["create the Connect user", UNKNOWN_ROUTING, UUID] {
        assert!(text.contains(words), "{words} missing in\n{text}");
    }

    // A reason nothing has moves nothing; the right one would move it, to run again.
    let none = redrive::redrive(&redrive_args(
        local(&state),
        true,
        Some("no such reason"),
        None,
    ))
    .await
    .unwrap();
    assert_eq!(none.moved, 0);
    let part: String = letter.reason.chars().take(24).collect();
    let dry = redrive::redrive(&redrive_args(
        local(&state),
        true,
        Some(&part.to_uppercase()),
        None,
    ))
    .await
    .unwrap();
    assert_eq!((dry.moved, dry.method, dry.left), (1, None, 1));
    assert_eq!(dry.messages[0].runs_again, Some(true));
    assert!(
        dry.messages[0].next.contains("attempt 2"),
        "{}",
        dry.messages[0].next
    );

    // The config is fixed; the selective relay moves it back and the pipeline runs it.
    let moved = redrive::redrive(&redrive_args(local(&state), false, Some(&part), None))
        .await
        .unwrap();
    assert_eq!(
        (moved.moved, moved.method, moved.left),
        (1, Some(RedriveMethod::Relay), 0)
    );
    assert_eq!(moved.messages[0].letter.uuid.as_deref(), Some(UUID));
    let pipeline = start(&state, fixtures::CONFIG_INI).await;
    assert!(pipeline.drain(Duration::from_secs(60)).await.unwrap());
    let users = pipeline.sim.as_ref().unwrap().sim().users();
    assert!(
        users
            .iter()
            .any(|u| u.user.username == "jane.doe@acme.example"),
        "the user exists after the redrive"
    );
    pipeline.shutdown().await.unwrap();

    // event, through the binary: completed on its second attempt, not dead-lettered.
    let dir = state.to_str().unwrap();
    let (code, json) = cli(&["--json", "event", UUID, "--state", dir]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["record"]["state"], "COMPLETED");
    assert_eq!(json["record"]["attempts"], 2);
    assert_eq!(json["record"]["outcome"]["outcome"], "converged");
    assert_eq!(
        json["fact"]["says"], "member of group amazon_connect (00g1c0nn3ctAgents0d7)",
        "{json}"
    );
    assert!(
        json["record"]["outcome"]["connect_user_id"].is_string(),
        "{json}"
    );
    assert_eq!(json["dead_letters"].as_array().unwrap().len(), 0);
    let (code, json) = cli(&["--json", "dlq", "--state", dir]);
    assert_eq!((code, &json["total"]), (0, &serde_json::json!(0)));

    // status and user, through the binary: healthy, one user created, in step.
    let (code, json) = cli(&["--json", "status", "--state", dir]);
    assert_eq!(code, 0, "healthy after the redrive: {json}");
    assert_eq!(json["queue"]["dead_lettered"], 0);
    assert_eq!(json["outcomes"]["created"], 1, "{json}");
    assert_eq!(json["failures"].as_array().unwrap().len(), 0);
    let fixed = state.join("fixed.ini");
    let (code, json) = cli(&[
        "--json",
        "user",
        "00uU4xlCTasJ0izQ7pGX",
        "--state",
        dir,
        "--config",
        fixed.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["plan"]["action"]["action"], "unchanged", "{json}");
    assert_eq!(json["connect"].as_array().unwrap().len(), 1);
    assert_eq!(json["connect"][0]["username"], "jane.doe@acme.example");
    assert_eq!(json["events"][0]["uuid"], UUID);
    assert_eq!(json["events"][0]["attempts"], 2);
    let (code, json) = cli(&["--json", "user", "nobody@acme.example", "--state", dir]);
    assert_eq!(code, 1, "an unknown user exits 1: {json}");
    let (code, json) = cli(&["--json", "event", "no-such-uuid", "--state", dir]);
    assert_eq!(code, 1, "unknown events exit 1: {json}");
    let _ = std::fs::remove_dir_all(&state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_moved_by_the_queue_are_shown_and_redriven_a_few_at_a_time() {
    let state = temp_state("operate-local");
    std::fs::create_dir_all(&state).unwrap();
    let settings = QueueSettings {
        visibility_timeout: Duration::from_secs(30),
        max_receive_count: 2,
    };
    let queue =
        LocalQueue::open(&state.join(STATE_DB), QUEUE, settings, DEAD_LETTER_QUEUE).unwrap();
    let batch: Vec<QueueMessage> = (0..3)
        .map(|i| QueueMessage {
            entry_id: i.to_string(),
            body: format!(r#"{{"uuid":"e{i}","published":"2026-11-20T09:15:02.123Z","eventType":"user.lifecycle.suspend","target":null}}"#),
            attributes: EventAttributes {
                uuid: format!("e{i}"),
                event_type: "user.lifecycle.suspend".into(),
                published: "2026-11-20T09:15:02.123Z".into(),
                ..EventAttributes::default()
            }
            .to_attributes(),
        })
        .collect();
    queue.send_batch(&batch).await.unwrap();
    // Received twice and never settled: the third receive moves them, as SQS would.
    let now = UnixMillis::now();
    for round in 0..3_u64 {
        queue
            .source()
            .receive(10, now.plus(Duration::from_secs(31 * round)))
            .unwrap();
    }

    let listed = dlq::list(&local(&state), 100).await.unwrap();
    assert_eq!(listed.total, 3);
    for letter in &listed.letters {
        assert_eq!(letter.dead_lettered_by, dlq::DeadLetteredBy::Sqs);
        assert_eq!(letter.failure_class, None);
        assert!(
            letter.reason.contains("moved by SQS after 2 receives"),
            "{}",
            letter.reason
        );
    }

    let dry = redrive::redrive(&redrive_args(local(&state), true, None, Some(2)))
        .await
        .unwrap();
    assert_eq!((dry.moved, dry.left), (2, 3));
    let moved = redrive::redrive(&redrive_args(local(&state), false, None, Some(2)))
        .await
        .unwrap();
    assert_eq!(
        (moved.moved, moved.method, moved.left),
        (2, Some(RedriveMethod::Transaction), 1)
    );
    let uuids: Vec<_> = moved
        .messages
        .iter()
        .map(|m| m.letter.uuid.clone().unwrap())
        .collect();
    assert_eq!(uuids, ["e0", "e1"], "the oldest first");
    assert!(moved.messages.iter().all(|m| m.runs_again == Some(true)));
    assert_eq!(queue.counts().await.unwrap().visible, 2);

    // The binary: the rest, all at once.
    let (code, json) = cli(&["--json", "redrive", "--state", state.to_str().unwrap()]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["moved"], 1);
    assert_eq!(json["method"], "transaction");
    assert_eq!(json["left"], 0);

    // A folder without a pipeline is an error, not an empty queue.
    let missing = dlq::list(&local(&state.join("nothing-here")), 10).await;
    assert!(
        missing
            .unwrap_err()
            .to_string()
            .contains("okta-connect dev")
    );
    let _ = std::fs::remove_dir_all(&state);
}

async fn create_queue(consumer: &SqsConsumer, name: &str, attributes: &[(&str, String)]) -> String {
    let mut request = consumer.client().create_queue().queue_name(name);
    for (key, value) in attributes {
        request = request.attributes((*key).into(), value.clone());
    }
    request
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployed_queues_and_ledger_on_moto() {
    let moto = MotoServer::start();
    let aws = sdk::load(&AwsSettings::emulator(moto.url())).await;
    let bootstrap = SqsConsumer::from_config(&aws, "", "");
    let dlq_url = create_queue(&bootstrap, "operate-dlq", &[]).await;
    let arn = bootstrap
        .client()
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names("QueueArn".into())
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_str() == "QueueArn")
        .map(|(_, v)| v.clone())
        .unwrap();
    let queue_url = create_queue(
        &bootstrap,
        "operate",
        &[(
            "RedrivePolicy",
            format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"5"}}"#),
        )],
    )
    .await;
    let ledger = DynamoLedger::from_config(&aws, "operate-ledger");
    create_table(ledger.client(), "operate-ledger")
        .await
        .unwrap();

    // What the worker leaves: a failed record and a dead letter with its reason; and
    // one event ingest could not use.
    let now = UnixMillis::now();
    let about = EventAbout {
        event_type: "user.lifecycle.suspend".into(),
        okta_user_id: Some("00u1".into()),
        login: Some("a@b.example".into()),
        published: UnixMillis::parse_rfc3339("2026-11-20T09:15:02.123Z"),
    };
    ledger
        .claim_event("w1", &about, now, Duration::from_secs(60))
        .await
        .unwrap();
    let failure = Failure {
        class: ErrorClass::Permanent,
        reason: "Connect rejected the routing profile".into(),
    };
    ledger
        .fail_event("w1", &failure, now, Duration::from_secs(3600))
        .await
        .unwrap();
    let mut worker = QueueMessage {
        entry_id: "0".into(),
        body: r#"{"uuid":"w1","published":"2026-11-20T09:15:02.123Z","eventType":"user.lifecycle.suspend","target":[{"id":"00u1","type":"User","alternateId":"a@b.example"}]}"#.into(),
        attributes: EventAttributes {
            uuid: "w1".into(),
            event_type: "user.lifecycle.suspend".into(),
            published: "2026-11-20T09:15:02.123Z".into(),
            okta_user_id: Some("00u1".into()),
            delivery_id: None,
        }
        .to_attributes(),
    };
    DeadLetterReason {
        reason: failure.reason.clone(),
        class: ErrorClass::Permanent,
        failed_at: now,
        source_message_id: "m-1".into(),
    }
    .write_into(&mut worker.attributes);
    let mut unusable = QueueMessage {
        entry_id: "1".into(),
        body: r#"{"uuid":"i1","eventType":42}"#.into(),
        attributes: EventAttributes {
            uuid: "i1".into(),
            ..EventAttributes::default()
        }
        .to_attributes(),
    };
    DeadLetterReason {
        reason: "eventType is not a string".into(),
        class: ErrorClass::Permanent,
        failed_at: now,
        source_message_id: String::new(),
    }
    .write_into(&mut unusable.attributes);
    let rejected = SqsQueue::from_config(&aws, dlq_url.clone())
        .send_batch(&[worker, unusable])
        .await
        .unwrap();
    assert!(rejected.is_empty());

    let deployed = || Target {
        state: PathBuf::from("/nonexistent"),
        queue_url: Some(queue_url.clone()),
        dlq_url: Some(dlq_url.clone()),
        ledger_table: Some("operate-ledger".into()),
        aws_endpoint_url: Some(moto.url()),
        config: ConfigArg { config: None },
        deployment: Default::default(),
    };

    let listed = dlq::list(&deployed(), 100).await.unwrap();
    assert_eq!(listed.total, 2);
    let by: Vec<_> = {
        let mut by: Vec<_> = listed
            .letters
            .iter()
            .map(|l| (l.uuid.clone().unwrap(), l.dead_lettered_by))
            .collect();
        by.sort_by(|a, b| a.0.cmp(&b.0));
        by
    };
    assert_eq!(
        by,
        [
            ("i1".to_string(), dlq::DeadLetteredBy::Ingest),
            ("w1".to_string(), dlq::DeadLetteredBy::Worker)
        ]
    );
    let w1 = listed
        .letters
        .iter()
        .find(|l| l.uuid.as_deref() == Some("w1"))
        .unwrap();
    assert_eq!(w1.login.as_deref(), Some("a@b.example"));

    let shown = event::inspect(&deployed(), "w1").await.unwrap();
    assert_eq!(shown.record.as_ref().unwrap().state, EventState::Failed);
    assert_eq!(shown.dead_letters.len(), 1);
    assert!(shown.dead_letters_read && shown.ledger_read);

    // status: both dead letters, the failed event, failures grouped by reason, and the
    // last reconcile run the ledger keeps.
    let run = RunRecord {
        run_id: "run-1".into(),
        mode: RunMode::Queued,
        started_at: now,
        finished_at: now.plus(Duration::from_secs(42)),
        users: 120,
        changes: 3,
        revocations: 1,
        conflicts: 0,
        queued: 3,
        stopped_at_cap: None,
        error: None,
    };
    ledger
        .record_run(&run, Duration::from_secs(3600))
        .await
        .unwrap();
    // SQS tells the age of its oldest message only as a CloudWatch metric: none yet …
    let later = now.plus(Duration::from_secs(60));
    let health = status::read(&deployed(), later).await.unwrap();
    let queue = health.queue.as_ref().unwrap();
    assert!(!queue.oldest_known && queue.oldest_sent_at.is_none());
    assert_eq!(queue.oldest_source, status::OldestSource::Cloudwatch);
    assert_eq!(
        queue.oldest_unknown_reason.as_deref(),
        Some("no CloudWatch datapoint in the last 15 min")
    );
    // … then the datapoint SQS would publish for the queue, named by its URL.
    let published = now.minus(Duration::from_secs(30));
    okta_connect_testkit::cloudwatch::put_queue_age(
        &aws,
        "operate",
        published,
        Duration::from_secs(600),
    )
    .await;
    let health = status::read(&deployed(), later).await.unwrap();
    assert!(health.needs_attention());
    let queue = health.queue.as_ref().unwrap();
    assert_eq!(queue.counts.dead_lettered, 2);
    let minute = UnixMillis(published.0 - published.0.rem_euclid(60_000));
    assert!(queue.oldest_known, "{:?}", queue.oldest_unknown_reason);
    assert_eq!(queue.oldest_source, status::OldestSource::Cloudwatch);
    assert_eq!(queue.oldest_as_of, Some(minute));
    assert_eq!(
        queue.oldest_sent_at,
        Some(minute.minus(Duration::from_secs(600)))
    );
    assert_eq!(queue.oldest_dead_letter_at, Some(now));
    let outcomes = health.outcomes.as_ref().unwrap();
    assert_eq!(
        outcomes.get(&status::Tally::Failed),
        Some(&1),
        "{outcomes:?}"
    );
    assert_eq!(
        health.failures,
        [
            status::FailureGroup {
                reason: failure.reason.clone(),
                failed_events: 1,
                dead_letters: 1,
            },
            status::FailureGroup {
                reason: "eventType is not a string".into(),
                failed_events: 0,
                dead_letters: 1,
            },
        ]
    );
    assert_eq!(health.last_reconcile.as_ref(), Some(&run));
    let text = output::render(&health);
    for words in [
        "Needs attention",
        &format!(
            "old (sent {}; CloudWatch, as of {minute})",
            minute.minus(Duration::from_secs(600))
        ),
        "run-1",
        "queued for the worker",
    ] {
        assert!(text.contains(words), "{words} missing in\n{text}");
    }
    assert!(!text.contains("unknown"), "{text}");

    // events: the failed one, found by the login in another case.
    let listed = events::list(
        &deployed(),
        now.minus(Duration::from_secs(3600)),
        Some("A@B.example".into()),
        true,
        10,
    )
    .await
    .unwrap();
    assert_eq!(listed.events.len(), 1);
    assert_eq!(listed.events[0].record.uuid, "w1");
    assert!(listed.events[0].summary.contains("routing profile"));

    // user, on the deployed ledger with a Connect (a simulator standing in for the
    // instance): found by its login through its event; no facts, so unmanaged.
    let connect = connect_sim::Sim::builder()
        .no_throttle()
        .build()
        .unwrap()
        .serve(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let shown = user::inspect(
        &user::Args {
            user: "A@B.example".into(),
            target: deployed(),
            events: 10,
            connect_endpoint_url: Some(connect.url()),
        },
        now.plus(Duration::from_secs(60)),
    )
    .await
    .unwrap();
    assert_eq!(shown.okta_user_id.as_deref(), Some("00u1"));
    assert!(shown.facts.is_empty());
    assert_eq!(shown.desired, Some(Desired::Unmanaged));
    assert_eq!(shown.plan.as_ref().unwrap().action, Action::Unchanged);
    assert_eq!(shown.events.len(), 1);
    assert!(shown.connect_read.contains(&connect.url()));
    connect.shutdown().await.unwrap();

    // The same status found through the stack's CloudFormation outputs, by the binary.
    let template = serde_json::json!({
        "Resources": {
            "Marker": { "Type": "AWS::SQS::Queue", "Properties": { "QueueName": "operate-marker" } }
        },
        "Outputs": {
            "QueueUrl": { "Value": queue_url },
            "DeadLetterQueueUrl": { "Value": dlq_url },
            "LedgerTableName": { "Value": "operate-ledger" }
        }
    });
    okta_connect_aws::cloudformation::StackOutputs::from_config(&aws)
        .client()
        .create_stack()
        .stack_name("OperateStack")
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    let (code, json) = cli_with(
        &["--json", "status", "--stack", "OperateStack"],
        &[("OKTA_CONNECT_AWS_ENDPOINT_URL", moto.url().as_str())],
    );
    assert_eq!(code, 1, "dead letters need attention: {json}");
    assert_eq!(json["queue"]["dead_lettered"], 2);
    assert_eq!(json["queue"]["queue"], queue_url.as_str());
    // The binary reads the age at its own clock: the datapoint is minutes old at most.
    assert_eq!(json["queue"]["oldest_known"], true, "{json}");
    assert_eq!(json["queue"]["oldest_source"], "cloudwatch");
    assert_eq!(json["queue"]["oldest_as_of"], minute.0);
    assert_eq!(json["outcomes"]["failed"], 1);
    assert_eq!(json["last_reconcile"]["run_id"], "run-1");
    let (code, json) = cli_with(
        &[
            "--json",
            "events",
            "--stack",
            "OperateStack",
            "--failed",
            "--since",
            "1h",
        ],
        &[("OKTA_CONNECT_AWS_ENDPOINT_URL", moto.url().as_str())],
    );
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["events"][0]["uuid"], "w1");

    // Only the ledger named: the dead-letter queue is not read, and says so.
    let ledger_only = Target {
        queue_url: None,
        dlq_url: None,
        ..deployed()
    };
    let shown = event::inspect(&ledger_only, "w1").await.unwrap();
    assert!(!shown.dead_letters_read);
    assert!(output::render(&shown).contains("--dlq-url"));

    // The selective relay moves only the routing-profile failure.
    let moved = redrive::redrive(&redrive_args(
        deployed(),
        false,
        Some("routing profile"),
        None,
    ))
    .await
    .unwrap();
    assert_eq!((moved.moved, moved.method), (1, Some(RedriveMethod::Relay)));
    assert_eq!(moved.messages[0].letter.uuid.as_deref(), Some("w1"));
    assert_eq!(moved.messages[0].runs_again, Some(true));
    let source = SqsConsumer::from_config(&aws, queue_url.clone(), dlq_url.clone());
    let got = source.receive(10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].attributes["uuid"], "w1");
    source.acknowledge(&got[0].receipt).await.unwrap();

    // The rest, all at once: moto has no move task, so the port relays.
    let all = redrive::redrive(&redrive_args(deployed(), false, None, None))
        .await
        .unwrap();
    assert_eq!((all.moved, all.method), (1, Some(RedriveMethod::Relay)));
    assert_eq!(all.messages[0].letter.uuid.as_deref(), Some("i1"));
    assert_eq!(dlq::list(&deployed(), 100).await.unwrap().letters.len(), 0);

    // The binary reaches the same queues through the emulator flag.
    let (code, json) = cli(&[
        "--json",
        "dlq",
        "--queue-url",
        &queue_url,
        "--dlq-url",
        &dlq_url,
        "--aws-endpoint-url",
        &moto.url(),
    ]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["letters"].as_array().unwrap().len(), 0);
}
