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
//! Every case creates users under fresh usernames ([`username`]) and fresh Okta ids
//! ([`okta_id`]), so cases may share one directory (one instance) or get a fresh one
//! each. Two cases depend on what the fixture says about itself: the search of an empty
//! instance runs only on a fresh one ([`DirectoryFixture::is_fresh`]), and paging past
//! Connect's 500-user search page only where hundreds of users are cheap
//! ([`DirectoryFixture::affords_many_users`]); elsewhere they check what they can and
//! say so on stderr.

use std::collections::{BTreeMap, BTreeSet};

use okta_connect_core::config::ConnectId;
use okta_connect_core::desired::{DesiredUser, IdentityInfo};
use okta_connect_core::ownership::{MAPPING_TAG, OKTA_USER_TAG, Owner, UserFilter, tags_for};
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

    /// Whether the directory is this case's alone, starting with no users (so a search
    /// of it can be checked for being empty). Default: no.
    fn is_fresh(&self) -> bool {
        false
    }

    /// Whether creating [`MANY_USERS`] users is affordable (in memory, connect-sim
    /// unthrottled; not real Connect at 2 creates/s against a users quota). Default: no.
    fn affords_many_users(&self) -> bool {
        false
    }
}

/// How many users the paging case creates: past one SearchUsers page of 500.
pub const MANY_USERS: usize = 520;

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

/// A fresh Okta user id (`00u…`, as Okta's are).
pub fn okta_id() -> String {
    let n = unique("o");
    let digits: String = n.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("00u{digits}")
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

/// Creates `user` tagged as the pipeline does, for a fresh Okta id.
async fn create<D: UserDirectory>(directory: &D, user: &DesiredUser) -> CreatedUser {
    create_tagged(directory, user, &tags_for(&okta_id(), user)).await
}

async fn create_tagged<D: UserDirectory>(
    directory: &D,
    user: &DesiredUser,
    tags: &BTreeMap<String, String>,
) -> CreatedUser {
    directory
        .create(user, tags)
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

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

async fn search<D: UserDirectory>(directory: &D, filter: &UserFilter) -> Vec<ConnectUser> {
    let found = directory
        .search(filter)
        .await
        .unwrap_or_else(|e| panic!("search {filter:?} failed: {e:?}"));
    let ids: BTreeSet<&str> = found.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), found.len(), "search {filter:?} repeats a user");
    found
}

