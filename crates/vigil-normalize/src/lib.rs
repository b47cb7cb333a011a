//! Vigil's normalizers: native records to the documents Elastic rules expect.
//!
//! Azure Activity Log records in the diagnostic-settings format (Event Hubs, storage accounts:
//! `time`, `resourceId`, `operationName`, `category`, `resultType`, `callerIpAddress`,
//! `identity`, `properties`, …) become ECS documents exactly as Elastic's Azure integration
//! builds them: its `azure.activitylogs` ingest pipeline and the shared Azure pipeline are
//! reproduced processor by processor, failures and `on_failure` included (see
//! [`azure_activity_to_ecs`]). Documents exported from Elasticsearch are already ECS and pass
//! through unchanged. Records of the usual shape (every record Azure writes, as far as we know)
//! take a direct path that builds the same document in a few microseconds; the
//! processor-by-processor emulation handles the rest and is the reference for the other.
//!
//! The decoder also asks two questions of this crate before it parses anything:
//! [`azure_literal_mode`] (can a rule's literal be looked for in the raw bytes?) and
//! [`azure_native_keys_for`] (which native keys must be decoded for the fields the rules read?).

mod azure_activity;
mod azure_fields;
mod es_date;
mod fast;
mod grok;
/// The regex implementation of the groks, as it was (fancy-regex): the oracle of the
/// hand-compiled matchers' differential tests.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../tests/oracle/grok.rs"]
mod grok_oracle;
mod ingest;

use std::collections::BTreeSet;

use vigil_event::Value;
use vigil_plan::LiteralMode;

/// What kind of document a decoded record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A native Azure Activity Log record (diagnostic settings / Event Hubs / storage account).
    AzureActivity,
    /// Already an ECS document (exported from Elasticsearch): used as is.
    Ecs,
    /// Neither: the caller decides (skip, report).
    Unknown,
}

/// Top-level ECS field sets; a flattened key under one of them (`"event.action"`) marks an
/// exported document.
const ECS_ROOTS: &[&str] = &[
    "agent",
    "azure",
    "client",
    "cloud",
    "container",
    "data_stream",
    "destination",
    "dll",
    "dns",
    "ecs",
    "error",
    "event",
    "file",
    "geo",
    "group",
    "host",
    "http",
    "log",
    "network",
    "observer",
    "orchestrator",
    "organization",
    "process",
    "registry",
    "related",
    "rule",
    "server",
    "service",
    "source",
    "threat",
    "tls",
    "url",
    "user",
    "user_agent",
];

/// Classifies a decoded record.
///
/// ECS: an object with `@timestamp`, an `ecs`, `event` or `data_stream` object, or a flattened
/// key under an ECS field set. Azure Activity: an object with `time` and at least one of
/// `resourceId`, `operationName`, `category`, or with both `resourceId` and a string
/// `operationName`; `operationName` must be a string (the portal's JSON view has an object
/// there and `eventTimestamp` instead of `time`, and is not this format). Anything else is
/// unknown, including the `{"records": [...]}` wrapper the decoder unpacks first.
pub fn detect(doc: &Value) -> Format {
    let Some(m) = doc.as_object() else {
        return Format::Unknown;
    };
    // One pass over the keys: this runs on every record.
    let (mut time, mut resource_id, mut category, mut operation) = (false, false, false, None);
    for (k, v) in m {
        match &**k {
            "@timestamp" => return Format::Ecs,
            "ecs" | "event" | "data_stream" if matches!(v, Value::Object(_)) => {
                return Format::Ecs;
            }
            "time" => time = true,
            "resourceId" => resource_id = true,
            "category" => category = true,
            "operationName" => operation = Some(v),
            k => {
                if k.split_once('.')
                    .is_some_and(|(root, _)| ECS_ROOTS.contains(&root))
                {
                    return Format::Ecs;
                }
            }
        }
    }
    if operation.is_some_and(|v| !matches!(v, Value::Str(_))) {
        return Format::Unknown;
    }
    let markers = [resource_id, operation.is_some(), category]
        .into_iter()
        .filter(|m| *m)
        .count();
    let timed = time && markers >= 1;
    let untimed = resource_id && operation.is_some();
    if timed || untimed {
        Format::AzureActivity
    } else {
        Format::Unknown
    }
}

