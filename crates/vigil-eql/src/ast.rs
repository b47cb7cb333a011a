//! The EQL syntax tree. `Display` prints a query that parses back to an equal tree; equality
//! ignores spans.

use std::fmt::{self, Display, Formatter, Write};

use vigil_plan::Span;

pub use vigil_plan::AstSpan;

/// A whole query: an event query, a sequence or a sample, then pipes.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub body: Body,
    pub pipes: Vec<Pipe>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Event(EventQuery),
    Sequence(SequenceQuery),
    Sample(SampleQuery),
}

/// `category where condition`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventQuery {
    pub category: Category,
    pub condition: Expr,
    pub span: AstSpan,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Category {
    /// `any`: events of every category, and events without one.
    Any,
    /// A category name; `quoted` when written as a string (`"my-category"`).
    Name { name: String, quoted: bool },
}

/// `sequence [by keys] [with maxspan=T] steps… [until step]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceQuery {
    pub by: Vec<Expr>,
    pub maxspan: Option<TimeValue>,
    pub steps: Vec<Step>,
    pub until: Option<Step>,
    pub span: AstSpan,
}

/// `[query] [by keys] [with runs=N]`, or a missing event `![query]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub missing: bool,
    pub query: EventQuery,
    pub by: Vec<Expr>,
    pub runs: Option<u32>,
    pub span: AstSpan,
}

/// `sample [by keys] steps…`.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleQuery {
    pub by: Vec<Expr>,
    pub steps: Vec<Step>,
    pub span: AstSpan,
}

/// A time value (`30s`, `1m`): an integer and a unit.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeValue {
    pub value: i64,
    pub unit: String,
    pub span: AstSpan,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pipe {
    Head { n: u64, span: AstSpan },
    Tail { n: u64, span: AstSpan },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string; `raw` when written in triple quotes.
    Str {
        value: String,
        raw: bool,
    },
}

/// One segment of a field name.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// A name; `quoted` when written in backticks.
    Name { name: String, quoted: bool },
    /// An array index `[0]` (parsed to be refused: Elasticsearch does not support it).
    Index(u64),
}

/// A field reference; `optional` for `?field`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldName {
    pub parts: Vec<Part>,
    pub optional: bool,
}

impl FieldName {
    /// The dotted name (`process.parent.name`); indexes print as `[n]`.
    pub fn dotted(&self) -> String {
        let mut s = String::new();
        for (i, p) in self.parts.iter().enumerate() {
            match p {
                Part::Name { name, .. } => {
                    if i > 0 {
                        s.push('.');
                    }
                    s.push_str(name);
                }
                Part::Index(n) => {
                    let _ = write!(s, "[{n}]");
                }
            }
        }
        s
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// String pattern operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    /// `:` — case-insensitive equality with `*`/`?` wildcards.
    Seq,
    Like,
    LikeInsensitive,
    Regex,
    RegexInsensitive,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Literal {
        value: Lit,
        span: AstSpan,
    },
    Field {
        name: FieldName,
        span: AstSpan,
    },
    Not {
        inner: Box<Expr>,
        span: AstSpan,
    },
    And {
        left: Box<Expr>,
        right: Box<Expr>,
        span: AstSpan,
    },
    Or {
        left: Box<Expr>,
        right: Box<Expr>,
        span: AstSpan,
    },
    Compare {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
        span: AstSpan,
    },
    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
        span: AstSpan,
    },
    Neg {
        inner: Box<Expr>,
        span: AstSpan,
    },
    /// `expr [not] in[~] (list)`.
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        insensitive: bool,
        span: AstSpan,
    },
    /// `expr : "p"`, `expr like ("a", "b")`; `list` when written in parentheses.
    Match {
        expr: Box<Expr>,
        op: MatchOp,
        patterns: Vec<Lit>,
        list: bool,
        span: AstSpan,
    },
    /// `name(args)` or `name~(args)`; the name as written (function names ignore case).
    Call {
        name: String,
        insensitive: bool,
        args: Vec<Expr>,
        span: AstSpan,
    },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Literal { span, .. }
            | Expr::Field { span, .. }
            | Expr::Not { span, .. }
            | Expr::And { span, .. }
            | Expr::Or { span, .. }
            | Expr::Compare { span, .. }
            | Expr::Arith { span, .. }
            | Expr::Neg { span, .. }
            | Expr::In { span, .. }
            | Expr::Match { span, .. }
            | Expr::Call { span, .. } => span.0,
        }
    }

    /// Binding strength, for printing the fewest parentheses that keep the tree.
    fn prec(&self) -> u8 {
        match self {
            Expr::Or { .. } => 1,
            Expr::And { .. } => 2,
            Expr::Not { .. } => 3,
            Expr::Compare { .. } | Expr::In { .. } | Expr::Match { .. } => 4,
            Expr::Arith { op, .. } => match op {
                ArithOp::Add | ArithOp::Sub => 5,
                _ => 6,
            },
            Expr::Neg { .. } => 7,
            Expr::Literal { .. } | Expr::Field { .. } | Expr::Call { .. } => 8,
        }
    }
}

/// Words that cannot start a field name unquoted.
pub const KEYWORDS: &[&str] = &[
    "and", "any", "by", "false", "in", "join", "like", "maxspan", "not", "null", "of", "or",
    "regex", "sample", "sequence", "true", "until", "where", "with",
];

fn is_plain_ident(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b'@')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'@')
}

fn write_backticked(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('`')?;
    f.write_str(&s.replace('`', "``"))?;
    f.write_char('`')
}

