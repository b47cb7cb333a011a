//! The Kusto lexer: source text to tokens with byte spans.
//!
//! Kusto's lexical quirks handled here: `//` comments, single- and double-quoted strings with
//! backslash escapes, verbatim `@'…'` strings (a doubled quote escapes), obfuscated `h'…'`
//! strings, triple-backtick multi-line strings, timespan literals (`1d`, `1.5h`, `100ms`),
//! hyphenated operator names (`project-away`, `mv-expand`), and the raw contents of
//! `datetime(…)`, `timespan(…)`/`time(…)` and `guid(…)` literals.

use vigil_plan::Span;

/// A token kind. Keywords are identifiers: Kusto reserves few words, and which ones depends on
/// the position (`count` is an operator after `|` and a function elsewhere).
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    /// A string literal's value, escapes resolved.
    Str(String),
    Int(i64),
    Real(f64),
    /// A timespan literal (`1d`, `100ms`), in nanoseconds.
    Timespan(i128),
    /// `datetime(…)` or `date(…)`: the raw text between the parentheses.
    DateTime(String),
    /// `timespan(…)` or `time(…)`: the raw text between the parentheses.
    TimespanRaw(String),
    /// `guid(…)`: the raw text between the parentheses.
    Guid(String),
    Pipe,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Dot,
    DotDot,
    Colon,
    Assign,
    EqEq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `=~`
    EqTilde,
    /// `!~`
    NotTilde,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    /// `~` (in `in~`, `!in~`)
    Tilde,
    Dollar,
    At,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// A lexical error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub message: String,
    pub span: Span,
}

/// Operator names written with a hyphen.
const HYPHENATED: &[&str] = &[
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "mv-expand",
    "mv-apply",
    "parse-where",
    "parse-kv",
    "make-series",
    "top-nested",
    "top-hitters",
    "sample-distinct",
    "make-graph",
    "graph-match",
];

/// Nanoseconds per timespan unit; longer names first so that `ms` wins over `m`.
const UNITS: &[(&str, i128)] = &[
    ("microseconds", 1_000),
    ("microsecond", 1_000),
    ("milliseconds", 1_000_000),
    ("millisecond", 1_000_000),
    ("nanoseconds", 1),
    ("nanosecond", 1),
    ("minutes", 60_000_000_000),
    ("minute", 60_000_000_000),
    ("seconds", 1_000_000_000),
    ("second", 1_000_000_000),
    ("hours", 3_600_000_000_000),
    ("hour", 3_600_000_000_000),
    ("days", 86_400_000_000_000),
    ("day", 86_400_000_000_000),
    ("ticks", 100),
    ("tick", 100),
    ("micros", 1_000),
    ("micro", 1_000),
    ("millis", 1_000_000),
    ("milli", 1_000_000),
    ("nanos", 1),
    ("nano", 1),
    ("min", 60_000_000_000),
    ("sec", 1_000_000_000),
    ("ms", 1_000_000),
    ("d", 86_400_000_000_000),
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
];

