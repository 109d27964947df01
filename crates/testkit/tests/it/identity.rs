//! The identity contract against [`MemoryIdentity`], then the fake's own behaviour that
//! flow tests rely on: recorded System Log events, removed users, scripted failures.

use okta_connect_core::config::SourceKind;
use okta_connect_core::identity::{LogEvent, LogQuery, OktaUserStatus, SourceId};
use okta_connect_core::ports::{IdentityError, IdentitySource};
use okta_connect_core::time::UnixMillis;
use okta_connect_testkit::contract::identity::{IdentityFixture, IdentitySeed};
use okta_connect_testkit::memory::{MemoryIdentity, SeededIds};

pub struct Fixture {
    org: MemoryIdentity,
    ids: SeededIds,
}

impl IdentityFixture for Fixture {
    type Source = MemoryIdentity;

    fn source(&self) -> &MemoryIdentity {
        &self.org
    }

    fn user_id(&self, login: &str) -> String {
        self.ids.users[login].clone()
    }

    fn group_id(&self, name: &str) -> String {
        self.ids.groups[name].clone()
    }

    fn app_id(&self, label: &str) -> String {
        self.ids.apps[label].clone()
    }
}

pub fn start(seed: IdentitySeed) -> Fixture {
    let (org, ids) = MemoryIdentity::from_seed(&seed);
    Fixture { org, ids }
}

okta_connect_testkit::identity_contract_tests!(memory, |seed| async move { start(seed) });

fn event(uuid: &str, published: &str, event_type: &str) -> LogEvent {
    LogEvent(format!(
        r#"{{"uuid":"{uuid}","published":"{published}","eventType":"{event_type}","target":[]}}"#
    ))
}

fn at(text: &str) -> UnixMillis {
    UnixMillis::parse_rfc3339(text).unwrap()
}

#[tokio::test]
async fn system_log_serves_recorded_events_in_window_by_type_in_order() {
    let org = MemoryIdentity::new();
    org.record_event(event(
        "3",
        "2026-01-01T10:00:03.000Z",
        "user.lifecycle.suspend",
    ));
    org.record_event(event(
        "1",
        "2026-01-01T10:00:01.000Z",
        "group.user_membership.add",
    ));
    org.record_event(event(
        "2",
        "2026-01-01T10:00:02.000Z",
        "group.user_membership.add",
    ));
    org.record_event(event(
        "4",
        "2026-01-01T10:00:04.000Z",
        "group.user_membership.add",
    ));
    org.record_event(LogEvent("not json".into()));
    let uuids = |events: Vec<LogEvent>| -> Vec<String> {
        events
            .iter()
            .map(|e| {
                okta_connect_core::okta::OktaEvent::parse(&e.0)
                    .unwrap()
                    .uuid
            })
            .collect()
    };
    let all = LogQuery {
        since: at("2026-01-01T10:00:00.000Z"),
        until: None,
        event_types: vec![],
    };
    assert_eq!(
        uuids(org.system_log(&all).await.unwrap()),
        ["1", "2", "3", "4"]
    );
    let window = LogQuery {
        since: at("2026-01-01T10:00:02.000Z"),
        until: Some(at("2026-01-01T10:00:04.000Z")),
        event_types: vec!["group.user_membership.add".into()],
    };
    assert_eq!(uuids(org.system_log(&window).await.unwrap()), ["2"]);
    // Events are served as recorded, byte for byte.
    let first = org.system_log(&all).await.unwrap().remove(0);
    assert_eq!(
        first,
        event("1", "2026-01-01T10:00:01.000Z", "group.user_membership.add")
    );
}

#[tokio::test]
async fn removed_users_are_gone_and_leave_member_lists() {
    let mut seed = IdentitySeed::default();
    let a = seed.user("alice", OktaUserStatus::Active);
    let b = seed.user("bob", OktaUserStatus::Active);
    seed.group("g", &[a.clone(), b.clone()]);
    let f = start(seed);
    let group = SourceId {
        kind: SourceKind::Group,
        id: f.group_id("g"),
    };
    f.org.remove_user(&f.user_id(&a));
    assert_eq!(f.org.user(&f.user_id(&a)).await.unwrap(), None);
    let members = f.org.members(&group).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].profile.login, b);

    assert!(f.org.set_members(&group, &[]));
    assert!(f.org.members(&group).await.unwrap().is_empty());
    let unknown = SourceId {
        kind: SourceKind::App,
        id: "0oanone".into(),
    };
    assert!(!f.org.set_members(&unknown, &[]));
}

#[tokio::test]
async fn scripted_failures_come_first_then_answers() {
    let org = MemoryIdentity::new();
    org.fail_next([
        IdentityError::RateLimited {
            retry_at: UnixMillis(5),
        },
        IdentityError::Unavailable("down".into()),
    ]);
    assert!(matches!(
        org.find_group("x").await,
        Err(IdentityError::RateLimited { .. })
    ));
    assert!(matches!(
        org.user("00u1").await,
        Err(IdentityError::Unavailable(_))
    ));
    assert_eq!(org.user("00u1").await.unwrap(), None);
    assert_eq!(org.calls(), 3);
}
