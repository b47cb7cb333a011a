//! Lowering to Vigil's IR with Elasticsearch's ES|QL semantics.
//!
//! Each command becomes a plan operator; the lowering keeps the typed column list ES|QL computes
//! at plan time, so unknown columns and type errors are reported with the span of the offending
//! text before anything runs. Predicates carry ES|QL's rules explicitly: comparisons and `IN`
//! give null (and a warning) on multi-valued operands ([`Quantifier::NullOnMulti`]), `LIKE` is
//! case-sensitive, `RLIKE` matches the whole value, and logic is three-valued.

use std::collections::BTreeSet;

use jiff::SignedDuration;
use vigil_event::Value;
use vigil_plan::{
    AggCall, Aggregate, ArithOp, Assign, Case, CmpOp, Eval, Expr, ExprKind as IrKind, Extract,
    ExtractPattern, Limit, MatchOpts, MvExpand, Pattern, Plan, Project, ProjectItem, Quantifier,
    Sort, SortKey as IrSortKey, SourceKind, Span, Values, WildcardPattern, WildcardToken,
};
use vigil_schema::Schema;

use crate::ast::{self, BinOp, Command, ExprKind, Field, Name, Query, SourceCommand};
use crate::functions;
use crate::parse::{ParseError, parse};
use crate::types::EsqlType;

/// A query that parses but cannot run: an unknown column, a type error, an unsupported
/// function.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LowerError {
    pub message: String,
    pub span: Span,
}

impl LowerError {
    pub fn new(message: impl Into<String>, span: Span) -> LowerError {
        LowerError {
            message: message.into(),
            span,
        }
    }

    /// 1-based line and column of the error in `text`.
    pub fn line_col(&self, text: &str) -> (usize, usize) {
        crate::parse::line_col(text, self.span.start as usize)
    }
}

impl From<ParseError> for LowerError {
    fn from(e: ParseError) -> LowerError {
        LowerError {
            message: e.message,
            span: e.span,
        }
    }
}

pub(crate) fn err<T>(message: impl Into<String>, span: Span) -> Result<T, LowerError> {
    Err(LowerError::new(message, span))
}

/// Where `FROM` finds its columns.
#[derive(Debug, Default)]
pub struct Catalog<'a> {
    /// Field types of open sources (Elastic indices whose documents may hold any ECS field).
    pub schema: Option<&'a Schema>,
    /// Indices with a fixed column list (test data sets), by name.
    pub indices: Vec<(String, Vec<(String, EsqlType)>)>,
}

impl<'a> Catalog<'a> {
    pub fn from_schema(schema: &'a Schema) -> Catalog<'a> {
        Catalog {
            schema: Some(schema),
            indices: Vec::new(),
        }
    }
}

/// What the rule runtime needs to know about a lowered ES|QL query.
#[derive(Clone, Debug, PartialEq)]
pub struct EsqlPlan {
    pub plan: Plan,
    /// The result columns and their types, in order. For a plan whose rows are still the
    /// source documents (no `STATS`/`KEEP`), the computed columns only.
    pub columns: Vec<(String, EsqlType)>,
    /// True when the rows are still source documents plus computed columns (no `STATS`, no
    /// `KEEP`): every document field is a column.
    pub open_columns: bool,
    /// True when the query has a `STATS` (not `INLINE STATS`): its rows are groups, not
    /// documents, and alerts are identified by their column values.
    pub aggregating: bool,
    /// The index patterns of `FROM` (empty for `ROW`).
    pub indices: Vec<String>,
    /// The `METADATA` fields requested (`_id`, `_index`, `_version`…).
    pub metadata: Vec<String>,
}

/// Parses and lowers a rule's query against the Elastic schema.
pub fn lower_rule_query(text: &str, schema: &Schema) -> Result<EsqlPlan, LowerError> {
    let q = parse(text)?;
    lower_with(&q, &Catalog::from_schema(schema))
}

/// Lowers a query whose sources are Elastic indices typed by `schema`.
pub fn lower(query: &Query, schema: &Schema) -> Result<Plan, LowerError> {
    lower_with(query, &Catalog::from_schema(schema)).map(|p| p.plan)
}

/// Lowers a query against a catalog of sources.
pub fn lower_with(query: &Query, catalog: &Catalog<'_>) -> Result<EsqlPlan, LowerError> {
    let mut l = Lowerer {
        catalog,
        cols: Vec::new(),
        open: false,
        hidden: 0,
        computed: BTreeSet::new(),
        kql_schema: None,
    };
    let (mut plan, indices, metadata) = l.source(&query.source)?;
    let mut aggregating = false;
    for c in &query.commands {
        if let Command::Stats { inline: false, .. } = c {
            aggregating = true;
        }
        plan = l.command(plan, c)?;
    }
    if !l.open {
        // One projection at the end gives the result its columns in ES|QL's order.
        let mut items = vec![ProjectItem::Drop("*".into())];
        items.extend(l.cols.iter().map(|(n, _)| ProjectItem::Keep(n.clone())));
        plan = Plan::Project(Project {
            input: Box::new(plan),
            items,
        });
    }
    plan.assign_ids();
    Ok(EsqlPlan {
        plan,
        columns: l.cols,
        open_columns: l.open,
        aggregating,
        indices,
        metadata,
    })
}

/// An IR expression with its ES|QL type.
#[derive(Clone, Debug)]
pub(crate) struct Typed {
    pub expr: Expr,
    pub ty: EsqlType,
    /// For a `date_period` literal: (months, days).
    pub period: Option<(i64, i64)>,
}

impl Typed {
    pub fn new(expr: Expr, ty: EsqlType) -> Typed {
        Typed {
            expr,
            ty,
            period: None,
        }
    }

    pub fn literal(&self) -> Option<&Value> {
        self.expr.as_literal()
    }
}

/// ES|QL's comparison semantics: case-sensitive, null on multi-valued operands, strict types.
pub(crate) const ESQL_CMP: MatchOpts = MatchOpts {
    case: Case::Sensitive,
    quant: Quantifier::NullOnMulti,
    lenient: false,
};

pub(crate) struct Lowerer<'a> {
    catalog: &'a Catalog<'a>,
    /// The current columns, in order.
    pub cols: Vec<(String, EsqlType)>,
    /// Source documents are still the rows: names not in `cols` resolve through the schema.
    pub open: bool,
    hidden: usize,
    /// Columns a command computed (not read from the indexed documents).
    computed: BTreeSet<String>,
    kql_schema: Option<Schema>,
}

