//! `explain`: why a rule does or does not alert on given events.
//!
//! Each record is read and decoded as `hunt` reads it (the same engine, so the same views:
//! the ECS document, table rows, Sysmon lineage rebuilt in time order), then each view the
//! rule searches goes through the rule's compiled plan with [`vigil_exec::CompiledPlan::explain`].
//! What the rule type does after its query (threshold groups, new terms, Sentinel's trigger)
//! is stated, not simulated: it depends on other events.

use std::sync::Arc;

use jiff::Timestamp;
use vigil_event::Value;
use vigil_exec::{EvalContext, Explanation, Outcome};
use vigil_ingest::{Inputs, ItemRef, Reader};
use vigil_normalize::{Format, ProcessTree};
use vigil_rules::RuleKind;

use crate::alert::document_id;
use crate::engine::{Engine, EngineRule, View, as_time, source_reads};

/// What the rule would do with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The event alone raises an alert (in the run whose window holds it).
    Alert,
    /// The event passes the rule's conditions on single events; whether it alerts depends on
    /// other events (a sequence, a group, a threshold, term history, a trigger count).
    Depends,
    /// The rule does not alert on this event.
    NoAlert,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Alert => "alert",
            Verdict::Depends => "depends on other events",
            Verdict::NoAlert => "no alert",
        }
    }
}

/// One record explained.
#[derive(Debug)]
pub struct RecordExplain {
    /// The input's name and the record's line in it.
    pub input: String,
    pub line: u64,
    /// What the record was read as (`native Azure Activity record`, `Sysmon event`, …).
    pub kind: &'static str,
    /// Why the record could not be read or decoded.
    pub error: Option<String>,
    /// The literal prefilter would skip the record (no rule literal in its bytes).
    pub prefiltered: bool,
    pub views: Vec<ViewExplain>,
    pub verdict: Verdict,
}

/// One view of a record (its ECS document, a table row) for the rule.
#[derive(Debug)]
pub struct ViewExplain {
    /// `ECS document` or the table's name.
    pub name: String,
    /// The index the ECS document would be in.
    pub index: Option<String>,
    /// The rule searches this view (its indices or tables).
    pub searched: bool,
    /// The time that places the event in the rule's window.
    pub time: Option<Timestamp>,
    /// The run time the plan was evaluated at (`now()`, `NOW()`, date math).
    pub now: Timestamp,
    pub plan: Option<Explanation>,
    /// What the rule type does after its query, for this event.
    pub notes: Vec<String>,
    pub verdict: Verdict,
}

/// Options of an explanation.
#[derive(Clone, Debug, Default)]
pub struct ExplainOptions {
    /// The run time to evaluate at; default: the event's own time (the first run that can
    /// see it), or the clock for an event without one.
    pub now: Option<Timestamp>,
    pub ingest: vigil_ingest::Options,
}

/// Explains the engine's rule `er` for every record of `inputs`, in input order. Records that
/// cannot be read or decoded are listed with the reason.
pub fn explain(
    engine: &Engine,
    er: &EngineRule,
    inputs: Inputs,
    opts: &ExplainOptions,
) -> Vec<RecordExplain> {
    let mut reader = Reader::new(inputs, opts.ingest.clone());
    let mut records: Vec<RecordExplain> = Vec::new();
    // Sysmon records wait for the process tree, built in time order as `hunt` builds it.
    let mut endpoint: Vec<(usize, Option<Timestamp>, Value, Arc<str>)> = Vec::new();
    let mut pending_views: Vec<Vec<View>> = Vec::new();
    while let Some(item) = reader.next_ref() {
        let (input, line, result) = match item {
            ItemRef::Record(r) => {
                let decoded = engine.decode(r.bytes);
                let prefiltered = !engine.may_match(r.bytes);
                (r.input, r.line, decoded.map(|d| (d, prefiltered)))
            }
            ItemRef::Bad(b) => (b.input, b.line, Err(b.reason)),
        };
        let name = reader
            .inputs()
            .get(input.index())
            .map_or_else(String::new, |i| i.name.clone());
        let mut rec = RecordExplain {
            input: name,
            line,
            kind: "",
            error: None,
            prefiltered: false,
            views: Vec::new(),
            verdict: Verdict::NoAlert,
        };
        let mut views = Vec::new();
        match result {
            Err(e) => rec.error = Some(e),
            Ok((d, prefiltered)) => {
                rec.kind = record_kind(d.format, d.pending_endpoint.is_some(), &d.views);
                rec.prefiltered = prefiltered;
                views = d.views;
                if let Some(doc) = d.pending_endpoint {
                    let t = doc.get_path("@timestamp").and_then(as_time);
                    endpoint.push((records.len(), t, doc, d.id));
                }
            }
        }
        records.push(rec);
        pending_views.push(views);
    }
    endpoint.sort_by_key(|e| e.1);
    let mut tree = ProcessTree::default();
    for (i, _, doc, id) in endpoint {
        pending_views[i].extend(engine.complete_endpoint(doc, &id, Some(&mut tree)));
    }
    for (rec, views) in records.iter_mut().zip(pending_views) {
        rec.views = views
            .iter()
            .map(|v| explain_view(engine, er, v, opts.now))
            .collect();
        rec.verdict = record_verdict(rec);
    }
    records
}

