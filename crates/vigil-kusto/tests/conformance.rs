//! Kusto documentation examples with the results Microsoft's engine returned
//! (`../shared/conformance/kusto/docs-corpus.json`), run through parse → lower → execute.
//!
//! The supported set is the Sentinel subset: cases whose operators and functions are all among
//! the ones Sentinel rules use (the lists below, the same as the corpus' `verify.py`, lenient
//! variant). Every other case with an expected result is run too and reported separately.
//! Skipped: cases that need a stored table, and results that depend on the clock or chance.
//! Prints `N passed, N failed, N skipped`.
#![allow(clippy::print_stdout)]

mod common;

use std::collections::HashSet;

use serde_json::Value as Json;
use vigil_event::{Layout, Value};
use vigil_exec::{Columns, EvalContext, compile, kusto_datetime_text, kusto_timespan_text};
use vigil_kusto::{TableCatalog, lower, parse};

const SENTINEL_OPERATORS: &[&str] = &[
    "where",
    "extend",
    "project",
    "project-away",
    "project-rename",
    "summarize",
    "take",
    "limit",
    "top",
    "sort",
    "order",
    "distinct",
    "join",
    "union",
    "mv-expand",
    "parse",
    "datatable",
    "print",
    "range",
    "let",
    "count",
];
const SENTINEL_FUNCTIONS: &[&str] = &[
    "ago",
    "now",
    "bin",
    "datetime",
    "timespan",
    "tolower",
    "toupper",
    "tostring",
    "toint",
    "tolong",
    "todouble",
    "todynamic",
    "parse_json",
    "split",
    "array_length",
    "strcat",
    "iff",
    "iif",
    "case",
    "coalesce",
    "isempty",
    "isnotempty",
    "isnull",
    "isnotnull",
    "format_datetime",
    "make_set",
    "make_list",
    "count",
    "dcount",
    "countif",
    "sum",
    "avg",
    "min",
    "max",
    "arg_max",
    "arg_min",
    "any",
    "extract",
    "ipv4_is_private",
    "has_any",
    "has_all",
    "datatable",
];
const SYNTAX_WORDS: &[&str] = &[
    "dynamic",
    "typeof",
    "in",
    "bool",
    "boolean",
    "int",
    "long",
    "real",
    "double",
    "string",
    "guid",
    "decimal",
    "date",
    "time",
    "inner",
    "innerunique",
    "leftouter",
    "rightouter",
    "fullouter",
    "leftanti",
    "rightanti",
    "leftantisemi",
    "rightantisemi",
    "leftsemi",
    "rightsemi",
    "anti",
];
const NONDETERMINISTIC: &[&str] = &[
    "now",
    "ago",
    "rand",
    "new_guid",
    "ingestion_time",
    "current_principal",
    "cursor_current",
    "current_cursor",
    "cursor_after",
];
/// Flagged inline but reading StormEvents (see the corpus README).
const NEEDS_TABLE: &[&str] = &[
    "bin-function-04",
    "partition-operator-03",
    "percentile-array-tdigest-function-00",
    "shuffle-query-02",
];

fn in_subset(case: &Json) -> bool {
    let tags = &case["tags"];
    let ops = tags["operators"].as_array().cloned().unwrap_or_default();
    let funcs = tags["functions"].as_array().cloned().unwrap_or_default();
    let op_ok = ops
        .iter()
        .all(|o| o.as_str().is_some_and(|o| SENTINEL_OPERATORS.contains(&o)));
    let fn_ok = funcs.iter().all(|f| {
        f.as_str().is_some_and(|f| {
            SENTINEL_FUNCTIONS.contains(&f)
                || SYNTAX_WORDS.contains(&f)
                || (SENTINEL_OPERATORS.contains(&f) && f != "range")
        })
    });
    op_ok && fn_ok
}

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

/// Our value in the corpus' encoding for a column of .NET type `ty`.
fn encode(v: Option<&Value>, ty: &str) -> Json {
    let v = v.cloned().unwrap_or(Value::Null);
    match (ty, &v) {
        // Kusto strings are never null.
        ("String", Value::Null) => Json::from(""),
        ("String", Value::Str(s)) => Json::from(s.to_string()),
        ("String", Value::Date(t)) => Json::from(kusto_datetime_text(*t)),
        ("String", other) => Json::from(other.to_string()),
        (_, Value::Null) => Json::Null,
        (_, Value::Date(t)) => Json::from(kusto_datetime_text(*t)),
        (_, Value::Duration(d)) => Json::from(kusto_timespan_text(*d)),
        ("Double", Value::Int(i)) => Json::from(*i as f64),
        (_, other) => serde_json::to_value(other).unwrap_or(Json::Null),
    }
}

fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn rows_match(got: &[Vec<Json>], want: &[Vec<Json>], ordered: bool) -> bool {
    if got.len() != want.len() {
        return false;
    }
    let row_eq = |a: &Vec<Json>, b: &Vec<Json>| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_eq(x, y))
    };
    if ordered {
        return got.iter().zip(want).all(|(a, b)| row_eq(a, b));
    }
    let mut used = vec![false; want.len()];
    got.iter().all(|g| {
        let hit = want
            .iter()
            .enumerate()
            .position(|(i, w)| !used[i] && row_eq(g, w));
        if let Some(i) = hit {
            used[i] = true;
        }
        hit.is_some()
    })
}

