//! System Log events in the shape Okta records them (and sends them to event hooks):
//! every member present, many of them null, as in `tests/fixtures/okta/*.json`.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::model::{App, Group, User};
use crate::util::{okta_id, rfc3339_ms};

/// Who made a change: the `actor` of the events it records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Actor {
    pub id: String,
    pub kind: &'static str,
    pub alternate_id: String,
    pub display_name: String,
}

impl Actor {
    /// The admin behind every SSWS token (the simulator has one).
    pub(crate) fn sim_admin() -> Actor {
        Actor {
            id: SIM_ADMIN_ID.to_owned(),
            kind: "User",
            alternate_id: "sim.admin@okta-sim.example".to_owned(),
            display_name: "Sim Admin".to_owned(),
        }
    }

    /// A service app calling with an OAuth access token.
    pub(crate) fn client(client_id: &str) -> Actor {
        Actor {
            id: client_id.to_owned(),
            kind: "PublicClientApp",
            alternate_id: client_id.to_owned(),
            display_name: client_id.to_owned(),
        }
    }
}

/// The id of the simulated admin user ("Sim Admin").
pub const SIM_ADMIN_ID: &str = "00u51mAdm1nUs3r00000";

/// The request a change came from: everything an event takes from it.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub actor: Actor,
    pub request_id: String,
    pub user_agent: String,
    pub request_uri: String,
    pub now: OffsetDateTime,
}

/// One element of an event's `target` array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub id: String,
    pub kind: &'static str,
    pub alternate_id: String,
    pub display_name: String,
}

impl Target {
    pub(crate) fn user(user: &User) -> Target {
        Target {
            id: user.id.clone(),
            kind: "User",
            alternate_id: user.login().to_owned(),
            display_name: user.display_name(),
        }
    }

    /// Okta writes `alternateId` "unknown" for groups.
    pub(crate) fn group(group: &Group) -> Target {
        Target {
            id: group.id.clone(),
            kind: "UserGroup",
            alternate_id: "unknown".to_owned(),
            display_name: group.name.clone(),
        }
    }

    /// `alternateId` is the instance label, `displayName` the catalog app's name.
    pub(crate) fn app(app: &App) -> Target {
        Target {
            id: app.id.clone(),
            kind: "AppInstance",
            alternate_id: app.label.clone(),
            display_name: app.catalog_display_name.clone(),
        }
    }

    pub(crate) fn app_user(app_user_id: &str, user_name: &str, user: &User) -> Target {
        Target {
            id: app_user_id.to_owned(),
            kind: "AppUser",
            alternate_id: user_name.to_owned(),
            display_name: user.display_name(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "alternateId": self.alternate_id,
            "displayName": self.display_name,
            "detailEntry": null
        })
    }
}

/// The display message and legacy type Okta gives each event type the simulator emits.
fn describe(event_type: &str) -> (&'static str, Option<&'static str>) {
    match event_type {
        "user.lifecycle.create" => (
            "Create Okta user",
            Some("core.user.config.user_creation_success"),
        ),
        "user.lifecycle.activate" => ("Activate Okta user", Some("core.user.config.user_activate")),
        "user.lifecycle.deactivate" => (
            "Deactivate Okta user",
            Some("core.user.config.user_deactivate"),
        ),
        "user.lifecycle.reactivate" => (
            "Reactivate Okta user",
            Some("core.user.config.user_reactivate"),
        ),
        "user.lifecycle.suspend" => ("Suspend Okta user", Some("core.user.config.user_suspend")),
        "user.lifecycle.unsuspend" => (
            "Unsuspend Okta user",
            Some("core.user.config.user_unsuspend"),
        ),
        "user.lifecycle.delete.initiated" => ("Delete Okta user", None),
        "user.account.update_profile" => ("Update user profile for Okta", None),
        "group.user_membership.add" => (
            "Add user to group membership",
            Some("core.user_group_member.user_add"),
        ),
        "group.user_membership.remove" => (
            "Remove user from group membership",
            Some("core.user_group_member.user_remove"),
        ),
        "group.lifecycle.create" => ("Create okta group", None),
        "group.profile.update" => ("Update group profile", None),
        "application.user_membership.add" => (
            "Add user to application membership",
            Some("app.generic.provision.assign_user_to_app"),
        ),
        "application.user_membership.remove" => (
            "Remove user from application membership",
            Some("app.generic.unprovision.user"),
        ),
        _ => ("", None),
    }
}

/// A LogEvent: `event_type` on `targets` (in Okta's order), with `changedAttributes` when
/// given (attribute names only, never values).
pub(crate) fn log_event(
    ctx: &Ctx,
    event_type: &str,
    targets: &[Target],
    changed_attributes: Option<&str>,
) -> Value {
    let (message, legacy) = describe(event_type);
    let mut debug = json!({
        "requestId": ctx.request_id,
        "dtHash": null,
        "requestUri": ctx.request_uri,
        "url": format!("{}?", ctx.request_uri)
    });
    if let (Some(changed), Some(object)) = (changed_attributes, debug.as_object_mut()) {
        object.insert(
            "changedAttributes".into(),
            Value::String(changed.to_owned()),
        );
    }
    json!({
        "uuid": uuid::Uuid::new_v4().to_string(),
        "published": rfc3339_ms(ctx.now),
        "eventType": event_type,
        "version": "0",
        "displayMessage": message,
        "severity": "INFO",
        "client": {
            "userAgent": { "rawUserAgent": ctx.user_agent, "os": "Unknown", "browser": "UNKNOWN" },
            "zone": "null",
            "device": "Unknown",
            "id": null,
            "ipAddress": "127.0.0.1",
            "geographicalContext": null,
            "ipChain": []
        },
        "device": null,
        "actor": {
            "id": ctx.actor.id,
            "type": ctx.actor.kind,
            "alternateId": ctx.actor.alternate_id,
            "displayName": ctx.actor.display_name,
            "detailEntry": null
        },
        "outcome": { "result": "SUCCESS", "reason": null },
        "target": targets.iter().map(Target::to_json).collect::<Vec<_>>(),
        "transaction": { "type": "WEB", "id": ctx.request_id, "detail": {} },
        "debugContext": { "debugData": debug },
        "legacyEventType": legacy,
        "authenticationContext": {
            "authenticationProvider": null,
            "credentialProvider": null,
            "credentialType": null,
            "issuer": null,
            "interface": null,
            "authenticationStep": 0,
            "rootSessionId": "unknown",
            "externalSessionId": "unknown"
        },
        "securityContext": {
            "asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null
        },
        "insertionTimestamp": null
    })
}

/// A fresh `0ua…` id for a (user, app) pair.
pub(crate) fn new_app_user_id() -> String {
    okta_id("0ua")
}
