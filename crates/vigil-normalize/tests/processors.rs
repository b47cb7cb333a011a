//! Processor-by-processor behaviour of the Azure Activity Log normalizer, through the public
//! API. The cases are ours, written from the pipeline's definition and Elasticsearch's
//! documented semantics.

mod common;

use serde_json::{Value as Json, json};
use vigil_event::Value;
use vigil_normalize::{Format, Options, azure_activity_from_raw, azure_activity_to_ecs, detect};

fn norm(text: &str) -> Json {
    common::to_json(&common::normalize(text))
}

/// The value at a dotted path (keys without dots).
fn at<'a>(doc: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(doc, |v, k| v.get(k))
}

fn record(fields: Json) -> String {
    let mut base = json!({
        "time": "2024-05-01T10:00:00Z",
        "category": "Administrative",
        "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
        "resourceId": "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1/EXTENSIONS/CUSTOMSCRIPT",
    });
    for (k, v) in fields.as_object().expect("object") {
        if v.is_null() && k.starts_with('-') {
            base.as_object_mut().expect("object").remove(&k[1..]);
        } else {
            base[k] = v.clone();
        }
    }
    serde_json::to_string(&base).expect("serializes")
}

fn is_pipeline_error(doc: &Json) -> bool {
    at(doc, "event.kind") == Some(&json!("pipeline_error"))
}

#[test]
fn timestamps() {
    let cases = [
        (
            "2019-10-24T00:13:46.3554259Z",
            Some("2019-10-24T00:13:46.355Z"),
        ),
        ("01/09/2007 09:41:00", Some("2007-01-09T09:41:00.000Z")),
        ("1/9/2007 9:41:00 AM", Some("2007-01-09T09:41:00.000Z")),
        (
            "1/9/2007 10:41:00 PM +01:00",
            Some("2007-01-09T21:41:00.000Z"),
        ),
        (
            "2007-01-09T11:41:00+02:00",
            Some("2007-01-09T09:41:00.000Z"),
        ),
        ("2007-01-09T9:41:00.123Z", Some("2007-01-09T09:41:00.123Z")),
        (
            "2007-01-09T09:41:00.999999999Z",
            Some("2007-01-09T09:41:00.999Z"),
        ),
        ("2007-01-09 09:41:00", None),
        ("yesterday", None),
    ];
    for (time, want) in cases {
        let doc = norm(&record(json!({ "time": time })));
        assert_eq!(
            at(&doc, "@timestamp").and_then(Json::as_str),
            want,
            "{time}"
        );
        // The native field is removed whether or not it parsed.
        assert_eq!(at(&doc, "azure.activitylogs.time"), None);
    }
    // A number is read through its text: 2007 is a year in ISO 8601.
    let doc = norm(&record(json!({ "time": 2007 })));
    assert_eq!(
        at(&doc, "@timestamp"),
        Some(&json!("2007-01-01T00:00:00.000Z"))
    );
    let doc = norm(&record(json!({ "time": 1571875726000_i64 })));
    assert_eq!(at(&doc, "@timestamp"), None);
}

#[test]
fn durations() {
    let cases: &[(Json, Option<Json>)] = &[
        (json!(0), Some(json!(0))),
        (json!(12), Some(json!(12_000_000))),
        (json!(2147), Some(json!(2_147_000_000))),
        // Integer * Integer in Painless wraps at 32 bits.
        (json!(2148), Some(json!(-2_146_967_296_i64))),
        (json!(2500), Some(json!(-1_794_967_296_i64))),
        // A value beyond 32 bits is a Long: long arithmetic.
        (
            json!(3_000_000_000_i64),
            Some(json!(3_000_000_000_000_000_i64)),
        ),
        // Strings are converted to a long first (the upstream fixture expects "0" → 0).
        (json!("0"), Some(json!(0))),
        (json!("2148"), Some(json!(2_148_000_000_i64))),
        (json!("0x10"), Some(json!(16_000_000))),
        (json!("-5"), Some(json!(-5_000_000))),
        (json!("1.5"), None),
        (json!("abc"), None),
        (json!(1.5), Some(json!(1_500_000.0))),
        (json!(null), None),
        // The script fails on a boolean (ignored): the value is kept.
        (json!(true), Some(json!(true))),
    ];
    for (ms, want) in cases {
        let doc = norm(&record(json!({ "durationMs": ms })));
        assert_eq!(at(&doc, "event.duration"), want.as_ref(), "durationMs {ms}");
        assert_eq!(at(&doc, "azure.activitylogs.durationMs"), None);
        assert!(!is_pipeline_error(&doc));
    }
}

