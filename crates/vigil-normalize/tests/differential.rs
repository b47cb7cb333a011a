//! Whole-record differential tests: the normalizer's output, byte for byte (as JSON), against
//! the implementation as it was before its performance work. `tests/oracle/` holds frozen
//! copies of that implementation's modules (`azure_activity.rs`, `ingest.rs`, `grok.rs` with
//! its fancy-regex groks, `es_date.rs`, and `lib.rs`'s entry points); they are compiled here
//! as they were and must not be edited.
//!
//! Records come from the benchmarks' activity generator and from perturbations of those and of
//! the hand-written records in `common`: members removed, retyped or replaced with edge values,
//! keys the pipeline renames onto added, nested identity and properties members changed, an
//! empty member in the text; each normalized whole and restricted to the keys a projection
//! needs, with each option.

// The frozen implementation, at the crate root where its `crate::` paths expect it.
#[allow(dead_code)]
#[path = "oracle/azure_activity.rs"]
mod azure_activity;
#[allow(dead_code)]
#[path = "oracle/es_date.rs"]
mod es_date;
#[allow(dead_code)]
#[path = "oracle/grok.rs"]
mod grok;
#[allow(dead_code)]
#[path = "oracle/ingest.rs"]
mod ingest;
#[allow(dead_code)]
#[path = "oracle/lib.rs"]
mod oracle;

#[allow(dead_code)]
#[path = "support/activity_gen.rs"]
mod activity_gen;
mod common;

use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Value as Json, json};
use vigil_event::{Map, Value};
use vigil_normalize::{Options, azure_native_keys_for};

/// Field sets a rule pack may read, for projected records (`None`: the whole record).
const PROJECTIONS: &[Option<&[&str]>] = &[
    None,
    Some(&["event.action", "azure.resource.name", "event.outcome"]),
    Some(&["@timestamp", "user.name", "related.entity"]),
    Some(&["event", "source.ip", "azure.subscription_id"]),
    Some(&[]),
];

fn options() -> Vec<Options> {
    vec![
        Options::default(),
        Options {
            event_original: false,
            ingested: None,
        },
        Options {
            event_original: true,
            ingested: Some(jiff::Timestamp::from_second(1_779_062_461).expect("valid")),
        },
    ]
}

/// The record restricted to the native keys a projection needs, as the engine decodes it.
fn project(doc: &Value, fields: Option<&[&str]>) -> Value {
    let Some(keys) = fields.and_then(|f| azure_native_keys_for(f.iter().copied())) else {
        return doc.clone();
    };
    match doc {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| keys.contains(&***k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map>(),
        ),
        other => other.clone(),
    }
}

/// Compares both implementations on one record text, decoded whole and projected, with
/// `opts`; also the raw-text entry point.
fn compare(raw: &str, fields: Option<&[&str]>, opts: &Options) -> Result<(), String> {
    let json = |v: &Value| serde_json::to_string(v).expect("values serialize");
    if let Ok(doc) = vigil_event::parse_json(raw.as_bytes()) {
        let doc = project(&doc, fields);
        let ours = json(&vigil_normalize::azure_activity_to_ecs(
            raw,
            doc.clone(),
            opts,
        ));
        let theirs = json(&oracle::azure_activity_to_ecs(raw, doc, opts));
        if ours != theirs {
            return Err(format!(
                "azure_activity_to_ecs differs ({fields:?}, {opts:?}) on\n{raw}\nours:   {ours}\noracle: {theirs}"
            ));
        }
    }
    let ours = json(&vigil_normalize::azure_activity_from_raw(raw, opts));
    let theirs = json(&oracle::azure_activity_from_raw(raw, opts));
    if ours != theirs {
        return Err(format!(
            "azure_activity_from_raw differs ({opts:?}) on\n{raw}\nours:   {ours}\noracle: {theirs}"
        ));
    }
    Ok(())
}