const METADATA_FIELDS: &[(&str, EsqlType)] = &[
    ("_id", EsqlType::Keyword),
    ("_index", EsqlType::Keyword),
    ("_version", EsqlType::Long),
    ("_ignored", EsqlType::Keyword),
    ("_score", EsqlType::Double),
    ("_source", EsqlType::Unsupported),
    ("_index_mode", EsqlType::Keyword),
];

fn index_match(pattern: &str, name: &str) -> bool {
    vigil_event::wildcard_match(pattern, name)
}

impl<'a> Lowerer<'a> {
    fn source(
        &mut self,
        s: &SourceCommand,
    ) -> Result<(Plan, Vec<String>, Vec<String>), LowerError> {
        match s {
            SourceCommand::From {
                indices,
                metadata,
                span,
            } => {
                let names: Vec<String> = indices.iter().map(|p| p.text.clone()).collect();
                let (include, exclude): (Vec<&String>, Vec<&String>) =
                    names.iter().partition(|n| !n.starts_with('-'));
                let matched: Vec<&(String, Vec<(String, EsqlType)>)> = self
                    .catalog
                    .indices
                    .iter()
                    .filter(|(idx, _)| {
                        include.iter().any(|p| index_match(p, idx))
                            && !exclude.iter().any(|p| index_match(&p[1..], idx))
                    })
                    .collect();
                if matched.is_empty() {
                    if self.catalog.schema.is_none() {
                        return err(format!("Unknown index [{}]", names.join(",")), span.0);
                    }
                    self.open = true;
                } else {
                    // Columns of every matched index, sorted by name; a name typed differently
                    // in two indices is unsupported.
                    let mut all: std::collections::BTreeMap<String, EsqlType> =
                        std::collections::BTreeMap::new();
                    for (_, cols) in &matched {
                        for (n, t) in cols {
                            all.entry(n.clone())
                                .and_modify(|old| {
                                    if *old != *t {
                                        *old = EsqlType::Unsupported;
                                    }
                                })
                                .or_insert(*t);
                        }
                    }
                    self.cols = all.into_iter().collect();
                }
                let mut meta = Vec::new();
                for m in metadata {
                    let Some((_, t)) = METADATA_FIELDS.iter().find(|(n, _)| *n == m.value) else {
                        return err(format!("unsupported metadata field [{}]", m.value), span.0);
                    };
                    self.set_col(&m.value, *t);
                    meta.push(m.value.clone());
                }
                Ok((
                    Plan::source(SourceKind::Elastic, names.clone(), span.0),
                    names,
                    meta,
                ))
            }
            SourceCommand::Row { fields, span } => {
                let mut columns = Vec::new();
                let mut row = Vec::new();
                for f in fields {
                    let t = self.expr(&f.expr)?;
                    let t = self.no_period(t, f.expr.span())?;
                    let name = f.column_name();
                    if let Some(i) = columns.iter().position(|(n, _)| *n == name) {
                        columns.remove(i);
                        row.remove(i);
                    }
                    columns.push((name.clone(), t.ty.data_type()));
                    row.push(t.expr);
                    self.set_col(&name, t.ty);
                }
                Ok((
                    Plan::Values(Values {
                        columns,
                        rows: vec![row],
                        span: span.0,
                    }),
                    Vec::new(),
                    Vec::new(),
                ))
            }
        }
    }

    /// Defines or redefines a column: a redefined column moves to the end, as ES|QL does.
    fn set_col(&mut self, name: &str, ty: EsqlType) {
        self.computed.insert(name.to_string());
        self.cols.retain(|(n, _)| n != name);
        self.cols.push((name.to_string(), ty));
    }

    /// True if `name` still reads the indexed documents' field (no command redefined it).
    pub(crate) fn is_document_field(&self, name: &str) -> bool {
        !self.computed.contains(name)
    }

    fn column(&self, name: &str) -> Option<EsqlType> {
        self.cols.iter().rev().find(|(n, _)| n == name).map(|c| c.1)
    }

    /// The type of a column a query names, or an error at its span.
    pub(crate) fn resolve(&self, name: &str, span: Span) -> Result<EsqlType, LowerError> {
        if let Some(t) = self.column(name) {
            return Ok(t);
        }
        if self.open {
            let schema = self.catalog.schema;
            return Ok(schema
                .and_then(|s| s.field_type(name))
                .map_or(EsqlType::Unknown, EsqlType::from_data_type));
        }
        err(format!("Unknown column [{name}]"), span)
    }

    fn fresh_name(&mut self) -> String {
        self.hidden += 1;
        format!("$$esql{}", self.hidden)
    }