/// Normalization options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Keep `event.original` (the record's text), as the pipeline does. Default true.
    pub event_original: bool,
    /// The ingest time, in live mode: sets `event.ingested` as Fleet's final pipeline does (UTC,
    /// whole seconds). `None` (the default, and what hunts over historical data use) leaves it
    /// absent, so rules whose `timestamp_override` is `event.ingested` fall back to `@timestamp`.
    pub ingested: Option<jiff::Timestamp>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            event_original: true,
            ingested: None,
        }
    }
}

/// Normalizes one native Azure Activity Log record into the ECS document Elastic would index.
///
/// `raw` is the record's JSON text (it becomes `event.original`); `doc` is its parsed value,
/// possibly restricted to the keys [`azure_native_keys_for`] returned. A document that is
/// already ECS ([`detect`]) is returned unchanged.
///
/// The result is the output of the integration's pipelines (default 37c97e14, shared 1b08d3b5;
/// the `durationMs` handling of 627146b1, see below), then the index-time fields:
///
/// - Pipeline: `@timestamp` (millisecond precision, `…Z`), `event.action`, `event.outcome`
///   (Success/Failure only, lower-cased), `event.type`, `event.kind`, `event.duration` (ns),
///   `source.ip` or `source.address`, `client.ip`, `related.*`, `user.*`, `cloud.region`,
///   `cloud.provider`, `geo.name`, `log.level`, `azure.*` (resource id parts by grok), the rest
///   of the record under `azure.activitylogs`. Values keep the source's JSON form, as
///   Elasticsearch's `_source` does (`@timestamp` and `source.ip` are strings).
/// - A record the pipeline fails on (not a JSON object where one is needed, a non-string
///   `category` or `location`, a rename onto an existing key, …) comes out as Elasticsearch
///   would index it: partly processed, `event.kind: pipeline_error`, `error.message` and
///   `tags: ["preserve_original_event"]`.
/// - GeoIP and ASN (`geo.*` except `geo.name`, `source.geo.*`, `source.as.*`) are left to the
///   enrichment stage, which must replace `geo` wholesale on a City hit, as the pipeline does.
/// - `durationMs` follows pipeline version 627146b1: a string is converted to a long first
///   (the upstream test expects `"0"` → `0`). Integer milliseconds that fit 32 bits are scaled
///   with Java `int` arithmetic and wrap above 2147 ms, exactly as Painless does.
///
/// Index-time constants (from the data stream's mappings and Fleet's final pipeline, not from
/// the integration pipeline): `data_stream.type: logs`, `data_stream.dataset` and
/// `event.dataset: azure.activitylogs`, `data_stream.namespace: default`, `event.module: azure`,
/// and `event.ingested` only when [`Options::ingested`] is set.
///
/// Not reproduced: Elasticsearch rejects a record with duplicate keys (the `json` processor's
/// `allow_duplicate_keys: false`); `doc` was already decoded by the caller, last key winning.
/// Claim keys that collide after `.` → `_` keep the value of the key sorting last.
///
/// Cost: about 2–3 µs for a record restricted to a few keys, 6–8 µs for a whole one; a record
/// the direct path does not take (an empty member `"":""` in its text, a member of an unusual
/// type, a key the pipeline renames onto) costs 20–40 µs.
pub fn azure_activity_to_ecs(raw: &str, doc: Value, opts: &Options) -> Value {
    if detect(&doc) == Format::Ecs {
        return doc;
    }
    // Typical records take a direct path; the rest the processor-by-processor emulation.
    match fast::normalize(raw, doc, opts) {
        Ok(out) => out,
        Err(doc) => finish(azure_activity::run(raw, Ok(doc)), opts),
    }
}

