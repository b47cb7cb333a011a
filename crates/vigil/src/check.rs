//! `vigil check`: validate rule files offline.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use vigil_check::Level;

/// Validate rule files offline, as detection-rules' tests, Kibana and Sentinel would: schema,
/// query syntax and plan, fields the query reads, schedule, new_terms, threshold and suppression
/// settings, severity and risk score, MITRE ATT&CK mappings, tags, investigation guide, and
/// Sentinel's keys, durations and entity mappings.
///
/// Every finding has a code (documented in docs/check.md), a level, the file, line and column,
/// and a fix hint. Exit status: 0 when no error was found, 1 when one was (or a warning, with
/// --deny-warnings), 2 when the paths cannot be read or the arguments are wrong.
#[derive(Args)]
#[command(after_help = "\
Rules: Elastic detection-rules TOML, Sentinel analytics rule YAML (and hunting query YAML), .kql
files. Directories are searched recursively; *.test.toml fixtures are skipped.

Levels: error (the platform would reject the rule, or it cannot work as written), warning (likely
wrong, or a convention not followed), note (for information). Codes VC9xx mark what Vigil itself
does not support: the rule may be valid for its platform.

Examples:
  vigil check rules/                                    every rule under rules/
  vigil check --format sarif rules/ > vigil.sarif       for code-scanning annotations in CI
  vigil check --format json --deny-warnings rule.toml")]
pub struct CheckArgs {
    /// Rule files or directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// How to print findings.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Exit with status 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Each finding with its source line, then a summary.
    Human,
    /// One JSON document: files, findings, counts per code.
    Json,
    /// SARIF 2.1.0, for CI systems that annotate pull requests.
    Sarif,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let report = vigil_check::check_paths(&args.paths)?;
    let text = match args.format {
        Format::Human => vigil_check::render::human(&report, &|p| std::fs::read_to_string(p).ok()),
        Format::Json => format!("{:#}\n", vigil_check::render::json(&report)),
        Format::Sarif => format!("{:#}\n", vigil_check::render::sarif(&report)),
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("cannot write the findings")?;
    let failing = report.count_level(Level::Error) > 0
        || (args.deny_warnings && report.count_level(Level::Warning) > 0);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
