//! The contract of the [`IdentitySource`] port: what every identity adapter (in-memory,
//! Okta's management API through `okta-sim` or a real org) must do, as one async
//! function per case, generic over an [`IdentityFixture`].
//!
//! Each case describes the org it needs as an [`IdentitySeed`] and asks the caller's
//! `start` function for a fixture over it: a source whose org holds exactly the seed,
//! and the ids the org gave the seeded users, groups and apps.
//!
//! `okta_connect_testkit::memory::MemoryIdentity` is the reference: the suite passes
//! against it. An adapter's test file runs every case as its own `#[tokio::test]`:
//!
//! ```ignore
//! okta_connect_testkit::identity_contract_tests!(okta_sim, |seed| async move {
//!     start_sim(seed).await
//! });
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use okta_connect_core::config::SourceKind;
use okta_connect_core::desired::OktaProfile;
use okta_connect_core::identity::{LogQuery, OktaUser, OktaUserStatus, SourceId};
use okta_connect_core::ports::{IdentityError, IdentitySource};
use okta_connect_core::time::UnixMillis;

/// A user of the seeded org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUser {
    pub login: String,
    pub first: String,
    pub last: String,
    pub email: String,
    pub status: OktaUserStatus,
}

/// A group and its members (by login).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedGroup {
    pub name: String,
    pub members: Vec<String>,
}

/// An app instance: its label, its catalog name (`amazon_aws`) and its direct
/// assignees (by login).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedApp {
    pub label: String,
    pub catalog_name: String,
    pub assignees: Vec<String>,
}

/// An org's state, with no System Log events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentitySeed {
    pub users: Vec<SeedUser>,
    pub groups: Vec<SeedGroup>,
    pub apps: Vec<SeedApp>,
}

impl IdentitySeed {
    /// Adds a user `{name}@example.com` ("{Name} Tester") with this status; returns its
    /// login.
    pub fn user(&mut self, name: &str, status: OktaUserStatus) -> String {
        let login = format!("{name}@example.com");
        let mut first = name.to_string();
        if let Some(c) = first.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        self.users.push(SeedUser {
            login: login.clone(),
            first,
            last: "Tester".into(),
            email: login.clone(),
            status,
        });
        login
    }

    /// Adds `n` active users `{prefix}-{i}@example.com`; returns their logins.
    pub fn many_users(&mut self, prefix: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| self.user(&format!("{prefix}-{i:04}"), OktaUserStatus::Active))
            .collect()
    }

    pub fn group(&mut self, name: &str, members: &[String]) {
        self.groups.push(SeedGroup {
            name: name.into(),
            members: members.to_vec(),
        });
    }

    pub fn app(&mut self, label: &str, catalog_name: &str, assignees: &[String]) {
        self.apps.push(SeedApp {
            label: label.into(),
            catalog_name: catalog_name.into(),
            assignees: assignees.to_vec(),
        });
    }

    /// The user this seed says `login` is, with the id the org gave it.
    pub fn expected_user(&self, login: &str, id: String) -> OktaUser {
        let u = self
            .users
            .iter()
            .find(|u| u.login == login)
            .unwrap_or_else(|| panic!("{login} is not in the seed"));
        OktaUser {
            id,
            status: u.status.clone(),
            profile: OktaProfile {
                login: u.login.clone(),
                first_name: Some(u.first.clone()),
                last_name: Some(u.last.clone()),
                email: Some(u.email.clone()),
            },
        }
    }
}

/// An identity source over a seeded org, and the ids the org gave the seed's entries.
pub trait IdentityFixture: Send + Sync {
    type Source: IdentitySource;
    fn source(&self) -> &Self::Source;
    /// The id (`00u…`) of the seeded user with this login.
    fn user_id(&self, login: &str) -> String;
    /// The id (`00g…`) of the seeded group with this name.
    fn group_id(&self, name: &str) -> String;
    /// The id (`0oa…`) of the seeded app with this label.
    fn app_id(&self, label: &str) -> String;
}

// ---------------------------------------------------------------- helpers

