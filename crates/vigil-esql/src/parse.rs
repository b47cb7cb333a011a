//! Recursive-descent parser for commands, Pratt parser for expressions, following the
//! precedence of Elasticsearch's ES|QL grammar: `OR` < `AND` < `NOT` < `IN`/`LIKE`/`RLIKE`/`IS
//! NULL` < comparisons < `+ -` < `* / %` < unary minus < `::` casts.

use vigil_plan::Span;

use crate::ast::{
    AggField, AstSpan, AstText, BinOp, Command, Expr, ExprKind, Field, Ident, IndexPattern, Name,
    Query, SortKey, SourceCommand,
};
use crate::lex::{Lexer, Tok, Token};

/// Deepest expression nesting accepted; deeper input fails cleanly instead of overflowing the
/// stack.
pub const MAX_DEPTH: usize = 100;

/// A syntax error at a span of the query text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

impl ParseError {
    pub fn new(message: impl Into<String>, span: Span) -> ParseError {
        ParseError {
            message: message.into(),
            span,
        }
    }

    /// 1-based line and column (in characters) of the error in `text`.
    pub fn line_col(&self, text: &str) -> (usize, usize) {
        line_col(text, self.span.start as usize)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Commands Vigil rejects by design, with the reason.
const REJECTED: &[(&str, &str)] = &[
    (
        "completion",
        "it sends each row to an inference endpoint (an LLM), which Vigil does not call",
    ),
    (
        "rerank",
        "it sends rows to an inference endpoint, which Vigil does not call",
    ),
    (
        "enrich",
        "it reads an Elasticsearch enrich policy, which Vigil does not have",
    ),
    (
        "lookup",
        "it joins a lookup index, which Vigil does not have",
    ),
    ("fork", "branching queries are not supported"),
    ("fuse", "branching queries are not supported"),
    ("change_point", "change-point detection is not supported"),
    ("sample", "random sampling would make alerts irreproducible"),
    ("insist", "unmapped-field access is not supported"),
    ("explain", "only queries run in Vigil"),
    ("show", "only queries run in Vigil"),
    ("metrics", "time-series sources are not supported"),
    ("ts", "time-series sources are not supported"),
];

/// Parses an ES|QL query.
pub fn parse(text: &str) -> Result<Query, ParseError> {
    let mut p = Parser {
        lex: Lexer::new(text),
        peeked: None,
        last_end: 0,
        depth: 0,
    };
    let q = p.query()?;
    Ok(q)
}

struct Parser<'a> {
    lex: Lexer<'a>,
    peeked: Option<Token>,
    last_end: usize,
    depth: usize,
}

fn kw(t: &Tok, word: &str) -> bool {
    matches!(t, Tok::Ident(s) if s.eq_ignore_ascii_case(word))
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Quoted(s) => format!("`{s}`"),
        Tok::Int(i) => format!("`{i}`"),
        Tok::Decimal(x) => format!("`{x}`"),
        Tok::Str(_) => "a string".into(),
        Tok::Eof => "the end of the query".into(),
        other => format!(
            "`{}`",
            match other {
                Tok::Pipe => "|",
                Tok::Comma => ",",
                Tok::Dot => ".",
                Tok::LParen => "(",
                Tok::RParen => ")",
                Tok::LBracket => "[",
                Tok::RBracket => "]",
                Tok::LBrace => "{",
                Tok::RBrace => "}",
                Tok::EqEq => "==",
                Tok::Neq => "!=",
                Tok::Lt => "<",
                Tok::Lte => "<=",
                Tok::Gt => ">",
                Tok::Gte => ">=",
                Tok::Assign => "=",
                Tok::Plus => "+",
                Tok::Minus => "-",
                Tok::Star => "*",
                Tok::Slash => "/",
                Tok::Percent => "%",
                Tok::DoubleColon => "::",
                Tok::Colon => ":",
                Tok::Param => "?",
                _ => "?",
            }
        ),
    }
}