/// Asserts a search result is the user `want` created with `tags`: every attribute a
/// search returns (names, not the email: Connect's search summaries have none).
fn assert_found(
    got: &ConnectUser,
    want: &DesiredUser,
    created: &CreatedUser,
    tags: &BTreeMap<String, String>,
) {
    let mut got_without_email = got.clone();
    got_without_email.identity.email = want.identity.email.clone();
    assert_is(&got_without_email, want, created);
    assert_eq!(&got.tags, tags, "{got:?}");
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
        match d.create(&again, &BTreeMap::new()).await {
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
    let mut want_tags = tags_for(&okta_id(), &want);
    let created = create_tagged(d, &want, &want_tags).await;

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
            hierarchy_group_id: Some(p.hierarchy.clone()),
        },
        Change::RoutingProfile {
            routing_profile_id: p.routing.clone(),
        },
        // Out of every hierarchy group (UpdateUserHierarchy without a group id).
        Change::Hierarchy {
            hierarchy_group_id: None,
        },
        Change::Tags {
            tags: tags(&[(MAPPING_TAG, "changed"), ("team", "blue")]),
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
                want.hierarchy_group_id = hierarchy_group_id.clone()
            }
            Change::Tags { tags } => want_tags.extend(tags.clone()),
        }
        let got = describe(d, &created.id).await;
        assert_is(&got, &want, &created);
        assert_eq!(got.tags, want_tags, "after {change:?}");
    }
    let found = d
        .find_by_username(&want.username)
        .await
        .expect("find_by_username")
        .expect("the changed user");
    assert_is(&found, &want, &created);
    assert_eq!(found.tags, want_tags);
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
            hierarchy_group_id: Some(p.hierarchy.clone()),
        },
        Change::Tags {
            tags: tags(&[(OKTA_USER_TAG, "00uGhost")]),
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
        match d.create(want, &tags_for(&okta_id(), want)).await {
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

/// A created user carries exactly the tags it was created with, in `describe` and
/// `find_by_username`; one created without tags has none.
pub async fn created_user_carries_its_tags<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();
    let want = full_user(username("Dir-Tags"), &p);
    let mut want_tags = tags_for(&okta_id(), &want);
    want_tags.insert("cost center".into(), "Zürich / 42 @ HQ+".into());
    let created = create_tagged(d, &want, &want_tags).await;
    let described = describe(d, &created.id).await;
    assert_eq!(described.tags, want_tags);
    assert!(matches!(Owner::of(&described), Owner::Okta(_)));
    let found = d
        .find_by_username(&want.username)
        .await
        .expect("find_by_username")
        .expect("the tagged user");
    assert_eq!(found.tags, want_tags);

    let bare = minimal_user(username("Dir-Bare"), &p);
    let created = create_tagged(d, &bare, &BTreeMap::new()).await;
    let described = describe(d, &created.id).await;
    assert!(described.tags.is_empty(), "{described:?}");
    assert_eq!(Owner::of(&described), Owner::Untagged);
}

/// A Tags change adds and replaces the tags it names and keeps the others; it adopts an
/// untagged user; repeating it changes nothing.
pub async fn tags_change_merges<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();
    let want = minimal_user(username("Dir-Merge"), &p);
    let owner = okta_id();
    let initial = tags(&[
        (OKTA_USER_TAG, &owner),
        (MAPPING_TAG, "first"),
        ("team", "red"),
    ]);
    let created = create_tagged(d, &want, &initial).await;
    let change = Change::Tags {
        tags: tags(&[(MAPPING_TAG, "second"), ("site", "x")]),
    };
    let merged = tags(&[
        (OKTA_USER_TAG, &owner),
        (MAPPING_TAG, "second"),
        ("team", "red"),
        ("site", "x"),
    ]);
    for _ in 0..2 {
        update(d, &created.id, &change).await;
        let got = describe(d, &created.id).await;
        assert_eq!(got.tags, merged);
        assert_is(&got, &want, &created);
    }

    // Adoption: a user made by hand (no tags) becomes the pipeline's.
    let by_hand = minimal_user(username("Dir-Adopt"), &p);
    let created = create_tagged(d, &by_hand, &BTreeMap::new()).await;
    let adopted = okta_id();
    update(
        d,
        &created.id,
        &Change::Tags {
            tags: tags_for(&adopted, &by_hand),
        },
    )
    .await;
    let got = describe(d, &created.id).await;
    assert_eq!(Owner::of(&got), Owner::Okta(adopted.as_str()));
    assert_eq!(got.tags, tags_for(&adopted, &by_hand));
}

/// Tags Connect refuses are `Invalid`: the reserved `aws:` prefix, more than 50, a key
/// over 128 characters, a value over 256. A refused create creates nothing; a refused
/// change leaves the tags as they were.
pub async fn refused_tags_are_invalid<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();
    let fifty_one: BTreeMap<String, String> = (0..51)
        .map(|n| (format!("k{n}"), "v".to_string()))
        .collect();
    let long_key = tags(&[(&"k".repeat(129), "v")]);
    let long_value = tags(&[("k", &"v".repeat(257))]);
    let reserved = tags(&[("aws:reserved", "v")]);
    for bad in [&reserved, &fifty_one, &long_key, &long_value] {
        let want = minimal_user(username("Dir-BadTag"), &p);
        match d.create(&want, bad).await {
            Err(DirectoryError::Invalid(_)) => {}
            other => panic!("create with {} bad tags: {other:?}", bad.len()),
        }
        assert_eq!(
            d.find_by_username(&want.username)
                .await
                .expect("find_by_username"),
            None,
            "a refused create must not create the user"
        );
    }

    let want = minimal_user(username("Dir-KeepTag"), &p);
    let kept = tags_for(&okta_id(), &want);
    let created = create_tagged(d, &want, &kept).await;
    // 49 new keys would make 51 with the 2 the user has.
    let too_many: BTreeMap<String, String> = (0..49)
        .map(|n| (format!("m{n}"), "v".to_string()))
        .collect();
    for bad in [reserved, too_many, long_key, long_value] {
        match d.update(&created.id, &Change::Tags { tags: bad }).await {
            Err(DirectoryError::Invalid(_)) => {}
            other => panic!("a refused Tags change: {other:?}"),
        }
        assert_eq!(describe(d, &created.id).await.tags, kept);
    }
}