    fn command(&mut self, input: Plan, c: &Command) -> Result<Plan, LowerError> {
        match c {
            Command::Where { cond, .. } => {
                let t = self.expr(cond)?;
                if !(t.ty == EsqlType::Boolean || t.ty.is_any()) {
                    return err(
                        format!("Condition expression needs to be boolean, found [{}]", t.ty),
                        cond.span(),
                    );
                }
                input
                    .filter(t.expr)
                    .map_err(|e| LowerError::new(e.message, e.span))
            }
            Command::Eval { fields, .. } => {
                let mut assigns = Vec::new();
                for f in fields {
                    let t = self.expr(&f.expr)?;
                    let t = self.no_period(t, f.expr.span())?;
                    let name = f.column_name();
                    self.set_col(&name, t.ty);
                    assigns.push(Assign { name, expr: t.expr });
                }
                // Consecutive EVALs become one operator (each assignment sees the earlier
                // ones either way), which keeps long pipelines shallow.
                if let Plan::Eval(mut prev) = input {
                    prev.assigns.extend(assigns);
                    return Ok(Plan::Eval(prev));
                }
                Ok(Plan::Eval(Eval {
                    input: Box::new(input),
                    assigns,
                }))
            }
            Command::Stats {
                aggs, by, inline, ..
            } => self.stats(input, aggs, by, *inline),
            Command::Keep { patterns, .. } => {
                self.keep(patterns)?;
                Ok(input)
            }
            Command::Drop { patterns, .. } => {
                for p in patterns {
                    let name = p.joined();
                    if p.is_pattern() {
                        let pat = pattern_of(p);
                        self.cols
                            .retain(|(n, _)| !vigil_event::wildcard_match(&pat, n));
                    } else if self.column(&name).is_some() {
                        self.cols.retain(|(n, _)| *n != name);
                    } else if !self.open {
                        return err(format!("Unknown column [{name}]"), p.span());
                    }
                }
                Ok(input)
            }
            Command::Rename { pairs, .. } => {
                let mut assigns = Vec::new();
                for (from, to) in pairs {
                    let f = from.joined();
                    let t = to.joined();
                    let ty = self.resolve(&f, from.span())?;
                    if f == t {
                        continue;
                    }
                    assigns.push(Assign {
                        name: t.clone(),
                        expr: Expr::field(f.clone(), ty.data_type(), from.span()),
                    });
                    // The renamed column keeps its place; a column already named `to` goes.
                    self.cols.retain(|(n, _)| *n != t);
                    match self.cols.iter().position(|(n, _)| *n == f) {
                        Some(i) => self.cols[i] = (t, ty),
                        None => self.cols.push((t, ty)),
                    }
                }
                Ok(Plan::Eval(Eval {
                    input: Box::new(input),
                    assigns,
                }))
            }
            Command::Sort { keys, .. } => {
                let mut out = Vec::new();
                for k in keys {
                    let t = self.expr(&k.expr)?;
                    // A multi-valued key sorts by its smallest value ascending, its largest
                    // descending.
                    let f = if k.ascending {
                        "esql.mv_min"
                    } else {
                        "esql.mv_max"
                    };
                    let expr = Expr::call(f, vec![t.expr], k.expr.span());
                    out.push(IrSortKey {
                        expr,
                        ascending: k.ascending,
                        nulls_first: k.nulls_first.unwrap_or(!k.ascending),
                    });
                }
                Ok(Plan::Sort(Sort {
                    input: Box::new(input),
                    keys: out,
                }))
            }
            Command::Limit { n, .. } => Ok(Plan::Limit(Limit {
                input: Box::new(input),
                n: *n,
                from_end: false,
            })),
            Command::Dissect {
                input: src,
                pattern,
                append_separator,
                span,
            } => {
                let t = self.expr(src)?;
                self.expect_string(&t, src.span(), "DISSECT")?;
                let keys = dissect_columns(pattern).map_err(|m| LowerError::new(m, span.0))?;
                let columns: Vec<(String, vigil_event::DataType)> = keys
                    .iter()
                    .map(|k| (k.clone(), vigil_event::DataType::Keyword))
                    .collect();
                for k in &keys {
                    self.set_col(k, EsqlType::Keyword);
                }
                Ok(Plan::Extract(Extract {
                    input: Box::new(input),
                    source: t.expr,
                    pattern: ExtractPattern::Dissect {
                        pattern: pattern.clone(),
                        append_separator: append_separator.clone(),
                    },
                    columns,
                    drop_unmatched: false,
                }))
            }
            Command::Grok {
                input: src,
                patterns,
                span,
            } => {
                let t = self.expr(src)?;
                self.expect_string(&t, src.span(), "GROK")?;
                let mut cols: Vec<(String, EsqlType)> = Vec::new();
                for p in patterns {
                    for (n, ty) in grok_columns(p).map_err(|m| LowerError::new(m, span.0))? {
                        if let Some(c) = cols.iter_mut().find(|c| c.0 == n) {
                            if c.1 != ty {
                                return err(
                                    format!(
                                        "Invalid GROK pattern [{p}]: the attribute [{n}] is \
                                         defined multiple times with different types"
                                    ),
                                    span.0,
                                );
                            }
                        } else {
                            cols.push((n, ty));
                        }
                    }
                }
                for (n, ty) in &cols {
                    self.set_col(n, *ty);
                }
                // Several patterns are tried in order, as one alternation.
                let pattern = if patterns.len() == 1 {
                    patterns[0].clone()
                } else {
                    patterns
                        .iter()
                        .map(|p| format!("(?:{p})"))
                        .collect::<Vec<_>>()
                        .join("|")
                };
                Ok(Plan::Extract(Extract {
                    input: Box::new(input),
                    source: t.expr,
                    pattern: ExtractPattern::Grok { pattern },
                    columns: cols
                        .iter()
                        .map(|(n, t)| (n.clone(), t.data_type()))
                        .collect(),
                    drop_unmatched: false,
                }))
            }
            Command::MvExpand { name, .. } => {
                let n = name.joined();
                let ty = self.resolve(&n, name.span())?;
                // Copied into a computed column first, so the expansion owns its slot and the
                // field is among those the plan reads.
                let copy = Plan::Eval(Eval {
                    input: Box::new(input),
                    assigns: vec![Assign {
                        name: n.clone(),
                        expr: Expr::field(n.clone(), ty.data_type(), name.span()),
                    }],
                });
                if self.column(&n).is_none() {
                    self.cols.push((n.clone(), ty));
                }
                Ok(Plan::MvExpand(MvExpand {
                    input: Box::new(copy),
                    column: n,
                    limit: None,
                }))
            }
        }
    }

    fn expect_string(&self, t: &Typed, span: Span, cmd: &str) -> Result<(), LowerError> {
        if t.ty.is_string() || t.ty.is_any() {
            Ok(())
        } else {
            err(
                format!(
                    "{cmd} input must be a string, found value of type [{}]",
                    t.ty
                ),
                span,
            )
        }
    }

    fn keep(&mut self, patterns: &[Name]) -> Result<(), LowerError> {
        // Each column goes where its most specific pattern is: an exact name beats a wildcard.
        let mut candidates: Vec<(String, EsqlType)> = self.cols.clone();
        if self.open {
            if let Some(schema) = self.catalog.schema {
                for p in patterns.iter().filter(|p| p.is_pattern()) {
                    for f in schema.fields_matching(&pattern_of(p)) {
                        if !candidates.iter().any(|(n, _)| n == f) {
                            let ty = schema
                                .field_type(f)
                                .map_or(EsqlType::Unknown, EsqlType::from_data_type);
                            if ty != EsqlType::Unsupported {
                                candidates.push((f.to_string(), ty));
                            }
                        }
                    }
                }
            }
            for p in patterns.iter().filter(|p| !p.is_pattern()) {
                let name = p.joined();
                if !candidates.iter().any(|(n, _)| *n == name) {
                    let ty = self.resolve(&name, p.span())?;
                    candidates.push((name, ty));
                }
            }
        }
        // A wildcard over document fields no schema lists keeps the documents' own fields: the
        // rows stay documents.
        let keeps_unknown = self.open
            && patterns.iter().any(|p| {
                p.is_pattern()
                    && !candidates
                        .iter()
                        .any(|(n, _)| vigil_event::wildcard_match(&pattern_of(p), n))
            });
        let mut best: Vec<Option<(usize, u8)>> = vec![None; candidates.len()];
        for (pi, p) in patterns.iter().enumerate() {
            let exact = !p.is_pattern();
            let pat = pattern_of(p);
            let mut any = false;
            for (ci, (n, _)) in candidates.iter().enumerate() {
                let hit = if exact {
                    *n == pat
                } else {
                    vigil_event::wildcard_match(&pat, n)
                };
                if !hit {
                    continue;
                }
                any = true;
                let rank = if exact {
                    2
                } else if pat == "*" {
                    0
                } else {
                    1
                };
                if best[ci].is_none_or(|(_, r)| rank >= r) {
                    best[ci] = Some((pi, rank));
                }
            }
            if exact && !any {
                return err(format!("Unknown column [{pat}]"), p.span());
            }
        }
        let mut out = Vec::new();
        for pi in 0..patterns.len() {
            for (ci, c) in candidates.iter().enumerate() {
                if best[ci].is_some_and(|(p, _)| p == pi) {
                    out.push(c.clone());
                }
            }
        }
        self.cols = out;
        self.open = keeps_unknown;
        Ok(())
    }

