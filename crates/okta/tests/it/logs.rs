//! The System Log on okta-sim: every event of a window across pages of 1000, in
//! `published` order, exactly as Okta served it; filtered by type; bounded by until.

use std::collections::BTreeSet;
use std::time::Duration;

use okta_connect_core::identity::LogQuery;
use okta_connect_core::okta::OktaEvent;
use okta_connect_core::ports::IdentitySource;
use okta_connect_core::time::UnixMillis;
use okta_connect_okta::OktaApi;
use okta_sim::{Admin, Family, NewUser, Seed};
use serde_json::Value;

use crate::support::{TOKEN, jwt, serve};

#[tokio::test]
async fn a_window_is_read_across_pages_in_order_and_filtered() {
    let server = serve(Seed::default(), |b| b).await;
    let admin = Admin::new(server.url(), TOKEN).unwrap();
    let since = UnixMillis::now();
    // 520 created and activated users: 1040 events, two pages of 1000.
    for i in 0..520 {
        admin
            .create_user(&NewUser {
                login: format!("u{i}@example.com"),
                first_name: "U".into(),
                last_name: format!("{i}"),
                email: format!("u{i}@example.com"),
            })
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let api = OktaApi::new(jwt(&server.url())).unwrap();
    let all = api
        .system_log(&LogQuery {
            since,
            until: None,
            event_types: vec![],
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 1040);
    assert!(server.sim().counters().requests(Family::Logs) >= 2);
    let parsed: Vec<OktaEvent> = all
        .iter()
        .map(|e| OktaEvent::parse(&e.0).unwrap())
        .collect();
    assert!(
        parsed
            .windows(2)
            .all(|w| w[0].published_at() <= w[1].published_at())
    );
    let uuids: BTreeSet<&str> = parsed.iter().map(|e| e.uuid.as_str()).collect();
    assert_eq!(uuids.len(), 1040, "no event twice");
    // Each event is Okta's JSON, unchanged.
    let sim_events: Vec<Value> = server.sim().log_events();
    let first: Value = serde_json::from_str(&all[0].0).unwrap();
    assert!(sim_events.contains(&first));

    let activations = api
        .system_log(&LogQuery {
            since,
            until: None,
            event_types: vec!["user.lifecycle.activate".into()],
        })
        .await
        .unwrap();
    assert_eq!(activations.len(), 520);
    let both = api
        .system_log(&LogQuery {
            since,
            until: None,
            event_types: vec![
                "user.lifecycle.activate".into(),
                "user.lifecycle.create".into(),
            ],
        })
        .await
        .unwrap();
    assert_eq!(both.len(), 1040);

    // `until` bounds the window: only what was published before it.
    let cut = parsed[99].published_at();
    let before_cut = api
        .system_log(&LogQuery {
            since,
            until: Some(cut),
            event_types: vec![],
        })
        .await
        .unwrap();
    let expected = parsed.iter().filter(|e| e.published_at() < cut).count();
    assert_eq!(before_cut.len(), expected);
}
