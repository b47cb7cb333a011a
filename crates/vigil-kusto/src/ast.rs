//! The Kusto syntax tree. `Display` prints a query that parses back to an equal tree; equality
//! ignores spans. Tabular and scalar expressions share one [`Expr`] type, as they share syntax
//! (`T`, `f(x)`, `(…)` can be either): lowering decides which one a name or call denotes.

use std::fmt::{self, Display, Formatter, Write};

use vigil_plan::Span;

pub use vigil_plan::AstSpan;

/// A name: a column, table, `let` binding, function or operator parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: AstSpan,
}

impl Ident {
    pub fn new(name: impl Into<String>) -> Ident {
        Ident {
            name: name.into(),
            span: AstSpan::default(),
        }
    }
}

/// A whole query: `let` statements and the tabular expression whose result is the query's.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// `let name = value;`
    Let { name: Ident, value: LetValue },
    /// A tabular expression statement.
    Expr(Expr),
    /// `set name [= value];`: query options, kept for printing only.
    Set { name: Ident, value: Option<Expr> },
}

#[derive(Clone, Debug, PartialEq)]
pub enum LetValue {
    /// A scalar or tabular expression.
    Expr(Expr),
    /// `(params) { body }`: a user-defined function.
    Function {
        params: Vec<Param>,
        body: Vec<Statement>,
    },
}

/// A function parameter: `name: type [= default]`, or a tabular `T: (*)` / `T: (a: string)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: ParamType,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    Scalar(String),
    /// A tabular parameter; `None` columns is `(*)`.
    Tabular(Option<Vec<ColumnDecl>>),
}

/// `name: type` in `datatable`, `externaldata` and tabular parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDecl {
    pub name: Ident,
    pub ty: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: AstSpan,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr {
            kind,
            span: AstSpan(span),
        }
    }

    pub fn span(&self) -> Span {
        self.span.0
    }

    /// The name, when this is a bare name.
    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name(i) => Some(&i.name),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Name(Ident),
    Lit(Lit),
    /// `dynamic(…)`.
    Dynamic(DynValue),
    Neg(Box<Expr>),
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `in`, `!in`, `in~`, `!in~`, `has_any`, `has_all` and friends over a list.
    InList {
        op: ListOp,
        expr: Box<Expr>,
        list: Vec<Expr>,
    },
    /// `x between (low .. high)`, `!between`.
    Between {
        negated: bool,
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    Call {
        name: Ident,
        args: Vec<Expr>,
    },
    /// `x.name` or `x['name']` written with a dot.
    Member {
        expr: Box<Expr>,
        name: Ident,
    },
    /// `x[index]`.
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    /// `*` as an argument (`arg_max(t, *)`, `count(*)`).
    Star,
    /// `input | operator`.
    Pipe {
        input: Box<Expr>,
        op: Box<Operator>,
    },
    /// `datatable(cols) [values]`.
    Datatable {
        columns: Vec<ColumnDecl>,
        values: Vec<Expr>,
    },
    /// `externaldata(cols) [urls] with (props)`.
    ExternalData {
        columns: Vec<ColumnDecl>,
        urls: Vec<String>,
        props: Vec<(Ident, Expr)>,
    },
    /// `print a = 1, 2`.
    Print(Vec<NamedExpr>),
    /// `range x from a to b step c`.
    Range {
        column: Ident,
        from: Box<Expr>,
        to: Box<Expr>,
        step: Box<Expr>,
    },
    /// `union …` as a source.
    Union(UnionSpec),
}

/// Scalar literals.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(String),
    /// The raw text of `datetime(…)`.
    DateTime(String),
    /// A timespan in nanoseconds (`1d`).
    Timespan(i128),
    /// The raw text of `timespan(…)` / `time(…)`.
    TimespanRaw(String),
    /// The raw text of `guid(…)`.
    Guid(String),
}