fn group(id: String) -> SourceId {
    SourceId {
        kind: SourceKind::Group,
        id,
    }
}

fn app(id: String) -> SourceId {
    SourceId {
        kind: SourceKind::App,
        id,
    }
}

async fn members<F: IdentityFixture>(f: &F, source: &SourceId) -> BTreeMap<String, OktaUser> {
    let list = f
        .source()
        .members(source)
        .await
        .unwrap_or_else(|e| panic!("members of {source} failed: {e:?}"));
    let n = list.len();
    let by_id: BTreeMap<String, OktaUser> = list.into_iter().map(|u| (u.id.clone(), u)).collect();
    assert_eq!(by_id.len(), n, "{source}: a member listed twice");
    by_id
}

fn expected<F: IdentityFixture>(
    f: &F,
    seed: &IdentitySeed,
    logins: &[String],
) -> BTreeMap<String, OktaUser> {
    logins
        .iter()
        .map(|login| {
            let id = f.user_id(login);
            (id.clone(), seed.expected_user(login, id))
        })
        .collect()
}

/// A well-formed Okta user id (`00u` + 17 alphanumerics) that names no user.
pub const UNKNOWN_USER_ID: &str = "00uzzzzzzzzzzzzzzzzz";
/// A well-formed group id that names no group.
pub const UNKNOWN_GROUP_ID: &str = "00gzzzzzzzzzzzzzzzzz";
/// A well-formed app id that names no app.
pub const UNKNOWN_APP_ID: &str = "0oazzzzzzzzzzzzzzzzz";

// ---------------------------------------------------------------- cases

/// A user read by id has its profile (non-ASCII included) and its status, whatever the
/// status.
pub async fn user_by_id_has_profile_and_status<M, Fut, F>(start: M)
where
    M: FnOnce(IdentitySeed) -> Fut,
    Fut: Future<Output = F>,
    F: IdentityFixture,
{
    let mut seed = IdentitySeed::default();
    let mut logins = vec![
        seed.user("alice", OktaUserStatus::Active),
        seed.user("bob", OktaUserStatus::Suspended),
        seed.user("carol", OktaUserStatus::Deprovisioned),
    ];
    seed.users.push(SeedUser {
        login: "zoe.nunez@example.com".into(),
        first: "Zoë".into(),
        last: "Ångström-Núñez".into(),
        email: "zoe.nunez@example.com".into(),
        status: OktaUserStatus::Active,
    });
    logins.push("zoe.nunez@example.com".into());
    let f = start(seed.clone()).await;
    for login in &logins {
        let id = f.user_id(login);
        let got = f
            .source()
            .user(&id)
            .await
            .unwrap_or_else(|e| panic!("user {login} failed: {e:?}"));
        assert_eq!(got, Some(seed.expected_user(login, id)), "{login}");
    }
}

/// An id that names no user is `Ok(None)`, not an error.
pub async fn unknown_user_is_none<M, Fut, F>(start: M)
where
    M: FnOnce(IdentitySeed) -> Fut,
    Fut: Future<Output = F>,
    F: IdentityFixture,
{
    let mut seed = IdentitySeed::default();
    seed.user("alice", OktaUserStatus::Active);
    let f = start(seed).await;
    assert_eq!(f.source().user(UNKNOWN_USER_ID).await.expect("user"), None);
}

/// A group's members are all of them, across pages (450 members: three pages of 200),
/// each once, with profile and status; a group without members is an empty list.
pub async fn group_members_are_complete_across_pages<M, Fut, F>(start: M)
where
    M: FnOnce(IdentitySeed) -> Fut,
    Fut: Future<Output = F>,
    F: IdentityFixture,
{
    let mut seed = IdentitySeed::default();
    let mut big = seed.many_users("member", 450);
    let suspended = seed.user("sam", OktaUserStatus::Suspended);
    big.push(suspended.clone());
    let outsider = seed.user("olga", OktaUserStatus::Active);
    seed.group("amazon_connect", &big);
    seed.group("small", &[suspended, outsider]);
    seed.group("empty", &[]);
    let f = start(seed.clone()).await;

    let got = members(&f, &group(f.group_id("amazon_connect"))).await;
    assert_eq!(got.len(), 451);
    assert_eq!(got, expected(&f, &seed, &big));

    let small = [
        "sam@example.com".to_string(),
        "olga@example.com".to_string(),
    ];
    let got = members(&f, &group(f.group_id("small"))).await;
    assert_eq!(got, expected(&f, &seed, &small));
    assert_eq!(
        got[&f.user_id("sam@example.com")].status,
        OktaUserStatus::Suspended
    );

    assert!(members(&f, &group(f.group_id("empty"))).await.is_empty());
}

