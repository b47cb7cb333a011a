//! Operators beyond the single-input pipeline: literal rows, multi-valued expansion, text
//! extraction, joins, unions, and the event-correlation operators of EQL.

use jiff::SignedDuration;
use vigil_event::DataType;

use crate::expr::Expr;
use crate::plan::Plan;
use crate::span::Span;

/// Literal rows: ES|QL `ROW`, Kusto `datatable` and `print`. A source.
#[derive(Clone, Debug, PartialEq)]
pub struct Values {
    pub columns: Vec<(String, DataType)>,
    pub rows: Vec<Vec<Expr>>,
    pub span: Span,
}

/// One output row per value of a multi-valued column (ES|QL `MV_EXPAND`, Kusto `mv-expand`).
/// Rows whose column is null or empty are kept once with null (both languages do).
#[derive(Clone, Debug, PartialEq)]
pub struct MvExpand {
    pub input: Box<Plan>,
    pub column: String,
    /// Kusto's `limit N` on expansion.
    pub limit: Option<u64>,
}

/// Adds columns extracted from a string by a pattern (ES|QL `DISSECT`/`GROK`, Kusto
/// `parse`/`parse-where`).
#[derive(Clone, Debug, PartialEq)]
pub struct Extract {
    pub input: Box<Plan>,
    pub source: Expr,
    pub pattern: ExtractPattern,
    /// The columns the pattern defines, in order, with their types.
    pub columns: Vec<(String, DataType)>,
    /// Drop rows the pattern does not match (Kusto `parse-where`); otherwise they get nulls.
    pub drop_unmatched: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtractPattern {
    /// Elasticsearch dissect syntax (`%{a} %{b}`) with its append separator.
    Dissect {
        pattern: String,
        append_separator: Option<String>,
    },
    /// Grok syntax with Elasticsearch's built-in pattern library.
    Grok { pattern: String },
    /// A regular expression with named groups (Kusto `parse kind=regex`, the executor's syntax).
    Regex { pattern: String },
    /// Kusto `parse` simple/relaxed: literal text between `*` and column captures.
    KustoParse {
        parts: Vec<KustoParsePart>,
        relaxed: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KustoParsePart {
    Text(String),
    /// Skip any text (`*`).
    Skip,
    /// Capture into the column with this index in `Extract::columns`.
    Column(usize),
}

/// Join of two inputs on equal keys (Kusto `join`, ES|QL `LOOKUP JOIN`).
#[derive(Clone, Debug, PartialEq)]
pub struct Join {
    pub left: Box<Plan>,
    pub right: Box<Plan>,
    pub kind: JoinKind,
    /// (left column, right column) pairs that must be equal.
    pub on: Vec<(String, String)>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// Kusto's default: inner join against the left side deduplicated on the keys.
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftAnti,
    RightAnti,
    LeftSemi,
    RightSemi,
}

/// Rows of every input, one after another (Kusto `union`).
#[derive(Clone, Debug, PartialEq)]
pub struct Union {
    pub inputs: Vec<Plan>,
    /// Kusto `withsource=Column`: the name of the input each row came from.
    pub with_source: Option<String>,
    pub span: Span,
}

/// EQL `sequence`: ordered events matching each step's filter, sharing join keys, within
/// `maxspan`, interrupted by `until`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    pub input: Box<Plan>,
    pub steps: Vec<SequenceStep>,
    pub until: Option<SequenceStep>,
    pub maxspan: Option<SignedDuration>,
    /// The event time: events are matched in (timestamp, tiebreaker, input position) order, and
    /// `maxspan` and missing-event windows are measured on it. Events without one are ignored.
    pub timestamp: Expr,
    /// Orders events with equal timestamps (the rule's `tiebreaker_field`).
    pub tiebreaker: Option<Expr>,
    pub span: Span,
}

/// One step of a sequence or sample.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceStep {
    pub filter: Expr,
    /// Join keys (`sequence by` keys first, then the step's own `by`). A multi-valued key
    /// expands to one key per distinct value (cartesian product across keys); a null or absent
    /// key joins as null. Front-ends that drop events without a key (EQL's non-optional keys)
    /// say so in `filter`.
    pub keys: Vec<Expr>,
    /// `with runs=N`: the step repeats N times.
    pub runs: u32,
    /// `![…]`: a missing event: no such event may occur between its neighbours.
    pub missing: bool,
    pub span: Span,
}

/// EQL `sample by`: unordered events matching each step and sharing join keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub input: Box<Plan>,
    pub steps: Vec<SequenceStep>,
    /// Samples returned per join-key combination (the search API's `max_samples_per_key`).
    pub max_samples_per_key: u32,
    pub span: Span,
}