/// The value of a `dynamic(…)` literal.
#[derive(Clone, Debug, PartialEq)]
pub enum DynValue {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(String),
    DateTime(String),
    Timespan(i128),
    Array(Vec<DynValue>),
    Object(Vec<(String, DynValue)>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `=~`
    EqCi,
    /// `!~`
    NotEqCi,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Str(StrOp),
    /// `matches regex`
    MatchesRegex,
}

/// A string operator: `has`, `!contains_cs`, `hasprefix`, ….
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrOp {
    pub kind: StrOpKind,
    pub negated: bool,
    pub case_sensitive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrOpKind {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOp {
    In,
    NotIn,
    InCi,
    NotInCi,
    HasAny,
    HasAll,
}

/// `name = expr`, `(a, b) = expr` or a bare `expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedExpr {
    pub names: Vec<Ident>,
    pub expr: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    /// `Some(true)` for `asc`, `Some(false)` for `desc`, `None` when not written (desc).
    pub asc: Option<bool>,
    /// `Some(true)` for `nulls first`.
    pub nulls_first: Option<bool>,
}

/// `name = value` operator parameters (`kind=inner`, `hint.strategy=shuffle`).
pub type Params = Vec<(Ident, Expr)>;

#[derive(Clone, Debug, PartialEq)]
pub struct UnionSpec {
    pub params: Params,
    pub tables: Vec<Expr>,
}

/// One expansion of `mv-expand` / `mv-apply`: `[name =] expr [to typeof(type)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MvItem {
    pub item: NamedExpr,
    pub to: Option<String>,
}

/// A piece of a `parse` pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum ParsePart {
    Star,
    Text(String),
    Column { name: Ident, ty: Option<String> },
}

/// A `make-series` aggregate: `name = agg(x) [default = v]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesAgg {
    pub agg: NamedExpr,
    pub default: Option<Expr>,
}

// Operators are built once per query; boxing the large ones would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Operator {
    Where(Expr),
    Extend(Vec<NamedExpr>),
    Project(Vec<NamedExpr>),
    ProjectAway(Vec<Ident>),
    ProjectKeep(Vec<Ident>),
    ProjectRename(Vec<(Ident, Ident)>),
    ProjectReorder(Vec<Ident>),
    Summarize {
        params: Params,
        aggs: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    /// `take n` (`limit` when `limit_keyword`).
    Take {
        n: Expr,
        limit_keyword: bool,
    },
    Top {
        n: Expr,
        by: SortKey,
    },
    /// `sort by` (`order by` when `order_keyword`).
    Sort {
        keys: Vec<SortKey>,
        order_keyword: bool,
    },
    Distinct(Vec<NamedExpr>),
    Count,
    Join {
        params: Params,
        right: Expr,
        on: Vec<Expr>,
    },
    Lookup {
        params: Params,
        right: Expr,
        on: Vec<Expr>,
    },
    Union(UnionSpec),
    MvExpand {
        params: Params,
        items: Vec<MvItem>,
        limit: Option<Expr>,
    },
    MvApply {
        params: Params,
        items: Vec<MvItem>,
        body: Vec<Operator>,
    },
    Parse {
        where_only: bool,
        params: Params,
        source: Expr,
        parts: Vec<ParsePart>,
    },
    MakeSeries {
        params: Params,
        aggs: Vec<SeriesAgg>,
        on: Expr,
        from: Option<Expr>,
        to: Option<Expr>,
        step: Expr,
        by: Vec<NamedExpr>,
    },
    As(Ident),
    Serialize(Vec<NamedExpr>),
    Evaluate(Expr),
    Invoke(Expr),
    Sample(Expr),
    Getschema,
    /// `render …`: presentation only; the text after the keyword is kept.
    Render(String),
}

// ---------------------------------------------------------------------------------------------
// Printing

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "by",
    "on",
    "with",
    "from",
    "to",
    "step",
    "in",
    "has",
    "contains",
    "let",
    "where",
    "true",
    "false",
    "between",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "limit",
    "kind",
    "typeof",
    "datatable",
    "dynamic",
    "print",
    "range",
    "union",
    "null",
    "default",
    "set",
    "not",
    "matches",
    "regex",
    "datetime",
    "timespan",
    "time",
    "date",
    "guid",
];

/// True when a name can be written bare.
pub fn is_plain_name(s: &str) -> bool {
    if matches!(s, "$left" | "$right") {
        return true;
    }
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if is_plain_name(&self.name) {
            f.write_str(&self.name)
        } else {
            f.write_char('[')?;
            write_str_lit(f, &self.name)?;
            f.write_char(']')
        }
    }
}

/// A name in a column list where `*` wildcards are allowed (`project-away *_s`).
fn write_pattern(f: &mut Formatter<'_>, i: &Ident) -> fmt::Result {
    if i.name.contains('*')
        && i.name
            .chars()
            .all(|c| c == '*' || c.is_ascii_alphanumeric() || c == '_')
    {
        f.write_str(&i.name)
    } else {
        write!(f, "{i}")
    }
}

