//! Tokens of kuery, following the character classes of Kibana's grammar.
//!
//! Hand-written rather than generated: whether a word is a keyword depends on the whitespace
//! around it (`a or b` has a keyword, `a or` and `(a)or(b)` do not), and unquoted values run
//! across spaces until a keyword or a special character, which a regular token grammar cannot
//! express.

use vigil_plan::Span;

use crate::ast::WildPart;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Colon,
    Lt,
    Lte,
    Gt,
    Gte,
    Or,
    And,
    Not,
    /// A double-quoted string, escapes resolved.
    Quoted(String),
    /// An unquoted literal, escapes resolved, trimmed; `Star` marks an unescaped `*`.
    Unquoted(Vec<WildPart>),
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// A lexical error: a bad escape or an unterminated string.
#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    pub message: String,
    pub span: Span,
}

/// Kibana's `Space`: space, tab, CR, LF and no-break space.
pub fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{a0}')
}

/// Characters that end an unquoted literal unless escaped.
fn is_special(c: char) -> bool {
    matches!(
        c,
        '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}'
    )
}

pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer { src, pos: 0 }
    }

    /// All tokens, ending with `Eof`.
    pub fn tokenize(mut self) -> Result<Vec<Token>, LexError> {
        let mut out = Vec::new();
        loop {
            let t = self.next_token()?;
            let eof = t.tok == Tok::Eof;
            out.push(t);
            if eof {
                return Ok(out);
            }
        }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// `word` (ASCII, any case) at byte offset `at`, followed by a space.
    fn keyword_at(&self, at: usize, word: &str) -> bool {
        let s = &self.src[at..];
        s.len() > word.len()
            && s.as_bytes()[..word.len()].eq_ignore_ascii_case(word.as_bytes())
            && s[word.len()..].chars().next().is_some_and(is_space)
    }

    /// Kibana's `Keyword` lookahead at byte offset `at`: `Space or Space`, `Space and Space`,
    /// `not Space`.
    fn keyword_lookahead(&self, at: usize) -> bool {
        let s = &self.src[at..];
        if let Some(c) = s.chars().next()
            && is_space(c)
        {
            let after = at + c.len_utf8();
            if self.keyword_at(after, "or") || self.keyword_at(after, "and") {
                return true;
            }
        }
        self.keyword_at(at, "not")
    }

    fn skip_spaces(&mut self) {
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn next_token(&mut self) -> Result<Token, LexError> {
        // A run of spaces followed by `or`/`and` and a space is a keyword.
        if self.peek().is_some_and(is_space) {
            self.skip_spaces();
            for (word, tok) in [("or", Tok::Or), ("and", Tok::And)] {
                if self.keyword_at(self.pos, word) {
                    let kw_start = self.pos;
                    self.pos += word.len();
                    let span = Span::new(kw_start, self.pos);
                    self.skip_spaces();
                    return Ok(Token { tok, span });
                }
            }
        }
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        };
        if self.keyword_at(start, "not") {
            self.pos += 3;
            let span = Span::new(start, self.pos);
            self.skip_spaces();
            return Ok(Token {
                tok: Tok::Not,
                span,
            });
        }
        let single = |tok: Tok, len: usize, lx: &mut Lexer<'_>| {
            lx.pos += len;
            Ok(Token {
                tok,
                span: Span::new(start, start + len),
            })
        };
        match c {
            '(' => single(Tok::LParen, 1, self),
            ')' => single(Tok::RParen, 1, self),
            '{' => single(Tok::LBrace, 1, self),
            '}' => single(Tok::RBrace, 1, self),
            ':' => single(Tok::Colon, 1, self),
            '<' if self.rest().starts_with("<=") => single(Tok::Lte, 2, self),
            '>' if self.rest().starts_with(">=") => single(Tok::Gte, 2, self),
            '<' => single(Tok::Lt, 1, self),
            '>' => single(Tok::Gt, 1, self),
            '"' => self.quoted(),
            _ => self.unquoted(),
        }
    }

    fn quoted(&mut self) -> Result<Token, LexError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(LexError {
                    message: "unterminated string: expected a closing `\"`".into(),
                    span: Span::new(start, self.pos),
                });
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(Token {
                        tok: Tok::Quoted(out),
                        span: Span::new(start, self.pos),
                    });
                }
                '\\' => {
                    let after = &self.rest()[1..];
                    if let Some((ch, len)) =
                        escaped_whitespace(after).or_else(|| unicode_escape(after))
                    {
                        out.push(ch);
                        self.pos += 1 + len;
                    } else if let Some(ch @ ('\\' | '"')) = after.chars().next() {
                        out.push(ch);
                        self.pos += 2;
                    } else {
                        // Any other backslash is an ordinary character inside quotes.
                        out.push('\\');
                        self.pos += 1;
                    }
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn unquoted(&mut self) -> Result<Token, LexError> {
        let start = self.pos;
        let mut parts: Vec<WildPart> = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                let after = &self.rest()[1..];
                let esc = escaped_whitespace(after)
                    .or_else(|| {
                        after
                            .chars()
                            .next()
                            .filter(|c| is_special(*c))
                            .map(|c| (c, c.len_utf8()))
                    })
                    .or_else(|| unicode_escape(after));
                if let Some((ch, len)) = esc {
                    text.push(ch);
                    self.pos += 1 + len;
                    continue;
                }
                if let Some(kw) = ["or", "and", "not"].into_iter().find(|kw| {
                    after.len() >= kw.len()
                        && after.as_bytes()[..kw.len()].eq_ignore_ascii_case(kw.as_bytes())
                }) {
                    text.push_str(&after[..kw.len()]);
                    self.pos += 1 + kw.len();
                    continue;
                }
                let bad: String = after.chars().take(1).collect();
                return Err(LexError {
                    message: format!(
                        "invalid escape `\\{bad}`: only \\t \\r \\n, \\uXXXX, the keywords and the special characters \\ ( ) : < > \" * {{ }} can be escaped"
                    ),
                    span: Span::new(self.pos, self.pos + 1 + bad.len()),
                });
            }
            if c == '*' {
                if !text.is_empty() {
                    parts.push(WildPart::Text(std::mem::take(&mut text)));
                }
                parts.push(WildPart::Star);
                self.pos += 1;
                continue;
            }
            if is_special(c) || self.keyword_lookahead(self.pos) {
                break;
            }
            text.push(c);
            self.pos += c.len_utf8();
        }
        if !text.is_empty() {
            parts.push(WildPart::Text(text));
        }
        trim_parts(&mut parts);
        Ok(Token {
            tok: Tok::Unquoted(parts),
            span: Span::new(start, self.pos),
        })
    }
}