#[test]
fn outcome() {
    let cases: &[(Json, Option<Json>, Option<&str>)] = &[
        (json!({"resultType": "Success"}), None, Some("success")),
        (json!({"resultType": "FAILURE"}), None, Some("failure")),
        (json!({"resultType": "Start"}), None, None),
        (json!({"resultType": "Accept"}), None, None),
        (
            json!({"resultType": "Accept", "properties": {"result": "success"}}),
            None,
            Some("success"),
        ),
        (
            json!({"resultType": "Accept", "properties": {"result": "unknown"}}),
            None,
            Some("unknown"),
        ),
        // properties.result must match exactly.
        (
            json!({"resultType": "Accept", "properties": {"result": "Success"}}),
            None,
            None,
        ),
        // resultType wins over properties.result.
        (
            json!({"resultType": "Failure", "properties": {"result": "success"}}),
            None,
            Some("failure"),
        ),
        (json!({"resultType": 1}), None, None),
    ];
    for (fields, _, want) in cases {
        let doc = norm(&record(fields.clone()));
        assert_eq!(
            at(&doc, "event.outcome").and_then(Json::as_str),
            *want,
            "{fields}"
        );
    }
    // The case of resultType is kept where it is copied.
    let doc = norm(&record(json!({"resultType": "Success"})));
    assert_eq!(
        at(&doc, "azure.activitylogs.result_type"),
        Some(&json!("Success"))
    );
}

#[test]
fn event_type_by_category() {
    for (category, want) in [
        ("Administrative", None),
        ("Write", Some(json!(["change"]))),
        ("action", Some(json!(["change"]))),
        ("READ", Some(json!(["access"]))),
        ("Delete", Some(json!(["deletion"]))),
        ("Policy", None),
    ] {
        let doc = norm(&record(json!({ "category": category })));
        assert_eq!(at(&doc, "event.type"), want.as_ref(), "{category}");
        assert_eq!(
            at(&doc, "azure.activitylogs.category"),
            Some(&json!(category))
        );
    }
    // The script has no ignore_failure: a category that is not a string fails the pipeline.
    let doc = norm(&record(json!({ "category": 7 })));
    assert!(is_pipeline_error(&doc));
    assert_eq!(
        at(&doc, "error.message"),
        Some(&json!([
            "Processor 'script' with tag 'script_bbdee4a8' failed with message 'dynamic method [java.lang.Integer, toLowerCase/0] not found'"
        ]))
    );
}

