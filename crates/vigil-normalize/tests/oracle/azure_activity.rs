//! Elastic's `azure.activitylogs` ingest pipeline, processor by processor.
//!
//! The default pipeline is version 37c97e14 of `packages/azure/data_stream/activitylogs/
//! elasticsearch/ingest_pipeline/default.yml` in elastic/integrations and the shared pipeline
//! version 1b08d3b5 of `azure-shared-pipeline.yml`, with one exception: the `durationMs` block
//! follows version 627146b1, which converts a string `durationMs` to a long before scaling it.
//! The upstream pipeline test for string durations expects `0` for `"0"`; the 37c97e14 script
//! alone would fail on a string (Painless cannot multiply a `String`) and keep `"0"`.
//!
//! Every processor's failure behaviour is kept: `ignore_failure` swallows, a processor with an
//! `if` reports the type `conditional` (the wrapper Elasticsearch puts around it), and any other
//! failure runs the pipeline's `on_failure` handler on the partly processed document.
//!
//! GeoIP and ASN lookups are not done here: enrichment sets `geo`, `source.geo` and `source.as`
//! later. Note that the pipeline's own `geo.name` (from `location`) is replaced wholesale when the
//! City lookup finds the caller's address, so the enrichment stage must overwrite `geo`.

use std::sync::Arc;

use vigil_event::{Map, Value};

use crate::es_date;
use crate::grok;
use crate::ingest::{
    append, get, get_non_null, java_string, java_type, json_escape, parse_json_strict, pl_field,
    pl_safe_path, remove, rename, render, set,
};

/// The pipeline's `ecs.version`.
const ECS_VERSION: &str = "8.11.0";

const AL: &str = "azure.activitylogs";
const CALLER_IP: &str = "azure.activitylogs.callerIpAddress";
const DURATION_MS: &str = "azure.activitylogs.durationMs";
const CIU: &str = "azure.activitylogs.identity.claims_initiated_by_user";
const CIU_NAME: &str = "azure.activitylogs.identity.claims_initiated_by_user.name";
const CLAIMS_SCHEMA: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";

/// A processor failure as `on_failure` sees it: `_ingest.on_failure_processor_type`, `_tag`
/// and `_message`. Messages follow the Java exceptions' wording where it is known; they are
/// approximations, never parsed by anything.
#[derive(Debug)]
pub(crate) struct Failure {
    kind: &'static str,
    tag: Option<&'static str>,
    message: String,
}

type Step = Result<(), Failure>;

fn fail(kind: &'static str, tag: &'static str) -> impl FnOnce(String) -> Failure {
    move |message| Failure {
        kind,
        tag: Some(tag),
        message,
    }
}

/// A processor with an `if`: Elasticsearch wraps it, and the wrapper's type is reported.
fn conditional(tag: &'static str) -> impl FnOnce(String) -> Failure {
    fail("conditional", tag)
}

/// Runs the pipeline on one record. `parsed` is the record's value (or why `raw` is not JSON);
/// the result is the document the pipeline hands to indexing, `on_failure` included.
pub(crate) fn run(raw: &str, parsed: Result<Value, String>) -> Value {
    let mut ctx = Value::Object(Map::new());
    if let Err(f) = default_pipeline(&mut ctx, raw, parsed) {
        on_failure(&mut ctx, &f);
    }
    ctx
}

/// The default pipeline's `on_failure`.
fn on_failure(ctx: &mut Value, f: &Failure) {
    let _ = set(ctx, "event.kind", Value::str("pipeline_error"));
    let _ = append(ctx, "tags", Value::str("preserve_original_event"), false);
    // `>-` folds the template's lines into spaces; the tag clause is a Mustache section.
    let tag = f
        .tag
        .map(|t| format!("with tag '{t}' "))
        .unwrap_or_default();
    let message = format!(
        "Processor '{}' {tag}failed with message '{}'",
        f.kind, f.message
    );
    let _ = append(ctx, "error.message", Value::from(message), true);
}

/// `ctx.message.replace('"":"",', '')`: the first script drops empty-name, empty-value members
/// (Elasticsearch cannot index an empty field name) from the text before it is parsed.
const EMPTY_MEMBER: &str = r#""":"","#;

