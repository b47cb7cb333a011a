//! Lowering a Kusto query to Vigil's plan IR.
//!
//! Kusto is column-typed: every tabular expression has a known, ordered schema, which lowering
//! tracks (a table's columns come from the [`TableCatalog`]). Semantics are made explicit in
//! the IR:
//!
//! - Operands are scalar ([`Quantifier::Scalar`]): a `dynamic` array is one value; null
//!   propagates through comparisons and `and`/`or` are Kleene, so `where` drops null rows.
//! - `==`, `!=`, `in`, `has_cs`, `contains_cs`, … are case-sensitive; `=~`, `!~`, `in~`, `has`,
//!   `contains`, `startswith`, … fold case. `has` is [`Pattern::HasTerm`] (Kusto's term rules).
//! - Strings are never null in Kusto: table rows carry `""` for empty string columns (the
//!   normalizers do this), outer joins fill the missing side's string columns with `""`, and
//!   the `kusto.*` string functions return `""` where Kusto does.
//! - `ago(x)` is `now() - x`; `now()` is the rule's execution time ([`ExprKind::Now`]).
//! - A column of the input shadows a `let` scalar of the same name; function parameters and
//!   locals shadow columns.
//! - Scalar subqueries (`toscalar(T)`, `x in (T)`, `has_any (T)`) become a left-outer join
//!   against the one-row subquery result, on a constant key.

use std::collections::HashMap;
use std::rc::Rc;

use jiff::SignedDuration;
use vigil_event::{DataType, Map, Value};
use vigil_plan::{
    AggCall, Aggregate, ArithOp, Assign, Case, CmpOp, Eval, Expr, ExprKind, Extract,
    ExtractPattern, Join, JoinKind, KustoParsePart, Limit, MatchOpts, MvExpand, Pattern, Plan,
    Project, ProjectItem, Quantifier, Sort, SortKey, SourceKind, Span, Union, Values,
};

use crate::ast::{self, BinOp, DynValue, ListOp, Lit, Operator, StrOpKind};
use crate::parse::{ParseError, parse};

/// A problem turning a query into a plan, at a span of the query text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LowerError {
    pub message: String,
    pub span: Span,
}

impl LowerError {
    fn new(message: impl Into<String>, span: Span) -> LowerError {
        LowerError {
            message: message.into(),
            span,
        }
    }
}

impl From<ParseError> for LowerError {
    fn from(e: ParseError) -> LowerError {
        LowerError {
            message: format!("syntax error: {}", e.message),
            span: e.span,
        }
    }
}

type LResult<T> = Result<T, LowerError>;

/// Table schemas a query may read: column names and types, in order.
#[derive(Clone, Debug, Default)]
pub struct TableCatalog {
    tables: HashMap<String, Vec<(String, DataType)>>,
    open: bool,
}

impl TableCatalog {
    pub fn new() -> TableCatalog {
        TableCatalog::default()
    }

    /// The built-in Sentinel and Defender tables (`AzureActivity`, `DeviceFileEvents`, …).
    pub fn sentinel() -> TableCatalog {
        let mut c = TableCatalog::new();
        for t in vigil_schema::Schema::tables() {
            c.add_table(
                &t.name,
                t.columns
                    .iter()
                    .map(|col| (col.name.clone(), col.ty))
                    .collect(),
            );
        }
        c
    }

    pub fn add_table(&mut self, name: &str, columns: Vec<(String, DataType)>) {
        self.tables.insert(name.to_string(), columns);
    }

    /// Unknown tables are accepted with an open schema: any column, of unknown type. For
    /// planning queries that read tables Vigil has no schema for.
    pub fn with_open_tables(mut self) -> TableCatalog {
        self.open = true;
        self
    }

    pub fn table(&self, name: &str) -> Option<&[(String, DataType)]> {
        self.tables.get(name).map(Vec::as_slice)
    }
}

/// Lowers a parsed query against a catalog.
pub fn lower(query: &ast::Query, catalog: &TableCatalog) -> Result<Plan, LowerError> {
    let mut l = Lowerer {
        catalog,
        scopes: vec![HashMap::new()],
        fresh: 0,
        pending: Vec::new(),
    };
    let tab = l.statements(&query.statements, Span::default())?;
    let mut plan = tab.plan;
    plan.assign_ids();
    Ok(plan)
}

/// Parses and lowers a rule's query against the built-in Sentinel/Defender tables.
pub fn lower_rule_query(text: &str) -> Result<Plan, LowerError> {
    let q = parse(text)?;
    lower(&q, &TableCatalog::sentinel())
}

// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Col {
    name: String,
    ty: DataType,
    /// The type field references declare (table columns: coerce stored values; computed: as is).
    field_ty: DataType,
}

/// A lowered tabular expression and its schema.
#[derive(Clone, Debug)]
struct Tab {
    plan: Plan,
    cols: Vec<Col>,
    /// Columns beyond `cols` may exist (a table without a schema).
    open: bool,
    /// A name for `union withsource`.
    name: Option<String>,
}

impl Tab {
    fn col(&self, name: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.name == name)
    }
}

struct FnDef {
    params: Vec<ast::Param>,
    body: Vec<ast::Statement>,
}

#[derive(Clone)]
enum Binding {
    Scalar {
        expr: Expr,
        ty: DataType,
        local: bool,
    },
    Tabular(Tab),
    Function(Rc<FnDef>),
    /// `let x = toscalar(T)`: the first column of T's first row.
    Subquery(Tab),
}

/// A scalar subquery to join in before the operator that uses it.
struct Pending {
    column: String,
    tab: Tab,
}

struct Lowerer<'c> {
    catalog: &'c TableCatalog,
    scopes: Vec<HashMap<String, Binding>>,
    fresh: usize,
    pending: Vec<Pending>,
}

fn span_of(e: &ast::Expr) -> Span {
    e.span()
}

fn lit(v: impl Into<Value>, span: Span) -> Expr {
    Expr::literal(v, span)
}

fn field(name: &str, ty: DataType, span: Span) -> Expr {
    Expr::field(name, ty, span)
}

fn call(name: &str, args: Vec<Expr>, span: Span) -> Expr {
    Expr::call(name, args, span)
}

fn opts(case: Case) -> MatchOpts {
    MatchOpts {
        case,
        quant: Quantifier::Scalar,
        lenient: false,
    }
}

/// Kusto type names to IR types.
fn kusto_type(name: &str) -> Option<DataType> {
    Some(match name.to_ascii_lowercase().as_str() {
        "string" | "guid" | "uniqueid" => DataType::String,
        "int" | "long" | "int32" | "int64" => DataType::Long,
        "real" | "double" | "decimal" | "float" => DataType::Double,
        "bool" | "boolean" => DataType::Boolean,
        "datetime" | "date" => DataType::Date,
        "timespan" | "time" => DataType::Duration,
        "dynamic" => DataType::Dynamic,
        _ => return None,
    })
}

fn dyn_to_value(d: &DynValue) -> Value {
    match d {
        DynValue::Null => Value::Null,
        DynValue::Bool(b) => Value::Bool(*b),
        DynValue::Int(i) => Value::Int(*i),
        DynValue::Real(v) => Value::Float(*v),
        DynValue::Str(s) => Value::from(s.as_str()),
        DynValue::DateTime(raw) => parse_datetime(raw).map_or(Value::Null, Value::Date),
        DynValue::Timespan(n) => duration(*n),
        DynValue::Array(items) => Value::Array(items.iter().map(dyn_to_value).collect()),
        DynValue::Object(members) => {
            let mut m = Map::new();
            for (k, v) in members {
                m.insert(k.as_str().into(), dyn_to_value(v));
            }
            Value::Object(m)
        }
    }
}

fn duration(nanos: i128) -> Value {
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000);
    match i64::try_from(secs) {
        Ok(s) => Value::Duration(SignedDuration::new(s, sub as i32)),
        Err(_) => Value::Null,
    }
}

/// Kusto datetime literal text: ISO 8601 with a space or `T`, optional zone (UTC when absent),
/// and a few .NET-accepted forms (`2016-02-17`, `02/17/2016 08:40:01`).
pub(crate) fn parse_datetime(raw: &str) -> Option<jiff::Timestamp> {
    let t = raw.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("null") {
        return None;
    }
    if let Ok(ts) = vigil_event::parse_rfc3339(t) {
        return Some(ts);
    }
    // M/D/YYYY [h:mm[:ss]]
    let (date, time) = t.split_once(' ').unwrap_or((t, "00:00:00"));
    let parts: Vec<&str> = date.split('/').collect();
    if parts.len() == 3 {
        let iso = format!(
            "{:0>4}-{:0>2}-{:0>2}T{}",
            parts[2],
            parts[0],
            parts[1],
            if time.matches(':').count() == 1 {
                format!("{time}:00")
            } else {
                time.to_string()
            }
        );
        return vigil_event::parse_rfc3339(&iso).ok();
    }
    None
}

/// Functions whose result keeps the name of their single column argument.
const NAME_PRESERVING: &[&str] = &[
    "bin",
    "floor",
    "tostring",
    "toint",
    "tolong",
    "todouble",
    "toreal",
    "todatetime",
    "tolower",
    "toupper",
    "todynamic",
    "tobool",
    "totimespan",
    "bin_at",
];

/// Aggregate function names Kusto accepts in `summarize`.
const AGGREGATES: &[&str] = &[
    "count",
    "countif",
    "dcount",
    "dcountif",
    "sum",
    "sumif",
    "avg",
    "avgif",
    "min",
    "max",
    "minif",
    "maxif",
    "make_set",
    "make_set_if",
    "make_list",
    "make_list_if",
    "makeset",
    "makelist",
    "any",
    "take_any",
    "anyif",
    "take_anyif",
    "arg_max",
    "arg_min",
    "make_bag",
    "percentile",
    "percentiles",
    "stdev",
    "variance",
    "count_distinct",
    "hll",
    "tdigest",
    "make_list_with_nulls",
    "binary_all_or",
    "binary_all_and",
];

fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

/// The column name Kusto infers for an unnamed expression, if it has one.
fn inferred_name(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ast::ExprKind::Name(i) => Some(i.name.clone()),
        ast::ExprKind::Member { expr, name } => {
            inferred_name(expr).map(|base| format!("{base}_{}", name.name))
        }
        ast::ExprKind::Call { name, args }
            if NAME_PRESERVING.contains(&name.name.as_str()) && !args.is_empty() =>
        {
            inferred_name(&args[0])
        }
        _ => None,
    }
}

/// `base`, or `base1`, `base2`, … — the first name not taken.
fn unique_name(base: &str, taken: &dyn Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| base.to_string())
}

fn wildcard(pattern: &str, name: &str) -> bool {
    vigil_event::wildcard_match(pattern, name)
}

