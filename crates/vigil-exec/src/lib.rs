//! Vigil's executor.
//!
//! [`compile`] binds a [`vigil_plan::Plan`] to a row [`Layout`](vigil_event::Layout): field names
//! become slots, patterns become matchers, literals are coerced and case-folded once. The compiled
//! plan then runs over rows: [`CompiledPlan::run`] for a rule's search window, or
//! [`CompiledExpr::matches`] for the per-event filter that decides which events a rule may need.
//! The same code serves `hunt`, `run`, `test` and `query`.

mod aggregates;
mod builder;
mod compare;
mod error;
mod explain;
mod expr;
mod extract;
mod functions;
mod join;
mod key;
mod plan;
mod sample;
mod sequence;
mod union;
mod wildcard;

pub use aggregates::{Accumulator, AggFactory, aggregate_function};
pub use compare::{compare_values, fold_case, values_equal};
pub use error::ExecError;
pub use explain::{Detail, Explanation, ExprNode, NodeValue, Outcome, Stage, StepExplain};
pub use expr::{CompiledExpr, EvalContext, NoTrace, Trace, Tracer};
pub use functions::{ScalarFn, kusto_datetime_text, kusto_timespan_text, scalar_function};
pub use key::GroupKey;
pub use plan::{Columns, CompiledPlan, ExecOutput, OutRow, compile, compile_expr};
pub use wildcard::WildcardMatcher;
