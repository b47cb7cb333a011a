//! Fixture files: TOML naming a rule and its cases (events, clock, expected alerts).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use serde::Deserialize;
use toml::Spanned;
use vigil_event::Value;

use crate::FixtureError;

/// A parsed fixture file.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The fixture file, as found.
    pub path: PathBuf,
    pub text: Arc<str>,
    /// The rule file, resolved against the fixture's directory.
    pub rule: PathBuf,
    pub rule_span: Range<usize>,
    pub cases: Vec<Case>,
}

/// One case: events, an optional clock, and the alerts expected.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub span: Range<usize>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// Inline events and the fixture line their first line is on.
    pub events: Option<InlineEvents>,
    /// Event files (resolved), with the span of each name.
    pub files: Vec<(PathBuf, Range<usize>)>,
    pub asn_db: Vec<PathBuf>,
    pub geo_db: Option<PathBuf>,
    /// Span of the enrichment settings, for errors opening the databases.
    pub enrich_span: Option<Range<usize>>,
    pub expect: Expect,
}

#[derive(Debug, Clone)]
pub struct InlineEvents {
    pub text: String,
    /// Fixture line (1-based) of the text's first line.
    pub first_line: usize,
}

/// The alerts a case expects.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// Exact number of alerts.
    pub count: usize,
    /// Alerts that must each match a distinct actual alert: (dotted field, value) pairs.
    pub alerts: Vec<Vec<(String, Value)>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixture {
    rule: Spanned<String>,
    #[serde(default)]
    case: Vec<Spanned<RawCase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Spanned<String>,
    start: Option<Spanned<toml::Value>>,
    end: Option<Spanned<toml::Value>>,
    events: Option<Spanned<String>>,
    #[serde(default)]
    files: Vec<Spanned<String>>,
    asn_db: Option<Spanned<OneOrMany>>,
    geo_db: Option<Spanned<String>>,
    expect: RawExpect,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    count: Spanned<i64>,
    #[serde(default)]
    alerts: Vec<Spanned<toml::Table>>,
}

/// Parses a fixture file's text; relative paths resolve against the file's directory.
pub fn parse(path: &Path, text: &str) -> Result<Fixture, FixtureError> {
    let fail = |message: String, span: Option<Range<usize>>| {
        FixtureError::new(&path.display().to_string(), Some(text), message, span)
    };
    let raw: RawFixture =
        toml::from_str(text).map_err(|e| fail(e.message().trim().to_string(), e.span()))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    if raw.case.is_empty() {
        return Err(fail(
            "no cases: add at least one [[case]] table".into(),
            Some(raw.rule.span()),
        ));
    }
    let mut cases: Vec<Case> = Vec::new();
    for c in raw.case {
        let span = c.span();
        let c = c.into_inner();
        let name = c.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(fail("a case needs a name".into(), Some(c.name.span())));
        }
        if cases.iter().any(|o| o.name == name) {
            return Err(fail(
                format!("two cases are named `{name}`"),
                Some(c.name.span()),
            ));
        }
        let time = |v: &Option<Spanned<toml::Value>>| -> Result<Option<Timestamp>, FixtureError> {
            let Some(v) = v else { return Ok(None) };
            let s = match v.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Datetime(d) => d.to_string(),
                _ => String::new(),
            };
            vigil_event::parse_rfc3339(&s).map(Some).map_err(|_| {
                fail(
                    "not a time: use \"2026-05-18T00:00:00Z\" or \"2026-05-18\"".into(),
                    Some(v.span()),
                )
            })
        };
        let (start, end) = (time(&c.start)?, time(&c.end)?);
        if let (Some(s), Some(e), Some(end_span)) = (start, end, c.end.as_ref())
            && e < s
        {
            return Err(fail(
                format!("end ({e}) is before start ({s})"),
                Some(end_span.span()),
            ));
        }
        if c.events.is_none() && c.files.is_empty() {
            return Err(fail(
                format!("case `{name}` has no events: give `events` or `files`"),
                Some(c.name.span()),
            ));
        }
        let events = c.events.map(|e| InlineEvents {
            first_line: first_content_line(text, e.span().start),
            text: e.into_inner(),
        });
        let count = *c.expect.count.get_ref();
        let count = usize::try_from(count).map_err(|_| {
            fail(
                "count must be 0 or more".into(),
                Some(c.expect.count.span()),
            )
        })?;
        if c.expect.alerts.len() > count {
            return Err(fail(
                format!(
                    "count is {count} but {} alerts are listed",
                    c.expect.alerts.len()
                ),
                Some(c.expect.count.span()),
            ));
        }
        let mut alerts = Vec::new();
        for a in &c.expect.alerts {
            let mut fields = Vec::new();
            flatten("", a.get_ref(), &mut fields);
            if fields.is_empty() {
                return Err(fail(
                    "an expected alert lists no field".into(),
                    Some(a.span()),
                ));
            }
            alerts.push(fields);
        }
        let enrich_span = c
            .asn_db
            .as_ref()
            .map(Spanned::span)
            .or(c.geo_db.as_ref().map(Spanned::span));
        cases.push(Case {
            name,
            span,
            start,
            end,
            events,
            files: c
                .files
                .iter()
                .map(|f| (dir.join(f.get_ref()), f.span()))
                .collect(),
            asn_db: match c.asn_db.map(Spanned::into_inner) {
                None => Vec::new(),
                Some(OneOrMany::One(p)) => vec![dir.join(p)],
                Some(OneOrMany::Many(ps)) => ps.iter().map(|p| dir.join(p)).collect(),
            },
            geo_db: c.geo_db.map(|g| dir.join(g.get_ref())),
            enrich_span,
            expect: Expect { count, alerts },
        });
    }
    Ok(Fixture {
        path: path.to_path_buf(),
        text: Arc::from(text),
        rule: dir.join(raw.rule.get_ref()),
        rule_span: raw.rule.span(),
        cases,
    })
}