/// Units of time-span literals (`1 day`, `15 minutes`).
const SPAN_UNITS: &[&str] = &[
    "millisecond",
    "milliseconds",
    "ms",
    "second",
    "seconds",
    "sec",
    "s",
    "minute",
    "minutes",
    "min",
    "m",
    "hour",
    "hours",
    "h",
    "day",
    "days",
    "d",
    "week",
    "weeks",
    "w",
    "month",
    "months",
    "mo",
    "quarter",
    "quarters",
    "q",
    "year",
    "years",
    "yr",
    "y",
];

impl Parser<'_> {
    fn peek(&mut self) -> Result<&Token, ParseError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lex.next_token()?);
        }
        match &self.peeked {
            Some(t) => Ok(t),
            None => unreachable!("just filled"),
        }
    }

    fn peek_tok(&mut self) -> Result<Tok, ParseError> {
        Ok(self.peek()?.tok.clone())
    }

    fn next(&mut self) -> Result<Token, ParseError> {
        let t = match self.peeked.take() {
            Some(t) => t,
            None => self.lex.next_token()?,
        };
        if t.tok != Tok::Eof {
            self.last_end = t.span.end as usize;
        }
        Ok(t)
    }

    /// Hands the raw text back to the lexer (for mode-dependent scanning).
    fn unpeek(&mut self) {
        if let Some(t) = self.peeked.take() {
            self.lex.pos = t.span.start as usize;
        }
    }

    fn snapshot(&mut self) -> (usize, Option<Token>, usize) {
        (self.lex.pos, self.peeked.clone(), self.last_end)
    }

    fn restore(&mut self, s: (usize, Option<Token>, usize)) {
        self.lex.pos = s.0;
        self.peeked = s.1;
        self.last_end = s.2;
    }

    fn unexpected<T>(&mut self, wanted: &str) -> Result<T, ParseError> {
        let t = self.peek()?.clone();
        Err(ParseError::new(
            format!("expected {wanted}, found {}", describe(&t.tok)),
            t.span,
        ))
    }

    fn expect(&mut self, tok: Tok, wanted: &str) -> Result<Token, ParseError> {
        if self.peek()?.tok == tok {
            self.next()
        } else {
            self.unexpected(wanted)
        }
    }

    fn eat(&mut self, tok: &Tok) -> Result<bool, ParseError> {
        if &self.peek()?.tok == tok {
            self.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn eat_kw(&mut self, word: &str) -> Result<bool, ParseError> {
        if kw(&self.peek()?.tok, word) {
            self.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn start(&mut self) -> Result<usize, ParseError> {
        Ok(self.peek()?.span.start as usize)
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.last_end.max(start))
    }

    fn query(&mut self) -> Result<Query, ParseError> {
        let source = self.source_command()?;
        let mut commands = Vec::new();
        loop {
            match self.peek_tok()? {
                Tok::Eof => break,
                Tok::Pipe => {
                    self.next()?;
                    commands.push(self.command()?);
                }
                _ => return self.unexpected("`|` or the end of the query"),
            }
        }
        Ok(Query { source, commands })
    }

    fn source_command(&mut self) -> Result<SourceCommand, ParseError> {
        let t = self.next()?;
        let start = t.span.start as usize;
        match &t.tok {
            tok if kw(tok, "from") => {
                let mut indices = Vec::new();
                loop {
                    self.unpeek();
                    let Some((text, quoted, span)) = self.lex.index_pattern()? else {
                        return self.unexpected("an index pattern");
                    };
                    self.last_end = span.end as usize;
                    indices.push(IndexPattern { text, quoted });
                    if !self.eat(&Tok::Comma)? {
                        break;
                    }
                }
                let mut metadata = Vec::new();
                if self.eat_kw("metadata")? {
                    loop {
                        metadata.push(self.ident()?);
                        if !self.eat(&Tok::Comma)? {
                            break;
                        }
                    }
                }
                Ok(SourceCommand::From {
                    indices,
                    metadata,
                    span: AstSpan(self.span_from(start)),
                })
            }
            tok if kw(tok, "row") => {
                let fields = self.fields()?;
                Ok(SourceCommand::Row {
                    fields,
                    span: AstSpan(self.span_from(start)),
                })
            }
            Tok::Ident(name) => {
                let lower = name.to_ascii_lowercase();
                if let Some((_, why)) = REJECTED.iter().find(|(n, _)| *n == lower) {
                    return Err(ParseError::new(
                        format!("`{}` is not supported: {why}", name.to_ascii_uppercase()),
                        t.span,
                    ));
                }
                Err(ParseError::new(
                    format!("expected `FROM` or `ROW`, found `{name}`"),
                    t.span,
                ))
            }
            other => Err(ParseError::new(
                format!("expected `FROM` or `ROW`, found {}", describe(other)),
                t.span,
            )),
        }
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        let t = self.next()?;
        let start = t.span.start as usize;
        let Tok::Ident(word) = &t.tok else {
            return Err(ParseError::new(
                format!("expected a command, found {}", describe(&t.tok)),
                t.span,
            ));
        };
        let lower = word.to_ascii_lowercase();
        let span = |p: &Parser<'_>| AstSpan(p.span_from(start));
        Ok(match lower.as_str() {
            "where" => {
                let cond = self.expr()?;
                Command::Where {
                    cond,
                    span: span(self),
                }
            }
            "eval" => {
                let fields = self.fields()?;
                Command::Eval {
                    fields,
                    span: span(self),
                }
            }
            "stats" | "inlinestats" => self.stats(start, lower == "inlinestats")?,
            "inline" => {
                if !self.eat_kw("stats")? {
                    return self.unexpected("`STATS` after `INLINE`");
                }
                self.stats(start, true)?
            }
            "keep" | "drop" => {
                let patterns = self.name_patterns()?;
                if lower == "keep" {
                    Command::Keep {
                        patterns,
                        span: span(self),
                    }
                } else {
                    Command::Drop {
                        patterns,
                        span: span(self),
                    }
                }
            }
            "rename" => {
                let mut pairs = Vec::new();
                loop {
                    let first = self.qualified_name()?;
                    if self.eat_kw("as")? {
                        let to = self.qualified_name()?;
                        pairs.push((first, to));
                    } else if self.eat(&Tok::Assign)? {
                        // `RENAME new = old`.
                        let from = self.qualified_name()?;
                        pairs.push((from, first));
                    } else {
                        return self.unexpected("`AS`");
                    }
                    if !self.eat(&Tok::Comma)? {
                        break;
                    }
                }
                Command::Rename {
                    pairs,
                    span: span(self),
                }
            }
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let expr = self.expr()?;
                    let (ascending, explicit_order) = if self.eat_kw("asc")? {
                        (true, true)
                    } else if self.eat_kw("desc")? {
                        (false, true)
                    } else {
                        (true, false)
                    };
                    let nulls_first = if self.eat_kw("nulls")? {
                        if self.eat_kw("first")? {
                            Some(true)
                        } else if self.eat_kw("last")? {
                            Some(false)
                        } else {
                            return self.unexpected("`FIRST` or `LAST`");
                        }
                    } else {
                        None
                    };
                    keys.push(SortKey {
                        expr,
                        ascending,
                        nulls_first,
                        explicit_order,
                    });
                    if !self.eat(&Tok::Comma)? {
                        break;
                    }
                }
                Command::Sort {
                    keys,
                    span: span(self),
                }
            }
            "limit" => {
                let t = self.next()?;
                let Tok::Int(n) = t.tok else {
                    return Err(ParseError::new(
                        format!("`LIMIT` needs a whole number, found {}", describe(&t.tok)),
                        t.span,
                    ));
                };
                if kw(&self.peek_tok()?, "by") {
                    let t = self.peek()?.span;
                    return Err(ParseError::new("`LIMIT … BY` is not supported", t));
                }
                Command::Limit {
                    n,
                    span: span(self),
                }
            }
            "dissect" => {
                let input = self.primary_with_casts()?;
                let pattern = self.string("a dissect pattern")?;
                let mut append_separator = None;
                if self.eat_kw("append_separator")? {
                    self.expect(Tok::Assign, "`=`")?;
                    append_separator = Some(self.string("a separator string")?);
                }
                Command::Dissect {
                    input,
                    pattern,
                    append_separator,
                    span: span(self),
                }
            }
            "grok" => {
                let input = self.primary_with_casts()?;
                let mut patterns = vec![self.string("a grok pattern")?];
                while self.eat(&Tok::Comma)? {
                    patterns.push(self.string("a grok pattern")?);
                }
                Command::Grok {
                    input,
                    patterns,
                    span: span(self),
                }
            }
            "mv_expand" => {
                let name = self.qualified_name()?;
                Command::MvExpand {
                    name,
                    span: span(self),
                }
            }
            _ => {
                if let Some((_, why)) = REJECTED.iter().find(|(n, _)| *n == lower) {
                    return Err(ParseError::new(
                        format!("`{}` is not supported: {why}", word.to_ascii_uppercase()),
                        t.span,
                    ));
                }
                return Err(ParseError::new(format!("unknown command `{word}`"), t.span));
            }
        })
    }

    fn stats(&mut self, start: usize, inline: bool) -> Result<Command, ParseError> {
        let mut aggs = Vec::new();
        let at_by = |t: &Tok| kw(t, "by");
        let tok = self.peek_tok()?;
        if !at_by(&tok) && !matches!(tok, Tok::Pipe | Tok::Eof) {
            loop {
                let field = self.field()?;
                let filter = if self.eat_kw("where")? {
                    Some(self.expr()?)
                } else {
                    None
                };
                aggs.push(AggField { field, filter });
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
        }
        let mut by = Vec::new();
        if self.eat_kw("by")? {
            by = self.fields()?;
        }
        if aggs.is_empty() && by.is_empty() {
            return self.unexpected("an aggregate or `BY`");
        }
        Ok(Command::Stats {
            aggs,
            by,
            inline,
            span: AstSpan(self.span_from(start)),
        })
    }

    /// A `LIKE`/`RLIKE` pattern: a string literal (constant expressions are not folded).
    fn pattern_string(&mut self) -> Result<String, ParseError> {
        let t = self.peek()?.clone();
        if !matches!(t.tok, Tok::Str(_)) {
            return Err(ParseError::new(
                "a LIKE/RLIKE pattern that is not a string literal is not supported",
                t.span,
            ));
        }
        self.string("a pattern string")
    }

    fn string(&mut self, wanted: &str) -> Result<String, ParseError> {
        let t = self.next()?;
        match t.tok {
            Tok::Str(s) => Ok(s),
            other => Err(ParseError::new(
                format!("expected {wanted}, found {}", describe(&other)),
                t.span,
            )),
        }
    }

    fn name_patterns(&mut self) -> Result<Vec<Name>, ParseError> {
        let mut out = Vec::new();
        loop {
            self.unpeek();
            let Some((parts, span)) = self.lex.name_pattern()? else {
                return self.unexpected("a column name or pattern");
            };
            self.last_end = span.end as usize;
            out.push(Name {
                parts: parts
                    .into_iter()
                    .map(|(value, quoted)| Ident { value, quoted })
                    .collect(),
                span: AstSpan(span),
            });
            if !self.eat(&Tok::Comma)? {
                break;
            }
        }
        Ok(out)
    }

    fn ident(&mut self) -> Result<Ident, ParseError> {
        let t = self.next()?;
        match t.tok {
            Tok::Ident(value) => Ok(Ident {
                value,
                quoted: false,
            }),
            Tok::Quoted(value) => Ok(Ident {
                value,
                quoted: true,
            }),
            other => Err(ParseError::new(
                format!("expected a name, found {}", describe(&other)),
                t.span,
            )),
        }
    }

    fn qualified_name(&mut self) -> Result<Name, ParseError> {
        let start = self.start()?;
        let mut parts = vec![self.ident()?];
        while self.peek()?.tok == Tok::Dot {
            self.next()?;
            parts.push(self.ident()?);
        }
        Ok(Name {
            parts,
            span: AstSpan(self.span_from(start)),
        })
    }

    fn fields(&mut self) -> Result<Vec<Field>, ParseError> {
        let mut out = vec![self.field()?];
        while self.eat(&Tok::Comma)? {
            out.push(self.field()?);
        }
        Ok(out)
    }

    /// `name = expr` or `expr`.
    fn field(&mut self) -> Result<Field, ParseError> {
        let start = self.start()?;
        if matches!(self.peek_tok()?, Tok::Ident(_) | Tok::Quoted(_)) {
            let snap = self.snapshot();
            if let Ok(name) = self.qualified_name()
                && self.peek_tok()? == Tok::Assign
            {
                self.next()?;
                let expr = self.expr()?;
                return Ok(Field {
                    name: Some(name),
                    expr,
                    text: AstText::default(),
                });
            }
            self.restore(snap);
        }
        let expr = self.expr()?;
        let text = self
            .lex
            .text
            .get(start..self.last_end.max(start))
            .unwrap_or_default()
            .to_string();
        Ok(Field {
            name: None,
            expr,
            text: AstText(text),
        })
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.expr_bp(0)
    }

    fn expr_bp(&mut self, min_bp: u8) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.peek()?.span;
            return Err(ParseError::new(
                format!("expression nested deeper than {MAX_DEPTH} levels"),
                t,
            ));
        }
        let r = self.expr_bp_inner(min_bp);
        self.depth -= 1;
        r
    }

    fn expr_bp_inner(&mut self, min_bp: u8) -> Result<Expr, ParseError> {
        let start = self.start()?;
        let tok = self.peek_tok()?;
        let mut lhs = if kw(&tok, "not") {
            self.next()?;
            let inner = self.expr_bp(3)?;
            Expr::new(ExprKind::Not(Box::new(inner)), self.span_from(start))
        } else if tok == Tok::Minus {
            self.next()?;
            let inner = self.expr_bp(8)?;
            Expr::new(ExprKind::Neg(Box::new(inner)), self.span_from(start))
        } else if tok == Tok::Plus {
            self.next()?;
            self.expr_bp(8)?
        } else {
            self.primary_with_casts()?
        };
        // A comparison built in this loop (not one in parentheses) cannot take another.
        let mut chained_cmp = false;
        loop {
            let tok = self.peek_tok()?;
            let op = match &tok {
                t if kw(t, "or") => Some((BinOp::Or, 1)),
                t if kw(t, "and") => Some((BinOp::And, 2)),
                Tok::EqEq => Some((BinOp::Eq, 5)),
                Tok::Neq => Some((BinOp::Neq, 5)),
                Tok::Lt => Some((BinOp::Lt, 5)),
                Tok::Lte => Some((BinOp::Lte, 5)),
                Tok::Gt => Some((BinOp::Gt, 5)),
                Tok::Gte => Some((BinOp::Gte, 5)),
                // `field : "query"`: the full-text match operator, as MATCH(field, query).
                Tok::Colon => {
                    if 5 < min_bp {
                        break;
                    }
                    self.next()?;
                    let rhs = self.expr_bp(6)?;
                    let span = self.span_from(start);
                    lhs = Expr::new(
                        ExprKind::Call {
                            name: "MATCH".into(),
                            args: vec![lhs, rhs],
                        },
                        span,
                    );
                    continue;
                }
                Tok::Plus => Some((BinOp::Add, 6)),
                Tok::Minus => Some((BinOp::Sub, 6)),
                Tok::Star => Some((BinOp::Mul, 7)),
                Tok::Slash => Some((BinOp::Div, 7)),
                Tok::Percent => Some((BinOp::Mod, 7)),
                _ => None,
            };
            if let Some((op, bp)) = op {
                if bp < min_bp {
                    break;
                }
                self.next()?;
                // Comparisons do not chain: `a < b < c` is an error, as in Elasticsearch.
                let rhs = self.expr_bp(bp + 1)?;
                if op.is_comparison() && chained_cmp {
                    return Err(ParseError::new(
                        "comparisons cannot be chained; combine them with AND",
                        self.span_from(start),
                    ));
                }
                chained_cmp = op.is_comparison();
                lhs = Expr::new(
                    ExprKind::Binary {
                        op,
                        left: Box::new(lhs),
                        right: Box::new(rhs),
                    },
                    self.span_from(start),
                );
                continue;
            }
            // Postfix predicates bind tighter than NOT and looser than comparisons.
            const PRED_BP: u8 = 4;
            let negated_pred = kw(&tok, "not");
            let is_pred = negated_pred
                || kw(&tok, "in")
                || kw(&tok, "like")
                || kw(&tok, "rlike")
                || kw(&tok, "is");
            if !is_pred || PRED_BP < min_bp {
                break;
            }
            let snap = self.snapshot();
            if negated_pred {
                self.next()?;
                let t = self.peek_tok()?;
                if !(kw(&t, "in") || kw(&t, "like") || kw(&t, "rlike")) {
                    self.restore(snap);
                    break;
                }
            }
            let t = self.next()?;
            if kw(&t.tok, "is") {
                let negated = self.eat_kw("not")?;
                if !self.eat_kw("null")? {
                    return self.unexpected("`NULL`");
                }
                lhs = Expr::new(
                    ExprKind::IsNull {
                        expr: Box::new(lhs),
                        negated,
                    },
                    self.span_from(start),
                );
            } else if kw(&t.tok, "in") {
                self.expect(Tok::LParen, "`(` after `IN`")?;
                let mut list = vec![self.expr()?];
                while self.eat(&Tok::Comma)? {
                    list.push(self.expr()?);
                }
                self.expect(Tok::RParen, "`)`")?;
                lhs = Expr::new(
                    ExprKind::In {
                        expr: Box::new(lhs),
                        list,
                        negated: negated_pred,
                    },
                    self.span_from(start),
                );
            } else {
                let regex = kw(&t.tok, "rlike");
                let (patterns, listed) = if self.eat(&Tok::LParen)? {
                    let mut ps = vec![self.pattern_string()?];
                    while self.eat(&Tok::Comma)? {
                        ps.push(self.pattern_string()?);
                    }
                    self.expect(Tok::RParen, "`)`")?;
                    (ps, true)
                } else {
                    (vec![self.pattern_string()?], false)
                };
                lhs = Expr::new(
                    ExprKind::Like {
                        expr: Box::new(lhs),
                        patterns,
                        listed,
                        negated: negated_pred,
                        regex,
                    },
                    self.span_from(start),
                );
            }
        }
        Ok(lhs)
    }

    fn primary_with_casts(&mut self) -> Result<Expr, ParseError> {
        let start = self.start()?;
        let mut e = self.primary()?;
        while self.eat(&Tok::DoubleColon)? {
            let t = self.next()?;
            let Tok::Ident(ty) = t.tok else {
                return Err(ParseError::new(
                    format!(
                        "expected a type name after `::`, found {}",
                        describe(&t.tok)
                    ),
                    t.span,
                ));
            };
            e = Expr::new(
                ExprKind::Cast {
                    expr: Box::new(e),
                    ty,
                },
                self.span_from(start),
            );
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let t = self.peek()?.clone();
        let start = t.span.start as usize;
        match t.tok {
            Tok::LParen => {
                self.next()?;
                let e = self.expr()?;
                self.expect(Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::Int(i) => {
                self.next()?;
                if let Tok::Ident(unit) = self.peek_tok()?
                    && SPAN_UNITS.contains(&unit.to_ascii_lowercase().as_str())
                {
                    self.next()?;
                    return Ok(Expr::new(
                        ExprKind::Span { value: i, unit },
                        self.span_from(start),
                    ));
                }
                Ok(Expr::new(ExprKind::Int(i), t.span))
            }
            Tok::Decimal(x) => {
                self.next()?;
                Ok(Expr::new(ExprKind::Decimal(x), t.span))
            }
            Tok::Str(s) => {
                self.next()?;
                Ok(Expr::new(ExprKind::Str(s), t.span))
            }
            Tok::LBracket => {
                self.next()?;
                let mut items = Vec::new();
                if !self.eat(&Tok::RBracket)? {
                    loop {
                        items.push(self.expr()?);
                        if !self.eat(&Tok::Comma)? {
                            break;
                        }
                    }
                    self.expect(Tok::RBracket, "`]`")?;
                }
                Ok(Expr::new(ExprKind::List(items), self.span_from(start)))
            }
            Tok::Param => Err(ParseError::new(
                "query parameters (`?`) are not supported",
                t.span,
            )),
            Tok::Ident(ref word) => {
                let lower = word.to_ascii_lowercase();
                match lower.as_str() {
                    "null" => {
                        self.next()?;
                        return Ok(Expr::new(ExprKind::Null, t.span));
                    }
                    "true" | "false" => {
                        self.next()?;
                        return Ok(Expr::new(ExprKind::Bool(lower == "true"), t.span));
                    }
                    "and" | "or" | "in" | "like" | "rlike" | "is" | "by" => {
                        return self.unexpected("an expression");
                    }
                    _ => {}
                }
                self.next()?;
                if self.peek()?.tok == Tok::LParen {
                    return self.call(word.clone(), start);
                }
                let mut parts = vec![Ident {
                    value: word.clone(),
                    quoted: false,
                }];
                self.name_rest(&mut parts)?;
                Ok(Expr::new(
                    ExprKind::Field(Name {
                        parts,
                        span: AstSpan(self.span_from(start)),
                    }),
                    self.span_from(start),
                ))
            }
            Tok::Quoted(ref q) => {
                self.next()?;
                let mut parts = vec![Ident {
                    value: q.clone(),
                    quoted: true,
                }];
                self.name_rest(&mut parts)?;
                Ok(Expr::new(
                    ExprKind::Field(Name {
                        parts,
                        span: AstSpan(self.span_from(start)),
                    }),
                    self.span_from(start),
                ))
            }
            _ => self.unexpected("an expression"),
        }
    }

    /// Function options: `{ "name": constant, … }`.
    fn map(&mut self) -> Result<Expr, ParseError> {
        let start = self.start()?;
        self.expect(Tok::LBrace, "`{`")?;
        let mut entries = Vec::new();
        if !self.eat(&Tok::RBrace)? {
            loop {
                let key = self.string("an option name string")?;
                self.expect(Tok::Colon, "`:`")?;
                let value = self.expr_bp(6)?;
                entries.push((key, value));
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
            self.expect(Tok::RBrace, "`}`")?;
        }
        Ok(Expr::new(ExprKind::Map(entries), self.span_from(start)))
    }

    fn name_rest(&mut self, parts: &mut Vec<Ident>) -> Result<(), ParseError> {
        while self.peek()?.tok == Tok::Dot {
            self.next()?;
            parts.push(self.ident()?);
        }
        Ok(())
    }

    fn call(&mut self, name: String, start: usize) -> Result<Expr, ParseError> {
        self.expect(Tok::LParen, "`(`")?;
        let mut args = Vec::new();
        if !self.eat(&Tok::RParen)? {
            loop {
                if self.peek()?.tok == Tok::Star {
                    let t = self.next()?;
                    args.push(Expr::new(ExprKind::Star, t.span));
                } else if self.peek()?.tok == Tok::LBrace {
                    args.push(self.map()?);
                } else {
                    args.push(self.expr()?);
                }
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
            self.expect(Tok::RParen, "`)` or `,`")?;
        }
        Ok(Expr::new(
            ExprKind::Call { name, args },
            self.span_from(start),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_printing() {
        let q = parse("ROW a = NOT x == 1 AND y IN (1, 2) OR z LIKE \"a*\"").unwrap();
        assert_eq!(
            q.to_string(),
            "ROW a = ((NOT (x == 1)) AND (y IN (1, 2))) OR (z LIKE \"a*\")"
        );
        let q = parse("from a-*, \"b\" metadata _id | where -x::long * 2 > 1 day").unwrap();
        assert_eq!(
            q.to_string(),
            "FROM a-*, \"b\" METADATA _id\n| WHERE ((-x::long) * 2) > (1 day)"
        );
    }

    #[test]
    fn errors_have_positions() {
        let text = "FROM x\n| WHERE a ==";
        let e = parse(text).unwrap_err();
        assert_eq!(e.line_col(text), (2, 13));
        let e = parse("FROM x | COMPLETION y = z WITH {}").unwrap_err();
        assert!(e.message.contains("COMPLETION"), "{e}");
    }
}
