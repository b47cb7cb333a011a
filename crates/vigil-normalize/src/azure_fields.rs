//! What the decoder may assume about the ECS fields of a normalized Azure Activity Log record:
//! how their string values appear in the record's raw text (for the raw-bytes prefilter) and
//! which native top-level keys they are computed from (for projection pushdown).

use std::collections::BTreeSet;

use vigil_plan::LiteralMode;

/// Fields whose string value is a substring of the record's JSON text, character for character
/// once the text's canonical escapes (`\\`, `\"`) are undone: copied or renamed from a string
/// member of the record, or cut out of one by grok.
const VERBATIM: &[&str] = &[
    "event.action",
    "azure.activitylogs.operation_name",
    "azure.activitylogs.category",
    "azure.activitylogs.result_type",
    "azure.activitylogs.result_signature",
    "azure.activitylogs.operation_version",
    "azure.activitylogs.level",
    "azure.activitylogs.identity_name",
    "azure.activitylogs.tenant_id",
    "azure.tenant.id",
    "azure.correlation.id",
    "azure.resource.id",
    "azure.resource.group",
    "azure.resource.provider",
    "azure.resource.name",
    "azure.resource.namespace",
    "azure.resource.authorization_rule",
    "azure.subscription_id",
    "azure.activitylogs.identity.claims_initiated_by_user.fullname",
    "azure.activitylogs.identity.claims_initiated_by_user.surname",
    "azure.activitylogs.identity.claims_initiated_by_user.name",
    "azure.activitylogs.identity.claims_initiated_by_user.givenname",
    "related.entity",
    "log.level",
    "cloud.region",
    "geo.name",
    "source.address",
    "user.domain",
    "user.full_name",
];

/// How `ecs_field`'s string value appears in a native record's raw JSON text. See
/// [`crate::azure_literal_mode`].
pub(crate) fn literal_mode(ecs_field: &str) -> LiteralMode {
    if ecs_field == "event.outcome" {
        // resultType (any case) or properties.result, lower-cased by the shared pipeline.
        return LiteralMode::CaseFolded;
    }
    if VERBATIM.contains(&ecs_field)
        || ecs_field.starts_with("azure.activitylogs.identity.authorization.")
    {
        return LiteralMode::Verbatim;
    }
    if let Some(key) = ecs_field.strip_prefix("azure.activitylogs.identity.claims.") {
        // A key holding `_` may be a rewritten `.`; a dotted path is not a claim key at all.
        return if key.contains(['_', '.']) || key == "name" {
            LiteralMode::Absent
        } else {
            LiteralMode::Verbatim
        };
    }
    LiteralMode::Absent
}

/// Native keys whose value can make the pipeline fail (a non-string `category` or `location`,
/// or a rename onto a key the record already has). They are small strings, so every answer
/// includes them: a failure changes every field of the document.
const CHEAP_FAILURE_KEYS: &[&str] = &[
    "category",
    "location",
    "identity_name",
    "resultType",
    "result_type",
    "operationName",
    "operation_name",
    "operationVersion",
    "operation_version",
    "resultSignature",
    "result_signature",
];

/// All keys that can make the pipeline fail: the cheap ones, a malformed `identity` (an array,
/// a non-object `claims_initiated_by_user` or `authorization`) and a `properties` that is not an
/// object after parsing.
const FAILURE_KEYS: &[&str] = &[
    "category",
    "location",
    "identity_name",
    "resultType",
    "result_type",
    "operationName",
    "operation_name",
    "operationVersion",
    "operation_version",
    "resultSignature",
    "result_signature",
    "identity",
    "properties",
];

