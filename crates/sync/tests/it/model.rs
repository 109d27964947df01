//! The model under real behaviour: races between workers, the invocation's deadline,
//! messages that do not parse, suspensions, and errors as Connect spells them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use okta_connect_core::desired::DesiredUser;
use okta_connect_core::outcome::StepKind;
use okta_connect_core::ownership::UserFilter;
use okta_connect_core::plan::{Change, ConnectUser};
use okta_connect_core::ports::{CreatedUser, DirectoryError, Ledger, UserDirectory};
use okta_connect_core::queue::{Delivery, Receipt, attribute};
use okta_connect_core::time::UnixMillis;
use okta_connect_sync::{Disposition, NoIdentitySource};
use okta_connect_testkit::fixtures;
use okta_connect_testkit::memory::MemoryDirectory;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::engine::{
    AGENT_ROUTING, INSTANCE, Rig, SUPERVISOR_ROUTING, config, far_deadline, message, messages_of,
    okta_event, sim_default,
};
use super::identity::engine;

const JANE: (&str, &str) = ("00uU4xlCTasJ0izQ7pGX", "jane.doe@acme.example");
const AGENTS: (&str, &str) = ("00g1c0nn3ctAgents0d7", "amazon_connect");
const NO_PERMISSION: &str = "e3b0c442-98fc-4c14-9afb-f4c8996fb924";

/// A directory that passes every call to `inner`, with the faults a test arms: every
/// call delayed; the first `describe` held until the test opens the gate (telling it
/// that it waits: a worker paused between reading facts and writing); updates naming an
/// id answered `NotFound` (as Connect may spell an unknown profile id); or the first
/// update deleting the user and answering `NotFound` (an admin deleted it behind the
/// worker's back).
struct Faulty<D> {
    inner: D,
    delay: Duration,
    gate_armed: AtomicBool,
    waiting: Notify,
    gate: Notify,
    unknown_id: Option<&'static str>,
    delete_on_update: AtomicBool,
}

impl<D> Faulty<D> {
    fn new(inner: D) -> Self {
        Self {
            inner,
            delay: Duration::ZERO,
            gate_armed: AtomicBool::new(false),
            waiting: Notify::new(),
            gate: Notify::new(),
            unknown_id: None,
            delete_on_update: AtomicBool::new(false),
        }
    }
}

impl<D: UserDirectory> UserDirectory for Faulty<D> {
    async fn find_by_username(&self, u: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        tokio::time::sleep(self.delay).await;
        self.inner.find_by_username(u).await
    }
    async fn describe(&self, id: &str) -> Result<Option<ConnectUser>, DirectoryError> {
        tokio::time::sleep(self.delay).await;
        if self.gate_armed.swap(false, Ordering::SeqCst) {
            self.waiting.notify_one();
            self.gate.notified().await;
        }
        self.inner.describe(id).await
    }
    async fn create(
        &self,
        user: &DesiredUser,
        tags: &BTreeMap<String, String>,
    ) -> Result<CreatedUser, DirectoryError> {
        tokio::time::sleep(self.delay).await;
        self.inner.create(user, tags).await
    }
    async fn update(&self, id: &str, change: &Change) -> Result<(), DirectoryError> {
        tokio::time::sleep(self.delay).await;
        if let Some(unknown) = self.unknown_id
            && format!("{change:?}").contains(unknown)
        {
            return Err(DirectoryError::NotFound(format!(
                "Resource not found: {unknown}"
            )));
        }
        if self.delete_on_update.swap(false, Ordering::SeqCst) {
            self.inner.delete(id).await?;
            return Err(DirectoryError::NotFound(format!("user {id}")));
        }
        self.inner.update(id, change).await
    }
    async fn delete(&self, id: &str) -> Result<(), DirectoryError> {
        tokio::time::sleep(self.delay).await;
        self.inner.delete(id).await
    }
    async fn search(&self, filter: &UserFilter) -> Result<Vec<ConnectUser>, DirectoryError> {
        tokio::time::sleep(self.delay).await;
        self.inner.search(filter).await
    }
}

