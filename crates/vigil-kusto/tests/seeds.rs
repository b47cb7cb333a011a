//! The two seed rules (`../shared/upstream/sentinel/seed-00*.kql`, verbatim) lowered and run
//! over tables built from rows written here, in the form Log Analytics exports them.
#![allow(clippy::print_stdout)]

mod common;

use vigil_event::{Layout, Projection, Row, Value, parse_json};
use vigil_exec::{Columns, EvalContext, compile};

fn seed(name: &str) -> Option<String> {
    let path = common::shared_dir()?.join("upstream/sentinel").join(name);
    std::fs::read_to_string(path).ok()
}

/// Runs `kql` over `rows` (JSON objects of one table) at `now`; returns each result row as
/// (column, value) pairs.
fn run(kql: &str, rows: &[&str], now: &str) -> Vec<Vec<(String, Value)>> {
    let plan = vigil_kusto::lower_rule_query(kql).expect("the seed lowers");
    let mut layout = Layout::new();
    for f in plan.fields_read() {
        layout.intern(&f);
    }
    let compiled = compile(&plan, &layout).expect("the seed compiles");
    let projection = Projection::new(&layout);
    let data: Vec<Row> = rows
        .iter()
        .map(|r| projection.project(&parse_json(r.as_bytes()).expect("row JSON")))
        .collect();
    let ctx = EvalContext::new(now.parse().expect("now"));
    let out = compiled.run(data.iter().enumerate(), &ctx);
    let cols = match &out.columns {
        Columns::Explicit(c) => c.clone(),
        Columns::Events { computed } => {
            // Source rows: every layout field plus the computed columns.
            let mut c: Vec<(String, usize)> = layout
                .names()
                .enumerate()
                .map(|(i, n)| (n.to_string(), i))
                .collect();
            c.extend(computed.iter().cloned());
            c
        }
    };
    out.rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|(n, s)| (n.clone(), r.row.get(*s).cloned().unwrap_or(Value::Null)))
                .collect()
        })
        .collect()
}

fn get<'a>(row: &'a [(String, Value)], col: &str) -> &'a Value {
    row.iter()
        .find(|(n, _)| n == col)
        .map(|(_, v)| v)
        .unwrap_or(&Value::Null)
}