fn default_pipeline(ctx: &mut Value, raw: &str, parsed: Result<Value, String>) -> Step {
    set(ctx, "ecs.version", Value::str(ECS_VERSION))
        .map_err(fail("set", "set_ecs_version_0f7334bb"))?;
    // `rename azure → azure-eventhub` and `remove routing.category` act on input metadata an
    // Elastic Agent adds; a record arriving here has neither.

    let (message, parsed) = if raw.contains(EMPTY_MEMBER) {
        let text = raw.replace(EMPTY_MEMBER, "");
        let reparsed = parse_json_strict(&text).map(|v| keep_keys_of(v, parsed.as_ref().ok()));
        (text, reparsed)
    } else {
        (raw.to_string(), parsed)
    };
    // `rename message → event.original` (the input has no event.original).
    set(ctx, "event.original", Value::from(message))
        .map_err(fail("rename", "rename_message_to_event_original_c74b1d7e"))?;

    // `json event.original → azure.activitylogs`: the only processor whose failure on a bad
    // record is not ignored.
    let record = parsed.map_err(fail(
        "json",
        "json_event_original_to_azure_activitylogs_01d823eb",
    ))?;
    set(ctx, AL, record).map_err(fail(
        "json",
        "json_event_original_to_azure_activitylogs_01d823eb",
    ))?;

    // `date` (ignore_failure): the value's toString, as the processor reads it.
    if let Some(time) = get_non_null(ctx, "azure.activitylogs.time")
        && let Some(ts) = es_date::parse_activity_time(&java_string(time))
    {
        let _ = set(ctx, "@timestamp", Value::from(es_date::format_millis(ts)));
    }
    remove(ctx, "azure.activitylogs.time");
    rename(
        ctx,
        "azure.activitylogs.resourceId",
        "azure.resource_id",
        true,
    )
    .map_err(fail(
        "rename",
        "rename_azure_activitylogs_resourceId_to_azure_resource_id_60da6e05",
    ))?;

    caller_ip(ctx)?;
    rename(ctx, "azure.activitylogs.level", "log.level", true).map_err(fail(
        "rename",
        "rename_azure_activitylogs_level_to_log_level_5438ab8b",
    ))?;
    duration(ctx)?;
    cloud_region(ctx)?;
    rename(ctx, "azure.activitylogs.location", "geo.name", true).map_err(fail(
        "rename",
        "rename_azure_activitylogs_location_to_geo_name_328edfb6",
    ))?;
    json_strings(ctx)?;
    event_category(ctx)?;
    outcome_and_renames(ctx)?;
    claims(ctx)?;
    event_type(ctx)?;
    // geoip → source.geo, geoip → source.as and the two source.as renames: enrichment, later.
    user(ctx)?;
    set(ctx, "event.kind", Value::str("event")).map_err(fail("set", "set_event_kind_de80643c"))?;
    related_entity(ctx)?;
    shared_pipeline(ctx);
    Ok(())
}

/// Keeps only the top-level keys `shape` has, so that a record re-parsed after the empty-member
/// fix stays restricted to the keys a projected caller decoded.
fn keep_keys_of(v: Value, shape: Option<&Value>) -> Value {
    match (v, shape.and_then(Value::as_object)) {
        (Value::Object(mut m), Some(keys)) => {
            m.retain(|k, _| keys.contains_key(k));
            Value::Object(m)
        }
        (v, _) => v,
    }
}

/// `convert callerIpAddress → source.ip (type ip)`, its `on_failure` rename to
/// `source.address`, the removal of the converted field, `client.ip` and `related.ip`.
fn caller_ip(ctx: &mut Value) -> Step {
    if let Some(v) = get_non_null(ctx, CALLER_IP) {
        match convert_ip(v) {
            Ok(ip) => {
                if set(ctx, "source.ip", ip).is_err() {
                    let _ = rename(ctx, CALLER_IP, "source.address", true);
                }
            }
            Err(_) => {
                let _ = rename(ctx, CALLER_IP, "source.address", true);
            }
        }
    }
    let has_source_ip = pl_safe_path(ctx, "source.ip")
        .map_err(conditional(
            "remove_azure_activitylogs_callerIpAddress_c5bca581",
        ))?
        .is_some();
    if has_source_ip {
        remove(ctx, CALLER_IP);
    }
    let ip = render(ctx, "source.ip", true);
    if !ip.is_empty() {
        set(ctx, "client.ip", Value::from(ip)).map_err(fail("set", "set_client_ip_b6d15cbc"))?;
    }
    if has_source_ip {
        let ip = render(ctx, "source.ip", true);
        append(ctx, "related.ip", Value::from(ip), false)
            .map_err(conditional("append_related_ip_d7aecc5f"))?;
    }
    Ok(())
}

