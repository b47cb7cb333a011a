//! Every query-type rule of Elastic's Azure integration loads and executes over the bundled
//! examples; the other rule types load and are reported as not run, by name, never silently
//! dropped.

use std::path::PathBuf;

use vigil_rules::{RuleKind, load_paths};
use vigil_runtime::{Engine, EngineOptions, HuntOptions, hunt};
use vigil_schema::Schema;

fn azure_corpus() -> Option<PathBuf> {
    let shared = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("upstream/elastic/corpus/integrations/azure");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: {} not found (set VIGIL_SHARED)", dir.display());
        None
    }
}

#[test]
fn azure_query_rules_load_and_execute() {
    let Some(dir) = azure_corpus() else { return };
    let loaded = load_paths(&[dir]);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let total = loaded.rules.len();
    let queries = loaded
        .rules
        .iter()
        .filter(|r| matches!(r.kind, RuleKind::Query { .. }))
        .count();
    let engine = Engine::new(loaded.rules, Schema::elastic(), &EngineOptions::default());
    let running_queries = engine
        .rules
        .iter()
        .filter(|r| matches!(r.rule.kind, RuleKind::Query { .. }))
        .count();
    println!(
        "azure integration rules: {total} loaded, {} run ({running_queries} of {queries} query rules), {} not run",
        engine.rules.len(),
        engine.not_run.len()
    );
    // Every rule type but machine learning runs: count each.
    let mut per_type: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for r in &engine.rules {
        per_type
            .entry(r.rule.kind.type_name().to_string())
            .or_default()
            .0 += 1;
    }
    for n in &engine.not_run {
        let kind = n
            .reason
            .split_whitespace()
            .next()
            .unwrap_or("?")
            .to_string();
        per_type.entry(kind).or_default().1 += 1;
    }
    for (kind, (run, not)) in &per_type {
        println!("  {kind}: {run} run, {not} not run");
    }
    for kind in ["new_terms", "threshold", "eql", "esql"] {
        assert!(
            per_type
                .get(kind)
                .is_some_and(|(run, not)| *run > 0 && *not == 0),
            "{kind}: {:?}",
            per_type.get(kind)
        );
    }
    assert_eq!(running_queries, queries, "every query rule runs");
    assert_eq!(queries, 65);
    // Every rule not run is named, with a reason.
    assert_eq!(engine.rules.len() + engine.not_run.len(), total);
    for n in &engine.not_run {
        println!("  not run: {} ({}): {}", n.name, n.path, n.reason);
    }
    // Only machine-learning rules, whose models Vigil does not have, are left out.
    assert!(
        engine
            .not_run
            .iter()
            .all(|n| !n.name.is_empty() && n.reason == "machine_learning rules are not supported"),
        "{:?}",
        engine.not_run
    );

    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let report = hunt(
        &engine,
        &[examples.display().to_string()],
        HuntOptions::default(),
    )
    .expect("examples read");
    let bad: u64 = report.stats.iter().map(|s| s.bad_records).sum::<u64>() + report.undecodable;
    assert_eq!(bad, 0);
    println!(
        "azure query rules over examples/: {} alerts",
        report.alerts.len()
    );
}
