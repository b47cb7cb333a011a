//! Aggregates with Kusto's own semantics, looked up without the `kusto.` prefix.
//!
//! Unlike the shared aggregates, these take a `dynamic` array as one value (Kusto does not
//! flatten multi-values, except `make_set`, which the shared one already does).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

use vigil_event::Value;

use super::{Accumulator, AggFactory};
use crate::compare::compare_values;
use crate::key::GroupKey;

pub(super) fn lookup(name: &str) -> Option<AggFactory> {
    Some(match name {
        "dcount" => || Box::new(DCount(HashSet::new())),
        "make_list" => || {
            Box::new(MakeList {
                values: Vec::new(),
                limit: None,
            })
        },
        "any" => || Box::new(AnyValue(None)),
        "make_bag" => || Box::new(MakeBag(vigil_event::Map::new())),
        "arg_max" => || {
            Box::new(ArgExtreme {
                best: None,
                first: None,
                want: Ordering::Greater,
            })
        },
        "arg_min" => || {
            Box::new(ArgExtreme {
                best: None,
                first: None,
                want: Ordering::Less,
            })
        },
        "series_count" => || Box::new(Series::new(SeriesAgg::Count)),
        "series_sum" => || Box::new(Series::new(SeriesAgg::Sum)),
        "series_avg" => || Box::new(Series::new(SeriesAgg::Avg)),
        "series_min" => || Box::new(Series::new(SeriesAgg::Min)),
        "series_max" => || Box::new(Series::new(SeriesAgg::Max)),
        "series_dcount" => || Box::new(Series::new(SeriesAgg::DCount)),
        "series_axis" => || Box::new(Series::new(SeriesAgg::Axis)),
        _ => return None,
    })
}

/// Distinct non-null values, each counted whole.
struct DCount(HashSet<GroupKey>);

impl Accumulator for DCount {
    fn update(&mut self, args: &[Value]) {
        if let Some(v) = args.first().filter(|v| !v.is_null()) {
            self.0.insert(GroupKey::new(v));
        }
    }
    fn finish(&self) -> Value {
        Value::Int(self.0.len() as i64)
    }
}

/// Non-null values in input order, arrays kept whole; optional size limit (second argument).
struct MakeList {
    values: Vec<Value>,
    limit: Option<usize>,
}

impl Accumulator for MakeList {
    fn update(&mut self, args: &[Value]) {
        if self.limit.is_none()
            && let Some(Value::Int(n)) = args.get(1)
        {
            self.limit = usize::try_from(*n).ok();
        }
        if let Some(v) = args.first().filter(|v| !v.is_null())
            && self.limit.is_none_or(|l| self.values.len() < l)
        {
            self.values.push(v.clone());
        }
    }
    fn finish(&self) -> Value {
        Value::Array(self.values.clone())
    }
}

/// Some value of the group: the first non-null one.
struct AnyValue(Option<Value>);

impl Accumulator for AnyValue {
    fn update(&mut self, args: &[Value]) {
        if self.0.is_none()
            && let Some(v) = args.first().filter(|v| !v.is_null())
        {
            self.0 = Some(v.clone());
        }
    }
    fn finish(&self) -> Value {
        self.0.clone().unwrap_or(Value::Null)
    }
}

struct MakeBag(vigil_event::Map);

