//! The `vigil` command.

mod diag;
mod explain;
mod hunt;
mod output;

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
    Hunt(hunt::HuntArgs),
    Explain(explain::ExplainArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hunt(args) => hunt::run(args),
        Command::Explain(args) => explain::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vigil: {e:#}");
            ExitCode::from(2)
        }
    }
}
