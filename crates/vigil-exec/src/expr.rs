//! Compiled expressions and their evaluation.
//!
//! Predicates evaluate to `Bool` or `Null`. How a predicate treats a multi-valued or absent
//! operand is its [`Quantifier`], stated by the front-end.

use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashSet;

use ipnet::IpNet;
use jiff::Timestamp;
use vigil_event::{DataType, Projection, Row, SlotId, Value};
use vigil_plan::{ArithOp, CmpOp, MatchOpts, NodeId, Quantifier, Span};

use crate::compare::{compare_values, fold_case};
use crate::functions::ScalarFn;
use crate::wildcard::WildcardMatcher;

/// Evaluation context: the execution time (`NOW()`, `ago()`), and counters for warnings.
#[derive(Debug)]
pub struct EvalContext {
    pub now: Timestamp,
    /// Multi-valued operands met by ES|QL-style predicates (each gives null and a warning).
    pub multi_value_warnings: Cell<u64>,
    /// Function errors turned into nulls.
    pub function_warnings: Cell<u64>,
}

impl EvalContext {
    pub fn new(now: Timestamp) -> EvalContext {
        EvalContext {
            now,
            multi_value_warnings: Cell::new(0),
            function_warnings: Cell::new(0),
        }
    }
}

/// What `explain` records for a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Trace {
    Value(Value),
    /// The node reads a field the event does not have.
    Missing,
}

/// Receives every node's value during a traced evaluation.
pub trait Tracer {
    fn record(&mut self, id: NodeId, trace: Trace);
}

/// The tracer of the hot path: records nothing and compiles away.
pub struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn record(&mut self, _: NodeId, _: Trace) {}
}

impl Tracer for Vec<(NodeId, Trace)> {
    fn record(&mut self, id: NodeId, trace: Trace) {
        self.push((id, trace));
    }
}

/// An expression bound to slots, with its matchers and literals prepared.
#[derive(Clone, Debug)]
pub struct CompiledExpr {
    pub(crate) id: NodeId,
    pub(crate) span: Span,
    pub(crate) kind: Kind,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Lit(Value),
    Slot {
        slot: SlotId,
        ty: DataType,
    },
    Not(Box<CompiledExpr>),
    And(Vec<CompiledExpr>),
    Or(Vec<CompiledExpr>),
    IsTrue(Box<CompiledExpr>),
    Exists(SlotId),
    IsNull(Box<CompiledExpr>),
    Cmp {
        op: CmpOp,
        left: Box<CompiledExpr>,
        right: Box<CompiledExpr>,
        opts: MatchOpts,
        folded: Option<Value>,
    },
    In {
        expr: Box<CompiledExpr>,
        list: Vec<CompiledExpr>,
        opts: MatchOpts,
        set: Option<HashSet<String>>,
    },
    Match {
        expr: Box<CompiledExpr>,
        matcher: Matcher,
        opts: MatchOpts,
    },
    Cidr {
        expr: Box<CompiledExpr>,
        nets: Vec<IpNet>,
        quant: Quantifier,
    },
    Arith {
        op: ArithOp,
        left: Box<CompiledExpr>,
        right: Box<CompiledExpr>,
    },
    Negate(Box<CompiledExpr>),
    Now,
    AnyElement {
        slot: SlotId,
        projection: Box<Projection>,
        predicate: Box<CompiledExpr>,
    },
    Call {
        func: ScalarFn,
        args: Vec<CompiledExpr>,
    },
    Cast {
        expr: Box<CompiledExpr>,
        to: DataType,
    },
    Case {
        branches: Vec<(CompiledExpr, CompiledExpr)>,
        otherwise: Option<Box<CompiledExpr>>,
    },
}

/// String matchers; literals are stored case-folded when the match ignores case.
#[derive(Clone, Debug)]
pub(crate) enum Matcher {
    Wildcard(WildcardMatcher),
    Regex(Box<regex::Regex>),
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    HasTerm(String),
    HasPrefix(String),
    HasSuffix(String),
}

