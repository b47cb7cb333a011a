//! Every EQL rule of the Elastic detection-rules corpus (`../shared/upstream/elastic`) must parse,
//! lower to a plan with the built-in Elastic schema, and compile in the executor. Prints the
//! counts and each failure.

use std::path::{Path, PathBuf};

use vigil_event::Layout;
use vigil_schema::Schema;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    dir.is_dir().then_some(dir)
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn elastic_eql_rules_parse_and_lower() {
    let Some(shared) = shared_dir() else {
        println!("SKIP EQL corpus: ../shared not found (set VIGIL_SHARED)");
        return;
    };
    let root = shared.join("upstream/elastic");
    let mut files = Vec::new();
    toml_files(&root, &mut files);
    if files.is_empty() {
        println!("SKIP EQL corpus: no rules under {}", root.display());
        return;
    }
    let (mut total, mut parsed, mut lowered, mut compiled) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("rule file");
        let Ok(doc) = toml::from_str::<toml::Table>(&text) else {
            continue;
        };
        let Some(rule) = doc.get("rule").and_then(toml::Value::as_table) else {
            continue;
        };
        if rule.get("language").and_then(toml::Value::as_str) != Some("eql") {
            continue;
        }
        let Some(query) = rule.get("query").and_then(toml::Value::as_str) else {
            continue;
        };
        total += 1;
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        if let Err(e) = vigil_eql::parse(query) {
            failures.push(format!("{name}: parse: {e}"));
            continue;
        }
        parsed += 1;
        let indices: Vec<String> = rule
            .get("index")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let get = |k: &str| rule.get(k).and_then(toml::Value::as_str);
        let plan = match vigil_eql::lower_rule_query(
            query,
            &indices,
            Schema::elastic(),
            get("event_category_override"),
            get("tiebreaker_field"),
            get("timestamp_field"),
        ) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: lower: {e} at {}", e.span));
                continue;
            }
        };
        lowered += 1;
        let mut layout = Layout::new();
        for f in plan.fields_read() {
            layout.intern(&f);
        }
        match vigil_exec::compile(&plan, &layout) {
            Ok(_) => compiled += 1,
            Err(e) => failures.push(format!("{name}: compile: {e}")),
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    println!(
        "EQL rule corpus: {total} rules, {parsed} parse, {lowered} lower to a plan, {compiled} compile ({:.1}% lower)",
        100.0 * f64::from(lowered) / f64::from(total.max(1))
    );
    assert!(
        f64::from(lowered) >= 0.99 * f64::from(total),
        "fewer than 99% of the corpus EQL rules lower"
    );
}
