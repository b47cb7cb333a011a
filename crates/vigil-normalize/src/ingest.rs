//! A small emulation of the Elasticsearch ingest document (`ctx`) and of the runtime behaviour the
//! Azure pipeline relies on: dotted-path reads and writes as `IngestDocument` does them, `rename`
//! and `append` with their failure cases, Mustache template rendering, Java `toString`, Painless
//! field access on `def` values, and the `json` processor's parser.
//!
//! Paths are split on every dot, as ingest does. Failures are plain messages; the pipeline wraps
//! them with the processor type and tag that `on_failure` reports.

use std::fmt::Write as _;
use std::sync::Arc;

use serde::Deserialize;
use vigil_event::{Map, UniqueKeys, Value};

/// The value at `path`, following objects only. `Some(&Value::Null)` is a present null, which
/// ingest distinguishes from a missing field (`hasField` is true for it).
pub(crate) fn get<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = doc;
    for seg in path.split('.') {
        cur = cur.as_object()?.get(seg)?;
    }
    Some(cur)
}

/// `IngestDocument.hasField`.
pub(crate) fn has(doc: &Value, path: &str) -> bool {
    get(doc, path).is_some()
}

/// The value at `path` unless it is missing or null.
pub(crate) fn get_non_null<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    get(doc, path).filter(|v| !v.is_null())
}

/// `IngestDocument.setFieldValue`: creates missing parent objects, fails on a parent that is not
/// an object (a string, a list, null).
pub(crate) fn set(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    try_set(doc, path, value).map_err(|(message, _)| message)
}

/// [`set`], handing the value back when it cannot be written.
fn try_set(doc: &mut Value, path: &str, value: Value) -> Result<(), (String, Value)> {
    let (parents, leaf) = match path.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, path),
    };
    let mut cur = doc;
    if let Some(parents) = parents {
        for seg in parents.split('.') {
            match cur {
                Value::Object(m) => {
                    cur = m
                        .entry(Arc::from(seg))
                        .or_insert_with(|| Value::Object(Map::new()));
                }
                other => {
                    let message = format!(
                        "cannot create child of [{seg}] with value [{}] of type [{}] as part of path [{path}]",
                        java_string(other),
                        java_type(other)
                    );
                    return Err((message, value));
                }
            }
        }
    }
    match cur {
        Value::Object(m) => {
            m.insert(Arc::from(leaf), value);
            Ok(())
        }
        Value::Null => Err((
            format!("cannot set [{leaf}] with null parent as part of path [{path}]"),
            value,
        )),
        other => Err((
            format!(
                "cannot set [{leaf}] with parent object of type [{}] as part of path [{path}]",
                java_type(other)
            ),
            value,
        )),
    }
}

/// Removes the field at `path` (following objects only) and returns it.
pub(crate) fn remove(doc: &mut Value, path: &str) -> Option<Value> {
    let (parents, leaf) = match path.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, path),
    };
    let mut cur = doc;
    if let Some(parents) = parents {
        for seg in parents.split('.') {
            cur = cur.as_object_mut()?.get_mut(seg)?;
        }
    }
    cur.as_object_mut()?.remove(leaf)
}

/// The `rename` processor: fails when the target exists (even holding null), moves nulls too, and
/// puts the value back when the target cannot be written.
pub(crate) fn rename(
    doc: &mut Value,
    from: &str,
    to: &str,
    ignore_missing: bool,
) -> Result<(), String> {
    if !has(doc, from) {
        return if ignore_missing {
            Ok(())
        } else {
            Err(format!("field [{from}] doesn't exist"))
        };
    }
    if has(doc, to) {
        return Err(format!("field [{to}] already exists"));
    }
    let value = remove(doc, from).unwrap_or_default();
    if let Err((message, value)) = try_set(doc, to, value) {
        // Ingest restores the source before rethrowing; its parents still exist.
        let _ = set(doc, from, value);
        return Err(message);
    }
    Ok(())
}