/// `search` selects by the Okta-user-id tag: `All` has every user (tagged or not),
/// `Owned` those with an owner, `OwnedBy` only that owner's; each with its profiles,
/// hierarchy group, names and tags. A deleted user is no longer found.
pub async fn search_selects_by_owner<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    let p = f.profiles();
    let (owner_a, owner_b) = (okta_id(), okta_id());
    let a = full_user(username("Dir-SrchA"), &p);
    let b = minimal_user(username("Dir-SrchB"), &p);
    let untagged = minimal_user(username("Dir-SrchC"), &p);
    let other_tags = full_user(username("Dir-SrchD"), &p);
    let mut a_tags = tags_for(&owner_a, &a);
    a_tags.insert("team".into(), "red".into());
    let cases = [
        (&a, a_tags),
        (&b, tags_for(&owner_b, &b)),
        (&untagged, BTreeMap::new()),
        (
            &other_tags,
            tags(&[("team", "red"), (MAPPING_TAG, "not-ours")]),
        ),
    ];
    let mut made = Vec::new();
    for (want, want_tags) in cases {
        let created = create_tagged(d, want, &want_tags).await;
        made.push((want, created, want_tags));
    }
    let find = |found: &[ConnectUser], id: &str| found.iter().find(|u| u.id == id).cloned();

    let all = search(d, &UserFilter::All).await;
    for (want, created, want_tags) in &made {
        let got = find(&all, &created.id).unwrap_or_else(|| panic!("All lacks {}", want.username));
        assert_found(&got, want, created, want_tags);
    }

    let owned = search(d, &UserFilter::Owned).await;
    assert!(
        owned.iter().all(|u| matches!(Owner::of(u), Owner::Okta(_))),
        "Owned returned an unowned user: {owned:?}"
    );
    for (i, (want, created, want_tags)) in made.iter().enumerate() {
        match (i < 2, find(&owned, &created.id)) {
            (true, Some(got)) => assert_found(&got, want, created, want_tags),
            (true, None) => panic!("Owned lacks {}", want.username),
            (false, None) => {}
            (false, Some(got)) => panic!("Owned has {got:?}"),
        }
    }

    for (owner, (want, created, want_tags)) in [(&owner_a, &made[0]), (&owner_b, &made[1])] {
        let by = search(d, &UserFilter::OwnedBy(owner.clone())).await;
        assert_eq!(by.len(), 1, "OwnedBy({owner}): {by:?}");
        assert_found(&by[0], want, created, want_tags);
    }
    assert!(search(d, &UserFilter::OwnedBy(okta_id())).await.is_empty());
    assert!(
        search(d, &UserFilter::OwnedBy(owner_a.to_uppercase()))
            .await
            .is_empty(),
        "Okta ids compare exactly"
    );

    d.delete(&made[0].1.id).await.expect("delete");
    assert!(
        search(d, &UserFilter::OwnedBy(owner_a.clone()))
            .await
            .is_empty()
    );
    assert!(find(&search(d, &UserFilter::All).await, &made[0].1.id).is_none());
}

/// `search` returns every match once across SearchUsers pages: [`MANY_USERS`] users of
/// one owner (more than Connect's 500 a page) for `OwnedBy`, `Owned` and `All`. Runs
/// only where the fixture affords that many users.
pub async fn search_pages_past_500<F: DirectoryFixture>(f: &F) {
    if !f.affords_many_users() {
        eprintln!("search_pages_past_500: skipped, the fixture cannot afford {MANY_USERS} users");
        return;
    }
    let d = f.directory();
    let p = f.profiles();
    let owner = okta_id();
    let mut ids = BTreeSet::new();
    for n in 0..MANY_USERS {
        let want = minimal_user(username(&format!("Pg{n}")), &p);
        let created = create_tagged(d, &want, &tags_for(&owner, &want)).await;
        ids.insert(created.id);
    }
    let by: BTreeSet<String> = search(d, &UserFilter::OwnedBy(owner.clone()))
        .await
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(by, ids, "OwnedBy over pages");
    for filter in [UserFilter::Owned, UserFilter::All] {
        let found: BTreeSet<String> = search(d, &filter).await.into_iter().map(|u| u.id).collect();
        assert!(found.is_superset(&ids), "{filter:?} over pages lacks users");
    }
}

/// A search that matches nothing is empty, not an error; on a fresh (empty) instance
/// every filter matches nothing.
pub async fn search_of_nothing_is_empty<F: DirectoryFixture>(f: &F) {
    let d = f.directory();
    assert!(search(d, &UserFilter::OwnedBy(okta_id())).await.is_empty());
    if !f.is_fresh() {
        eprintln!("search_of_nothing_is_empty: shared fixture, empty instance not checked");
        return;
    }
    for filter in [UserFilter::All, UserFilter::Owned] {
        let found = search(d, &filter).await;
        assert!(
            found.is_empty(),
            "{filter:?} on an empty instance: {found:?}"
        );
    }
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
                created_user_carries_its_tags
                tags_change_merges
                refused_tags_are_invalid
                search_selects_by_owner
                search_pages_past_500
                search_of_nothing_is_empty
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