impl Accumulator for MakeBag {
    fn update(&mut self, args: &[Value]) {
        if let Some(Value::Object(m)) = args.first() {
            for (k, v) in m {
                self.0.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    fn finish(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

/// `arg_max(by, v1, …)`: the arguments of the row with the greatest (least) non-null `by`, as
/// one array `[by, v1, …]`; the first row's when every `by` is null. Ties keep the first.
struct ArgExtreme {
    best: Option<Vec<Value>>,
    first: Option<Vec<Value>>,
    want: Ordering,
}

impl Accumulator for ArgExtreme {
    fn update(&mut self, args: &[Value]) {
        if self.first.is_none() {
            self.first = Some(args.to_vec());
        }
        let Some(by) = args.first().filter(|v| !v.is_null()) else {
            return;
        };
        let better = match &self.best {
            None => true,
            Some(b) => compare_values(by, &b[0], false, false) == Some(self.want),
        };
        if better {
            self.best = Some(args.to_vec());
        }
    }
    fn finish(&self) -> Value {
        self.best
            .clone()
            .or_else(|| self.first.clone())
            .map_or(Value::Null, Value::Array)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum SeriesAgg {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    DCount,
    Axis,
}

/// `make-series`: one value per time bin from `from` to `to` (or the data's range) by `step`.
/// Arguments: `[time, from, to, step, default, value]` (`series_axis`: the first four).
struct Series {
    agg: SeriesAgg,
    params: Option<(Value, Value, Value, Value)>,
    /// Per bin start (nanoseconds): count, sum, min, max, distinct values.
    bins: BTreeMap<i128, Bin>,
}

#[derive(Default)]
struct Bin {
    count: i64,
    sum: f64,
    extreme: Option<Value>,
    distinct: HashSet<GroupKey>,
}

impl Series {
    fn new(agg: SeriesAgg) -> Series {
        Series {
            agg,
            params: None,
            bins: BTreeMap::new(),
        }
    }

    fn step(&self) -> Option<i128> {
        match self.params.as_ref()?.2 {
            Value::Duration(d) if d.as_nanos() > 0 => Some(d.as_nanos()),
            _ => None,
        }
    }
}

fn nanos(v: &Value) -> Option<i128> {
    match v {
        Value::Date(t) => Some(t.as_nanosecond()),
        _ => None,
    }
}

impl Accumulator for Series {
    fn update(&mut self, args: &[Value]) {
        if self.params.is_none() {
            let g = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
            self.params = Some((g(1), g(2), g(3), g(4)));
        }
        let (Some(t), Some(step)) = (args.first().and_then(nanos), self.step()) else {
            return;
        };
        let origin = self.params.as_ref().and_then(|p| nanos(&p.0)).unwrap_or(0);
        let bin = origin + (t - origin).div_euclid(step) * step;
        let value = args.get(5).cloned().unwrap_or(Value::Null);
        let want = match self.agg {
            SeriesAgg::Min => Ordering::Less,
            _ => Ordering::Greater,
        };
        let b = self.bins.entry(bin).or_default();
        b.count += 1;
        if let Some(x) = value.as_f64() {
            b.sum += x;
        }
        if !value.is_null() {
            let better = b
                .extreme
                .as_ref()
                .is_none_or(|e| compare_values(&value, e, false, false) == Some(want));
            if better {
                b.extreme = Some(value.clone());
            }
            b.distinct.insert(GroupKey::new(&value));
        }
    }

    fn finish(&self) -> Value {
        let Some(step) = self.step() else {
            return Value::Null;
        };
        let Some((from, to, _, default)) = &self.params else {
            return Value::Array(vec![]);
        };
        let first = nanos(from).or_else(|| self.bins.keys().next().copied());
        let last = nanos(to)
            .map(|t| t - 1)
            .or_else(|| self.bins.keys().next_back().copied());
        let (Some(first), Some(last)) = (first, last) else {
            return Value::Array(vec![]);
        };
        let mut out = Vec::new();
        let mut t = first;
        while t <= last && out.len() < 100_000 {
            let v = match (self.agg, self.bins.get(&t)) {
                (SeriesAgg::Axis, _) => {
                    jiff::Timestamp::from_nanosecond(t).map_or(Value::Null, Value::Date)
                }
                (_, None) => default.clone(),
                (SeriesAgg::Count, Some(b)) => Value::Int(b.count),
                (SeriesAgg::Sum, Some(b)) => Value::Float(b.sum),
                (SeriesAgg::Avg, Some(b)) => Value::Float(b.sum / b.count.max(1) as f64),
                (SeriesAgg::Min | SeriesAgg::Max, Some(b)) => {
                    b.extreme.clone().unwrap_or_else(|| default.clone())
                }
                (SeriesAgg::DCount, Some(b)) => Value::Int(b.distinct.len() as i64),
            };
            out.push(v);
            t += step;
        }
        Value::Array(out)
    }
}
