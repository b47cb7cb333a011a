//! Text form of plans and expressions. Tests compare it, and `vigil explain` prints it, so every
//! semantic choice (quantifier, case, leniency, type) is visible.

use std::fmt::{self, Display, Formatter, Write};

use vigil_event::{DataType, Value};

use crate::expr::{
    ArithOp, Case, CmpOp, Expr, ExprKind, FieldRef, MatchOpts, Pattern, Quantifier,
    WildcardPattern, WildcardToken,
};
use crate::plan::{Plan, ProjectItem, SourceKind};

impl Display for FieldRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if self.ty != DataType::Unknown {
            write!(f, "<{}>", self.ty)?;
        }
        Ok(())
    }
}

impl Display for MatchOpts {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}", quant_name(self.quant))?;
        f.write_str(match self.case {
            Case::Sensitive => ",cs",
            Case::Insensitive => ",ci",
        })?;
        if self.lenient {
            f.write_str(",lenient")?;
        }
        f.write_char('}')
    }
}

fn quant_name(q: Quantifier) -> &'static str {
    match q {
        Quantifier::Any => "any",
        Quantifier::NullOnMulti => "mvnull",
        Quantifier::Scalar => "scalar",
    }
}

impl Display for WildcardPattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for t in &self.tokens {
            match t {
                WildcardToken::AnyRun => f.write_char('*')?,
                WildcardToken::AnyOne => f.write_char('?')?,
                WildcardToken::Literal(s) => {
                    for c in s.chars() {
                        match c {
                            '*' | '?' | '\\' | '"' => write!(f, "\\{c}")?,
                            _ => write_escaped_char(f, c)?,
                        }
                    }
                }
            }
        }
        f.write_char('"')
    }
}

fn write_escaped_char(f: &mut Formatter<'_>, c: char) -> fmt::Result {
    match c {
        '\n' => f.write_str("\\n"),
        '\r' => f.write_str("\\r"),
        '\t' => f.write_str("\\t"),
        c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32),
        c => f.write_char(c),
    }
}

fn write_str_literal(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' | '\\' => write!(f, "\\{c}")?,
            _ => write_escaped_char(f, c)?,
        }
    }
    f.write_char('"')
}

fn write_value(f: &mut Formatter<'_>, v: &Value) -> fmt::Result {
    match v {
        Value::Str(s) => write_str_literal(f, s),
        Value::Ip(ip) => write!(f, "ip({ip})"),
        Value::Date(_) => write!(f, "date({v})"),
        Value::Duration(_) => write!(f, "duration({v})"),
        other => write!(f, "{other}"),
    }
}

fn cmp_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "eq",
        CmpOp::NotEq => "neq",
        CmpOp::Lt => "lt",
        CmpOp::LtEq => "lte",
        CmpOp::Gt => "gt",
        CmpOp::GtEq => "gte",
    }
}

fn arith_symbol(op: ArithOp) -> &'static str {
    match op {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
        ArithOp::Div => "/",
        ArithOp::Mod => "%",
    }
}

fn list(f: &mut Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(v) => write_value(f, v),
            ExprKind::Field(r) => write!(f, "{r}"),
            ExprKind::Not(e) => write!(f, "not({e})"),
            ExprKind::And(items) => {
                f.write_str("and(")?;
                list(f, items)?;
                f.write_char(')')
            }
            ExprKind::Or(items) => {
                f.write_str("or(")?;
                list(f, items)?;
                f.write_char(')')
            }
            ExprKind::IsTrue(e) => write!(f, "is_true({e})"),
            ExprKind::Exists(r) => write!(f, "exists({r})"),
            ExprKind::IsNull(e) => write!(f, "is_null({e})"),
            ExprKind::Compare {
                op,
                left,
                right,
                opts,
            } => {
                write!(f, "{}{opts}({left}, {right})", cmp_name(*op))
            }
            ExprKind::In {
                expr,
                list: items,
                opts,
            } => {
                write!(f, "in{opts}({expr}, [")?;
                list(f, items)?;
                f.write_str("])")
            }
            ExprKind::Match {
                expr,
                pattern,
                opts,
            } => match pattern {
                Pattern::Wildcard(w) => write!(f, "wildcard{opts}({expr}, {w})"),
                Pattern::Regex { pattern, anchored } => {
                    let name = if *anchored {
                        "regex_full"
                    } else {
                        "regex_find"
                    };
                    write!(f, "{name}{opts}({expr}, /{pattern}/)")
                }
                Pattern::Contains(s)
                | Pattern::StartsWith(s)
                | Pattern::EndsWith(s)
                | Pattern::HasTerm(s)
                | Pattern::HasPrefix(s)
                | Pattern::HasSuffix(s) => {
                    let name = match pattern {
                        Pattern::Contains(_) => "contains",
                        Pattern::StartsWith(_) => "starts_with",
                        Pattern::EndsWith(_) => "ends_with",
                        Pattern::HasTerm(_) => "has",
                        Pattern::HasPrefix(_) => "has_prefix",
                        _ => "has_suffix",
                    };
                    write!(f, "{name}{opts}({expr}, ")?;
                    write_str_literal(f, s)?;
                    f.write_char(')')
                }
            },
            ExprKind::Cidr { expr, nets, quant } => {
                write!(f, "cidr{{{}}}({expr}, [", quant_name(*quant))?;
                for (i, n) in nets.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{n}")?;
                }
                f.write_str("])")
            }
            ExprKind::Arith { op, left, right } => {
                write!(f, "({left} {} {right})", arith_symbol(*op))
            }
            ExprKind::Negate(e) => write!(f, "-({e})"),
            ExprKind::Now => f.write_str("now()"),
            ExprKind::AnyElement { field, predicate } => {
                write!(f, "any_element({field}, {predicate})")
            }
            ExprKind::Call { func, args } => {
                write!(f, "{func}(")?;
                list(f, args)?;
                f.write_char(')')
            }
            ExprKind::Cast { expr, to } => write!(f, "cast<{to}>({expr})"),
            ExprKind::Case {
                branches,
                otherwise,
            } => {
                f.write_str("case(")?;
                for (i, (c, v)) in branches.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c} => {v}")?;
                }
                if let Some(o) = otherwise {
                    write!(f, ", else => {o}")?;
                }
                f.write_char(')')
            }
        }
    }
}

