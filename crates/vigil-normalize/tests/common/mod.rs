//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value as Json;
use vigil_event::Value;
use vigil_normalize::{Options, azure_activity_to_ecs};

/// `$VIGIL_SHARED`, else `<workspace>/../shared`, if it exists.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    dir.is_dir().then_some(dir)
}

/// The upstream pipeline-test folder, if the shared samples are present.
pub fn fixture_dir() -> Option<PathBuf> {
    let dir = shared_dir()?.join("samples/elastic-azure-activitylogs/test_pipeline");
    dir.is_dir().then_some(dir)
}

/// Normalizes one record line with default options.
pub fn normalize(line: &str) -> Value {
    let doc = vigil_event::parse_json(line.as_bytes()).expect("fixture line is JSON");
    azure_activity_to_ecs(line, doc, &Options::default())
}

/// Leaf fields of a JSON document as (dotted path, value); arrays are leaves.
pub fn leaves(v: &Json) -> Vec<(String, Json)> {
    fn walk(prefix: &str, v: &Json, out: &mut Vec<(String, Json)>) {
        match v {
            Json::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, child, out);
                }
            }
            other => out.push((prefix.to_string(), other.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

pub fn to_json(v: &Value) -> Json {
    serde_json::to_value(v).expect("values serialize")
}

/// Realistic native records written for these tests (not upstream data): VM-extension writes
/// by a user and by a service principal, a Run Command, a failed delete with a string
/// `properties`, an IPv6 caller, a policy record and a non-IP caller.
pub const RECORDS: &[&str] = &[
    r#"{"time":"2024-05-01T10:00:00.1234567Z","resourceId":"/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG-PROD/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/WEB01/EXTENSIONS/CUSTOMSCRIPTEXTENSION","operationName":"MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE","category":"Administrative","resultType":"Start","resultSignature":"Started.","durationMs":0,"callerIpAddress":"203.0.113.7","correlationId":"0b1e1c1e-aaaa-bbbb-cccc-000000000001","identity":{"authorization":{"scope":"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/web01/extensions/CustomScriptExtension","action":"Microsoft.Compute/virtualMachines/extensions/write","evidence":{"role":"Contributor","roleAssignmentScope":"/subscriptions/11111111-2222-3333-4444-555555555555","roleAssignmentId":"aaaabbbbccccdddd","roleDefinitionId":"b24988ac618042a0ab8820f7382dd24c","principalId":"9f1e2d3c4b5a69788796a5b4c3d2e1f0","principalType":"User"}},"claims":{"aud":"https://management.core.windows.net/","iss":"https://sts.windows.net/ffffffff-0000-1111-2222-333333333333/","appid":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","name":"Mallory Example","ipaddr":"203.0.113.7","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":"mallory@contoso.onmicrosoft.com","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname":"Mallory","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname":"Example","http://schemas.microsoft.com/identity/claims/objectidentifier":"9f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}},"level":"Information","location":"eastus","properties":{"statusCode":"Created","serviceRequestId":"abc-123","eventCategory":"Administrative","entity":"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/web01/extensions/CustomScriptExtension","message":"Microsoft.Compute/virtualMachines/extensions/write","hierarchy":"ffffffff-0000-1111-2222-333333333333/11111111-2222-3333-4444-555555555555"},"tenantId":"ffffffff-0000-1111-2222-333333333333"}"#,
    r#"{"time":"2024-05-01T10:03:12.5Z","resourceId":"/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG-PROD/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/WEB01/EXTENSIONS/CUSTOMSCRIPTEXTENSION","operationName":"MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE","category":"Administrative","resultType":"Success","resultSignature":"Succeeded.OK","durationMs":"191234","callerIpAddress":"203.0.113.7","correlationId":"0b1e1c1e-aaaa-bbbb-cccc-000000000001","identity":{"authorization":{"scope":"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-prod","action":"Microsoft.Compute/virtualMachines/extensions/write","evidence":{"role":"Contributor","principalId":"5e4d3c2b1a09f8e7d6c5b4a392817060","principalType":"ServicePrincipal"}},"claims":{"aud":"https://management.azure.com","appid":"0a1b2c3d-0000-0000-0000-0a1b2c3d4e5f","idtyp":"app"}},"level":"Information","location":"eastus","properties":{"statusCode":"OK","eventCategory":"Administrative"}}"#,
    r#"{"time":"5/1/2024 10:05:00 AM","resourceId":"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/web01","operationName":"Microsoft.Compute/virtualMachines/runCommand/action","category":"Action","resultType":"Accept","durationMs":2500,"callerIpAddress":"2001:db8::7","identity":{"claims":{"name":"Ops Bot","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":"ops-bot"}},"level":"Information","location":"global","properties":{"result":"success"}}"#,
    r#"{"time":"2024-05-01T11:00:00Z","resourceId":"/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-prod/providers/Microsoft.Compute/virtualMachines/web01/extensions/MDE.Windows","operationName":"Microsoft.Compute/virtualMachines/extensions/delete","category":"Delete","resultType":"Failure","callerIpAddress":"not-an-ip","level":"Error","location":"West Europe","properties":"{\"statusCode\":\"Conflict\",\"statusMessage\":\"{\\\"error\\\":{\\\"code\\\":\\\"Conflict\\\"}}\",\"responseBody\":\"{\\\"id\\\":\\\"x\\\"}\"}"}"#,
    r#"{"time":"2024-05-01T12:00:00.000Z","resourceId":"/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/RG-PROD/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/LOGS01","operationName":"MICROSOFT.AUTHORIZATION/POLICIES/AUDIT/ACTION","category":"Policy","resultType":"Success","level":"Warning","Level":"3","identity":"someone@contoso.com","properties":{"policies":"[{\"policyDefinitionName\":\"x\"}]","isComplianceCheck":"False"},"tenantId":"ffffffff-0000-1111-2222-333333333333","operationVersion":"2016-09-01"}"#,
    r#"{"time":"2024-05-01T13:00:00Z","resourceId":"/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/PROVIDERS/MICROSOFT.SECURITY/LOCATIONS/EASTUS/ALERTS/A1","operationName":"Microsoft.Security/locations/alerts/activate/action","category":"Security","resultType":"Active","properties":{"eventCategory":"Security","severity":"High"},"callerIpAddress":"10.0.0.4","identity":{"claims":{"name":"Jane \"JD\" Doe","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":"CONTOSO\\jdoe"}}}"#,
];
