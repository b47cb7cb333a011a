//! The ES|QL lexer: tokens with byte spans, lexed on demand so that the parser can read the
//! few mode-dependent parts (`FROM` index patterns, `KEEP` wildcards) from the raw text.

use vigil_plan::Span;

use crate::parse::ParseError;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// An unquoted identifier or keyword, as written.
    Ident(String),
    /// A backtick-quoted identifier, unescaped.
    Quoted(String),
    Int(u64),
    Decimal(f64),
    Str(String),
    Pipe,
    Comma,
    Dot,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    EqEq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Assign,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    DoubleColon,
    Colon,
    Param,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// An unquoted identifier: `[A-Za-z][A-Za-z0-9_]*` or `[_@][A-Za-z0-9_]+`.
pub fn is_plain_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() => b[1..].iter().all(|c| is_body(*c)),
        Some(b'_' | b'@') => b.len() > 1 && b[1..].iter().all(|c| is_body(*c)),
        _ => false,
    }
}

fn is_body(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// A `KEEP`/`DROP` pattern: its parts (text, backtick-quoted) and span.
pub(crate) type NamePattern = (Vec<(String, bool)>, Span);

pub(crate) struct Lexer<'a> {
    pub text: &'a str,
    pub pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn err(&self, msg: impl Into<String>, start: usize, end: usize) -> ParseError {
        ParseError::new(msg, Span::new(start, end))
    }

    /// Skips whitespace and comments (`//` to end of line, nestable `/* */`).
    pub fn skip_trivia(&mut self) -> Result<(), ParseError> {
        let b = self.bytes();
        loop {
            while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if b[self.pos..].starts_with(b"//") {
                while self.pos < b.len() && b[self.pos] != b'\n' {
                    self.pos += 1;
                }
            } else if b[self.pos..].starts_with(b"/*") {
                let start = self.pos;
                let mut depth = 0usize;
                loop {
                    if self.pos >= b.len() {
                        return Err(self.err("unterminated `/*` comment", start, start + 2));
                    }
                    if b[self.pos..].starts_with(b"/*") {
                        depth += 1;
                        self.pos += 2;
                    } else if b[self.pos..].starts_with(b"*/") {
                        depth -= 1;
                        self.pos += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        self.pos += 1;
                    }
                }
            } else {
                return Ok(());
            }
        }
    }

    /// The next token.
    pub fn next_token(&mut self) -> Result<Token, ParseError> {
        self.skip_trivia()?;
        let b = self.bytes();
        let start = self.pos;
        let Some(&c) = b.get(start) else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        };
        let two = |s: &[u8]| b[start..].starts_with(s);
        let (tok, len) = match c {
            b'|' => (Tok::Pipe, 1),
            b',' => (Tok::Comma, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b'{' => (Tok::LBrace, 1),
            b'}' => (Tok::RBrace, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'*' => (Tok::Star, 1),
            b'/' => (Tok::Slash, 1),
            b'%' => (Tok::Percent, 1),
            b'?' => (Tok::Param, 1),
            b'=' if two(b"==") => (Tok::EqEq, 2),
            b'=' => (Tok::Assign, 1),
            b'!' if two(b"!=") => (Tok::Neq, 2),
            b'<' if two(b"<=") => (Tok::Lte, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two(b">=") => (Tok::Gte, 2),
            b'>' => (Tok::Gt, 1),
            b':' if two(b"::") => (Tok::DoubleColon, 2),
            b':' => (Tok::Colon, 1),
            b'.' if b.get(start + 1).is_some_and(u8::is_ascii_digit) => return self.number(),
            b'.' => (Tok::Dot, 1),
            b'"' => return self.string(),
            b'`' => return self.quoted_ident(),
            b'0'..=b'9' => return self.number(),
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'@' => {
                let mut end = start + 1;
                while end < b.len() && is_body(b[end]) {
                    end += 1;
                }
                if end == start + 1 && (c == b'_' || c == b'@') {
                    return Err(self.err(
                        format!("`{}` alone is not an identifier", c as char),
                        start,
                        end,
                    ));
                }
                (Tok::Ident(self.text[start..end].to_string()), end - start)
            }
            _ => {
                let ch = self.text[start..].chars().next().unwrap_or('?');
                return Err(self.err(
                    format!("unexpected character `{ch}`"),
                    start,
                    start + ch.len_utf8(),
                ));
            }
        };
        self.pos = start + len;
        Ok(Token {
            tok,
            span: Span::new(start, self.pos),
        })
    }

    fn number(&mut self) -> Result<Token, ParseError> {
        let b = self.bytes();
        let start = self.pos;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        let mut decimal = false;
        if end < b.len()
            && b[end] == b'.'
            && b.get(end + 1)
                .is_none_or(|c| !c.is_ascii_alphabetic() || matches!(c, b'e' | b'E'))
        {
            decimal = true;
            end += 1;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
        }
        if end < b.len() && matches!(b[end], b'e' | b'E') {
            let mut e = end + 1;
            if e < b.len() && matches!(b[e], b'+' | b'-') {
                e += 1;
            }
            if e < b.len() && b[e].is_ascii_digit() {
                while e < b.len() && b[e].is_ascii_digit() {
                    e += 1;
                }
                decimal = true;
                end = e;
            }
        }
        let text = &self.text[start..end];
        self.pos = end;
        let span = Span::new(start, end);
        let tok = if decimal {
            Tok::Decimal(
                text.parse::<f64>()
                    .map_err(|_| self.err(format!("bad number `{text}`"), start, end))?,
            )
        } else {
            match text.parse::<u64>() {
                Ok(i) => Tok::Int(i),
                // Beyond unsigned long: a double, as Elasticsearch reads it.
                Err(_) => Tok::Decimal(
                    text.parse::<f64>()
                        .map_err(|_| self.err(format!("bad number `{text}`"), start, end))?,
                ),
            }
        };
        Ok(Token { tok, span })
    }

    fn string(&mut self) -> Result<Token, ParseError> {
        let start = self.pos;
        let rest = &self.text[start..];
        if let Some(body) = rest.strip_prefix("\"\"\"") {
            // Triple-quoted: raw text, no escapes, up to the first `"""` (extra quotes before
            // it belong to the string).
            let Some(close) = body.find("\"\"\"") else {
                return Err(self.err("unterminated `\"\"\"` string", start, start + 3));
            };
            let mut close = close;
            while body[close + 3..].starts_with('"') {
                close += 1;
            }
            let value = body[..close].to_string();
            self.pos = start + 3 + close + 3;
            return Ok(Token {
                tok: Tok::Str(value),
                span: Span::new(start, self.pos),
            });
        }
        let mut out = String::new();
        let mut chars = rest.char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = start + i + 1;
                    return Ok(Token {
                        tok: Tok::Str(out),
                        span: Span::new(start, self.pos),
                    });
                }
                '\\' => {
                    let Some((j, e)) = chars.next() else { break };
                    out.push(match e {
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        '"' => '"',
                        '\\' => '\\',
                        _ => {
                            return Err(self.err(
                                format!("invalid escape `\\{e}` in a string"),
                                start + i,
                                start + j + e.len_utf8(),
                            ));
                        }
                    });
                }
                '\n' | '\r' => {
                    return Err(self.err("a string cannot span lines", start, start + i));
                }
                c => out.push(c),
            }
        }
        Err(self.err("unterminated string", start, start + 1))
    }

    fn quoted_ident(&mut self) -> Result<Token, ParseError> {
        let start = self.pos;
        let b = self.bytes();
        let mut i = start + 1;
        let mut out = String::new();
        let mut seg = i;
        loop {
            if i >= b.len() {
                return Err(self.err("unterminated quoted identifier", start, start + 1));
            }
            if b[i] == b'`' {
                out.push_str(&self.text[seg..i]);
                if b.get(i + 1) == Some(&b'`') {
                    out.push('`');
                    i += 2;
                    seg = i;
                    continue;
                }
                i += 1;
                break;
            }
            i += 1;
        }
        self.pos = i;
        Ok(Token {
            tok: Tok::Quoted(out),
            span: Span::new(start, i),
        })
    }

    /// An index pattern of `FROM`: a double-quoted string or a run of characters up to
    /// whitespace, `,` or `|`.
    pub fn index_pattern(&mut self) -> Result<Option<(String, bool, Span)>, ParseError> {
        self.skip_trivia()?;
        let b = self.bytes();
        let start = self.pos;
        match b.get(start) {
            None | Some(b'|' | b',') => Ok(None),
            Some(b'"') => {
                let t = self.string()?;
                let Tok::Str(s) = t.tok else { return Ok(None) };
                Ok(Some((s, true, t.span)))
            }
            Some(_) => {
                let mut end = start;
                while end < b.len()
                    && !b[end].is_ascii_whitespace()
                    && !matches!(
                        b[end],
                        b',' | b'|' | b'"' | b'(' | b')' | b'[' | b']' | b'='
                    )
                    && !b[end..].starts_with(b"//")
                    && !b[end..].starts_with(b"/*")
                {
                    end += 1;
                }
                if end == start {
                    let ch = self.text[start..].chars().next().unwrap_or('?');
                    return Err(self.err(
                        format!("unexpected `{ch}` in an index pattern"),
                        start,
                        start + ch.len_utf8(),
                    ));
                }
                self.pos = end;
                Ok(Some((
                    self.text[start..end].to_string(),
                    false,
                    Span::new(start, end),
                )))
            }
        }
    }

    /// A `KEEP`/`DROP` name pattern: identifier characters, dots and `*`, or backtick parts.
    pub fn name_pattern(&mut self) -> Result<Option<NamePattern>, ParseError> {
        self.skip_trivia()?;
        let b = self.bytes();
        let start = self.pos;
        let mut parts: Vec<(String, bool)> = Vec::new();
        let mut cur = String::new();
        let mut cur_started = false;
        let mut i = start;
        loop {
            match b.get(i) {
                Some(b'`') => {
                    self.pos = i;
                    let t = self.quoted_ident()?;
                    let Tok::Quoted(q) = t.tok else { break };
                    if cur_started {
                        // `a*`b`` mixes quoting inside one part: keep it as one pattern part.
                        cur.push_str(&q);
                    } else {
                        parts.push((q, true));
                    }
                    i = self.pos;
                }
                Some(b'.') => {
                    if cur_started {
                        parts.push((std::mem::take(&mut cur), false));
                        cur_started = false;
                    }
                    i += 1;
                }
                Some(&c) if is_body(c) || c == b'*' || c == b'@' => {
                    cur.push(c as char);
                    cur_started = true;
                    i += 1;
                }
                _ => break,
            }
        }
        if cur_started {
            parts.push((cur, false));
        }
        self.pos = i;
        if parts.is_empty() {
            return Ok(None);
        }
        Ok(Some((parts, Span::new(start, i))))
    }
}
