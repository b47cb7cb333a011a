//! `vigil explain`: why a rule does or does not alert on an event.

use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use jiff::Timestamp;
use serde_json::{Value as Json, json};
use vigil_event::Value;
use vigil_exec::{Detail, ExprNode, NodeValue, Outcome, Stage, StepExplain};
use vigil_runtime::engine::Reads;
use vigil_runtime::explain::{ExplainOptions, RecordExplain, Verdict, ViewExplain};
use vigil_runtime::{Engine, EngineOptions, EngineRule};
use vigil_schema::Schema;

use crate::diag;

/// Show why a rule does or does not alert on events: each condition of the rule's query with
/// its value for the event (true, false, null, or a missing field), the first condition that
/// fails, and for sequences and aggregations the step or group the event meets.
///
/// Events are read as `vigil hunt` reads them (native Azure Activity records become ECS
/// documents and AzureActivity rows, Sysmon events become endpoint documents, …), so the
/// explained fields are exactly what the rule sees. The query is evaluated at the event's own
/// time unless `--now` says otherwise.
#[derive(Args)]
#[command(after_help = "\
Output: for each record, each operator of the rule's plan with the rows it kept, and under each
filter the tree of its conditions: `true`, `false`, `null` (unknown: ES|QL and Kusto comparisons
with a missing or multi-valued operand) or `missing` for a field the event does not have. The
first failing condition is marked `✗ … <- fails here`. Operators after an aggregation, a
sequence or a join are listed but not judged: they depend on other events.

Examples:
  vigil explain --rule rules/azure/persistence_vm_script_extension_write.toml events.ndjson
  vigil explain --rule my-rule.yaml --event '{\"time\":\"2026-05-18T10:00:00Z\", …}'
  vigil explain --rules my-rules/ --rule 4f1c7a52-… --format json - < events.json
  vigil explain --rule seq.toml --now 2026-05-18T12:00:00Z sysmon.evtx")]
pub struct ExplainArgs {
    /// The rule: a rule file (Elastic TOML, Sentinel YAML, .kql), or the rule_id or name of
    /// a rule under `--rules` (Vigil's built-in rules without it).
    #[arg(long, value_name = "FILE|ID|NAME")]
    rule: String,

    /// Rule files or directories to find `--rule` in by id or name. May be repeated.
    #[arg(long = "rules", short = 'r', value_name = "PATH")]
    rules: Vec<PathBuf>,

    /// An event as JSON text (any record format `hunt` reads). May be repeated.
    #[arg(long = "event", value_name = "JSON")]
    events: Vec<String>,

    /// The run time the query is evaluated at (for `now()`, `NOW()`, `ago()`, date math):
    /// RFC 3339 or a date. Default: each event's own time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    now: Option<Timestamp>,

    /// Readable text, or one JSON document per record.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text, value_name = "FORMAT")]
    format: ExplainFormat,

    /// Files, directories or `-` (standard input) holding the events; every record is explained.
    #[arg(value_name = "EVENT")]
    inputs: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    vigil_event::parse_rfc3339(s)
        .map_err(|_| format!("`{s}` is not a time: use 2026-05-01T12:00:00Z or 2026-05-01"))
}

