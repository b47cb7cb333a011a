//! The finding codes: one table, so the renderers, SARIF's rule list and docs/check.md agree.

use crate::Level;

/// What a code means and how to fix what it reports.
#[derive(Clone, Copy, Debug)]
pub struct CodeInfo {
    pub code: &'static str,
    pub level: Level,
    pub title: &'static str,
    pub help: &'static str,
}

const fn c(code: &'static str, level: Level, title: &'static str, help: &'static str) -> CodeInfo {
    CodeInfo {
        code,
        level,
        title,
        help,
    }
}

use Level::{Error as E, Note as N, Warning as W};

/// Every code `vigil check` emits. Families: 1xx schema, 2xx query, 3xx fields, 4xx schedule and
/// rule-type settings, 5xx metadata, 6xx Sentinel, 9xx what Vigil itself does not support.
pub const CODES: &[CodeInfo] = &[
    c(
        "VC100",
        E,
        "the file is not valid TOML, or not UTF-8 text",
        "fix the TOML syntax at the position shown",
    ),
    c(
        "VC101",
        E,
        "a required field is missing",
        "add the field; detection-rules and Kibana reject rules without it",
    ),
    c(
        "VC102",
        E,
        "a field has the wrong type",
        "write the value with the type the rule schema gives (string, integer, boolean, array, table)",
    ),
    c(
        "VC103",
        E,
        "a number is out of range",
        "use a value in the range given (risk_score 1–100, max_signals and version at least 1)",
    ),
    c(
        "VC104",
        E,
        "a value is not one of the allowed values",
        "use one of the values listed in the message",
    ),
    c(
        "VC105",
        W,
        "an unknown key",
        "remove the key or fix its spelling; Kibana ignores or rejects keys it does not know",
    ),
    c(
        "VC106",
        E,
        "rule_id is not a lowercase UUID",
        "use a random UUID in lowercase, e.g. from `uuidgen | tr A-Z a-z`",
    ),
    c(
        "VC107",
        E,
        "two rules share a rule_id",
        "give each rule its own rule_id; Kibana keeps only one rule per id",
    ),
    c(
        "VC108",
        E,
        "a date is not YYYY/MM/DD",
        "write creation_date and updated_date as YYYY/MM/DD",
    ),
    c(
        "VC109",
        E,
        "the language does not fit the rule type",
        "eql rules use language eql, esql rules esql, query/new_terms/threshold rules kuery or lucene",
    ),
    c(
        "VC110",
        E,
        "a schedule value is malformed",
        "write interval as <n><s|m|h|d> (e.g. 5m) and from as now-<n><s|m|h|d> (e.g. now-9m)",
    ),
    c(
        "VC201",
        E,
        "the query does not parse",
        "fix the query syntax at the position shown",
    ),
    c(
        "VC301",
        W,
        "the query reads a field no bundled schema declares",
        "check the field name's spelling against ECS or the integration's fields; mark EQL fields that may be absent as optional (`?field`)",
    ),
    c(
        "VC302",
        W,
        "a new_terms, threshold, suppression or investigation field is unknown",
        "check the field name's spelling against ECS or the integration's fields",
    ),
    c(
        "VC303",
        W,
        "the query reads a column its table does not have",
        "check the column name against the table's schema (Kusto column names are case-sensitive)",
    ),
    c(
        "VC401",
        W,
        "the look-back is shorter than the interval",
        "make `from` reach back at least one interval (plus a margin for ingest delay), e.g. interval 5m with from now-6m",
    ),
    c(
        "VC402",
        E,
        "new_terms needs one to three fields",
        "list one, two or three fields in new_terms.value",
    ),
    c(
        "VC403",
        E,
        "the new_terms history window does not start before the look-back",
        "set history_window_start to now-<duration> further back than `from` (e.g. now-7d)",
    ),
    c(
        "VC404",
        E,
        "a threshold setting is invalid",
        "threshold.value must be at least 1, threshold.field at most 3 fields, cardinality one entry with a value of at least 1",
    ),
    c(
        "VC405",
        E,
        "an alert_suppression setting is invalid",
        "group_by takes one to three fields (none for threshold rules), duration a positive value in s, m or h, and EQL sequences cannot be suppressed",
    ),
    c(
        "VC406",
        W,
        "the EQL sequence's maxspan is longer than the look-back",
        "widen `from` to cover maxspan, or shorten maxspan: a run only sees sequences that fit its window",
    ),
    c(
        "VC501",
        E,
        "severity and risk_score disagree",
        "use risk_score 0–21 for low, 22–47 medium, 48–73 high, 74–100 critical",
    ),
    c(
        "VC502",
        E,
        "an ATT&CK tactic is malformed or inconsistent",
        "use the tactic's id (TA00dd), its exact name and https://attack.mitre.org/tactics/<id>/",
    ),
    c(
        "VC503",
        E,
        "an ATT&CK technique is malformed or inconsistent",
        "use Tdddd for techniques and Tdddd.ddd for sub-techniques of their parent, with https://attack.mitre.org/techniques/Tdddd/ (sub-techniques /techniques/Tdddd/ddd/)",
    ),
    c(
        "VC510",
        W,
        "a tag has an unknown prefix",
        "start tags with a known prefix: Domain, OS, Use Case, Tactic, Data Source, Resources, Rule Type, Threat, Language, Mitre Atlas",
    ),
    c(
        "VC511",
        W,
        "a Tactic tag names a tactic the threat mapping lacks",
        "add the tactic to [[rule.threat]] or remove the tag",
    ),
    c(
        "VC512",
        W,
        "a tag value is not in the vocabulary",
        "Tactic tags take ATT&CK tactic names, OS tags Windows, Linux or macOS",
    ),
    c(
        "VC520",
        N,
        "the investigation guide lacks an expected heading",
        "structure `note` with the headings ## Triage and analysis, ### Investigating <rule name>, ### False positive analysis and ### Response and remediation",
    ),
    c(
        "VC521",
        W,
        "the Investigation Guide tag without an investigation guide",
        "add a `note` with the guide or remove the `Resources: Investigation Guide` tag",
    ),
    c(
        "VC600",
        E,
        "the file is not a YAML mapping, or not UTF-8 text",
        "fix the YAML syntax at the position shown",
    ),
    c(
        "VC601",
        E,
        "a required Sentinel key is missing",
        "add the key; Sentinel rejects analytics rules without it",
    ),
    c(
        "VC602",
        E,
        "the rule id is not a GUID",
        "use a GUID (8-4-4-4-12 hexadecimal digits) as `id`",
    ),
    c(
        "VC603",
        E,
        "a duration is malformed",
        "write durations as ISO 8601 (PT5H, P1D) or Sentinel's short form (5m, 1h, 14d)",
    ),
    c(
        "VC604",
        E,
        "a duration is out of range",
        "queryFrequency and queryPeriod take 5 minutes to 14 days",
    ),
    c(
        "VC605",
        E,
        "queryPeriod is shorter than queryFrequency",
        "make queryPeriod at least queryFrequency, or events between runs are never queried",
    ),
    c(
        "VC606",
        E,
        "a Sentinel value is not one of the allowed values",
        "use one of the values listed in the message",
    ),
    c(
        "VC607",
        W,
        "a Sentinel tactic or technique is malformed",
        "tactics take ATT&CK tactic names without spaces (InitialAccess); relevantTechniques take Tdddd or Tdddd.ddd",
    ),
    c(
        "VC608",
        E,
        "an entity mapping is invalid",
        "use a Sentinel entity type, at most 10 mappings and 3 identifiers each, with identifiers of that type",
    ),
    c(
        "VC610",
        N,
        "a hunting query: only its query was checked",
        "nothing to fix; hunting queries have no schedule, severity or trigger",
    ),
    c(
        "VC901",
        W,
        "Vigil does not support part of this query",
        "the rule may be valid for its platform; Vigil cannot run it until the feature is supported",
    ),
    c(
        "VC902",
        N,
        "Vigil does not run this rule type",
        "the rule is checked but not run (e.g. machine_learning needs Elastic's anomaly jobs)",
    ),
    c(
        "VC903",
        W,
        "Vigil does not support a setting of this rule",
        "the rule may be valid for its platform; Vigil's loader rejects the setting named in the message",
    ),
];

/// The table entry of a code. Codes are literals in this crate, so a missing one is a bug that
/// the tests catch; it still gets a generic entry rather than a panic.
pub fn code_info(code: &str) -> CodeInfo {
    CODES
        .iter()
        .find(|c| c.code == code)
        .copied()
        .unwrap_or(CodeInfo {
            code: "VC000",
            level: Level::Error,
            title: "unknown check",
            help: "",
        })
}
