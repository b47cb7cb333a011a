//! The ES|QL rule of PR #6277 ("Unusual Azure VM Extension Detected"), verbatim from
//! `../shared/upstream/elastic/seed/`, lowered and run over Activity Log events: a (VM,
//! extension name) pair seen once, recently, gives one row; a pair seen twice, an old one, a
//! failed write and another operation give none.

use std::path::PathBuf;

use vigil_event::{Layout, Projection, Value, parse_json};
use vigil_exec::{Columns, EvalContext, compile};
use vigil_schema::Schema;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    dir.is_dir().then_some(dir)
}

const NOW: &str = "2026-06-20T12:00:00Z";

fn event(ts: &str, name: &str, action: &str, outcome: &str, principal: &str) -> String {
    format!(
        r#"{{"@timestamp":"{ts}","event":{{"dataset":"azure.activitylogs","action":"{action}","outcome":"{outcome}"}},
"azure":{{"resource":{{"name":"{name}","id":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/{name}"}},
"subscription_id":"S1","activitylogs":{{"identity":{{"authorization":{{"evidence":{{"principal_id":"{principal}","principal_type":"User"}}}},
"claims":{{"appid":"app-1"}}}}}}}},"source":{{"ip":"203.0.113.7","as":{{"number":64500}},"geo":{{"country_name":"Nowhere"}}}}}}"#
    )
}

const WRITE: &str = "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE";

#[test]
fn first_seen_vm_extension_pairs() {
    let Some(shared) = shared_dir() else {
        println!("SKIP seed ES|QL rule: ../shared not found (set VIGIL_SHARED)");
        return;
    };
    let path =
        shared.join("upstream/elastic/seed/execution_azure_vm_extension_unusual_for_host.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP seed ES|QL rule: {} not found", path.display());
        return;
    };
    let doc: toml::Table = text.parse().expect("seed rule TOML");
    let query = doc["rule"]["query"].as_str().expect("query");
    let plan = vigil_esql::lower_rule_query(query, Schema::elastic()).expect("plans");
    assert!(plan.aggregating);
    assert_eq!(plan.indices, ["logs-azure.activitylogs-*"]);

    let events = [
        // First deployment of CustomScript on VM1, five minutes ago: alerts.
        event(
            "2026-06-20T11:55:00Z",
            "VM1/EXTENSIONS/CustomScript",
            WRITE,
            "success",
            "p-1",
        ),
        // Monitor on VM1 twice in the window: routine, no alert.
        event(
            "2026-06-18T09:00:00Z",
            "VM1/EXTENSIONS/Monitor",
            WRITE,
            "success",
            "p-2",
        ),
        event(
            "2026-06-20T11:58:00Z",
            "VM1/EXTENSIONS/Monitor",
            WRITE,
            "Success",
            "p-2",
        ),
        // Seen once, but two hours ago: an earlier run alerted on it.
        event(
            "2026-06-20T10:00:00Z",
            "VM2/EXTENSIONS/CustomScript",
            WRITE,
            "success",
            "p-1",
        ),
        // A failed write and a different operation do not count.
        event(
            "2026-06-20T11:59:00Z",
            "VM3/EXTENSIONS/Evil",
            WRITE,
            "failure",
            "p-3",
        ),
        event(
            "2026-06-20T11:59:00Z",
            "VM4",
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
            "success",
            "p-3",
        ),
        // A scale-set extension on a new host: alerts too.
        event(
            "2026-06-20T11:57:00Z",
            "SS1/EXTENSIONS/VMAccess",
            "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS/EXTENSIONS/WRITE",
            "Success",
            "p-4",
        ),
    ];
    let mut layout = Layout::new();
    for f in plan.plan.fields_read() {
        layout.intern(&f);
    }
    let projection = Projection::new(&layout);
    let rows: Vec<_> = events
        .iter()
        .map(|e| projection.project(&parse_json(e.as_bytes()).expect("event JSON")))
        .collect();
    let compiled = compile(&plan.plan, &layout).expect("compiles");
    let now = vigil_event::parse_rfc3339(NOW).expect("now");
    let out = compiled.run(rows.iter().enumerate(), &EvalContext::new(now));
    let Columns::Explicit(cols) = &out.columns else {
        panic!("an aggregating rule has explicit columns")
    };
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..3],
        ["azure.resource.name", "azure.resource.id", "source.ip"]
    );
    assert!(names.contains(&"Esql.vm_name") && names.contains(&"Esql.event_count"));
    let get = |r: &vigil_exec::OutRow, col: &str| {
        let slot = cols
            .iter()
            .find(|(n, _)| n == col)
            .map(|c| c.1)
            .expect("column");
        r.row.get(slot).cloned().unwrap_or(Value::Null)
    };
    let mut alerts: Vec<(String, String, i64)> = out
        .rows
        .iter()
        .map(|r| {
            (
                get(r, "Esql.vm_name").to_string(),
                get(r, "Esql.extension_name").to_string(),
                get(r, "Esql.event_count").as_i64().unwrap_or(-1),
            )
        })
        .collect();
    alerts.sort();
    assert_eq!(
        alerts,
        [
            ("SS1".to_string(), "VMAccess".to_string(), 1),
            ("VM1".to_string(), "CustomScript".to_string(), 1),
        ]
    );
    let vm1 = out
        .rows
        .iter()
        .find(|r| get(r, "Esql.vm_name") == Value::str("VM1"))
        .expect("VM1 row");
    assert_eq!(
        get(vm1, "azure.resource.name"),
        Value::str("VM1/EXTENSIONS/CustomScript")
    );
    assert_eq!(get(vm1, "source.ip").to_string(), "203.0.113.7");
    assert_eq!(get(vm1, "Esql.recent_minutes"), Value::Int(5));
    assert_eq!(get(vm1, "Esql.principal_id_values"), Value::str("p-1"));
    assert_eq!(get(vm1, "Esql.source_as_number_values"), Value::Int(64500));
}
