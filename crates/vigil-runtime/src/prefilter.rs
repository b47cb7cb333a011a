//! "Don't parse what no rule can match": a record whose raw bytes contain none of the loaded
//! rules' required literals is skipped before it is parsed.
//!
//! Conservative by construction. A rule without a known literal set disables the skip; literals
//! are searched in their JSON-escaped form and without regard to ASCII case; a record holding
//! an escape that could hide a literal (`\u`, `\/`) is always parsed.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::memmem;
use vigil_plan::RequiredLiteral;

/// The compiled skip test for a rule pack.
#[derive(Debug, Clone)]
pub struct Prefilter {
    literals: AhoCorasick,
    count: usize,
}

impl Prefilter {
    /// Builds the skip from each rule's literal set; `None` when any rule has no set (it could
    /// match a record with none of the others' literals), or when there are no rules.
    pub fn new<'a>(
        sets: impl IntoIterator<Item = Option<&'a [RequiredLiteral]>>,
    ) -> Option<Prefilter> {
        let mut patterns: Vec<String> = Vec::new();
        let mut any_rule = false;
        for set in sets {
            any_rule = true;
            patterns.extend(set?.iter().map(|l| json_escaped(&l.text)));
        }
        if !any_rule {
            return None;
        }
        patterns.sort();
        patterns.dedup();
        let literals = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)
            .ok()?;
        Some(Prefilter {
            count: patterns.len(),
            literals,
        })
    }

    /// False only when no loaded rule can match the record.
    pub fn may_match(&self, raw: &[u8]) -> bool {
        self.literals.is_match(raw) || has_hiding_escape(raw)
    }

    /// Number of distinct literals searched.
    pub fn literal_count(&self) -> usize {
        self.count
    }
}

/// `\u` and `\/` can spell any character of a literal differently from its plain form.
fn has_hiding_escape(raw: &[u8]) -> bool {
    memmem::find_iter(raw, b"\\").any(|i| {
        // An escaped backslash (`\\`) is canonical; look at what the escape introduces.
        let run = raw[..=i].iter().rev().take_while(|&&b| b == b'\\').count();
        run % 2 == 1 && matches!(raw.get(i + 1), Some(b'u' | b'/'))
    })
}

/// The literal as it appears inside a JSON string.
fn json_escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> RequiredLiteral {
        RequiredLiteral {
            text: s.into(),
            case_insensitive: false,
        }
    }

    #[test]
    fn skips_only_records_without_literals() {
        let a = [lit("EXTENSIONS/WRITE")];
        let b = [lit(r"C:\Packages")];
        let p = Prefilter::new([Some(&a[..]), Some(&b[..])]).unwrap();
        assert!(p.may_match(
            br#"{"operationName":"MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE"}"#
        ));
        assert!(p.may_match(br#"{"op":"microsoft.compute/virtualmachines/extensions/write"}"#));
        assert!(p.may_match(br#"{"path":"C:\\Packages\\Plugins"}"#));
        assert!(!p.may_match(br#"{"operationName":"MICROSOFT.STORAGE/WRITE"}"#));
        // Escapes that could hide a literal force a parse; an escaped backslash does not.
        assert!(p.may_match(br#"{"op":"EXTENSIONS\/WRITE"}"#));
        assert!(p.may_match(br#"{"op":"\u0045XTENSIONS/WRITE"}"#));
        assert!(!p.may_match(br#"{"op":"a\\\\uxyz"}"#));
    }

    #[test]
    fn one_rule_without_literals_disables_the_skip() {
        let a = [lit("X")];
        assert!(Prefilter::new([Some(&a[..]), None]).is_none());
        assert!(Prefilter::new(std::iter::empty()).is_none());
    }
}
