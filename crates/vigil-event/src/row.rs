//! Rows: the fields the loaded rules read, extracted once per event into numbered slots.

use std::collections::HashMap;
use std::sync::Arc;

use crate::value::{Map, Str, Value};

/// Index of a field (or computed column) in a [`Row`].
pub type SlotId = usize;

/// The names of a row's slots. Field names are dotted paths (`azure.resource.name`) for
/// Elasticsearch-style documents and column names for tables.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    names: Vec<Str>,
    index: HashMap<Str, SlotId>,
}

impl Layout {
    pub fn new() -> Layout {
        Layout::default()
    }

    /// The slot of `name`, adding it if it is new.
    pub fn intern(&mut self, name: &str) -> SlotId {
        if let Some(&s) = self.index.get(name) {
            return s;
        }
        let s = self.names.len();
        let name: Str = Arc::from(name);
        self.names.push(name.clone());
        self.index.insert(name, s);
        s
    }

    pub fn get(&self, name: &str) -> Option<SlotId> {
        self.index.get(name).copied()
    }

    pub fn name(&self, slot: SlotId) -> &str {
        &self.names[slot]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|s| &**s)
    }
}

/// The values of one event (or one result row), by slot. `None` is an absent field; Elasticsearch
/// does not index nulls, so a null source value is absent too.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub values: Vec<Option<Value>>,
}

impl Row {
    pub fn with_len(n: usize) -> Row {
        Row {
            values: vec![None; n],
        }
    }

    pub fn get(&self, slot: SlotId) -> Option<&Value> {
        self.values.get(slot).and_then(Option::as_ref)
    }

    pub fn set(&mut self, slot: SlotId, value: Option<Value>) {
        if slot >= self.values.len() {
            self.values.resize(slot + 1, None);
        }
        self.values[slot] = value;
    }
}

/// Extracts a [`Layout`]'s fields from documents. Built once per layout: a trie over the dotted
/// field names, walked together with each document so that untouched subtrees cost nothing.
#[derive(Clone, Debug)]
pub struct Projection {
    nodes: Vec<Node>,
    width: usize,
    /// Field-name patterns with `*` (`a.*.name`): every leaf whose dotted path matches them.
    patterns: Vec<(String, SlotId)>,
}

#[derive(Clone, Debug, Default)]
struct Node {
    children: HashMap<Box<str>, usize>,
    slot: Option<SlotId>,
}

impl Projection {
    pub fn new(layout: &Layout) -> Projection {
        let mut nodes = vec![Node::default()];
        let mut patterns = Vec::new();
        for (slot, name) in layout.names().enumerate() {
            if name.contains('*') {
                patterns.push((name.to_string(), slot));
                continue;
            }
            let mut n = 0;
            for seg in name.split('.') {
                n = match nodes[n].children.get(seg) {
                    Some(&c) => c,
                    None => {
                        nodes.push(Node::default());
                        let c = nodes.len() - 1;
                        nodes[n].children.insert(seg.into(), c);
                        c
                    }
                };
            }
            nodes[n].slot = Some(slot);
        }
        Projection {
            nodes,
            width: layout.len(),
            patterns,
        }
    }

    /// Top-level keys a document needs for this projection: the decoder parses only those.
    pub fn top_level_keys(&self) -> impl Iterator<Item = &str> {
        let pattern_roots = self
            .patterns
            .iter()
            .map(|(p, _)| p.split(['.', '*']).next().unwrap_or_default());
        self.nodes[0]
            .children
            .keys()
            .map(|k| &**k)
            .chain(pattern_roots)
    }

    /// True when a pattern needs every top-level key (it starts with `*`).
    pub fn needs_all_keys(&self) -> bool {
        self.patterns.iter().any(|(p, _)| p.starts_with('*'))
    }

    /// The row for `doc`. A field's value is the single value found, or an array when it is found
    /// more than once or holds an array; objects are kept whole (for `exists` and dynamic access).
    pub fn project(&self, doc: &Value) -> Row {
        let mut row = Row::with_len(self.width);
        self.walk(0, doc, &mut row);
        if !self.patterns.is_empty() {
            let mut path = String::new();
            self.walk_patterns(doc, &mut path, &mut row);
        }
        row
    }