#[test]
fn resource_id_grok_end_to_end() {
    // Our restatement of the VM-extension cases (see grok.rs for the full table).
    let sub = "11111111-2222-3333-4444-555555555555";
    let cases = [
        (
            format!(
                "/SUBSCRIPTIONS/{sub}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS/VMSS1/EXTENSIONS/DSC"
            ),
            Some("RG"),
            Some("MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS"),
            Some("VMSS1/EXTENSIONS/DSC"),
        ),
        (
            format!(
                "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/runCommands/cmd"
            ),
            Some("rg"),
            Some("Microsoft.Compute/virtualMachines"),
            Some("vm1/runCommands/cmd"),
        ),
        (
            format!(
                "/subscriptions/{sub}/resourcegroups/SecuraAllRG/providers/Microsoft.Compute/virtualMachines/SecuraAllVM/extensions/OMSExtension"
            ),
            None,
            Some("Microsoft.Compute/virtualMachines/SecuraAllVM/extensions/OMSExtension"),
            None,
        ),
    ];
    for (id, group, provider, name) in cases {
        let doc = norm(&record(json!({ "resourceId": id })));
        assert_eq!(
            at(&doc, "azure.resource.group").and_then(Json::as_str),
            group,
            "{id}"
        );
        assert_eq!(
            at(&doc, "azure.resource.provider").and_then(Json::as_str),
            provider,
            "{id}"
        );
        assert_eq!(
            at(&doc, "azure.resource.name").and_then(Json::as_str),
            name,
            "{id}"
        );
        assert_eq!(at(&doc, "azure.subscription_id"), Some(&json!(sub)));
        assert_eq!(at(&doc, "azure.resource.id"), Some(&json!(id)));
        assert_eq!(at(&doc, "azure.resource_id"), None);
        assert_eq!(at(&doc, "related.entity"), Some(&json!([id])));
        assert_eq!(at(&doc, "cloud.provider"), Some(&json!("azure")));
    }
    // A number is not grokked, but is still renamed and rendered into related.entity.
    let doc = norm(&record(json!({ "resourceId": 42 })));
    assert_eq!(at(&doc, "azure.resource.id"), Some(&json!(42)));
    assert_eq!(at(&doc, "related.entity"), Some(&json!(["42"])));
    let doc = norm(&record(json!({ "resourceId": "" })));
    assert_eq!(at(&doc, "related.entity"), None);
}

#[test]
fn claims() {
    let identity = json!({
        "claims": {
            "name": "Mallory Example",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": "mallory@contoso.com",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": "Example",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": "Mallory",
            "appid": "app-1"
        }
    });
    let doc = norm(&record(json!({ "identity": identity })));
    let ciu = at(&doc, "azure.activitylogs.identity.claims_initiated_by_user").expect("set");
    assert_eq!(
        ciu,
        &json!({
            "fullname": "Mallory Example",
            "name": "mallory@contoso.com",
            "surname": "Example",
            "givenname": "Mallory",
            "schema": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
        })
    );
    let claims = at(&doc, "azure.activitylogs.identity.claims").expect("claims");
    assert_eq!(
        claims,
        &json!({
            "http://schemas_xmlsoap_org/ws/2005/05/identity/claims/name": "mallory@contoso.com",
            "http://schemas_xmlsoap_org/ws/2005/05/identity/claims/surname": "Example",
            "http://schemas_xmlsoap_org/ws/2005/05/identity/claims/givenname": "Mallory",
            "appid": "app-1"
        })
    );
    assert_eq!(at(&doc, "user.full_name"), Some(&json!("Mallory Example")));

    // Without a `name` claim there is no claims_initiated_by_user object to copy into: the
    // scripts fail (ignored) and nothing about the user is set.
    let doc = norm(&record(json!({ "identity": { "claims": {
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": "mallory@contoso.com"
    }}})));
    assert_eq!(
        at(&doc, "azure.activitylogs.identity.claims_initiated_by_user"),
        None
    );
    assert_eq!(at(&doc, "user"), None);
    assert_eq!(at(&doc, "related.user"), None);

    // `claims` that is not an object: the rewrite script has already set ctx.temp_claims when
    // keySet() throws, and that empty object stays.
    let doc = norm(&record(json!({ "identity": { "claims": "opaque" } })));
    assert_eq!(at(&doc, "temp_claims"), Some(&json!({})));
    assert_eq!(
        at(&doc, "azure.activitylogs.identity.claims"),
        Some(&json!("opaque"))
    );
    assert!(!is_pipeline_error(&doc));
}