    fn stats(
        &mut self,
        input: Plan,
        aggs: &[ast::AggField],
        by: &[Field],
        inline: bool,
    ) -> Result<Plan, LowerError> {
        let mut group_by = Vec::new();
        let mut group_cols = Vec::new();
        for g in by {
            if let Some(a) = find_aggregate(&g.expr) {
                return err(
                    format!("grouping key cannot hold an aggregate function [{a}]"),
                    g.expr.span(),
                );
            }
            let t = self.expr(&g.expr)?;
            let t = self.no_period(t, g.expr.span())?;
            let name = g.column_name();
            group_by.push(Assign {
                name: name.clone(),
                expr: t.expr,
            });
            group_cols.push((name, t.ty));
        }
        let mut calls: Vec<AggCall> = Vec::new();
        // Visible aggregate columns: (name, type, post-aggregation expression when the
        // aggregate is an expression over aggregates).
        let mut outs: Vec<(String, EsqlType, Option<ast::Expr>)> = Vec::new();
        let mut hidden_types: Vec<(String, EsqlType)> = Vec::new();
        for a in aggs {
            let name = a.field.column_name();
            if !inline && group_cols.iter().any(|g| g.0 == name) {
                // A grouping and an aggregate of the same name: the grouping wins.
                continue;
            }
            let filter = match &a.filter {
                Some(w) => {
                    let t = self.expr(w)?;
                    if !(t.ty == EsqlType::Boolean || t.ty.is_any()) {
                        return err("aggregate filter must be boolean", w.span());
                    }
                    Some(t.expr)
                }
                None => None,
            };
            if let ExprKind::Call { name: f, args } = &a.field.expr.kind
                && functions::is_aggregate(f)
            {
                let (call, ty) =
                    functions::aggregate(self, f, args, name.clone(), filter, a.field.expr.span())?;
                calls.push(call);
                outs.push((name, ty, None));
                continue;
            }
            // An expression over aggregates: each aggregate becomes a hidden column, the
            // expression is evaluated after grouping.
            let mut rewritten = a.field.expr.clone();
            let mut found = Vec::new();
            self.extract_aggregates(&mut rewritten, &mut found)?;

            for (hidden, f, args, span) in found {
                let (call, ty) =
                    functions::aggregate(self, &f, &args, hidden.clone(), filter.clone(), span)?;
                calls.push(call);
                hidden_types.push((hidden, ty));
            }
            outs.push((name, EsqlType::Null, Some(rewritten)));
        }
        let input_cols = std::mem::take(&mut self.cols);
        let was_open = self.open;
        let plan = Plan::Aggregate(Aggregate {
            input: Box::new(input),
            group_by,
            aggs: calls.clone(),
            inline,
            expand_multi_valued_keys: true,
        });
        // The scope after grouping: groups, then aggregates (hidden ones for expressions).
        self.open = false;
        self.cols = group_cols.clone();
        for c in &calls {
            if let Some((_, t)) = outs
                .iter()
                .find(|(n, _, e)| e.is_none() && *n == c.name)
                .map(|(n, t, _)| (n, *t))
            {
                self.cols.push((c.name.clone(), t));
            }
        }
        self.cols.extend(hidden_types.iter().cloned());
        let mut plan = plan;
        let mut assigns = Vec::new();
        for o in outs.iter_mut() {
            if let Some(e) = &o.2 {
                let t = self.expr(e)?;
                o.1 = t.ty;
                assigns.push(Assign {
                    name: o.0.clone(),
                    expr: t.expr,
                });
                self.cols.push((o.0.clone(), t.ty));
            }
        }
        if !assigns.is_empty() {
            plan = Plan::Eval(Eval {
                input: Box::new(plan),
                assigns,
            });
        }
        let mut final_cols: Vec<(String, EsqlType)> = Vec::new();
        if inline {
            let new_names: BTreeSet<&String> = outs
                .iter()
                .map(|o| &o.0)
                .chain(group_cols.iter().map(|g| &g.0))
                .collect();
            for c in &input_cols {
                let is_group_same = group_cols.iter().any(|g| g.0 == c.0 && g.1 == c.1);
                if !new_names.contains(&c.0) || is_group_same {
                    final_cols.push(c.clone());
                }
            }
            for g in &group_cols {
                if !final_cols.iter().any(|c| c.0 == g.0) {
                    final_cols.push(g.clone());
                }
            }
            self.open = was_open;
        } else {
            for o in &outs {
                final_cols.retain(|c| c.0 != o.0);
                final_cols.push((o.0.clone(), o.1));
            }
            for g in &group_cols {
                // A grouping and an aggregate of the same name: the grouping wins.
                final_cols.retain(|c| c.0 != g.0);
                final_cols.push(g.clone());
            }
        }
        if inline {
            for o in &outs {
                final_cols.retain(|c| c.0 != o.0);
                final_cols.push((o.0.clone(), o.1));
            }
        }
        self.cols = final_cols;
        Ok(plan)
    }

