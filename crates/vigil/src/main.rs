//! The `vigil` command.

mod check;
mod config;
mod diag;
mod explain;
mod hunt;
mod output;
mod query;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run Elastic Security and Microsoft Sentinel detection rules, unchanged, over Azure Activity
/// Logs and endpoint telemetry — on exported files and in CI.
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
    Hunt(hunt::HuntArgs),
    Check(check::CheckArgs),
    Test(test::TestArgs),
    Explain(explain::ExplainArgs),
    Query(query::QueryArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hunt(args) => hunt::run(args),
        Command::Check(args) => check::run(args),
        Command::Test(args) => test::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Query(args) => query::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vigil: {e:#}");
            ExitCode::from(2)
        }
    }
}
