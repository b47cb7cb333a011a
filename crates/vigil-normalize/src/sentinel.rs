//! Native Azure Activity Log records to `AzureActivity` rows, as Sentinel's Azure Activity
//! connector (diagnostic settings into Log Analytics) maps them.
//!
//! Mapping (from the AzureActivity table reference, Microsoft's "data structure changes" notes
//! and an exported row, `samples/sentinel/azureActivity_*.csv`):
//! `time` → `TimeGenerated`; `operationName` → `OperationNameValue` (case kept: the records
//! Azure writes are upper case); `resultType` → `ActivityStatusValue`;
//! `properties.statusCode` → `ActivitySubstatusValue`; `category` → `CategoryValue`;
//! `callerIpAddress`, `correlationId`, `level` as they are; `resourceId` → `ResourceId` (as
//! written) and `_ResourceId` (lower case); its segments → `SubscriptionId`, `ResourceGroup`,
//! `ResourceProviderValue`, `Resource`; `identity.authorization` → `Authorization` (JSON text)
//! and `Authorization_d`; `identity.claims` → `Claims` and `Claims_d`; `properties` plus the
//! connector's additions (`caller`, `eventDataId`, `eventSubmissionTimestamp`, `httpRequest`,
//! `resource`, `resourceGroup`, `resourceProviderValue`, `subscriptionId`,
//! `activityStatusValue`) → `Properties` and `Properties_d`; `properties.hierarchy` →
//! `Hierarchy`. `Caller` is the UPN claim, else the object id claim, else the app id.
//! Every string column is present (`""` when empty): Kusto strings are never null.
//! The exported row leaves `ResourceId` empty; rules read it (`split(ResourceId, "/")`), so
//! Vigil fills it with the record's resource id.

use vigil_event::{Map, Value};

const UPN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
const OID: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => other.to_string(),
    }
}

/// The JSON text of an object member, `""` when absent.
fn json_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => other.to_string(),
    }
}

/// A member that may arrive as an object or as JSON text, as a dynamic value.
fn dynamic(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Str(s)) => vigil_event::parse_json(s.as_bytes()).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

/// `/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}/{name}…` segments, case
/// kept: (subscription, resource group, provider namespace, last name).
fn resource_parts(id: &str) -> (String, String, String, String) {
    let segs: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let after = |key: &str| {
        segs.iter()
            .position(|s| s.eq_ignore_ascii_case(key))
            .and_then(|i| segs.get(i + 1))
            .map_or(String::new(), |s| (*s).to_string())
    };
    let resource = if segs.iter().any(|s| s.eq_ignore_ascii_case("providers")) {
        segs.last().map_or(String::new(), |s| (*s).to_string())
    } else {
        String::new()
    };
    (
        after("subscriptions"),
        after("resourceGroups"),
        after("providers"),
        resource,
    )
}

/// True when `doc` is already an `AzureActivity` row (exported from Log Analytics).
pub fn is_azure_activity_row(doc: &Value) -> bool {
    doc.as_object()
        .is_some_and(|m| m.contains_key("OperationNameValue") || m.contains_key("TimeGenerated"))
}

