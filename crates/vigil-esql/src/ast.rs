//! The ES|QL syntax tree. `Display` prints a query that parses back to an equal tree; equality
//! ignores spans and the source text kept for naming unnamed columns.

use std::fmt::{self, Display, Formatter, Write};

use vigil_plan::Span;

pub use vigil_plan::AstSpan;

/// Source text kept for naming (ES|QL names an unnamed `EVAL`/`STATS` column by its text);
/// never part of equality.
#[derive(Clone, Debug, Default)]
pub struct AstText(pub String);

impl PartialEq for AstText {
    fn eq(&self, _: &AstText) -> bool {
        true
    }
}

/// A whole query: a source command and the processing commands piped after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub source: SourceCommand,
    pub commands: Vec<Command>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SourceCommand {
    /// `FROM index, pattern-* METADATA _id, _index`.
    From {
        indices: Vec<IndexPattern>,
        metadata: Vec<Ident>,
        span: AstSpan,
    },
    /// `ROW a = 1, b = "x"`.
    Row { fields: Vec<Field>, span: AstSpan },
}

/// An index name or pattern as written (`logs-*`, `"quoted"`).
#[derive(Clone, Debug, PartialEq)]
pub struct IndexPattern {
    pub text: String,
    pub quoted: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Where {
        cond: Expr,
        span: AstSpan,
    },
    Eval {
        fields: Vec<Field>,
        span: AstSpan,
    },
    /// `STATS aggs BY groups`, or `INLINE STATS` (which keeps every row).
    Stats {
        aggs: Vec<AggField>,
        by: Vec<Field>,
        inline: bool,
        span: AstSpan,
    },
    Keep {
        patterns: Vec<Name>,
        span: AstSpan,
    },
    Drop {
        patterns: Vec<Name>,
        span: AstSpan,
    },
    /// `RENAME old AS new` pairs, as (old, new).
    Rename {
        pairs: Vec<(Name, Name)>,
        span: AstSpan,
    },
    Sort {
        keys: Vec<SortKey>,
        span: AstSpan,
    },
    Limit {
        n: u64,
        span: AstSpan,
    },
    Dissect {
        input: Expr,
        pattern: String,
        append_separator: Option<String>,
        span: AstSpan,
    },
    Grok {
        input: Expr,
        patterns: Vec<String>,
        span: AstSpan,
    },
    MvExpand {
        name: Name,
        span: AstSpan,
    },
}

impl Command {
    pub fn span(&self) -> Span {
        match self {
            Command::Where { span, .. }
            | Command::Eval { span, .. }
            | Command::Stats { span, .. }
            | Command::Keep { span, .. }
            | Command::Drop { span, .. }
            | Command::Rename { span, .. }
            | Command::Sort { span, .. }
            | Command::Limit { span, .. }
            | Command::Dissect { span, .. }
            | Command::Grok { span, .. }
            | Command::MvExpand { span, .. } => span.0,
        }
    }
}

/// `name = expr`, or an unnamed `expr` whose column is named by its source text.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: Option<Name>,
    pub expr: Expr,
    /// The expression's source text, for an unnamed field.
    pub text: AstText,
}

impl Field {
    /// The column this field defines.
    pub fn column_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.joined();
        }
        if let ExprKind::Field(n) = &self.expr.kind {
            return n.joined();
        }
        if self.text.0.is_empty() {
            self.expr.to_string()
        } else {
            self.text.0.clone()
        }
    }
}

/// An aggregate of `STATS`, with its optional `WHERE` filter.
#[derive(Clone, Debug, PartialEq)]
pub struct AggField {
    pub field: Field,
    pub filter: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub ascending: bool,
    /// `None`: the default (nulls last ascending, first descending).
    pub nulls_first: Option<bool>,
    /// `ASC` written explicitly (kept so printing reproduces it).
    pub explicit_order: bool,
}

/// A possibly qualified name (`source.\`as\`.number`); in `KEEP`/`DROP` unquoted parts may hold
/// `*` wildcards.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    pub parts: Vec<Ident>,
    pub span: AstSpan,
}

#[derive(Clone, Debug)]
pub struct Ident {
    pub value: String,
    /// Written in backticks.
    pub quoted: bool,
}

/// Quoting matters only where it changes the meaning: a `*` is a wildcard unquoted.
impl PartialEq for Ident {
    fn eq(&self, other: &Ident) -> bool {
        self.value == other.value && (self.quoted == other.quoted || !self.value.contains('*'))
    }
}

