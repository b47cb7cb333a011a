//! `explain`: one event through a compiled plan, operator by operator, with the value of every
//! predicate node.
//!
//! Nothing here evaluates on its own: rows move through [`apply`], the function execution
//! uses, and every value comes from the executor's traced evaluation of the compiled node. A
//! node the executor skipped (a conjunct after a false one) is evaluated the same way, on the
//! same row, and flagged `skipped`. Above an operator that correlates events (aggregation,
//! sequence, sample, join) nothing is judged: one event cannot decide it.

use std::collections::HashMap;

use vigil_event::{Row, Value};
use vigil_plan::{Expr, ExprKind, NodeId, Plan, Source, Span};

use crate::expr::{CompiledExpr, EvalContext, Kind, Trace, Tracer};
use crate::plan::{CompiledPlan, Node, Pending, apply, eval_assigns, source_rows};
use crate::sequence::{Stage as SeqStage, timestamp_nanos};

/// One event's way through a plan.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// Operators in evaluation order: inputs first, a join's left side before its right.
    pub stages: Vec<Stage>,
    pub outcome: Outcome,
}

/// What the plan does with the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This many rows of the event reach the plan's output.
    Matched(usize),
    /// No row of the event reaches the output; the stages that dropped the last rows say where.
    Dropped,
    /// The event reaches an operator that correlates events: the result depends on others.
    Correlated,
}

/// One operator and what it did with the event's rows.
#[derive(Clone, Debug)]
pub struct Stage {
    /// Where the operator sits: empty for the main pipeline, else e.g. `join left`.
    pub branch: String,
    /// The operator as the plan prints it (one line).
    pub operator: String,
    pub rows_in: usize,
    /// `None` above a correlating operator: not judged.
    pub rows_out: Option<usize>,
    /// The operator dropped every row of the event that reached it.
    pub drops: bool,
    pub detail: Detail,
}

#[derive(Clone, Debug)]
pub enum Detail {
    None,
    /// A source, and whether it reads this event.
    Source {
        reads: bool,
    },
    /// The predicate's tree for the event's row (the first that passes, else the first); `None`
    /// when no row reached it.
    Filter(Option<ExprNode>),
    /// Each computed column's expression for the event's first row.
    Eval(Vec<(String, ExprNode)>),
    /// The group (key name, value) each row joins, and the aggregates' own filters.
    Aggregate {
        groups: Vec<Vec<(String, Value)>>,
        filters: Vec<(String, ExprNode)>,
    },
    /// Sequence or sample steps and whether the event can fill each.
    Steps {
        steps: Vec<StepExplain>,
        until: Option<StepExplain>,
        /// The event has no usable timestamp: the sequence ignores it.
        untimed: bool,
    },
    /// Above a correlating operator: the condition or operator the correlated rows then meet.
    Deferred {
        text: String,
    },
}

/// One step of a sequence or sample for the event.
#[derive(Clone, Debug)]
pub struct StepExplain {
    /// Position among the steps, from 1.
    pub number: usize,
    pub missing: bool,
    pub runs: u32,
    pub filter: ExprNode,
    /// Join key text and the event's value(s).
    pub keys: Vec<(String, Value)>,
    /// The event matches this step's filter.
    pub fills: bool,
}

/// An expression node and its value for the event.
#[derive(Clone, Debug)]
pub struct ExprNode {
    pub id: NodeId,
    pub span: Span,
    /// The node's query text when its span is known, else the plan's text of it.
    pub text: String,
    /// The operator (`and`, `or`, `not`, `compare`, `field`, …).
    pub op: &'static str,
    pub value: NodeValue,
    /// The executor did not evaluate this node (short circuit); the value is what it would be.
    pub skipped: bool,
    /// On the path of the first failing condition.
    pub failing: bool,
    pub children: Vec<ExprNode>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeValue {
    Value(Value),
    /// A field the event does not have.
    Missing,
}

impl NodeValue {
    pub fn is_true(&self) -> bool {
        matches!(self, NodeValue::Value(Value::Bool(true)))
    }
}

impl ExprNode {
    /// Marks the path to the conditions that decide a failure: from a false or null root, the
    /// first conjunct that is not true, recursively through `and` (and the two-valued
    /// wrapper); through an `or`, every alternative; a `not` or a leaf stops the descent.
    pub fn mark_failing(&mut self) {
        self.failing = true;
        match self.op {
            "and" | "is_true" => {
                if let Some(c) = self.children.iter_mut().find(|c| !c.value.is_true()) {
                    c.mark_failing();
                }
            }
            // No alternative holds: each fails somewhere.
            "or" => self
                .children
                .iter_mut()
                .filter(|c| c.op != "literal")
                .for_each(ExprNode::mark_failing),
            _ => {}
        }
    }

