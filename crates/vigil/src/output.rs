//! Printing alerts (table, NDJSON) and the run summary.

use std::fmt::Write as _;
use std::io::{self, Write};

use vigil_event::Value;
use vigil_runtime::{Alert, Engine, HuntReport};

/// One alert document per line.
pub fn ndjson(out: &mut impl Write, alerts: &[Alert]) -> io::Result<()> {
    for a in alerts {
        serde_json::to_writer(&mut *out, &a.doc)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

const PRINCIPAL_FIELDS: &[&str] = &[
    "azure.activitylogs.identity.claims_initiated_by_user.name",
    "user.name",
    "azure.activitylogs.identity.authorization.evidence.principal_id",
    "user.id",
];

const TARGET_FIELDS: &[&str] = &[
    "azure.resource.name",
    "host.name",
    "azure.resource.id",
    "cloud.instance.name",
];

fn first(doc: &Value, fields: &[&str]) -> Option<String> {
    fields.iter().find_map(|f| {
        doc.lookup(f)
            .into_iter()
            .flat_map(Value::leaves)
            .next()
            .map(ToString::to_string)
    })
}

/// The first identifier of a Sentinel alert's entity of one of `types` (e.g. `Host.HostName`).
fn entity(doc: &Value, wanted: &[(&str, &str)]) -> Option<String> {
    let entities = doc.lookup("sentinel.alert.entities");
    let all: Vec<&Value> = entities.into_iter().flat_map(Value::leaves).collect();
    wanted.iter().find_map(|(ty, id)| {
        all.iter().find_map(|e| {
            (e.get_path("Type").and_then(Value::as_str) == Some(*ty))
                .then(|| e.get_path(id).map(ToString::to_string))
                .flatten()
        })
    })
}

/// A table of alerts for a terminal.
pub fn table(out: &mut impl Write, engine: &Engine, alerts: &[Alert]) -> io::Result<()> {
    if alerts.is_empty() {
        return Ok(());
    }
    let header = [
        "TIME",
        "RULE",
        "SEVERITY",
        "RESOURCE / HOST",
        "PRINCIPAL",
        "SOURCE IP",
    ];
    // Kibana's alert table hides building-block alerts (the events of a sequence) by default.
    let mut shown: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.doc.get_path("kibana.alert.building_block_type").is_none())
        .collect();
    shown.sort_by_key(|a| (a.original_time.unwrap_or(a.created), a.rule));
    let rows: Vec<[String; 6]> = shown
        .iter()
        .map(|a| {
            let time = a
                .original_time
                .unwrap_or(a.created)
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string();
            let d = &a.doc;
            let target = first(d, TARGET_FIELDS)
                .or_else(|| entity(d, &[("Host", "HostName"), ("AzureResource", "ResourceId")]));
            let principal = first(d, PRINCIPAL_FIELDS)
                .or_else(|| entity(d, &[("Account", "FullName"), ("Account", "Name")]));
            let ip = first(d, &["source.ip", "source.address"])
                .or_else(|| entity(d, &[("IP", "Address")]));
            let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            [
                time,
                engine.rules[a.rule].rule.name.clone(),
                a.severity.to_string(),
                dash(target),
                dash(principal),
                dash(ip),
            ]
        })
        .collect();
    let limits = [19, 48, 8, 44, 36, 39];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count().min(limits[i]));
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let c = truncate(c, widths[i]);
            let pad = widths[i] - c.chars().count();
            let _ = write!(s, "{c}{}", " ".repeat(pad));
            if i + 1 < cells.len() {
                s.push_str("  ");
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(&header.map(String::from)))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    let hidden = alerts.len() - shown.len();
    if hidden > 0 {
        writeln!(
            out,
            "({hidden} building-block alert{} of sequence events not shown; --format ndjson prints them)",
            if hidden == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}

pub(crate) fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// The run summary: what was read, what was searched, what fired, what was skipped.
pub fn summary(engine: &Engine, r: &HuntReport) -> String {
    let mut s = String::new();
    let bad: u64 = r.stats.iter().map(|x| x.bad_records).sum::<u64>() + r.undecodable;
    // Every framed record, good or bad.
    let records: u64 = r.stats.iter().map(|x| x.records + x.bad_records).sum();
    let unparsed: u64 = r.unparsed.iter().sum();
    let bytes: u64 = r.stats.iter().map(|x| x.bytes_decoded).sum();
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        s,
        "\nread {} input{}: {} records, {} bad, {} skipped unparsed (no rule can match them); {} in {:.2} s ({:.1} MB/s, {} records/s)",
        r.inputs.len(),
        if r.inputs.len() == 1 { "" } else { "s" },
        group(records),
        group(bad),
        group(unparsed),
        human_bytes(bytes),
        secs,
        bytes as f64 / 1e6 / secs,
        group((records as f64 / secs) as u64),
    );
    if r.inputs.len() > 1 {
        for (i, (info, st)) in r.inputs.iter().zip(&r.stats).enumerate() {
            let _ = writeln!(
                s,
                "  {}: {} records, {} bad, {} skipped unparsed",
                info.name,
                group(st.records + st.bad_records),
                group(st.bad_records),
                group(r.unparsed.get(i).copied().unwrap_or(0))
            );
        }
    }
    for b in &r.bad {
        let _ = writeln!(s, "  bad record {}", b.display(&r.inputs));
    }
    if (r.bad.len() as u64) < bad {
        let _ = writeln!(s, "  … and {} more bad records", bad - r.bad.len() as u64);
    }
    match r.range {
        Some((a, b)) => {
            let _ = writeln!(
                s,
                "searched {} .. {}",
                vigil_event::format_es_date(a),
                vigil_event::format_es_date(b)
            );
        }
        None => {
            let _ = writeln!(s, "no event matched any rule");
        }
    }
    if r.resumed {
        let _ = writeln!(
            s,
            "resumed an interrupted hunt: {} runs already done were skipped",
            group(r.runs_skipped)
        );
    } else if r.runs_skipped > 0 {
        let _ = writeln!(
            s,
            "{} runs were already done by an earlier hunt with this state",
            group(r.runs_skipped)
        );
    }
    if r.carried > 0 {
        let _ = writeln!(
            s,
            "{} events carried over from the previous hunt's look-back",
            group(r.carried)
        );
    }
    let reads = |prefixes: &[&str]| {
        engine
            .layout()
            .names()
            .any(|n| prefixes.iter().any(|p| n.starts_with(p)))
    };
    let has = |f: fn(&vigil_enrich::Enricher) -> bool| engine.enricher().is_some_and(f);
    if reads(&["source.as."]) && !has(vigil_enrich::Enricher::has_asn) {
        let _ = writeln!(
            s,
            "no ASN database given (--asn-db): source.as.* stays absent, and rules reading it cannot match"
        );
    }
    if reads(&["source.geo.", "geo."]) && !has(vigil_enrich::Enricher::has_geo) {
        let _ = writeln!(
            s,
            "no GeoIP database given (--geo-db): source.geo.* stays absent, and rules reading it cannot match"
        );
    }
    if r.untimed > 0 {
        let _ = writeln!(
            s,
            "  {} matching events have no timestamp a rule can search on; they raise no alert",
            group(r.untimed)
        );
    }
    let total: u64 = r.alerts_per_rule.iter().sum();
    let _ = writeln!(
        s,
        "{} alert{} from {} rule{}",
        group(total),
        if total == 1 { "" } else { "s" },
        engine.rules.len(),
        if engine.rules.len() == 1 { "" } else { "s" }
    );
    let mut per: Vec<(u64, &str)> = engine
        .rules
        .iter()
        .zip(&r.alerts_per_rule)
        .filter(|(_, n)| **n > 0)
        .map(|(rule, n)| (*n, rule.rule.name.as_str()))
        .collect();
    per.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    for (n, name) in per {
        let _ = writeln!(s, "  {n:>6}  {name}");
    }
    let suppressed: u64 = r.suppressed_per_rule.iter().sum();
    if suppressed > 0 {
        let _ = writeln!(
            s,
            "{} alerts suppressed into others (alert_suppression)",
            group(suppressed)
        );
    }
    if !engine.not_run.is_empty() {
        let _ = writeln!(
            s,
            "{} rule{} not run (see above)",
            engine.not_run.len(),
            if engine.not_run.len() == 1 { "" } else { "s" }
        );
    }
    s
}

fn group(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30)),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