pub fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    if args.inputs.is_empty() && args.events.is_empty() {
        bail!("no events: give files, `-` for standard input, or --event JSON");
    }
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let rule = find_rule(&args.rule, &args.rules)?;
    let engine = Engine::new(vec![rule], Schema::elastic(), &EngineOptions::default());
    let Some(er) = engine.rules.first() else {
        let why = engine
            .not_run
            .first()
            .map_or_else(|| "unknown reason".to_string(), |n| n.reason.clone());
        bail!("the rule cannot run: {why}");
    };

    let mut inputs = vigil_ingest::Inputs::new();
    for p in &args.inputs {
        inputs.add(p).with_context(|| format!("cannot read {p}"))?;
    }
    for (i, e) in args.events.iter().enumerate() {
        inputs.add_reader(
            format!("--event {}", i + 1),
            std::io::Cursor::new(e.clone().into_bytes()),
        );
    }
    let opts = ExplainOptions {
        now: args.now,
        ..Default::default()
    };
    let records = vigil_runtime::explain::explain(&engine, er, inputs, &opts);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        ExplainFormat::Text => {
            write!(out, "{}", header(er))?;
            for (i, r) in records.iter().enumerate() {
                write!(out, "\n{}", render_record(i + 1, r, er, color))?;
            }
        }
        ExplainFormat::Json => {
            for r in &records {
                writeln!(out, "{}", record_json(r, er))?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The rule named by `--rule`: a file, else an id or name among `--rules` (or the built-ins).
fn find_rule(spec: &str, dirs: &[PathBuf]) -> anyhow::Result<vigil_rules::Rule> {
    let color = std::io::stderr().is_terminal();
    let path = Path::new(spec);
    if path.is_file() {
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .with_context(|| format!("cannot read {spec}"))?;
        return match vigil_rules::load_text(spec, &text) {
            Ok(Some(rule)) => Ok(rule),
            Ok(None) => bail!("{spec} is not a rule file (.toml, .yaml, .yml or .kql)"),
            Err(e) => {
                eprint!("{}", diag::render(&e, Some(&text), color));
                bail!("cannot load the rule");
            }
        };
    }
    let loaded = if dirs.is_empty() {
        vigil_rules::builtin::load()
    } else {
        vigil_rules::load_paths(dirs)
    };
    let total = loaded.rules.len();
    loaded
        .rules
        .into_iter()
        .find(|r| r.rule_id == spec || r.name.eq_ignore_ascii_case(spec))
        .with_context(|| {
            format!("no rule file `{spec}`, and no rule with that id or name among {total} rules")
        })
}

fn header(er: &EngineRule) -> String {
    let lang = er.rule.kind.query().map_or("", |(l, _)| l);
    let ty = er.rule.kind.type_name();
    let kind = if lang == ty || lang.is_empty() {
        ty.to_string()
    } else {
        format!("{lang} {ty}")
    };
    let reads = match &er.reads {
        Reads::Indices(i) if i.is_empty() => "any index".to_string(),
        Reads::Indices(i) => format!("indices {}", i.join(", ")),
        Reads::Tables(t) => format!("tables {}", t.join(", ")),
    };
    format!(
        "rule: {} ({kind}, reads {reads})\n      {}\n",
        er.rule.name, er.rule.source.path
    )
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
}

fn render_record(n: usize, r: &RecordExplain, er: &EngineRule, color: bool) -> String {
    let p = Paint(color);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}:{}){}{}",
        p.bold(&format!("record {n}")),
        r.input,
        r.line,
        if r.kind.is_empty() { "" } else { ", " },
        r.kind
    );
    if let Some(e) = &r.error {
        let _ = writeln!(s, "  cannot read the record: {e}");
    }
    if r.error.is_none() && r.views.is_empty() {
        let _ = writeln!(
            s,
            "  the record gives no row the rule searches (the rule reads {})",
            reads_text(er)
        );
    }
    for v in &r.views {
        render_view(&mut s, v, er, &p);
    }
    if r.prefiltered {
        let _ = writeln!(
            s,
            "  {}",
            p.dim("(no literal of the rule is in the record's bytes: hunt skips it unparsed)")
        );
    }
    let verdict = match r.verdict {
        Verdict::Alert => p.green(r.verdict.as_str()),
        Verdict::Depends => p.yellow(r.verdict.as_str()),
        Verdict::NoAlert => p.red(r.verdict.as_str()),
    };
    let _ = write!(s, "  verdict: {verdict}");
    if let Some(why) = r.views.iter().find_map(failure_summary) {
        let _ = write!(s, " — {why}");
    }
    s.push('\n');
    s
}