/// The `append` processor: a missing field becomes a one-element list, a scalar becomes a list
/// holding it; without duplicates, a value already present leaves the field untouched.
pub(crate) fn append(
    doc: &mut Value,
    path: &str,
    value: Value,
    allow_duplicates: bool,
) -> Result<(), String> {
    let new_value = match get(doc, path) {
        None => Value::Array(vec![value]),
        Some(Value::Array(items)) => {
            if !allow_duplicates && items.contains(&value) {
                return Ok(());
            }
            let mut items = items.clone();
            items.push(value);
            Value::Array(items)
        }
        Some(existing) => {
            if !allow_duplicates && *existing == value {
                return Ok(());
            }
            Value::Array(vec![existing.clone(), value])
        }
    };
    set(doc, path, new_value)
}

/// Java's class name for a JSON-decoded value, as error messages print it. Jackson decodes numbers
/// that fit 32 bits as `Integer`, others as `Long` or `Double`.
pub(crate) fn java_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Int(i) if i32::try_from(*i).is_ok() => "java.lang.Integer",
        Value::Int(_) => "java.lang.Long",
        Value::Float(_) => "java.lang.Double",
        Value::Str(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.HashMap",
        Value::Ip(_) | Value::Date(_) | Value::Duration(_) => "java.lang.Object",
    }
}

/// Java's `toString()` of a JSON-decoded value: what `convert` to string, Mustache and the date
/// processor see. Maps print in key order (Java's `HashMap` order is not reproduced).
pub(crate) fn java_string(v: &Value) -> String {
    let mut out = String::new();
    write_java(&mut out, v);
    out
}

fn write_java(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&java_double(*f)),
        Value::Str(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java(out, item);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_java(out, item);
            }
            out.push('}');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// `Double.toString`: plain notation with at least one fraction digit for 1e-3 <= |x| < 1e7,
/// computerized scientific notation (`1.0E10`) otherwise; shortest round-trip digits.
pub(crate) fn java_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let abs = f.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{f}");
        if s.contains('.') { s } else { s + ".0" }
    } else {
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// Renders a Mustache variable as ingest templates do: the field's `toString()`, empty when the
/// field is missing or null. `{{x}}` (escape = true) JSON-escapes the text, `{{{x}}}` does not.
pub(crate) fn render(doc: &Value, path: &str, escape: bool) -> String {
    let Some(v) = get_non_null(doc, path) else {
        return String::new();
    };
    let text = java_string(v);
    if escape { json_escape(&text) } else { text }
}

/// Jackson's `quoteAsString`: escapes `"`, `\` and control characters, nothing else.
pub(crate) fn json_escape(s: &str) -> String {
    if !s.chars().any(|c| c == '"' || c == '\\' || c < ' ') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Painless field access on a `def` receiver: `recv.key`, or `recv?.key` when `null_safe`.
/// Present nulls read as null. A list, string or number receiver is a runtime error.
pub(crate) fn pl_field<'a>(
    recv: Option<&'a Value>,
    key: &str,
    null_safe: bool,
) -> Result<Option<&'a Value>, String> {
    match recv {
        None | Some(Value::Null) => {
            if null_safe {
                Ok(None)
            } else {
                Err(format!(
                    "Cannot read field \"{key}\" because the receiver is null"
                ))
            }
        }
        Some(Value::Object(m)) => Ok(m.get(key).filter(|v| !v.is_null())),
        Some(Value::Array(_)) => Err(format!("Illegal list shortcut value [{key}].")),
        Some(other) => Err(format!(
            "dynamic getter [{}, {key}] not found",
            java_type(other)
        )),
    }
}

/// Painless `recv?.a?.b?.c` from the document root.
pub(crate) fn pl_safe_path<'a>(doc: &'a Value, path: &str) -> Result<Option<&'a Value>, String> {
    let mut cur = Some(doc);
    for seg in path.split('.') {
        cur = pl_field(cur, seg, true)?;
    }
    Ok(cur)
}

