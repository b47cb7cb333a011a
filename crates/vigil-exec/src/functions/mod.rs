//! Scalar functions by canonical IR name. Front-ends map their own function names (EQL
//! `stringContains`, ES|QL `TO_LOWER`, Kusto `tolower`) onto these. Functions whose behaviour is
//! one language's own carry its prefix (`eql.`, `esql.`, `kusto.`) and live in that language's
//! module; the rest are shared.

mod common;
mod eql;
mod esql;
mod kusto;

pub(crate) use kusto::parse_kusto_datetime;
pub use kusto::{format_iso as kusto_datetime_text, format_timespan as kusto_timespan_text};

use vigil_event::Value;

/// A scalar function over evaluated arguments. An error becomes null plus a warning.
pub type ScalarFn = fn(&[Value]) -> Result<Value, String>;

/// Looks up a function by canonical name.
pub fn scalar_function(name: &str) -> Option<ScalarFn> {
    match name.split_once('.') {
        Some(("eql", rest)) => eql::lookup(rest),
        Some(("esql", rest)) => esql::lookup(rest),
        Some(("kusto", rest)) => kusto::lookup(rest),
        _ => common::lookup(name),
    }
}
