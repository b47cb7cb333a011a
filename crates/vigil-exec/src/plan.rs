//! Plan compilation and execution.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use vigil_event::{Layout, Projection, Row, SlotId, Value};
use vigil_plan::{Case, Expr, ExprKind, Pattern, Plan, ProjectItem, Source};

use crate::compare::{compare_values, fold_case};
use crate::error::ExecError;
use crate::expr::{CompiledExpr, EvalContext, Kind, Matcher, NoTrace};
use crate::functions::scalar_function;
use crate::wildcard::WildcardMatcher;

/// The columns of a plan's result.
#[derive(Clone, Debug, PartialEq)]
pub enum Columns {
    /// The rows are the source events themselves (plus computed columns): an alert is built from
    /// the event's document.
    Events { computed: Vec<(String, SlotId)> },
    /// The rows are new (after aggregation or explicit projection): only these columns exist.
    Explicit(Vec<(String, SlotId)>),
}

/// A compiled plan, bound to the layout it was compiled against.
#[derive(Clone, Debug)]
pub struct CompiledPlan {
    source: Source,
    ops: Vec<Op>,
    columns: Columns,
    width: usize,
}

#[derive(Clone, Debug)]
enum Op {
    Filter(Box<CompiledExpr>),
    Eval(Vec<(SlotId, CompiledExpr)>),
    Sort(Vec<(CompiledExpr, bool, bool)>),
    Limit { n: u64, from_end: bool },
}

/// A result row and, when it is a source event, the index of that event in the input.
#[derive(Clone, Debug, PartialEq)]
pub struct OutRow {
    pub row: Row,
    pub origin: Option<usize>,
}

/// What one execution produced.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecOutput {
    pub rows: Vec<OutRow>,
    pub columns: Columns,
}

/// Compiles `plan` against `layout`, which must already hold every field the plan reads
/// ([`Plan::fields_read`]). Computed columns get slots after the layout's own.
pub fn compile(plan: &Plan, layout: &Layout) -> Result<CompiledPlan, ExecError> {
    let mut b = Builder {
        layout,
        locals: HashMap::new(),
        next: layout.len(),
    };
    let mut chain = Vec::new();
    let mut cur = Some(plan);
    while let Some(p) = cur {
        chain.push(p);
        cur = p.input();
    }
    chain.reverse();
    let Some(Plan::Source(source)) = chain.first() else {
        return Err(ExecError::new(
            "a plan must start with a source",
            Default::default(),
        ));
    };
    let mut ops = Vec::new();
    let mut columns = Columns::Events {
        computed: Vec::new(),
    };
    for p in &chain[1..] {
        match p {
            Plan::Source(_) => unreachable!("only the first operator is a source"),
            Plan::Filter(f) => ops.push(Op::Filter(Box::new(b.expr(&f.predicate)?))),
            Plan::Eval(e) => {
                let mut assigns = Vec::new();
                for a in &e.assigns {
                    let compiled = b.expr(&a.expr)?;
                    let slot = b.define(&a.name);
                    push_column(&mut columns, &a.name, slot);
                    assigns.push((slot, compiled));
                }
                ops.push(Op::Eval(assigns));
            }
            Plan::Sort(s) => {
                let keys = s
                    .keys
                    .iter()
                    .map(|k| Ok((b.expr(&k.expr)?, k.ascending, k.nulls_first)))
                    .collect::<Result<_, ExecError>>()?;
                ops.push(Op::Sort(keys));
            }
            Plan::Limit(l) => ops.push(Op::Limit {
                n: l.n,
                from_end: l.from_end,
            }),
            Plan::Aggregate(a) => {
                let span = a.aggs.first().map(|c| c.span).unwrap_or_default();
                return Err(ExecError::new("aggregation is not supported yet", span));
            }
            Plan::Project(p) => {
                let explicit = b.project(&p.items, &columns)?;
                columns = Columns::Explicit(explicit);
            }
        }
    }
    Ok(CompiledPlan {
        source: source.clone(),
        ops,
        columns,
        width: b.next,
    })
}