/// The `json` processor's parse of a string: Jackson, strict (no trailing content), duplicate
/// keys rejected (`allow_duplicate_keys: false`), and an empty or blank text is JSON `null`.
pub(crate) fn parse_json_strict(text: &str) -> Result<Value, String> {
    if text.trim_matches([' ', '\t', '\n', '\r']).is_empty() {
        return Ok(Value::Null);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let v = UniqueKeys::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Value {
        vigil_event::parse_json(s.as_bytes()).unwrap()
    }

    #[test]
    fn set_creates_parents_and_fails_on_scalars() {
        let mut d = doc(r#"{"a":{"s":"x","n":null}}"#);
        set(&mut d, "a.b.c", Value::Int(1)).unwrap();
        assert_eq!(get(&d, "a.b.c"), Some(&Value::Int(1)));
        assert!(set(&mut d, "a.s.c", Value::Int(1)).is_err());
        assert!(set(&mut d, "a.n.c", Value::Int(1)).is_err());
    }

    #[test]
    fn rename_refuses_existing_targets_and_moves_nulls() {
        let mut d = doc(r#"{"a":null,"b":1,"c":2}"#);
        assert!(rename(&mut d, "b", "c", true).is_err());
        assert_eq!(get(&d, "b"), Some(&Value::Int(1)), "source kept on failure");
        rename(&mut d, "a", "x.y", true).unwrap();
        assert_eq!(get(&d, "x.y"), Some(&Value::Null));
        assert!(rename(&mut d, "missing", "z", true).is_ok());
        assert!(rename(&mut d, "missing", "z", false).is_err());
    }

    #[test]
    fn append_without_duplicates() {
        let mut d = doc(r#"{"s":"a"}"#);
        append(&mut d, "s", Value::str("a"), false).unwrap();
        assert_eq!(
            get(&d, "s"),
            Some(&Value::str("a")),
            "scalar kept when duplicate"
        );
        append(&mut d, "s", Value::str("b"), false).unwrap();
        append(&mut d, "s", Value::str("b"), false).unwrap();
        append(&mut d, "n", Value::str("x"), false).unwrap();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"n":["x"],"s":["a","b"]}"#
        );
    }

    #[test]
    fn java_strings() {
        assert_eq!(java_double(2007.0), "2007.0");
        assert_eq!(java_double(1.5e9), "1.5E9");
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(0.5), "0.5");
        assert_eq!(java_string(&doc(r#"[1,"a",[true]]"#)), "[1, a, [true]]");
        assert_eq!(java_string(&doc(r#"{"k":1}"#)), "{k=1}");
    }

    #[test]
    fn mustache_escapes_with_two_braces_only() {
        let d = doc(r#"{"u":{"n":"DOM\\user \"x\""}}"#);
        assert_eq!(render(&d, "u.n", false), r#"DOM\user "x""#);
        assert_eq!(render(&d, "u.n", true), r#"DOM\\user \"x\""#);
        assert_eq!(render(&d, "u.missing", true), "");
    }

    #[test]
    fn painless_access() {
        let d = doc(r#"{"a":{"s":"x","l":[1],"n":null}}"#);
        assert_eq!(pl_safe_path(&d, "a.s").unwrap(), Some(&Value::str("x")));
        assert_eq!(pl_safe_path(&d, "a.n.z").unwrap(), None);
        assert_eq!(pl_safe_path(&d, "b.c").unwrap(), None);
        assert!(pl_safe_path(&d, "a.s.z").is_err());
        assert!(pl_safe_path(&d, "a.l.z").is_err());
        assert!(pl_field(None, "x", false).is_err());
    }

    #[test]
    fn strict_json() {
        assert_eq!(parse_json_strict("  ").unwrap(), Value::Null);
        assert!(parse_json_strict(r#"{"a":1,"a":2}"#).is_err());
        assert!(parse_json_strict(r#"{"a":1} x"#).is_err());
        assert!(parse_json_strict("abc").is_err());
        assert_eq!(parse_json_strict(" 12 ").unwrap(), Value::Int(12));
    }
}