/// `convert` to `ip`: the value's text when it is an address, unchanged (no re-formatting);
/// lists convert element-wise.
fn convert_ip(v: &Value) -> Result<Value, String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(convert_ip)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Null => Err("null element".into()),
        other => {
            let text = java_string(other);
            if is_inet_address(&text) {
                Ok(Value::from(text))
            } else {
                Err(format!("[{text}] is not a valid ipv4/ipv6 address"))
            }
        }
    }
}

/// Elasticsearch's `InetAddresses.isInetAddress`: dotted-quad IPv4 without leading zeros, or
/// IPv6 (an IPv4 tail allowed) with an optional `%scope` that is not checked.
pub(crate) fn is_inet_address(s: &str) -> bool {
    let (addr, scope) = match s.find('%') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if addr.contains(':') {
        addr.parse::<std::net::Ipv6Addr>().is_ok()
    } else if addr.contains('.') {
        scope.is_none() && addr.parse::<std::net::Ipv4Addr>().is_ok()
    } else {
        false
    }
}

/// Painless number types of `event.duration` when the scaling script runs.
#[derive(Clone, Copy, PartialEq)]
enum JavaNum {
    /// Jackson decodes integers that fit 32 bits as `Integer`: `Integer * Integer` wraps at 32 bits.
    Integer,
    Long,
}

/// `durationMs` → `event.duration` in nanoseconds (the 627146b1 block, see the module docs):
/// a string is converted to a long (`Long.parseLong`, or `Long.decode` for `0x`), anything else
/// is renamed as is; then `event.duration * 1000000` with Painless arithmetic. Integer values
/// that fit 32 bits multiply as Java `int`s and wrap: 2148 ms becomes a negative duration, as in
/// Elasticsearch.
fn duration(ctx: &mut Value) -> Step {
    const CONVERT_TAG: &str = "convert_activitylogs_durationms_to_event_duration";
    const RENAME_TAG: &str = "rename_activitylogs_durationms_to_event_duration";
    let mut kind = JavaNum::Integer;
    let v = pl_safe_path(ctx, DURATION_MS)
        .map_err(conditional(CONVERT_TAG))?
        .cloned();
    match v {
        Some(Value::Str(s)) => {
            // convert (ignore_failure): an unparseable string is simply dropped below.
            if let Some(n) = parse_java_long(&s) {
                set(ctx, "event.duration", Value::Int(n)).map_err(conditional(CONVERT_TAG))?;
                kind = JavaNum::Long;
            }
        }
        Some(_) => {
            rename(ctx, DURATION_MS, "event.duration", true).map_err(conditional(RENAME_TAG))?;
        }
        None => {}
    }
    remove(ctx, DURATION_MS);
    // script (ignore_failure): `ctx.event.duration * params.param_nano`.
    let scaled = match get_non_null(ctx, "event.duration") {
        Some(Value::Int(i)) => match i32::try_from(*i) {
            Ok(small) if kind == JavaNum::Integer => {
                Some(Value::Int(i64::from(small.wrapping_mul(1_000_000))))
            }
            _ => Some(Value::Int(i.wrapping_mul(1_000_000))),
        },
        Some(Value::Float(f)) => Some(Value::Float(f * 1_000_000.0)),
        _ => None,
    };
    if let Some(v) = scaled {
        let _ = set(ctx, "event.duration", v);
    }
    Ok(())
}

