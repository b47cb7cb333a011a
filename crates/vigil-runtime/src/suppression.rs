//! Alert suppression (`alert_suppression`): alerts sharing the values of `group_by` fields are
//! folded into one, counted on the survivor.
//!
//! As Kibana does: within a run the first alert of each group survives and the others are
//! counted; with a `duration`, later runs fold into the survivor while the run's `now` is within
//! `duration` of the survivor's creation; without one, suppression is per run. Documents missing
//! a `group_by` field form their own group (`suppress`) or are never suppressed
//! (`doNotSuppress`).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigil_event::{Value, format_es_date};
use vigil_rules::{AlertSuppression, MissingFieldsStrategy, Rule};

use crate::executor::Draft;
use crate::state::{State, key_part};

/// A surviving alert's suppression record, kept in the state between runs and hunts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Survivor {
    pub uuid: String,
    /// When the survivor was created (its run's `now`), nanoseconds.
    pub created: i128,
    pub docs_count: u64,
    pub start: i128,
    pub end: i128,
    pub terms: Vec<(String, serde_json::Value)>,
}

/// A draft's group: the instance id and the terms, or `None` when it must not be suppressed.
pub fn group(
    rule: &Rule,
    s: &AlertSuppression,
    doc: &Value,
) -> Option<(String, Vec<(String, Value)>)> {
    let mut terms = Vec::new();
    for f in &s.group_by {
        let v = doc
            .lookup(f)
            .into_iter()
            .flat_map(Value::leaves)
            .next()
            .cloned();
        if v.is_none() && s.missing_fields_strategy == MissingFieldsStrategy::DoNotSuppress {
            return None;
        }
        terms.push((f.clone(), v.unwrap_or(Value::Null)));
    }
    let mut h = Sha256::new();
    h.update(rule.rule_id.as_bytes());
    for (f, v) in &terms {
        h.update(b"\x1f");
        h.update(f.as_bytes());
        h.update(b"=");
        h.update(serde_json::to_string(v).unwrap_or_default().as_bytes());
    }
    Some((
        h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        terms,
    ))
}

/// The outcome for one draft.
pub enum Verdict {
    /// Create the alert, with these suppression fields.
    Create(Survivor),
    /// Folded into an existing alert (whose record was updated in the state).
    Suppressed,
}

/// Applies suppression to one draft of a run. `created` is the run's `now`.
pub fn apply(
    rule: &Rule,
    s: &AlertSuppression,
    draft: &Draft,
    doc: &Value,
    created: Timestamp,
    state: &mut State,
) -> Option<Verdict> {
    let (instance, terms) = group(rule, s, doc)?;
    let key = format!("sup/{}/{instance}", key_part(&rule.rule_id));
    let t = draft.time.as_nanosecond();
    let now = created.as_nanosecond();
    if let Some(bytes) = state.get(&key)
        && let Ok(mut existing) = serde_json::from_slice::<Survivor>(&bytes)
    {
        let live = match s.duration {
            // Per-run suppression: only alerts of the same run fold together.
            None => existing.created == now,
            Some(d) => existing.created >= now - d.as_nanos(),
        };
        if live {
            existing.docs_count += 1;
            existing.start = existing.start.min(t);
            existing.end = existing.end.max(t);
            state.put(&key, serde_json::to_vec(&existing).unwrap_or_default());
            return Some(Verdict::Suppressed);
        }
    }
    let survivor = Survivor {
        uuid: draft.uuid.clone(),
        created: now,
        docs_count: 0,
        start: t,
        end: t,
        terms: terms
            .iter()
            .map(|(f, v)| (f.clone(), serde_json::Value::from(v)))
            .collect(),
    };
    state.put(&key, serde_json::to_vec(&survivor).unwrap_or_default());
    Some(Verdict::Create(survivor))
}

/// The suppression fields of an alert, from its (final) record.
pub fn fields(s: &Survivor) -> Vec<(String, Value)> {
    let time = |n: i128| {
        Timestamp::from_nanosecond(n)
            .map(|t| Value::str(&format_es_date(t)))
            .unwrap_or(Value::Null)
    };
    let terms: Vec<Value> = s
        .terms
        .iter()
        .map(|(f, v)| {
            let mut m = BTreeMap::new();
            m.insert(std::sync::Arc::from("field"), Value::str(f));
            m.insert(std::sync::Arc::from("value"), Value::from(v.clone()));
            Value::Object(m)
        })
        .collect();
    vec![
        ("kibana.alert.suppression.terms".into(), Value::Array(terms)),
        ("kibana.alert.suppression.start".into(), time(s.start)),
        ("kibana.alert.suppression.end".into(), time(s.end)),
        (
            "kibana.alert.suppression.docs_count".into(),
            Value::Int(i64::try_from(s.docs_count).unwrap_or(i64::MAX)),
        ),
    ]
}

/// Drops suppression records no later run can fold into.
pub fn prune(rule: &Rule, s: &AlertSuppression, now: Timestamp, state: &mut State) {
    let keep_after = now.as_nanosecond() - s.duration.map_or(0, |d| d.as_nanos());
    for (k, v) in state.scan(&format!("sup/{}/", key_part(&rule.rule_id))) {
        if serde_json::from_slice::<Survivor>(&v).is_ok_and(|sv| sv.created < keep_after) {
            state.delete(&k);
        }
    }
}
