//! Values as hash keys (grouping, distinct counts, join keys): floats by bit pattern, `-0.0`
//! equal to `0.0`, integers equal to the same float.

use std::hash::{Hash, Hasher};

use vigil_event::Value;

/// A value usable as a hash-map key.
#[derive(Clone, Debug)]
pub struct GroupKey(pub Value);

impl GroupKey {
    pub fn new(v: &Value) -> GroupKey {
        GroupKey(v.clone())
    }
}

impl PartialEq for GroupKey {
    fn eq(&self, other: &GroupKey) -> bool {
        key_eq(&self.0, &other.0)
    }
}

impl Eq for GroupKey {}

impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        hash_value(&self.0, h);
    }
}

fn key_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_f64().map(norm) == b.as_f64().map(norm)
                && (matches!((a, b), (Value::Float(_), _) | (_, Value::Float(_))) || a == b)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| key_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && key_eq(va, vb))
        }
        _ => a == b,
    }
}

fn norm(f: f64) -> u64 {
    if f == 0.0 { 0 } else { f.to_bits() }
}

fn hash_value<H: Hasher>(v: &Value, h: &mut H) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Int(i) => (2u8, norm(*i as f64)).hash(h),
        Value::Float(f) => (2u8, norm(*f)).hash(h),
        Value::Str(s) => (3u8, &**s).hash(h),
        Value::Ip(ip) => (4u8, ip).hash(h),
        Value::Date(t) => (5u8, t.as_nanosecond()).hash(h),
        Value::Duration(d) => (6u8, d.as_nanos()).hash(h),
        Value::Array(items) => {
            7u8.hash(h);
            for i in items {
                hash_value(i, h);
            }
        }
        Value::Object(m) => {
            8u8.hash(h);
            for (k, v) in m {
                k.hash(h);
                hash_value(v, h);
            }
        }
    }
}
