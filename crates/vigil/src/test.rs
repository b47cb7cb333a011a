//! `vigil test`: run rule fixtures and show how their alerts differ from the expected ones.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use vigil_test::{FixtureError, Outcome};

use crate::diag;

/// Run rule fixtures: each case runs its rule over its events as `vigil hunt` would, and
/// compares the alerts with the ones it expects.
///
/// A fixture is a `*.test.toml` file next to its rule: `rule = "foo.toml"`, then `[[case]]`
/// tables with `name`, `events` (inline, any input format) and/or `files`, an optional clock
/// (`start`, `end`), and `[case.expect]` with the exact alert `count` and `[[case.expect.alerts]]`
/// tables of fields each alert must have. See docs/testing.md.
#[derive(Args)]
#[command(after_help = "\
Exit status: 0 when every case passes, 1 when a case fails, 2 when a fixture cannot be read,
parsed or run (its error says where).

Examples:
  vigil test rules/                                  every fixture under rules/
  vigil test rules/azure/foo.test.toml               one fixture
  vigil test --format json rules/ | jq 'select(.status != \"ok\")'")]
pub struct TestArgs {
    /// How to print results: text (status lines, then diffs), or one JSON object per case.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    format: TestFormat,

    /// Fixture files, or directories searched recursively for `*.test.toml`.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Text,
    Json,
}

pub fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    let color = std::io::stdout().is_terminal();
    let err_color = std::io::stderr().is_terminal();
    let report = |e: &FixtureError| {
        // The file's text only matters to point at a span (and event files may be large).
        let text = e
            .span
            .as_ref()
            .and_then(|_| std::fs::read_to_string(&e.path).ok());
        eprint!(
            "{}",
            diag::render_at(
                &e.path,
                &e.message,
                e.span.clone(),
                text.as_deref(),
                err_color
            )
        );
    };
    let files = match vigil_test::find(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            report(&e);
            return Ok(ExitCode::from(2));
        }
    };
    if files.is_empty() {
        eprintln!("vigil: no *.test.toml fixture found");
        return Ok(ExitCode::from(2));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut passed, mut failed, mut errors) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        let loaded = match vigil_test::load(file) {
            Ok(l) => l,
            Err(e) => {
                report(&e);
                errors += 1;
                if args.format == TestFormat::Json {
                    writeln!(out, "{}", json_case(&name, None, None, Err(&e)))?;
                }
                continue;
            }
        };
        let rule = loaded.fixture.rule.display().to_string();
        for case in &loaded.fixture.cases {
            match vigil_test::run_case(&loaded, case) {
                Ok(outcome) => {
                    let ok = outcome.passed();
                    if ok {
                        passed += 1;
                    } else {
                        failed += 1;
                    }
                    match args.format {
                        TestFormat::Text => {
                            out.write_all(
                                vigil_test::render_status(&name, &case.name, ok, color).as_bytes(),
                            )?;
                            if !ok {
                                failures.push(vigil_test::render_failure(
                                    &name, &case.name, &outcome, color,
                                ));
                            }
                        }
                        TestFormat::Json => {
                            writeln!(
                                out,
                                "{}",
                                json_case(&name, Some(&rule), Some(&case.name), Ok(&outcome))
                            )?;
                        }
                    }
                }
                Err(e) => {
                    report(&e);
                    errors += 1;
                    if args.format == TestFormat::Json {
                        writeln!(
                            out,
                            "{}",
                            json_case(&name, Some(&rule), Some(&case.name), Err(&e))
                        )?;
                    }
                }
            }
        }
    }
    if args.format == TestFormat::Text {
        if !failures.is_empty() {
            writeln!(out, "\nfailures:")?;
            for f in &failures {
                write!(out, "\n{f}")?;
            }
        }
        let errs = if errors > 0 {
            format!(", {errors} error{}", if errors == 1 { "" } else { "s" })
        } else {
            String::new()
        };
        writeln!(out, "\n{passed} passed, {failed} failed{errs}")?;
    }
    out.flush()?;
    Ok(match (errors, failed) {
        (0, 0) => ExitCode::SUCCESS,
        (0, _) => ExitCode::from(1),
        _ => ExitCode::from(2),
    })
}

/// One case as a JSON object (`rule` and `case` are null for a fixture that does not load).
fn json_case(
    fixture: &str,
    rule: Option<&str>,
    case: Option<&str>,
    result: Result<&Outcome, &FixtureError>,
) -> String {
    use serde_json::json;
    let v = match result {
        Err(e) => {
            json!({"fixture": fixture, "rule": rule, "case": case, "status": "error", "error": e.to_string()})
        }
        Ok(o) => {
            let d = &o.diff;
            let mismatches: Vec<_> = d
                .unmatched
                .iter()
                .map(|u| {
                    let fields: Vec<_> = u
                        .fields
                        .iter()
                        .map(|f| {
                            json!({
                                "field": f.field,
                                "expected": serde_json::Value::from(&f.expected),
                                "actual": f.actual.as_ref().map(serde_json::Value::from),
                            })
                        })
                        .collect();
                    json!({
                        "expected_alert": u.expected + 1,
                        "closest_alert": u.closest.map(|j| j + 1),
                        "fields": fields,
                    })
                })
                .collect();
            json!({
                "fixture": fixture,
                "rule": rule,
                "case": case,
                "status": if o.passed() { "ok" } else { "fail" },
                "expected_count": d.expected_count,
                "actual_count": d.actual_count,
                "mismatches": mismatches,
            })
        }
    };
    v.to_string()
}
