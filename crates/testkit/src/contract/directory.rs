//! The contract of the [`UserDirectory`] port: what every directory adapter (in-memory,
//! Amazon Connect through `connect-sim` or AWS, …) must do, as one async function per
//! case, generic over a [`DirectoryFixture`].
//!
//! `okta_connect_testkit::memory::MemoryDirectory` (built with its profiles) is the
//! reference: the suite passes against it.
//!
//! An adapter's test file runs every case as its own `#[tokio::test]` with one line:
//!
//! ```ignore
//! okta_connect_testkit::directory_contract_tests!(connect_sim, async { make().await });
//! ```
//!
//! Every case creates users under fresh usernames ([`username`]), so cases may share one
//! directory (one instance) or get a fresh one each.

use std::collections::BTreeSet;

use okta_connect_core::config::ConnectId;
use okta_connect_core::desired::{DesiredUser, IdentityInfo};
use okta_connect_core::plan::{Change, ConnectUser};
use okta_connect_core::ports::{CreatedUser, DirectoryError, UserDirectory};

use super::ledger::unique;

/// The profile ids of the instance behind a fixture's directory.
#[derive(Debug, Clone)]
pub struct Profiles {
    pub routing: ConnectId,
    pub other_routing: ConnectId,
    pub security: ConnectId,
    pub other_security: ConnectId,
    pub hierarchy: ConnectId,
    /// A well-formed id that names no profile (Connect answers 400 for it).
    pub unknown: ConnectId,
}

/// A directory and the profiles of its instance.
pub trait DirectoryFixture: Send + Sync {
    type Directory: UserDirectory;
    fn directory(&self) -> &Self::Directory;
    fn profiles(&self) -> Profiles;
}

/// Connect's longest username on a SAML instance.
pub const MAX_SAML_USERNAME: usize = 64;

/// A fresh username in mixed case that fits Connect's SAML rules (at most 64 of
/// `[A-Za-z0-9_.@-]`), shaped like an Okta login.
pub fn username(kind: &str) -> String {
    let name = format!("{}@Example.Com", unique(kind));
    assert!(
        name.len() <= MAX_SAML_USERNAME
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-')),
        "{name:?} breaks Connect's SAML username rules; use a shorter kind"
    );
    name
}

/// A well-formed Connect user id (a UUID) that names no user.
pub fn unknown_user_id() -> String {
    let n = unique("x");
    let digits: String = n
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(char::from)
        .collect();
    let padded = format!("{digits:0>12}");
    format!("00000000-0000-4000-8000-{}", &padded[padded.len() - 12..])
}

/// A desired user with every attribute set: two security profiles, a hierarchy group,
/// an email, and non-ASCII names.
pub fn full_user(username: String, p: &Profiles) -> DesiredUser {
    DesiredUser {
        identity: IdentityInfo {
            first_name: "Zoë".into(),
            last_name: "Ångström-Núñez".into(),
            email: Some(username.to_lowercase()),
        },
        username,
        routing_profile_id: p.routing.clone(),
        security_profile_ids: vec![p.security.clone(), p.other_security.clone()],
        hierarchy_group_id: Some(p.hierarchy.clone()),
        mapping: "contract".into(),
    }
}

/// A desired user with only what Connect requires: no email, no hierarchy group.
pub fn minimal_user(username: String, p: &Profiles) -> DesiredUser {
    DesiredUser {
        identity: IdentityInfo {
            first_name: "Min".into(),
            last_name: "Imal".into(),
            email: None,
        },
        username,
        routing_profile_id: p.routing.clone(),
        security_profile_ids: vec![p.security.clone()],
        hierarchy_group_id: None,
        mapping: "contract".into(),
    }
}

// ---------------------------------------------------------------- helpers

async fn create<D: UserDirectory>(directory: &D, user: &DesiredUser) -> CreatedUser {
    directory
        .create(user)
        .await
        .unwrap_or_else(|e| panic!("create {} failed: {e:?}", user.username))
}

async fn describe<D: UserDirectory>(directory: &D, id: &str) -> ConnectUser {
    directory
        .describe(id)
        .await
        .expect("describe failed")
        .unwrap_or_else(|| panic!("no user {id}"))
}

async fn update<D: UserDirectory>(directory: &D, id: &str, change: &Change) {
    directory
        .update(id, change)
        .await
        .unwrap_or_else(|e| panic!("update {change:?} failed: {e:?}"));
}

fn ids(ids: &[ConnectId]) -> BTreeSet<String> {
    ids.iter().map(ToString::to_string).collect()
}

