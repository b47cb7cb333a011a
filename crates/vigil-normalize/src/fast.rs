//! The common case in one pass.
//!
//! [`crate::azure_activity`] emulates the pipeline processor by processor on an ingest
//! document, with every failure case; that costs tens of microseconds a record, mostly in
//! dotted-path walks. A record whose members have the types Azure writes, and that holds none
//! of the keys the pipeline renames onto, goes through that pipeline without any processor
//! failing. For such a record the output can be built directly from the record's members, in
//! the processors' order where one reads what another wrote. [`normalize`] checks the record
//! first, without changing it, and hands anything else back to the emulation, which stays the
//! reference: the differential tests compare both with the implementation as it was.

use std::sync::Arc;

use vigil_event::{Map, Value};

use crate::Options;
use crate::azure_activity::{
    CLAIMS_SCHEMA, ECS_VERSION, EMPTY_MEMBER, JavaNum, convert_string, event_type_of,
    is_inet_address, is_outcome, is_region, is_result_outcome, parse_java_long, scale_duration,
    underscored,
};
use crate::es_date;
use crate::grok;
use crate::ingest::{java_string, json_escape, parse_json_strict};

/// Keys of the record the pipeline renames or writes onto: a record holding one may fail, or
/// lose a value, and takes the general path.
const TARGET_KEYS: &[&str] = &[
    "identity_name",
    "result_type",
    "operation_name",
    "operation_version",
    "result_signature",
    "event_category",
    "tenant_id",
];

/// The `identity.authorization.evidence` renames, as (from, to).
const EVIDENCE_RENAMES: [(&str, &str); 5] = [
    ("roleAssignmentScope", "role_assignment_scope"),
    ("roleDefinitionId", "role_definition_id"),
    ("roleAssignmentId", "role_assignment_id"),
    ("principalId", "principal_id"),
    ("principalType", "principal_type"),
];

/// The claims copied beside `claims_initiated_by_user.fullname`, as (claim, field).
const CLAIM_COPIES: [(&str, &str); 3] = [
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "surname",
    ),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "name",
    ),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "givenname",
    ),
];

/// The pipeline's output for `doc` (not an ECS document) with `raw` as its text, then
/// [`crate::finish`]'s index-time fields; or `doc` back, unchanged, when it is not a record
/// this path handles.
pub(crate) fn normalize(raw: &str, doc: Value, opts: &Options) -> Result<Value, Value> {
    let Value::Object(record) = doc else {
        return Err(doc);
    };
    match check(raw, &record) {
        Some(properties) => Ok(build(raw, record, properties, opts)),
        None => Err(Value::Object(record)),
    }
}

/// A `properties` given as JSON text, parsed (the pipeline parses it; so must the check).
type ParsedProperties = Option<Map>;

/// Whether the record takes this path: every member the pipeline reads has a type that no
/// processor fails on and that the code below handles, and nothing collides. `Some` carries
/// `properties` parsed from its text, when it was text.
fn check(raw: &str, record: &Map) -> Option<ParsedProperties> {
    // The first script edits the text and the record is parsed again. (Two adjacent quotes,
    // an empty string, are rare in records; looking for them first is much faster than for the
    // whole member, whose first and last bytes are everywhere in JSON.)
    if raw.contains(r#""""#) && raw.contains(EMPTY_MEMBER) {
        return None;
    }
    let mut parsed = None;
    for (key, value) in record {
        let ok = match &**key {
            "time" | "resourceId" | "callerIpAddress" | "location" | "category" | "resultType"
            | "operationName" => matches!(value, Value::Str(_)),
            "durationMs" => matches!(value, Value::Int(_) | Value::Float(_) | Value::Str(_)),
            "identity" => match value {
                Value::Str(_) => true,
                Value::Object(identity) => identity_ok(identity),
                _ => false,
            },
            "properties" => match value {
                Value::Object(p) => properties_ok(p),
                // The json processor parses it; anything but an object fails a later processor.
                Value::Str(text) => match parse_json_strict(text) {
                    Ok(Value::Object(p)) if properties_ok(&p) => {
                        parsed = Some(p);
                        true
                    }
                    _ => false,
                },
                _ => false,
            },
            k => !TARGET_KEYS.contains(&k),
        };
        if !ok {
            return None;
        }
    }
    Some(parsed)
}

