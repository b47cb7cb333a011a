//! The two Kusto seeds, verbatim, on Sentinel's schedule:
//!
//! * seed 002 (`AzureActivity`, every hour over the last two): script extensions and Run Command
//!   by non-IaC callers, one alert per (Caller, ResourceGroup, SubscriptionId) per run, over
//!   native Activity Log records that Vigil maps to `AzureActivity` rows;
//! * seed 004 (`DeviceFileEvents`): executables dropped by customscripthandler.exe, over
//!   Defender advanced-hunting exports (JSON and CSV) and Sysmon file creations.
//!
//! And a Sentinel YAML rule of ours for entities, custom details and the trigger.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use common::{Record, TempFile, parse_ndjson, shared_dir, vigil};
use serde_json::{Value, json};

fn sentinel_seed(name: &str) -> Option<PathBuf> {
    let p = shared_dir()?.join("upstream/sentinel").join(name);
    p.is_file().then_some(p)
}

fn hunt(rule: &std::path::Path, inputs: &[&std::path::Path], extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "hunt",
        "--rules",
        rule.to_str().expect("utf-8"),
        "--format",
        "ndjson",
    ];
    args.extend(extra);
    args.extend(inputs.iter().map(|p| p.to_str().expect("utf-8")));
    let out = vigil(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_ndjson(&out.stdout)
}

/// An extension write whose response names the extension's type, as Azure logs it.
fn script_extension(vm: &str, ext: &str, ext_type: &str, secs: i64) -> Record {
    let body = json!({"name": ext, "properties": {"publisher": "Microsoft.Compute", "type": ext_type,
        "typeHandlerVersion": "1.10", "provisioningState": "Succeeded"}});
    Record::extension_write(vm, ext)
        .at("2026-05-18T10:00:00", secs)
        .properties(
            json!({"statusCode": "OK", "eventCategory": "Administrative",
            "responseBody": body.to_string()}),
        )
}

fn run_command(vm: &str, secs: i64) -> Record {
    Record::new(
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
        &format!("VIRTUALMACHINES/{vm}"),
    )
    .at("2026-05-18T10:00:00", secs)
}

