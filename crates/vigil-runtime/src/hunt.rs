//! `hunt`: replay every rule's schedule over historical records with a simulated clock.
//!
//! Reading is one pass: each record is framed, skipped unparsed when no rule can match its
//! bytes, otherwise decoded once and tested against every rule's per-event filter; matching
//! records are kept. Then each rule's runs are replayed in order, as Kibana would have run them:
//! a run searches `[now - lookback, now]` on the rule's timestamp, its type's runner turns the
//! window into alert drafts, drafts already alerted are dropped (deterministic alert ids),
//! suppression folds groups, and at most `max_signals` alerts are created per run.
//!
//! With a state directory the hunt is incremental and crash-safe: each rule's last completed
//! run, its history (new terms, threshold groups, suppression windows), the alerts already
//! raised and the events a later look-back still needs are committed in batches of runs. A
//! hunt killed mid-way resumes its session: it re-reads its inputs, skips the committed runs,
//! and prints every alert of the session once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigil_event::Value;
use vigil_exec::EvalContext;
use vigil_ingest::{BadRecord, InputInfo, InputStats, Inputs, ItemRef, Progress, Reader};
use vigil_normalize::ProcessTree;

use crate::alert::{Alert, SourceRef, build_alert};
use crate::engine::{Engine, View};
use crate::executor::{DraftSource, Runner};
use crate::schedule::{Run, runs};
use crate::state::{State, StateError, decode_time, encode_time, key_part};
use crate::store::{Candidate, EventStore};
use crate::suppression::{self, Verdict};

/// A callback for reading progress (a progress bar).
pub type ProgressHook = Box<dyn FnMut(&Progress) + Send>;

/// Settings of one hunt.
#[derive(Default)]
pub struct HuntOptions {
    /// Search from this time (default: the earliest matching event).
    pub start: Option<Timestamp>,
    /// Search up to this time (default: the latest matching event).
    pub end: Option<Timestamp>,
    pub ingest: vigil_ingest::Options,
    /// Called as reading progresses.
    pub progress: Option<ProgressHook>,
    /// Bad records kept for the report (all are counted).
    pub max_bad_kept: usize,
    /// Directory of the persistent state; `None` keeps state in memory for this hunt only.
    pub state: Option<PathBuf>,
}

