//! ES|QL as Elasticsearch parses and runs it.
//!
//! [`parse`] builds an [`ast::Query`] with a hand-written lexer and a recursive-descent parser
//! (Pratt for expressions) following Elasticsearch's grammar: `FROM … METADATA`, `ROW`, `WHERE`,
//! `EVAL`, `STATS … BY`, `INLINE STATS`, `KEEP`/`DROP` with wildcards, `RENAME`, `SORT`,
//! `LIMIT`, `DISSECT`, `GROK`, `MV_EXPAND`; backtick identifiers, comments, time spans, `::`
//! casts. The tree prints back to a query that parses to an equal tree.
//!
//! [`lower_with`] (or [`lower_rule_query`] for detection rules) turns it into Vigil's plan IR
//! with typed columns computed at plan time, so unknown columns and type errors are reported
//! with their position before anything runs.

pub mod ast;
mod functions;
mod lex;
mod lower;
mod parse;
mod types;

pub use functions::known_functions;
pub use lower::{Catalog, EsqlPlan, LowerError, lower, lower_rule_query, lower_with};
pub use parse::{MAX_DEPTH, ParseError, line_col, parse};
pub use types::EsqlType;