#[test]
fn user_fields() {
    let with_name = |name: &str| {
        record(json!({ "identity": { "claims": {
            "name": "Full Name",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": name
        }}}))
    };
    let doc = norm(&with_name("first.last@contoso.onmicrosoft.com"));
    assert_eq!(at(&doc, "user.name"), Some(&json!("first.last")));
    assert_eq!(
        at(&doc, "user.domain"),
        Some(&json!("contoso.onmicrosoft.com"))
    );
    assert_eq!(
        at(&doc, "user.email"),
        Some(&json!("first.last@contoso.onmicrosoft.com"))
    );
    assert_eq!(at(&doc, "related.user"), Some(&json!(["first.last"])));

    // Not an address: the whole claim is the user name, no email, no domain.
    let doc = norm(&with_name("svc-deployer"));
    assert_eq!(at(&doc, "user.name"), Some(&json!("svc-deployer")));
    assert_eq!(at(&doc, "user.email"), None);
    assert_eq!(at(&doc, "user.domain"), None);
    assert_eq!(at(&doc, "related.user"), Some(&json!(["svc-deployer"])));

    // The grok searches: an address inside a display string still matches.
    let doc = norm(&with_name("Jane <jane@x.com>"));
    assert_eq!(at(&doc, "user.name"), Some(&json!("jane")));
    assert_eq!(at(&doc, "user.email"), Some(&json!("Jane <jane@x.com>")));

    // `{{…}}` templates JSON-escape: a backslash doubles in user.name, and again in
    // related.user, which renders user.name.
    let doc = norm(&with_name("CONTOSO\\jdoe"));
    assert_eq!(at(&doc, "user.name"), Some(&json!("CONTOSO\\\\jdoe")));
    assert_eq!(
        at(&doc, "related.user"),
        Some(&json!(["CONTOSO\\\\\\\\jdoe"]))
    );
}

#[test]
fn caller_address() {
    let cases: &[(Json, Option<&str>, Option<Json>)] = &[
        (json!("81.2.69.144"), Some("81.2.69.144"), None),
        // Kept as written: convert to ip does not re-format.
        (json!("2001:DB8:0:0::7"), Some("2001:DB8:0:0::7"), None),
        (json!("fe80::1%eth0"), Some("fe80::1%eth0"), None),
        (json!("01.2.3.4"), None, Some(json!("01.2.3.4"))),
        (json!("10.0.0.1%x"), None, Some(json!("10.0.0.1%x"))),
        (
            json!("Microsoft.Compute"),
            None,
            Some(json!("Microsoft.Compute")),
        ),
        (json!(12), None, Some(json!(12))),
    ];
    for (caller, ip, address) in cases {
        let doc = norm(&record(json!({ "callerIpAddress": caller })));
        assert_eq!(
            at(&doc, "source.ip").and_then(Json::as_str),
            *ip,
            "{caller}"
        );
        assert_eq!(
            at(&doc, "client.ip").and_then(Json::as_str),
            *ip,
            "{caller}"
        );
        assert_eq!(
            at(&doc, "related.ip"),
            ip.map(|i| json!([i])).as_ref(),
            "{caller}"
        );
        assert_eq!(at(&doc, "source.address"), address.as_ref(), "{caller}");
        assert_eq!(at(&doc, "azure.activitylogs.callerIpAddress"), None);
    }
}

#[test]
fn region_and_location() {
    for (location, region) in [
        (json!("eastus"), Some("eastus")),
        (json!("West Europe"), Some("West Europe")),
        (json!("global"), None),
        (json!("GLOBAL"), None),
        (json!("us"), None),
    ] {
        let doc = norm(&record(json!({ "location": location })));
        assert_eq!(
            at(&doc, "cloud.region").and_then(Json::as_str),
            region,
            "{location}"
        );
        assert_eq!(at(&doc, "geo.name"), Some(&location));
    }
    // `location.length()` on a number throws in the condition: the pipeline fails there.
    let doc = norm(&record(json!({ "location": 5, "resultType": "Success" })));
    assert!(is_pipeline_error(&doc));
    let msg = at(&doc, "error.message")
        .and_then(|m| m[0].as_str())
        .expect("message");
    assert!(
        msg.starts_with(
            "Processor 'conditional' with tag 'set_cloud_region_from_location_b2c3d4e5' failed"
        ),
        "{msg}"
    );
    // Processors before the failure ran, those after did not.
    assert!(at(&doc, "@timestamp").is_some());
    assert!(at(&doc, "azure.resource_id").is_some());
    assert_eq!(at(&doc, "event.action"), None);
    assert_eq!(at(&doc, "cloud.provider"), None);
    assert_eq!(at(&doc, "tags"), Some(&json!(["preserve_original_event"])));
}