/// An operand's values as a predicate sees them.
enum Operand<'a> {
    Missing,
    One(Cow<'a, Value>),
    Many(Vec<Cow<'a, Value>>),
}

impl CompiledExpr {
    /// The node id of the IR expression this was compiled from.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The query text this was compiled from.
    pub fn span(&self) -> Span {
        self.span
    }

    /// True if the predicate holds for the row (false and null do not).
    pub fn matches(&self, row: &Row, ctx: &EvalContext) -> bool {
        matches!(self.eval(row, ctx, &mut NoTrace), Value::Bool(true))
    }

    /// Evaluates, reporting every node's value to `tracer`.
    pub fn eval<T: Tracer>(&self, row: &Row, ctx: &EvalContext, tracer: &mut T) -> Value {
        let v = self.eval_inner(row, ctx, tracer);
        tracer.record(self.id, Trace::Value(v.clone()));
        v
    }

    fn eval_inner<T: Tracer>(&self, row: &Row, ctx: &EvalContext, t: &mut T) -> Value {
        match &self.kind {
            Kind::Lit(v) => v.clone(),
            Kind::Slot { slot, ty } => match row.get(*slot) {
                None => Value::Null,
                Some(v) => coerce_all(v, *ty),
            },
            Kind::Not(e) => match e.eval(row, ctx, t) {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Null,
            },
            Kind::And(items) => {
                let mut saw_null = false;
                for e in items {
                    match e.eval(row, ctx, t) {
                        Value::Bool(false) => return Value::Bool(false),
                        Value::Bool(true) => {}
                        _ => saw_null = true,
                    }
                }
                if saw_null {
                    Value::Null
                } else {
                    Value::Bool(true)
                }
            }
            Kind::Or(items) => {
                let mut saw_null = false;
                for e in items {
                    match e.eval(row, ctx, t) {
                        Value::Bool(true) => return Value::Bool(true),
                        Value::Bool(false) => {}
                        _ => saw_null = true,
                    }
                }
                if saw_null {
                    Value::Null
                } else {
                    Value::Bool(false)
                }
            }
            Kind::IsTrue(e) => Value::Bool(matches!(e.eval(row, ctx, t), Value::Bool(true))),
            Kind::Exists(slot) => Value::Bool(row.get(*slot).is_some_and(Value::has_content)),
            Kind::IsNull(e) => Value::Bool(e.eval(row, ctx, t).is_null()),
            Kind::Cmp {
                op,
                left,
                right,
                opts,
                folded,
            } => {
                let ci = opts.case == vigil_plan::Case::Insensitive;
                if let Kind::Lit(lit) = &right.kind {
                    let lit = folded.as_ref().unwrap_or(lit);
                    let operand = left.operand(row, ctx, t);
                    return quantify(operand, opts.quant, ctx, |v| {
                        let v = if ci { fold_value(v) } else { Cow::Borrowed(v) };
                        compare_values(&v, lit, false, opts.lenient).map(|o| cmp_holds(*op, o))
                    });
                }
                let r = right.eval(row, ctx, t);
                let operand = left.operand(row, ctx, t);
                quantify(operand, opts.quant, ctx, |v| {
                    compare_values(v, &r, ci, opts.lenient).map(|o| cmp_holds(*op, o))
                })
            }
            Kind::In {
                expr,
                list,
                opts,
                set,
            } => {
                let ci = opts.case == vigil_plan::Case::Insensitive;
                let operand = expr.operand(row, ctx, t);
                if let Some(set) = set {
                    return quantify(operand, opts.quant, ctx, |v| match v {
                        Value::Str(s) if ci => Some(set.contains(&fold_case(s))),
                        Value::Str(s) => Some(set.contains(&**s)),
                        _ if opts.lenient => Some(set.contains(&v.to_string())),
                        _ => None,
                    });
                }
                let items: Vec<Value> = list.iter().map(|e| e.eval(row, ctx, t)).collect();
                quantify(operand, opts.quant, ctx, |v| {
                    let mut saw_null = false;
                    for item in &items {
                        match compare_values(v, item, ci, opts.lenient) {
                            Some(Ordering::Equal) => return Some(true),
                            None if item.is_null() => saw_null = true,
                            _ => {}
                        }
                    }
                    if saw_null { None } else { Some(false) }
                })
            }
            Kind::Match {
                expr,
                matcher,
                opts,
            } => {
                // Wildcards and regexes fold case themselves; the substring matchers hold a
                // folded needle and get folded input.
                let fold = opts.case == vigil_plan::Case::Insensitive
                    && !matches!(matcher, Matcher::Wildcard(_) | Matcher::Regex(_));
                let test = |s: &str| {
                    if fold {
                        matcher.matches(&fold_case(s))
                    } else {
                        matcher.matches(s)
                    }
                };
                let operand = expr.operand(row, ctx, t);
                quantify(operand, opts.quant, ctx, |v| match v {
                    Value::Str(s) => Some(test(s)),
                    _ if opts.lenient => Some(test(&v.to_string())),
                    _ => None,
                })
            }
            Kind::Cidr { expr, nets, quant } => {
                let operand = expr.operand(row, ctx, t);
                quantify(operand, *quant, ctx, |v| {
                    let ip = match v {
                        Value::Ip(ip) => *ip,
                        Value::Str(s) => s.trim().parse().ok()?,
                        _ => return None,
                    };
                    Some(nets.iter().any(|n| n.contains(&ip)))
                })
            }
            Kind::Arith { op, left, right } => {
                arith(*op, &left.eval(row, ctx, t), &right.eval(row, ctx, t))
            }
            Kind::Negate(e) => match e.eval(row, ctx, t) {
                Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
                Value::Float(f) => Value::Float(-f),
                Value::Duration(d) => Value::Duration(-d),
                _ => Value::Null,
            },
            Kind::Now => Value::Date(ctx.now),
            Kind::AnyElement {
                slot,
                projection,
                predicate,
            } => {
                let Some(v) = row.get(*slot) else {
                    return Value::Bool(false);
                };
                let hit = v.leaves().any(|element| {
                    matches!(element, Value::Object(_))
                        && matches!(
                            predicate.eval(&projection.project(element), ctx, t),
                            Value::Bool(true)
                        )
                });
                Value::Bool(hit)
            }
            Kind::Call { func, args } => {
                let vals: Vec<Value> = args.iter().map(|a| a.eval(row, ctx, t)).collect();
                func(&vals).unwrap_or_else(|_| {
                    ctx.function_warnings.set(ctx.function_warnings.get() + 1);
                    Value::Null
                })
            }
            Kind::Cast { expr, to } => {
                let v = expr.eval(row, ctx, t);
                match v {
                    Value::Array(items) => {
                        Value::Array(items.iter().filter_map(|i| i.coerce_to(*to)).collect())
                    }
                    v => v.coerce_to(*to).unwrap_or(Value::Null),
                }
            }
            Kind::Case {
                branches,
                otherwise,
            } => {
                for (cond, val) in branches {
                    if matches!(cond.eval(row, ctx, t), Value::Bool(true)) {
                        return val.eval(row, ctx, t);
                    }
                }
                otherwise
                    .as_ref()
                    .map_or(Value::Null, |o| o.eval(row, ctx, t))
            }
        }
    }

    /// The operand's values without copying field values that already have the field's type.
    fn operand<'r, T: Tracer>(&self, row: &'r Row, ctx: &EvalContext, t: &mut T) -> Operand<'r> {
        if let Kind::Slot { slot, ty } = &self.kind {
            let Some(raw) = row.get(*slot) else {
                t.record(self.id, Trace::Missing);
                return Operand::Missing;
            };
            t.record(self.id, Trace::Value(raw.clone()));
            return match raw {
                // Kusto `dynamic`: the whole array is the operand.
                Value::Array(_) if *ty == DataType::Dynamic => Operand::One(Cow::Borrowed(raw)),
                Value::Array(_) => {
                    let mut vals: Vec<Cow<'r, Value>> =
                        raw.leaves().filter_map(|v| coerce(v, *ty)).collect();
                    match vals.len() {
                        0 => Operand::Missing,
                        1 => Operand::One(vals.remove(0)),
                        _ => Operand::Many(vals),
                    }
                }
                v => coerce(v, *ty).map_or(Operand::Missing, Operand::One),
            };
        }
        match self.eval(row, ctx, t) {
            Value::Null => Operand::Missing,
            Value::Array(items) => {
                let vals: Vec<Cow<'r, Value>> = items
                    .into_iter()
                    .filter(|v| !v.is_null())
                    .map(Cow::Owned)
                    .collect();
                match vals.len() {
                    0 => Operand::Missing,
                    _ => Operand::Many(vals),
                }
            }
            v => Operand::One(Cow::Owned(v)),
        }
    }
}