/// Explains one raw record (no process lineage across records).
pub fn explain_bytes(
    engine: &Engine,
    er: &EngineRule,
    raw: &[u8],
    now: Option<Timestamp>,
) -> Result<Vec<ViewExplain>, String> {
    let d = engine.decode(raw)?;
    let mut views = d.views;
    if let Some(doc) = d.pending_endpoint {
        views.extend(engine.complete_endpoint(doc, &document_id(raw), None));
    }
    Ok(views
        .iter()
        .map(|v| explain_view(engine, er, v, now))
        .collect())
}

fn record_kind(format: Format, endpoint: bool, views: &[View]) -> &'static str {
    match format {
        Format::AzureActivity => "native Azure Activity record",
        _ if endpoint => "Sysmon event",
        _ if views.iter().any(|v| v.table.is_some()) => "table row",
        Format::Ecs => "ECS document",
        Format::Unknown => "JSON record",
    }
}

fn record_verdict(rec: &RecordExplain) -> Verdict {
    let vs = rec.views.iter().map(|v| v.verdict);
    if vs.clone().any(|v| v == Verdict::Alert) {
        Verdict::Alert
    } else if vs.clone().any(|v| v == Verdict::Depends) {
        Verdict::Depends
    } else {
        Verdict::NoAlert
    }
}

fn explain_view(engine: &Engine, er: &EngineRule, v: &View, now: Option<Timestamp>) -> ViewExplain {
    let name = v
        .table
        .as_deref()
        .map_or_else(|| "ECS document".to_string(), str::to_string);
    let time = engine.event_time(er, v);
    let now = now.or(time).unwrap_or_else(Timestamp::now);
    let mut out = ViewExplain {
        name,
        index: v.index.clone(),
        searched: engine.searches(er, v),
        time,
        now,
        plan: None,
        notes: Vec::new(),
        verdict: Verdict::NoAlert,
    };
    if !out.searched {
        return out;
    }
    let ctx = EvalContext::new(now);
    let rows = |s: &vigil_plan::Source| {
        if source_reads(s, v.table.as_deref(), v.index.as_deref()) {
            vec![(0, &v.row)]
        } else {
            Vec::new()
        }
    };
    let query = er.rule.kind.query().map(|(_, q)| q);
    let plan = er.compiled.explain(&er.plan, &rows, &ctx, query);
    let (verdict, notes) = rule_stage(engine, er, v, plan.outcome);
    out.verdict = verdict;
    out.notes = notes;
    if time.is_none() && verdict != Verdict::NoAlert {
        out.notes
            .push("the event has no time the rule can place in a window: hunt ignores it".into());
        out.verdict = Verdict::NoAlert;
    }
    out.plan = Some(plan);
    out
}

/// What the rule type does after its query with an event the query kept.
fn rule_stage(
    engine: &Engine,
    er: &EngineRule,
    v: &View,
    outcome: Outcome,
) -> (Verdict, Vec<String>) {
    let rows = match outcome {
        Outcome::Dropped => return (Verdict::NoAlert, Vec::new()),
        Outcome::Correlated => return (Verdict::Depends, Vec::new()),
        Outcome::Matched(n) => n,
    };
    let values = |fields: &[String]| -> Vec<(String, Option<Value>)> {
        fields
            .iter()
            .map(|f| {
                let val = engine.layout().get(f).and_then(|s| v.row.get(s)).cloned();
                (f.clone(), val)
            })
            .collect()
    };
    let show = |vals: &[(String, Option<Value>)]| -> String {
        vals.iter()
            .map(|(f, v)| match v {
                Some(v) => format!("{f}={v}"),
                None => format!("{f} missing"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &er.rule.kind {
        RuleKind::Threshold { threshold, .. } => {
            let vals = values(&threshold.fields);
            if vals.iter().any(|(_, v)| v.is_none()) {
                return (
                    Verdict::NoAlert,
                    vec![format!(
                        "the query matches, but a threshold field is missing ({}): the event is in no group",
                        show(&vals)
                    )],
                );
            }
            let mut need = format!(
                "counted in the threshold group ({}); the rule alerts when a group has at least {} events in one run",
                show(&vals),
                threshold.value
            );
            for (f, n) in &threshold.cardinality {
                need.push_str(&format!(" and at least {n} distinct {f}"));
            }
            (Verdict::Depends, vec![need])
        }
        RuleKind::NewTerms { new_terms, .. } => {
            let vals = values(&new_terms.fields);
            if vals.iter().any(|(_, v)| v.is_none()) {
                return (
                    Verdict::NoAlert,
                    vec![format!(
                        "the query matches, but a new-terms field is missing ({}): no term to be new",
                        show(&vals)
                    )],
                );
            }
            (
                Verdict::Depends,
                vec![format!(
                    "terms ({}); the rule alerts if no event since {} had them",
                    show(&vals),
                    new_terms.history_window_start
                )],
            )
        }
        RuleKind::Sentinel(s) => {
            let count = i64::try_from(rows).unwrap_or(i64::MAX);
            let op = match s.trigger_operator {
                vigil_rules::TriggerOperator::Gt => ">",
                vigil_rules::TriggerOperator::Lt => "<",
                vigil_rules::TriggerOperator::Eq => "==",
                vigil_rules::TriggerOperator::Ne => "!=",
            };
            let note = format!(
                "{rows} result row(s); the rule fires when the run's result count {op} {}",
                s.trigger_threshold
            );
            if s.trigger_operator.holds(count, s.trigger_threshold) {
                (Verdict::Alert, vec![note])
            } else {
                (Verdict::Depends, vec![note])
            }
        }
        _ => (Verdict::Alert, Vec::new()),
    }
}
