//! The engine: the loaded rules with their compiled plans, and the decoder that turns a raw
//! record into the row those plans read.

use std::collections::{BTreeSet, HashSet};

use jiff::Timestamp;
use vigil_event::{DataType, Layout, Projection, Row, SlotId, Value};
use vigil_exec::{CompiledPlan, EvalContext, compile};
use vigil_normalize::{Format, Options};
use vigil_plan::{LiteralMode, Plan, RequiredLiteral, required_literals};
use vigil_rules::{Rule, RuleKind};
use vigil_schema::Schema;

use crate::prefilter::Prefilter;

/// A rule the engine runs.
#[derive(Debug)]
pub struct EngineRule {
    pub rule: Rule,
    pub plan: Plan,
    pub compiled: CompiledPlan,
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
}

/// Fields the runtime itself reads from every event.
const ROUTING_FIELDS: &[&str] = &[
    "@timestamp",
    "_index",
    "data_stream.type",
    "data_stream.dataset",
    "data_stream.namespace",
];

/// Keys the format detector looks at in a raw record.
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
    "data_stream",
    "records",
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
    timestamp_slot: SlotId,
    index_slots: [SlotId; 4],
    /// True when some rule reads `event.original`, which needs the record text.
    wants_original: bool,
}

/// A record decoded for evaluation.
#[derive(Debug)]
pub struct Decoded {
    pub row: Row,
    pub format: Format,
    /// `@timestamp`.
    pub timestamp: Option<Timestamp>,
    /// The index the event would live in (`_index`, or from `data_stream.*`).
    pub index: Option<String>,
}

