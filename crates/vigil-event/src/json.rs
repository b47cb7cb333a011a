//! JSON decoding into [`Value`] (with a nesting limit) and encoding back.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::value::{Map, Value};

/// Deepest nesting of arrays and objects a document may have. Jackson, which Elasticsearch uses,
/// stops at 1000; we stop at serde_json's default so that decoding stays well inside a worker
/// thread's stack (the SIMD parser recurses once per level).
pub const MAX_DEPTH: usize = 127;

/// Why a record is not valid JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Restores the nesting depth on every exit path, errors included.
struct DepthGuard;

impl DepthGuard {
    fn enter<E: de::Error>() -> Result<DepthGuard, E> {
        DEPTH.with(|d| {
            let next = d.get() + 1;
            if next > MAX_DEPTH {
                return Err(E::custom(format_args!(
                    "nesting deeper than {MAX_DEPTH} levels"
                )));
            }
            d.set(next);
            Ok(DepthGuard)
        })
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Parses a whole JSON text.
///
/// serde_json, not the SIMD parser: its frames are small enough that [`MAX_DEPTH`] levels fit a
/// worker thread's stack even in unoptimised builds, where sonic-rs needs ~17 KiB per level.
pub fn parse_json(bytes: &[u8]) -> Result<Value, JsonError> {
    serde_json::from_slice::<Value>(bytes).map_err(|e| JsonError(e.to_string()))
}

/// Parses only the listed top-level keys of a JSON object (and flattened keys under them); the
/// other values are skipped by the SIMD scanner without being decoded. This is the decoder's
/// projection pushdown.
pub fn parse_json_lazy_keys(bytes: &[u8], keys: &HashSet<&str>) -> Result<Value, JsonError> {
    // The SIMD scanner skips values recursively and without a limit: check the depth first.
    if !nesting_within_limit(bytes) {
        return Err(JsonError(format!("nesting deeper than {MAX_DEPTH} levels")));
    }
    let mut map = Map::new();
    for entry in sonic_rs::to_object_iter(bytes) {
        let (key, raw) = entry.map_err(|e| JsonError(clean_error(&e.to_string())))?;
        if keys.contains(&*key) || keys.iter().any(|k| is_dotted_prefix(k, &key)) {
            let value = serde_json::from_str::<Value>(raw.as_raw_str())
                .map_err(|e| JsonError(e.to_string()))?;
            map.insert(Arc::from(&*key), value);
        }
    }
    Ok(Value::Object(map))
}

/// True if no array or object in `bytes` nests deeper than [`MAX_DEPTH`]. Most records have
/// fewer brackets in total than the limit, which a SIMD count settles; others are scanned.
fn nesting_within_limit(bytes: &[u8]) -> bool {
    if memchr::memchr2_iter(b'[', b'{', bytes)
        .take(MAX_DEPTH + 1)
        .count()
        <= MAX_DEPTH
    {
        return true;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// `key` is a flattened dotted key (`"a.b.c"`) whose first segment is `first`.
fn is_dotted_prefix(first: &str, key: &str) -> bool {
    key.len() > first.len() && key.starts_with(first) && key.as_bytes()[first.len()] == b'.'
}

/// sonic-rs errors carry a multi-line excerpt; the first line is the reason.
fn clean_error(msg: &str) -> String {
    msg.lines().next().unwrap_or(msg).trim().to_string()
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor::<false>)
    }
}

/// A [`Value`] decoded with repeated object keys refused, as Jackson's strict duplicate
/// detection does (Elasticsearch's `json` processor). Nesting is left to the deserializer's
/// own recursion limit.
pub struct UniqueKeys(pub Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<UniqueKeys, D::Error> {
        d.deserialize_any(ValueVisitor::<true>).map(UniqueKeys)
    }
}

/// Decodes a value; with `UNIQUE_KEYS` a repeated key is an error, otherwise the last wins.
struct ValueVisitor<const UNIQUE_KEYS: bool>;

/// A nested value decoded by the same kind of visitor as its parent.
struct Nested<const UNIQUE_KEYS: bool>(Value);

impl<'de, const U: bool> Deserialize<'de> for Nested<U> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Nested<U>, D::Error> {
        d.deserialize_any(ValueVisitor::<U>).map(Nested)
    }
}

impl<const U: bool> ValueVisitor<U> {
    fn enter<E: de::Error>() -> Result<Option<DepthGuard>, E> {
        if U {
            Ok(None)
        } else {
            DepthGuard::enter().map(Some)
        }
    }
}

impl<'de, const U: bool> Visitor<'de> for ValueVisitor<U> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        // Above i64::MAX only unsigned_long fields exist; keep the magnitude as a float.
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(Arc::from(v)))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(Arc::from(v)))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Nested::<U>::deserialize(d).map(|n| n.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let _guard = Self::enter()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(Nested(v)) = seq.next_element::<Nested<U>>()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let _guard = Self::enter()?;
        let mut map = Map::new();
        while let Some(KeyStr(key)) = access.next_key::<KeyStr>()? {
            let Nested(v) = access.next_value::<Nested<U>>()?;
            if !U {
                // Duplicate keys: the last one wins, as in Elasticsearch's source parsing.
                map.insert(key, v);
            } else if map.insert(key.clone(), v).is_some() {
                return Err(de::Error::custom(format_args!("Duplicate field '{key}'")));
            }
        }
        Ok(Value::Object(map))
    }
}