fn generated(seed: u64, bytes: usize) -> Vec<String> {
    let data = activity_gen::ndjson(bytes, seed);
    String::from_utf8(data)
        .expect("the generator writes UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn generated_records_match_the_oracle() {
    let opts = options();
    let mut n = 0;
    for seed in [42, 7, 2026] {
        for (i, raw) in generated(seed, 200_000).iter().enumerate() {
            let fields = PROJECTIONS[i % PROJECTIONS.len()];
            let o = &opts[i % opts.len()];
            if let Err(e) = compare(raw, fields, o).and_then(|()| compare(raw, None, o)) {
                panic!("{e}");
            }
            n += 1;
        }
    }
    assert!(n > 200, "only {n} records");
}

#[test]
fn hand_written_records_match_the_oracle() {
    for raw in common::RECORDS {
        for fields in PROJECTIONS {
            for o in &options() {
                if let Err(e) = compare(raw, *fields, o) {
                    panic!("{e}");
                }
            }
        }
    }
}

/// Members to perturb: every key the pipeline reads, renames onto or writes, nested ones as
/// paths (claim keys hold dots and slashes, hence the segment lists).
const PATHS: &[&[&str]] = &[
    &["time"],
    &["resourceId"],
    &["operationName"],
    &["category"],
    &["resultType"],
    &["resultSignature"],
    &["durationMs"],
    &["callerIpAddress"],
    &["correlationId"],
    &["identity"],
    &["level"],
    &["Level"],
    &["location"],
    &["tenantId"],
    &["properties"],
    &["operationVersion"],
    &["identity_name"],
    &["result_type"],
    &["operation_name"],
    &["operation_version"],
    &["result_signature"],
    &["tenant_id"],
    &["event_category"],
    &["resultDescription"],
    &[""],
    &["@timestamp"],
    &["event.action"],
    &["message"],
    &["x.y"],
    &["identity", "claims"],
    &["identity", "claims", "name"],
    &[
        "identity",
        "claims",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    ],
    &[
        "identity",
        "claims",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    ],
    &[
        "identity",
        "claims",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    ],
    &["identity", "claims", "a.b"],
    &["identity", "claims", "a_b"],
    &["identity", "claims_initiated_by_user"],
    &["identity", "authorization"],
    &["identity", "authorization", "evidence"],
    &["identity", "authorization", "evidence", "principalId"],
    &["identity", "authorization", "evidence", "principal_id"],
    &[
        "identity",
        "authorization",
        "evidence",
        "roleAssignmentScope",
    ],
    &[
        "identity",
        "authorization",
        "evidence",
        "role_assignment_scope",
    ],
    &["properties", "statusCode"],
    &["properties", "status_code"],
    &["properties", "serviceRequestId"],
    &["properties", "service_request_id"],
    &["properties", "statusMessage"],
    &["properties", "eventCategory"],
    &["properties", "policies"],
    &["properties", "result"],
    &["properties", "responseBody"],
    &["properties", "requestBody"],
];

/// Replacement values (`None`: remove the member); removal, `null` and `""` are frequent.
fn value() -> impl Strategy<Value = Option<Json>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(json!(null))),
        1 => Just(Some(json!(""))),
        6 => prop::sample::select(values()),
    ]
}

