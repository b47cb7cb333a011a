//! Alerts in the shape of Kibana's security alert documents: the source event's fields plus
//! dotted `kibana.alert.*` keys.

use std::sync::Arc;

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use vigil_event::{Map, Value, format_es_date};
use vigil_rules::{Rule, RuleKind, Severity};

/// One alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// `kibana.alert.uuid`: deterministic, so overlapping runs never duplicate an alert.
    pub uuid: String,
    /// Index of the rule in the engine.
    pub rule: usize,
    /// The run that created it (`@timestamp` of the alert).
    pub created: Timestamp,
    /// The source event's time, when it has one.
    pub original_time: Option<Timestamp>,
    pub severity: Severity,
    /// The whole alert document.
    pub doc: Value,
}

/// Where a source document lives, as Elasticsearch would report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRef {
    pub id: Arc<str>,
    pub index: Arc<str>,
}

/// A stable document id from the record's bytes: identical records are the same document.
pub fn document_id(raw: &[u8]) -> Arc<str> {
    let digest = Sha256::digest(raw);
    Arc::from(hex(&digest[..15]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The alert id Kibana derives for a query-type alert: a hash of the source document's index
/// and id and of the rule.
pub fn query_alert_id(source: &SourceRef, rule_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(source.index.as_bytes());
    h.update(source.id.as_bytes());
    h.update(rule_id.as_bytes());
    hex(&h.finalize())
}

/// Kibana's rule category for a rule type.
fn category(kind: &RuleKind) -> &'static str {
    match kind {
        RuleKind::Query { .. } => "Custom Query Rule",
        RuleKind::NewTerms { .. } => "New Terms Rule",
        RuleKind::Threshold { .. } => "Threshold Rule",
        RuleKind::Eql { .. } => "Event Correlation Rule",
        RuleKind::Esql { .. } => "ES|QL Rule",
        RuleKind::MachineLearning { .. } => "Machine Learning Rule",
        RuleKind::Sentinel(_) => "Scheduled Analytics Rule",
        RuleKind::Other { .. } => "Detection Rule",
    }
}

/// Builds the alert for one source event.
pub fn event_alert(
    rule: &Rule,
    rule_index: usize,
    source_doc: &Value,
    source: &SourceRef,
    created: Timestamp,
) -> Alert {
    build_alert(
        rule,
        rule_index,
        source_doc,
        source,
        created,
        query_alert_id(source, &rule.rule_id),
        Vec::new(),
    )
}

/// Builds an alert from its source document (an event, or a document the rule built), with its
/// id and any type-specific fields (`kibana.alert.new_terms`, suppression, …).
pub fn build_alert(
    rule: &Rule,
    rule_index: usize,
    source_doc: &Value,
    source: &SourceRef,
    created: Timestamp,
    uuid: String,
    extra: Vec<(String, Value)>,
) -> Alert {
    let severity = mapped_severity(rule, source_doc);
    let original_time = source_doc
        .get_path("@timestamp")
        .or_else(|| source_doc.get_path("TimeGenerated"))
        .and_then(|v| v.coerce_to(vigil_event::DataType::Date))
        .and_then(|v| {
            if let Value::Date(t) = v {
                Some(t)
            } else {
                None
            }
        });

    let mut doc = match source_doc {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    // The source's event fields are kept under original_event; the alert is a signal.
    if let Some(Value::Object(event)) = doc.get("event").cloned() {
        for (k, v) in event {
            doc.insert(Arc::from(format!("kibana.alert.original_event.{k}")), v);
        }
    }
    let mut out = Value::Object(doc);
    out.insert_path("event.kind", Value::str("signal"));
    let Value::Object(mut doc) = out else {
        unreachable!("built as an object")
    };

    let mut put = |k: &str, v: Value| {
        doc.insert(Arc::from(k), v);
    };
    put("@timestamp", Value::str(&format_es_date(created)));
    if let Some(t) = original_time {
        put("kibana.alert.original_time", Value::str(&format_es_date(t)));
    }
    put("kibana.alert.uuid", Value::str(&uuid));
    put("kibana.alert.status", Value::str("active"));
    put("kibana.alert.workflow_status", Value::str("open"));
    put("kibana.alert.depth", Value::Int(1));
    put("kibana.alert.severity", Value::str(severity.as_str()));
    put(
        "kibana.alert.risk_score",
        Value::Int(i64::from(rule.risk_score)),
    );
    let reason_text = match rule.kind {
        // Kibana names only the user and host of a threshold group.
        RuleKind::Threshold { .. } => {
            threshold_reason(source_doc, severity, &rule_name(rule, source_doc))
        }
        _ => reason(source_doc, severity, &rule_name(rule, source_doc)),
    };
    put("kibana.alert.reason", Value::from(reason_text));
    put(
        "kibana.space_ids",
        Value::Array(vec![Value::str("default")]),
    );
    let mut ancestor = Map::new();
    ancestor.insert(Arc::from("id"), Value::Str(source.id.clone()));
    ancestor.insert(Arc::from("index"), Value::Str(source.index.clone()));
    ancestor.insert(Arc::from("depth"), Value::Int(0));
    ancestor.insert(Arc::from("type"), Value::str("event"));
    put(
        "kibana.alert.ancestors",
        Value::Array(vec![Value::Object(ancestor)]),
    );
    if rule.building_block {
        put("kibana.alert.building_block_type", Value::str("default"));
    }
    for (k, v) in rule_fields(rule, source_doc).into_iter().chain(extra) {
        put(&k, v);
    }
    Alert {
        uuid,
        rule: rule_index,
        created,
        original_time,
        severity,
        doc: Value::Object(doc),
    }
}

/// `severity_mapping`: the first mapping whose field holds its value overrides the severity.
fn mapped_severity(rule: &Rule, doc: &Value) -> Severity {
    rule.severity_mapping
        .iter()
        .find(|m| {
            doc.lookup(&m.field)
                .iter()
                .flat_map(|v| v.leaves())
                .any(|v| v.to_string() == m.value)
        })
        .map_or(rule.severity, |m| m.severity)
}

fn rule_name(rule: &Rule, doc: &Value) -> String {
    rule.rule_name_override
        .as_deref()
        .and_then(|f| doc.get_path(f))
        .map_or_else(|| rule.name.clone(), ToString::to_string)
}

/// `kibana.alert.rule.*` fields.
fn rule_fields(rule: &Rule, doc: &Value) -> Vec<(String, Value)> {
    let s = |v: &str| Value::str(v);
    let list = |v: &[String]| Value::Array(v.iter().map(|x| Value::str(x)).collect());
    let mut out = vec![
        ("rule_id", s(&rule.rule_id)),
        ("uuid", s(&rule.rule_id)),
        ("name", Value::from(rule_name(rule, doc))),
        ("type", s(rule.kind.type_name())),
        ("category", s(category(&rule.kind))),
        ("consumer", s("siem")),
        ("producer", s("siem")),
        (
            "rule_type_id",
            s(&format!("siem.{}Rule", camel(rule.kind.type_name()))),
        ),
        ("description", s(&rule.description)),
        ("severity", s(rule.severity.as_str())),
        ("risk_score", Value::Int(i64::from(rule.risk_score))),
        ("tags", list(&rule.tags)),
        ("author", list(&rule.author)),
        ("references", list(&rule.references)),
        ("false_positives", list(&rule.false_positives)),
        ("index", list(&rule.index)),
        (
            "from",
            Value::from(format!("now-{}s", rule.schedule.lookback.as_secs())),
        ),
        (
            "interval",
            Value::from(format!("{}s", rule.schedule.interval.as_secs())),
        ),
        (
            "max_signals",
            Value::Int(i64::from(rule.schedule.max_signals)),
        ),
        ("enabled", Value::Bool(rule.enabled)),
    ];
    if let Some((language, query)) = rule.kind.query() {
        out.push(("language", s(language)));
        out.push(("query", s(query)));
    }
    if let Some(t) = &rule.timestamp_override {
        out.push(("timestamp_override", s(t)));
    }
    if let Some(l) = &rule.license {
        out.push(("license", s(l)));
    }
    if let Some(v) = rule.version {
        out.push(("version", Value::Int(i64::from(v))));
    }
    if let Some(n) = &rule.note {
        out.push(("note", s(n)));
    }
    if !rule.threat.is_empty() {
        out.push(("threat", threat(rule)));
    }
    out.into_iter()
        .map(|(k, v)| (format!("kibana.alert.rule.{k}"), v))
        .collect()
}

fn camel(type_name: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in type_name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn threat(rule: &Rule) -> Value {
    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (Arc::from(k), v)).collect())
    }
    fn technique(t: &vigil_rules::Technique) -> Value {
        let mut pairs = vec![
            ("id", Value::str(&t.id)),
            ("name", Value::str(&t.name)),
            ("reference", Value::str(&t.reference)),
        ];
        if !t.subtechniques.is_empty() {
            pairs.push((
                "subtechnique",
                Value::Array(t.subtechniques.iter().map(technique).collect()),
            ));
        }
        obj(pairs)
    }
    Value::Array(
        rule.threat
            .iter()
            .map(|t| {
                obj(vec![
                    ("framework", Value::str(&t.framework)),
                    (
                        "tactic",
                        obj(vec![
                            ("id", Value::str(&t.tactic.id)),
                            ("name", Value::str(&t.tactic.name)),
                            ("reference", Value::str(&t.tactic.reference)),
                        ]),
                    ),
                    (
                        "technique",
                        Value::Array(t.techniques.iter().map(technique).collect()),
                    ),
                ])
            })
            .collect(),
    )
}

/// Kibana's alert reason: what happened, where and by whom, e.g. "process event with process
/// cmd.exe, parent process explorer.exe, by alice on ws1 created high alert Foo."
pub fn reason(doc: &Value, severity: Severity, rule_name: &str) -> String {
    let first = |field: &str| {
        doc.lookup(field)
            .into_iter()
            .flat_map(Value::leaves)
            .next()
            .map(ToString::to_string)
    };
    let categories: Vec<String> = doc
        .lookup("event.category")
        .into_iter()
        .flat_map(Value::leaves)
        .map(ToString::to_string)
        .collect();
    let mut out = if categories.is_empty() {
        "event".to_string()
    } else {
        format!("{} event", categories.join(", "))
    };
    let process = first("process.name");
    let parent = first("process.parent.name");
    let file = first("file.name");
    let src = first("source.ip").or_else(|| first("source.address"));
    let dst = first("destination.ip").or_else(|| first("destination.address"));
    if process.is_some() || parent.is_some() || file.is_some() || src.is_some() || dst.is_some() {
        out.push_str(" with");
    }
    if let Some(p) = process {
        out.push_str(&format!(" process {p},"));
    }
    if let Some(p) = parent {
        out.push_str(&format!(" parent process {p},"));
    }
    if let Some(f) = file {
        out.push_str(&format!(" file {f},"));
    }
    for (name, addr, port) in [
        ("source", src, first("source.port")),
        ("destination", dst, first("destination.port")),
    ] {
        if let Some(a) = addr {
            out.push_str(&format!(" {name} {a}"));
            if let Some(p) = port {
                out.push_str(&format!(":{p},"));
            }
        }
    }
    if let Some(u) = first("user.name") {
        out.push_str(&format!(" by {u}"));
    }
    if let Some(h) = first("host.name") {
        out.push_str(&format!(" on {h}"));
    }
    out.push_str(&format!(" created {severity} alert {rule_name}."));
    out
}

/// Kibana's threshold alert reason: "event by U on H created S alert N."
fn threshold_reason(doc: &Value, severity: Severity, rule_name: &str) -> String {
    let first = |field: &str| {
        doc.lookup(field)
            .into_iter()
            .flat_map(Value::leaves)
            .next()
            .map(ToString::to_string)
    };
    let mut out = "event".to_string();
    if let Some(u) = first("user.name") {
        out.push_str(&format!(" by {u}"));
    }
    if let Some(h) = first("host.name") {
        out.push_str(&format!(" on {h}"));
    }
    out.push_str(&format!(" created {severity} alert {rule_name}."));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Value {
        vigil_event::parse_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn reason_matches_kibana_wording() {
        let full = doc(
            r#"{"event":{"category":["test"]},"process":{"name":"doingThings.exe","parent":{"name":"didThings.exe"}},"file":{"name":"sample"},"source":{"ip":"1.11.11.1","port":1234},"destination":{"ip":"9.99.99.9","port":6789},"user":{"name":"test-user"},"host":{"name":"host"}}"#,
        );
        assert_eq!(
            reason(&full, Severity::Medium, "my-rule"),
            "test event with process doingThings.exe, parent process didThings.exe, file sample, source 1.11.11.1:1234, destination 9.99.99.9:6789, by test-user on host created medium alert my-rule."
        );
        let sparse = doc(r#"{"event":{"category":"test"},"user":{"name":"test-user"}}"#);
        assert_eq!(
            reason(&sparse, Severity::Medium, "my-rule"),
            "test event by test-user created medium alert my-rule."
        );
        let no_port =
            doc(r#"{"source":{"ip":"1.11.11.1"},"destination":{"ip":"9.99.99.9","port":6789}}"#);
        assert_eq!(
            reason(&no_port, Severity::High, "r"),
            "event with source 1.11.11.1 destination 9.99.99.9:6789, created high alert r."
        );
    }
}
