//! The `vigil` command.

mod check;
mod config;
mod diag;
mod hunt;
mod output;
mod query;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run Elastic Security and Microsoft Sentinel detection rules, unchanged, over Azure Activity
/// Logs and endpoint telemetry — on exported files, in CI, or on a live stream.
#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Check(check::CheckArgs),
    Hunt(hunt::HuntArgs),
    Query(query::QueryArgs),
    Test(test::TestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Hunt(args) => hunt::run(args),
        Command::Query(args) => query::run(args),
        Command::Test(args) => test::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vigil: {e:#}");
            ExitCode::from(2)
        }
    }
}