/// The `AzureActivity` row for a native Activity Log record. A row that is already in table
/// form passes through with its dynamic columns decoded.
pub fn azure_activity_row(doc: &Value) -> Value {
    let Some(m) = doc.as_object() else {
        return Value::Null;
    };
    if is_azure_activity_row(doc) {
        let mut out = m.clone();
        for col in ["Properties_d", "Authorization_d", "Claims_d"] {
            if let Some(Value::Str(s)) = m.get(col) {
                out.insert(
                    col.into(),
                    vigil_event::parse_json(s.as_bytes()).unwrap_or(Value::Null),
                );
            }
        }
        return Value::Object(out);
    }
    let get = |k: &str| m.get(k);
    let identity = get("identity").and_then(Value::as_object);
    let claims = identity.and_then(|i| i.get("claims"));
    let authorization = identity.and_then(|i| i.get("authorization"));
    let claims_d = dynamic(claims);
    let claim = |k: &str| {
        claims_d
            .as_object()
            .and_then(|c| c.get(k))
            .map(|v| text(Some(v)))
    };
    let caller = claim(UPN)
        .filter(|s| !s.is_empty())
        .or_else(|| claim(OID).filter(|s| !s.is_empty()))
        .or_else(|| claim("appid"))
        .or_else(|| get("caller").map(|v| text(Some(v))))
        .unwrap_or_default();
    let resource_id = text(get("resourceId"));
    let (sub, rg, provider, resource) = resource_parts(&resource_id);
    let status = text(get("resultType"));
    let caller_ip = text(get("callerIpAddress"));
    let mut props = match dynamic(get("properties")) {
        Value::Object(p) => p,
        _ => Map::new(),
    };
    let http = match get("httpRequest") {
        Some(v @ Value::Object(_)) => v.to_string(),
        Some(Value::Str(s)) => s.to_string(),
        _ => {
            let mut h = Map::new();
            h.insert("clientIpAddress".into(), Value::from(caller_ip.as_str()));
            Value::Object(h).to_string()
        }
    };
    let substatus = text(props.get("statusCode"));
    let hierarchy = text(props.get("hierarchy"));
    let event_data_id = text(props.get("eventDataId").or(get("eventDataId")));
    let submitted = text(props.get("eventSubmissionTimestamp").or(get("time")));
    // The connector's additions to Properties.
    for (k, v) in [
        ("caller", caller.clone()),
        ("eventDataId", event_data_id.clone()),
        ("eventSubmissionTimestamp", submitted.clone()),
        ("httpRequest", http.clone()),
        ("resource", resource.to_lowercase()),
        ("resourceGroup", rg.clone()),
        ("resourceProviderValue", provider.clone()),
        ("subscriptionId", sub.clone()),
        ("activityStatusValue", status.clone()),
    ] {
        props.entry(k.into()).or_insert_with(|| Value::from(v));
    }
    let props_d = Value::Object(props);
    let mut row = Map::new();
    let mut put = |k: &str, v: Value| {
        row.insert(k.into(), v);
    };
    put("TimeGenerated", get("time").cloned().unwrap_or(Value::Null));
    put(
        "OperationNameValue",
        Value::from(text(get("operationName"))),
    );
    put("ActivityStatusValue", Value::from(status));
    put("ActivitySubstatusValue", Value::from(substatus));
    put("CategoryValue", Value::from(text(get("category"))));
    put("Caller", Value::from(caller));
    put("CallerIpAddress", Value::from(caller_ip));
    put("CorrelationId", Value::from(text(get("correlationId"))));
    put("Level", Value::from(text(get("level"))));
    put("ResourceId", Value::from(resource_id.as_str()));
    put("_ResourceId", Value::from(resource_id.to_lowercase()));
    put("SubscriptionId", Value::from(sub.as_str()));
    put("_SubscriptionId", Value::from(sub.to_lowercase()));
    put("ResourceGroup", Value::from(rg));
    put("ResourceProviderValue", Value::from(provider));
    put("Resource", Value::from(resource));
    put("Authorization", Value::from(json_text(authorization)));
    put("Authorization_d", dynamic(authorization));
    put("Claims", Value::from(json_text(claims)));
    put("Claims_d", claims_d);
    put("Properties", Value::from(props_d.to_string()));
    put("Properties_d", props_d);
    put("HTTPRequest", Value::from(http));
    put("Hierarchy", Value::from(hierarchy));
    put("EventDataId", Value::from(event_data_id));
    put("EventSubmissionTimestamp", Value::from(submitted));
    put("OperationId", Value::from(text(get("operationId"))));
    put("SourceSystem", Value::from("Azure"));
    put("Type", Value::from("AzureActivity"));
    put("TenantId", Value::from(""));
    // Deprecated columns exist but hold no data.
    for k in [
        "ActivityStatus",
        "ActivitySubstatus",
        "Category",
        "OperationName",
        "ResourceProvider",
    ] {
        put(k, Value::from(""));
    }
    Value::Object(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_native_record() {
        let rec = vigil_event::parse_json(
            br#"{"time":"2024-05-01T10:00:00Z","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1/EXTENSIONS/CSE","operationName":"MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE","category":"Administrative","resultType":"Success","callerIpAddress":"203.0.113.9","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"eve@contoso.com"}},"properties":{"statusCode":"OK"}}"#,
        )
        .unwrap();
        let row = azure_activity_row(&rec);
        let g = |k: &str| row.as_object().unwrap().get(k).cloned().unwrap();
        assert_eq!(g("Caller"), Value::from("eve@contoso.com"));
        assert_eq!(g("ResourceGroup"), Value::from("RG1"));
        assert_eq!(g("SubscriptionId"), Value::from("S1"));
        assert_eq!(g("ResourceProviderValue"), Value::from("MICROSOFT.COMPUTE"));
        assert_eq!(g("ActivityStatusValue"), Value::from("Success"));
        assert_eq!(g("ActivitySubstatusValue"), Value::from("OK"));
        assert!(
            g("Properties")
                .as_str()
                .unwrap()
                .contains("\"caller\":\"eve@contoso.com\"")
        );
        assert_eq!(g("Resource"), Value::from("CSE"));
    }
}
