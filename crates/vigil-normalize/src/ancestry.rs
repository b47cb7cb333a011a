//! Process lineage for endpoint data that lacks it.
//!
//! Elastic Defend documents carry `process.Ext.ancestry`: the entity ids of the process's
//! ancestors, parent first (at most 20). EQL rules join on it (`by process.Ext.ancestry` meets any
//! ancestor's `process.entity_id`). Sysmon has no such field, and some sources no entity ids at
//! all. [`ProcessTree`] rebuilds both from the process starts it observes, per host:
//!
//! * a process without `process.entity_id` gets `vigil:<host>:<pid>:<start time>` (its start
//!   event's time; later events of the same pid on the host reuse the id of its latest start),
//!   and `process.parent.entity_id` likewise from the parent pid;
//! * a process without `process.Ext.ancestry` gets its parent, the parent's parent, and so on,
//!   as far as the observed starts reach.
//!
//! Events must be observed in time order, as the runtime hands them over. The tree is bounded:
//! past `capacity` processes per host the oldest entries are forgotten.

use std::collections::{HashMap, VecDeque};

#[cfg(test)]
use vigil_event::Map;
use vigil_event::Value;

use crate::sysmon::{at, set};

/// Elastic Defend keeps at most this many ancestors.
pub const MAX_ANCESTRY: usize = 20;

#[derive(Debug, Default)]
struct HostTree {
    parent: HashMap<String, String>,
    /// The entity id of the latest start of each pid.
    by_pid: HashMap<i64, String>,
    order: VecDeque<String>,
}

/// Observed process starts per host; see the module documentation.
#[derive(Debug)]
pub struct ProcessTree {
    hosts: HashMap<String, HostTree>,
    capacity: usize,
}

impl Default for ProcessTree {
    fn default() -> ProcessTree {
        ProcessTree::new(100_000)
    }
}

fn str_at<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    at(doc, path).and_then(Value::as_str)
}

fn int_at(doc: &Value, path: &str) -> Option<i64> {
    match at(doc, path)? {
        Value::Int(i) => Some(*i),
        Value::Str(s) => s.parse().ok(),
        _ => None,
    }
}

fn has(doc: &Value, path: &str) -> bool {
    at(doc, path).is_some_and(Value::has_content)
}

