//! Microsoft Sentinel analytics rule YAML (and hunting queries, and bare `.kql` files).
//!
//! yaml_serde gives no spans for values, so keys are located by scanning the text: top-level keys
//! start a line; list items (`- entityType:`) are matched in file order. Sentinel rule files are
//! flat enough (one mapping, block lists) for this to be exact in practice.

use jiff::SignedDuration;
use yaml_serde::Value;

use crate::query::{self, QueryMap};
use crate::{Cx, attack};

/// Sentinel entity types and their identifiers.
const ENTITIES: &[(&str, &[&str])] = &[
    (
        "Account",
        &[
            "Name",
            "FullName",
            "NTDomain",
            "DnsDomain",
            "UPNSuffix",
            "Sid",
            "AadTenantId",
            "AadUserId",
            "PUID",
            "IsDomainJoined",
            "DisplayName",
            "ObjectGuid",
            "CloudAppAccountId",
        ],
    ),
    (
        "Host",
        &[
            "DnsDomain",
            "NTDomain",
            "HostName",
            "FullName",
            "NetBiosName",
            "AzureID",
            "OMSAgentID",
            "OSFamily",
            "OSVersion",
            "IsDomainJoined",
        ],
    ),
    ("IP", &["Address"]),
    ("URL", &["Url"]),
    ("AzureResource", &["ResourceId"]),
    ("CloudApplication", &["AppId", "Name", "InstanceName"]),
    ("DNS", &["DomainName"]),
    ("File", &["Directory", "Name"]),
    ("FileHash", &["Algorithm", "Value"]),
    (
        "Process",
        &[
            "ProcessId",
            "CommandLine",
            "ElevationToken",
            "CreationTimeUtc",
        ],
    ),
    ("Malware", &["Name", "Category"]),
    ("RegistryKey", &["Hive", "Key"]),
    ("RegistryValue", &["Name", "Value", "ValueType"]),
    ("SecurityGroup", &["DistinguishedName", "SID", "ObjectGuid"]),
    (
        "Mailbox",
        &[
            "MailboxPrimaryAddress",
            "DisplayName",
            "Upn",
            "ExternalDirectoryObjectId",
            "RiskLevel",
        ],
    ),
    // Types whose identifier lists are long and rarely used: any identifier is accepted.
    ("MailCluster", &[]),
    ("MailMessage", &[]),
    ("SubmissionMail", &[]),
    ("IoTDevice", &[]),
];

/// Offsets of lines whose content (after indentation and an optional `- `) starts with `key:`,
/// in file order; `top` keeps only unindented lines.
fn key_offsets(text: &str, key: &str, top: bool) -> Vec<usize> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let (item, body) = match trimmed.strip_prefix("- ") {
            Some(b) => (2 + b.len() - b.trim_start().len(), b.trim_start()),
            None => (0, trimmed),
        };
        if (!top || indent == 0) && body.strip_prefix(key).is_some_and(|r| r.starts_with(':')) {
            out.push(offset + indent + item);
        }
        offset += line.len();
    }
    out
}

/// Offset of the value after `key:` at a key offset.
fn value_at(text: &str, key_at: usize, key: &str) -> usize {
    let after = key_at + key.len() + 1;
    let rest = text.get(after..).unwrap_or("");
    after + (rest.len() - rest.trim_start_matches([' ', '\t']).len())
}

fn get<'a>(y: &'a Value, key: &str) -> Option<&'a Value> {
    y.as_mapping()?.get(key)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks a Sentinel YAML rule or hunting query.