impl Lowerer<'_> {
    fn tmp(&mut self, what: &str) -> String {
        self.fresh += 1;
        format!("__{what}{}", self.fresh)
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn bind(&mut self, name: &str, b: Binding) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_string(), b);
        }
    }

    // --- statements ------------------------------------------------------------------------

    fn statements(&mut self, stmts: &[ast::Statement], span: Span) -> LResult<Tab> {
        let mut result = None;
        for s in stmts {
            match s {
                ast::Statement::Let { name, value } => self.let_stmt(&name.name, value)?,
                ast::Statement::Set { .. } => {}
                ast::Statement::Expr(e) => result = Some(self.tabular(e)?),
            }
        }
        result.ok_or_else(|| LowerError::new("the query has no tabular expression", span))
    }

    fn let_stmt(&mut self, name: &str, value: &ast::LetValue) -> LResult<()> {
        let local = self.scopes.len() > 1;
        match value {
            ast::LetValue::Function { params, body } => {
                let def = Rc::new(FnDef {
                    params: params.clone(),
                    body: body.clone(),
                });
                self.bind(name, Binding::Function(def));
            }
            ast::LetValue::Expr(e) => {
                if let ast::ExprKind::Call { name: f, args } = &e.kind
                    && f.name == "toscalar"
                    && args.len() == 1
                {
                    let tab = self.tabular(&args[0])?;
                    self.bind(name, Binding::Subquery(tab));
                } else if self.is_tabular(e) {
                    let mut tab = self.tabular(e)?;
                    tab.name.get_or_insert_with(|| name.to_string());
                    self.bind(name, Binding::Tabular(tab));
                } else {
                    let empty = Tab {
                        plan: Plan::Values(Values {
                            columns: vec![],
                            rows: vec![],
                            span: Span::default(),
                        }),
                        cols: vec![],
                        open: false,
                        name: None,
                    };
                    let (expr, ty) = self.scalar(e, &empty)?;
                    if !self.pending.is_empty() {
                        return Err(LowerError::new(
                            "a subquery in a scalar `let` is not supported; use toscalar()",
                            e.span(),
                        ));
                    }
                    self.bind(name, Binding::Scalar { expr, ty, local });
                }
            }
        }
        Ok(())
    }

    /// True when `e` denotes a table rather than a scalar.
    fn is_tabular(&self, e: &ast::Expr) -> bool {
        use ast::ExprKind as K;
        match &e.kind {
            K::Pipe { .. }
            | K::Datatable { .. }
            | K::ExternalData { .. }
            | K::Print(_)
            | K::Range { .. }
            | K::Union(_) => true,
            K::Name(i) => match self.lookup(&i.name) {
                Some(Binding::Tabular(_)) => true,
                Some(_) => false,
                None => {
                    self.catalog.table(&i.name).is_some()
                        || (self.catalog.open && i.name.starts_with(|c: char| c.is_uppercase()))
                }
            },
            K::Call { name, args } => match name.name.as_str() {
                "materialize" | "view" => true,
                "toscalar" => false,
                _ => match self.lookup(&name.name) {
                    Some(Binding::Function(f)) => {
                        f.body
                            .iter()
                            .rev()
                            .find_map(|s| match s {
                                ast::Statement::Expr(e) => Some(self.is_tabular(e)),
                                _ => None,
                            })
                            .unwrap_or(false)
                            || args.iter().any(|a| self.is_tabular(a))
                    }
                    _ => false,
                },
            },
            _ => false,
        }
    }

    // --- tabular expressions ---------------------------------------------------------------

    fn tabular(&mut self, e: &ast::Expr) -> LResult<Tab> {
        use ast::ExprKind as K;
        let span = e.span();
        match &e.kind {
            K::Name(i) => self.table_ref(&i.name, span),
            K::Pipe { input, op } => {
                let t = self.tabular(input)?;
                self.operator(t, op, span)
            }
            K::Datatable { columns, values } => self.datatable(columns, values, span),
            K::Print(items) => {
                let t = one_empty_row(span);
                self.extend(t, items, span, "print_")
            }
            K::Range {
                column,
                from,
                to,
                step,
            } => {
                let t = one_empty_row(span);
                let (f, ty) = self.scalar(from, &t)?;
                let (to_e, _) = self.scalar(to, &t)?;
                let (st, _) = self.scalar(step, &t)?;
                let name = column.name.clone();
                let plan = Plan::Eval(Eval {
                    input: Box::new(t.plan),
                    assigns: vec![Assign {
                        name: name.clone(),
                        expr: call("kusto.range", vec![f, to_e, st], span),
                    }],
                });
                let plan = Plan::MvExpand(MvExpand {
                    input: Box::new(plan),
                    column: name.clone(),
                    limit: None,
                });
                Ok(Tab {
                    plan,
                    cols: vec![Col {
                        name,
                        ty,
                        field_ty: DataType::Dynamic,
                    }],
                    open: false,
                    name: None,
                })
            }
            K::Union(spec) => {
                let inputs = spec
                    .tables
                    .iter()
                    .map(|t| self.tabular(t))
                    .collect::<LResult<Vec<_>>>()?;
                self.union(inputs, &spec.params, span)
            }
            K::ExternalData { columns, urls, .. } => {
                // The runtime supplies the rows (or none); the schema is declared here.
                let cols = columns
                    .iter()
                    .map(|c| Col {
                        name: c.name.name.clone(),
                        ty: kusto_type(&c.ty).unwrap_or(DataType::Unknown),
                        field_ty: kusto_type(&c.ty).unwrap_or(DataType::Unknown),
                    })
                    .collect();
                Ok(Tab {
                    plan: Plan::source(
                        SourceKind::Table,
                        vec![format!("externaldata:{}", urls.join(","))],
                        span,
                    ),
                    cols,
                    open: false,
                    name: None,
                })
            }
            K::Call { name, args } => match name.name.as_str() {
                "materialize" | "view" if args.len() == 1 => self.tabular(&args[0]),
                fname => match self.lookup(fname).cloned() {
                    Some(Binding::Function(def)) => self.invoke(&def, args, None, span),
                    _ => Err(LowerError::new(
                        format!("`{fname}(…)` is not a tabular function"),
                        span,
                    )),
                },
            },
            _ => Err(LowerError::new("expected a tabular expression", span)),
        }
    }

    fn table_ref(&mut self, name: &str, span: Span) -> LResult<Tab> {
        match self.lookup(name).cloned() {
            Some(Binding::Tabular(t)) => return Ok(t),
            Some(Binding::Function(def)) if def.params.is_empty() => {
                return self.invoke(&def, &[], None, span);
            }
            Some(_) => {
                return Err(LowerError::new(
                    format!("`{name}` is a scalar, not a table"),
                    span,
                ));
            }
            None => {}
        }
        if let Some(cols) = self.catalog.table(name) {
            return Ok(Tab {
                plan: Plan::source(SourceKind::Table, vec![name.to_string()], span),
                cols: cols
                    .iter()
                    .map(|(n, t)| Col {
                        name: n.clone(),
                        ty: *t,
                        field_ty: *t,
                    })
                    .collect(),
                open: false,
                name: Some(name.to_string()),
            });
        }
        if self.catalog.open {
            return Ok(Tab {
                plan: Plan::source(SourceKind::Table, vec![name.to_string()], span),
                cols: vec![],
                open: true,
                name: Some(name.to_string()),
            });
        }
        Err(LowerError::new(format!("unknown table `{name}`"), span))
    }

    /// Calls a user-defined function: scalar arguments are bound as locals, tabular ones as
    /// tables; `input` is the piped table for `invoke`.
    fn invoke(
        &mut self,
        def: &FnDef,
        args: &[ast::Expr],
        input: Option<Tab>,
        span: Span,
    ) -> LResult<Tab> {
        let mut scope = HashMap::new();
        let mut args_iter = args.iter();
        let empty = one_empty_row(span);
        for (i, p) in def.params.iter().enumerate() {
            match &p.ty {
                ast::ParamType::Tabular(_) => {
                    let tab = if i == 0
                        && let Some(t) = &input
                    {
                        t.clone()
                    } else {
                        match args_iter.next() {
                            Some(a) => self.tabular(a)?,
                            None => {
                                return Err(LowerError::new(
                                    format!("missing tabular argument `{}`", p.name.name),
                                    span,
                                ));
                            }
                        }
                    };
                    scope.insert(p.name.name.clone(), Binding::Tabular(tab));
                }
                ast::ParamType::Scalar(t) => {
                    let value = match args_iter.next().or(p.default.as_ref()) {
                        Some(a) => self.scalar(a, &empty)?,
                        None => {
                            return Err(LowerError::new(
                                format!("missing argument `{}`", p.name.name),
                                span,
                            ));
                        }
                    };
                    let ty = kusto_type(t).unwrap_or(value.1);
                    scope.insert(
                        p.name.name.clone(),
                        Binding::Scalar {
                            expr: value.0,
                            ty,
                            local: true,
                        },
                    );
                }
            }
        }
        self.scopes.push(scope);
        let r = self.statements(&def.body, span);
        self.scopes.pop();
        r
    }

    fn datatable(
        &mut self,
        columns: &[ast::ColumnDecl],
        values: &[ast::Expr],
        span: Span,
    ) -> LResult<Tab> {
        let mut cols = Vec::new();
        for c in columns {
            let ty = kusto_type(&c.ty).ok_or_else(|| {
                LowerError::new(format!("unknown type `{}`", c.ty), c.name.span.0)
            })?;
            cols.push((c.name.name.clone(), ty));
        }
        if cols.is_empty() || !values.len().is_multiple_of(cols.len()) {
            return Err(LowerError::new(
                "datatable values do not fill whole rows",
                span,
            ));
        }
        let empty = one_empty_row(span);
        let mut rows = Vec::new();
        for chunk in values.chunks(cols.len()) {
            let mut row = Vec::new();
            for (v, (_, ty)) in chunk.iter().zip(&cols) {
                let (e, _) = self.scalar(v, &empty)?;
                row.push(cast_to(e, *ty));
            }
            rows.push(row);
        }
        Ok(Tab {
            plan: Plan::Values(Values {
                columns: cols.clone(),
                rows,
                span,
            }),
            cols: cols
                .into_iter()
                .map(|(name, ty)| Col {
                    name,
                    ty,
                    field_ty: DataType::Dynamic,
                })
                .collect(),
            open: false,
            name: None,
        })
    }

    // --- operators -------------------------------------------------------------------------

    fn operator(&mut self, t: Tab, op: &Operator, span: Span) -> LResult<Tab> {
        match op {
            Operator::Where(pred) => {
                let (p, _) = self.scalar(pred, &t)?;
                let t = self.flush_pending(t, span)?;
                let plan = t
                    .plan
                    .clone()
                    .filter(p)
                    .map_err(|e| LowerError::new(e.message, e.span))?;
                Ok(self.drop_helpers(Tab { plan, ..t }))
            }
            Operator::Extend(items) => {
                let t = self.extend(t, items, span, "Column")?;
                Ok(self.drop_helpers(t))
            }
            Operator::Project(items) => self.project(t, items, span),
            Operator::ProjectAway(pats) => {
                let open = t.open;
                let keep: Vec<(String, String)> = t
                    .cols
                    .iter()
                    .filter(|c| !pats.iter().any(|p| wildcard(&p.name, &c.name)))
                    .map(|c| (c.name.clone(), c.name.clone()))
                    .collect();
                let mut out = self.select(t, &keep);
                out.open = open;
                Ok(out)
            }
            Operator::ProjectKeep(pats) => {
                let keep: Vec<(String, String)> = t
                    .cols
                    .iter()
                    .filter(|c| pats.iter().any(|p| wildcard(&p.name, &c.name)))
                    .map(|c| (c.name.clone(), c.name.clone()))
                    .collect();
                Ok(self.select(t, &keep))
            }
            Operator::ProjectReorder(pats) => {
                let mut order: Vec<(String, String)> = Vec::new();
                for p in pats {
                    for c in &t.cols {
                        if wildcard(&p.name, &c.name) && !order.iter().any(|(n, _)| *n == c.name) {
                            order.push((c.name.clone(), c.name.clone()));
                        }
                    }
                }
                for c in &t.cols {
                    if !order.iter().any(|(n, _)| *n == c.name) {
                        order.push((c.name.clone(), c.name.clone()));
                    }
                }
                let open = t.open;
                let mut out = self.select(t, &order);
                out.open = open;
                Ok(out)
            }
            Operator::ProjectRename(pairs) => {
                let mut order: Vec<(String, String)> = t
                    .cols
                    .iter()
                    .map(|c| (c.name.clone(), c.name.clone()))
                    .collect();
                for (to, from) in pairs {
                    match order.iter_mut().find(|(_, src)| *src == from.name) {
                        Some(slot) => slot.0 = to.name.clone(),
                        None if t.open => order.push((to.name.clone(), from.name.clone())),
                        None => {
                            return Err(LowerError::new(
                                format!("unknown column `{}`", from.name),
                                from.span.0,
                            ));
                        }
                    }
                }
                let open = t.open;
                let mut out = self.select(t, &order);
                out.open = open;
                Ok(out)
            }
            Operator::Summarize { aggs, by, .. } => self.summarize(t, aggs, by, span),
            Operator::Distinct(items) => {
                let keys: Vec<ast::NamedExpr> =
                    if items.len() == 1 && matches!(items[0].expr.kind, ast::ExprKind::Star) {
                        t.cols
                            .iter()
                            .map(|c| ast::NamedExpr {
                                names: vec![],
                                expr: ast::Expr::new(
                                    ast::ExprKind::Name(ast::Ident::new(c.name.clone())),
                                    span,
                                ),
                            })
                            .collect()
                    } else {
                        items.clone()
                    };
                self.summarize(t, &[], &keys, span)
            }
            Operator::Count => {
                let plan = Plan::Aggregate(Aggregate {
                    input: Box::new(t.plan),
                    group_by: vec![],
                    aggs: vec![AggCall {
                        name: "Count".into(),
                        func: "count_rows".into(),
                        args: vec![],
                        filter: None,
                        span,
                    }],
                    inline: false,
                    expand_multi_valued_keys: false,
                });
                Ok(Tab {
                    plan,
                    cols: vec![computed("Count", DataType::Long)],
                    open: false,
                    name: None,
                })
            }
            Operator::Take { n, .. } | Operator::Sample(n) => {
                let n = self.const_count(n, &t)?;
                Ok(Tab {
                    plan: Plan::Limit(Limit {
                        input: Box::new(t.plan),
                        n,
                        from_end: false,
                    }),
                    ..t
                })
            }
            Operator::Top { n, by } => {
                let count = self.const_count(n, &t)?;
                let t = self.sort(t, std::slice::from_ref(by), span)?;
                Ok(Tab {
                    plan: Plan::Limit(Limit {
                        input: Box::new(t.plan),
                        n: count,
                        from_end: false,
                    }),
                    ..t
                })
            }
            Operator::Sort { keys, .. } => self.sort(t, keys, span),
            Operator::Join { params, right, on } => {
                let kind = param_name(params, "kind").unwrap_or_else(|| "innerunique".into());
                let r = self.tabular(right)?;
                self.join(t, r, &kind, on, span, false)
            }
            Operator::Lookup { params, right, on } => {
                let kind = param_name(params, "kind").unwrap_or_else(|| "leftouter".into());
                let r = self.tabular(right)?;
                self.join(t, r, &kind, on, span, true)
            }
            Operator::Union(spec) => {
                let mut inputs = vec![t];
                for e in &spec.tables {
                    inputs.push(self.tabular(e)?);
                }
                self.union(inputs, &spec.params, span)
            }
            Operator::MvExpand {
                params,
                items,
                limit,
            } => {
                let limit = limit
                    .as_ref()
                    .map(|l| self.const_count(l, &t))
                    .transpose()?;
                self.mv_expand(t, params, items, limit, span)
            }
            Operator::MvApply {
                params,
                items,
                body,
            } => {
                let mut t = self.mv_expand(t, params, items, None, span)?;
                for op in body {
                    if !matches!(
                        op,
                        Operator::Where(_)
                            | Operator::Extend(_)
                            | Operator::Project(_)
                            | Operator::ProjectAway(_)
                            | Operator::ProjectRename(_)
                    ) {
                        return Err(LowerError::new(
                            format!(
                                "mv-apply with `{}` in its subquery is not supported (row-wise \
                                 operators only)",
                                op.to_string().split(' ').next().unwrap_or("?")
                            ),
                            span,
                        ));
                    }
                    t = self.operator(t, op, span)?;
                }
                Ok(t)
            }
            Operator::Parse {
                where_only,
                params,
                source,
                parts,
            } => self.parse_op(t, *where_only, params, source, parts, span),
            Operator::MakeSeries {
                aggs,
                on,
                from,
                to,
                step,
                by,
                ..
            } => self.make_series(t, aggs, on, from.as_ref(), to.as_ref(), step, by, span),
            Operator::As(_) | Operator::Serialize(_) | Operator::Render(_) => Ok(t),
            Operator::Invoke(e) => match &e.kind {
                ast::ExprKind::Call { name, args } => match self.lookup(&name.name).cloned() {
                    Some(Binding::Function(def)) => self.invoke(&def, args, Some(t), span),
                    _ => Err(LowerError::new(
                        format!("unknown function `{}`", name.name),
                        span,
                    )),
                },
                _ => Err(LowerError::new("invoke needs a function call", span)),
            },
            Operator::Evaluate(e) => Err(LowerError::new(
                format!("evaluate plugins are not supported (`{e}`)"),
                span,
            )),
            Operator::Getschema => Err(LowerError::new("getschema is not supported", span)),
        }
    }

    fn const_count(&mut self, e: &ast::Expr, t: &Tab) -> LResult<u64> {
        let (v, _) = self.scalar(e, t)?;
        match v.kind {
            ExprKind::Literal(Value::Int(n)) if n >= 0 => Ok(n as u64),
            _ => Err(LowerError::new("expected a constant row count", e.span())),
        }
    }

    /// Adds or replaces columns; unnamed items get inferred names (`Column1`, `print_0`).
    fn extend(&mut self, t: Tab, items: &[ast::NamedExpr], span: Span, auto: &str) -> LResult<Tab> {
        let replaces = items
            .iter()
            .any(|i| i.names.iter().any(|n| t.col(&n.name).is_some()));
        let mut cur = t;
        let mut assigns = Vec::new();
        let mut auto_n = 0;
        for item in items {
            let (e, ty) = self.scalar(&item.expr, &cur)?;
            if item.names.len() > 1 {
                // `(a, b) = f(…)`: f returns an array of the values.
                let tmp = self.tmp("tuple");
                assigns.push(Assign {
                    name: tmp.clone(),
                    expr: e,
                });
                for (i, n) in item.names.iter().enumerate() {
                    assigns.push(Assign {
                        name: n.name.clone(),
                        expr: Expr::new(
                            ExprKind::Call {
                                func: "kusto.index".into(),
                                args: vec![
                                    field(&tmp, DataType::Dynamic, span),
                                    lit(i as i64, span),
                                ],
                            },
                            span,
                        ),
                    });
                    set_col(&mut cur.cols, &n.name, DataType::Dynamic);
                }
                continue;
            }
            let name = match item.names.first() {
                Some(n) => n.name.clone(),
                None => match inferred_name(&item.expr) {
                    Some(n) if auto != "print_" => n,
                    _ => {
                        let n = if auto == "print_" {
                            format!("print_{auto_n}")
                        } else {
                            unique_name("Column1", &|n| cur.col(n).is_some())
                        };
                        auto_n += 1;
                        n
                    }
                },
            };
            assigns.push(Assign {
                name: name.clone(),
                expr: e,
            });
            set_col(&mut cur.cols, &name, ty);
        }
        let cur = self.flush_pending(cur, span)?;
        let plan = Plan::Eval(Eval {
            input: Box::new(cur.plan),
            assigns,
        });
        let mut out = Tab { plan, ..cur };
        // A tuple's carrier column is internal.
        let helpers: Vec<String> = out
            .cols
            .iter()
            .filter(|c| c.name.starts_with("__tuple"))
            .map(|c| c.name.clone())
            .collect();
        if !helpers.is_empty() {
            out.cols.retain(|c| !c.name.starts_with("__tuple"));
        }
        // A replaced column keeps its place (the executor appends assignments).
        if replaces || !helpers.is_empty() {
            let open = out.open;
            let pairs: Vec<(String, String)> = out
                .cols
                .iter()
                .map(|c| (c.name.clone(), c.name.clone()))
                .collect();
            out = self.select(out, &pairs);
            out.open = open;
        }
        Ok(out)
    }

    /// Rebuilds the columns as `(new name, current name)` pairs, in order.
    fn select(&mut self, t: Tab, pairs: &[(String, String)]) -> Tab {
        let span = Span::default();
        let mut assigns = Vec::new();
        let mut items = Vec::new();
        // Drop everything first so the output holds exactly the listed columns, in order
        // (internal `__…` columns included).
        items.push(ProjectItem::Drop("__*".into()));
        for c in &t.cols {
            items.push(ProjectItem::Drop(c.name.clone()));
        }
        let mut cols = Vec::new();
        for (to, from) in pairs {
            let src = t
                .col(from)
                .cloned()
                .unwrap_or_else(|| computed(from, DataType::Unknown));
            if to == from {
                items.push(ProjectItem::Keep(to.clone()));
                cols.push(src);
            } else {
                // Renames go through a copy so that swaps (`a = b, b = a`) stay correct.
                let tmp = self.tmp("sel");
                assigns.push(Assign {
                    name: tmp.clone(),
                    expr: field(from, src.field_ty, span),
                });
                items.push(ProjectItem::Rename {
                    from: tmp,
                    to: to.clone(),
                });
                cols.push(Col {
                    name: to.clone(),
                    ty: src.ty,
                    field_ty: DataType::Dynamic,
                });
            }
        }
        let mut plan = t.plan;
        if !assigns.is_empty() {
            plan = Plan::Eval(Eval {
                input: Box::new(plan),
                assigns,
            });
        }
        Tab {
            plan: Plan::Project(Project {
                input: Box::new(plan),
                items,
            }),
            cols,
            open: false,
            name: t.name,
        }
    }

    fn project(&mut self, t: Tab, items: &[ast::NamedExpr], span: Span) -> LResult<Tab> {
        let mut assigns = Vec::new();
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut types: HashMap<String, DataType> = HashMap::new();
        for item in items {
            if let ast::ExprKind::Star = item.expr.kind {
                for c in &t.cols {
                    pairs.push((c.name.clone(), c.name.clone()));
                }
                continue;
            }
            let bare = item.expr.as_name().filter(|n| t.col(n).is_some() || t.open);
            match (item.names.first(), bare) {
                (None, Some(n)) => {
                    if t.col(n).is_none() {
                        types.insert(n.to_string(), DataType::Unknown);
                    }
                    pairs.push((n.to_string(), n.to_string()));
                }
                _ => {
                    let (e, ty) = self.scalar(&item.expr, &t)?;
                    let name = match item.names.first() {
                        Some(n) => n.name.clone(),
                        None => inferred_name(&item.expr).unwrap_or_else(|| {
                            unique_name("Column1", &|n| pairs.iter().any(|(p, _)| p == n))
                        }),
                    };
                    let tmp = self.tmp("proj");
                    assigns.push(Assign {
                        name: tmp.clone(),
                        expr: e,
                    });
                    types.insert(tmp.clone(), ty);
                    pairs.retain(|(p, _)| *p != name);
                    pairs.push((name, tmp));
                }
            }
        }
        let mut t = self.flush_pending(t, span)?;
        if !assigns.is_empty() {
            for a in &assigns {
                t.cols.push(computed(
                    &a.name,
                    types.get(&a.name).copied().unwrap_or(DataType::Unknown),
                ));
            }
            t.plan = Plan::Eval(Eval {
                input: Box::new(t.plan),
                assigns,
            });
        }
        for (n, ty) in types {
            if t.col(&n).is_none() {
                t.cols.push(computed(&n, ty));
            }
        }
        Ok(self.select(t, &pairs))
    }

    fn sort(&mut self, t: Tab, keys: &[ast::SortKey], span: Span) -> LResult<Tab> {
        let mut out = Vec::new();
        for k in keys {
            let (e, _) = self.scalar(&k.expr, &t)?;
            // Kusto sorts descending by default; nulls go first ascending, last descending.
            let ascending = k.asc.unwrap_or(false);
            out.push(SortKey {
                expr: e,
                ascending,
                nulls_first: k.nulls_first.unwrap_or(ascending),
            });
        }
        let t = self.flush_pending(t, span)?;
        Ok(Tab {
            plan: Plan::Sort(Sort {
                input: Box::new(t.plan.clone()),
                keys: out,
            }),
            ..t
        })
    }

    // --- summarize -------------------------------------------------------------------------

    fn summarize(
        &mut self,
        t: Tab,
        aggs: &[ast::NamedExpr],
        by: &[ast::NamedExpr],
        span: Span,
    ) -> LResult<Tab> {
        let mut group_by = Vec::new();
        let mut out_cols: Vec<Col> = Vec::new();
        let mut col_n = 0;
        for k in by {
            let (e, ty) = self.scalar(&k.expr, &t)?;
            let name = match k.names.first() {
                Some(n) => n.name.clone(),
                None => inferred_name(&k.expr).unwrap_or_else(|| {
                    col_n += 1;
                    format!("Column{col_n}")
                }),
            };
            let name = unique_name(&name, &|n| out_cols.iter().any(|c| c.name == n));
            group_by.push(Assign {
                name: name.clone(),
                expr: e,
            });
            out_cols.push(computed(&name, ty));
        }
        let key_names: Vec<String> = out_cols.iter().map(|c| c.name.clone()).collect();
        let mut calls = Vec::new();
        // Post-aggregation steps: (output name, expression over aggregate columns).
        let mut post: Vec<(String, Expr, DataType)> = Vec::new();
        let mut agg_cols: Vec<Col> = Vec::new();
        for item in aggs {
            let explicit = item.names.first().map(|n| n.name.clone());
            if let ast::ExprKind::Call { name, args } = &item.expr.kind
                && matches!(name.name.as_str(), "arg_max" | "arg_min")
            {
                self.arg_extreme(
                    &t,
                    &name.name,
                    args,
                    explicit,
                    &key_names,
                    &mut calls,
                    &mut post,
                    &mut agg_cols,
                    &out_cols,
                    span,
                )?;
                continue;
            }
            if let ast::ExprKind::Call { name, args } = &item.expr.kind
                && is_aggregate(&name.name)
            {
                let default = default_agg_name(&name.name, args);
                let taken = |n: &str| {
                    out_cols.iter().any(|c| c.name == n) || agg_cols.iter().any(|c| c.name == n)
                };
                let out = explicit.unwrap_or_else(|| unique_name(&default, &taken));
                let (c, ty) = self.agg_call(&t, &name.name, args, &out, item.expr.span())?;
                calls.push(c);
                agg_cols.push(computed(&out, ty));
                continue;
            }
            // An expression over aggregates: aggregate into temporaries, compute after.
            let out = explicit.unwrap_or_else(|| {
                unique_name("Column1", &|n| agg_cols.iter().any(|c| c.name == n))
            });
            let mut inner = Vec::new();
            let e = self.agg_expr(&t, &item.expr, &mut inner)?;
            calls.extend(inner);
            post.push((out.clone(), e, DataType::Unknown));
            agg_cols.push(computed(&out, DataType::Unknown));
        }
        // `arg_max(x, *)` over a table without a schema returns columns nobody declared.
        let open_out = t.open
            && aggs.iter().any(|a| {
                matches!(&a.expr.kind, ast::ExprKind::Call { args, .. }
                    if args.iter().any(|x| matches!(x.kind, ast::ExprKind::Star)))
            });
        let t = self.flush_pending(t, span)?;
        let mut plan = Plan::Aggregate(Aggregate {
            input: Box::new(t.plan),
            group_by,
            aggs: calls,
            inline: false,
            expand_multi_valued_keys: false,
        });
        out_cols.extend(agg_cols);
        let mut tab = Tab {
            plan: Plan::Values(Values {
                columns: vec![],
                rows: vec![],
                span,
            }),
            cols: vec![],
            open: false,
            name: None,
        };
        tab.open = open_out;
        if post.is_empty() {
            tab.plan = plan;
            tab.cols = out_cols;
            return Ok(tab);
        }
        plan = Plan::Eval(Eval {
            input: Box::new(plan),
            assigns: post
                .iter()
                .map(|(n, e, _)| Assign {
                    name: n.clone(),
                    expr: e.clone(),
                })
                .collect(),
        });
        // Keep exactly the declared columns, in order (temporaries dropped).
        let mut all: Vec<Col> = out_cols.clone();
        for (n, _, ty) in &post {
            set_col(&mut all, n, *ty);
        }
        tab.plan = plan;
        tab.cols = all;
        let pairs: Vec<(String, String)> = out_cols
            .iter()
            .map(|c| (c.name.clone(), c.name.clone()))
            .collect();
        let mut out = self.select(tab, &pairs);
        out.open = open_out;
        Ok(out)
    }

    /// `arg_max(by, cols…)`: one aggregate returning `[by, col1, …]` of the row with the
    /// greatest `by`, spread into columns afterwards.
    #[allow(clippy::too_many_arguments)]
    fn arg_extreme(
        &mut self,
        t: &Tab,
        fname: &str,
        args: &[ast::Expr],
        explicit: Option<String>,
        key_names: &[String],
        calls: &mut Vec<AggCall>,
        post: &mut Vec<(String, Expr, DataType)>,
        agg_cols: &mut Vec<Col>,
        out_cols: &[Col],
        span: Span,
    ) -> LResult<()> {
        let Some(first) = args.first() else {
            return Err(LowerError::new(format!("{fname} needs arguments"), span));
        };
        let (by_e, by_ty) = self.scalar(first, t)?;
        let by_name = explicit
            .clone()
            .or_else(|| inferred_name(first))
            .unwrap_or_else(|| format!("{}_", if fname == "arg_max" { "max" } else { "min" }));
        let mut values = vec![by_e];
        let mut names = vec![(by_name.clone(), by_ty)];
        for a in &args[1..] {
            if let ast::ExprKind::Star = a.kind {
                for c in &t.cols {
                    if key_names.contains(&c.name)
                        || names.iter().any(|(n, _)| *n == c.name)
                        || (explicit.is_none() && Some(&c.name) == inferred_name(first).as_ref())
                    {
                        continue;
                    }
                    values.push(field(&c.name, c.field_ty, span));
                    names.push((c.name.clone(), c.ty));
                }
                continue;
            }
            let (e, ty) = self.scalar(a, t)?;
            let n = inferred_name(a).unwrap_or_else(|| self.tmp("arg"));
            values.push(e);
            names.push((n, ty));
        }
        let carrier = self.tmp("argx");
        calls.push(AggCall {
            name: carrier.clone(),
            func: format!("kusto.{fname}"),
            args: values,
            filter: None,
            span,
        });
        for (i, (n, ty)) in names.into_iter().enumerate() {
            let taken = |x: &str| {
                out_cols.iter().any(|c| c.name == x) || agg_cols.iter().any(|c| c.name == x)
            };
            let n = unique_name(&n, &taken);
            post.push((
                n.clone(),
                call(
                    "kusto.index",
                    vec![
                        field(&carrier, DataType::Dynamic, span),
                        lit(i as i64, span),
                    ],
                    span,
                ),
                ty,
            ));
            agg_cols.push(computed(&n, ty));
        }
        Ok(())
    }

    /// Replaces aggregate calls inside `e` by temporaries.
    fn agg_expr(&mut self, t: &Tab, e: &ast::Expr, calls: &mut Vec<AggCall>) -> LResult<Expr> {
        if let ast::ExprKind::Call { name, args } = &e.kind
            && is_aggregate(&name.name)
        {
            let tmp = self.tmp("agg");
            let (c, _) = self.agg_call(t, &name.name, args, &tmp, e.span())?;
            calls.push(c);
            return Ok(field(&tmp, DataType::Dynamic, e.span()));
        }
        // Rewrite the AST's aggregate calls to names, then lower in an open scope.
        let mut rewritten = e.clone();
        let mut err = None;
        rewrite_aggs(&mut rewritten, &mut |call_e| {
            if let ast::ExprKind::Call { name, args } = &call_e.kind {
                let tmp = self.tmp("agg");
                match self.agg_call(t, &name.name, args, &tmp, call_e.span()) {
                    Ok((c, _)) => calls.push(c),
                    Err(e) => err = Some(e),
                }
                *call_e = ast::Expr::new(ast::ExprKind::Name(ast::Ident::new(tmp)), call_e.span());
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        let scope = Tab {
            plan: t.plan.clone(),
            cols: vec![],
            open: true,
            name: None,
        };
        Ok(self.scalar(&rewritten, &scope)?.0)
    }

    fn agg_call(
        &mut self,
        t: &Tab,
        fname: &str,
        args: &[ast::Expr],
        out: &str,
        span: Span,
    ) -> LResult<(AggCall, DataType)> {
        let mut lowered = Vec::new();
        let mut tys = Vec::new();
        for a in args {
            if let ast::ExprKind::Star = a.kind {
                continue;
            }
            let (e, ty) = self.scalar(a, t)?;
            lowered.push(e);
            tys.push(ty);
        }
        let arg_ty = tys.first().copied().unwrap_or(DataType::Unknown);
        let (func, args, filter, ty): (&str, Vec<Expr>, Option<Expr>, DataType) = match fname {
            "count" => ("count_rows", vec![], None, DataType::Long),
            "countif" => (
                "count_rows",
                vec![],
                lowered.into_iter().next(),
                DataType::Long,
            ),
            "dcount" | "count_distinct" => (
                "kusto.dcount",
                lowered.into_iter().take(1).collect(),
                None,
                DataType::Long,
            ),
            "dcountif" => {
                let mut it = lowered.into_iter();
                let v = it.next();
                let cond = it.next();
                (
                    "kusto.dcount",
                    v.into_iter().collect(),
                    cond,
                    DataType::Long,
                )
            }
            "sum" => ("sum", lowered, None, arg_ty),
            "avg" => ("avg", lowered, None, DataType::Double),
            "min" | "max" => (
                if fname == "min" { "min" } else { "max" },
                lowered,
                None,
                arg_ty,
            ),
            "sumif" | "avgif" | "minif" | "maxif" => {
                let mut it = lowered.into_iter();
                let v = it.next();
                let cond = it.next();
                let f = match fname {
                    "sumif" => "sum",
                    "avgif" => "avg",
                    "minif" => "min",
                    _ => "max",
                };
                (f, v.into_iter().collect(), cond, arg_ty)
            }
            "make_set" | "makeset" => ("make_set", lowered, None, DataType::Dynamic),
            "make_list" | "makelist" | "make_list_with_nulls" => {
                ("kusto.make_list", lowered, None, DataType::Dynamic)
            }
            "make_set_if" | "make_list_if" => {
                let mut it = lowered.into_iter();
                let v = it.next();
                let cond = it.next();
                let mut a: Vec<Expr> = v.into_iter().collect();
                a.extend(it);
                (
                    if fname == "make_set_if" {
                        "make_set"
                    } else {
                        "kusto.make_list"
                    },
                    a,
                    cond,
                    DataType::Dynamic,
                )
            }
            "any" | "take_any" => ("kusto.any", lowered, None, arg_ty),
            "anyif" | "take_anyif" => {
                let mut it = lowered.into_iter();
                let v = it.next();
                let cond = it.next();
                ("kusto.any", v.into_iter().collect(), cond, arg_ty)
            }
            "make_bag" => ("kusto.make_bag", lowered, None, DataType::Dynamic),
            other => {
                return Ok((
                    AggCall {
                        name: out.to_string(),
                        func: format!("kusto.{other}"),
                        args: lowered,
                        filter: None,
                        span,
                    },
                    DataType::Unknown,
                ));
            }
        };
        Ok((
            AggCall {
                name: out.to_string(),
                func: func.to_string(),
                args,
                filter,
                span,
            },
            ty,
        ))
    }

    // --- join and union --------------------------------------------------------------------

    fn join(
        &mut self,
        left: Tab,
        right: Tab,
        kind: &str,
        on: &[ast::Expr],
        span: Span,
        lookup: bool,
    ) -> LResult<Tab> {
        let kind = match kind.to_ascii_lowercase().as_str() {
            "innerunique" => JoinKind::InnerUnique,
            "inner" => JoinKind::Inner,
            "leftouter" => JoinKind::LeftOuter,
            "rightouter" => JoinKind::RightOuter,
            "fullouter" | "outer" => JoinKind::FullOuter,
            "leftanti" | "anti" | "leftantisemi" => JoinKind::LeftAnti,
            "rightanti" | "rightantisemi" => JoinKind::RightAnti,
            "leftsemi" => JoinKind::LeftSemi,
            "rightsemi" => JoinKind::RightSemi,
            other => {
                return Err(LowerError::new(
                    format!("unknown join kind `{other}`"),
                    span,
                ));
            }
        };
        let mut pairs = Vec::new();
        for cond in on {
            pairs.push(join_condition(cond)?);
        }
        for (l, r) in &pairs {
            if left.col(l).is_none() && !left.open {
                return Err(LowerError::new(
                    format!("join key `{l}` is not a column of the left side"),
                    span,
                ));
            }
            if right.col(r).is_none() && !right.open {
                return Err(LowerError::new(
                    format!("join key `{r}` is not a column of the right side"),
                    span,
                ));
            }
        }
        let keeps_right = !matches!(kind, JoinKind::LeftAnti | JoinKind::LeftSemi);
        let keeps_left = !matches!(kind, JoinKind::RightAnti | JoinKind::RightSemi);
        // Right columns are renamed up front so the join output has no duplicate names:
        // Kusto suffixes a right-side column whose name is taken (`Key` → `Key1`).
        let mut right_cols = right.cols.clone();
        for (_, r) in &pairs {
            if right.open && !right_cols.iter().any(|c| c.name == *r) {
                right_cols.push(computed(r, DataType::Unknown));
            }
        }
        let mut renames: Vec<(String, String)> = Vec::new();
        let mut taken: Vec<String> = if keeps_left {
            left.cols.iter().map(|c| c.name.clone()).collect()
        } else {
            vec![]
        };
        let right_names: Vec<String> = right_cols.iter().map(|c| c.name.clone()).collect();
        for c in &right_cols {
            // `lookup` drops the right side's key columns.
            if lookup && pairs.iter().any(|(_, r)| *r == c.name) {
                continue;
            }
            let new = if keeps_left && taken.contains(&c.name) {
                unique_name(&c.name, &|n| {
                    taken.iter().any(|t| t == n) || right_names.iter().any(|t| t == n)
                })
            } else {
                c.name.clone()
            };
            taken.push(new.clone());
            renames.push((new, c.name.clone()));
        }
        // Keys stay available on the right under their renamed names.
        let mut key_pairs = Vec::new();
        let mut extra_keys = Vec::new();
        for (l, r) in &pairs {
            match renames.iter().find(|(_, from)| from == r) {
                Some((to, _)) => key_pairs.push((l.clone(), to.clone())),
                None => {
                    let tmp = self.tmp("rkey");
                    extra_keys.push((tmp.clone(), r.clone()));
                    key_pairs.push((l.clone(), tmp));
                }
            }
        }
        let mut all_right = renames.clone();
        all_right.extend(extra_keys.iter().cloned());
        let right_sel_open = right.open;
        let right_tab = Tab {
            cols: right_cols,
            ..right
        };
        let right_sel = self.select(right_tab, &all_right);
        let mut cols = Vec::new();
        if keeps_left {
            cols.extend(left.cols.iter().cloned());
        }
        if keeps_right {
            for (to, _) in &renames {
                if let Some(c) = right_sel.col(to) {
                    cols.push(Col {
                        field_ty: DataType::Dynamic,
                        ..c.clone()
                    });
                }
            }
        }
        let mut plan = Plan::Join(Join {
            left: Box::new(left.plan),
            right: Box::new(right_sel.plan),
            kind,
            on: key_pairs,
            span,
        });
        // Strings are never null: the missing side of an outer join reads as "".
        let left_names: Vec<String> = left.cols.iter().map(|c| c.name.clone()).collect();
        let fill: Vec<&Col> = cols
            .iter()
            .filter(|c| c.ty == DataType::String)
            .filter(|c| {
                let from_left = left_names.contains(&c.name);
                match kind {
                    JoinKind::LeftOuter => !from_left,
                    JoinKind::RightOuter => from_left,
                    JoinKind::FullOuter => true,
                    _ => false,
                }
            })
            .collect();
        if !fill.is_empty() {
            plan = Plan::Eval(Eval {
                input: Box::new(plan),
                assigns: fill
                    .iter()
                    .map(|c| Assign {
                        name: c.name.clone(),
                        expr: call(
                            "coalesce",
                            vec![field(&c.name, c.field_ty, span), lit("", span)],
                            span,
                        ),
                    })
                    .collect(),
            });
        }
        let filled = !fill.is_empty();
        let mut tab = Tab {
            plan,
            cols,
            open: (left.open && keeps_left) || (right_sel_open && keeps_right),
            name: None,
        };
        if (!extra_keys.is_empty() && keeps_right) || filled {
            let keep: Vec<(String, String)> = tab
                .cols
                .iter()
                .map(|c| (c.name.clone(), c.name.clone()))
                .collect();
            tab = self.select(tab, &keep);
        }
        Ok(tab)
    }

    fn union(&mut self, inputs: Vec<Tab>, params: &ast::Params, span: Span) -> LResult<Tab> {
        let with_source = param_name(params, "withsource");
        let mut cols: Vec<Col> = Vec::new();
        for t in &inputs {
            for c in &t.cols {
                if !cols.iter().any(|x| x.name == c.name) {
                    cols.push(Col {
                        field_ty: DataType::Dynamic,
                        ..c.clone()
                    });
                }
            }
        }
        let mut plans = Vec::new();
        for mut t in inputs {
            let mut assigns = Vec::new();
            if let Some(ws) = &with_source {
                assigns.push(Assign {
                    name: ws.clone(),
                    expr: lit(t.name.clone().unwrap_or_default(), span),
                });
            }
            for c in &cols {
                if t.col(&c.name).is_none() && !t.open {
                    assigns.push(Assign {
                        name: c.name.clone(),
                        expr: lit(Value::Null, span),
                    });
                }
            }
            for a in &assigns {
                set_col(&mut t.cols, &a.name, DataType::Unknown);
            }
            if !assigns.is_empty() {
                t.plan = Plan::Eval(Eval {
                    input: Box::new(t.plan),
                    assigns,
                });
            }
            let mut pairs: Vec<(String, String)> = Vec::new();
            if let Some(ws) = &with_source {
                pairs.push((ws.clone(), ws.clone()));
            }
            pairs.extend(cols.iter().map(|c| (c.name.clone(), c.name.clone())));
            plans.push(self.select(t, &pairs).plan);
        }
        if let Some(ws) = &with_source {
            cols.insert(0, computed(ws, DataType::String));
        }
        Ok(Tab {
            plan: Plan::Union(Union {
                inputs: plans,
                with_source: None,
                span,
            }),
            cols,
            open: false,
            name: None,
        })
    }

    // --- mv-expand, parse, make-series -----------------------------------------------------

    fn mv_expand(
        &mut self,
        t: Tab,
        params: &ast::Params,
        items: &[ast::MvItem],
        limit: Option<u64>,
        span: Span,
    ) -> LResult<Tab> {
        let array_kind = param_name(params, "kind").is_some_and(|k| k == "array")
            || param_name(params, "bagexpansion").is_some_and(|k| k == "array");
        let index_col = param_name(params, "with_itemindex");
        let mut t = t;
        let mut names = Vec::new();
        let mut assigns = Vec::new();
        for it in items {
            let (e, _) = self.scalar(&it.item.expr, &t)?;
            let name = match it.item.names.first() {
                Some(n) => n.name.clone(),
                None => inferred_name(&it.item.expr).ok_or_else(|| {
                    LowerError::new("mv-expand needs a column or `name = expr`", span)
                })?,
            };
            // Property bags expand to one-property bags (or `[key, value]` with kind=array).
            assigns.push(Assign {
                name: name.clone(),
                expr: call("kusto.mv_items", vec![e, lit(array_kind, span)], span),
            });
            names.push((name, it.to.clone()));
        }
        t = self.flush_pending(t, span)?;
        for (n, _) in &names {
            set_col(&mut t.cols, n, DataType::Dynamic);
        }
        let mut plan = Plan::Eval(Eval {
            input: Box::new(t.plan),
            assigns,
        });
        if names.len() == 1 && index_col.is_none() {
            plan = Plan::MvExpand(MvExpand {
                input: Box::new(plan),
                column: names[0].0.clone(),
                limit,
            });
        } else {
            // Several columns expand side by side (zip), with an optional item index.
            let zip = self.tmp("zip");
            let mut args: Vec<Expr> = names
                .iter()
                .map(|(n, _)| field(n, DataType::Dynamic, span))
                .collect();
            args.insert(0, lit(index_col.is_some(), span));
            plan = Plan::Eval(Eval {
                input: Box::new(plan),
                assigns: vec![Assign {
                    name: zip.clone(),
                    expr: call("kusto.mv_zip", args, span),
                }],
            });
            plan = Plan::MvExpand(MvExpand {
                input: Box::new(plan),
                column: zip.clone(),
                limit,
            });
            let mut assigns = Vec::new();
            for (i, (n, _)) in names.iter().enumerate() {
                assigns.push(Assign {
                    name: n.clone(),
                    expr: call(
                        "kusto.index",
                        vec![field(&zip, DataType::Dynamic, span), lit(i as i64, span)],
                        span,
                    ),
                });
            }
            if let Some(ix) = &index_col {
                assigns.push(Assign {
                    name: ix.clone(),
                    expr: call(
                        "kusto.index",
                        vec![
                            field(&zip, DataType::Dynamic, span),
                            lit(names.len() as i64, span),
                        ],
                        span,
                    ),
                });
                set_col(&mut t.cols, ix, DataType::Long);
            }
            plan = Plan::Eval(Eval {
                input: Box::new(plan),
                assigns,
            });
        }
        let casts: Vec<Assign> = names
            .iter()
            .filter_map(|(n, to)| {
                let ty = kusto_type(to.as_ref()?)?;
                Some(Assign {
                    name: n.clone(),
                    expr: Expr::new(
                        ExprKind::Cast {
                            expr: Box::new(field(n, DataType::Dynamic, span)),
                            to: ty,
                        },
                        span,
                    ),
                })
            })
            .collect();
        for (n, to) in &names {
            if let Some(ty) = to.as_deref().and_then(kusto_type) {
                set_col(&mut t.cols, n, ty);
            }
        }
        if !casts.is_empty() {
            plan = Plan::Eval(Eval {
                input: Box::new(plan),
                assigns: casts,
            });
        }
        let open = t.open;
        let t = Tab { plan, ..t };
        let pairs: Vec<(String, String)> = t
            .cols
            .iter()
            .map(|c| (c.name.clone(), c.name.clone()))
            .collect();
        let mut out = self.select(t, &pairs);
        out.open = open;
        Ok(out)
    }

    fn parse_op(
        &mut self,
        t: Tab,
        where_only: bool,
        params: &ast::Params,
        source: &ast::Expr,
        parts: &[ast::ParsePart],
        span: Span,
    ) -> LResult<Tab> {
        let (src, _) = self.scalar(source, &t)?;
        let kind = param_name(params, "kind").unwrap_or_else(|| "simple".into());
        let mut columns: Vec<(String, DataType)> = Vec::new();
        let mut t = self.flush_pending(t, span)?;
        let pattern = match kind.as_str() {
            "regex" => {
                let flags = param_text(params, "flags").unwrap_or_default();
                let mut re = String::new();
                if !flags.is_empty() {
                    re.push_str(&format!("(?{flags})"));
                }
                for (i, p) in parts.iter().enumerate() {
                    match p {
                        ast::ParsePart::Star => re.push_str(".*?"),
                        ast::ParsePart::Text(s) => re.push_str(s),
                        ast::ParsePart::Column { name, ty } => {
                            let ty = ty
                                .as_deref()
                                .and_then(kusto_type)
                                .unwrap_or(DataType::String);
                            // Kusto's column patterns: numbers by their syntax, the rest
                            // greedy (`flags=U` makes it lazy).
                            let body = match ty {
                                DataType::Long => r"-?\d+",
                                DataType::Double => r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
                                _ => ".*",
                            };
                            let _ = i;
                            re.push_str(&format!("(?P<{}>{body})", name.name));
                            columns.push((name.name.clone(), ty));
                        }
                    }
                }
                ExtractPattern::Regex { pattern: re }
            }
            "simple" | "relaxed" => {
                let mut out = Vec::new();
                for p in parts {
                    match p {
                        ast::ParsePart::Star => out.push(KustoParsePart::Skip),
                        ast::ParsePart::Text(s) => out.push(KustoParsePart::Text(s.clone())),
                        ast::ParsePart::Column { name, ty } => {
                            let ty = ty
                                .as_deref()
                                .and_then(kusto_type)
                                .unwrap_or(DataType::String);
                            out.push(KustoParsePart::Column(columns.len()));
                            columns.push((name.name.clone(), ty));
                        }
                    }
                }
                ExtractPattern::KustoParse {
                    parts: out,
                    relaxed: kind == "relaxed",
                }
            }
            other => {
                return Err(LowerError::new(
                    format!("unknown parse kind `{other}`"),
                    span,
                ));
            }
        };
        for (n, ty) in &columns {
            set_col(&mut t.cols, n, *ty);
        }
        // The extractor converts numbers; other types are converted with Kusto's rules.
        let casts: Vec<Assign> = columns
            .iter()
            .filter(|(_, ty)| matches!(ty, DataType::Date | DataType::Duration | DataType::Boolean))
            .map(|(n, ty)| Assign {
                name: n.clone(),
                expr: cast_to(field(n, DataType::Dynamic, span), *ty),
            })
            .collect();
        let is_regex = matches!(pattern, ExtractPattern::Regex { .. });
        let mut plan = Plan::Extract(Extract {
            input: Box::new(t.plan.clone()),
            source: src,
            pattern,
            columns: columns
                .iter()
                .map(|(n, ty)| {
                    let raw = matches!(ty, DataType::Date | DataType::Duration | DataType::Boolean);
                    (
                        n.clone(),
                        if raw && is_regex {
                            DataType::String
                        } else {
                            *ty
                        },
                    )
                })
                .collect(),
            drop_unmatched: where_only,
        });
        if is_regex && !casts.is_empty() {
            plan = Plan::Eval(Eval {
                input: Box::new(plan),
                assigns: casts,
            });
        }
        Ok(Tab { plan, ..t })
    }

    #[allow(clippy::too_many_arguments)]
    fn make_series(
        &mut self,
        t: Tab,
        aggs: &[ast::SeriesAgg],
        on: &ast::Expr,
        from: Option<&ast::Expr>,
        to: Option<&ast::Expr>,
        step: &ast::Expr,
        by: &[ast::NamedExpr],
        span: Span,
    ) -> LResult<Tab> {
        let (on_e, _) = self.scalar(on, &t)?;
        let null = || lit(Value::Null, span);
        let from_e = from
            .map(|f| self.scalar(f, &t))
            .transpose()?
            .map_or_else(null, |x| x.0);
        let to_e = to
            .map(|f| self.scalar(f, &t))
            .transpose()?
            .map_or_else(null, |x| x.0);
        let (step_e, _) = self.scalar(step, &t)?;
        let axis = [on_e.clone(), from_e.clone(), to_e.clone(), step_e.clone()];
        let mut series_aggs = Vec::new();
        for a in aggs {
            let ast::ExprKind::Call { name, args } = &a.agg.expr.kind else {
                return Err(LowerError::new("make-series needs aggregate calls", span));
            };
            let default = match &a.default {
                Some(d) => self.scalar(d, &t)?.0,
                None => lit(0i64, span),
            };
            let mut call_args = axis.to_vec();
            call_args.push(default);
            for x in args {
                if !matches!(x.kind, ast::ExprKind::Star) {
                    call_args.push(self.scalar(x, &t)?.0);
                }
            }
            let out = a
                .agg
                .names
                .first()
                .map(|n| n.name.clone())
                .unwrap_or_else(|| default_agg_name(&name.name, args));
            series_aggs.push(ast::NamedExpr {
                names: vec![ast::Ident::new(out)],
                expr: a.agg.expr.clone(),
            });
            let _ = call_args;
        }
        // Lower as a summarize over the keys with series accumulators, plus the time axis.
        let mut calls = Vec::new();
        let mut out_cols = Vec::new();
        let mut group_by = Vec::new();
        for k in by {
            let (e, ty) = self.scalar(&k.expr, &t)?;
            let name = k
                .names
                .first()
                .map(|n| n.name.clone())
                .or_else(|| inferred_name(&k.expr))
                .unwrap_or_else(|| "Column1".into());
            group_by.push(Assign {
                name: name.clone(),
                expr: e,
            });
            out_cols.push(computed(&name, ty));
        }
        for (a, named) in aggs.iter().zip(&series_aggs) {
            let ast::ExprKind::Call { name, args } = &a.agg.expr.kind else {
                continue;
            };
            let default = match &a.default {
                Some(d) => self.scalar(d, &t)?.0,
                None => lit(0i64, span),
            };
            let mut call_args = axis.to_vec();
            call_args.push(default);
            for x in args {
                if !matches!(x.kind, ast::ExprKind::Star) {
                    call_args.push(self.scalar(x, &t)?.0);
                }
            }
            let out = named.names[0].name.clone();
            calls.push(AggCall {
                name: out.clone(),
                func: format!("kusto.series_{}", name.name),
                args: call_args,
                filter: None,
                span,
            });
            out_cols.push(computed(&out, DataType::Dynamic));
        }
        let axis_name = inferred_name(on).unwrap_or_else(|| "TimeGenerated".into());
        calls.push(AggCall {
            name: axis_name.clone(),
            func: "kusto.series_axis".into(),
            args: axis.to_vec(),
            filter: None,
            span,
        });
        out_cols.push(computed(&axis_name, DataType::Dynamic));
        let t = self.flush_pending(t, span)?;
        Ok(Tab {
            plan: Plan::Aggregate(Aggregate {
                input: Box::new(t.plan),
                group_by,
                aggs: calls,
                inline: false,
                expand_multi_valued_keys: false,
            }),
            cols: out_cols,
            open: false,
            name: None,
        })
    }

    /// Joins in the scalar subqueries the last operator's expressions used.
    fn flush_pending(&mut self, t: Tab, span: Span) -> LResult<Tab> {
        let pending = std::mem::take(&mut self.pending);
        let mut t = t;
        for p in pending {
            let key = self.tmp("bk");
            let left = Tab {
                plan: Plan::Eval(Eval {
                    input: Box::new(t.plan),
                    assigns: vec![Assign {
                        name: key.clone(),
                        expr: lit(true, span),
                    }],
                }),
                cols: {
                    let mut c = t.cols.clone();
                    c.push(computed(&key, DataType::Boolean));
                    c
                },
                ..t
            };
            let rkey = format!("{key}r");
            let right_plan = Plan::Eval(Eval {
                input: Box::new(p.tab.plan),
                assigns: vec![Assign {
                    name: rkey.clone(),
                    expr: lit(true, span),
                }],
            });
            let right_cols = vec![
                p.tab
                    .cols
                    .iter()
                    .find(|c| c.name == p.column)
                    .cloned()
                    .unwrap_or_else(|| computed(&p.column, DataType::Unknown)),
                computed(&rkey, DataType::Boolean),
            ];
            let right = Tab {
                plan: right_plan,
                cols: right_cols,
                open: false,
                name: None,
            };
            let right = self.select(
                right,
                &[
                    (p.column.clone(), p.column.clone()),
                    (rkey.clone(), rkey.clone()),
                ],
            );
            let mut cols = left.cols.clone();
            cols.extend(right.cols.iter().cloned());
            t = Tab {
                plan: Plan::Join(Join {
                    left: Box::new(left.plan),
                    right: Box::new(right.plan),
                    kind: JoinKind::LeftOuter,
                    on: vec![(key, rkey)],
                    span,
                }),
                cols,
                open: left.open,
                name: left.name,
            };
        }
        Ok(t)
    }

    /// Drops internal helper columns (scalar-subquery results, join keys) from the schema
    /// and, when any exist, from the rows.
    fn drop_helpers(&mut self, t: Tab) -> Tab {
        let helpers = t
            .cols
            .iter()
            .any(|c| c.name.starts_with("__sq") || c.name.starts_with("__bk"));
        if !helpers {
            return t;
        }
        let keep: Vec<(String, String)> = t
            .cols
            .iter()
            .filter(|c| !(c.name.starts_with("__sq") || c.name.starts_with("__bk")))
            .map(|c| (c.name.clone(), c.name.clone()))
            .collect();
        let open = t.open;
        let mut out = self.select(t, &keep);
        out.open = open;
        out
    }

    /// A subquery used as a scalar: joined in before the current operator; returns the
    /// column that will hold its value.
    fn subquery_column(&mut self, mut tab: Tab, how: SubqueryUse, span: Span) -> LResult<String> {
        let Some(first) = tab.cols.first().cloned() else {
            return Err(LowerError::new(
                "the subquery must have a known first column",
                span,
            ));
        };
        let col = self.tmp("sq");
        let (func, name) = match how {
            SubqueryUse::Scalar => ("kusto.any", "first value"),
            SubqueryUse::Set => ("kusto.make_list", "values"),
        };
        let _ = name;
        tab.plan = Plan::Aggregate(Aggregate {
            input: Box::new(tab.plan),
            group_by: vec![],
            aggs: vec![AggCall {
                name: col.clone(),
                func: func.into(),
                args: vec![field(&first.name, first.field_ty, span)],
                filter: None,
                span,
            }],
            inline: false,
            expand_multi_valued_keys: false,
        });
        tab.cols = vec![computed(&col, first.ty)];
        self.pending.push(Pending {
            column: col.clone(),
            tab,
        });
        Ok(col)
    }

    // --- scalar expressions ----------------------------------------------------------------

    fn scalar(&mut self, e: &ast::Expr, t: &Tab) -> LResult<(Expr, DataType)> {
        use ast::ExprKind as K;
        let span = span_of(e);
        Ok(match &e.kind {
            K::Lit(l) => lower_lit(l, span)?,
            K::Dynamic(d) => (lit(dyn_to_value(d), span), DataType::Dynamic),
            K::Name(i) => self.name(&i.name, t, span)?,
            K::Star => {
                return Err(LowerError::new("`*` is not allowed here", span));
            }
            K::Neg(x) => {
                let (x, ty) = self.scalar(x, t)?;
                (Expr::new(ExprKind::Negate(Box::new(x)), span), ty)
            }
            K::Binary { op, left, right } => self.binary(*op, left, right, t, span)?,
            K::InList { op, expr, list } => self.in_list(*op, expr, list, t, span)?,
            K::Between {
                negated,
                expr,
                low,
                high,
            } => {
                let (x, _) = self.scalar(expr, t)?;
                let (lo, _) = self.scalar(low, t)?;
                let (hi, _) = self.scalar(high, t)?;
                let o = opts(Case::Sensitive);
                let inside = Expr::and(
                    vec![
                        Expr::compare(CmpOp::GtEq, x.clone(), lo, o, span),
                        Expr::compare(CmpOp::LtEq, x, hi, o, span),
                    ],
                    span,
                );
                let e = if *negated {
                    Expr::not(inside, span)
                } else {
                    inside
                };
                (e, DataType::Boolean)
            }
            K::Call { name, args } => self.call(&name.name, args, t, span)?,
            K::Member { expr, name } => {
                let (x, _) = self.scalar(expr, t)?;
                (
                    call("kusto.index", vec![x, lit(name.name.as_str(), span)], span),
                    DataType::Dynamic,
                )
            }
            K::Index { expr, index } => {
                let (x, _) = self.scalar(expr, t)?;
                let (i, _) = self.scalar(index, t)?;
                (call("kusto.index", vec![x, i], span), DataType::Dynamic)
            }
            K::Pipe { .. }
            | K::Datatable { .. }
            | K::Print(_)
            | K::Range { .. }
            | K::Union(_)
            | K::ExternalData { .. } => {
                return Err(LowerError::new(
                    "a tabular expression is not allowed here; use toscalar()",
                    span,
                ));
            }
        })
    }

    fn name(&mut self, name: &str, t: &Tab, span: Span) -> LResult<(Expr, DataType)> {
        // Function locals win over columns; columns win over query-level lets.
        let binding = self.lookup(name).cloned();
        if let Some(Binding::Scalar {
            expr,
            ty,
            local: true,
        }) = &binding
        {
            return Ok((expr.clone(), *ty));
        }
        if let Some(c) = t.col(name) {
            return Ok((field(name, c.field_ty, span), c.ty));
        }
        match binding {
            Some(Binding::Scalar { expr, ty, .. }) => Ok((expr, ty)),
            Some(Binding::Subquery(tab)) => {
                let ty = tab.cols.first().map_or(DataType::Unknown, |c| c.ty);
                let col = self.subquery_column(tab, SubqueryUse::Scalar, span)?;
                Ok((field(&col, DataType::Dynamic, span), ty))
            }
            Some(Binding::Tabular(_)) => Err(LowerError::new(
                format!("`{name}` is a table; use toscalar({name}) for its value"),
                span,
            )),
            Some(Binding::Function(_)) => Err(LowerError::new(
                format!("`{name}` is a function; call it with ()"),
                span,
            )),
            None if t.open || name.starts_with("__") => {
                Ok((field(name, DataType::Unknown, span), DataType::Unknown))
            }
            None if name == "null" => Ok((lit(Value::Null, span), DataType::Dynamic)),
            None => Err(LowerError::new(
                format!("unknown column or name `{name}`"),
                span,
            )),
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        left: &ast::Expr,
        right: &ast::Expr,
        t: &Tab,
        span: Span,
    ) -> LResult<(Expr, DataType)> {
        let (l, lt) = self.scalar(left, t)?;
        let (r, rt) = self.scalar(right, t)?;
        let cmp = |op: CmpOp, case: Case| {
            (
                Expr::compare(op, l.clone(), r.clone(), opts(case), span),
                DataType::Boolean,
            )
        };
        let arith = |op: ArithOp| {
            let ty = match (lt, rt, op) {
                (DataType::Date, DataType::Date, ArithOp::Sub) => DataType::Duration,
                (DataType::Date, _, _) | (_, DataType::Date, _) => DataType::Date,
                (DataType::Duration, _, _) | (_, DataType::Duration, _) => DataType::Duration,
                (DataType::Double, _, _) | (_, DataType::Double, _) => DataType::Double,
                (DataType::Long, DataType::Long, ArithOp::Div) => DataType::Long,
                (DataType::Long, DataType::Long, _) => DataType::Long,
                _ => DataType::Unknown,
            };
            (
                call(
                    "kusto.arith",
                    vec![lit(arith_name(op), span), l.clone(), r.clone()],
                    span,
                ),
                ty,
            )
        };
        Ok(match op {
            BinOp::Or => (Expr::or(vec![l, r], span), DataType::Boolean),
            BinOp::And => (Expr::and(vec![l, r], span), DataType::Boolean),
            BinOp::Eq => cmp(CmpOp::Eq, Case::Sensitive),
            BinOp::NotEq => cmp(CmpOp::NotEq, Case::Sensitive),
            BinOp::Lt => cmp(CmpOp::Lt, Case::Sensitive),
            BinOp::LtEq => cmp(CmpOp::LtEq, Case::Sensitive),
            BinOp::Gt => cmp(CmpOp::Gt, Case::Sensitive),
            BinOp::GtEq => cmp(CmpOp::GtEq, Case::Sensitive),
            BinOp::EqCi => cmp(CmpOp::Eq, Case::Insensitive),
            BinOp::NotEqCi => cmp(CmpOp::NotEq, Case::Insensitive),
            BinOp::Add => arith(ArithOp::Add),
            BinOp::Sub => arith(ArithOp::Sub),
            BinOp::Mul => arith(ArithOp::Mul),
            BinOp::Div => arith(ArithOp::Div),
            BinOp::Mod => arith(ArithOp::Mod),
            BinOp::MatchesRegex => {
                let pattern = match r.as_literal() {
                    Some(Value::Str(s)) => s.to_string(),
                    _ => {
                        return Ok((
                            call("kusto.matches_regex", vec![l, r], span),
                            DataType::Boolean,
                        ));
                    }
                };
                (
                    Expr::new(
                        ExprKind::Match {
                            expr: Box::new(l),
                            pattern: Pattern::Regex {
                                pattern,
                                anchored: false,
                            },
                            opts: MatchOpts {
                                lenient: true,
                                ..opts(Case::Sensitive)
                            },
                        },
                        span,
                    ),
                    DataType::Boolean,
                )
            }
            BinOp::Str(sop) => {
                let case = if sop.case_sensitive {
                    Case::Sensitive
                } else {
                    Case::Insensitive
                };
                let m = match r.as_literal() {
                    Some(v) if !v.is_null() => {
                        let needle = match v {
                            Value::Str(s) => s.to_string(),
                            other => other.to_string(),
                        };
                        let pattern = match sop.kind {
                            StrOpKind::Has => Pattern::HasTerm(needle),
                            StrOpKind::HasPrefix => Pattern::HasPrefix(needle),
                            StrOpKind::HasSuffix => Pattern::HasSuffix(needle),
                            StrOpKind::Contains => Pattern::Contains(needle),
                            StrOpKind::StartsWith => Pattern::StartsWith(needle),
                            StrOpKind::EndsWith => Pattern::EndsWith(needle),
                        };
                        Expr::new(
                            ExprKind::Match {
                                expr: Box::new(kusto_string(l, lt, span)),
                                pattern,
                                opts: MatchOpts {
                                    lenient: true,
                                    ..opts(case)
                                },
                            },
                            span,
                        )
                    }
                    _ => {
                        // A needle computed per row.
                        let f = match sop.kind {
                            StrOpKind::Has => "has",
                            StrOpKind::HasPrefix => "hasprefix",
                            StrOpKind::HasSuffix => "hassuffix",
                            StrOpKind::Contains => "contains",
                            StrOpKind::StartsWith => "startswith",
                            StrOpKind::EndsWith => "endswith",
                        };
                        call(
                            &format!("kusto.{f}{}", if sop.case_sensitive { "_cs" } else { "" }),
                            vec![l, r],
                            span,
                        )
                    }
                };
                let m = if sop.negated { Expr::not(m, span) } else { m };
                (m, DataType::Boolean)
            }
        })
    }

    fn in_list(
        &mut self,
        op: ListOp,
        expr: &ast::Expr,
        list: &[ast::Expr],
        t: &Tab,
        span: Span,
    ) -> LResult<(Expr, DataType)> {
        let (x, xt) = self.scalar(expr, t)?;
        // Literal items (and let-bound dynamic arrays) are flattened into one list; anything
        // else (columns, subqueries) is checked at run time.
        let mut literals: Vec<Value> = Vec::new();
        let mut dynamic: Vec<Expr> = Vec::new();
        for item in list {
            if self.is_tabular(item) {
                let tab = self.tabular(item)?;
                let col = self.subquery_column(tab, SubqueryUse::Set, span)?;
                dynamic.push(field(&col, DataType::Dynamic, span));
                continue;
            }
            let (e, _) = self.scalar(item, t)?;
            match e.as_literal() {
                Some(Value::Array(items)) => literals.extend(items.iter().cloned()),
                Some(v) => literals.push(v.clone()),
                None => dynamic.push(e),
            }
        }
        let ci = matches!(op, ListOp::InCi | ListOp::NotInCi);
        let result = match op {
            ListOp::In | ListOp::NotIn | ListOp::InCi | ListOp::NotInCi => {
                let case = if ci {
                    Case::Insensitive
                } else {
                    Case::Sensitive
                };
                let mut parts = Vec::new();
                if !literals.is_empty() || dynamic.is_empty() {
                    parts.push(Expr::new(
                        ExprKind::In {
                            expr: Box::new(x.clone()),
                            list: literals.iter().map(|v| lit(v.clone(), span)).collect(),
                            opts: opts(case),
                        },
                        span,
                    ));
                }
                for d in dynamic {
                    parts.push(call(
                        if ci { "kusto.in_ci" } else { "kusto.in" },
                        vec![x.clone(), d],
                        span,
                    ));
                }
                let any = Expr::or(parts, span);
                if matches!(op, ListOp::NotIn | ListOp::NotInCi) {
                    Expr::not(any, span)
                } else {
                    any
                }
            }
            ListOp::HasAny | ListOp::HasAll => {
                let s = kusto_string(x, xt, span);
                let mut parts: Vec<Expr> = literals
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| {
                        let needle = match v {
                            Value::Str(s) => s.to_string(),
                            other => other.to_string(),
                        };
                        Expr::new(
                            ExprKind::Match {
                                expr: Box::new(s.clone()),
                                pattern: Pattern::HasTerm(needle),
                                opts: MatchOpts {
                                    lenient: true,
                                    ..opts(Case::Insensitive)
                                },
                            },
                            span,
                        )
                    })
                    .collect();
                let f = if op == ListOp::HasAny {
                    "kusto.has_any"
                } else {
                    "kusto.has_all"
                };
                for d in dynamic {
                    parts.push(call(f, vec![s.clone(), d], span));
                }
                if parts.is_empty() {
                    lit(op == ListOp::HasAll, span)
                } else if op == ListOp::HasAny {
                    Expr::or(parts, span)
                } else {
                    Expr::and(parts, span)
                }
            }
        };
        Ok((result, DataType::Boolean))
    }

    fn call(
        &mut self,
        fname: &str,
        args: &[ast::Expr],
        t: &Tab,
        span: Span,
    ) -> LResult<(Expr, DataType)> {
        // User functions first: they may shadow built-ins.
        if let Some(Binding::Function(def)) = self.lookup(fname).cloned() {
            return self.scalar_fn(&def, args, t, span);
        }
        let nargs = args.len();
        let need = |n: usize| -> LResult<()> {
            if nargs < n {
                Err(LowerError::new(
                    format!("{fname}() needs {n} argument(s)"),
                    span,
                ))
            } else {
                Ok(())
            }
        };
        // Typed literals and casts: `int(null)`, `real(5)`, `bool(null)`.
        if let Some(ty) = kusto_type(fname)
            && nargs == 1
            && fname != "date"
            && fname != "time"
        {
            if args[0].as_name() == Some("null") {
                return Ok((lit(Value::Null, span), ty));
            }
            let (x, _) = self.scalar(&args[0], t)?;
            return Ok((cast_to(x, ty), ty));
        }
        match fname {
            "toscalar" => {
                need(1)?;
                let tab = self.tabular(&args[0])?;
                let ty = tab.cols.first().map_or(DataType::Unknown, |c| c.ty);
                let col = self.subquery_column(tab, SubqueryUse::Scalar, span)?;
                return Ok((field(&col, DataType::Dynamic, span), ty));
            }
            "typeof" => {
                need(1)?;
                let name = args[0].as_name().unwrap_or("dynamic").to_string();
                return Ok((lit(name, span), DataType::String));
            }
            _ => {}
        }
        let mut lowered = Vec::new();
        let mut tys = Vec::new();
        for a in args {
            let (e, ty) = self.scalar(a, t)?;
            lowered.push(e);
            tys.push(ty);
        }
        let first_ty = tys.first().copied().unwrap_or(DataType::Unknown);
        let mut it = lowered.clone().into_iter();
        Ok(match fname {
            "ago" => {
                need(1)?;
                (
                    Expr::new(
                        ExprKind::Arith {
                            op: ArithOp::Sub,
                            left: Box::new(Expr::new(ExprKind::Now, span)),
                            right: Box::new(lowered[0].clone()),
                        },
                        span,
                    ),
                    DataType::Date,
                )
            }
            "now" => {
                let now = Expr::new(ExprKind::Now, span);
                let e = match it.next() {
                    Some(off) => Expr::new(
                        ExprKind::Arith {
                            op: ArithOp::Add,
                            left: Box::new(now),
                            right: Box::new(off),
                        },
                        span,
                    ),
                    None => now,
                };
                (e, DataType::Date)
            }
            "iff" | "iif" => {
                need(3)?;
                let (c, a, b) = (lowered[0].clone(), lowered[1].clone(), lowered[2].clone());
                (
                    Expr::new(
                        ExprKind::Case {
                            branches: vec![(c, a)],
                            otherwise: Some(Box::new(b)),
                        },
                        span,
                    ),
                    tys[1],
                )
            }
            "case" => {
                need(1)?;
                let mut branches = Vec::new();
                let mut i = 0;
                while i + 1 < lowered.len() {
                    branches.push((lowered[i].clone(), lowered[i + 1].clone()));
                    i += 2;
                }
                let otherwise = lowered.get(i).cloned().map(Box::new);
                let ty = tys.get(1).copied().unwrap_or(DataType::Unknown);
                (
                    Expr::new(
                        ExprKind::Case {
                            branches,
                            otherwise,
                        },
                        span,
                    ),
                    ty,
                )
            }
            "not" => {
                need(1)?;
                (Expr::not(lowered[0].clone(), span), DataType::Boolean)
            }
            "isnull" => {
                need(1)?;
                (
                    Expr::new(ExprKind::IsNull(Box::new(lowered[0].clone())), span),
                    DataType::Boolean,
                )
            }
            "isnotnull" => {
                need(1)?;
                (
                    Expr::not(
                        Expr::new(ExprKind::IsNull(Box::new(lowered[0].clone())), span),
                        span,
                    ),
                    DataType::Boolean,
                )
            }
            "isnotempty" => {
                need(1)?;
                (
                    Expr::not(call("kusto.isempty", lowered, span), span),
                    DataType::Boolean,
                )
            }
            "extract" => {
                need(3)?;
                let mut a = lowered.clone();
                let cast = if nargs > 3 {
                    a.truncate(3);
                    args[3]
                        .clone()
                        .kind
                        .clone()
                        .into_typeof()
                        .and_then(|n| kusto_type(&n))
                } else {
                    None
                };
                let e = call("kusto.extract", a, span);
                match cast {
                    Some(ty) => (cast_to(e, ty), ty),
                    None => (e, DataType::String),
                }
            }
            "bin" | "floor" | "bin_at" => (call("kusto.bin", lowered, span), first_ty),
            "strcat"
            | "strcat_delim"
            | "tostring"
            | "tolower"
            | "toupper"
            | "substring"
            | "replace"
            | "replace_string"
            | "replace_regex"
            | "trim"
            | "trim_start"
            | "trim_end"
            | "strcat_array"
            | "format_datetime"
            | "hash_sha256"
            | "hash_md5"
            | "url_decode"
            | "url_encode"
            | "base64_decode_tostring"
            | "base64_encode_tostring"
            | "reverse"
            | "strrep"
            | "format_timespan"
            | "extract_json"
            | "tohex" => (
                call(&format!("kusto.{fname}"), lowered, span),
                DataType::String,
            ),
            "toint" | "tolong" | "strlen" | "indexof" | "array_length" | "countof"
            | "datetime_part" | "hash" | "getyear" | "getmonth" | "dayofmonth" | "dayofweek" => (
                call(&format!("kusto.{fname}"), lowered, span),
                if matches!(fname, "dayofweek") {
                    DataType::Duration
                } else {
                    DataType::Long
                },
            ),
            "todouble" | "toreal" | "todecimal" | "round" | "exp" | "log" | "log10" | "sqrt"
            | "pow" | "abs" => (call(&format!("kusto.{fname}"), lowered, span), {
                if fname == "abs" || fname == "round" {
                    first_ty
                } else {
                    DataType::Double
                }
            }),
            "todatetime"
            | "startofday"
            | "startofweek"
            | "startofmonth"
            | "startofyear"
            | "endofday"
            | "endofweek"
            | "endofmonth"
            | "endofyear"
            | "datetime_add"
            | "make_datetime"
            | "unixtime_seconds_todatetime"
            | "unixtime_milliseconds_todatetime"
            | "datetime_utc_to_local"
            | "datetime_local_to_utc" => (
                call(&format!("kusto.{fname}"), lowered, span),
                DataType::Date,
            ),
            "totimespan" | "make_timespan" => (
                call(&format!("kusto.{fname}"), lowered, span),
                DataType::Duration,
            ),
            "tobool" | "toboolean" | "isempty" | "ipv4_is_private" | "ipv4_is_in_range"
            | "ipv4_is_match" | "isascii" | "isutf8" | "set_has_element" | "array_contains"
            | "ipv6_is_match" | "has_ipv4" | "has_ipv4_prefix" | "isfinite" | "isnan" => {
                let f = if fname == "toboolean" {
                    "tobool"
                } else {
                    fname
                };
                (
                    call(&format!("kusto.{f}"), lowered, span),
                    DataType::Boolean,
                )
            }
            "coalesce" => (call("kusto.coalesce", lowered, span), first_ty),
            "max_of" | "min_of" => (call(&format!("kusto.{fname}"), lowered, span), first_ty),
            "todynamic" | "parse_json" => {
                (call("kusto.parse_json", lowered, span), DataType::Dynamic)
            }
            _ => (
                call(&format!("kusto.{fname}"), lowered, span),
                DataType::Dynamic,
            ),
        })
    }

    /// A user-defined scalar function: its parameters are bound to the lowered arguments.
    fn scalar_fn(
        &mut self,
        def: &FnDef,
        args: &[ast::Expr],
        t: &Tab,
        span: Span,
    ) -> LResult<(Expr, DataType)> {
        let mut scope = HashMap::new();
        for (i, p) in def.params.iter().enumerate() {
            let v = match args.get(i).or(p.default.as_ref()) {
                Some(a) => self.scalar(a, t)?,
                None => {
                    return Err(LowerError::new(
                        format!("missing argument `{}`", p.name.name),
                        span,
                    ));
                }
            };
            scope.insert(
                p.name.name.clone(),
                Binding::Scalar {
                    expr: v.0,
                    ty: v.1,
                    local: true,
                },
            );
        }
        self.scopes.push(scope);
        let mut result = None;
        for s in &def.body {
            match s {
                ast::Statement::Let { name, value } => {
                    if let Err(e) = self.let_stmt(&name.name, value) {
                        self.scopes.pop();
                        return Err(e);
                    }
                }
                ast::Statement::Expr(e) => match self.scalar(e, t) {
                    Ok(v) => result = Some(v),
                    Err(e) => {
                        self.scopes.pop();
                        return Err(e);
                    }
                },
                ast::Statement::Set { .. } => {}
            }
        }
        self.scopes.pop();
        result.ok_or_else(|| LowerError::new("the function has no result", span))
    }
}

#[derive(Clone, Copy)]
enum SubqueryUse {
    Scalar,
    Set,
}

trait TypeofArg {
    fn into_typeof(self) -> Option<String>;
}

impl TypeofArg for ast::ExprKind {
    fn into_typeof(self) -> Option<String> {
        match self {
            ast::ExprKind::Call { name, args } if name.name == "typeof" => {
                args.first().and_then(|a| a.as_name().map(str::to_string))
            }
            _ => None,
        }
    }
}

fn arith_name(op: ArithOp) -> &'static str {
    match op {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
        ArithOp::Div => "/",
        ArithOp::Mod => "%",
    }
}

/// The operand of a string operator: a non-string value is compared as its text.
fn kusto_string(e: Expr, ty: DataType, span: Span) -> Expr {
    match ty {
        DataType::String | DataType::Unknown | DataType::Dynamic => e,
        _ => call("kusto.tostring", vec![e], span),
    }
}

fn cast_to(e: Expr, ty: DataType) -> Expr {
    if let Some(v) = e.as_literal() {
        // Literals are converted now; a value that does not convert is null.
        let converted = match (ty, v) {
            (_, Value::Null) => Some(Value::Null),
            (DataType::Dynamic, v) => Some(v.clone()),
            (DataType::Long, Value::Float(f)) => Some(Value::Int(f.trunc() as i64)),
            (DataType::Double, Value::Int(i)) => Some(Value::Float(*i as f64)),
            (DataType::Long, Value::Int(_))
            | (DataType::Double, Value::Float(_))
            | (DataType::String, Value::Str(_))
            | (DataType::Boolean, Value::Bool(_))
            | (DataType::Date, Value::Date(_))
            | (DataType::Duration, Value::Duration(_)) => Some(v.clone()),
            _ => None,
        };
        if let Some(c) = converted {
            return Expr::new(ExprKind::Literal(c), e.span);
        }
    }
    let span = e.span;
    let f = match ty {
        DataType::Long => "kusto.tolong",
        DataType::Double => "kusto.todouble",
        DataType::String => "kusto.tostring",
        DataType::Boolean => "kusto.tobool",
        DataType::Date => "kusto.todatetime",
        DataType::Duration => "kusto.totimespan",
        _ => return e,
    };
    call(f, vec![e], span)
}

fn lower_lit(l: &Lit, span: Span) -> LResult<(Expr, DataType)> {
    Ok(match l {
        Lit::Bool(b) => (lit(*b, span), DataType::Boolean),
        Lit::Int(i) => (lit(*i, span), DataType::Long),
        Lit::Real(v) => (lit(*v, span), DataType::Double),
        Lit::Str(s) => (lit(s.as_str(), span), DataType::String),
        Lit::DateTime(raw) => {
            if raw.trim().eq_ignore_ascii_case("null") {
                (lit(Value::Null, span), DataType::Date)
            } else {
                let ts = parse_datetime(raw)
                    .ok_or_else(|| LowerError::new(format!("invalid datetime `{raw}`"), span))?;
                (lit(Value::Date(ts), span), DataType::Date)
            }
        }
        Lit::Timespan(n) => (lit(duration(*n), span), DataType::Duration),
        Lit::TimespanRaw(raw) => match crate::lex::parse_timespan_raw(raw) {
            Some(n) => (lit(duration(n), span), DataType::Duration),
            None if raw.trim().eq_ignore_ascii_case("null") => {
                (lit(Value::Null, span), DataType::Duration)
            }
            None => return Err(LowerError::new(format!("invalid timespan `{raw}`"), span)),
        },
        Lit::Guid(raw) => (lit(raw.as_str(), span), DataType::String),
    })
}

/// A computed column: its values are already typed, and arrays are `dynamic` values read whole.
fn computed(name: &str, ty: DataType) -> Col {
    Col {
        name: name.to_string(),
        ty,
        field_ty: DataType::Dynamic,
    }
}

fn set_col(cols: &mut Vec<Col>, name: &str, ty: DataType) {
    match cols.iter_mut().find(|c| c.name == name) {
        Some(c) => {
            c.ty = ty;
            c.field_ty = DataType::Dynamic;
        }
        None => cols.push(computed(name, ty)),
    }
}

fn one_empty_row(span: Span) -> Tab {
    Tab {
        plan: Plan::Values(Values {
            columns: vec![],
            rows: vec![vec![]],
            span,
        }),
        cols: vec![],
        open: false,
        name: None,
    }
}

fn param_name(params: &ast::Params, key: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k.name == key)
        .and_then(|(_, v)| {
            v.as_name().map(str::to_string).or(match &v.kind {
                ast::ExprKind::Lit(Lit::Str(s)) => Some(s.clone()),
                _ => None,
            })
        })
}

