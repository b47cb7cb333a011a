//! Every ES|QL rule of Elastic's detection-rules corpus (`../shared/upstream/elastic/corpus`)
//! parses and plans against the Elastic schema, except rules using commands Vigil rejects by
//! design (`COMPLETION` calls an LLM), which must fail with a clear error.

use std::path::{Path, PathBuf};

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
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// (file, query) of every ES|QL rule under `dir`.
fn esql_rules(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    toml_files(dir, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        let Some(rule) = doc.get("rule").and_then(|r| r.as_table()) else {
            continue;
        };
        if rule.get("language").and_then(|l| l.as_str()) != Some("esql") {
            continue;
        }
        if let Some(q) = rule.get("query").and_then(|q| q.as_str()) {
            let name = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
            out.push((name, q.to_string()));
        }
    }
    out
}

#[test]
fn elastic_esql_rules_parse_and_plan() {
    let Some(shared) = shared_dir() else {
        println!("SKIP esql corpus: ../shared not found (set VIGIL_SHARED)");
        return;
    };
    let dir = shared.join("upstream/elastic/corpus");
    let rules = esql_rules(&dir);
    if rules.is_empty() {
        println!("SKIP esql corpus: no ES|QL rules under {}", dir.display());
        return;
    }
    let (mut planned, mut rejected, mut failed) = (0, Vec::new(), Vec::new());
    let mut aggregating = 0;
    for (name, query) in &rules {
        match vigil_esql::lower_rule_query(query, Schema::elastic()) {
            Ok(p) => {
                planned += 1;
                if p.aggregating {
                    aggregating += 1;
                }
                // The executor accepts the plan (every function and operator exists).
                let mut layout = vigil_event::Layout::new();
                for f in p.plan.fields_read() {
                    layout.intern(&f);
                }
                if let Err(e) = vigil_exec::compile(&p.plan, &layout) {
                    failed.push(format!("{name}: does not compile: {e}"));
                    continue;
                }
                // Printing the parsed query and parsing it again gives the same tree.
                let ast = vigil_esql::parse(query).expect("parsed once");
                let again = vigil_esql::parse(&ast.to_string())
                    .unwrap_or_else(|e| panic!("{name}: printed query does not parse: {e}"));
                assert!(
                    ast == again,
                    "{name}: round trip changed the tree:\n{ast}\n---\n{again}"
                );
            }
            Err(e) if e.message.contains("is not supported: ") => {
                let (line, col) = e.line_col(query);
                rejected.push(format!("{name} (line {line}:{col}): {e}"));
            }
            Err(e) => {
                let (line, col) = e.line_col(query);
                failed.push(format!("{name} (line {line}:{col}): {e}"));
            }
        }
    }
    println!(
        "esql corpus: {} rules, {planned} planned ({aggregating} aggregating), {} rejected by design, {} failed",
        rules.len(),
        rejected.len(),
        failed.len()
    );
    for r in &rejected {
        println!("  rejected {r}");
    }
    for f in &failed {
        println!("  FAILED {f}");
    }
    assert!(
        failed.is_empty(),
        "rules that do not plan:\n{}",
        failed.join("\n")
    );
    assert!(
        rejected.iter().all(|r| r.contains("COMPLETION")),
        "only COMPLETION is rejected by design"
    );
}