impl Matcher {
    fn matches(&self, s: &str) -> bool {
        match self {
            Matcher::Wildcard(w) => w.matches(s),
            Matcher::Regex(r) => r.is_match(s),
            Matcher::Contains(p) => s.contains(p.as_str()),
            Matcher::StartsWith(p) => s.starts_with(p.as_str()),
            Matcher::EndsWith(p) => s.ends_with(p.as_str()),
            Matcher::HasTerm(p) => has_term(s, p, true, true),
            Matcher::HasPrefix(p) => has_term(s, p, true, false),
            Matcher::HasSuffix(p) => has_term(s, p, false, true),
        }
    }
}

/// Kusto's `has` family: `term` occurs in `s` where a term boundary allows it. Kusto's terms
/// are runs of alphanumeric characters (`_`, `-`, `.` and the rest delimit). A boundary is
/// required at an anchored edge only when the needle's own character there is a term
/// character: `"x-error" has "-err"` holds for `hasprefix`, `"xa b" hasprefix "a "` does not.
/// A needle of delimiters only is a plain substring test. `start_bound`/`end_bound` select
/// `has` (both), `hasprefix` (start) and `hassuffix` (end).
pub(crate) fn has_term(s: &str, term: &str, start_bound: bool, end_bound: bool) -> bool {
    if term.is_empty() {
        return true;
    }
    let is_word = |c: char| c.is_alphanumeric();
    let need_start = start_bound && term.chars().next().is_some_and(is_word);
    let need_end = end_bound && term.chars().next_back().is_some_and(is_word);
    let mut from = 0;
    while let Some(i) = s[from..].find(term) {
        let start = from + i;
        let end = start + term.len();
        let ok_start = !need_start || s[..start].chars().next_back().is_none_or(|c| !is_word(c));
        let ok_end = !need_end || s[end..].chars().next().is_none_or(|c| !is_word(c));
        if ok_start && ok_end {
            return true;
        }
        from = start + s[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// Applies a quantifier: how one predicate over single values extends to the operand.
fn quantify(
    operand: Operand<'_>,
    quant: Quantifier,
    ctx: &EvalContext,
    pred: impl Fn(&Value) -> Option<bool>,
) -> Value {
    let to_value = |r: Option<bool>| r.map_or(Value::Null, Value::Bool);
    match (quant, operand) {
        (Quantifier::Any, Operand::Missing) => Value::Bool(false),
        (Quantifier::Any, Operand::One(v)) => Value::Bool(pred(&v) == Some(true)),
        (Quantifier::Any, Operand::Many(vs)) => {
            Value::Bool(vs.iter().any(|v| pred(v) == Some(true)))
        }
        (_, Operand::Missing) => Value::Null,
        (Quantifier::NullOnMulti, Operand::One(v)) => to_value(pred(&v)),
        (Quantifier::NullOnMulti, Operand::Many(_)) => {
            ctx.multi_value_warnings
                .set(ctx.multi_value_warnings.get() + 1);
            Value::Null
        }
        (Quantifier::Scalar, Operand::One(v)) => to_value(pred(&v)),
        (Quantifier::Scalar, Operand::Many(vs)) => {
            let whole = Value::Array(vs.into_iter().map(Cow::into_owned).collect());
            to_value(pred(&whole))
        }
    }
}

fn cmp_holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::NotEq => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::LtEq => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::GtEq => o != Ordering::Less,
    }
}

fn fold_value(v: &Value) -> Cow<'_, Value> {
    match v {
        Value::Str(s) => Cow::Owned(Value::from(fold_case(s))),
        other => Cow::Borrowed(other),
    }
}

