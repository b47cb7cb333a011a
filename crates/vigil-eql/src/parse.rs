//! Recursive-descent parser for Elasticsearch's EQL grammar (`EqlBase.g4`): event queries,
//! sequences, samples, `head`/`tail` pipes. Syntax Elasticsearch rejects (joins, lineage,
//! other pipes, `=`, single quotes) is refused here with the reason.

use vigil_plan::Span;

use crate::ParseError;
use crate::ast::{
    ArithOp, AstSpan, Body, Category, CmpOp, EventQuery, Expr, FieldName, Lit, MatchOp, Part, Pipe,
    Query, SampleQuery, SequenceQuery, Step, TimeValue,
};
use crate::lex::{Tok, Token, tokenize};

/// Deepest nesting of expressions and brackets the parser accepts.
pub const MAX_DEPTH: usize = 100;

/// Parses an EQL query.
pub fn parse(text: &str) -> Result<Query, ParseError> {
    parse_all(text).map_err(|mut errors| errors.remove(0))
}

/// Parses an EQL query, reporting every lexical error and the first syntax error.
pub fn parse_all(text: &str) -> Result<Query, Vec<ParseError>> {
    let (tokens, mut errors) = tokenize(text);
    let mut p = Parser {
        text,
        tokens,
        pos: 0,
        depth: 0,
    };
    let result = p.query();
    match result {
        Ok(q) if errors.is_empty() => Ok(q),
        Ok(_) => Err(errors),
        Err(e) => {
            // A syntax error after a lexical one is usually its consequence: keep the first.
            if errors.is_empty() || e.span.start < errors[0].span.start {
                errors.insert(0, e);
            }
            Err(errors)
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

type PResult<T> = Result<T, ParseError>;

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn peek_at(&self, k: usize) -> &Tok {
        let i = (self.pos + k).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span
    }

    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.tokens[self.pos - 1].span.end as usize
        }
    }

    fn since(&self, start: Span) -> AstSpan {
        AstSpan(Span::new(start.start as usize, self.prev_end()))
    }

    fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn error<T>(&self, message: impl Into<String>, span: Span) -> PResult<T> {
        Err(ParseError::new(message, span, self.text))
    }

    fn describe(&self) -> String {
        let span = self.span();
        match self.peek() {
            Tok::Eof => "the end of the query".into(),
            _ => format!("`{}`", &self.text[span.range()]),
        }
    }

    fn expected<T>(&self, what: &str) -> PResult<T> {
        self.error(
            format!("expected {what}, found {}", self.describe()),
            self.span(),
        )
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            self.expected(&format!("`{w}`"))
        }
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok, what: &str) -> PResult<()> {
        if self.eat(t) {
            Ok(())
        } else {
            self.expected(what)
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error(
                format!("query nests deeper than {MAX_DEPTH} levels"),
                self.span(),
            );
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- queries ----

    fn query(&mut self) -> PResult<Query> {
        let body = if self.is_word("sequence") {
            Body::Sequence(self.sequence()?)
        } else if self.is_word("sample") {
            Body::Sample(self.sample()?)
        } else if self.is_word("join") {
            return self.error(
                "`join` is not supported by Elasticsearch EQL: use `sequence`",
                self.span(),
            );
        } else {
            Body::Event(self.event_query()?)
        };
        let mut pipes = Vec::new();
        while self.peek() == &Tok::Pipe {
            pipes.push(self.pipe()?);
        }
        if self.peek() != &Tok::Eof {
            return self.expected("`|` or the end of the query");
        }
        Ok(Query { body, pipes })
    }

    fn pipe(&mut self) -> PResult<Pipe> {
        let start = self.span();
        self.bump();
        let name_span = self.span();
        let Tok::Ident(name) = self.peek().clone() else {
            return self.expected("a pipe name (`head` or `tail`)");
        };
        self.bump();
        let tail = match name.as_str() {
            "head" => false,
            "tail" => true,
            _ => {
                return self.error(
                    format!(
                        "the `{name}` pipe is not supported by Elasticsearch EQL (only `head` and `tail` are)"
                    ),
                    name_span,
                );
            }
        };
        let n = match *self.peek() {
            Tok::Int(n) if n > 0 => n as u64,
            _ => return self.expected(&format!("a positive whole number after `{name}`")),
        };
        self.bump();
        let span = self.since(start);
        Ok(if tail {
            Pipe::Tail { n, span }
        } else {
            Pipe::Head { n, span }
        })
    }

    fn event_query(&mut self) -> PResult<EventQuery> {
        let start = self.span();
        let category = match self.peek().clone() {
            Tok::Ident(w) if w == "any" => Category::Any,
            Tok::Ident(w) if w == "where" => {
                return self.expected("an event category (or `any`) before `where`");
            }
            Tok::Ident(w) => Category::Name {
                name: w,
                quoted: false,
            },
            Tok::Str { value, .. } => Category::Name {
                name: value,
                quoted: true,
            },
            _ => return self.expected("an event category (or `any`)"),
        };
        self.bump();
        self.expect_word("where")?;
        let condition = self.expr()?;
        Ok(EventQuery {
            category,
            condition,
            span: self.since(start),
        })
    }

    fn join_keys(&mut self) -> PResult<Vec<Expr>> {
        let mut keys = vec![self.expr()?];
        while self.eat(&Tok::Comma) {
            keys.push(self.expr()?);
        }
        Ok(keys)
    }

    fn sequence(&mut self) -> PResult<SequenceQuery> {
        let start = self.span();
        self.bump();
        let mut by = Vec::new();
        let mut maxspan = None;
        if self.eat_word("by") {
            by = self.join_keys()?;
        }
        if self.is_word("with") {
            self.bump();
            maxspan = Some(self.maxspan()?);
            if self.is_word("by") {
                return self.error(
                    "write `sequence by …` before `with maxspan`, not after",
                    self.span(),
                );
            }
        }
        let mut steps = Vec::new();
        while matches!(self.peek(), Tok::LBracket | Tok::Bang) {
            steps.push(self.step(true)?);
        }
        let until = if self.eat_word("until") {
            let u = self.step(false)?;
            if u.missing || u.runs.is_some() {
                return self.error("`until` takes a plain `[…]` event", u.span.0);
            }
            Some(u)
        } else {
            None
        };
        let span = self.since(start);
        // `with runs=N` counts as N steps.
        let stages: u32 = steps.iter().map(|s| s.runs.unwrap_or(1)).sum();
        if stages < 2 {
            return match steps.len() {
                0 => self.expected("`[` starting a sequence step"),
                _ => self.error("a sequence needs at least two steps", span.0),
            };
        }
        if steps.iter().all(|s| s.missing) {
            return self.error(
                "a sequence needs at least one event that is not missing",
                span.0,
            );
        }
        if steps.iter().any(|s| s.missing) && maxspan.is_none() {
            return self.error(
                "a sequence with missing events (`![…]`) needs `with maxspan`",
                span.0,
            );
        }
        Ok(SequenceQuery {
            by,
            maxspan,
            steps,
            until,
            span,
        })
    }

    fn maxspan(&mut self) -> PResult<TimeValue> {
        let start = self.span();
        if !self.eat_word("maxspan") {
            return self.expected("`maxspan`");
        }
        self.expect(&Tok::Assign, "`=` after `maxspan`")?;
        let Tok::Int(value) = *self.peek() else {
            return self.expected("a whole number of time units (e.g. `maxspan=30s`)");
        };
        let num_span = self.span();
        self.bump();
        let unit = match self.peek().clone() {
            Tok::Ident(u) if self.span().start == num_span.end => u,
            _ => {
                return self.error(
                    "a time value needs a unit right after the number (ms, s, m, h or d)",
                    num_span,
                );
            }
        };
        if !matches!(unit.as_str(), "ms" | "s" | "m" | "h" | "d") {
            return self.error(
                format!("unknown time unit `{unit}` (use ms, s, m, h or d)"),
                self.span(),
            );
        }
        self.bump();
        Ok(TimeValue {
            value,
            unit,
            span: self.since(start),
        })
    }

    fn step(&mut self, in_sequence: bool) -> PResult<Step> {
        let start = self.span();
        let missing = self.eat(&Tok::Bang);
        if missing && !in_sequence {
            return self.error("missing events (`![…]`) only exist in sequences", start);
        }
        self.expect(&Tok::LBracket, "`[`")?;
        self.enter()?;
        let query = self.event_query()?;
        self.leave();
        self.expect(&Tok::RBracket, "`]` closing the step")?;
        let mut by = Vec::new();
        if self.eat_word("by") {
            by = self.join_keys()?;
        }
        let mut runs = None;
        if in_sequence
            && self.is_word("with")
            && matches!(self.peek_at(1), Tok::Ident(w) if w == "runs")
        {
            self.bump();
            self.bump();
            self.expect(&Tok::Assign, "`=` after `runs`")?;
            let n = match *self.peek() {
                Tok::Int(n) if (1..=100).contains(&n) => n as u32,
                _ => return self.expected("a number of runs between 1 and 100"),
            };
            self.bump();
            runs = Some(n);
        }
        Ok(Step {
            missing,
            query,
            by,
            runs,
            span: self.since(start),
        })
    }

    fn sample(&mut self) -> PResult<SampleQuery> {
        let start = self.span();
        self.bump();
        let mut by = Vec::new();
        if self.eat_word("by") {
            by = self.join_keys()?;
        }
        let mut steps = Vec::new();
        while self.peek() == &Tok::LBracket {
            steps.push(self.step(false)?);
        }
        if self.is_word("with") || self.is_word("until") {
            return self.error(
                "samples take no `with maxspan`, `with runs` or `until`",
                self.span(),
            );
        }
        if steps.len() < 2 {
            return match steps.len() {
                0 => self.expected("`[` starting a sample step"),
                _ => self.error("a sample needs at least two steps", self.since(start).0),
            };
        }
        Ok(SampleQuery {
            by,
            steps,
            span: self.since(start),
        })
    }

    // ---- expressions ----

    pub(crate) fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.or();
        self.leave();
        r
    }

    fn or(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut left = self.and()?;
        while self.eat_word("or") {
            let right = self.and()?;
            left = Expr::Or {
                left: Box::new(left),
                right: Box::new(right),
                span: self.since(start),
            };
        }
        Ok(left)
    }

    fn and(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut left = self.not()?;
        while self.eat_word("and") {
            let right = self.not()?;
            left = Expr::And {
                left: Box::new(left),
                right: Box::new(right),
                span: self.since(start),
            };
        }
        Ok(left)
    }

    fn not(&mut self) -> PResult<Expr> {
        let start = self.span();
        if self.eat_word("not") {
            self.enter()?;
            let inner = self.not()?;
            self.leave();
            return Ok(Expr::Not {
                inner: Box::new(inner),
                span: self.since(start),
            });
        }
        self.predicate()
    }

    fn predicate(&mut self) -> PResult<Expr> {
        let start = self.span();
        let left = self.arith()?;
        if let Tok::Ident(w) = self.peek()
            && matches!(w.as_str(), "of")
        {
            return self.error(
                "lineage (`descendant of`, `child of`, `event of`) is not supported by Elasticsearch EQL",
                self.span(),
            );
        }
        let op = match self.peek() {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::NotEq => Some(CmpOp::NotEq),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::LtEq => Some(CmpOp::LtEq),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::GtEq => Some(CmpOp::GtEq),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let right = self.arith()?;
            let e = Expr::Compare {
                op,
                left: Box::new(left),
                right: Box::new(right),
                span: self.since(start),
            };
            if self.at_predicate_operator() {
                return self.error(
                    "comparisons cannot be chained: join them with `and`",
                    self.span(),
                );
            }
            return Ok(e);
        }
        if self.peek() == &Tok::Assign {
            return self.error(
                "`=` is not an operator in EQL: use `==` or `:`",
                self.span(),
            );
        }
        let negated = self.is_word("not") && matches!(self.peek_at(1), Tok::Ident(w) if w == "in")
            || self.is_word("not") && matches!(self.peek_at(1), Tok::Tilde(w) if w == "in");
        if negated {
            self.bump();
        }
        let insensitive = match self.peek() {
            Tok::Ident(w) if w == "in" => false,
            Tok::Tilde(w) if w == "in" => true,
            _ => {
                if negated {
                    return self.expected("`in` after `not`");
                }
                return self.match_predicate(left, start);
            }
        };
        self.bump();
        self.expect(&Tok::LParen, "`(` opening the list")?;
        let mut list = vec![self.expr()?];
        while self.eat(&Tok::Comma) {
            list.push(self.expr()?);
        }
        self.expect(&Tok::RParen, "`)` closing the list")?;
        Ok(Expr::In {
            expr: Box::new(left),
            list,
            negated,
            insensitive,
            span: self.since(start),
        })
    }

    fn at_predicate_operator(&self) -> bool {
        matches!(
            self.peek(),
            Tok::Eq | Tok::NotEq | Tok::Lt | Tok::LtEq | Tok::Gt | Tok::GtEq | Tok::Colon
        ) || matches!(self.peek(), Tok::Ident(w) if matches!(w.as_str(), "in" | "like" | "regex"))
            || matches!(self.peek(), Tok::Tilde(w) if matches!(w.as_str(), "in" | "like" | "regex"))
    }

    fn match_predicate(&mut self, left: Expr, start: Span) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Colon => MatchOp::Seq,
            Tok::Ident(w) if w == "like" => MatchOp::Like,
            Tok::Tilde(w) if w == "like" => MatchOp::LikeInsensitive,
            Tok::Ident(w) if w == "regex" => MatchOp::Regex,
            Tok::Tilde(w) if w == "regex" => MatchOp::RegexInsensitive,
            _ => return Ok(left),
        };
        self.bump();
        let list = self.eat(&Tok::LParen);
        let mut patterns = vec![self.constant()?];
        if list {
            while self.eat(&Tok::Comma) {
                patterns.push(self.constant()?);
            }
            self.expect(&Tok::RParen, "`)` closing the list")?;
        }
        let e = Expr::Match {
            expr: Box::new(left),
            op,
            patterns,
            list,
            span: self.since(start),
        };
        if self.at_predicate_operator() {
            return self.error(
                "comparisons cannot be chained: join them with `and`",
                self.span(),
            );
        }
        Ok(e)
    }

    /// A literal: the right-hand side of `:`, `like` and `regex`.
    fn constant(&mut self) -> PResult<Lit> {
        let lit = match self.peek().clone() {
            Tok::Str { value, raw } => Lit::Str { value, raw },
            Tok::Int(i) => Lit::Int(i),
            Tok::Float(x) => Lit::Float(x),
            Tok::Ident(w) if w == "null" => Lit::Null,
            Tok::Ident(w) if w == "true" => Lit::Bool(true),
            Tok::Ident(w) if w == "false" => Lit::Bool(false),
            _ => return self.expected("a constant (a pattern string)"),
        };
        self.bump();
        Ok(lit)
    }

    fn arith(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => ArithOp::Add,
                Tok::Minus => ArithOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.term()?;
            left = Expr::Arith {
                op,
                left: Box::new(left),
                right: Box::new(right),
                span: self.since(start),
            };
        }
    }

    fn term(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => ArithOp::Mul,
                Tok::Slash => ArithOp::Div,
                Tok::Percent => ArithOp::Mod,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.unary()?;
            left = Expr::Arith {
                op,
                left: Box::new(left),
                right: Box::new(right),
                span: self.since(start),
            };
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        let start = self.span();
        match self.peek() {
            Tok::Minus => {
                self.bump();
                self.enter()?;
                let inner = self.unary()?;
                self.leave();
                Ok(Expr::Neg {
                    inner: Box::new(inner),
                    span: self.since(start),
                })
            }
            Tok::Plus => {
                self.bump();
                self.enter()?;
                let inner = self.unary();
                self.leave();
                inner
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let lit = |value: Lit, p: &mut Parser<'_>| {
            p.bump();
            Ok(Expr::Literal {
                value,
                span: p.since(start),
            })
        };
        match self.peek().clone() {
            Tok::Int(i) => lit(Lit::Int(i), self),
            Tok::Float(x) => lit(Lit::Float(x), self),
            Tok::Str { value, raw } => lit(Lit::Str { value, raw }, self),
            Tok::LParen => {
                self.bump();
                let e = self.expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                Ok(e)
            }
            Tok::Ident(w) if w == "null" => lit(Lit::Null, self),
            Tok::Ident(w) if w == "true" => lit(Lit::Bool(true), self),
            Tok::Ident(w) if w == "false" => lit(Lit::Bool(false), self),
            Tok::Ident(name) if self.peek_at(1) == &Tok::LParen => self.call(name, false),
            Tok::Tilde(name) if self.peek_at(1) == &Tok::LParen => self.call(name, true),
            Tok::Question => {
                self.bump();
                if !matches!(self.peek(), Tok::Ident(_) | Tok::Quoted(_)) {
                    return self.expected("a field name after `?`");
                }
                let mut f = self.field()?;
                if let Expr::Field { name, .. } = &mut f {
                    name.optional = true;
                }
                if let Expr::Field { span, .. } = &mut f {
                    *span = self.since(start);
                }
                Ok(f)
            }
            Tok::Ident(w) if crate::ast::KEYWORDS.contains(&w.as_str()) => self.expected(
                "a value, a field or a function (quote field names that are keywords in backticks)",
            ),
            Tok::Ident(_) | Tok::Quoted(_) => self.field(),
            _ => self.expected("a value, a field or a function"),
        }
    }

    fn call(&mut self, name: String, insensitive: bool) -> PResult<Expr> {
        let start = self.span();
        self.bump();
        self.bump();
        self.enter()?;
        let mut args = Vec::new();
        if self.peek() != &Tok::RParen {
            args.push(self.expr()?);
            while self.eat(&Tok::Comma) {
                args.push(self.expr()?);
            }
        }
        self.leave();
        self.expect(&Tok::RParen, "`)` closing the arguments")?;
        Ok(Expr::Call {
            name,
            insensitive,
            args,
            span: self.since(start),
        })
    }

    fn field(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut parts = Vec::new();
        loop {
            match self.peek().clone() {
                Tok::Ident(name) => parts.push(Part::Name {
                    name,
                    quoted: false,
                }),
                Tok::Quoted(name) => parts.push(Part::Name { name, quoted: true }),
                _ => return self.expected("a field name"),
            }
            let end = self.span().end;
            self.bump();
            // Indexes and dots bind only when written right after the name.
            while self.peek() == &Tok::LBracket && self.span().start == end {
                self.bump();
                let Tok::Int(n) = *self.peek() else {
                    return self.expected("an array index");
                };
                self.bump();
                parts.push(Part::Index(n as u64));
                self.expect(&Tok::RBracket, "`]`")?;
            }
            if self.peek() == &Tok::Dot {
                self.bump();
                continue;
            }
            break;
        }
        Ok(Expr::Field {
            name: FieldName {
                parts,
                optional: false,
            },
            span: self.since(start),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(q: &str) -> String {
        parse(q)
            .map(|q| q.to_string())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn precedence_and_printing() {
        assert_eq!(
            round("process where a == 1 or b == 2 and not c : \"x*\""),
            "process where a == 1 or b == 2 and not c : \"x*\""
        );
        assert_eq!(
            round("any where (a or b) and c"),
            "any where (a or b) and c"
        );
        assert_eq!(
            round("any where 1 + 2 * 3 == 7"),
            "any where 1 + 2 * 3 == 7"
        );
        assert_eq!(
            round("any where (1 + 2) * 3 == 9"),
            "any where (1 + 2) * 3 == 9"
        );
        assert_eq!(
            round("any where x not in~ (\"a\", 1)"),
            "any where x not in~ (\"a\", 1)"
        );
        assert_eq!(
            round("any where ?`a-b`.c != null"),
            "any where ?`a-b`.c != null"
        );
        assert_eq!(
            round("file where startsWith~(file.name, \"x\")"),
            "file where startsWith~(file.name, \"x\")"
        );
    }

    #[test]
    fn sequences_and_pipes() {
        let q = "sequence by host.id with maxspan=1m [process where true] by process.entity_id ![file where true] [process where true] by process.Ext.ancestry with runs=2 until [process where false] | head 3";
        let printed = round(q);
        assert_eq!(parse(&printed).unwrap(), parse(q).unwrap());
        assert!(printed.contains("with runs=2"));
    }

    #[test]
    fn rejections_name_the_reason() {
        assert!(round("join [a where true] [b where true]").contains("join"));
        assert!(round("process where a = 1").contains("=="));
        assert!(round("process where a == 1 | unique a").contains("unique"));
        assert!(round("process where a < b < c").contains("chained"));
        assert!(round("process where 'a' == b").contains("single quotes"));
        assert!(round("sequence [a where true]").contains("two steps"));
        assert!(
            round("sequence [a where true] ![b where true] [c where true]").contains("maxspan")
        );
        assert!(round("process where descendant of [a where true]").contains("lineage"));
    }

    #[test]
    fn depth_is_limited() {
        let deep = format!("any where {}true{}", "(".repeat(500), ")".repeat(500));
        assert!(round(&deep).contains("deeper"));
    }
}
