//! The public entry points of `lib.rs` as they were before the performance work (verbatim
//! below the imports, which point at the other frozen modules): the oracle of the whole-record
//! differential tests. Do not edit; see `tests/differential.rs`.

use vigil_event::Value;
use vigil_normalize::{Format, Options};

use crate::{azure_activity, es_date, ingest};

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
    let ecs = m.contains_key("@timestamp")
        || ["ecs", "event", "data_stream"]
            .iter()
            .any(|k| matches!(m.get(*k), Some(Value::Object(_))))
        || m.keys().any(|k| {
            k.split_once('.')
                .is_some_and(|(root, _)| ECS_ROOTS.contains(&root))
        });
    if ecs {
        return Format::Ecs;
    }
    let operation = m.get("operationName");
    if operation.is_some_and(|v| !matches!(v, Value::Str(_))) {
        return Format::Unknown;
    }
    let markers = ["resourceId", "operationName", "category"]
        .iter()
        .filter(|k| m.contains_key(**k))
        .count();
    let timed = m.contains_key("time") && markers >= 1;
    let untimed = m.contains_key("resourceId") && operation.is_some();
    if timed || untimed {
        Format::AzureActivity
    } else {
        Format::Unknown
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
pub fn azure_activity_to_ecs(raw: &str, doc: Value, opts: &Options) -> Value {
    if detect(&doc) == Format::Ecs {
        return doc;
    }
    finish(azure_activity::run(raw, Ok(doc)), opts)
}

/// [`azure_activity_to_ecs`] on a record's text alone: parses it as the pipeline's `json`
/// processor does (strict, duplicate keys rejected). Text that is not JSON gives the pipeline's
/// failure document (`event.kind: pipeline_error`, `error.message`, `event.original`).
pub fn azure_activity_from_raw(raw: &str, opts: &Options) -> Value {
    let parsed = ingest::parse_json_strict(raw);
    if let Ok(doc) = &parsed
        && detect(doc) == Format::Ecs
    {
        return parsed.unwrap_or_default();
    }
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