fn write_str_lit(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\0' => f.write_str("\\0")?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn write_real(f: &mut Formatter<'_>, v: f64) -> fmt::Result {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        write!(f, "{v:.1}")
    } else {
        // Debug keeps the shortest exact representation.
        write!(f, "{v:?}")
    }
}

fn write_timespan(f: &mut Formatter<'_>, n: i128) -> fmt::Result {
    // Exact in ticks, else nanoseconds spelled out.
    if n % 100 == 0 {
        write!(f, "{}tick", n / 100)
    } else {
        write!(f, "{n}nanoseconds")
    }
}

impl Display for Lit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Bool(b) => write!(f, "{b}"),
            Lit::Int(i) => write!(f, "{i}"),
            Lit::Real(v) => write_real(f, *v),
            Lit::Str(s) => write_str_lit(f, s),
            Lit::DateTime(raw) => write!(f, "datetime({raw})"),
            Lit::Timespan(n) => write_timespan(f, *n),
            Lit::TimespanRaw(raw) => write!(f, "timespan({raw})"),
            Lit::Guid(raw) => write!(f, "guid({raw})"),
        }
    }
}

impl Display for DynValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DynValue::Null => f.write_str("null"),
            DynValue::Bool(b) => write!(f, "{b}"),
            DynValue::Int(i) => write!(f, "{i}"),
            DynValue::Real(v) => write_real(f, *v),
            DynValue::Str(s) => write_str_lit(f, s),
            DynValue::DateTime(raw) => write!(f, "datetime({raw})"),
            DynValue::Timespan(n) => write_timespan(f, *n),
            DynValue::Array(items) => {
                f.write_char('[')?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_char(']')
            }
            DynValue::Object(members) => {
                f.write_char('{')?;
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_str_lit(f, k)?;
                    write!(f, ": {v}")?;
                }
                f.write_char('}')
            }
        }
    }
}

impl BinOp {
    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq
            | BinOp::NotEq
            | BinOp::Lt
            | BinOp::LtEq
            | BinOp::Gt
            | BinOp::GtEq
            | BinOp::EqCi
            | BinOp::NotEqCi
            | BinOp::Str(_)
            | BinOp::MatchesRegex => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 5,
        }
    }

    pub fn symbol(self) -> String {
        match self {
            BinOp::Or => "or".into(),
            BinOp::And => "and".into(),
            BinOp::Eq => "==".into(),
            BinOp::NotEq => "!=".into(),
            BinOp::Lt => "<".into(),
            BinOp::LtEq => "<=".into(),
            BinOp::Gt => ">".into(),
            BinOp::GtEq => ">=".into(),
            BinOp::EqCi => "=~".into(),
            BinOp::NotEqCi => "!~".into(),
            BinOp::Add => "+".into(),
            BinOp::Sub => "-".into(),
            BinOp::Mul => "*".into(),
            BinOp::Div => "/".into(),
            BinOp::Mod => "%".into(),
            BinOp::MatchesRegex => "matches regex".into(),
            BinOp::Str(s) => s.name(),
        }
    }
}

impl StrOp {
    pub fn name(self) -> String {
        let base = match self.kind {
            StrOpKind::Has => "has",
            StrOpKind::HasPrefix => "hasprefix",
            StrOpKind::HasSuffix => "hassuffix",
            StrOpKind::Contains => "contains",
            StrOpKind::StartsWith => "startswith",
            StrOpKind::EndsWith => "endswith",
        };
        format!(
            "{}{base}{}",
            if self.negated { "!" } else { "" },
            if self.case_sensitive { "_cs" } else { "" }
        )
    }
}

impl ListOp {
    pub fn name(self) -> &'static str {
        match self {
            ListOp::In => "in",
            ListOp::NotIn => "!in",
            ListOp::InCi => "in~",
            ListOp::NotInCi => "!in~",
            ListOp::HasAny => "has_any",
            ListOp::HasAll => "has_all",
        }
    }
}

/// Precedence of an expression as an operand: 3 for comparison-level forms.
fn expr_prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Pipe { .. } => 0,
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::InList { .. } | ExprKind::Between { .. } => 3,
        ExprKind::Neg(_) => 6,
        // Tabular sources swallow what follows them; keep them apart.
        ExprKind::Print(_) | ExprKind::Range { .. } | ExprKind::Union(_) => 0,
        ExprKind::ExternalData { .. } => 0,
        _ => 7,
    }
}

