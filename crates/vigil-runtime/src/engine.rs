//! The engine: the loaded rules with their compiled plans, and the decoder that turns a raw
//! record into the rows those plans read.
//!
//! A record can be read in several *views*: its ECS document (what Elastic rules search) and
//! a table row (what Kusto rules search: `AzureActivity` from a native Activity Log record,
//! `DeviceFileEvents` from a Defender export or a Sysmon file creation, …). Every view is
//! projected onto the same row layout; a rule reads only the views its sources name.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use vigil_enrich::Enricher;
use vigil_event::{DataType, Layout, Projection, Row, SlotId, Value};
use vigil_exec::{CompiledExpr, CompiledPlan, EvalContext, compile, compile_expr};
use vigil_normalize::{EndpointFormat, Format, Options, ProcessTree};
use vigil_plan::{
    Expr, ExprKind, LiteralMode, Plan, RequiredLiteral, SourceKind, required_literals,
};
use vigil_rules::{Rule, RuleKind};
use vigil_schema::Schema;

use crate::alert::document_id;
use crate::executor::Runner;
use crate::prefilter::Prefilter;

/// What a rule searches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reads {
    /// ECS documents in these index patterns (empty: any index).
    Indices(Vec<String>),
    /// Rows of these tables.
    Tables(Vec<String>),
}

/// A rule the engine runs.
#[derive(Debug)]
pub struct EngineRule {
    pub rule: Rule,
    pub plan: Plan,
    pub compiled: CompiledPlan,
    /// The query aggregates: its result rows are not source events.
    pub aggregating: bool,
    pub reads: Reads,
    /// ES|QL `METADATA _id`: result rows name their source document.
    pub metadata_id: bool,
    /// Per source of the plan, the filters directly above it without their time-dependent
    /// parts: decides, event by event, which events the rule may need (`None`: every event of
    /// that source). A view is admitted when a source that reads it admits it.
    admit: Vec<(vigil_plan::Source, Option<CompiledExpr>)>,
    /// Slot of the rule's `timestamp_override` field.
    override_slot: Option<SlotId>,
    /// Literals every event the rule can match contains (None: unknown).
    pub literals: Option<Vec<RequiredLiteral>>,
}

/// A rule the engine loaded but does not run, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRun {
    pub name: String,
    pub path: String,
    pub reason: String,
}

/// Options that change how records are read.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Parse every record, even those no rule can match (reports every malformed record).
    pub no_prefilter: bool,
    /// ASN and GeoIP databases for `source.as.*` / `source.geo.*`.
    pub enricher: Option<Arc<Enricher>>,
}

/// Fields the runtime itself reads from every event.
const ROUTING_FIELDS: &[&str] = &[
    "@timestamp",
    "_index",
    "_id",
    "_version",
    "data_stream.type",
    "data_stream.dataset",
    "data_stream.namespace",
    "TimeGenerated",
];

/// Keys the format detectors look at in a raw record.
const DETECTION_KEYS: &[&str] = &[
    "operationName",
    "resourceId",
    "time",
    "category",
    "resultType",
    "callerIpAddress",
    "identity",
    "properties",
    "correlationId",
    "@timestamp",
    "ecs",
    "event",
    "agent",
    "data_stream",
    "records",
    // Sysmon: an EVTX record as JSON, or a Winlogbeat document.
    "Event",
    "winlog",
];

#[derive(Debug)]
pub struct Engine {
    pub rules: Vec<EngineRule>,
    pub not_run: Vec<NotRun>,
    layout: Layout,
    projection: Projection,
    /// Top-level keys the decoder parses; `None`: all of them.
    parse_keys: Option<HashSet<String>>,
    prefilter: Option<Prefilter>,
    slots: Slots,
    /// True when some rule reads ECS documents.
    wants_ecs: bool,
    /// Tables some rule reads.
    tables: BTreeSet<String>,
    /// True when some rule reads `event.original`, which needs the record text.
    wants_original: bool,
    enricher: Option<Arc<Enricher>>,
    /// True when some rule reads fields the enrichment writes.
    wants_enrichment: bool,
}

#[derive(Debug)]
struct Slots {
    timestamp: SlotId,
    time_generated: SlotId,
    index: SlotId,
    id: SlotId,
    version: SlotId,
    data_stream: [SlotId; 3],
}

