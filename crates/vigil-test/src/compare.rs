//! Comparing a case's alerts with what it expects.

use vigil_event::Value;

use crate::fixture::Expect;

/// How the actual alerts differ from the expected ones; empty when the case passes.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub expected_count: usize,
    pub actual_count: usize,
    /// Expected alerts that match no actual alert (each matched one is used once).
    pub unmatched: Vec<Unmatched>,
    /// Actual alerts (indices) no expected alert claimed.
    pub unclaimed: Vec<usize>,
}

impl Diff {
    pub fn passed(&self) -> bool {
        self.expected_count == self.actual_count && self.unmatched.is_empty()
    }
}

/// An expected alert that matched none, and the actual alert closest to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmatched {
    /// Index of the expected alert in the case.
    pub expected: usize,
    /// Index of the closest actual alert, if there is any.
    pub closest: Option<usize>,
    /// Fields of the expected alert that differ in the closest actual alert (all of them when
    /// there is none).
    pub fields: Vec<FieldDiff>,
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDiff {
    pub field: String,
    pub expected: Value,
    /// The actual value (an array for a multi-valued field); `None` when the field is missing.
    pub actual: Option<Value>,
}

/// Compares alert documents with the expectation. Each expected alert must match a distinct
/// actual alert (a maximum matching, so listing order does not matter).
pub fn compare(expect: &Expect, alerts: &[Value]) -> Diff {
    let fits: Vec<Vec<usize>> = expect
        .alerts
        .iter()
        .map(|fields| {
            (0..alerts.len())
                .filter(|&j| {
                    fields
                        .iter()
                        .all(|(f, v)| field_diff(&alerts[j], f, v).is_none())
                })
                .collect()
        })
        .collect();
    let owner = matching(&fits, alerts.len());
    let claimed: Vec<bool> = owner.iter().map(Option::is_some).collect();
    let mut unmatched = Vec::new();
    for (i, fields) in expect.alerts.iter().enumerate() {
        if owner.contains(&Some(i)) {
            continue;
        }
        let diffs = |j: usize| -> Vec<FieldDiff> {
            fields
                .iter()
                .filter_map(|(f, v)| field_diff(&alerts[j], f, v))
                .collect()
        };
        // The closest alert no other expectation claimed; any alert when all are claimed.
        let pick = |free: bool| {
            (0..alerts.len())
                .filter(|&j| !free || !claimed[j])
                .min_by_key(|&j| diffs(j).len())
        };
        let closest = pick(true).or_else(|| pick(false));
        let fields = match closest {
            Some(j) => diffs(j),
            None => fields
                .iter()
                .map(|(f, v)| FieldDiff {
                    field: f.clone(),
                    expected: v.clone(),
                    actual: None,
                })
                .collect(),
        };
        unmatched.push(Unmatched {
            expected: i,
            closest,
            fields,
        });
    }
    Diff {
        expected_count: expect.count,
        actual_count: alerts.len(),
        unmatched,
        unclaimed: (0..alerts.len()).filter(|&j| !claimed[j]).collect(),
    }
}

/// Maximum bipartite matching (augmenting paths): for each actual alert, the expected alert
/// it is matched to.
fn matching(fits: &[Vec<usize>], actual: usize) -> Vec<Option<usize>> {
    fn augment(
        i: usize,
        fits: &[Vec<usize>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for &j in &fits[i] {
            if seen[j] {
                continue;
            }
            seen[j] = true;
            if owner[j].is_none_or(|k| augment(k, fits, seen, owner)) {
                owner[j] = Some(i);
                return true;
            }
        }
        false
    }
    let mut owner = vec![None; actual];
    for i in 0..fits.len() {
        let mut seen = vec![false; actual];
        augment(i, fits, &mut seen, &mut owner);
    }
    owner
}

/// How an alert's field differs from the expected value; `None` when it matches. A scalar
/// matches a field with exactly that one value; an array matches a multi-valued field with
/// exactly those values in order.
pub fn field_diff(alert: &Value, field: &str, expected: &Value) -> Option<FieldDiff> {
    let leaves: Vec<&Value> = alert
        .lookup(field)
        .into_iter()
        .flat_map(Value::leaves)
        .collect();
    let same = match (expected, leaves.as_slice()) {
        (Value::Array(want), got) => {
            want.len() == got.len() && want.iter().zip(got).all(|(w, g)| scalar_eq(w, g))
        }
        (want, [one]) => scalar_eq(want, one),
        _ => false,
    };
    if same {
        return None;
    }
    let actual = match leaves.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
    };
    Some(FieldDiff {
        field: field.to_string(),
        expected: expected.clone(),
        actual,
    })
}