impl Name {
    /// The column name: parts joined with dots.
    pub fn joined(&self) -> String {
        let mut out = String::new();
        for (i, p) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(&p.value);
        }
        out
    }

    /// True when an unquoted part holds a `*`.
    pub fn is_pattern(&self) -> bool {
        self.parts
            .iter()
            .any(|p| !p.quoted && p.value.contains('*'))
    }

    pub fn span(&self) -> Span {
        self.span.0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: AstSpan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "OR",
            BinOp::And => "AND",
            BinOp::Eq => "==",
            BinOp::Neq => "!=",
            BinOp::Lt => "<",
            BinOp::Lte => "<=",
            BinOp::Gt => ">",
            BinOp::Gte => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Neq | BinOp::Lt | BinOp::Lte | BinOp::Gt | BinOp::Gte
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    /// A non-negative integer literal (a minus sign is [`ExprKind::Neg`]).
    Int(u64),
    Decimal(f64),
    Str(String),
    /// A time-span literal: `15 minutes`, `1 day`.
    Span {
        value: u64,
        unit: String,
    },
    /// A multi-value literal `[1, 2, 3]`.
    List(Vec<Expr>),
    Field(Name),
    /// `*` as the argument of `COUNT(*)`.
    Star,
    /// Function options `{ "fuzziness": 1 }`.
    Map(Vec<(String, Expr)>),
    /// A function call; the name as written.
    Call {
        name: String,
        args: Vec<Expr>,
    },
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `expr::type`.
    Cast {
        expr: Box<Expr>,
        ty: String,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `LIKE` (wildcards) or `RLIKE` (regular expression), with one pattern or a list.
    Like {
        expr: Box<Expr>,
        patterns: Vec<String>,
        /// Written as a parenthesised list.
        listed: bool,
        negated: bool,
        regex: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
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

    /// True for nodes that print without needing parentheses around them.
    fn is_atom(&self) -> bool {
        matches!(
            &self.kind,
            ExprKind::Null
                | ExprKind::Bool(_)
                | ExprKind::Int(_)
                | ExprKind::Decimal(_)
                | ExprKind::Str(_)
                | ExprKind::List(_)
                | ExprKind::Field(_)
                | ExprKind::Star
                | ExprKind::Map(_)
                | ExprKind::Call { .. }
                | ExprKind::Cast { .. }
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

/// Keywords that cannot be unquoted identifiers.
const RESERVED: &[&str] = &[
    "and", "or", "not", "is", "null", "in", "like", "rlike", "true", "false", "asc", "desc",
    "nulls", "first", "last", "by", "as", "metadata", "where", "on", "with",
];

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let plain = !self.value.is_empty()
            && crate::lex::is_plain_identifier(&self.value)
            && !RESERVED.contains(&self.value.to_ascii_lowercase().as_str());
        if self.quoted || !plain {
            f.write_char('`')?;
            for c in self.value.chars() {
                if c == '`' {
                    f.write_str("``")?;
                } else {
                    f.write_char(c)?;
                }
            }
            f.write_char('`')
        } else {
            f.write_str(&self.value)
        }
    }
}

impl Display for Name {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, p) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            // Wildcard patterns print raw: their `*` must stay unquoted.
            if !p.quoted && p.value.contains('*') {
                f.write_str(&p.value)?;
            } else {
                write!(f, "{p}")?;
            }
        }
        Ok(())
    }
}

pub(crate) fn write_string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn write_list(f: &mut Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

/// Writes an operand, parenthesised unless it is atomic.
fn operand(f: &mut Formatter<'_>, e: &Expr) -> fmt::Result {
    if e.is_atom() {
        write!(f, "{e}")
    } else {
        write!(f, "({e})")
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Null => f.write_str("null"),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Int(i) => write!(f, "{i}"),
            ExprKind::Decimal(x) => {
                let s = format!("{x:?}");
                // Always print a decimal point or exponent so it lexes back as a decimal.
                if s.contains(['.', 'e', 'E']) {
                    f.write_str(&s)
                } else {
                    write!(f, "{s}.0")
                }
            }
            ExprKind::Str(s) => write_string(f, s),
            ExprKind::Span { value, unit } => write!(f, "{value} {unit}"),
            ExprKind::List(items) => {
                f.write_char('[')?;
                write_list(f, items)?;
                f.write_char(']')
            }
            ExprKind::Field(n) => write!(f, "{n}"),
            ExprKind::Star => f.write_char('*'),
            ExprKind::Map(entries) => {
                f.write_char('{')?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_string(f, k)?;
                    write!(f, ": {v}")?;
                }
                f.write_char('}')
            }
            ExprKind::Call { name, args } => {
                write!(f, "{name}(")?;
                write_list(f, args)?;
                f.write_char(')')
            }
            ExprKind::Neg(e) => {
                f.write_char('-')?;
                operand(f, e)
            }
            ExprKind::Not(e) => {
                f.write_str("NOT ")?;
                operand(f, e)
            }
            ExprKind::Binary { op, left, right } => {
                operand(f, left)?;
                write!(f, " {} ", op.symbol())?;
                operand(f, right)
            }
            ExprKind::Cast { expr, ty } => {
                operand(f, expr)?;
                write!(f, "::{ty}")
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => {
                operand(f, expr)?;
                f.write_str(if *negated { " NOT IN (" } else { " IN (" })?;
                write_list(f, list)?;
                f.write_char(')')
            }
            ExprKind::Like {
                expr,
                patterns,
                listed,
                negated,
                regex,
            } => {
                operand(f, expr)?;
                if *negated {
                    f.write_str(" NOT")?;
                }
                f.write_str(if *regex { " RLIKE " } else { " LIKE " })?;
                if *listed {
                    f.write_char('(')?;
                    for (i, p) in patterns.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write_string(f, p)?;
                    }
                    f.write_char(')')
                } else {
                    write_string(f, patterns.first().map_or("", String::as_str))
                }
            }
            ExprKind::IsNull { expr, negated } => {
                operand(f, expr)?;
                f.write_str(if *negated { " IS NOT NULL" } else { " IS NULL" })
            }
        }
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{n} = {}", self.expr),
            // The original text keeps the column's name; it parses back to the same expression.
            None if !self.text.0.is_empty() => f.write_str(&self.text.0),
            None => write!(f, "{}", self.expr),
        }
    }
}