/// An app's members are its assignees, with profile and status.
pub async fn app_members_have_profile_and_status<M, Fut, F>(start: M)
where
    M: FnOnce(IdentitySeed) -> Fut,
    Fut: Future<Output = F>,
    F: IdentityFixture,
{
    let mut seed = IdentitySeed::default();
    let assignees = vec![
        seed.user("alice", OktaUserStatus::Active),
        seed.user("bob", OktaUserStatus::Suspended),
    ];
    let other = seed.user("olga", OktaUserStatus::Active);
    seed.app("Contact Centre", "amazon_aws", &assignees);
    seed.app("Other App", "amazon_aws", &[other]);
    seed.app("Nobody's App", "bookmark", &[]);
    let f = start(seed.clone()).await;

    let got = members(&f, &app(f.app_id("Contact Centre"))).await;
    assert_eq!(got, expected(&f, &seed, &assignees));
    assert_eq!(
        got[&f.user_id("bob@example.com")].status,
        OktaUserStatus::Suspended
    );
    assert!(members(&f, &app(f.app_id("Nobody's App"))).await.is_empty());
}

/// Members of a group or app that does not exist are `NotFound`, never an empty list.
pub async fn unknown_source_members_are_not_found<M, Fut, F>(start: M)
where
    M: FnOnce(IdentitySeed) -> Fut,
    Fut: Future<Output = F>,
    F: IdentityFixture,
{
    let mut seed = IdentitySeed::default();
    let alice = seed.user("alice", OktaUserStatus::Active);
    seed.group("amazon_connect", std::slice::from_ref(&alice));
    seed.app("Contact Centre", "amazon_aws", &[alice]);
    let f = start(seed).await;
    for source in [
        group(UNKNOWN_GROUP_ID.into()),
        app(UNKNOWN_APP_ID.into()),
        // A group's id is no app's, and the other way round.
        app(f.group_id("amazon_connect")),
        group(f.app_id("Contact Centre")),
    ] {
        match f.source().members(&source).await {
            Err(IdentityError::NotFound(_)) => {}
            other => panic!("members of unknown {source}: {other:?}"),
        }
    }
}

