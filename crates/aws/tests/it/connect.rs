//! The directory contract against `ConnectDirectory` on connect-sim (in process, through
//! the real `aws-sdk-connect` client), then what only the Connect adapter has: its
//! classification of Connect's answers on the wire and its request counting.

use std::collections::BTreeMap;

use connect_sim::{ErrorKind, Operation, ScriptedFault, Seed, Sim, SimServer};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_core::config::ConnectId;
use okta_connect_core::ownership::{OKTA_USER_TAG, UserFilter, tags_for};
use okta_connect_core::plan::Change;
use okta_connect_core::ports::{DirectoryError, ErrorClass, UserDirectory};
use okta_connect_testkit::contract::directory::{
    DirectoryFixture, MANY_USERS, Profiles, full_user, minimal_user, okta_id, username,
};

/// The instance of connect-sim's default seed (`crates/connect-sim/seeds/default.json`).
const INSTANCE: &str = "abcdefgh-0122-4131-adc2-a0ebe5a2b2a7";

fn id(text: &str) -> ConnectId {
    ConnectId::parse(text).unwrap()
}

/// The default seed's profiles.
fn profiles() -> Profiles {
    Profiles {
        routing: id("87654321-69fb-43b6-a5e6-f8666ac189cb"),
        other_routing: id("5b3c0f3e-8a31-4d2a-9a61-2f1d3c7e9b10"),
        security: id("12345678-1234-2345-abd8-0aa7f5b46852"),
        other_security: id("a1b2c3d4-0000-4000-8000-00000000abcd"),
        hierarchy: id("f0e1d2c3-b4a5-4697-8899-aabbccddeeff"),
        unknown: id("00000000-dead-4bee-8000-000000000000"),
    }
}

/// A `ConnectDirectory` on a fresh connect-sim (no throttling), which lives as long as
/// this.
pub struct Connect {
    pub directory: ConnectDirectory,
    pub server: SimServer,
}

impl DirectoryFixture for Connect {
    type Directory = ConnectDirectory;

    fn directory(&self) -> &ConnectDirectory {
        &self.directory
    }

    fn profiles(&self) -> Profiles {
        profiles()
    }

    /// A fresh connect-sim per case.
    fn is_fresh(&self) -> bool {
        true
    }

    /// Unthrottled and with room for them (see [`connect`]).
    fn affords_many_users(&self) -> bool {
        true
    }
}

/// A fresh connect-sim with the default seed, its users quota raised past the paging
/// case's [`MANY_USERS`] (the seed's 500 is Connect's default quota).
pub async fn connect() -> Connect {
    let mut seed = Seed::default();
    for instance in &mut seed.instances {
        instance.max_users = 4 * MANY_USERS;
    }
    let server = Sim::builder()
        .seed(seed)
        .no_throttle()
        .build()
        .unwrap()
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let config = sdk::load(&AwsSettings::emulator(server.url())).await;
    Connect {
        directory: ConnectDirectory::from_config(&config, INSTANCE),
        server,
    }
}

okta_connect_testkit::directory_contract_tests!(contract, async { connect().await });

