//! Elastic's rule corpus (`../shared/upstream/elastic/`): every file loads, every kuery query
//! parses, every query-type rule of the Azure integration plans. Counts are printed; the test
//! fails on any regression and lists what failed.

use std::path::{Path, PathBuf};

use vigil_rules::{RuleKind, load_paths};
use vigil_schema::Schema;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    dir.is_dir().then_some(dir)
}

fn elastic_dir() -> Option<PathBuf> {
    let d = shared_dir()?.join("upstream/elastic");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("SKIP: {} not found (set VIGIL_SHARED)", d.display());
        None
    }
}

#[test]
fn every_rule_file_loads() {
    let Some(dir) = elastic_dir() else { return };
    let loaded = load_paths(&[dir.join("corpus"), dir.join("seed")]);
    println!(
        "elastic corpus: {} rule files loaded, {} failed",
        loaded.rules.len(),
        loaded.errors.len()
    );
    for e in &loaded.errors {
        println!("  {e}");
    }
    assert!(loaded.errors.is_empty());
    assert!(
        loaded.rules.len() >= 761,
        "expected the whole corpus, got {}",
        loaded.rules.len()
    );
}

#[test]
fn every_kuery_query_parses() {
    let Some(dir) = elastic_dir() else { return };
    let loaded = load_paths(&[dir.join("corpus"), dir.join("seed")]);
    let mut total = 0;
    let mut failed = Vec::new();
    for r in &loaded.rules {
        if let Some(("kuery", q)) = r.kind.query() {
            total += 1;
            if let Err(e) = vigil_kuery::parse(q) {
                failed.push(format!("{}: {e} at {}", r.source.path, e.span));
            }
        }
    }
    println!(
        "kuery queries in the corpus: {total} parsed, {} failed",
        failed.len()
    );
    assert!(total >= 190, "expected ~192 kuery rules, found {total}");
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn every_kuery_query_lowers() {
    let Some(dir) = elastic_dir() else { return };
    let loaded = load_paths(&[dir.join("corpus"), dir.join("seed")]);
    let mut total = 0;
    let mut failed = Vec::new();
    for r in &loaded.rules {
        if matches!(r.kind.query(), Some(("kuery", _))) {
            total += 1;
            if let Err(e) = r.plan(Schema::elastic()) {
                failed.push(format!("{}: {}", short(&r.source.path), e.message));
            }
        }
    }
    println!(
        "kuery rules in the corpus: {} planned, {} not:",
        total - failed.len(),
        failed.len()
    );
    for f in &failed {
        println!("  {f}");
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn azure_query_rules_plan() {
    let Some(dir) = elastic_dir() else { return };
    let loaded = load_paths(&[dir.join("corpus/integrations/azure")]);
    let query_rules: Vec<_> = loaded
        .rules
        .iter()
        .filter(|r| matches!(r.kind, RuleKind::Query { .. }))
        .collect();
    let failed: Vec<String> = query_rules
        .iter()
        .filter_map(|r| {
            r.plan(Schema::elastic())
                .err()
                .map(|e| format!("{}: {}", short(&r.source.path), e.message))
        })
        .collect();
    println!(
        "azure query rules: {} planned, {} failed",
        query_rules.len() - failed.len(),
        failed.len()
    );
    assert_eq!(
        query_rules.len(),
        65,
        "the corpus README counts 65 query rules"
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

fn short(p: &str) -> String {
    Path::new(p)
        .file_name()
        .map_or_else(|| p.to_string(), |f| f.to_string_lossy().into_owned())
}
