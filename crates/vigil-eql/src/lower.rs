//! Lowering to Vigil's IR with the semantics Elasticsearch gives EQL.
//!
//! Elasticsearch translates each boolean atom of a condition either into a query (a field
//! compared with constants: term, range, wildcard, prefix, CIDR) or, when it computes anything,
//! into a script. The two differ, and the IR states which applies:
//!
//! * Query atoms use [`Quantifier::Any`]: true when any value of the field satisfies them, false
//!   (never null) when the field is absent. `!=` and `not in` are `not` of the positive query, so
//!   they hold for events without the field.
//! * Script atoms read a field's first doc value (`eql.doc_value`, the smallest), evaluate with
//!   SQL null logic ([`Quantifier::Scalar`]), and a null atom does not match: under `and`/`or`
//!   the atom is wrapped in `IsTrue`; a `not` directly over a script stays in the script.
//!
//! `x == null` and `x != null` test for the absence or presence of a value. Optional fields
//! (`?x`) the schema does not know are null when the schema is closed (an index mapping);
//! otherwise every unknown field is read with its own JSON type (dynamic mapping).

use std::net::IpAddr;

use ipnet::IpNet;
use jiff::SignedDuration;
use vigil_event::{DataType, Value};
use vigil_plan::{
    ArithOp as IrArith, Case, CmpOp as IrCmp, Expr as IrExpr, ExprKind, FieldRef, Limit, MatchOpts,
    Pattern, Plan, Quantifier, Sample, Sequence, SequenceStep, Sort, SortKey, SourceKind, Span,
    WildcardPattern, WildcardToken,
};
use vigil_schema::Schema;

use crate::ParseError;
use crate::ast::{
    ArithOp, Body, Category, CmpOp, EventQuery, Expr, FieldName, Lit, MatchOp, Part, Pipe, Query,
    Step,
};
use crate::parse::parse;

/// A query that parses but cannot run, as Elasticsearch would refuse it at verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LowerError {
    pub message: String,
    pub span: Span,
}

impl From<ParseError> for LowerError {
    fn from(e: ParseError) -> LowerError {
        LowerError {
            message: e.to_string(),
            span: e.span,
        }
    }
}

fn err<T>(message: impl Into<String>, span: Span) -> Result<T, LowerError> {
    Err(LowerError {
        message: message.into(),
        span,
    })
}

/// The search parameters a rule or request gives an EQL query.
#[derive(Clone, Debug)]
pub struct LowerOptions {
    /// Index patterns of the source.
    pub indices: Vec<String>,
    /// The field holding event categories (`event_category_field`).
    pub event_category_field: String,
    /// The event time (`timestamp_field`): sequence order, `maxspan`, `head`/`tail` order.
    pub timestamp_field: String,
    /// Orders events with equal timestamps (`tiebreaker_field`).
    pub tiebreaker_field: Option<String>,
    /// The schema lists every field the data has (an index mapping): an unknown field is an
    /// error, and an unknown optional field (`?x`) is null. When false, unknown fields are read
    /// with their own JSON types, as dynamic mapping would type them.
    pub closed_schema: bool,
    /// Samples per join-key combination (`max_samples_per_key`).
    pub max_samples_per_key: u32,
}

impl Default for LowerOptions {
    fn default() -> LowerOptions {
        LowerOptions {
            indices: Vec::new(),
            event_category_field: "event.category".into(),
            timestamp_field: "@timestamp".into(),
            tiebreaker_field: None,
            closed_schema: false,
            max_samples_per_key: 1,
        }
    }
}

/// Lowers a query with the default search parameters (`event.category`, `@timestamp`).
pub fn lower(query: &Query, schema: &Schema) -> Result<Plan, LowerError> {
    lower_with(query, schema, &LowerOptions::default())
}

/// Parses and lowers a detection rule's query, with the rule's index patterns and its
/// `event_category_override`, `tiebreaker_field` and `timestamp_field` (default
/// `event.category`, none, `@timestamp`).
pub fn lower_rule_query(
    text: &str,
    indices: &[String],
    schema: &Schema,
    event_category_override: Option<&str>,
    tiebreaker_field: Option<&str>,
    timestamp_field: Option<&str>,
) -> Result<Plan, LowerError> {
    let query = parse(text)?;
    let options = LowerOptions {
        indices: indices.to_vec(),
        event_category_field: event_category_override
            .unwrap_or("event.category")
            .to_string(),
        timestamp_field: timestamp_field.unwrap_or("@timestamp").to_string(),
        tiebreaker_field: tiebreaker_field.map(str::to_string),
        ..LowerOptions::default()
    };
    lower_with(&query, schema, &options)
}