fn run_case(case: &Json) -> Outcome {
    let id = case["id"].as_str().unwrap_or("?");
    let kql = case["kql"].as_str().unwrap_or("");
    if !case["inline_input"].as_bool().unwrap_or(false) || NEEDS_TABLE.contains(&id) {
        return Outcome::Skip("needs a stored table".into());
    }
    let funcs: HashSet<&str> = case["tags"]["functions"]
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    if NONDETERMINISTIC.iter().any(|f| funcs.contains(f)) {
        return Outcome::Skip("result depends on the clock or chance".into());
    }
    let expected = &case["expected"];
    let ast = match parse(kql) {
        Ok(a) => a,
        Err(e) => return Outcome::Fail(format!("parse: {e}")),
    };
    let plan = match lower(&ast, &TableCatalog::new()) {
        Ok(p) => p,
        Err(e) => return Outcome::Fail(format!("lower: {e}")),
    };
    let mut layout = Layout::new();
    for f in plan.fields_read() {
        layout.intern(&f);
    }
    let compiled = match compile(&plan, &layout) {
        Ok(c) => c,
        Err(e) => return Outcome::Fail(format!("compile: {e}")),
    };
    let ctx = EvalContext::new(jiff::Timestamp::UNIX_EPOCH);
    let out = compiled.run_sources(&|_| Vec::new(), &ctx);
    let cols = match &out.columns {
        Columns::Explicit(c) => c.clone(),
        Columns::Events { computed } => computed.clone(),
    };
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    let want_names: Vec<&str> = expected["columns"]
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    if names != want_names {
        return Outcome::Fail(format!("columns {names:?}, expected {want_names:?}"));
    }
    let types: Vec<&str> = expected["column_types"]
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let got: Vec<Vec<Json>> = out
        .rows
        .iter()
        .map(|r| {
            cols.iter()
                .zip(&types)
                .map(|((_, slot), ty)| encode(r.row.get(*slot), ty))
                .collect()
        })
        .collect();
    let want: Vec<Vec<Json>> = expected["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| r.as_array().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    let lower_kql = kql.to_ascii_lowercase();
    let sorted = ["| sort", "| order", "| top", "|sort", "|order", "|top"]
        .iter()
        .any(|s| lower_kql.contains(s));
    let sampled = ["| take", "| limit", "|take", "|limit"]
        .iter()
        .any(|s| lower_kql.contains(s));
    if sampled && !sorted {
        // Any rows may come back: only the shape is comparable.
        return if got.len() == want.len() {
            Outcome::Pass
        } else {
            Outcome::Fail(format!("{} rows, expected {}", got.len(), want.len()))
        };
    }
    if rows_match(&got, &want, sorted) {
        Outcome::Pass
    } else {
        let show = |rows: &[Vec<Json>]| {
            rows.iter()
                .take(4)
                .map(|r| Json::Array(r.clone()).to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        Outcome::Fail(format!(
            "rows differ: got {} [{}], expected {} [{}]",
            got.len(),
            show(&got),
            want.len(),
            show(&want)
        ))
    }
}

#[test]
fn kusto_documentation_examples() {
    let Some(shared) = common::shared_dir() else {
        println!("SKIP kusto conformance: ../shared (or $VIGIL_SHARED) is absent");
        return;
    };
    let path = shared.join("conformance/kusto/docs-corpus.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP kusto conformance: {} is absent", path.display());
        return;
    };
    let doc: Json = serde_json::from_str(&text).expect("docs-corpus.json is JSON");
    let cases = doc["cases"].as_array().cloned().unwrap_or_default();
    // [subset, other] × [pass, fail, skip]
    let mut counts = [[0usize; 3]; 2];
    let mut skip_reasons: std::collections::BTreeMap<String, usize> = Default::default();
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| !c["expected"].is_null()) {
        let group = usize::from(!in_subset(case));
        match run_case(case) {
            Outcome::Pass => counts[group][0] += 1,
            Outcome::Fail(why) => {
                counts[group][1] += 1;
                if group == 0 {
                    failures.push(format!("{}: {why}", case["id"].as_str().unwrap_or("?")));
                }
            }
            Outcome::Skip(why) => {
                counts[group][2] += 1;
                *skip_reasons.entry(why).or_default() += 1;
            }
        }
    }
    for f in &failures {
        println!("  FAIL {f}");
    }
    for (why, n) in &skip_reasons {
        println!("  skipped {n}: {why}");
    }
    let [s, o] = counts;
    println!(
        "kusto conformance, all documented examples with a result: {} passed, {} failed, {} skipped",
        s[0] + o[0],
        s[1] + o[1],
        s[2] + o[2]
    );
    println!(
        "kusto conformance (Sentinel subset, supported): {} passed, {} failed, {} skipped",
        s[0], s[1], s[2]
    );
    let run = s[0] + s[1];
    assert!(run > 0, "no supported case ran");
    assert!(
        s[0] * 100 >= run * 90,
        "only {} of {run} supported documentation examples pass",
        s[0]
    );
}