/// Writes `e`, parenthesised when it binds less tightly than `min`.
fn operand(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if expr_prec(e) < min {
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

/// A list element or argument: a pipeline needs no parentheses there, but a nested list
/// operator's comma would be ambiguous only inside lists, which the parser also delimits.
fn arg_list(f: &mut Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

fn columns(f: &mut Formatter<'_>, cols: &[ColumnDecl]) -> fmt::Result {
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}: {}", c.name, c.ty)?;
    }
    Ok(())
}

fn params(f: &mut Formatter<'_>, ps: &Params) -> fmt::Result {
    for (k, v) in ps {
        // A parameter value is one token: a name is never bracketed (`kind=regex`).
        match &v.kind {
            ExprKind::Name(i) => write!(f, " {}={}", k.name, i.name)?,
            _ => write!(f, " {}={v}", k.name)?,
        }
    }
    Ok(())
}

/// A tabular operand in a position where a following keyword could be swallowed (join's right
/// side, union members): parenthesised unless it is a bare name.
fn table_operand(f: &mut Formatter<'_>, e: &Expr) -> fmt::Result {
    match &e.kind {
        ExprKind::Name(_) => write!(f, "{e}"),
        _ => write!(f, "({e})"),
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Name(i) => write!(f, "{i}"),
            ExprKind::Lit(l) => write!(f, "{l}"),
            ExprKind::Dynamic(d) => write!(f, "dynamic({d})"),
            ExprKind::Neg(e) => {
                f.write_char('-')?;
                // `--x` would lex as two minus signs anyway; parenthesise for clarity.
                if matches!(e.kind, ExprKind::Neg(_) | ExprKind::Lit(_)) {
                    write!(f, "({e})")
                } else {
                    operand(f, e, 6)
                }
            }
            ExprKind::Binary { op, left, right } => {
                let p = op.precedence();
                // Comparisons do not chain: both sides must bind tighter.
                let (lmin, rmin) = if p == 3 { (4, 4) } else { (p, p + 1) };
                operand(f, left, lmin)?;
                write!(f, " {} ", op.symbol())?;
                operand(f, right, rmin)
            }
            ExprKind::InList { op, expr, list } => {
                operand(f, expr, 4)?;
                write!(f, " {} (", op.name())?;
                arg_list(f, list)?;
                f.write_char(')')
            }
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => {
                operand(f, expr, 4)?;
                f.write_str(if *negated {
                    " !between ("
                } else {
                    " between ("
                })?;
                operand(f, low, 4)?;
                f.write_str(" .. ")?;
                operand(f, high, 4)?;
                f.write_char(')')
            }
            ExprKind::Call { name, args } => {
                // Function names are never bracketed (`not(…)`, `typeof(…)`).
                write!(f, "{}(", name.name)?;
                arg_list(f, args)?;
                f.write_char(')')
            }
            ExprKind::Member { expr, name } => {
                operand(f, expr, 7)?;
                if is_plain_name(&name.name) {
                    write!(f, ".{}", name.name)
                } else {
                    f.write_str(".[")?;
                    write_str_lit(f, &name.name)?;
                    f.write_char(']')
                }
            }
            ExprKind::Index { expr, index } => {
                operand(f, expr, 7)?;
                write!(f, "[{index}]")
            }
            ExprKind::Star => f.write_char('*'),
            ExprKind::Pipe { input, op } => {
                // A source that swallows operators (`print`, `range`) cannot take a pipe bare.
                match &input.kind {
                    ExprKind::Pipe { .. } => write!(f, "{input}")?,
                    _ if expr_prec(input) == 0 => write!(f, "({input})")?,
                    _ => write!(f, "{input}")?,
                }
                write!(f, "\n| {op}")
            }
            ExprKind::Datatable {
                columns: cols,
                values,
            } => {
                f.write_str("datatable(")?;
                columns(f, cols)?;
                f.write_str(") [")?;
                arg_list(f, values)?;
                f.write_char(']')
            }
            ExprKind::ExternalData {
                columns: cols,
                urls,
                props,
            } => {
                f.write_str("externaldata(")?;
                columns(f, cols)?;
                f.write_str(") [")?;
                for (i, u) in urls.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_str_lit(f, u)?;
                }
                f.write_char(']')?;
                if !props.is_empty() {
                    f.write_str(" with (")?;
                    for (i, (k, v)) in props.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        match &v.kind {
                            ExprKind::Name(n) => write!(f, "{}={}", k.name, n.name)?,
                            _ => write!(f, "{}={v}", k.name)?,
                        }
                    }
                    f.write_char(')')?;
                }
                Ok(())
            }
            ExprKind::Print(items) => {
                f.write_str("print ")?;
                comma_list(f, items)
            }
            ExprKind::Range {
                column,
                from,
                to,
                step,
            } => {
                write!(f, "range {column} from ")?;
                operand(f, from, 1)?;
                f.write_str(" to ")?;
                operand(f, to, 1)?;
                f.write_str(" step ")?;
                operand(f, step, 1)
            }
            ExprKind::Union(u) => write!(f, "{u}"),
        }
    }
}