impl Display for Plan {
    /// One operator per line, inputs indented below, as DataFusion prints logical plans.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_tree(f, self, 0)
    }
}

fn write_tree(f: &mut Formatter<'_>, p: &Plan, depth: usize) -> fmt::Result {
    if depth > 0 {
        f.write_char('\n')?;
    }
    write!(f, "{:indent$}", "", indent = depth * 2)?;
    write_operator(f, p)?;
    for child in p.children() {
        write_tree(f, child, depth + 1)?;
    }
    Ok(())
}

fn write_step(f: &mut Formatter<'_>, s: &crate::ops::SequenceStep) -> fmt::Result {
    if s.missing {
        f.write_char('!')?;
    }
    write!(f, "[{}]", s.filter)?;
    if !s.keys.is_empty() {
        f.write_str(" by ")?;
        list(f, &s.keys)?;
    }
    if s.runs > 1 {
        write!(f, " runs={}", s.runs)?;
    }
    Ok(())
}

fn write_operator(f: &mut Formatter<'_>, p: &Plan) -> fmt::Result {
    match p {
        Plan::Values(v) => {
            let cols: Vec<&str> = v.columns.iter().map(|c| c.0.as_str()).collect();
            write!(f, "Values: [{}] {} row(s)", cols.join(", "), v.rows.len())
        }
        Plan::MvExpand(m) => {
            write!(f, "MvExpand: {}", m.column)?;
            if let Some(l) = m.limit {
                write!(f, " limit {l}")?;
            }
            Ok(())
        }
        Plan::Extract(x) => {
            let cols: Vec<&str> = x.columns.iter().map(|c| c.0.as_str()).collect();
            write!(
                f,
                "Extract: {} {:?} -> [{}]",
                x.source,
                x.pattern,
                cols.join(", ")
            )
        }
        Plan::Join(j) => {
            let on: Vec<String> = j.on.iter().map(|(l, r)| format!("{l} = {r}")).collect();
            write!(f, "Join[{:?}]: {}", j.kind, on.join(", "))
        }
        Plan::Union(u) => match &u.with_source {
            Some(c) => write!(f, "Union: withsource={c}"),
            None => f.write_str("Union"),
        },
        Plan::Sequence(q) => {
            f.write_str("Sequence:")?;
            if let Some(m) = q.maxspan {
                write!(f, " maxspan={m:#}")?;
            }
            for s in &q.steps {
                f.write_char(' ')?;
                write_step(f, s)?;
            }
            if let Some(u) = &q.until {
                f.write_str(" until ")?;
                write_step(f, u)?;
            }
            write!(f, " order by {}", q.timestamp)?;
            if let Some(t) = &q.tiebreaker {
                write!(f, ", {t}")?;
            }
            Ok(())
        }
        Plan::Sample(q) => {
            f.write_str("Sample:")?;
            if q.max_samples_per_key != 1 {
                write!(f, " max_samples_per_key={}", q.max_samples_per_key)?;
            }
            for s in &q.steps {
                f.write_char(' ')?;
                write_step(f, s)?;
            }
            Ok(())
        }
        Plan::Source(s) => {
            let kind = match s.kind {
                SourceKind::Elastic => "elastic",
                SourceKind::Table => "table",
            };
            write!(f, "Source[{kind}]: {}", s.names.join(", "))
        }
        Plan::Filter(x) => write!(f, "Filter: {}", x.predicate),
        Plan::Eval(e) => {
            f.write_str("Eval: ")?;
            for (i, a) in e.assigns.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{} = {}", a.name, a.expr)?;
            }
            Ok(())
        }
        Plan::Aggregate(a) => {
            f.write_str(if a.inline {
                "InlineAggregate: "
            } else {
                "Aggregate: "
            })?;
            for (i, c) in a.aggs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{} = {}(", c.name, c.func)?;
                list(f, &c.args)?;
                f.write_char(')')?;
                if let Some(w) = &c.filter {
                    write!(f, " where {w}")?;
                }
            }
            if !a.group_by.is_empty() {
                f.write_str(" by ")?;
                for (i, g) in a.group_by.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} = {}", g.name, g.expr)?;
                }
            }
            Ok(())
        }
        Plan::Sort(s) => {
            f.write_str("Sort: ")?;
            for (i, k) in s.keys.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                let dir = if k.ascending { "asc" } else { "desc" };
                let nulls = if k.nulls_first { "first" } else { "last" };
                write!(f, "{} {dir} nulls {nulls}", k.expr)?;
            }
            Ok(())
        }
        Plan::Limit(l) => write!(f, "Limit: {}{}", if l.from_end { "last " } else { "" }, l.n),
        Plan::Project(p) => {
            f.write_str("Project: ")?;
            for (i, item) in p.items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                match item {
                    ProjectItem::Keep(n) => write!(f, "{n}")?,
                    ProjectItem::Drop(n) => write!(f, "-{n}")?,
                    ProjectItem::Rename { from, to } => write!(f, "{to} = {from}")?,
                }
            }
            Ok(())
        }
    }
}