    /// Replaces each aggregate call in `e` by a hidden column, collecting the calls.
    fn extract_aggregates(
        &mut self,
        e: &mut ast::Expr,
        found: &mut Vec<(String, String, Vec<ast::Expr>, Span)>,
    ) -> Result<(), LowerError> {
        if let ExprKind::Call { name, args } = &e.kind
            && functions::is_aggregate(name)
        {
            let hidden = self.fresh_name();
            found.push((hidden.clone(), name.clone(), args.clone(), e.span()));
            e.kind = ExprKind::Field(Name {
                parts: vec![ast::Ident {
                    value: hidden,
                    quoted: true,
                }],
                span: e.span,
            });
            return Ok(());
        }
        match &mut e.kind {
            ExprKind::Call { args, .. } | ExprKind::List(args) => {
                for a in args {
                    self.extract_aggregates(a, found)?;
                }
            }
            ExprKind::Neg(x) | ExprKind::Not(x) => self.extract_aggregates(x, found)?,
            ExprKind::Cast { expr, .. }
            | ExprKind::Like { expr, .. }
            | ExprKind::IsNull { expr, .. } => self.extract_aggregates(expr, found)?,
            ExprKind::Binary { left, right, .. } => {
                self.extract_aggregates(left, found)?;
                self.extract_aggregates(right, found)?;
            }
            ExprKind::In { expr, list, .. } => {
                self.extract_aggregates(expr, found)?;
                for a in list {
                    self.extract_aggregates(a, found)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn no_period(&self, t: Typed, span: Span) -> Result<Typed, LowerError> {
        if t.ty == EsqlType::DatePeriod {
            return err(
                "a date_period can only be added to or subtracted from a date",
                span,
            );
        }
        Ok(t)
    }

    // -----------------------------------------------------------------------------------------
    // Expressions
    // -----------------------------------------------------------------------------------------

    pub(crate) fn expr(&mut self, e: &ast::Expr) -> Result<Typed, LowerError> {
        let span = e.span();
        Ok(match &e.kind {
            ExprKind::Null => Typed::new(Expr::literal(Value::Null, span), EsqlType::Null),
            ExprKind::Bool(b) => Typed::new(Expr::literal(*b, span), EsqlType::Boolean),
            ExprKind::Int(i) => int_literal(i128::from(*i), span),
            ExprKind::Decimal(x) => Typed::new(Expr::literal(*x, span), EsqlType::Double),
            ExprKind::Str(s) => Typed::new(Expr::literal(s.as_str(), span), EsqlType::Keyword),
            ExprKind::Span { value, unit } => span_literal(*value, unit, span)?,
            ExprKind::List(items) => {
                let mut values = Vec::new();
                let mut ty = EsqlType::Null;
                for it in items {
                    let t = self.expr(it)?;
                    let Some(v) = t.literal() else {
                        return err("a multi-value literal holds constants only", it.span());
                    };
                    ty = if ty == EsqlType::Null {
                        t.ty
                    } else if t.ty == EsqlType::Null || t.ty == ty {
                        ty
                    } else if ty.is_numeric() && t.ty.is_numeric() {
                        EsqlType::widen(ty, t.ty)
                    } else {
                        return err("multi-value literals must have one type", it.span());
                    };
                    if !v.is_null() {
                        values.push(v.clone());
                    }
                }
                if ty == EsqlType::Double {
                    values = values
                        .into_iter()
                        .map(|v| v.as_f64().map_or(v, Value::Float))
                        .collect();
                }
                let v = match values.len() {
                    0 => Value::Null,
                    1 => values.remove(0),
                    _ => Value::Array(values),
                };
                Typed::new(Expr::literal(v, span), ty)
            }
            ExprKind::Field(n) => {
                let name = n.joined();
                let ty = self.resolve(&name, span)?;
                Typed::new(Expr::field(name, ty.data_type(), span), ty)
            }
            ExprKind::Star => return err("`*` is only allowed in COUNT(*)", span),
            ExprKind::Map(_) => return err("function options are not supported here", span),
            ExprKind::Call { name, args } => {
                if functions::is_aggregate(name) {
                    return err(
                        format!(
                            "aggregate function [{}] is only allowed in STATS",
                            name.to_ascii_uppercase()
                        ),
                        span,
                    );
                }
                functions::scalar(self, name, args, span)?
            }
            ExprKind::Neg(inner) => {
                if let ExprKind::Int(i) = inner.kind {
                    return Ok(int_literal(-i128::from(i), span));
                }
                let t = self.expr(inner)?;
                if let Some((m, d)) = t.period {
                    return Ok(Typed {
                        period: Some((-m, -d)),
                        ..t
                    });
                }
                if !(t.ty.is_numeric() || t.ty == EsqlType::TimeDuration || t.ty.is_any()) {
                    return err(
                        format!(
                            "argument of [{e}] must be numeric, date_period or time_duration, \
                             found value of type [{}]",
                            t.ty
                        ),
                        span,
                    );
                }
                let ty = t.ty;
                let neg = Expr::new(IrKind::Negate(Box::new(t.expr)), span);
                Typed::new(int_check(neg, ty, span), ty)
            }
            ExprKind::Not(inner) => {
                let t = self.expr(inner)?;
                self.expect_bool(&t, inner.span(), "NOT")?;
                Typed::new(Expr::not(t.expr, span), EsqlType::Boolean)
            }
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right, span)?,
            ExprKind::Cast { expr, ty } => {
                let Some(target) = EsqlType::from_name(ty) else {
                    return err(format!("Unknown data type named [{ty}]"), span);
                };
                let f = functions::conversion_for(target)
                    .ok_or_else(|| LowerError::new(format!("cannot cast to [{ty}]"), span))?;
                let arg = ast::Expr::new(
                    ExprKind::Call {
                        name: f.into(),
                        args: vec![(**expr).clone()],
                    },
                    span,
                );
                self.expr(&arg)?
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => {
                let t = self.expr(expr)?;
                let mut items = Vec::new();
                for it in list {
                    let i = self.expr(it)?;
                    let i = self.implicit_cast(i, t.ty, it.span())?;
                    if !EsqlType::comparable(t.ty, i.ty) {
                        return err(
                            format!("[{e}] cannot compare [{}] with [{}]", t.ty, i.ty),
                            it.span(),
                        );
                    }
                    items.push(i.expr);
                }
                let opts = self.cmp_opts(t.ty, EsqlType::Null);
                let inx = Expr::new(
                    IrKind::In {
                        expr: Box::new(t.expr),
                        list: items,
                        opts,
                    },
                    span,
                );
                let inx = if *negated { Expr::not(inx, span) } else { inx };
                Typed::new(inx, EsqlType::Boolean)
            }
            ExprKind::Like {
                expr,
                patterns,
                negated,
                regex,
                ..
            } => {
                let t = self.expr(expr)?;
                if !(t.ty.is_string() || t.ty.is_any()) {
                    return err(
                        format!(
                            "argument of [{e}] must be [string], found value of type [{}]",
                            t.ty
                        ),
                        expr.span(),
                    );
                }
                let mut alts = Vec::new();
                for p in patterns {
                    let pattern = if *regex {
                        Pattern::Regex {
                            pattern: lucene_regex(p).map_err(|m| LowerError::new(m, span))?,
                            anchored: true,
                        }
                    } else {
                        Pattern::Wildcard(like_pattern(p))
                    };
                    alts.push(Expr::new(
                        IrKind::Match {
                            expr: Box::new(t.expr.clone()),
                            pattern,
                            opts: ESQL_CMP,
                        },
                        span,
                    ));
                }
                let m = Expr::or(alts, span);
                let m = if *negated { Expr::not(m, span) } else { m };
                Typed::new(m, EsqlType::Boolean)
            }
            ExprKind::IsNull { expr, negated } => {
                let t = self.expr(expr)?;
                let n = Expr::new(IrKind::IsNull(Box::new(t.expr)), span);
                let n = if *negated { Expr::not(n, span) } else { n };
                Typed::new(n, EsqlType::Boolean)
            }
        })
    }

    fn expect_bool(&self, t: &Typed, span: Span, what: &str) -> Result<(), LowerError> {
        if t.ty == EsqlType::Boolean || t.ty.is_any() {
            Ok(())
        } else {
            err(
                format!(
                    "argument of [{what}] must be [boolean], found value of type [{}]",
                    t.ty
                ),
                span,
            )
        }
    }

    fn cmp_opts(&self, a: EsqlType, b: EsqlType) -> MatchOpts {
        MatchOpts {
            // A field no schema types is compared as Elasticsearch's dynamic mapping would
            // have typed it: the literal follows the value.
            lenient: a == EsqlType::Unknown || b == EsqlType::Unknown,
            ..ESQL_CMP
        }
    }

    /// A string literal used where a date, ip or version is expected is converted at plan
    /// time (ES|QL's implicit casting).
    pub(crate) fn implicit_cast(
        &self,
        t: Typed,
        want: EsqlType,
        span: Span,
    ) -> Result<Typed, LowerError> {
        if !t.ty.is_string()
            || !matches!(
                want,
                EsqlType::Date
                    | EsqlType::DateNanos
                    | EsqlType::Ip
                    | EsqlType::Version
                    | EsqlType::Boolean
            )
        {
            return Ok(t);
        }
        let Some(Value::Str(s)) = t.literal() else {
            return Ok(t);
        };
        let v = match want {
            EsqlType::Date | EsqlType::DateNanos => vigil_event::parse_es_date(s)
                .map(Value::Date)
                .map_err(|_| {
                    LowerError::new(format!("Cannot convert string [{s}] to [{want}]"), span)
                })?,
            EsqlType::Ip => s.parse().map(Value::Ip).map_err(|_| {
                LowerError::new(format!("Cannot convert string [{s}] to [ip]"), span)
            })?,
            EsqlType::Boolean => match s.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Ok(t),
            },
            _ => return Ok(t),
        };
        Ok(Typed::new(Expr::literal(v, span), want))
    }

    fn binary(
        &mut self,
        op: BinOp,
        left: &ast::Expr,
        right: &ast::Expr,
        span: Span,
    ) -> Result<Typed, LowerError> {
        let l = self.expr(left)?;
        let r = self.expr(right)?;
        match op {
            BinOp::And | BinOp::Or => {
                self.expect_bool(&l, left.span(), op.symbol())?;
                self.expect_bool(&r, right.span(), op.symbol())?;
                let e = if op == BinOp::And {
                    Expr::new(IrKind::And(vec![l.expr, r.expr]), span)
                } else {
                    Expr::new(IrKind::Or(vec![l.expr, r.expr]), span)
                };
                Ok(Typed::new(e, EsqlType::Boolean))
            }
            BinOp::Eq | BinOp::Neq | BinOp::Lt | BinOp::Lte | BinOp::Gt | BinOp::Gte => {
                let l = self.implicit_cast(l, r.ty, left.span())?;
                let r = self.implicit_cast(r, l.ty, right.span())?;
                let ordered = !matches!(op, BinOp::Eq | BinOp::Neq);
                if !EsqlType::comparable(l.ty, r.ty)
                    || (ordered && matches!(l.ty, EsqlType::Boolean | EsqlType::GeoPoint))
                {
                    return err(
                        format!(
                            "first argument of [{left} {} {right}] is [{}] so second argument \
                             must also be [{}] but was [{}]",
                            op.symbol(),
                            l.ty,
                            l.ty,
                            r.ty
                        ),
                        span,
                    );
                }
                let cmp = match op {
                    BinOp::Eq => CmpOp::Eq,
                    BinOp::Neq => CmpOp::NotEq,
                    BinOp::Lt => CmpOp::Lt,
                    BinOp::Lte => CmpOp::LtEq,
                    BinOp::Gt => CmpOp::Gt,
                    _ => CmpOp::GtEq,
                };
                let opts = self.cmp_opts(l.ty, r.ty);
                // Both sides multi-valued or computed: null-on-multi must apply to the right
                // side too, so compare single values only.
                let right_expr = if matches!(r.expr.kind, IrKind::Literal(_)) {
                    r.expr
                } else {
                    Expr::call("esql.single", vec![r.expr], right.span())
                };
                Ok(Typed::new(
                    Expr::compare(cmp, l.expr, right_expr, opts, span),
                    EsqlType::Boolean,
                ))
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                self.arith(op, l, r, left, right, span)
            }
        }
    }

    fn arith(
        &mut self,
        op: BinOp,
        l: Typed,
        r: Typed,
        left: &ast::Expr,
        right: &ast::Expr,
        span: Span,
    ) -> Result<Typed, LowerError> {
        let aop = match op {
            BinOp::Add => ArithOp::Add,
            BinOp::Sub => ArithOp::Sub,
            BinOp::Mul => ArithOp::Mul,
            BinOp::Div => ArithOp::Div,
            _ => ArithOp::Mod,
        };
        let bad = || {
            err(
                format!(
                    "[{}] has arguments with incompatible types [{}] and [{}]",
                    op.symbol(),
                    l.ty,
                    r.ty
                ),
                span,
            )
        };
        // Dates and spans.
        if l.ty.is_date() || r.ty.is_date() {
            let (date, other, date_left) = if l.ty.is_date() {
                (&l, &r, true)
            } else {
                (&r, &l, false)
            };
            let add_ok = matches!(op, BinOp::Add) || (matches!(op, BinOp::Sub) && date_left);
            if !add_ok {
                return bad();
            }
            let sign = if op == BinOp::Sub { -1 } else { 1 };
            if let Some((m, d)) = other.period {
                let e = Expr::call(
                    "esql.date_add_period",
                    vec![
                        date.expr.clone(),
                        Expr::literal(m * sign, span),
                        Expr::literal(d * sign, span),
                    ],
                    span,
                );
                return Ok(Typed::new(e, date.ty));
            }
            if other.ty == EsqlType::TimeDuration || other.ty.is_any() {
                let e = Expr::new(
                    IrKind::Arith {
                        op: aop,
                        left: Box::new(date.expr.clone()),
                        right: Box::new(other.expr.clone()),
                    },
                    span,
                );
                let _ = (left, right);
                return Ok(Typed::new(e, date.ty));
            }
            return bad();
        }
        if let (Some((m1, d1)), Some((m2, d2))) = (l.period, r.period) {
            let s = if op == BinOp::Sub { -1 } else { 1 };
            if matches!(op, BinOp::Add | BinOp::Sub) {
                return Ok(Typed {
                    period: Some((m1 + s * m2, d1 + s * d2)),
                    ..l
                });
            }
            return bad();
        }
        if l.ty == EsqlType::TimeDuration && r.ty == EsqlType::TimeDuration {
            if !matches!(op, BinOp::Add | BinOp::Sub) {
                return bad();
            }
            let e = Expr::new(
                IrKind::Arith {
                    op: aop,
                    left: Box::new(l.expr),
                    right: Box::new(r.expr),
                },
                span,
            );
            return Ok(Typed::new(e, EsqlType::TimeDuration));
        }
        if !((l.ty.is_numeric() || l.ty.is_any()) && (r.ty.is_numeric() || r.ty.is_any())) {
            return bad();
        }
        let ty = EsqlType::widen(l.ty, r.ty);
        let ty = if ty == EsqlType::Null {
            EsqlType::Integer
        } else {
            ty
        };
        let (le, re) = if ty == EsqlType::Double {
            (to_double(l.expr), to_double(r.expr))
        } else {
            (l.expr, r.expr)
        };
        let e = Expr::call(
            "esql.arith",
            vec![
                Expr::literal(
                    match aop {
                        ArithOp::Add => "+",
                        ArithOp::Sub => "-",
                        ArithOp::Mul => "*",
                        ArithOp::Div => "/",
                        ArithOp::Mod => "%",
                    },
                    span,
                ),
                le,
                re,
            ],
            span,
        );
        Ok(Typed::new(int_check(e, ty, span), ty))
    }
}

/// Integer results overflow at 32 bits in ES|QL (null plus a warning).
pub(crate) fn int_check(e: Expr, ty: EsqlType, span: Span) -> Expr {
    if ty == EsqlType::Integer {
        Expr::call("esql.check_int", vec![e], span)
    } else {
        e
    }
}

fn to_double(e: Expr) -> Expr {
    if let Some(v) = e.as_literal()
        && let Some(f) = v.as_f64()
    {
        return Expr::literal(f, e.span);
    }
    let span = e.span;
    Expr::call("esql.to_double", vec![e], span)
}

fn int_literal(i: i128, span: Span) -> Typed {
    if let Ok(v) = i32::try_from(i) {
        Typed::new(Expr::literal(i64::from(v), span), EsqlType::Integer)
    } else if let Ok(v) = i64::try_from(i) {
        Typed::new(Expr::literal(v, span), EsqlType::Long)
    } else {
        // Beyond long: unsigned long values are carried as doubles.
        Typed::new(Expr::literal(i as f64, span), EsqlType::UnsignedLong)
    }
}

pub(crate) fn span_literal(value: u64, unit: &str, span: Span) -> Result<Typed, LowerError> {
    let v = i64::try_from(value).map_err(|_| LowerError::new("time span too large", span))?;
    let ms: Option<i64> = match unit.to_ascii_lowercase().as_str() {
        "millisecond" | "milliseconds" | "ms" => Some(1),
        "second" | "seconds" | "sec" | "s" => Some(1_000),
        "minute" | "minutes" | "min" | "m" => Some(60_000),
        "hour" | "hours" | "h" => Some(3_600_000),
        _ => None,
    };
    if let Some(ms) = ms {
        let d = SignedDuration::from_millis(v.saturating_mul(ms));
        return Ok(Typed::new(
            Expr::literal(Value::Duration(d), span),
            EsqlType::TimeDuration,
        ));
    }
    let (months, days) = match unit.to_ascii_lowercase().as_str() {
        "day" | "days" | "d" => (0, v),
        "week" | "weeks" | "w" => (0, v * 7),
        "month" | "months" | "mo" => (v, 0),
        "quarter" | "quarters" | "q" => (v * 3, 0),
        "year" | "years" | "yr" | "y" => (v * 12, 0),
        _ => return err(format!("unknown time unit [{unit}]"), span),
    };
    Ok(Typed {
        expr: Expr::literal(Value::Null, span),
        ty: EsqlType::DatePeriod,
        period: Some((months, days)),
    })
}

/// A `KEEP`/`DROP` pattern as a `*` wildcard string.
fn pattern_of(n: &Name) -> String {
    n.joined()
}

/// The first aggregate call in an expression, for errors.
fn find_aggregate(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Call { name, args } => {
            if functions::is_aggregate(name) {
                return Some(name.clone());
            }
            args.iter().find_map(find_aggregate)
        }
        ExprKind::Neg(x) | ExprKind::Not(x) => find_aggregate(x),
        ExprKind::Binary { left, right, .. } => {
            find_aggregate(left).or_else(|| find_aggregate(right))
        }
        _ => None,
    }
}

/// ES|QL `LIKE`: `*` any run, `?` one character, `\` escapes the next character.
pub(crate) fn like_pattern(p: &str) -> WildcardPattern {
    let mut tokens = Vec::new();
    let mut lit = String::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    lit.push(n);
                } else {
                    lit.push('\\');
                }
            }
            '*' | '?' => {
                if !lit.is_empty() {
                    tokens.push(WildcardToken::Literal(std::mem::take(&mut lit)));
                }
                tokens.push(if c == '*' {
                    WildcardToken::AnyRun
                } else {
                    WildcardToken::AnyOne
                });
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        tokens.push(WildcardToken::Literal(lit));
    }
    WildcardPattern { tokens }
}

