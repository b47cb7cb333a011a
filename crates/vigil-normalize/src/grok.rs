//! The pipeline's two grok processors, compiled by hand.
//!
//! Elasticsearch runs a grok as a regex search (unanchored) of the alternation `(?:p1)|(?:p2)`,
//! leftmost-first: the match starting leftmost wins, the earlier pattern on a tie, and within a
//! match every greedy quantifier takes as much as still lets the rest match. The patterns
//! below are fixed, so their matches can be computed directly instead of by a backtracking
//! engine (the regex version cost 10–20 µs a record). What the patterns imply, and what the
//! code relies on:
//!
//! - `.` is any character but `\n`, and `(?m)$` is the end of a line: a `.+` never leaves the
//!   line it starts in. `[^/]` does match `\n`.
//! - `\w` is Unicode-aware (`\p{Alphabetic}`, marks, decimal digits, connector punctuation,
//!   joiners); `[A-Za-z]`, `[0-9a-fA-F]` and the user-name classes are ASCII.
//! - A greedy `.+` followed by a literal ends at the *last* occurrence of the literal (on its
//!   line) after which the rest matches: `/PROVIDERS/` twice in a group name puts the first
//!   into the group.
//! - A `\w+` followed by something that is not a word character must take the whole run of
//!   word characters; only a following `.` lets it give one back.
//!
//! Differential tests compare these matchers with the regex implementation they replace
//! (`tests/oracle/grok.rs`, fancy-regex) on generated ids and names. The one known difference:
//! on ids so long and repetitive that fancy-regex hits its backtracking limit in the second
//! grok, fancy-regex reports no match and these matchers still find it.

/// The `azure.*` fields the shared pipeline's grok chain cuts out of a resource id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ResourceIdParts<'a> {
    pub subscription_id: Option<&'a str>,
    pub group: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub name: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub authorization_rule: Option<&'a str>,
}

impl<'a> ResourceIdParts<'a> {
    /// The fields that were set, as (ECS field, value).
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&'static str, &'a str)> {
        [
            ("azure.subscription_id", self.subscription_id),
            ("azure.resource.group", self.group),
            ("azure.resource.provider", self.provider),
            ("azure.resource.name", self.name),
            ("azure.resource.namespace", self.namespace),
            ("azure.resource.authorization_rule", self.authorization_rule),
        ]
        .into_iter()
        .filter_map(|(field, value)| value.map(|v| (field, v)))
    }
}

/// The literal path segments of one spelling of the patterns.
struct Spelling {
    subscriptions: &'static [u8],
    resource_groups: &'static [u8],
    providers: &'static [u8],
    namespaces: &'static [u8],
    authorization_rules: &'static [u8],
}

const UPPER: Spelling = Spelling {
    subscriptions: b"/SUBSCRIPTIONS/",
    resource_groups: b"/RESOURCEGROUPS/",
    providers: b"/PROVIDERS/",
    namespaces: b"/NAMESPACES/",
    authorization_rules: b"/AUTHORIZATIONRULES/",
};

const CAMEL: Spelling = Spelling {
    subscriptions: b"/subscriptions/",
    resource_groups: b"/resourceGroups/",
    providers: b"/providers/",
    namespaces: b"/namespaces/",
    authorization_rules: b"/authorizationRules/",
};

/// Runs the shared pipeline's grok chain (`azure-shared-pipeline` 1b08d3b5) on a string
/// resource id. The first grok always runs, the others only while no subscription id was found;
/// a later grok overwrites the fields it sets.
///
/// 1. `/SUBSCRIPTIONS/%{SUBID}/RESOURCEGROUPS/%{GROUPID}/PROVIDERS/%{PROVIDERNAME}/NAMESPACES/
///    %{NAMESPACE}/AUTHORIZATIONRULES/%{RULE}` (all but SUBID `.+`),
/// 2. `…/PROVIDERS/%{PROVIDERNAME}/%{NAME}` with `PROVIDERNAME`
///    `([A-Za-z])\w+.([A-Za-z])\w+/([A-Za-z])\w+.` and `NAME` `((?!AUTHORIZATIONRULES).)*$`,
/// 3. the same with the stricter `PROVIDERNAME` `([A-Za-z])\w+.([A-Za-z])\w+\/([A-Za-z][^\/])\w+`
///    and `NAME` `.+`,
/// 4. `/providers/%{PROVIDER}` (`.+`, provider only),
/// 5. `/SUBSCRIPTIONS/%{SUBID}/PROVIDERS/%{PROVIDERNAME}` (strict),
/// 6. `/SUBSCRIPTIONS/%{SUBID}/RESOURCEGROUPS/%{GROUPID}`,
/// 7. `/SUBSCRIPTIONS/%{SUBID}`,
///
/// each in an upper-case and a camel-case spelling (only the `/…/` segments differ; NAME's
/// lookahead is upper-case in both). `resourcegroups` in lower case matches neither spelling.
pub(crate) fn resource_id_parts(text: &str) -> ResourceIdParts<'_> {
    let id = &Id::new(text);
    let mut parts = ResourceIdParts::default();
    if let Some(p) = either(|sp| authorization_rule(id, sp)) {
        return p;
    }
    if let Some(p) = either(|sp| resource_in_group(id, sp, Tail::Name)) {
        return p;
    }
    if let Some(p) = either(|sp| resource_in_group(id, sp, Tail::Strict)) {
        return p;
    }
    // The fourth grok lists its camel-case pattern first; a tie cannot happen anyway.
    let providers = [&CAMEL, &UPPER]
        .into_iter()
        .filter_map(|sp| any_provider(id, sp))
        .min_by_key(|(start, _)| *start);
    parts.provider = providers.map(|(_, provider)| provider);
    if let Some((sub, provider)) = either(|sp| subscription_provider(id, sp)) {
        parts.subscription_id = Some(sub);
        parts.provider = Some(provider);
    } else if let Some((sub, group)) = either(|sp| subscription_group(id, sp)) {
        parts.subscription_id = Some(sub);
        parts.group = Some(group);
    } else if let Some(sub) = either(|sp| subscription(id, sp)) {
        parts.subscription_id = Some(sub);
    }
    parts
}

