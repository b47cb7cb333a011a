//! Query checks: the query parses and plans, the fields it reads exist, EQL maxspan fits the
//! look-back. Shared by Elastic and Sentinel rules.

use std::collections::BTreeSet;

use vigil_plan::{Expr, ExprKind, Plan, ProjectItem, SourceKind};
use vigil_rules::{Rule, RuleKind};
use vigil_schema::{Schema, TableSchema};

use crate::{Cx, fields};

/// Maps offsets inside a query string to offsets in the file.
pub struct QueryMap {
    base: usize,
    /// Raw offset (relative to `base`) of each decoded byte, when the file holds the query with
    /// escapes or indentation; `None` when the text is verbatim.
    map: Option<Vec<usize>>,
}

impl QueryMap {
    pub fn verbatim(base: usize) -> QueryMap {
        QueryMap { base, map: None }
    }

    /// Aligns the decoded query with its raw text in the file (a TOML basic string with escapes,
    /// a YAML block scalar with indentation). The alignment is greedy: each decoded character is
    /// matched with the next equal raw character within a few bytes, which skips escape
    /// backslashes and indentation. Escapes that decode to a different character (`\n`, `\t`,
    /// `\u0041`) and YAML folding are approximate: positions after them may drift by a few
    /// columns, never past the query.
    pub fn aligned(base: usize, raw: &str, decoded: &str) -> QueryMap {
        const LOOKAHEAD: usize = 16;
        let rb = raw.as_bytes();
        let mut map = Vec::with_capacity(decoded.len() + 1);
        let mut i = 0;
        for (_, c) in decoded.char_indices() {
            let mut buf = [0u8; 4];
            let enc = c.encode_utf8(&mut buf).as_bytes();
            let found = (i..(i + LOOKAHEAD).min(rb.len())).find(|&j| rb[j..].starts_with(enc));
            let at = found.unwrap_or(i.min(rb.len()));
            for k in 0..enc.len() {
                map.push(at + k);
            }
            i = (at + enc.len()).min(rb.len());
        }
        map.push(i);
        QueryMap {
            base,
            map: Some(map),
        }
    }

    pub fn at(&self, rel: usize) -> usize {
        match &self.map {
            None => self.base + rel,
            Some(m) => self.base + m.get(rel).or(m.last()).copied().unwrap_or(0),
        }
    }
}

/// The query map of a loaded rule: exact for verbatim TOML strings, aligned otherwise.
fn rule_map(cx: &Cx, rule: &Rule, query: &str) -> Option<QueryMap> {
    let span = rule.source.query_span.clone()?;
    if rule.source.query_verbatim {
        return Some(QueryMap::verbatim(span.start));
    }
    let raw = cx.text.get(span.clone())?;
    Some(QueryMap::aligned(span.start, raw, query))
}

/// Whether a front-end error is a gap in Vigil rather than a mistake in the rule.
fn is_unsupported(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    // Tables Vigil bundles no schema for are a gap too: the rule's platform has them.
    [
        "not supported",
        "unsupported",
        "not yet",
        "does not support",
        "cannot run",
        "unknown table",
        "vigil does not",
    ]
    .iter()
    .any(|k| m.contains(k))
}

/// Checks a loaded Elastic rule's query. `config` are fields named by the rule's settings.
pub fn check_rule(cx: &mut Cx, rule: &Rule, config: &[(usize, String)]) {
    let type_at = find_key(cx.text, "type").unwrap_or(0);
    let Some((_, query)) = rule.kind.query() else {
        cx.emit(
            "VC902",
            type_at,
            format!("Vigil does not run {} rules", rule.kind.type_name()),
        );
        return;
    };
    if let RuleKind::Other { rule_type, .. } = &rule.kind {
        cx.emit(
            "VC902",
            type_at,
            format!("Vigil does not run {rule_type} rules"),
        );
        return;
    }
    let map = rule_map(cx, rule, query).unwrap_or(QueryMap::verbatim(type_at));
    check_query(cx, rule, query, &map, config);
}

