//! Plan compilation and execution: the plan becomes a tree of operators bound to slots, run
//! bottom-up over the rows of its sources.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use vigil_event::{Layout, Row, SlotId, Value};
use vigil_plan::{Expr, Plan, ProjectItem, Source, Span};

use crate::aggregates::{AggFactory, aggregate_function};
use crate::builder::Builder;
use crate::compare::compare_values;
use crate::error::ExecError;
use crate::expr::{CompiledExpr, EvalContext, NoTrace};
use crate::key::GroupKey;

/// The columns of a plan's result.
#[derive(Clone, Debug, PartialEq)]
pub enum Columns {
    /// The rows are the source events themselves (plus computed columns): an alert is built from
    /// the event's document.
    Events { computed: Vec<(String, SlotId)> },
    /// The rows are new (after aggregation or explicit projection): only these columns exist.
    Explicit(Vec<(String, SlotId)>),
}

impl Columns {
    fn push(&mut self, name: &str, slot: SlotId) {
        let list = match self {
            Columns::Events { computed } => computed,
            Columns::Explicit(cols) => cols,
        };
        list.retain(|(n, _)| n != name);
        list.push((name.to_string(), slot));
    }
}

/// A compiled plan, bound to the layout it was compiled against.
#[derive(Clone, Debug)]
pub struct CompiledPlan {
    pub(crate) root: Node,
    columns: Columns,
    width: usize,
}

/// A compiled operator.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Source(Source),
    Values(Vec<Row>),
    Filter(Box<Node>, Box<CompiledExpr>),
    Eval(Box<Node>, Vec<(SlotId, CompiledExpr)>),
    Sort(Box<Node>, Vec<(CompiledExpr, bool, bool)>),
    Limit(Box<Node>, u64, bool),
    Aggregate(Box<Node>, Box<AggregateOp>),
    MvExpand(Box<Node>, SlotId, Option<u64>),
    Extract(Box<Node>, Box<crate::extract::ExtractOp>),
    Sequence(Box<Node>, Box<crate::sequence::SequenceOp>),
    Sample(Box<Node>, Box<crate::sample::SampleOp>),
    Join(Box<Node>, Box<Node>, Box<crate::join::JoinOp>),
    Union(Vec<Node>, Box<crate::union::UnionOp>),
}

#[derive(Clone, Debug)]
pub(crate) struct AggregateOp {
    pub(crate) keys: Vec<(SlotId, CompiledExpr)>,
    pub(crate) aggs: Vec<AggOp>,
    inline: bool,
    expand_keys: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct AggOp {
    slot: SlotId,
    factory: AggFactory,
    args: Vec<CompiledExpr>,
    pub(crate) filter: Option<CompiledExpr>,
}

/// A result row and the source events it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct OutRow {
    pub row: Row,
    /// The source event, when the row is one.
    pub origin: Option<usize>,
    /// The source events of a correlated row (a sequence's events, in order).
    pub members: Vec<usize>,
}

/// What one execution produced.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecOutput {
    pub rows: Vec<OutRow>,
    pub columns: Columns,
}

/// A row on its way through the operators, with the source event(s) it comes from.
#[derive(Clone, Debug)]
pub(crate) struct Pending<'a> {
    pub(crate) row: Cow<'a, Row>,
    pub(crate) origin: Option<usize>,
    pub(crate) members: Vec<usize>,
}

/// Compiles `plan` against `layout`, which must already hold every document field the plan
/// reads ([`Plan::fields_read`]). Computed columns get slots after the layout's own.
pub fn compile(plan: &Plan, layout: &Layout) -> Result<CompiledPlan, ExecError> {
    let mut b = Builder::new(layout);
    let (root, columns) = compile_node(plan, &mut b)?;
    Ok(CompiledPlan {
        root,
        columns,
        width: b.next,
    })
}

