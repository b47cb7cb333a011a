//! Elastic detection-rules TOML (`[metadata]`, `[rule]`, `[transform]`), as the
//! elastic/detection-rules repository stores rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::SignedDuration;
use serde::Deserialize;
use toml::Spanned;

use crate::model::{
    AlertSuppression, MissingFieldsStrategy, NewTerms, Rule, RuleKind, RuleSource, Schedule,
    Severity, SeverityMapping, Tactic, Technique, Threat, Threshold,
};
use crate::{RuleError, filters};

/// The `[rule]` table keys this loader interprets. Others are kept in `Rule::unmodelled`.
const KNOWN_RULE_KEYS: &[&str] = &[
    "author",
    "description",
    "from",
    "index",
    "language",
    "license",
    "name",
    "note",
    "references",
    "risk_score",
    "rule_id",
    "setup",
    "severity",
    "tags",
    "timestamp_override",
    "type",
    "query",
    "threat",
    "false_positives",
    "interval",
    "new_terms",
    "max_signals",
    "severity_mapping",
    "alert_suppression",
    "investigation_fields",
    "enabled",
    "threshold",
    "anomaly_threshold",
    "machine_learning_job_id",
    "filters",
    "building_block_type",
    "version",
    "rule_name_override",
    "timestamp_override_fallback_disabled",
    "event_category_override",
    "tiebreaker_field",
    "timestamp_field",
];

/// Keys with no effect on detection (timeline templates, exception list links, …).
const INERT_RULE_KEYS: &[&str] = &[
    "timeline_id",
    "timeline_title",
    "exceptions_list",
    "output_index",
    "meta",
    "related_integrations",
    "required_fields",
    "throttle",
    "actions",
    "risk_score_mapping",
    "license",
    "note",
    "setup",
];

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    metadata: toml::Table,
    rule: RuleTable,
}

#[derive(Deserialize)]
struct RuleTable {
    rule_id: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "type")]
    rule_type: String,
    severity: String,
    risk_score: u32,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    query: Option<Spanned<String>>,
    #[serde(default)]
    index: Vec<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    max_signals: Option<u32>,
    #[serde(default)]
    timestamp_override: Option<String>,
    #[serde(default)]
    timestamp_override_fallback_disabled: Option<bool>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    author: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    false_positives: Vec<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    setup: Option<String>,
    #[serde(default)]
    threat: Vec<ThreatT>,
    #[serde(default)]
    investigation_fields: Option<InvestigationFields>,
    #[serde(default)]
    alert_suppression: Option<SuppressionT>,
    #[serde(default)]
    severity_mapping: Vec<SeverityMappingT>,
    #[serde(default)]
    building_block_type: Option<String>,
    #[serde(default)]
    rule_name_override: Option<String>,
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    new_terms: Option<NewTermsT>,
    #[serde(default)]
    threshold: Option<ThresholdT>,
    #[serde(default)]
    anomaly_threshold: Option<u32>,
    #[serde(default)]
    machine_learning_job_id: Option<StringOrList>,
    #[serde(default)]
    filters: Vec<toml::Value>,
    #[serde(default)]
    event_category_override: Option<String>,
    #[serde(default)]
    tiebreaker_field: Option<String>,
    #[serde(default)]
    timestamp_field: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct ThreatT {
    framework: String,
    tactic: TacticT,
    #[serde(default)]
    technique: Vec<TechniqueT>,
}

#[derive(Deserialize)]
struct TacticT {
    id: String,
    name: String,
    reference: String,
}

#[derive(Deserialize)]
struct TechniqueT {
    id: String,
    name: String,
    reference: String,
    #[serde(default)]
    subtechnique: Vec<TechniqueT>,
}

#[derive(Deserialize)]
struct InvestigationFields {
    field_names: Vec<String>,
}

#[derive(Deserialize)]
struct SuppressionT {
    group_by: Vec<String>,
    #[serde(default)]
    duration: Option<DurationT>,
    #[serde(default)]
    missing_fields_strategy: Option<String>,
}

#[derive(Deserialize)]
struct DurationT {
    unit: String,
    value: i64,
}

#[derive(Deserialize)]
struct SeverityMappingT {
    field: String,
    #[serde(default)]
    operator: Option<String>,
    severity: String,
    value: String,
}

#[derive(Deserialize)]
struct NewTermsT {
    value: Vec<String>,
    #[serde(default)]
    history_window_start: Vec<HistoryT>,
}

#[derive(Deserialize)]
struct HistoryT {
    value: String,
}

