//! The events a hunt keeps: views of records some rule may need, with their bytes (to build
//! alerts), their projected row and, per rule, their times.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use vigil_event::{Row, Value};

use crate::alert::SourceRef;

/// A view of a record (its ECS document or a table row) that some rule may need.
#[derive(Debug)]
pub struct Candidate {
    /// The record as read; shared by its views.
    pub bytes: Arc<[u8]>,
    pub source: SourceRef,
    /// The table of a table row; `None` for the ECS document.
    pub table: Option<Arc<str>>,
    /// The index the ECS document lives in, when known.
    pub index: Option<Arc<str>>,
    pub row: Row,
    /// The document alerts carry when the bytes cannot rebuild it (table rows, endpoint
    /// documents with rebuilt lineage).
    pub doc: Option<Value>,
    /// (rule index, the event's time for that rule) for each rule that may need it.
    pub hits: Vec<(usize, Option<Timestamp>)>,
    /// True for events carried over from an earlier hunt (the state's look-back buffer).
    pub carried: bool,
}

/// The kept events, deduplicated by document id and view, with each rule's events in time
/// order.
#[derive(Debug, Default)]
pub struct EventStore {
    pub candidates: Vec<Candidate>,
    by_id: HashMap<(Arc<str>, Option<Arc<str>>), usize>,
    per_rule: Vec<Vec<(Timestamp, usize)>>,
}

impl EventStore {
    pub fn new(rules: usize) -> EventStore {
        EventStore {
            per_rule: vec![Vec::new(); rules],
            ..EventStore::default()
        }
    }

    /// Adds a candidate unless the same view of the same document is already kept. Returns
    /// false for duplicates.
    pub fn add(&mut self, c: Candidate) -> bool {
        let key = (c.source.id.clone(), c.table.clone());
        if self.by_id.contains_key(&key) {
            return false;
        }
        let i = self.candidates.len();
        self.by_id.insert(key, i);
        for &(r, t) in &c.hits {
            if let Some(t) = t {
                self.per_rule[r].push((t, i));
            }
        }
        self.candidates.push(c);
        true
    }

    /// Sorts each rule's events by time (then by arrival) once all are added.
    pub fn seal(&mut self) {
        for v in &mut self.per_rule {
            v.sort();
        }
    }

    /// A rule's events, in time order.
    pub fn events(&self, rule: usize) -> &[(Timestamp, usize)] {
        &self.per_rule[rule]
    }

    /// A rule's events with `from <= time <= to`.
    pub fn window(&self, rule: usize, from: Timestamp, to: Timestamp) -> &[(Timestamp, usize)] {
        let v = &self.per_rule[rule];
        let lo = v.partition_point(|(t, _)| *t < from);
        let hi = v.partition_point(|(t, _)| *t <= to);
        &v[lo..hi.max(lo)]
    }

    /// An event's time for a rule.
    pub fn time_of(&self, ci: usize, rule: usize) -> Option<Timestamp> {
        self.candidates[ci]
            .hits
            .iter()
            .find(|h| h.0 == rule)
            .and_then(|h| h.1)
    }

    /// The earliest and latest event time over the events read from the inputs (not carried).
    pub fn input_span(&self) -> Option<(Timestamp, Timestamp)> {
        self.candidates
            .iter()
            .filter(|c| !c.carried)
            .flat_map(|c| c.hits.iter().filter_map(|h| h.1))
            .fold(None, |acc, t| {
                Some(acc.map_or((t, t), |(lo, hi): (Timestamp, Timestamp)| {
                    (lo.min(t), hi.max(t))
                }))
            })
    }
}
