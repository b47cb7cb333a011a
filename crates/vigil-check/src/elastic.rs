//! Elastic detection-rules TOML: schema, schedule, rule-type settings and metadata, with the
//! constraints detection-rules' schema (`definitions.py`) and Kibana apply.

use jiff::SignedDuration;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::{Cx, attack, query};

/// The value shape a key takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Str,
    Int,
    Bool,
    StrList,
    Table,
    TableList,
    /// A string or a list of strings (`machine_learning_job_id`).
    StrOrList,
}

use Shape::*;

/// Every `[rule]` key of the detection-rules schema, across rule types.
const RULE_KEYS: &[(&str, Shape)] = &[
    ("actions", TableList),
    ("alert_suppression", Table),
    ("anomaly_threshold", Int),
    ("author", StrList),
    ("building_block_type", Str),
    ("concurrent_searches", Int),
    ("data_view_id", Str),
    ("description", Str),
    ("enabled", Bool),
    ("event_category_override", Str),
    ("exceptions_list", TableList),
    ("false_positives", StrList),
    ("filters", TableList),
    ("from", Str),
    ("index", StrList),
    ("interval", Str),
    ("investigation_fields", Table),
    ("items_per_search", Int),
    ("language", Str),
    ("license", Str),
    ("machine_learning_job_id", StrOrList),
    ("max_signals", Int),
    ("meta", Table),
    ("name", Str),
    ("new_terms", Table),
    ("note", Str),
    ("output_index", Str),
    ("query", Str),
    ("references", StrList),
    ("related_integrations", TableList),
    ("required_fields", TableList),
    ("response_actions", TableList),
    ("risk_score", Int),
    ("risk_score_mapping", TableList),
    ("rule_id", Str),
    ("rule_name_override", Str),
    ("saved_id", Str),
    ("setup", Str),
    ("severity", Str),
    ("severity_mapping", TableList),
    ("tags", StrList),
    ("threat", TableList),
    ("threat_filters", TableList),
    ("threat_index", StrList),
    ("threat_indicator_path", Str),
    ("threat_language", Str),
    ("threat_mapping", TableList),
    ("threat_query", Str),
    ("threshold", Table),
    ("throttle", Str),
    ("tiebreaker_field", Str),
    ("timeline_id", Str),
    ("timeline_title", Str),
    ("timestamp_field", Str),
    ("timestamp_override", Str),
    ("timestamp_override_fallback_disabled", Bool),
    ("to", Str),
    ("type", Str),
    ("version", Int),
];

const METADATA_KEYS: &[(&str, Shape)] = &[
    ("bypass_bbr_timing", Bool),
    ("comments", Str),
    ("creation_date", Str),
    ("deprecation_date", Str),
    ("integration", StrOrList),
    ("maturity", Str),
    ("min_stack_comments", Str),
    ("min_stack_version", Str),
    ("promotion", Bool),
    ("query_schema_validation", Bool),
    ("updated_date", Str),
];

const RULE_TYPES: &[&str] = &[
    "query",
    "saved_query",
    "machine_learning",
    "eql",
    "esql",
    "threshold",
    "threat_match",
    "new_terms",
];
const MATURITY: &[&str] = &[
    "development",
    "experimental",
    "beta",
    "production",
    "deprecated",
];
const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];

/// Tag prefixes of the detection-rules vocabulary (as the upstream corpus uses them).
const TAG_PREFIXES: &[&str] = &[
    "Domain",
    "OS",
    "Use Case",
    "Tactic",
    "Data Source",
    "Resources",
    "Rule Type",
    "Threat",
    "Language",
    "Mitre Atlas",
];

/// Headings of detection-rules' investigation guide template (prefixes).
const GUIDE_HEADINGS: &[&str] = &[
    "## Triage and analysis",
    "### Investigating",
    "### False positive analysis",
    "### Response and remediation",
];

