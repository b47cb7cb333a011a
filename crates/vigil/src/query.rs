//! `vigil query`: one ad-hoc query in any supported language over logs, for hunting.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use jiff::Timestamp;
use vigil_event::Value;
use vigil_runtime::{Engine, EngineOptions, HuntOptions, QueryRow};
use vigil_schema::Schema;

use crate::hunt::{OutputFormat, parse_time};
use crate::{diag, output};

/// Run one query over logs and print what it returns: the matching events (KQL, EQL) or the
/// result rows (ES|QL, Kusto).
///
/// Records are read and normalized as `vigil hunt` reads them: KQL, EQL and ES|QL search the
/// ECS documents (native Azure Activity records become what Elastic's integration indexes),
/// Kusto searches the tables (`AzureActivity`, `DeviceProcessEvents`, …). There is no
/// schedule: the query runs once over every event, and `now` (for `now-1d`, `ago(1h)`,
/// `NOW()`) is the current time unless `--now` says otherwise.
#[derive(Args)]
#[command(after_help = "\
Output: KQL and EQL print matching events (a table of common fields, or --fields); an EQL
sequence prints its events in order, numbered by sequence (`sequence` in NDJSON). ES|QL and
Kusto print their result columns. In NDJSON each row is a whole document (or the result
columns), one per line.

Examples:
  vigil query 'event.action:*EXTENSIONS/WRITE and event.outcome:success' examples/
  vigil query --lang eql 'any where azure.activitylogs.identity.authorization.evidence.principal_type == \"User\"' logs/
  vigil query --lang esql 'FROM logs-* | STATS n = COUNT(*) BY event.action | SORT n DESC' examples/
  vigil query --lang kusto 'AzureActivity | summarize count() by Caller' examples/
  vigil query --fields @timestamp,user.name,source.ip --format ndjson 'source.ip:81.2.0.0/16' logs/")]
pub struct QueryArgs {
    /// The query language: Kibana KQL, EQL, ES|QL or Kusto (KQL of Sentinel and Defender).
    #[arg(long, value_enum, default_value = "kuery", value_name = "LANG")]
    lang: Lang,

    /// The current time the query sees: RFC 3339 or a date. Default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    now: Option<Timestamp>,

    /// How to print rows: a table, or one JSON document per line. Default: table on a
    /// terminal, ndjson otherwise.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<OutputFormat>,

    /// Fields to print (comma-separated dotted paths), instead of the defaults for events or
    /// every result column.
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    fields: Vec<String>,

    /// Print at most this many rows. Default: 100 for a table, all for NDJSON.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,

    /// ASN database for `source.as.*` (as `vigil hunt --asn-db`). May be repeated.
    #[arg(long = "asn-db", value_name = "FILE")]
    asn_db: Vec<PathBuf>,

    /// GeoIP City database for `source.geo.*` (as `vigil hunt --geo-db`).
    #[arg(long = "geo-db", value_name = "FILE")]
    geo_db: Option<PathBuf>,

    /// Print no summary on standard error.
    #[arg(long, short)]
    quiet: bool,

    /// The query.
    #[arg(value_name = "QUERY")]
    query: String,

    /// Files, directories or `-` (standard input) to read.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    Kuery,
    Eql,
    Esql,
    Kusto,
}

impl Lang {
    fn name(self) -> &'static str {
        match self {
            Lang::Kuery => "kuery",
            Lang::Eql => "eql",
            Lang::Esql => "esql",
            Lang::Kusto => "kusto",
        }
    }
}

/// Columns a table shows for events, when present in some row.
const EVENT_FIELDS: &[&str] = &[
    "@timestamp",
    "TimeGenerated",
    "Timestamp",
    "event.category",
    "event.action",
    "OperationNameValue",
    "ActionType",
    "event.outcome",
    "ActivityStatusValue",
    "host.name",
    "DeviceName",
    "azure.resource.name",
    "user.name",
    "Caller",
    "AccountName",
    "process.name",
    "FileName",
    "source.ip",
    "CallerIpAddress",
];

/// At most this many default event columns.
const MAX_DEFAULT_COLUMNS: usize = 7;