/// Equal values; numbers by value; two times by instant (`2026-05-18T01:00:00Z` equals the
/// alert's `2026-05-18T01:00:00.000Z`).
fn scalar_eq(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => *a as f64 == *b,
        (Value::Str(a), Value::Str(b)) if a != b => {
            match (vigil_event::parse_rfc3339(a), vigil_event::parse_rfc3339(b)) {
                // Only full timestamps: a bare date must not equal midnight by accident.
                (Ok(x), Ok(y)) => a.contains('T') && b.contains('T') && x == y,
                _ => false,
            }
        }
        _ => want == got,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Value {
        vigil_event::parse_json(json.as_bytes()).unwrap()
    }

    fn expect(count: usize, alerts: &[&[(&str, Value)]]) -> Expect {
        Expect {
            count,
            alerts: alerts
                .iter()
                .map(|a| a.iter().map(|(f, v)| (f.to_string(), v.clone())).collect())
                .collect(),
        }
    }

    #[test]
    fn dotted_paths_read_nested_and_flattened_keys() {
        let a = doc(r#"{"kibana.alert.rule.name":"R","user":{"name":"bob"},"ip":["1","2"]}"#);
        assert!(field_diff(&a, "kibana.alert.rule.name", &Value::from("R")).is_none());
        assert!(field_diff(&a, "user.name", &Value::from("bob")).is_none());
        let ips = Value::Array(vec![Value::from("1"), Value::from("2")]);
        assert!(field_diff(&a, "ip", &ips).is_none());
        // A scalar does not match a multi-valued field.
        let d = field_diff(&a, "ip", &Value::from("1")).unwrap();
        assert_eq!(d.actual, Some(ips));
        assert_eq!(field_diff(&a, "nope", &Value::Int(1)).unwrap().actual, None);
    }

    #[test]
    fn times_compare_by_instant() {
        let a = doc(r#"{"t":"2026-05-18T01:00:00.000Z"}"#);
        assert!(field_diff(&a, "t", &Value::from("2026-05-18T01:00:00Z")).is_none());
        assert!(field_diff(&a, "t", &Value::from("2026-05-18T01:00:01Z")).is_some());
    }

    #[test]
    fn matching_finds_distinct_alerts_whatever_the_order() {
        let alerts = [doc(r#"{"a":1,"b":1}"#), doc(r#"{"a":1,"b":2}"#)];
        // The first expectation fits both; a greedy match could starve the second.
        let e = expect(
            2,
            &[
                &[("a", Value::Int(1))],
                &[("a", Value::Int(1)), ("b", Value::Int(1))],
            ],
        );
        assert!(compare(&e, &alerts).passed());
        let e = expect(2, &[&[("b", Value::Int(1))], &[("b", Value::Int(1))]]);
        let d = compare(&e, &alerts);
        assert!(!d.passed());
        assert_eq!(d.unmatched.len(), 1);
        assert_eq!(d.unmatched[0].closest, Some(1));
        assert_eq!(d.unclaimed, vec![1]);
    }

    #[test]
    fn count_alone_decides_when_no_alert_is_listed() {
        assert!(compare(&expect(0, &[]), &[]).passed());
        let d = compare(&expect(0, &[]), &[doc("{}")]);
        assert!(!d.passed());
        assert_eq!(d.actual_count, 1);
    }
}
