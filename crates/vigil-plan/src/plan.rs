use crate::expr::{Expr, ExprKind};
use crate::ops::{Extract, Join, MvExpand, Sample, Sequence, Union, Values};
use crate::span::Span;

/// A logical plan: a tree of operators with the sources at the leaves.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    Source(Source),
    Values(Values),
    Filter(Filter),
    Eval(Eval),
    Aggregate(Aggregate),
    Sort(Sort),
    Limit(Limit),
    Project(Project),
    MvExpand(MvExpand),
    Extract(Extract),
    Join(Join),
    Union(Union),
    Sequence(Sequence),
    Sample(Sample),
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
/// aggregates to it (ES|QL `INLINE STATS`). Output columns: the group keys, then the aggregates.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    pub input: Box<Plan>,
    pub group_by: Vec<Assign>,
    pub aggs: Vec<AggCall>,
    pub inline: bool,
    /// A multi-valued key puts the row in one group per value (ES|QL); otherwise the whole value
    /// is one key (Kusto `dynamic`).
    pub expand_multi_valued_keys: bool,
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

    /// The operator's first (or only) input.
    pub fn input(&self) -> Option<&Plan> {
        self.children().into_iter().next()
    }

    /// The operator's first (or only) input, mutably.
    pub fn input_mut(&mut self) -> Option<&mut Plan> {
        self.children_mut().into_iter().next()
    }

    /// The operator's inputs, in order.
    pub fn children(&self) -> Vec<&Plan> {
        match self {
            Plan::Source(_) | Plan::Values(_) => vec![],
            Plan::Filter(p) => vec![&p.input],
            Plan::Eval(p) => vec![&p.input],
            Plan::Aggregate(p) => vec![&p.input],
            Plan::Sort(p) => vec![&p.input],
            Plan::Limit(p) => vec![&p.input],
            Plan::Project(p) => vec![&p.input],
            Plan::MvExpand(p) => vec![&p.input],
            Plan::Extract(p) => vec![&p.input],
            Plan::Sequence(p) => vec![&p.input],
            Plan::Sample(p) => vec![&p.input],
            Plan::Join(j) => vec![&j.left, &j.right],
            Plan::Union(u) => u.inputs.iter().collect(),
        }
    }

    /// The operator's inputs, mutably.
    pub fn children_mut(&mut self) -> Vec<&mut Plan> {
        match self {
            Plan::Source(_) | Plan::Values(_) => vec![],
            Plan::Filter(p) => vec![&mut p.input],
            Plan::Eval(p) => vec![&mut p.input],
            Plan::Aggregate(p) => vec![&mut p.input],
            Plan::Sort(p) => vec![&mut p.input],
            Plan::Limit(p) => vec![&mut p.input],
            Plan::Project(p) => vec![&mut p.input],
            Plan::MvExpand(p) => vec![&mut p.input],
            Plan::Extract(p) => vec![&mut p.input],
            Plan::Sequence(p) => vec![&mut p.input],
            Plan::Sample(p) => vec![&mut p.input],
            Plan::Join(j) => vec![&mut j.left, &mut j.right],
            Plan::Union(u) => u.inputs.iter_mut().collect(),
        }
    }

    /// The sources this plan reads, left to right.
    pub fn sources(&self) -> Vec<&Source> {
        match self {
            Plan::Source(s) => vec![s],
            _ => self
                .children()
                .into_iter()
                .flat_map(Plan::sources)
                .collect(),
        }
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
