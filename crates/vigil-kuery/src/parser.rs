//! Recursive-descent parser over the tokens, one function per rule of Kibana's grammar.

use vigil_plan::Span;

use crate::ast::{AstSpan, Lit, LitValue, Node, Query, RangeOp, Values, WildPart};
use crate::lexer::{Lexer, Tok, Token};

/// Deepest nesting of parentheses and braces accepted.
pub const MAX_DEPTH: usize = 100;

/// A syntax error at a span of the query text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

/// Parses a kuery query.
pub fn parse(text: &str) -> Result<Query, ParseError> {
    let tokens = Lexer::new(text).tokenize().map_err(|e| ParseError {
        message: e.message,
        span: e.span,
    })?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    if p.at(&Tok::Eof) {
        return Ok(Query { root: None });
    }
    let root = p.or_query()?;
    if !p.at(&Tok::Eof) {
        return Err(p.unexpected("`or`, `and` or the end of the query"));
    }
    Ok(Query { root: Some(root) })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.tokens[(self.pos + k).min(self.tokens.len() - 1)].tok
    }

    fn at(&self, t: &Tok) -> bool {
        &self.peek().tok == t
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Result<Token, ParseError> {
        if self.at(t) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        let t = self.peek();
        let found = match &t.tok {
            Tok::Eof => "the end of the query".to_string(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::Colon => "`:`".into(),
            Tok::Lt | Tok::Lte | Tok::Gt | Tok::Gte => "a range operator".into(),
            Tok::Or => "`or`".into(),
            Tok::And => "`and`".into(),
            Tok::Not => "`not`".into(),
            Tok::Quoted(_) => "a quoted value".into(),
            Tok::Unquoted(_) => "a value".into(),
        };
        ParseError {
            message: format!("expected {expected}, found {found}"),
            span: t.span,
        }
    }

    fn enter(&mut self, span: Span) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError {
                message: format!("query nests deeper than {MAX_DEPTH} levels"),
                span,
            });
        }
        Ok(())
    }

    fn or_query(&mut self) -> Result<Node, ParseError> {
        let first = self.and_query()?;
        if !self.at(&Tok::Or) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.at(&Tok::Or) {
            self.bump();
            items.push(self.and_query()?);
        }
        let span = cover(&items);
        Ok(Node::Or {
            items,
            span: AstSpan(span),
        })
    }

    fn and_query(&mut self) -> Result<Node, ParseError> {
        let first = self.not_query()?;
        if !self.at(&Tok::And) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.at(&Tok::And) {
            self.bump();
            items.push(self.not_query()?);
        }
        let span = cover(&items);
        Ok(Node::And {
            items,
            span: AstSpan(span),
        })
    }

    fn not_query(&mut self) -> Result<Node, ParseError> {
        if self.at(&Tok::Not) {
            let kw = self.bump();
            let inner = self.sub_query()?;
            let span = kw.span.join(inner.span());
            return Ok(Node::Not {
                inner: Box::new(inner),
                span: AstSpan(span),
            });
        }
        self.sub_query()
    }

    fn sub_query(&mut self) -> Result<Node, ParseError> {
        if self.at(&Tok::LParen) {
            let open = self.bump();
            self.enter(open.span)?;
            let q = self.or_query()?;
            self.expect(&Tok::RParen, "`)`")?;
            self.depth -= 1;
            return Ok(q);
        }
        self.expression()
    }

    /// Nested query, range, field:value or a bare value.
    fn expression(&mut self) -> Result<Node, ParseError> {
        let lit = self.literal("a field name or a value")?;
        match self.peek().tok {
            Tok::Colon => {
                self.bump();
                if self.at(&Tok::LBrace) {
                    let open = self.bump();
                    self.enter(open.span)?;
                    let q = self.or_query()?;
                    let close = self.expect(&Tok::RBrace, "`}`")?;
                    self.depth -= 1;
                    let span = lit.span().join(close.span);
                    return Ok(Node::Nested {
                        path: lit,
                        query: Box::new(q),
                        span: AstSpan(span),
                    });
                }
                let (values, end) = self.list_of_values()?;
                let span = lit.span().join(end);
                Ok(Node::Field {
                    field: lit,
                    values,
                    span: AstSpan(span),
                })
            }
            Tok::Lt | Tok::Lte | Tok::Gt | Tok::Gte => {
                let op = match self.bump().tok {
                    Tok::Lt => RangeOp::Lt,
                    Tok::Lte => RangeOp::Lte,
                    Tok::Gt => RangeOp::Gt,
                    _ => RangeOp::Gte,
                };
                let value = self.literal("a value after the range operator")?;
                let span = lit.span().join(value.span());
                Ok(Node::Range {
                    field: lit,
                    op,
                    value,
                    span: AstSpan(span),
                })
            }
            _ => {
                let span = lit.span();
                Ok(Node::FreeText {
                    value: lit,
                    span: AstSpan(span),
                })
            }
        }
    }

    /// `( or-list )` or a single value; returns the end of the span.
    fn list_of_values(&mut self) -> Result<(Values, Span), ParseError> {
        if self.at(&Tok::LParen) {
            let open = self.bump();
            self.enter(open.span)?;
            let v = self.or_values()?;
            let close = self.expect(&Tok::RParen, "`)`")?;
            self.depth -= 1;
            return Ok((v, close.span));
        }
        let lit = self.literal("a value after `:`")?;
        let span = lit.span();
        Ok((Values::One(lit), span))
    }

    fn or_values(&mut self) -> Result<Values, ParseError> {
        let first = self.and_values()?;
        if !self.at(&Tok::Or) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.at(&Tok::Or) {
            self.bump();
            items.push(self.and_values()?);
        }
        Ok(Values::Or(items))
    }

    fn and_values(&mut self) -> Result<Values, ParseError> {
        let first = self.not_values()?;
        if !self.at(&Tok::And) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.at(&Tok::And) {
            self.bump();
            items.push(self.not_values()?);
        }
        Ok(Values::And(items))
    }

    fn not_values(&mut self) -> Result<Values, ParseError> {
        if self.at(&Tok::Not) {
            self.bump();
            let (inner, _) = self.list_of_values()?;
            return Ok(Values::Not(Box::new(inner)));
        }
        Ok(self.list_of_values()?.0)
    }

    fn literal(&mut self, what: &str) -> Result<Lit, ParseError> {
        match self.peek_at(0) {
            Tok::Quoted(_) | Tok::Unquoted(_) => {}
            _ => return Err(self.unexpected(what)),
        }
        let t = self.bump();
        let span = AstSpan(t.span);
        Ok(match t.tok {
            Tok::Quoted(s) => Lit {
                value: LitValue::Text(s),
                quoted: true,
                span,
            },
            Tok::Unquoted(parts) => Lit {
                value: unquoted_value(parts),
                quoted: false,
                span,
            },
            _ => unreachable!("checked above"),
        })
    }
}