/// `convert` to `long`: `Long.decode` for `0x`/`-0x` prefixes, `Long.parseLong` otherwise.
fn parse_java_long(s: &str) -> Option<i64> {
    let (neg, hex) = if let Some(h) = s.strip_prefix("0x") {
        (false, Some(h))
    } else if let Some(h) = s.strip_prefix("-0x") {
        (true, Some(h))
    } else {
        (false, None)
    };
    if let Some(h) = hex {
        if h.is_empty() || h.starts_with(['+', '-']) {
            return None;
        }
        let magnitude = i128::from_str_radix(h, 16).ok()?;
        return i64::try_from(if neg { -magnitude } else { magnitude }).ok();
    }
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// `set cloud.region` from `location` when it is longer than two characters (UTF-16 units, as
/// Java counts) and not `global` in any case. A non-string location makes the condition throw.
fn cloud_region(ctx: &mut Value) -> Step {
    const TAG: &str = "set_cloud_region_from_location_b2c3d4e5";
    let region = match pl_safe_path(ctx, "azure.activitylogs.location").map_err(conditional(TAG))? {
        None => None,
        Some(Value::Str(s)) => {
            (s.encode_utf16().count() > 2 && s.to_lowercase() != "global").then(|| s.clone())
        }
        Some(other) => {
            return Err(conditional(TAG)(format!(
                "dynamic method [{}, length/0] not found",
                java_type(other)
            )));
        }
    };
    if let Some(r) = region.filter(|r| !r.is_empty()) {
        set(ctx, "cloud.region", Value::Str(r)).map_err(conditional(TAG))?;
    }
    Ok(())
}

/// `identity` as a string becomes `identity_name` (and so is never parsed: the json processor
/// that follows finds no `identity`); `properties`, `properties.responseBody` and
/// `properties.requestBody` given as strings are parsed as JSON, left as strings when invalid.
fn json_strings(ctx: &mut Value) -> Step {
    const RENAME_TAG: &str =
        "rename_azure_activitylogs_identity_to_azure_activitylogs_identity_name_9a14a504";
    const IDENTITY_TAG: &str = "json_azure_activitylogs_identity_b5c40657";
    let is_str = |ctx: &Value, path: &str, tag: &'static str| -> Result<bool, Failure> {
        Ok(matches!(
            pl_safe_path(ctx, path).map_err(conditional(tag))?,
            Some(Value::Str(_))
        ))
    };
    if is_str(ctx, "azure.activitylogs.identity", RENAME_TAG)? {
        rename(
            ctx,
            "azure.activitylogs.identity",
            "azure.activitylogs.identity_name",
            true,
        )
        .map_err(conditional(RENAME_TAG))?;
    }
    if is_str(ctx, "azure.activitylogs.identity", IDENTITY_TAG)? {
        parse_in_place(ctx, "azure.activitylogs.identity");
    }
    for (path, tag) in [
        (
            "azure.activitylogs.properties",
            "json_azure_activitylogs_properties_695ad309",
        ),
        (
            "azure.activitylogs.properties.responseBody",
            "json_azure_activitylogs_properties_responseBody_2bfda71c",
        ),
        (
            "azure.activitylogs.properties.requestBody",
            "json_azure_activitylogs_properties_requestBody_e0a404ec",
        ),
    ] {
        if is_str(ctx, path, tag)? {
            parse_in_place(ctx, path);
        }
    }
    Ok(())
}

/// A `json` processor without a target and with `ignore_failure`.
fn parse_in_place(ctx: &mut Value, path: &str) {
    let Some(Value::Str(text)) = get(ctx, path) else {
        return;
    };
    if let Ok(v) = parse_json_strict(text) {
        let _ = set(ctx, path, v);
    }
}

/// The `event_category` script (ignore_failure) and the removal of `properties.eventCategory`.
fn event_category(ctx: &mut Value) -> Step {
    let category = (|| -> Result<Value, String> {
        let props = pl_safe_path(ctx, "azure.activitylogs.properties")?;
        if let Some(c) = pl_field(props, "eventCategory", true)? {
            return Ok(c.clone());
        }
        if pl_field(props, "policies", true)?.is_some() {
            return Ok(Value::str("Policy"));
        }
        Ok(Value::str("Administrative"))
    })();
    if let Ok(category) = category {
        // `ctx.azure.activitylogs.event_category = …` throws unless activitylogs is an object.
        if matches!(get(ctx, AL), Some(Value::Object(_))) {
            let _ = set(ctx, "azure.activitylogs.event_category", category);
        }
    }
    // `if: ctx.azure.activitylogs.event_category != null` is not null-safe.
    const TAG: &str = "remove_azure_activitylogs_properties_eventCategory_9308b07f";
    let azure = pl_field(Some(ctx), "azure", false).map_err(conditional(TAG))?;
    let al = pl_field(azure, "activitylogs", false).map_err(conditional(TAG))?;
    if pl_field(al, "event_category", false)
        .map_err(conditional(TAG))?
        .is_some()
    {
        remove(ctx, "azure.activitylogs.properties.eventCategory");
    }
    Ok(())
}

