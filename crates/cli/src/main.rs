//! `okta-connect`: the operator's command line. Parsing and dispatch only; each command
//! lives in `okta_connect::commands`.

use std::process::ExitCode;

use clap::Parser;
use okta_connect::commands::Command;

#[derive(Parser, Debug)]
#[command(
    name = "okta-connect",
    version,
    about = "Keep Amazon Connect users in step with Okta"
)]
struct Cli {
    /// Machine-readable JSON output instead of tables and text for people.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.command.run(cli.json)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// clap's own consistency checks (a clash such as two `--json` flags panics only
    /// when that command is parsed in a debug build; this finds it in every build).
    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn json_is_accepted_before_and_after_the_subcommand() {
        for args in [
            ["okta-connect", "--json", "check-config", "x.ini"],
            ["okta-connect", "check-config", "x.ini", "--json"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert!(cli.json);
        }
    }
}