/// Compiles a standalone expression against a layout (no computed columns).
pub fn compile_expr(expr: &Expr, layout: &Layout) -> Result<CompiledExpr, ExecError> {
    Builder::new(layout).expr(expr)
}

fn compile_node(plan: &Plan, b: &mut Builder<'_>) -> Result<(Node, Columns), ExecError> {
    let input = |b: &mut Builder<'_>, p: &Plan| -> Result<(Box<Node>, Columns), ExecError> {
        let (n, c) = compile_node(p, b)?;
        Ok((Box::new(n), c))
    };
    Ok(match plan {
        Plan::Source(s) => (
            Node::Source(s.clone()),
            Columns::Events {
                computed: Vec::new(),
            },
        ),
        Plan::Values(v) => {
            let ctx = EvalContext::new(jiff::Timestamp::UNIX_EPOCH);
            let slots: Vec<SlotId> = v.columns.iter().map(|(name, _)| b.define(name)).collect();
            let mut rows = Vec::new();
            for exprs in &v.rows {
                let mut row = Row::with_len(b.next);
                for (slot, e) in slots.iter().zip(exprs) {
                    let value = b.expr(e)?.eval(&row, &ctx, &mut NoTrace);
                    row.set(*slot, (!value.is_null()).then_some(value));
                }
                rows.push(row);
            }
            let cols = v.columns.iter().map(|c| c.0.clone()).zip(slots).collect();
            (Node::Values(rows), Columns::Explicit(cols))
        }
        Plan::Filter(f) => {
            let (n, cols) = input(b, &f.input)?;
            (Node::Filter(n, Box::new(b.expr(&f.predicate)?)), cols)
        }
        Plan::Eval(e) => {
            let (n, mut cols) = input(b, &e.input)?;
            let mut assigns = Vec::new();
            for a in &e.assigns {
                // Each assignment sees the ones before it (ES|QL `EVAL a = 1, b = a + 1`).
                let compiled = b.expr(&a.expr)?;
                let slot = b.define(&a.name);
                cols.push(&a.name, slot);
                assigns.push((slot, compiled));
            }
            (Node::Eval(n, assigns), cols)
        }
        Plan::Sort(s) => {
            let (n, cols) = input(b, &s.input)?;
            let keys = s
                .keys
                .iter()
                .map(|k| Ok((b.expr(&k.expr)?, k.ascending, k.nulls_first)))
                .collect::<Result<_, ExecError>>()?;
            (Node::Sort(n, keys), cols)
        }
        Plan::Limit(l) => {
            let (n, cols) = input(b, &l.input)?;
            (Node::Limit(n, l.n, l.from_end), cols)
        }
        Plan::Project(p) => {
            let (n, cols) = input(b, &p.input)?;
            let cols = project(b, &p.items, cols)?;
            (*n, Columns::Explicit(cols))
        }
        Plan::Aggregate(a) => {
            let (n, in_cols) = input(b, &a.input)?;
            let mut keys = Vec::new();
            for g in &a.group_by {
                keys.push((b.fresh(), b.expr(&g.expr)?));
            }
            let mut aggs = Vec::new();
            for c in &a.aggs {
                let factory = aggregate_function(&c.func).ok_or_else(|| {
                    ExecError::new(format!("unknown aggregate `{}`", c.func), c.span)
                })?;
                let args = b.exprs(&c.args)?;
                let filter = c.filter.as_ref().map(|f| b.expr(f)).transpose()?;
                aggs.push(AggOp {
                    slot: b.fresh(),
                    factory,
                    args,
                    filter,
                });
            }
            // Names are bound after every expression is compiled: `STATS x = max(x) BY x`
            // reads the input's `x`.
            let mut cols = if a.inline {
                in_cols
            } else {
                Columns::Explicit(Vec::new())
            };
            for (g, (slot, _)) in a.group_by.iter().zip(&keys) {
                b.locals.insert(g.name.clone(), *slot);
                cols.push(&g.name, *slot);
            }
            for (c, op) in a.aggs.iter().zip(&aggs) {
                b.locals.insert(c.name.clone(), op.slot);
                cols.push(&c.name, op.slot);
            }
            let op = AggregateOp {
                keys,
                aggs,
                inline: a.inline,
                expand_keys: a.expand_multi_valued_keys,
            };
            (Node::Aggregate(n, Box::new(op)), cols)
        }
        Plan::MvExpand(m) => {
            let (n, cols) = input(b, &m.input)?;
            let slot = b.slot_of(&m.column).ok_or_else(|| {
                ExecError::new(format!("unknown column `{}`", m.column), Span::default())
            })?;
            (Node::MvExpand(n, slot, m.limit), cols)
        }
        Plan::Extract(x) => {
            let (n, mut cols) = input(b, &x.input)?;
            let op = crate::extract::ExtractOp::compile(x, b)?;
            for ((name, _), slot) in x.columns.iter().zip(&op.slots) {
                cols.push(name, *slot);
            }
            (Node::Extract(n, Box::new(op)), cols)
        }
        Plan::Join(j) => {
            let (l, lcols) = input(b, &j.left)?;
            let left_locals = b.locals.clone();
            let (r, rcols) = input(b, &j.right)?;
            let (op, cols) = crate::join::JoinOp::compile(j, b, left_locals, lcols, rcols)?;
            (Node::Join(l, r, Box::new(op)), cols)
        }
        Plan::Union(u) => {
            let outer = b.locals.clone();
            let mut nodes = Vec::new();
            let mut cols = Vec::new();
            for p in &u.inputs {
                // Each input resolves names on its own.
                b.locals = outer.clone();
                let (n, c) = compile_node(p, b)?;
                nodes.push(n);
                cols.push(c);
            }
            b.locals = outer;
            let (op, cols) = crate::union::UnionOp::compile(b, &cols);
            (Node::Union(nodes, Box::new(op)), cols)
        }
        Plan::Sequence(q) => {
            let (n, _) = input(b, &q.input)?;
            let op = crate::sequence::SequenceOp::compile(q, b)?;
            let cols = Columns::Explicit(vec![("join_keys".into(), b.define("join_keys"))]);
            (Node::Sequence(n, Box::new(op)), cols)
        }
        Plan::Sample(q) => {
            let (n, _) = input(b, &q.input)?;
            let op = crate::sample::SampleOp::compile(q, b)?;
            let cols = Columns::Explicit(vec![("join_keys".into(), b.define("join_keys"))]);
            (Node::Sample(n, Box::new(op)), cols)
        }
    })
}