#[test]
fn json_in_strings() {
    let doc = norm(&record(json!({
        "properties": "{\"statusCode\":\"Conflict\",\"statusMessage\":\"{\\\"error\\\":1}\",\"responseBody\":\"{\\\"id\\\":\\\"x\\\"}\",\"serviceRequestId\":\"r1\"}"
    })));
    assert_eq!(
        at(&doc, "azure.activitylogs.properties.status_code"),
        Some(&json!("Conflict"))
    );
    assert_eq!(
        at(&doc, "azure.activitylogs.properties.service_request_id"),
        Some(&json!("r1"))
    );
    assert_eq!(
        at(&doc, "azure.activitylogs.properties.responseBody.id"),
        Some(&json!("x"))
    );
    assert_eq!(at(&doc, "message"), Some(&json!("{\"error\":1}")));

    // A string identity becomes identity_name and is never parsed.
    let doc = norm(&record(json!({ "identity": "{\"claims\":{}}" })));
    assert_eq!(
        at(&doc, "azure.activitylogs.identity_name"),
        Some(&json!("{\"claims\":{}}"))
    );
    assert_eq!(at(&doc, "azure.activitylogs.identity"), None);

    // A responseBody that is not JSON stays a string.
    let doc = norm(&record(
        json!({ "properties": { "responseBody": "not json" } }),
    ));
    assert_eq!(
        at(&doc, "azure.activitylogs.properties.responseBody"),
        Some(&json!("not json"))
    );
    assert!(!is_pipeline_error(&doc));

    // properties given as a string that is not JSON stays a string, and the next condition
    // (`properties?.responseBody` on a String) throws: the pipeline fails.
    let doc = norm(&record(json!({ "properties": "plain text" })));
    assert!(is_pipeline_error(&doc));

    // Duplicate keys are a JSON error for the json processor: the string is kept.
    let doc = norm(&record(
        json!({ "properties": { "requestBody": "{\"a\":1,\"a\":2}" } }),
    ));
    assert_eq!(
        at(&doc, "azure.activitylogs.properties.requestBody"),
        Some(&json!("{\"a\":1,\"a\":2}"))
    );
}

#[test]
fn event_category() {
    let cases = [
        (
            json!({ "properties": { "eventCategory": "ServiceHealth" } }),
            "ServiceHealth",
        ),
        (json!({ "properties": { "policies": "[]" } }), "Policy"),
        (json!({ "properties": {} }), "Administrative"),
        (json!({}), "Administrative"),
    ];
    for (fields, want) in cases {
        let doc = norm(&record(fields.clone()));
        assert_eq!(
            at(&doc, "azure.activitylogs.event_category"),
            Some(&json!(want)),
            "{fields}"
        );
        assert_eq!(
            at(&doc, "azure.activitylogs.properties.eventCategory"),
            None
        );
    }
}