/// Lowers a query with explicit search parameters.
pub fn lower_with(
    query: &Query,
    schema: &Schema,
    options: &LowerOptions,
) -> Result<Plan, LowerError> {
    let l = Lowerer { schema, options };
    let source = Plan::source(
        SourceKind::Elastic,
        options.indices.clone(),
        Span::default(),
    );
    let plan_err = |e: vigil_plan::PlanError| LowerError {
        message: e.message,
        span: e.span,
    };
    let mut plan = match &query.body {
        Body::Event(e) => {
            let pred = l.event_filter(e)?;
            let plan = source.filter(pred).map_err(plan_err)?;
            if query.pipes.is_empty() {
                plan
            } else {
                // `head`/`tail` take events in time order.
                let mut keys = vec![SortKey {
                    expr: l.timestamp(),
                    ascending: true,
                    nulls_first: false,
                }];
                if let Some(t) = l.tiebreaker() {
                    keys.push(SortKey {
                        expr: t,
                        ascending: true,
                        nulls_first: false,
                    });
                }
                Plan::Sort(Sort {
                    input: Box::new(plan),
                    keys,
                })
            }
        }
        Body::Sequence(s) => {
            let by = &s.by;
            let mut steps = Vec::new();
            for st in &s.steps {
                steps.push(l.step(by, st)?);
            }
            check_key_counts(&steps, &s.steps)?;
            let until = match &s.until {
                Some(u) => {
                    let step = l.step(by, u)?;
                    if step.keys.len() != steps[0].keys.len() {
                        return err(
                            format!(
                                "`until` has {} join keys, the sequence has {}",
                                step.keys.len(),
                                steps[0].keys.len()
                            ),
                            u.span.0,
                        );
                    }
                    Some(step)
                }
                None => None,
            };
            let maxspan = match &s.maxspan {
                Some(m) => Some(duration(m.value, &m.unit, m.span.0)?),
                None => None,
            };
            let any = IrExpr::or(
                steps
                    .iter()
                    .chain(until.as_ref())
                    .map(|s| s.filter.clone())
                    .collect(),
                s.span.0,
            );
            let input = source.filter(any).map_err(plan_err)?;
            Plan::Sequence(Sequence {
                input: Box::new(input),
                steps,
                until,
                maxspan,
                timestamp: l.timestamp(),
                tiebreaker: l.tiebreaker(),
                span: s.span.0,
            })
        }
        Body::Sample(s) => {
            let mut steps = Vec::new();
            for st in &s.steps {
                steps.push(l.step(&s.by, st)?);
            }
            check_key_counts(&steps, &s.steps)?;
            if steps[0].keys.is_empty() {
                return err(
                    "a sample needs join keys (`sample by …` or `by` on each step)",
                    s.span.0,
                );
            }
            let any = IrExpr::or(steps.iter().map(|s| s.filter.clone()).collect(), s.span.0);
            let input = source.filter(any).map_err(plan_err)?;
            Plan::Sample(Sample {
                input: Box::new(input),
                steps,
                max_samples_per_key: options.max_samples_per_key,
                span: s.span.0,
            })
        }
    };
    for p in &query.pipes {
        let (n, from_end) = match p {
            Pipe::Head { n, .. } => (*n, false),
            Pipe::Tail { n, .. } => (*n, true),
        };
        plan = Plan::Limit(Limit {
            input: Box::new(plan),
            n,
            from_end,
        });
    }
    Ok(plan)
}

fn check_key_counts(steps: &[SequenceStep], ast: &[Step]) -> Result<(), LowerError> {
    let n = steps[0].keys.len();
    for (s, a) in steps.iter().zip(ast) {
        if s.keys.len() != n {
            return err(
                format!(
                    "every step needs the same number of join keys: this one has {}, the first has {n}",
                    s.keys.len()
                ),
                a.span.0,
            );
        }
    }
    Ok(())
}

/// A time value in Elasticsearch's units.
fn duration(value: i64, unit: &str, span: Span) -> Result<SignedDuration, LowerError> {
    let nanos: i64 = match unit {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return err(format!("unknown time unit `{unit}`"), span),
    };
    match value.checked_mul(nanos) {
        Some(n) if n > 0 => Ok(SignedDuration::from_nanos(n)),
        _ => err("maxspan must be a positive time value", span),
    }
}

/// Functions whose value is a boolean (usable as a condition).
const BOOLEAN_FUNCTIONS: &[&str] = &["startswith", "endswith", "stringcontains", "cidrmatch"];

/// Functions the Python EQL engine has and Elasticsearch does not.
const UNSUPPORTED_FUNCTIONS: &[&str] = &[
    "arraycontains",
    "arraycount",
    "arraysearch",
    "match",
    "matchlite",
    "safe",
    "wildcard",
];

struct Lowerer<'a> {
    schema: &'a Schema,
    options: &'a LowerOptions,
}

/// A field as the lowering sees it: a typed reference, or null (an unmapped optional field).
enum Resolved {
    Field(FieldRef),
    Null,
}

fn opts_query(f: &FieldRef, case: Case) -> MatchOpts {
    MatchOpts {
        case,
        quant: Quantifier::Any,
        lenient: f.ty == DataType::Unknown,
    }
}

const SCRIPT: MatchOpts = MatchOpts {
    case: Case::Sensitive,
    quant: Quantifier::Scalar,
    lenient: false,
};

fn new(kind: ExprKind, span: Span) -> IrExpr {
    IrExpr::new(kind, span)
}

fn is_true(e: IrExpr, script: bool) -> IrExpr {
    if script {
        let span = e.span;
        new(ExprKind::IsTrue(Box::new(e)), span)
    } else {
        e
    }
}

fn lit_value(l: &Lit) -> Value {
    match l {
        Lit::Null => Value::Null,
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Int(i) => Value::Int(*i),
        Lit::Float(x) => Value::Float(*x),
        Lit::Str { value, .. } => Value::from(value.as_str()),
    }
}