type Table<'i> = DeTable<'i>;
type Val<'i> = Spanned<DeValue<'i>>;

/// The key's offset and the value of `key` in a table.
fn entry<'a, 'i>(t: &'a Table<'i>, key: &str) -> Option<(usize, &'a Val<'i>)> {
    t.iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(k, v)| (k.span().start, v))
}

fn str_of<'a>(v: &'a Val<'_>) -> Option<&'a str> {
    v.get_ref().as_str()
}

fn int_of(v: &Val<'_>) -> Option<i64> {
    let i = v.get_ref().as_integer()?;
    i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
}

fn strs<'a>(v: &'a Val<'_>) -> Vec<(usize, &'a str)> {
    match v.get_ref() {
        DeValue::Array(a) => a
            .iter()
            .filter_map(|x| Some((x.span().start, x.get_ref().as_str()?)))
            .collect(),
        DeValue::String(s) => vec![(v.span().start, s.as_ref())],
        _ => vec![],
    }
}

fn tables<'a, 'i>(v: &'a Val<'i>) -> Vec<&'a Table<'i>> {
    match v.get_ref() {
        DeValue::Array(a) => a.iter().filter_map(|x| x.get_ref().as_table()).collect(),
        DeValue::Table(t) => vec![t],
        _ => vec![],
    }
}

fn shape_ok(shape: Shape, v: &DeValue<'_>) -> bool {
    let all = |f: &dyn Fn(&DeValue<'_>) -> bool| match v {
        DeValue::Array(a) => a.iter().all(|x| f(x.get_ref())),
        _ => false,
    };
    match shape {
        Str => v.is_str(),
        Int => v.is_integer(),
        Bool => v.is_bool(),
        StrList => all(&|x| x.is_str()),
        Table => v.is_table(),
        TableList => all(&|x| x.is_table()),
        StrOrList => v.is_str() || all(&|x| x.is_str()),
    }
}

fn shape_name(shape: Shape) -> &'static str {
    match shape {
        Str => "a string",
        Int => "an integer",
        Bool => "a boolean",
        StrList => "an array of strings",
        Table => "a table",
        TableList => "an array of tables",
        StrOrList => "a string or an array of strings",
    }
}

/// Checks the keys of a table against a key list: unknown keys and wrong shapes.
fn check_keys(cx: &mut Cx, t: &Table<'_>, known: &[(&str, Shape)], table: &str) -> bool {
    let mut ok = true;
    for (k, v) in t {
        let name = k.get_ref().as_ref();
        match known.iter().find(|(n, _)| *n == name) {
            None => cx.emit(
                "VC105",
                k.span().start,
                format!("`{name}` is not a key of [{table}]"),
            ),
            Some((_, shape)) if !shape_ok(*shape, v.get_ref()) => {
                ok = false;
                cx.emit(
                    "VC102",
                    v.span().start,
                    format!(
                        "`{name}` must be {}, not {}",
                        shape_name(*shape),
                        v.get_ref().type_str()
                    ),
                );
            }
            Some(_) => {}
        }
    }
    ok
}