/// ECS field (or object) → the native keys it is computed from. A requested field matches an
/// entry equal to it, below it, or above it.
const SOURCES: &[(&str, &[&str])] = &[
    ("@timestamp", &["time"]),
    ("ecs.version", &[]),
    ("cloud.provider", &[]),
    ("cloud.region", &["location"]),
    // geo.name comes from location; GeoIP enrichment replaces geo from the caller's address.
    ("geo", &["location", "callerIpAddress"]),
    ("source", &["callerIpAddress"]),
    ("client.ip", &["callerIpAddress"]),
    ("related.ip", &["callerIpAddress"]),
    ("related.user", &["identity"]),
    ("related.entity", &["resourceId", "identity"]),
    ("user", &["identity"]),
    ("log.level", &["level"]),
    ("message", &["properties"]),
    ("temp_claims", &["identity"]),
    ("event.original", &[]),
    ("event.action", &["operationName", "operation_name"]),
    (
        "event.outcome",
        &["resultType", "result_type", "properties"],
    ),
    ("event.type", &["category"]),
    ("event.duration", &["durationMs"]),
    ("event.kind", FAILURE_KEYS),
    ("event.dataset", &[]),
    ("event.module", &[]),
    ("event.ingested", &[]),
    ("data_stream", &[]),
    ("tags", FAILURE_KEYS),
    ("error", FAILURE_KEYS),
    ("azure.subscription_id", &["resourceId"]),
    ("azure.resource", &["resourceId"]),
    ("azure.resource_id", &["resourceId"]),
    ("azure.correlation", &["correlationId"]),
    ("azure.tenant", &["tenantId"]),
    ("azure.activitylogs.tenant_id", &["tenantId", "tenant_id"]),
    ("azure.activitylogs.category", &["category"]),
    ("azure.activitylogs.event_category", &["properties"]),
    (
        "azure.activitylogs.operation_name",
        &["operationName", "operation_name"],
    ),
    (
        "azure.activitylogs.operation_version",
        &["operationVersion", "operation_version"],
    ),
    (
        "azure.activitylogs.result_type",
        &["resultType", "result_type"],
    ),
    (
        "azure.activitylogs.result_signature",
        &["resultSignature", "result_signature"],
    ),
    ("azure.activitylogs.level", &["Level", "level"]),
    (
        "azure.activitylogs.identity_name",
        &["identity", "identity_name"],
    ),
    ("azure.activitylogs.identity", &["identity"]),
    ("azure.activitylogs.properties", &["properties"]),
    ("azure.activitylogs.callerIpAddress", &["callerIpAddress"]),
    (
        "azure.activitylogs.resultDescription",
        &["resultDescription"],
    ),
    // Native names the pipeline renames or removes: never present, but harmless to ask for.
    ("azure.activitylogs.time", &["time"]),
    ("azure.activitylogs.resourceId", &["resourceId"]),
    ("azure.activitylogs.durationMs", &["durationMs"]),
    ("azure.activitylogs.location", &["location"]),
    ("azure.activitylogs.tenantId", &["tenantId"]),
    ("azure.activitylogs.correlationId", &["correlationId"]),
    ("azure.activitylogs.resultType", &["resultType"]),
    ("azure.activitylogs.operationName", &["operationName"]),
    ("azure.activitylogs.operationVersion", &["operationVersion"]),
    ("azure.activitylogs.resultSignature", &["resultSignature"]),
    ("azure.activitylogs.Level", &["Level"]),
];

/// See [`crate::azure_native_keys_for`].
pub(crate) fn native_keys_for<'a>(
    ecs_fields: impl IntoIterator<Item = &'a str>,
) -> Option<BTreeSet<&'static str>> {
    let mut keys = BTreeSet::new();
    let mut any = false;
    for field in ecs_fields {
        any = true;
        // Unknown members of the record pass through under azure.activitylogs.
        if matches!(field, "" | "azure" | "azure.activitylogs") {
            return None;
        }
        let mut matched = false;
        for (entry, sources) in SOURCES {
            let related = field == *entry || is_below(field, entry) || is_below(entry, field);
            if related {
                matched = true;
                keys.extend(sources.iter().copied());
            }
        }
        if !matched {
            return None;
        }
    }
    if any {
        keys.extend(CHEAP_FAILURE_KEYS.iter().copied());
    }
    Some(keys)
}

/// `path` names a field inside the object `parent`.
fn is_below(path: &str, parent: &str) -> bool {
    path.len() > parent.len() && path.starts_with(parent) && path.as_bytes()[parent.len()] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(literal_mode("event.action"), LiteralMode::Verbatim);
        assert_eq!(literal_mode("azure.resource.name"), LiteralMode::Verbatim);
        assert_eq!(
            literal_mode("azure.activitylogs.identity.authorization.evidence.principal_id"),
            LiteralMode::Verbatim
        );
        assert_eq!(literal_mode("event.outcome"), LiteralMode::CaseFolded);
        for absent in [
            "@timestamp",
            "event.kind",
            "event.dataset",
            "data_stream.dataset",
            "source.ip",
            "client.ip",
            "related.ip",
            "source.geo.country_iso_code",
            "source.as.organization.name",
            "user.name",
            "user.email",
            "related.user",
            "event.original",
            "message",
            "azure.activitylogs.properties.statusCode",
            "azure.activitylogs.identity.claims.http://schemas_microsoft_com/identity/claims/tenantid",
            "azure.activitylogs.identity.claims_initiated_by_user.schema",
            "no.such.field",
        ] {
            assert_eq!(literal_mode(absent), LiteralMode::Absent, "{absent}");
        }
        assert_eq!(
            literal_mode("azure.activitylogs.identity.claims.appid"),
            LiteralMode::Verbatim
        );
    }

    #[test]
    fn keys() {
        let k = native_keys_for(["event.action", "azure.resource.name"]).unwrap();
        assert!(k.contains("operationName") && k.contains("resourceId"));
        assert!(!k.contains("properties") && !k.contains("identity"));
        let k = native_keys_for(["user.name"]).unwrap();
        assert!(k.contains("identity"));
        let k = native_keys_for(["event"]).unwrap();
        assert!(k.contains("properties") && k.contains("durationMs"));
        assert_eq!(native_keys_for(["azure.activitylogs.unheard_of"]), None);
        assert_eq!(native_keys_for(["azure"]), None);
        assert_eq!(native_keys_for(["process.name"]), None);
        assert_eq!(native_keys_for(Vec::<&str>::new()), Some(BTreeSet::new()));
    }
}
