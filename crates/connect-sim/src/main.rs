//! `connect-sim`: run the simulated Amazon Connect user service until Ctrl-C.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use connect_sim::{
    Faults, Operation, RateLimit, Seed, Sim, parse_operation_rate, parse_rate, seed,
};

/// A local Amazon Connect user service for the real aws-sdk-connect client
/// (point `endpoint_url` at the printed URL). Admin endpoints live under /_sim.
#[derive(Debug, Parser)]
#[command(name = "connect-sim", version)]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8787, env = "CONNECT_SIM_PORT")]
    port: u16,
    /// Address to bind. Loopback by default: the simulator has no real authentication.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// Seed file (JSON) with instances, profiles, groups and users; the built-in default
    /// seed when absent (see --print-default-seed).
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Requests per second allowed per operation, e.g. `2` or `2/s` (Connect: 2).
    #[arg(long, value_name = "R/s", value_parser = parse_rate)]
    rate: Option<f64>,
    /// Burst size of each operation's token bucket (Connect: 5).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    burst: Option<u32>,
    /// Rate for one operation, e.g. `CreateUser=1/s:2`; repeatable.
    #[arg(long = "operation-rate", value_name = "OP=R[/s][:BURST]", value_parser = parse_operation_rate)]
    operation_rates: Vec<(Operation, RateLimit)>,
    /// Never throttle.
    #[arg(long, conflicts_with_all = ["rate", "burst", "operation_rates"])]
    no_throttle: bool,
    /// Faults, e.g. `error-rate=0.05,latency=100ms,fail=CreateUser:ThrottlingException:3`.
    #[arg(long, value_name = "SPEC")]
    faults: Option<Faults>,
    /// State file (JSON): loaded at start if present, rewritten atomically on each change.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Print the built-in default seed (a template for --seed) and exit.
    #[arg(long)]
    print_default_seed: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.print_default_seed {
        print!("{}", seed::DEFAULT_SEED_JSON);
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let seed = match &args.seed {
        Some(path) => Seed::from_path(path)?,
        None => Seed::default(),
    };
    let mut builder = Sim::builder().seed(seed);
    let mut limit = RateLimit::CONNECT_DEFAULT;
    if let Some(rate) = args.rate {
        limit.per_second = rate;
    }
    if let Some(burst) = args.burst {
        limit.burst = burst;
    }
    builder = builder.rate(limit);
    for (operation, limit) in args.operation_rates {
        builder = builder.operation_rate(operation, limit);
    }
    if args.no_throttle {
        builder = builder.no_throttle();
    }
    if let Some(faults) = args.faults {
        builder = builder.faults(faults);
    }
    if let Some(state) = args.state {
        builder = builder.state_file(state);
    }
    let sim = builder.build()?;
    let server = sim
        .serve(SocketAddr::new(args.bind, args.port))
        .await
        .context("starting connect-sim")?;
    println!("connect-sim listening on {}", server.url());

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