fn activity(
    time: &str,
    caller: &str,
    op: &str,
    status: &str,
    ip: &str,
    vm: &str,
    ext: &str,
) -> String {
    let rid = if ext.is_empty() {
        format!(
            "/subscriptions/S1/resourceGroups/RG1/providers/Microsoft.Compute/virtualMachines/{vm}"
        )
    } else {
        format!(
            "/subscriptions/S1/resourceGroups/RG1/providers/Microsoft.Compute/virtualMachines/{vm}/extensions/{ext}"
        )
    };
    let props = if ext.is_empty() {
        r#"{\"statusCode\":\"Accepted\"}"#.to_string()
    } else {
        format!(r#"{{\"type\":\"{ext}\",\"statusCode\":\"OK\"}}"#)
    };
    format!(
        r#"{{"TimeGenerated":"{time}","Caller":"{caller}","OperationNameValue":"{op}","ActivityStatusValue":"{status}","CallerIpAddress":"{ip}","ResourceId":"{rid}","ResourceGroup":"RG1","SubscriptionId":"S1","Properties":"{props}"}}"#
    )
}

const EXT_WRITE: &str = "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE";
const RUN_CMD: &str = "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION";

#[test]
fn seed_002_custom_script_extension_or_run_command() {
    let Some(kql) = seed("seed-002-vm-custom-script-extension-or-run-command.kql") else {
        println!("SKIP seed 002: ../shared/upstream/sentinel is absent");
        return;
    };
    let now = "2024-05-01T12:00:00Z";
    let rows = [
        // The attack: a script extension and a Run Command from a public address.
        activity(
            "2024-05-01T11:00:00Z",
            "eve@contoso.com",
            EXT_WRITE,
            "Success",
            "203.0.113.9",
            "vm1",
            "CustomScriptExtension",
        ),
        activity(
            "2024-05-01T11:30:00Z",
            "eve@contoso.com",
            RUN_CMD,
            "Success",
            "203.0.113.10",
            "vm2",
            "",
        ),
        // Infrastructure as code, failures, Azure's own addresses, and old events stay quiet.
        activity(
            "2024-05-01T11:10:00Z",
            "terraform-sp@contoso.com",
            EXT_WRITE,
            "Success",
            "198.51.100.1",
            "vm3",
            "CustomScriptExtension",
        ),
        activity(
            "2024-05-01T11:10:00Z",
            "ado-DevOps-agent@contoso.com",
            RUN_CMD,
            "Success",
            "198.51.100.2",
            "vm3",
            "",
        ),
        activity(
            "2024-05-01T11:20:00Z",
            "mallory@contoso.com",
            EXT_WRITE,
            "Failure",
            "198.51.100.3",
            "vm4",
            "CustomScriptExtension",
        ),
        activity(
            "2024-05-01T11:20:00Z",
            "mallory@contoso.com",
            RUN_CMD,
            "Success",
            "168.63.129.16",
            "vm4",
            "",
        ),
        activity(
            "2024-05-01T11:20:00Z",
            "mallory@contoso.com",
            RUN_CMD,
            "Success",
            "169.254.169.254",
            "vm4",
            "",
        ),
        activity(
            "2024-05-01T08:00:00Z",
            "mallory@contoso.com",
            RUN_CMD,
            "Success",
            "198.51.100.4",
            "vm4",
            "",
        ),
        // Not a script extension.
        activity(
            "2024-05-01T11:20:00Z",
            "mallory@contoso.com",
            EXT_WRITE,
            "Success",
            "198.51.100.5",
            "vm4",
            "MicrosoftMonitoringAgent",
        ),
    ];
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let out = run(&kql, &refs, now);
    assert_eq!(out.len(), 1, "{out:?}");
    let row = &out[0];
    assert_eq!(get(row, "Caller"), &Value::from("eve@contoso.com"));
    assert_eq!(get(row, "ResourceGroup"), &Value::from("RG1"));
    assert_eq!(get(row, "SubscriptionId"), &Value::from("S1"));
    assert_eq!(get(row, "ExecutionCount"), &Value::Int(2));
    assert_eq!(
        get(row, "AffectedVMs"),
        &Value::Array(vec!["vm1".into(), "vm2".into()])
    );
    assert_eq!(
        get(row, "ExtensionTypes"),
        &Value::Array(vec!["CustomScriptExtension".into(), "RunCommand".into()])
    );
    assert_eq!(
        get(row, "SourceIPs"),
        &Value::Array(vec!["203.0.113.9".into(), "203.0.113.10".into()])
    );
    assert_eq!(get(row, "AccountName"), &Value::from("eve"));
    assert_eq!(get(row, "AccountUPNSuffix"), &Value::from("contoso.com"));
    let names: Vec<&str> = row.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Caller",
            "ResourceGroup",
            "SubscriptionId",
            "ExecutionCount",
            "AffectedVMs",
            "ExtensionTypes",
            "AffectedResources",
            "SourceIPs",
            "CallerIP",
            "FirstSeen",
            "LastSeen",
            "AccountName",
            "AccountUPNSuffix"
        ]
    );
}

fn file_event(time: &str, initiator: &str, file: &str, extra: &str) -> String {
    format!(
        r#"{{"TimeGenerated":"{time}","ActionType":"FileCreated","InitiatingProcessFileName":"{initiator}","FileName":"{file}","AdditionalFields":{extra}}}"#
    )
}

#[test]
fn seed_004_customscript_executable_drops() {
    let Some(kql) = seed("seed-004-customscript-executable-drops.kql") else {
        println!("SKIP seed 004: ../shared/upstream/sentinel is absent");
        return;
    };
    let now = "2024-05-01T12:00:00Z";
    let rows = [
        file_event(
            "2024-05-01T11:30:00Z",
            "CustomScriptHandler.exe",
            "payload.exe",
            "null",
        ),
        file_event(
            "2024-05-01T11:31:00Z",
            "customscripthandler.exe",
            "blob.bin",
            r#"{"FileType":"PortableExecutable"}"#,
        ),
        // A script, another initiator, and an old drop stay quiet.
        file_event(
            "2024-05-01T11:32:00Z",
            "CustomScriptHandler.exe",
            "setup.ps1",
            "null",
        ),
        file_event("2024-05-01T11:33:00Z", "powershell.exe", "tool.exe", "null"),
        file_event(
            "2024-05-01T09:00:00Z",
            "CustomScriptHandler.exe",
            "old.exe",
            "null",
        ),
    ];
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let out = run(&kql, &refs, now);
    let files: Vec<&Value> = out.iter().map(|r| get(r, "FileName")).collect();
    assert_eq!(
        files,
        [&Value::from("payload.exe"), &Value::from("blob.bin")]
    );
    assert_eq!(get(&out[1], "FileType"), &Value::from("PortableExecutable"));
}