/// Splits `src` into tokens, ending with `Eof`. Errors are collected; the token stream skips
/// the offending text so parsing can go on.
pub fn lex(src: &str) -> (Vec<Token>, Vec<LexError>) {
    let mut lx = Lexer {
        src,
        b: src.as_bytes(),
        i: 0,
        out: Vec::new(),
        errors: Vec::new(),
    };
    lx.run();
    (lx.out, lx.errors)
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    out: Vec<Token>,
    errors: Vec<LexError>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
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

    fn error(&mut self, message: impl Into<String>, start: usize) {
        self.errors.push(LexError {
            message: message.into(),
            span: Span::new(start, self.i.max(start + 1).min(self.b.len().max(start))),
        });
    }

    fn run(&mut self) {
        while self.i < self.b.len() {
            let c = self.b[self.i];
            let start = self.i;
            if c.is_ascii_whitespace() {
                self.i += 1;
                continue;
            }
            if c == b'/' && self.peek(1) == Some(b'/') {
                while self.i < self.b.len() && self.b[self.i] != b'\n' {
                    self.i += 1;
                }
                continue;
            }
            if c == b'`' && self.peek(1) == Some(b'`') && self.peek(2) == Some(b'`') {
                self.i += 3;
                match self.src[self.i..].find("```") {
                    Some(end) => {
                        let s = self.src[self.i..self.i + end].to_string();
                        self.i += end + 3;
                        self.push(Tok::Str(s), start);
                    }
                    None => {
                        self.i = self.b.len();
                        self.error("unterminated multi-line string", start);
                    }
                }
                continue;
            }
            if c == b'\'' || c == b'"' {
                self.string(start, false);
                continue;
            }
            if c == b'@' && matches!(self.peek(1), Some(b'\'' | b'"')) {
                self.i += 1;
                self.string(start, true);
                continue;
            }
            // Obfuscated strings (`h'secret'`, `H@"x"`) have the plain string's value.
            if (c == b'h' || c == b'H') && matches!(self.peek(1), Some(b'\'' | b'"')) {
                self.i += 1;
                self.string(start, false);
                continue;
            }
            if (c == b'h' || c == b'H')
                && self.peek(1) == Some(b'@')
                && matches!(self.peek(2), Some(b'\'' | b'"'))
            {
                self.i += 2;
                self.string(start, true);
                continue;
            }
            if c.is_ascii_digit() {
                self.number(start);
                continue;
            }
            if c == b'.' && self.peek(1).is_some_and(|d| d.is_ascii_digit()) {
                // `.5` is a real; `a.5` never happens in Kusto.
                self.number(start);
                continue;
            }
            if is_ident_start(c) {
                self.ident(start);
                continue;
            }
            let two = (c, self.peek(1));
            let (tok, len) = match two {
                (b'=', Some(b'=')) => (Tok::EqEq, 2),
                (b'=', Some(b'~')) => (Tok::EqTilde, 2),
                (b'!', Some(b'=')) => (Tok::NotEq, 2),
                (b'!', Some(b'~')) => (Tok::NotTilde, 2),
                (b'<', Some(b'>')) => (Tok::NotEq, 2),
                (b'<', Some(b'=')) => (Tok::LtEq, 2),
                (b'>', Some(b'=')) => (Tok::GtEq, 2),
                (b'.', Some(b'.')) => (Tok::DotDot, 2),
                (b'|', _) => (Tok::Pipe, 1),
                (b'(', _) => (Tok::LParen, 1),
                (b')', _) => (Tok::RParen, 1),
                (b'[', _) => (Tok::LBracket, 1),
                (b']', _) => (Tok::RBracket, 1),
                (b'{', _) => (Tok::LBrace, 1),
                (b'}', _) => (Tok::RBrace, 1),
                (b',', _) => (Tok::Comma, 1),
                (b';', _) => (Tok::Semi, 1),
                (b'.', _) => (Tok::Dot, 1),
                (b':', _) => (Tok::Colon, 1),
                (b'=', _) => (Tok::Assign, 1),
                (b'<', _) => (Tok::Lt, 1),
                (b'>', _) => (Tok::Gt, 1),
                (b'+', _) => (Tok::Plus, 1),
                (b'-', _) => (Tok::Minus, 1),
                (b'*', _) => (Tok::Star, 1),
                (b'/', _) => (Tok::Slash, 1),
                (b'%', _) => (Tok::Percent, 1),
                (b'!', _) => (Tok::Bang, 1),
                (b'$', _) => (Tok::Dollar, 1),
                (b'~', _) => (Tok::Tilde, 1),
                (b'@', _) => (Tok::At, 1),
                _ => {
                    let ch = self.src[self.i..].chars().next().unwrap_or('?');
                    self.i += ch.len_utf8();
                    self.error(format!("unexpected character `{ch}`"), start);
                    continue;
                }
            };
            self.i += len;
            self.push(tok, start);
        }
        let end = self.b.len();
        self.out.push(Token {
            tok: Tok::Eof,
            span: Span::new(end, end),
        });
    }

    /// A quoted string; the cursor is on the opening quote.
    fn string(&mut self, start: usize, verbatim: bool) {
        let quote = self.b[self.i];
        self.i += 1;
        let mut s = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                self.error("unterminated string", start);
                break;
            };
            if c == quote {
                if verbatim && self.peek(1) == Some(quote) {
                    s.push(quote as char);
                    self.i += 2;
                    continue;
                }
                self.i += 1;
                self.push(Tok::Str(s), start);
                return;
            }
            if c == b'\n' && !verbatim {
                self.error("newline in string", start);
                break;
            }
            if c == b'\\' && !verbatim {
                let esc = self.peek(1);
                self.i += 2;
                match esc {
                    Some(b'n') => s.push('\n'),
                    Some(b't') => s.push('\t'),
                    Some(b'r') => s.push('\r'),
                    Some(b'0') => s.push('\0'),
                    Some(b'\\') => s.push('\\'),
                    Some(b'\'') => s.push('\''),
                    Some(b'"') => s.push('"'),
                    Some(b'u') => {
                        let hex = self.src.get(self.i..self.i + 4).unwrap_or("");
                        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                            Some(ch) => {
                                s.push(ch);
                                self.i += 4;
                            }
                            None => self.error("invalid \\u escape", start),
                        }
                    }
                    Some(_) => {
                        // Unknown escapes keep the character (Kusto's `\.` in regex strings
                        // must be written `\\.`; be lenient).
                        self.i -= 1;
                        let ch = self.src[self.i..].chars().next().unwrap_or('\\');
                        s.push('\\');
                        s.push(ch);
                        self.i += ch.len_utf8();
                    }
                    None => {
                        self.error("unterminated string", start);
                        break;
                    }
                }
                continue;
            }
            let ch = self.src[self.i..].chars().next().unwrap_or('?');
            s.push(ch);
            self.i += ch.len_utf8();
        }
        // Recovery: whatever was read becomes the string.
        self.push(Tok::Str(s), start);
    }

    fn number(&mut self, start: usize) {
        if self.b[self.i] == b'0' && matches!(self.peek(1), Some(b'x' | b'X')) {
            self.i += 2;
            let s = self.i;
            while self.peek(0).is_some_and(|c| c.is_ascii_hexdigit()) {
                self.i += 1;
            }
            match i64::from_str_radix(&self.src[s..self.i], 16) {
                Ok(v) => self.push(Tok::Int(v), start),
                Err(_) => self.error("invalid hexadecimal number", start),
            }
            return;
        }
        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let mut real = false;
        if self.peek(0) == Some(b'.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            real = true;
            self.i += 1;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        } else if self.peek(0) == Some(b'.')
            && self.peek(1) != Some(b'.')
            && !self.peek(1).is_some_and(is_ident_start)
        {
            // `1.` is a real.
            real = true;
            self.i += 1;
        }
        if matches!(self.peek(0), Some(b'e' | b'E'))
            && (self.peek(1).is_some_and(|c| c.is_ascii_digit())
                || (matches!(self.peek(1), Some(b'+' | b'-'))
                    && self.peek(2).is_some_and(|c| c.is_ascii_digit())))
        {
            real = true;
            self.i += 2;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        let text = &self.src[start..self.i];
        // A unit right after the number makes a timespan.
        if self.peek(0).is_some_and(|c| c.is_ascii_alphabetic()) {
            let s = self.i;
            while self.peek(0).is_some_and(is_ident_char) {
                self.i += 1;
            }
            let unit = &self.src[s..self.i];
            let Some(&(_, per)) = UNITS.iter().find(|(u, _)| *u == unit) else {
                self.error(format!("unknown timespan unit `{unit}`"), start);
                return;
            };
            match timespan_nanos(text, per) {
                Some(n) => self.push(Tok::Timespan(n), start),
                None => self.error("timespan out of range", start),
            }
            return;
        }
        if real {
            match text.parse::<f64>() {
                Ok(v) => self.push(Tok::Real(v), start),
                Err(_) => self.error("invalid number", start),
            }
        } else {
            match text.parse::<i64>() {
                Ok(v) => self.push(Tok::Int(v), start),
                Err(_) => match text.parse::<f64>() {
                    Ok(v) => self.push(Tok::Real(v), start),
                    Err(_) => self.error("invalid number", start),
                },
            }
        }
    }

    fn ident(&mut self, start: usize) {
        while self.peek(0).is_some_and(is_ident_char) {
            self.i += 1;
        }
        let mut word = self.src[start..self.i].to_string();
        // Hyphenated operator names.
        if self.peek(0) == Some(b'-') && self.peek(1).is_some_and(|c| c.is_ascii_alphabetic()) {
            let mut j = self.i + 1;
            while self.b.get(j).copied().is_some_and(is_ident_char) {
                j += 1;
            }
            let joined = &self.src[start..j];
            if HYPHENATED.contains(&joined) {
                self.i = j;
                word = joined.to_string();
            }
        }
        // Literals whose contents are raw text.
        let raw_kind = match word.as_str() {
            "datetime" | "date" => Some(0),
            "timespan" | "time" => Some(1),
            "guid" => Some(2),
            _ => None,
        };
        if let Some(kind) = raw_kind {
            let mut j = self.i;
            while self.b.get(j).is_some_and(|c| *c == b' ' || *c == b'\t') {
                j += 1;
            }
            if self.b.get(j) == Some(&b'(') {
                let body_start = j + 1;
                if let Some(close) = self.src[body_start..].find(')') {
                    let raw = self.src[body_start..body_start + close].trim().to_string();
                    self.i = body_start + close + 1;
                    let tok = match kind {
                        0 => Tok::DateTime(raw),
                        1 => Tok::TimespanRaw(raw),
                        _ => Tok::Guid(raw),
                    };
                    self.push(tok, start);
                    return;
                }
            }
        }
        self.push(Tok::Ident(word), start);
    }
}