pub fn run(args: QueryArgs) -> anyhow::Result<ExitCode> {
    let color = std::io::stderr().is_terminal();
    let name = "query";
    let invalid = |e: vigil_rules::RuleError| {
        eprint!(
            "{}",
            diag::render_at(name, &e.message, e.span, Some(&args.query), color)
        );
        Ok(ExitCode::from(2))
    };
    let rule = match vigil_rules::Rule::ad_hoc(name, args.lang.name(), &args.query) {
        Ok(r) => r,
        Err(e) => return invalid(e),
    };
    if let Err(e) = rule.plan(Schema::elastic()) {
        return invalid(e);
    }
    let enricher = if args.asn_db.is_empty() && args.geo_db.is_none() {
        None
    } else {
        let e = vigil_enrich::Enricher::open(&args.asn_db, args.geo_db.as_deref())
            .context("cannot open an enrichment database")?;
        Some(std::sync::Arc::new(e))
    };
    let engine = Engine::new(
        vec![rule],
        Schema::elastic(),
        &EngineOptions {
            no_prefilter: false,
            enricher,
        },
    );
    if let Some(n) = engine.not_run.first() {
        bail!("the query cannot run: {}", n.reason);
    }
    let mut inputs = vigil_ingest::Inputs::new();
    for i in &args.inputs {
        inputs.add(i)?;
    }
    let now = args.now.unwrap_or_else(Timestamp::now);
    let opts = HuntOptions {
        max_bad_kept: 20,
        ..HuntOptions::default()
    };
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        OutputFormat::Table
    } else {
        OutputFormat::Ndjson
    });
    let limit = args.limit.or(match format {
        OutputFormat::Table => Some(100),
        OutputFormat::Ndjson => None,
    });
    let result = vigil_runtime::query(&engine, inputs, now, limit, opts).context("query failed")?;
    let total = result.total;
    // The runtime stops at the limit, but keeps the events of a sequence together.
    let rows = &result.rows;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        OutputFormat::Ndjson => ndjson(&mut out, rows, &args.fields)?,
        OutputFormat::Table => {
            let columns = if !args.fields.is_empty() {
                args.fields.clone()
            } else if !result.columns.is_empty() {
                result.columns.clone()
            } else {
                default_columns(rows)
            };
            table(&mut out, rows, &columns)?;
        }
    }
    out.flush()?;
    drop(out);
    if !args.quiet {
        let r = &result.report;
        let records: u64 = r.stats.iter().map(|s| s.records + s.bad_records).sum();
        let bad: u64 = r.stats.iter().map(|s| s.bad_records).sum::<u64>() + r.undecodable;
        let mut s = format!(
            "{total} row{} from {records} records ({bad} bad)",
            if total == 1 { "" } else { "s" }
        );
        if rows.len() < total {
            s.push_str(&format!("; printed {} (--limit)", rows.len()));
        }
        eprintln!("{s}");
        for b in &r.bad {
            eprintln!("  bad record {}", b.display(&r.inputs));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ndjson(out: &mut impl Write, rows: &[QueryRow], fields: &[String]) -> std::io::Result<()> {
    for r in rows {
        let mut doc = if fields.is_empty() {
            r.doc.clone()
        } else {
            let mut m = vigil_event::Map::new();
            for f in fields {
                if let Some(v) = field(&r.doc, f) {
                    m.insert(f.as_str().into(), v);
                }
            }
            Value::Object(m)
        };
        if let (Some(n), Value::Object(m)) = (r.sequence, &mut doc) {
            m.insert("sequence".into(), Value::Int(n as i64));
        }
        serde_json::to_writer(&mut *out, &doc)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A field's value in a row: one value, or an array of a multi-valued field's values.
fn field(doc: &Value, path: &str) -> Option<Value> {
    // Result columns are keyed by their whole name (`a.b` is one column).
    if let Some(v) = doc.as_object().and_then(|m| m.get(path)) {
        return Some(v.clone());
    }
    let leaves: Vec<Value> = doc
        .lookup(path)
        .into_iter()
        .flat_map(Value::leaves)
        .cloned()
        .collect();
    match leaves.len() {
        0 => None,
        1 => leaves.into_iter().next(),
        _ => Some(Value::Array(leaves)),
    }
}

/// The event columns some printed row has, in [`EVENT_FIELDS`] order.
fn default_columns(rows: &[QueryRow]) -> Vec<String> {
    let mut cols: Vec<String> = EVENT_FIELDS
        .iter()
        .filter(|f| rows.iter().any(|r| field(&r.doc, f).is_some()))
        .take(MAX_DEFAULT_COLUMNS)
        .map(|f| f.to_string())
        .collect();
    if cols.is_empty() {
        cols.push("@timestamp".into());
    }
    cols
}

fn cell(v: Option<Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(Value::Array(items)) => items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        Some(v) => v.to_string(),
    }
    .replace(['\n', '\t'], " ")
}

const MAX_CELL: usize = 60;

fn table(out: &mut impl Write, rows: &[QueryRow], columns: &[String]) -> std::io::Result<()> {
    let seq = rows.iter().any(|r| r.sequence.is_some());
    let mut header: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    if seq {
        header.insert(0, "SEQ".into());
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut line: Vec<String> = columns.iter().map(|c| cell(field(&r.doc, c))).collect();
            if seq {
                line.insert(0, r.sequence.map_or("-".into(), |n| (n + 1).to_string()));
            }
            line
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for line in &cells {
        for (i, c) in line.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count().min(MAX_CELL));
        }
    }
    let write_line = |out: &mut dyn Write, line: &[String]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in line.iter().enumerate() {
            let c = output::truncate(c, widths[i]);
            s.push_str(&c);
            if i + 1 < line.len() {
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    write_line(out, &header)?;
    for line in &cells {
        write_line(out, line)?;
    }
    Ok(())
}