fn one_of(cx: &mut Cx, v: &Val<'_>, key: &str, allowed: &[&str]) -> bool {
    match str_of(v) {
        Some(s) if !allowed.contains(&s) => {
            cx.emit(
                "VC104",
                v.span().start,
                format!("`{key} = \"{s}\"` is not one of {}", allowed.join(", ")),
            );
            false
        }
        _ => true,
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'/'
        && b[7] == b'/'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `5m`, `1h`: detection-rules' interval pattern `^\d+[mshd]$`.
fn parse_interval(s: &str) -> Option<SignedDuration> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    Some(SignedDuration::from_secs(n.checked_mul(secs)?))
}

/// `now-9m` → 9 minutes.
fn parse_now_minus(s: &str) -> Option<SignedDuration> {
    parse_interval(s.trim().strip_prefix("now-")?)
}

/// Checks a detection-rules TOML file. Returns the rule id and its offset.
pub fn check(cx: &mut Cx) -> Option<(String, usize)> {
    let doc = match DeTable::parse(cx.text) {
        Ok(d) => d,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            cx.emit("VC100", at, e.message().trim().trim_end_matches('.'));
            return None;
        }
    };
    let root = doc.get_ref();
    for (k, _) in root {
        if !["metadata", "rule", "transform"].contains(&k.get_ref().as_ref()) {
            cx.emit(
                "VC105",
                k.span().start,
                format!(
                    "`[{}]` is not a table of a rule file (metadata, rule, transform)",
                    k.get_ref()
                ),
            );
        }
    }
    let mut blocking = false;
    check_metadata(cx, root);

    let Some((rule_at, rule_v)) = entry(root, "rule") else {
        cx.emit("VC101", 0, "the file has no [rule] table");
        return None;
    };
    let Some(rule) = rule_v.get_ref().as_table() else {
        cx.emit("VC102", rule_at, "`rule` must be a table");
        return None;
    };
    blocking |= !check_keys(cx, rule, RULE_KEYS, "rule");

    let rule_type = entry(rule, "type")
        .and_then(|(_, v)| str_of(v))
        .unwrap_or("");
    let mut required = vec![
        "author",
        "description",
        "name",
        "risk_score",
        "rule_id",
        "severity",
        "type",
    ];
    if !["machine_learning", "saved_query"].contains(&rule_type) {
        required.push("query");
        if rule_type != "esql" {
            required.push("language");
        }
    }
    for key in required {
        if entry(rule, key).is_none() {
            blocking = true;
            cx.emit("VC101", rule_at, format!("[rule] has no `{key}`"));
        }
    }

    let rule_id = entry(rule, "rule_id").and_then(|(_, v)| Some((str_of(v)?, v.span().start)));
    if let Some((id, at)) = rule_id
        && !is_uuid(id)
    {
        cx.emit(
            "VC106",
            at,
            format!("rule_id `{id}` is not a lowercase UUID"),
        );
    }
    if let Some((_, v)) = entry(rule, "type") {
        blocking |= !one_of(cx, v, "type", RULE_TYPES);
    }
    if let Some((_, v)) = entry(rule, "severity") {
        blocking |= !one_of(cx, v, "severity", SEVERITIES);
    }
    if let Some((_, v)) = entry(rule, "building_block_type") {
        one_of(cx, v, "building_block_type", &["default"]);
    }
    for (key, min, max) in [
        ("risk_score", 1, 100),
        ("max_signals", 1, i64::MAX),
        ("version", 1, i64::MAX),
        ("anomaly_threshold", 0, 100),
    ] {
        if let Some((_, v)) = entry(rule, key)
            && let Some(n) = int_of(v)
            && !(min..=max).contains(&n)
        {
            blocking = true;
            let range = if max == i64::MAX {
                format!("at least {min}")
            } else {
                format!("{min}–{max}")
            };
            cx.emit(
                "VC103",
                v.span().start,
                format!("`{key} = {n}` is out of range ({range})"),
            );
        }
    }
    if let Some((_, v)) = entry(rule, "language") {
        let fits: &[&str] = match rule_type {
            "eql" => &["eql"],
            "esql" => &["esql"],
            "query" | "new_terms" | "threshold" | "threat_match" | "saved_query" => {
                &["kuery", "lucene"]
            }
            _ => &["kuery", "lucene", "eql", "esql"],
        };
        if let Some(l) = str_of(v)
            && !fits.contains(&l)
        {
            blocking = true;
            cx.emit(
                "VC109",
                v.span().start,
                format!(
                    "a {rule_type} rule cannot use language `{l}` (use {})",
                    fits.join(" or ")
                ),
            );
        }
    }

    let lookback = schedule(cx, rule, &mut blocking);
    check_severity_risk(cx, rule);
    let tactics = check_threat(cx, rule);
    check_tags(cx, rule, &tactics);
    check_guide(cx, rule);
    check_new_terms(cx, rule, lookback);
    check_threshold(cx, rule);
    check_suppression(cx, rule, rule_type);

    if !blocking {
        match vigil_rules::elastic::parse_rule(cx.path, cx.text) {
            Ok(r) => query::check_rule(cx, &r, &config_fields(rule)),
            Err(e) => cx.emit(
                "VC903",
                e.span.map_or(rule_at, |s| s.start),
                format!("Vigil cannot load this rule: {}", e.message),
            ),
        }
    }
    rule_id.map(|(id, at)| (id.to_string(), at))
}