/// The adapter's request counter counts what reached the service: one request per call
/// (two for a lookup by username), as connect-sim counts them.
#[tokio::test]
async fn requests_are_counted_on_the_wire() {
    let f = connect().await;
    let d = &f.directory;
    let p = profiles();
    let user = full_user(username("Count"), &p);
    assert_eq!(d.requests(), 0);
    let created = d.create(&user, &BTreeMap::new()).await.unwrap();
    assert_eq!(d.requests(), 1);
    d.describe(&created.id).await.unwrap().unwrap();
    assert_eq!(d.requests(), 2);
    d.find_by_username(&user.username).await.unwrap().unwrap();
    assert_eq!(d.requests(), 4, "SearchUsers, then DescribeUser");
    d.update(
        &created.id,
        &Change::RoutingProfile {
            routing_profile_id: p.other_routing.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(d.requests(), 5);
    // A refused request is a request too.
    assert!(d.create(&user, &BTreeMap::new()).await.is_err());
    assert_eq!(d.requests(), 6);
    d.delete(&created.id).await.unwrap();
    assert_eq!(d.requests(), 7);
    assert_eq!(d.requests(), f.server.sim().counters().grand_total());
    // Clones share the count.
    let clone = d.clone();
    clone.describe(&created.id).await.unwrap();
    assert_eq!(d.requests(), 8);
    // A directory on a plain client gets its own counter attached.
    let plain =
        aws_sdk_connect::Client::new(&sdk::load(&AwsSettings::emulator(f.server.url())).await);
    let other = ConnectDirectory::new(plain, INSTANCE);
    other.describe(&created.id).await.unwrap();
    assert_eq!((other.requests(), d.requests()), (1, 8));
}

/// Connect's answers on the wire, classified by type: throttling and 500 transient, a
/// quota permanent; the SDK never retries beneath the caller (one request each).
#[tokio::test]
async fn connect_answers_are_classified_by_type_and_never_retried() {
    let f = connect().await;
    let d = &f.directory;
    let user = minimal_user(username("Faults"), &profiles());
    let sim = f.server.sim();
    for (kind, class) in [
        (ErrorKind::ThrottlingException, ErrorClass::Transient),
        (ErrorKind::InternalServiceException, ErrorClass::Transient),
        (ErrorKind::LimitExceededException, ErrorClass::Permanent),
        (ErrorKind::InvalidRequestException, ErrorClass::Permanent),
    ] {
        sim.fail_next(ScriptedFault::new(Operation::CreateUser, kind, 1));
        let before = d.requests();
        let err = d.create(&user, &BTreeMap::new()).await.unwrap_err();
        assert_eq!(err.class(), class, "{kind:?}: {err:?}");
        assert_eq!(d.requests() - before, 1, "{kind:?}: no SDK retry");
        let expected = match kind {
            ErrorKind::ThrottlingException => matches!(err, DirectoryError::Throttled(_)),
            ErrorKind::InternalServiceException => matches!(err, DirectoryError::Unavailable(_)),
            ErrorKind::LimitExceededException => matches!(err, DirectoryError::LimitExceeded(_)),
            _ => matches!(err, DirectoryError::Invalid(_)),
        };
        assert!(expected, "{kind:?}: {err:?}");
        assert!(err.to_string().contains(&format!("{kind:?}")), "{err}");
    }
    // An unmodelled 403 (a request without a signature): permission, permanent.
    sim.fail_next(ScriptedFault::new(
        Operation::CreateUser,
        ErrorKind::MissingAuthenticationTokenException,
        1,
    ));
    let err = d.create(&user, &BTreeMap::new()).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Denied(_)), "{err:?}");
    // The user was never created by the refused calls.
    assert_eq!(d.find_by_username(&user.username).await.unwrap(), None);
}

