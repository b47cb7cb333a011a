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
    /// A Microsoft Sentinel scheduled (or NRT) analytics rule in Kusto.
    Sentinel(SentinelRule),
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
            RuleKind::Sentinel(s) if s.nrt => "sentinel_nrt",
            RuleKind::Sentinel(_) => "sentinel_scheduled",
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
            RuleKind::Sentinel(s) => Some(("kusto", &s.query)),
            RuleKind::Other {
                language, query, ..
            } => Some((language.as_deref()?, query.as_deref()?)),
        }
    }
}

/// What a Sentinel scheduled rule adds to its query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentinelRule {
    pub query: String,
    /// The rule fires when the number of result rows compares so with the threshold.
    pub trigger_operator: TriggerOperator,
    pub trigger_threshold: i64,
    pub entity_mappings: Vec<EntityMapping>,
    /// (alert field, column) pairs copied into the alert.
    pub custom_details: Vec<(String, String)>,
    pub grouping: Grouping,
    /// Near-real-time rule: every minute over the last minute.
    pub nrt: bool,
}

impl SentinelRule {
    /// A rule that alerts on every result row, with no entities or details (a `.kql` file,
    /// an ad-hoc query).
    pub fn query_only(query: String) -> SentinelRule {
        SentinelRule {
            query,
            trigger_operator: TriggerOperator::Gt,
            trigger_threshold: 0,
            entity_mappings: Vec::new(),
            custom_details: Vec::new(),
            grouping: Grouping::AlertPerResult,
            nrt: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerOperator {
    Gt,
    Lt,
    Eq,
    Ne,
}

impl TriggerOperator {
    /// Whether `count` result rows trigger the rule.
    pub fn holds(self, count: i64, threshold: i64) -> bool {
        match self {
            TriggerOperator::Gt => count > threshold,
            TriggerOperator::Lt => count < threshold,
            TriggerOperator::Eq => count == threshold,
            TriggerOperator::Ne => count != threshold,
        }
    }
}

/// One alert per run with every row, or one alert per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    SingleAlert,
    AlertPerResult,
}

/// An entity of the alert (Account, Host, IP, AzureResource, …) and its (identifier, column)
/// fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityMapping {
    pub entity_type: String,
    pub fields: Vec<(String, String)>,
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

/// A rule's plan and what the runtime needs to know about it.
#[derive(Clone, Debug)]
pub struct RulePlan {
    pub plan: Plan,
    /// The query aggregates (ES|QL STATS, Kusto): its rows are not source events.
    pub aggregating: bool,
    /// Index patterns the query reads (the rule's `index`, or ES|QL's FROM).
    pub indices: Vec<String>,
    /// ES|QL `METADATA` fields (`_id`, `_index`, `_version`).
    pub metadata: Vec<String>,
}

impl Rule {
    /// A rule that is only a query (`kuery`, `eql`, `esql` or `kusto`) over any index: what
    /// `vigil query` runs. Errors in the query point into `query`, whose name is `path`.
    pub fn ad_hoc(path: &str, language: &str, query: &str) -> Result<Rule, RuleError> {
        let query_s = query.to_string();
        let kind = match language {
            "kuery" => RuleKind::Query {
                language: language.into(),
                query: query_s,
            },
            "eql" => RuleKind::Eql {
                query: query_s,
                event_category_override: None,
                tiebreaker_field: None,
                timestamp_field: None,
            },
            "esql" => RuleKind::Esql { query: query_s },
            "kusto" => RuleKind::Sentinel(SentinelRule::query_only(query_s)),
            other => {
                return Err(RuleError {
                    path: path.into(),
                    message: format!(
                        "unknown query language `{other}` (kuery, eql, esql or kusto)"
                    ),
                    span: None,
                });
            }
        };
        let source = RuleSource {
            path: path.into(),
            text: Arc::from(query),
            query_span: Some(0..query.len()),
            query_verbatim: true,
        };
        Ok(Rule {
            severity: Severity::Low,
            risk_score: 21,
            ..Rule::new(
                format!("ad-hoc-{language}"),
                format!("ad-hoc {language} query"),
                kind,
                source,
            )
        })
    }

    /// A rule with only what every rule has; the rest at the defaults Kibana gives an omitted
    /// field (enabled, default schedule, no metadata).
    pub fn new(rule_id: String, name: String, kind: RuleKind, source: RuleSource) -> Rule {
        Rule {
            rule_id,
            name,
            description: String::new(),
            severity: Severity::Low,
            risk_score: 21,
            kind,
            index: Vec::new(),
            schedule: Schedule::default(),
            timestamp_override: None,
            timestamp_override_fallback_disabled: false,
            tags: Vec::new(),
            author: Vec::new(),
            references: Vec::new(),
            license: None,
            false_positives: Vec::new(),
            note: None,
            setup: None,
            threat: Vec::new(),
            investigation_fields: Vec::new(),
            alert_suppression: None,
            severity_mapping: Vec::new(),
            building_block: false,
            rule_name_override: None,
            version: None,
            enabled: true,
            filters: Vec::new(),
            unmodelled: BTreeMap::new(),
            source,
        }
    }

    /// The rule's plan, built by its language's front-end, with its filters applied.
    pub fn plan(&self, schema: &Schema) -> Result<RulePlan, RuleError> {
        let Some((language, query)) = self.kind.query() else {
            return Err(self.error(
                format!(
                    "{} rules have no query Vigil can run",
                    self.kind.type_name()
                ),
                None,
            ));
        };
        let at = |span: vigil_plan::Span| Some(span.range());
        let simple = |plan: Plan| RulePlan {
            plan,
            aggregating: false,
            indices: self.index.clone(),
            metadata: Vec::new(),
        };
        let planned = match (language, &self.kind) {
            ("kuery", _) => simple(
                vigil_kuery::lower_query_rule(query, &self.index, schema)
                    .map_err(|e| self.error(e.message, at(e.span)))?,
            ),
            (
                "eql",
                RuleKind::Eql {
                    event_category_override,
                    tiebreaker_field,
                    timestamp_field,
                    ..
                },
            ) => simple(
                vigil_eql::lower_rule_query(
                    query,
                    &self.index,
                    schema,
                    event_category_override.as_deref(),
                    tiebreaker_field.as_deref(),
                    timestamp_field.as_deref(),
                )
                .map_err(|e| self.error(e.message, at(e.span)))?,
            ),
            ("esql", _) => {
                let p = vigil_esql::lower_rule_query(query, schema)
                    .map_err(|e| self.error(e.message, at(e.span)))?;
                RulePlan {
                    plan: p.plan,
                    aggregating: p.aggregating,
                    indices: p.indices,
                    metadata: p.metadata,
                }
            }
            ("kusto", _) => {
                let plan = vigil_kusto::lower_rule_query(query)
                    .map_err(|e| self.error(e.message, at(e.span)))?;
                RulePlan {
                    plan,
                    aggregating: true,
                    indices: Vec::new(),
                    metadata: Vec::new(),
                }
            }
            (other, _) => {
                return Err(self.error(format!("the {other} language is not supported"), None));
            }
        };
        Ok(RulePlan {
            plan: self.with_filters(planned.plan)?,
            ..planned
        })
    }

    /// ANDs the rule's Kibana filters into the events its sources read: they apply to the
    /// documents searched, under any sequence or aggregation.
    fn with_filters(&self, mut plan: Plan) -> Result<Plan, RuleError> {
        if self.filters.is_empty() {
            return Ok(plan);
        }
        self.filter_sources(&mut plan)?;
        Ok(plan)
    }

    fn filter_sources(&self, plan: &mut Plan) -> Result<(), RuleError> {
        if let Plan::Source(_) = plan {
            let filtered = plan
                .clone()
                .filter(Expr::and(self.filters.clone(), Default::default()))
                .map_err(|e| self.error(e.message, None))?;
            *plan = filtered;
            return Ok(());
        }
        for child in plan.children_mut() {
            self.filter_sources(child)?;
        }
        Ok(())
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