/// A resource id, with what the matchers look up repeatedly computed once.
struct Id<'a> {
    text: &'a str,
    /// The offsets of its `/`: every `/…/` literal of the patterns starts at one.
    slashes: Vec<usize>,
    /// Whether it holds a `\n` (which ends the lines `.` and `$` see).
    multiline: bool,
}

impl<'a> Id<'a> {
    fn new(text: &'a str) -> Id<'a> {
        let mut slashes = Vec::with_capacity(16);
        let mut multiline = false;
        for (i, c) in text.bytes().enumerate() {
            match c {
                b'/' => slashes.push(i),
                b'\n' => multiline = true,
                _ => {}
            }
        }
        Id {
            text,
            slashes,
            multiline,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Whether the literal `needle` (starting with `/`) occurs at `p`, a slash.
    fn literal_at(&self, p: usize, needle: &[u8]) -> bool {
        let b = &self.bytes()[p..];
        // The second byte tells the literals apart, without a full comparison.
        b.get(1) == needle.get(1) && b.starts_with(needle)
    }

    /// The first occurrence of the literal `needle` at or after `from`.
    fn find(&self, needle: &[u8], from: usize) -> Option<usize> {
        let first = self.slashes.partition_point(|p| *p < from);
        self.slashes[first..]
            .iter()
            .copied()
            .find(|p| self.literal_at(*p, needle))
    }

    /// The last occurrence of the literal `needle` ending at or before `end`.
    fn rfind(&self, needle: &[u8], end: usize) -> Option<usize> {
        self.slashes
            .iter()
            .rev()
            .copied()
            .find(|p| p + needle.len() <= end && self.literal_at(*p, needle))
    }

    /// The end of the line holding byte `i`: the next `\n`, or the end of the text.
    fn line_end(&self, i: usize) -> usize {
        if !self.multiline {
            return self.text.len();
        }
        self.bytes()[i..]
            .iter()
            .position(|c| *c == b'\n')
            .map_or(self.text.len(), |k| i + k)
    }

    /// Whether `AUTHORIZATIONRULES` occurs in the line's part `start..end` (it holds no `\n`,
    /// so one starting in a line also ends in it).
    fn authorization_rules_in(&self, start: usize, end: usize) -> bool {
        const AUTHORIZATIONRULES: &[u8] = b"AUTHORIZATIONRULES";
        self.bytes()[start..end]
            .windows(AUTHORIZATIONRULES.len())
            .any(|w| w[0] == b'A' && w == AUTHORIZATIONRULES)
    }
}

/// A grok of two patterns: the leftmost match (by start offset), the upper-case pattern on a
/// tie. `f` returns a match's start and value.
fn either<T>(f: impl Fn(&'static Spelling) -> Option<(usize, T)>) -> Option<T> {
    match (f(&UPPER), f(&CAMEL)) {
        (Some((a, x)), Some((b, _))) if a <= b => Some(x),
        (_, Some((_, y))) => Some(y),
        (x, None) => x.map(|(_, x)| x),
    }
}

/// The `/SUBSCRIPTIONS/%{SUBID}` prefixes of `id`, leftmost first: (start of the match, the
/// subscription id, offset after it).
fn subscriptions<'a, 'b>(
    id: &'b Id<'a>,
    sp: &'static Spelling,
) -> impl Iterator<Item = (usize, &'a str, usize)> + 'b {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(p) = id.find(sp.subscriptions, from) {
            from = p + 1;
            let start = p + sp.subscriptions.len();
            if let Some(end) = subid_end(id.bytes(), start) {
                return Some((p, &id.text[start..end], end));
            }
        }
        None
    })
}

/// `(\{){0,1}[0-9a-fA-F]{8}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{12}(\}){0,1}`
/// at `i`. Every pattern continues with `/` or ends after it, so the optional braces are taken
/// whenever present: giving one back can never let the rest match.
fn subid_end(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'{') {
        i += 1;
    }
    for (k, n) in [8, 4, 4, 4, 12].into_iter().enumerate() {
        if k > 0 {
            (b.get(i) == Some(&b'-')).then_some(())?;
            i += 1;
        }
        let hex = b.get(i..i + n)?;
        hex.iter().all(u8::is_ascii_hexdigit).then_some(())?;
        i += n;
    }
    if b.get(i) == Some(&b'}') {
        i += 1;
    }
    Some(i)
}

/// The subscription-and-group prefix `/SUBSCRIPTIONS/%{SUBID}/RESOURCEGROUPS/` of the first
/// three groks, leftmost first: (match start, subscription id, offset of the group).
///
/// Only the first such prefix of each line is returned. What follows the prefix is `.+` and
/// then literals, so a later prefix on the same line has a subset of the first one's
/// candidate matches: if the first fails, so do the others.
fn group_prefixes<'a, 'b>(
    id: &'b Id<'a>,
    sp: &'static Spelling,
) -> impl Iterator<Item = (usize, &'a str, usize)> + 'b {
    let mut line_done = 0;
    subscriptions(id, sp).filter_map(move |(p, sub, after)| {
        if p < line_done || !id.bytes()[after..].starts_with(sp.resource_groups) {
            return None;
        }
        line_done = id.line_end(p);
        Some((p, sub, after + sp.resource_groups.len()))
    })
}

/// Grok 1: `…/RESOURCEGROUPS/(.+)/PROVIDERS/(.+)/NAMESPACES/(.+)/AUTHORIZATIONRULES/(.+)`.
/// All groups lie on the group's line; working backwards from the end of the line, each greedy
/// group ends at the last occurrence of its literal that leaves room for the groups after it.
fn authorization_rule<'a>(
    id: &Id<'a>,
    sp: &'static Spelling,
) -> Option<(usize, ResourceIdParts<'a>)> {
    let text = id.text;
    group_prefixes(id, sp).find_map(|(p, sub, q)| {
        let end = id.line_end(q);
        // Each `.+` needs at least one character, hence the `- 1`s.
        let rule_at = id.rfind(sp.authorization_rules, end.checked_sub(1)?)?;
        let namespace_at = id.rfind(sp.namespaces, rule_at.checked_sub(1)?)?;
        let provider_at = id.rfind(sp.providers, namespace_at.checked_sub(1)?)?;
        if provider_at <= q {
            return None;
        }
        let parts = ResourceIdParts {
            subscription_id: Some(sub),
            group: Some(&text[q..provider_at]),
            provider: Some(&text[provider_at + sp.providers.len()..namespace_at]),
            namespace: Some(&text[namespace_at + sp.namespaces.len()..rule_at]),
            authorization_rule: Some(&text[rule_at + sp.authorization_rules.len()..end]),
            name: None,
        };
        Some((p, parts))
    })
}

/// What follows `/PROVIDERS/` in groks 2 and 3.
#[derive(Clone, Copy)]
enum Tail {
    /// Grok 2: `([A-Za-z])\w+.([A-Za-z])\w+/([A-Za-z])\w+./((?!AUTHORIZATIONRULES).)*$`.
    Name,
    /// Grok 3: `([A-Za-z])\w+.([A-Za-z])\w+\/([A-Za-z][^\/])\w+/(.+)`.
    Strict,
}

/// Groks 2 and 3: `…/RESOURCEGROUPS/(.+)/PROVIDERS/<tail>`. The greedy group tries the
/// `/PROVIDERS/` segments of its line from the last to the first.
fn resource_in_group<'a>(
    id: &Id<'a>,
    sp: &'static Spelling,
    tail: Tail,
) -> Option<(usize, ResourceIdParts<'a>)> {
    let (text, b) = (id.text, id.bytes());
    group_prefixes(id, sp).find_map(|(p, sub, q)| {
        let mut end = id.line_end(q);
        while let Some(at) = id.rfind(sp.providers, end) {
            if at <= q {
                break;
            }
            end = at + sp.providers.len() - 1;
            let s = at + sp.providers.len();
            let found = match tail {
                Tail::Name => provider_and_name(id, s),
                Tail::Strict => strict_provider(id, s, |provider_end| {
                    // `/(.+)`: the rest of the line after a `/`, at least one character.
                    let rest = provider_end + 1;
                    (b.get(provider_end) == Some(&b'/') && id.line_end(rest) > rest)
                        .then(|| (provider_end, rest, id.line_end(rest)))
                }),
            };
            if let Some((provider_end, name_start, name_end)) = found {
                let parts = ResourceIdParts {
                    subscription_id: Some(sub),
                    group: Some(&text[q..at]),
                    provider: Some(&text[s..provider_end]),
                    name: Some(&text[name_start..name_end]),
                    ..ResourceIdParts::default()
                };
                return Some((p, parts));
            }
        }
        None
    })
}

/// Grok 4: `/providers/(.+)`: the first segment with something after it on its line.
fn any_provider<'a>(id: &Id<'a>, sp: &'static Spelling) -> Option<(usize, &'a str)> {
    let mut from = 0;
    while let Some(at) = id.find(sp.providers, from) {
        let s = at + sp.providers.len();
        let end = id.line_end(s);
        if end > s {
            return Some((at, &id.text[s..end]));
        }
        from = at + 1;
    }
    None
}

