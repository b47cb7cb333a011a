//! Recursive-descent parser for the Kusto subset Sentinel and Defender rules use.
//!
//! Expression precedence, loosest first: `|` (pipe), `or`, `and`, comparisons and string
//! operators (`==`, `=~`, `has`, `in`, `between`, …), `+ -`, `* / %`, unary `-`, postfix
//! (`.name`, `[index]`). Operator parameters (`kind=inner`, `hint.strategy=…`) are single
//! tokens, so `kind=inner (T)` reads as a parameter and a parenthesised table.

use vigil_plan::Span;

use crate::ast::*;
use crate::lex::{LexError, Tok, Token, lex};

/// Deepest nesting the parser accepts, so hostile input fails cleanly instead of overflowing
/// the stack.
pub const MAX_DEPTH: usize = 64;

/// A syntax error at a span of the query text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

impl ParseError {
    /// 1-based line and column of the error's start in `src`.
    pub fn line_col(&self, src: &str) -> (usize, usize) {
        line_col(src, self.span.start as usize)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl From<LexError> for ParseError {
    fn from(e: LexError) -> ParseError {
        ParseError {
            message: e.message,
            span: e.span,
        }
    }
}

type PResult<T> = Result<T, ParseError>;

/// Parses a whole query.
pub fn parse(src: &str) -> Result<Query, ParseError> {
    let (toks, errors) = lex(src);
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
    };
    let statements = p.statements(&Tok::Eof)?;
    if statements.is_empty() {
        return Err(ParseError {
            message: "empty query".into(),
            span: Span::new(0, src.len()),
        });
    }
    Ok(Query { statements })
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

const LIST_OPS: &[(&str, ListOp)] = &[("has_any", ListOp::HasAny), ("has_all", ListOp::HasAll)];

fn str_op(word: &str) -> Option<StrOp> {
    let (base, cs) = match word.strip_suffix("_cs") {
        Some(b) => (b, true),
        None => (word, false),
    };
    let kind = match base {
        "has" => StrOpKind::Has,
        "hasprefix" => StrOpKind::HasPrefix,
        "hassuffix" => StrOpKind::HasSuffix,
        "contains" => StrOpKind::Contains,
        "startswith" => StrOpKind::StartsWith,
        "endswith" => StrOpKind::EndsWith,
        "notcontains" => {
            return Some(StrOp {
                kind: StrOpKind::Contains,
                negated: true,
                case_sensitive: false,
            });
        }
        "notcontainscs" => {
            return Some(StrOp {
                kind: StrOpKind::Contains,
                negated: true,
                case_sensitive: true,
            });
        }
        "containscs" => {
            return Some(StrOp {
                kind: StrOpKind::Contains,
                negated: false,
                case_sensitive: true,
            });
        }
        _ => return None,
    };
    Some(StrOp {
        kind,
        negated: false,
        case_sensitive: cs,
    })
}

impl Parser<'_> {
    // --- token helpers ---------------------------------------------------------------------

    fn tok(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }

    fn tok_at(&self, k: usize) -> &Tok {
        &self.toks[(self.pos + k).min(self.toks.len() - 1)].tok
    }

    fn span(&self) -> Span {
        self.toks[self.pos.min(self.toks.len() - 1)].span
    }

    fn prev_end(&self) -> u32 {
        if self.pos == 0 {
            0
        } else {
            self.toks[self.pos - 1].span.end
        }
    }

    fn since(&self, start: Span) -> Span {
        Span {
            start: start.start,
            end: self.prev_end().max(start.start),
        }
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos.min(self.toks.len() - 1)].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.tok() == t {
            self.bump();
            true
        } else {
            false
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.tok(), Tok::Ident(s) if s == w)
    }

    fn is_word_at(&self, k: usize, w: &str) -> bool {
        matches!(self.tok_at(k), Tok::Ident(s) if s == w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn err<T>(&self, message: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            message: message.into(),
            span: self.span(),
        })
    }

    fn describe(&self) -> String {
        match self.tok() {
            Tok::Eof => "end of query".into(),
            _ => {
                let s = self.span();
                format!("`{}`", &self.src[s.range()])
            }
        }
    }

    fn expect(&mut self, t: &Tok, what: &str) -> PResult<Token> {
        if self.tok() == t {
            Ok(self.bump())
        } else {
            self.err(format!("expected {what}, found {}", self.describe()))
        }
    }

