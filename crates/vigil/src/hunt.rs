//! `vigil hunt`: replay detection rules over historical logs.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use vigil_enrich::Enricher;
use vigil_runtime::{Engine, EngineOptions, HuntOptions};
use vigil_schema::Schema;

use crate::{config, diag, output};

/// Replay detection rules over historical logs, as the SIEM would have run them, and print the
/// alerts they raise.
///
/// Each rule runs on its own schedule (`interval`, `from` look-back, `max_signals`) with a
/// simulated clock over the range of the data: an event is searched on the rule's
/// `timestamp_override` (falling back to `@timestamp`), and overlapping look-backs never raise
/// the same alert twice.
#[derive(Args)]
#[command(after_help = "\
Inputs: NDJSON, JSON arrays, Azure {\"records\":[…]} envelopes, storage-account PT1H.json files,
CSV (Log Analytics and Defender exports), Windows .evtx files, gzip (any of these), directories
(recursive) and - for standard input. Native Azure Activity Log records are normalized to ECS as
Elastic's Azure integration does and to AzureActivity rows as Sentinel's connector does; ECS
documents exported from Elasticsearch are read as they are; Sysmon events become Elastic Defend
shaped process and file events, with the process lineage Vigil rebuilds.

Rules: Elastic detection-rules TOML (query, eql, esql, new_terms, threshold), Sentinel analytics
rule YAML and .kql files with a header comment.

Examples:
  vigil hunt examples/                                   built-in rules over the bundled sample
  vigil hunt --rules my-rules/ --format ndjson logs/*.json.gz > alerts.ndjson
  vigil hunt --rules rule.toml --start 2026-05-01 --end 2026-05-08 PT1H.json")]
pub struct HuntArgs {
    /// Rule files or directories of rules (Elastic TOML, Sentinel YAML, .kql). May be
    /// repeated. Without it, Vigil's built-in rules run.
    #[arg(long = "rules", short = 'r', value_name = "PATH")]
    rules: Vec<PathBuf>,

    /// When the rules start running: RFC 3339 (`2026-05-01T00:00:00Z`) or a date (`2026-05-01`).
    /// Like a rule enabled at that time, the first runs look back their `from` (or
    /// `queryPeriod`) before it. Default: the earliest event any rule matches.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    start: Option<Timestamp>,

    /// When the rules stop: no run searches events after it. Default: the latest event any
    /// rule matches.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    end: Option<Timestamp>,

    /// How to print alerts: a table, or one Kibana-shaped alert document per line.
    /// Default: table on a terminal, ndjson otherwise.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<OutputFormat>,

    /// Parse every record, even those no rule can match (slower; the skip never changes alerts).
    #[arg(long)]
    no_prefilter: bool,

    /// Keep rule state (new-terms history, threshold groups, suppression windows, completed
    /// runs, alerts raised) in this directory: later hunts continue where this one stopped, and
    /// a hunt that was killed resumes without duplicates or losses.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,

    /// ASN database for `source.as.*`: MaxMind/GeoLite2 ASN `.mmdb` or an iptoasn `.tsv`. May be
    /// repeated; the first that knows an address wins.
    #[arg(long = "asn-db", value_name = "FILE")]
    asn_db: Vec<PathBuf>,

    /// GeoIP City database (`.mmdb`) for `source.geo.*` and `geo.*`.
    #[arg(long = "geo-db", value_name = "FILE")]
    geo_db: Option<PathBuf>,

    /// Configuration file (TOML: `[enrich] asn_db`, `geo_db`; `[state] dir`). Default:
    /// `$VIGIL_CONFIG`, else `~/.config/vigil/config.toml` when it exists. Flags win over it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Records larger than this many bytes are reported and skipped.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_record_bytes: usize,

    /// Print no summary and no progress on standard error.
    #[arg(long, short)]
    quiet: bool,

    /// Files, directories or `-` (standard input) to read.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Ndjson,
}

pub(crate) fn parse_time(s: &str) -> Result<Timestamp, String> {
    vigil_event::parse_rfc3339(s)
        .map_err(|_| format!("`{s}` is not a time: use 2026-05-01T12:00:00Z or 2026-05-01"))
}

pub fn run(mut args: HuntArgs) -> anyhow::Result<ExitCode> {
    let color = std::io::stderr().is_terminal();
    let config = config::load(args.config.as_deref())?;
    if args.asn_db.is_empty() {
        args.asn_db = config.enrich.asn_db;
    }
    args.geo_db = args.geo_db.or(config.enrich.geo_db);
    args.state = args.state.or(config.state.dir);
    let loaded = if args.rules.is_empty() {
        vigil_rules::builtin::load()
    } else {
        vigil_rules::load_paths(&args.rules)
    };
    for e in &loaded.errors {
        let text = std::fs::read_to_string(&e.path).ok();
        eprint!("{}", diag::render(e, text.as_deref(), color));
    }
    if let (Some(s), Some(e)) = (args.start, args.end)
        && e < s
    {
        bail!("--end ({e}) is before --start ({s})");
    }
    let enricher = if args.asn_db.is_empty() && args.geo_db.is_none() {
        None
    } else {
        let e = Enricher::open(&args.asn_db, args.geo_db.as_deref())
            .context("cannot open an enrichment database")?;
        Some(std::sync::Arc::new(e))
    };
    let engine = Engine::new(
        loaded.rules,
        Schema::elastic(),
        &EngineOptions {
            no_prefilter: args.no_prefilter,
            enricher,
        },
    );
    for n in &engine.not_run {
        eprintln!("vigil: not running `{}` ({}): {}", n.name, n.path, n.reason);
    }
    if engine.rules.is_empty() {
        bail!(
            "no rule can run (loaded {}, failed to load {})",
            engine.not_run.len(),
            loaded.errors.len()
        );
    }

    let progress = (!args.quiet && color).then(|| {
        let bar = ProgressBar::hidden();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {wide_bar}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let hook = progress.clone().map(|bar| {
        Box::new(move |p: &vigil_ingest::Progress| {
            // Show the bar only for inputs worth waiting for.
            if let Some(total) = p.bytes_total
                && total > 32 << 20
                && bar.is_hidden()
            {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_length(total);
            }
            bar.set_position(p.bytes_read);
        }) as Box<dyn FnMut(&vigil_ingest::Progress) + Send>
    });
    let opts = HuntOptions {
        start: args.start,
        end: args.end,
        ingest: vigil_ingest::Options {
            max_record_bytes: args.max_record_bytes,
            ..Default::default()
        },
        progress: hook,
        max_bad_kept: 20,
        state: args.state.clone(),
    };
    let report = vigil_runtime::hunt(&engine, &args.inputs, opts).context("hunt failed")?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }

    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        OutputFormat::Table
    } else {
        OutputFormat::Ndjson
    });
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        OutputFormat::Ndjson => output::ndjson(&mut out, &report.alerts)?,
        OutputFormat::Table => output::table(&mut out, &engine, &report.alerts)?,
    }
    out.flush()?;
    drop(out);
    // Delivered: close the session so that the same hunt run again does not repeat them.
    if let Some(session) = &report.session {
        vigil_runtime::finish_session(args.state.as_deref(), session)
            .context("cannot update the state")?;
    }
    if !args.quiet {
        eprint!("{}", output::summary(&engine, &report));
    }
    Ok(ExitCode::SUCCESS)
}