/// Asserts `got` is the user `want` describes (security profiles in any order), with
/// the identifiers `created` returned.
fn assert_is(got: &ConnectUser, want: &DesiredUser, created: &CreatedUser) {
    assert_eq!(got.id, created.id, "{got:?}");
    if let (Some(got_arn), Some(created_arn)) = (&got.arn, &created.arn) {
        assert_eq!(got_arn, created_arn);
    }
    assert_eq!(got.username, want.username, "{got:?}");
    assert_eq!(got.identity, want.identity, "{got:?}");
    assert_eq!(got.routing_profile_id, want.routing_profile_id.as_str());
    let got_security: BTreeSet<String> = got.security_profile_ids.iter().cloned().collect();
    assert_eq!(got_security, ids(&want.security_profile_ids), "{got:?}");
    assert_eq!(
        got.security_profile_ids.len(),
        want.security_profile_ids.len()
    );
    assert_eq!(
        got.hierarchy_group_id.as_deref(),
        want.hierarchy_group_id.as_ref().map(ConnectId::as_str),
        "{got:?}"
    );
}

// ---------------------------------------------------------------- cases

/// A created user is found by its username and described by its id, with every
/// attribute as created; the lookup by username ignores letter case.
pub async fn created_user_is_found_and_described<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();
    for want in [
        full_user(username("Dir-Full"), &p),
        minimal_user(username("Dir-Min"), &p),
    ] {
        let created = create(d, &want).await;
        assert!(!created.id.is_empty());
        let described = describe(d, &created.id).await;
        assert_is(&described, &want, &created);
        for name in [
            want.username.clone(),
            want.username.to_uppercase(),
            want.username.to_lowercase(),
        ] {
            let found = d
                .find_by_username(&name)
                .await
                .expect("find_by_username failed")
                .unwrap_or_else(|| panic!("{name} not found"));
            assert_eq!(found, described, "found by {name}");
        }
    }
}

/// Creating a username that exists (in any letter case) is `Duplicate`, and leaves the
/// existing user as it was.
pub async fn duplicate_username_is_refused<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();
    let want = full_user(username("Dir-Dup"), &p);
    let created = create(d, &want).await;
    for name in [
        want.username.clone(),
        want.username.to_uppercase(),
        want.username.to_lowercase(),
    ] {
        let again = minimal_user(name.clone(), &p);
        match d.create(&again).await {
            Err(DirectoryError::Duplicate(_)) => {}
            other => panic!("create of existing {name}: {other:?}"),
        }
    }
    assert_is(&describe(d, &created.id).await, &want, &created);
}

/// Unknown users are `Ok(None)` for both lookups, not errors.
pub async fn unknown_user_is_none<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    assert_eq!(
        d.describe(&unknown_user_id()).await.expect("describe"),
        None
    );
    assert_eq!(
        d.find_by_username(&username("Dir-Nobody"))
            .await
            .expect("find_by_username"),
        None
    );
}

/// Every kind of change applied by `update` shows in `describe`, and changes nothing
/// else.
pub async fn every_change_is_applied<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();
    let mut want = minimal_user(username("Dir-Change"), &p);
    let created = create(d, &want).await;

    let identity = IdentityInfo {
        first_name: "Jürgen".into(),
        last_name: "O'Brien 東".into(),
        email: Some(format!("changed.{}", want.username.to_lowercase())),
    };
    let changes = [
        Change::Identity {
            identity: identity.clone(),
        },
        Change::RoutingProfile {
            routing_profile_id: p.other_routing.clone(),
        },
        Change::SecurityProfiles {
            security_profile_ids: vec![p.other_security.clone()],
        },
        Change::SecurityProfiles {
            security_profile_ids: vec![p.security.clone(), p.other_security.clone()],
        },
        Change::Hierarchy {
            hierarchy_group_id: p.hierarchy.clone(),
        },
        Change::RoutingProfile {
            routing_profile_id: p.routing.clone(),
        },
        // The identity is replaced whole: no email now means none.
        Change::Identity {
            identity: IdentityInfo {
                email: None,
                ..identity
            },
        },
    ];
    for change in &changes {
        update(d, &created.id, change).await;
        match change {
            Change::Identity { identity } => want.identity = identity.clone(),
            Change::RoutingProfile { routing_profile_id } => {
                want.routing_profile_id = routing_profile_id.clone()
            }
            Change::SecurityProfiles {
                security_profile_ids,
            } => want.security_profile_ids = security_profile_ids.clone(),
            Change::Hierarchy { hierarchy_group_id } => {
                want.hierarchy_group_id = Some(hierarchy_group_id.clone())
            }
        }
        let got = describe(d, &created.id).await;
        assert_is(&got, &want, &created);
    }
    let found = d
        .find_by_username(&want.username)
        .await
        .expect("find_by_username")
        .expect("the changed user");
    assert_is(&found, &want, &created);
}

