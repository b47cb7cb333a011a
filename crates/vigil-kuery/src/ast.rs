//! The kuery syntax tree. `Display` prints a query that parses back to an equal tree; equality
//! ignores spans.

use std::fmt::{self, Display, Formatter, Write};

use vigil_plan::Span;

pub use vigil_plan::AstSpan;

/// A whole query. `None`: the empty query, which matches every document.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub root: Option<Node>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Or {
        items: Vec<Node>,
        span: AstSpan,
    },
    And {
        items: Vec<Node>,
        span: AstSpan,
    },
    Not {
        inner: Box<Node>,
        span: AstSpan,
    },
    /// `path:{ query }`: the query's fields are relative to `path`, and all of them must hold
    /// on the same element of it.
    Nested {
        path: Lit,
        query: Box<Node>,
        span: AstSpan,
    },
    /// `field < value` and friends.
    Range {
        field: Lit,
        op: RangeOp,
        value: Lit,
        span: AstSpan,
    },
    /// `field: values`.
    Field {
        field: Lit,
        values: Values,
        span: AstSpan,
    },
    /// A value without a field: free text searched in every field.
    FreeText {
        value: Lit,
        span: AstSpan,
    },
}

/// The right-hand side of `field:`: one value or a parenthesised boolean list of values.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    One(Lit),
    Or(Vec<Values>),
    And(Vec<Values>),
    Not(Box<Values>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeOp {
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A literal: a field name or a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Lit {
    pub value: LitValue,
    /// Written in double quotes (a phrase, never a wildcard).
    pub quoted: bool,
    pub span: AstSpan,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LitValue {
    Text(String),
    /// An unquoted value with at least one unescaped `*`.
    Wildcard(Vec<WildPart>),
    /// Unquoted `true` / `false`.
    Bool(bool),
    /// Unquoted `null`.
    Null,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WildPart {
    Text(String),
    Star,
}

impl Lit {
    /// The text of the literal as Kibana would hand it to Elasticsearch (wildcards as `*`).
    pub fn text(&self) -> String {
        match &self.value {
            LitValue::Text(s) => s.clone(),
            LitValue::Wildcard(parts) => parts
                .iter()
                .map(|p| match p {
                    WildPart::Text(s) => s.as_str(),
                    WildPart::Star => "*",
                })
                .collect(),
            LitValue::Bool(b) => b.to_string(),
            LitValue::Null => "null".into(),
        }
    }

    /// True for a lone unquoted `*`.
    pub fn is_star(&self) -> bool {
        matches!(&self.value, LitValue::Wildcard(p) if p.iter().all(|x| *x == WildPart::Star))
    }

    pub fn span(&self) -> Span {
        self.span.0
    }
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Or { span, .. }
            | Node::And { span, .. }
            | Node::Not { span, .. }
            | Node::Nested { span, .. }
            | Node::Range { span, .. }
            | Node::Field { span, .. }
            | Node::FreeText { span, .. } => span.0,
        }
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.root {
            Some(n) => write!(f, "{n}"),
            None => Ok(()),
        }
    }
}

impl Display for Node {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Node::Or { items, .. } => join(f, items, " or ", |n| matches!(n, Node::Or { .. })),
            Node::And { items, .. } => join(f, items, " and ", |n| {
                matches!(n, Node::Or { .. } | Node::And { .. })
            }),
            Node::Not { inner, .. } => {
                // `not` binds to a sub-query; anything with a keyword inside needs parentheses.
                if matches!(
                    **inner,
                    Node::Or { .. } | Node::And { .. } | Node::Not { .. }
                ) {
                    write!(f, "not ({inner})")
                } else {
                    write!(f, "not {inner}")
                }
            }
            Node::Nested { path, query, .. } => write!(f, "{path}:{{ {query} }}"),
            Node::Range {
                field, op, value, ..
            } => {
                let op = match op {
                    RangeOp::Lt => "<",
                    RangeOp::Lte => "<=",
                    RangeOp::Gt => ">",
                    RangeOp::Gte => ">=",
                };
                write!(f, "{field} {op} {value}")
            }
            Node::Field { field, values, .. } => write!(f, "{field}: {values}"),
            Node::FreeText { value, .. } => write!(f, "{value}"),
        }
    }
}

