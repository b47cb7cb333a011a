use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use jiff::SignedDuration;
use vigil_plan::{Expr, Plan};
use vigil_schema::Schema;

use crate::RuleError;

/// A detection rule, whatever file format it came from.
#[derive(Clone, Debug)]
pub struct Rule {
    pub rule_id: String,
    pub name: String,
    pub description: String,
    pub severity: Severity,
    pub risk_score: u32,
    pub kind: RuleKind,
    /// Index patterns (or tables) the rule searches.
    pub index: Vec<String>,
    pub schedule: Schedule,
    /// The field that places an event in the rule's window instead of `@timestamp`.
    pub timestamp_override: Option<String>,
    /// When false (the default), events without the override field fall back to `@timestamp`.
    pub timestamp_override_fallback_disabled: bool,
    pub tags: Vec<String>,
    pub author: Vec<String>,
    pub references: Vec<String>,
    pub license: Option<String>,
    pub false_positives: Vec<String>,
    pub note: Option<String>,
    pub setup: Option<String>,
    pub threat: Vec<Threat>,
    pub investigation_fields: Vec<String>,
    pub alert_suppression: Option<AlertSuppression>,
    pub severity_mapping: Vec<SeverityMapping>,
    pub building_block: bool,
    pub rule_name_override: Option<String>,
    pub version: Option<u32>,
    pub enabled: bool,
    /// Kibana filters applied with the query (already lowered).
    pub filters: Vec<Expr>,
    /// File fields this loader keeps without interpreting them.
    pub unmodelled: BTreeMap<String, String>,
    pub source: RuleSource,
}

/// Where a rule came from, for diagnostics.
#[derive(Clone, Debug)]
pub struct RuleSource {
    pub path: String,
    pub text: Arc<str>,
    /// Byte range of the query text in the file.
    pub query_span: Option<Range<usize>>,
    /// True when the query is stored verbatim in the file (a TOML literal string), so offsets
    /// inside the query map to file offsets exactly.
    pub query_verbatim: bool,
}

/// What the rule does, by type.
#[derive(Clone, Debug)]
pub enum RuleKind {
    /// A custom query rule: every matching event is an alert.
    Query {
        language: String,
        query: String,
    },
    /// New terms: alert on values of fields first seen in the run's window.
    NewTerms {
        language: String,
        query: String,
        new_terms: NewTerms,
    },
    /// Threshold: alert on groups with at least `value` events.
    Threshold {
        language: String,
        query: String,
        threshold: Threshold,
    },
    Eql {
        query: String,
        event_category_override: Option<String>,
        tiebreaker_field: Option<String>,
        timestamp_field: Option<String>,
    },
    Esql {
        query: String,
    },
    MachineLearning {
        job_ids: Vec<String>,
        anomaly_threshold: Option<u32>,
    },
    /// A type this version does not model (e.g. `threat_match`).
    Other {
        rule_type: String,
        language: Option<String>,
        query: Option<String>,
    },
}

impl RuleKind {
    /// The rule type as Kibana names it.
    pub fn type_name(&self) -> &str {
        match self {
            RuleKind::Query { .. } => "query",
            RuleKind::NewTerms { .. } => "new_terms",
            RuleKind::Threshold { .. } => "threshold",
            RuleKind::Eql { .. } => "eql",
            RuleKind::Esql { .. } => "esql",
            RuleKind::MachineLearning { .. } => "machine_learning",
            RuleKind::Other { rule_type, .. } => rule_type,
        }
    }

    /// The query language and text, for rule types that have one.
    pub fn query(&self) -> Option<(&str, &str)> {
        match self {
            RuleKind::Query { language, query }
            | RuleKind::NewTerms {
                language, query, ..
            }
            | RuleKind::Threshold {
                language, query, ..
            } => Some((language, query)),
            RuleKind::Eql { query, .. } => Some(("eql", query)),
            RuleKind::Esql { query } => Some(("esql", query)),
            RuleKind::MachineLearning { .. } => None,
            RuleKind::Other {
                language, query, ..
            } => Some((language.as_deref()?, query.as_deref()?)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTerms {
    pub fields: Vec<String>,
    /// Date math, e.g. `now-7d`.
    pub history_window_start: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threshold {
    pub fields: Vec<String>,
    pub value: u64,
    /// (field, minimum distinct values) pairs.
    pub cardinality: Vec<(String, u64)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertSuppression {
    pub group_by: Vec<String>,
    /// `None`: suppress for the rule run only.
    pub duration: Option<SignedDuration>,
    pub missing_fields_strategy: MissingFieldsStrategy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingFieldsStrategy {
    Suppress,
    DoNotSuppress,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeverityMapping {
    pub field: String,
    pub value: String,
    pub severity: Severity,
}

/// When and over what window a rule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub interval: SignedDuration,
    /// How far back each run searches from its `now` (`from = "now-9m"` → 9 minutes).
    pub lookback: SignedDuration,
    /// Most alerts one run may create.
    pub max_signals: u32,
}

impl Default for Schedule {
    /// Kibana's defaults: every 5 minutes, `from = "now-6m"`, 100 alerts per run.
    fn default() -> Schedule {
        Schedule {
            interval: SignedDuration::from_mins(5),
            lookback: SignedDuration::from_mins(6),
            max_signals: 100,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "low" | "informational" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One MITRE ATT&CK mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threat {
    pub framework: String,
    pub tactic: Tactic,
    pub techniques: Vec<Technique>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tactic {
    pub id: String,
    pub name: String,
    pub reference: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub reference: String,
    pub subtechniques: Vec<Technique>,
}

impl Rule {
    /// The rule's plan, built by its language's front-end, with its filters applied.
    pub fn plan(&self, schema: &Schema) -> Result<Plan, RuleError> {
        let Some((language, query)) = self.kind.query() else {
            return Err(self.error(
                format!(
                    "{} rules have no query Vigil can run",
                    self.kind.type_name()
                ),
                None,
            ));
        };
        let plan = match language {
            "kuery" => vigil_kuery::lower_query_rule(query, &self.index, schema)
                .map_err(|e| self.error(e.message, Some(e.span.range())))?,
            other => {
                return Err(self.error(format!("the {other} language is not supported yet"), None));
            }
        };
        self.with_filters(plan)
    }

    fn with_filters(&self, plan: Plan) -> Result<Plan, RuleError> {
        if self.filters.is_empty() {
            return Ok(plan);
        }
        // Filters apply with the query: AND them into the predicate above the source.
        let mut preds = self.filters.clone();
        let source = match plan {
            Plan::Filter(f) => {
                preds.insert(0, f.predicate);
                *f.input
            }
            other => other,
        };
        source
            .filter(Expr::and(preds, Default::default()))
            .map_err(|e| self.error(e.message, None))
    }

    /// An error about this rule; `query_range` is relative to the query text.
    pub fn error(
        &self,
        message: impl Into<String>,
        query_range: Option<Range<usize>>,
    ) -> RuleError {
        let span = match (query_range, &self.source.query_span) {
            (Some(r), Some(q)) if self.source.query_verbatim => {
                Some(q.start + r.start..q.start + r.end)
            }
            (_, Some(q)) => Some(q.clone()),
            _ => None,
        };
        RuleError {
            path: self.source.path.clone(),
            message: message.into(),
            span,
        }
    }
}
