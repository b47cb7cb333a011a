//! Wildcard matching (`*` any run, `?` one character) compiled for the common shapes: exact,
//! prefix, suffix and `*infix*` use plain string operations; other patterns match segment by
//! segment, leftmost-first, which is exact for `*` (a later segment can always start further on).

use memchr::memmem;
use vigil_plan::{WildcardPattern, WildcardToken};

use crate::compare::fold_case;

/// A compiled wildcard pattern.
#[derive(Clone, Debug)]
pub struct WildcardMatcher {
    shape: Shape,
    case_insensitive: bool,
}

#[derive(Clone, Debug)]
enum Shape {
    Everything,
    Exact(String),
    Prefix(String),
    Suffix(String),
    Infix(Box<memmem::Finder<'static>>),
    /// Segments separated by `*`; `anchored_start`/`anchored_end` say whether the pattern begins
    /// and ends without `*`.
    General {
        segments: Vec<Vec<Item>>,
        anchored_start: bool,
        anchored_end: bool,
    },
}

#[derive(Clone, Debug)]
enum Item {
    Lit(String),
    One,
}

impl WildcardMatcher {
    pub fn new(pattern: &WildcardPattern, case_insensitive: bool) -> WildcardMatcher {
        let fold = |s: &str| {
            if case_insensitive {
                fold_case(s)
            } else {
                s.to_string()
            }
        };
        // Merge adjacent literals and collapse runs of `*`.
        let mut tokens: Vec<WildcardToken> = Vec::new();
        for t in &pattern.tokens {
            match (tokens.last_mut(), t) {
                (Some(WildcardToken::Literal(prev)), WildcardToken::Literal(s)) => prev.push_str(s),
                (Some(WildcardToken::AnyRun), WildcardToken::AnyRun) => {}
                (_, WildcardToken::Literal(s)) if s.is_empty() => {}
                _ => tokens.push(t.clone()),
            }
        }
        use WildcardToken::{AnyRun, Literal};
        let shape = match tokens.as_slice() {
            [AnyRun] => Shape::Everything,
            [] => Shape::Exact(String::new()),
            [Literal(s)] => Shape::Exact(fold(s)),
            [Literal(s), AnyRun] => Shape::Prefix(fold(s)),
            [AnyRun, Literal(s)] => Shape::Suffix(fold(s)),
            [AnyRun, Literal(s), AnyRun] => Shape::Infix(Box::new(
                memmem::Finder::new(fold(s).as_bytes()).into_owned(),
            )),
            _ => {
                let anchored_start = !matches!(tokens.first(), Some(AnyRun));
                let anchored_end = !matches!(tokens.last(), Some(AnyRun));
                let mut segments = vec![Vec::new()];
                for t in &tokens {
                    match t {
                        AnyRun => segments.push(Vec::new()),
                        WildcardToken::AnyOne => {
                            segments.last_mut().map_or((), |s| s.push(Item::One))
                        }
                        Literal(s) => segments
                            .last_mut()
                            .map_or((), |seg| seg.push(Item::Lit(fold(s)))),
                    }
                }
                Shape::General {
                    segments,
                    anchored_start,
                    anchored_end,
                }
            }
        };
        WildcardMatcher {
            shape,
            case_insensitive,
        }
    }

    pub fn matches(&self, value: &str) -> bool {
        if self.case_insensitive && !matches!(self.shape, Shape::Everything) {
            return self.matches_folded(&fold_case(value));
        }
        self.matches_folded(value)
    }