impl Display for Lit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Null => f.write_str("null"),
            Lit::Bool(b) => write!(f, "{b}"),
            Lit::Int(i) => write!(f, "{i}"),
            // Debug keeps a `.0` or an exponent, so the number reads back as a float.
            Lit::Float(x) => write!(f, "{x:?}"),
            Lit::Str { value, raw: true } => write!(f, "\"\"\"{value}\"\"\""),
            Lit::Str { value, raw: false } => {
                f.write_char('"')?;
                for c in value.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        c if c.is_control() => write!(f, "\\u{{{:02x}}}", c as u32)?,
                        c => f.write_char(c)?,
                    }
                }
                f.write_char('"')
            }
        }
    }
}

impl Display for FieldName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.optional {
            f.write_char('?')?;
        }
        for (i, p) in self.parts.iter().enumerate() {
            match p {
                Part::Name { name, quoted } => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    let keyword = i == 0 && KEYWORDS.contains(&name.as_str());
                    if *quoted || keyword || !is_plain_ident(name) {
                        write_backticked(f, name)?;
                    } else {
                        f.write_str(name)?;
                    }
                }
                Part::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

fn cmp_symbol(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::NotEq => "!=",
        CmpOp::Lt => "<",
        CmpOp::LtEq => "<=",
        CmpOp::Gt => ">",
        CmpOp::GtEq => ">=",
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

fn match_symbol(op: MatchOp) -> &'static str {
    match op {
        MatchOp::Seq => ":",
        MatchOp::Like => "like",
        MatchOp::LikeInsensitive => "like~",
        MatchOp::Regex => "regex",
        MatchOp::RegexInsensitive => "regex~",
    }
}

/// Writes `e`, in parentheses when it binds less tightly than `min`.
fn operand(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if e.prec() < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

fn comma_list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal { value, .. } => write!(f, "{value}"),
            Expr::Field { name, .. } => write!(f, "{name}"),
            Expr::Not { inner, .. } => {
                f.write_str("not ")?;
                operand(f, inner, 3)
            }
            Expr::And { left, right, .. } => {
                operand(f, left, 2)?;
                f.write_str(" and ")?;
                operand(f, right, 3)
            }
            Expr::Or { left, right, .. } => {
                operand(f, left, 1)?;
                f.write_str(" or ")?;
                operand(f, right, 2)
            }
            Expr::Compare {
                op, left, right, ..
            } => {
                operand(f, left, 5)?;
                write!(f, " {} ", cmp_symbol(*op))?;
                operand(f, right, 5)
            }
            Expr::Arith {
                op, left, right, ..
            } => {
                let p = self.prec();
                operand(f, left, p)?;
                write!(f, " {} ", arith_symbol(*op))?;
                operand(f, right, p + 1)
            }
            Expr::Neg { inner, .. } => {
                f.write_char('-')?;
                // `- -x`: two minus signs, never a `--` that reads as a comment elsewhere.
                if matches!(**inner, Expr::Neg { .. }) {
                    f.write_char(' ')?;
                }
                operand(f, inner, 7)
            }
            Expr::In {
                expr,
                list,
                negated,
                insensitive,
                ..
            } => {
                operand(f, expr, 5)?;
                f.write_str(if *negated { " not in" } else { " in" })?;
                f.write_str(if *insensitive { "~ (" } else { " (" })?;
                comma_list(f, list)?;
                f.write_char(')')
            }
            Expr::Match {
                expr,
                op,
                patterns,
                list,
                ..
            } => {
                operand(f, expr, 5)?;
                write!(f, " {} ", match_symbol(*op))?;
                if *list {
                    f.write_char('(')?;
                    comma_list(f, patterns)?;
                    f.write_char(')')
                } else {
                    comma_list(f, patterns)
                }
            }
            Expr::Call {
                name,
                insensitive,
                args,
                ..
            } => {
                f.write_str(name)?;
                if *insensitive {
                    f.write_char('~')?;
                }
                f.write_char('(')?;
                comma_list(f, args)?;
                f.write_char(')')
            }
        }
    }
}

impl Display for Category {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Category::Any => f.write_str("any"),
            Category::Name { name, quoted } => {
                if *quoted || !is_plain_ident(name) || KEYWORDS.contains(&name.as_str()) {
                    write!(
                        f,
                        "{}",
                        Lit::Str {
                            value: name.clone(),
                            raw: false
                        }
                    )
                } else {
                    f.write_str(name)
                }
            }
        }
    }
}

impl Display for EventQuery {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} where {}", self.category, self.condition)
    }
}

impl Display for TimeValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.value, self.unit)
    }
}

fn write_by(f: &mut Formatter<'_>, by: &[Expr]) -> fmt::Result {
    if by.is_empty() {
        return Ok(());
    }
    f.write_str(" by ")?;
    comma_list(f, by)
}

impl Display for Step {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.missing {
            f.write_char('!')?;
        }
        write!(f, "[{}]", self.query)?;
        write_by(f, &self.by)?;
        if let Some(n) = self.runs {
            write!(f, " with runs={n}")?;
        }
        Ok(())
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.body {
            Body::Event(e) => write!(f, "{e}")?,
            Body::Sequence(s) => {
                f.write_str("sequence")?;
                write_by(f, &s.by)?;
                if let Some(m) = &s.maxspan {
                    write!(f, " with maxspan={m}")?;
                }
                for step in &s.steps {
                    write!(f, "\n  {step}")?;
                }
                if let Some(u) = &s.until {
                    write!(f, "\nuntil {u}")?;
                }
            }
            Body::Sample(s) => {
                f.write_str("sample")?;
                write_by(f, &s.by)?;
                for step in &s.steps {
                    write!(f, "\n  {step}")?;
                }
            }
        }
        for p in &self.pipes {
            match p {
                Pipe::Head { n, .. } => write!(f, "\n| head {n}")?,
                Pipe::Tail { n, .. } => write!(f, "\n| tail {n}")?,
            }
        }
        Ok(())
    }
}