/// Kibana's reading of an unquoted literal: `null`, `true`, `false`, a wildcard when any `*` is
/// unescaped, text otherwise.
fn unquoted_value(parts: Vec<WildPart>) -> LitValue {
    if parts.contains(&WildPart::Star) {
        return LitValue::Wildcard(parts);
    }
    let text: String = parts
        .into_iter()
        .map(|p| match p {
            WildPart::Text(s) => s,
            WildPart::Star => String::new(),
        })
        .collect();
    match text.as_str() {
        "null" => LitValue::Null,
        "true" => LitValue::Bool(true),
        "false" => LitValue::Bool(false),
        _ => LitValue::Text(text),
    }
}

fn cover(items: &[Node]) -> Span {
    items
        .iter()
        .map(Node::span)
        .reduce(Span::join)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        parse(s)
            .map(|q| q.to_string())
            .unwrap_or_else(|e| format!("error: {e} at {}", e.span))
    }

    #[test]
    fn precedence_and_lists() {
        assert_eq!(p("foo or bar and baz or qux"), "foo or bar and baz or qux");
        assert_eq!(p("(foo or bar) and baz"), "(foo or bar) and baz");
        assert_eq!(p("not (foo or bar)"), "not (foo or bar)");
        assert_eq!(
            p("foo:((bar or baz) and not qux)"),
            "foo: ((bar or baz) and not qux)"
        );
        assert_eq!(
            p("bytes >= 1000 and bytes <= 8000"),
            "bytes >= 1000 and bytes <= 8000"
        );
        assert_eq!(
            p("nestedField:{ child: foo }"),
            "nestedField:{ child: foo }"
        );
        assert_eq!(p("  "), "");
    }

    #[test]
    fn errors_point_at_the_problem() {
        assert_eq!(
            p("foo:"),
            "error: expected a value after `:`, found the end of the query at 4..4"
        );
        assert_eq!(
            p("foo:(a or b"),
            "error: expected `)`, found the end of the query at 11..11"
        );
        assert_eq!(
            p("a:b c:d"),
            "error: expected `or`, `and` or the end of the query, found `:` at 5..6"
        );
        assert!(p("\"a\" or\"b\"").starts_with("error"));
        assert!(p(&"(".repeat(200)).contains("deeper than"));
    }
}