/// A constant expression's value: literals and negated numbers.
fn constant(e: &Expr) -> Option<Value> {
    match e {
        Expr::Literal { value, .. } => Some(lit_value(value)),
        Expr::Neg { inner, .. } => match constant(inner)? {
            Value::Int(i) => i.checked_neg().map(Value::Int),
            Value::Float(x) => Some(Value::Float(-x)),
            _ => None,
        },
        _ => None,
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::LtEq => CmpOp::GtEq,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::GtEq => CmpOp::LtEq,
        other => other,
    }
}

fn ir_cmp(op: CmpOp) -> IrCmp {
    match op {
        CmpOp::Eq => IrCmp::Eq,
        CmpOp::NotEq => IrCmp::NotEq,
        CmpOp::Lt => IrCmp::Lt,
        CmpOp::LtEq => IrCmp::LtEq,
        CmpOp::Gt => IrCmp::Gt,
        CmpOp::GtEq => IrCmp::GtEq,
    }
}

/// An EQL wildcard pattern: `*` and `?` are wildcards, every other character (backslashes
/// included) is literal.
fn wildcard(p: &str) -> WildcardPattern {
    let mut tokens = Vec::new();
    let mut lit = String::new();
    for c in p.chars() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    tokens.push(WildcardToken::Literal(std::mem::take(&mut lit)));
                }
                tokens.push(if c == '*' {
                    WildcardToken::AnyRun
                } else {
                    WildcardToken::AnyOne
                });
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() || tokens.is_empty() {
        tokens.push(WildcardToken::Literal(lit));
    }
    WildcardPattern { tokens }
}

