//! The directory contract against `ConnectDirectory` on connect-sim (in process, through
//! the real `aws-sdk-connect` client), then what only the Connect adapter has: its
//! classification of Connect's answers on the wire and its request counting.

use connect_sim::{ErrorKind, Operation, ScriptedFault, Sim, SimServer};
use okta_connect_aws::connect::ConnectDirectory;
use okta_connect_aws::sdk::{self, AwsSettings};
use okta_connect_core::config::ConnectId;
use okta_connect_core::plan::Change;
use okta_connect_core::ports::{DirectoryError, ErrorClass, UserDirectory};
use okta_connect_testkit::contract::directory::{
    DirectoryFixture, Profiles, full_user, minimal_user, username,
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
}

pub async fn connect() -> Connect {
    let server = Sim::builder()
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
    let created = d.create(&user).await.unwrap();
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
    assert!(d.create(&user).await.is_err());
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
        let err = d.create(&user).await.unwrap_err();
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
    let err = d.create(&user).await.unwrap_err();
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