/// An identity object: `claims` and `authorization` objects if present, no
/// `claims_initiated_by_user` of its own, no evidence key the renames write.
fn identity_ok(identity: &Map) -> bool {
    let claims_ok = match identity.get("claims") {
        None => true,
        // `convert` of an array with a null element fails; leave arrays to the general path.
        Some(Value::Object(claims)) => !matches!(claims.get("name"), Some(Value::Array(_))),
        Some(_) => false,
    };
    let authorization_ok = match identity.get("authorization") {
        None => true,
        Some(Value::Object(authorization)) => match authorization.get("evidence") {
            None => true,
            // One pass over its keys rather than a lookup per rename.
            Some(Value::Object(evidence)) => evidence
                .keys()
                .all(|k| !EVIDENCE_RENAMES.iter().any(|(_, to)| **to == **k)),
            Some(_) => false,
        },
        Some(_) => false,
    };
    claims_ok && authorization_ok && !identity.contains_key("claims_initiated_by_user")
}

/// A properties object: no key its renames write.
fn properties_ok(properties: &Map) -> bool {
    properties
        .keys()
        .all(|k| !matches!(&**k, "service_request_id" | "status_code"))
}

/// Defines [`Strings`]: the keys and constant values of the documents this path builds.
macro_rules! strings {
    ($($name:ident = $text:expr,)*) => {
        /// Allocated once per thread: cloning an `Arc` is far cheaper than allocating one per
        /// record, and a per-thread copy keeps the reference counts off other cores' caches.
        struct Strings {
            $($name: Arc<str>,)*
            /// The targets of [`EVIDENCE_RENAMES`].
            evidence_renamed: [Arc<str>; 5],
            /// The targets of [`CLAIM_COPIES`].
            claim_copied: [Arc<str>; 3],
        }

        impl Strings {
            fn new() -> Strings {
                Strings {
                    $($name: Arc::from($text),)*
                    evidence_renamed: EVIDENCE_RENAMES.map(|(_, to)| Arc::from(to)),
                    claim_copied: CLAIM_COPIES.map(|(_, field)| Arc::from(field)),
                }
            }
        }
    };
}

strings! {
    // Top-level objects and their fields.
    at_timestamp = "@timestamp",
    azure = "azure",
    client = "client",
    cloud = "cloud",
    data_stream = "data_stream",
    ecs = "ecs",
    event = "event",
    geo = "geo",
    log = "log",
    message = "message",
    related = "related",
    source = "source",
    user = "user",
    action = "action",
    activitylogs = "activitylogs",
    address = "address",
    correlation = "correlation",
    dataset = "dataset",
    domain = "domain",
    duration = "duration",
    email = "email",
    entity = "entity",
    full_name = "full_name",
    id = "id",
    ingested = "ingested",
    ip = "ip",
    kind = "kind",
    level = "level",
    module = "module",
    name = "name",
    namespace = "namespace",
    original = "original",
    outcome = "outcome",
    provider = "provider",
    region = "region",
    resource = "resource",
    subscription_id = "subscription_id",
    tenant = "tenant",
    type_ = "type",
    version = "version",
    // azure.resource, from the grok chain.
    group = "group",
    authorization_rule = "authorization_rule",
    // azure.activitylogs.
    event_category = "event_category",
    identity_name = "identity_name",
    operation_name = "operation_name",
    operation_version = "operation_version",
    result_signature = "result_signature",
    result_type = "result_type",
    tenant_id = "tenant_id",
    claims_initiated_by_user = "claims_initiated_by_user",
    fullname = "fullname",
    schema = "schema",
    service_request_id = "service_request_id",
    status_code = "status_code",
    // Values.
    administrative = "Administrative",
    azure_activitylogs = "azure.activitylogs",
    claims_schema = CLAIMS_SCHEMA,
    default = "default",
    ecs_version = ECS_VERSION,
    logs = "logs",
    policy = "Policy",
    success = "success",
    failure = "failure",
    unknown = "unknown",
    change = "change",
    access = "access",
    deletion = "deletion",
}