fn check_metadata(cx: &mut Cx, root: &Table<'_>) {
    let Some((at, v)) = entry(root, "metadata") else {
        return;
    };
    let Some(meta) = v.get_ref().as_table() else {
        cx.emit("VC102", at, "`metadata` must be a table");
        return;
    };
    check_keys(cx, meta, METADATA_KEYS, "metadata");
    for key in ["creation_date", "updated_date", "maturity"] {
        if entry(meta, key).is_none() {
            cx.emit("VC101", at, format!("[metadata] has no `{key}`"));
        }
    }
    for key in ["creation_date", "updated_date", "deprecation_date"] {
        if let Some((_, v)) = entry(meta, key)
            && let Some(s) = str_of(v)
            && !is_date(s)
        {
            cx.emit(
                "VC108",
                v.span().start,
                format!("`{key} = \"{s}\"` is not YYYY/MM/DD"),
            );
        }
    }
    if let Some((_, v)) = entry(meta, "maturity") {
        one_of(cx, v, "maturity", MATURITY);
    }
}

/// Checks `interval` and `from`; returns the look-back.
fn schedule(cx: &mut Cx, rule: &Table<'_>, blocking: &mut bool) -> SignedDuration {
    let mut interval = SignedDuration::from_mins(5);
    let mut lookback = SignedDuration::from_mins(6);
    if let Some((_, v)) = entry(rule, "interval")
        && let Some(s) = str_of(v)
    {
        match parse_interval(s) {
            Some(d) if d.is_positive() => interval = d,
            _ => {
                *blocking = true;
                cx.emit(
                    "VC110",
                    v.span().start,
                    format!("`interval = \"{s}\"` is not <n><s|m|h|d>"),
                );
            }
        }
    }
    let from = entry(rule, "from").and_then(|(_, v)| Some((v.span().start, str_of(v)?)));
    if let Some((at, s)) = from {
        match parse_now_minus(s) {
            Some(d) => lookback = d,
            None => {
                *blocking = true;
                cx.emit(
                    "VC110",
                    at,
                    format!("`from = \"{s}\"` is not now-<n><s|m|h|d>"),
                );
            }
        }
    }
    if lookback < interval {
        let at = from.map_or_else(|| entry(rule, "interval").map_or(0, |(a, _)| a), |f| f.0);
        cx.emit(
            "VC401",
            at,
            format!(
                "the look-back ({}) is shorter than the interval ({}): events between runs are never searched",
                human(lookback),
                human(interval)
            ),
        );
    }
    lookback
}

