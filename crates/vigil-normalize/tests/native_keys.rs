//! Differential test of `azure_native_keys_for`: normalizing a record restricted to the returned
//! top-level keys gives the same values, for the requested fields, as normalizing all of it.

mod common;

use proptest::prelude::*;
use vigil_event::{Map, Value};
use vigil_normalize::{Options, azure_activity_to_ecs, azure_native_keys_for};

/// ECS fields rules read (and a few objects and odd ones).
const FIELDS: &[&str] = &[
    "@timestamp",
    "event.action",
    "event.outcome",
    "event.type",
    "event.kind",
    "event.duration",
    "event.original",
    "event.dataset",
    "azure.activitylogs.operation_name",
    "azure.activitylogs.category",
    "azure.activitylogs.result_type",
    "azure.activitylogs.event_category",
    "azure.activitylogs.level",
    "azure.activitylogs.identity_name",
    "azure.activitylogs.identity.claims_initiated_by_user.name",
    "azure.activitylogs.identity.authorization.evidence.principal_id",
    "azure.activitylogs.properties.status_code",
    "azure.activitylogs.properties.responseBody",
    "azure.activitylogs.tenant_id",
    "azure.resource.id",
    "azure.resource.name",
    "azure.resource.group",
    "azure.resource.provider",
    "azure.subscription_id",
    "azure.correlation.id",
    "azure.tenant.id",
    "related.entity",
    "related.user",
    "related.ip",
    "user.name",
    "user.email",
    "user.domain",
    "source.ip",
    "source.address",
    "client.ip",
    "cloud.region",
    "cloud.provider",
    "geo.name",
    "log.level",
    "message",
    "tags",
    "error.message",
    "user",
    "related",
    "event",
    "azure.resource",
];