/// Plans the query and checks what it reads; `map` places query offsets in the file.
pub fn check_query(
    cx: &mut Cx,
    rule: &Rule,
    query: &str,
    map: &QueryMap,
    config: &[(usize, String)],
) {
    let schema = Schema::elastic();
    let planned = match &rule.kind {
        // The rule's own loader maps error spans only for verbatim text; plan the Kusto query
        // directly to keep the query-relative span.
        RuleKind::Sentinel(_) => vigil_kusto::lower_rule_query(query)
            .map_err(|e| (e.message, Some(e.span.range().start))),
        _ => rule.plan(schema).map(|p| p.plan).map_err(|e| {
            let rel = e.span.and_then(|s| {
                let q = rule.source.query_span.clone()?;
                // `Rule::plan` made the span absolute only for verbatim queries.
                (rule.source.query_verbatim && s.start >= q.start).then(|| s.start - q.start)
            });
            (e.message, rel)
        }),
    };
    let plan = match planned {
        Ok(p) => p,
        Err((message, rel)) => {
            let at = map.at(rel.unwrap_or(0));
            if message.starts_with("unknown column") {
                cx.emit("VC303", at, message);
            } else if is_unsupported(&message) {
                cx.emit(
                    "VC901",
                    at,
                    format!("Vigil cannot run this query: {message}"),
                );
            } else {
                cx.emit("VC201", at, message);
            }
            return;
        }
    };
    let defined = defined_names(&plan);
    let optional = optional_fields(query);
    let tables = table_columns(&plan);
    let mut seen = BTreeSet::new();
    let mut reads = Vec::new();
    collect_reads(&plan, &mut reads);
    for (name, span_at) in reads {
        let rel = name_offset(query, &name, span_at);
        if defined.contains(&name) || optional.contains(&name) || !seen.insert(name.clone()) {
            continue;
        }
        match &tables {
            Tables::Elastic => {
                if fields::checkable(schema, &name) && !fields::known(schema, &name) {
                    cx.emit(
                        "VC301",
                        map.at(rel),
                        format!("no bundled schema declares the field `{name}`"),
                    );
                }
            }
            Tables::Known(list) => {
                let column = name.split(['.', '[']).next().unwrap_or(&name);
                if !defined.contains(column) && !list.iter().any(|t| t.column(column).is_some()) {
                    let names: Vec<&str> = list.iter().map(|t| t.name.as_str()).collect();
                    cx.emit(
                        "VC303",
                        map.at(rel),
                        format!("{} has no column `{column}`", names.join(", ")),
                    );
                }
            }
            Tables::Unchecked => {}
        }
    }
    if matches!(tables, Tables::Elastic) {
        for (at, name) in config {
            if !defined.contains(name)
                && fields::checkable(schema, name)
                && !fields::known(schema, name)
            {
                cx.emit(
                    "VC302",
                    *at,
                    format!("no bundled schema declares the field `{name}`"),
                );
            }
        }
    }
    if let Some(maxspan) = max_maxspan(&plan)
        && maxspan > rule.schedule.lookback
    {
        let rel = query.find("maxspan").unwrap_or(0);
        cx.emit(
            "VC406",
            map.at(rel),
            format!(
                "maxspan {}s is longer than the look-back {}s: sequences longer than one run's window are missed",
                maxspan.as_secs(),
                rule.schedule.lookback.as_secs()
            ),
        );
    }
}

