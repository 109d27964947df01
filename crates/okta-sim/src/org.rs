//! The org's state and the admin operations on it. Every change records the System Log
//! events Okta would, in the order Okta would.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::api_error::ApiError;
use crate::events::{Ctx, Target, log_event, new_app_user_id};
use crate::model::{App, Assignment, Group, Scope, User, UserStatus};
use crate::seed::Seeded;
use crate::util::okta_id;

/// A recorded System Log event.
#[derive(Clone, Debug)]
pub(crate) struct Logged {
    pub seq: u64,
    pub published: OffsetDateTime,
    pub event: Value,
}

/// A registered event hook.
#[derive(Clone)]
pub(crate) struct Hook {
    pub id: String,
    pub name: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub auth_key: String,
    pub auth_value: String,
    pub events: Vec<String>,
    pub active: bool,
    pub verified: bool,
    pub created: OffsetDateTime,
    pub last_updated: OffsetDateTime,
}

impl std::fmt::Debug for Hook {
    // The auth header's value is the hook's secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("id", &self.id)
            .field("uri", &self.uri)
            .field("auth_key", &self.auth_key)
            .field("auth_value", &"***")
            .field("events", &self.events)
            .field("active", &self.active)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

/// User lifecycle operations (`POST /api/v1/users/{id}/lifecycle/{op}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Activate,
    Deactivate,
    Reactivate,
    Suspend,
    Unsuspend,
}

impl Lifecycle {
    pub(crate) fn parse(op: &str) -> Option<Lifecycle> {
        Some(match op {
            "activate" => Lifecycle::Activate,
            "deactivate" => Lifecycle::Deactivate,
            "reactivate" => Lifecycle::Reactivate,
            "suspend" => Lifecycle::Suspend,
            "unsuspend" => Lifecycle::Unsuspend,
            _ => return None,
        })
    }

    /// The status it leads to from `from`, or why it is refused. The rules are Okta's,
    /// except that `reactivate` also brings back a DEPROVISIONED user (so demos can emit
    /// `user.lifecycle.reactivate`, which Okta records when a deactivated user returns).
    fn next(self, from: UserStatus) -> Result<UserStatus, &'static str> {
        use UserStatus::*;
        match (self, from) {
            (Lifecycle::Activate, Staged | Provisioned | Deprovisioned) => Ok(Active),
            (Lifecycle::Activate, _) => Err("the user is already active"),
            (Lifecycle::Reactivate, Provisioned | Deprovisioned) => Ok(Active),
            (Lifecycle::Reactivate, _) => {
                Err("only PROVISIONED or DEPROVISIONED users can be reactivated")
            }
            (Lifecycle::Deactivate, Deprovisioned) => Err("the user is already deactivated"),
            (Lifecycle::Deactivate, _) => Ok(Deprovisioned),
            (Lifecycle::Suspend, Active) => Ok(Suspended),
            (Lifecycle::Suspend, _) => Err("only ACTIVE users can be suspended"),
            (Lifecycle::Unsuspend, Suspended) => Ok(Active),
            (Lifecycle::Unsuspend, _) => Err("only SUSPENDED users can be unsuspended"),
        }
    }

    fn event_type(self) -> &'static str {
        match self {
            Lifecycle::Activate => "user.lifecycle.activate",
            Lifecycle::Deactivate => "user.lifecycle.deactivate",
            Lifecycle::Reactivate => "user.lifecycle.reactivate",
            Lifecycle::Suspend => "user.lifecycle.suspend",
            Lifecycle::Unsuspend => "user.lifecycle.unsuspend",
        }
    }
}

/// Event types Okta does not deliver to hooks (a registration naming one is refused).
pub(crate) const NOT_HOOK_ELIGIBLE: [&str; 3] = [
    "user.lifecycle.delete.completed",
    "application.user_membership.change_username",
    "user.account.update_primary_email",
];

/// Users, groups, apps, hooks and the System Log.
#[derive(Debug, Default)]
pub(crate) struct Org {
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub apps: BTreeMap<String, App>,
    pub hooks: BTreeMap<String, Hook>,
    pub log: Vec<Logged>,
    next_seq: u64,
}

