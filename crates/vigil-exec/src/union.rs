//! Union: the rows of every input, one input after another, with columns matched by name.

use std::borrow::Cow;

use vigil_event::{Row, SlotId};

use crate::builder::Builder;
use crate::plan::{Columns, Pending};

/// A compiled union: for each input, (its slot, the output slot) per column.
#[derive(Clone, Debug)]
pub(crate) struct UnionOp {
    maps: Vec<Vec<(SlotId, SlotId)>>,
}

impl UnionOp {
    /// Output columns are the inputs' columns by name, in order of first appearance; an input
    /// without a column gives null there.
    pub fn compile(b: &mut Builder<'_>, inputs: &[Columns]) -> (UnionOp, Columns) {
        let mut out: Vec<(String, SlotId)> = Vec::new();
        let mut maps = Vec::new();
        for cols in inputs {
            let list = match cols {
                Columns::Events { computed } => computed,
                Columns::Explicit(c) => c,
            };
            let mut map = Vec::new();
            for (name, slot) in list {
                let dst = match out.iter().find(|(n, _)| n == name) {
                    Some((_, s)) => *s,
                    None => {
                        let s = b.fresh();
                        out.push((name.clone(), s));
                        s
                    }
                };
                map.push((*slot, dst));
            }
            maps.push(map);
        }
        for (name, slot) in &out {
            b.locals.insert(name.clone(), *slot);
        }
        (UnionOp { maps }, Columns::Explicit(out))
    }

    pub fn run<'a>(&self, inputs: Vec<Vec<Pending<'a>>>) -> Vec<Pending<'a>> {
        let mut out = Vec::new();
        for (rows, map) in inputs.into_iter().zip(&self.maps) {
            for p in rows {
                let mut row = Row::default();
                for (src, dst) in map {
                    row.set(*dst, p.row.get(*src).cloned());
                }
                out.push(Pending {
                    row: Cow::Owned(row),
                    origin: p.origin,
                    members: p.members,
                });
            }
        }
        out
    }
}
