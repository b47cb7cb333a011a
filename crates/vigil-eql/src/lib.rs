//! EQL as Elasticsearch parses and runs it.
//!
//! [`parse`] builds an [`ast::Query`] from Elasticsearch's EQL grammar: event queries
//! (`process where …`, `any where …`), `sequence` (`by`, `with maxspan`, per-step `by`,
//! `with runs`, missing events `![…]`, `until`), `sample by`, and the `head`/`tail` pipes. What
//! Elasticsearch refuses (joins, lineage, other pipes, `=`, single-quoted strings) is refused with
//! the reason. `Display` prints a query that parses back to the same tree.
//!
//! [`lower`] turns a query into Vigil's plan IR with Elasticsearch's semantics, decided per
//! operator the way Elasticsearch compiles EQL: a comparison of a field with a constant becomes a
//! query (term, range, wildcard, prefix, CIDR) that holds when any value of the field does and
//! never when the field is absent, so `not` and `!=` match events without the field; anything
//! computed (functions, arithmetic, comparisons of computed values) runs as a script over the
//! field's first doc value, with SQL null logic, and an atom that is null does not match.
//! `==`, `!=`, `in`, `like`, `regex` and the functions are case-sensitive; `:`, `in~`, `like~`,
//! `regex~` and `fn~(…)` ignore case. `x == null` is "x has no value"; `?x` is a field that may be
//! unmapped. Sequences lower to [`vigil_plan::Sequence`] (keys, runs, missing events, until,
//! maxspan, timestamp and tiebreaker), samples to [`vigil_plan::Sample`].

pub mod ast;
mod lex;
mod lower;
mod parse;

use std::fmt;

use vigil_plan::Span;

pub use lower::{LowerError, LowerOptions, lower, lower_rule_query, lower_with};
pub use parse::{MAX_DEPTH, parse, parse_all};

/// A syntax error at a span of the query text, with its 1-based line and column (in
/// characters) for display.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
    pub line: u32,
    pub column: u32,
}

impl ParseError {
    pub fn new(message: impl Into<String>, span: Span, text: &str) -> ParseError {
        let before = text.get(..span.start as usize).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        ParseError {
            message: message.into(),
            span,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}:{}: {}", self.line, self.column, self.message)
    }
}
