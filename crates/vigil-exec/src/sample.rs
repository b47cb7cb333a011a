//! EQL `sample by`, as Elasticsearch builds samples (`SampleIterator`): unordered events, one
//! per step, sharing their join keys.
//!
//! For every key combination found at every step (sorted, nulls first, as a composite
//! aggregation returns them) the first `steps + max_samples_per_key - 1` events of each step in
//! input order are candidates, and a backtracking search picks up to `max_samples_per_key`
//! samples of distinct events. Time plays no part.

use std::collections::HashMap;

use vigil_event::{Row, SlotId, Value};
use vigil_plan::Sample;

use crate::builder::Builder;
use crate::error::ExecError;
use crate::expr::EvalContext;
use crate::key::GroupKey;
use crate::plan::Pending;
use crate::sequence::{Stage, compile_stages, key_combinations, sort_key_values};

#[derive(Clone, Debug)]
pub(crate) struct SampleOp {
    pub(crate) stages: Vec<Stage>,
    max_per_key: usize,
    keys_slot: SlotId,
}

impl SampleOp {
    pub(crate) fn compile(q: &Sample, b: &mut Builder<'_>) -> Result<SampleOp, ExecError> {
        let stages = compile_stages(&q.steps, b)?;
        if stages.is_empty() {
            return Err(ExecError::new("a sample needs at least one step", q.span));
        }
        Ok(SampleOp {
            stages,
            max_per_key: usize::try_from(q.max_samples_per_key.max(1)).unwrap_or(1),
            keys_slot: b.define("join_keys"),
        })
    }

    pub(crate) fn run<'a>(&self, rows: Vec<Pending<'a>>, ctx: &EvalContext) -> Vec<Pending<'a>> {
        let n = self.stages.len();
        let take = n + self.max_per_key - 1;
        // Per step: key combination -> candidate events, in input order.
        let mut per_step: Vec<HashMap<Vec<GroupKey>, Vec<usize>>> = vec![HashMap::new(); n];
        for (i, p) in rows.iter().enumerate() {
            for (s, stage) in self.stages.iter().enumerate() {
                if !stage.filter.matches(&p.row, ctx) {
                    continue;
                }
                for key in key_combinations(&stage.keys, &p.row, ctx) {
                    let list = per_step[s].entry(key).or_default();
                    if list.len() < take {
                        list.push(i);
                    }
                }
            }
        }
        let mut keys: Vec<&Vec<GroupKey>> = per_step[0]
            .keys()
            .filter(|k| per_step[1..].iter().all(|m| m.contains_key(*k)))
            .collect();
        keys.sort_by(|a, b| {
            a.iter()
                .zip(b.iter())
                .map(|(x, y)| sort_key_values(&x.0, &y.0))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut out = Vec::new();
        for key in keys {
            let lists: Vec<&[usize]> = per_step
                .iter()
                .map(|m| m.get(key).map_or(&[][..], Vec::as_slice))
                .collect();
            let mut found = Vec::new();
            pick(&lists, &mut Vec::new(), &mut found, self.max_per_key);
            for sample in found {
                let mut row = Row::default();
                let values: Vec<Value> = key.iter().map(|k| k.0.clone()).collect();
                row.set(self.keys_slot, Some(Value::Array(values)));
                out.push(Pending {
                    row: std::borrow::Cow::Owned(row),
                    origin: None,
                    members: sample.iter().filter_map(|&i| rows[i].origin).collect(),
                });
            }
        }
        out
    }
}

/// Backtracking: one distinct event per step, first choices first, up to `max` samples.
fn pick(lists: &[&[usize]], partial: &mut Vec<usize>, found: &mut Vec<Vec<usize>>, max: usize) {
    let step = partial.len();
    for &e in lists[step] {
        if found.len() == max {
            return;
        }
        if partial.contains(&e) {
            continue;
        }
        partial.push(e);
        if step + 1 == lists.len() {
            found.push(partial.clone());
        } else {
            pick(lists, partial, found, max);
        }
        partial.pop();
    }
}