/// `text` (a decimal number) times `per` nanoseconds.
fn timespan_nanos(text: &str, per: i128) -> Option<i128> {
    if let Ok(i) = text.parse::<i128>() {
        return i.checked_mul(per);
    }
    let f = text.parse::<f64>().ok()?;
    let n = f * per as f64;
    (n.is_finite() && n.abs() < 1e30).then(|| n.round() as i128)
}

/// Parses the raw text of a `timespan(…)` literal: a number with a unit (`1d`, `1.5h`), a bare
/// number (days), or `[-][d.]hh:mm[:ss[.fffffff]]`. `None` for `null` or malformed text.
pub fn parse_timespan_raw(raw: &str) -> Option<i128> {
    let t = raw.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("null") {
        return None;
    }
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let sign = if neg { -1 } else { 1 };
    if !t.contains(':') {
        let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let per = if unit.is_empty() {
            86_400_000_000_000
        } else {
            UNITS.iter().find(|(u, _)| *u == unit)?.1
        };
        return timespan_nanos(num, per).map(|n| n * sign);
    }
    // [d.]hh:mm[:ss[.fffffff]]
    let (days, rest) = match t.split_once('.') {
        Some((d, r)) if !d.contains(':') => (d.parse::<i128>().ok()?, r),
        _ => (0, t),
    };
    let mut parts = rest.split(':');
    let h: i128 = parts.next()?.parse().ok()?;
    let m: i128 = parts.next()?.parse().ok()?;
    let (s, frac) = match parts.next() {
        Some(sec) => match sec.split_once('.') {
            Some((s, f)) => {
                let digits: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
                (s.parse::<i128>().ok()?, digits.parse::<i128>().ok()?)
            }
            None => (sec.parse::<i128>().ok()?, 0),
        },
        None => (0, 0),
    };
    let total = ((days * 24 + h) * 60 + m) * 60 + s;
    Some(sign * (total * 1_000_000_000 + frac))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        let (t, e) = lex(s);
        assert!(e.is_empty(), "{e:?}");
        t.into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_kusto_literals() {
        assert_eq!(
            toks("T | project-away a"),
            vec![
                Tok::Ident("T".into()),
                Tok::Pipe,
                Tok::Ident("project-away".into()),
                Tok::Ident("a".into()),
                Tok::Eof
            ]
        );
        assert_eq!(toks("1d")[0], Tok::Timespan(86_400_000_000_000));
        assert_eq!(toks("1.5h")[0], Tok::Timespan(5_400_000_000_000));
        assert_eq!(toks("100ms")[0], Tok::Timespan(100_000_000));
        assert_eq!(toks(r"@'a\b'")[0], Tok::Str(r"a\b".into()));
        assert_eq!(toks(r#""a\"b""#)[0], Tok::Str("a\"b".into()));
        assert_eq!(
            toks("datetime(2017-01-29 09:00:05)")[0],
            Tok::DateTime("2017-01-29 09:00:05".into())
        );
        assert_eq!(toks("a - b").len(), 4);
        assert_eq!(toks("1.5")[0], Tok::Real(1.5));
        assert_eq!(toks("h'x'")[0], Tok::Str("x".into()));
        assert_eq!(parse_timespan_raw("1.00:00:00"), Some(86_400_000_000_000));
        assert_eq!(parse_timespan_raw("16d"), Some(16 * 86_400_000_000_000));
        assert_eq!(parse_timespan_raw("00:01:00"), Some(60_000_000_000));
    }
}