#[test]
fn renames_and_tenant() {
    let doc = norm(&record(json!({
        "tenantId": "t-1",
        "correlationId": "c-1",
        "operationVersion": "2016-09-01",
        "resultSignature": "Succeeded.",
        "level": "Information",
        "Level": "4",
        "identity": { "authorization": { "evidence": { "principalId": "p-1", "principalType": "User", "roleAssignmentScope": "/", "roleDefinitionId": "d", "roleAssignmentId": "a" } } }
    })));
    assert_eq!(at(&doc, "azure.tenant.id"), Some(&json!("t-1")));
    assert_eq!(
        at(&doc, "azure.activitylogs.tenant_id"),
        Some(&json!("t-1"))
    );
    assert_eq!(at(&doc, "azure.correlation.id"), Some(&json!("c-1")));
    assert_eq!(
        at(&doc, "azure.activitylogs.operation_version"),
        Some(&json!("2016-09-01"))
    );
    assert_eq!(
        at(&doc, "azure.activitylogs.result_signature"),
        Some(&json!("Succeeded."))
    );
    assert_eq!(at(&doc, "log.level"), Some(&json!("Information")));
    assert_eq!(at(&doc, "azure.activitylogs.level"), Some(&json!("4")));
    let evidence =
        at(&doc, "azure.activitylogs.identity.authorization.evidence").expect("evidence");
    assert_eq!(
        evidence,
        &json!({ "principal_id": "p-1", "principal_type": "User", "role_assignment_scope": "/", "role_definition_id": "d", "role_assignment_id": "a" })
    );
    let id = "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1/EXTENSIONS/CUSTOMSCRIPT";
    assert_eq!(at(&doc, "related.entity"), Some(&json!([id, "p-1"])));
    assert_eq!(
        at(&doc, "event.action"),
        Some(&json!("MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE"))
    );
    assert_eq!(
        at(&doc, "azure.activitylogs.operation_name"),
        Some(&json!("MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE"))
    );
}

#[test]
fn failures() {
    // A rename onto a key the record already has fails the pipeline.
    let doc = norm(&record(
        json!({ "resultType": "Success", "result_type": "x" }),
    ));
    assert!(is_pipeline_error(&doc));
    assert_eq!(
        at(&doc, "error.message"),
        Some(&json!([
            "Processor 'rename' with tag 'rename_azure_activitylogs_resultType_to_azure_activitylogs_result_type_b2d1b555' failed with message 'field [azure.activitylogs.result_type] already exists'"
        ]))
    );
    // An identity that is an array fails the claims_initiated_by_user condition.
    let doc = norm(&record(json!({ "identity": [1] })));
    assert!(is_pipeline_error(&doc));

    // Text that is not JSON: only ecs.version and event.original precede the json processor.
    let doc = common::to_json(&azure_activity_from_raw("not json", &Options::default()));
    assert!(is_pipeline_error(&doc));
    assert_eq!(at(&doc, "event.original"), Some(&json!("not json")));
    assert_eq!(at(&doc, "ecs.version"), Some(&json!("8.11.0")));
    assert_eq!(at(&doc, "tags"), Some(&json!(["preserve_original_event"])));
    let msg = at(&doc, "error.message")
        .and_then(|m| m[0].as_str())
        .expect("message");
    assert!(
        msg.starts_with("Processor 'json' with tag 'json_event_original_to_azure_activitylogs_01d823eb' failed with message '"),
        "{msg}"
    );
    assert_eq!(
        at(&doc, "data_stream.dataset"),
        Some(&json!("azure.activitylogs"))
    );

    // A record that is not an object fails at the first condition reading it.
    let doc = common::to_json(&azure_activity_from_raw("[1,2]", &Options::default()));
    assert!(is_pipeline_error(&doc));
    assert_eq!(at(&doc, "azure.activitylogs"), Some(&json!([1, 2])));
    // Duplicate top-level keys are rejected by the json processor.
    let doc = common::to_json(&azure_activity_from_raw(
        r#"{"time":"x","time":"y"}"#,
        &Options::default(),
    ));
    assert!(is_pipeline_error(&doc));
}

#[test]
fn empty_members_are_dropped_from_the_text() {
    let raw = r#"{"":"","time":"2024-05-01T10:00:00Z","category":"Write","properties":{"":"","a":"b","":""}}"#;
    let doc = common::to_json(&azure_activity_from_raw(raw, &Options::default()));
    // Only `"":"",` followed by a comma goes, in the text that becomes event.original too.
    assert_eq!(
        at(&doc, "event.original"),
        Some(&json!(
            r#"{"time":"2024-05-01T10:00:00Z","category":"Write","properties":{"a":"b","":""}}"#
        ))
    );
    assert_eq!(
        at(&doc, "azure.activitylogs.properties"),
        Some(&json!({"a": "b", "": ""}))
    );
    assert!(!is_pipeline_error(&doc));
    // The same through the parsed-document API.
    let parsed = vigil_event::parse_json(raw.as_bytes()).expect("JSON");
    let doc2 = common::to_json(&azure_activity_to_ecs(raw, parsed, &Options::default()));
    assert_eq!(doc, doc2);
}