impl Display for UnionSpec {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("union")?;
        params(f, &self.params)?;
        for (i, t) in self.tables.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            table_operand(f, t)?;
        }
        Ok(())
    }
}

impl Display for NamedExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.names.len() {
            0 => {}
            1 => write!(f, "{} = ", self.names[0])?,
            _ => {
                f.write_char('(')?;
                comma_list(f, &self.names)?;
                f.write_str(") = ")?;
            }
        }
        // A bare pipeline in a list would swallow the following items.
        if expr_prec(&self.expr) == 0 {
            write!(f, "({})", self.expr)
        } else {
            write!(f, "{}", self.expr)
        }
    }
}

impl Display for SortKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        operand(f, &self.expr, 1)?;
        match self.asc {
            Some(true) => f.write_str(" asc")?,
            Some(false) => f.write_str(" desc")?,
            None => {}
        }
        match self.nulls_first {
            Some(true) => f.write_str(" nulls first"),
            Some(false) => f.write_str(" nulls last"),
            None => Ok(()),
        }
    }
}

impl Display for MvItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.item)?;
        if let Some(t) = &self.to {
            write!(f, " to typeof({t})")?;
        }
        Ok(())
    }
}

fn names(f: &mut Formatter<'_>, items: &[Ident]) -> fmt::Result {
    for (i, n) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_pattern(f, n)?;
    }
    Ok(())
}