impl Engine {
    /// Builds plans for the rules Vigil can run and compiles them against one shared layout.
    pub fn new(rules: Vec<Rule>, schema: &Schema, opts: &EngineOptions) -> Engine {
        let mut planned = Vec::new();
        let mut not_run = Vec::new();
        for rule in rules {
            let unsupported = match &rule.kind {
                RuleKind::Query { .. } => None,
                other => Some(format!("{} rules are not supported yet", other.type_name())),
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
                Ok(mut plan) => {
                    plan.assign_ids();
                    planned.push((rule, plan));
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
        for (rule, plan) in &planned {
            for f in plan.fields_read() {
                layout.intern(&f);
            }
            if let Some(o) = &rule.timestamp_override {
                layout.intern(o);
            }
        }
        let projection = Projection::new(&layout);

        let mut rules = Vec::new();
        for (rule, plan) in planned {
            match compile(&plan, &layout) {
                Ok(compiled) => {
                    let literals = plan
                        .source_filter()
                        .and_then(|p| required_literals(p, &literal_mode));
                    let override_slot = rule
                        .timestamp_override
                        .as_deref()
                        .and_then(|o| layout.get(o));
                    rules.push(EngineRule {
                        rule,
                        plan,
                        compiled,
                        override_slot,
                        literals,
                    });
                }
                Err(e) => not_run.push(NotRun {
                    name: rule.name.clone(),
                    path: rule.source.path.clone(),
                    reason: e.message,
                }),
            }
        }

        let prefilter = if opts.no_prefilter {
            None
        } else {
            Prefilter::new(rules.iter().map(|r| r.literals.as_deref()))
        };
        let names: BTreeSet<&str> = layout.names().collect();
        let parse_keys =
            vigil_normalize::azure_native_keys_for(names.iter().copied()).map(|native| {
                let mut keys: HashSet<String> = native.into_iter().map(str::to_string).collect();
                keys.extend(projection.top_level_keys().map(str::to_string));
                keys.extend(DETECTION_KEYS.iter().map(|k| k.to_string()));
                keys
            });
        let slot = |name: &str| layout.get(name).unwrap_or_default();
        Engine {
            timestamp_slot: slot("@timestamp"),
            index_slots: [
                slot("_index"),
                slot("data_stream.type"),
                slot("data_stream.dataset"),
                slot("data_stream.namespace"),
            ],
            wants_original: layout.get("event.original").is_some(),
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

    /// Decodes the fields the rules read: a partial parse, normalization, projection.
    pub fn decode(&self, raw: &[u8]) -> Result<Decoded, String> {
        let doc = match &self.parse_keys {
            Some(keys) => {
                let keys: HashSet<&str> = keys.iter().map(String::as_str).collect();
                vigil_event::parse_json_lazy_keys(raw, &keys).map_err(|e| e.0)?
            }
            None => vigil_event::parse_json(raw).map_err(|e| e.0)?,
        };
        let (doc, format) = normalize(raw, doc, self.wants_original)?;
        let row = self.projection.project(&doc);
        Ok(self.decoded(row, format))
    }

    fn decoded(&self, row: Row, format: Format) -> Decoded {
        let timestamp = row.get(self.timestamp_slot).and_then(as_time);
        let index = match row.get(self.index_slots[0]) {
            Some(Value::Str(s)) => Some(s.to_string()),
            _ => match [1, 2, 3].map(|i| row.get(self.index_slots[i]).and_then(Value::as_str)) {
                [t, Some(ds), ns] => Some(format!(
                    "{}-{ds}-{}",
                    t.unwrap_or("logs"),
                    ns.unwrap_or("default")
                )),
                _ => None,
            },
        };
        Decoded {
            row,
            format,
            timestamp,
            index,
        }
    }

    /// The time that places the event in this rule's search window: the rule's
    /// `timestamp_override`, falling back to `@timestamp` unless the rule disables it.
    pub fn event_time(&self, rule: &EngineRule, d: &Decoded) -> Option<Timestamp> {
        match rule.override_slot {
            None => d.timestamp,
            Some(slot) => match d.row.get(slot).and_then(as_time) {
                Some(t) => Some(t),
                None if rule.rule.timestamp_override_fallback_disabled => None,
                None => d.timestamp,
            },
        }
    }

    /// True if the rule searches the index the event lives in.
    pub fn searches(&self, rule: &EngineRule, d: &Decoded) -> bool {
        let Some(index) = &d.index else { return true };
        let patterns = &rule.rule.index;
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

    /// Rules whose per-event filter the decoded event passes.
    pub fn matching_rules(&self, d: &Decoded, ctx: &EvalContext) -> Vec<usize> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                self.searches(r, d)
                    && r.compiled
                        .source_filter()
                        .is_none_or(|f| f.matches(&d.row, ctx))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The full normalized document of a record, for alerts.
    pub fn full_document(&self, raw: &[u8]) -> Result<Value, String> {
        let doc = vigil_event::parse_json(raw).map_err(|e| e.0)?;
        normalize(raw, doc, true).map(|(d, _)| d)
    }
}

/// Normalizes a parsed record according to its detected format.
fn normalize(raw: &[u8], doc: Value, event_original: bool) -> Result<(Value, Format), String> {
    if !matches!(doc, Value::Object(_)) {
        return Err(format!(
            "a record must be a JSON object, found {}",
            doc.type_name()
        ));
    }
    let format = vigil_normalize::detect(&doc);
    let doc = match format {
        Format::AzureActivity => {
            let text = std::str::from_utf8(raw).map_err(|e| format!("invalid UTF-8: {e}"))?;
            vigil_normalize::azure_activity_to_ecs(
                text,
                doc,
                &Options {
                    event_original,
                    ingested: None,
                },
            )
        }
        _ => doc,
    };
    Ok((doc, format))
}

/// How a field's text appears in raw records of every format Vigil normalizes: the weakest of
/// the Azure mapping and ECS passthrough (verbatim).
fn literal_mode(field: &str) -> LiteralMode {
    vigil_normalize::azure_literal_mode(field)
}

fn as_time(v: &Value) -> Option<Timestamp> {
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
