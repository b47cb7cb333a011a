//! Vigil's logical plan.
//!
//! Every query language lowers to one [`Plan`] (source → filter → eval → aggregate → sort/limit →
//! keep …) over one expression language, [`Expr`]. Language quirks are explicit in the IR rather
//! than hidden in the executor: each predicate carries its case sensitivity and its multi-value
//! [`Quantifier`], and boolean operators are Kleene three-valued, so a front-end states its null
//! logic by the operators it emits.
//!
//! Every node keeps the [`Span`] of the query text it came from and gets a stable [`NodeId`]
//! (pre-order numbering, [`Plan::assign_ids`]), so diagnostics can point at rule text and `explain`
//! can report each predicate's value for an event.

mod display;
mod expr;
mod literals;
mod ops;
mod plan;
mod span;
mod visit;

pub use expr::{
    ArithOp, Case, CmpOp, Expr, ExprKind, FieldRef, MatchOpts, Pattern, Quantifier,
    WildcardPattern, WildcardToken,
};
pub use literals::{LiteralMode, RequiredLiteral, required_literals};
pub use ops::{
    Extract, ExtractPattern, Join, JoinKind, KustoParsePart, MvExpand, Sample, Sequence,
    SequenceStep, Union, Values,
};
pub use plan::{
    AggCall, Aggregate, Assign, Eval, Filter, Limit, Plan, PlanError, Project, ProjectItem, Sort,
    SortKey, Source, SourceKind,
};
pub use span::{AstSpan, NodeId, Span};