/// One view of a record, projected for evaluation.
#[derive(Debug)]
pub struct View {
    /// The table the row belongs to; `None` for the ECS document.
    pub table: Option<Arc<str>>,
    pub row: Row,
    /// `@timestamp` (ECS) or `TimeGenerated` (tables).
    pub timestamp: Option<Timestamp>,
    /// The index the ECS document would live in (`_index`, or from `data_stream.*`).
    pub index: Option<String>,
    /// The document an alert carries, when the raw record cannot reproduce it by itself (table
    /// rows, endpoint documents with rebuilt lineage).
    pub doc: Option<Value>,
}

/// A record decoded for evaluation.
#[derive(Debug)]
pub struct Decoded {
    pub format: Format,
    /// The document id (stable across runs: identical records are the same document).
    pub id: Arc<str>,
    pub views: Vec<View>,
    /// A Sysmon record mapped to ECS, waiting for its lineage: records of this kind go through
    /// [`Engine::complete_endpoint`] in time order once all are read.
    pub pending_endpoint: Option<Value>,
}

impl Engine {
    /// Builds plans for the rules Vigil can run and compiles them against one shared layout.
    pub fn new(rules: Vec<Rule>, schema: &Schema, opts: &EngineOptions) -> Engine {
        let mut planned = Vec::new();
        let mut not_run = Vec::new();
        for rule in rules {
            let unsupported = match &rule.kind {
                RuleKind::MachineLearning { .. } | RuleKind::Other { .. } => {
                    Some(format!("{} rules are not supported", rule.kind.type_name()))
                }
                _ => None,
            };
            if let Some(reason) = unsupported {
                not_run.push(NotRun {
                    name: rule.name.clone(),
                    path: rule.source.path.clone(),
                    reason,
                });
                continue;
            }
            match rule.plan(schema) {
                Ok(rp) => {
                    let mut plan = rp.plan;
                    plan.assign_ids();
                    let metadata_id = rp.metadata.iter().any(|m| m == "_id");
                    planned.push((rule, plan, rp.aggregating, rp.indices, metadata_id));
                }
                Err(e) => not_run.push(NotRun {
                    name: rule.name.clone(),
                    path: e.path.clone(),
                    reason: e.message,
                }),
            }
        }

        let mut layout = Layout::new();
        for f in ROUTING_FIELDS {
            layout.intern(f);
        }
        for (rule, plan, ..) in &planned {
            for f in plan.fields_read() {
                layout.intern(&f);
            }
            if let Some(o) = &rule.timestamp_override {
                layout.intern(o);
            }
            for f in Runner::fields(rule) {
                layout.intern(&f);
            }
        }
        let projection = Projection::new(&layout);

        let mut rules = Vec::new();
        for (rule, plan, aggregating, indices, metadata_id) in planned {
            let fail = |reason: String| NotRun {
                name: rule.name.clone(),
                path: rule.source.path.clone(),
                reason,
            };
            let reads = match reads(&plan, indices) {
                Ok(r) => r,
                Err(reason) => {
                    not_run.push(fail(reason));
                    continue;
                }
            };
            let compiled = match compile(&plan, &layout) {
                Ok(c) => c,
                Err(e) => {
                    not_run.push(fail(e.message));
                    continue;
                }
            };
            let per_source = admission_filters(&plan);
            let admit: Result<Vec<_>, _> = per_source
                .iter()
                .map(|(src, f)| {
                    let f = f.as_ref().map(|e| compile_expr(e, &layout)).transpose()?;
                    Ok::<_, vigil_exec::ExecError>((src.clone(), f))
                })
                .collect();
            let admit = match admit {
                Ok(a) => a,
                Err(e) => {
                    not_run.push(fail(e.message));
                    continue;
                }
            };
            // The byte prefilter needs one condition every matching event meets.
            let admission = match per_source.as_slice() {
                [(_, f)] => f.clone(),
                _ => None,
            };
            // Table rows are rebuilt from the record, not copied: their text may not be in it.
            let literals = match &reads {
                Reads::Indices(_) => admission
                    .as_ref()
                    .and_then(|p| required_literals(p, &literal_mode)),
                Reads::Tables(_) => None,
            };
            let override_slot = rule
                .timestamp_override
                .as_deref()
                .and_then(|o| layout.get(o));
            if Runner::for_rule(&rule, &layout).is_none() {
                not_run.push(fail(format!(
                    "{} rules are not supported",
                    rule.kind.type_name()
                )));
                continue;
            }
            rules.push(EngineRule {
                rule,
                plan,
                compiled,
                aggregating,
                reads,
                metadata_id,
                admit,
                override_slot,
                literals,
            });
        }

        let prefilter = if opts.no_prefilter {
            None
        } else {
            Prefilter::new(rules.iter().map(|r| r.literals.as_deref()))
        };
        let wants_ecs = rules.iter().any(|r| matches!(r.reads, Reads::Indices(_)));
        let tables: BTreeSet<String> = rules
            .iter()
            .filter_map(|r| match &r.reads {
                Reads::Tables(t) => Some(t.iter().cloned()),
                Reads::Indices(_) => None,
            })
            .flatten()
            .collect();
        let names: BTreeSet<&str> = layout.names().collect();
        // Table rows are built from whole records.
        let parse_keys = if tables.is_empty() {
            vigil_normalize::azure_native_keys_for(names.iter().copied()).map(|native| {
                let mut keys: HashSet<String> = native.into_iter().map(str::to_string).collect();
                keys.extend(projection.top_level_keys().map(str::to_string));
                keys.extend(DETECTION_KEYS.iter().map(|k| k.to_string()));
                keys
            })
        } else {
            None
        };
        let slot = |name: &str| layout.get(name).unwrap_or_default();
        let wants_enrichment = layout.names().any(|n| {
            ["source", "geo"]
                .iter()
                .any(|p| n == *p || n.starts_with(&format!("{p}.")))
        });
        Engine {
            slots: Slots {
                timestamp: slot("@timestamp"),
                time_generated: slot("TimeGenerated"),
                index: slot("_index"),
                id: slot("_id"),
                version: slot("_version"),
                data_stream: [
                    slot("data_stream.type"),
                    slot("data_stream.dataset"),
                    slot("data_stream.namespace"),
                ],
            },
            wants_original: layout.get("event.original").is_some(),
            wants_enrichment,
            wants_ecs,
            tables,
            enricher: opts.enricher.clone(),
            rules,
            not_run,
            layout,
            projection,
            parse_keys,
            prefilter,
        }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn prefilter(&self) -> Option<&Prefilter> {
        self.prefilter.as_ref()
    }

    /// False when no rule can match the record (its bytes hold none of the rules' literals).
    pub fn may_match(&self, raw: &[u8]) -> bool {
        self.prefilter.as_ref().is_none_or(|p| p.may_match(raw))
    }

    /// Decodes the fields the rules read: a partial parse, normalization, projection of each
    /// view the rules read.
    pub fn decode(&self, raw: &[u8]) -> Result<Decoded, String> {
        self.decode_as(raw, document_id(raw))
    }

    /// [`Engine::decode`] with the document id given (a record carried over from an earlier
    /// hunt keeps its id).
    pub fn decode_as(&self, raw: &[u8], id: Arc<str>) -> Result<Decoded, String> {
        let doc = match &self.parse_keys {
            Some(keys) => {
                let keys: HashSet<&str> = keys.iter().map(String::as_str).collect();
                vigil_event::parse_json_lazy_keys(raw, &keys).map_err(|e| e.0)?
            }
            None => vigil_event::parse_json(raw).map_err(|e| e.0)?,
        };
        if !matches!(doc, Value::Object(_)) {
            return Err(format!(
                "a record must be a JSON object, found {}",
                doc.type_name()
            ));
        }
        let format = vigil_normalize::detect(&doc);
        let mut out = Decoded {
            format,
            id: id.clone(),
            views: Vec::new(),
            pending_endpoint: None,
        };
        match format {
            Format::AzureActivity => {
                if self.tables.contains("AzureActivity") {
                    let row = vigil_normalize::azure_activity_row(&doc);
                    out.views.push(self.table_view("AzureActivity", row));
                }
                if self.wants_ecs {
                    let text =
                        std::str::from_utf8(raw).map_err(|e| format!("invalid UTF-8: {e}"))?;
                    let mut ecs = vigil_normalize::azure_activity_to_ecs(
                        text,
                        doc,
                        &Options {
                            event_original: self.wants_original,
                            ingested: None,
                        },
                    );
                    if self.wants_enrichment {
                        self.enrich(&mut ecs, format);
                    }
                    out.views.push(self.ecs_view(&ecs, &id, None));
                }
            }
            Format::Ecs | Format::Unknown => match vigil_normalize::detect_endpoint(&doc) {
                Some(EndpointFormat::Sysmon) => {
                    let Some(ecs) = vigil_normalize::sysmon_to_ecs(&doc) else {
                        return Ok(out);
                    };
                    if self.wants_ecs {
                        out.pending_endpoint = Some(ecs);
                    } else {
                        self.endpoint_tables(&ecs, &mut out.views);
                    }
                }
                _ => {
                    if let Some(table) = self.table_of(&doc) {
                        let row = if table == "AzureActivity" {
                            vigil_normalize::azure_activity_row(&doc)
                        } else {
                            doc
                        };
                        out.views.push(self.table_view(table, row));
                    } else {
                        if self.wants_ecs {
                            out.views.push(self.ecs_view(&doc, &id, None));
                        }
                        self.endpoint_tables(&doc, &mut out.views);
                    }
                }
            },
        }
        Ok(out)
    }

    /// Finishes a Sysmon record once the records before it have built its lineage (`tree`,
    /// which it updates), or one whose lineage is already complete (`None`).
    pub fn complete_endpoint(
        &self,
        mut ecs: Value,
        id: &Arc<str>,
        tree: Option<&mut ProcessTree>,
    ) -> Vec<View> {
        if let Some(tree) = tree {
            tree.observe(&mut ecs);
        }
        let mut views = Vec::new();
        self.endpoint_tables(&ecs, &mut views);
        views.push(self.ecs_view(&ecs, id, Some(ecs.clone())));
        views
    }

    /// Table rows an endpoint document also is (a Sysmon file creation is a `DeviceFileEvents`
    /// row, an ECS process start a `DeviceProcessEvents` row).
    fn endpoint_tables(&self, doc: &Value, views: &mut Vec<View>) {
        if self.tables.contains("DeviceFileEvents")
            && let Some(row) = vigil_normalize::sysmon_file_created(doc)
        {
            views.push(self.table_view("DeviceFileEvents", row));
        }
        if self.tables.contains("DeviceProcessEvents")
            && let Some(row) = vigil_normalize::ecs_process_created(doc)
        {
            views.push(self.table_view("DeviceProcessEvents", row));
        }
    }

    /// The table a record in table form belongs to, among the tables rules read: its `Type`
    /// column (Log Analytics exports), else the columns it has (Defender advanced-hunting
    /// exports name no table: `ActionType` and the file or process columns tell).
    fn table_of(&self, doc: &Value) -> Option<&str> {
        if self.tables.is_empty() {
            return None;
        }
        let m = doc.as_object()?;
        let known = |name: &str| self.tables.get(name).map(String::as_str);
        // Log Analytics exports name the table in `Type` (and `$table` in CSV).
        if let Some(Value::Str(t)) = m.get("Type").or_else(|| m.get("$table")) {
            return known(t);
        }
        if m.contains_key("OperationNameValue") {
            return known("AzureActivity");
        }
        let action = m.get("ActionType").and_then(Value::as_str).unwrap_or("");
        let table = if action.starts_with("File")
            || (m.contains_key("FolderPath")
                && m.contains_key("FileName")
                && !m.contains_key("ProcessCommandLine"))
        {
            "DeviceFileEvents"
        } else if action == "ProcessCreated" || m.contains_key("ProcessCommandLine") {
            "DeviceProcessEvents"
        } else if m.contains_key("ActionType") && m.contains_key("DeviceName") {
            "DeviceEvents"
        } else {
            return None;
        };
        known(table)
    }

    fn table_view(&self, table: &str, row: Value) -> View {
        let mut row = match Schema::table(table) {
            Some(schema) => {
                let columns: Vec<(&str, &str)> = schema
                    .columns
                    .iter()
                    .map(|c| (c.name.as_str(), c.kusto_type.as_str()))
                    .collect();
                vigil_normalize::defender_row(&row, &columns)
            }
            None => row,
        };
        // Defender's advanced hunting names the event time `Timestamp`; Sentinel adds
        // `TimeGenerated`.
        if let Value::Object(m) = &mut row
            && !m.get("TimeGenerated").is_some_and(Value::has_content)
            && let Some(t) = m.get("Timestamp").cloned()
        {
            m.insert("TimeGenerated".into(), t);
        }
        let projected = self.projection.project(&row);
        View {
            table: Some(Arc::from(table)),
            timestamp: projected.get(self.slots.time_generated).and_then(as_time),
            row: projected,
            index: None,
            doc: Some(row),
        }
    }

    fn ecs_view(&self, doc: &Value, id: &Arc<str>, keep: Option<Value>) -> View {
        let mut row = self.projection.project(doc);
        let timestamp = row.get(self.slots.timestamp).and_then(as_time);
        let index = match row.get(self.slots.index) {
            Some(Value::Str(s)) => Some(s.to_string()),
            _ => match self
                .slots
                .data_stream
                .map(|s| row.get(s).and_then(Value::as_str))
            {
                [t, Some(ds), ns] => Some(format!(
                    "{}-{ds}-{}",
                    t.unwrap_or("logs"),
                    ns.unwrap_or("default")
                )),
                _ => None,
            },
        };
        // ES|QL's `METADATA _id, _index, _version`.
        row.set(self.slots.id, Some(Value::Str(id.clone())));
        if row.get(self.slots.index).is_none()
            && let Some(i) = &index
        {
            row.set(self.slots.index, Some(Value::str(i)));
        }
        row.set(self.slots.version, Some(Value::Int(1)));
        View {
            table: None,
            row,
            timestamp,
            index,
            doc: keep,
        }
    }

    /// The time that places the event in this rule's search window: for ECS documents the
    /// rule's `timestamp_override`, falling back to `@timestamp` unless the rule disables it;
    /// for table rows `TimeGenerated`.
    pub fn event_time(&self, rule: &EngineRule, v: &View) -> Option<Timestamp> {
        if v.table.is_some() {
            return v.timestamp;
        }
        match rule.override_slot {
            None => v.timestamp,
            Some(slot) => match v.row.get(slot).and_then(as_time) {
                Some(t) => Some(t),
                None if rule.rule.timestamp_override_fallback_disabled => None,
                None => v.timestamp,
            },
        }
    }

    /// True if the rule reads this view of a record.
    pub fn searches(&self, rule: &EngineRule, v: &View) -> bool {
        match (&rule.reads, &v.table) {
            (Reads::Tables(tables), Some(t)) => tables.iter().any(|n| **n == **t),
            (Reads::Indices(patterns), None) => in_indices(patterns, v.index.as_deref()),
            _ => false,
        }
    }

    /// Rules that may need this view of a record.
    pub fn matching_rules(&self, v: &View, ctx: &EvalContext) -> Vec<usize> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| self.searches(r, v) && admits(r, v, ctx))
            .map(|(i, _)| i)
            .collect()
    }

    /// The full normalized (and enriched) ECS document of a record, for alerts.
    pub fn full_document(&self, raw: &[u8]) -> Result<Value, String> {
        let doc = vigil_event::parse_json(raw).map_err(|e| e.0)?;
        let format = vigil_normalize::detect(&doc);
        let mut doc = match format {
            Format::AzureActivity => {
                let text = std::str::from_utf8(raw).map_err(|e| format!("invalid UTF-8: {e}"))?;
                vigil_normalize::azure_activity_to_ecs(
                    text,
                    doc,
                    &Options {
                        event_original: true,
                        ingested: None,
                    },
                )
            }
            _ => doc,
        };
        self.enrich(&mut doc, format);
        Ok(doc)
    }

    /// GeoIP/ASN enrichment where Elastic's pipeline does it (Azure Activity: `source.ip`).
    fn enrich(&self, doc: &mut Value, format: Format) {
        if let (Some(e), Format::AzureActivity) = (&self.enricher, format) {
            e.enrich_source_ip(doc);
        }
    }

    /// The enrichment databases, if any.
    pub fn enricher(&self) -> Option<&Enricher> {
        self.enricher.as_deref()
    }
}

