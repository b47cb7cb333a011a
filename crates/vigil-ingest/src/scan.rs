//! A resumable, non-recursive JSON validator for one value.
//!
//! The framer needs to know where a value ends (pretty-printed records, concatenated values,
//! streamed array elements) and whether it is well-formed, without building it: the decoder
//! parses it later with projection pushdown. The scanner checks the full JSON grammar (tokens,
//! literals, numbers, escapes, control characters) with an explicit nesting stack, so hostile
//! depth cannot overflow the thread's stack, and it can stop at the end of a buffer and resume
//! when more bytes arrive. It does not check UTF-8: the framer validates each finished record
//! with `std::str::from_utf8`, which is faster than doing it byte by byte here.

use vigil_event::MAX_DEPTH;

// The nesting stack is one bit per level in a u128.
const _: () = assert!(MAX_DEPTH <= 128);

/// Outcome of feeding bytes to the [`Scanner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The value ends just before this index.
    Done(usize),
    /// Every byte was consumed and the value is still open.
    More,
    /// The byte at this index makes the value invalid.
    Err(usize, ScanError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanError {
    Syntax(&'static str),
    TooDeep,
    /// The input ended inside the value.
    Truncated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    /// Expecting a value.
    Value,
    /// After `[`: a value or `]`.
    ArrFirst,
    /// After `{`: a key or `}`.
    ObjFirst,
    /// After `,` in an object: a key.
    Key,
    Colon,
    /// After a value inside a container: `,` or the closer.
    After,
    Str,
    Esc,
    Hex(u8),
    Num(Num),
    /// Literal index into `LITS`, bytes matched so far.
    Lit(u8, u8),
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    E,
    ESign,
    Exp,
}

const LITS: [&[u8]; 3] = [b"true", b"false", b"null"];

#[derive(Debug, Clone)]
pub(crate) struct Scanner {
    st: St,
    /// The string being scanned is an object key.
    key: bool,
    depth: u32,
    /// Bit `d` is set when level `d + 1` is an object, clear when an array.
    stack: u128,
}

impl Scanner {
    pub(crate) fn new() -> Scanner {
        Scanner {
            st: St::Value,
            key: false,
            depth: 0,
            stack: 0,
        }
    }

    /// Starts a new value.
    pub(crate) fn begin(&mut self) {
        *self = Scanner::new();
    }

    /// Starts inside an object, right after one of its values: used to skip what follows an
    /// envelope's `records` array up to the envelope's closing brace.
    pub(crate) fn begin_after_value_in_object(&mut self) {
        *self = Scanner {
            st: St::After,
            key: false,
            depth: 1,
            stack: 1,
        };
    }

    /// Scans `b[i..]`, continuing the value where the previous call stopped.
    pub(crate) fn feed(&mut self, b: &[u8], i: usize) -> Scan {
        // Scanning works on a local copy, which the compiler keeps in registers; the state goes
        // back into `self` when the scan stops.
        let mut m = self.clone();
        let r = m.run(b, i);
        *self = m;
        r
    }

    #[inline(always)]
    fn run(&mut self, b: &[u8], mut i: usize) -> Scan {
        let n = b.len();
        loop {
            match self.st {
                St::Str => match find_special(b.get(i..).unwrap_or_default()) {
                    None => return Scan::More,
                    Some(k) => {
                        i += k;
                        match b[i] {
                            b'"' => {
                                i += 1;
                                if !self.key {
                                    if let Some(s) = self.value_end_fast(b, &mut i) {
                                        return s;
                                    }
                                } else if b.get(i) == Some(&b':') {
                                    // `"key":` with no blank: straight to the value.
                                    i += 1;
                                    self.st = St::Value;
                                } else {
                                    self.st = St::Colon;
                                }
                            }
                            b'\\' => {
                                i += 1;
                                self.st = St::Esc;
                            }
                            _ => return err(i, "control character in string"),
                        }
                    }
                },
                St::Esc => {
                    let Some(&c) = b.get(i) else {
                        return Scan::More;
                    };
                    self.st = match c {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => St::Str,
                        b'u' => St::Hex(4),
                        _ => return err(i, "invalid escape in string"),
                    };
                    i += 1;
                }
                St::Hex(left) => {
                    let Some(&c) = b.get(i) else {
                        return Scan::More;
                    };
                    if !c.is_ascii_hexdigit() {
                        return err(i, "invalid \\u escape in string");
                    }
                    i += 1;
                    self.st = if left <= 1 {
                        St::Str
                    } else {
                        St::Hex(left - 1)
                    };
                }
                St::Num(mut ns) => loop {
                    if matches!(ns, Num::Int | Num::Frac | Num::Exp) {
                        // Digit runs are most of a number.
                        while i < n && b[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                    let Some(&c) = b.get(i) else {
                        self.st = St::Num(ns);
                        return Scan::More;
                    };
                    ns = match (ns, c) {
                        (Num::Minus, b'0') => Num::Zero,
                        (Num::Minus, b'1'..=b'9') => Num::Int,
                        (Num::Zero | Num::Int, b'.') => Num::Dot,
                        (Num::Dot, b'0'..=b'9') => Num::Frac,
                        (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Num::E,
                        (Num::E, b'+' | b'-') => Num::ESign,
                        (Num::E | Num::ESign, b'0'..=b'9') => Num::Exp,
                        (Num::Zero | Num::Int | Num::Frac | Num::Exp, _) => {
                            // The number ended before `c`, which the next state examines.
                            if let Some(s) = self.value_end_fast(b, &mut i) {
                                return s;
                            }
                            break;
                        }
                        _ => return err(i, "invalid number"),
                    };
                    i += 1;
                },
                St::Lit(which, k) => {
                    let rest = &LITS[usize::from(which)][usize::from(k)..];
                    let avail = &b[i..n.min(i + rest.len())];
                    if let Some(bad) = avail.iter().zip(rest).position(|(x, y)| x != y) {
                        return err(i + bad, "invalid literal");
                    }
                    i += avail.len();
                    if avail.len() < rest.len() {
                        self.st = St::Lit(which, k + avail.len() as u8);
                        return Scan::More;
                    }
                    if let Some(s) = self.value_end(i) {
                        return s;
                    }
                }
                St::Done => return Scan::Done(i),
                St::Value => {
                    let Some(c) = next_token(b, &mut i) else {
                        return Scan::More;
                    };
                    if let Err(s) = self.start_value(c, i) {
                        return s;
                    }
                    i += 1;
                }
                St::ArrFirst => {
                    let Some(c) = next_token(b, &mut i) else {
                        return Scan::More;
                    };
                    i += 1;
                    if c == b']' {
                        if let Some(s) = self.close(i) {
                            return s;
                        }
                    } else if let Err(s) = self.start_value(c, i - 1) {
                        return s;
                    }
                }
                St::ObjFirst | St::Key => {
                    let Some(c) = next_token(b, &mut i) else {
                        return Scan::More;
                    };
                    if c == b'"' {
                        self.key = true;
                        self.st = St::Str;
                        i += 1;
                    } else if c == b'}' && self.st == St::ObjFirst {
                        i += 1;
                        if let Some(s) = self.close(i) {
                            return s;
                        }
                    } else {
                        return err(i, "expected a string key");
                    }
                }
                St::Colon => {
                    let Some(c) = next_token(b, &mut i) else {
                        return Scan::More;
                    };
                    if c != b':' {
                        return err(i, "expected ':' after a key");
                    }
                    self.st = St::Value;
                    i += 1;
                }
                St::After => {
                    let Some(c) = next_token(b, &mut i) else {
                        return Scan::More;
                    };
                    let in_object = self.top_is_object();
                    match c {
                        b',' => {
                            self.st = if in_object { St::Key } else { St::Value };
                            i += 1;
                        }
                        b'}' if in_object => {
                            i += 1;
                            if let Some(s) = self.close(i) {
                                return s;
                            }
                        }
                        b']' if !in_object => {
                            i += 1;
                            if let Some(s) = self.close(i) {
                                return s;
                            }
                        }
                        _ if in_object => return err(i, "expected ',' or '}'"),
                        _ => return err(i, "expected ',' or ']'"),
                    }
                }
            }
        }
    }

    /// The input ended (end of file, or of the line in NDJSON) while the value was open: only a
    /// top-level number can end there.
    pub(crate) fn finish(&self, end: usize) -> Scan {
        match self.st {
            St::Done => Scan::Done(end),
            St::Num(Num::Zero | Num::Int | Num::Frac | Num::Exp) if self.depth == 0 => {
                Scan::Done(end)
            }
            _ => Scan::Err(end, ScanError::Truncated),
        }
    }

    #[inline(always)]
    fn start_value(&mut self, c: u8, i: usize) -> Result<(), Scan> {
        self.st = match c {
            b'{' => {
                self.push(true, i)?;
                St::ObjFirst
            }
            b'[' => {
                self.push(false, i)?;
                St::ArrFirst
            }
            b'"' => {
                self.key = false;
                St::Str
            }
            b'-' => St::Num(Num::Minus),
            b'0' => St::Num(Num::Zero),
            b'1'..=b'9' => St::Num(Num::Int),
            b't' => St::Lit(0, 1),
            b'f' => St::Lit(1, 1),
            b'n' => St::Lit(2, 1),
            _ => return Err(err(i, "expected a value")),
        };
        Ok(())
    }

    #[inline(always)]
    fn push(&mut self, object: bool, i: usize) -> Result<(), Scan> {
        if self.depth as usize >= MAX_DEPTH {
            return Err(Scan::Err(i, ScanError::TooDeep));
        }
        let bit = 1u128 << self.depth;
        if object {
            self.stack |= bit;
        } else {
            self.stack &= !bit;
        }
        self.depth += 1;
        Ok(())
    }

    #[inline(always)]
    fn top_is_object(&self) -> bool {
        self.depth > 0 && (self.stack >> (self.depth - 1)) & 1 == 1
    }

    #[inline(always)]
    fn close(&mut self, i: usize) -> Option<Scan> {
        self.depth = self.depth.saturating_sub(1);
        self.value_end(i)
    }

    /// [`Scanner::value_end`], then, inside an object, `,"` (the next key) without a trip
    /// through the state dispatch: the commonest sequence in a compact record.
    #[inline(always)]
    fn value_end_fast(&mut self, b: &[u8], i: &mut usize) -> Option<Scan> {
        let done = self.value_end(*i);
        if done.is_none()
            && b.get(*i) == Some(&b',')
            && b.get(*i + 1) == Some(&b'"')
            && self.top_is_object()
        {
            *i += 2;
            self.key = true;
            self.st = St::Str;
        }
        done
    }

    /// A value ended before `i`: the whole value if it was the outermost one.
    #[inline(always)]
    fn value_end(&mut self, i: usize) -> Option<Scan> {
        if self.depth == 0 {
            self.st = St::Done;
            Some(Scan::Done(i))
        } else {
            self.st = St::After;
            None
        }
    }
}

/// Skips whitespace; the next byte, at `*i`, if there is one.
#[inline(always)]
fn next_token(b: &[u8], i: &mut usize) -> Option<u8> {
    while let Some(&c) = b.get(*i) {
        if !is_ws(c) {
            return Some(c);
        }
        *i += 1;
    }
    None
}

fn err(i: usize, msg: &'static str) -> Scan {
    Scan::Err(i, ScanError::Syntax(msg))
}

pub(crate) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// Index of the first `"`, `\` or control character: everything a string scan stops at.
///
/// Eight bytes at a time (SWAR): strings are most of an Activity Log record's bytes, and most of
/// them are shorter than the set-up cost of a SIMD search.
#[inline]
fn find_special(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const QUOTE: u64 = LO * b'"' as u64;
    const BACKSLASH: u64 = LO * b'\\' as u64;
    const SPACE: u64 = LO * 0x20;
    let mut chunks = s.chunks_exact(8);
    let mut off = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let q = x ^ QUOTE;
        let b = x ^ BACKSLASH;
        // Each term flags its lowest matching byte exactly (false positives only sit above a
        // true one), so the lowest flag of the union is a true match.
        let m =
            ((q.wrapping_sub(LO) & !q) | (b.wrapping_sub(LO) & !b) | (x.wrapping_sub(SPACE) & !x))
                & HI;
        if m != 0 {
            return Some(off + (m.trailing_zeros() / 8) as usize);
        }
        off += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|k| off + k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(text: &[u8]) -> Scan {
        let mut sc = Scanner::new();
        match sc.feed(text, 0) {
            Scan::More => sc.finish(text.len()),
            other => other,
        }
    }

    #[test]
    fn valid_values() {
        for text in [
            &br#"{"a":[1,-2.5e+3,0,0.1,true,false,null,"x\"\\\u00e9"],"b":{}}"#[..],
            b"[]",
            b"[ [ ] , { } ]",
            b"\"s\"",
            b"-0",
            b"12",
            b"true",
        ] {
            assert_eq!(
                scan_all(text),
                Scan::Done(text.len()),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn value_ends_before_trailing_bytes() {
        assert_eq!(scan_all(b"{} {}"), Scan::Done(2));
        assert_eq!(scan_all(b"12,"), Scan::Done(2));
        assert_eq!(scan_all(b"true}"), Scan::Done(4));
    }

    #[test]
    fn invalid_values() {
        for (text, at) in [
            (&b"{\"a\":1,}"[..], 7),
            (b"{\"a\" 1}", 5),
            (b"[1,]", 3),
            (b"{\"a\":tru}", 8),
            (b"{\"a\":01}", 6),
            (b"{\"a\":1.}", 7),
            (b"{\"a\":\"\\x\"}", 7),
            (b"{\"a\":\"\\u12g4\"}", 10),
            (b"{\"a\":\"x\ny\"}", 7),
            (b"[1}", 2),
            (b"{1:2}", 1),
            (b"}", 0),
        ] {
            match scan_all(text) {
                Scan::Err(i, ScanError::Syntax(_)) => {
                    assert_eq!(i, at, "{}", String::from_utf8_lossy(text));
                }
                other => panic!("{}: {other:?}", String::from_utf8_lossy(text)),
            }
        }
        assert_eq!(scan_all(b"{\"a\":"), Scan::Err(5, ScanError::Truncated));
    }

    #[test]
    fn depth_limit() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert_eq!(scan_all(ok.as_bytes()), Scan::Done(ok.len()));
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(
            scan_all(deep.as_bytes()),
            Scan::Err(MAX_DEPTH, ScanError::TooDeep)
        );
    }

    #[test]
    fn resumes_at_every_split_point() {
        let text = br#"{"a" : [1, -2.5e+3, true, null, "x\"\u00e9y"], "b": {"c": false}} "#;
        for split in 0..text.len() {
            let mut sc = Scanner::new();
            let first = sc.feed(&text[..split], 0);
            let r = match first {
                Scan::More => sc.feed(text, split),
                other => other,
            };
            assert_eq!(r, Scan::Done(text.len() - 1), "split at {split}");
        }
    }

    #[test]
    fn special_bytes() {
        assert_eq!(find_special(b"abcdefghij\"k"), Some(10));
        assert_eq!(find_special(b"abcdefgh\\"), Some(8));
        assert_eq!(find_special(b"ab\x01"), Some(2));
        assert_eq!(find_special("h\u{e9}llo w\u{f6}rld\"".as_bytes()), Some(13));
        assert_eq!(find_special(b"abcdefghijklmnop"), None);
    }
}
