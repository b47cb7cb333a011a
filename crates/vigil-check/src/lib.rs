//! `vigil check`: offline validation of rule files, in the spirit of detection-rules' unit tests
//! and Kibana's and Sentinel's own validation.
//!
//! Every finding has a stable code ([`CODES`]), a level, a file position and a fix hint. Elastic
//! TOML is read twice: span-aware (`toml::de::DeTable`) for schema checks that point at keys and
//! values, and through `vigil-rules` for the query, plan and field checks.

mod attack;
mod codes;
mod elastic;
mod fields;
mod query;
pub mod render;
mod sentinel;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use codes::{CODES, CodeInfo, code_info};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Something to know; nothing to fix.
    Note,
    /// Likely wrong, or a convention not followed.
    Warning,
    /// The platform would reject the rule, or it cannot work as written.
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One problem found in a rule file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub level: Level,
    pub path: String,
    /// 1-based line and column (columns in characters).
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// How to fix it.
    pub help: &'static str,
}

/// The findings over a set of paths.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    /// Rule files read.
    pub files: usize,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Number of findings at each code, in code order.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for f in &self.findings {
            *out.entry(f.code).or_insert(0) += 1;
        }
        out
    }

    pub fn count_level(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }
}

/// Why the paths could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{path}: {message}")]
    Path { path: String, message: String },
}

/// Checks every rule file under `paths` (files, or directories searched recursively).
pub fn check_paths(paths: &[PathBuf]) -> Result<Report, CheckError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    let mut report = Report::default();
    // rule_id → first file that declared it, for duplicate detection across files.
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let path = f.display().to_string();
        let bytes = std::fs::read(&f).map_err(|e| CheckError::Path {
            path: path.clone(),
            message: format!("cannot read: {e}"),
        })?;
        report.files += 1;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                // Rule files are UTF-8; report where the text stops being so.
                let valid = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let mut cx = Cx::new(&path, &lossy);
                let code = if path.ends_with(".toml") {
                    "VC100"
                } else {
                    "VC600"
                };
                cx.emit(code, valid, "the file is not UTF-8 text");
                report.findings.extend(cx.findings);
                continue;
            }
        };
        let checked = check_text(&path, &text);
        if let Some((id, offset)) = checked.rule_id {
            match ids.get(&id) {
                Some(first) => {
                    let mut cx = Cx::new(&path, &text);
                    cx.emit(
                        "VC107",
                        offset,
                        format!("rule_id `{id}` is also the id of {first}"),
                    );
                    report.findings.extend(cx.findings);
                }
                None => {
                    ids.insert(id, path.clone());
                }
            }
        }
        report.findings.extend(checked.findings);
    }
    Ok(report)
}

/// What checking one file gives.
#[derive(Debug, Default)]
pub struct Checked {
    pub findings: Vec<Finding>,
    /// The rule's id and its offset, for cross-file duplicate detection.
    pub rule_id: Option<(String, usize)>,
}

/// Checks one rule file's text; the format follows the file name.
pub fn check_text(path: &str, text: &str) -> Checked {
    let mut cx = Cx::new(path, text);
    let rule_id = if path.ends_with(".toml") {
        elastic::check(&mut cx)
    } else if path.ends_with(".yaml") || path.ends_with(".yml") {
        sentinel::check_yaml(&mut cx);
        None
    } else if path.ends_with(".kql") {
        sentinel::check_kql(&mut cx);
        None
    } else {
        None
    };
    cx.findings
        .sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
    Checked {
        findings: cx.findings,
        rule_id,
    }
}

fn collect(p: &Path, files: &mut Vec<PathBuf>) -> Result<(), CheckError> {
    let err = |message: String| CheckError::Path {
        path: p.display().to_string(),
        message,
    };
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| err(format!("cannot read directory: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let hidden = e
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !hidden && (e.is_dir() || vigil_rules::is_rule_file(&e)) {
                collect(&e, files)?;
            }
        }
        Ok(())
    } else if p.exists() {
        files.push(p.to_path_buf());
        Ok(())
    } else {
        Err(err("no such file or directory".into()))
    }
}

/// The file being checked and the findings so far.
pub(crate) struct Cx<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub findings: Vec<Finding>,
}

impl<'a> Cx<'a> {
    fn new(path: &'a str, text: &'a str) -> Cx<'a> {
        Cx {
            path,
            text,
            findings: Vec::new(),
        }
    }

    /// Records a finding at a byte offset of the file.
    pub fn emit(&mut self, code: &'static str, offset: usize, message: impl Into<String>) {
        let info = code_info(code);
        let (line, column) = vigil_rules::line_col(self.text, offset);
        self.findings.push(Finding {
            code,
            level: info.level,
            path: self.path.to_string(),
            line,
            column,
            message: message.into(),
            help: info.help,
        });
    }
}