fn reads_text(er: &EngineRule) -> String {
    match &er.reads {
        Reads::Indices(i) if i.is_empty() => "ECS documents".into(),
        Reads::Indices(i) => format!("ECS documents in {}", i.join(", ")),
        Reads::Tables(t) => format!("{} rows", t.join(", ")),
    }
}

fn render_view(s: &mut String, v: &ViewExplain, er: &EngineRule, p: &Paint) {
    let place = match &v.index {
        Some(i) => format!("{} in {i}", v.name),
        None => v.name.clone(),
    };
    if !v.searched {
        let _ = writeln!(
            s,
            "  {place}: not searched (the rule reads {})",
            reads_text(er)
        );
        return;
    }
    let time = v.time.map_or("none".to_string(), |t| t.to_string());
    let _ = writeln!(s, "  {place}: time {time}, evaluated at now = {}", v.now);
    if let Some(plan) = &v.plan {
        for st in &plan.stages {
            render_stage(s, st, p);
        }
    }
    for n in &v.notes {
        let _ = writeln!(s, "    then: {n}");
    }
}

fn render_stage(s: &mut String, st: &Stage, p: &Paint) {
    let branch = if st.branch.is_empty() {
        String::new()
    } else {
        format!("[{}] ", st.branch)
    };
    let rows = match (st.rows_out, &st.detail) {
        (_, Detail::Deferred { .. }) => p.dim("not judged: depends on other events"),
        (_, Detail::Source { reads: false }) => p.red("does not read this event"),
        (_, Detail::Source { reads: true }) => "reads the event".to_string(),
        (Some(0), _) if st.rows_in == 0 => p.dim("not reached"),
        (Some(o), _) if st.drops => p.red(&format!("{} → {o} rows  ✗ drops the event", st.rows_in)),
        (Some(o), _) => format!("{} → {o} rows", st.rows_in),
        (None, Detail::Aggregate { .. }) => format!("{} row(s) → aggregated", st.rows_in),
        (None, Detail::Steps { .. }) => {
            format!("{} row(s) → waits for the other steps", st.rows_in)
        }
        (None, _) => format!("{} row(s) → joined with other events", st.rows_in),
    };
    let op = match &st.detail {
        Detail::Deferred { text } => format!("then: {}", truncate(text, 100)),
        // The tree below shows the predicate.
        Detail::Filter(Some(_)) => "Filter".to_string(),
        _ => truncate(&st.operator, 100),
    };
    let _ = writeln!(s, "    {branch}{op}   {rows}");
    match &st.detail {
        Detail::Filter(Some(tree)) => render_node(s, tree, 3, p),
        Detail::Eval(cols) => {
            for (name, e) in cols {
                let _ = writeln!(s, "      {name} = {}", show_node_value(&e.value));
                for c in &e.children {
                    render_node(s, c, 4, p);
                }
            }
        }
        Detail::Aggregate { groups, filters } => {
            for g in groups {
                let key = g
                    .iter()
                    .map(|(k, v)| format!("{k}={}", show_value(v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(s, "      joins group ({key})");
            }
            for (name, f) in filters {
                let _ = writeln!(s, "      aggregate {name} counts the event only if:");
                render_node(s, f, 4, p);
            }
        }
        Detail::Steps {
            steps,
            until,
            untimed,
        } => {
            if *untimed {
                let _ = writeln!(
                    s,
                    "      {}",
                    p.red("the event has no timestamp: the sequence ignores it")
                );
            }
            for st in steps {
                render_step(s, st, p);
            }
            if let Some(u) = until {
                render_step(s, u, p);
            }
        }
        _ => {}
    }
}

fn render_step(s: &mut String, st: &StepExplain, p: &Paint) {
    let name = match (st.number, st.missing) {
        (0, _) => "until".to_string(),
        (n, true) => format!("missing step {n}"),
        (n, false) => format!("step {n}"),
    };
    let runs = if st.runs > 1 {
        format!(" (runs={})", st.runs)
    } else {
        String::new()
    };
    let verdict = match (st.number, st.fills) {
        (0, true) => p.yellow("the event would end pending sequences with these keys"),
        (_, true) if st.missing => p.yellow("the event would break sequences across this gap"),
        (_, true) => p.green("the event can fill this step"),
        (_, false) => p.dim("the event does not match"),
    };
    let keys = if st.keys.is_empty() {
        String::new()
    } else {
        let k = st
            .keys
            .iter()
            .map(|(k, v)| format!("{k}={}", show_value(v)))
            .collect::<Vec<_>>()
            .join(", ");
        format!(", join keys ({k})")
    };
    let _ = writeln!(s, "      {name}{runs}: {verdict}{keys}");
    render_node(s, &st.filter, 4, p);
}

fn render_node(s: &mut String, n: &ExprNode, depth: usize, p: &Paint) {
    // Literals are part of their parent's text.
    if n.op == "literal" {
        return;
    }
    let indent = "  ".repeat(depth);
    if n.op == "field" {
        let v = match &n.value {
            NodeValue::Missing => p.yellow("missing"),
            NodeValue::Value(v) => show_value(v),
        };
        let _ = writeln!(s, "{indent}  {} = {v}", n.text);
        return;
    }
    let value = match &n.value {
        NodeValue::Value(Value::Bool(true)) => p.green("true "),
        NodeValue::Value(Value::Bool(false)) => p.red("false"),
        NodeValue::Value(Value::Null) => p.yellow("null "),
        other => show_node_value(other),
    };
    let is_leaf_failure = n.failing && n.children.iter().all(|c| !c.failing);
    let mark = if is_leaf_failure {
        p.red("✗ ")
    } else {
        "  ".into()
    };
    // A long conjunction's text starts like its first member: say what it is.
    let kind = match n.op {
        "and" => "all of: ",
        "or" => "any of: ",
        _ => "",
    };
    let mut line = format!("{indent}{mark}{value}  {kind}{}", truncate(&n.text, 100));
    if is_leaf_failure {
        line.push_str(&p.red("   <- fails here"));
    }
    if n.skipped {
        line.push_str(&p.dim("   (skipped by the engine)"));
    }
    let _ = writeln!(s, "{line}");
    for c in &n.children {
        render_node(s, c, depth + 1, p);
    }
}

/// The first failing condition of a view, with the fields it reads.
fn failure_summary(v: &ViewExplain) -> Option<String> {
    let plan = v.plan.as_ref()?;
    if plan.outcome != Outcome::Dropped {
        return None;
    }
    let st = plan.stages.iter().find(|s| s.drops)?;
    let node = match &st.detail {
        Detail::Filter(Some(t)) => t.failing_node(),
        Detail::Steps { steps, .. } => steps.iter().find_map(|s| s.filter.failing_node()),
        Detail::Source { .. } => return Some("the rule's source does not read this event".into()),
        _ => None,
    };
    let Some(node) = node else {
        return Some(format!("dropped by {}", st.operator));
    };
    let mut fields = Vec::new();
    collect_fields(node, &mut fields);
    let value = show_node_value(&node.value);
    let mut out = format!("fails at `{}` ({value})", truncate(&node.text, 100));
    if !fields.is_empty() {
        out.push_str(&format!(" where {}", fields.join(", ")));
    }
    Some(out)
}

fn collect_fields(n: &ExprNode, out: &mut Vec<String>) {
    if n.op == "field" {
        let v = match &n.value {
            NodeValue::Missing => "missing".to_string(),
            NodeValue::Value(v) => show_value(v),
        };
        let item = format!("{} = {v}", n.text);
        if !out.contains(&item) {
            out.push(item);
        }
    }
    for c in &n.children {
        collect_fields(c, out);
    }
}

fn show_node_value(v: &NodeValue) -> String {
    match v {
        NodeValue::Missing => "missing".into(),
        NodeValue::Value(v) => show_value(v),
    }
}

/// A value as JSON shows it (strings quoted), dates and durations as text.
fn show_value(v: &Value) -> String {
    match v {
        Value::Str(_) | Value::Array(_) | Value::Object(_) => {
            truncate(&serde_json::to_string(v).unwrap_or_default(), 120)
        }
        other => other.to_string(),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Alert => "alert",
        Verdict::Depends => "depends",
        Verdict::NoAlert => "no_alert",
    }
}

fn record_json(r: &RecordExplain, er: &EngineRule) -> Json {
    json!({
        "rule": {"rule_id": er.rule.rule_id, "name": er.rule.name},
        "input": r.input,
        "line": r.line,
        "kind": r.kind,
        "error": r.error,
        "prefiltered": r.prefiltered,
        "verdict": verdict_key(r.verdict),
        "failing": r.views.iter().find_map(failure_summary),
        "views": r.views.iter().map(view_json).collect::<Vec<_>>(),
    })
}

fn view_json(v: &ViewExplain) -> Json {
    let plan = v.plan.as_ref();
    json!({
        "view": v.name,
        "index": v.index,
        "searched": v.searched,
        "time": v.time.map(|t| t.to_string()),
        "now": v.now.to_string(),
        "verdict": verdict_key(v.verdict),
        "outcome": plan.map(|p| match p.outcome {
            Outcome::Matched(_) => "matched",
            Outcome::Dropped => "dropped",
            Outcome::Correlated => "correlated",
        }),
        "stages": plan.map(|p| p.stages.iter().map(stage_json).collect::<Vec<_>>()),
        "notes": v.notes,
    })
}

fn stage_json(st: &Stage) -> Json {
    let mut o = json!({
        "branch": st.branch,
        "operator": st.operator,
        "rows_in": st.rows_in,
        "rows_out": st.rows_out,
        "drops": st.drops,
    });
    let extra = match &st.detail {
        Detail::None => None,
        Detail::Source { reads } => Some(("reads_event", json!(reads))),
        Detail::Filter(t) => Some(("predicate", t.as_ref().map_or(Json::Null, node_json))),
        Detail::Eval(cols) => Some((
            "columns",
            cols.iter()
                .map(|(n, e)| json!({"name": n, "expr": node_json(e)}))
                .collect(),
        )),
        Detail::Aggregate { groups, filters } => Some((
            "aggregate",
            json!({
                "groups": groups.iter().map(|g| g.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "filters": filters.iter().map(|(n, e)| json!({"name": n, "expr": node_json(e)})).collect::<Vec<_>>(),
            }),
        )),
        Detail::Steps {
            steps,
            until,
            untimed,
        } => Some((
            "steps",
            json!({
                "untimed": untimed,
                "steps": steps.iter().map(step_json).collect::<Vec<_>>(),
                "until": until.as_ref().map(step_json),
            }),
        )),
        Detail::Deferred { text } => Some(("deferred", json!(text))),
    };
    if let (Some((k, v)), Json::Object(m)) = (extra, &mut o) {
        m.insert(k.to_string(), v);
    }
    o
}

fn step_json(s: &StepExplain) -> Json {
    json!({
        "step": s.number,
        "missing": s.missing,
        "runs": s.runs,
        "fills": s.fills,
        "keys": s.keys.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
        "filter": node_json(&s.filter),
    })
}

fn node_json(n: &ExprNode) -> Json {
    let (value, missing) = match &n.value {
        NodeValue::Missing => (Json::Null, true),
        NodeValue::Value(v) => (serde_json::to_value(v).unwrap_or(Json::Null), false),
    };
    json!({
        "id": n.id.0,
        "span": [n.span.start, n.span.end],
        "text": n.text,
        "op": n.op,
        "value": value,
        "missing": missing,
        "skipped": n.skipped,
        "failing": n.failing,
        "children": n.children.iter().map(node_json).collect::<Vec<_>>(),
    })
}
