//! Grok as ES|QL runs it: `%{SYNTAX}`, `%{SYNTAX:name}` and `%{SYNTAX:name:type}` references
//! expanded from Elasticsearch's built-in (legacy) pattern library, named groups `(?<name>…)`,
//! and an unanchored search. Elasticsearch compiles with Joni (Oniguruma): leftmost-first
//! backtracking with lookaround, which `fancy-regex` shares. A name captured more than once
//! gives a multi-value.

use std::collections::HashMap;
use std::sync::OnceLock;

use fancy_regex::Regex;
use vigil_event::{DataType, Value};

#[derive(Clone, Debug)]
pub(crate) struct Grok {
    regex: Regex,
    /// Group name in the regex → output column index.
    groups: Vec<(String, usize)>,
    columns: Vec<(String, DataType)>,
}

/// The pattern library: name → regex, written from the documented definitions of
/// Elasticsearch's legacy grok patterns.
const PATTERNS: &[(&str, &str)] = &[
    ("USERNAME", r"[a-zA-Z0-9._-]+"),
    ("USER", r"%{USERNAME}"),
    ("EMAILLOCALPART", r"[a-zA-Z][a-zA-Z0-9_.+-=:]+"),
    ("EMAILADDRESS", r"%{EMAILLOCALPART}@%{HOSTNAME}"),
    ("INT", r"(?:[+-]?(?:[0-9]+))"),
    (
        "BASE10NUM",
        r"(?<![0-9.+-])(?>[+-]?(?:(?:[0-9]+(?:\.[0-9]+)?)|(?:\.[0-9]+)))",
    ),
    ("NUMBER", r"(?:%{BASE10NUM})"),
    (
        "BASE16NUM",
        r"(?<![0-9A-Fa-f])(?:[+-]?(?:0x)?(?:[0-9A-Fa-f]+))",
    ),
    (
        "BASE16FLOAT",
        r"\b(?<![0-9A-Fa-f.])(?:[+-]?(?:0x)?(?:(?:[0-9A-Fa-f]+(?:\.[0-9A-Fa-f]*)?)|(?:\.[0-9A-Fa-f]+)))\b",
    ),
    ("POSINT", r"\b(?:[1-9][0-9]*)\b"),
    ("NONNEGINT", r"\b(?:[0-9]+)\b"),
    ("WORD", r"\b\w+\b"),
    ("NOTSPACE", r"\S+"),
    ("SPACE", r"\s*"),
    ("DATA", r".*?"),
    ("GREEDYDATA", r".*"),
    (
        "QUOTEDSTRING",
        r#"(?>(?<!\\)(?>"(?>\\.|[^\\"]+)+"|""|(?>'(?>\\.|[^\\']+)+')|''|(?>`(?>\\.|[^\\`]+)+`)|``))"#,
    ),
    (
        "UUID",
        r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    ),
    (
        "URN",
        r"urn:[0-9A-Za-z][0-9A-Za-z-]{0,31}:(?:%[0-9a-fA-F]{2}|[0-9A-Za-z()+,.:=@;$_!*'/?#-])+",
    ),
    ("MAC", r"(?:%{CISCOMAC}|%{WINDOWSMAC}|%{COMMONMAC})"),
    ("CISCOMAC", r"(?:(?:[A-Fa-f0-9]{4}\.){2}[A-Fa-f0-9]{4})"),
    ("WINDOWSMAC", r"(?:(?:[A-Fa-f0-9]{2}-){5}[A-Fa-f0-9]{2})"),
    ("COMMONMAC", r"(?:(?:[A-Fa-f0-9]{2}:){5}[A-Fa-f0-9]{2})"),
    (
        "IPV6",
        r"((([0-9A-Fa-f]{1,4}:){7}([0-9A-Fa-f]{1,4}|:))|(([0-9A-Fa-f]{1,4}:){6}(:[0-9A-Fa-f]{1,4}|((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9A-Fa-f]{1,4}:){5}(((:[0-9A-Fa-f]{1,4}){1,2})|:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9A-Fa-f]{1,4}:){4}(((:[0-9A-Fa-f]{1,4}){1,3})|((:[0-9A-Fa-f]{1,4})?:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){3}(((:[0-9A-Fa-f]{1,4}){1,4})|((:[0-9A-Fa-f]{1,4}){0,2}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){2}(((:[0-9A-Fa-f]{1,4}){1,5})|((:[0-9A-Fa-f]{1,4}){0,3}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){1}(((:[0-9A-Fa-f]{1,4}){1,6})|((:[0-9A-Fa-f]{1,4}){0,4}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(:(((:[0-9A-Fa-f]{1,4}){1,7})|((:[0-9A-Fa-f]{1,4}){0,5}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:)))(%.+)?",
    ),
    (
        "IPV4",
        r"(?<![0-9])(?:(?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])[.](?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])[.](?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])[.](?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]))(?![0-9])",
    ),
    ("IP", r"(?:%{IPV6}|%{IPV4})"),
    (
        "HOSTNAME",
        r"\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(\.?|\b)",
    ),
    ("IPORHOST", r"(?:%{IP}|%{HOSTNAME})"),
    ("HOSTPORT", r"%{IPORHOST}:%{POSINT}"),
    ("PATH", r"(?:%{UNIXPATH}|%{WINPATH})"),
    ("UNIXPATH", r"(/([\w_%!$@:.,+~-]+|\\.)*)+"),
    ("TTY", r"(?:/dev/(pts|tty([pq])?)(\w+)?/?(?:[0-9]+))"),
    ("WINPATH", r"(?>[A-Za-z]+:|\\)(?:\\[^\\?*]*)+"),
    ("URIPROTO", r"[A-Za-z]([A-Za-z0-9+\-.]+)+"),
    ("URIHOST", r"%{IPORHOST}(?::%{POSINT})?"),
    ("URIPATH", r"(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]*)+"),
    ("URIPARAM", r"\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\-\[\]<>]*"),
    ("URIPATHPARAM", r"%{URIPATH}(?:%{URIPARAM})?"),
    (
        "URI",
        r"%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?",
    ),
    (
        "MONTH",
        r"\b(?:[Jj]an(?:uary|uar)?|[Ff]eb(?:ruary|ruar)?|[Mm](?:a|ä)?r(?:ch|z)?|[Aa]pr(?:il)?|[Mm]a(?:y|i)?|[Jj]un(?:e|i)?|[Jj]ul(?:y|i)?|[Aa]ug(?:ust)?|[Ss]ep(?:tember)?|[Oo](?:c|k)?t(?:ober)?|[Nn]ov(?:ember)?|[Dd]e(?:c|z)(?:ember)?)\b",
    ),
    ("MONTHNUM", r"(?:0?[1-9]|1[0-2])"),
    ("MONTHNUM2", r"(?:0[1-9]|1[0-2])"),
    ("MONTHDAY", r"(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])"),
    (
        "DAY",
        r"(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)",
    ),
    ("YEAR", r"(?>\d\d){1,2}"),
    ("HOUR", r"(?:2[0123]|[01]?[0-9])"),
    ("MINUTE", r"(?:[0-5][0-9])"),
    ("SECOND", r"(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)"),
    (
        "TIME",
        r"(?!<[0-9])%{HOUR}:%{MINUTE}(?::%{SECOND})(?![0-9])",
    ),
    ("DATE_US", r"%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}"),
    ("DATE_EU", r"%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}"),
    ("ISO8601_TIMEZONE", r"(?:Z|[+-]%{HOUR}(?::?%{MINUTE}))"),
    ("ISO8601_SECOND", r"(?:%{SECOND}|60)"),
    (
        "TIMESTAMP_ISO8601",
        r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?",
    ),
    ("DATE", r"%{DATE_US}|%{DATE_EU}"),
    ("DATESTAMP", r"%{DATE}[- ]%{TIME}"),
    ("TZ", r"(?:[APMCE][SD]T|UTC)"),
    (
        "DATESTAMP_RFC822",
        r"%{DAY} %{MONTH} %{MONTHDAY} %{YEAR} %{TIME} %{TZ}",
    ),
    (
        "DATESTAMP_RFC2822",
        r"%{DAY}, %{MONTHDAY} %{MONTH} %{YEAR} %{TIME} %{ISO8601_TIMEZONE}",
    ),
    (
        "DATESTAMP_OTHER",
        r"%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{TZ} %{YEAR}",
    ),
    (
        "DATESTAMP_EVENTLOG",
        r"%{YEAR}%{MONTHNUM2}%{MONTHDAY}%{HOUR}%{MINUTE}%{SECOND}",
    ),
    ("SYSLOGTIMESTAMP", r"%{MONTH} +%{MONTHDAY} %{TIME}"),
    ("PROG", r"[\x21-\x5a\x5c\x5e-\x7e]+"),
    ("SYSLOGPROG", r"%{PROG:program}(?:\[%{POSINT:pid}\])?"),
    ("SYSLOGHOST", r"%{IPORHOST}"),
    (
        "SYSLOGFACILITY",
        r"<%{NONNEGINT:facility}.%{NONNEGINT:priority}>",
    ),
    ("HTTPDATE", r"%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}"),
    ("QS", r"%{QUOTEDSTRING}"),
    (
        "SYSLOGBASE",
        r"%{SYSLOGTIMESTAMP:timestamp} (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource} %{SYSLOGPROG}:",
    ),
    (
        "COMMONAPACHELOG",
        r#"%{IPORHOST:clientip} %{HTTPDUSER:ident} %{USER:auth} \[%{HTTPDATE:timestamp}\] "(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})" %{NUMBER:response} (?:%{NUMBER:bytes}|-)"#,
    ),
    (
        "COMBINEDAPACHELOG",
        r"%{COMMONAPACHELOG} %{QS:referrer} %{QS:agent}",
    ),
    ("HTTPDUSER", r"%{EMAILADDRESS}|%{USER}"),
    (
        "LOGLEVEL",
        r"([Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo|INFO|[Ww]arn?(?:ing)?|WARN?(?:ING)?|[Ee]rr?(?:or)?|ERR?(?:OR)?|[Cc]rit?(?:ical)?|CRIT?(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?)",
    ),
];