    /// Visits every leaf with its dotted path, for the pattern slots.
    fn walk_patterns(&self, v: &Value, path: &mut String, row: &mut Row) {
        match v {
            Value::Object(m) => {
                for (key, child) in m {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    self.walk_patterns(child, path, row);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk_patterns(item, path, row);
                }
            }
            leaf => {
                for (pattern, slot) in &self.patterns {
                    if wildcard_match(pattern, path) {
                        push(row, *slot, leaf.clone());
                    }
                }
            }
        }
    }

    fn walk(&self, node: usize, v: &Value, row: &mut Row) {
        match v {
            Value::Object(m) => {
                for (key, child) in m {
                    self.visit_key(node, key, child, row);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(node, item, row);
                }
            }
            _ => {}
        }
    }

    fn visit_key(&self, node: usize, key: &str, child: &Value, row: &mut Row) {
        let mut n = node;
        let mut rest = key;
        loop {
            let (seg, tail) = match rest.split_once('.') {
                Some((s, t)) => (s, Some(t)),
                None => (rest, None),
            };
            let Some(&next) = self.nodes[n].children.get(seg) else {
                return;
            };
            n = next;
            match tail {
                None => break,
                Some(t) => {
                    // A flattened key passes through a field that is itself wanted (`a` for the
                    // key `a.b`): that field holds an object.
                    if let Some(slot) = self.nodes[n].slot {
                        let mut obj = Map::new();
                        obj.insert(Arc::from(t), child.clone());
                        push(row, slot, Value::Object(obj));
                    }
                    rest = t;
                }
            }
        }
        if let Some(slot) = self.nodes[n].slot {
            push(row, slot, child.clone());
        }
        if !self.nodes[n].children.is_empty() {
            self.walk(n, child, row);
        }
    }
}

/// `*` matches any run of characters (dots included); everything else matches itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if text.len() < first.len() + last.len() || !text.starts_with(first) || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn push(row: &mut Row, slot: SlotId, v: Value) {
    if v.is_null() {
        return;
    }
    let cell = &mut row.values[slot];
    *cell = Some(match cell.take() {
        None => v,
        Some(Value::Array(mut a)) => {
            a.push(v);
            Value::Array(a)
        }
        Some(prev) => Value::Array(vec![prev, v]),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_json;

    fn project(names: &[&str], json: &str) -> Vec<Option<String>> {
        let mut layout = Layout::new();
        for n in names {
            layout.intern(n);
        }
        let row = Projection::new(&layout).project(&parse_json(json.as_bytes()).unwrap());
        row.values
            .iter()
            .map(|v| v.as_ref().map(|v| serde_json::to_string(v).unwrap()))
            .collect()
    }

    #[test]
    fn projection_matches_lookup_semantics() {
        let got = project(
            &["a.b", "c", "d.e.f", "missing"],
            r#"{"a":[{"b":1},{"b":2}],"c":"x","d.e":{"f":true},"z":{"huge":[1,2,3]}}"#,
        );
        assert_eq!(
            got,
            vec![
                Some("[1,2]".into()),
                Some("\"x\"".into()),
                Some("true".into()),
                None
            ]
        );
    }

    #[test]
    fn object_fields_are_kept_whole() {
        let got = project(&["a", "a.b"], r#"{"a":{"b":1,"c":2}}"#);
        assert_eq!(got, vec![Some(r#"{"b":1,"c":2}"#.into()), Some("1".into())]);
        let got = project(&["a"], r#"{"a.b":1}"#);
        assert_eq!(got, vec![Some(r#"{"b":1}"#.into())]);
    }

    #[test]
    fn field_patterns_collect_matching_leaves() {
        let got = project(
            &["t.*.name"],
            r#"{"t":{"0":{"name":"a","x":1},"1":{"name":["b","c"]}},"u":{"name":"z"}}"#,
        );
        assert_eq!(got, vec![Some(r#"["a","b","c"]"#.into())]);
        assert!(wildcard_match("a.*.c", "a.b.d.c") && !wildcard_match("a.*.c", "a.c"));
    }

    #[test]
    fn nulls_are_absent() {
        assert_eq!(project(&["a"], r#"{"a":null}"#), vec![None]);
    }
}
