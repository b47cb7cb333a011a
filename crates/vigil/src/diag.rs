//! Diagnostics (rules, fixtures, queries) rendered with the text, a caret, the line and column.

use std::ops::Range;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};
use vigil_rules::RuleError;

/// Renders a rule error for a terminal (or plain text when `color` is false).
pub fn render(err: &RuleError, text: Option<&str>, color: bool) -> String {
    render_at(&err.path, &err.message, err.span.clone(), text, color)
}

/// Renders an error about `path` (whose text is `text`) at a byte range of it.
pub fn render_at(
    path: &str,
    message: &str,
    span: Option<Range<usize>>,
    text: Option<&str>,
    color: bool,
) -> String {
    let plain = match (&span, text) {
        (Some(s), Some(t)) => {
            let (line, col) = vigil_rules::line_col(t, s.start);
            format!("error: {path}:{line}:{col}: {message}\n")
        }
        _ => format!("error: {path}: {message}\n"),
    };
    let Some(text) = text else {
        return plain;
    };
    // An empty span (often "found the end of the query") gets one column to point at.
    let mut text = text.to_string();
    let span = span.map(|s| {
        let start = s.start.min(text.len());
        if !s.is_empty() {
            return s;
        }
        if start == text.len() {
            text.push(' ');
        }
        let width = text
            .get(start..)
            .and_then(|t| t.chars().next())
            .map_or(0, char::len_utf8);
        start..start + width
    });
    let mut diag = MietteDiagnostic::new(message.to_string());
    if let Some(span) = &span {
        let (line, col) = vigil_rules::line_col(&text, span.start);
        diag = diag.with_label(LabeledSpan::at(
            span.clone(),
            format!("line {line}, column {col}"),
        ));
    }
    let report = Report::new(diag).with_source_code(NamedSource::new(path, text));
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    match GraphicalReportHandler::new_themed(theme).render_report(&mut out, report.as_ref()) {
        Ok(()) => out,
        Err(_) => plain,
    }
}