/// `convert` to `string` of a present value: its toString (element-wise for lists; a null
/// element throws).
fn convert_string(v: &Value) -> Result<Value, String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(convert_string)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Null => Err("Cannot invoke \"Object.toString()\" because \"value\" is null".into()),
        Value::Str(_) => Ok(v.clone()),
        other => Ok(Value::from(java_string(other))),
    }
}

/// A `convert` to string with `ignore_missing` (null counts as missing).
fn convert_to_string(ctx: &mut Value, from: &str, to: &str, tag: &'static str) -> Step {
    let Some(v) = get_non_null(ctx, from) else {
        return Ok(());
    };
    let converted = convert_string(v).map_err(fail("convert", tag))?;
    set(ctx, to, converted).map_err(fail("convert", tag))
}

fn outcome_and_renames(ctx: &mut Value) -> Step {
    let r = |ctx: &mut Value, from: &str, to: &str, tag: &'static str| {
        rename(ctx, from, to, true).map_err(fail("rename", tag))
    };
    r(
        ctx,
        "azure.activitylogs.resultType",
        "azure.activitylogs.result_type",
        "rename_azure_activitylogs_resultType_to_azure_activitylogs_result_type_b2d1b555",
    )?;

    // event.outcome from resultType when it is Success or Failure in any case (lower-cased by
    // the shared pipeline), else from properties.result when exactly success/failure/unknown.
    const RESULT_TAG: &str = "convert_azure_activitylogs_result_type_to_event_outcome_60078132";
    if let Some(Value::Str(s)) =
        pl_safe_path(ctx, "azure.activitylogs.result_type").map_err(conditional(RESULT_TAG))?
    {
        let lower = s.to_lowercase();
        if lower == "success" || lower == "failure" {
            let s = s.clone();
            set(ctx, "event.outcome", Value::Str(s)).map_err(conditional(RESULT_TAG))?;
        }
    }
    const PROPS_TAG: &str =
        "convert_azure_activitylogs_properties_result_to_event_outcome_3d5faff9";
    let no_outcome = pl_safe_path(ctx, "event.outcome")
        .map_err(conditional(PROPS_TAG))?
        .is_none();
    if no_outcome
        && let Some(Value::Str(s)) = pl_safe_path(ctx, "azure.activitylogs.properties.result")
            .map_err(conditional(PROPS_TAG))?
        && matches!(&**s, "success" | "failure" | "unknown")
    {
        let s = s.clone();
        set(ctx, "event.outcome", Value::Str(s)).map_err(conditional(PROPS_TAG))?;
    }

    r(
        ctx,
        "azure.activitylogs.operationName",
        "azure.activitylogs.operation_name",
        "rename_azure_activitylogs_operationName_to_azure_activitylogs_operation_name_d731d319",
    )?;
    convert_to_string(
        ctx,
        "azure.activitylogs.operation_name",
        "event.action",
        "convert_azure_activitylogs_operation_name_to_event_action_a29f8cb2",
    )?;
    r(
        ctx,
        "azure.activitylogs.operationVersion",
        "azure.activitylogs.operation_version",
        "rename_azure_activitylogs_operationVersion_to_azure_activitylogs_operation_version_ff7df9b7",
    )?;
    r(
        ctx,
        "azure.activitylogs.tenantId",
        "azure.tenant.id",
        "rename_azure_activitylogs_tenantId_to_azure_activitylogs_tenant_id_fa01d4db",
    )?;
    // Legacy copy (set copy_from, ignore_empty_value: a missing, null or empty id is skipped).
    if let Some(tenant) = get_non_null(ctx, "azure.tenant.id").filter(|v| v.as_str() != Some("")) {
        let tenant = tenant.clone();
        set(ctx, "azure.activitylogs.tenant_id", tenant).map_err(fail(
            "set",
            "set_legacy_azure_activitylogs_tenant_id_4d8c2b19",
        ))?;
    }
    r(
        ctx,
        "azure.activitylogs.Level",
        "azure.activitylogs.level",
        "rename_azure_activitylogs_Level_to_azure_activitylogs_level_e67f7944",
    )?;
    r(
        ctx,
        "azure.activitylogs.resultSignature",
        "azure.activitylogs.result_signature",
        "rename_azure_activitylogs_resultSignature_to_azure_activitylogs_result_signature_d44c8465",
    )?;
    const EVIDENCE: &str = "azure.activitylogs.identity.authorization.evidence";
    for (from, to, tag) in [
        (
            "roleAssignmentScope",
            "role_assignment_scope",
            "rename_azure_activitylogs_identity_authorization_evidence_roleAssignmentScope_to_azure_activitylogs_identity_authorization_evidence_role_assignment_scope_3106d3dc",
        ),
        (
            "roleDefinitionId",
            "role_definition_id",
            "rename_azure_activitylogs_identity_authorization_evidence_roleDefinitionId_to_azure_activitylogs_identity_authorization_evidence_role_definition_id_5eb29cf8",
        ),
        (
            "roleAssignmentId",
            "role_assignment_id",
            "rename_azure_activitylogs_identity_authorization_evidence_roleAssignmentId_to_azure_activitylogs_identity_authorization_evidence_role_assignment_id_58e1dee0",
        ),
        (
            "principalId",
            "principal_id",
            "rename_azure_activitylogs_identity_authorization_evidence_principalId_to_azure_activitylogs_identity_authorization_evidence_principal_id_962616bd",
        ),
        (
            "principalType",
            "principal_type",
            "rename_azure_activitylogs_identity_authorization_evidence_principalType_to_azure_activitylogs_identity_authorization_evidence_principal_type_82bb2063",
        ),
    ] {
        r(
            ctx,
            &format!("{EVIDENCE}.{from}"),
            &format!("{EVIDENCE}.{to}"),
            tag,
        )?;
    }
    r(
        ctx,
        "azure.activitylogs.correlationId",
        "azure.correlation.id",
        "rename_azure_activitylogs_correlationId_to_azure_correlation_id_df42f28f",
    )?;
    r(
        ctx,
        "azure.activitylogs.properties.serviceRequestId",
        "azure.activitylogs.properties.service_request_id",
        "rename_azure_activitylogs_properties_serviceRequestId_to_azure_activitylogs_properties_service_request_id_bb48077e",
    )?;
    r(
        ctx,
        "azure.activitylogs.properties.statusMessage",
        "message",
        "rename_azure_activitylogs_properties_statusMessage_to_message_c67b8138",
    )?;
    r(
        ctx,
        "azure.activitylogs.properties.statusCode",
        "azure.activitylogs.properties.status_code",
        "rename_azure_activitylogs_properties_statusCode_to_azure_activitylogs_properties_status_code_7eedd159",
    )?;
    Ok(())
}