/// A Lucene regular expression in the syntax of Rust's `regex`: Lucene's `\x` is the character
/// `x` itself (it has no classes like `\d` or `\s`).
fn lucene_regex(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push_str(&regex_escape(n)),
                None => out.push_str("\\\\"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn regex_escape(c: char) -> String {
    if c.is_ascii_alphanumeric() || c == ' ' {
        c.to_string()
    } else {
        format!("\\{c}")
    }
}

impl Lowerer<'_> {
    fn timestamp(&self) -> IrExpr {
        let name = &self.options.timestamp_field;
        let ty = match self.schema.field_type(name) {
            Some(DataType::Unknown) | None => DataType::Date,
            Some(t) => t,
        };
        IrExpr::field(name.clone(), ty, Span::default())
    }

    fn tiebreaker(&self) -> Option<IrExpr> {
        let name = self.options.tiebreaker_field.as_ref()?;
        let ty = self.schema.field_type(name).unwrap_or(DataType::Unknown);
        Some(IrExpr::field(name.clone(), ty, Span::default()))
    }

    fn resolve(&self, name: &FieldName, span: Span) -> Result<Resolved, LowerError> {
        if name.parts.iter().any(|p| matches!(p, Part::Index(_))) {
            return err("array indexes are not supported by Elasticsearch EQL", span);
        }
        let dotted = name.dotted();
        let ty = match self.schema.field_type(&dotted) {
            Some(t) => t,
            None if self.schema.is_object_path(&dotted) => {
                return err(
                    format!("`{dotted}` is an object, not a field that holds values"),
                    span,
                );
            }
            None if self.options.closed_schema && name.optional => return Ok(Resolved::Null),
            None if self.options.closed_schema => {
                return err(
                    format!(
                        "unknown field `{dotted}` (mark it optional, `?{dotted}`, if it may be absent)"
                    ),
                    span,
                );
            }
            None => DataType::Unknown,
        };
        // EQL compares text fields by their exact (keyword) form.
        let ty = if ty == DataType::Text {
            DataType::Keyword
        } else {
            ty
        };
        Ok(Resolved::Field(FieldRef { name: dotted, ty }))
    }

    fn category(&self, c: &Category, span: Span) -> Option<IrExpr> {
        let Category::Name { name, .. } = c else {
            return None;
        };
        let fname = &self.options.event_category_field;
        let ty = match self.schema.field_type(fname) {
            Some(DataType::Unknown) | None => DataType::Keyword,
            Some(t) => t,
        };
        let f = FieldRef {
            name: fname.clone(),
            ty,
        };
        Some(IrExpr::compare(
            IrCmp::Eq,
            new(ExprKind::Field(f.clone()), span),
            IrExpr::literal(name.as_str(), span),
            opts_query(&f, Case::Sensitive),
            span,
        ))
    }

    fn event_filter(&self, e: &EventQuery) -> Result<IrExpr, LowerError> {
        let (cond, script) = self.pred(&e.condition)?;
        let cond = is_true(cond, script);
        // The category check points at the category word, not the whole `… where …`.
        let whole = e.span.0;
        let cat_span = match &e.category {
            Category::Name { name, quoted } => {
                let len = name.len() + if *quoted { 2 } else { 0 };
                Span::new(
                    whole.start as usize,
                    (whole.start as usize + len).min(whole.end as usize),
                )
            }
            Category::Any => whole,
        };
        Ok(match self.category(&e.category, cat_span) {
            Some(cat) => match cond.kind {
                ExprKind::Literal(Value::Bool(true)) => cat,
                _ => conj(vec![cat, cond], e.span.0),
            },
            None => cond,
        })
    }

    fn step(&self, by: &[Expr], st: &Step) -> Result<SequenceStep, LowerError> {
        let mut filter = vec![self.event_filter(&st.query)?];
        let mut keys = Vec::new();
        for k in by.iter().chain(&st.by) {
            let span = k.span();
            let (key, optional) = match k {
                Expr::Field { name, .. } => match self.resolve(name, span)? {
                    Resolved::Field(f) => (new(ExprKind::Field(f), span), name.optional),
                    Resolved::Null => (IrExpr::literal(Value::Null, span), true),
                },
                _ => {
                    return err(
                        "join keys must be fields (Elasticsearch does not join on computed values)",
                        span,
                    );
                }
            };
            // A key that must have a value excludes events without one (Elasticsearch drops
            // them); an optional key joins on null.
            if !optional {
                filter.push(match &key.kind {
                    ExprKind::Field(f) => new(ExprKind::Exists(f.clone()), span),
                    _ => IrExpr::literal(true, span),
                });
            }
            keys.push(key);
        }
        Ok(SequenceStep {
            filter: conj(filter, st.span.0),
            keys,
            runs: st.runs.unwrap_or(1),
            missing: st.missing,
            span: st.span.0,
        })
    }

    /// A condition: the IR predicate and whether it is a script atom (null-valued when an
    /// operand is null).
    fn pred(&self, e: &Expr) -> Result<(IrExpr, bool), LowerError> {
        let span = e.span();
        match e {
            Expr::And { left, right, .. } | Expr::Or { left, right, .. } => {
                let (l, ls) = self.pred(left)?;
                let (r, rs) = self.pred(right)?;
                let items = vec![is_true(l, ls), is_true(r, rs)];
                let and = matches!(e, Expr::And { .. });
                // Flatten nested and/or of the same kind.
                let mut flat = Vec::new();
                for i in items {
                    match i.kind {
                        ExprKind::And(xs) if and => flat.extend(xs),
                        ExprKind::Or(xs) if !and => flat.extend(xs),
                        kind => flat.push(IrExpr::new(kind, i.span)),
                    }
                }
                Ok((
                    if and {
                        IrExpr::and(flat, span)
                    } else {
                        IrExpr::or(flat, span)
                    },
                    false,
                ))
            }
            Expr::Not { inner, .. } => {
                let (p, s) = self.pred(inner)?;
                Ok((IrExpr::not(p, span), s))
            }
            Expr::Literal { value, .. } => match value {
                Lit::Bool(b) => Ok((IrExpr::literal(*b, span), false)),
                Lit::Null => Ok((IrExpr::literal(Value::Null, span), true)),
                other => err(
                    format!("a condition must be boolean, found the constant {other}"),
                    span,
                ),
            },
            Expr::Field { name, .. } => match self.resolve(name, span)? {
                Resolved::Null => Ok((IrExpr::literal(Value::Null, span), true)),
                Resolved::Field(f) => {
                    if !matches!(f.ty, DataType::Boolean | DataType::Unknown) {
                        return err(
                            format!(
                                "a condition must be boolean, but `{}` is a {} field",
                                f.name, f.ty
                            ),
                            span,
                        );
                    }
                    let opts = opts_query(&f, Case::Sensitive);
                    Ok((
                        IrExpr::compare(
                            IrCmp::Eq,
                            new(ExprKind::Field(f), span),
                            IrExpr::literal(true, span),
                            opts,
                            span,
                        ),
                        false,
                    ))
                }
            },
            Expr::Compare {
                op, left, right, ..
            } => self.compare(*op, left, right, span),
            Expr::In {
                expr,
                list,
                negated,
                insensitive,
                ..
            } => {
                let (p, s) = self.in_list(expr, list, *insensitive, span)?;
                Ok(if *negated {
                    (IrExpr::not(p, span), s)
                } else {
                    (p, s)
                })
            }
            Expr::Match {
                expr, op, patterns, ..
            } => self.match_patterns(expr, *op, patterns, span),
            Expr::Call {
                name,
                insensitive,
                args,
                ..
            } => {
                let lname = name.to_ascii_lowercase();
                if !BOOLEAN_FUNCTIONS.contains(&lname.as_str()) {
                    // Unknown names get their own error from `call`.
                    self.call(name, *insensitive, args, span)?;
                    return err(
                        format!("a condition must be boolean, but `{name}` does not return one"),
                        span,
                    );
                }
                if let Some(q) = self.pushdown(&lname, *insensitive, args, span)? {
                    return Ok((q, false));
                }
                Ok((self.call(name, *insensitive, args, span)?, true))
            }
            Expr::Arith { .. } | Expr::Neg { .. } => err(
                "a condition must be boolean, found an arithmetic expression",
                span,
            ),
        }
    }

    /// `startsWith`/`endsWith`/`stringContains(field, "x")` and `cidrMatch(field, …)` are
    /// queries (prefix, wildcard, terms on CIDRs): any value of the field may match.
    fn pushdown(
        &self,
        name: &str,
        ci: bool,
        args: &[Expr],
        span: Span,
    ) -> Result<Option<IrExpr>, LowerError> {
        let Some(Expr::Field { name: fname, .. }) = args.first() else {
            return Ok(None);
        };
        let Resolved::Field(f) = self.resolve(fname, args[0].span())? else {
            return Ok(None);
        };
        let consts: Option<Vec<Value>> = args[1..].iter().map(constant).collect();
        let Some(consts) = consts else {
            return Ok(None);
        };
        let case = if ci {
            Case::Insensitive
        } else {
            Case::Sensitive
        };
        let field = new(ExprKind::Field(f.clone()), args[0].span());
        if name == "cidrmatch" {
            let mut nets = Vec::new();
            for (c, a) in consts.iter().zip(&args[1..]) {
                let Value::Str(s) = c else {
                    return err("cidrMatch takes CIDR blocks as strings", a.span());
                };
                nets.push(parse_net(s, a.span())?);
            }
            return Ok(Some(new(
                ExprKind::Cidr {
                    expr: Box::new(field),
                    nets,
                    quant: Quantifier::Any,
                },
                span,
            )));
        }
        let [Value::Str(s)] = consts.as_slice() else {
            return Ok(None);
        };
        if !(f.ty.is_string() || f.ty == DataType::Unknown) {
            return err(
                format!(
                    "first argument of `{name}` must be a string, `{}` is {}",
                    f.name, f.ty
                ),
                span,
            );
        }
        let pattern = match name {
            "startswith" => Pattern::StartsWith(s.to_string()),
            "endswith" => Pattern::EndsWith(s.to_string()),
            _ => Pattern::Contains(s.to_string()),
        };
        Ok(Some(new(
            ExprKind::Match {
                expr: Box::new(field),
                pattern,
                opts: opts_query(&f, case),
            },
            span,
        )))
    }

    fn compare(
        &self,
        op: CmpOp,
        left: &Expr,
        right: &Expr,
        span: Span,
    ) -> Result<(IrExpr, bool), LowerError> {
        // Literals go on the right.
        let (op, left, right) = if constant(left).is_some() && constant(right).is_none() {
            (flip(op), right, left)
        } else {
            (op, left, right)
        };
        // `f(…) == true` is `f(…)`; `== false` its negation.
        if matches!(op, CmpOp::Eq | CmpOp::NotEq)
            && let (Expr::Call { name, .. }, Some(Value::Bool(b))) = (left, constant(right))
            && BOOLEAN_FUNCTIONS.contains(&name.to_ascii_lowercase().as_str())
        {
            let (p, s) = self.pred(left)?;
            return Ok(if b == (op == CmpOp::Eq) {
                (p, s)
            } else {
                (IrExpr::not(p, span), s)
            });
        }
        let is_null = |e: &Expr| -> Result<bool, LowerError> {
            Ok(match e {
                Expr::Literal {
                    value: Lit::Null, ..
                } => true,
                Expr::Field { name, .. } => {
                    matches!(self.resolve(name, e.span())?, Resolved::Null)
                }
                _ => false,
            })
        };
        if is_null(right)? || is_null(left)? {
            let other = if is_null(right)? { left } else { right };
            if !matches!(op, CmpOp::Eq | CmpOp::NotEq) {
                // Ordering against null is null.
                return Ok((IrExpr::literal(Value::Null, span), true));
            }
            let operand = match other {
                Expr::Field { name, .. } => match self.resolve(name, other.span())? {
                    Resolved::Field(f) => new(ExprKind::Field(f), other.span()),
                    Resolved::Null => IrExpr::literal(Value::Null, other.span()),
                },
                _ => self.value(other)?,
            };
            let test = new(ExprKind::IsNull(Box::new(operand)), span);
            return Ok((
                if op == CmpOp::Eq {
                    test
                } else {
                    IrExpr::not(test, span)
                },
                false,
            ));
        }
        if let (Expr::Field { name, .. }, Some(value)) = (left, constant(right))
            && let Resolved::Field(f) = self.resolve(name, left.span())?
        {
            return self.field_compare(op, f, &value, left.span(), right.span(), span);
        }
        if self.reads_field(left)? && self.reads_field(right)? {
            return err(
                "comparing a field with another field (even through functions) is not supported by Elasticsearch EQL",
                span,
            );
        }
        let l = self.value(left)?;
        let r = self.value(right)?;
        Ok((IrExpr::compare(ir_cmp(op), l, r, SCRIPT, span), true))
    }

    /// `field op constant` as a query on the field's mapping type.
    fn field_compare(
        &self,
        op: CmpOp,
        f: FieldRef,
        value: &Value,
        fspan: Span,
        vspan: Span,
        span: Span,
    ) -> Result<(IrExpr, bool), LowerError> {
        let field = new(ExprKind::Field(f.clone()), fspan);
        // A term query on an ip field accepts a CIDR block.
        if f.ty == DataType::Ip
            && let Value::Str(s) = value
            && s.contains('/')
            && matches!(op, CmpOp::Eq | CmpOp::NotEq)
        {
            let cidr = new(
                ExprKind::Cidr {
                    expr: Box::new(field),
                    nets: vec![parse_net(s, vspan)?],
                    quant: Quantifier::Any,
                },
                span,
            );
            return Ok((
                if op == CmpOp::Eq {
                    cidr
                } else {
                    IrExpr::not(cidr, span)
                },
                false,
            ));
        }
        if f.ty == DataType::Version && !matches!(op, CmpOp::Eq | CmpOp::NotEq) {
            // Versions order semantically, not by their text.
            let doc = IrExpr::call("eql.doc_value", vec![field], fspan);
            let cmp = IrExpr::call(
                "eql.version_cmp",
                vec![doc, IrExpr::literal(value.to_string(), vspan)],
                span,
            );
            let zero = IrExpr::literal(0i64, span);
            return Ok((IrExpr::compare(ir_cmp(op), cmp, zero, SCRIPT, span), true));
        }
        let lit = IrExpr::literal(self.coerce(&f, value, vspan)?, vspan);
        let opts = opts_query(&f, Case::Sensitive);
        Ok(match op {
            // `!=` is the negation of the term query: true for events without the field.
            CmpOp::NotEq => (
                IrExpr::not(IrExpr::compare(IrCmp::Eq, field, lit, opts, span), span),
                false,
            ),
            op => (IrExpr::compare(ir_cmp(op), field, lit, opts, span), false),
        })
    }

    /// A constant as the field's mapping reads it.
    fn coerce(&self, f: &FieldRef, v: &Value, span: Span) -> Result<Value, LowerError> {
        let bad = || {
            err(
                format!(
                    "`{v}` is not a valid value for the {} field `{}`",
                    f.ty, f.name
                ),
                span,
            )
        };
        Ok(match f.ty {
            DataType::Unknown
            | DataType::Dynamic
            | DataType::Object
            | DataType::Flattened
            | DataType::Nested
            | DataType::GeoPoint => v.clone(),
            DataType::Long | DataType::UnsignedLong | DataType::Double => match v {
                Value::Int(_) | Value::Float(_) => v.clone(),
                Value::Str(s) => match v.coerce_to(DataType::Double) {
                    Some(_) => s
                        .trim()
                        .parse::<i64>()
                        .map(Value::Int)
                        .or_else(|_| s.trim().parse::<f64>().map(Value::Float))
                        .or_else(|_| bad())?,
                    None => return bad(),
                },
                _ => return bad(),
            },
            DataType::Date => match v {
                Value::Str(s) => vigil_event::parse_es_date(s)
                    .map(Value::Date)
                    .or_else(|_| bad())?,
                Value::Int(ms) => vigil_event::parse_epoch_millis(*ms as f64)
                    .map(Value::Date)
                    .or_else(|_| bad())?,
                _ => return bad(),
            },
            DataType::Ip => match v {
                Value::Str(s) => s
                    .trim()
                    .parse::<IpAddr>()
                    .map(Value::Ip)
                    .or_else(|_| bad())?,
                _ => return bad(),
            },
            DataType::Boolean => match v {
                Value::Bool(_) => v.clone(),
                Value::Str(s) if &**s == "true" || &**s == "false" => Value::Bool(&**s == "true"),
                _ => return bad(),
            },
            DataType::Duration => return bad(),
            _ => match v {
                Value::Str(_) => v.clone(),
                other => Value::from(other.to_string()),
            },
        })
    }

    fn in_list(
        &self,
        expr: &Expr,
        list: &[Expr],
        ci: bool,
        span: Span,
    ) -> Result<(IrExpr, bool), LowerError> {
        let case = if ci {
            Case::Insensitive
        } else {
            Case::Sensitive
        };
        let consts: Option<Vec<Value>> = list.iter().map(constant).collect();
        if consts.is_none() {
            let at = list
                .iter()
                .find(|x| constant(x).is_none())
                .map_or(span, Expr::span);
            return err(
                "`in` lists must hold constants: comparing with fields is not supported by Elasticsearch EQL",
                at,
            );
        }
        if let (Expr::Field { name, .. }, Some(consts)) = (expr, consts.as_ref())
            && let Resolved::Field(f) = self.resolve(name, expr.span())?
        {
            let mut items = Vec::new();
            for (c, e) in consts.iter().zip(list) {
                if !c.is_null() {
                    items.push(IrExpr::literal(self.coerce(&f, c, e.span())?, e.span()));
                }
            }
            let field = new(ExprKind::Field(f.clone()), expr.span());
            return Ok((
                new(
                    ExprKind::In {
                        expr: Box::new(field),
                        list: items,
                        opts: opts_query(&f, case),
                    },
                    span,
                ),
                false,
            ));
        }
        let e = self.value(expr)?;
        let items = list
            .iter()
            .map(|x| self.value(x))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((
            new(
                ExprKind::In {
                    expr: Box::new(e),
                    list: items,
                    opts: MatchOpts { case, ..SCRIPT },
                },
                span,
            ),
            true,
        ))
    }

    fn match_patterns(
        &self,
        expr: &Expr,
        op: MatchOp,
        patterns: &[Lit],
        span: Span,
    ) -> Result<(IrExpr, bool), LowerError> {
        let (operand, opts, script) = match expr {
            Expr::Field { name, .. } => match self.resolve(name, expr.span())? {
                Resolved::Field(f) => {
                    if !(f.ty.is_string()
                        || matches!(f.ty, DataType::Unknown | DataType::Flattened))
                    {
                        return err(
                            format!(
                                "`{}` compares strings, but `{}` is a {} field",
                                match_name(op),
                                f.name,
                                f.ty
                            ),
                            span,
                        );
                    }
                    let opts = opts_query(&f, Case::Sensitive);
                    (new(ExprKind::Field(f), expr.span()), opts, false)
                }
                Resolved::Null => return Ok((IrExpr::literal(Value::Null, span), true)),
            },
            other => (self.value(other)?, SCRIPT, true),
        };
        let case = match op {
            MatchOp::Seq | MatchOp::LikeInsensitive | MatchOp::RegexInsensitive => {
                Case::Insensitive
            }
            MatchOp::Like | MatchOp::Regex => Case::Sensitive,
        };
        let opts = opts.with_case(case);
        let mut exact = Vec::new();
        let mut items = Vec::new();
        for p in patterns {
            let text = match p {
                Lit::Str { value, .. } => value.clone(),
                other => {
                    return err(
                        format!("`{}` takes string patterns, found {other}", match_name(op)),
                        span,
                    );
                }
            };
            match op {
                MatchOp::Regex | MatchOp::RegexInsensitive => items.push(new(
                    ExprKind::Match {
                        expr: Box::new(operand.clone()),
                        pattern: Pattern::Regex {
                            pattern: lucene_regex(&text),
                            anchored: true,
                        },
                        opts,
                    },
                    span,
                )),
                _ if text.contains(['*', '?']) => items.push(new(
                    ExprKind::Match {
                        expr: Box::new(operand.clone()),
                        pattern: Pattern::Wildcard(wildcard(&text)),
                        opts,
                    },
                    span,
                )),
                _ => exact.push(IrExpr::literal(text, span)),
            }
        }
        match exact.len() {
            0 => {}
            1 => items.insert(
                0,
                IrExpr::compare(IrCmp::Eq, operand.clone(), exact.remove(0), opts, span),
            ),
            _ => items.insert(
                0,
                new(
                    ExprKind::In {
                        expr: Box::new(operand.clone()),
                        list: exact,
                        opts,
                    },
                    span,
                ),
            ),
        }
        if items.is_empty() {
            return Ok((IrExpr::literal(Value::Null, span), true));
        }
        Ok((IrExpr::or(items, span), script))
    }

    /// A computed value (script semantics).
    fn value(&self, e: &Expr) -> Result<IrExpr, LowerError> {
        let span = e.span();
        Ok(match e {
            Expr::Literal { value, .. } => IrExpr::literal(lit_value(value), span),
            Expr::Field { name, .. } => match self.resolve(name, span)? {
                Resolved::Null => IrExpr::literal(Value::Null, span),
                Resolved::Field(f) => {
                    IrExpr::call("eql.doc_value", vec![new(ExprKind::Field(f), span)], span)
                }
            },
            Expr::Neg { inner, .. } => match constant(e) {
                Some(v) => IrExpr::literal(v, span),
                None => new(ExprKind::Negate(Box::new(self.value(inner)?)), span),
            },
            Expr::Arith {
                op, left, right, ..
            } => {
                let op = match op {
                    ArithOp::Add => IrArith::Add,
                    ArithOp::Sub => IrArith::Sub,
                    ArithOp::Mul => IrArith::Mul,
                    ArithOp::Div => IrArith::Div,
                    ArithOp::Mod => IrArith::Mod,
                };
                new(
                    ExprKind::Arith {
                        op,
                        left: Box::new(self.value(left)?),
                        right: Box::new(self.value(right)?),
                    },
                    span,
                )
            }
            Expr::Call {
                name,
                insensitive,
                args,
                ..
            } => self.call(name, *insensitive, args, span)?,
            Expr::Not { inner, .. } => IrExpr::not(self.value(inner)?, span),
            Expr::And { left, right, .. } => {
                IrExpr::and(vec![self.value(left)?, self.value(right)?], span)
            }
            Expr::Or { left, right, .. } => {
                IrExpr::or(vec![self.value(left)?, self.value(right)?], span)
            }
            Expr::Compare {
                op, left, right, ..
            } => {
                let null = |x: &Expr| {
                    matches!(
                        x,
                        Expr::Literal {
                            value: Lit::Null,
                            ..
                        }
                    )
                };
                if matches!(op, CmpOp::Eq | CmpOp::NotEq) && (null(left) || null(right)) {
                    let other = if null(right) { left } else { right };
                    let test = new(ExprKind::IsNull(Box::new(self.value(other)?)), span);
                    return Ok(if *op == CmpOp::Eq {
                        test
                    } else {
                        IrExpr::not(test, span)
                    });
                }
                IrExpr::compare(
                    ir_cmp(*op),
                    self.value(left)?,
                    self.value(right)?,
                    SCRIPT,
                    span,
                )
            }
            Expr::In {
                expr,
                list,
                negated,
                insensitive,
                ..
            } => {
                let case = if *insensitive {
                    Case::Insensitive
                } else {
                    Case::Sensitive
                };
                let inner = new(
                    ExprKind::In {
                        expr: Box::new(self.value(expr)?),
                        list: list
                            .iter()
                            .map(|x| self.value(x))
                            .collect::<Result<_, _>>()?,
                        opts: MatchOpts { case, ..SCRIPT },
                    },
                    span,
                );
                if *negated {
                    IrExpr::not(inner, span)
                } else {
                    inner
                }
            }
            Expr::Match {
                expr, op, patterns, ..
            } => {
                // Inside a script every field is one value.
                let operand = Expr::Call {
                    name: "string".into(),
                    insensitive: false,
                    args: vec![(**expr).clone()],
                    span: crate::ast::AstSpan(expr.span()),
                };
                let target = if matches!(**expr, Expr::Field { .. }) {
                    &operand
                } else {
                    expr
                };
                self.match_patterns(target, *op, patterns, span)?.0
            }
        })
    }

    /// A function call, by Elasticsearch's function names (which ignore case).
    fn call(&self, name: &str, ci: bool, args: &[Expr], span: Span) -> Result<IrExpr, LowerError> {
        let lname = name.to_ascii_lowercase();
        if UNSUPPORTED_FUNCTIONS.contains(&lname.as_str()) {
            return err(
                format!("the function `{name}` is not supported by Elasticsearch EQL"),
                span,
            );
        }
        let (min, max, ci_ok) = match lname.as_str() {
            "add" | "subtract" | "multiply" | "divide" | "modulo" => (2, 2, false),
            "between" => (3, 4, true),
            "cidrmatch" => (2, usize::MAX, false),
            "concat" => (1, usize::MAX, false),
            "endswith" | "startswith" | "stringcontains" => (2, 2, true),
            "indexof" => (2, 3, true),
            "length" | "string" => (1, 1, false),
            "number" => (1, 2, false),
            "substring" => (2, 3, false),
            _ => return err(format!("unknown function `{name}`"), span),
        };
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return err(
                format!("`{name}` takes {want} arguments, found {}", args.len()),
                span,
            );
        }
        if ci && !ci_ok {
            return err(
                format!("`{name}` has no case-insensitive (`~`) variant"),
                span,
            );
        }
        // Arguments that must be strings, by position.
        let string_args: &[usize] = match lname.as_str() {
            "between" => &[0, 1, 2],
            "endswith" | "startswith" | "stringcontains" | "indexof" => &[0, 1],
            "length" | "number" | "substring" => &[0],
            "cidrmatch" => &[],
            _ => &[],
        };
        for &i in string_args {
            self.expect_string(&args[i], &lname)?;
        }
        let mut ir = args
            .iter()
            .map(|a| self.value(a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut arith = |op| {
            let right = ir
                .pop()
                .unwrap_or_else(|| IrExpr::literal(Value::Null, span));
            let left = ir
                .pop()
                .unwrap_or_else(|| IrExpr::literal(Value::Null, span));
            new(
                ExprKind::Arith {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            )
        };
        Ok(match lname.as_str() {
            "add" => arith(IrArith::Add),
            "subtract" => arith(IrArith::Sub),
            "multiply" => arith(IrArith::Mul),
            "divide" => arith(IrArith::Div),
            "modulo" => arith(IrArith::Mod),
            _ => {
                let suffix = if ci { "_ci" } else { "" };
                IrExpr::call(format!("eql.{lname}{suffix}"), ir, span)
            }
        })
    }

    /// True if the expression reads a (mapped) field anywhere.
    fn reads_field(&self, e: &Expr) -> Result<bool, LowerError> {
        Ok(match e {
            Expr::Field { name, .. } => matches!(self.resolve(name, e.span())?, Resolved::Field(_)),
            Expr::Literal { .. } => false,
            Expr::Not { inner, .. } | Expr::Neg { inner, .. } => self.reads_field(inner)?,
            Expr::And { left, right, .. }
            | Expr::Or { left, right, .. }
            | Expr::Compare { left, right, .. }
            | Expr::Arith { left, right, .. } => {
                self.reads_field(left)? || self.reads_field(right)?
            }
            Expr::In { expr, list, .. } => {
                self.reads_field(expr)? || list.iter().any(|x| self.reads_field(x).unwrap_or(true))
            }
            Expr::Match { expr, .. } => self.reads_field(expr)?,
            Expr::Call { args, .. } => {
                let mut any = false;
                for a in args {
                    any |= self.reads_field(a)?;
                }
                any
            }
        })
    }

    fn expect_string(&self, a: &Expr, func: &str) -> Result<(), LowerError> {
        let found = match a {
            Expr::Literal { value, .. } => match value {
                Lit::Str { .. } | Lit::Null => return Ok(()),
                Lit::Bool(_) => "a boolean",
                _ => "a number",
            },
            Expr::Field { name, .. } => match self.resolve(name, a.span())? {
                Resolved::Field(f) if !(f.ty.is_string() || f.ty == DataType::Unknown) => {
                    return err(
                        format!(
                            "`{func}` needs a string, but `{}` is a {} field",
                            f.name, f.ty
                        ),
                        a.span(),
                    );
                }
                _ => return Ok(()),
            },
            Expr::Arith { .. } | Expr::Neg { .. } => "a number",
            _ => return Ok(()),
        };
        err(format!("`{func}` needs a string, found {found}"), a.span())
    }
}

/// A conjunction with nested conjunctions flattened.
fn conj(items: Vec<IrExpr>, span: Span) -> IrExpr {
    let mut flat = Vec::new();
    for i in items {
        match i.kind {
            ExprKind::And(xs) => flat.extend(xs),
            kind => flat.push(IrExpr::new(kind, i.span)),
        }
    }
    IrExpr::and(flat, span)
}

fn match_name(op: MatchOp) -> &'static str {
    match op {
        MatchOp::Seq => ":",
        MatchOp::Like => "like",
        MatchOp::LikeInsensitive => "like~",
        MatchOp::Regex => "regex",
        MatchOp::RegexInsensitive => "regex~",
    }
}

fn parse_net(s: &str, span: Span) -> Result<IpNet, LowerError> {
    s.trim()
        .parse::<IpNet>()
        .or_else(|_| s.trim().parse::<IpAddr>().map(IpNet::from))
        .or_else(|_| err(format!("`{s}` is not a CIDR block"), span))
}
