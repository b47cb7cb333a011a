//! The Sentinel analytics rules that read AzureActivity: every query must parse and lower to a
//! plan (tables Vigil has no schema for are planned with open schemas). Reads the rules from
//! `../shared/upstream/sentinel/`; skips, saying why, when that is absent.
#![allow(clippy::print_stdout)]

mod common;

use std::path::Path;

use vigil_kusto::{TableCatalog, lower, parse};

fn query_of(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).ok()?;
    doc.get("query")?.as_str().map(str::to_string)
}

fn compiles(plan: &vigil_plan::Plan) -> Result<(), String> {
    let mut layout = vigil_event::Layout::new();
    for f in plan.fields_read() {
        layout.intern(&f);
    }
    vigil_exec::compile(plan, &layout)
        .map(|_| ())
        .map_err(|e| e.message)
}

#[test]
fn azure_activity_analytics_rules_parse_and_plan() {
    let Some(shared) = common::shared_dir() else {
        println!("SKIP sentinel corpus: ../shared (or $VIGIL_SHARED) is absent");
        return;
    };
    let root = shared.join("upstream/sentinel");
    let mut files = Vec::new();
    for dir in ["azureactivity", "vm-extension-runcommand"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            println!(
                "SKIP sentinel corpus: {} is absent",
                root.join(dir).display()
            );
            return;
        };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "yaml") {
                files.push(e.path());
            }
        }
    }
    files.sort();
    let catalog = TableCatalog::sentinel().with_open_tables();
    let (mut planned, mut compiled) = (0, 0);
    let mut failures = Vec::new();
    let mut compile_failures = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let Some(q) = query_of(path) else {
            failures.push(format!("{name}: no query"));
            continue;
        };
        match parse(&q) {
            Err(e) => {
                let (line, col) = e.line_col(&q);
                failures.push(format!("{name}: parse error at {line}:{col}: {e}"));
            }
            Ok(ast) => match lower(&ast, &catalog) {
                Err(e) => failures.push(format!("{name}: plan error: {e}")),
                Ok(plan) => {
                    planned += 1;
                    match compiles(&plan) {
                        Ok(()) => compiled += 1,
                        Err(e) => compile_failures.push(format!("{name}: {e}")),
                    }
                }
            },
        }
    }
    let total = files.len();
    println!(
        "sentinel AzureActivity analytics rules: {planned}/{total} parse and plan, \
         {compiled}/{total} also compile in the executor"
    );
    for f in &failures {
        println!("  plan failure: {f}");
    }
    for f in &compile_failures {
        println!("  executor: {f}");
    }
    assert!(total >= 20, "expected the 26 rules, found {total}");
    assert!(
        planned * 100 >= total * 95,
        "only {planned}/{total} rules plan"
    );
}

#[test]
fn hunting_queries_and_seeds_parse() {
    let Some(shared) = common::shared_dir() else {
        println!("SKIP hunting queries: ../shared is absent");
        return;
    };
    let root = shared.join("upstream/sentinel");
    let mut ok = 0;
    let mut total = 0;
    let catalog = TableCatalog::sentinel().with_open_tables();
    let mut paths: Vec<_> = std::fs::read_dir(root.join("hunting"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    for path in paths {
        let Some(q) = query_of(&path) else { continue };
        total += 1;
        match parse(&q)
            .map_err(|e| e.to_string())
            .and_then(|a| lower(&a, &catalog).map_err(|e| e.to_string()))
        {
            Ok(_) => ok += 1,
            Err(e) => println!("  hunting {}: {e}", path.display()),
        }
    }
    println!("sentinel hunting queries: {ok}/{total} parse and plan");
    for seed in [
        "seed-002-vm-custom-script-extension-or-run-command.kql",
        "seed-004-customscript-executable-drops.kql",
    ] {
        let Ok(q) = std::fs::read_to_string(root.join(seed)) else {
            println!("SKIP {seed}: absent");
            continue;
        };
        let plan = vigil_kusto::lower_rule_query(&q).unwrap_or_else(|e| panic!("{seed}: {e}"));
        compiles(&plan).unwrap_or_else(|e| panic!("{seed}: {e}"));
    }
}