fn param_text(params: &ast::Params, key: &str) -> Option<String> {
    param_name(params, key)
}

/// `on x` or `on $left.a == $right.b` as (left column, right column).
fn join_condition(cond: &ast::Expr) -> LResult<(String, String)> {
    use ast::ExprKind as K;
    match &cond.kind {
        K::Name(i) => Ok((i.name.clone(), i.name.clone())),
        K::Binary {
            op: BinOp::Eq,
            left,
            right,
        } => {
            let side = |e: &ast::Expr| -> Option<(String, String)> {
                match &e.kind {
                    K::Member { expr, name } => {
                        Some((expr.as_name()?.to_string(), name.name.clone()))
                    }
                    _ => None,
                }
            };
            match (side(left), side(right)) {
                (Some((a, x)), Some((b, y))) if a == "$left" && b == "$right" => Ok((x, y)),
                (Some((a, x)), Some((b, y))) if a == "$right" && b == "$left" => Ok((y, x)),
                _ => Err(LowerError::new(
                    "join conditions must be columns or `$left.a == $right.b`",
                    cond.span(),
                )),
            }
        }
        _ => Err(LowerError::new(
            "join conditions must be columns or `$left.a == $right.b`",
            cond.span(),
        )),
    }
}

/// The column name Kusto gives an unnamed aggregate (`count_`, `set_x`, `dcount_x`).
fn default_agg_name(fname: &str, args: &[ast::Expr]) -> String {
    let prefix = match fname {
        "make_set" | "makeset" | "make_set_if" => "set",
        "make_list" | "makelist" | "make_list_if" | "make_list_with_nulls" => "list",
        "take_any" => "any",
        "make_bag" => "bag",
        other => other,
    };
    let arg = args
        .first()
        .and_then(inferred_name)
        .filter(|_| fname != "countif");
    match arg {
        Some(a) => format!("{prefix}_{a}"),
        None => format!("{prefix}_"),
    }
}

/// Calls `f` on every aggregate call inside `e` (not inside another aggregate).
fn rewrite_aggs(e: &mut ast::Expr, f: &mut dyn FnMut(&mut ast::Expr)) {
    use ast::ExprKind as K;
    if let K::Call { name, .. } = &e.kind
        && is_aggregate(&name.name)
    {
        f(e);
        return;
    }
    match &mut e.kind {
        K::Neg(x) => rewrite_aggs(x, f),
        K::Binary { left, right, .. } => {
            rewrite_aggs(left, f);
            rewrite_aggs(right, f);
        }
        K::InList { expr, list, .. } => {
            rewrite_aggs(expr, f);
            for x in list {
                rewrite_aggs(x, f);
            }
        }
        K::Between {
            expr, low, high, ..
        } => {
            rewrite_aggs(expr, f);
            rewrite_aggs(low, f);
            rewrite_aggs(high, f);
        }
        K::Call { args, .. } => {
            for x in args {
                rewrite_aggs(x, f);
            }
        }
        K::Member { expr, .. } => rewrite_aggs(expr, f),
        K::Index { expr, index } => {
            rewrite_aggs(expr, f);
            rewrite_aggs(index, f);
        }
        _ => {}
    }
}