/// Why a hunt could not run.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error(transparent)]
    Input(#[from] vigil_ingest::IngestError),
    #[error(transparent)]
    State(#[from] StateError),
}

/// What a hunt found and read.
#[derive(Debug, Default)]
pub struct HuntReport {
    pub alerts: Vec<Alert>,
    pub inputs: Vec<InputInfo>,
    pub stats: Vec<InputStats>,
    /// The first bad records (see `HuntOptions::max_bad_kept`).
    pub bad: Vec<BadRecord>,
    /// Records not parsed because no rule can match their bytes, per input.
    pub unparsed: Vec<u64>,
    /// Records that parse as JSON but cannot be decoded (not an object, …), counted with bad.
    pub undecodable: u64,
    /// Matching events without a usable timestamp for some rule: no window can hold them.
    pub untimed: u64,
    /// Events carried over from an earlier hunt's look-back.
    pub carried: u64,
    /// Alerts per engine rule.
    pub alerts_per_rule: Vec<u64>,
    /// Alerts folded into others by suppression, per engine rule.
    pub suppressed_per_rule: Vec<u64>,
    /// Runs executed, and runs skipped because an earlier hunt completed them.
    pub runs: u64,
    pub runs_skipped: u64,
    /// The searched range.
    pub range: Option<(Timestamp, Timestamp)>,
    /// True when this hunt resumed one that was interrupted.
    pub resumed: bool,
    /// The session to close with [`finish_session`] once the alerts are delivered.
    pub session: Option<String>,
    pub elapsed: Duration,
}

/// An alert as the state keeps it until its session prints it.
#[derive(Serialize, Deserialize)]
struct StoredAlert {
    rule_id: String,
    created: i128,
    original_time: Option<i128>,
    doc: serde_json::Value,
}

/// Runs per state commit.
const COMMIT_EVERY: usize = 256;

/// Runs a hunt over `paths`.
pub fn hunt(engine: &Engine, paths: &[String], opts: HuntOptions) -> Result<HuntReport, HuntError> {
    let mut inputs = Inputs::new();
    for p in paths {
        inputs.add(p)?;
    }
    hunt_keyed(engine, inputs, paths, opts)
}

/// Runs a hunt over inputs the caller assembled (files, and streams or bytes already in
/// memory with [`Inputs::add_reader`]); each goes through the same format detection.
pub fn hunt_inputs(
    engine: &Engine,
    inputs: Inputs,
    opts: HuntOptions,
) -> Result<HuntReport, HuntError> {
    let names: Vec<String> = inputs.infos().iter().map(|i| i.name.clone()).collect();
    hunt_keyed(engine, inputs, &names, opts)
}

/// A hunt whose session (see [`HuntOptions::state`]) is keyed by `names`.
fn hunt_keyed(
    engine: &Engine,
    inputs: Inputs,
    paths: &[String],
    mut opts: HuntOptions,
) -> Result<HuntReport, HuntError> {
    let started = Instant::now();
    let mut state = match &opts.state {
        Some(dir) => State::open(dir)?,
        None => State::in_memory(),
    };
    let mut report = HuntReport::default();
    let mut store = EventStore::new(engine.rules.len());
    read_inputs(engine, inputs, &mut opts, &mut store, &mut report)?;
    carry_in(engine, &state, &mut store, &mut report);
    store.seal();

    report.alerts_per_rule = vec![0; engine.rules.len()];
    report.suppressed_per_rule = vec![0; engine.rules.len()];
    let span = store.input_span();
    let (Some(start), Some(end)) = (
        opts.start.or(span.map(|s| s.0)),
        opts.end.or(span.map(|s| s.1)),
    ) else {
        report.elapsed = started.elapsed();
        return Ok(report);
    };
    report.range = Some((start, end));

    let session = session_key(engine, paths, opts.start, opts.end, start, end);
    let session_key = format!("sess/{session}");
    report.resumed = state.get(&session_key).is_some();
    state.put(&session_key, b"running".to_vec());
    state.commit()?;

    // The span the rules' last runs searched: a later hunt's first runs look back into it.
    let mut last_span: Option<(Timestamp, Timestamp)> = None;
    for ri in 0..engine.rules.len() {
        if let Some(run) = replay_rule(
            engine,
            ri,
            &store,
            start,
            end,
            &session,
            &mut state,
            &mut report,
        )? {
            last_span = Some(last_span.map_or((run.from, run.now), |(from, now)| {
                (from.min(run.from), now.max(run.now))
            }));
        }
    }
    if let Some((from, now)) = last_span {
        carry_out(&store, from, now, &mut state);
    }

    // Every alert of the session, from this process or from the one that was interrupted. The
    // session stays in the state until the caller has delivered them (`finish_session`): a
    // crash before that delivers them again, never loses them.
    let mut alerts = Vec::new();
    for (_, v) in state.scan(&format!("salert/{session}/")) {
        if let Ok(a) = serde_json::from_slice::<StoredAlert>(&v)
            && let Some(alert) = restore_alert(engine, a)
        {
            alerts.push(alert);
        }
    }
    state.commit()?;
    report.session = Some(session);
    // Per-rule counts over the whole session (a resumed hunt counts the earlier part too).
    report.alerts_per_rule = vec![0; engine.rules.len()];
    for a in &alerts {
        report.alerts_per_rule[a.rule] += 1;
    }
    alerts.sort_by(|a, b| {
        (a.created, a.original_time, a.rule, &a.uuid).cmp(&(
            b.created,
            b.original_time,
            b.rule,
            &b.uuid,
        ))
    });
    report.alerts = alerts;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Closes a hunt's session once its alerts are delivered: a later hunt with the same
/// arguments starts a new session instead of delivering them again.
pub fn finish_session(
    state_dir: Option<&std::path::Path>,
    session: &str,
) -> Result<(), StateError> {
    let Some(dir) = state_dir else { return Ok(()) };
    let mut state = State::open(dir)?;
    for (k, _) in state.scan(&format!("salert/{session}/")) {
        state.delete(&k);
    }
    state.delete(&format!("sess/{session}"));
    state.commit()
}

/// The session a hunt belongs to: the same rules over the same inputs and range resume it.
fn session_key(
    engine: &Engine,
    paths: &[String],
    start_arg: Option<Timestamp>,
    end_arg: Option<Timestamp>,
    start: Timestamp,
    end: Timestamp,
) -> String {
    let mut h = Sha256::new();
    for r in &engine.rules {
        h.update(r.rule.rule_id.as_bytes());
        h.update(b"\n");
    }
    for p in paths {
        h.update(p.as_bytes());
        h.update(b"\n");
    }
    h.update(format!("{start_arg:?}{end_arg:?}{start}{end}").as_bytes());
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Replays one rule; returns its last run (here or in the interrupted hunt this one resumes).
#[allow(clippy::too_many_arguments)]
fn replay_rule(
    engine: &Engine,
    ri: usize,
    store: &EventStore,
    start: Timestamp,
    end: Timestamp,
    session: &str,
    state: &mut State,
    report: &mut HuntReport,
) -> Result<Option<Run>, StateError> {
    let er = &engine.rules[ri];
    let rule = &er.rule;
    let Some(mut runner) = Runner::for_rule(rule, engine.layout()) else {
        return Ok(None);
    };
    let rule_key = key_part(&rule.rule_id);
    let done_key = format!("run/{rule_key}");
    let done = state.get_time(&done_key);
    let sched = rule.schedule;
    let all = runs(start, end, sched.interval, sched.lookback);
    let todo: Vec<Run> = all
        .iter()
        .copied()
        .filter(|r| done.is_none_or(|d| r.now > d))
        .collect();
    report.runs_skipped += (all.len() - todo.len()) as u64;
    let mut last = None;
    for (n, run) in todo.iter().enumerate() {
        report.runs += 1;
        let drafts = runner.run(er, ri, run, store, state);
        let mut created = 0u32;
        for draft in drafts {
            if created >= sched.max_signals {
                break;
            }
            let alerted_key = format!("alerted/{rule_key}/{}", draft.uuid);
            if state.get(&alerted_key).is_some() {
                continue;
            }
            let single = match &draft.source {
                DraftSource::Event(ci) => {
                    let c = &store.candidates[*ci];
                    candidate_doc(engine, c).map(|d| (d, c.source.clone()))
                }
                DraftSource::EventRow(ci, columns) => {
                    let c = &store.candidates[*ci];
                    candidate_doc(engine, c).map(|mut d| {
                        merge_columns(&mut d, columns);
                        (d, c.source.clone())
                    })
                }
                DraftSource::Synthetic(d) => {
                    let index = format!("vigil-{}", rule.kind.type_name());
                    Some((
                        d.clone(),
                        SourceRef {
                            id: draft.uuid.clone().into(),
                            index: index.into(),
                        },
                    ))
                }
                DraftSource::Sequence(members) => {
                    state.put(&alerted_key, encode_time(draft.time));
                    for alert in sequence_alerts(engine, ri, members, store, run.now, &draft.uuid) {
                        keep_alert(state, session, rule, &alert, draft.time);
                    }
                    created += 1;
                    continue;
                }
            };
            let Some((doc, source)) = single else {
                continue;
            };
            state.put(&alerted_key, encode_time(draft.time));
            let mut extra = draft.extra.clone();
            if let Some(s) = &rule.alert_suppression {
                match suppression::apply(rule, s, &draft, &doc, run.now, state) {
                    Some(Verdict::Suppressed) => {
                        report.suppressed_per_rule[ri] += 1;
                        refresh_survivor(rule, s, &doc, session, state);
                        continue;
                    }
                    Some(Verdict::Create(sv)) => {
                        extra.extend(suppression::fields(&sv));
                        if let Some((instance, _)) = suppression::group(rule, s, &doc) {
                            extra.push(("kibana.alert.instance.id".into(), Value::from(instance)));
                        }
                    }
                    None => {}
                }
            }
            let alert = build_alert(rule, ri, &doc, &source, run.now, draft.uuid.clone(), extra);
            keep_alert(state, session, rule, &alert, draft.time);
            created += 1;
        }
        state.put_time(&done_key, run.now);
        last = Some(*run);
        if (n + 1) % COMMIT_EVERY == 0 {
            prune_alerted(rule, run, state);
            state.commit()?;
        }
    }
    // The last run of the rule, here or in the interrupted hunt this one resumes.
    let final_run = last.or_else(|| {
        done.map(|now| Run {
            now,
            from: now.checked_sub(sched.lookback).unwrap_or(now),
            to: now,
        })
    });
    if let Some(run) = final_run {
        prune_alerted(rule, &run, state);
        runner.finish(rule, ri, &run, store, state);
        if let Some(s) = &rule.alert_suppression {
            suppression::prune(rule, s, run.now, state);
        }
        state.commit()?;
    }
    Ok(final_run)
}

/// Keeps an alert in the session until it is delivered.
fn keep_alert(
    state: &mut State,
    session: &str,
    rule: &vigil_rules::Rule,
    alert: &Alert,
    time: Timestamp,
) {
    let stored = StoredAlert {
        rule_id: rule.rule_id.clone(),
        created: alert.created.as_nanosecond(),
        original_time: Some(alert.original_time.unwrap_or(time).as_nanosecond()),
        doc: serde_json::Value::from(&alert.doc),
    };
    state.put(
        &format!("salert/{session}/{}", alert.uuid),
        serde_json::to_vec(&stored).unwrap_or_default(),
    );
}

/// The document an alert about a kept event carries.
pub(crate) fn candidate_doc(engine: &Engine, c: &Candidate) -> Option<Value> {
    match &c.doc {
        Some(d) => Some(d.clone()),
        None => engine.full_document(&c.bytes).ok(),
    }
}

/// Puts a result row's columns over a source document (ES|QL: the row wins).
fn merge_columns(doc: &mut Value, columns: &Value) {
    fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let path = if prefix.is_empty() {
                        k.to_string()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(&path, v, out);
                }
            }
            other => out.push((prefix.to_string(), other.clone())),
        }
    }
    let mut pairs = Vec::new();
    leaves("", columns, &mut pairs);
    for (path, v) in pairs {
        doc.insert_path(&path, v);
    }
}