#[test]
fn seed_002_one_alert_per_caller_group_per_run() {
    let Some(rule) = sentinel_seed("seed-002-vm-custom-script-extension-or-run-command.kql") else {
        return;
    };
    let records = vec![
        script_extension(
            "VM-A",
            "CustomScriptExtension",
            "CustomScriptExtension",
            600,
        )
        .user("alice@contoso.com")
        .success(),
        run_command("VM-B", 1200)
            .user("alice@contoso.com")
            .success(),
        // Start records are not successes.
        script_extension(
            "VM-C",
            "CustomScriptExtension",
            "CustomScriptExtension",
            1300,
        )
        .user("alice@contoso.com")
        .start(),
        // IaC callers, failures and the platform's addresses are left out.
        script_extension("VM-D", "CSE", "CustomScriptExtension", 700)
            .user("terraform-deployer@contoso.com")
            .success(),
        run_command("VM-E", 800)
            .user("svc-devops@contoso.com")
            .success(),
        script_extension("VM-F", "CSE", "CustomScriptForLinux", 900)
            .user("bob@contoso.com")
            .failure(),
        script_extension("VM-G", "CSE", "CustomScriptExtension", 1000)
            .user("carol@contoso.com")
            .ip("168.63.129.16")
            .success(),
        run_command("VM-H", 1100)
            .user("dave@contoso.com")
            .ip("169.254.169.254")
            .success(),
        // Not a script extension.
        script_extension("VM-I", "MDE.Windows", "MDE.Windows", 1150)
            .user("erin@contoso.com")
            .success(),
        // Another caller, a Linux script extension.
        script_extension(
            "VM-J",
            "CustomScript",
            "Microsoft.Azure.Extensions.CustomScript",
            1400,
        )
        .user("frank@contoso.com")
        .ip("12.81.92.5")
        .success(),
    ];
    let input = TempFile::ndjson(&records);
    let alerts = hunt(
        &rule,
        &[&input.0],
        &[
            "--start",
            "2026-05-18T10:00:00Z",
            "--end",
            "2026-05-18T13:00:00Z",
        ],
    );

    let mut per_run: BTreeMap<(String, String), &Value> = BTreeMap::new();
    for a in &alerts {
        let key = (
            a["@timestamp"].as_str().unwrap_or("?").to_string(),
            a["Caller"].as_str().unwrap_or("?").to_string(),
        );
        assert!(
            per_run.insert(key.clone(), a).is_none(),
            "two alerts for {key:?} in one run"
        );
        assert_eq!(a["ResourceGroup"], "RG-TEST");
        assert_eq!(a["SubscriptionId"], common::SUBSCRIPTION);
    }
    let keys: BTreeSet<(&str, &str)> = per_run
        .keys()
        .map(|(t, c)| (t.as_str(), c.as_str()))
        .collect();
    // Events at 10:10–10:23 are in the 2-hour period of the runs at 11:00 and 12:00.
    assert_eq!(
        keys,
        BTreeSet::from([
            ("2026-05-18T11:00:00.000Z", "alice@contoso.com"),
            ("2026-05-18T11:00:00.000Z", "frank@contoso.com"),
            ("2026-05-18T12:00:00.000Z", "alice@contoso.com"),
            ("2026-05-18T12:00:00.000Z", "frank@contoso.com"),
        ]),
        "{alerts:#?}"
    );
    let alice = per_run[&(
        "2026-05-18T11:00:00.000Z".to_string(),
        "alice@contoso.com".to_string(),
    )];
    assert_eq!(alice["ExecutionCount"], 2);
    let set = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        set(&alice["AffectedVMs"]),
        BTreeSet::from(["VM-A".to_string(), "VM-B".to_string()])
    );
    assert!(set(&alice["ExtensionTypes"]).contains("RunCommand"));
    assert_eq!(
        set(&alice["SourceIPs"]),
        BTreeSet::from(["81.2.69.160".to_string()])
    );
    assert_eq!(alice["AccountName"], "alice");
    assert_eq!(alice["AccountUPNSuffix"], "contoso.com");
    let first: jiff::Timestamp = alice["FirstSeen"]
        .as_str()
        .expect("FirstSeen")
        .parse()
        .expect("a time");
    assert_eq!(
        first,
        "2026-05-18T10:10:00.1234567Z"
            .parse::<jiff::Timestamp>()
            .expect("time")
    );
    assert_eq!(alice["kibana.alert.rule.type"], "sentinel_scheduled");
    assert_eq!(alice["kibana.alert.severity"], "high");
    let frank = per_run[&(
        "2026-05-18T11:00:00.000Z".to_string(),
        "frank@contoso.com".to_string(),
    )];
    assert_eq!(frank["ExecutionCount"], 1);
    assert_eq!(
        set(&frank["AffectedVMs"]),
        BTreeSet::from(["VM-J".to_string()])
    );
}

/// A Defender advanced-hunting `DeviceFileEvents` row.
fn file_event(
    device: &str,
    secs: i64,
    action: &str,
    file: &str,
    initiator: &str,
    file_type: Option<&str>,
) -> Value {
    let t: jiff::Timestamp = "2026-05-18T10:00:00Z".parse().expect("time");
    let time = (t + jiff::SignedDuration::from_secs(secs)).to_string();
    let mut row = json!({
        "Timestamp": time, "DeviceId": format!("id-{device}"), "DeviceName": device,
        "ActionType": action, "FileName": file, "FolderPath": format!(r"C:\Packages\Plugins\Downloads\{file}"),
        "InitiatingProcessFileName": initiator, "InitiatingProcessFolderPath": r"C:\Packages\Plugins\Microsoft.Compute.CustomScriptExtension\1.10.15\bin",
        "ReportId": secs,
    });
    if let Some(ft) = file_type {
        row["AdditionalFields"] = json!({"FileType": ft});
    }
    row
}

