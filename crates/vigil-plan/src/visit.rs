//! Traversal of expressions and plans: one place that knows each node's children.

use std::collections::BTreeSet;

use crate::expr::{Expr, ExprKind, FieldRef};
use crate::plan::{Plan, ProjectItem};
use crate::span::NodeId;

impl Expr {
    /// The direct children, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Field(_) | ExprKind::Exists(_) | ExprKind::Now => {
                vec![]
            }
            ExprKind::Not(e)
            | ExprKind::IsTrue(e)
            | ExprKind::IsNull(e)
            | ExprKind::Negate(e)
            | ExprKind::Cast { expr: e, .. }
            | ExprKind::Match { expr: e, .. }
            | ExprKind::Cidr { expr: e, .. }
            | ExprKind::AnyElement { predicate: e, .. } => vec![e],
            ExprKind::And(items) | ExprKind::Or(items) | ExprKind::Call { args: items, .. } => {
                items.iter().collect()
            }
            ExprKind::Compare { left, right, .. } | ExprKind::Arith { left, right, .. } => {
                vec![left, right]
            }
            ExprKind::In { expr, list, .. } => std::iter::once(&**expr).chain(list).collect(),
            ExprKind::Case {
                branches,
                otherwise,
            } => branches
                .iter()
                .flat_map(|(c, v)| [c, v])
                .chain(otherwise.as_deref())
                .collect(),
        }
    }

    /// The direct children, mutably, in source order.
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match &mut self.kind {
            ExprKind::Literal(_) | ExprKind::Field(_) | ExprKind::Exists(_) | ExprKind::Now => {
                vec![]
            }
            ExprKind::Not(e)
            | ExprKind::IsTrue(e)
            | ExprKind::IsNull(e)
            | ExprKind::Negate(e)
            | ExprKind::Cast { expr: e, .. }
            | ExprKind::Match { expr: e, .. }
            | ExprKind::Cidr { expr: e, .. }
            | ExprKind::AnyElement { predicate: e, .. } => vec![&mut **e],
            ExprKind::And(items) | ExprKind::Or(items) | ExprKind::Call { args: items, .. } => {
                items.iter_mut().collect()
            }
            ExprKind::Compare { left, right, .. } | ExprKind::Arith { left, right, .. } => {
                vec![&mut **left, &mut **right]
            }
            ExprKind::In { expr, list, .. } => std::iter::once(&mut **expr)
                .chain(list.iter_mut())
                .collect(),
            ExprKind::Case {
                branches,
                otherwise,
            } => branches
                .iter_mut()
                .flat_map(|(c, v)| [c, v])
                .chain(otherwise.as_deref_mut())
                .collect(),
        }
    }

    /// Visits this node and its descendants, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        for c in self.children() {
            c.walk(f);
        }
    }

    /// Visits this node and its descendants mutably, parents first.
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        f(self);
        for c in self.children_mut() {
            c.walk_mut(f);
        }
    }

    /// Every document field this expression reads (`Exists` included). Fields inside an
    /// `AnyElement` are relative to its element and are not listed; the element's field is.
    pub fn fields(&self) -> Vec<&FieldRef> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a FieldRef>) {
        match &self.kind {
            ExprKind::Field(f) | ExprKind::Exists(f) => out.push(f),
            ExprKind::AnyElement { field, .. } => out.push(field),
            _ => {
                for c in self.children() {
                    c.collect_fields(out);
                }
            }
        }
    }
}