    fn matches_folded(&self, v: &str) -> bool {
        match &self.shape {
            Shape::Everything => true,
            Shape::Exact(s) => v == s,
            Shape::Prefix(s) => v.starts_with(s.as_str()),
            Shape::Suffix(s) => v.ends_with(s.as_str()),
            Shape::Infix(f) => f.find(v.as_bytes()).is_some(),
            Shape::General {
                segments,
                anchored_start,
                anchored_end,
            } => match_general(v, segments, *anchored_start, *anchored_end),
        }
    }
}

fn match_general(
    v: &str,
    segments: &[Vec<Item>],
    anchored_start: bool,
    anchored_end: bool,
) -> bool {
    let n = segments.len();
    let mut pos = 0;
    for (i, seg) in segments.iter().enumerate() {
        let first = i == 0;
        let last = i == n - 1;
        if seg.is_empty() {
            if last && anchored_end {
                return pos == v.len();
            }
            continue;
        }
        if last && anchored_end {
            // The last segment must sit at the very end; its width in chars is fixed.
            let Some(start) = end_start(v, seg) else {
                return false;
            };
            if start < pos || (first && anchored_start && start != 0) {
                return false;
            }
            return match_at(v, start, seg) == Some(v.len());
        }
        if first && anchored_start {
            match match_at(v, 0, seg) {
                Some(end) => pos = end,
                None => return false,
            }
            continue;
        }
        match find_from(v, pos, seg) {
            Some(end) => pos = end,
            None => return false,
        }
    }
    true
}

/// Matches a segment at byte offset `at`; returns the end offset.
fn match_at(v: &str, at: usize, seg: &[Item]) -> Option<usize> {
    let mut p = at;
    for item in seg {
        match item {
            Item::Lit(s) => {
                if !v.get(p..)?.starts_with(s.as_str()) {
                    return None;
                }
                p += s.len();
            }
            Item::One => p += v.get(p..)?.chars().next()?.len_utf8(),
        }
    }
    Some(p)
}

/// Leftmost match of a segment starting at or after `from`.
fn find_from(v: &str, from: usize, seg: &[Item]) -> Option<usize> {
    let mut start = from;
    while start <= v.len() {
        if v.is_char_boundary(start)
            && let Some(end) = match_at(v, start, seg)
        {
            return Some(end);
        }
        start += 1;
    }
    None
}

/// Where a segment would have to start to end exactly at the end of `v`.
fn end_start(v: &str, seg: &[Item]) -> Option<usize> {
    let mut p = v.len();
    for item in seg.iter().rev() {
        match item {
            Item::Lit(s) => p = p.checked_sub(s.len())?,
            Item::One => p -= v.get(..p)?.chars().next_back()?.len_utf8(),
        }
    }
    v.is_char_boundary(p).then_some(p)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn pat(s: &str) -> WildcardPattern {
        let mut tokens = Vec::new();
        for c in s.chars() {
            tokens.push(match c {
                '*' => WildcardToken::AnyRun,
                '?' => WildcardToken::AnyOne,
                c => WildcardToken::Literal(c.to_string()),
            });
        }
        WildcardPattern { tokens }
    }

    fn m(p: &str, v: &str) -> bool {
        WildcardMatcher::new(&pat(p), false).matches(v)
    }

    /// Reference matcher: exhaustive recursion over characters.
    fn reference(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|i| reference(rest, &v[i..])),
            Some(('?', rest)) => !v.is_empty() && reference(rest, &v[1..]),
            Some((c, rest)) => v.first() == Some(c) && reference(rest, &v[1..]),
        }
    }

    #[test]
    fn shapes() {
        assert!(m("*", ""));
        assert!(m("abc", "abc") && !m("abc", "abcd"));
        assert!(m("ab*", "abzz") && !m("ab*", "zab"));
        assert!(m("*bc", "zzbc") && !m("*bc", "bcz"));
        assert!(m("*CUSTOMSCRIPT*", "VM/EXTENSIONS/CUSTOMSCRIPTEXTENSION"));
        assert!(m("a*b*c", "a-b-b-c") && !m("a*b*c", "a-c-b"));
        assert!(m("a?c", "abc") && !m("a?c", "ac"));
        assert!(m("*?", "é") && !m("?", ""));
        assert!(m("a*\n*b", "a\n\nb") && !m("a*\n*b", "xa\nb"));
        assert!(m("*\n*", "line1\nline2"));
    }

    #[test]
    fn case_insensitive() {
        let w = WildcardMatcher::new(&pat("*powershell*"), true);
        assert!(w.matches("C:\\Windows\\PowerShell.EXE"));
    }

    proptest! {
        #[test]
        fn agrees_with_reference(p in "[ab*?]{0,7}", v in "[abc]{0,8}") {
            let pc: Vec<char> = p.chars().collect();
            let vc: Vec<char> = v.chars().collect();
            prop_assert_eq!(m(&p, &v), reference(&pc, &vc), "pattern {:?} value {:?}", p, v);
        }
    }
}
