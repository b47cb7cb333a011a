//! Rule fixtures, as `vigil test` runs them: a fixture file names a rule and gives cases, each
//! with events, an optional clock and the alerts expected. A case runs the rule as `vigil hunt`
//! would (same inputs, normalization, schedule replay and alert documents) and compares the
//! alerts with the expectation; a failure comes with a diff of expected against actual fields.
//!
//! The format is described in `docs/testing.md`.

pub mod compare;
pub mod fixture;
mod render;

use std::io::Cursor;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_event::Value;
use vigil_rules::Rule;
use vigil_runtime::{Engine, EngineOptions, HuntOptions};
use vigil_schema::Schema;

pub use compare::{Diff, FieldDiff, Unmatched, compare};
pub use fixture::{Case, Expect, Fixture, parse};
pub use render::{render_failure, render_status};

/// A fixture that cannot be read, parsed or run, or whose rule cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path, at.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct FixtureError {
    /// The file at fault: the fixture, the rule, or an event file.
    pub path: String,
    pub message: String,
    /// Byte range in that file, when known.
    pub span: Option<Range<usize>>,
    /// Line and column of the span's start.
    pub at: Option<(usize, usize)>,
}

impl FixtureError {
    /// An error about `path`, whose text (when given) locates `span`.
    pub fn new(
        path: &str,
        text: Option<&str>,
        message: impl Into<String>,
        span: Option<Range<usize>>,
    ) -> FixtureError {
        let at = match (text, &span) {
            (Some(t), Some(s)) => Some(vigil_rules::line_col(t, s.start)),
            _ => None,
        };
        FixtureError {
            path: path.to_string(),
            message: message.into(),
            span,
            at,
        }
    }
}

/// Fixture files under `paths`: files as given, directories searched recursively (in name
/// order, hidden entries skipped) for `*.test.toml`.
pub fn find(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FixtureError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FixtureError> {
        let err = |e: std::io::Error| {
            FixtureError::new(
                &dir.display().to_string(),
                None,
                format!("cannot read directory: {e}"),
                None,
            )
        };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let name = e
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') {
                continue;
            }
            if e.is_dir() {
                walk(&e, out)?;
            } else if name.ends_with(".test.toml") {
                out.push(e);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(FixtureError::new(
                &p.display().to_string(),
                None,
                "no such file or directory",
                None,
            ));
        }
    }
    Ok(out)
}

/// A fixture with its rule loaded and planned.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub fixture: Fixture,
    pub rule: Rule,
}

/// Reads and parses a fixture, and loads its rule (which must plan).
pub fn load(path: &Path) -> Result<Loaded, FixtureError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| FixtureError::new(&name, None, format!("cannot read: {e}"), None))?;
    let fixture = parse(path, &text)?;
    let rule_name = fixture.rule.display().to_string();
    let at_rule = |message: String| {
        FixtureError::new(&name, Some(&text), message, Some(fixture.rule_span.clone()))
    };
    let rule_text = std::fs::read_to_string(&fixture.rule)
        .map_err(|e| at_rule(format!("cannot read the rule {rule_name}: {e}")))?;
    let rule_err =
        |e: vigil_rules::RuleError| FixtureError::new(&e.path, Some(&rule_text), e.message, e.span);
    let rule = vigil_rules::load_text(&rule_name, &rule_text)
        .map_err(rule_err)?
        .ok_or_else(|| {
            at_rule(format!(
                "{rule_name} is not a rule file (.toml, .yaml, .yml or .kql)"
            ))
        })?;
    rule.plan(Schema::elastic()).map_err(rule_err)?;
    Ok(Loaded { fixture, rule })
}

/// What a case produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The alert documents, as `vigil hunt --format ndjson` prints them, in its order.
    pub alerts: Vec<Value>,
    pub diff: Diff,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.diff.passed()
    }
}

/// Runs one case: the rule over the case's events, as `vigil hunt` would.
pub fn run_case(loaded: &Loaded, case: &Case) -> Result<Outcome, FixtureError> {
    let fx = &loaded.fixture;
    let fx_name = fx.path.display().to_string();
    let fail = |message: String, span: Option<Range<usize>>| {
        FixtureError::new(&fx_name, Some(&fx.text), message, span)
    };
    let enricher = if case.asn_db.is_empty() && case.geo_db.is_none() {
        None
    } else {
        let e =
            vigil_enrich::Enricher::open(&case.asn_db, case.geo_db.as_deref()).map_err(|e| {
                fail(
                    format!("cannot open an enrichment database: {e}"),
                    case.enrich_span.clone(),
                )
            })?;
        Some(Arc::new(e))
    };
    let engine = Engine::new(
        vec![loaded.rule.clone()],
        Schema::elastic(),
        &EngineOptions {
            no_prefilter: false,
            enricher,
        },
    );
    if let Some(n) = engine.not_run.first() {
        return Err(FixtureError::new(
            &n.path,
            None,
            format!("the rule cannot run: {}", n.reason),
            None,
        ));
    }

    let mut inputs = vigil_ingest::Inputs::new();
    let inline_name = format!("{fx_name} (case `{}`, events)", case.name);
    if let Some(ev) = &case.events {
        inputs.add_reader(
            inline_name.clone(),
            Cursor::new(ev.text.clone().into_bytes()),
        );
    }
    for (file, span) in &case.files {
        inputs
            .add(file)
            .map_err(|e| fail(format!("cannot read events: {e}"), Some(span.clone())))?;
    }
    let report = vigil_runtime::hunt_inputs(
        &engine,
        inputs,
        HuntOptions {
            start: case.start,
            end: case.end,
            max_bad_kept: 1,
            ..HuntOptions::default()
        },
    )
    .map_err(|e| fail(format!("cannot run: {e}"), Some(case.span.clone())))?;
    // A record Vigil cannot read makes the case meaningless: report it where it is.
    if let Some(bad) = report.bad.first() {
        let name = report
            .inputs
            .get(bad.input.index())
            .map_or("?", |i| i.name.as_str());
        return Err(match &case.events {
            Some(ev) if name == inline_name => {
                let line = ev.first_line + bad.line.saturating_sub(1) as usize;
                fail(
                    format!("bad event: {}", bad.reason),
                    fixture::line_span(&fx.text, line),
                )
            }
            _ => FixtureError::new(
                name,
                None,
                format!("line {}: bad event: {}", bad.line, bad.reason),
                None,
            ),
        });
    }
    // The document `vigil hunt --format ndjson` prints, read back: dates are its strings.
    let alerts: Vec<Value> = report
        .alerts
        .iter()
        .map(|a| Value::from(serde_json::Value::from(&a.doc)))
        .collect();
    let diff = compare(&case.expect, &alerts);
    Ok(Outcome { alerts, diff })
}
