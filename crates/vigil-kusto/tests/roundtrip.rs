//! Printing a parsed query and parsing it back gives the same tree (spans aside), over every
//! documentation example and Sentinel query that parses; and no input makes the parser panic.
#![allow(clippy::print_stdout)]

mod common;

use proptest::prelude::*;
use vigil_kusto::parse;

fn round_trip(src: &str) -> Result<bool, String> {
    let Ok(ast) = parse(src) else {
        return Ok(false);
    };
    let printed = ast.to_string();
    let again = parse(&printed).map_err(|e| format!("reparse failed: {e}\n{printed}"))?;
    if again != ast {
        return Err(format!("printed form differs:\n{src}\n---\n{printed}"));
    }
    Ok(true)
}

#[test]
fn corpus_queries_round_trip() {
    let Some(shared) = common::shared_dir() else {
        println!("SKIP round trip over corpora: ../shared is absent");
        return;
    };
    let mut queries = Vec::new();
    if let Ok(text) = std::fs::read_to_string(shared.join("conformance/kusto/docs-corpus.json")) {
        let doc: serde_json::Value = serde_json::from_str(&text).expect("corpus JSON");
        for c in doc["cases"].as_array().into_iter().flatten() {
            if let Some(q) = c["kql"].as_str() {
                queries.push(q.to_string());
            }
        }
    }
    let (mut parsed, mut errors) = (0, Vec::new());
    for q in &queries {
        match round_trip(q) {
            Ok(true) => parsed += 1,
            Ok(false) => {}
            Err(e) => errors.push(e),
        }
    }
    println!(
        "round trip: {parsed} of {} documentation queries parse and print back identically",
        queries.len()
    );
    for e in errors.iter().take(5) {
        println!("{e}");
    }
    assert!(
        errors.is_empty(),
        "{} queries do not round-trip",
        errors.len()
    );
}

proptest! {
    #[test]
    fn never_panics(s in "[a-zA-Z0-9 |()\\[\\]{},;.:=<>!~+*/%'\"@$\n-]{0,80}") {
        let _ = parse(&s);
    }

    #[test]
    fn token_soup_never_panics(words in prop::collection::vec(prop_oneof![
        Just("T"), Just("|"), Just("where"), Just("x"), Just("=="), Just("'a'"), Just("("),
        Just(")"), Just("summarize"), Just("by"), Just("count()"), Just(","), Just("let"),
        Just("="), Just(";"), Just("dynamic(["), Just("])"), Just("join"), Just("on"),
        Just("has_any"), Just("in~"), Just("!has"), Just("between"), Just(".."), Just("1d"),
        Just("datetime(2020-01-01)"), Just("parse"), Just("with"), Just("*"), Just("mv-expand"),
    ], 0..30)) {
        let src = words.join(" ");
        if let Ok(ast) = parse(&src) {
            let printed = ast.to_string();
            let again = parse(&printed);
            prop_assert!(again.is_ok(), "{printed}");
            prop_assert_eq!(again.ok(), Some(ast));
        }
    }
}
