//! Aggregates shared by the languages. Multi-valued arguments contribute each of their values,
//! nulls contribute nothing.

use std::cmp::Ordering;

use vigil_event::Value;

use super::{Accumulator, AggFactory};
use crate::compare::compare_values;
use crate::key::GroupKey;

pub(super) fn lookup(name: &str) -> Option<AggFactory> {
    Some(match name {
        "count_rows" => || Box::new(CountRows(0)),
        "count" => || Box::new(CountValues(0)),
        "min" => || {
            Box::new(Extreme {
                best: None,
                want: Ordering::Less,
            })
        },
        "max" => || {
            Box::new(Extreme {
                best: None,
                want: Ordering::Greater,
            })
        },
        "sum" => || {
            Box::new(Sum {
                int: 0,
                float: 0.0,
                is_float: false,
                any: false,
                overflow: false,
            })
        },
        "avg" => || Box::new(Avg { sum: 0.0, n: 0 }),
        "count_distinct" => || {
            Box::new(Distinct {
                seen: Default::default(),
                values: Vec::new(),
                limit: None,
                count_only: true,
            })
        },
        "make_set" => || {
            Box::new(Distinct {
                seen: Default::default(),
                values: Vec::new(),
                limit: None,
                count_only: false,
            })
        },
        "make_list" => || {
            Box::new(List {
                values: Vec::new(),
                limit: None,
            })
        },
        "first" => || Box::new(First(None)),
        _ => return None,
    })
}

/// The values an argument contributes: each element of an array, nothing for null.
fn values(v: &Value) -> impl Iterator<Item = &Value> {
    v.leaves()
}

/// A size limit given as the second argument (`make_set(x, 10)`).
fn limit_arg(args: &[Value]) -> Option<usize> {
    match args.get(1) {
        Some(Value::Int(n)) if *n >= 0 => usize::try_from(*n).ok(),
        _ => None,
    }
}

struct CountRows(i64);

impl Accumulator for CountRows {
    fn update(&mut self, _: &[Value]) {
        self.0 += 1;
    }
    fn finish(&self) -> Value {
        Value::Int(self.0)
    }
}

struct CountValues(i64);

impl Accumulator for CountValues {
    fn update(&mut self, args: &[Value]) {
        self.0 += args.first().map_or(0, |v| values(v).count() as i64);
    }
    fn finish(&self) -> Value {
        Value::Int(self.0)
    }
}

struct Extreme {
    best: Option<Value>,
    want: Ordering,
}

impl Accumulator for Extreme {
    fn update(&mut self, args: &[Value]) {
        let Some(arg) = args.first() else { return };
        for v in values(arg) {
            let better = match &self.best {
                None => true,
                Some(b) => compare_values(v, b, false, false) == Some(self.want),
            };
            if better {
                self.best = Some(v.clone());
            }
        }
    }
    fn finish(&self) -> Value {
        self.best.clone().unwrap_or(Value::Null)
    }
}

struct Sum {
    int: i64,
    float: f64,
    is_float: bool,
    any: bool,
    overflow: bool,
}

impl Accumulator for Sum {
    fn update(&mut self, args: &[Value]) {
        let Some(arg) = args.first() else { return };
        for v in values(arg) {
            match v {
                Value::Int(i) => {
                    self.any = true;
                    self.float += *i as f64;
                    match self.int.checked_add(*i) {
                        Some(s) => self.int = s,
                        None => self.overflow = true,
                    }
                }
                Value::Float(f) => {
                    self.any = true;
                    self.is_float = true;
                    self.float += f;
                }
                _ => {}
            }
        }
    }
    fn finish(&self) -> Value {
        match (self.any, self.is_float, self.overflow) {
            (false, _, _) => Value::Null,
            (true, true, _) => Value::Float(self.float),
            (true, false, true) => Value::Null,
            (true, false, false) => Value::Int(self.int),
        }
    }
}

struct Avg {
    sum: f64,
    n: u64,
}

impl Accumulator for Avg {
    fn update(&mut self, args: &[Value]) {
        let Some(arg) = args.first() else { return };
        for v in values(arg) {
            if let Some(x) = v.as_f64() {
                self.sum += x;
                self.n += 1;
            }
        }
    }
    fn finish(&self) -> Value {
        if self.n == 0 {
            Value::Null
        } else {
            Value::Float(self.sum / self.n as f64)
        }
    }
}

/// Distinct values in first-seen order, optionally at most `limit` of them.
struct Distinct {
    seen: std::collections::HashSet<GroupKey>,
    values: Vec<Value>,
    limit: Option<usize>,
    count_only: bool,
}

impl Accumulator for Distinct {
    fn update(&mut self, args: &[Value]) {
        if self.limit.is_none() {
            self.limit = limit_arg(args);
        }
        let Some(arg) = args.first() else { return };
        for v in values(arg) {
            if self.seen.insert(GroupKey::new(v))
                && !self.count_only
                && self.limit.is_none_or(|l| self.values.len() < l)
            {
                self.values.push(v.clone());
            }
        }
    }
    fn finish(&self) -> Value {
        if self.count_only {
            Value::Int(self.seen.len() as i64)
        } else {
            Value::Array(self.values.clone())
        }
    }
}

struct List {
    values: Vec<Value>,
    limit: Option<usize>,
}

impl Accumulator for List {
    fn update(&mut self, args: &[Value]) {
        if self.limit.is_none() {
            self.limit = limit_arg(args);
        }
        let Some(arg) = args.first() else { return };
        for v in values(arg) {
            if self.limit.is_none_or(|l| self.values.len() < l) {
                self.values.push(v.clone());
            }
        }
    }
    fn finish(&self) -> Value {
        Value::Array(self.values.clone())
    }
}

struct First(Option<Value>);

impl Accumulator for First {
    fn update(&mut self, args: &[Value]) {
        if self.0.is_none() {
            self.0 = args.first().filter(|v| !v.is_null()).cloned();
        }
    }
    fn finish(&self) -> Value {
        self.0.clone().unwrap_or(Value::Null)
    }
}
