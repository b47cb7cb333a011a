//! Rule diagnostics rendered with the rule text, a caret and the line and column.

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};
use vigil_rules::RuleError;

/// Renders a rule error for a terminal (or plain text when `color` is false).
pub fn render(err: &RuleError, text: Option<&str>, color: bool) -> String {
    let Some(text) = text else {
        return format!("error: {err}\n");
    };
    let mut diag = MietteDiagnostic::new(err.message.clone());
    if let Some(span) = &err.span {
        let (line, col) = vigil_rules::line_col(text, span.start);
        diag = diag.with_label(LabeledSpan::at(
            span.clone(),
            format!("line {line}, column {col}"),
        ));
    }
    let report =
        Report::new(diag).with_source_code(NamedSource::new(err.path.clone(), text.to_string()));
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    match GraphicalReportHandler::new_themed(theme).render_report(&mut out, report.as_ref()) {
        Ok(()) => out,
        Err(_) => format!("error: {err}\n"),
    }
}