/// The alerts of an EQL sequence, as Kibana builds them: one building-block alert per event,
/// and one alert for the sequence with the fields all its events share, all in one group.
fn sequence_alerts(
    engine: &Engine,
    ri: usize,
    members: &[usize],
    store: &EventStore,
    created: Timestamp,
    group: &str,
) -> Vec<Alert> {
    let rule = &engine.rules[ri].rule;
    let events: Vec<(Value, SourceRef)> = members
        .iter()
        .filter_map(|&ci| {
            candidate_doc(engine, &store.candidates[ci])
                .map(|d| (d, store.candidates[ci].source.clone()))
        })
        .collect();
    if events.len() != members.len() {
        return Vec::new();
    }
    let group_id = || ("kibana.alert.group.id".to_string(), Value::str(group));
    let mut alerts = Vec::new();
    let mut ancestors = Vec::new();
    for (i, (doc, source)) in events.iter().enumerate() {
        let mut h = Sha256::new();
        h.update(group.as_bytes());
        h.update(i.to_le_bytes());
        let uuid: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let extra = vec![
            (
                "kibana.alert.building_block_type".to_string(),
                Value::str("default"),
            ),
            group_id(),
            ("kibana.alert.group.index".to_string(), Value::Int(i as i64)),
        ];
        let alert = build_alert(rule, ri, doc, source, created, uuid.clone(), extra);
        ancestors.push(ancestor(&source.id, &source.index, 0, "event"));
        ancestors.push(ancestor(
            &uuid,
            ".alerts-security.alerts-default",
            1,
            "signal",
        ));
        alerts.push(alert);
    }
    let shared = events
        .iter()
        .skip(1)
        .try_fold(events[0].0.clone(), |acc, (d, _)| intersection(&acc, d))
        .unwrap_or(Value::Object(Default::default()));
    let shell_source = SourceRef {
        id: group.into(),
        index: ".alerts-security.alerts-default".into(),
    };
    let extra = vec![
        group_id(),
        (
            "kibana.alert.ancestors".to_string(),
            Value::Array(ancestors),
        ),
        ("kibana.alert.depth".to_string(), Value::Int(2)),
    ];
    alerts.push(build_alert(
        rule,
        ri,
        &shared,
        &shell_source,
        created,
        group.to_string(),
        extra,
    ));
    alerts
}