fn values() -> Vec<Option<Json>> {
    let mut v: Vec<Option<Json>> = Vec::new();
    v.extend(
        [
            json!(true),
            json!(0),
            json!(7),
            json!(-3),
            json!(2148),
            json!(4_294_967_296_i64),
            json!(1.5),
            json!(1.7e308),
            json!([]),
            json!(["1.2.3.4"]),
            json!(["1.2.3.4", null]),
            json!([1, "a"]),
            json!({}),
            json!({"a": 1, "b.c": "d"}),
            json!({"claims": "x"}),
            json!({"name": "n@x.org"}),
            json!({"evidence": "x"}),
        ]
        .map(Some),
    );
    v.extend(
        [
            "",
            "x",
            "0",
            "0x1F",
            "-0x10",
            "+5",
            "191234",
            "99999999999999999999",
            "Success",
            "FAILURE",
            "failure",
            "success",
            "unknown",
            "Start",
            "Write",
            "READ",
            "Delete",
            "action",
            "global",
            "GLOBAL",
            "eu",
            "eastus",
            "West Europe",
            "ǅǅ",
            "😀😀",
            "203.0.113.7",
            "2001:db8::7",
            "fe80::1%eth0",
            "1.2.3.04",
            "not-an-ip",
            "2024-05-01T10:00:00.1234567Z",
            "5/1/2024 10:05:00 AM",
            "2024-02-30T00:00:00Z",
            "2024-05-01T10:00:00+02:00",
            "0001-01-01T00:30:00+01:00",
            "1571875726000",
            "mallory@contoso.com",
            "CONTOSO\\jdoe",
            "Jane \"JD\" Doe",
            "josé@x.com",
            "tab\there",
            "{\"a\":1}",
            "[1,2]",
            "{\"statusCode\":\"Conflict\",\"responseBody\":\"{\\\"id\\\":1}\"}",
            "{\"eventCategory\":\"Policy\",\"statusMessage\":\"m\"}",
            "{bad json",
            "  ",
            "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.EVENTHUB/NAMESPACES/NS/AUTHORIZATIONRULES/R",
            "/subscriptions/{11111111-2222-3333-4444-555555555555}/resourcegroups/rg/providers/Microsoft.Web/sites/a",
            "/tenants/x/providers/Microsoft.aadiam",
            "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555",
        ]
        .map(|s| Some(json!(s))),
    );
    v
}

/// Sets (or, for `None`, removes) the member at `path`, creating missing parent objects; a
/// parent that is not an object leaves the record unchanged.
fn perturb(record: &mut Json, path: &[&str], value: Option<Json>) {
    let Some((leaf, parents)) = path.split_last() else {
        return;
    };
    let mut cur = record;
    for seg in parents {
        let Json::Object(m) = cur else { return };
        cur = m.entry(seg.to_string()).or_insert_with(|| json!({}));
    }
    let Json::Object(m) = cur else { return };
    match value {
        Some(v) => {
            m.insert(leaf.to_string(), v);
        }
        None => {
            m.remove(*leaf);
        }
    }
}

static BASE_RECORDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut records: Vec<String> = generated(11, 40_000);
    records.extend(common::RECORDS.iter().map(|r| r.to_string()));
    records
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn perturbed_records_match_the_oracle(
        base in any::<prop::sample::Index>(),
        ops in prop_oneof![
            1 => prop::collection::vec((0..PATHS.len(), value()), 0..1),
            4 => prop::collection::vec((0..PATHS.len(), value()), 1..2),
            2 => prop::collection::vec((0..PATHS.len(), value()), 2..5),
        ],
        principal_is_resource in prop::bool::weighted(0.05),
        empty_member in prop::bool::weighted(0.05),
        projection in 0..PROJECTIONS.len(),
        opts in 0..3usize,
    ) {
        let mut record: Json =
            serde_json::from_str(base.get(BASE_RECORDS.as_slice()).as_str()).expect("base records are JSON");
        for (path, value) in ops {
            perturb(&mut record, PATHS[path], value);
        }
        if principal_is_resource {
            // related.entity holds no duplicates.
            let id = record.get("resourceId").cloned();
            perturb(&mut record, &["identity", "authorization", "evidence", "principalId"], id);
        }
        let mut raw = serde_json::to_string(&record).expect("serializes");
        if empty_member && raw.starts_with('{') {
            raw.insert_str(1, r#""":"","#);
        }
        let result = compare(&raw, PROJECTIONS[projection], &options()[opts]);
        prop_assert!(result.is_ok(), "{}", result.err().unwrap_or_default());
    }
}
