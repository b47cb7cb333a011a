//! Runs the (query, document, verdict) cases extracted from detection-rules' kuery evaluator
//! tests (`../shared/conformance/kuery/cases.tsv`) through Vigil's parser, lowering and executor.
//!
//! The cases come from a Python evaluator that infers types from the document. Elasticsearch
//! decides from the index mapping instead, so the harness states the mapping the fixture
//! document would have (`ip` an ip field, `structured` and `deltas` nested, …). Free-text queries
//! (a value without a field) are skipped with their reason: Vigil does not search every field.

use std::path::PathBuf;

use vigil_event::{Layout, Projection, parse_json};
use vigil_exec::{EvalContext, compile_expr};
use vigil_schema::Schema;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    dir.is_dir().then_some(dir)
}

/// The mapping of the fixture documents.
const FIXTURE_MAPPING: &str = "number\tlong\nboolean\tboolean\nip\tip\nstring\tkeyword\n\
string_list\tkeyword\nnumber_list\tlong\nboolean_list\tboolean\nstructured\tnested\n\
structured.a\tnested\nstructured.a.b\tlong\ndeltas\tnested\ndeltas.action\tkeyword\n\
deltas.role\tkeyword\n";

#[test]
fn detection_rules_evaluator_cases() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIP kuery conformance: ../shared not found (set VIGIL_SHARED)");
        return;
    };
    let path = shared.join("conformance/kuery/cases.tsv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("SKIP kuery conformance: {} not found", path.display());
        return;
    };
    let mut schema = Schema::default();
    schema.add_table(FIXTURE_MAPPING);
    let (mut passed, mut failed, mut skipped) = (0, Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [id, _test, _doc_name, query, document, expected] = cols[..] else {
            panic!("malformed case line: {line}");
        };
        let expected = expected == "true";
        let parsed = vigil_kuery::parse(query)
            .unwrap_or_else(|e| panic!("{id}: `{query}` does not parse: {e}"));
        let pred = match vigil_kuery::lower(&parsed, &schema) {
            Ok(p) => p,
            Err(e) if e.message.contains("without a field") => {
                skipped.push(format!("{id} `{query}`: free text"));
                continue;
            }
            Err(e) => {
                failed.push(format!("{id} `{query}`: does not lower: {e}"));
                continue;
            }
        };
        let mut layout = Layout::new();
        for f in pred.fields() {
            layout.intern(&f.name);
        }
        let compiled = compile_expr(&pred, &layout).expect("compiles");
        let row = Projection::new(&layout)
            .project(&parse_json(document.as_bytes()).expect("fixture JSON"));
        let got = compiled.matches(&row, &EvalContext::new(jiff::Timestamp::UNIX_EPOCH));
        if got == expected {
            passed += 1;
        } else {
            failed.push(format!("{id} `{query}`: expected {expected}, got {got}"));
        }
    }
    println!(
        "kuery conformance (detection-rules evaluator cases): {passed} passed, {} failed, {} skipped",
        failed.len(),
        skipped.len()
    );
    for s in &skipped {
        println!("  skipped {s}");
    }
    assert!(failed.is_empty(), "failures:\n{}", failed.join("\n"));
    assert_eq!(skipped.len(), 9, "only the free-text cases are skipped");
}
