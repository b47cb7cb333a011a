//! Compiling expressions: names become slots, patterns become matchers, literals are prepared.

use std::collections::{HashMap, HashSet};

use vigil_event::{Layout, Projection, SlotId, Value};
use vigil_plan::{Case, Expr, ExprKind, Pattern};

use crate::compare::fold_case;
use crate::error::ExecError;
use crate::expr::{CompiledExpr, Kind, Matcher};
use crate::functions::scalar_function;
use crate::wildcard::WildcardMatcher;

/// Name resolution for one plan: document fields from the shared layout, computed columns in
/// slots after it.
pub(crate) struct Builder<'a> {
    pub layout: &'a Layout,
    pub locals: HashMap<String, SlotId>,
    pub next: SlotId,
}

impl<'a> Builder<'a> {
    pub fn new(layout: &'a Layout) -> Builder<'a> {
        Builder {
            layout,
            locals: HashMap::new(),
            next: layout.len(),
        }
    }

    /// The slot of a new computed column (or the existing one of that name).
    pub fn define(&mut self, name: &str) -> SlotId {
        if let Some(&s) = self.locals.get(name) {
            return s;
        }
        let s = self.fresh();
        self.locals.insert(name.to_string(), s);
        s
    }

    /// A slot no name refers to (for operators' internal columns).
    pub fn fresh(&mut self) -> SlotId {
        let s = self.next;
        self.next += 1;
        s
    }

    pub fn slot_of(&self, name: &str) -> Option<SlotId> {
        self.locals
            .get(name)
            .copied()
            .or_else(|| self.layout.get(name))
    }

    pub fn exprs(&mut self, items: &[Expr]) -> Result<Vec<CompiledExpr>, ExecError> {
        items.iter().map(|e| self.expr(e)).collect()
    }

    pub fn expr(&mut self, e: &Expr) -> Result<CompiledExpr, ExecError> {
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
                let compiled = Builder::new(&inner).expr(predicate)?;
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
        format!("unknown column `{name}` (fields a plan reads must be in the row layout)"),
        e.span,
    )
}