/// `ctx.azure.activitylogs.identity` read without null-safety, as the claims scripts do.
fn identity_strict(ctx: &Value) -> Result<Option<&Value>, String> {
    let azure = pl_field(Some(ctx), "azure", false)?;
    let al = pl_field(azure, "activitylogs", false)?;
    pl_field(al, "identity", false)
}

/// The caller's claims: `claims.name` → `claims_initiated_by_user.fullname`, the surname, name
/// and given-name claims copied beside it (only when that object exists, that is when the
/// `name` claim did: the scripts assign into it and fail on null), the schema marker, and the
/// claim keys rewritten with `_` for `.`.
fn claims(ctx: &mut Value) -> Step {
    rename(
        ctx,
        "azure.activitylogs.identity.claims.name",
        "azure.activitylogs.identity.claims_initiated_by_user.fullname",
        true,
    )
    .map_err(fail(
        "rename",
        "rename_azure_activitylogs_identity_claims_name_to_azure_activitylogs_identity_claims_initiated_by_user_fullname_d983b993",
    ))?;

    for (claim, leaf) in [
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
    ] {
        // script, ignore_failure
        let copy = (|| -> Result<Option<Value>, String> {
            let identity = identity_strict(ctx)?;
            let claims = pl_field(identity, "claims", false)?;
            let Some(v) = pl_index(claims, claim)? else {
                return Ok(None);
            };
            match pl_field(identity, "claims_initiated_by_user", false)? {
                Some(Value::Object(_)) => Ok(Some(v.clone())),
                Some(other) => Err(format!(
                    "dynamic setter [{}, {leaf}] not found",
                    java_type(other)
                )),
                None => Err("Cannot store to a field of null".into()),
            }
        })();
        if let Ok(Some(v)) = copy {
            let _ = set(ctx, &format!("{CIU}.{leaf}"), v);
        }
    }

    const SCHEMA_TAG: &str =
        "set_azure_activitylogs_identity_claims_initiated_by_user_schema_5bc27e7b";
    let wants_schema = (|| -> Result<bool, String> {
        let Some(identity) = identity_strict(ctx)? else {
            return Ok(false);
        };
        let Some(ciu) = pl_field(Some(identity), "claims_initiated_by_user", false)? else {
            return Ok(false);
        };
        Ok(pl_field(Some(ciu), "name", false)?.is_some())
    })()
    .map_err(conditional(SCHEMA_TAG))?;
    if wants_schema {
        let _ = set(ctx, &format!("{CIU}.schema"), Value::str(CLAIMS_SCHEMA));
    }

    rewrite_claim_keys(ctx);
    Ok(())
}

