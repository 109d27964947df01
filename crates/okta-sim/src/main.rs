//! `okta-sim`: run a simulated Okta org until Ctrl-C or SIGTERM. The first line on stdout
//! is the org URL.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use okta_sim::{Family, OAuthClient, OktaSim, RateLimits, Seed};

/// A simulated Okta org (Management API, OAuth token endpoint, System Log, event hooks).
#[derive(Debug, Parser)]
#[command(name = "okta-sim", version)]
struct Args {
    /// Address to listen on; port 0 picks a free one. Loopback by default: the simulator
    /// is for local use.
    #[arg(long, default_value = "127.0.0.1:8788", env = "OKTA_SIM_LISTEN")]
    listen: SocketAddr,
    /// Seed file (JSON); the built-in demo seed when absent.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Start with an empty org instead of the demo seed.
    #[arg(long, conflicts_with = "seed")]
    empty: bool,
    /// An SSWS API token to accept; repeatable. Default: `sim-token`.
    #[arg(long = "api-token", value_name = "TOKEN")]
    api_tokens: Vec<String>,
    /// A service app for private_key_jwt: CLIENT_ID=JWK_FILE=SCOPE[,SCOPE…]; repeatable.
    #[arg(long = "oauth-client", value_name = "ID=JWK_FILE=SCOPES", value_parser = parse_client)]
    oauth_clients: Vec<OAuthClient>,
    /// Per-window budget of one endpoint family, e.g. `apps=100`; repeatable. Families:
    /// token, users, user-by-id, groups, group-by-id, apps, logs, event-hooks.
    #[arg(long = "rate-limit", value_name = "FAMILY=N", value_parser = parse_rate_limit)]
    rate_limits: Vec<(Family, u32)>,
    /// Rate-limit window in seconds (Okta: 60).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    rate_window: u64,
    /// No rate limits at all.
    #[arg(long, conflicts_with = "rate_limits")]
    unlimited: bool,
    /// Added latency per request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency: u64,
    /// Access-token lifetime in seconds (Okta: 3600).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    token_lifetime: u64,
    /// Event-hook batch window in milliseconds.
    #[arg(long, default_value_t = 100)]
    hook_batch_ms: u64,
    /// Log as JSON lines (on stderr).
    #[arg(long)]
    json_logs: bool,
}

fn parse_rate_limit(text: &str) -> Result<(Family, u32), String> {
    let (family, n) = text
        .split_once('=')
        .ok_or("expected FAMILY=N, e.g. apps=100")?;
    let n = n
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("{n:?} is not a whole number"))?;
    Ok((family.trim().parse()?, n))
}

fn parse_client(text: &str) -> Result<OAuthClient, String> {
    let mut parts = text.splitn(3, '=');
    let (Some(id), Some(file), Some(scopes)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected CLIENT_ID=JWK_FILE=SCOPE[,SCOPE…]".into());
    };
    let jwk_text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let jwk: serde_json::Value =
        serde_json::from_str(&jwk_text).map_err(|e| format!("{file}: {e}"))?;
    // A file may hold one JWK or a JWK set.
    let jwks = match jwk.get("keys").and_then(|k| k.as_array()) {
        Some(keys) => keys.clone(),
        None => vec![jwk],
    };
    Ok(OAuthClient::new(
        id,
        jwks,
        scopes.split(',').map(str::trim).filter(|s| !s.is_empty()),
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if args.json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .init();
    }

    let seed = match (&args.seed, args.empty) {
        (Some(path), _) => Seed::load(path)?,
        (None, true) => Seed::default(),
        (None, false) => Seed::demo(),
    };
    let mut limits = if args.unlimited {
        RateLimits::unlimited()
    } else {
        RateLimits::okta_defaults()
    };
    limits = limits.window(Duration::from_secs(args.rate_window));
    for (family, n) in args.rate_limits {
        limits = limits.with(family, n);
    }
    let mut builder = OktaSim::builder()
        .seed(seed)
        .rate_limits(limits)
        .token_lifetime(Duration::from_secs(args.token_lifetime))
        .hook_batch_window(Duration::from_millis(args.hook_batch_ms));
    let tokens = if args.api_tokens.is_empty() {
        vec!["sim-token".to_owned()]
    } else {
        args.api_tokens
    };
    for token in tokens {
        builder = builder.api_token(token);
    }
    for client in args.oauth_clients {
        builder = builder.oauth_client(client);
    }
    let sim = builder.build()?;
    sim.faults().latency(Duration::from_millis(args.latency));
    let server = sim.serve(args.listen).await.context("starting okta-sim")?;
    println!("{}", server.url());

    stop_signal().await?;
    tracing::info!("stopping");
    server.shutdown().await?;
    Ok(())
}

/// Ctrl-C, or SIGTERM where there is one (how service managers and `kill` stop us).
async fn stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
    }
}
