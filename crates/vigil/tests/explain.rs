//! `vigil explain`: the failing condition for one rule of each language, the state a sequence
//! or an aggregation meets, and the verdict agreeing with `vigil hunt` over many events.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{Record, TempFile, parse_ndjson, vigil};
use serde_json::Value;

const EXT_WRITE: &str = "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE";
const RUN_COMMAND: &str = "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION";

fn fixture(name: &str) -> String {
    PathBuf::from("tests/fixtures/explain")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn ext_write() -> Record {
    Record::extension_write("VM-A", "CustomScriptExtension").at("2026-05-18T10:00:00", 0)
}

fn run_command() -> Record {
    Record::new(RUN_COMMAND, "VIRTUALMACHINES/VM-A").at("2026-05-18T10:00:00", 0)
}

/// `vigil explain --format json` of one inline event: one document per record.
fn explain_json(rule: &str, event: &Record, extra: &[&str]) -> Vec<Value> {
    let ev = event.to_json().to_string();
    let mut args = vec![
        "explain", "--rule", rule, "--format", "json", "--event", &ev,
    ];
    args.extend(extra);
    let out = vigil(&args);
    assert!(
        out.status.success(),
        "vigil explain failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_ndjson(&out.stdout)
}

fn explain_text(rule: &str, event: &Record) -> String {
    let ev = event.to_json().to_string();
    let out = vigil(&["explain", "--rule", rule, "--event", &ev]);
    assert!(
        out.status.success(),
        "vigil explain failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The record's verdict and its first failing condition.
fn verdict(doc: &Value) -> (&str, &str) {
    (
        doc["verdict"].as_str().unwrap_or_default(),
        doc["failing"].as_str().unwrap_or_default(),
    )
}

#[test]
fn kuery_names_the_failing_condition() {
    let docs = explain_json(
        &fixture("kuery_extension_write.toml"),
        &ext_write().failure(),
        &[],
    );
    assert_eq!(docs.len(), 1);
    let (v, failing) = verdict(&docs[0]);
    assert_eq!(v, "no_alert");
    assert!(
        failing.contains("`event.outcome:success`")
            && failing.contains("event.outcome = \"failure\""),
        "{failing}"
    );
    // The same event with the condition met alerts.
    let docs = explain_json(&fixture("kuery_extension_write.toml"), &ext_write(), &[]);
    assert_eq!(verdict(&docs[0]), ("alert", ""));
}

#[test]
fn kuery_negation_on_a_service_principal() {
    let docs = explain_json(
        &fixture("kuery_extension_write.toml"),
        &ext_write().service_principal(),
        &[],
    );
    let (v, failing) = verdict(&docs[0]);
    assert_eq!(v, "no_alert");
    assert!(
        failing.starts_with(
            "fails at `not azure.activitylogs.identity.authorization.evidence.principal_type:ServicePrincipal`"
        ),
        "{failing}"
    );
}

#[test]
fn eql_names_the_failing_condition() {
    let docs = explain_json(
        &fixture("eql_run_command.toml"),
        &run_command().ip("10.20.30.40"),
        &[],
    );
    let (v, failing) = verdict(&docs[0]);
    assert_eq!(v, "no_alert");
    assert!(
        failing.contains("`not cidrmatch(source.ip, \"10.0.0.0/8\")`")
            && failing.contains("source.ip = \"10.20.30.40\""),
        "{failing}"
    );
}

#[test]
fn esql_names_the_failing_condition() {
    let docs = explain_json(&fixture("esql_failed_write.toml"), &ext_write(), &[]);
    let (v, failing) = verdict(&docs[0]);
    assert_eq!(v, "no_alert");
    assert!(
        failing.contains("`event.outcome == \"failure\"`")
            && failing.contains("event.outcome = \"success\""),
        "{failing}"
    );
    // The second WHERE dropped the event; the first one kept it.
    let stages = docs[0]["views"][0]["stages"].as_array().expect("stages");
    let filters: Vec<(u64, bool)> = stages
        .iter()
        .filter(|s| s["operator"].as_str().unwrap_or("").starts_with("Filter"))
        .map(|s| (s["rows_out"].as_u64().unwrap_or(9), s["drops"] == true))
        .collect();
    assert_eq!(filters, [(1, false), (0, true)]);
}

#[test]
fn kusto_names_the_failing_condition() {
    let docs = explain_json(
        &fixture("kusto_extension_write.yaml"),
        &ext_write().start(),
        &[],
    );
    let (v, failing) = verdict(&docs[0]);
    assert_eq!(v, "no_alert");
    assert_eq!(docs[0]["views"][0]["view"], "AzureActivity");
    assert!(
        failing.contains("`ActivityStatusValue =~ \"Success\"`")
            && failing.contains("ActivityStatusValue = \"Start\""),
        "{failing}"
    );
    let docs = explain_json(&fixture("kusto_extension_write.yaml"), &ext_write(), &[]);
    assert_eq!(verdict(&docs[0]).0, "alert");
}

#[test]
fn esql_null_from_a_missing_field_is_shown() {
    // No `source.ip`: ES|QL's CIDR_MATCH gives null, NOT null is null, and the row is dropped.
    let mut rec = ext_write().failure().to_json();
    rec.as_object_mut()
        .expect("object")
        .remove("callerIpAddress");
    let ev = rec.to_string();
    let out = vigil(&[
        "explain",
        "--rule",
        &fixture("esql_failed_write.toml"),
        "--format",
        "json",
        "--event",
        &ev,
    ]);
    let docs = parse_ndjson(&out.stdout);
    let (v, failing) = verdict(&docs[0]);
    assert_eq!(v, "no_alert");
    assert!(
        failing.contains("NOT CIDR_MATCH(source.ip, \"10.0.0.0/8\")")
            && failing.contains("(null)")
            && failing.contains("source.ip = missing"),
        "{failing}"
    );
}

#[test]
fn sequence_says_which_step_the_event_fills() {
    let docs = explain_json(&fixture("eql_sequence.toml"), &ext_write(), &[]);
    assert_eq!(docs[0]["verdict"], "depends");
    let seq = docs[0]["views"][0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s.get("steps").is_some())
        .expect("a sequence stage");
    let fills: Vec<bool> = seq["steps"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["fills"] == true)
        .collect();
    assert_eq!(fills, [true, false]);
    assert_eq!(seq["steps"]["until"]["fills"], false);
    assert_eq!(
        seq["steps"]["steps"][0]["keys"][0]["value"],
        "alice@contoso.com"
    );

    // A failed write fills no step: the sequence drops it, naming each step's failure.
    let docs = explain_json(&fixture("eql_sequence.toml"), &ext_write().failure(), &[]);
    let (v, failing) = verdict(&docs[0]);
    assert_eq!(v, "no_alert");
    assert!(
        failing.contains("`event.outcome == \"success\"`"),
        "{failing}"
    );
}

#[test]
fn aggregation_names_the_group_and_what_follows() {
    let docs = explain_json(&fixture("esql_busy_writer.toml"), &ext_write(), &[]);
    assert_eq!(docs[0]["verdict"], "depends");
    let stages = docs[0]["views"][0]["stages"].as_array().expect("stages");
    let agg = stages
        .iter()
        .find(|s| s.get("aggregate").is_some())
        .expect("an aggregate stage");
    assert_eq!(agg["aggregate"]["groups"][0][0]["key"], "user");
    assert_eq!(
        agg["aggregate"]["groups"][0][0]["value"],
        "alice@contoso.com"
    );
    let deferred: Vec<&str> = stages
        .iter()
        .filter_map(|s| s["deferred"].as_str())
        .collect();
    assert_eq!(deferred[0], "writes >= 3");
}

#[test]
fn sentinel_summarize_and_trigger() {
    let rule = "tests/fixtures/sentinel/sentinel_runcommand_several_vms.yaml";
    let docs = explain_json(rule, &run_command(), &[]);
    assert_eq!(docs[0]["verdict"], "depends");
    let text = explain_text(rule, &run_command());
    assert!(
        text.contains("joins group (Caller=\"alice@contoso.com\")"),
        "{text}"
    );
    assert!(text.contains("then: VMCount >= 2"), "{text}");
    // `extend VMName = …` is shown with its value for the event.
    assert!(text.contains("VMName = \"VM-A\""), "{text}");
}

#[test]
fn text_tree_snapshot() {
    let text = explain_text(
        &fixture("kuery_extension_write.toml"),
        &ext_write().failure(),
    );
    insta::assert_snapshot!(text);
}

#[test]
fn rule_found_by_id_among_rules() {
    let ev = ext_write().failure().to_json().to_string();
    let out = vigil(&[
        "explain",
        "--rules",
        "tests/fixtures/explain",
        "--rule",
        "00000000-0000-4000-8000-0000000e0001",
        "--format",
        "json",
        "--event",
        &ev,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = parse_ndjson(&out.stdout);
    assert_eq!(
        docs[0]["rule"]["name"],
        "Explain test: extension write by a user"
    );
    let out = vigil(&["explain", "--rule", "no-such-rule", "--event", &ev]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rule file `no-such-rule`"));
}

/// Events of every combination of operation, outcome, principal and address, one a minute.
fn population() -> Vec<Record> {
    let ops = [
        (EXT_WRITE, "VIRTUALMACHINES/VM-A/EXTENSIONS/CSE"),
        (
            "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS/EXTENSIONS/WRITE",
            "VIRTUALMACHINESCALESETS/SS-1/EXTENSIONS/DSC",
        ),
        (RUN_COMMAND, "VIRTUALMACHINES/VM-B"),
        (
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
            "VIRTUALMACHINES/VM-C",
        ),
    ];
    let mut out = Vec::new();
    let mut minute = 0;
    for round in 0..2 {
        for (op, tail) in ops {
            for outcome in 0..3 {
                for sp in [false, true] {
                    for ip in ["81.2.69.160", "10.9.8.7", "192.168.1.20"] {
                        let mut r = Record::new(op, tail)
                            .at("2026-05-18T08:00:00", minute * 60 + round)
                            .ip(ip);
                        minute += 1;
                        r = match outcome {
                            0 => r.success(),
                            1 => r.failure(),
                            _ => r.start(),
                        };
                        if sp {
                            r = r.service_principal();
                        }
                        out.push(r);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn explain_verdicts_agree_with_hunt() {
    let events = population();
    let input = TempFile::ndjson(&events);
    let path = input.0.to_str().expect("utf-8 path");
    let minute_of = |t: &str| t.get(..16).unwrap_or(t).to_string();
    for rule in [
        "kuery_extension_write.toml",
        "eql_run_command.toml",
        "esql_failed_write.toml",
        "kusto_extension_write.yaml",
    ] {
        let rule = fixture(rule);
        let out = vigil(&["hunt", "--rules", &rule, "--format", "ndjson", "-q", path]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let hunted: BTreeSet<String> = parse_ndjson(&out.stdout)
            .iter()
            .map(|a| minute_of(a["kibana.alert.original_time"].as_str().unwrap_or("")))
            .collect();

        let out = vigil(&["explain", "--rule", &rule, "--format", "json", path]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let docs = parse_ndjson(&out.stdout);
        assert_eq!(docs.len(), events.len());
        let mut explained = BTreeSet::new();
        for d in &docs {
            let verdict = d["verdict"].as_str().unwrap_or("");
            assert_ne!(verdict, "depends", "{rule}: query rules decide alone");
            if verdict == "alert" {
                let time = d["views"]
                    .as_array()
                    .and_then(|v| v.iter().find_map(|v| v["time"].as_str()))
                    .unwrap_or("");
                explained.insert(minute_of(time));
            }
        }
        eprintln!(
            "{rule}: {} of {} events alert (hunt {})",
            explained.len(),
            events.len(),
            hunted.len()
        );
        assert!(!explained.is_empty() && explained.len() < events.len());
        assert_eq!(explained, hunted, "{rule}: explain and hunt disagree");
    }
}

/// A Sysmon process creation (Event ID 1) as the EVTX reader gives it.
fn sysmon(
    secs: u32,
    guid: &str,
    pid: u32,
    image: &str,
    cmd: &str,
    parent: (&str, u32, &str),
) -> Value {
    serde_json::json!({"Event": {
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": 1, "Computer": "host-a", "Channel": "Microsoft-Windows-Sysmon/Operational",
            "EventRecordID": pid,
        },
        "EventData": {
            "UtcTime": format!("2026-05-18 10:00:{secs:02}.000"), "ProcessGuid": guid,
            "ProcessId": pid.to_string(), "Image": image, "CommandLine": cmd,
            "User": "NT AUTHORITY\\SYSTEM", "ParentProcessGuid": parent.0,
            "ParentProcessId": parent.1.to_string(), "ParentImage": parent.2,
        }
    }})
}

#[test]
fn sysmon_events_are_explained_as_endpoint_documents() {
    let handler = r"C:\Packages\Plugins\Microsoft.Compute.CustomScriptExtension\1.10\bin\CustomScriptHandler.exe";
    let ps = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
    // Out of time order: the lineage is rebuilt in time order, as hunt does.
    let records = [
        sysmon(
            5,
            "{B}",
            200,
            ps,
            "powershell.exe -NoProfile -EncodedCommand SQBFAFgA",
            ("{A}", 100, handler),
        ),
        sysmon(
            1,
            "{A}",
            100,
            handler,
            "CustomScriptHandler.exe",
            ("{Z}", 4, r"C:\Windows\System32\services.exe"),
        ),
        sysmon(
            9,
            "{C}",
            300,
            ps,
            "powershell.exe -File x.ps1",
            ("{A}", 100, handler),
        ),
    ];
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    let input = TempFile::with_bytes("ndjson", text.as_bytes());
    let rule = fixture("eql_sysmon_encoded_powershell.toml");
    let out = vigil(&[
        "explain",
        "--rule",
        &rule,
        "--format",
        "json",
        input.0.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = parse_ndjson(&out.stdout);
    let got: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| (d["kind"].as_str().unwrap_or(""), verdict(d).0))
        .collect();
    assert_eq!(
        got,
        [
            ("Sysmon event", "alert"),
            ("Sysmon event", "no_alert"),
            ("Sysmon event", "no_alert")
        ]
    );
    assert!(
        verdict(&docs[1])
            .1
            .contains("`process.name : \"powershell.exe\"`")
    );
    assert!(
        verdict(&docs[2])
            .1
            .contains("`process.command_line : \"* -EncodedCommand *\"`")
    );
}

#[test]
fn events_from_standard_input() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "explain",
            "--rule",
            &fixture("kuery_extension_write.toml"),
            "--format",
            "json",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run vigil");
    let body = format!(
        "{{\"records\": [{}, {}]}}",
        ext_write().to_json(),
        ext_write().failure().to_json()
    );
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let docs = parse_ndjson(&out.stdout);
    let verdicts: Vec<&str> = docs.iter().map(|d| verdict(d).0).collect();
    assert_eq!(verdicts, ["alert", "no_alert"]);
}

#[test]
fn threshold_and_new_terms_say_what_they_need() {
    let docs = explain_json(
        "tests/fixtures/rules/threshold_busy_user.toml",
        &ext_write(),
        &[],
    );
    assert_eq!(docs[0]["verdict"], "depends");
    let note = docs[0]["views"][0]["notes"][0].as_str().unwrap_or("");
    assert!(
        note.contains("claims_initiated_by_user.name=alice@contoso.com")
            && note.contains("at least 3 events"),
        "{note}"
    );
    let docs = explain_json(
        "tests/fixtures/rules/new_terms_resource_ip.toml",
        &ext_write(),
        &[],
    );
    assert_eq!(docs[0]["verdict"], "depends");
    let note = docs[0]["views"][0]["notes"][0].as_str().unwrap_or("");
    assert!(note.contains("source.ip=81.2.69.160"), "{note}");
}