/// Alternatives per native key (`None` = key absent), realistic Activity Log values.
fn alternatives() -> Vec<(&'static str, Vec<Option<&'static str>>)> {
    vec![
        (
            "time",
            vec![
                None,
                Some(r#""2024-05-01T10:00:00.1234567Z""#),
                Some(r#""5/1/2024 10:05:00 AM""#),
            ],
        ),
        (
            "resourceId",
            vec![
                None,
                Some(
                    r#""/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1/EXTENSIONS/CUSTOMSCRIPT""#,
                ),
                Some(
                    r#""/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm1""#,
                ),
                Some(
                    r#""/tenants/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/providers/Microsoft.aadiam""#,
                ),
            ],
        ),
        (
            "operationName",
            vec![
                None,
                Some(r#""MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE""#),
                Some(r#""Microsoft.Compute/virtualMachines/runCommand/action""#),
            ],
        ),
        // Malformed cheap members (a number category or location, a snake_case key the
        // pipeline renames onto) fail the whole pipeline; the key set always includes them.
        (
            "category",
            vec![
                None,
                Some(r#""Administrative""#),
                Some(r#""Write""#),
                Some(r#""Delete""#),
                Some(r#""Policy""#),
                Some("7"),
            ],
        ),
        (
            "resultType",
            vec![
                None,
                Some(r#""Success""#),
                Some(r#""Start""#),
                Some(r#""Failure""#),
                Some(r#""Accept""#),
            ],
        ),
        ("resultSignature", vec![None, Some(r#""Succeeded.""#)]),
        (
            "durationMs",
            vec![
                None,
                Some("0"),
                Some("2500"),
                Some(r#""191234""#),
                Some("1.5"),
            ],
        ),
        (
            "callerIpAddress",
            vec![
                None,
                Some(r#""203.0.113.7""#),
                Some(r#""2001:db8::7""#),
                Some(r#""Microsoft.Compute""#),
            ],
        ),
        (
            "correlationId",
            vec![None, Some(r#""c0ffee00-0000-0000-0000-000000000001""#)],
        ),
        (
            "identity",
            vec![
                None,
                Some(
                    r#"{"authorization":{"action":"x","evidence":{"principalId":"p1","role":"Owner","principalType":"User"}},"claims":{"name":"Mallory","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":"mallory@contoso.com","appid":"a"}}"#,
                ),
                Some(
                    r#"{"claims":{"name":"Svc","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":"svc"}}"#,
                ),
                Some(r#""someone@contoso.com""#),
            ],
        ),
        (
            "level",
            vec![None, Some(r#""Information""#), Some(r#""Error""#)],
        ),
        ("Level", vec![None, Some(r#""4""#)]),
        (
            "location",
            vec![
                None,
                Some(r#""eastus""#),
                Some(r#""global""#),
                Some(r#""West Europe""#),
                Some("5"),
            ],
        ),
        ("result_type", vec![None, None, None, Some(r#""x""#)]),
        (
            "properties",
            vec![
                None,
                Some(
                    r#"{"statusCode":"Created","eventCategory":"Administrative","serviceRequestId":"r"}"#,
                ),
                Some(r#"{"result":"success","statusMessage":"{\"a\":1}"}"#),
                Some(r#""{\"statusCode\":\"Conflict\",\"responseBody\":\"{\\\"id\\\":1}\"}""#),
                Some(r#"{"policies":"[]"}"#),
            ],
        ),
        (
            "tenantId",
            vec![None, Some(r#""ffffffff-0000-1111-2222-333333333333""#)],
        ),
        ("operationVersion", vec![None, Some(r#""2016-09-01""#)]),
        ("resultDescription", vec![None, Some(r#""done""#)]),
    ]
}

/// The record text from one choice per key, optionally with an empty member the pipeline's
/// first script removes.
fn record_text(choices: &[usize], empty_member: bool) -> String {
    let mut parts = Vec::new();
    if empty_member {
        parts.push(r#""":"""#.to_string());
    }
    for ((key, alts), c) in alternatives().iter().zip(choices) {
        if let Some(v) = alts[c % alts.len()] {
            parts.push(format!("\"{key}\":{v}"));
        }
    }
    format!("{{{}}}", parts.join(","))
}

fn restrict(doc: &Value, keys: &std::collections::BTreeSet<&str>) -> Value {
    let m: Map = doc
        .as_object()
        .expect("an object")
        .iter()
        .filter(|(k, _)| keys.contains(&***k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(m)
}

fn check(text: &str, fields: &[&str]) -> Result<(), String> {
    let doc = vigil_event::parse_json(text.as_bytes()).map_err(|e| e.to_string())?;
    let opts = Options::default();
    let full = azure_activity_to_ecs(text, doc.clone(), &opts);
    let Some(keys) = azure_native_keys_for(fields.iter().copied()) else {
        return Err(format!("no key set for {fields:?}"));
    };
    let part = azure_activity_to_ecs(text, restrict(&doc, &keys), &opts);
    for f in fields {
        let a = full.lookup(f);
        let b = part.lookup(f);
        if a != b {
            return Err(format!(
                "{f}: full {a:?} vs projected {b:?} (keys {keys:?})\n{text}"
            ));
        }
    }
    Ok(())
}

#[test]
fn realistic_records_and_field_sets() {
    let sets: &[&[&str]] = &[
        &["event.action", "azure.resource.name", "event.outcome"],
        &["event.action", "user.name", "related.user", "source.ip"],
        &["@timestamp", "event.duration", "cloud.region", "geo.name"],
        &[
            "azure.activitylogs.identity.authorization.evidence.principal_id",
            "related.entity",
        ],
        &[
            "message",
            "azure.activitylogs.event_category",
            "event.kind",
            "tags",
        ],
        &["event", "related", "user"],
    ];
    let records: Vec<String> = common::RECORDS.iter().map(|s| s.to_string()).collect();
    let mut checked = 0;
    for text in &records {
        for set in sets {
            check(text, set).unwrap_or_else(|e| panic!("{e}"));
            checked += 1;
        }
    }
    assert_eq!(checked, records.len() * sets.len());
}

#[test]
fn unknown_fields_need_every_key() {
    assert_eq!(
        azure_native_keys_for(["azure.activitylogs.someNewMember"]),
        None
    );
    assert_eq!(
        azure_native_keys_for(["event.action", "process.name"]),
        None
    );
    let keys = azure_native_keys_for(["event.action"]).expect("known");
    assert!(keys.contains("operationName"));
    assert!(
        !keys.contains("identity") && !keys.contains("properties") && !keys.contains("resourceId")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn projection_preserves_requested_fields(
        choices in proptest::collection::vec(0usize..16, 18),
        field_picks in proptest::collection::vec(0usize..FIELDS.len(), 1..6),
        empty_member in any::<bool>(),
    ) {
        let text = record_text(&choices, empty_member);
        let fields: Vec<&str> = field_picks.iter().map(|i| FIELDS[*i]).collect();
        if let Err(e) = check(&text, &fields) {
            prop_assert!(false, "{}", e);
        }
    }
}