/// Updating a user that does not exist is `NotFound`, whatever the change.
pub async fn update_of_unknown_user_is_not_found<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();
    let changes = [
        Change::Identity {
            identity: minimal_user(username("Dir-Ghost"), &p).identity,
        },
        Change::RoutingProfile {
            routing_profile_id: p.routing.clone(),
        },
        Change::SecurityProfiles {
            security_profile_ids: vec![p.security.clone()],
        },
        Change::Hierarchy {
            hierarchy_group_id: p.hierarchy.clone(),
        },
    ];
    let ghost = unknown_user_id();
    for change in &changes {
        match d.update(&ghost, change).await {
            Err(DirectoryError::NotFound(_)) => {}
            other => panic!("update {change:?} of an unknown user: {other:?}"),
        }
    }
}

/// An unknown routing or security profile id is `Invalid`, on create (no user is
/// created) and on update (the user keeps its profiles).
pub async fn unknown_profile_is_invalid<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();

    let mut bad_routing = minimal_user(username("Dir-BadRp"), &p);
    bad_routing.routing_profile_id = p.unknown.clone();
    let mut bad_security = minimal_user(username("Dir-BadSp"), &p);
    bad_security.security_profile_ids = vec![p.security.clone(), p.unknown.clone()];
    for want in [&bad_routing, &bad_security] {
        match d.create(want).await {
            Err(DirectoryError::Invalid(_)) => {}
            other => panic!("create with an unknown profile: {other:?}"),
        }
        assert_eq!(
            d.find_by_username(&want.username)
                .await
                .expect("find_by_username"),
            None,
            "a refused create must not create the user"
        );
    }

    let want = full_user(username("Dir-Keep"), &p);
    let created = create(d, &want).await;
    for change in [
        Change::RoutingProfile {
            routing_profile_id: p.unknown.clone(),
        },
        Change::SecurityProfiles {
            security_profile_ids: vec![p.unknown.clone()],
        },
        Change::SecurityProfiles {
            security_profile_ids: vec![p.other_security.clone(), p.unknown.clone()],
        },
    ] {
        match d.update(&created.id, &change).await {
            Err(DirectoryError::Invalid(_)) => {}
            other => panic!("update {change:?}: {other:?}"),
        }
    }
    assert_is(&describe(d, &created.id).await, &want, &created);
}

/// A deleted user is gone for both lookups; deleting it again is `NotFound`; its
/// username is free for a new user (with a new id).
pub async fn deleted_user_is_gone<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();
    let want = full_user(username("Dir-Del"), &p);
    let created = create(d, &want).await;
    d.delete(&created.id).await.expect("delete failed");
    assert_eq!(d.describe(&created.id).await.expect("describe"), None);
    assert_eq!(
        d.find_by_username(&want.username)
            .await
            .expect("find_by_username"),
        None
    );
    match d.delete(&created.id).await {
        Err(DirectoryError::NotFound(_)) => {}
        other => panic!("second delete: {other:?}"),
    }
    match d
        .update(
            &created.id,
            &Change::RoutingProfile {
                routing_profile_id: p.other_routing.clone(),
            },
        )
        .await
    {
        Err(DirectoryError::NotFound(_)) => {}
        other => panic!("update of a deleted user: {other:?}"),
    }
    let again = create(d, &want).await;
    assert_ne!(again.id, created.id, "a new user, not the old one back");
    assert_is(&describe(d, &again.id).await, &want, &again);
}

/// Expands to one `#[tokio::test]` per contract case, in a module named by the first
/// argument; the second builds the fixture (fresh or shared). See the module
/// documentation.
#[macro_export]
macro_rules! directory_contract_tests {
    ($module:ident, $make:expr $(,)?) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            $crate::__directory_contract_cases!(
                ($make)
                created_user_is_found_and_described
                duplicate_username_is_refused
                unknown_user_is_none
                every_change_is_applied
                update_of_unknown_user_is_not_found
                unknown_profile_is_invalid
                deleted_user_is_gone
            );
        }
    };
}

/// Implementation detail of [`directory_contract_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __directory_contract_cases {
    (($make:expr) $($case:ident)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = $make.await;
                $crate::contract::directory::$case(&fixture).await;
            }
        )*
    };
}
