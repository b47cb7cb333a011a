//! Aggregates with ES|QL's own semantics, looked up without the `esql.` prefix.
//!
//! Multi-valued arguments contribute each of their values; a result with one value is that
//! value, an empty one is null.

use std::cmp::Ordering;
use std::collections::HashSet;

use vigil_event::Value;

use super::{Accumulator, AggFactory};
use crate::compare::compare_values;
use crate::key::GroupKey;

pub(super) fn lookup(name: &str) -> Option<AggFactory> {
    Some(match name {
        "values" => || Box::new(Values::default()),
        "top" => || Box::new(Top::default()),
        "median" => || Box::new(Numbers::new(NumAgg::Percentile(Some(50.0)))),
        "percentile" => || Box::new(Numbers::new(NumAgg::Percentile(None))),
        "mad" => || Box::new(Numbers::new(NumAgg::Mad)),
        "std_dev" => || Box::new(Numbers::new(NumAgg::StdDev)),
        "sum_double" => || Box::new(Numbers::new(NumAgg::Sum)),
        "weighted_avg" => || Box::new(WeightedAvg::default()),
        "first_by" => || Box::new(ByKey::new(Ordering::Less)),
        "last_by" => || Box::new(ByKey::new(Ordering::Greater)),
        _ => return None,
    })
}

fn single_or_array(mut v: Vec<Value>) -> Value {
    match v.len() {
        0 => Value::Null,
        1 => v.remove(0),
        _ => Value::Array(v),
    }
}

/// `VALUES`: the distinct values, in first-seen order.
#[derive(Default)]
struct Values {
    seen: HashSet<GroupKey>,
    values: Vec<Value>,
}

impl Accumulator for Values {
    fn update(&mut self, args: &[Value]) {
        let Some(arg) = args.first() else { return };
        for v in arg.leaves() {
            if self.seen.insert(GroupKey::new(v)) {
                self.values.push(v.clone());
            }
        }
    }
    fn finish(&self) -> Value {
        single_or_array(self.values.clone())
    }
}

/// `TOP(field, n, "asc"|"desc")`: the n smallest or largest values, sorted.
#[derive(Default)]
struct Top {
    values: Vec<Value>,
    limit: usize,
    desc: bool,
}

impl Accumulator for Top {
    fn update(&mut self, args: &[Value]) {
        if let Some(Value::Int(n)) = args.get(1) {
            self.limit = usize::try_from(*n).unwrap_or(0);
        }
        if let Some(Value::Str(o)) = args.get(2) {
            self.desc = o.eq_ignore_ascii_case("desc");
        }
        if let Some(arg) = args.first() {
            self.values.extend(arg.leaves().cloned());
        }
    }
    fn finish(&self) -> Value {
        let mut v = self.values.clone();
        v.sort_by(|a, b| {
            let o = compare_values(a, b, false, false).unwrap_or(Ordering::Equal);
            if self.desc { o.reverse() } else { o }
        });
        v.truncate(self.limit);
        single_or_array(v)
    }
}

enum NumAgg {
    /// The percentile; `None` until the second argument arrives.
    Percentile(Option<f64>),
    Mad,
    StdDev,
    Sum,
}

/// Aggregates that need every number of the group.
struct Numbers {
    agg: NumAgg,
    values: Vec<f64>,
}

impl Numbers {
    fn new(agg: NumAgg) -> Numbers {
        Numbers {
            agg,
            values: Vec::new(),
        }
    }
}

/// Linear interpolation between the closest ranks, which is what Elasticsearch's t-digest
/// gives while the group is small enough to be kept exactly.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let frac = rank - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

impl Accumulator for Numbers {
    fn update(&mut self, args: &[Value]) {
        if let (NumAgg::Percentile(p @ None), Some(v)) = (&mut self.agg, args.get(1)) {
            *p = v.as_f64();
        }
        if let Some(arg) = args.first() {
            self.values.extend(arg.leaves().filter_map(Value::as_f64));
        }
    }
    fn finish(&self) -> Value {
        if self.values.is_empty() {
            return Value::Null;
        }
        let mut sorted = self.values.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
        let r = match self.agg {
            NumAgg::Percentile(p) => percentile(&sorted, p.unwrap_or(50.0)),
            NumAgg::Mad => percentile(&sorted, 50.0).and_then(|m| {
                let mut dev: Vec<f64> = sorted.iter().map(|x| (x - m).abs()).collect();
                dev.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
                percentile(&dev, 50.0)
            }),
            NumAgg::StdDev => {
                let n = self.values.len() as f64;
                let mean = kahan_sum(self.values.iter().copied()) / n;
                let var = self.values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                Some(var.sqrt())
            }
            NumAgg::Sum => Some(kahan_sum(self.values.iter().copied())),
        };
        r.filter(|x| x.is_finite())
            .map_or(Value::Null, Value::Float)
    }
}

/// `FIRST`/`LAST(value, sort)`: the value of the row whose sort key is the smallest (largest);
/// rows without a sort key do not count.
struct ByKey {
    want: Ordering,
    best: Option<(Value, Value)>,
}

impl ByKey {
    fn new(want: Ordering) -> ByKey {
        ByKey { want, best: None }
    }
}

impl Accumulator for ByKey {
    fn update(&mut self, args: &[Value]) {
        let (Some(v), Some(k)) = (args.first(), args.get(1)) else {
            return;
        };
        let key = match k {
            Value::Null => return,
            Value::Array(items) => {
                let mut it = items.iter().filter(|x| !x.is_null());
                let Some(first) = it.next() else { return };
                it.fold(first, |b, x| {
                    if compare_values(x, b, false, false) == Some(self.want) {
                        x
                    } else {
                        b
                    }
                })
                .clone()
            }
            k => k.clone(),
        };
        let better = match &self.best {
            None => true,
            Some((b, _)) => compare_values(&key, b, false, false) == Some(self.want),
        };
        if better {
            self.best = Some((key, v.clone()));
        }
    }
    fn finish(&self) -> Value {
        self.best.as_ref().map_or(Value::Null, |(_, v)| v.clone())
    }
}

#[derive(Default)]
struct WeightedAvg {
    sum: f64,
    weights: f64,
}

impl Accumulator for WeightedAvg {
    fn update(&mut self, args: &[Value]) {
        let (Some(v), Some(w)) = (args.first(), args.get(1)) else {
            return;
        };
        let (Some(v), Some(w)) = (v.as_f64(), w.as_f64()) else {
            return;
        };
        self.sum += v * w;
        self.weights += w;
    }
    fn finish(&self) -> Value {
        if self.weights == 0.0 {
            Value::Null
        } else {
            Value::Float(self.sum / self.weights)
        }
    }
}

/// Compensated sum, as Elasticsearch sums doubles.
fn kahan_sum(it: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0f64, 0.0f64);
    for x in it {
        let y = x - c;
        let t = sum + y;
        c = (t - sum) - y;
        sum = t;
    }
    sum
}