/// [`azure_activity_to_ecs`] on a record's text alone: parses it as the pipeline's `json`
/// processor does (strict, duplicate keys rejected). Text that is not JSON gives the pipeline's
/// failure document (`event.kind: pipeline_error`, `error.message`, `event.original`).
pub fn azure_activity_from_raw(raw: &str, opts: &Options) -> Value {
    let parsed = match ingest::parse_json_strict(raw) {
        Ok(doc) if detect(&doc) == Format::Ecs => return doc,
        Ok(doc) => match fast::normalize(raw, doc, opts) {
            Ok(out) => return out,
            Err(doc) => Ok(doc),
        },
        Err(e) => Err(e),
    };
    finish(azure_activity::run(raw, parsed), opts)
}

/// Options, then the index-time fields every document of the data stream gets.
fn finish(mut doc: Value, opts: &Options) -> Value {
    if !opts.event_original {
        ingest::remove(&mut doc, "event.original");
    }
    for (field, value) in [
        ("data_stream.type", "logs"),
        ("data_stream.dataset", "azure.activitylogs"),
        ("data_stream.namespace", "default"),
        ("event.dataset", "azure.activitylogs"),
        ("event.module", "azure"),
    ] {
        doc.insert_path(field, Value::str(value));
    }
    if let Some(t) = opts.ingested {
        doc.insert_path("event.ingested", Value::from(es_date::format_seconds(t)));
    }
    doc
}

/// How an ECS field's string value appears in a native record's raw JSON text, for the
/// raw-bytes prefilter. Conservative:
///
/// - `Verbatim`: the value is a substring of the text (after the text's canonical escapes,
///   `\\` and `\"`, are undone): fields renamed or copied from a string member
///   (`event.action`, `azure.activitylogs.operation_name`, `…category`, `log.level`,
///   `cloud.region`, `source.address`, the identity's authorization and evidence fields, claim
///   values under keys the pipeline did not rewrite, …) and the grok parts of `resourceId`
///   (`azure.resource.*`, `azure.subscription_id`), `related.entity`, `user.domain`.
/// - `CaseFolded`: `event.outcome` (lower-cased by the pipeline).
/// - `Absent`: everything synthesized or reformatted: `@timestamp`, `event.kind`/`type`/
///   `dataset`/`module`/`ingested`/`duration`, `data_stream.*`, `ecs.version`,
///   `cloud.provider`, `source.ip`/`client.ip`/`related.ip` (compared as addresses, so another
///   spelling of the same address matches), enrichment fields, claims under rewritten keys,
///   `user.name`/`user.email`/`related.user` (the templates JSON-escape `\` and `"` once more),
///   `azure.activitylogs.properties.*`, `message` and `event_category` (properties may arrive
///   as a JSON string, escaped twice in the text), `event.original`, and unknown fields.
///
/// The caller must still parse records holding `\u` or `\/` escapes, which can hide a literal.
pub fn azure_literal_mode(ecs_field: &str) -> LiteralMode {
    azure_fields::literal_mode(ecs_field)
}

/// For projection pushdown: the native top-level keys needed to compute these ECS fields, or
/// `None` when all keys are needed (an unknown field, or one that may come from any member:
/// `azure.activitylogs` itself and its unknown children).
///
/// Normalizing a record restricted to these keys (with the full `raw` text) gives the same
/// values for the requested fields as normalizing the whole record. The keys whose malformed
/// values make the pipeline fail (`category`, `location`, colliding `operation_name`-style
/// keys) are always included. A malformed `identity` or `properties` (an array where an object
/// belongs) also fails the whole pipeline; those two large members are only included when a
/// requested field reads them (or `event.kind`, `tags`, `error.*`), so on such records, which
/// Azure does not produce, other fields may differ from Elastic's failure document.
pub fn azure_native_keys_for<'a>(
    ecs_fields: impl IntoIterator<Item = &'a str>,
) -> Option<BTreeSet<&'static str>> {
    azure_fields::native_keys_for(ecs_fields)
}

mod defender;
mod sentinel;

pub use defender::{
    Column as DefenderColumn, defender_row, ecs_process_created, sysmon_file_created,
};
pub use sentinel::{azure_activity_row, is_azure_activity_row};

mod ancestry;
mod endpoint;
mod sysmon;

pub use ancestry::{MAX_ANCESTRY, ProcessTree};
pub use endpoint::{EndpointFormat, detect_endpoint, endpoint_to_ecs};
pub use sysmon::{split_command_line, sysmon_to_ecs};
