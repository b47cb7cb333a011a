//! Microsoft Sentinel analytics rules: the YAML of the Azure-Sentinel repository, and bare `.kql`
//! files whose header comments give the schedule (`// Freq : PT1H  Period: PT2H`).

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::SignedDuration;
use serde::Deserialize;

use crate::RuleError;
use crate::model::{
    EntityMapping, Grouping, Rule, RuleKind, RuleSource, Schedule, SentinelRule, Severity, Tactic,
    Technique, Threat, TriggerOperator,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleYaml {
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    query_frequency: Option<String>,
    #[serde(default)]
    query_period: Option<String>,
    #[serde(default)]
    trigger_operator: Option<String>,
    #[serde(default)]
    trigger_threshold: Option<i64>,
    #[serde(default)]
    tactics: Vec<String>,
    #[serde(default)]
    relevant_techniques: Vec<String>,
    query: String,
    #[serde(default)]
    entity_mappings: Vec<EntityMappingYaml>,
    #[serde(default)]
    custom_details: BTreeMap<String, String>,
    #[serde(default)]
    event_grouping_settings: Option<GroupingYaml>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntityMappingYaml {
    entity_type: String,
    #[serde(default)]
    field_mappings: Vec<FieldMappingYaml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldMappingYaml {
    identifier: String,
    column_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupingYaml {
    aggregation_kind: String,
}

/// Parses a Sentinel analytics rule YAML file.
pub fn parse_yaml(path: &str, text: &str) -> Result<Rule, RuleError> {
    let fail = |message: String| RuleError {
        path: path.into(),
        message,
        span: None,
    };
    let y: RuleYaml = yaml_serde::from_str(text)
        .map_err(|e| fail(format!("not a Sentinel analytics rule: {e}")))?;
    let nrt = y
        .kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("NRT"));
    // NRT rules run every minute over the minute before.
    let frequency = match (&y.query_frequency, nrt) {
        (Some(f), _) => parse_duration(f)
            .ok_or_else(|| fail(format!("`queryFrequency: {f}` is not a duration")))?,
        (None, true) => SignedDuration::from_mins(1),
        (None, false) => return Err(fail("a scheduled rule needs `queryFrequency`".into())),
    };
    let period = match (&y.query_period, nrt) {
        (Some(p), _) => parse_duration(p)
            .ok_or_else(|| fail(format!("`queryPeriod: {p}` is not a duration")))?,
        (None, true) => SignedDuration::from_mins(1),
        (None, false) => return Err(fail("a scheduled rule needs `queryPeriod`".into())),
    };
    let severity = y
        .severity
        .as_deref()
        .map_or(Some(Severity::Medium), Severity::parse)
        .ok_or_else(|| fail("unknown severity".into()))?;
    let trigger_operator = match y.trigger_operator.as_deref().unwrap_or("gt") {
        "gt" | "GreaterThan" => TriggerOperator::Gt,
        "lt" | "LessThan" => TriggerOperator::Lt,
        "eq" | "Equal" => TriggerOperator::Eq,
        "ne" | "NotEqual" => TriggerOperator::Ne,
        other => return Err(fail(format!("unknown triggerOperator `{other}`"))),
    };
    let grouping = match y
        .event_grouping_settings
        .as_ref()
        .map(|g| g.aggregation_kind.as_str())
    {
        None | Some("SingleAlert") => Grouping::SingleAlert,
        Some("AlertPerResult") => Grouping::AlertPerResult,
        Some(other) => return Err(fail(format!("unknown aggregationKind `{other}`"))),
    };
    let (query_span, verbatim) = query_span(text, &y.query);
    let sentinel = SentinelRule {
        query: y.query.clone(),
        trigger_operator,
        trigger_threshold: y.trigger_threshold.unwrap_or(0),
        entity_mappings: y
            .entity_mappings
            .iter()
            .map(|e| EntityMapping {
                entity_type: e.entity_type.clone(),
                fields: e
                    .field_mappings
                    .iter()
                    .map(|f| (f.identifier.clone(), f.column_name.clone()))
                    .collect(),
            })
            .collect(),
        custom_details: y.custom_details.into_iter().collect(),
        grouping,
        nrt,
    };
    Ok(sentinel_rule(
        path,
        text,
        y.id,
        y.name,
        y.description,
        severity,
        Schedule {
            interval: frequency,
            lookback: period,
            max_signals: 150,
        },
        threats(&y.tactics, &y.relevant_techniques),
        y.version,
        sentinel,
        query_span,
        verbatim,
    ))
}

/// Parses a bare `.kql` file. Header comments may give `Rule`, `Severity`, `Tactics`, `MITRE`
/// and `Freq … Period …`; without them the rule runs hourly over the last hour at medium.
pub fn parse_kql(path: &str, text: &str) -> Result<Rule, RuleError> {
    let fail = |message: String| RuleError {
        path: path.into(),
        message,
        span: None,
    };
    let mut header: BTreeMap<String, String> = BTreeMap::new();
    for line in text
        .lines()
        .take_while(|l| l.trim_start().starts_with("//") || l.trim().is_empty())
    {
        let body = line.trim_start().trim_start_matches('/').trim();
        header.extend(header_pairs(body));
    }
    let name = header.get("rule").cloned().unwrap_or_else(|| {
        std::path::Path::new(path)
            .file_stem()
            .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
    });
    let duration = |key: &str, default: SignedDuration| match header.get(key) {
        Some(v) => parse_duration(v)
            .ok_or_else(|| fail(format!("`{key}: {v}` in the header is not a duration"))),
        None => Ok(default),
    };
    let interval = duration("freq", SignedDuration::from_hours(1))?;
    let lookback = duration("period", interval)?;
    let severity = header
        .get("severity")
        .and_then(|s| Severity::parse(s))
        .unwrap_or(Severity::Medium);
    let tactics: Vec<String> = header
        .get("tactics")
        .map(|t| split_list(t))
        .unwrap_or_default();
    let techniques: Vec<String> = header
        .get("mitre")
        .map(|t| split_list(t))
        .unwrap_or_default();
    let sentinel = SentinelRule::query_only(text.to_string());
    // A stable id from the file name, as a .kql file has none.
    let id = format!("kql:{name}");
    Ok(sentinel_rule(
        path,
        text,
        id,
        name,
        String::new(),
        severity,
        Schedule {
            interval,
            lookback,
            max_signals: 150,
        },
        threats(&tactics, &techniques),
        None,
        sentinel,
        Some(0..text.len()),
        true,
    ))
}

/// The `Key : value` pairs of a header comment line; one line may hold several, two spaces
/// apart (`Freq    : PT1H   Period: PT2H`).
fn header_pairs(body: &str) -> Vec<(String, String)> {
    let is_key = |k: &str| !k.is_empty() && !k.contains(char::is_whitespace);
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(colon) = rest.find(':') {
        let key = rest[..colon].trim();
        if !is_key(key) {
            break;
        }
        let after = &rest[colon + 1..];
        let end = after
            .match_indices("  ")
            .map(|(i, _)| i)
            .find(|&i| {
                let tail = after[i..].trim_start();
                tail.find(':').is_some_and(|c| is_key(tail[..c].trim()))
            })
            .unwrap_or(after.len());
        out.push((key.to_ascii_lowercase(), after[..end].trim().to_string()));
        rest = &after[end..];
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn sentinel_rule(
    path: &str,
    text: &str,
    id: String,
    name: String,
    description: String,
    severity: Severity,
    schedule: Schedule,
    threat: Vec<Threat>,
    version: Option<String>,
    sentinel: SentinelRule,
    query_span: Option<std::ops::Range<usize>>,
    query_verbatim: bool,
) -> Rule {
    let risk_score = match severity {
        Severity::Low => 21,
        Severity::Medium => 47,
        Severity::High => 73,
        Severity::Critical => 99,
    };
    let mut unmodelled = BTreeMap::new();
    if let Some(v) = version {
        unmodelled.insert("version".into(), v);
    }
    let source = RuleSource {
        path: path.into(),
        text: Arc::from(text),
        query_span,
        query_verbatim,
    };
    Rule {
        description,
        severity,
        risk_score,
        schedule,
        threat,
        unmodelled,
        ..Rule::new(id, name, RuleKind::Sentinel(sentinel), source)
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Sentinel tactics and techniques as ATT&CK mappings (names only: the YAML carries ids).
fn threats(tactics: &[String], techniques: &[String]) -> Vec<Threat> {
    tactics
        .iter()
        .map(|t| Threat {
            framework: "MITRE ATT&CK".into(),
            tactic: Tactic {
                id: String::new(),
                name: t.clone(),
                reference: String::new(),
            },
            techniques: techniques
                .iter()
                .map(|id| Technique {
                    id: id.clone(),
                    name: String::new(),
                    reference: format!(
                        "https://attack.mitre.org/techniques/{}/",
                        id.replace('.', "/")
                    ),
                    subtechniques: Vec::new(),
                })
                .collect(),
        })
        .collect()
}

/// `5m`, `1h`, `14d` (Sentinel's short form) or ISO 8601 (`PT1H`, `P1D`).
pub fn parse_duration(s: &str) -> Option<SignedDuration> {
    let t = s.trim();
    if let Some(iso) = t.strip_prefix('P').or_else(|| t.strip_prefix('p')) {
        let (days, time) = match iso.split_once(['T', 't']) {
            Some((d, t)) => (d, t),
            None => (iso, ""),
        };
        let mut secs: i64 = 0;
        let mut num = String::new();
        for (part, units) in [
            (days, [('D', 86_400), ('W', 604_800), ('_', 0)]),
            (time, [('H', 3600), ('M', 60), ('S', 1)]),
        ] {
            for c in part.chars() {
                if c.is_ascii_digit() {
                    num.push(c);
                    continue;
                }
                let mult = units.iter().find(|(u, _)| u.eq_ignore_ascii_case(&c))?.1;
                secs += num.parse::<i64>().ok()? * mult;
                num.clear();
            }
            if !num.is_empty() {
                return None;
            }
        }
        return Some(SignedDuration::from_secs(secs));
    }
    vigil_event::parse_duration_es(t).ok()
}

/// Where the query text sits in the YAML file (for diagnostics), and whether its offsets map
/// one to one (a block scalar's lines are indented, so they do not).
fn query_span(text: &str, _query: &str) -> (Option<std::ops::Range<usize>>, bool) {
    let start = text
        .find("\nquery:")
        .map(|i| i + 1)
        .or_else(|| text.starts_with("query:").then_some(0));
    (start.map(|s| s..s + "query".len()), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT1H"), Some(SignedDuration::from_hours(1)));
        assert_eq!(
            parse_duration("P14D"),
            Some(SignedDuration::from_hours(14 * 24))
        );
        assert_eq!(parse_duration("PT5M"), Some(SignedDuration::from_mins(5)));
        assert_eq!(parse_duration("1d"), Some(SignedDuration::from_hours(24)));
        assert_eq!(parse_duration("5m"), Some(SignedDuration::from_mins(5)));
        assert_eq!(parse_duration("PT"), Some(SignedDuration::ZERO));
        assert_eq!(parse_duration("P1X"), None);
    }

    #[test]
    fn kql_header() {
        let r = parse_kql("x.kql", "// Rule    : Test rule\n// Severity: High\n// Tactics : Execution, Persistence\n// Freq    : PT1H   Period: PT2H\nAzureActivity | take 1\n").unwrap();
        assert_eq!(r.name, "Test rule");
        assert_eq!(r.severity, Severity::High);
        assert_eq!(r.schedule.interval, SignedDuration::from_hours(1));
        assert_eq!(r.schedule.lookback, SignedDuration::from_hours(2));
        assert_eq!(r.threat.len(), 2);
    }
}