/// Compiles a standalone expression against a layout (no computed columns).
pub fn compile_expr(expr: &Expr, layout: &Layout) -> Result<CompiledExpr, ExecError> {
    Builder {
        layout,
        locals: HashMap::new(),
        next: layout.len(),
    }
    .expr(expr)
}

fn push_column(columns: &mut Columns, name: &str, slot: SlotId) {
    let list = match columns {
        Columns::Events { computed } => computed,
        Columns::Explicit(cols) => cols,
    };
    list.retain(|(n, _)| n != name);
    list.push((name.to_string(), slot));
}

struct Builder<'a> {
    layout: &'a Layout,
    locals: HashMap<String, SlotId>,
    next: SlotId,
}

impl Builder<'_> {
    fn define(&mut self, name: &str) -> SlotId {
        if let Some(&s) = self.locals.get(name) {
            return s;
        }
        let s = self.next;
        self.next += 1;
        self.locals.insert(name.to_string(), s);
        s
    }

    fn slot_of(&self, name: &str) -> Option<SlotId> {
        self.locals
            .get(name)
            .copied()
            .or_else(|| self.layout.get(name))
    }

    fn project(
        &mut self,
        items: &[ProjectItem],
        columns: &Columns,
    ) -> Result<Vec<(String, SlotId)>, ExecError> {
        let mut out: Vec<(String, SlotId)> = match columns {
            Columns::Explicit(c) => c.clone(),
            Columns::Events { computed } => computed.clone(),
        };
        for item in items {
            match item {
                ProjectItem::Keep(name) => {
                    let slot = self.slot_of(name).ok_or_else(|| {
                        ExecError::new(format!("unknown column `{name}`"), Default::default())
                    })?;
                    out.retain(|(n, _)| n != name);
                    out.push((name.clone(), slot));
                }
                ProjectItem::Drop(name) => out.retain(|(n, _)| n != name),
                ProjectItem::Rename { from, to } => {
                    let slot = self.slot_of(from).ok_or_else(|| {
                        ExecError::new(format!("unknown column `{from}`"), Default::default())
                    })?;
                    out.retain(|(n, _)| n != from && n != to);
                    self.locals.insert(to.clone(), slot);
                    out.push((to.clone(), slot));
                }
            }
        }
        Ok(out)
    }

    fn expr(&mut self, e: &Expr) -> Result<CompiledExpr, ExecError> {
        let kind = match &e.kind {
            ExprKind::Literal(v) => Kind::Lit(v.clone()),
            ExprKind::Field(f) => Kind::Slot {
                slot: self
                    .slot_of(&f.name)
                    .ok_or_else(|| missing_field(&f.name, e))?,
                ty: f.ty,
            },
            ExprKind::Not(x) => Kind::Not(Box::new(self.expr(x)?)),
            ExprKind::And(items) => Kind::And(self.exprs(items)?),
            ExprKind::Or(items) => Kind::Or(self.exprs(items)?),
            ExprKind::IsTrue(x) => Kind::IsTrue(Box::new(self.expr(x)?)),
            ExprKind::Exists(f) => Kind::Exists(
                self.slot_of(&f.name)
                    .ok_or_else(|| missing_field(&f.name, e))?,
            ),
            ExprKind::IsNull(x) => Kind::IsNull(Box::new(self.expr(x)?)),
            ExprKind::Compare {
                op,
                left,
                right,
                opts,
            } => {
                // Keep the literal on the right so it can be prepared once.
                let (l, r, op) = match (&left.kind, &right.kind) {
                    (ExprKind::Literal(_), k) if !matches!(k, ExprKind::Literal(_)) => {
                        (right, left, flip(*op))
                    }
                    _ => (left, right, *op),
                };
                let right = self.expr(r)?;
                let folded = match (&right.kind, opts.case) {
                    (Kind::Lit(Value::Str(s)), Case::Insensitive) => {
                        Some(Value::from(fold_case(s)))
                    }
                    _ => None,
                };
                Kind::Cmp {
                    op,
                    left: Box::new(self.expr(l)?),
                    right: Box::new(right),
                    opts: *opts,
                    folded,
                }
            }
            ExprKind::In { expr, list, opts } => {
                let set = string_set(list, opts.case);
                Kind::In {
                    expr: Box::new(self.expr(expr)?),
                    list: self.exprs(list)?,
                    opts: *opts,
                    set,
                }
            }
            ExprKind::Match {
                expr,
                pattern,
                opts,
            } => {
                let ci = opts.case == Case::Insensitive;
                let f = |s: &str| if ci { fold_case(s) } else { s.to_string() };
                let matcher = match pattern {
                    Pattern::Wildcard(w) => Matcher::Wildcard(WildcardMatcher::new(w, ci)),
                    Pattern::Regex { pattern, anchored } => {
                        let src = if *anchored {
                            format!("^(?:{pattern})$")
                        } else {
                            pattern.clone()
                        };
                        let re = regex::RegexBuilder::new(&src)
                            .case_insensitive(ci)
                            .dot_matches_new_line(false)
                            .size_limit(1 << 22)
                            .build()
                            .map_err(|err| {
                                ExecError::new(format!("invalid regular expression: {err}"), e.span)
                            })?;
                        Matcher::Regex(Box::new(re))
                    }
                    Pattern::Contains(s) => Matcher::Contains(f(s)),
                    Pattern::StartsWith(s) => Matcher::StartsWith(f(s)),
                    Pattern::EndsWith(s) => Matcher::EndsWith(f(s)),
                    Pattern::HasTerm(s) => Matcher::HasTerm(f(s)),
                    Pattern::HasPrefix(s) => Matcher::HasPrefix(f(s)),
                    Pattern::HasSuffix(s) => Matcher::HasSuffix(f(s)),
                };
                Kind::Match {
                    expr: Box::new(self.expr(expr)?),
                    matcher,
                    opts: *opts,
                }
            }
            ExprKind::Cidr { expr, nets, quant } => Kind::Cidr {
                expr: Box::new(self.expr(expr)?),
                nets: nets.clone(),
                quant: *quant,
            },
            ExprKind::Arith { op, left, right } => Kind::Arith {
                op: *op,
                left: Box::new(self.expr(left)?),
                right: Box::new(self.expr(right)?),
            },
            ExprKind::Negate(x) => Kind::Negate(Box::new(self.expr(x)?)),
            ExprKind::Now => Kind::Now,
            ExprKind::AnyElement { field, predicate } => {
                let slot = self
                    .slot_of(&field.name)
                    .ok_or_else(|| missing_field(&field.name, e))?;
                // The inner predicate reads fields relative to one element.
                let mut inner = Layout::new();
                for f in predicate.fields() {
                    inner.intern(&f.name);
                }
                let compiled = Builder {
                    layout: &inner,
                    locals: HashMap::new(),
                    next: inner.len(),
                }
                .expr(predicate)?;
                Kind::AnyElement {
                    slot,
                    projection: Box::new(Projection::new(&inner)),
                    predicate: Box::new(compiled),
                }
            }
            ExprKind::Call { func, args } => {
                let f = scalar_function(func)
                    .ok_or_else(|| ExecError::new(format!("unknown function `{func}`"), e.span))?;
                Kind::Call {
                    func: f,
                    args: self.exprs(args)?,
                }
            }
            ExprKind::Cast { expr, to } => Kind::Cast {
                expr: Box::new(self.expr(expr)?),
                to: *to,
            },
            ExprKind::Case {
                branches,
                otherwise,
            } => Kind::Case {
                branches: branches
                    .iter()
                    .map(|(c, v)| Ok((self.expr(c)?, self.expr(v)?)))
                    .collect::<Result<_, ExecError>>()?,
                otherwise: otherwise
                    .as_ref()
                    .map(|o| self.expr(o).map(Box::new))
                    .transpose()?,
            },
        };
        Ok(CompiledExpr {
            id: e.id,
            span: e.span,
            kind,
        })
    }

    fn exprs(&mut self, items: &[Expr]) -> Result<Vec<CompiledExpr>, ExecError> {
        items.iter().map(|e| self.expr(e)).collect()
    }
}

