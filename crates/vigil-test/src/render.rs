//! Text output: one status line per case, and a failure's diff.

use std::fmt::Write as _;

use vigil_event::Value;

use crate::Outcome;

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        format!("{code}{s}{RESET}")
    } else {
        s.to_string()
    }
}

/// `ok   fixture :: case` or `FAIL fixture :: case`.
pub fn render_status(fixture: &str, case: &str, passed: bool, color: bool) -> String {
    let word = if passed {
        paint("ok  ", GREEN, color)
    } else {
        paint("FAIL", RED, color)
    };
    format!("{word} {fixture} :: {case}\n")
}

/// What a failed case expected and got: the alert count, then each expected alert that matched
/// none with the fields in which the closest actual alert differs, then the alerts nobody
/// expected.
pub fn render_failure(fixture: &str, case: &str, outcome: &Outcome, color: bool) -> String {
    let d = &outcome.diff;
    let mut s = String::new();
    let _ = writeln!(s, "---- {fixture} :: {case}");
    let plural = |n: usize| if n == 1 { "alert" } else { "alerts" };
    if d.expected_count != d.actual_count {
        let _ = writeln!(
            s,
            "  expected {} {}, got {}",
            d.expected_count,
            plural(d.expected_count),
            d.actual_count
        );
    }
    for u in &d.unmatched {
        match u.closest {
            Some(j) => {
                let _ = writeln!(
                    s,
                    "  expected alert #{} matches no alert; closest is alert #{}{}:",
                    u.expected + 1,
                    j + 1,
                    describe(&outcome.alerts[j])
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "  expected alert #{} matches no alert (there is none):",
                    u.expected + 1
                );
            }
        }
        for f in &u.fields {
            let got = match &f.actual {
                Some(v) => format!("got {}", paint(&show(v), RED, color)),
                None => paint("missing", RED, color),
            };
            let _ = writeln!(
                s,
                "    {}: expected {}, {got}",
                f.field,
                paint(&show(&f.expected), GREEN, color)
            );
        }
    }
    // Too many alerts: the ones no expectation accounts for are the suspects.
    if d.actual_count > d.expected_count && !d.unclaimed.is_empty() {
        let _ = writeln!(s, "  alerts no expected alert matches:");
        for &j in &d.unclaimed {
            let _ = writeln!(s, "    #{}{}", j + 1, describe(&outcome.alerts[j]));
            if let Some(reason) = outcome.alerts[j].get_str("kibana.alert.reason") {
                let _ = writeln!(s, "      {}", paint(reason, DIM, color));
            }
        }
    }
    s
}

/// ` (event at <time>)` for an alert, when it names its event's time.
fn describe(alert: &Value) -> String {
    alert
        .get_str("kibana.alert.original_time")
        .map(|t| format!(" (event at {t})"))
        .unwrap_or_default()
}

/// A value as JSON: strings quoted, arrays in brackets.
fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| v.to_string())
}
