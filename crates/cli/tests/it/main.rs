//! The operator's command line end to end, one integration binary: the local pipeline
//! (ingest over HTTP, embedded queue and ledger, sync engine, connect-sim) driven the
//! way Okta drives it, and the `okta-connect` binary killed and restarted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod demo_story;
mod dev_http;
mod dev_live;
mod dev_restart;
mod okta_live;
mod operate;

/// The local pipeline on `state` with `config_text` and hook secret `secret`, isolated
/// (simulated Connect, unthrottled, its own free port).
async fn start_pipeline(
    state: &std::path::Path,
    config_text: &str,
    secret: &str,
) -> okta_connect::pipeline::Pipeline {
    let config = okta_connect_core::config::Config::from_ini(config_text).unwrap();
    okta_connect::pipeline::Pipeline::start(okta_connect::pipeline::LocalSettings::isolated(
        config,
        state.to_path_buf(),
        secret.to_string(),
        false,
    ))
    .await
    .unwrap()
}
