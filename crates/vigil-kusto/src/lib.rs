//! Kusto Query Language (KQL) as Microsoft Sentinel and Defender run it.
//!
//! [`parse`] builds an [`ast::Query`] (spans on every node, line/column-friendly errors, a depth
//! limit); `Display` on the tree prints a query that parses back to an equal tree. [`lower`]
//! turns it into Vigil's plan IR with Kusto's semantics stated explicitly: scalar operands
//! (arrays are `dynamic` values), null propagation, Kleene logic, `has` with Kusto's term rules,
//! case-insensitive `=~`/`in~`/`has`, `ago()`/`now()` relative to the rule's execution time.
//! [`lower_rule_query`] lowers a rule's query against the built-in Sentinel/Defender tables.

pub mod ast;
mod lex;
mod lower;
mod parse;

pub use lower::{LowerError, TableCatalog, lower, lower_rule_query};
pub use parse::{MAX_DEPTH, ParseError, line_col, parse};