/// One group event about Jane, at `at_ms`.
fn jane_in_agents(uuid: &str, at_ms: i64, member: bool) -> Delivery {
    let kind = if member {
        "group.user_membership.add"
    } else {
        "group.user_membership.remove"
    };
    message(
        &okta_event(uuid, at_ms, kind, JANE, Some(AGENTS)),
        &format!("m-{uuid}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_add_converging_while_a_newer_removal_lands_ends_removed() {
    let rig = Rig::start(sim_default()).await;
    let t = UnixMillis::now().0 - 60_000;
    // Jane is an agent, then an admin moves her Connect user by hand (drift).
    let first = rig.worker(config()).await;
    let report = first
        .process(&jane_in_agents("e-0", t, true), far_deadline())
        .await;
    assert_eq!(report.disposition, Disposition::Done, "{report:?}");
    let id = rig.users()[JANE.1].id.clone();
    let aws =
        okta_connect_aws::sdk::load(&okta_connect_aws::sdk::AwsSettings::emulator(rig.sim.url()))
            .await;
    aws_sdk_connect::Client::new(&aws)
        .update_user_routing_profile()
        .instance_id(INSTANCE)
        .user_id(&id)
        .routing_profile_id(SUPERVISOR_ROUTING)
        .send()
        .await
        .unwrap();

    // Worker A converges an older re-add (which would repair the routing profile) and
    // pauses after reading Jane's facts, before any write.
    let gated = Faulty::new(rig.directory().await);
    gated.gate_armed.store(true, Ordering::SeqCst);
    let a = Arc::new(rig.worker_with(config(), gated).await);
    let older_add = jane_in_agents("e-1", t + 1_000, true);
    let running = {
        let a = Arc::clone(&a);
        tokio::spawn(async move { a.process(&older_add, far_deadline()).await })
    };
    a.directory.waiting.notified().await;

    // Worker B records the newer removal; A holds Jane's lease, so B hands it back.
    let b = rig.worker(config()).await;
    let newer_removal = jane_in_agents("e-2", t + 2_000, false);
    let b_first = b
        .process(
            &newer_removal,
            Instant::now() + Duration::from_millis(1_500),
        )
        .await;
    assert_eq!(b_first.disposition, Disposition::Retry, "{b_first:?}");

    // A resumes: its plan is stale before the first write, so it plans again from the
    // newest facts and removes Jane instead of repairing her.
    a.directory.gate.notify_one();
    let a_report = running.await.unwrap();
    let converged = a_report.converged().expect("A converged");
    assert_eq!(converged.steps, [StepKind::Delete], "{a_report:?}");
    assert!(rig.users().is_empty(), "{:?}", rig.users());

    // B's redelivery finds nothing left to do.
    let b_again = b.process(&newer_removal, far_deadline()).await;
    assert_eq!(b_again.disposition, Disposition::Done, "{b_again:?}");
    assert_eq!(b_again.converged().map(|c| c.steps.len()), Some(0));
}

#[tokio::test]
async fn a_message_that_does_not_parse_is_dead_lettered_without_touching_the_ledger() {
    let worker = engine(config(), None::<NoIdentitySource>);
    let real = messages_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    let uuid = real.attributes[attribute::UUID].clone();
    // Garbage under the attributes of a real event.
    let garbage = Delivery {
        message_id: "m-garbage".into(),
        receipt: Receipt("r-garbage".into()),
        body: "{\"not\": \"an event\"".into(),
        attributes: real.attributes.clone(),
        receive_count: 1,
    };
    let report = worker.process(&garbage, far_deadline()).await;
    assert_eq!(report.disposition, Disposition::DeadLettered, "{report:?}");
    let reason = report.reason().unwrap_or_default().to_string();
    assert!(reason.contains("neither an Okta event"), "{reason}");
    assert_eq!(worker.ledger.event_record(&uuid).await.unwrap(), None);
    let dead = worker.dead_letters.accepted();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, garbage.body);
    assert!(dead[0].attributes[attribute::FAILURE_REASON].contains("neither an Okta event"));

    // The real event with that uuid is processed as if the garbage never came.
    let report = worker.process(&real, far_deadline()).await;
    assert!(report.converged().is_some(), "{report:?}");
    assert_eq!(worker.directory.users().len(), 1);
}

#[tokio::test]
async fn a_converge_that_would_outlive_the_invocation_is_handed_back_in_time() {
    let mut worker = okta_connect_sync::Engine::new(
        config(),
        okta_connect_testkit::memory::MemoryLedger::new(),
        Faulty {
            delay: Duration::from_secs(30),
            ..Faulty::new(MemoryDirectory::new())
        },
        okta_connect_testkit::memory::MemoryQueue::new(),
        None::<NoIdentitySource>,
    );
    worker.settings.safety_margin = Duration::from_millis(200);
    let message = messages_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    let uuid = message.attributes[attribute::UUID].clone();
    // A 30 s Connect call in a 1 s invocation: the call is abandoned before the
    // deadline, the message handed back, and the claim released for the redelivery.
    let deadline = Instant::now() + Duration::from_secs(1);
    let report = worker.process(&message, deadline).await;
    assert_eq!(report.disposition, Disposition::Retry, "{report:?}");
    assert!(Instant::now() < deadline, "answered before the deadline");
    assert!(
        report.reason().unwrap_or_default().contains("deadline"),
        "{report:?}"
    );
    let claim = worker
        .ledger
        .claim_event(
            &uuid,
            &Default::default(),
            UnixMillis::now(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(
        matches!(claim, okta_connect_core::ports::Claim::Claimed { .. }),
        "the redelivery can claim at once: {claim:?}"
    );
}

#[tokio::test]
async fn the_user_lease_is_renewed_through_a_converge_longer_than_the_lease() {
    let mut worker = okta_connect_sync::Engine::new(
        config(),
        okta_connect_testkit::memory::MemoryLedger::new(),
        Faulty {
            delay: Duration::from_millis(500),
            ..Faulty::new(MemoryDirectory::new())
        },
        okta_connect_testkit::memory::MemoryQueue::new(),
        None::<NoIdentitySource>,
    );
    worker.settings.user_lease = Duration::from_secs(1);
    let worker = Arc::new(worker);
    // A Connect user of Jane's, drifted in four ways: four 500 ms updates plus reads.
    let drifted = ConnectUser {
        id: String::new(),
        arn: None,
        username: JANE.1.into(),
        identity: okta_connect_core::desired::IdentityInfo {
            first_name: "Old".into(),
            last_name: "Name".into(),
            email: None,
        },
        routing_profile_id: SUPERVISOR_ROUTING.into(),
        security_profile_ids: vec![NO_PERMISSION.into()],
        hierarchy_group_id: None,
        tags: BTreeMap::new(),
    };
    worker.directory.inner.insert(drifted);
    let add = messages_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    let running = {
        let worker = Arc::clone(&worker);
        tokio::spawn(async move { worker.process(&add, far_deadline()).await })
    };
    // Well past the first lease's end, the converge still holds Jane's lease.
    tokio::time::sleep(Duration::from_millis(1_800)).await;
    assert!(
        !running.is_finished(),
        "the converge is meant to outlast its first lease"
    );
    let taken = worker
        .ledger
        .lease_user(
            JANE.0,
            "someone-else",
            UnixMillis::now(),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    assert!(!taken, "the lease was renewed while converging");
    let report = running.await.unwrap();
    let steps = &report.converged().expect("converged").steps;
    assert!(steps.len() >= 3, "{report:?}");
}

#[tokio::test]
async fn suspend_and_unsuspend_keep_the_same_connect_user() {
    let worker = engine(config(), None::<NoIdentitySource>);
    for delivery in [
        fixtures::GROUP_MEMBERSHIP_ADD,
        fixtures::USER_LIFECYCLE_SUSPEND,
    ] {
        let report = worker
            .process(&messages_of(delivery).remove(0), far_deadline())
            .await;
        assert_eq!(report.disposition, Disposition::Done, "{report:?}");
    }
    let users = worker.directory.users();
    assert_eq!(users.len(), 1, "suspended, not deleted");
    let id = users[0].id.clone();
    assert_eq!(users[0].security_profile_ids, [NO_PERMISSION]);

    let report = worker
        .process(
            &messages_of(fixtures::USER_LIFECYCLE_UNSUSPEND).remove(0),
            far_deadline(),
        )
        .await;
    let steps = &report.converged().expect("converged").steps;
    assert_eq!(steps, &[StepKind::UpdateSecurityProfiles], "{report:?}");
    let users = worker.directory.users();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].id, id, "the same Connect user, restored");
    assert_eq!(users[0].security_profile_ids.len(), 3);
    assert_eq!(users[0].routing_profile_id, AGENT_ROUTING);
}

#[tokio::test]
async fn an_unknown_profile_id_on_an_update_is_permanent_however_connect_spells_it() {
    let mut worker = okta_connect_sync::Engine::new(
        config(),
        okta_connect_testkit::memory::MemoryLedger::new(),
        Faulty {
            unknown_id: Some(NO_PERMISSION),
            ..Faulty::new(MemoryDirectory::new())
        },
        okta_connect_testkit::memory::MemoryQueue::new(),
        None::<NoIdentitySource>,
    );
    worker.settings.first_backoff = Duration::from_millis(5);
    let add = messages_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    assert!(
        worker
            .process(&add, far_deadline())
            .await
            .converged()
            .is_some()
    );
    // Suspension parks Jane on the no-permission profile, which this "Connect" lacks:
    // dead-lettered at once with a reason that points at config.ini, not retried.
    let suspend = messages_of(fixtures::USER_LIFECYCLE_SUSPEND).remove(0);
    let report = worker.process(&suspend, far_deadline()).await;
    assert_eq!(report.disposition, Disposition::DeadLettered, "{report:?}");
    let reason = report.reason().unwrap_or_default();
    assert!(reason.contains("config.ini"), "{reason}");
    assert!(
        report.outcome.to_string().contains("permanent"),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_user_deleted_while_converging_is_converged_again() {
    let mut worker = okta_connect_sync::Engine::new(
        config(),
        okta_connect_testkit::memory::MemoryLedger::new(),
        Faulty::new(MemoryDirectory::new()),
        okta_connect_testkit::memory::MemoryQueue::new(),
        None::<NoIdentitySource>,
    );
    worker.settings.first_backoff = Duration::from_millis(5);
    let add = messages_of(fixtures::GROUP_MEMBERSHIP_ADD).remove(0);
    assert!(
        worker
            .process(&add, far_deadline())
            .await
            .converged()
            .is_some()
    );
    let first = worker.directory.inner.users()[0].id.clone();
    // The suspension's update meets a user that is gone: not a config error, so the
    // worker re-reads and converges again (nothing to park: the user is gone).
    worker
        .directory
        .delete_on_update
        .store(true, Ordering::SeqCst);
    let suspend = messages_of(fixtures::USER_LIFECYCLE_SUSPEND).remove(0);
    let report = worker.process(&suspend, far_deadline()).await;
    assert_eq!(report.disposition, Disposition::Done, "{report:?}");
    assert!(worker.directory.inner.users().is_empty());
    assert!(
        worker
            .ledger
            .user_record(JANE.0)
            .await
            .unwrap()
            .connect_user_id
            != Some(first)
    );
}

#[tokio::test]
async fn a_user_deleted_in_okta_is_revoked_then_forgotten_for_good() {
    let worker = engine(config(), None::<NoIdentitySource>);
    let t = UnixMillis::now().0 - 60_000;
    let add = jane_in_agents("d-1", t, true);
    assert!(
        worker
            .process(&add, far_deadline())
            .await
            .converged()
            .is_some()
    );
    assert_eq!(worker.directory.users().len(), 1);

    let delete = message(
        &okta_event(
            "d-2",
            t + 2_000,
            "user.lifecycle.delete.initiated",
            JANE,
            None,
        ),
        "m-d-2",
    );
    let report = worker.process(&delete, far_deadline()).await;
    assert_eq!(
        report.converged().map(|c| c.steps.clone()),
        Some(vec![StepKind::Delete]),
        "{report:?}"
    );
    assert!(worker.directory.users().is_empty());
    let record = worker.ledger.user_record(JANE.0).await.unwrap();
    assert_eq!(record.connect_user_id, None);
    assert_eq!(
        record.facts.facts.len(),
        1,
        "only the tombstone: {record:?}"
    );
    let tombstone = record.facts.facts.values().next().unwrap();
    assert_eq!(tombstone.subject, Default::default(), "no login, no name");

    // A delivery older than the deletion, arriving late: no user, no personal data kept.
    let late = jane_in_agents("d-0", t + 1_000, true);
    let report = worker.process(&late, far_deadline()).await;
    assert_eq!(report.disposition, Disposition::Done, "{report:?}");
    assert!(worker.directory.users().is_empty());
    let record = worker.ledger.user_record(JANE.0).await.unwrap();
    assert_eq!(record.facts.facts.len(), 1, "forgotten again: {record:?}");
}
