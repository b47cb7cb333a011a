//! Aggregate functions by canonical IR name, as the scalar functions are: shared ones here,
//! language-specific ones (`esql.`, `kusto.`) in their modules.

mod common;
mod esql;
mod kusto;

use vigil_event::Value;

/// The running state of one aggregate over one group.
pub trait Accumulator: Send {
    /// One row's evaluated arguments (constant parameters such as a size limit arrive with
    /// every row).
    fn update(&mut self, args: &[Value]);
    /// The aggregate's value for the group.
    fn finish(&self) -> Value;
}

/// Makes a fresh accumulator.
pub type AggFactory = fn() -> Box<dyn Accumulator>;

/// Looks up an aggregate by canonical name.
pub fn aggregate_function(name: &str) -> Option<AggFactory> {
    match name.split_once('.') {
        Some(("esql", rest)) => esql::lookup(rest),
        Some(("kusto", rest)) => kusto::lookup(rest),
        _ => common::lookup(name),
    }
}