    fn expect_word(&mut self, w: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            self.err(format!("expected `{w}`, found {}", self.describe()))
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(format!("query nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A name: a bare identifier or a bracketed `['name']`.
    fn ident(&mut self) -> PResult<Ident> {
        let start = self.span();
        match self.tok().clone() {
            Tok::Ident(name) => {
                self.bump();
                Ok(Ident {
                    name,
                    span: AstSpan(start),
                })
            }
            Tok::LBracket => {
                if let Tok::Str(name) = self.tok_at(1).clone()
                    && *self.tok_at(2) == Tok::RBracket
                {
                    self.pos += 3;
                    return Ok(Ident {
                        name,
                        span: AstSpan(self.since(start)),
                    });
                }
                self.err(format!("expected a name, found {}", self.describe()))
            }
            _ => self.err(format!("expected a name, found {}", self.describe())),
        }
    }

    /// True when the next tokens are a name (bare or bracketed) followed by `=`.
    fn at_name_assign(&self) -> bool {
        match self.tok() {
            Tok::Ident(_) => *self.tok_at(1) == Tok::Assign,
            Tok::LBracket => {
                matches!(self.tok_at(1), Tok::Str(_))
                    && *self.tok_at(2) == Tok::RBracket
                    && *self.tok_at(3) == Tok::Assign
            }
            _ => false,
        }
    }

    // --- statements ------------------------------------------------------------------------

    fn statements(&mut self, end: &Tok) -> PResult<Vec<Statement>> {
        let mut out = Vec::new();
        loop {
            while self.eat(&Tok::Semi) {}
            if self.tok() == end || *self.tok() == Tok::Eof {
                break;
            }
            out.push(self.statement()?);
            if self.tok() == end || *self.tok() == Tok::Eof {
                break;
            }
            if !self.eat(&Tok::Semi) {
                return self.err(format!("expected `;` or `|`, found {}", self.describe()));
            }
        }
        Ok(out)
    }

    fn statement(&mut self) -> PResult<Statement> {
        if self.is_word("let") && !matches!(self.tok_at(1), Tok::Pipe | Tok::Assign) {
            self.bump();
            let name = self.ident()?;
            self.expect(&Tok::Assign, "`=`")?;
            let value = if self.at_function() {
                self.function()?
            } else {
                LetValue::Expr(self.expr()?)
            };
            return Ok(Statement::Let { name, value });
        }
        if self.is_word("set") && matches!(self.tok_at(1), Tok::Ident(_)) {
            self.bump();
            // Option names may be dotted (`set query_now = …`).
            let start = self.span();
            let mut name = self.ident()?.name;
            while self.eat(&Tok::Dot) {
                name.push('.');
                name.push_str(&self.ident()?.name);
            }
            let name = Ident {
                name,
                span: AstSpan(self.since(start)),
            };
            let value = if self.eat(&Tok::Assign) {
                Some(self.or_expr()?)
            } else {
                None
            };
            return Ok(Statement::Set { name, value });
        }
        Ok(Statement::Expr(self.expr()?))
    }

    fn at_function(&self) -> bool {
        if *self.tok() != Tok::LParen {
            return false;
        }
        match self.tok_at(1) {
            Tok::RParen => *self.tok_at(2) == Tok::LBrace,
            Tok::Ident(_) => *self.tok_at(2) == Tok::Colon,
            Tok::LBracket => *self.tok_at(4) == Tok::Colon,
            _ => false,
        }
    }

    fn function(&mut self) -> PResult<LetValue> {
        self.expect(&Tok::LParen, "`(`")?;
        let mut params = Vec::new();
        while *self.tok() != Tok::RParen {
            let name = self.ident()?;
            self.expect(&Tok::Colon, "`:`")?;
            let ty = if self.eat(&Tok::LParen) {
                if self.eat(&Tok::Star) {
                    self.expect(&Tok::RParen, "`)`")?;
                    ParamType::Tabular(None)
                } else {
                    let cols = self.column_decls(&Tok::RParen)?;
                    self.expect(&Tok::RParen, "`)`")?;
                    ParamType::Tabular(Some(cols))
                }
            } else {
                ParamType::Scalar(self.type_name()?)
            };
            let default = if self.eat(&Tok::Assign) {
                Some(self.or_expr()?)
            } else {
                None
            };
            params.push(Param { name, ty, default });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen, "`)`")?;
        self.expect(&Tok::LBrace, "`{`")?;
        self.enter()?;
        let body = self.statements(&Tok::RBrace)?;
        self.leave();
        self.expect(&Tok::RBrace, "`}`")?;
        Ok(LetValue::Function { params, body })
    }

    /// A scalar type name (`string`, `datetime`, `dynamic`, …).
    fn type_name(&mut self) -> PResult<String> {
        match self.tok().clone() {
            Tok::Ident(t) => {
                self.bump();
                Ok(t)
            }
            _ => self.err(format!("expected a type name, found {}", self.describe())),
        }
    }

    fn column_decls(&mut self, end: &Tok) -> PResult<Vec<ColumnDecl>> {
        let mut cols = Vec::new();
        while self.tok() != end {
            let name = self.ident()?;
            self.expect(&Tok::Colon, "`:`")?;
            let ty = self.type_name()?;
            cols.push(ColumnDecl { name, ty });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(cols)
    }

    // --- expressions -----------------------------------------------------------------------

    /// A full expression, pipes included.
    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let start = self.span();
        let mut e = self.or_expr()?;
        while self.eat(&Tok::Pipe) {
            let op = self.operator()?;
            e = Expr::new(
                ExprKind::Pipe {
                    input: Box::new(e),
                    op: Box::new(op),
                },
                self.since(start),
            );
        }
        self.leave();
        Ok(e)
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut e = self.and_expr()?;
        while self.eat_word("or") {
            let r = self.and_expr()?;
            e = bin(BinOp::Or, e, r, self.since(start));
        }
        Ok(e)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut e = self.cmp_expr()?;
        while self.eat_word("and") {
            let r = self.cmp_expr()?;
            e = bin(BinOp::And, e, r, self.since(start));
        }
        Ok(e)
    }

    fn cmp_expr(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut e = self.add_expr()?;
        loop {
            let simple = match self.tok() {
                Tok::EqEq => Some(BinOp::Eq),
                Tok::NotEq => Some(BinOp::NotEq),
                Tok::Lt => Some(BinOp::Lt),
                Tok::LtEq => Some(BinOp::LtEq),
                Tok::Gt => Some(BinOp::Gt),
                Tok::GtEq => Some(BinOp::GtEq),
                Tok::EqTilde => Some(BinOp::EqCi),
                Tok::NotTilde => Some(BinOp::NotEqCi),
                _ => None,
            };
            if let Some(op) = simple {
                self.bump();
                let r = self.add_expr()?;
                e = bin(op, e, r, self.since(start));
                continue;
            }
            let negated = *self.tok() == Tok::Bang;
            let word = match self.tok_at(usize::from(negated)) {
                Tok::Ident(w) => w.clone(),
                _ => break,
            };
            if let Some(mut op) = str_op(&word) {
                if negated && op.negated {
                    break;
                }
                self.pos += 1 + usize::from(negated);
                op.negated |= negated;
                let r = self.add_expr()?;
                e = bin(BinOp::Str(op), e, r, self.since(start));
                continue;
            }
            if !negated && word == "matches" && self.is_word_at(1, "regex") {
                self.pos += 2;
                let r = self.add_expr()?;
                e = bin(BinOp::MatchesRegex, e, r, self.since(start));
                continue;
            }
            if word == "in" {
                self.pos += 1 + usize::from(negated);
                let ci = self.eat(&Tok::Tilde);
                let op = match (negated, ci) {
                    (false, false) => ListOp::In,
                    (true, false) => ListOp::NotIn,
                    (false, true) => ListOp::InCi,
                    (true, true) => ListOp::NotInCi,
                };
                let list = self.paren_list()?;
                e = Expr::new(
                    ExprKind::InList {
                        op,
                        expr: Box::new(e),
                        list,
                    },
                    self.since(start),
                );
                continue;
            }
            if !negated && let Some(&(_, op)) = LIST_OPS.iter().find(|(w, _)| *w == word) {
                self.pos += 1;
                let list = self.paren_list()?;
                e = Expr::new(
                    ExprKind::InList {
                        op,
                        expr: Box::new(e),
                        list,
                    },
                    self.since(start),
                );
                continue;
            }
            if word == "between" {
                self.pos += 1 + usize::from(negated);
                self.expect(&Tok::LParen, "`(` after between")?;
                let low = self.add_expr()?;
                self.expect(&Tok::DotDot, "`..`")?;
                let high = self.add_expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                e = Expr::new(
                    ExprKind::Between {
                        negated,
                        expr: Box::new(e),
                        low: Box::new(low),
                        high: Box::new(high),
                    },
                    self.since(start),
                );
                continue;
            }
            break;
        }
        Ok(e)
    }

    /// `( item, … )`: the list of `in` and `has_any`.
    fn paren_list(&mut self) -> PResult<Vec<Expr>> {
        self.expect(&Tok::LParen, "`(`")?;
        let mut items = Vec::new();
        while *self.tok() != Tok::RParen {
            items.push(self.expr()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen, "`)`")?;
        Ok(items)
    }

    fn add_expr(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut e = self.mul_expr()?;
        loop {
            let op = match self.tok() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => break,
            };
            self.bump();
            let r = self.mul_expr()?;
            e = bin(op, e, r, self.since(start));
        }
        Ok(e)
    }

    fn mul_expr(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut e = self.unary()?;
        loop {
            let op = match self.tok() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => break,
            };
            self.bump();
            let r = self.unary()?;
            e = bin(op, e, r, self.since(start));
        }
        Ok(e)
    }

    fn unary(&mut self) -> PResult<Expr> {
        let start = self.span();
        if self.eat(&Tok::Minus) {
            self.enter()?;
            let inner = self.unary()?;
            self.leave();
            // Fold negative numeric literals, as the engine does.
            let kind = match inner.kind {
                ExprKind::Lit(Lit::Int(i)) => ExprKind::Lit(Lit::Int(i.wrapping_neg())),
                ExprKind::Lit(Lit::Real(v)) => ExprKind::Lit(Lit::Real(-v)),
                ExprKind::Lit(Lit::Timespan(n)) => ExprKind::Lit(Lit::Timespan(-n)),
                k => ExprKind::Neg(Box::new(Expr {
                    kind: k,
                    span: inner.span,
                })),
            };
            return Ok(Expr::new(kind, self.since(start)));
        }
        if self.eat(&Tok::Plus) {
            return self.unary();
        }
        self.postfix()
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut e = self.primary()?;
        loop {
            match self.tok() {
                Tok::Dot => {
                    self.bump();
                    if *self.tok() == Tok::LBracket {
                        self.bump();
                        let index = self.expr()?;
                        self.expect(&Tok::RBracket, "`]`")?;
                        e = match index.kind {
                            ExprKind::Lit(Lit::Str(name)) => Expr::new(
                                ExprKind::Member {
                                    expr: Box::new(e),
                                    name: Ident {
                                        name,
                                        span: index.span,
                                    },
                                },
                                self.since(start),
                            ),
                            k => Expr::new(
                                ExprKind::Index {
                                    expr: Box::new(e),
                                    index: Box::new(Expr {
                                        kind: k,
                                        span: index.span,
                                    }),
                                },
                                self.since(start),
                            ),
                        };
                    } else {
                        let name = self.member_name()?;
                        e = Expr::new(
                            ExprKind::Member {
                                expr: Box::new(e),
                                name,
                            },
                            self.since(start),
                        );
                    }
                }
                Tok::LBracket => {
                    self.bump();
                    let index = self.expr()?;
                    self.expect(&Tok::RBracket, "`]`")?;
                    e = Expr::new(
                        ExprKind::Index {
                            expr: Box::new(e),
                            index: Box::new(index),
                        },
                        self.since(start),
                    );
                }
                _ => break,
            }
        }
        Ok(e)
    }

    /// A property name after `.`: any identifier, keywords and raw-literal words included.
    fn member_name(&mut self) -> PResult<Ident> {
        let start = self.span();
        let name = match self.tok().clone() {
            Tok::Ident(n) => n,
            // `x.date(…)` never occurs; a property named like a literal keyword was lexed raw.
            _ => {
                return self.err(format!(
                    "expected a property name, found {}",
                    self.describe()
                ));
            }
        };
        self.bump();
        Ok(Ident {
            name,
            span: AstSpan(start),
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let t = self.tok().clone();
        let lit = |p: &mut Parser<'_>, l: Lit| {
            p.bump();
            Ok(Expr::new(ExprKind::Lit(l), start))
        };
        match t {
            Tok::Int(i) => lit(self, Lit::Int(i)),
            Tok::Real(v) => lit(self, Lit::Real(v)),
            Tok::Str(s) => lit(self, Lit::Str(s)),
            Tok::Timespan(n) => lit(self, Lit::Timespan(n)),
            Tok::DateTime(raw) => lit(self, Lit::DateTime(raw)),
            Tok::TimespanRaw(raw) => lit(self, Lit::TimespanRaw(raw)),
            Tok::Guid(raw) => lit(self, Lit::Guid(raw)),
            Tok::Star => {
                self.bump();
                Ok(Expr::new(ExprKind::Star, start))
            }
            Tok::LParen => {
                self.bump();
                let e = self.expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::LBracket => {
                let name = self.ident()?;
                Ok(Expr::new(ExprKind::Name(name), self.since(start)))
            }
            Tok::Dollar => {
                self.bump();
                let name = self.ident()?;
                Ok(Expr::new(
                    ExprKind::Name(Ident {
                        name: format!("${}", name.name),
                        span: AstSpan(self.since(start)),
                    }),
                    self.since(start),
                ))
            }
            Tok::Ident(word) => self.word_primary(&word, start),
            _ => self.err(format!("expected an expression, found {}", self.describe())),
        }
    }

    fn word_primary(&mut self, word: &str, start: Span) -> PResult<Expr> {
        let next_paren = *self.tok_at(1) == Tok::LParen;
        match word {
            w if w.eq_ignore_ascii_case("true") => {
                self.bump();
                return Ok(Expr::new(ExprKind::Lit(Lit::Bool(true)), start));
            }
            w if w.eq_ignore_ascii_case("false") => {
                self.bump();
                return Ok(Expr::new(ExprKind::Lit(Lit::Bool(false)), start));
            }
            "dynamic" if next_paren => {
                self.pos += 2;
                self.enter()?;
                let v = self.dyn_value()?;
                self.leave();
                self.expect(&Tok::RParen, "`)`")?;
                return Ok(Expr::new(ExprKind::Dynamic(v), self.since(start)));
            }
            "datatable" if next_paren => return self.datatable(start),
            "externaldata" if next_paren => return self.externaldata(start),
            "print" => {
                self.bump();
                let items = if matches!(self.tok(), Tok::Pipe | Tok::Semi | Tok::Eof) {
                    Vec::new()
                } else {
                    self.named_list()?
                };
                return Ok(Expr::new(ExprKind::Print(items), self.since(start)));
            }
            "range" if !next_paren => {
                self.bump();
                let column = self.ident()?;
                self.expect_word("from")?;
                let from = self.add_expr()?;
                self.expect_word("to")?;
                let to = self.add_expr()?;
                self.expect_word("step")?;
                let step = self.add_expr()?;
                return Ok(Expr::new(
                    ExprKind::Range {
                        column,
                        from: Box::new(from),
                        to: Box::new(to),
                        step: Box::new(step),
                    },
                    self.since(start),
                ));
            }
            "union" => {
                self.bump();
                let spec = self.union_spec()?;
                return Ok(Expr::new(ExprKind::Union(spec), self.since(start)));
            }
            _ => {}
        }
        let name = self.ident()?;
        if *self.tok() == Tok::LParen {
            self.bump();
            let mut args = Vec::new();
            while *self.tok() != Tok::RParen {
                args.push(self.expr()?);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen, "`)`")?;
            return Ok(Expr::new(ExprKind::Call { name, args }, self.since(start)));
        }
        Ok(Expr::new(ExprKind::Name(name), start))
    }

    fn dyn_value(&mut self) -> PResult<DynValue> {
        let t = self.tok().clone();
        let v = match t {
            Tok::LBracket => {
                self.bump();
                self.enter()?;
                let mut items = Vec::new();
                while *self.tok() != Tok::RBracket {
                    items.push(self.dyn_value()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.leave();
                self.expect(&Tok::RBracket, "`]`")?;
                return Ok(DynValue::Array(items));
            }
            Tok::LBrace => {
                self.bump();
                self.enter()?;
                let mut members = Vec::new();
                while *self.tok() != Tok::RBrace {
                    let key = match self.tok().clone() {
                        Tok::Str(s) | Tok::Ident(s) => s,
                        _ => return self.err("expected a property name in dynamic object"),
                    };
                    self.bump();
                    self.expect(&Tok::Colon, "`:`")?;
                    members.push((key, self.dyn_value()?));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.leave();
                self.expect(&Tok::RBrace, "`}`")?;
                return Ok(DynValue::Object(members));
            }
            Tok::Str(s) => DynValue::Str(s),
            Tok::Int(i) => DynValue::Int(i),
            Tok::Real(v) => DynValue::Real(v),
            Tok::Timespan(n) => DynValue::Timespan(n),
            Tok::DateTime(raw) => DynValue::DateTime(raw),
            Tok::Minus => {
                self.bump();
                return match self.dyn_value()? {
                    DynValue::Int(i) => Ok(DynValue::Int(i.wrapping_neg())),
                    DynValue::Real(v) => Ok(DynValue::Real(-v)),
                    DynValue::Timespan(n) => Ok(DynValue::Timespan(-n)),
                    _ => self.err("expected a number after `-`"),
                };
            }
            Tok::Ident(w) if w == "null" => DynValue::Null,
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") => DynValue::Bool(true),
            Tok::Ident(w) if w.eq_ignore_ascii_case("false") => DynValue::Bool(false),
            _ => {
                return self.err(format!(
                    "expected a dynamic literal value, found {}",
                    self.describe()
                ));
            }
        };
        self.bump();
        Ok(v)
    }

    fn datatable(&mut self, start: Span) -> PResult<Expr> {
        self.pos += 2;
        let columns = self.column_decls(&Tok::RParen)?;
        self.expect(&Tok::RParen, "`)`")?;
        self.expect(&Tok::LBracket, "`[`")?;
        let mut values = Vec::new();
        while *self.tok() != Tok::RBracket {
            values.push(self.or_expr()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RBracket, "`]`")?;
        Ok(Expr::new(
            ExprKind::Datatable { columns, values },
            self.since(start),
        ))
    }

    fn externaldata(&mut self, start: Span) -> PResult<Expr> {
        self.pos += 2;
        let columns = self.column_decls(&Tok::RParen)?;
        self.expect(&Tok::RParen, "`)`")?;
        self.expect(&Tok::LBracket, "`[`")?;
        let mut urls = Vec::new();
        while let Tok::Str(s) = self.tok().clone() {
            self.bump();
            urls.push(s);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RBracket, "`]`")?;
        let mut props = Vec::new();
        if self.eat_word("with") {
            self.expect(&Tok::LParen, "`(`")?;
            while *self.tok() != Tok::RParen {
                let k = self.ident()?;
                self.expect(&Tok::Assign, "`=`")?;
                let v = self.param_value()?;
                props.push((k, v));
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen, "`)`")?;
        }
        Ok(Expr::new(
            ExprKind::ExternalData {
                columns,
                urls,
                props,
            },
            self.since(start),
        ))
    }

    /// `name = expr`, `(a, b) = expr` or `expr`, without pipes.
    fn named_expr(&mut self) -> PResult<NamedExpr> {
        if self.at_name_assign() {
            let name = self.ident()?;
            self.bump();
            let expr = self.or_expr()?;
            return Ok(NamedExpr {
                names: vec![name],
                expr,
            });
        }
        if *self.tok() == Tok::LParen {
            // `(a, b, c) = f(…)`
            let mut k = 1;
            let mut ok = false;
            while let Tok::Ident(_) = self.tok_at(k) {
                k += 1;
                match self.tok_at(k) {
                    Tok::Comma => k += 1,
                    Tok::RParen => {
                        ok = *self.tok_at(k + 1) == Tok::Assign;
                        break;
                    }
                    _ => break,
                }
            }
            if ok {
                self.bump();
                let mut names = Vec::new();
                while *self.tok() != Tok::RParen {
                    names.push(self.ident()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RParen, "`)`")?;
                self.expect(&Tok::Assign, "`=`")?;
                let expr = self.or_expr()?;
                return Ok(NamedExpr { names, expr });
            }
        }
        Ok(NamedExpr {
            names: Vec::new(),
            expr: self.or_expr()?,
        })
    }

    fn named_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut items = vec![self.named_expr()?];
        while self.eat(&Tok::Comma) {
            items.push(self.named_expr()?);
        }
        Ok(items)
    }

    /// A parameter's value: one token (`inner`, `true`, `"csv"`, `10`).
    fn param_value(&mut self) -> PResult<Expr> {
        let start = self.span();
        match self.tok().clone() {
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") => {
                self.bump();
                Ok(Expr::new(ExprKind::Lit(Lit::Bool(true)), start))
            }
            Tok::Ident(w) if w.eq_ignore_ascii_case("false") => {
                self.bump();
                Ok(Expr::new(ExprKind::Lit(Lit::Bool(false)), start))
            }
            Tok::Ident(w) => {
                self.bump();
                Ok(Expr::new(
                    ExprKind::Name(Ident {
                        name: w,
                        span: AstSpan(start),
                    }),
                    start,
                ))
            }
            Tok::Str(s) => {
                self.bump();
                Ok(Expr::new(ExprKind::Lit(Lit::Str(s)), start))
            }
            Tok::Int(i) => {
                self.bump();
                Ok(Expr::new(ExprKind::Lit(Lit::Int(i)), start))
            }
            _ => self.err(format!(
                "expected a parameter value, found {}",
                self.describe()
            )),
        }
    }

    /// Operator parameters named in `allowed` (and any `hint.*`).
    fn params(&mut self, allowed: &[&str]) -> PResult<Params> {
        let mut out = Vec::new();
        while let Tok::Ident(first) = self.tok().clone() {
            let start = self.span();
            // `hint.strategy=…`: dotted name.
            let mut k = 1;
            let mut name = first.clone();
            while *self.tok_at(k) == Tok::Dot {
                match self.tok_at(k + 1) {
                    Tok::Ident(part) => {
                        name.push('.');
                        name.push_str(part);
                        k += 2;
                    }
                    _ => break,
                }
            }
            let is_param = *self.tok_at(k) == Tok::Assign
                && (allowed.contains(&name.as_str()) || name.starts_with("hint."));
            if !is_param {
                break;
            }
            self.pos += k + 1;
            let value = self.param_value()?;
            out.push((
                Ident {
                    name,
                    span: AstSpan(self.since(start)),
                },
                value,
            ));
        }
        Ok(out)
    }

    fn union_spec(&mut self) -> PResult<UnionSpec> {
        let params = self.params(&["kind", "withsource", "isfuzzy"])?;
        let mut tables = vec![self.table_ref()?];
        while self.eat(&Tok::Comma) {
            tables.push(self.table_ref()?);
        }
        Ok(UnionSpec { params, tables })
    }

    /// A table operand: `(pipeline)`, a name, or a call.
    fn table_ref(&mut self) -> PResult<Expr> {
        if *self.tok() == Tok::LParen {
            self.bump();
            let e = self.expr()?;
            self.expect(&Tok::RParen, "`)`")?;
            return Ok(e);
        }
        self.postfix()
    }

    fn sort_key(&mut self) -> PResult<SortKey> {
        let expr = self.or_expr()?;
        let asc = if self.eat_word("asc") {
            Some(true)
        } else if self.eat_word("desc") {
            Some(false)
        } else {
            None
        };
        let nulls_first = if self.eat_word("nulls") {
            if self.eat_word("first") {
                Some(true)
            } else {
                self.expect_word("last")?;
                Some(false)
            }
        } else {
            None
        };
        Ok(SortKey {
            expr,
            asc,
            nulls_first,
        })
    }

    /// Column names where `*` wildcards are allowed (`project-away a, b*`).
    fn column_patterns(&mut self) -> PResult<Vec<Ident>> {
        let mut out = Vec::new();
        loop {
            let start = self.span();
            let mut name = String::new();
            let mut end = start.start;
            loop {
                let s = self.span();
                if !name.is_empty() && s.start != end {
                    break;
                }
                match self.tok().clone() {
                    Tok::Star => name.push('*'),
                    Tok::Ident(w) => name.push_str(&w),
                    Tok::Int(i) if !name.is_empty() => name.push_str(&i.to_string()),
                    Tok::LBracket if name.is_empty() => {
                        name = self.ident()?.name;
                        break;
                    }
                    _ => break,
                }
                end = s.end;
                self.bump();
            }
            if name.is_empty() {
                return self.err(format!("expected a column name, found {}", self.describe()));
            }
            out.push(Ident {
                name,
                span: AstSpan(self.since(start)),
            });
            // `project-reorder a asc`: the order keyword is accepted and not kept.
            let _ = self.eat_word("asc") || self.eat_word("desc");
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(out)
    }

    fn mv_items(&mut self) -> PResult<Vec<MvItem>> {
        let mut items = Vec::new();
        loop {
            let item = self.named_expr()?;
            let to = if self.is_word("to") && self.is_word_at(1, "typeof") {
                self.pos += 2;
                self.expect(&Tok::LParen, "`(`")?;
                let t = self.type_name()?;
                self.expect(&Tok::RParen, "`)`")?;
                Some(t)
            } else {
                None
            };
            items.push(MvItem { item, to });
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(items)
    }

    fn join_like(&mut self) -> PResult<(Params, Expr, Vec<Expr>)> {
        let params = self.params(&["kind", "withsource"])?;
        let right = self.table_ref()?;
        self.expect_word("on")?;
        let mut on = vec![self.or_expr()?];
        while self.eat(&Tok::Comma) {
            on.push(self.or_expr()?);
        }
        Ok((params, right, on))
    }

    fn operator(&mut self) -> PResult<Operator> {
        let Tok::Ident(word) = self.tok().clone() else {
            return self.err(format!(
                "expected an operator after `|`, found {}",
                self.describe()
            ));
        };
        let op_span = self.span();
        self.bump();
        Ok(match word.as_str() {
            "where" | "filter" => Operator::Where(self.or_expr()?),
            "extend" => Operator::Extend(self.named_list()?),
            "project" => Operator::Project(self.named_list()?),
            "project-away" => Operator::ProjectAway(self.column_patterns()?),
            "project-keep" => Operator::ProjectKeep(self.column_patterns()?),
            "project-reorder" => Operator::ProjectReorder(self.column_patterns()?),
            "project-rename" => {
                let mut pairs = Vec::new();
                loop {
                    let to = self.ident()?;
                    self.expect(&Tok::Assign, "`=`")?;
                    let from = self.ident()?;
                    pairs.push((to, from));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                Operator::ProjectRename(pairs)
            }
            "summarize" => {
                let params = self.params(&[])?;
                let aggs = if self.is_word("by") {
                    Vec::new()
                } else {
                    self.named_list()?
                };
                let by = if self.eat_word("by") {
                    self.named_list()?
                } else {
                    Vec::new()
                };
                Operator::Summarize { params, aggs, by }
            }
            "take" | "limit" => Operator::Take {
                n: self.or_expr()?,
                limit_keyword: word == "limit",
            },
            "top" => {
                let n = self.add_expr()?;
                self.expect_word("by")?;
                Operator::Top {
                    n,
                    by: self.sort_key()?,
                }
            }
            "sort" | "order" => {
                self.expect_word("by")?;
                let mut keys = vec![self.sort_key()?];
                while self.eat(&Tok::Comma) {
                    keys.push(self.sort_key()?);
                }
                Operator::Sort {
                    keys,
                    order_keyword: word == "order",
                }
            }
            "distinct" => Operator::Distinct(self.named_list()?),
            "count" => Operator::Count,
            "join" => {
                let (params, right, on) = self.join_like()?;
                Operator::Join { params, right, on }
            }
            "lookup" => {
                let (params, right, on) = self.join_like()?;
                Operator::Lookup { params, right, on }
            }
            "union" => Operator::Union(self.union_spec()?),
            "mv-expand" => {
                let params = self.params(&["kind", "bagexpansion", "with_itemindex"])?;
                let items = self.mv_items()?;
                let limit = if self.eat_word("limit") {
                    Some(self.add_expr()?)
                } else {
                    None
                };
                Operator::MvExpand {
                    params,
                    items,
                    limit,
                }
            }
            "mv-apply" => {
                let params = self.params(&["kind", "bagexpansion", "with_itemindex"])?;
                let items = self.mv_items()?;
                self.expect_word("on")?;
                self.expect(&Tok::LParen, "`(`")?;
                self.enter()?;
                let mut body = vec![self.operator()?];
                while self.eat(&Tok::Pipe) {
                    body.push(self.operator()?);
                }
                self.leave();
                self.expect(&Tok::RParen, "`)`")?;
                Operator::MvApply {
                    params,
                    items,
                    body,
                }
            }
            "parse" | "parse-where" => {
                let params = self.params(&["kind", "flags"])?;
                let source = self.add_expr()?;
                self.expect_word("with")?;
                let mut parts = Vec::new();
                loop {
                    match self.tok().clone() {
                        Tok::Star => {
                            self.bump();
                            parts.push(ParsePart::Star);
                        }
                        Tok::Str(s) => {
                            self.bump();
                            parts.push(ParsePart::Text(s));
                        }
                        Tok::Ident(_) | Tok::LBracket => {
                            let name = self.ident()?;
                            let ty = if self.eat(&Tok::Colon) {
                                Some(self.type_name()?)
                            } else {
                                None
                            };
                            parts.push(ParsePart::Column { name, ty });
                        }
                        _ => break,
                    }
                }
                if parts.is_empty() {
                    return self.err("expected a parse pattern after `with`");
                }
                Operator::Parse {
                    where_only: word == "parse-where",
                    params,
                    source,
                    parts,
                }
            }
            "make-series" => {
                let params = self.params(&["kind"])?;
                let mut aggs = Vec::new();
                loop {
                    let agg = self.named_expr()?;
                    let default = if self.is_word("default") && *self.tok_at(1) == Tok::Assign {
                        self.pos += 2;
                        Some(self.add_expr()?)
                    } else {
                        None
                    };
                    aggs.push(SeriesAgg { agg, default });
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect_word("on")?;
                let on = self.add_expr()?;
                let (mut from, mut to, step);
                if self.is_word("in") && self.is_word_at(1, "range") {
                    self.pos += 2;
                    self.expect(&Tok::LParen, "`(`")?;
                    from = Some(self.add_expr()?);
                    self.expect(&Tok::Comma, "`,`")?;
                    to = Some(self.add_expr()?);
                    self.expect(&Tok::Comma, "`,`")?;
                    step = self.add_expr()?;
                    self.expect(&Tok::RParen, "`)`")?;
                } else {
                    from = None;
                    to = None;
                    if self.eat_word("from") {
                        from = Some(self.add_expr()?);
                    }
                    if self.eat_word("to") {
                        to = Some(self.add_expr()?);
                    }
                    self.expect_word("step")?;
                    step = self.add_expr()?;
                }
                let by = if self.eat_word("by") {
                    self.named_list()?
                } else {
                    Vec::new()
                };
                Operator::MakeSeries {
                    params,
                    aggs,
                    on,
                    from,
                    to,
                    step,
                    by,
                }
            }
            "as" => {
                let _ = self.params(&[])?;
                Operator::As(self.ident()?)
            }
            "serialize" => {
                if matches!(self.tok(), Tok::Pipe | Tok::Semi | Tok::Eof | Tok::RParen) {
                    Operator::Serialize(Vec::new())
                } else {
                    Operator::Serialize(self.named_list()?)
                }
            }
            "evaluate" => {
                let _ = self.params(&[])?;
                Operator::Evaluate(self.postfix()?)
            }
            "invoke" => Operator::Invoke(self.postfix()?),
            "sample" => Operator::Sample(self.add_expr()?),
            "getschema" => Operator::Getschema,
            "render" => {
                let start = self.span();
                let mut depth = 0usize;
                while !(depth == 0 && matches!(self.tok(), Tok::Pipe | Tok::Semi | Tok::RParen))
                    && *self.tok() != Tok::Eof
                {
                    match self.tok() {
                        Tok::LParen => depth += 1,
                        Tok::RParen => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    self.bump();
                }
                let end = self.prev_end().max(start.start) as usize;
                let raw = if end > start.start as usize {
                    self.src[start.start as usize..end].trim().to_string()
                } else {
                    String::new()
                };
                Operator::Render(raw)
            }
            _ => {
                return Err(ParseError {
                    message: format!("unknown tabular operator `{word}`"),
                    span: op_span,
                });
            }
        })
    }
}

fn bin(op: BinOp, left: Expr, right: Expr, span: Span) -> Expr {
    Expr::new(
        ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(src: &str) {
        let q = parse(src).unwrap_or_else(|e| panic!("{src}: {e} at {:?}", e.line_col(src)));
        let printed = q.to_string();
        let again = parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert_eq!(q, again, "{printed}");
    }

    #[test]
    fn parses_and_round_trips() {
        for q in [
            "T | where a == 1 and b has 'x' or not(c)",
            "let x = dynamic(['a', 1, {\"k\": 2.5}]); T | where y in~ (x) | project a = b, c",
            "T | summarize count(), make_set(x, 10) by bin(TimeGenerated, 1h), Caller",
            "T | join kind=inner (U | where z > 1) on $left.a == $right.b, c",
            "T | extend (a, b) = f(x) | mv-expand y to typeof(string) limit 10",
            "T | parse x with * 'a=' a: long ',' * | project-away a*, b",
            "datatable(a: string, b: long) ['x', 1, 'y', -2,]",
            "print x = 1 + 2 * 3, -y, datetime(2020-01-01)",
            "range x from 1 to 10 step 2 | top 3 by x desc nulls last",
            "union isfuzzy=true A, (B | take 1)",
            "let f = (a: string, t: (*)) { t | where c == a }; f('x', T)",
            "T | where x between (1 .. 10) and y !between (ago(1d) .. now())",
            "T | where x matches regex @'\\d+' and y !has_cs 'A' and z !in ('a')",
            "T | extend s = x.['a b'][0].c | sort by s asc, t",
            "T | mv-apply t = arr to typeof(string) on (where x contains t | extend y = 1)",
        ] {
            rt(q);
        }
    }

    #[test]
    fn reports_errors_with_positions() {
        let e = parse("T\n| where (").unwrap_err();
        assert_eq!(e.line_col("T\n| where ("), (2, 10));
        let deep = format!("print {}1{}", "(".repeat(200), ")".repeat(200));
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
    }
}