fn ancestor(id: &str, index: &str, depth: i64, kind: &str) -> Value {
    let mut m = vigil_event::Map::new();
    m.insert("id".into(), Value::str(id));
    m.insert("index".into(), Value::str(index));
    m.insert("depth".into(), Value::Int(depth));
    m.insert("type".into(), Value::str(kind));
    Value::Object(m)
}

/// The fields two documents share (Kibana's intersection of a sequence's events): equal
/// values, common array elements, objects compared field by field. `None` when nothing is
/// shared.
fn intersection(a: &Value, b: &Value) -> Option<Value> {
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        return None;
    };
    let mut out = vigil_event::Map::new();
    for (k, av) in a {
        let Some(bv) = b.get(k) else { continue };
        let v = match (av, bv) {
            (Value::Object(_), Value::Object(_)) => intersection(av, bv),
            (Value::Array(x), Value::Array(y)) => Some(Value::Array(
                x.iter().filter(|e| y.contains(e)).cloned().collect(),
            )),
            (Value::Array(x), y) | (y, Value::Array(x)) => Some(Value::Array(
                x.iter().filter(|e| *e == y).cloned().collect(),
            )),
            (x, y) if x == y => Some(x.clone()),
            _ => None,
        };
        if let Some(v) = v {
            out.insert(k.clone(), v);
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Updates the suppression fields of a surviving alert of this session after a fold.
fn refresh_survivor(
    rule: &vigil_rules::Rule,
    s: &vigil_rules::AlertSuppression,
    doc: &Value,
    session: &str,
    state: &mut State,
) {
    let Some((instance, _)) = suppression::group(rule, s, doc) else {
        return;
    };
    let Some(bytes) = state.get(&format!("sup/{}/{instance}", key_part(&rule.rule_id))) else {
        return;
    };
    let Ok(sv) = serde_json::from_slice::<suppression::Survivor>(&bytes) else {
        return;
    };
    let key = format!("salert/{session}/{}", sv.uuid);
    let Some(stored) = state.get(&key) else {
        return;
    };
    let Ok(mut a) = serde_json::from_slice::<StoredAlert>(&stored) else {
        return;
    };
    if let serde_json::Value::Object(m) = &mut a.doc {
        for (k, v) in suppression::fields(&sv) {
            m.insert(k, serde_json::Value::from(&v));
        }
    }
    state.put(&key, serde_json::to_vec(&a).unwrap_or_default());
}

/// Alerted ids whose events no later window can hold.
fn prune_alerted(rule: &vigil_rules::Rule, run: &Run, state: &mut State) {
    let cutoff = run
        .now
        .checked_sub(rule.schedule.lookback)
        .unwrap_or(run.now);
    for (k, v) in state.scan(&format!("alerted/{}/", key_part(&rule.rule_id))) {
        if decode_time(&v).is_none_or(|t| t < cutoff) {
            state.delete(&k);
        }
    }
}

fn restore_alert(engine: &Engine, a: StoredAlert) -> Option<Alert> {
    let rule = engine
        .rules
        .iter()
        .position(|r| r.rule.rule_id == a.rule_id)?;
    let doc = Value::from(a.doc);
    let severity = doc
        .get_str("kibana.alert.severity")
        .and_then(vigil_rules::Severity::parse)
        .unwrap_or(engine.rules[rule].rule.severity);
    Some(Alert {
        uuid: doc.get_str("kibana.alert.uuid")?.to_string(),
        rule,
        created: Timestamp::from_nanosecond(a.created).ok()?,
        original_time: a
            .original_time
            .and_then(|t| Timestamp::from_nanosecond(t).ok()),
        severity,
        doc,
    })
}

/// Events that a later hunt's look-back may need: kept in the state, by time.
fn carry_out(store: &EventStore, cutoff: Timestamp, now: Timestamp, state: &mut State) {
    for (k, _) in state.scan("buf/") {
        let t = k.split('/').nth(1).and_then(|t| decode_time(t.as_bytes()));
        if t.is_none_or(|t| t < cutoff) {
            state.delete(&k);
        }
    }
    let mut keep: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for c in &store.candidates {
        let Some(t) = c.hits.iter().filter_map(|h| h.1).max() else {
            continue;
        };
        if t < cutoff || t > now {
            continue;
        }
        let key = format!(
            "buf/{}/{}",
            String::from_utf8_lossy(&encode_time(t)),
            c.source.id
        );
        // An endpoint document keeps the lineage this hunt rebuilt (and wins over the record's
        // other views); other records are decoded again from their bytes.
        let value = match (&c.table, &c.doc) {
            (None, Some(doc)) => [
                b"E".as_slice(),
                serde_json::Value::from(doc).to_string().as_bytes(),
            ]
            .concat(),
            _ if keep.contains_key(&key) => continue,
            _ => [b"R".as_slice(), &c.bytes].concat(),
        };
        keep.insert(key, value);
    }
    for (k, v) in keep {
        state.put(&k, v);
    }
}

/// Events an earlier hunt left for this one's look-back.
fn carry_in(engine: &Engine, state: &State, store: &mut EventStore, report: &mut HuntReport) {
    let ctx = EvalContext::new(Timestamp::now());
    for (key, value) in state.scan("buf/") {
        let Some(id) = key.rsplit('/').next().map(Arc::<str>::from) else {
            continue;
        };
        let views = match value.split_first() {
            Some((b'E', doc)) => match vigil_event::parse_json(doc) {
                Ok(doc) => engine.complete_endpoint(doc, &id, None),
                Err(_) => continue,
            },
            Some((b'R', raw)) => match engine.decode_as(raw, id.clone()) {
                Ok(d) => match d.pending_endpoint {
                    Some(doc) => engine.complete_endpoint(doc, &id, None),
                    None => d.views,
                },
                Err(_) => continue,
            },
            _ => continue,
        };
        let bytes: Arc<[u8]> = Arc::from(value.get(1..).unwrap_or_default());
        for mut c in view_candidates(engine, &bytes, &id, views, &ctx) {
            c.carried = true;
            if store.add(c) {
                report.carried += 1;
            }
        }
    }
}

/// The candidates of a record's views: those some rule may need.
fn view_candidates(
    engine: &Engine,
    bytes: &Arc<[u8]>,
    id: &Arc<str>,
    views: Vec<View>,
    ctx: &EvalContext,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for v in views {
        let hits: Vec<(usize, Option<Timestamp>)> = engine
            .matching_rules(&v, ctx)
            .into_iter()
            .map(|i| (i, engine.event_time(&engine.rules[i], &v)))
            .collect();
        if hits.is_empty() {
            continue;
        }
        let index: Option<Arc<str>> = v.index.as_deref().map(Arc::from);
        let source_index = match (&v.table, &index) {
            (Some(t), _) => t.clone(),
            (None, Some(i)) => i.clone(),
            (None, None) => Arc::from("vigil-events"),
        };
        out.push(Candidate {
            bytes: bytes.clone(),
            source: SourceRef {
                id: id.clone(),
                index: source_index,
            },
            table: v.table,
            index,
            row: v.row,
            doc: v.doc,
            hits,
            carried: false,
        });
    }
    out
}

/// A Sysmon record waiting for the process tree.
struct PendingEndpoint {
    bytes: Arc<[u8]>,
    id: Arc<str>,
    doc: Value,
    time: Option<Timestamp>,
}

/// What decoding one record gave.
enum Outcome {
    Candidates(Vec<Candidate>),
    Endpoint(PendingEndpoint),
}

/// Decodes a record and keeps the views some rule may need; the error says why a record
/// cannot be decoded.
fn decode_record(engine: &Engine, bytes: Vec<u8>, ctx: &EvalContext) -> Result<Outcome, String> {
    let d = engine.decode(&bytes)?;
    let bytes: Arc<[u8]> = Arc::from(bytes);
    if let Some(doc) = d.pending_endpoint {
        let time = doc.get_path("@timestamp").and_then(crate::engine::as_time);
        return Ok(Outcome::Endpoint(PendingEndpoint {
            bytes,
            id: d.id,
            doc,
            time,
        }));
    }
    Ok(Outcome::Candidates(view_candidates(
        engine, &bytes, &d.id, d.views, ctx,
    )))
}

const BATCH: usize = 4096;

pub(crate) fn read_inputs(
    engine: &Engine,
    inputs: Inputs,
    opts: &mut HuntOptions,
    store: &mut EventStore,
    report: &mut HuntReport,
) -> Result<(), HuntError> {
    let mut reader = Reader::new(inputs, opts.ingest.clone());
    if let Some(hook) = opts.progress.take() {
        reader.set_progress_hook(hook);
    }
    report.unparsed = vec![0; reader.inputs().len()];
    let keep_bad = if opts.max_bad_kept == 0 {
        1000
    } else {
        opts.max_bad_kept
    };
    let mut batch: Vec<(u32, u64, Vec<u8>)> = Vec::with_capacity(BATCH);
    let mut endpoint = Vec::new();
    while let Some(item) = reader.next_ref() {
        match item {
            ItemRef::Record(r) => {
                if engine.may_match(r.bytes) {
                    batch.push((r.input.0, r.line, r.bytes.to_vec()));
                    if batch.len() == BATCH {
                        process(engine, &mut batch, store, &mut endpoint, report, keep_bad);
                    }
                } else {
                    report.unparsed[r.input.index()] += 1;
                }
            }
            ItemRef::Bad(b) => {
                if report.bad.len() < keep_bad {
                    report.bad.push(b);
                }
            }
        }
    }
    process(engine, &mut batch, store, &mut endpoint, report, keep_bad);
    complete_endpoint(engine, endpoint, store, report);
    report.inputs = reader.inputs().to_vec();
    report.stats = reader.stats().to_vec();
    Ok(())
}

/// Sysmon records in time order through one process tree, which rebuilds the lineage
/// (`process.Ext.ancestry`, entity ids) Sysmon lacks.
fn complete_endpoint(
    engine: &Engine,
    mut pending: Vec<PendingEndpoint>,
    store: &mut EventStore,
    report: &mut HuntReport,
) {
    if pending.is_empty() {
        return;
    }
    pending.sort_by_key(|p| p.time);
    let mut tree = ProcessTree::default();
    let ctx = EvalContext::new(Timestamp::now());
    for p in pending {
        let views = engine.complete_endpoint(p.doc, &p.id, Some(&mut tree));
        for c in view_candidates(engine, &p.bytes, &p.id, views, &ctx) {
            add(store, c, report);
        }
    }
}

fn add(store: &mut EventStore, c: Candidate, report: &mut HuntReport) {
    report.untimed += c.hits.iter().filter(|h| h.1.is_none()).count() as u64;
    store.add(c);
}

/// Decodes a batch in parallel and keeps the records some rule may need.
fn process(
    engine: &Engine,
    batch: &mut Vec<(u32, u64, Vec<u8>)>,
    store: &mut EventStore,
    endpoint: &mut Vec<PendingEndpoint>,
    report: &mut HuntReport,
    keep_bad: usize,
) {
    let results: Vec<Result<Outcome, (u32, u64, String)>> = batch
        .par_drain(..)
        .map(|(input, line, bytes)| {
            let ctx = EvalContext::new(Timestamp::now());
            decode_record(engine, bytes, &ctx).map_err(|e| (input, line, e))
        })
        .collect();
    for r in results {
        match r {
            Ok(Outcome::Candidates(cs)) => {
                for c in cs {
                    add(store, c, report);
                }
            }
            Ok(Outcome::Endpoint(p)) => endpoint.push(p),
            Err((input, line, reason)) => {
                report.undecodable += 1;
                if report.bad.len() < keep_bad {
                    report.bad.push(BadRecord {
                        input: vigil_ingest::InputId(input),
                        line,
                        reason,
                    });
                }
            }
        }
    }
}
