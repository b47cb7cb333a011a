//! `hunt`: replay every rule's schedule over historical records with a simulated clock.
//!
//! Reading is one pass: each record is framed, skipped unparsed when no rule can match its
//! bytes, otherwise decoded once and tested against every rule's per-event filter. Matching
//! records are kept (bytes and times). Then each rule's runs are replayed in order: a run
//! searches `[now - lookback, now]` on the rule's timestamp, alerts on events no earlier run
//! alerted on (Kibana's deterministic alert ids), at most `max_signals` per run, oldest first.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rayon::prelude::*;
use vigil_exec::EvalContext;
use vigil_ingest::{BadRecord, InputInfo, InputStats, ItemRef, Progress, Reader};

use crate::alert::{Alert, SourceRef, document_id, event_alert, query_alert_id};
use crate::engine::Engine;
use crate::schedule::runs;

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
}

/// A callback for reading progress (a progress bar).
pub type ProgressHook = Box<dyn FnMut(&Progress) + Send>;

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
    /// Alerts per engine rule.
    pub alerts_per_rule: Vec<u64>,
    /// The searched range.
    pub range: Option<(Timestamp, Timestamp)>,
    pub elapsed: Duration,
}

/// A record some rule's filter matched.
struct Candidate {
    bytes: Vec<u8>,
    source: SourceRef,
    /// (rule index, event time for that rule).
    hits: Vec<(usize, Option<Timestamp>)>,
}

/// Runs a hunt over `paths`.
pub fn hunt(
    engine: &Engine,
    paths: &[String],
    mut opts: HuntOptions,
) -> Result<HuntReport, vigil_ingest::IngestError> {
    let started = Instant::now();
    let mut reader = Reader::open(paths, opts.ingest.clone())?;
    if let Some(hook) = opts.progress.take() {
        reader.set_progress_hook(hook);
    }
    let mut report = HuntReport {
        unparsed: vec![0; reader.inputs().len()],
        ..HuntReport::default()
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut batch: Vec<(u32, u64, Vec<u8>)> = Vec::with_capacity(BATCH);
    let keep_bad = if opts.max_bad_kept == 0 {
        1000
    } else {
        opts.max_bad_kept
    };

    while let Some(item) = reader.next_ref() {
        match item {
            ItemRef::Record(r) => {
                if engine.may_match(r.bytes) {
                    batch.push((r.input.0, r.line, r.bytes.to_vec()));
                    if batch.len() == BATCH {
                        process(engine, &mut batch, &mut candidates, &mut report);
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
    process(engine, &mut batch, &mut candidates, &mut report);
    report.inputs = reader.inputs().to_vec();
    report.stats = reader.stats().to_vec();

    // The range: as given, or the span of the matching events.
    let times = candidates
        .iter()
        .flat_map(|c| c.hits.iter().filter_map(|h| h.1));
    let (lo, hi) = times.fold((None::<Timestamp>, None::<Timestamp>), |(lo, hi), t| {
        (
            Some(lo.map_or(t, |l| l.min(t))),
            Some(hi.map_or(t, |h| h.max(t))),
        )
    });
    let start = opts.start.or(lo);
    let end = opts.end.or(hi);
    report.alerts_per_rule = vec![0; engine.rules.len()];
    if let (Some(start), Some(end)) = (start, end) {
        report.range = Some((start, end));
        report.alerts = replay(engine, &candidates, start, end, &mut report);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

const BATCH: usize = 4096;

/// Decodes a batch in parallel and keeps the records some rule matches.
fn process(
    engine: &Engine,
    batch: &mut Vec<(u32, u64, Vec<u8>)>,
    out: &mut Vec<Candidate>,
    report: &mut HuntReport,
) {
    let results: Vec<Result<Option<Candidate>, (u32, u64, String)>> = batch
        .par_drain(..)
        .map(|(input, line, bytes)| {
            let ctx = EvalContext::new(Timestamp::now());
            let d = engine.decode(&bytes).map_err(|e| (input, line, e))?;
            let hits: Vec<(usize, Option<Timestamp>)> = engine
                .matching_rules(&d, &ctx)
                .into_iter()
                .map(|i| (i, engine.event_time(&engine.rules[i], &d)))
                .collect();
            if hits.is_empty() {
                return Ok(None);
            }
            let index = d.index.as_deref().unwrap_or("vigil-events");
            let source = SourceRef {
                id: document_id(&bytes),
                index: index.into(),
            };
            Ok(Some(Candidate {
                bytes,
                source,
                hits,
            }))
        })
        .collect();
    for r in results {
        match r {
            Ok(Some(c)) => {
                report.untimed += c.hits.iter().filter(|h| h.1.is_none()).count() as u64;
                out.push(c);
            }
            Ok(None) => {}
            Err((input, line, reason)) => {
                report.undecodable += 1;
                if report.bad.len() < 1000 {
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

/// Replays each rule's schedule over the matching events.
fn replay(
    engine: &Engine,
    candidates: &[Candidate],
    start: Timestamp,
    end: Timestamp,
    report: &mut HuntReport,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for (ri, rule) in engine.rules.iter().enumerate() {
        // This rule's events, in time order.
        let mut events: Vec<(Timestamp, usize)> = candidates
            .iter()
            .enumerate()
            .flat_map(|(ci, c)| {
                c.hits
                    .iter()
                    .filter(move |h| h.0 == ri)
                    .filter_map(move |h| h.1.map(|t| (t, ci)))
            })
            .collect();
        events.sort();
        if events.is_empty() {
            continue;
        }
        let mut alerted: HashSet<String> = HashSet::new();
        let sched = rule.rule.schedule;
        for run in runs(start, end, sched.interval, sched.lookback) {
            let lo = events.partition_point(|(t, _)| *t < run.from);
            let hi = events.partition_point(|(t, _)| *t <= run.to);
            let mut created = 0u32;
            for &(_, ci) in &events[lo..hi] {
                if created >= sched.max_signals {
                    break;
                }
                let c = &candidates[ci];
                if !alerted.insert(query_alert_id(&c.source, &rule.rule.rule_id)) {
                    continue;
                }
                // Decoded once already, so the record parses; the full document is built only
                // for alerts.
                let Ok(doc) = engine.full_document(&c.bytes) else {
                    continue;
                };
                created += 1;
                report.alerts_per_rule[ri] += 1;
                alerts.push(event_alert(&rule.rule, ri, &doc, &c.source, run.now));
            }
        }
    }
    alerts.sort_by(|a, b| {
        (a.created, a.original_time, a.rule).cmp(&(b.created, b.original_time, b.rule))
    });
    alerts
}