/// What a plan's sources read. A plan may not mix Elasticsearch indices and tables.
fn reads(plan: &Plan, indices: Vec<String>) -> Result<Reads, String> {
    let mut elastic = false;
    let mut tables = Vec::new();
    let mut stack = vec![plan];
    while let Some(p) = stack.pop() {
        if let Plan::Source(s) = p {
            match s.kind {
                SourceKind::Elastic => elastic = true,
                SourceKind::Table => tables.extend(s.names.iter().cloned()),
            }
        }
        stack.extend(p.children());
    }
    match (elastic, tables.is_empty()) {
        (true, false) => Err("the query reads both Elasticsearch indices and tables".into()),
        (_, false) => {
            tables.sort();
            tables.dedup();
            Ok(Reads::Tables(tables))
        }
        _ => Ok(Reads::Indices(indices)),
    }
}

/// Whether a rule may need this view: a single-source plan decides with its filter alone; a
/// plan with several sources (a join) asks the sources that read the view.
fn admits(r: &EngineRule, v: &View, ctx: &EvalContext) -> bool {
    let ok = |f: &Option<CompiledExpr>| f.as_ref().is_none_or(|f| f.matches(&v.row, ctx));
    match r.admit.as_slice() {
        [] => true,
        [(_, f)] => ok(f),
        many => many
            .iter()
            .any(|(src, f)| source_reads(src, v.table.as_deref(), v.index.as_deref()) && ok(f)),
    }
}

