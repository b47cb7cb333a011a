//! What one run of a rule produces, by rule type, as Kibana's detection engine computes it.
//!
//! A runner turns the rule's events in the run's window into alert drafts; stateful types read
//! and update their history in the [`State`]. Deduplication of drafts already alerted, alert
//! suppression and `max_signals` are applied after, the same for every type.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use vigil_event::{Layout, Map, SlotId, Value, format_es_date};
use vigil_exec::{Columns, EvalContext, ExecOutput};
use vigil_rules::{Grouping, NewTerms, Rule, RuleKind, Threshold};

use crate::alert::{SourceRef, query_alert_id};
use crate::engine::{EngineRule, as_time, source_reads};
use crate::schedule::Run;
use crate::state::{State, decode_time, encode_time, key_part};
use crate::store::EventStore;

/// An alert before it is built.
#[derive(Clone, Debug)]
pub struct Draft {
    pub uuid: String,
    pub source: DraftSource,
    /// The event time the alert is about (`kibana.alert.original_time`), or the run's time for
    /// alerts about groups.
    pub time: Timestamp,
    /// Fields added to the alert (`kibana.alert.new_terms`, threshold results, …).
    pub extra: Vec<(String, Value)>,
}

#[derive(Clone, Debug)]
pub enum DraftSource {
    /// An event in the store: the alert carries its document.
    Event(usize),
    /// A document the rule builds (threshold buckets, Kusto result rows).
    Synthetic(Value),
    /// A query result row about one source event (ES|QL with `METADATA _id`): the event's
    /// document with the row's columns over it.
    EventRow(usize, Value),
    /// An EQL sequence (or sample): its events, in order. One building-block alert per event
    /// and one alert for the whole.
    Sequence(Vec<usize>),
}

/// A rule type's run logic.
#[derive(Debug)]
pub enum Runner {
    Query,
    NewTerms(NewTermsRunner),
    Threshold(ThresholdRunner),
    Eql,
    Esql,
    Sentinel,
}

impl Runner {
    /// The runner for a rule, with the field slots it reads. `None` when the type has none.
    pub fn for_rule(rule: &Rule, layout: &Layout) -> Option<Runner> {
        let slots = |fields: &[String]| {
            fields
                .iter()
                .map(|f| layout.get(f))
                .collect::<Option<Vec<SlotId>>>()
        };
        match &rule.kind {
            RuleKind::Query { .. } => Some(Runner::Query),
            RuleKind::NewTerms { new_terms, .. } => Some(Runner::NewTerms(NewTermsRunner::new(
                new_terms,
                slots(&new_terms.fields)?,
            ))),
            RuleKind::Threshold { threshold, .. } => {
                let card: Vec<String> = threshold.cardinality.iter().map(|c| c.0.clone()).collect();
                Some(Runner::Threshold(ThresholdRunner {
                    threshold: threshold.clone(),
                    slots: slots(&threshold.fields)?,
                    cardinality_slots: slots(&card)?,
                }))
            }
            RuleKind::Eql { .. } => Some(Runner::Eql),
            RuleKind::Esql { .. } => Some(Runner::Esql),
            RuleKind::Sentinel(_) => Some(Runner::Sentinel),
            RuleKind::MachineLearning { .. } | RuleKind::Other { .. } => None,
        }
    }