impl ProcessTree {
    /// A tree remembering at most `capacity` processes per host.
    pub fn new(capacity: usize) -> ProcessTree {
        ProcessTree {
            hosts: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records a process event and fills in the entity ids and ancestry it lacks.
    pub fn observe(&mut self, doc: &mut Value) {
        let Some(host) = str_at(doc, "host.id")
            .or_else(|| str_at(doc, "host.name"))
            .map(str::to_string)
        else {
            return;
        };
        let is_start = at(doc, "event.type")
            .is_some_and(|t| t.leaves().any(|v| v.as_str() == Some("start")))
            && at(doc, "event.category")
                .is_some_and(|c| c.leaves().any(|v| v.as_str() == Some("process")));
        let pid = int_at(doc, "process.pid");
        let ppid = int_at(doc, "process.parent.pid");
        let time = str_at(doc, "@timestamp").unwrap_or("").to_string();
        let capacity = self.capacity;
        let tree = self.hosts.entry(host.clone()).or_default();

        let mut entity = str_at(doc, "process.entity_id").map(str::to_string);
        if entity.is_none()
            && let Some(pid) = pid
        {
            entity = if is_start {
                Some(format!("vigil:{host}:{pid}:{time}"))
            } else {
                tree.by_pid.get(&pid).cloned()
            };
        }
        let mut parent = str_at(doc, "process.parent.entity_id").map(str::to_string);
        if parent.is_none()
            && let Some(ppid) = ppid
        {
            parent = tree.by_pid.get(&ppid).cloned();
        }
        let Some(entity) = entity else {
            return;
        };
        let Some(obj) = doc.as_object_mut() else {
            return;
        };
        let mut wrapped = Value::Object(std::mem::take(obj));
        if !has(&wrapped, "process.entity_id")
            && let Some(m) = wrapped.as_object_mut()
        {
            set(m, "process.entity_id", Value::from(entity.as_str()));
        }
        if let Some(p) = &parent
            && !has(&wrapped, "process.parent.entity_id")
            && let Some(m) = wrapped.as_object_mut()
        {
            set(m, "process.parent.entity_id", Value::from(p.as_str()));
        }
        if is_start {
            if let Some(p) = &parent {
                tree.parent.insert(entity.clone(), p.clone());
            }
            if let Some(pid) = pid {
                tree.by_pid.insert(pid, entity.clone());
            }
            tree.order.push_back(entity.clone());
            while tree.order.len() > capacity {
                if let Some(old) = tree.order.pop_front() {
                    tree.parent.remove(&old);
                    tree.by_pid.retain(|_, e| *e != old);
                }
            }
        }
        if !has(&wrapped, "process.Ext.ancestry") {
            let mut chain = Vec::new();
            let mut cur = parent.clone().or_else(|| tree.parent.get(&entity).cloned());
            while let Some(p) = cur {
                if chain.len() == MAX_ANCESTRY || chain.contains(&p) || p == entity {
                    break;
                }
                cur = tree.parent.get(&p).cloned();
                chain.push(p);
            }
            if !chain.is_empty()
                && let Some(m) = wrapped.as_object_mut()
            {
                set(
                    m,
                    "process.Ext.ancestry",
                    Value::Array(chain.into_iter().map(Value::from).collect()),
                );
            }
        }
        if let Value::Object(m) = wrapped {
            *obj = m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(pairs: &[(&str, Value)]) -> Value {
        let mut m = Map::new();
        for (k, v) in pairs {
            set(&mut m, k, v.clone());
        }
        Value::Object(m)
    }

    fn start(host: &str, pid: i64, ppid: i64, at: &str) -> Value {
        doc(&[
            ("@timestamp", Value::str(at)),
            ("host.name", Value::str(host)),
            ("event.category", Value::Array(vec![Value::str("process")])),
            ("event.type", Value::Array(vec![Value::str("start")])),
            ("process.pid", Value::Int(pid)),
            ("process.parent.pid", Value::Int(ppid)),
        ])
    }

    #[test]
    fn rebuilds_entity_ids_and_ancestry_per_host() {
        let mut tree = ProcessTree::default();
        let mut a = start("h", 10, 1, "t1");
        let mut b = start("h", 20, 10, "t2");
        let mut c = start("h", 30, 20, "t3");
        let mut other = start("h2", 30, 20, "t3");
        for d in [&mut a, &mut b, &mut c, &mut other] {
            tree.observe(d);
        }
        let anc = |d: &Value| at(d, "process.Ext.ancestry").map(ToString::to_string);
        assert_eq!(
            at(&c, "process.entity_id")
                .map(ToString::to_string)
                .as_deref(),
            Some("vigil:h:30:t3")
        );
        assert_eq!(
            anc(&c).as_deref(),
            Some(r#"["vigil:h:20:t2","vigil:h:10:t1"]"#)
        );
        assert_eq!(anc(&a), None);
        assert_eq!(anc(&other), None, "another host's tree is separate");
    }

    #[test]
    fn keeps_defend_fields_and_extends_sysmon_guids() {
        let mut tree = ProcessTree::default();
        let mut parent = doc(&[
            ("host.id", Value::str("h")),
            ("event.category", Value::Array(vec![Value::str("process")])),
            ("event.type", Value::Array(vec![Value::str("start")])),
            ("process.entity_id", Value::str("{P}")),
            ("process.parent.entity_id", Value::str("{G}")),
        ]);
        let mut child = doc(&[
            ("host.id", Value::str("h")),
            ("event.category", Value::Array(vec![Value::str("process")])),
            ("event.type", Value::Array(vec![Value::str("start")])),
            ("process.entity_id", Value::str("{C}")),
            ("process.parent.entity_id", Value::str("{P}")),
        ]);
        let mut defend = child.clone();
        if let Some(m) = defend.as_object_mut() {
            set(
                m,
                "process.Ext.ancestry",
                Value::Array(vec![Value::str("X")]),
            );
        }
        tree.observe(&mut parent);
        tree.observe(&mut child);
        tree.observe(&mut defend);
        let anc = |d: &Value| at(d, "process.Ext.ancestry").map(ToString::to_string);
        assert_eq!(anc(&child).as_deref(), Some(r#"["{P}","{G}"]"#));
        assert_eq!(anc(&defend).as_deref(), Some(r#"["X"]"#));
    }
}