    /// The deepest node on the failing path.
    pub fn failing_node(&self) -> Option<&ExprNode> {
        if !self.failing {
            return None;
        }
        self.children
            .iter()
            .find_map(ExprNode::failing_node)
            .or(Some(self))
    }
}

impl CompiledPlan {
    /// Explains the plan (the IR it was compiled from) for the rows `sources` give, at `ctx`'s
    /// time. `query` is the text the plan's spans point into.
    pub fn explain<'a>(
        &self,
        plan: &Plan,
        sources: &dyn Fn(&Source) -> Vec<(usize, &'a Row)>,
        ctx: &EvalContext,
        query: Option<&str>,
    ) -> Explanation {
        let mut w = Walker {
            sources,
            ctx,
            query,
            stages: Vec::new(),
        };
        let outcome = match w.walk(&self.root, plan, "") {
            Flow::Correlated => Outcome::Correlated,
            Flow::Rows(rows) if rows.is_empty() => Outcome::Dropped,
            Flow::Rows(rows) => Outcome::Matched(rows.len()),
        };
        Explanation {
            stages: w.stages,
            outcome,
        }
    }
}

enum Flow<'a> {
    Rows(Vec<Pending<'a>>),
    Correlated,
}

struct Walker<'s, 'a> {
    sources: &'s dyn Fn(&Source) -> Vec<(usize, &'a Row)>,
    ctx: &'s EvalContext,
    query: Option<&'s str>,
    stages: Vec<Stage>,
}

/// Every value the executor computed during one evaluation, by node.
#[derive(Default)]
struct Traces(HashMap<NodeId, Value>);

impl Tracer for Traces {
    fn record(&mut self, id: NodeId, trace: Trace) {
        if let Trace::Value(v) = trace {
            self.0.insert(id, v);
        }
    }
}