thread_local! {
    static STRINGS: Strings = Strings::new();
}

/// Mustache `{{x}}` of a present, non-null value: its `toString()`, JSON-escaped.
fn render_escaped(v: &Value) -> String {
    json_escape(&java_string(v))
}

/// A map of one or two fields (inserted directly: `collect` would allocate to sort them).
fn object<const N: usize>(fields: [(&Arc<str>, Value); N]) -> Map {
    let mut m = Map::new();
    for (k, v) in fields {
        m.insert(k.clone(), v);
    }
    m
}

fn put(m: &mut Map, k: &Arc<str>, v: Value) {
    m.insert(k.clone(), v);
}

/// Rewrites a map in one pass: `f` maps each entry to its new key and value, or drops it.
/// Cheaper than a lookup, removal and insertion per changed key: collecting sorts once, and
/// entries whose new keys keep their order cost one comparison each.
fn rekey(m: Map, mut f: impl FnMut(Arc<str>, Value) -> Option<(Arc<str>, Value)>) -> Map {
    let mut entries = Vec::with_capacity(m.len());
    entries.extend(m.into_iter().filter_map(|(k, v)| f(k, v)));
    entries.into_iter().collect()
}

/// Mustache `{{x}}` of a string: JSON-escaped, shared when there is nothing to escape.
fn escaped(s: &Arc<str>) -> Arc<str> {
    if s.bytes().any(|c| c == b'"' || c == b'\\' || c < b' ') {
        Arc::from(json_escape(s))
    } else {
        s.clone()
    }
}

/// The record's members the pipeline moves out of `azure.activitylogs` or reads, taken out in
/// one pass.
#[derive(Default)]
struct Members {
    time: Option<Value>,
    resource_id: Option<Value>,
    caller_ip: Option<Value>,
    level: Option<Value>,
    duration_ms: Option<Value>,
    location: Option<Value>,
    tenant_id: Option<Value>,
    correlation_id: Option<Value>,
    identity: Option<(Arc<str>, Value)>,
    properties: Option<(Arc<str>, Value)>,
    /// `category`, also kept in place.
    category: Option<Arc<str>>,
    /// `operationName` (moved to `operation_name`).
    operation: Option<Value>,
    /// `resultType` (moved to `result_type`) when it sets the outcome.
    outcome: Option<Arc<str>>,
}

/// Builds the document of a record that passed [`check`]. The comments name the processors;
/// the order follows theirs where one reads what another wrote.
fn build(raw: &str, record: Map, parsed_properties: ParsedProperties, opts: &Options) -> Value {
    STRINGS.with(|s| build_with(s, raw, record, parsed_properties, opts))
}

