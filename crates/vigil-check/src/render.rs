//! Renderings of a report: for people (with the source line), JSON, and SARIF 2.1.0 for CI
//! systems that annotate pull requests.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::{CODES, Level, Report};

/// A human rendering: each finding with its source line and a caret, then a summary line.
/// `source` gives a file's text by path (the checker read it; the caller may cache it).
pub fn human(report: &Report, source: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut texts: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for f in &report.findings {
        let text = texts.entry(&f.path).or_insert_with(|| source(&f.path));
        let _ = writeln!(out, "{}[{}]: {}", f.level.as_str(), f.code, f.message);
        let _ = writeln!(out, "  --> {}:{}:{}", f.path, f.line, f.column);
        if let Some(line) = text.as_deref().and_then(|t| t.lines().nth(f.line - 1)) {
            let n = f.line.to_string();
            let pad = " ".repeat(n.len());
            // Tabs would misplace the caret; show them as one space each.
            let shown = line.replace('\t', " ");
            let caret = " ".repeat(f.column.saturating_sub(1));
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{n} | {shown}");
            let _ = writeln!(out, "{pad} | {caret}^");
        }
        let _ = writeln!(out, "  = help: {}", f.help);
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} file{} checked: {} error{}, {} warning{}, {} note{}",
        report.files,
        plural(report.files),
        report.count_level(Level::Error),
        plural(report.count_level(Level::Error)),
        report.count_level(Level::Warning),
        plural(report.count_level(Level::Warning)),
        report.count_level(Level::Note),
        plural(report.count_level(Level::Note)),
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// JSON: the files count, every finding, and the count per code.
pub fn json(report: &Report) -> Value {
    json!({
        "files": report.files,
        "findings": report.findings,
        "counts": report.counts(),
    })
}

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// A SARIF 2.1.0 log with one run: the `vigil` driver with every code as a rule, and one result
/// per finding located by relative path, line and column.
pub fn sarif(report: &Report) -> Value {
    let rules: Vec<Value> = CODES
        .iter()
        .map(|c| {
            json!({
                "id": c.code,
                "shortDescription": { "text": c.title },
                "help": { "text": c.help },
                "defaultConfiguration": { "level": sarif_level(c.level) },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = CODES.iter().position(|c| c.code == f.code).unwrap_or(0);
            json!({
                "ruleId": f.code,
                "ruleIndex": index,
                "level": sarif_level(f.level),
                "message": { "text": format!("{} ({})", f.message, f.help) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.path) },
                        "region": { "startLine": f.line, "startColumn": f.column },
                    }
                }],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "vigil",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "results": results,
        }]
    })
}

/// A relative URI reference: forward slashes, no leading `./`.
fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    p.strip_prefix("./").unwrap_or(&p).replace(' ', "%20")
}