fn human(d: SignedDuration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn check_severity_risk(cx: &mut Cx, rule: &Table<'_>) {
    let (Some((_, sev)), Some((_, risk))) = (entry(rule, "severity"), entry(rule, "risk_score"))
    else {
        return;
    };
    let (Some(s), Some(r)) = (str_of(sev), int_of(risk)) else {
        return;
    };
    let range = match s {
        "low" => 0..=21,
        "medium" => 22..=47,
        "high" => 48..=73,
        "critical" => 74..=100,
        _ => return,
    };
    if !range.contains(&r) {
        cx.emit(
            "VC501",
            risk.span().start,
            format!(
                "risk_score {r} does not fit severity {s} ({}–{})",
                range.start(),
                range.end()
            ),
        );
    }
}

/// Checks `[[rule.threat]]`; returns the ATT&CK tactic names mapped.
fn check_threat(cx: &mut Cx, rule: &Table<'_>) -> Vec<String> {
    let mut names = Vec::new();
    let Some((_, v)) = entry(rule, "threat") else {
        return names;
    };
    for t in tables(v) {
        let framework = entry(t, "framework").and_then(|(_, v)| str_of(v));
        if framework != Some("MITRE ATT&CK") {
            continue;
        }
        if let Some((_, tv)) = entry(t, "tactic")
            && let Some(tactic) = tv.get_ref().as_table()
        {
            check_tactic(cx, tactic, &mut names);
        }
        if let Some((_, techs)) = entry(t, "technique") {
            for tech in tables(techs) {
                let parent = check_technique(cx, tech, None);
                if let Some((_, subs)) = entry(tech, "subtechnique") {
                    for sub in tables(subs) {
                        check_technique(cx, sub, parent.as_deref());
                    }
                }
            }
        }
    }
    names
}

fn check_tactic(cx: &mut Cx, tactic: &Table<'_>, names: &mut Vec<String>) {
    let id = entry(tactic, "id").and_then(|(_, v)| Some((v.span().start, str_of(v)?)));
    let name = entry(tactic, "name").and_then(|(_, v)| Some((v.span().start, str_of(v)?)));
    if let Some((_, n)) = name {
        names.push(n.to_string());
    }
    let Some((id_at, id)) = id else {
        return;
    };
    let Some(expected) = attack::tactic_name(id) else {
        let why = if attack::is_tactic_id(id) {
            "is not an Enterprise tactic"
        } else {
            "is not TA followed by four digits"
        };
        cx.emit("VC502", id_at, format!("tactic id `{id}` {why}"));
        return;
    };
    if let Some((at, n)) = name
        && n != expected
    {
        cx.emit(
            "VC502",
            at,
            format!("tactic {id} is named `{expected}`, not `{n}`"),
        );
    }
    reference(cx, tactic, "VC502", id);
}

/// Checks one technique or sub-technique; returns its id when well formed.
fn check_technique(cx: &mut Cx, tech: &Table<'_>, parent: Option<&str>) -> Option<String> {
    let (at, id) = entry(tech, "id").and_then(|(_, v)| Some((v.span().start, str_of(v)?)))?;
    let sub = parent.is_some();
    if !attack::is_technique_id(id, sub) {
        let shape = if sub { "Tdddd.ddd" } else { "Tdddd" };
        cx.emit(
            "VC503",
            at,
            format!(
                "{} id `{id}` is not {shape}",
                if sub { "sub-technique" } else { "technique" }
            ),
        );
        return None;
    }
    if let Some(p) = parent
        && !id.starts_with(&format!("{p}."))
    {
        cx.emit(
            "VC503",
            at,
            format!("sub-technique `{id}` is not a sub-technique of {p}"),
        );
    }
    reference(cx, tech, "VC503", id);
    Some(id.to_string())
}

fn reference(cx: &mut Cx, t: &Table<'_>, code: &'static str, id: &str) {
    if let Some((_, v)) = entry(t, "reference")
        && let Some(url) = str_of(v)
    {
        let expected = attack::reference_for(id);
        if url != expected {
            cx.emit(
                code,
                v.span().start,
                format!("the reference of {id} should be {expected}, not {url}"),
            );
        }
    }
}

fn check_tags(cx: &mut Cx, rule: &Table<'_>, tactics: &[String]) {
    let Some((_, v)) = entry(rule, "tags") else {
        return;
    };
    for (at, tag) in strs(v) {
        let Some((prefix, value)) = tag.split_once(": ") else {
            cx.emit("VC510", at, format!("tag `{tag}` has no `Prefix: ` part"));
            continue;
        };
        if !TAG_PREFIXES.contains(&prefix) {
            cx.emit(
                "VC510",
                at,
                format!("tag prefix `{prefix}` is not in the vocabulary"),
            );
            continue;
        }
        match prefix {
            "Tactic" if !attack::is_tactic_name(value) => cx.emit(
                "VC512",
                at,
                format!("`{value}` is not an ATT&CK tactic name"),
            ),
            "Tactic" if !tactics.iter().any(|t| t == value) => cx.emit(
                "VC511",
                at,
                format!("tag `{tag}` but no [[rule.threat]] maps the {value} tactic"),
            ),
            "OS" if !["Windows", "Linux", "macOS"].contains(&value) => cx.emit(
                "VC512",
                at,
                format!("`{value}` is not an OS tag value (Windows, Linux, macOS)"),
            ),
            _ => {}
        }
    }
}

fn check_guide(cx: &mut Cx, rule: &Table<'_>) {
    let tagged = entry(rule, "tags").is_some_and(|(_, v)| {
        strs(v)
            .iter()
            .any(|(_, t)| *t == "Resources: Investigation Guide")
    });
    match entry(rule, "note") {
        None => {
            if tagged && let Some((at, _)) = entry(rule, "tags") {
                cx.emit(
                    "VC521",
                    at,
                    "tagged `Resources: Investigation Guide` but the rule has no `note`",
                );
            }
        }
        Some((at, v)) => {
            let Some(note) = str_of(v) else { return };
            let headings: Vec<&str> = note
                .lines()
                .map(str::trim_end)
                .filter(|l| l.starts_with('#'))
                .collect();
            let missing: Vec<&str> = GUIDE_HEADINGS
                .iter()
                .filter(|h| {
                    // Case varies upstream (`### Response and Remediation`): same heading.
                    !headings
                        .iter()
                        .any(|l| l.to_lowercase().starts_with(&h.to_lowercase()))
                })
                .copied()
                .collect();
            if !missing.is_empty() {
                cx.emit(
                    "VC520",
                    at,
                    format!("the investigation guide has no {}", missing.join(", ")),
                );
            }
        }
    }
}

fn check_new_terms(cx: &mut Cx, rule: &Table<'_>, lookback: SignedDuration) {
    let Some((at, v)) = entry(rule, "new_terms") else {
        return;
    };
    let Some(nt) = v.get_ref().as_table() else {
        return;
    };
    match entry(nt, "value") {
        Some((_, fv)) => {
            let n = strs(fv).len();
            if !(1..=3).contains(&n) {
                cx.emit(
                    "VC402",
                    fv.span().start,
                    format!("new_terms lists {n} fields"),
                );
            }
        }
        None => cx.emit("VC402", at, "new_terms has no `value` fields"),
    }
    let Some((_, hv)) = entry(nt, "history_window_start") else {
        return;
    };
    for h in tables(hv) {
        let Some((vat, s)) =
            entry(h, "value").and_then(|(_, v)| Some((v.span().start, str_of(v)?)))
        else {
            continue;
        };
        match parse_now_minus(s) {
            None => cx.emit(
                "VC110",
                vat,
                format!("history_window_start `{s}` is not now-<n><s|m|h|d>"),
            ),
            Some(d) if d <= lookback => cx.emit(
                "VC403",
                vat,
                format!(
                    "history_window_start `{s}` does not reach back further than the look-back ({})",
                    human(lookback)
                ),
            ),
            Some(_) => {}
        }
    }
}

fn check_threshold(cx: &mut Cx, rule: &Table<'_>) {
    let Some((at, v)) = entry(rule, "threshold") else {
        return;
    };
    let Some(t) = v.get_ref().as_table() else {
        return;
    };
    match entry(t, "value").map(|(_, v)| (v.span().start, int_of(v))) {
        Some((vat, Some(n))) if n < 1 => {
            cx.emit("VC404", vat, format!("threshold value {n} is below 1"))
        }
        None => cx.emit("VC404", at, "threshold has no `value`"),
        _ => {}
    }
    if let Some((_, f)) = entry(t, "field") {
        let n = strs(f).len();
        if n > 3 {
            cx.emit(
                "VC404",
                f.span().start,
                format!("threshold groups by {n} fields (at most 3)"),
            );
        }
    }
    if let Some((cat, c)) = entry(t, "cardinality") {
        let cards = tables(c);
        if cards.len() > 1 {
            cx.emit(
                "VC404",
                cat,
                format!(
                    "threshold has {} cardinality entries (at most 1)",
                    cards.len()
                ),
            );
        }
        for card in cards {
            if let Some((_, v)) = entry(card, "value")
                && let Some(n) = int_of(v)
                && n < 1
            {
                cx.emit(
                    "VC404",
                    v.span().start,
                    format!("cardinality value {n} is below 1"),
                );
            }
        }
    }
}

fn check_suppression(cx: &mut Cx, rule: &Table<'_>, rule_type: &str) {
    let Some((at, v)) = entry(rule, "alert_suppression") else {
        return;
    };
    let Some(s) = v.get_ref().as_table() else {
        return;
    };
    let group_by = entry(s, "group_by");
    match (group_by, rule_type) {
        (Some((gat, _)), "threshold") => cx.emit(
            "VC405",
            gat,
            "threshold rules suppress by their threshold fields: remove group_by",
        ),
        (Some((_, g)), _) => {
            let n = strs(g).len();
            if !(1..=3).contains(&n) {
                cx.emit(
                    "VC405",
                    g.span().start,
                    format!("group_by lists {n} fields (one to three)"),
                );
            }
        }
        (None, "threshold") => {}
        (None, _) => cx.emit("VC405", at, "alert_suppression has no `group_by`"),
    }
    if let Some((dat, d)) = entry(s, "duration")
        && let Some(d) = d.get_ref().as_table()
    {
        if let Some((_, u)) = entry(d, "unit") {
            one_of(cx, u, "unit", &["s", "m", "h"]);
        }
        match entry(d, "value").map(|(_, v)| (v.span().start, int_of(v))) {
            Some((vat, Some(n))) if n < 1 => cx.emit(
                "VC405",
                vat,
                format!("suppression duration {n} is not positive"),
            ),
            None => cx.emit("VC405", dat, "suppression duration has no `value`"),
            _ => {}
        }
    }
    if let Some((_, m)) = entry(s, "missing_fields_strategy") {
        one_of(
            cx,
            m,
            "missing_fields_strategy",
            &["suppress", "doNotSuppress"],
        );
    }
    if rule_type == "eql"
        && let Some((_, q)) = entry(rule, "query")
        && let Some(q) = str_of(q)
        && q.trim_start().to_ascii_lowercase().starts_with("sequence")
    {
        cx.emit("VC405", at, "EQL sequence rules cannot suppress alerts");
    }
}

/// Fields named outside the query (new_terms, threshold, suppression, investigation fields),
/// with their offsets, for the field checks.
fn config_fields(rule: &Table<'_>) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut add = |v: &Val<'_>| out.extend(strs(v).into_iter().map(|(a, s)| (a, s.to_string())));
    for (table, key) in [
        ("new_terms", "value"),
        ("threshold", "field"),
        ("alert_suppression", "group_by"),
        ("investigation_fields", "field_names"),
    ] {
        if let Some((_, t)) = entry(rule, table)
            && let Some(t) = t.get_ref().as_table()
            && let Some((_, v)) = entry(t, key)
        {
            add(v);
        }
    }
    if let Some((_, t)) = entry(rule, "threshold")
        && let Some(t) = t.get_ref().as_table()
        && let Some((_, c)) = entry(t, "cardinality")
    {
        for card in tables(c) {
            if let Some((_, f)) = entry(card, "field") {
                add(f);
            }
        }
    }
    out
}