/// For each source of the plan, the condition an event of it must meet for the rule to need
/// it: the filters stacked directly above that source, without the conditions on the execution
/// time (`ago(2h)`, `NOW() - 1 day`), which only the run can decide.
fn admission_filters(plan: &Plan) -> Vec<(vigil_plan::Source, Option<Expr>)> {
    fn walk<'a>(
        p: &'a Plan,
        mut chain: Vec<&'a Expr>,
        out: &mut Vec<(vigil_plan::Source, Option<Expr>)>,
    ) {
        match (p, p.children().as_slice()) {
            (Plan::Filter(f), [input]) => {
                chain.push(&f.predicate);
                walk(input, chain, out);
            }
            (Plan::Source(src), []) => {
                let mut conjuncts = Vec::new();
                for e in chain {
                    split_and(e, &mut conjuncts);
                }
                conjuncts.retain(|e| !reads_now(e));
                let f = (!conjuncts.is_empty()).then(|| Expr::and(conjuncts, Default::default()));
                out.push((src.clone(), f));
            }
            // A filter above another operator does not decide about source events.
            (_, children) => children.iter().for_each(|c| walk(c, Vec::new(), out)),
        }
    }
    let mut out = Vec::new();
    walk(plan, Vec::new(), &mut out);
    out
}