fn library() -> &'static HashMap<&'static str, &'static str> {
    static LIB: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    LIB.get_or_init(|| PATTERNS.iter().copied().collect())
}

impl Grok {
    pub fn new(pattern: &str, columns: &[(String, DataType)]) -> Result<Grok, String> {
        let mut groups = Vec::new();
        let expanded = expand(pattern, columns, &mut groups, 0, true)
            .map_err(|e| format!("Invalid GROK pattern [{pattern}]: {e}"))?;
        let regex =
            Regex::new(&expanded).map_err(|e| format!("Invalid GROK pattern [{pattern}]: {e}"))?;
        Ok(Grok {
            regex,
            groups,
            columns: columns.to_vec(),
        })
    }

    pub fn extract(&self, input: &str) -> Option<Vec<Option<Value>>> {
        // A backtracking limit hit counts as no match.
        let caps = self.regex.captures(input).ok()??;
        let mut found: Vec<Vec<Value>> = vec![Vec::new(); self.columns.len()];
        for (group, col) in &self.groups {
            if let Some(m) = caps.name(group)
                && let Some(v) = super::typed(m.as_str(), self.columns[*col].1)
            {
                found[*col].push(v);
            }
        }
        Some(
            found
                .into_iter()
                .map(|mut vs| match vs.len() {
                    0 => None,
                    1 => vs.pop(),
                    _ => Some(Value::Array(vs)),
                })
                .collect(),
        )
    }
}