/// `find_group` matches the whole name in any letter case: never a prefix, never a
/// longer name; a quote in the name is a plain character.
pub async fn find_group_matches_the_exact_name<M, Fut, F>(start: M)
where
    M: FnOnce(IdentitySeed) -> Fut,
    Fut: Future<Output = F>,
    F: IdentityFixture,
{
    let mut seed = IdentitySeed::default();
    for name in [
        "amazon_connect_admins",
        "amazon_connect",
        "Amazon",
        r#"Team "Q" \ West"#,
        "x",
    ] {
        seed.group(name, &[]);
    }
    let f = start(seed).await;
    for (query, want) in [
        ("amazon_connect", Some("amazon_connect")),
        ("AMAZON_CONNECT", Some("amazon_connect")),
        ("amazon_connect_admins", Some("amazon_connect_admins")),
        ("amazon", Some("Amazon")),
        (r#"team "q" \ west"#, Some(r#"Team "Q" \ West"#)),
        ("amazon_conn", None),
        ("amazon_connect_", None),
        ("Team", None),
        (r#"x" or profile.name sw "a"#, None),
        ("", None),
    ] {
        let got = f_find(f.source(), query).await;
        assert_eq!(
            got.as_ref().map(|g| g.name.as_str()),
            want,
            "find_group({query:?})"
        );
        if let (Some(g), Some(name)) = (got, want) {
            assert_eq!(g.id, f.group_id(name));
        }
    }
}

async fn f_find<S: IdentitySource>(
    source: &S,
    name: &str,
) -> Option<okta_connect_core::identity::OktaGroup> {
    source
        .find_group(name)
        .await
        .unwrap_or_else(|e| panic!("find_group({name:?}) failed: {e:?}"))
}

/// `find_app` matches the instance label exactly in any letter case: not a prefix, and
/// never the catalog name (which every instance of the app shares).
pub async fn find_app_matches_the_label_not_the_catalog_name<M, Fut, F>(start: M)
where
    M: FnOnce(IdentitySeed) -> Fut,
    Fut: Future<Output = F>,
    F: IdentityFixture,
{
    let mut seed = IdentitySeed::default();
    seed.app("Contact Centre EU", "amazon_aws", &[]);
    seed.app("Contact Centre", "amazon_aws", &[]);
    seed.app("Wiki", "bookmark", &[]);
    let f = start(seed).await;
    for (query, want) in [
        ("Contact Centre", Some("Contact Centre")),
        ("contact centre", Some("Contact Centre")),
        ("CONTACT CENTRE EU", Some("Contact Centre EU")),
        ("Contact", None),
        ("amazon_aws", None),
        ("bookmark", None),
        ("Wiki2", None),
    ] {
        let got = f
            .source()
            .find_app(query)
            .await
            .unwrap_or_else(|e| panic!("find_app({query:?}) failed: {e:?}"));
        assert_eq!(
            got.as_ref().map(|a| a.label.as_str()),
            want,
            "find_app({query:?})"
        );
        if let (Some(a), Some(label)) = (got, want) {
            assert_eq!(a.id, f.app_id(label));
            assert_eq!(
                a.catalog_name,
                if label == "Wiki" {
                    "bookmark"
                } else {
                    "amazon_aws"
                }
            );
        }
    }
}

/// A seeded org has no System Log events: any window, filtered or not, is empty.
pub async fn system_log_is_empty_when_nothing_happened<M, Fut, F>(start: M)
where
    M: FnOnce(IdentitySeed) -> Fut,
    Fut: Future<Output = F>,
    F: IdentityFixture,
{
    let mut seed = IdentitySeed::default();
    let alice = seed.user("alice", OktaUserStatus::Active);
    seed.group("amazon_connect", &[alice]);
    let f = start(seed).await;
    let now = UnixMillis::now();
    for query in [
        LogQuery {
            since: UnixMillis(now.0 - 3_600_000),
            until: Some(now.plus(Duration::from_secs(1))),
            event_types: vec![],
        },
        LogQuery {
            since: UnixMillis(now.0 - 3_600_000),
            until: None,
            event_types: vec![
                "group.user_membership.add".into(),
                "user.lifecycle.suspend".into(),
            ],
        },
    ] {
        let got = f
            .source()
            .system_log(&query)
            .await
            .unwrap_or_else(|e| panic!("system_log {query:?} failed: {e:?}"));
        assert!(got.is_empty(), "{query:?}: {got:?}");
    }
}

/// Expands to one `#[tokio::test]` per contract case, in a module named by the first
/// argument; the second is a function from an [`IdentitySeed`] to a future of the
/// fixture. See the module documentation.
#[macro_export]
macro_rules! identity_contract_tests {
    ($module:ident, $start:expr $(,)?) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            $crate::__identity_contract_cases!(
                ($start)
                user_by_id_has_profile_and_status
                unknown_user_is_none
                group_members_are_complete_across_pages
                app_members_have_profile_and_status
                unknown_source_members_are_not_found
                find_group_matches_the_exact_name
                find_app_matches_the_label_not_the_catalog_name
                system_log_is_empty_when_nothing_happened
            );
        }
    };
}

/// Implementation detail of [`identity_contract_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __identity_contract_cases {
    (($start:expr) $($case:ident)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::identity::$case($start).await;
            }
        )*
    };
}
