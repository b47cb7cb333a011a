use crate::expr::{Expr, ExprKind};
use crate::span::Span;

/// A logical plan: a tree of operators with the source at the leaves.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    Source(Source),
    Filter(Filter),
    Eval(Eval),
    Aggregate(Aggregate),
    Sort(Sort),
    Limit(Limit),
    Project(Project),
}

/// Where rows come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub kind: SourceKind,
    /// Index patterns (`logs-azure.activitylogs-*`) or table names (`AzureActivity`).
    pub names: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// Elasticsearch indices or data streams: ECS documents.
    Elastic,
    /// A Log Analytics / Defender table: rows with typed columns.
    Table,
}

/// Keeps rows for which the predicate is true (false and null drop the row).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Filter {
    pub input: Box<Plan>,
    pub predicate: Expr,
}

impl Filter {
    /// Rejects predicates that can never be boolean (a bare literal string, a number).
    pub fn try_new(input: Plan, predicate: Expr) -> Result<Filter, PlanError> {
        if let ExprKind::Literal(v) = &predicate.kind
            && !matches!(v, vigil_event::Value::Bool(_) | vigil_event::Value::Null)
        {
            return Err(PlanError::new(
                format!(
                    "a filter needs a boolean condition, found the {} {v}",
                    v.type_name()
                ),
                predicate.span,
            ));
        }
        Ok(Filter {
            input: Box::new(input),
            predicate,
        })
    }
}

/// A named expression (`EVAL x = …`, `extend x = …`, a `BY` key).
#[derive(Clone, Debug, PartialEq)]
pub struct Assign {
    pub name: String,
    pub expr: Expr,
}

/// Adds or replaces columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Eval {
    pub input: Box<Plan>,
    pub assigns: Vec<Assign>,
}

/// An aggregate function call (`count()`, `make_set(x, 10)`).
#[derive(Clone, Debug, PartialEq)]
pub struct AggCall {
    pub name: String,
    /// Canonical aggregate name in the executor's registry.
    pub func: String,
    pub args: Vec<Expr>,
    /// Only rows where this holds are aggregated (`countif`, ES|QL `WHERE` in STATS).
    pub filter: Option<Expr>,
    pub span: Span,
}

/// Groups rows and aggregates each group. `inline` keeps every input row and adds the
/// aggregates to it (ES|QL `INLINE STATS`).
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    pub input: Box<Plan>,
    pub group_by: Vec<Assign>,
    pub aggs: Vec<AggCall>,
    pub inline: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub ascending: bool,
    pub nulls_first: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sort {
    pub input: Box<Plan>,
    pub keys: Vec<SortKey>,
}

/// The first `n` rows (or the last, for EQL `tail`).
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    pub input: Box<Plan>,
    pub n: u64,
    pub from_end: bool,
}

/// Column selection: keep, drop and rename, in order. Names may hold `*` wildcards.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    pub input: Box<Plan>,
    pub items: Vec<ProjectItem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProjectItem {
    Keep(String),
    Drop(String),
    Rename { from: String, to: String },
}

/// A problem found while building a plan, at a span of the query text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PlanError {
    pub message: String,
    pub span: Span,
}

impl PlanError {
    pub fn new(message: impl Into<String>, span: Span) -> PlanError {
        PlanError {
            message: message.into(),
            span,
        }
    }
}

impl Plan {
    pub fn source(kind: SourceKind, names: Vec<String>, span: Span) -> Plan {
        Plan::Source(Source { kind, names, span })
    }

    /// Wraps this plan in a filter.
    pub fn filter(self, predicate: Expr) -> Result<Plan, PlanError> {
        Filter::try_new(self, predicate).map(Plan::Filter)
    }

    /// The operator's input, if it has one.
    pub fn input(&self) -> Option<&Plan> {
        match self {
            Plan::Source(_) => None,
            Plan::Filter(p) => Some(&p.input),
            Plan::Eval(p) => Some(&p.input),
            Plan::Aggregate(p) => Some(&p.input),
            Plan::Sort(p) => Some(&p.input),
            Plan::Limit(p) => Some(&p.input),
            Plan::Project(p) => Some(&p.input),
        }
    }

    pub fn input_mut(&mut self) -> Option<&mut Plan> {
        match self {
            Plan::Source(_) => None,
            Plan::Filter(p) => Some(&mut p.input),
            Plan::Eval(p) => Some(&mut p.input),
            Plan::Aggregate(p) => Some(&mut p.input),
            Plan::Sort(p) => Some(&mut p.input),
            Plan::Limit(p) => Some(&mut p.input),
            Plan::Project(p) => Some(&mut p.input),
        }
    }

    /// The sources this plan reads.
    pub fn sources(&self) -> Vec<&Source> {
        let mut out = Vec::new();
        let mut cur = Some(self);
        while let Some(p) = cur {
            if let Plan::Source(s) = p {
                out.push(s);
            }
            cur = p.input();
        }
        out
    }

    /// The predicate applied directly above the source, if the plan starts with a filter: the
    /// part of a rule that decides which events matter at all.
    pub fn source_filter(&self) -> Option<&Expr> {
        let mut cur = self;
        let mut found = None;
        while let Some(input) = cur.input() {
            if let (Plan::Filter(f), Plan::Source(_)) = (cur, input) {
                found = Some(&f.predicate);
            }
            cur = input;
        }
        found
    }
}