/// Expands `%{…}` references and user named groups into a regex whose named groups are
/// `g0`, `g1`…, recording which column each group fills. References inside library patterns
/// only capture when they name a column of the query (`top` is false there).
fn expand(
    pattern: &str,
    columns: &[(String, DataType)],
    groups: &mut Vec<(String, usize)>,
    depth: usize,
    top: bool,
) -> Result<String, String> {
    if depth > 32 {
        return Err("patterns nest too deeply".into());
    }
    let mut out = String::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("%{") {
            let close = after.find('}').ok_or_else(|| "unclosed `%{`".to_string())?;
            let body = &after[..close];
            rest = &after[close + 1..];
            let mut parts = body.splitn(3, ':');
            let syntax = parts.next().unwrap_or_default();
            let name = parts.next();
            let def = library().get(syntax).ok_or_else(|| {
                format!("Unable to find pattern [{syntax}] in Grok's pattern dictionary")
            })?;
            // Names inside library patterns (`SYSLOGPROG`'s `program`) are not columns of an
            // ES|QL query unless the query asks for them by that name.
            let inner = expand(def, columns, groups, depth + 1, false)?;
            match name.and_then(|n| columns.iter().position(|(c, _)| c == n)) {
                Some(col) if top || name.is_some() => {
                    let g = format!("g{}", groups.len());
                    groups.push((g.clone(), col));
                    out.push_str(&format!("(?<{g}>{inner})"));
                }
                _ => {
                    out.push_str("(?:");
                    out.push_str(&inner);
                    out.push(')');
                }
            }
            continue;
        }
        if rest.starts_with('\\') {
            let len = rest[1..].chars().next().map_or(1, |c| 1 + c.len_utf8());
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        let named = rest
            .strip_prefix("(?<")
            .filter(|r| !r.starts_with('=') && !r.starts_with('!'))
            .or_else(|| rest.strip_prefix("(?P<"));
        if let Some(r) = named
            && let Some(end) = r.find('>')
        {
            let name = &r[..end];
            rest = &r[end + 1..];
            match columns.iter().position(|(c, _)| c == name) {
                Some(col) if top => {
                    let g = format!("g{}", groups.len());
                    groups.push((g.clone(), col));
                    out.push_str(&format!("(?<{g}>"));
                }
                _ => out.push_str("(?:"),
            }
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(c: &[(&str, DataType)]) -> Vec<(String, DataType)> {
        c.iter().map(|(n, t)| (n.to_string(), *t)).collect()
    }

    #[test]
    fn library_patterns_compile() {
        for (name, _) in PATTERNS {
            Grok::new(&format!("%{{{name}}}"), &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn typed_and_repeated_captures() {
        let g = Grok::new(
            "%{WORD:a} %{NUMBER:n:int} %{WORD:a}",
            &cols(&[("a", DataType::Keyword), ("n", DataType::Long)]),
        )
        .unwrap();
        assert_eq!(
            g.extract("x 42 y"),
            Some(vec![
                Some(Value::Array(vec![Value::str("x"), Value::str("y")])),
                Some(Value::Int(42))
            ])
        );
        let g = Grok::new(
            "%{URIPROTO:p}://%{URIHOST:h}",
            &cols(&[("p", DataType::Keyword), ("h", DataType::Keyword)]),
        )
        .unwrap();
        assert_eq!(
            g.extract("curl https://evil.example.com:8443/x"),
            Some(vec![
                Some(Value::str("https")),
                Some(Value::str("evil.example.com:8443"))
            ])
        );
    }
}
