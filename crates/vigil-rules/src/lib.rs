//! Detection rules: loading rule files into format-neutral [`Rule`]s, and building each rule's
//! plan with its language's front-end.
//!
//! Elastic detection-rules TOML is read with every field of its schema ([`elastic`]); fields
//! this version does not model are kept, never dropped, so `vigil check` can report them.

pub mod builtin;
pub mod elastic;
mod filters;
mod model;
pub mod sentinel;

use std::path::{Path, PathBuf};

pub use model::{
    AlertSuppression, EntityMapping, Grouping, MissingFieldsStrategy, NewTerms, Rule, RuleKind,
    RulePlan, RuleSource, Schedule, SentinelRule, Severity, SeverityMapping, Tactic, Technique,
    Threat, Threshold, TriggerOperator,
};

/// Why a rule file could not be loaded or planned. Spans are byte offsets in the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleError {
    pub path: String,
    pub message: String,
    /// Byte range in the file, when known.
    pub span: Option<std::ops::Range<usize>>,
}

/// Rules and the files that failed, from a set of paths.
#[derive(Debug, Default)]
pub struct Loaded {
    pub rules: Vec<Rule>,
    pub errors: Vec<RuleError>,
}

/// Loads every rule file under `paths` (files, or directories searched recursively in name
/// order). A file that fails is reported and the others still load.
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    let mut files = Vec::new();
    let mut out = Loaded::default();
    for p in paths {
        collect(p, &mut files, &mut out.errors);
    }
    for f in files {
        match std::fs::read_to_string(&f) {
            Ok(text) => match load_text(&f.display().to_string(), &text) {
                Ok(Some(rule)) => out.rules.push(rule),
                Ok(None) => {}
                Err(e) => out.errors.push(e),
            },
            Err(e) => out.errors.push(RuleError {
                path: f.display().to_string(),
                message: format!("cannot read: {e}"),
                span: None,
            }),
        }
    }
    out
}

/// Loads one rule from text; the format follows the file name. `Ok(None)`: not a rule file.
pub fn load_text(path: &str, text: &str) -> Result<Option<Rule>, RuleError> {
    if path.ends_with(".test.toml") {
        return Ok(None);
    }
    if path.ends_with(".toml") {
        return elastic::parse_rule(path, text).map(Some);
    }
    if path.ends_with(".yaml") || path.ends_with(".yml") {
        return sentinel::parse_yaml(path, text).map(Some);
    }
    if path.ends_with(".kql") {
        return sentinel::parse_kql(path, text).map(Some);
    }
    Ok(None)
}

fn collect(p: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<RuleError>) {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                errors.push(RuleError {
                    path: p.display().to_string(),
                    message: format!("cannot read directory: {e}"),
                    span: None,
                });
                return;
            }
        };
        entries.sort();
        for e in entries {
            let hidden = e
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !hidden {
                collect(&e, files, errors);
            }
        }
    } else if p.exists() {
        if is_rule_file(p) {
            files.push(p.to_path_buf());
        }
    } else {
        errors.push(RuleError {
            path: p.display().to_string(),
            message: "no such file or directory".into(),
            span: None,
        });
    }
}

/// Rule files by extension; `*.test.toml` files are `vigil test` fixtures, not rules.
pub fn is_rule_file(p: &Path) -> bool {
    let fixture = p
        .file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with(".test.toml"));
    !fixture
        && matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("toml" | "yaml" | "yml" | "kql")
        )
}

/// Line and column (1-based, columns in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
