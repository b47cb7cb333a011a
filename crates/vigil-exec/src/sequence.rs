//! EQL `sequence`, as Elasticsearch matches it.
//!
//! Ordering contract: the operator sorts its input by (timestamp, tiebreaker, input position)
//! itself, so any input order gives the same result; input already in that order (what the
//! runtime hands over) costs a linear pass. Events without a timestamp are ignored.
//!
//! Matching is Elasticsearch's state machine (`SequenceMatcher`): per join key and stage only
//! the most recent pending sequence is kept; an event matching stage `n` advances the pending
//! sequence of stage `n - 1` (stages are tried from the last to the first, so one event never
//! advances the same sequence twice); `maxspan` is measured from the first event; an `until`
//! event drops the key's pending sequences. A multi-valued key joins on each distinct value
//! (cartesian product over keys). Missing events (`![…]`) are checked once a candidate
//! completes, with the windows and acceptance rules of Elasticsearch's `TumblingWindow`.
//! State is bounded: pending sequences older than `maxspan` are pruned as time advances.

use std::collections::HashMap;

use vigil_event::{Row, SlotId, Value};
use vigil_plan::Sequence;

use crate::builder::Builder;
use crate::compare::compare_values;
use crate::error::ExecError;
use crate::expr::{CompiledExpr, EvalContext, NoTrace};
use crate::key::GroupKey;
use crate::plan::Pending;

/// One stage (a `with runs=N` step is N stages).
#[derive(Clone, Debug)]
pub(crate) struct Stage {
    pub filter: CompiledExpr,
    pub keys: Vec<CompiledExpr>,
    pub missing: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct SequenceOp {
    pub(crate) stages: Vec<Stage>,
    pub(crate) until: Option<Stage>,
    maxspan: Option<i128>,
    pub(crate) timestamp: CompiledExpr,
    tiebreaker: Option<CompiledExpr>,
    /// Output column holding the join key values (an array, nulls kept).
    keys_slot: SlotId,
}

pub(crate) fn compile_stages(
    steps: &[vigil_plan::SequenceStep],
    b: &mut Builder<'_>,
) -> Result<Vec<Stage>, ExecError> {
    let mut out = Vec::new();
    for s in steps {
        let stage = Stage {
            filter: b.expr(&s.filter)?,
            keys: b.exprs(&s.keys)?,
            missing: s.missing,
        };
        for _ in 0..s.runs.max(1) {
            out.push(stage.clone());
        }
    }
    Ok(out)
}

impl SequenceOp {
    pub(crate) fn compile(q: &Sequence, b: &mut Builder<'_>) -> Result<SequenceOp, ExecError> {
        let stages = compile_stages(&q.steps, b)?;
        if !stages.iter().any(|s| !s.missing) {
            return Err(ExecError::new(
                "a sequence needs at least one event that is not missing",
                q.span,
            ));
        }
        let until = match &q.until {
            Some(u) => compile_stages(std::slice::from_ref(u), b)?.pop(),
            None => None,
        };
        Ok(SequenceOp {
            stages,
            until,
            maxspan: q.maxspan.map(|d| d.as_nanos()),
            timestamp: b.expr(&q.timestamp)?,
            tiebreaker: q.tiebreaker.as_ref().map(|t| b.expr(t)).transpose()?,
            keys_slot: b.define("join_keys"),
        })
    }

    pub(crate) fn run<'a>(&self, rows: Vec<Pending<'a>>, ctx: &EvalContext) -> Vec<Pending<'a>> {
        let events = self.order(&rows, ctx);
        let positive: Vec<usize> = (0..self.stages.len())
            .filter(|&s| !self.stages[s].missing)
            .collect();
        let (Some(&first), Some(&last)) = (positive.first(), positive.last()) else {
            return Vec::new();
        };
        let mut pending: HashMap<(usize, Vec<GroupKey>), InFlight> = HashMap::new();
        let mut completed: Vec<InFlight> = Vec::new();
        let mut missing: MissingEvents = HashMap::new();

