//! Dotted-path access on documents.
//!
//! Reading: `a.b.c` finds values under nested objects (`{"a":{"b":{"c":1}}}`), flattened keys
//! (`{"a.b.c":1}`, `{"a":{"b.c":1}}`) and arrays of objects (`{"a":[{"b":{"c":1}},{"b":{"c":2}}]}`),
//! all at once, as Elasticsearch resolves a field name for a non-nested mapping.
//!
//! Writing (normalizers): paths are split on every dot and create nested objects, as an
//! Elasticsearch ingest processor does with `ctx`.

use std::sync::Arc;

use crate::value::{Map, Value};

impl Value {
    /// Every value found at `path`. A value may itself be an array (a multi-valued field); use
    /// [`Value::leaves`] to iterate single values.
    pub fn lookup<'a>(&'a self, path: &str) -> Vec<&'a Value> {
        let mut out = Vec::new();
        if path.is_empty() {
            out.push(self);
            return out;
        }
        lookup_into(self, path, &mut out);
        out
    }

    /// The single non-array value at `path`, if there is exactly one.
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        let found = self.lookup(path);
        match found.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The string at `path`, if the field holds exactly one string.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get_path(path).and_then(Value::as_str)
    }

    /// Mutable access to a nested path (split on every dot).
    pub fn get_path_mut(&mut self, path: &str) -> Option<&mut Value> {
        let mut cur = self;
        for seg in path.split('.') {
            cur = cur.as_object_mut()?.get_mut(seg)?;
        }
        Some(cur)
    }

    /// Sets a nested path, creating (or replacing non-object) parents.
    pub fn insert_path(&mut self, path: &str, value: Value) {
        let mut cur = self;
        let mut segs = path.split('.').peekable();
        while let Some(seg) = segs.next() {
            if !matches!(cur, Value::Object(_)) {
                *cur = Value::Object(Map::new());
            }
            let Value::Object(m) = cur else {
                unreachable!("just made an object")
            };
            if segs.peek().is_none() {
                m.insert(Arc::from(seg), value);
                return;
            }
            cur = m
                .entry(Arc::from(seg))
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }

    /// Removes a nested path and returns its value. Emptied parents are kept, as ingest does.
    pub fn remove_path(&mut self, path: &str) -> Option<Value> {
        let (parent, last) = match path.rsplit_once('.') {
            Some((p, l)) => (self.get_path_mut(p)?, l),
            None => (self, path),
        };
        parent.as_object_mut()?.remove(last)
    }

    /// Moves a value from one nested path to another (an ingest `rename`). Returns false when the
    /// source is absent.
    pub fn rename_path(&mut self, from: &str, to: &str) -> bool {
        match self.remove_path(from) {
            Some(v) => {
                self.insert_path(to, v);
                true
            }
            None => false,
        }
    }
}

fn lookup_into<'a>(v: &'a Value, rest: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            // Try every split of the remaining path into (key, rest): `a.b.c` may be stored
            // under `a`, `a.b` or `a.b.c`.
            let mut end = 0;
            loop {
                let next_dot = rest[end..].find('.').map(|i| end + i);
                let key_end = next_dot.unwrap_or(rest.len());
                if let Some(child) = m.get(&rest[..key_end]) {
                    match next_dot {
                        None => push_value(child, out),
                        Some(dot) => lookup_into(child, &rest[dot + 1..], out),
                    }
                }
                match next_dot {
                    Some(dot) => end = dot + 1,
                    None => break,
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if matches!(item, Value::Object(_) | Value::Array(_)) {
                    lookup_into(item, rest, out);
                }
            }
        }
        _ => {}
    }
}

fn push_value<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    if !v.is_null() {
        out.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_json;

    fn doc(s: &str) -> Value {
        parse_json(s.as_bytes()).unwrap()
    }

    fn found(d: &Value, p: &str) -> Vec<Value> {
        d.lookup(p)
            .into_iter()
            .flat_map(|v| v.leaves().cloned().collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn nested_and_flattened_keys_are_the_same_field() {
        let nested = doc(r#"{"azure":{"resource":{"name":"VM1/EXTENSIONS/X"}}}"#);
        let flat = doc(r#"{"azure.resource.name":"VM1/EXTENSIONS/X"}"#);
        let mixed = doc(r#"{"azure":{"resource.name":"VM1/EXTENSIONS/X"}}"#);
        for d in [&nested, &flat, &mixed] {
            assert_eq!(d.get_str("azure.resource.name"), Some("VM1/EXTENSIONS/X"));
        }
    }

    #[test]
    fn arrays_of_objects_give_multi_values() {
        let d = doc(r#"{"a":[{"b":1},{"b":[2,3]},{"c":4},5]}"#);
        assert_eq!(
            found(&d, "a.b"),
            vec![Value::Int(1), Value::Int(2), Value::Int(3)]
        );
        assert!(d.get_path("a.b").is_none(), "three values, not one");
    }

    #[test]
    fn both_spellings_in_one_document_merge() {
        let d = doc(r#"{"a.b":1,"a":{"b":2}}"#);
        let mut got = found(&d, "a.b");
        got.sort_by_key(|v| v.as_i64());
        assert_eq!(got, vec![Value::Int(1), Value::Int(2)]);
    }

    #[test]
    fn nulls_are_absent() {
        let d = doc(r#"{"a":null,"b":{"c":null}}"#);
        assert!(d.lookup("a").is_empty());
        assert!(d.lookup("b.c").is_empty());
        assert!(d.lookup("zzz").is_empty());
    }

    #[test]
    fn write_helpers_follow_ingest_semantics() {
        let mut d = doc(r#"{"a":{"b":1}}"#);
        d.insert_path("x.y.z", Value::Int(2));
        assert_eq!(d.get_path("x.y.z"), Some(&Value::Int(2)));
        assert!(d.rename_path("a.b", "c.d"));
        assert_eq!(d.get_path("c.d"), Some(&Value::Int(1)));
        assert!(!d.rename_path("a.b", "c.e"));
        assert_eq!(d.remove_path("x.y.z"), Some(Value::Int(2)));
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"a":{},"c":{"d":1},"x":{"y":{}}}"#
        );
    }
}