/// Translates a Lucene regular expression (the syntax of ES|QL `RLIKE`) to the executor's
/// syntax. Lucene has no anchors or shorthand classes: `^`, `$` are literal; `.` matches any
/// character, newlines included; `@` (any string), `&`, `~`, `<…>` and `#` are operators only
/// with optional flags that ES|QL does not set, so they are literal too.
pub(crate) fn lucene_regex(p: &str) -> Result<String, String> {
    let mut out = String::from("(?s)");
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    // Lucene reads a repetition operator with nothing to repeat as a literal character.
    let mut at_start = true;
    while let Some(c) = chars.next() {
        let was_start = std::mem::replace(&mut at_start, matches!(c, '(' | '|') && !in_class);
        if was_start && !in_class && matches!(c, '*' | '+' | '?' | '{') {
            out.push('\\');
            out.push(c);
            continue;
        }
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    return Err(format!("invalid regular expression [{p}]: trailing `\\`"));
                };
                // Lucene's escape makes any character literal.
                if n.is_ascii_alphanumeric() {
                    match n {
                        'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                            out.push('\\');
                            out.push(n);
                        }
                        _ => out.push(n),
                    }
                } else {
                    out.push('\\');
                    out.push(n);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '^' | '$' | '&' | '~' | '#' | '@' | '<' | '>' if !in_class => {
                out.push('\\');
                out.push(c);
            }
            '[' | '&' | '~' | '#' if in_class => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The columns a dissect pattern defines, in order (`%{?skip}`, `%{&ref}` and `%{}` define
/// none; `%{*key}` names a column by another key's value, which ES|QL refuses).
pub(crate) fn dissect_columns(pattern: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = pattern;
    let mut any = false;
    while let Some(i) = rest.find("%{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            return Err(format!(
                "Invalid DISSECT pattern [{pattern}]: unclosed `%{{`"
            ));
        };
        any = true;
        let mut key = &after[..j];
        rest = &after[j + 1..];
        if let Some(k) = key.strip_suffix("->") {
            key = k;
        }
        if let Some(k) = key.strip_prefix('+') {
            key = k.split('/').next().unwrap_or(k);
        }
        if key.starts_with('?') || key.is_empty() {
            continue;
        }
        if key.starts_with('*') || key.starts_with('&') {
            return Err(format!(
                "Invalid DISSECT pattern [{pattern}]: reference keys are not supported"
            ));
        }
        if !out.iter().any(|k| k == key) {
            out.push(key.to_string());
        }
    }
    if !any {
        return Err(format!("Invalid DISSECT pattern [{pattern}]: no keys"));
    }
    Ok(out)
}