fn join(
    f: &mut Formatter<'_>,
    items: &[Node],
    sep: &str,
    needs_parens: impl Fn(&Node) -> bool,
) -> fmt::Result {
    for (i, n) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if needs_parens(n) {
            write!(f, "({n})")?;
        } else {
            write!(f, "{n}")?;
        }
    }
    Ok(())
}

impl Display for Values {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Values::One(l) => write!(f, "{l}"),
            _ => {
                f.write_char('(')?;
                write_values_inner(f, self)?;
                f.write_char(')')
            }
        }
    }
}

fn write_values_inner(f: &mut Formatter<'_>, v: &Values) -> fmt::Result {
    let list = |f: &mut Formatter<'_>, items: &[Values], sep: &str, nested: fn(&Values) -> bool| {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(sep)?;
            }
            if nested(item) {
                write!(f, "{item}")?;
            } else {
                write_values_inner(f, item)?;
            }
        }
        Ok(())
    };
    match v {
        Values::One(l) => write!(f, "{l}"),
        Values::Or(items) => list(f, items, " or ", |x| matches!(x, Values::Or(_))),
        Values::And(items) => list(f, items, " and ", |x| {
            matches!(x, Values::Or(_) | Values::And(_))
        }),
        Values::Not(inner) => {
            f.write_str("not ")?;
            match **inner {
                Values::One(_) => write_values_inner(f, inner),
                _ => write!(f, "{inner}"),
            }
        }
    }
}

impl Display for Lit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.quoted {
            f.write_char('"')?;
            for c in self.text().chars() {
                match c {
                    '"' | '\\' => write!(f, "\\{c}")?,
                    '\n' => f.write_str("\\n")?,
                    '\r' => f.write_str("\\r")?,
                    '\t' => f.write_str("\\t")?,
                    c => f.write_char(c)?,
                }
            }
            return f.write_char('"');
        }
        match &self.value {
            LitValue::Text(s) => write_unquoted(f, s),
            LitValue::Wildcard(parts) => {
                let mut text = String::new();
                for p in parts {
                    match p {
                        WildPart::Star => text.push('\u{0}'),
                        WildPart::Text(s) => text.push_str(s),
                    }
                }
                write_unquoted(f, &text)
            }
            LitValue::Bool(b) => write!(f, "{b}"),
            LitValue::Null => f.write_str("null"),
        }
    }
}

/// Writes an unquoted literal so that it lexes back to the same text: specials and whitespace
/// escaped, keywords that would end the literal escaped, NUL standing for a wildcard star.
fn write_unquoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_keyword = |word: &str| {
            let w: Vec<char> = word.chars().collect();
            chars.len() >= i + w.len()
                && chars[i..i + w.len()]
                    .iter()
                    .zip(&w)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        };
        // At the start of the literal the printer's previous character may be a space too.
        let prev_space = i == 0 || crate::lexer::is_space(chars[i - 1]);
        // At the end of the literal the printer's next character may be a space (`a or b`).
        let next_space = |len: usize| {
            chars
                .get(i + len)
                .is_none_or(|c| crate::lexer::is_space(*c))
        };
        // `\or`, `\and`, `\NOT` escape a keyword. A lower-case `\not` cannot: Kibana reads
        // `\n` as a newline first, so the parser never yields "not " inside unquoted text.
        if (prev_space
            && ((at_keyword("or") && next_space(2)) || (at_keyword("and") && next_space(3))))
            || (at_keyword("not") && next_space(3) && c == 'N')
        {
            f.write_char('\\')?;
        }
        match c {
            '\u{0}' => f.write_char('*')?,
            '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}' => write!(f, "\\{c}")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            // Leading and trailing spaces would be trimmed; no escape exists for them.
            c => f.write_char(c)?,
        }
        i += 1;
    }
    Ok(())
}
