//! `query`: one ad-hoc query over every event of some inputs, without a schedule.
//!
//! The engine holds one rule built from the query (see [`vigil_rules::Rule::ad_hoc`]), so
//! records are read, normalized and projected exactly as a hunt reads them for that rule; the
//! plan then runs once over all of them, in time order, at a single `now`.

use jiff::Timestamp;
use vigil_event::{Map, Value};
use vigil_exec::{Columns, EvalContext};
use vigil_ingest::Inputs;

use crate::engine::Engine;
use crate::executor::exec_events;
use crate::hunt::{HuntError, HuntOptions, HuntReport, candidate_doc, read_inputs};
use crate::store::EventStore;

/// What a query returned.
#[derive(Debug, Default)]
pub struct QueryOutput {
    /// The result columns when the query names them (ES|QL, Kusto `project`/`summarize`);
    /// empty when the rows are source events.
    pub columns: Vec<String>,
    /// The first rows (see `max_rows`).
    pub rows: Vec<QueryRow>,
    /// How many rows the query returned.
    pub total: usize,
    /// What was read (inputs, counts, bad records), as a hunt reports it.
    pub report: HuntReport,
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRow {
    /// The event's full document with any computed columns, or the result columns.
    pub doc: Value,
    /// For an EQL sequence's events: the sequence's number (0-based) in the output.
    pub sequence: Option<usize>,
}

/// Runs the engine's first rule over every event of `inputs`, with `now` as the current time.
/// Documents are built for the first `max_rows` rows only (all when `None`).
pub fn query(
    engine: &Engine,
    inputs: Inputs,
    now: Timestamp,
    max_rows: Option<usize>,
    mut opts: HuntOptions,
) -> Result<QueryOutput, HuntError> {
    let mut out = QueryOutput::default();
    let Some(er) = engine.rules.first() else {
        return Ok(out);
    };
    let mut store = EventStore::new(engine.rules.len());
    read_inputs(engine, inputs, &mut opts, &mut store, &mut out.report)?;
    // Every event the rule reads, timed ones in time order (sequences need it), then the rest.
    let mut events: Vec<(Option<Timestamp>, usize)> = store
        .candidates
        .iter()
        .enumerate()
        .filter_map(|(ci, c)| c.hits.iter().find(|h| h.0 == 0).map(|h| (h.1, ci)))
        .collect();
    events.sort_by_key(|&(t, ci)| (t.is_none(), t, ci));
    let result = exec_events(er, &store, &events, &EvalContext::new(now));
    let (computed, explicit) = match &result.columns {
        Columns::Events { computed } => (computed, false),
        Columns::Explicit(cols) => (cols, true),
    };
    // Sequences print their events, not the correlation's own columns.
    let sequences = result.rows.iter().any(|r| !r.members.is_empty());
    if explicit && !sequences {
        out.columns = computed.iter().map(|(n, _)| n.clone()).collect();
    }
    let event_doc = |ci: usize, row: &vigil_event::Row| -> Value {
        let mut doc = candidate_doc(engine, &store.candidates[ci])
            .unwrap_or_else(|| Value::Object(Map::new()));
        for (name, slot) in computed {
            if let Some(v) = row.get(*slot) {
                doc.insert_path(name, v.clone());
            }
        }
        doc
    };
    let mut sequences = 0;
    let keep = max_rows.unwrap_or(usize::MAX);
    for r in result.rows {
        // A sequence counts one row per event.
        out.total += r.members.len().max(1);
        if out.rows.len() >= keep {
            continue;
        }
        if !r.members.is_empty() {
            for &ci in &r.members {
                out.rows.push(QueryRow {
                    doc: event_doc(ci, &store.candidates[ci].row),
                    sequence: Some(sequences),
                });
            }
            sequences += 1;
            continue;
        }
        let doc = match r.origin {
            Some(ci) if !explicit => event_doc(ci, &r.row),
            _ => {
                let mut doc = Value::Object(Map::new());
                for (name, slot) in computed {
                    if let Some(v) = r.row.get(*slot) {
                        // Result columns keep their names: `a.b` stays one column.
                        if let Value::Object(m) = &mut doc {
                            m.insert(name.as_str().into(), v.clone());
                        }
                    }
                }
                doc
            }
        };
        out.rows.push(QueryRow {
            doc,
            sequence: None,
        });
    }
    Ok(out)
}