impl Plan {
    /// This operator's own expressions (not its inputs'), in order.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Plan::Source(_)
            | Plan::Limit(_)
            | Plan::Project(_)
            | Plan::MvExpand(_)
            | Plan::Join(_)
            | Plan::Union(_) => vec![],
            Plan::Values(v) => v.rows.iter().flatten().collect(),
            Plan::Filter(f) => vec![&f.predicate],
            Plan::Eval(e) => e.assigns.iter().map(|a| &a.expr).collect(),
            Plan::Aggregate(a) => a
                .group_by
                .iter()
                .map(|g| &g.expr)
                .chain(
                    a.aggs
                        .iter()
                        .flat_map(|c| c.args.iter().chain(c.filter.as_ref())),
                )
                .collect(),
            Plan::Sort(s) => s.keys.iter().map(|k| &k.expr).collect(),
            Plan::Extract(x) => vec![&x.source],
            Plan::Sequence(q) => q
                .steps
                .iter()
                .chain(q.until.as_ref())
                .flat_map(|s| std::iter::once(&s.filter).chain(&s.keys))
                .chain(std::iter::once(&q.timestamp))
                .chain(q.tiebreaker.as_ref())
                .collect(),
            Plan::Sample(q) => q
                .steps
                .iter()
                .flat_map(|s| std::iter::once(&s.filter).chain(&s.keys))
                .collect(),
        }
    }

    fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Plan::Source(_)
            | Plan::Limit(_)
            | Plan::Project(_)
            | Plan::MvExpand(_)
            | Plan::Join(_)
            | Plan::Union(_) => vec![],
            Plan::Values(v) => v.rows.iter_mut().flatten().collect(),
            Plan::Filter(f) => vec![&mut f.predicate],
            Plan::Eval(e) => e.assigns.iter_mut().map(|a| &mut a.expr).collect(),
            Plan::Aggregate(a) => a
                .group_by
                .iter_mut()
                .map(|g| &mut g.expr)
                .chain(
                    a.aggs
                        .iter_mut()
                        .flat_map(|c| c.args.iter_mut().chain(c.filter.as_mut())),
                )
                .collect(),
            Plan::Sort(s) => s.keys.iter_mut().map(|k| &mut k.expr).collect(),
            Plan::Extract(x) => vec![&mut x.source],
            Plan::Sequence(q) => q
                .steps
                .iter_mut()
                .chain(q.until.as_mut())
                .flat_map(|s| std::iter::once(&mut s.filter).chain(s.keys.iter_mut()))
                .chain(std::iter::once(&mut q.timestamp))
                .chain(q.tiebreaker.as_mut())
                .collect(),
            Plan::Sample(q) => q
                .steps
                .iter_mut()
                .flat_map(|s| std::iter::once(&mut s.filter).chain(s.keys.iter_mut()))
                .collect(),
        }
    }

    /// Numbers every expression node in a stable order: the source's operator first, then up
    /// the plan, each expression parents first. Returns the number of nodes.
    pub fn assign_ids(&mut self) -> u32 {
        let mut next = 0u32;
        self.assign_ids_from(&mut next);
        next
    }

    fn assign_ids_from(&mut self, next: &mut u32) {
        for input in self.children_mut() {
            input.assign_ids_from(next);
        }
        for e in self.exprs_mut() {
            e.walk_mut(&mut |n| {
                n.id = NodeId(*next);
                *next += 1;
            });
        }
    }

    /// Document fields the plan reads: field references not defined by an earlier operator.
    /// The decoder extracts exactly these.
    pub fn fields_read(&self) -> BTreeSet<String> {
        let mut read = BTreeSet::new();
        let mut defined = BTreeSet::new();
        self.collect_fields(&mut read, &mut defined);
        read
    }

    fn collect_fields(&self, read: &mut BTreeSet<String>, defined: &mut BTreeSet<String>) {
        // Each input defines its own columns; after a join or union all of them exist.
        let mut after = defined.clone();
        for input in self.children() {
            let mut d = defined.clone();
            input.collect_fields(read, &mut d);
            after.extend(d);
        }
        *defined = after;
        for e in self.exprs() {
            for f in e.fields() {
                if !defined.contains(&f.name) {
                    read.insert(f.name.clone());
                }
            }
        }
        match self {
            Plan::Eval(e) => defined.extend(e.assigns.iter().map(|a| a.name.clone())),
            Plan::Values(v) => defined.extend(v.columns.iter().map(|c| c.0.clone())),
            Plan::Extract(x) => defined.extend(x.columns.iter().map(|c| c.0.clone())),
            Plan::Union(u) => defined.extend(u.with_source.clone()),
            Plan::Aggregate(a) => {
                defined.extend(a.group_by.iter().map(|g| g.name.clone()));
                defined.extend(a.aggs.iter().map(|c| c.name.clone()));
            }
            Plan::Project(p) => {
                for item in &p.items {
                    let (ProjectItem::Keep(name) | ProjectItem::Rename { from: name, .. }) = item
                    else {
                        continue;
                    };
                    // `azure.*` reads the `azure` object whole; the projection keeps objects.
                    let name = name
                        .split('*')
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches('.');
                    if !defined.contains(name) {
                        read.insert(name.to_string());
                    }
                    if let ProjectItem::Rename { to, .. } = item {
                        defined.insert(to.clone());
                    }
                }
            }
            _ => {}
        }
    }
}