fn project(
    b: &mut Builder<'_>,
    items: &[ProjectItem],
    columns: Columns,
) -> Result<Vec<(String, SlotId)>, ExecError> {
    let mut out: Vec<(String, SlotId)> = match columns {
        Columns::Explicit(c) => c,
        Columns::Events { computed } => computed,
    };
    for item in items {
        match item {
            ProjectItem::Keep(name) if name.contains('*') => {
                // A pattern keeps the matching columns, in their order, moved to the end.
                let (hit, rest): (Vec<_>, Vec<_>) = out
                    .into_iter()
                    .partition(|(n, _)| vigil_event::wildcard_match(name, n));
                out = rest;
                out.extend(hit);
            }
            ProjectItem::Drop(name) if name.contains('*') => {
                out.retain(|(n, _)| !vigil_event::wildcard_match(name, n));
            }
            ProjectItem::Keep(name) => {
                let slot = b.slot_of(name).ok_or_else(|| {
                    ExecError::new(format!("unknown column `{name}`"), Span::default())
                })?;
                out.retain(|(n, _)| n != name);
                out.push((name.clone(), slot));
            }
            ProjectItem::Drop(name) => out.retain(|(n, _)| n != name),
            ProjectItem::Rename { from, to } => {
                let slot = b.slot_of(from).ok_or_else(|| {
                    ExecError::new(format!("unknown column `{from}`"), Span::default())
                })?;
                out.retain(|(n, _)| n != from && n != to);
                b.locals.insert(to.clone(), slot);
                out.push((to.clone(), slot));
            }
        }
    }
    Ok(out)
}