fn build_with(
    s: &Strings,
    raw: &str,
    record: Map,
    parsed_properties: ParsedProperties,
    opts: &Options,
) -> Value {
    // What stays in azure.activitylogs, renamed members under their new keys. It is built as a
    // list and sorted once rather than by a lookup per processor.
    let mut al: Vec<(Arc<str>, Value)> = Vec::with_capacity(record.len() + 3);
    let mut m = Members::default();
    for (k, v) in record {
        match &*k {
            "time" => m.time = Some(v),
            "resourceId" => m.resource_id = Some(v),
            "callerIpAddress" => m.caller_ip = Some(v),
            "level" => m.level = Some(v),
            "durationMs" => m.duration_ms = Some(v),
            "location" => m.location = Some(v),
            "tenantId" => m.tenant_id = Some(v),
            "correlationId" => m.correlation_id = Some(v),
            "identity" => m.identity = Some((k, v)),
            "properties" => m.properties = Some((k, v)),
            "category" => {
                if let Value::Str(c) = &v {
                    m.category = Some(c.clone());
                }
                al.push((k, v));
            }
            // The renames within azure.activitylogs.
            "resultType" => {
                if let Value::Str(r) = &v
                    && is_outcome(r)
                {
                    m.outcome = Some(r.clone());
                }
                al.push((s.result_type.clone(), v));
            }
            "operationName" => {
                m.operation = Some(v.clone());
                al.push((s.operation_name.clone(), v));
            }
            "operationVersion" => al.push((s.operation_version.clone(), v)),
            "Level" => al.push((s.level.clone(), v)),
            "resultSignature" => al.push((s.result_signature.clone(), v)),
            _ => al.push((k, v)),
        }
    }

    // date (ignore_failure), then the removal of `time`.
    let timestamp = match &m.time {
        Some(Value::Str(time)) => {
            es_date::parse_activity_time(time).map(|ts| Value::Str(es_date::format_millis(ts)))
        }
        _ => None,
    };
    // rename resourceId → azure.resource_id; read again by related.entity and the shared
    // pipeline.
    let resource_id = match m.resource_id {
        Some(Value::Str(id)) => Some(id),
        _ => None,
    };

    // convert callerIpAddress → source.ip, or its on_failure rename to source.address;
    // client.ip and related.ip from source.ip.
    let (mut source, mut client, mut related_ip) = (None, None, None);
    if let Some(Value::Str(ip)) = m.caller_ip {
        if is_inet_address(&ip) {
            let rendered = escaped(&ip);
            client = Some(object([(&s.ip, Value::Str(rendered.clone()))]));
            related_ip = Some(Value::Array(vec![Value::Str(rendered)]));
            source = Some(object([(&s.ip, Value::Str(ip))]));
        } else {
            source = Some(object([(&s.address, Value::Str(ip))]));
        }
    }

    // rename level → log.level.
    let log = m.level.map(|level| object([(&s.level, level)]));

    // durationMs → event.duration (a string converted to a long), scaled to nanoseconds.
    let duration = match m.duration_ms {
        Some(Value::Str(ms)) => parse_java_long(&ms).map(|n| (Value::Int(n), JavaNum::Long)),
        Some(v) => Some((v, JavaNum::Integer)),
        None => None,
    }
    .map(|(d, kind)| scale_duration(&d, kind).unwrap_or(d));

    // cloud.region from location, then rename location → geo.name.
    let mut cloud = object([(&s.provider, Value::Str(s.azure.clone()))]);
    let mut geo = None;
    if let Some(Value::Str(location)) = m.location {
        if is_region(&location) {
            put(&mut cloud, &s.region, Value::Str(location.clone()));
        }
        geo = Some(object([(&s.name, Value::Str(location))]));
    }

    // rename identity → identity_name when it is a string; json on properties (done by the
    // check when it was text), properties.responseBody and properties.requestBody.
    let mut identity = None;
    match m.identity {
        Some((_, v @ Value::Str(_))) => al.push((s.identity_name.clone(), v)),
        Some((k, Value::Object(i))) => identity = Some((k, i)),
        Some(other) => al.push(other),
        None => {}
    }
    let mut properties = match (m.properties, parsed_properties) {
        (Some((k, _)), Some(parsed)) => Some((k, parsed)),
        (Some((k, Value::Object(p))), None) => Some((k, p)),
        (Some(other), None) => {
            al.push(other);
            None
        }
        (None, _) => None,
    };
    // Then, in one pass over properties: json on responseBody and requestBody, what the
    // event_category script and event.outcome read, the removal of eventCategory, the renames.
    let (mut category, mut policies, mut result, mut message) = (None, false, None, None);
    if let Some((_, p)) = &mut properties {
        *p = rekey(std::mem::take(p), |k, mut v| {
            match &*k {
                "responseBody" | "requestBody" => {
                    if let Value::Str(text) = &v
                        && let Ok(parsed) = parse_json_strict(text)
                    {
                        v = parsed;
                    }
                }
                "eventCategory" => {
                    category = Some(v).filter(|c| !c.is_null());
                    return None;
                }
                "policies" => policies = !v.is_null(),
                "result" => {
                    if let Value::Str(r) = &v
                        && is_result_outcome(r)
                    {
                        result = Some(r.clone());
                    }
                }
                "serviceRequestId" => return Some((s.service_request_id.clone(), v)),
                // rename properties.statusMessage → message.
                "statusMessage" => {
                    message = Some(v);
                    return None;
                }
                "statusCode" => return Some((s.status_code.clone(), v)),
                _ => {}
            }
            Some((k, v))
        });
    }

    // The event_category script (eventCategory was removed above, as it always is then).
    let category = category.unwrap_or_else(|| {
        Value::Str(
            if policies {
                &s.policy
            } else {
                &s.administrative
            }
            .clone(),
        )
    });
    al.push((s.event_category.clone(), category));

    // event.outcome from resultType, else from properties.result.
    let outcome = m.outcome.or(result);

    // convert operation_name → event.action (done above); the renames out of
    // azure.activitylogs and within identity.authorization.evidence.
    let tenant = m.tenant_id.map(|tenant| {
        // Legacy copy: set copy_from with ignore_empty_value.
        if !tenant.is_null() && tenant.as_str() != Some("") {
            al.push((s.tenant_id.clone(), tenant.clone()));
        }
        object([(&s.id, tenant)])
    });
    let mut principal = None;
    if let Some((_, i)) = &mut identity
        && let Some(Value::Object(authorization)) = i.get_mut("authorization")
        && let Some(Value::Object(evidence)) = authorization.get_mut("evidence")
    {
        *evidence = rekey(std::mem::take(evidence), |k, v| {
            let renamed = EVIDENCE_RENAMES.iter().position(|(from, _)| **from == *k);
            let k = renamed.map_or(k, |r| s.evidence_renamed[r].clone());
            if &*k == "principal_id" && !v.is_null() {
                principal = Some(v.clone());
            }
            Some((k, v))
        });
    }
    let correlation = m.correlation_id.map(|id| object([(&s.id, id)]));

    // The claims, in one pass: name → claims_initiated_by_user.fullname, the values copied
    // beside it (only when it exists), the key rewrite; then the schema marker.
    let mut initiated_by = None;
    if let Some((_, i)) = &mut identity
        && let Some(Value::Object(claims)) = i.get_mut("claims")
    {
        let (mut name, mut copies) = (None, [None, None, None]);
        *claims = rekey(std::mem::take(claims), |k, v| {
            if &*k == "name" {
                name = Some(v);
                return None;
            }
            if let Some(c) = CLAIM_COPIES.iter().position(|(claim, _)| **claim == *k)
                && !v.is_null()
            {
                copies[c] = Some(v.clone());
            }
            let k = if k.contains('.') { underscored(&k) } else { k };
            Some((k, v))
        });
        if let Some(name) = name {
            let [surname, copied_name, givenname] = copies;
            let schema = copied_name
                .is_some()
                .then(|| Value::Str(s.claims_schema.clone()));
            initiated_by = Some(fields([
                (&s.fullname, Some(name)),
                (&s.claim_copied[2], givenname),
                (&s.claim_copied[1], copied_name),
                (&s.schema, schema),
                (&s.claim_copied[0], surname),
            ]));
        }
    }

    // event.type from the category.
    let event_type = match m.category.as_deref().and_then(event_type_of) {
        Some("change") => Some(&s.change),
        Some("access") => Some(&s.access),
        Some(_) => Some(&s.deletion),
        None => None,
    }
    .map(|ty| Value::Array(vec![Value::Str(ty.clone())]));

    // user.*: the grok on the name claim, else the whole claim as user.name; related.user;
    // user.full_name.
    let name_claim = initiated_by.as_ref().and_then(|ciu| ciu.get("name"));
    let (mut user_name, mut domain, mut email) = (None, None, None);
    if let Some(Value::Str(name)) = name_claim
        && let Some((u, d)) = grok::user_at_domain(name)
    {
        user_name = Some(Arc::from(u));
        domain = Some(Value::str(d));
        email = Some(Value::Str(escaped(name)));
    } else if let Some(name) = name_claim {
        user_name = Some(render_escaped(name))
            .filter(|n| !n.is_empty())
            .map(Arc::from);
    }
    let related_user = user_name
        .as_ref()
        .map(|name| Value::Array(vec![Value::Str(escaped(name))]));
    let full_name = initiated_by
        .as_ref()
        .and_then(|ciu| ciu.get("fullname"))
        .filter(|v| !v.is_null())
        .and_then(|full| convert_string(full).ok());
    let user = fields([
        (&s.domain, domain),
        (&s.email, email),
        (&s.full_name, full_name),
        (&s.name, user_name.map(Value::Str)),
    ]);
    if let Some((k, mut i)) = identity {
        if let Some(ciu) = initiated_by {
            put(&mut i, &s.claims_initiated_by_user, Value::Object(ciu));
        }
        al.push((k, Value::Object(i)));
    }
    if let Some((k, p)) = properties {
        al.push((k, Value::Object(p)));
    }

    // related.entity: the resource id, then the principal id (no duplicates).
    let mut entities = Vec::new();
    if let Some(id) = resource_id.as_ref().filter(|id| !id.is_empty()) {
        entities.push(Value::Str(id.clone()));
    }
    if let Some(p) = principal.filter(|p| p.as_str() != Some("")) {
        let p = match p {
            Value::Str(p) => Value::Str(p),
            other => Value::from(java_string(&other)),
        };
        if !entities.contains(&p) {
            entities.push(p);
        }
    }
    let related = fields([
        (
            &s.entity,
            (!entities.is_empty()).then_some(Value::Array(entities)),
        ),
        (&s.ip, related_ip),
        (&s.user, related_user),
    ]);

    // The shared pipeline: cloud.provider (above), the grok chain, the rename to
    // azure.resource.id, event.outcome lower-cased.
    let (mut resource, mut subscription) = (None, None);
    if let Some(id) = resource_id {
        let parts = grok::resource_id_parts(&id);
        let part = |v: Option<&str>| v.map(Value::str);
        let fields = fields([
            (&s.authorization_rule, part(parts.authorization_rule)),
            (&s.group, part(parts.group)),
            (&s.id, Some(Value::Str(id.clone()))),
            (&s.name, part(parts.name)),
            (&s.namespace, part(parts.namespace)),
            (&s.provider, part(parts.provider)),
        ]);
        subscription = part(parts.subscription_id);
        resource = Some(fields);
    }
    let outcome = outcome.map(|outcome| {
        // Either spelling of success or failure, or the exact properties.result.
        let lower = [&s.success, &s.failure, &s.unknown]
            .into_iter()
            .find(|l| outcome.eq_ignore_ascii_case(l))
            .cloned()
            .unwrap_or_else(|| Arc::from(outcome.to_lowercase()));
        Value::Str(lower)
    });

    // The objects in key order, with the index-time fields (crate::finish).
    let obj = |m: Option<Map>| m.filter(|m| !m.is_empty()).map(Value::Object);
    let event = fields([
        (&s.action, m.operation),
        (&s.dataset, Some(Value::Str(s.azure_activitylogs.clone()))),
        (&s.duration, duration),
        (
            &s.ingested,
            opts.ingested
                .map(|t| Value::from(es_date::format_seconds(t))),
        ),
        (&s.kind, Some(Value::Str(s.event.clone()))),
        (&s.module, Some(Value::Str(s.azure.clone()))),
        (&s.original, opts.event_original.then(|| Value::str(raw))),
        (&s.outcome, outcome),
        (&s.type_, event_type),
    ]);
    let azure = fields([
        (
            &s.activitylogs,
            Some(Value::Object(al.into_iter().collect())),
        ),
        (&s.correlation, obj(correlation)),
        (&s.resource, obj(resource)),
        (&s.subscription_id, subscription),
        (&s.tenant, obj(tenant)),
    ]);
    let data_stream = fields([
        (&s.dataset, Some(Value::Str(s.azure_activitylogs.clone()))),
        (&s.namespace, Some(Value::Str(s.default.clone()))),
        (&s.type_, Some(Value::Str(s.logs.clone()))),
    ]);
    let ecs = object([(&s.version, Value::Str(s.ecs_version.clone()))]);
    Value::Object(fields([
        (&s.at_timestamp, timestamp),
        (&s.azure, Some(Value::Object(azure))),
        (&s.client, obj(client)),
        (&s.cloud, Some(Value::Object(cloud))),
        (&s.data_stream, Some(Value::Object(data_stream))),
        (&s.ecs, Some(Value::Object(ecs))),
        (&s.event, Some(Value::Object(event))),
        (&s.geo, obj(geo)),
        (&s.log, obj(log)),
        (&s.message, message),
        (&s.related, obj(Some(related))),
        (&s.source, obj(source)),
        (&s.user, obj(Some(user))),
    ]))
}