/// Grok 5: `/SUBSCRIPTIONS/%{SUBID}/PROVIDERS/` and the strict provider name, nothing after.
fn subscription_provider<'a>(
    id: &Id<'a>,
    sp: &'static Spelling,
) -> Option<(usize, (&'a str, &'a str))> {
    subscriptions(id, sp).find_map(|(p, sub, after)| {
        if !id.bytes()[after..].starts_with(sp.providers) {
            return None;
        }
        let s = after + sp.providers.len();
        let end = strict_provider(id, s, Some)?;
        Some((p, (sub, &id.text[s..end])))
    })
}

/// Grok 6: `/SUBSCRIPTIONS/%{SUBID}/RESOURCEGROUPS/(.+)`.
fn subscription_group<'a>(
    id: &Id<'a>,
    sp: &'static Spelling,
) -> Option<(usize, (&'a str, &'a str))> {
    subscriptions(id, sp).find_map(|(p, sub, after)| {
        if !id.bytes()[after..].starts_with(sp.resource_groups) {
            return None;
        }
        let q = after + sp.resource_groups.len();
        let end = id.line_end(q);
        (end > q).then(|| (p, (sub, &id.text[q..end])))
    })
}

/// Grok 7: `/SUBSCRIPTIONS/%{SUBID}`.
fn subscription<'a>(id: &Id<'a>, sp: &'static Spelling) -> Option<(usize, &'a str)> {
    subscriptions(id, sp).next().map(|(p, sub, _)| (p, sub))
}

