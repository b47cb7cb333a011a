//! Joins on equal keys (Kusto `join` and `lookup`).
//!
//! Both inputs are run in full; the right side is hashed on its keys. A key containing null
//! matches nothing (as in Kusto). Output rows are the left row with the right row's columns
//! copied into slots of their own, so both sides may come from the same source layout. Column
//! names are resolved at compile time: a right-side column whose name the left side also has
//! takes that name over (front-ends that want Kusto's `Key1` renaming rename the right side
//! before the join, as the Kusto front-end does).

use std::borrow::Cow;
use std::collections::HashMap;

use vigil_event::{Row, SlotId};
use vigil_plan::{Join, JoinKind};

use crate::builder::Builder;
use crate::error::ExecError;
use crate::key::GroupKey;
use crate::plan::{Columns, Pending};

/// A compiled join: key slots on each side and where right columns go.
#[derive(Clone, Debug)]
pub(crate) struct JoinOp {
    kind: JoinKind,
    left_keys: Vec<SlotId>,
    right_keys: Vec<SlotId>,
    /// (slot in a right row, slot in the output row)
    copies: Vec<(SlotId, SlotId)>,
}

fn column_list(c: &Columns) -> &[(String, SlotId)] {
    match c {
        Columns::Events { computed } => computed,
        Columns::Explicit(cols) => cols,
    }
}

impl JoinOp {
    /// `left_locals` are the builder's names as the left input left them; the builder holds
    /// the right input's names now and is restored to the left's, plus the right columns.
    pub fn compile(
        j: &Join,
        b: &mut Builder<'_>,
        left_locals: HashMap<String, SlotId>,
        left_cols: Columns,
        right_cols: Columns,
    ) -> Result<(JoinOp, Columns), ExecError> {
        let missing = |side: &str, name: &str| {
            ExecError::new(format!("unknown {side} join key `{name}`"), j.span)
        };
        let right_keys =
            j.on.iter()
                .map(|(_, r)| b.slot_of(r).ok_or_else(|| missing("right", r)))
                .collect::<Result<Vec<_>, _>>()?;
        b.locals = left_locals;
        let left_keys =
            j.on.iter()
                .map(|(l, _)| b.slot_of(l).ok_or_else(|| missing("left", l)))
                .collect::<Result<Vec<_>, _>>()?;
        let keeps_left = !matches!(j.kind, JoinKind::RightAnti | JoinKind::RightSemi);
        let keeps_right = !matches!(j.kind, JoinKind::LeftAnti | JoinKind::LeftSemi);
        let mut copies = Vec::new();
        let mut right_out = Vec::new();
        if keeps_right {
            for (name, slot) in column_list(&right_cols) {
                let dst = b.fresh();
                b.locals.insert(name.clone(), dst);
                copies.push((*slot, dst));
                right_out.push((name.clone(), dst));
            }
        }
        let cols = if !keeps_left {
            Columns::Explicit(right_out)
        } else if !keeps_right {
            left_cols
        } else {
            let merge = |mut list: Vec<(String, SlotId)>| {
                for (n, s) in &right_out {
                    list.retain(|(x, _)| x != n);
                    list.push((n.clone(), *s));
                }
                list
            };
            match left_cols {
                Columns::Events { computed } => Columns::Events {
                    computed: merge(computed),
                },
                Columns::Explicit(c) => Columns::Explicit(merge(c)),
            }
        };
        Ok((
            JoinOp {
                kind: j.kind,
                left_keys,
                right_keys,
                copies,
            },
            cols,
        ))
    }

    pub fn run<'a>(&self, left: Vec<Pending<'a>>, right: Vec<Pending<'a>>) -> Vec<Pending<'a>> {
        let key = |row: &Row, slots: &[SlotId]| -> Option<Vec<GroupKey>> {
            slots
                .iter()
                .map(|s| row.get(*s).filter(|v| !v.is_null()).map(GroupKey::new))
                .collect()
        };
        let mut index: HashMap<Vec<GroupKey>, Vec<usize>> = HashMap::new();
        for (i, p) in right.iter().enumerate() {
            if let Some(k) = key(&p.row, &self.right_keys) {
                index.entry(k).or_default().push(i);
            }
        }
        let merged = |l: &Pending<'a>, r: Option<&Pending<'a>>| -> Pending<'a> {
            let mut row = l.row.clone().into_owned();
            for (src, dst) in &self.copies {
                row.set(*dst, r.and_then(|r| r.row.get(*src).cloned()));
            }
            Pending {
                row: Cow::Owned(row),
                origin: l.origin,
                members: l.members.clone(),
            }
        };
        let right_only = |r: &Pending<'a>| -> Pending<'a> {
            let mut row = Row::default();
            for (src, dst) in &self.copies {
                row.set(*dst, r.row.get(*src).cloned());
            }
            Pending {
                row: Cow::Owned(row),
                origin: None,
                members: Vec::new(),
            }
        };
        let mut out = Vec::new();
        let mut right_matched = vec![false; right.len()];
        let mut seen_left: HashMap<Vec<GroupKey>, ()> = HashMap::new();
        for l in &left {
            let k = key(&l.row, &self.left_keys);
            if self.kind == JoinKind::InnerUnique {
                // Kusto's default: the left side deduplicated on the key (first row kept).
                match &k {
                    Some(k) if seen_left.insert(k.clone(), ()).is_some() => continue,
                    None => continue,
                    _ => {}
                }
            }
            let matches: &[usize] = k
                .as_ref()
                .and_then(|k| index.get(k))
                .map_or(&[], Vec::as_slice);
            for &i in matches {
                right_matched[i] = true;
            }
            match self.kind {
                JoinKind::Inner | JoinKind::InnerUnique => {
                    out.extend(matches.iter().map(|&i| merged(l, Some(&right[i]))));
                }
                JoinKind::LeftOuter | JoinKind::FullOuter => {
                    if matches.is_empty() {
                        out.push(merged(l, None));
                    } else {
                        out.extend(matches.iter().map(|&i| merged(l, Some(&right[i]))));
                    }
                }
                JoinKind::RightOuter => {
                    out.extend(matches.iter().map(|&i| merged(l, Some(&right[i]))));
                }
                JoinKind::LeftSemi if !matches.is_empty() => out.push(l.clone()),
                JoinKind::LeftAnti if matches.is_empty() => out.push(l.clone()),
                _ => {}
            }
        }
        match self.kind {
            JoinKind::RightOuter | JoinKind::FullOuter => {
                for (i, r) in right.iter().enumerate() {
                    if !right_matched[i] {
                        out.push(right_only(r));
                    }
                }
            }
            JoinKind::RightSemi | JoinKind::RightAnti => {
                let want = self.kind == JoinKind::RightSemi;
                for (i, r) in right.iter().enumerate() {
                    if right_matched[i] == want {
                        out.push(right_only(r));
                    }
                }
            }
            _ => {}
        }
        out
    }
}