#[derive(Deserialize)]
struct ThresholdT {
    #[serde(default)]
    field: ThresholdFields,
    value: u64,
    #[serde(default)]
    cardinality: Vec<CardinalityT>,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum ThresholdFields {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct CardinalityT {
    field: String,
    value: u64,
}

/// Parses a detection-rules TOML file into a [`Rule`].
pub fn parse_rule(path: &str, text: &str) -> Result<Rule, RuleError> {
    let fail = |message: String, span: Option<std::ops::Range<usize>>| RuleError {
        path: path.into(),
        message,
        span,
    };
    let file: File = toml::from_str(text).map_err(|e| fail(clean(e.message()), e.span()))?;
    let raw: toml::Table = toml::from_str(text).map_err(|e| fail(clean(e.message()), e.span()))?;
    let r = file.rule;

    let severity = Severity::parse(&r.severity).ok_or_else(|| {
        fail(
            format!("unknown severity `{}`", r.severity),
            find(text, "severity"),
        )
    })?;
    let lookback = match &r.from {
        None => Schedule::default().lookback,
        Some(from) => parse_from(from).ok_or_else(|| {
            fail(
                format!("`from = \"{from}\"` is not `now-<duration>`"),
                find(text, "from"),
            )
        })?,
    };
    let interval = match &r.interval {
        None => Schedule::default().interval,
        Some(i) => vigil_event::parse_duration_es(i).map_err(|_| {
            fail(
                format!("`interval = \"{i}\"` is not a duration"),
                find(text, "interval"),
            )
        })?,
    };
    let schedule = Schedule {
        interval,
        lookback,
        max_signals: r.max_signals.unwrap_or(100),
    };

    let (query, query_span, query_verbatim) = match &r.query {
        Some(q) => {
            let (span, verbatim) = content_span(text, q.span());
            (Some(q.get_ref().clone()), Some(span), verbatim)
        }
        None => (None, None, false),
    };
    let language = r.language.clone();
    let need_query = |kind: &str| {
        query
            .clone()
            .ok_or_else(|| fail(format!("a {kind} rule needs a `query`"), find(text, "type")))
    };
    let kind = match r.rule_type.as_str() {
        "query" => RuleKind::Query {
            language: language.clone().unwrap_or_else(|| "kuery".into()),
            query: need_query("query")?,
        },
        "new_terms" => {
            let nt = r.new_terms.as_ref().ok_or_else(|| {
                fail(
                    "a new_terms rule needs `[rule.new_terms]`".into(),
                    find(text, "type"),
                )
            })?;
            RuleKind::NewTerms {
                language: language.clone().unwrap_or_else(|| "kuery".into()),
                query: need_query("new_terms")?,
                new_terms: NewTerms {
                    fields: nt.value.clone(),
                    history_window_start: nt
                        .history_window_start
                        .first()
                        .map(|h| h.value.clone())
                        .unwrap_or_else(|| "now-7d".into()),
                },
            }
        }
        "threshold" => {
            let t = r.threshold.as_ref().ok_or_else(|| {
                fail(
                    "a threshold rule needs `[rule.threshold]`".into(),
                    find(text, "type"),
                )
            })?;
            RuleKind::Threshold {
                language: language.clone().unwrap_or_else(|| "kuery".into()),
                query: need_query("threshold")?,
                threshold: Threshold {
                    fields: match &t.field {
                        ThresholdFields::None => vec![],
                        ThresholdFields::One(f) if f.is_empty() => vec![],
                        ThresholdFields::One(f) => vec![f.clone()],
                        ThresholdFields::Many(v) => v.clone(),
                    },
                    value: t.value,
                    cardinality: t
                        .cardinality
                        .iter()
                        .map(|c| (c.field.clone(), c.value))
                        .collect(),
                },
            }
        }
        "eql" => RuleKind::Eql {
            query: need_query("eql")?,
            event_category_override: r.event_category_override.clone(),
            tiebreaker_field: r.tiebreaker_field.clone(),
            timestamp_field: r.timestamp_field.clone(),
        },
        "esql" => RuleKind::Esql {
            query: need_query("esql")?,
        },
        "machine_learning" => RuleKind::MachineLearning {
            job_ids: match &r.machine_learning_job_id {
                Some(StringOrList::One(s)) => vec![s.clone()],
                Some(StringOrList::Many(v)) => v.clone(),
                None => vec![],
            },
            anomaly_threshold: r.anomaly_threshold,
        },
        other => RuleKind::Other {
            rule_type: other.to_string(),
            language: language.clone(),
            query: query.clone(),
        },
    };

    let alert_suppression = match &r.alert_suppression {
        None => None,
        Some(s) => Some(AlertSuppression {
            group_by: s.group_by.clone(),
            duration: match &s.duration {
                None => None,
                Some(d) => Some(
                    vigil_event::parse_duration_es(&format!("{}{}", d.value, d.unit)).map_err(
                        |_| {
                            fail(
                                format!("bad suppression duration {}{}", d.value, d.unit),
                                find(text, "alert_suppression"),
                            )
                        },
                    )?,
                ),
            },
            missing_fields_strategy: match s.missing_fields_strategy.as_deref() {
                None | Some("suppress") => MissingFieldsStrategy::Suppress,
                Some("doNotSuppress") => MissingFieldsStrategy::DoNotSuppress,
                Some(other) => {
                    return Err(fail(
                        format!("unknown missing_fields_strategy `{other}`"),
                        find(text, "missing_fields_strategy"),
                    ));
                }
            },
        }),
    };

    let severity_mapping = r
        .severity_mapping
        .iter()
        .map(|m| {
            if m.operator.as_deref().is_some_and(|o| o != "equals") {
                return Err(fail(
                    format!(
                        "severity_mapping operator `{}` is not supported",
                        m.operator.as_deref().unwrap_or_default()
                    ),
                    find(text, "severity_mapping"),
                ));
            }
            Ok(SeverityMapping {
                field: m.field.clone(),
                value: m.value.clone(),
                severity: Severity::parse(&m.severity).ok_or_else(|| {
                    fail(
                        format!("unknown severity `{}`", m.severity),
                        find(text, "severity_mapping"),
                    )
                })?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let filters = r
        .filters
        .iter()
        .map(|f| {
            filters::lower_filter(f)
                .map_err(|m| fail(format!("unsupported filter: {m}"), find(text, "filters")))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut unmodelled = BTreeMap::new();
    if let Some(toml::Value::Table(rule)) = raw.get("rule") {
        for (k, v) in rule {
            if !KNOWN_RULE_KEYS.contains(&k.as_str()) && !INERT_RULE_KEYS.contains(&k.as_str()) {
                unmodelled.insert(format!("rule.{k}"), v.to_string());
            }
        }
    }
    for key in ["maturity", "integration"] {
        if let Some(v) = file.metadata.get(key) {
            unmodelled.insert(format!("metadata.{key}"), v.to_string());
        }
    }

    Ok(Rule {
        rule_id: r.rule_id,
        name: r.name,
        description: r.description,
        severity,
        risk_score: r.risk_score,
        kind,
        index: r.index,
        schedule,
        timestamp_override: r.timestamp_override,
        timestamp_override_fallback_disabled: r
            .timestamp_override_fallback_disabled
            .unwrap_or(false),
        tags: r.tags,
        author: r.author,
        references: r.references,
        license: r.license,
        false_positives: r.false_positives,
        note: r.note,
        setup: r.setup,
        threat: r.threat.into_iter().map(threat).collect(),
        investigation_fields: r
            .investigation_fields
            .map(|i| i.field_names)
            .unwrap_or_default(),
        alert_suppression,
        severity_mapping,
        building_block: r.building_block_type.is_some(),
        rule_name_override: r.rule_name_override,
        version: r.version,
        enabled: r.enabled.unwrap_or(true),
        filters,
        unmodelled,
        source: RuleSource {
            path: path.into(),
            text: Arc::from(text),
            query_span,
            query_verbatim,
        },
    })
}

fn threat(t: ThreatT) -> Threat {
    fn technique(t: TechniqueT) -> Technique {
        Technique {
            id: t.id,
            name: t.name,
            reference: t.reference,
            subtechniques: t.subtechnique.into_iter().map(technique).collect(),
        }
    }
    Threat {
        framework: t.framework,
        tactic: Tactic {
            id: t.tactic.id,
            name: t.tactic.name,
            reference: t.tactic.reference,
        },
        techniques: t.technique.into_iter().map(technique).collect(),
    }
}

/// `now-9m` → 9 minutes of look-back.
fn parse_from(from: &str) -> Option<SignedDuration> {
    let d = vigil_event::parse_duration_es(from.trim().strip_prefix("now-")?).ok()?;
    (!d.is_negative()).then_some(d)
}

/// The byte range of a TOML string's content (inside its quotes), and whether the content is the
/// file text verbatim (literal strings, or basic strings without escapes).
fn content_span(text: &str, span: std::ops::Range<usize>) -> (std::ops::Range<usize>, bool) {
    let raw = &text[span.clone()];
    let (open, verbatim_kind) = if raw.starts_with("'''") {
        (3, true)
    } else if raw.starts_with("\"\"\"") {
        (3, false)
    } else if raw.starts_with('\'') {
        (1, true)
    } else {
        (1, false)
    };
    let mut start = span.start + open;
    // A newline right after a multi-line opening delimiter is not part of the string.
    if open == 3 {
        if text[start..].starts_with("\r\n") {
            start += 2;
        } else if text[start..].starts_with('\n') {
            start += 1;
        }
    }
    let end = span.end.saturating_sub(open).max(start);
    let verbatim = verbatim_kind || !text[start..end].contains('\\');
    (start..end, verbatim)
}

/// The span of a `key =` line, to point diagnostics at the right place.
fn find(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with(['=', ']', '.']) {
            let start = offset + (line.len() - t.len());
            return Some(start..start + key.len());
        }
        if t.starts_with(&format!("[rule.{key}")) || t.starts_with(&format!("[[rule.{key}")) {
            return Some(offset..offset + line.trim_end().len());
        }
        offset += line.len();
    }
    None
}

fn clean(msg: &str) -> String {
    msg.trim().trim_end_matches('.').to_string()
}