/// The start of both provider-name patterns, `([A-Za-z])\w+.([A-Za-z])\w+/`, at `s`: the
/// offsets after the `/` that a backtracking matcher would try, in its order (at most two).
///
/// The first `\w+` (a run of `m` word characters) is followed by `.`:
/// - taking the whole run, `.` is the character after it and the second `[A-Za-z]\w+/` follows;
/// - giving back `k ≥ 3` characters, `.` and `[A-Za-z]` fall inside the run and the second
///   `\w+` ends where the run does, so a `/` must follow the run. Every such `k` leads to the
///   same offset; it takes an ASCII letter at one of the run's positions `2..=m-2`;
/// - giving back one or two leaves `[A-Za-z]` or `\w+` facing the non-word character after the
///   run, which fails.
fn provider_front(id: &Id<'_>, s: usize) -> [Option<usize>; 2] {
    let (text, b) = (id.text, id.bytes());
    if !b.get(s).is_some_and(u8::is_ascii_alphabetic) {
        return [None, None];
    }
    let run_end = word_run_end(text, s + 1);
    if run_end == s + 1 {
        return [None, None];
    }
    let whole = any_char_end(text, run_end).and_then(|x| {
        if !b.get(x).is_some_and(u8::is_ascii_alphabetic) {
            return None;
        }
        let end2 = word_run_end(text, x + 1);
        (end2 > x + 1 && b.get(end2) == Some(&b'/')).then_some(end2 + 1)
    });
    let run = &text[s + 1..run_end];
    let m = run.chars().count();
    let shorter = (m >= 4
        && b.get(run_end) == Some(&b'/')
        && run
            .chars()
            .enumerate()
            .any(|(j, c)| (2..=m - 2).contains(&j) && c.is_ascii_alphabetic()))
    .then_some(run_end + 1);
    [whole, shorter]
}

/// Grok 2's provider and name at `s`: `…([A-Za-z])\w+./((?!AUTHORIZATIONRULES).)*$` after
/// [`provider_front`]. Returns (provider end, name start, name end).
///
/// The third `\w+` run is followed by `.` and `/`: either `.` is the character after the run
/// (tried first), or it is the run's last character and the `/` directly follows the run. The
/// name is the rest of the line and matches when no `AUTHORIZATIONRULES` starts in it.
fn provider_and_name(id: &Id<'_>, s: usize) -> Option<(usize, usize, usize)> {
    let (text, b) = (id.text, id.bytes());
    provider_front(id, s).into_iter().flatten().find_map(|r| {
        if !b.get(r).is_some_and(u8::is_ascii_alphabetic) {
            return None;
        }
        let run_end = word_run_end(text, r + 1);
        if run_end == r + 1 {
            return None;
        }
        let whole = any_char_end(text, run_end).filter(|x| b.get(*x) == Some(&b'/'));
        let shorter = (text[r + 1..run_end].chars().nth(1).is_some()
            && b.get(run_end) == Some(&b'/'))
        .then_some(run_end);
        [whole, shorter]
            .into_iter()
            .flatten()
            .find_map(|provider_end| {
                let name = provider_end + 1;
                let end = id.line_end(name);
                (!id.authorization_rules_in(name, end)).then_some((provider_end, name, end))
            })
    })
}