/// A value as the field's mapping would index it; borrowed when no conversion is needed.
fn coerce(v: &Value, ty: DataType) -> Option<Cow<'_, Value>> {
    let native = matches!(
        (ty, v),
        (
            DataType::Unknown
                | DataType::Dynamic
                | DataType::Object
                | DataType::Flattened
                | DataType::Nested,
            _
        ) | (
            DataType::Keyword | DataType::Text | DataType::String | DataType::Version,
            Value::Str(_)
        ) | (DataType::Long | DataType::UnsignedLong, Value::Int(_))
            | (DataType::Double, Value::Float(_))
            | (DataType::Boolean, Value::Bool(_))
            | (DataType::Ip, Value::Ip(_))
            | (DataType::Date, Value::Date(_))
            | (DataType::Duration, Value::Duration(_))
    );
    if native {
        Some(Cow::Borrowed(v))
    } else {
        v.coerce_to(ty).map(Cow::Owned)
    }
}

/// A whole field value, every element coerced (malformed elements dropped).
fn coerce_all(v: &Value, ty: DataType) -> Value {
    match v {
        // Kusto `dynamic`: an array is one value, nulls and nesting included.
        Value::Array(_) if ty == DataType::Dynamic => v.clone(),
        Value::Array(_) => {
            let items: Vec<Value> = v
                .leaves()
                .filter_map(|x| coerce(x, ty))
                .map(Cow::into_owned)
                .collect();
            match items.len() {
                0 => Value::Null,
                1 => items.into_iter().next().unwrap_or_default(),
                _ => Value::Array(items),
            }
        }
        v => coerce(v, ty).map_or(Value::Null, Cow::into_owned),
    }
}