enum Tables {
    /// Elasticsearch sources: checked against the ECS and integration schemas.
    Elastic,
    /// Kusto sources, all of them tables with a bundled schema.
    Known(Vec<&'static TableSchema>),
    /// Some source has no bundled schema.
    Unchecked,
}

fn table_columns(plan: &Plan) -> Tables {
    let sources = all_sources(plan);
    if sources.iter().all(|s| s.kind == SourceKind::Elastic) {
        return Tables::Elastic;
    }
    let mut out = Vec::new();
    for s in sources {
        for n in &s.names {
            match Schema::table(n) {
                Some(t) => out.push(t),
                None => return Tables::Unchecked,
            }
        }
    }
    if out.is_empty() {
        Tables::Unchecked
    } else {
        Tables::Known(out)
    }
}

fn all_sources(plan: &Plan) -> Vec<&vigil_plan::Source> {
    let mut out = Vec::new();
    let mut stack = vec![plan];
    while let Some(p) = stack.pop() {
        if let Plan::Source(s) = p {
            out.push(s);
        }
        stack.extend(p.children());
    }
    out
}

/// Columns the query itself creates (EVAL, STATS, extend, summarize, parse, renames, let
/// tables): reading them is not reading a document field.
fn defined_names(plan: &Plan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![plan];
    while let Some(p) = stack.pop() {
        match p {
            Plan::Eval(e) => out.extend(e.assigns.iter().map(|a| a.name.clone())),
            Plan::Aggregate(a) => {
                out.extend(a.group_by.iter().map(|g| g.name.clone()));
                out.extend(a.aggs.iter().map(|c| c.name.clone()));
            }
            Plan::Extract(x) => out.extend(x.columns.iter().map(|(n, _)| n.clone())),
            Plan::Values(v) => out.extend(v.columns.iter().map(|(n, _)| n.clone())),
            Plan::Project(pr) => {
                for item in &pr.items {
                    if let ProjectItem::Rename { to, .. } = item {
                        out.insert(to.clone());
                    }
                }
            }
            _ => {}
        }
        stack.extend(p.children());
    }
    out
}

/// Every field read, with its query-relative offset, in plan order.
fn collect_reads(plan: &Plan, out: &mut Vec<(String, usize)>) {
    for child in plan.children() {
        collect_reads(child, out);
    }
    for e in plan.exprs() {
        collect_expr(e, out);
    }
}

fn collect_expr(e: &Expr, out: &mut Vec<(String, usize)>) {
    e.walk(&mut |x: &Expr| {
        if let ExprKind::Field(f) | ExprKind::Exists(f) = &x.kind {
            out.push((f.name.clone(), x.span.range().start));
        }
        if let ExprKind::AnyElement { field, .. } = &x.kind {
            out.push((field.name.clone(), x.span.range().start));
        }
    });
}

/// Where the field's name is written: front-ends may give a comparison's span the value's
/// position, so take the last occurrence of the name at or before the span, else the first.
fn name_offset(query: &str, name: &str, span_at: usize) -> usize {
    let upto = query
        .get(..(span_at + name.len()).min(query.len()))
        .unwrap_or(query);
    upto.rfind(name)
        .or_else(|| query.find(name))
        .unwrap_or(span_at)
}

/// EQL optional fields (`?field`): reading an absent one is allowed.
fn optional_fields(query: &str) -> BTreeSet<String> {
    let b = query.as_bytes();
    let mut out = BTreeSet::new();
    for (i, _) in query.match_indices('?') {
        if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
            continue;
        }
        let rest = &query[i + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@')))
            .unwrap_or(rest.len());
        if end > 0 {
            out.insert(rest[..end].to_string());
        }
    }
    out
}

fn max_maxspan(plan: &Plan) -> Option<jiff::SignedDuration> {
    let mut best = None;
    let mut stack = vec![plan];
    while let Some(p) = stack.pop() {
        if let Plan::Sequence(s) = p
            && let Some(m) = s.maxspan
        {
            best = Some(best.map_or(m, |b: jiff::SignedDuration| b.max(m)));
        }
        stack.extend(p.children());
    }
    best
}

/// The offset of a top-level `key =` line in TOML text.
fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_map_skips_escapes_and_indent() {
        // raw `a\\b` decodes to `a\b`; raw indentation disappears in a YAML block.
        let m = QueryMap::aligned(100, r"a\\b", r"a\b");
        assert_eq!(m.at(2), 103);
        let m = QueryMap::aligned(0, "x |\n    y", "x |\ny");
        assert_eq!(m.at(4), 8);
    }

    #[test]
    fn optional() {
        let o = optional_fields("process where ?process.parent.name == \"x\" and a ? b");
        assert!(o.contains("process.parent.name"));
        assert!(!o.contains("b"));
    }
}