    /// Fields a rule type reads beyond its query.
    pub fn fields(rule: &Rule) -> Vec<String> {
        match &rule.kind {
            RuleKind::NewTerms { new_terms, .. } => new_terms.fields.clone(),
            RuleKind::Threshold { threshold, .. } => threshold
                .fields
                .iter()
                .cloned()
                .chain(threshold.cardinality.iter().map(|c| c.0.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The drafts of one run.
    pub fn run(
        &mut self,
        er: &EngineRule,
        ri: usize,
        run: &Run,
        store: &EventStore,
        state: &mut State,
    ) -> Vec<Draft> {
        let rule = &er.rule;
        match self {
            Runner::Query => matching_window(er, ri, run, store)
                .into_iter()
                .map(|(t, ci)| Draft {
                    uuid: query_alert_id(&store.candidates[ci].source, &rule.rule_id),
                    source: DraftSource::Event(ci),
                    time: t,
                    extra: Vec::new(),
                })
                .collect(),
            Runner::NewTerms(r) => r.run(er, ri, run, store, state),
            Runner::Threshold(r) => r.run(er, ri, run, store, state),
            Runner::Eql => eql_run(er, ri, run, store),
            Runner::Esql => esql_run(er, ri, run, store),
            Runner::Sentinel => sentinel_run(er, ri, run, store),
        }
    }

    /// After the last run: records what later hunts need and drops history no future run can
    /// need.
    pub fn finish(
        &mut self,
        rule: &Rule,
        ri: usize,
        last: &Run,
        store: &EventStore,
        state: &mut State,
    ) {
        let prefix = match self {
            Runner::NewTerms(r) => {
                r.record_all(rule, ri, last, store, state);
                let cutoff = last.now.checked_sub(r.history).unwrap_or(last.now);
                (format!("nt/{}/", key_part(&rule.rule_id)), cutoff)
            }
            Runner::Threshold(_) => (format!("thr/{}/", key_part(&rule.rule_id)), last.from),
            _ => return,
        };
        for (k, v) in state.scan(&prefix.0) {
            if decode_time(&v).is_none_or(|t| t < prefix.1) {
                state.delete(&k);
            }
        }
    }
}

/// The rule's events in the run's window that its query matches at the run's time. Events
/// were admitted without the query's time conditions (`@timestamp > now-1d`), checked here.
fn matching_window(
    er: &EngineRule,
    ri: usize,
    run: &Run,
    store: &EventStore,
) -> Vec<(Timestamp, usize)> {
    let window = store.window(ri, run.from, run.to);
    let ctx = EvalContext::new(run.now);
    let filters = er.compiled.source_filters();
    window
        .iter()
        .copied()
        .filter(|&(_, ci)| {
            let row = &store.candidates[ci].row;
            filters.iter().all(|f| f.matches(row, &ctx))
        })
        .collect()
}

/// Runs the rule's plan over the events of the run's window, at the run's time.
fn exec_window(er: &EngineRule, ri: usize, run: &Run, store: &EventStore) -> ExecOutput {
    let window = store.window(ri, run.from, run.to);
    exec_events(er, store, window, &EvalContext::new(run.now))
}

/// Runs the rule's plan over `events` (time, candidate) in order: each source gets the events
/// of its indices or table.
pub(crate) fn exec_events<T>(
    er: &EngineRule,
    store: &EventStore,
    events: &[(T, usize)],
    ctx: &EvalContext,
) -> ExecOutput {
    let rows = |source: &vigil_plan::Source| -> Vec<(usize, &vigil_event::Row)> {
        events
            .iter()
            .filter(|&&(_, ci)| {
                let c = &store.candidates[ci];
                source_reads(source, c.table.as_deref(), c.index.as_deref())
            })
            .map(|&(_, ci)| (ci, &store.candidates[ci].row))
            .collect()
    };
    er.compiled.run_sources(&rows, ctx)
}

/// The result columns of a row as a document: names with dots become nested objects, as
/// Kibana expands them. Null columns are left out.
fn columns_doc(columns: &Columns, row: &vigil_event::Row) -> Value {
    let cols = match columns {
        Columns::Events { computed } => computed,
        Columns::Explicit(cols) => cols,
    };
    let mut doc = Value::Object(Map::new());
    for (name, slot) in cols {
        if let Some(v) = row.get(*slot) {
            doc.insert_path(name, v.clone());
        }
    }
    doc
}

/// EQL: one alert per matching event; a sequence's events become building blocks under one
/// alert for the sequence.
fn eql_run(er: &EngineRule, ri: usize, run: &Run, store: &EventStore) -> Vec<Draft> {
    let rule_id = &er.rule.rule_id;
    let out = exec_window(er, ri, run, store);
    let mut drafts = Vec::new();
    for row in out.rows {
        if !row.members.is_empty() {
            let members = row.members;
            let time = members
                .iter()
                .filter_map(|&ci| store.time_of(ci, ri))
                .max()
                .unwrap_or(run.now);
            let mut h = Sha256::new();
            h.update(rule_id.as_bytes());
            for &ci in &members {
                let s = &store.candidates[ci].source;
                h.update(b"\x1f");
                h.update(s.index.as_bytes());
                h.update(b"/");
                h.update(s.id.as_bytes());
            }
            drafts.push(Draft {
                uuid: hex_digest(&h.finalize()),
                source: DraftSource::Sequence(members),
                time,
                extra: Vec::new(),
            });
        } else if let Some(ci) = row.origin {
            drafts.push(Draft {
                uuid: query_alert_id(&store.candidates[ci].source, rule_id),
                source: DraftSource::Event(ci),
                time: store.time_of(ci, ri).unwrap_or(run.now),
                extra: Vec::new(),
            });
        }
    }
    drafts
}

/// ES|QL: one alert per result row. Rows about one source document (a query without `STATS`
/// that asks for `METADATA _id`) are identified by that document, so overlapping runs do not
/// repeat them; other rows by the run and their values.
fn esql_run(er: &EngineRule, ri: usize, run: &Run, store: &EventStore) -> Vec<Draft> {
    let rule_id = &er.rule.rule_id;
    let out = exec_window(er, ri, run, store);
    let by_document = !er.aggregating && er.metadata_id;
    out.rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let columns = columns_doc(&out.columns, &row.row);
            match row.origin.filter(|_| by_document) {
                Some(ci) => Draft {
                    uuid: query_alert_id(&store.candidates[ci].source, rule_id),
                    source: DraftSource::EventRow(ci, columns),
                    time: store.time_of(ci, ri).unwrap_or(run.now),
                    extra: Vec::new(),
                },
                None => Draft {
                    uuid: run_row_id(rule_id, run, i, &columns),
                    time: row
                        .origin
                        .and_then(|ci| store.time_of(ci, ri))
                        .unwrap_or(run.now),
                    source: DraftSource::Synthetic(columns),
                    extra: Vec::new(),
                },
            }
        })
        .collect()
}

/// An id for a result row of one run: the same run over the same events gives the same id.
fn run_row_id(rule_id: &str, run: &Run, i: usize, columns: &Value) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update(format_es_date(run.from).as_bytes());
    h.update(format_es_date(run.to).as_bytes());
    h.update(i.to_le_bytes());
    h.update(columns.to_string().as_bytes());
    hex_digest(&h.finalize())
}

/// Sentinel scheduled rules: the query runs over the last `queryPeriod`; when the number of
/// result rows passes the trigger, one alert per row (or one per run with `SingleAlert`),
/// with the rule's entities and custom details.
fn sentinel_run(er: &EngineRule, ri: usize, run: &Run, store: &EventStore) -> Vec<Draft> {
    let RuleKind::Sentinel(s) = &er.rule.kind else {
        return Vec::new();
    };
    let out = exec_window(er, ri, run, store);
    let count = i64::try_from(out.rows.len()).unwrap_or(i64::MAX);
    if !s.trigger_operator.holds(count, s.trigger_threshold) {
        return Vec::new();
    }
    let row_doc = |row: &vigil_exec::OutRow| -> Value {
        let mut doc = match (&out.columns, row.origin) {
            (Columns::Events { .. }, Some(ci)) => store.candidates[ci]
                .doc
                .clone()
                .unwrap_or(Value::Object(Map::new())),
            _ => Value::Object(Map::new()),
        };
        let cols = match &out.columns {
            Columns::Events { computed } => computed,
            Columns::Explicit(cols) => cols,
        };
        if let Value::Object(m) = &mut doc {
            for (name, slot) in cols {
                m.insert(
                    Arc::from(name.as_str()),
                    row.row.get(*slot).cloned().unwrap_or(Value::Null),
                );
            }
        }
        doc
    };
    let time_of = |doc: &Value| {
        doc.get_path("TimeGenerated")
            .and_then(as_time)
            .unwrap_or(run.now)
    };
    let docs: Vec<Value> = out.rows.iter().map(row_doc).collect();
    match s.grouping {
        Grouping::AlertPerResult => docs
            .into_iter()
            .enumerate()
            .map(|(i, doc)| Draft {
                uuid: run_row_id(&er.rule.rule_id, run, i, &doc),
                time: time_of(&doc),
                extra: sentinel_fields(s, std::slice::from_ref(&doc), count),
                source: DraftSource::Synthetic(doc),
            })
            .collect(),
        Grouping::SingleAlert => {
            let extra = sentinel_fields(s, &docs, count);
            let first = docs.into_iter().next().unwrap_or(Value::Object(Map::new()));
            vec![Draft {
                uuid: run_row_id(&er.rule.rule_id, run, 0, &Value::Int(count)),
                time: run.now,
                extra,
                source: DraftSource::Synthetic(first),
            }]
        }
    }
}

/// The entities, custom details and result count of a Sentinel alert over `rows`.
fn sentinel_fields(
    s: &vigil_rules::SentinelRule,
    rows: &[Value],
    count: i64,
) -> Vec<(String, Value)> {
    let text = |v: &Value| match v {
        Value::Str(s) => s.to_string(),
        other => other.to_string(),
    };
    let mut entities: Vec<Value> = Vec::new();
    for row in rows {
        for m in &s.entity_mappings {
            let mut e = Map::new();
            for (identifier, column) in &m.fields {
                // Kusto's empty string is "no value": Sentinel maps no identifier from it.
                let present =
                    |v: &&Value| v.has_content() && !matches!(v, Value::Str(s) if s.is_empty());
                if let Some(v) = row.get_path(column).filter(present) {
                    e.insert(Arc::from(identifier.as_str()), Value::from(text(v)));
                }
            }
            if e.is_empty() {
                continue;
            }
            e.insert(Arc::from("Type"), Value::str(&m.entity_type));
            let e = Value::Object(e);
            if !entities.contains(&e) {
                entities.push(e);
            }
        }
    }
    let mut details = Map::new();
    for (key, column) in &s.custom_details {
        let values: Vec<Value> = rows
            .iter()
            .filter_map(|r| r.get_path(column))
            .filter(|v| v.has_content())
            .map(|v| Value::from(text(v)))
            .collect();
        details.insert(Arc::from(key.as_str()), Value::Array(values));
    }
    let mut out = vec![("sentinel.alert.result_count".to_string(), Value::Int(count))];
    if !entities.is_empty() {
        out.push(("sentinel.alert.entities".into(), Value::Array(entities)));
    }
    if !details.is_empty() {
        out.push((
            "sentinel.alert.custom_details".into(),
            Value::Object(details),
        ));
    }
    out
}

/// The values of a field, one per element of a multi-valued field.
fn field_values(row: &vigil_event::Row, slot: SlotId) -> Vec<Value> {
    row.get(slot)
        .map(|v| v.leaves().cloned().collect())
        .unwrap_or_default()
}

/// Every combination of one value per field (the terms a document holds). Empty when a field
/// is missing.
fn combinations(per_field: &[Vec<Value>]) -> Vec<Vec<Value>> {
    let mut out = vec![Vec::new()];
    for values in per_field {
        if values.is_empty() {
            return Vec::new();
        }
        out = out
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    out
}

/// A stable key for a tuple of term values.
fn term_key(values: &[Value]) -> String {
    let text: Vec<String> = values
        .iter()
        .map(|v| serde_json::to_string(v).unwrap_or_default())
        .collect();
    hex_digest(text.join("\u{1f}").as_bytes())
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Each term (by key): its values and its occurrences (time, event), in time order.
type Occurrences = HashMap<String, (Vec<Value>, Vec<(Timestamp, usize)>)>;

/// new_terms: a term (a value, or a tuple of values of up to three fields) is new when its
/// earliest occurrence between `history_window_start` and the run's `now` lies inside the
/// run's window. The alert comes from that earliest document.
#[derive(Debug)]
pub struct NewTermsRunner {
    slots: Vec<SlotId>,
    history: SignedDuration,
    /// Each term's occurrences in this hunt's events, in time order; built on first use.
    occurrences: Option<Occurrences>,
}

impl NewTermsRunner {
    fn new(nt: &NewTerms, slots: Vec<SlotId>) -> NewTermsRunner {
        let history = nt
            .history_window_start
            .trim()
            .strip_prefix("now-")
            .and_then(|d| vigil_event::parse_duration_es(d).ok())
            .unwrap_or(SignedDuration::from_hours(7 * 24));
        NewTermsRunner {
            slots,
            history,
            occurrences: None,
        }
    }

    /// Each term's occurrences in this hunt's events, in time order.
    fn occurrences(&mut self, ri: usize, store: &EventStore) -> &Occurrences {
        let slots = &self.slots;
        self.occurrences.get_or_insert_with(|| {
            let mut m: Occurrences = HashMap::new();
            for &(t, ci) in store.events(ri) {
                for combo in terms_of(&store.candidates[ci].row, slots) {
                    let key = term_key(&combo);
                    m.entry(key)
                        .or_insert_with(|| (combo, Vec::new()))
                        .1
                        .push((t, ci));
                }
            }
            m
        })
    }

    fn run(
        &mut self,
        er: &EngineRule,
        ri: usize,
        run: &Run,
        store: &EventStore,
        state: &mut State,
    ) -> Vec<Draft> {
        let rule = &er.rule;
        let history_start = run.now.checked_sub(self.history).unwrap_or(run.now);
        let prefix = format!("nt/{}/", key_part(&rule.rule_id));
        let mut window_terms: BTreeMap<String, ()> = BTreeMap::new();
        for (_, ci) in matching_window(er, ri, run, store) {
            for combo in terms_of(&store.candidates[ci].row, &self.slots) {
                window_terms.insert(term_key(&combo), ());
            }
        }
        let occ = self.occurrences(ri, store);
        let mut drafts = Vec::new();
        for key in window_terms.keys() {
            let Some((values, times)) = occ.get(key) else {
                continue;
            };
            // Seen by an earlier hunt inside the history window: not new. The state holds what
            // earlier hunts saw; this hunt's own occurrences are in `times` and are written
            // only when it finishes, so that a resumed hunt reads the same history.
            if state
                .get_time(&format!("{prefix}{key}"))
                .is_some_and(|t| t >= history_start && t < run.from)
            {
                continue;
            }
            let first = times.partition_point(|(t, _)| *t < history_start);
            let Some(&(t, ci)) = times.get(first) else {
                continue;
            };
            if t < run.from || t > run.to {
                continue;
            }
            let source = &store.candidates[ci].source;
            drafts.push(Draft {
                uuid: new_terms_alert_id(source, &rule.rule_id, values),
                source: DraftSource::Event(ci),
                time: t,
                extra: vec![(
                    "kibana.alert.new_terms".into(),
                    Value::Array(values.clone()),
                )],
            });
        }
        drafts.sort_by_key(|d| d.time);
        drafts
    }

    /// Every term this hunt saw before the last run's window (also outside any window: events
    /// before `--start`) becomes history for later hunts, as Kibana's history query reads every
    /// matching document. The state keeps each term's latest such occurrence; occurrences
    /// inside the last window reach the next hunt as carried events instead, so the state never
    /// holds a time a later window can contain (it would hide the earlier occurrences).
    fn record_all(
        &mut self,
        rule: &Rule,
        ri: usize,
        last: &Run,
        store: &EventStore,
        state: &mut State,
    ) {
        let prefix = format!("nt/{}/", key_part(&rule.rule_id));
        for (key, (_, times)) in self.occurrences(ri, store) {
            let upto = times.partition_point(|(t, _)| *t < last.from);
            if let Some(&(latest, _)) = times[..upto].last() {
                let k = format!("{prefix}{key}");
                if state.get_time(&k).is_none_or(|known| known < latest) {
                    state.put_time(&k, latest);
                }
            }
        }
    }
}

/// The term tuples a row holds for the given fields.
fn terms_of(row: &vigil_event::Row, slots: &[SlotId]) -> Vec<Vec<Value>> {
    let per_field: Vec<Vec<Value>> = slots.iter().map(|s| field_values(row, *s)).collect();
    combinations(&per_field)
}

/// Kibana derives a new-terms alert's id from its source document, the rule and the terms.
fn new_terms_alert_id(source: &SourceRef, rule_id: &str, terms: &[Value]) -> String {
    let mut h = Sha256::new();
    h.update(source.index.as_bytes());
    h.update(source.id.as_bytes());
    h.update(rule_id.as_bytes());
    for t in terms {
        h.update(b"\x1f");
        h.update(t.to_string().as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// threshold: events of the window grouped by up to three fields; a group with at least
/// `value` events (and `cardinality` distinct values) alerts once, and later runs count only
/// that group's events newer than its last alert.
#[derive(Debug)]
pub struct ThresholdRunner {
    threshold: Threshold,
    slots: Vec<SlotId>,
    cardinality_slots: Vec<SlotId>,
}

/// Kibana's namespace for threshold signal ids (uuid v5).
const THRESHOLD_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x0684ec03_7201_4ee0_8ee0_3a3f6b2479b2);

impl ThresholdRunner {
    fn run(
        &mut self,
        er: &EngineRule,
        ri: usize,
        run: &Run,
        store: &EventStore,
        state: &mut State,
    ) -> Vec<Draft> {
        let rule = &er.rule;
        struct Bucket {
            values: Vec<Value>,
            events: Vec<(Timestamp, usize)>,
        }
        let mut buckets: BTreeMap<String, Bucket> = BTreeMap::new();
        for (t, ci) in matching_window(er, ri, run, store) {
            let per_field: Vec<Vec<Value>> = self
                .slots
                .iter()
                .map(|s| field_values(&store.candidates[ci].row, *s))
                .collect();
            for combo in combinations(&per_field) {
                let key = term_key(&combo);
                buckets
                    .entry(key)
                    .or_insert_with(|| Bucket {
                        values: combo,
                        events: Vec::new(),
                    })
                    .events
                    .push((t, ci));
            }
        }
        let prefix = format!("thr/{}/", key_part(&rule.rule_id));
        let mut drafts = Vec::new();
        for b in buckets.into_values() {
            let state_key = format!("{prefix}{}", self.terms_hash(&b.values));
            let after = state.get_time(&state_key);
            let counted: Vec<&(Timestamp, usize)> = b
                .events
                .iter()
                .filter(|(t, _)| after.is_none_or(|a| *t > a))
                .collect();
            let count = counted.len() as u64;
            if count == 0 || count < self.threshold.value {
                continue;
            }
            let mut cardinality = Vec::new();
            let mut passes = true;
            for ((field, min), slot) in self
                .threshold
                .cardinality
                .iter()
                .zip(&self.cardinality_slots)
            {
                let distinct: HashSet<String> = counted
                    .iter()
                    .flat_map(|(_, ci)| field_values(&store.candidates[*ci].row, *slot))
                    .map(|v| v.to_string())
                    .collect();
                passes &= distinct.len() as u64 >= *min;
                cardinality.push((field.clone(), distinct.len() as u64));
            }
            if !passes {
                continue;
            }
            let from = counted.iter().map(|e| e.0).min().unwrap_or(run.from);
            let to = counted.iter().map(|e| e.0).max().unwrap_or(run.to);
            state.put(&state_key, encode_time(to));
            drafts.push(self.draft(
                rule,
                run,
                &b.values,
                count,
                &cardinality,
                from,
                to,
                store,
                counted[0].1,
            ));
        }
        drafts
    }

    /// Kibana's threshold terms hash (sha256 of the sorted `field:value` pairs).
    fn terms_hash(&self, values: &[Value]) -> String {
        let mut pairs: Vec<String> = self
            .threshold
            .fields
            .iter()
            .zip(values)
            .map(|(f, v)| format!("{f}:{v}"))
            .collect();
        pairs.sort();
        hex_digest(pairs.join(",").as_bytes())
    }

    #[allow(clippy::too_many_arguments)]
    fn draft(
        &self,
        rule: &Rule,
        run: &Run,
        values: &[Value],
        count: u64,
        cardinality: &[(String, u64)],
        from: Timestamp,
        to: Timestamp,
        store: &EventStore,
        first_event: usize,
    ) -> Draft {
        // The signal id Kibana computes: uuid v5 over rule, run start, fields and sorted values.
        let mut sorted: Vec<String> = values.iter().map(ToString::to_string).collect();
        sorted.sort();
        let base = format!(
            "{}{}{}{}",
            rule.rule_id,
            format_es_date(run.now),
            self.threshold.fields.join(","),
            sorted.join(",")
        );
        let signal_id = uuid::Uuid::new_v5(&THRESHOLD_NAMESPACE, base.as_bytes()).to_string();
        let index = store.candidates[first_event].source.index.clone();
        let source = SourceRef {
            id: Arc::from(signal_id.as_str()),
            index,
        };

        let mut doc = Map::new();
        doc.insert(Arc::from("@timestamp"), Value::str(&format_es_date(to)));
        let mut terms = Vec::new();
        for (f, v) in self.threshold.fields.iter().zip(values) {
            doc.insert(Arc::from(f.as_str()), v.clone());
            terms.push(obj(&[("field", Value::str(f)), ("value", v.clone())]));
        }
        let mut result = vec![
            ("terms", Value::Array(terms)),
            (
                "count",
                Value::Int(i64::try_from(count).unwrap_or(i64::MAX)),
            ),
            ("from", Value::str(&format_es_date(from))),
        ];
        if !cardinality.is_empty() {
            result.push((
                "cardinality",
                Value::Array(
                    cardinality
                        .iter()
                        .map(|(f, n)| {
                            obj(&[
                                ("field", Value::str(f)),
                                ("value", Value::Int(i64::try_from(*n).unwrap_or(i64::MAX))),
                            ])
                        })
                        .collect(),
                ),
            ));
        }
        Draft {
            uuid: query_alert_id(&source, &rule.rule_id),
            source: DraftSource::Synthetic(Value::Object(doc)),
            time: to,
            extra: vec![("kibana.alert.threshold_result".into(), obj(&result))],
        }
    }
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (Arc::from(*k), v.clone()))
            .collect(),
    )
}