/// Nothing listening: Unavailable (transient), within the configured timeouts.
#[tokio::test]
async fn unreachable_connect_is_unavailable() {
    let config = sdk::load(&crate::support::unreachable()).await;
    let d = ConnectDirectory::from_config(&config, INSTANCE);
    let started = std::time::Instant::now();
    let err = d
        .describe("00000000-0000-4000-8000-000000000001")
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// What tags and searches cost on the wire: a Tags change is DescribeUser (for the ARN)
/// plus TagResource, and only DescribeUser when the user has the tags already; a search
/// is one SearchUsers per 500 users; `OwnedBy` is filtered by Connect (one page for one
/// match among 520), `Owned` here (every page).
#[tokio::test]
async fn tags_and_searches_cost_what_they_should() {
    let f = connect().await;
    let d = &f.directory;
    let p = profiles();
    let sim = f.server.sim();
    let user = minimal_user(username("Cost"), &p);
    let owner = okta_id();
    let created = d.create(&user, &tags_for(&owner, &user)).await.unwrap();
    let change = Change::Tags {
        tags: BTreeMap::from([("team".to_string(), "red".to_string())]),
    };
    let before = sim.counters();
    d.update(&created.id, &change).await.unwrap();
    let after = sim.counters();
    for (op, calls) in [(Operation::DescribeUser, 1), (Operation::TagResource, 1)] {
        assert_eq!(after.successes(op) - before.successes(op), calls, "{op}");
    }
    d.update(&created.id, &change).await.unwrap();
    let again = sim.counters();
    assert_eq!(
        again.successes(Operation::TagResource),
        after.successes(Operation::TagResource),
        "tags already there: no write"
    );
    assert_eq!(
        again.successes(Operation::DescribeUser) - after.successes(Operation::DescribeUser),
        1
    );

    for n in 1..MANY_USERS {
        sim.create_user(
            INSTANCE,
            connect_sim::NewUser {
                username: format!("bulk{n:04}"),
                identity_info: connect_sim::IdentityInfo {
                    first_name: Some("Bulk".into()),
                    last_name: Some("User".into()),
                    ..Default::default()
                },
                security_profile_ids: vec![p.security.to_string()],
                routing_profile_id: p.routing.to_string(),
                tags: BTreeMap::from([(OKTA_USER_TAG.to_string(), format!("00ubulk{n}"))]),
                ..Default::default()
            },
        )
        .unwrap();
    }
    for (filter, pages, found) in [
        (UserFilter::All, 2, MANY_USERS),
        (UserFilter::Owned, 2, MANY_USERS),
        (UserFilter::OwnedBy(owner.clone()), 1, 1),
    ] {
        let before = sim.counters().successes(Operation::SearchUsers);
        let users = d.search(&filter).await.unwrap();
        assert_eq!(users.len(), found, "{filter:?}");
        assert_eq!(
            sim.counters().successes(Operation::SearchUsers) - before,
            pages,
            "{filter:?}"
        );
    }
    let mine = d.search(&UserFilter::OwnedBy(owner.clone())).await.unwrap();
    assert_eq!(mine[0].id, created.id);
    assert_eq!(mine[0].tags.get("team").map(String::as_str), Some("red"));
    // A blank id owns nothing, and costs nothing.
    let before = d.requests();
    assert!(
        d.search(&UserFilter::OwnedBy(" ".into()))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(d.requests(), before);
}

/// SearchUsers' errors are classified like every call's, and a failed page fails the
/// whole search (never a partial answer); a throttled page is retried a few times first.
#[tokio::test]
async fn a_failed_search_page_fails_the_search() {
    let f = connect().await;
    let d = &f.directory;
    let sim = f.server.sim();
    for (kind, class) in [
        (ErrorKind::InternalServiceException, ErrorClass::Transient),
        (ErrorKind::InvalidParameterException, ErrorClass::Permanent),
    ] {
        sim.fail_next(ScriptedFault::new(Operation::SearchUsers, kind, 1));
        let err = d.search(&UserFilter::All).await.unwrap_err();
        assert_eq!(err.class(), class, "{kind:?}: {err:?}");
    }
    // A throttled page is asked again (a long read must not die near its end) ...
    sim.fail_next(ScriptedFault::new(
        Operation::SearchUsers,
        ErrorKind::ThrottlingException,
        1,
    ));
    let before = d.search_throttles();
    assert!(d.search(&UserFilter::All).await.is_ok());
    assert_eq!(
        d.search_throttles(),
        before + 1,
        "the absorbed 429 is counted"
    );
    // ... but not for ever.
    sim.fail_next(ScriptedFault::new(
        Operation::SearchUsers,
        ErrorKind::ThrottlingException,
        5,
    ));
    let err = d.search(&UserFilter::All).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Throttled(_)), "{err:?}");
    assert_eq!(
        d.search_throttles(),
        before + 1 + 4,
        "four waits before the fifth 429 is returned"
    );
    sim.fail_next(ScriptedFault::new(
        Operation::TagResource,
        ErrorKind::ThrottlingException,
        1,
    ));
    let user = minimal_user(username("TagFail"), &profiles());
    let created = d.create(&user, &BTreeMap::new()).await.unwrap();
    let err = d
        .update(
            &created.id,
            &Change::Tags {
                tags: tags_for(&okta_id(), &user),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Throttled(_)), "{err:?}");
}