        for (pos, &(ts, idx)) in events.iter().enumerate() {
            let row = &rows[idx].row;
            if let Some(span) = self.maxspan
                && pos % 256 == 0
            {
                pending.retain(|_, f| ts - f.start <= span);
            }
            for (s, stage) in self.stages.iter().enumerate().rev() {
                if !stage.filter.matches(row, ctx) {
                    continue;
                }
                let combos = key_combinations(&stage.keys, row, ctx);
                if stage.missing {
                    missing.entry(s).or_default().push((ts, combos));
                    continue;
                }
                for key in combos {
                    let seq = if s == first {
                        InFlight {
                            key: key.clone(),
                            start: ts,
                            matches: Vec::new(),
                            times: Vec::new(),
                        }
                    } else {
                        let Some(&prev) = positive.iter().rev().find(|&&p| p < s) else {
                            continue;
                        };
                        let Some(seq) = pending.remove(&(prev, key.clone())) else {
                            continue;
                        };
                        if self.maxspan.is_some_and(|m| ts - seq.start > m) {
                            continue;
                        }
                        seq
                    };
                    let mut seq = seq;
                    seq.matches.push(pos);
                    seq.times.push(ts);
                    if s == last {
                        completed.push(seq);
                    } else {
                        pending.insert((s, key), seq);
                    }
                }
            }
            if let Some(u) = &self.until
                && u.filter.matches(row, ctx)
            {
                // Elasticsearch rejects a sequence when an until event lies between its last
                // event (inclusive) and the next: even the sequences this event just started
                // or advanced end here; the ones it completed stand.
                for key in key_combinations(&u.keys, row, ctx) {
                    pending.retain(|(_, k), _| *k != key);
                }
            }
        }

        let mut out = Vec::new();
        for seq in completed {
            if !self.missing_events_allow(&seq, &missing) {
                continue;
            }
            let mut row = Row::default();
            let keys: Vec<Value> = seq.key.iter().map(|k| k.0.clone()).collect();
            row.set(self.keys_slot, Some(Value::Array(keys)));
            out.push(Pending {
                row: std::borrow::Cow::Owned(row),
                origin: None,
                members: seq
                    .matches
                    .iter()
                    .filter_map(|&p| rows[events[p].1].origin)
                    .collect(),
            });
        }
        out
    }

    /// Events with a timestamp, as (timestamp in ns, input index), in matching order.
    fn order(&self, rows: &[Pending<'_>], ctx: &EvalContext) -> Vec<(i128, usize)> {
        let mut keyed: Vec<(i128, Value, usize)> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let ts = timestamp_nanos(&self.timestamp.eval(&p.row, ctx, &mut NoTrace))?;
                let tb = self
                    .tiebreaker
                    .as_ref()
                    .map_or(Value::Null, |t| t.eval(&p.row, ctx, &mut NoTrace));
                Some((ts, tb, i))
            })
            .collect();
        keyed.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| match (a.1.is_null(), b.1.is_null()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ => compare_values(&a.1, &b.1, false, false)
                        .unwrap_or(std::cmp::Ordering::Equal),
                })
                .then(a.2.cmp(&b.2))
        });
        keyed.into_iter().map(|(ts, _, i)| (ts, i)).collect()
    }

    /// Elasticsearch's missing-event check for a completed candidate: a missing stage between
    /// two events may have no matching event (same keys) strictly between their timestamps;
    /// leading and trailing missing stages reject the candidate only when the nearest such
    /// event, with the candidate, fits within `maxspan`.
    fn missing_events_allow(&self, seq: &InFlight, missing: &MissingEvents) -> bool {
        if !self.stages.iter().any(|s| s.missing) {
            return true;
        }
        let n = self.stages.len();
        // Timestamp of each positive stage's event, by stage.
        let mut at: Vec<Option<i128>> = vec![None; n];
        let mut k = 0;
        for (s, stage) in self.stages.iter().enumerate() {
            if !stage.missing {
                at[s] = seq.times.get(k).copied();
                k += 1;
            }
        }
        let first_ts = seq.times.first().copied().unwrap_or_default();
        let last_ts = seq.times.last().copied().unwrap_or_default();
        let has = |s: usize, from: Option<i128>, to: Option<i128>, pick_last: bool| {
            let events = missing.get(&s)?;
            let mut hits = events.iter().filter(|(ts, combos)| {
                from.is_none_or(|f| *ts > f)
                    && to.is_none_or(|t| *ts < t)
                    && combos.contains(&seq.key)
            });
            if pick_last {
                hits.next_back().map(|(ts, _)| *ts)
            } else {
                hits.next().map(|(ts, _)| *ts)
            }
        };
        let mut leading = true;
        let (mut last_leading, mut first_trailing): (Option<i128>, Option<i128>) = (None, None);
        for s in 0..n {
            if !self.stages[s].missing {
                leading = false;
                continue;
            }
            let trailing = self.stages[s + 1..].iter().all(|x| x.missing);
            if leading {
                if let Some(t) = has(s, None, Some(first_ts), true) {
                    last_leading = Some(last_leading.map_or(t, |l| l.max(t)));
                }
            } else if trailing {
                if let Some(t) = has(s, Some(last_ts), None, false) {
                    first_trailing = Some(first_trailing.map_or(t, |f| f.min(t)));
                }
            } else {
                let prev = (0..s).rev().find_map(|p| at[p]);
                let next = (s + 1..n).find_map(|p| at[p]);
                if has(s, prev, next, false).is_some() {
                    return false;
                }
            }
        }
        let lead_stage = self.stages[0].missing;
        let trail_stage = self.stages[n - 1].missing;
        let beyond = |from: Option<i128>, to: Option<i128>| match (from, to, self.maxspan) {
            (Some(f), Some(t), Some(m)) => t - f > m,
            (Some(_), Some(_), None) => false,
            _ => true,
        };
        (first_trailing.is_none() && last_leading.is_none())
            || (last_leading.is_none() && lead_stage)
            || (first_trailing.is_none() && trail_stage)
            || (lead_stage && trail_stage && beyond(last_leading, first_trailing))
            || (lead_stage && !trail_stage && beyond(last_leading, Some(last_ts)))
            || (!lead_stage && trail_stage && beyond(Some(first_ts), first_trailing))
    }
}