/// Painless `map[key]`.
fn pl_index<'a>(recv: Option<&'a Value>, key: &str) -> Result<Option<&'a Value>, String> {
    match recv {
        None | Some(Value::Null) => {
            Err("Cannot invoke \"Object.get(Object)\" because the receiver is null".into())
        }
        Some(Value::Object(m)) => Ok(m.get(key).filter(|v| !v.is_null())),
        Some(other) => Err(format!(
            "Illegal map get shortcut for type [{}].",
            java_type(other)
        )),
    }
}

/// The claims key script (ignore_failure). It first sets `ctx.temp_claims = new HashMap()`, so
/// when `claims` is not an object (`keySet()` throws) an empty `temp_claims` stays in the
/// document, as it does in Elasticsearch. Keys that collide after the rewrite keep the value of
/// the key that sorts last (Java's HashMap order is not reproduced).
fn rewrite_claim_keys(ctx: &mut Value) {
    const CLAIMS: &str = "azure.activitylogs.identity.claims";
    let present = identity_strict(ctx).and_then(|identity| pl_field(identity, "claims", false));
    if !matches!(present, Ok(Some(_))) {
        return;
    }
    let _ = set(ctx, "temp_claims", Value::Object(Map::new()));
    let Some(Value::Object(claims)) = ctx.get_path_mut(CLAIMS) else {
        return;
    };
    let rewritten: Map = std::mem::take(claims)
        .into_iter()
        .map(|(k, v)| (Arc::from(k.replace('.', "_")), v))
        .collect();
    *claims = rewritten;
    remove(ctx, "temp_claims");
}

/// The `event.type` script (no ignore_failure): write/action → change, read → access,
/// delete → deletion; a category that is not a string makes it throw.
fn event_type(ctx: &mut Value) -> Step {
    let script = fail("script", "script_bbdee4a8");
    let ty = match pl_safe_path(ctx, "azure.activitylogs.category")
        .map_err(fail("script", "script_bbdee4a8"))?
    {
        None => return Ok(()),
        Some(Value::Str(s)) => match s.to_lowercase().as_str() {
            "write" | "action" => "change",
            "read" => "access",
            "delete" => "deletion",
            _ => return Ok(()),
        },
        Some(other) => {
            return Err(script(format!(
                "dynamic method [{}, toLowerCase/0] not found",
                java_type(other)
            )));
        }
    };
    set(ctx, "event.type", Value::Array(vec![Value::str(ty)])).map_err(script)
}