fn arith(op: ArithOp, a: &Value, b: &Value) -> Value {
    use Value::{Date, Duration, Float, Int};
    match (a, b) {
        (Int(x), Int(y)) => {
            let r = match op {
                ArithOp::Add => x.checked_add(*y),
                ArithOp::Sub => x.checked_sub(*y),
                ArithOp::Mul => x.checked_mul(*y),
                ArithOp::Div => x.checked_div(*y),
                ArithOp::Mod => x.checked_rem(*y),
            };
            r.map_or(Value::Null, Int)
        }
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            let r = match op {
                ArithOp::Add => x + y,
                ArithOp::Sub => x - y,
                ArithOp::Mul => x * y,
                ArithOp::Div => x / y,
                ArithOp::Mod => x % y,
            };
            if r.is_finite() { Float(r) } else { Value::Null }
        }
        (Date(t), Duration(d)) => match op {
            ArithOp::Add => t.checked_add(*d).map_or(Value::Null, Date),
            ArithOp::Sub => t.checked_sub(*d).map_or(Value::Null, Date),
            _ => Value::Null,
        },
        (Duration(d), Date(t)) if op == ArithOp::Add => t.checked_add(*d).map_or(Value::Null, Date),
        (Date(x), Date(y)) if op == ArithOp::Sub => Duration(x.duration_since(*y)),
        (Duration(x), Duration(y)) => match op {
            ArithOp::Add => x.checked_add(*y).map_or(Value::Null, Duration),
            ArithOp::Sub => x.checked_sub(*y).map_or(Value::Null, Duration),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_term_follows_token_boundaries() {
        assert!(has_term(
            "microsoft.compute/virtualmachines",
            "compute",
            true,
            true
        ));
        assert!(!has_term("customscriptextension", "script", true, true));
        assert!(has_term("customscriptextension", "custom", true, false));
        assert!(has_term("runcommandhandler", "handler", false, true));
        // Kusto's measured edge rules: `_` delimits; a delimiter at the needle's edge needs
        // no boundary there.
        assert!(has_term("value1_x", "value1", true, true));
        assert!(!has_term("xvalue1", "value1", true, true));
        assert!(has_term("x-error", "-err", true, false));
        assert!(!has_term("xa b", "a ", true, false));
        assert!(has_term("x ab y", " a", true, false));
        assert!(!has_term("x ab y", " a", false, true));
        assert!(!has_term("err or", "r o", true, false));
        assert!(has_term("b .b-", " ", false, true));
    }
}