impl CompiledPlan {
    /// The sources of the plan, left to right.
    pub fn sources(&self) -> Vec<&Source> {
        fn walk<'a>(n: &'a Node, out: &mut Vec<&'a Source>) {
            match n {
                Node::Source(s) => out.push(s),
                other => other.inputs().into_iter().for_each(|i| walk(i, out)),
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// The filters stacked directly above the source (Kibana's `filters`, then the query): together
    /// they decide alone whether an event matters to the plan. Empty when there are none.
    pub fn source_filters(&self) -> Vec<&CompiledExpr> {
        let mut n = &self.root;
        let mut chain = Vec::new();
        loop {
            match n {
                Node::Filter(i, pred) => {
                    chain.push(&**pred);
                    n = i;
                }
                Node::Source(_) => return chain,
                other => match other.inputs()[..] {
                    // Filters above another operator are not about single events.
                    [input] => {
                        chain.clear();
                        n = input;
                    }
                    _ => return Vec::new(),
                },
            }
        }
    }

    /// True when the plan only filters source events: each event's fate is decided alone.
    pub fn is_filter_only(&self) -> bool {
        let mut n = &self.root;
        loop {
            match n {
                Node::Filter(i, _) => n = i,
                Node::Source(_) => return true,
                _ => return false,
            }
        }
    }

    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Slots a result row may use (layout width plus computed columns).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Runs the plan with every source reading the same `(origin, row)` events.
    pub fn run<'a>(
        &self,
        input: impl IntoIterator<Item = (usize, &'a Row)>,
        ctx: &EvalContext,
    ) -> ExecOutput {
        let rows: Vec<(usize, &'a Row)> = input.into_iter().collect();
        self.run_sources(&|_| rows.clone(), ctx)
    }

    /// Runs the plan, asking `sources` for each source's `(origin, row)` events.
    pub fn run_sources<'a>(
        &self,
        sources: &dyn Fn(&Source) -> Vec<(usize, &'a Row)>,
        ctx: &EvalContext,
    ) -> ExecOutput {
        let rows = exec(&self.root, sources, ctx);
        ExecOutput {
            rows: rows
                .into_iter()
                .map(|p| OutRow {
                    row: p.row.into_owned(),
                    origin: p.origin,
                    members: p.members,
                })
                .collect(),
            columns: self.columns.clone(),
        }
    }
}

fn exec<'a>(
    node: &Node,
    sources: &dyn Fn(&Source) -> Vec<(usize, &'a Row)>,
    ctx: &EvalContext,
) -> Vec<Pending<'a>> {
    match node {
        Node::Source(s) => source_rows(s, sources),
        _ => {
            let inputs = node
                .inputs()
                .iter()
                .map(|n| exec(n, sources, ctx))
                .collect();
            apply(node, inputs, ctx)
        }
    }
}

pub(crate) fn source_rows<'a>(
    s: &Source,
    sources: &dyn Fn(&Source) -> Vec<(usize, &'a Row)>,
) -> Vec<Pending<'a>> {
    sources(s)
        .into_iter()
        .map(|(i, r)| Pending {
            row: Cow::Borrowed(r),
            origin: Some(i),
            members: Vec::new(),
        })
        .collect()
}

/// Sets the computed columns of a row in order (each sees the ones before it), showing
/// `before` the row each column is computed on.
pub(crate) fn eval_assigns(
    row: &mut Row,
    assigns: &[(SlotId, CompiledExpr)],
    ctx: &EvalContext,
    before: &mut dyn FnMut(&Row),
) {
    for (slot, e) in assigns {
        before(row);
        let v = e.eval(row, ctx, &mut NoTrace);
        row.set(*slot, (!v.is_null()).then_some(v));
    }
}

impl Node {
    /// The operator's inputs, in order.
    pub(crate) fn inputs(&self) -> Vec<&Node> {
        match self {
            Node::Source(_) | Node::Values(_) => vec![],
            Node::Join(l, r, _) => vec![l, r],
            Node::Union(inputs, _) => inputs.iter().collect(),
            Node::Filter(i, _)
            | Node::Eval(i, _)
            | Node::Sort(i, _)
            | Node::Limit(i, _, _)
            | Node::Aggregate(i, _)
            | Node::MvExpand(i, _, _)
            | Node::Extract(i, _)
            | Node::Sequence(i, _)
            | Node::Sample(i, _) => vec![i],
        }
    }
}

/// One operator over its inputs' rows (one list per input, in order). `explain` steps
/// through a plan with this, so it sees exactly what execution does.
pub(crate) fn apply<'a>(
    node: &Node,
    inputs: Vec<Vec<Pending<'a>>>,
    ctx: &EvalContext,
) -> Vec<Pending<'a>> {
    if let Node::Union(_, op) = node {
        return op.run(inputs);
    }
    let mut inputs = inputs.into_iter();
    let mut input = move || inputs.next().unwrap_or_default();
    match node {
        // Sources are read by the caller.
        Node::Source(_) => Vec::new(),
        Node::Values(rows) => rows
            .iter()
            .map(|r| Pending {
                row: Cow::Owned(r.clone()),
                origin: None,
                members: Vec::new(),
            })
            .collect(),
        Node::Filter(_, pred) => {
            let mut rows = input();
            rows.retain(|p| pred.matches(&p.row, ctx));
            rows
        }
        Node::Eval(_, assigns) => {
            let mut rows = input();
            for p in &mut rows {
                eval_assigns(p.row.to_mut(), assigns, ctx, &mut |_| {});
            }
            rows
        }
        Node::Sort(_, keys) => {
            let rows = input();
            let mut keyed: Vec<(Vec<Value>, Pending<'a>)> = rows
                .into_iter()
                .map(|p| {
                    (
                        keys.iter()
                            .map(|(e, _, _)| e.eval(&p.row, ctx, &mut NoTrace))
                            .collect(),
                        p,
                    )
                })
                .collect();
            // Stable: rows with equal keys keep their input order.
            keyed.sort_by(|(a, _), (b, _)| {
                for (i, (_, asc, nulls_first)) in keys.iter().enumerate() {
                    let o = sort_order(&a[i], &b[i], *asc, *nulls_first);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
            keyed.into_iter().map(|(_, p)| p).collect()
        }
        Node::Limit(_, n, from_end) => {
            let mut rows = input();
            let n = usize::try_from(*n).unwrap_or(usize::MAX);
            if rows.len() > n {
                if *from_end {
                    rows.drain(..rows.len() - n);
                } else {
                    rows.truncate(n);
                }
            }
            rows
        }
        Node::Aggregate(_, op) => aggregate(input(), op, ctx),
        Node::Join(_, _, op) => {
            let left = input();
            op.run(left, input())
        }
        Node::Union(..) => Vec::new(),
        Node::Extract(_, op) => op.run(input(), ctx),
        Node::Sequence(_, op) => op.run(input(), ctx),
        Node::Sample(_, op) => op.run(input(), ctx),
        Node::MvExpand(_, slot, limit) => {
            let mut out = Vec::new();
            for p in input() {
                match p.row.get(*slot) {
                    Some(Value::Array(items)) if !items.is_empty() => {
                        let take = limit.map_or(items.len(), |l| {
                            usize::try_from(l).unwrap_or(usize::MAX).min(items.len())
                        });
                        for item in items.iter().take(take) {
                            let mut row = p.row.clone().into_owned();
                            row.set(*slot, (!item.is_null()).then(|| item.clone()));
                            out.push(Pending {
                                row: Cow::Owned(row),
                                origin: p.origin,
                                members: p.members.clone(),
                            });
                        }
                    }
                    Some(Value::Array(_)) => {
                        let mut row = p.row.into_owned();
                        row.set(*slot, None);
                        out.push(Pending {
                            row: Cow::Owned(row),
                            origin: p.origin,
                            members: p.members,
                        });
                    }
                    _ => out.push(p),
                }
            }
            out
        }
    }
}

/// One group's running aggregates.
type Accumulators = Vec<Box<dyn crate::aggregates::Accumulator>>;

fn aggregate<'a>(rows: Vec<Pending<'a>>, op: &AggregateOp, ctx: &EvalContext) -> Vec<Pending<'a>> {
    // Groups in first-seen order.
    let mut index: HashMap<Vec<GroupKey>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<Value>, Accumulators)> = Vec::new();
    let mut row_groups: Vec<Vec<usize>> = Vec::with_capacity(rows.len());
    for p in &rows {
        let key_values: Vec<Value> = op
            .keys
            .iter()
            .map(|(_, e)| e.eval(&p.row, ctx, &mut NoTrace))
            .collect();
        let mut mine = Vec::new();
        for key in key_combinations(&key_values, op.expand_keys) {
            let hashed: Vec<GroupKey> = key.iter().map(GroupKey::new).collect();
            let g = *index.entry(hashed).or_insert_with(|| {
                groups.push((key.clone(), op.aggs.iter().map(|a| (a.factory)()).collect()));
                groups.len() - 1
            });
            let accs = &mut groups[g].1;
            for (acc, a) in accs.iter_mut().zip(&op.aggs) {
                if a.filter.as_ref().is_none_or(|f| f.matches(&p.row, ctx)) {
                    let args: Vec<Value> = a
                        .args
                        .iter()
                        .map(|e| e.eval(&p.row, ctx, &mut NoTrace))
                        .collect();
                    acc.update(&args);
                }
            }
            mine.push(g);
        }
        row_groups.push(mine);
    }
    // A query with no BY and no input rows still has one (empty) group.
    if op.keys.is_empty() && groups.is_empty() {
        groups.push((Vec::new(), op.aggs.iter().map(|a| (a.factory)()).collect()));
    }
    let finished: Vec<Vec<Value>> = groups
        .iter()
        .map(|(_, accs)| accs.iter().map(|a| a.finish()).collect())
        .collect();
    let fill = |row: &mut Row, g: usize| {
        for ((slot, _), v) in op.keys.iter().zip(&groups[g].0) {
            row.set(*slot, (!v.is_null()).then(|| v.clone()));
        }
        for (a, v) in op.aggs.iter().zip(&finished[g]) {
            row.set(a.slot, (!v.is_null()).then(|| v.clone()));
        }
    };
    if op.inline {
        let mut out = Vec::new();
        for (p, gs) in rows.into_iter().zip(row_groups) {
            for g in gs {
                let mut row = p.row.clone().into_owned();
                fill(&mut row, g);
                out.push(Pending {
                    row: Cow::Owned(row),
                    origin: p.origin,
                    members: p.members.clone(),
                });
            }
        }
        return out;
    }
    (0..groups.len())
        .map(|g| {
            let mut row = Row::default();
            fill(&mut row, g);
            Pending {
                row: Cow::Owned(row),
                origin: None,
                members: Vec::new(),
            }
        })
        .collect()
}