/// The strict provider name at `s`: [`provider_front`], then `([A-Za-z][^\/])\w+`, the `\w+`
/// taking its whole run (groks 3 and 5 continue with `/` or end there), then `rest` at its
/// end: the first alternative for which `rest` succeeds.
fn strict_provider<T>(id: &Id<'_>, s: usize, rest: impl Fn(usize) -> Option<T>) -> Option<T> {
    let (text, b) = (id.text, id.bytes());
    provider_front(id, s).into_iter().flatten().find_map(|r| {
        if !b.get(r).is_some_and(u8::is_ascii_alphabetic) {
            return None;
        }
        let c = text[r + 1..].chars().next().filter(|c| *c != '/')?;
        let w = r + 1 + c.len_utf8();
        let end = word_run_end(text, w);
        if end == w {
            return None;
        }
        rest(end)
    })
}

/// Regex `\w`: Unicode word characters.
fn is_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        matches!(regex_syntax::try_is_word_character(c), Ok(true))
    }
}

/// The end of the run of word characters starting at byte `i`.
fn word_run_end(text: &str, i: usize) -> usize {
    // ASCII first, byte by byte; from the first other character on, by characters.
    let b = text.as_bytes();
    let mut j = i;
    while b
        .get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        j += 1;
    }
    if b.get(j).is_some_and(|c| !c.is_ascii()) {
        return text[j..]
            .char_indices()
            .find(|(_, c)| !is_word(*c))
            .map_or(text.len(), |(k, _)| j + k);
    }
    j
}

/// Regex `.` at byte `i`: the offset after the character, unless it is `\n` or the end.
fn any_char_end(text: &str, i: usize) -> Option<usize> {
    let c = text[i..].chars().next().filter(|c| *c != '\n')?;
    Some(i + c.len_utf8())
}