fn flip(op: vigil_plan::CmpOp) -> vigil_plan::CmpOp {
    use vigil_plan::CmpOp::{Eq, Gt, GtEq, Lt, LtEq, NotEq};
    match op {
        Eq => Eq,
        NotEq => NotEq,
        Lt => Gt,
        LtEq => GtEq,
        Gt => Lt,
        GtEq => LtEq,
    }
}

/// A hash set for `in` over string literals only.
fn string_set(list: &[Expr], case: Case) -> Option<HashSet<String>> {
    list.iter()
        .map(|e| match &e.kind {
            ExprKind::Literal(Value::Str(s)) => Some(match case {
                Case::Insensitive => fold_case(s),
                Case::Sensitive => s.to_string(),
            }),
            _ => None,
        })
        .collect()
}

fn missing_field(name: &str, e: &Expr) -> ExecError {
    ExecError::new(
        format!("field `{name}` is not in the row layout (was the plan's fields_read interned?)"),
        e.span,
    )
}

impl CompiledPlan {
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The filter applied directly above the source, when the plan has one.
    pub fn source_filter(&self) -> Option<&CompiledExpr> {
        match self.ops.first() {
            Some(Op::Filter(f)) => Some(f),
            _ => None,
        }
    }

    /// True when the plan only filters source events: each event's fate is decided alone.
    pub fn is_filter_only(&self) -> bool {
        self.ops.iter().all(|op| matches!(op, Op::Filter(_)))
    }

    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Slots a result row may use (layout width plus computed columns).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Runs the plan over `(origin, row)` input events.
    pub fn run<'a>(
        &self,
        input: impl IntoIterator<Item = (usize, &'a Row)>,
        ctx: &EvalContext,
    ) -> ExecOutput {
        let mut rows: Vec<Pending<'a>> = input
            .into_iter()
            .map(|(i, r)| (Some(i), Cow::Borrowed(r)))
            .collect();
        for op in &self.ops {
            match op {
                Op::Filter(pred) => rows.retain(|(_, r)| pred.matches(r, ctx)),
                Op::Eval(assigns) => {
                    for (_, r) in &mut rows {
                        for (slot, e) in assigns {
                            let v = e.eval(r, ctx, &mut NoTrace);
                            r.to_mut().set(*slot, (!v.is_null()).then_some(v));
                        }
                    }
                }
                Op::Sort(keys) => {
                    let mut keyed: Vec<(Vec<Value>, Pending<'a>)> = rows
                        .drain(..)
                        .map(|r| {
                            (
                                keys.iter()
                                    .map(|(e, _, _)| e.eval(&r.1, ctx, &mut NoTrace))
                                    .collect(),
                                r,
                            )
                        })
                        .collect();
                    keyed.sort_by(|(a, _), (b, _)| {
                        for (i, (_, asc, nulls_first)) in keys.iter().enumerate() {
                            let o = sort_order(&a[i], &b[i], *asc, *nulls_first);
                            if o != Ordering::Equal {
                                return o;
                            }
                        }
                        Ordering::Equal
                    });
                    rows = keyed.into_iter().map(|(_, r)| r).collect();
                }
                Op::Limit { n, from_end } => {
                    let n = usize::try_from(*n).unwrap_or(usize::MAX);
                    if rows.len() > n {
                        if *from_end {
                            rows.drain(..rows.len() - n);
                        } else {
                            rows.truncate(n);
                        }
                    }
                }
            }
        }
        let event_rows = matches!(self.columns, Columns::Events { .. });
        ExecOutput {
            rows: rows
                .into_iter()
                .map(|(origin, r)| OutRow {
                    row: r.into_owned(),
                    origin: origin.filter(|_| event_rows),
                })
                .collect(),
            columns: self.columns.clone(),
        }
    }
}

/// A row on its way through the operators, with the index of its source event.
type Pending<'a> = (Option<usize>, Cow<'a, Row>);

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