impl<'a> Walker<'_, 'a> {
    fn walk(&mut self, node: &Node, plan: &Plan, branch: &str) -> Flow<'a> {
        // A projection is compiled into its input's columns: no operator of its own.
        if let Plan::Project(p) = plan {
            let flow = self.walk(node, &p.input, branch);
            match &flow {
                Flow::Rows(r) => {
                    self.push(branch, plan, r.len(), Some(r.len()), false, Detail::None)
                }
                Flow::Correlated => {
                    let text = operator_line(plan);
                    self.push(branch, plan, 0, None, false, Detail::Deferred { text });
                }
            }
            return flow;
        }
        if let Node::Source(s) = node {
            let rows = source_rows(s, self.sources);
            let reads = !rows.is_empty();
            self.push(
                branch,
                plan,
                0,
                Some(rows.len()),
                !reads,
                Detail::Source { reads },
            );
            return Flow::Rows(rows);
        }
        let mut flows = Vec::new();
        for (i, (n, p)) in node.inputs().into_iter().zip(plan.children()).enumerate() {
            let side = match node {
                Node::Join(..) if i == 0 => "join left".to_string(),
                Node::Join(..) => "join right".to_string(),
                Node::Union(..) => format!("union input {}", i + 1),
                _ => String::new(),
            };
            let b = match (branch, side.as_str()) {
                (b, "") => b.to_string(),
                ("", s) => s.to_string(),
                (b, s) => format!("{b} / {s}"),
            };
            flows.push(self.walk(n, p, &b));
        }
        let mut inputs = Vec::new();
        for f in flows {
            match f {
                Flow::Rows(r) => inputs.push(r),
                Flow::Correlated => {
                    let text = match plan {
                        Plan::Filter(f) => self.text(&f.predicate),
                        _ => operator_line(plan),
                    };
                    self.push(branch, plan, 0, None, false, Detail::Deferred { text });
                    return Flow::Correlated;
                }
            }
        }
        let rows_in: usize = inputs.iter().map(Vec::len).sum();
        match (node, plan) {
            (Node::Filter(_, pred), Plan::Filter(f)) => {
                let rows = inputs.pop().unwrap_or_default();
                let shown = rows
                    .iter()
                    .find(|p| pred.matches(&p.row, self.ctx))
                    .or(rows.first());
                let mut tree = shown.map(|p| self.expr(&f.predicate, pred, &p.row));
                let out = apply(node, vec![rows], self.ctx);
                let drops = rows_in > 0 && out.is_empty();
                if drops && let Some(t) = &mut tree {
                    t.mark_failing();
                }
                self.push(
                    branch,
                    plan,
                    rows_in,
                    Some(out.len()),
                    drops,
                    Detail::Filter(tree),
                );
                Flow::Rows(out)
            }
            (Node::Eval(_, assigns), Plan::Eval(e)) => {
                let mut cols = Vec::new();
                if let Some(first) = inputs.first().and_then(|r| r.first()) {
                    let mut row = first.row.clone().into_owned();
                    // Each column is explained on the row as it was when it was computed.
                    let mut before = Vec::new();
                    eval_assigns(&mut row, assigns, self.ctx, &mut |r| before.push(r.clone()));
                    for ((a, (_, c)), r) in e.assigns.iter().zip(assigns).zip(before) {
                        cols.push((a.name.clone(), self.expr(&a.expr, c, &r)));
                    }
                }
                self.pass(node, plan, branch, inputs, Detail::Eval(cols))
            }
            (Node::Aggregate(_, op), Plan::Aggregate(a)) => {
                let rows = inputs.pop().unwrap_or_default();
                if rows.is_empty() {
                    // The event adds nothing to any group.
                    self.push(branch, plan, 0, Some(0), false, Detail::None);
                    return Flow::Rows(rows);
                }
                let groups = rows
                    .iter()
                    .map(|p| {
                        a.group_by
                            .iter()
                            .zip(&op.keys)
                            .map(|(g, (_, k))| (g.name.clone(), self.value(k, &p.row)))
                            .collect()
                    })
                    .collect();
                let filters = a
                    .aggs
                    .iter()
                    .zip(&op.aggs)
                    .filter_map(|(c, o)| {
                        let (ir, f) = c.filter.as_ref().zip(o.filter.as_ref())?;
                        Some((c.name.clone(), self.expr(ir, f, &rows[0].row)))
                    })
                    .collect();
                self.push(
                    branch,
                    plan,
                    rows_in,
                    None,
                    false,
                    Detail::Aggregate { groups, filters },
                );
                Flow::Correlated
            }
            (Node::Sequence(_, op), Plan::Sequence(q)) => {
                let rows = inputs.pop().unwrap_or_default();
                let untimed = rows
                    .first()
                    .is_some_and(|p| timestamp_nanos(&self.value(&op.timestamp, &p.row)).is_none());
                let detail = self.steps(
                    &q.steps,
                    q.until.as_ref(),
                    &op.stages,
                    op.until.as_ref(),
                    &rows,
                    untimed,
                );
                self.correlate(branch, plan, rows_in, detail)
            }
            (Node::Sample(_, op), Plan::Sample(q)) => {
                let rows = inputs.pop().unwrap_or_default();
                let detail = self.steps(&q.steps, None, &op.stages, None, &rows, false);
                self.correlate(branch, plan, rows_in, detail)
            }
            (Node::Join(..), _) => {
                if rows_in == 0 {
                    self.push(branch, plan, 0, Some(0), false, Detail::None);
                    Flow::Rows(Vec::new())
                } else {
                    self.push(branch, plan, rows_in, None, false, Detail::None);
                    Flow::Correlated
                }
            }
            _ => self.pass(node, plan, branch, inputs, Detail::None),
        }
    }

    /// An operator that decides each row alone: applied as execution applies it.
    fn pass(
        &mut self,
        node: &Node,
        plan: &Plan,
        branch: &str,
        inputs: Vec<Vec<Pending<'a>>>,
        detail: Detail,
    ) -> Flow<'a> {
        let rows_in: usize = inputs.iter().map(Vec::len).sum();
        let out = apply(node, inputs, self.ctx);
        let drops = rows_in > 0 && out.is_empty();
        self.push(branch, plan, rows_in, Some(out.len()), drops, detail);
        Flow::Rows(out)
    }

    /// A sequence or sample: the event is kept for correlation when it can fill a step.
    fn correlate(
        &mut self,
        branch: &str,
        plan: &Plan,
        rows_in: usize,
        mut detail: Detail,
    ) -> Flow<'a> {
        let fills = match &detail {
            Detail::Steps { steps, untimed, .. } => !untimed && steps.iter().any(|s| s.fills),
            _ => false,
        };
        if fills {
            self.push(branch, plan, rows_in, None, false, detail);
            Flow::Correlated
        } else {
            // Dropped: each step the event could have filled says why it does not.
            if let Detail::Steps { steps, .. } = &mut detail {
                for s in steps.iter_mut().filter(|s| !s.missing) {
                    s.filter.mark_failing();
                }
            }
            self.push(branch, plan, rows_in, Some(0), rows_in > 0, detail);
            Flow::Rows(Vec::new())
        }
    }

    fn steps(
        &self,
        ir: &[vigil_plan::SequenceStep],
        ir_until: Option<&vigil_plan::SequenceStep>,
        stages: &[SeqStage],
        until: Option<&SeqStage>,
        rows: &[Pending<'a>],
        untimed: bool,
    ) -> Detail {
        let Some(first) = rows.first() else {
            return Detail::Steps {
                steps: Vec::new(),
                until: None,
                untimed,
            };
        };
        let step = |number: usize, s: &vigil_plan::SequenceStep, c: &SeqStage| {
            let filter = self.expr(&s.filter, &c.filter, &first.row);
            let fills = filter.value.is_true();
            let keys = s
                .keys
                .iter()
                .zip(&c.keys)
                .map(|(k, ck)| (self.text(k), self.value(ck, &first.row)))
                .collect();
            StepExplain {
                number,
                missing: s.missing,
                runs: s.runs,
                filter,
                keys,
                fills,
            }
        };
        let steps = ir
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let c = stages.iter().find(|c| c.filter.id() == s.filter.id)?;
                Some(step(i + 1, s, c))
            })
            .collect();
        let until = ir_until.zip(until).map(|(s, c)| step(0, s, c));
        Detail::Steps {
            steps,
            until,
            untimed,
        }
    }

    fn push(
        &mut self,
        branch: &str,
        plan: &Plan,
        rows_in: usize,
        rows_out: Option<usize>,
        drops: bool,
        detail: Detail,
    ) {
        let operator = match plan {
            Plan::Filter(f) => format!("Filter: {}", self.text(&f.predicate)),
            Plan::Sequence(q) => self
                .excerpt(q.span)
                .map_or_else(|| operator_line(plan), |t| format!("Sequence: {t}")),
            Plan::Sample(q) => self
                .excerpt(q.span)
                .map_or_else(|| operator_line(plan), |t| format!("Sample: {t}")),
            _ => operator_line(plan),
        };
        self.stages.push(Stage {
            branch: branch.to_string(),
            operator,
            rows_in,
            rows_out,
            drops,
            detail,
        });
    }

    /// A compiled expression's value for a row, by the executor.
    fn value(&self, e: &CompiledExpr, row: &Row) -> Value {
        e.eval(row, self.ctx, &mut crate::NoTrace)
    }

    /// The explained tree of `ir` (compiled as `compiled`) for a row.
    fn expr(&self, ir: &Expr, compiled: &CompiledExpr, row: &Row) -> ExprNode {
        let mut traces = Traces::default();
        compiled.eval(row, self.ctx, &mut traces);
        let mut index = HashMap::new();
        index_nodes(compiled, &mut index);
        self.build(ir, &index, &mut traces, row)
    }

    fn build(
        &self,
        ir: &Expr,
        index: &HashMap<NodeId, &CompiledExpr>,
        traces: &mut Traces,
        row: &Row,
    ) -> ExprNode {
        let compiled = index.get(&ir.id).copied();
        let mut skipped = false;
        let value = match (&ir.kind, compiled) {
            (ExprKind::Literal(v), _) => NodeValue::Value(v.clone()),
            (_, None) => NodeValue::Value(Value::Null),
            (_, Some(c)) => match (&c.kind, traces.0.get(&ir.id)) {
                (Kind::Slot { slot, .. }, _) => row
                    .get(*slot)
                    .map_or(NodeValue::Missing, |v| NodeValue::Value(v.clone())),
                (_, Some(v)) => NodeValue::Value(v.clone()),
                (_, None) => {
                    skipped = true;
                    NodeValue::Value(c.eval(row, self.ctx, traces))
                }
            },
        };
        let mut children: Vec<ExprNode> = match &ir.kind {
            // The element predicate reads fields of each element, not of the row.
            ExprKind::AnyElement { .. } => Vec::new(),
            _ => ir
                .children()
                .into_iter()
                .map(|c| self.build(c, index, traces, row))
                .collect(),
        };
        // `exists` names its field without a child node: show the field's value under it.
        if let (ExprKind::Exists(f), Some(Kind::Exists(slot))) =
            (&ir.kind, compiled.map(|c| &c.kind))
        {
            children.push(ExprNode {
                id: ir.id,
                span: Span::default(),
                text: f.name.clone(),
                op: "field",
                value: row
                    .get(*slot)
                    .map_or(NodeValue::Missing, |v| NodeValue::Value(v.clone())),
                skipped,
                failing: false,
                children: Vec::new(),
            });
        }
        let text = match &ir.kind {
            ExprKind::Field(f) => f.name.clone(),
            // A key's existence check (EQL) spans only the field's name.
            ExprKind::Exists(f) if self.text(ir) == f.name => format!("exists({})", f.name),
            _ => self.text(ir),
        };
        ExprNode {
            id: ir.id,
            span: ir.span,
            text,
            op: op_name(&ir.kind),
            value,
            skipped,
            failing: false,
            children,
        }
    }

    /// The query text of a node, whitespace collapsed; the plan's text when the span is unknown.
    fn text(&self, e: &Expr) -> String {
        self.excerpt(e.span).unwrap_or_else(|| e.to_string())
    }

    /// The query text at `span`, whitespace collapsed.
    fn excerpt(&self, span: Span) -> Option<String> {
        let t = self
            .query
            .filter(|_| !span.is_empty())
            .and_then(|q| q.get(span.range()))?;
        Some(t.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// Every compiled node of an expression by id.
fn index_nodes<'c>(e: &'c CompiledExpr, out: &mut HashMap<NodeId, &'c CompiledExpr>) {
    out.insert(e.id, e);
    let children: Vec<&CompiledExpr> = match &e.kind {
        Kind::Lit(_) | Kind::Slot { .. } | Kind::Exists(_) | Kind::Now => Vec::new(),
        // Its predicate reads elements, not rows: never evaluated against the row.
        Kind::AnyElement { .. } => Vec::new(),
        Kind::Not(x) | Kind::IsTrue(x) | Kind::IsNull(x) | Kind::Negate(x) => vec![x],
        Kind::Cast { expr, .. } | Kind::Match { expr, .. } | Kind::Cidr { expr, .. } => {
            vec![expr]
        }
        Kind::And(items) | Kind::Or(items) | Kind::Call { args: items, .. } => {
            items.iter().collect()
        }
        Kind::Cmp { left, right, .. } | Kind::Arith { left, right, .. } => vec![left, right],
        Kind::In { expr, list, .. } => std::iter::once(&**expr).chain(list).collect(),
        Kind::Case {
            branches,
            otherwise,
        } => branches
            .iter()
            .flat_map(|(c, v)| [c, v])
            .chain(otherwise.as_deref())
            .collect(),
    };
    for c in children {
        index_nodes(c, out);
    }
}

fn op_name(k: &ExprKind) -> &'static str {
    match k {
        ExprKind::Literal(_) => "literal",
        ExprKind::Field(_) => "field",
        ExprKind::Not(_) => "not",
        ExprKind::And(_) => "and",
        ExprKind::Or(_) => "or",
        ExprKind::IsTrue(_) => "is_true",
        ExprKind::Exists(_) => "exists",
        ExprKind::IsNull(_) => "is_null",
        ExprKind::Compare { .. } => "compare",
        ExprKind::In { .. } => "in",
        ExprKind::Match { .. } => "match",
        ExprKind::Cidr { .. } => "cidr",
        ExprKind::Arith { .. } => "arith",
        ExprKind::Negate(_) => "negate",
        ExprKind::Now => "now",
        ExprKind::AnyElement { .. } => "any_element",
        ExprKind::Call { .. } => "call",
        ExprKind::Cast { .. } => "cast",
        ExprKind::Case { .. } => "case",
    }
}