fn split_and(e: &Expr, out: &mut Vec<Expr>) {
    match &e.kind {
        ExprKind::And(items) => items.iter().for_each(|i| split_and(i, out)),
        _ => out.push(e.clone()),
    }
}

fn reads_now(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| found |= matches!(x.kind, ExprKind::Now));
    found
}

/// True if an ECS document in `index` is searched by `patterns` (empty: every index).
fn in_indices(patterns: &[String], index: Option<&str>) -> bool {
    let Some(index) = index else { return true };
    if patterns.is_empty() {
        return true;
    }
    let included = patterns
        .iter()
        .filter(|p| !p.starts_with('-'))
        .any(|p| index_matches(p, index));
    let excluded = patterns
        .iter()
        .filter_map(|p| p.strip_prefix('-'))
        .any(|p| index_matches(p, index));
    included && !excluded
}

/// How a field's text appears in raw records of every format Vigil normalizes: the weakest of
/// the Azure mapping and ECS passthrough (verbatim).
fn literal_mode(field: &str) -> LiteralMode {
    vigil_normalize::azure_literal_mode(field)
}

pub(crate) fn as_time(v: &Value) -> Option<Timestamp> {
    match v.coerce_to(DataType::Date)? {
        Value::Date(t) => Some(t),
        _ => None,
    }
}

/// Elasticsearch index pattern matching (`*` wildcards).
fn index_matches(pattern: &str, index: &str) -> bool {
    let pattern = pattern.split_once(':').map_or(pattern, |(_, p)| p);
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == index;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !index.starts_with(first) || !index[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &index[first.len()..index.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// True if a source of the plan reads this view.
pub(crate) fn source_reads(
    source: &vigil_plan::Source,
    v_table: Option<&str>,
    v_index: Option<&str>,
) -> bool {
    match (source.kind, v_table) {
        (SourceKind::Table, Some(t)) => source.names.iter().any(|n| n == t),
        (SourceKind::Elastic, None) => in_indices(&source.names, v_index),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_patterns() {
        assert!(index_matches(
            "logs-azure.activitylogs-*",
            "logs-azure.activitylogs-default"
        ));
        assert!(!index_matches(
            "logs-azure.activitylogs-*",
            "logs-endpoint.events.process-default"
        ));
        assert!(index_matches("logs-*", "logs-x-y"));
        assert!(index_matches("remote:logs-*", "logs-x"));
    }
}
