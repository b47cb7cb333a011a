//! `azure_literal_mode` must be conservative: every string value of a `Verbatim` field occurs in
//! the record's raw text (in its JSON-escaped form, as the prefilter searches it), and every
//! value of a `CaseFolded` field occurs there ignoring case.

mod common;

use serde_json::Value as Json;
use vigil_normalize::azure_literal_mode;
use vigil_plan::LiteralMode;

/// The text a string value has inside a JSON string literal (canonical escapes).
fn json_form(s: &str) -> String {
    let quoted = serde_json::to_string(s).expect("strings serialize");
    quoted[1..quoted.len() - 1].to_string()
}

#[derive(Default)]
struct Counts {
    records: usize,
    verbatim: usize,
    case_folded: usize,
}

fn check_record(raw: &str, counts: &mut Counts, failures: &mut Vec<String>) {
    counts.records += 1;
    let doc = common::to_json(&common::normalize(raw));
    let lower = raw.to_lowercase();
    for (path, value) in common::leaves(&doc) {
        let mode = azure_literal_mode(&path);
        if mode == LiteralMode::Absent {
            continue;
        }
        let strings: Vec<&str> = match &value {
            Json::String(s) => vec![s.as_str()],
            Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
            _ => vec![],
        };
        for s in strings {
            let form = json_form(s);
            let found = match mode {
                LiteralMode::Verbatim => {
                    counts.verbatim += 1;
                    raw.contains(&form)
                }
                LiteralMode::CaseFolded => {
                    counts.case_folded += 1;
                    lower.contains(&form.to_lowercase())
                }
                LiteralMode::Absent => true,
            };
            if !found {
                failures.push(format!("{path} = {s:?} ({mode:?}) not in {raw}"));
            }
        }
    }
}

#[test]
fn verbatim_fields_occur_in_the_raw_text() {
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for raw in common::RECORDS {
        check_record(raw, &mut counts, &mut failures);
    }
    match common::fixture_dir() {
        Some(dir) => {
            for entry in std::fs::read_dir(&dir).expect("fixture dir") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "log") {
                    let text = std::fs::read_to_string(&path).expect("readable");
                    for line in text.lines().filter(|l| !l.trim().is_empty()) {
                        check_record(line, &mut counts, &mut failures);
                    }
                }
            }
        }
        None => {
            eprintln!("SKIP upstream fixture records: shared samples not found (set VIGIL_SHARED)")
        }
    }
    eprintln!(
        "literal modes: {} records, {} verbatim and {} case-folded values checked",
        counts.records, counts.verbatim, counts.case_folded
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        counts.verbatim >= 100,
        "too few values checked: {}",
        counts.verbatim
    );
    assert!(counts.case_folded >= 3);
}