fn write_fields(f: &mut Formatter<'_>, fields: &[Field]) -> fmt::Result {
    for (i, x) in fields.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

fn write_names(f: &mut Formatter<'_>, names: &[Name]) -> fmt::Result {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{n}")?;
    }
    Ok(())
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.source {
            SourceCommand::From {
                indices, metadata, ..
            } => {
                f.write_str("FROM ")?;
                for (i, p) in indices.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if p.quoted {
                        write_string(f, &p.text)?;
                    } else {
                        f.write_str(&p.text)?;
                    }
                }
                if !metadata.is_empty() {
                    f.write_str(" METADATA ")?;
                    for (i, m) in metadata.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{m}")?;
                    }
                }
            }
            SourceCommand::Row { fields, .. } => {
                f.write_str("ROW ")?;
                write_fields(f, fields)?;
            }
        }
        for c in &self.commands {
            write!(f, "\n| {c}")?;
        }
        Ok(())
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Command::Where { cond, .. } => write!(f, "WHERE {cond}"),
            Command::Eval { fields, .. } => {
                f.write_str("EVAL ")?;
                write_fields(f, fields)
            }
            Command::Stats {
                aggs, by, inline, ..
            } => {
                f.write_str(if *inline { "INLINE STATS" } else { "STATS" })?;
                for (i, a) in aggs.iter().enumerate() {
                    f.write_str(if i > 0 { ", " } else { " " })?;
                    write!(f, "{}", a.field)?;
                    if let Some(w) = &a.filter {
                        write!(f, " WHERE {w}")?;
                    }
                }
                if !by.is_empty() {
                    f.write_str(" BY ")?;
                    write_fields(f, by)?;
                }
                Ok(())
            }
            Command::Keep { patterns, .. } => {
                f.write_str("KEEP ")?;
                write_names(f, patterns)
            }
            Command::Drop { patterns, .. } => {
                f.write_str("DROP ")?;
                write_names(f, patterns)
            }
            Command::Rename { pairs, .. } => {
                f.write_str("RENAME ")?;
                for (i, (from, to)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{from} AS {to}")?;
                }
                Ok(())
            }
            Command::Sort { keys, .. } => {
                f.write_str("SORT ")?;
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", k.expr)?;
                    if !k.ascending {
                        f.write_str(" DESC")?;
                    } else if k.explicit_order {
                        f.write_str(" ASC")?;
                    }
                    match k.nulls_first {
                        Some(true) => f.write_str(" NULLS FIRST")?,
                        Some(false) => f.write_str(" NULLS LAST")?,
                        None => {}
                    }
                }
                Ok(())
            }
            Command::Limit { n, .. } => write!(f, "LIMIT {n}"),
            Command::Dissect {
                input,
                pattern,
                append_separator,
                ..
            } => {
                f.write_str("DISSECT ")?;
                operand(f, input)?;
                f.write_char(' ')?;
                write_string(f, pattern)?;
                if let Some(s) = append_separator {
                    f.write_str(" APPEND_SEPARATOR=")?;
                    write_string(f, s)?;
                }
                Ok(())
            }
            Command::Grok {
                input, patterns, ..
            } => {
                f.write_str("GROK ")?;
                operand(f, input)?;
                f.write_char(' ')?;
                for (i, p) in patterns.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_string(f, p)?;
                }
                Ok(())
            }
            Command::MvExpand { name, .. } => write!(f, "MV_EXPAND {name}"),
        }
    }
}