/// Expected fields: an inline table stands for the dotted paths under it.
fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, Value)>) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&path, t, out),
            other => out.push((path, value(other))),
        }
    }
}

fn value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::from(s.as_str()),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::from(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(value).collect()),
        toml::Value::Table(t) => {
            let mut doc = Value::Object(Default::default());
            let mut fields = Vec::new();
            flatten("", t, &mut fields);
            for (k, v) in fields {
                doc.insert_path(&k, v);
            }
            doc
        }
    }
}

/// The line the content of a string starting at `offset` begins on: a multi-line string's
/// newline right after its opening quotes is not part of it.
fn first_content_line(text: &str, offset: usize) -> usize {
    let (line, _) = vigil_rules::line_col(text, offset);
    let rest = text.get(offset..).unwrap_or("");
    let after = rest
        .strip_prefix("'''")
        .or_else(|| rest.strip_prefix("\"\"\""));
    match after {
        Some(a) if a.starts_with('\n') || a.starts_with("\r\n") => line + 1,
        _ => line,
    }
}

/// The byte range of a 1-based line of `text`.
pub(crate) fn line_span(text: &str, line: usize) -> Option<Range<usize>> {
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let trimmed = l.trim_end_matches(['\n', '\r']);
            return Some(start..start + trimmed.len());
        }
        start += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_fixture() {
        let text = r#"rule = "r.toml"

[[case]]
name = "positive"
start = 2026-05-18T00:00:00Z
events = '''
{"a": 1}
'''
[case.expect]
count = 1
[[case.expect.alerts]]
"kibana.alert.rule.name" = "R"
"host.ip" = ["10.0.0.1", "10.0.0.2"]
"user" = { name = "bob" }
"#;
        let f = parse(Path::new("dir/r.test.toml"), text).unwrap();
        assert_eq!(f.rule, Path::new("dir/r.toml"));
        let c = &f.cases[0];
        assert_eq!(c.events.as_ref().unwrap().first_line, 7);
        assert_eq!(c.start.unwrap().to_string(), "2026-05-18T00:00:00Z");
        assert_eq!(c.expect.count, 1);
        let names: Vec<&str> = c.expect.alerts[0].iter().map(|f| f.0.as_str()).collect();
        assert_eq!(names, ["host.ip", "kibana.alert.rule.name", "user.name"]);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let text = "rule = \"r.toml\"\n[[case]]\nname = \"a\"\nevents = \"{}\"\n[case.expect]\ncount = -1\n";
        let e = parse(Path::new("f.test.toml"), text).unwrap_err();
        assert_eq!(e.to_string(), "f.test.toml:6:9: count must be 0 or more");

        let text = "rule = \"r.toml\"\n[[case]]\nname = \"a\"\nevents = \"{}\"\nexpected = 1\n";
        let e = parse(Path::new("f.test.toml"), text).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("f.test.toml:5:1: unknown field `expected`")
        );

        let text = "rule = \"r.toml\"\n[[case]]\nname = \"a\"\n[case.expect]\ncount = 0\n";
        let e = parse(Path::new("f.test.toml"), text).unwrap_err();
        assert!(e.to_string().contains("has no events"), "{e}");
    }
}