pub fn check_yaml(cx: &mut Cx) {
    let y: Value = match yaml_serde::from_str(cx.text) {
        Ok(v) => v,
        Err(e) => {
            let at = e.location().map_or(0, |l| l.index());
            cx.emit("VC600", at, format!("not YAML: {e}"));
            return;
        }
    };
    if !y.is_mapping() {
        cx.emit("VC600", 0, "a rule file is a YAML mapping of keys");
        return;
    }
    let text = cx.text;
    let top = |key: &str| key_offsets(text, key, true).first().copied();
    let val = |key: &str| top(key).map(|k| value_at(text, k, key));
    let hunting = get(&y, "kind").is_none() && get(&y, "queryFrequency").is_none();
    let mut required = vec!["id", "name", "query"];
    if !hunting {
        required.extend(["severity", "kind"]);
    }
    let nrt = get(&y, "kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.eq_ignore_ascii_case("NRT"));
    if !hunting && !nrt {
        required.extend([
            "queryFrequency",
            "queryPeriod",
            "triggerOperator",
            "triggerThreshold",
        ]);
    }
    let mut blocking = false;
    for key in required {
        if get(&y, key).is_none() {
            blocking = true;
            cx.emit("VC601", 0, format!("the rule has no `{key}`"));
        }
    }
    if let Some(id) = get(&y, "id").and_then(scalar)
        && !is_guid(&id)
    {
        cx.emit(
            "VC602",
            val("id").unwrap_or(0),
            format!("id `{id}` is not a GUID"),
        );
    }
    for (key, allowed) in [
        ("kind", &["Scheduled", "NRT"][..]),
        ("severity", &["Informational", "Low", "Medium", "High"][..]),
        ("triggerOperator", &["gt", "lt", "eq", "ne"][..]),
    ] {
        // Sentinel's repository accepts these values in any case (`kind: scheduled`).
        if let Some(v) = get(&y, key).and_then(scalar)
            && !allowed.iter().any(|a| a.eq_ignore_ascii_case(&v))
        {
            blocking = true;
            cx.emit(
                "VC606",
                val(key).unwrap_or(0),
                format!("`{key}: {v}` is not one of {}", allowed.join(", ")),
            );
        }
    }
    if let Some(v) = get(&y, "triggerThreshold") {
        let ok = v.as_i64().is_some_and(|n| (0..=10_000).contains(&n));
        if !ok {
            blocking = true;
            cx.emit(
                "VC606",
                val("triggerThreshold").unwrap_or(0),
                "triggerThreshold must be an integer from 0 to 10000",
            );
        }
    }
    let mut durations: Vec<Option<SignedDuration>> = Vec::new();
    for key in ["queryFrequency", "queryPeriod"] {
        let Some(v) = get(&y, key) else {
            durations.push(None);
            continue;
        };
        let at = val(key).unwrap_or(0);
        let s = scalar(v).unwrap_or_default();
        match vigil_rules::sentinel::parse_duration(&s) {
            None => {
                blocking = true;
                cx.emit("VC603", at, format!("`{key}: {s}` is not a duration"));
                durations.push(None);
            }
            Some(d) => {
                if d < SignedDuration::from_mins(5) || d > SignedDuration::from_hours(14 * 24) {
                    cx.emit(
                        "VC604",
                        at,
                        format!("`{key}: {s}` is outside 5 minutes to 14 days"),
                    );
                }
                durations.push(Some(d));
            }
        }
    }
    if let [Some(freq), Some(period)] = durations[..]
        && period < freq
    {
        cx.emit(
            "VC605",
            val("queryPeriod").unwrap_or(0),
            "queryPeriod is shorter than queryFrequency",
        );
    }
    check_attack(cx, &y);
    check_entities(cx, &y);

    let Some(query) = get(&y, "query").and_then(Value::as_str) else {
        return;
    };
    let map = yaml_query_map(text, query);
    if hunting {
        cx.emit(
            "VC610",
            top("query").unwrap_or(0),
            "a hunting query (no kind or schedule): only the query was checked",
        );
        let rule = match vigil_rules::sentinel::parse_kql(cx.path, query) {
            Ok(r) => r,
            Err(e) => {
                cx.emit(
                    "VC903",
                    0,
                    format!("Vigil cannot load this query: {}", e.message),
                );
                return;
            }
        };
        query::check_query(cx, &rule, query, &map, &[]);
        return;
    }
    if blocking {
        return;
    }
    match vigil_rules::sentinel::parse_yaml(cx.path, text) {
        Ok(rule) => query::check_query(cx, &rule, query, &map, &[]),
        Err(e) => cx.emit(
            "VC903",
            0,
            format!("Vigil cannot load this rule: {}", e.message),
        ),
    }
}

/// Checks a bare `.kql` file: its query only.
pub fn check_kql(cx: &mut Cx) {
    match vigil_rules::sentinel::parse_kql(cx.path, cx.text) {
        Ok(rule) => query::check_query(cx, &rule, cx.text, &QueryMap::verbatim(0), &[]),
        Err(e) => cx.emit(
            "VC903",
            0,
            format!("Vigil cannot load this file: {}", e.message),
        ),
    }
}

fn check_attack(cx: &mut Cx, y: &Value) {
    let text = cx.text;
    if let Some(Value::Sequence(tactics)) = get(y, "tactics") {
        let at = key_offsets(text, "tactics", true)
            .first()
            .copied()
            .unwrap_or(0);
        for t in tactics {
            let name = scalar(t).unwrap_or_default();
            if !attack::is_sentinel_tactic(&name) {
                let item = text[at..].find(&name).map_or(at, |i| at + i);
                cx.emit(
                    "VC607",
                    item,
                    format!("`{name}` is not a Sentinel tactic name"),
                );
            }
        }
    }
    if let Some(Value::Sequence(techs)) = get(y, "relevantTechniques") {
        let at = key_offsets(text, "relevantTechniques", true)
            .first()
            .copied()
            .unwrap_or(0);
        for t in techs {
            let id = scalar(t).unwrap_or_default();
            if !attack::is_technique_id(&id, id.contains('.')) {
                let item = text[at..].find(&id).map_or(at, |i| at + i);
                cx.emit(
                    "VC607",
                    item,
                    format!("`{id}` is not a technique id (Tdddd or Tdddd.ddd)"),
                );
            }
        }
    }
}

fn check_entities(cx: &mut Cx, y: &Value) {
    let text = cx.text;
    let Some(Value::Sequence(mappings)) = get(y, "entityMappings") else {
        return;
    };
    let list_at = key_offsets(text, "entityMappings", true)
        .first()
        .copied()
        .unwrap_or(0);
    if mappings.len() > 10 {
        cx.emit(
            "VC608",
            list_at,
            format!("{} entity mappings (at most 10)", mappings.len()),
        );
    }
    let type_at = key_offsets(text, "entityType", false);
    let ident_at = key_offsets(text, "identifier", false);
    let mut ident_i = 0;
    for (i, m) in mappings.iter().enumerate() {
        let at = type_at.get(i).copied().unwrap_or(list_at);
        let ty = get(m, "entityType").and_then(scalar).unwrap_or_default();
        let fields = match get(m, "fieldMappings") {
            Some(Value::Sequence(f)) => f.as_slice(),
            _ => &[],
        };
        if fields.len() > 3 {
            cx.emit(
                "VC608",
                at,
                format!("{} identifiers for {ty} (at most 3)", fields.len()),
            );
        }
        let known = ENTITIES.iter().find(|(t, _)| *t == ty);
        if known.is_none() {
            cx.emit(
                "VC608",
                value_at(text, at, "entityType"),
                format!("`{ty}` is not a Sentinel entity type"),
            );
        }
        for f in fields {
            let fat = ident_at.get(ident_i).copied().unwrap_or(at);
            ident_i += 1;
            let ident = get(f, "identifier").and_then(scalar).unwrap_or_default();
            if let Some((_, idents)) = known
                && !idents.is_empty()
                && !idents.contains(&ident.as_str())
            {
                cx.emit(
                    "VC608",
                    value_at(text, fat, "identifier"),
                    format!(
                        "`{ident}` is not an identifier of {ty} ({})",
                        idents.join(", ")
                    ),
                );
            }
        }
    }
}

/// Where the query's text sits in the file: a block scalar (`query: |`) after its key line, or
/// a scalar on the key's line.
fn yaml_query_map(text: &str, query: &str) -> QueryMap {
    let Some(&key_at) = key_offsets(text, "query", true).first() else {
        return QueryMap::verbatim(0);
    };
    let line_end = text[key_at..].find('\n').map_or(text.len(), |i| key_at + i);
    let inline = text[key_at + "query:".len()..line_end].trim();
    if !(inline.starts_with('|') || inline.starts_with('>')) {
        let start = value_at(text, key_at, "query");
        return QueryMap::aligned(start, &text[start..line_end], query);
    }
    let start = (line_end + 1).min(text.len());
    // The block ends at the next unindented, non-empty line.
    let mut end = text.len();
    let mut offset = start;
    for line in text[start..].split_inclusive('\n') {
        if !line.trim().is_empty() && !line.starts_with([' ', '\t']) {
            end = offset;
            break;
        }
        offset += line.len();
    }
    QueryMap::aligned(start, &text[start..end], query)
}