/// The columns a grok pattern defines, in order, with their types (`%{NUMBER:n:int}`) —
/// named groups `(?<name>…)` define keyword columns.
pub(crate) fn grok_columns(pattern: &str) -> Result<Vec<(String, EsqlType)>, String> {
    let mut out: Vec<(String, EsqlType)> = Vec::new();
    let b = pattern.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[pattern.len().min(i)..].starts_with(b"%{") {
            let Some(j) = pattern[i + 2..].find('}') else {
                return Err(format!("Invalid GROK pattern [{pattern}]: unclosed `%{{`"));
            };
            let body = &pattern[i + 2..i + 2 + j];
            let mut parts = body.splitn(3, ':');
            let _syntax = parts.next();
            if let Some(name) = parts.next() {
                let ty = match parts.next() {
                    None => EsqlType::Keyword,
                    Some("int") => EsqlType::Integer,
                    Some("long") => EsqlType::Long,
                    Some("float" | "double") => EsqlType::Double,
                    Some("boolean") => EsqlType::Boolean,
                    Some(other) => {
                        return Err(format!(
                            "Invalid GROK pattern [{pattern}]: unsupported type [{other}]"
                        ));
                    }
                };
                push_unique(&mut out, name, ty)?;
            }
            i += 2 + j + 1;
            continue;
        }
        if b[i..].starts_with(b"(?<")
            && !b[i..].starts_with(b"(?<=")
            && !b[i..].starts_with(b"(?<!")
            && let Some(j) = pattern[i + 3..].find('>')
        {
            {
                let name = &pattern[i + 3..i + 3 + j];
                push_unique(&mut out, name, EsqlType::Keyword)?;
                i += 3 + j + 1;
                continue;
            }
        }
        if b[i..].starts_with(b"(?P<")
            && let Some(j) = pattern[i + 4..].find('>')
        {
            {
                let name = &pattern[i + 4..i + 4 + j];
                push_unique(&mut out, name, EsqlType::Keyword)?;
                i += 4 + j + 1;
                continue;
            }
        }
        i += 1;
    }
    Ok(out)
}