/// The group keys a row belongs to: one combination, or with `expand` one per value of each
/// multi-valued key (cartesian product).
fn key_combinations(values: &[Value], expand: bool) -> Vec<Vec<Value>> {
    let mut combos: Vec<Vec<Value>> = vec![Vec::with_capacity(values.len())];
    for v in values {
        let options: Vec<Value> = match v {
            Value::Array(items) if expand && !items.is_empty() => items.clone(),
            Value::Array(_) if expand => vec![Value::Null],
            other => vec![other.clone()],
        };
        combos = combos
            .into_iter()
            .flat_map(|c| {
                options.iter().map(move |o| {
                    let mut c = c.clone();
                    c.push(o.clone());
                    c
                })
            })
            .collect();
    }
    combos
}

fn sort_order(a: &Value, b: &Value, asc: bool, nulls_first: bool) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (false, true) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (false, false) => {
            let o = compare_values(a, b, false, false).unwrap_or(Ordering::Equal);
            if asc { o } else { o.reverse() }
        }
    }
}

#[cfg(test)]
mod tests {
    use vigil_event::DataType;
    use vigil_plan::{AggCall, Aggregate, Assign, MvExpand, SourceKind};

    use super::*;

    fn rows(layout: &mut Layout, docs: &[&str]) -> Vec<Row> {
        for f in ["host", "bytes", "tags"] {
            layout.intern(f);
        }
        let p = vigil_event::Projection::new(layout);
        docs.iter()
            .map(|d| p.project(&vigil_event::parse_json(d.as_bytes()).unwrap()))
            .collect()
    }