/// The operator's own line of the plan's text.
fn operator_line(plan: &Plan) -> String {
    let text = plan.to_string();
    text.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use vigil_event::{DataType, Layout, Projection};
    use vigil_plan::{
        CmpOp, Expr, ExprKind, MatchOpts, Pattern, Quantifier, SourceKind, WildcardPattern,
        WildcardToken,
    };

    use super::*;
    use crate::{compile, compile_expr};

    const FIELDS: [&str; 3] = ["a", "b", "c"];

    fn field(i: usize) -> Expr {
        Expr::field(FIELDS[i % 3], DataType::Unknown, Span::default())
    }

    fn leaf() -> impl Strategy<Value = Expr> {
        let quant = prop_oneof![
            Just(Quantifier::Any),
            Just(Quantifier::NullOnMulti),
            Just(Quantifier::Scalar)
        ];
        (0usize..3, 0usize..5, 0i64..3, quant).prop_map(|(f, kind, n, quant)| {
            let opts = MatchOpts {
                quant,
                ..MatchOpts::ES_QUERY
            };
            let s = Span::default();
            match kind {
                0 => Expr::compare(CmpOp::Eq, field(f), Expr::literal(n, s), opts, s),
                1 => Expr::compare(CmpOp::Gt, field(f), Expr::literal(n, s), opts, s),
                2 => Expr::new(
                    ExprKind::In {
                        expr: Box::new(field(f)),
                        list: vec![Expr::literal("x", s), Expr::literal(n, s)],
                        opts,
                    },
                    s,
                ),
                3 => Expr::new(
                    ExprKind::Match {
                        expr: Box::new(field(f)),
                        pattern: Pattern::Wildcard(WildcardPattern {
                            tokens: vec![WildcardToken::Literal("x".into()), WildcardToken::AnyRun],
                        }),
                        opts,
                    },
                    s,
                ),
                _ => Expr::new(
                    ExprKind::Exists(vigil_plan::FieldRef {
                        name: FIELDS[f].into(),
                        ty: DataType::Unknown,
                    }),
                    s,
                ),
            }
        })
    }

    fn predicate() -> impl Strategy<Value = Expr> {
        leaf().prop_recursive(3, 16, 3, |inner| {
            let s = Span::default();
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4)
                    .prop_map(move |v| Expr::new(ExprKind::And(v), s)),
                prop::collection::vec(inner.clone(), 2..4)
                    .prop_map(move |v| Expr::new(ExprKind::Or(v), s)),
                inner.clone().prop_map(move |e| Expr::not(e, s)),
                inner.prop_map(move |e| Expr::new(ExprKind::IsTrue(Box::new(e)), s)),
            ]
        })
    }

    fn value() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some("0".into())),
            Just(Some("2".into())),
            Just(Some("\"x1\"".into())),
            Just(Some("null".into())),
            Just(Some("[1, \"x\"]".into())),
            Just(Some("[]".into())),
        ]
    }

    fn check(node: &ExprNode, ir: &Expr, layout: &Layout, row: &Row, ctx: &EvalContext) {
        // Every node's value is what the executor gives the node evaluated alone.
        if !matches!(ir.kind, ExprKind::Field(_) | ExprKind::Literal(_)) {
            let alone =
                compile_expr(ir, layout)
                    .expect("compiles")
                    .eval(row, ctx, &mut crate::NoTrace);
            assert_eq!(node.value, NodeValue::Value(alone), "{ir}");
        }
        for (n, c) in node.children.iter().zip(ir.children()) {
            check(n, c, layout, row, ctx);
        }
    }

    proptest! {
        #[test]
        fn explain_agrees_with_execution(
            pred in predicate(),
            vals in prop::collection::vec(value(), 3),
        ) {
            let source = Plan::source(SourceKind::Elastic, vec!["logs".into()], Span::default());
            let mut plan = source.filter(pred).expect("boolean predicate");
            plan.assign_ids();
            let mut layout = Layout::new();
            for f in FIELDS {
                layout.intern(f);
            }
            let doc: String = FIELDS
                .iter()
                .zip(&vals)
                .filter_map(|(f, v)| v.as_ref().map(|v| format!("\"{f}\": {v}")))
                .collect::<Vec<_>>()
                .join(", ");
            let doc = vigil_event::parse_json(format!("{{{doc}}}").as_bytes()).expect("json");
            let row = Projection::new(&layout).project(&doc);
            let compiled = compile(&plan, &layout).expect("compiles");
            let ctx = EvalContext::new(jiff::Timestamp::UNIX_EPOCH);
            let rows = |_: &Source| vec![(0, &row)];
            let ex = compiled.explain(&plan, &rows, &ctx, None);
            let ran = compiled.run([(0, &row)], &ctx).rows.len();
            let expected = if ran == 0 { Outcome::Dropped } else { Outcome::Matched(ran) };
            prop_assert_eq!(ex.outcome, expected);
            let Plan::Filter(f) = &plan else { unreachable!() };
            let Detail::Filter(Some(tree)) = &ex.stages[1].detail else {
                panic!("a filter stage");
            };
            check(tree, &f.predicate, &layout, &row, &ctx);
            // A dropped event names a failing node, and that node is not true.
            if ran == 0 {
                let failing = tree.failing_node().expect("a failing node");
                prop_assert!(!failing.value.is_true());
            }
        }
    }
}