/// The default pipeline's grok `%{USERNAME:user.name}@%{HOSTNAME:user.domain}` on the caller's
/// name claim: (user name, domain) of the leftmost match.
///
/// `USERNAME` is `[a-zA-Z0-9._-]+`, which cannot hold `@`, so the leftmost match is at the
/// first `@` that has a user-name character before it and an ASCII letter or digit after it
/// (where `HOSTNAME`'s `\b` then holds); the user name is the run of user-name characters
/// before that `@`. `HOSTNAME` is
/// `\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(\.?|\b)`;
/// nothing follows it, so each greedy part simply takes what it can, and `\.?` a final dot.
pub(crate) fn user_at_domain(name: &str) -> Option<(&str, &str)> {
    let b = name.as_bytes();
    let is_user = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-');
    let is_label = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-';
    let mut from = 0;
    while let Some(k) = b[from..].iter().position(|c| *c == b'@') {
        let at = from + k;
        from = at + 1;
        let start = b[..at]
            .iter()
            .rposition(|c| !is_user(c))
            .map_or(0, |i| i + 1);
        if start == at || !b.get(at + 1).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        // A label: a letter or digit, then up to 62 letters, digits or hyphens.
        let label_end = |i: usize| {
            i + 1
                + b[i + 1..]
                    .iter()
                    .take(62)
                    .take_while(|c| is_label(c))
                    .count()
        };
        let mut end = label_end(at + 1);
        while b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric) {
            end = label_end(end + 1);
        }
        if b.get(end) == Some(&b'.') {
            end += 1;
        }
        return Some((&name[start..at], &name[at + 1..end]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(id: &str) -> Vec<(String, String)> {
        let mut f: Vec<_> = resource_id_parts(id)
            .fields()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        f.sort();
        f
    }

    fn expect(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<_> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.sort();
        v
    }

    const SUB: &str = "11111111-2222-3333-4444-555555555555";

    // Our own restatement of the VM-extension cases: the greedy group backtracks to the one
    // PROVIDERS segment, and the provider's trailing `.` eats the last letter of the type.
    #[test]
    fn vm_extension_ids() {
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINES",
                "VM1/EXTENSIONS/CUSTOMSCRIPT",
                "VIRTUALMACHINES/VM1/EXTENSIONS/CUSTOMSCRIPT",
            ),
            (
                "RG-HAT6H48Q",
                "MICROSOFT.COMPUTE/VIRTUALMACHINES",
                "VM-HAT6H48Q/EXTENSIONS/CUSTOMSCRIPTEXTENSION-STRATUS-EXAMPLE",
                "VIRTUALMACHINES/VM-HAT6H48Q/EXTENSIONS/CUSTOMSCRIPTEXTENSION-STRATUS-EXAMPLE",
            ),
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS",
                "VMSS1/EXTENSIONS/DSC",
                "VIRTUALMACHINESCALESETS/VMSS1/EXTENSIONS/DSC",
            ),
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINES",
                "VM1",
                "VIRTUALMACHINES/VM1",
            ),
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINES",
                "VM1/RUNCOMMANDS/MYRUNCMD",
                "VIRTUALMACHINES/VM1/RUNCOMMANDS/MYRUNCMD",
            ),
            (
                "RG",
                "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS",
                "VMSS1/VIRTUALMACHINES/0",
                "VIRTUALMACHINESCALESETS/VMSS1/VIRTUALMACHINES/0",
            ),
        ];
        for (group, provider, name, tail) in cases {
            let id = format!(
                "/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/{group}/PROVIDERS/MICROSOFT.COMPUTE/{tail}"
            );
            assert_eq!(
                fields(&id),
                expect(&[
                    ("azure.resource.group", group),
                    ("azure.resource.name", name),
                    ("azure.resource.provider", provider),
                    ("azure.subscription_id", SUB),
                ]),
                "{id}"
            );
        }
    }

    #[test]
    fn camel_case_ids() {
        let id = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/extensions/CustomScriptExtension"
        );
        assert_eq!(
            fields(&id),
            expect(&[
                ("azure.resource.group", "rg"),
                (
                    "azure.resource.name",
                    "vm1/extensions/CustomScriptExtension"
                ),
                (
                    "azure.resource.provider",
                    "Microsoft.Compute/virtualMachines"
                ),
                ("azure.subscription_id", SUB),
            ])
        );
    }

    // `resourcegroups` in lower case matches neither spelling of the group patterns: only the
    // bare `/providers/` grok and then the subscription grok apply.
    #[test]
    fn lower_case_resourcegroups_falls_through() {
        let id = format!(
            "/subscriptions/{SUB}/resourcegroups/SecuraAllRG/providers/Microsoft.Compute/virtualMachines/SecuraAllVM/extensions/OMSExtension"
        );
        assert_eq!(
            fields(&id),
            expect(&[
                (
                    "azure.resource.provider",
                    "Microsoft.Compute/virtualMachines/SecuraAllVM/extensions/OMSExtension"
                ),
                ("azure.subscription_id", SUB),
            ])
        );
    }

    #[test]
    fn authorization_rules() {
        let id = format!(
            "/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/SA-HEMA/PROVIDERS/MICROSOFT.EVENTHUB/NAMESPACES/AZURELSEVENTS/AUTHORIZATIONRULES/ROOTMANAGESHAREDACCESSKEY"
        );
        assert_eq!(
            fields(&id),
            expect(&[
                (
                    "azure.resource.authorization_rule",
                    "ROOTMANAGESHAREDACCESSKEY"
                ),
                ("azure.resource.group", "SA-HEMA"),
                ("azure.resource.namespace", "AZURELSEVENTS"),
                ("azure.resource.provider", "MICROSOFT.EVENTHUB"),
                ("azure.subscription_id", SUB),
            ])
        );
    }

    #[test]
    fn subscription_and_tenant_level_ids() {
        assert_eq!(
            fields(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.domainRegistration"
            )),
            expect(&[
                ("azure.resource.provider", "Microsoft.domainRegistration"),
                ("azure.subscription_id", SUB),
            ])
        );
        assert_eq!(
            fields("/TeNaNtS/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/PrOvIdErS/Microsoft.aadiam"),
            vec![]
        );
        assert_eq!(
            fields("/tenants/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/providers/Microsoft.aadiam"),
            expect(&[("azure.resource.provider", "Microsoft.aadiam")])
        );
        assert_eq!(
            fields(&format!("/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG")),
            expect(&[
                ("azure.resource.group", "RG"),
                ("azure.subscription_id", SUB)
            ])
        );
        assert_eq!(
            fields(&format!("/subscriptions/{{{SUB}}}")),
            expect(&[("azure.subscription_id", &format!("{{{SUB}}}"))])
        );
        assert_eq!(fields("not an id"), vec![]);
    }

    // The search is unanchored: a prefix before the id does not stop the match.
    #[test]
    fn unanchored_search() {
        assert_eq!(
            fields(&format!("x/SUBSCRIPTIONS/{SUB}")),
            expect(&[("azure.subscription_id", SUB)])
        );
    }

    #[test]
    fn user_at_domain_cases() {
        assert_eq!(
            user_at_domain("john.doe@contoso.onmicrosoft.com"),
            Some(("john.doe", "contoso.onmicrosoft.com"))
        );
        assert_eq!(
            user_at_domain("Jane Doe <jane@x.com>"),
            Some(("jane", "x.com"))
        );
        assert_eq!(user_at_domain("John Doe"), None);
        assert_eq!(user_at_domain("josé@x.com"), None);
        assert_eq!(
            user_at_domain("live.com#user@outlook.com"),
            Some(("user", "outlook.com"))
        );
    }

    use crate::grok_oracle as oracle;
    use proptest::prelude::*;

    fn oracle_fields(id: &str) -> Vec<(String, String)> {
        let mut f = oracle::resource_id_fields(id);
        f.sort();
        f
    }

    /// Pieces of resource ids: the patterns' literals in every spelling and some near misses,
    /// subscription ids with and without braces (some malformed), provider-like names, word
    /// and non-word characters (ASCII and not: `é`, a combining mark, `٣`, `‿` and the zero
    /// width joiner are `\w`; `²`, `€` and the space are not), separators and newlines.
    pub(super) fn id_piece() -> impl Strategy<Value = String> {
        let fixed = prop::sample::select(vec![
            "/SUBSCRIPTIONS/",
            "/subscriptions/",
            "/Subscriptions/",
            "/RESOURCEGROUPS/",
            "/resourceGroups/",
            "/resourcegroups/",
            "/PROVIDERS/",
            "/providers/",
            "/NAMESPACES/",
            "/namespaces/",
            "/AUTHORIZATIONRULES/",
            "/authorizationRules/",
            "AUTHORIZATIONRULES",
            "11111111-2222-3333-4444-555555555555",
            "{8d2f4b6a-1c3e-4f5a-9b7d-2e6c8a0f4d13}",
            "{aBcDeF01-2345-6789-abcd-ef0123456789",
            "1111111-2222-3333-4444-555555555555",
            "MICROSOFT.COMPUTE/VIRTUALMACHINES",
            "Microsoft.Compute/virtualMachines",
            "MICROSOFT.EVENTHUB",
            "Microsoft.aadiam",
            "VIRTUALMACHINES",
            "EXTENSIONS",
            "/",
            "//",
            ".",
            "-",
            "_",
            "{",
            "}",
            "\n",
            " ",
            "é",
            "\u{301}",
            "٣",
            "‿",
            "\u{200d}",
            "²",
            "€",
            "中",
        ])
        .prop_map(str::to_string);
        prop_oneof![
            3 => fixed,
            1 => "[A-Za-z0-9._-]{1,6}",
            1 => "[a-zA-Z/.é٣²\n-]{1,4}",
        ]
    }

    /// Ids built like real ones (`/SUBSCRIPTIONS/<id>/RESOURCEGROUPS/<group>/PROVIDERS/<provider>
    /// /<name>…`) in one spelling, from realistic and odd parts; now and then one of the fixed
    /// parts is spoiled (mixed spelling, malformed subscription id, doubled or missing slash).
    pub(super) fn structured_id() -> impl Strategy<Value = String> {
        let group = prop_oneof![
            3 => "[A-Za-z0-9-]{0,4}".boxed(),
            1 => prop::collection::vec(id_piece(), 0..3).prop_map(|p| p.concat()).boxed(),
        ];
        let provider = prop_oneof![
            3 => prop::sample::select(vec![
                "MICROSOFT.COMPUTE/VIRTUALMACHINES",
                "Microsoft.Compute/virtualMachines",
                "MICROSOFT.EVENTHUB",
                "Microsoft.aadiam",
                "A.B/CD",
                "AB1CD/EF",
                "ABCDEF/GH",
                "Ab\u{203f}c.D/E\u{200d}F",
                "M\u{301}s.C٣/Vé",
            ])
            .prop_map(str::to_string),
            1 => "[A-Za-z][A-Za-z0-9_]{0,5}[.é/ -]?[A-Za-z][A-Za-z0-9_é٣]{0,5}/?[A-Za-z]?[^/]?[A-Za-z0-9_²é]{0,5}",
        ];
        let name = prop_oneof![
            4 => "/[A-Za-z0-9é-]{1,6}",
            1 => "[/\n]?",
        ];
        let segment = prop_oneof![
            3 => "/[A-Za-z0-9_.-]{0,8}".boxed(),
            2 => id_piece().boxed(),
            1 => prop::sample::select(vec![
                "/NAMESPACES/ns",
                "/AUTHORIZATIONRULES/r",
                "/namespaces/ns/authorizationRules/r",
                "/NAMESPACES/N/AUTHORIZATIONRULES/",
                "/NAMESPACES/N/AUTHORIZATIONRULES/R",
                "/PROVIDERS/x",
                "/PROVIDERS/PROVIDERS/",
                "/providers/Microsoft.Web/sites/a",
            ])
            .prop_map(str::to_string)
            .boxed(),
        ];
        (
            any::<bool>(),
            0..12usize,
            any::<bool>(),
            0..4usize,
            group,
            (provider, name, prop::collection::vec(segment, 0..6)),
        )
            .prop_map(
                |(upper, spoil, braces, groups, group, (provider, name, rest))| {
                    let sp = if upper { &UPPER } else { &CAMEL };
                    let lit = |b: &'static [u8]| String::from_utf8_lossy(b).into_owned();
                    let mut parts = [
                        lit(sp.subscriptions),
                        if braces {
                            "{aBcDeF01-2345-6789-abcd-ef0123456789}".to_string()
                        } else {
                            "11111111-2222-3333-4444-555555555555".to_string()
                        },
                        if groups > 0 {
                            format!("{}{group}", lit(sp.resource_groups))
                        } else {
                            String::new()
                        },
                        lit(sp.providers),
                    ];
                    let other = if upper { &CAMEL } else { &UPPER };
                    match spoil {
                        0 => parts[0] = lit(other.subscriptions),
                        1 => parts[1].pop().map_or((), drop),
                        2 => parts[1].remove(0).to_string().clear(),
                        3 => parts[2] = format!("/resourcegroups/{group}"),
                        4 => parts[3] = lit(other.providers),
                        5 => parts[3].push('/'),
                        6 => parts[0].insert(0, 'x'),
                        _ => {}
                    }
                    format!("{}{provider}{name}{}", parts.concat(), rest.concat())
                },
            )
    }

    /// Resource ids: strings of pieces, and ids shaped like real ones.
    fn any_id() -> impl Strategy<Value = String> {
        prop_oneof![
            1 => prop::collection::vec(id_piece(), 0..14).prop_map(|p| p.concat()),
            2 => structured_id(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6000))]

        #[test]
        fn resource_id_chain_matches_the_regex_oracle(id in any_id()) {
            prop_assert_eq!(fields(&id), oracle_fields(&id), "{:?}", id);
        }

        #[test]
        fn user_at_domain_matches_the_regex_oracle(
            name in prop_oneof![
                "[a-zA-Z0-9._@ <>#é-]{0,24}",
                ("[a-z.]{0,8}", "[a-z0-9-]{0,70}", prop::collection::vec("[a-z0-9.-]{0,66}", 0..4))
                    .prop_map(|(u, h, more)| format!("{u}@{h}{}", more.concat())),
            ]
        ) {
            let Ok(g) = &*oracle::USER_AT_DOMAIN else { panic!("oracle compiles") };
            let expected = g.captures(&name).map(|c| {
                let get = |f: &str| c.iter().find(|(k, _)| k == f).map(|(_, v)| v.clone());
                (get("user.name"), get("user.domain"))
            });
            let ours = user_at_domain(&name)
                .map(|(u, d)| (Some(u.to_string()), Some(d.to_string())));
            prop_assert_eq!(ours, expected, "{:?}", name);
        }
    }

    /// Hand-picked ids around each rule the matchers rely on, checked against the oracle.
    #[test]
    fn tricky_ids_match_the_regex_oracle() {
        let s = SUB;
        let ids = [
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/B/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/X"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/X/PROVIDERS/Y"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/X/AUTHORIZATIONRULES/Y"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/P/NAMESPACES/N/AUTHORIZATIONRULES/R/AUTHORIZATIONRULES/"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/P/NAMESPACES/N/AUTHORIZATIONRULES/"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/PROVIDERS/Bx/Cy./z"),
            format!("/subscriptions/{s}/resourceGroups/A/providers/Aa0aA/aéé/A-a-/AUTHORIZATIONRULES/r"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/ABCDEF/GH/X"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/AB1CD/EF/X"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/A.B/CD//X"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/A.B/C\nD/X"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A\n/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/B/PROVIDERS/A.B/CD/X"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/B/PROVIDERS/A.B/CD/X"),
            format!("/SUBSCRIPTIONS/{{{s}}}/PROVIDERS/Microsoft.Compute/virtualMachines/x"),
            format!("/SUBSCRIPTIONS/{{{s}/PROVIDERS/Mé.Cé/vé"),
            format!("/subscriptions/{s}/providers/M\u{301}x.C٣/a²b"),
            format!("/SUBSCRIPTIONS/{s}/RESOURCEGROUPS/A/PROVIDERS/Ab‿c.D/E\u{200d}F/"),
            format!("/subscriptions/{s}/resourceGroups/rg/PROVIDERS/x/providers/Microsoft.Web/sites/a"),
            // Cases the differential test once shrank to.
            "/subscriptions/aBcDeF01-2345-6789-abcd-ef0123456789}/providers/MICROSOFT.COMPUTE/VIRTUALMACHINES/0".to_string(),
            "/subscriptions/{aBcDeF01-2345-6789-abcd-ef0123456789/resourceGroups/a/providers/AB1CD/EF/aA-/AUTHORIZATIONRULES/r".to_string(),
            "x/subscriptions/11111111-2222-3333-4444-555555555555/providers/MICROSOFT.EVENTHUB/A/a-".to_string(),
            "/subscriptions/{aBcDeF01-2345-6789-abcd-ef0123456789/providers/aA_a0/Aaa/aa0".to_string(),
            "x/subscriptions/11111111-2222-3333-4444-555555555555/providers/aaAA²/a\né".to_string(),
            "x/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/A/providers/AB1CD/EF/é".to_string(),
            "/subscriptions/{aBcDeF01-2345-6789-abcd-ef0123456789/resourceGroups/A/providers/AB1CD/EF//".to_string(),
            "x/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/a/providers/MICROSOFT.EVENTHUB/Aa///providers/Microsoft.Web/sites/a".to_string(),
            "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS//providers/MICROSOFT.COMPUTE/VIRTUALMACHINES/A/PROVIDERS/PROVIDERS/aAA/".to_string(),
            "x/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/A/providers/Aa0aA/aéé/A-a-/AUTHORIZATIONRULES/r".to_string(),
        ];
        for id in ids {
            assert_eq!(fields(&id), oracle_fields(&id), "{id:?}");
        }
    }

    /// The generators reach every grok of the chain (else the differential test above would
    /// prove little).
    #[test]
    fn generated_ids_reach_every_grok() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut rules, mut names, mut groups, mut providers, mut none) = (0, 0, 0, 0, 0);
        for _ in 0..2000 {
            let Ok(tree) = any_id().new_tree(&mut runner) else {
                continue;
            };
            let id = tree.current();
            let p = resource_id_parts(&id);
            match (p.authorization_rule, p.name, p.group, p.provider) {
                (Some(_), ..) => rules += 1,
                (_, Some(_), ..) => names += 1,
                (_, _, Some(_), _) => groups += 1,
                (_, _, _, Some(_)) => providers += 1,
                _ => none += 1,
            }
        }
        let counts = [rules, names, groups, providers, none];
        assert!(counts.iter().all(|n| *n >= 20), "{counts:?}");
    }
}
