//! Kibana Query Language (KQL, "kuery") as Kibana parses and Elasticsearch executes it.
//!
//! [`parse`] builds an [`ast::Query`] following Kibana's grammar (`kbn-es-query`'s
//! `grammar.peggy`): keywords `or`/`and`/`not` in any case and only with the surrounding
//! whitespace Kibana requires, unquoted values that may hold spaces, `*` wildcards, Kibana's
//! escapes, value lists `f:(a or b)`, ranges and nested queries `path:{ … }`.
//!
//! [`lower`] turns it into a predicate of Vigil's IR with Elasticsearch's semantics, deciding from
//! each field's mapping type (ECS and integration schemas) what a comparison means: a
//! case-sensitive term on keywords, a number on numeric fields, a CIDR block on ips, a range on
//! dates, existence for `f:*`; a multi-valued field matches when any value does; `not` matches
//! documents without the field.

pub mod ast;
mod lexer;
mod lower;
mod parser;

pub use lower::{LowerError, lower, lower_query_rule};
pub use parser::{MAX_DEPTH, ParseError, parse};