/// `\t`, `\r`, `\n` (after the backslash).
fn escaped_whitespace(after: &str) -> Option<(char, usize)> {
    match after.chars().next()? {
        't' => Some(('\t', 1)),
        'r' => Some(('\r', 1)),
        'n' => Some(('\n', 1)),
        _ => None,
    }
}

/// `uXXXX` (after the backslash).
fn unicode_escape(after: &str) -> Option<(char, usize)> {
    let hex = after.strip_prefix('u')?.get(..4)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let code = u32::from_str_radix(hex, 16).ok()?;
    Some((char::from_u32(code).unwrap_or('\u{fffd}'), 5))
}

/// Kibana trims the joined characters with JavaScript's `trim()`.
fn trim_parts(parts: &mut Vec<WildPart>) {
    let is_js_space = |c: char| c.is_whitespace() || c == '\u{feff}';
    if let Some(WildPart::Text(t)) = parts.first_mut() {
        *t = t.trim_start_matches(is_js_space).to_string();
    }
    if let Some(WildPart::Text(t)) = parts.last_mut() {
        *t = t.trim_end_matches(is_js_space).to_string();
    }
    parts.retain(|p| !matches!(p, WildPart::Text(t) if t.is_empty()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        Lexer::new(s)
            .tokenize()
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    fn text(s: &str) -> Tok {
        Tok::Unquoted(vec![WildPart::Text(s.into())])
    }

    #[test]
    fn keywords_need_their_spaces() {
        assert_eq!(
            toks("a or b"),
            vec![text("a"), Tok::Or, text("b"), Tok::Eof]
        );
        assert_eq!(
            toks("a OR b"),
            vec![text("a"), Tok::Or, text("b"), Tok::Eof]
        );
        assert_eq!(toks("a or"), vec![text("a or"), Tok::Eof]);
        assert_eq!(toks("not a"), vec![Tok::Not, text("a"), Tok::Eof]);
        assert_eq!(toks("nota"), vec![text("nota"), Tok::Eof]);
        assert_eq!(toks("(a)or(b)")[3], text("or"));
    }

    #[test]
    fn unquoted_values_run_across_spaces() {
        assert_eq!(
            toks("f: S3 Browser"),
            vec![text("f"), Tok::Colon, text("S3 Browser"), Tok::Eof]
        );
        assert_eq!(
            toks("f:*S3 B*"),
            vec![
                text("f"),
                Tok::Colon,
                Tok::Unquoted(vec![
                    WildPart::Star,
                    WildPart::Text("S3 B".into()),
                    WildPart::Star
                ]),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(toks(r"a\:b")[0], text("a:b"));
        assert_eq!(toks(r"a\*")[0], text("a*"));
        assert_eq!(toks(r"\u0041")[0], text("A"));
        assert_eq!(toks(r"x \or y")[0], text("x or y"));
        assert_eq!(
            toks(r"\nx")[0],
            text("x"),
            "an escaped newline is trimmed like any space"
        );
        assert!(Lexer::new(r"a\qb").tokenize().is_err());
        assert!(Lexer::new(r"a\'b").tokenize().is_err());
        assert_eq!(
            toks(r#""C:\Windows\\x \"q\"""#)[0],
            Tok::Quoted(r#"C:\Windows\x "q""#.into())
        );
        assert!(Lexer::new("\"open").tokenize().is_err());
    }
}
