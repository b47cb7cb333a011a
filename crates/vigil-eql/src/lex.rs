//! The EQL lexer: source text to tokens with byte spans. Errors are collected, not fatal: a bad
//! character becomes an error and lexing goes on.

use vigil_plan::Span;

use crate::ParseError;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// An unquoted identifier or keyword (`process`, `and`, `@timestamp`).
    Ident(String),
    /// An identifier written with backticks; the text is unescaped.
    Quoted(String),
    /// An identifier immediately followed by `~` (`startsWith~`, `in~`, `like~`).
    Tilde(String),
    Str {
        value: String,
        raw: bool,
    },
    Int(i64),
    Float(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Question,
    Bang,
    Pipe,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Colon,
    Assign,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

pub fn tokenize(text: &str) -> (Vec<Token>, Vec<ParseError>) {
    let mut lx = Lexer {
        text,
        b: text.as_bytes(),
        i: 0,
        out: Vec::new(),
        errors: Vec::new(),
    };
    lx.run();
    let end = text.len();
    lx.out.push(Token {
        tok: Tok::Eof,
        span: Span::new(end, end),
    });
    (lx.out, lx.errors)
}

struct Lexer<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    out: Vec<Token>,
    errors: Vec<ParseError>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'@'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'@'
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            span: Span::new(start, self.i),
        });
    }

    fn error(&mut self, message: impl Into<String>, start: usize, end: usize) {
        self.errors
            .push(ParseError::new(message, Span::new(start, end), self.text));
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            let start = self.i;
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => self.i += 1,
                b'/' if self.peek(1) == Some(b'/') => {
                    while self.peek(0).is_some_and(|c| c != b'\n') {
                        self.i += 1;
                    }
                }
                b'/' if self.peek(1) == Some(b'*') => match self.text[self.i + 2..].find("*/") {
                    Some(end) => self.i += end + 4,
                    None => {
                        self.i = self.b.len();
                        self.error("unterminated comment: `/*` without `*/`", start, start + 2);
                    }
                },
                b'"' => self.string(),
                b'\'' => {
                    self.skip_single_quoted();
                    self.error(
                        "strings in single quotes are not supported: use double quotes (\"…\")",
                        start,
                        self.i,
                    );
                }
                b'`' => self.backtick(),
                b'0'..=b'9' => self.number(),
                c if is_ident_start(c) => {
                    while self.peek(0).is_some_and(is_ident_char) {
                        self.i += 1;
                    }
                    let word = self.text[start..self.i].to_string();
                    if self.peek(0) == Some(b'~') {
                        self.i += 1;
                        self.push(Tok::Tilde(word), start);
                    } else {
                        self.push(Tok::Ident(word), start);
                    }
                }
                _ => self.punct(c, start),
            }
        }
    }

    fn punct(&mut self, c: u8, start: usize) {
        let two = |lx: &Lexer<'_>, next: u8| lx.peek(1) == Some(next);
        let (tok, len) = match c {
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b',' => (Tok::Comma, 1),
            b'.' => (Tok::Dot, 1),
            b'?' => (Tok::Question, 1),
            b'|' => (Tok::Pipe, 1),
            b':' => (Tok::Colon, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'*' => (Tok::Star, 1),
            b'/' => (Tok::Slash, 1),
            b'%' => (Tok::Percent, 1),
            b'=' if two(self, b'=') => (Tok::Eq, 2),
            b'=' => (Tok::Assign, 1),
            b'!' if two(self, b'=') => (Tok::NotEq, 2),
            b'!' => (Tok::Bang, 1),
            b'<' if two(self, b'=') => (Tok::LtEq, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two(self, b'=') => (Tok::GtEq, 2),
            b'>' => (Tok::Gt, 1),
            _ => {
                let ch = self.text[start..].chars().next().unwrap_or('?');
                self.i += ch.len_utf8();
                self.error(format!("unexpected character `{ch}`"), start, self.i);
                return;
            }
        };
        self.i += len;
        self.push(tok, start);
    }

    fn skip_single_quoted(&mut self) {
        self.i += 1;
        while let Some(c) = self.peek(0) {
            self.i += 1;
            match c {
                b'\\' => self.i = (self.i + 1).min(self.b.len()),
                b'\'' => return,
                _ => {}
            }
        }
    }

    fn backtick(&mut self) {
        let start = self.i;
        self.i += 1;
        let mut name = String::new();
        loop {
            match self.peek(0) {
                None => {
                    self.error("unterminated `` ` ``-quoted identifier", start, self.i);
                    return;
                }
                Some(b'`') if self.peek(1) == Some(b'`') => {
                    name.push('`');
                    self.i += 2;
                }
                Some(b'`') => {
                    self.i += 1;
                    break;
                }
                Some(_) => {
                    let ch = self.text[self.i..].chars().next().unwrap_or('?');
                    name.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
        self.push(Tok::Quoted(name), start);
    }

    fn number(&mut self) {
        let start = self.i;
        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let mut float = false;
        if self.peek(0) == Some(b'.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.i += 1;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        if matches!(self.peek(0), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.peek(1), Some(b'+' | b'-')));
            if self.peek(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                float = true;
                self.i += 1 + sign;
                while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
            }
        }
        let text = &self.text[start..self.i];
        if !float && let Ok(n) = text.parse::<i64>() {
            self.push(Tok::Int(n), start);
            return;
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => self.push(Tok::Float(f), start),
            _ => self.error(format!("number `{text}` is out of range"), start, self.i),
        }
    }

    fn string(&mut self) {
        let start = self.i;
        if self.text[self.i..].starts_with("\"\"\"") {
            self.i += 3;
            match self.text[self.i..].find("\"\"\"") {
                Some(end) => {
                    // A raw string ends at the last of a run of quotes (`"""a""""` is `a"`).
                    let mut end = self.i + end;
                    while self.text[end + 3..].starts_with('"') {
                        end += 1;
                    }
                    let value = self.text[self.i..end].to_string();
                    self.i = end + 3;
                    self.push(Tok::Str { value, raw: true }, start);
                }
                None => {
                    self.i = self.b.len();
                    self.error(
                        "unterminated raw string: `\"\"\"` without its closing `\"\"\"`",
                        start,
                        start + 3,
                    );
                }
            }
            return;
        }
        self.i += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                self.error("unterminated string", start, self.i);
                return;
            };
            match c {
                b'"' => {
                    self.i += 1;
                    break;
                }
                b'\\' => self.escape(&mut value),
                b'\n' | b'\r' => {
                    self.error(
                        "a string cannot span lines: use a raw string (\"\"\"…\"\"\")",
                        start,
                        self.i,
                    );
                    return;
                }
                _ => {
                    let ch = self.text[self.i..].chars().next().unwrap_or('?');
                    value.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
        self.push(Tok::Str { value, raw: false }, start);
    }

    fn escape(&mut self, value: &mut String) {
        let start = self.i;
        self.i += 1;
        let Some(c) = self.peek(0) else {
            return;
        };
        self.i += 1;
        match c {
            b'n' => value.push('\n'),
            b'r' => value.push('\r'),
            b't' => value.push('\t'),
            b'\\' => value.push('\\'),
            b'"' => value.push('"'),
            b'\'' => value.push('\''),
            b'b' => value.push('\u{8}'),
            b'f' => value.push('\u{c}'),
            b'u' if self.peek(0) == Some(b'{') => {
                let close = self.text[self.i..].find('}');
                let hex = close.map(|e| &self.text[self.i + 1..self.i + e]);
                let ch = hex
                    .filter(|h| (2..=8).contains(&h.len()))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32);
                match (ch, close) {
                    (Some(ch), Some(e)) => {
                        value.push(ch);
                        self.i += e + 1;
                    }
                    _ => {
                        let end = close.map_or(self.i, |e| self.i + e + 1);
                        self.error(
                            "invalid unicode escape: use \\u{XX} with 2 to 8 hex digits",
                            start,
                            end,
                        );
                        self.i = end;
                    }
                }
            }
            _ => {
                let ch = self.text[self.i - 1..].chars().next().unwrap_or('?');
                self.i += ch.len_utf8() - 1;
                self.error(
                    format!("illegal escape sequence `\\{ch}` (use \\\\ for a backslash, or a raw string)"),
                    start,
                    self.i,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        let (t, e) = tokenize(s);
        assert!(e.is_empty(), "{e:?}");
        t.into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn strings_numbers_and_operators() {
        assert_eq!(
            toks(r#"a.b : "x\\y" and n<=1.5e3 // c"#),
            vec![
                Tok::Ident("a".into()),
                Tok::Dot,
                Tok::Ident("b".into()),
                Tok::Colon,
                Tok::Str {
                    value: "x\\y".into(),
                    raw: false
                },
                Tok::Ident("and".into()),
                Tok::Ident("n".into()),
                Tok::LtEq,
                Tok::Float(1500.0),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks(r#""""C:\a"b""""#),
            vec![
                Tok::Str {
                    value: "C:\\a\"b".into(),
                    raw: true
                },
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("startsWith~(x) in~ /* c */ `a``b`"),
            vec![
                Tok::Tilde("startsWith".into()),
                Tok::LParen,
                Tok::Ident("x".into()),
                Tok::RParen,
                Tok::Tilde("in".into()),
                Tok::Quoted("a`b".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("\"\\u{41}\""),
            vec![
                Tok::Str {
                    value: "A".into(),
                    raw: false
                },
                Tok::Eof
            ]
        );
    }

    #[test]
    fn errors_are_collected() {
        let (_, e) = tokenize("'a' and \"\\q\" and #");
        assert_eq!(e.len(), 3, "{e:?}");
    }
}