fn push_unique(out: &mut Vec<(String, EsqlType)>, name: &str, ty: EsqlType) -> Result<(), String> {
    match out.iter().find(|(n, _)| n == name) {
        Some((_, t)) if *t != ty => Err(format!(
            "Invalid GROK pattern: the attribute [{name}] is defined multiple times with different types"
        )),
        Some(_) => Ok(()),
        None => {
            out.push((name.to_string(), ty));
            Ok(())
        }
    }
}

impl Lowerer<'_> {
    /// A KQL query string lowered with the current columns' types.
    pub(crate) fn kql(&mut self, text: &str, span: Span) -> Result<Expr, LowerError> {
        let q = vigil_kuery::parse(text)
            .map_err(|e| LowerError::new(format!("invalid KQL query: {e}"), span))?;
        let schema: &Schema = if self.open {
            self.catalog.schema.unwrap_or_else(|| Schema::elastic())
        } else {
            let mut table = String::new();
            for (n, t) in &self.cols {
                let dt = t.data_type();
                if dt != vigil_event::DataType::Unknown {
                    table.push_str(&format!("{n}\t{}\n", dt.name()));
                }
            }
            let mut s = Schema::default();
            s.add_table(&table);
            self.kql_schema = Some(s);
            match &self.kql_schema {
                Some(s) => s,
                None => unreachable!("just set"),
            }
        };
        let mut e = vigil_kuery::lower(&q, schema)
            .map_err(|e| LowerError::new(format!("invalid KQL query: {e}"), span))?;
        // The query's own spans are relative to its string: point them at the call.
        e.walk_mut(&mut |n| n.span = span);
        Ok(e)
    }
}