/// A map key decoded straight into the shared string type.
struct KeyStr(Arc<str>);

impl<'de> Deserialize<'de> for KeyStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyStr, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyStr, E> {
                Ok(KeyStr(Arc::from(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => {
                if f.is_finite() {
                    s.serialize_f64(*f)
                } else {
                    s.serialize_unit()
                }
            }
            Value::Str(v) => s.serialize_str(v),
            Value::Ip(_) | Value::Date(_) | Value::Duration(_) => s.collect_str(self),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(&**k, v)?;
                }
                map.end()
            }
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .or_else(|| n.as_f64().map(Value::Float))
                .unwrap_or(Value::Null),
            serde_json::Value::String(s) => Value::from(s),
            serde_json::Value::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, v)| (Arc::from(k), Value::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<&Value> for serde_json::Value {
    fn from(v: &Value) -> serde_json::Value {
        serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let text = r#"{"a":{"b":[1,2.5,"x",true,null]},"c.d":-3}"#;
        let v = parse_json(text.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), text);
    }

    #[test]
    fn repeated_keys_last_wins_unless_unique_keys_are_asked_for() {
        let text = r#"{"a":1,"b":[{"c":1,"c":2}],"a":3}"#;
        let v = parse_json(text.as_bytes()).unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"a":3,"b":[{"c":2}]}"#
        );
        let strict = |t: &str| serde_json::from_str::<UniqueKeys>(t).map(|u| u.0);
        let err = strict(text).unwrap_err().to_string();
        assert!(err.starts_with("Duplicate field 'c'"), "{err}");
        assert!(strict(r#"{"a":{"b":1},"c":[1,{"b":2}]}"#).is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let depth = 100_000;
        let text = "[".repeat(depth) + &"]".repeat(depth);
        let err = parse_json(text.as_bytes()).unwrap_err();
        assert!(
            err.0.contains("nesting") || err.0.contains("recursion limit"),
            "{err}"
        );
        // The guard unwinds: a normal document still parses on this thread afterwards.
        assert!(parse_json(b"[[1]]").is_ok());
        let obj = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
        assert!(parse_json(obj.as_bytes()).is_err());
        let keys: HashSet<&str> = ["a"].into_iter().collect();
        assert!(parse_json_lazy_keys(obj.as_bytes(), &keys).is_err());
        let skipped = "{\"b\":".to_string() + &"[".repeat(depth) + &"]".repeat(depth) + ",\"a\":1}";
        // Too deep even where nobody reads: the record is rejected, never half-read.
        assert!(parse_json_lazy_keys(skipped.as_bytes(), &keys).is_err());
        let ok = "{\"b\":".to_string()
            + &"[".repeat(MAX_DEPTH - 1)
            + &"]".repeat(MAX_DEPTH - 1)
            + ",\"a\":1}";
        let v = parse_json_lazy_keys(ok.as_bytes(), &keys).unwrap();
        assert_eq!(v.get_path("a"), Some(&Value::Int(1)));
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        assert!(parse_json(b"{\"a\":\"\xff\"}").is_err());
    }

    #[test]
    fn lazy_keys_decode_only_what_is_asked() {
        let text = br#"{"keep":{"x":1},"skip":[1,2,{"deep":true}],"keep.flat":"y","other":"z"}"#;
        let keys: HashSet<&str> = ["keep"].into_iter().collect();
        let v = parse_json_lazy_keys(text, &keys).unwrap();
        let m = v.as_object().unwrap();
        assert_eq!(m.len(), 2);
        assert!(m.contains_key("keep") && m.contains_key("keep.flat"));
    }
}