impl Org {
    pub(crate) fn from_seed(seeded: Seeded) -> Org {
        let mut org = Org {
            users: seeded.users,
            groups: seeded.groups,
            apps: seeded.apps,
            ..Org::default()
        };
        // Seeded app users get their 0ua ids now, so events about them later are stable.
        for (app, uid) in org.app_memberships() {
            if let Some(app) = org.apps.get_mut(&app) {
                app.app_user_ids.entry(uid).or_insert_with(new_app_user_id);
            }
        }
        org
    }

    /// A user by id, or by login ignoring case.
    pub(crate) fn find_user(&self, key: &str) -> Option<&User> {
        self.users.get(key).or_else(|| {
            self.users
                .values()
                .find(|u| u.login().eq_ignore_ascii_case(key))
        })
    }

    fn user_id(&self, key: &str) -> Result<String, ApiError> {
        self.find_user(key)
            .map(|u| u.id.clone())
            .ok_or_else(|| ApiError::not_found(key, "User"))
    }

    fn group_mut(&mut self, id: &str) -> Result<&mut Group, ApiError> {
        self.groups
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(id, "UserGroup"))
    }

    /// Every app's users with their scope: direct assignments are USER, members of an
    /// assigned group GROUP.
    pub(crate) fn app_users(&self, app: &App) -> BTreeMap<String, Scope> {
        let mut users: BTreeMap<String, Scope> = app
            .groups
            .iter()
            .filter_map(|g| self.groups.get(g))
            .flat_map(|g| g.members.iter().map(|m| (m.clone(), Scope::Group)))
            .collect();
        for uid in app.users.keys() {
            users.insert(uid.clone(), Scope::User);
        }
        users
    }

    fn app_memberships(&self) -> BTreeSet<(String, String)> {
        self.apps
            .values()
            .flat_map(|app| self.app_users(app).into_keys().map(|u| (app.id.clone(), u)))
            .collect()
    }

    /// Records the application.user_membership.add/.remove events for every (app, user)
    /// pair that a change made or broke, as Okta does for group-driven assignments too.
    fn app_membership_events(
        &mut self,
        before: &BTreeSet<(String, String)>,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) {
        let after = self.app_memberships();
        for (app_id, uid) in after.difference(before) {
            if let Some(app) = self.apps.get_mut(app_id) {
                app.app_user_ids
                    .entry(uid.clone())
                    .or_insert_with(new_app_user_id);
            }
            self.app_event("application.user_membership.add", app_id, uid, ctx, events);
        }
        for (app_id, uid) in before.difference(&after) {
            self.app_event(
                "application.user_membership.remove",
                app_id,
                uid,
                ctx,
                events,
            );
        }
    }

    fn app_event(
        &self,
        event_type: &str,
        app_id: &str,
        uid: &str,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) {
        let (Some(app), Some(user)) = (self.apps.get(app_id), self.users.get(uid)) else {
            return;
        };
        let app_user_id = app
            .app_user_ids
            .get(uid)
            .cloned()
            .unwrap_or_else(new_app_user_id);
        let user_name = app
            .users
            .get(uid)
            .map_or(user.login(), |a| a.user_name.as_str())
            .to_owned();
        let targets = [
            Target::app_user(&app_user_id, &user_name, user),
            Target::app(app),
            Target::user(user),
        ];
        events.push(log_event(ctx, event_type, &targets, None));
    }

    fn user_event(
        &self,
        event_type: &str,
        uid: &str,
        changed: Option<&str>,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) {
        if let Some(user) = self.users.get(uid) {
            events.push(log_event(ctx, event_type, &[Target::user(user)], changed));
        }
    }

    /// Appends events to the System Log, giving each its sequence number.
    pub(crate) fn record(&mut self, events: &[Value], at: OffsetDateTime) {
        for event in events {
            self.next_seq += 1;
            self.log.push(Logged {
                seq: self.next_seq,
                published: at,
                event: event.clone(),
            });
        }
    }

    // ---- users ---------------------------------------------------------------------

    fn check_login_free(&self, login: &str, except: Option<&str>) -> Result<(), ApiError> {
        let taken = self
            .users
            .values()
            .any(|u| u.login().eq_ignore_ascii_case(login) && Some(u.id.as_str()) != except);
        if taken {
            Err(ApiError::validation(
                "login",
                "login: An object with this field already exists in the current organization",
            ))
        } else {
            Ok(())
        }
    }

    pub(crate) fn create_user(
        &mut self,
        profile: Map<String, Value>,
        activate: bool,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<User, ApiError> {
        let login = profile
            .get("login")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| ApiError::validation("login", "login: The field cannot be left blank"))?
            .to_owned();
        self.check_login_free(&login, None)?;
        let now = ctx.now;
        let status = if activate {
            UserStatus::Active
        } else {
            UserStatus::Staged
        };
        let user = User {
            id: okta_id("00u"),
            status,
            profile,
            created: now,
            activated: activate.then_some(now),
            status_changed: activate.then_some(now),
            last_updated: now,
        };
        let id = user.id.clone();
        self.users.insert(id.clone(), user.clone());
        self.user_event("user.lifecycle.create", &id, None, ctx, events);
        if activate {
            self.user_event("user.lifecycle.activate", &id, None, ctx, events);
        }
        Ok(user)
    }

    /// Okta's "update user": `replace` (PUT) sets the whole profile, otherwise (POST) only
    /// the attributes given change (null removes one).
    pub(crate) fn update_user(
        &mut self,
        key: &str,
        profile: Map<String, Value>,
        replace: bool,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<User, ApiError> {
        let id = self.user_id(key)?;
        let old = self
            .users
            .get(&id)
            .map(|u| u.profile.clone())
            .unwrap_or_default();
        let mut new = if replace { Map::new() } else { old.clone() };
        for (attribute, value) in profile {
            if value.is_null() {
                new.remove(&attribute);
            } else {
                new.insert(attribute, value);
            }
        }
        let login = new
            .get("login")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| ApiError::validation("login", "login: The field cannot be left blank"))?
            .to_owned();
        self.check_login_free(&login, Some(&id))?;
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        let changed: Vec<&str> = names
            .into_iter()
            .filter(|name| old.get(*name) != new.get(*name))
            .map(String::as_str)
            .collect();
        let changed = changed.join(",");
        let user = self
            .users
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found(key, "User"))?;
        if !changed.is_empty() {
            user.profile = new;
            user.last_updated = ctx.now;
        }
        let user = user.clone();
        if !changed.is_empty() {
            self.user_event(
                "user.account.update_profile",
                &id,
                Some(&changed),
                ctx,
                events,
            );
        }
        Ok(user)
    }

    pub(crate) fn lifecycle(
        &mut self,
        key: &str,
        op: Lifecycle,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<(), ApiError> {
        let id = self.user_id(key)?;
        let user = self
            .users
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found(key, "User"))?;
        let next = op.next(user.status).map_err(|why| {
            ApiError::validation(
                "status",
                format!(
                    "Cannot {}: {why} (status {})",
                    op.event_type().rsplit('.').next().unwrap_or_default(),
                    user.status
                ),
            )
        })?;
        user.status = next;
        user.status_changed = Some(ctx.now);
        user.last_updated = ctx.now;
        if next == UserStatus::Active {
            user.activated = Some(ctx.now);
        }
        self.user_event(op.event_type(), &id, None, ctx, events);
        Ok(())
    }

    /// Okta's DELETE: deactivates a user that is not deactivated yet, deletes one that is.
    pub(crate) fn delete_user(
        &mut self,
        key: &str,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<(), ApiError> {
        let id = self.user_id(key)?;
        let deprovisioned = self
            .users
            .get(&id)
            .is_some_and(|u| u.status == UserStatus::Deprovisioned);
        if !deprovisioned {
            return self.lifecycle(&id, Lifecycle::Deactivate, ctx, events);
        }
        self.user_event("user.lifecycle.delete.initiated", &id, None, ctx, events);
        self.users.remove(&id);
        for group in self.groups.values_mut() {
            group.members.remove(&id);
        }
        for app in self.apps.values_mut() {
            app.users.remove(&id);
            app.app_user_ids.remove(&id);
        }
        Ok(())
    }

    // ---- groups --------------------------------------------------------------------

    fn check_group_name_free(&self, name: &str, except: Option<&str>) -> Result<(), ApiError> {
        if name.trim().is_empty() {
            return Err(ApiError::validation(
                "name",
                "name: The field cannot be left blank",
            ));
        }
        let taken = self
            .groups
            .values()
            .any(|g| g.name.eq_ignore_ascii_case(name) && Some(g.id.as_str()) != except);
        if taken {
            Err(ApiError::validation(
                "name",
                "name: An object with this field already exists in the current organization",
            ))
        } else {
            Ok(())
        }
    }

    pub(crate) fn create_group(
        &mut self,
        name: &str,
        description: Option<String>,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<Group, ApiError> {
        self.check_group_name_free(name, None)?;
        let group = Group {
            id: okta_id("00g"),
            name: name.to_owned(),
            description,
            members: BTreeSet::new(),
            created: ctx.now,
            last_updated: ctx.now,
            last_membership_updated: ctx.now,
        };
        self.groups.insert(group.id.clone(), group.clone());
        events.push(log_event(
            ctx,
            "group.lifecycle.create",
            &[Target::group(&group)],
            None,
        ));
        Ok(group)
    }

    pub(crate) fn update_group(
        &mut self,
        id: &str,
        name: &str,
        description: Option<String>,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<Group, ApiError> {
        self.check_group_name_free(name, Some(id))?;
        let group = self.group_mut(id)?;
        let mut changed = Vec::new();
        if group.name != name {
            changed.push("name");
        }
        if group.description != description {
            changed.push("description");
        }
        group.name = name.to_owned();
        group.description = description;
        if !changed.is_empty() {
            group.last_updated = ctx.now;
        }
        let group = group.clone();
        if !changed.is_empty() {
            let changed = changed.join(",");
            events.push(log_event(
                ctx,
                "group.profile.update",
                &[Target::group(&group)],
                Some(&changed),
            ));
        }
        Ok(group)
    }

    /// Adds (or with `add == false` removes) a member; no event when nothing changes.
    pub(crate) fn set_membership(
        &mut self,
        gid: &str,
        user_key: &str,
        add: bool,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<(), ApiError> {
        let uid = self.user_id(user_key)?;
        self.group_mut(gid)?;
        let before = self.app_memberships();
        let group = self.group_mut(gid)?;
        let changed = if add {
            group.members.insert(uid.clone())
        } else {
            group.members.remove(&uid)
        };
        if !changed {
            return Ok(());
        }
        group.last_membership_updated = ctx.now;
        let group = group.clone();
        if let Some(user) = self.users.get(&uid) {
            let event_type = if add {
                "group.user_membership.add"
            } else {
                "group.user_membership.remove"
            };
            events.push(log_event(
                ctx,
                event_type,
                &[Target::user(user), Target::group(&group)],
                None,
            ));
        }
        self.app_membership_events(&before, ctx, events);
        Ok(())
    }

    // ---- apps ----------------------------------------------------------------------

    pub(crate) fn assign_app(
        &mut self,
        app_id: &str,
        user_key: &str,
        user_name: Option<String>,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<(), ApiError> {
        let uid = self.user_id(user_key)?;
        let login = self
            .users
            .get(&uid)
            .map(|u| u.login().to_owned())
            .unwrap_or_default();
        if !self.apps.contains_key(app_id) {
            return Err(ApiError::not_found(app_id, "AppInstance"));
        }
        let before = self.app_memberships();
        if let Some(app) = self.apps.get_mut(app_id) {
            let user_name = user_name.unwrap_or(login);
            let entry = app.users.entry(uid).or_insert(Assignment {
                user_name: user_name.clone(),
                created: ctx.now,
            });
            entry.user_name = user_name;
        }
        self.app_membership_events(&before, ctx, events);
        Ok(())
    }

    pub(crate) fn unassign_app(
        &mut self,
        app_id: &str,
        user_key: &str,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<(), ApiError> {
        let uid = self.user_id(user_key)?;
        let before = self.app_memberships();
        let app = self
            .apps
            .get_mut(app_id)
            .ok_or_else(|| ApiError::not_found(app_id, "AppInstance"))?;
        let Some(removed) = app.users.remove(&uid) else {
            return Err(ApiError::not_found(&uid, "AppUser"));
        };
        // Only this pair can have ended; the event names the username it had.
        if !self
            .app_memberships()
            .contains(&(app_id.to_owned(), uid.clone()))
            && before.contains(&(app_id.to_owned(), uid.clone()))
            && let (Some(app), Some(user)) = (self.apps.get(app_id), self.users.get(&uid))
        {
            let app_user_id = app
                .app_user_ids
                .get(&uid)
                .cloned()
                .unwrap_or_else(new_app_user_id);
            let targets = [
                Target::app_user(&app_user_id, &removed.user_name, user),
                Target::app(app),
                Target::user(user),
            ];
            events.push(log_event(
                ctx,
                "application.user_membership.remove",
                &targets,
                None,
            ));
        }
        Ok(())
    }

    /// Assigns (or unassigns) a group to an app.
    pub(crate) fn set_app_group(
        &mut self,
        app_id: &str,
        gid: &str,
        assign: bool,
        ctx: &Ctx,
        events: &mut Vec<Value>,
    ) -> Result<(), ApiError> {
        if !self.groups.contains_key(gid) {
            return Err(ApiError::not_found(gid, "UserGroup"));
        }
        let before = self.app_memberships();
        let app = self
            .apps
            .get_mut(app_id)
            .ok_or_else(|| ApiError::not_found(app_id, "AppInstance"))?;
        if assign {
            app.groups.insert(gid.to_owned());
        } else if !app.groups.remove(gid) {
            return Err(ApiError::not_found(gid, "ApplicationGroupAssignment"));
        }
        self.app_membership_events(&before, ctx, events);
        Ok(())
    }

    // ---- System Log ----------------------------------------------------------------

    /// Events with `since <= published < until` (until optional) after sequence `after`,
    /// oldest first.
    pub(crate) fn log_slice(
        &self,
        since: OffsetDateTime,
        until: Option<OffsetDateTime>,
        after: u64,
    ) -> impl Iterator<Item = &Logged> {
        self.log.iter().filter(move |l| {
            l.seq > after && l.published >= since && until.is_none_or(|u| l.published < u)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Actor;
    use crate::seed::Seed;

    fn ctx() -> Ctx {
        Ctx {
            actor: Actor::sim_admin(),
            request_id: "req".into(),
            user_agent: "test".into(),
            request_uri: "/api/v1/test".into(),
            now: OffsetDateTime::now_utc(),
        }
    }

    fn org() -> Org {
        let seed = Seed::from_json(
            r#"{"users":[{"profile":{"login":"a@x","firstName":"A","lastName":"Z"}},
                         {"profile":{"login":"b@x","firstName":"B","lastName":"Y"}}],
                "groups":[{"name":"g","members":["a@x"]}],
                "apps":[{"label":"Contact Centre","assignees":["a@x"],"groups":[]}]}"#,
        )
        .unwrap();
        Org::from_seed(seed.build(OffsetDateTime::now_utc()).unwrap())
    }

    fn types(events: &[Value]) -> Vec<&str> {
        events
            .iter()
            .filter_map(|e| e["eventType"].as_str())
            .collect()
    }

    #[test]
    fn lifecycle_rules() {
        let mut org = org();
        let mut ev = Vec::new();
        assert!(
            org.lifecycle("a@x", Lifecycle::Unsuspend, &ctx(), &mut ev)
                .is_err()
        );
        org.lifecycle("a@x", Lifecycle::Suspend, &ctx(), &mut ev)
            .unwrap();
        assert!(
            org.lifecycle("a@x", Lifecycle::Suspend, &ctx(), &mut ev)
                .is_err()
        );
        org.lifecycle("a@x", Lifecycle::Unsuspend, &ctx(), &mut ev)
            .unwrap();
        assert!(
            org.lifecycle("a@x", Lifecycle::Activate, &ctx(), &mut ev)
                .is_err()
        );
        org.lifecycle("a@x", Lifecycle::Deactivate, &ctx(), &mut ev)
            .unwrap();
        assert!(
            org.lifecycle("a@x", Lifecycle::Suspend, &ctx(), &mut ev)
                .is_err()
        );
        org.lifecycle("a@x", Lifecycle::Reactivate, &ctx(), &mut ev)
            .unwrap();
        assert_eq!(
            types(&ev),
            [
                "user.lifecycle.suspend",
                "user.lifecycle.unsuspend",
                "user.lifecycle.deactivate",
                "user.lifecycle.reactivate"
            ]
        );
        assert_eq!(org.find_user("A@X").unwrap().status, UserStatus::Active);
    }

    #[test]
    fn delete_deactivates_then_deletes() {
        let mut org = org();
        let mut ev = Vec::new();
        org.delete_user("a@x", &ctx(), &mut ev).unwrap();
        assert_eq!(
            org.find_user("a@x").unwrap().status,
            UserStatus::Deprovisioned
        );
        org.delete_user("a@x", &ctx(), &mut ev).unwrap();
        assert!(org.find_user("a@x").is_none());
        assert_eq!(
            types(&ev),
            [
                "user.lifecycle.deactivate",
                "user.lifecycle.delete.initiated"
            ]
        );
        assert!(org.groups.values().all(|g| g.members.is_empty()));
    }

    #[test]
    fn profile_updates_name_changed_attributes_only() {
        let mut org = org();
        let mut ev = Vec::new();
        let mut partial = Map::new();
        partial.insert("lastName".into(), "New".into());
        partial.insert("firstName".into(), "A".into());
        org.update_user("a@x", partial.clone(), false, &ctx(), &mut ev)
            .unwrap();
        assert_eq!(
            ev[0]["debugContext"]["debugData"]["changedAttributes"],
            "lastName"
        );
        org.update_user("a@x", partial, false, &ctx(), &mut ev)
            .unwrap();
        assert_eq!(ev.len(), 1, "no event when nothing changed");
        let mut taken = Map::new();
        taken.insert("login".into(), "B@x".into());
        assert!(
            org.update_user("a@x", taken, false, &ctx(), &mut ev)
                .is_err()
        );
    }

    #[test]
    fn group_driven_app_membership_emits_app_events() {
        let mut org = org();
        let mut ev = Vec::new();
        let gid = org.groups.keys().next().unwrap().clone();
        let app_id = org.apps.keys().next().unwrap().clone();
        org.set_app_group(&app_id, &gid, true, &ctx(), &mut ev)
            .unwrap();
        assert!(ev.is_empty(), "a@x already had the app directly");
        org.set_membership(&gid, "b@x", true, &ctx(), &mut ev)
            .unwrap();
        assert_eq!(
            types(&ev),
            [
                "group.user_membership.add",
                "application.user_membership.add"
            ]
        );
        org.set_membership(&gid, "b@x", true, &ctx(), &mut ev)
            .unwrap();
        assert_eq!(ev.len(), 2, "idempotent");
        org.unassign_app(&app_id, "a@x", &ctx(), &mut ev).unwrap();
        assert_eq!(ev.len(), 2, "a@x keeps the app through the group");
        let app = &org.apps[&app_id];
        assert_eq!(
            org.app_users(app)
                .values()
                .filter(|s| **s == Scope::Group)
                .count(),
            2
        );
        org.set_membership(&gid, "a@x", false, &ctx(), &mut ev)
            .unwrap();
        assert_eq!(
            &types(&ev)[2..],
            [
                "group.user_membership.remove",
                "application.user_membership.remove"
            ]
        );
    }
}