/// A map of the present fields, given in key order. They are inserted last to first: a
/// B-tree node is searched from its first key, so each insert then compares one key.
fn fields<const N: usize>(entries: [(&Arc<str>, Option<Value>); N]) -> Map {
    debug_assert!(
        entries.windows(2).all(|w| w[0].0 < w[1].0),
        "keys out of order"
    );
    let mut m = Map::new();
    for (k, v) in entries.into_iter().rev() {
        if let Some(v) = v {
            m.insert(k.clone(), v);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn takes_fast_path(raw: &str) -> bool {
        let doc = vigil_event::parse_json(raw.as_bytes()).expect("JSON");
        normalize(raw, doc, &Options::default()).is_ok()
    }

    const SUB: &str = "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555";

    // The shapes Azure writes take this path (its speed depends on it); the output itself is
    // compared with the reference by the differential tests.
    #[test]
    fn typical_records_take_the_fast_path() {
        for raw in [
            format!(
                r#"{{"time":"2024-05-01T10:00:00.1234567Z","resourceId":"{SUB}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1","operationName":"MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE","category":"Administrative","resultType":"Success","resultSignature":"Succeeded.OK","durationMs":12,"callerIpAddress":"203.0.113.7","correlationId":"c","identity":{{"authorization":{{"scope":"s","action":"a","evidence":{{"role":"Owner","principalId":"p","principalType":"User"}}}},"claims":{{"name":"N","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":"n@x.org","appid":"a"}}}},"level":"Information","location":"eastus","tenantId":"t","properties":{{"statusCode":"OK","serviceRequestId":"r","eventCategory":"Administrative","responseBody":"{{\"a\":1}}"}}}}"#
            ),
            // Projected: a few keys only.
            format!(r#"{{"time":"2024-05-01T10:00:00Z","resourceId":"{SUB}","operationName":"X","category":"Write","resultType":"Start","location":"global"}}"#),
            // properties as JSON text, identity as a string, Level beside level.
            r#"{"time":"5/1/2024 10:05:00 AM","operationName":"x","properties":"{\"statusMessage\":\"m\"}","identity":"someone","level":"Error","Level":"2","durationMs":"15"}"#.to_string(),
        ] {
            assert!(takes_fast_path(&raw), "{raw}");
        }
    }

    #[test]
    fn unusual_records_take_the_general_path() {
        for raw in [
            // Renames onto existing keys fail the pipeline.
            r#"{"time":"t","resultType":"Success","result_type":"x"}"#,
            r#"{"time":"t","properties":{"statusCode":"OK","status_code":"OK"}}"#,
            r#"{"time":"t","identity":{"authorization":{"evidence":{"principalId":"p","principal_id":"q"}}}}"#,
            r#"{"time":"t","identity":{"claims":{"name":"n"},"claims_initiated_by_user":{}}}"#,
            // Types a processor fails on, or that this path does not handle.
            r#"{"time":"t","category":7}"#,
            r#"{"time":"t","location":["eastus"]}"#,
            r#"{"time":"t","properties":"[1]"}"#,
            r#"{"time":"t","identity":[1]}"#,
            r#"{"time":"t","identity":{"claims":{"name":["a",null]}}}"#,
            r#"{"time":1571875726000}"#,
            // The empty member the first script removes from the text.
            r#"{"":"","time":"t"}"#,
        ] {
            assert!(!takes_fast_path(raw), "{raw}");
        }
    }
}