    fn field(n: &str) -> Expr {
        Expr::field(n, DataType::Unknown, Span::default())
    }

    #[test]
    fn aggregate_groups_and_expands_multi_valued_keys() {
        let mut layout = Layout::new();
        let data = rows(
            &mut layout,
            &[
                r#"{"host":"a","bytes":1,"tags":["x","y"]}"#,
                r#"{"host":"a","bytes":2,"tags":"x"}"#,
                r#"{"host":"b","bytes":5}"#,
            ],
        );
        let source = Plan::source(SourceKind::Elastic, vec!["logs".into()], Span::default());
        let agg = |key: &str, expand: bool| {
            Plan::Aggregate(Aggregate {
                input: Box::new(source.clone()),
                group_by: vec![Assign {
                    name: key.into(),
                    expr: field(key),
                }],
                aggs: vec![
                    AggCall {
                        name: "n".into(),
                        func: "count_rows".into(),
                        args: vec![],
                        filter: None,
                        span: Span::default(),
                    },
                    AggCall {
                        name: "total".into(),
                        func: "sum".into(),
                        args: vec![field("bytes")],
                        filter: None,
                        span: Span::default(),
                    },
                ],
                inline: false,
                expand_multi_valued_keys: expand,
            })
        };
        let ctx = EvalContext::new(jiff::Timestamp::UNIX_EPOCH);
        let show = |plan: &Plan| {
            let c = compile(plan, &layout).unwrap();
            let out = c.run(data.iter().enumerate(), &ctx);
            let Columns::Explicit(cols) = &out.columns else {
                panic!("explicit columns")
            };
            out.rows
                .iter()
                .map(|r| {
                    cols.iter()
                        .map(|(_, s)| r.row.get(*s).map_or("null".into(), ToString::to_string))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(show(&agg("host", false)), ["a,2,3", "b,1,5"]);
        assert_eq!(show(&agg("tags", true)), ["x,2,3", "y,1,1", "null,1,5"]);
        assert_eq!(
            show(&agg("tags", false)),
            [r#"["x","y"],1,1"#, "x,1,2", "null,1,5"]
        );

        let expand = Plan::MvExpand(MvExpand {
            input: Box::new(source),
            column: "tags".into(),
            limit: None,
        });
        let out = compile(&expand, &layout)
            .unwrap()
            .run(data.iter().enumerate(), &ctx);
        assert_eq!(out.rows.len(), 4);
        assert_eq!(
            out.rows.iter().map(|r| r.origin).collect::<Vec<_>>(),
            [Some(0), Some(0), Some(1), Some(2)]
        );
    }
}