#[test]
fn seed_004_executable_drops_by_the_handler() {
    let Some(rule) = sentinel_seed("seed-004-customscript-executable-drops.kql") else {
        return;
    };
    let handler = "CustomScriptHandler.exe";
    let rows = [
        file_event("vm1", 600, "FileCreated", "payload.exe", handler, None), // alert
        file_event("vm1", 610, "FileCreated", "setup.ps1", handler, None),   // script: none
        file_event(
            "vm1",
            620,
            "FileCreated",
            "blob.bin",
            "customscripthandler.exe",
            Some("PortableExecutable"),
        ), // alert
        file_event("vm1", 630, "FileCreated", "evil.exe", "explorer.exe", None), // other initiator: none
        file_event("vm1", 640, "FileModified", "evil.dll", handler, None), // not a creation: none
        file_event(
            "vm1",
            650,
            "FileCreated",
            "notes.txt",
            handler,
            Some("Text"),
        ), // none
    ];
    let mut json_text = String::new();
    for r in &rows {
        json_text.push_str(&r.to_string());
        json_text.push('\n');
    }
    let json_input = TempFile::with_bytes("ndjson", json_text.as_bytes());
    // A CSV export from another device: every cell is text, AdditionalFields JSON text.
    let csv = "Timestamp,DeviceId,DeviceName,ActionType,FileName,FolderPath,InitiatingProcessFileName,AdditionalFields\n\
        2026-05-18T10:20:00.1234567Z,id-vm2,vm2,FileCreated,installer.msi,C:\\Packages\\x\\installer.msi,CustomScriptHandler.exe,\n\
        2026-05-18T10:21:00Z,id-vm2,vm2,FileCreated,run.sh,C:\\Packages\\x\\run.sh,CustomScriptHandler.exe,\"{\"\"FileType\"\":\"\"Text\"\"}\"\n";
    let csv_input = TempFile::with_bytes("csv", csv.as_bytes());
    // Sysmon file creations (Event ID 11) are DeviceFileEvents rows too.
    let sysmon = json!({"Event": {
        "System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}, "EventID": 11,
                   "Computer": "vm3", "Channel": "Microsoft-Windows-Sysmon/Operational", "EventRecordID": 9},
        "EventData": {"UtcTime": "2026-05-18 10:30:00.000", "ProcessGuid": "{G}", "ProcessId": "77",
                      "Image": r"C:\Packages\Plugins\Microsoft.Compute.CustomScriptExtension\1.10.15\bin\CustomScriptHandler.exe",
                      "TargetFilename": r"C:\Windows\Temp\tool.exe"}}});
    let sysmon_input = TempFile::with_bytes("json", format!("{sysmon}\n").as_bytes());

    let alerts = hunt(
        &rule,
        &[&json_input.0, &csv_input.0, &sysmon_input.0],
        &[
            "--start",
            "2026-05-18T10:00:00Z",
            "--end",
            "2026-05-18T11:00:00Z",
        ],
    );
    let files: BTreeSet<(&str, &str)> = alerts
        .iter()
        .map(|a| {
            (
                a["DeviceName"].as_str().unwrap_or("?"),
                a["FileName"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        files,
        BTreeSet::from([
            ("vm1", "payload.exe"),
            ("vm1", "blob.bin"),
            ("vm2", "installer.msi"),
            ("vm3", "tool.exe")
        ]),
        "{alerts:#?}"
    );
    assert_eq!(alerts.len(), 4, "one alert per row, once");
    let blob = alerts
        .iter()
        .find(|a| a["FileName"] == "blob.bin")
        .expect("blob.bin");
    assert_eq!(blob["FileType"], "PortableExecutable");
}

#[test]
fn sentinel_yaml_entities_custom_details_and_trigger() {
    let rule = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sentinel/sentinel_runcommand_several_vms.yaml");
    let records = vec![
        run_command("VM-A", 300)
            .user("alice@contoso.com")
            .ip("12.81.92.5")
            .success(),
        run_command("VM-B", 420)
            .user("alice@contoso.com")
            .ip("12.81.92.5")
            .success(),
        run_command("VM-C", 500).user("bob@contoso.com").success(), // one VM: no row
    ];
    let input = TempFile::ndjson(&records);
    let alerts = hunt(
        &rule,
        &[&input.0],
        &[
            "--start",
            "2026-05-18T10:00:00Z",
            "--end",
            "2026-05-18T10:30:00Z",
        ],
    );
    // Runs every 30 minutes over the last hour: 10:30 sees alice's two VMs.
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a["Caller"], "alice@contoso.com");
    assert_eq!(a["VMCount"], 2);
    assert_eq!(
        a["kibana.alert.rule.name"],
        "Run Command invoked on several VMs by one caller"
    );
    assert_eq!(a["kibana.alert.severity"], "medium");
    assert_eq!(
        a["sentinel.alert.entities"],
        json!([{"Type": "Account", "FullName": "alice@contoso.com"}, {"Type": "IP", "Address": "12.81.92.5"}])
    );
    let vms = &a["sentinel.alert.custom_details"]["VirtualMachines"];
    assert_eq!(
        vms.as_array().map(Vec::len),
        Some(1),
        "one value per result row: {vms}"
    );
    assert_eq!(a["sentinel.alert.result_count"], 1);
}