/// Events of each missing stage, in order: (timestamp, key combinations).
type MissingEvents = HashMap<usize, Vec<(i128, Vec<Vec<GroupKey>>)>>;

/// A pending or completed sequence.
#[derive(Clone, Debug)]
struct InFlight {
    key: Vec<GroupKey>,
    start: i128,
    /// Positions (in matching order) of the events of the positive stages so far.
    matches: Vec<usize>,
    times: Vec<i128>,
}

pub(crate) fn timestamp_nanos(v: &Value) -> Option<i128> {
    match v {
        Value::Date(t) => Some(t.as_nanosecond()),
        Value::Int(ms) => Some(i128::from(*ms) * 1_000_000),
        Value::Float(ms) if ms.is_finite() => Some((*ms * 1e6) as i128),
        Value::Array(items) => items.iter().find_map(timestamp_nanos),
        _ => None,
    }
}

/// The join keys an event offers: one combination per distinct value of each key (sorted, as
/// Elasticsearch reads doc values), null for a key without values.
pub(crate) fn key_combinations(
    keys: &[CompiledExpr],
    row: &Row,
    ctx: &EvalContext,
) -> Vec<Vec<GroupKey>> {
    let mut combos: Vec<Vec<GroupKey>> = vec![Vec::with_capacity(keys.len())];
    for k in keys {
        let v = k.eval(row, ctx, &mut NoTrace);
        let mut values: Vec<Value> = v.leaves().cloned().collect();
        values.sort_by(sort_key_values);
        values.dedup_by(|a, b| GroupKey::new(a) == GroupKey::new(b));
        if values.is_empty() {
            values.push(Value::Null);
        }
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(GroupKey::new(v));
                    c
                })
            })
            .collect();
    }
    combos
}

/// Orders key values: null first, then by value within a type.
pub(crate) fn sort_key_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => compare_values(a, b, false, false).unwrap_or_else(|| a.type_name().cmp(b.type_name())),
    }
}