#[test]
fn options_and_index_time_fields() {
    let text = record(json!({}));
    let doc = norm(&text);
    assert_eq!(at(&doc, "event.original"), Some(&json!(text)));
    assert_eq!(
        at(&doc, "data_stream"),
        Some(&json!({"type": "logs", "dataset": "azure.activitylogs", "namespace": "default"}))
    );
    assert_eq!(
        at(&doc, "event.dataset"),
        Some(&json!("azure.activitylogs"))
    );
    assert_eq!(at(&doc, "event.module"), Some(&json!("azure")));
    assert_eq!(at(&doc, "event.kind"), Some(&json!("event")));
    assert_eq!(at(&doc, "ecs.version"), Some(&json!("8.11.0")));
    assert_eq!(
        at(&doc, "event.ingested"),
        None,
        "historical data has no ingest time"
    );

    let parsed = vigil_event::parse_json(text.as_bytes()).expect("JSON");
    let opts = Options {
        event_original: false,
        ingested: Some("2024-05-01T10:00:07.123456789Z".parse().expect("timestamp")),
    };
    let doc = common::to_json(&azure_activity_to_ecs(&text, parsed, &opts));
    assert_eq!(at(&doc, "event.original"), None);
    assert_eq!(
        at(&doc, "event.ingested"),
        Some(&json!("2024-05-01T10:00:07Z"))
    );
}

#[test]
fn ecs_documents_pass_through() {
    for text in [
        r#"{"@timestamp":"2024-05-01T10:00:00.000Z","event":{"action":"x"},"operationName":"y","time":"z"}"#,
        r#"{"event.action":"MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE","time":"2024-05-01T10:00:00Z","category":"Administrative"}"#,
        r#"{"data_stream":{"dataset":"azure.activitylogs"},"time":"2024-05-01T10:00:00Z","resourceId":"/x"}"#,
        r#"{"ecs":{"version":"8.11.0"},"operationName":"x","resourceId":"/x"}"#,
    ] {
        let doc = vigil_event::parse_json(text.as_bytes()).expect("JSON");
        assert_eq!(detect(&doc), Format::Ecs, "{text}");
        let out = azure_activity_to_ecs(text, doc.clone(), &Options::default());
        assert_eq!(out, doc, "{text}");
        assert_eq!(azure_activity_from_raw(text, &Options::default()), doc);
    }
}

#[test]
fn detection() {
    let d = |text: &str| detect(&vigil_event::parse_json(text.as_bytes()).expect("JSON"));
    for line in common::RECORDS {
        assert_eq!(d(line), Format::AzureActivity, "{line}");
    }
    assert_eq!(
        d(r#"{"time":"01/09/2007 09:41:00","category":"Administrative"}"#),
        Format::AzureActivity
    );
    assert_eq!(
        d(r#"{"resourceId":"/x","operationName":"y"}"#),
        Format::AzureActivity
    );
    // The portal's JSON view: operationName is an object, eventTimestamp instead of time.
    assert_eq!(
        d(
            r#"{"eventTimestamp":"2024-05-01T10:00:00Z","operationName":{"value":"x","localizedValue":"X"},"resourceId":"/x","category":{"value":"Administrative"}}"#
        ),
        Format::Unknown
    );
    // `az monitor activity-log list` (snake_case).
    assert_eq!(
        d(
            r#"{"event_timestamp":"2024-05-01T10:00:00Z","operation_name":{"value":"x"},"resource_id":"/x"}"#
        ),
        Format::Unknown
    );
    assert_eq!(
        d(r#"{"records":[{"time":"x","category":"y"}]}"#),
        Format::Unknown
    );
    assert_eq!(d(r#"{"time":"2024-05-01T10:00:00Z"}"#), Format::Unknown);
    assert_eq!(d("[1]"), Format::Unknown);
    assert_eq!(detect(&Value::Null), Format::Unknown);
}