/// `user.name`/`user.domain` from the name claim when it looks like `user@host`, else the whole
/// claim as `user.name`; `user.email` only in the first case; `related.user`; `user.full_name`.
/// Double-brace templates JSON-escape the text they insert.
fn user(ctx: &mut Value) -> Step {
    if let Some(Value::Str(name)) = get(ctx, CIU_NAME)
        && let Ok(g) = &*grok::USER_AT_DOMAIN
        && let Some(fields) = g.captures(name)
    {
        for (field, value) in fields {
            let _ = set(ctx, &field, Value::from(value));
        }
    }
    let has_user_name = |ctx: &Value, tag| -> Result<bool, Failure> {
        Ok(pl_safe_path(ctx, "user.name")
            .map_err(conditional(tag))?
            .is_some())
    };
    if has_user_name(ctx, "set_user_email_c985de3e")? {
        let email = render(ctx, CIU_NAME, true);
        if !email.is_empty() {
            set(ctx, "user.email", Value::from(email))
                .map_err(conditional("set_user_email_c985de3e"))?;
        }
    }
    if !has_user_name(ctx, "set_user_name_6055ed4f")? {
        let name = render(ctx, CIU_NAME, true);
        if !name.is_empty() {
            set(ctx, "user.name", Value::from(name))
                .map_err(conditional("set_user_name_6055ed4f"))?;
        }
    }
    if has_user_name(ctx, "append_related_user_1b18802d")? {
        let name = render(ctx, "user.name", true);
        append(ctx, "related.user", Value::from(name), false)
            .map_err(conditional("append_related_user_1b18802d"))?;
    }
    convert_to_string(
        ctx,
        "azure.activitylogs.identity.claims_initiated_by_user.fullname",
        "user.full_name",
        "convert_azure_activitylogs_identity_claims_initiated_by_user_fullname_to_user_full_name_adfc2434",
    )
}

/// `related.entity`: the resource id, then the principal id (triple-brace templates, unescaped).
fn related_entity(ctx: &mut Value) -> Step {
    const RESOURCE_TAG: &str = "append_related_entity_8a62107d";
    let resource = pl_safe_path(ctx, "azure.resource_id").map_err(conditional(RESOURCE_TAG))?;
    if resource.is_some_and(|v| v.as_str() != Some("")) {
        let id = render(ctx, "azure.resource_id", false);
        append(ctx, "related.entity", Value::from(id), false).map_err(conditional(RESOURCE_TAG))?;
    }
    const PRINCIPAL_TAG: &str = "append_related_entity_4a8087ed";
    const PRINCIPAL: &str = "azure.activitylogs.identity.authorization.evidence.principal_id";
    let principal = pl_safe_path(ctx, PRINCIPAL).map_err(conditional(PRINCIPAL_TAG))?;
    if principal.is_some_and(|v| v.as_str() != Some("")) {
        let id = render(ctx, PRINCIPAL, false);
        append(ctx, "related.entity", Value::from(id), false)
            .map_err(conditional(PRINCIPAL_TAG))?;
    }
    Ok(())
}

/// `azure-shared-pipeline` (1b08d3b5): `cloud.provider`, the grok chain on the resource id, the
/// rename to `azure.resource.id` and the lower-casing of `event.outcome`. Its own `on_failure`
/// sets `error.message`; none of its processors can fail on a document the default pipeline
/// produced, but the handler is kept.
fn shared_pipeline(ctx: &mut Value) {
    let result = (|| -> Result<(), String> {
        set(ctx, "cloud.provider", Value::str("azure"))?;
        if let Some(Value::Str(id)) = get(ctx, "azure.resource_id") {
            for (field, value) in grok::resource_id_fields(&id.clone()) {
                let _ = set(ctx, &field, Value::from(value));
            }
        }
        rename(ctx, "azure.resource_id", "azure.resource.id", true)?;
        match get_non_null(ctx, "event.outcome") {
            None => {}
            Some(Value::Str(s)) => {
                let lower = s.to_lowercase();
                set(ctx, "event.outcome", Value::from(lower))?;
            }
            Some(other) => {
                return Err(format!(
                    "field [event.outcome] of type [{}] cannot be cast to [java.lang.String]",
                    java_type(other)
                ));
            }
        }
        Ok(())
    })();
    if let Err(message) = result {
        let _ = set(ctx, "error.message", Value::from(json_escape(&message)));
    }
}