impl Display for Operator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operator::Where(e) => write!(f, "where {e}"),
            Operator::Extend(items) => {
                f.write_str("extend ")?;
                comma_list(f, items)
            }
            Operator::Project(items) => {
                f.write_str("project ")?;
                comma_list(f, items)
            }
            Operator::ProjectAway(items) => {
                f.write_str("project-away ")?;
                names(f, items)
            }
            Operator::ProjectKeep(items) => {
                f.write_str("project-keep ")?;
                names(f, items)
            }
            Operator::ProjectReorder(items) => {
                f.write_str("project-reorder ")?;
                names(f, items)
            }
            Operator::ProjectRename(pairs) => {
                f.write_str("project-rename ")?;
                for (i, (to, from)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{to} = {from}")?;
                }
                Ok(())
            }
            Operator::Summarize {
                params: ps,
                aggs,
                by,
            } => {
                f.write_str("summarize")?;
                params(f, ps)?;
                if !aggs.is_empty() {
                    f.write_char(' ')?;
                    comma_list(f, aggs)?;
                }
                if !by.is_empty() {
                    f.write_str(" by ")?;
                    comma_list(f, by)?;
                }
                Ok(())
            }
            Operator::Take { n, limit_keyword } => {
                write!(f, "{} {n}", if *limit_keyword { "limit" } else { "take" })
            }
            Operator::Top { n, by } => write!(f, "top {n} by {by}"),
            Operator::Sort {
                keys,
                order_keyword,
            } => {
                f.write_str(if *order_keyword {
                    "order by "
                } else {
                    "sort by "
                })?;
                comma_list(f, keys)
            }
            Operator::Distinct(items) => {
                f.write_str("distinct ")?;
                comma_list(f, items)
            }
            Operator::Count => f.write_str("count"),
            Operator::Join {
                params: ps,
                right,
                on,
            } => {
                f.write_str("join")?;
                params(f, ps)?;
                f.write_char(' ')?;
                table_operand(f, right)?;
                f.write_str(" on ")?;
                arg_list(f, on)
            }
            Operator::Lookup {
                params: ps,
                right,
                on,
            } => {
                f.write_str("lookup")?;
                params(f, ps)?;
                f.write_char(' ')?;
                table_operand(f, right)?;
                f.write_str(" on ")?;
                arg_list(f, on)
            }
            Operator::Union(u) => write!(f, "{u}"),
            Operator::MvExpand {
                params: ps,
                items,
                limit,
            } => {
                f.write_str("mv-expand")?;
                params(f, ps)?;
                f.write_char(' ')?;
                comma_list(f, items)?;
                if let Some(l) = limit {
                    write!(f, " limit {l}")?;
                }
                Ok(())
            }
            Operator::MvApply {
                params: ps,
                items,
                body,
            } => {
                f.write_str("mv-apply")?;
                params(f, ps)?;
                f.write_char(' ')?;
                comma_list(f, items)?;
                f.write_str(" on (")?;
                for (i, op) in body.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{op}")?;
                }
                f.write_char(')')
            }
            Operator::Parse {
                where_only,
                params: ps,
                source,
                parts,
            } => {
                f.write_str(if *where_only { "parse-where" } else { "parse" })?;
                params(f, ps)?;
                f.write_char(' ')?;
                operand(f, source, 4)?;
                f.write_str(" with")?;
                for p in parts {
                    match p {
                        ParsePart::Star => f.write_str(" *")?,
                        ParsePart::Text(s) => {
                            f.write_char(' ')?;
                            write_str_lit(f, s)?;
                        }
                        ParsePart::Column { name, ty } => {
                            write!(f, " {name}")?;
                            if let Some(t) = ty {
                                write!(f, ": {t}")?;
                            }
                        }
                    }
                }
                Ok(())
            }
            Operator::MakeSeries {
                params: ps,
                aggs,
                on,
                from,
                to,
                step,
                by,
            } => {
                f.write_str("make-series")?;
                params(f, ps)?;
                for (i, a) in aggs.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    write!(f, "{}", a.agg)?;
                    if let Some(d) = &a.default {
                        write!(f, " default = {d}")?;
                    }
                }
                f.write_str(" on ")?;
                operand(f, on, 1)?;
                if let Some(x) = from {
                    f.write_str(" from ")?;
                    operand(f, x, 1)?;
                }
                if let Some(x) = to {
                    f.write_str(" to ")?;
                    operand(f, x, 1)?;
                }
                f.write_str(" step ")?;
                operand(f, step, 1)?;
                if !by.is_empty() {
                    f.write_str(" by ")?;
                    comma_list(f, by)?;
                }
                Ok(())
            }
            Operator::As(name) => write!(f, "as {name}"),
            Operator::Serialize(items) => {
                f.write_str("serialize")?;
                if !items.is_empty() {
                    f.write_char(' ')?;
                    comma_list(f, items)?;
                }
                Ok(())
            }
            Operator::Evaluate(e) => write!(f, "evaluate {e}"),
            Operator::Invoke(e) => write!(f, "invoke {e}"),
            Operator::Sample(e) => write!(f, "sample {e}"),
            Operator::Getschema => f.write_str("getschema"),
            Operator::Render(raw) => {
                if raw.is_empty() {
                    f.write_str("render")
                } else {
                    write!(f, "render {raw}")
                }
            }
        }
    }
}

impl Display for Param {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.name)?;
        match &self.ty {
            ParamType::Scalar(t) => f.write_str(t)?,
            ParamType::Tabular(None) => f.write_str("(*)")?,
            ParamType::Tabular(Some(cols)) => {
                f.write_char('(')?;
                columns(f, cols)?;
                f.write_char(')')?;
            }
        }
        if let Some(d) = &self.default {
            write!(f, " = {d}")?;
        }
        Ok(())
    }
}

fn statements(f: &mut Formatter<'_>, stmts: &[Statement]) -> fmt::Result {
    for (i, s) in stmts.iter().enumerate() {
        if i > 0 {
            f.write_str(";\n")?;
        }
        write!(f, "{s}")?;
    }
    Ok(())
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Let { name, value } => match value {
                LetValue::Expr(e) => write!(f, "let {name} = {e}"),
                LetValue::Function { params: ps, body } => {
                    write!(f, "let {name} = (")?;
                    comma_list(f, ps)?;
                    f.write_str(") { ")?;
                    statements(f, body)?;
                    f.write_str(" }")
                }
            },
            Statement::Expr(e) => write!(f, "{e}"),
            Statement::Set { name, value } => {
                write!(f, "set {}", name.name)?;
                if let Some(v) = value {
                    write!(f, " = {v}")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        statements(f, &self.statements)
    }
}
