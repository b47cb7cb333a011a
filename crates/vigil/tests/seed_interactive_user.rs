//! Elastic's "Azure VM Extension Deployment by User" rule (seed 003), verbatim from
//! `../shared/upstream/elastic/seed/`, run by the `vigil hunt` binary over native Activity Log
//! records written here: one alert per successful EXTENSIONS/WRITE by a user principal on a
//! high-risk extension family, none for service principals, failures, Start records, other
//! operations or other extensions.

mod common;

use common::{Record, hunt_ndjson, seed_rule};

#[test]
fn one_alert_per_successful_high_risk_write_by_a_user() {
    let Some(rule) =
        seed_rule("persistence_azure_vm_extension_deployment_by_interactive_user.toml")
    else {
        return;
    };
    let t0 = "2026-05-18T10:00:00";
    let mut records = Vec::new();
    let mut expected_alert_resources = Vec::new();
    // Positive cases: every extension family the rule names, by a user, successful; each
    // preceded by its Start record (which must not alert: no outcome).
    let positives = [
        ("VM-A", "VMACCESSAGENT"),
        ("VM-A", "CUSTOMSCRIPTEXTENSION"),
        ("VM-B", "RUNCOMMANDWINDOWS"),
        ("VM-B", "RUNCOMMANDLINUX"),
        ("VM-C", "MICROSOFTMONITORINGAGENT"),
        ("VM-D", "CUSTOMSCRIPTEXTENSION-V2"),
    ];
    for (i, (vm, ext)) in positives.iter().enumerate() {
        let r = Record::extension_write(vm, ext)
            .user("alice@contoso.com")
            .at(t0, i as i64 * 60);
        records.push(r.clone().start());
        records.push(r.success());
        expected_alert_resources.push(format!("{vm}/EXTENSIONS/{ext}"));
    }
    // Negative cases.
    let base = 3600;
    records.push(
        Record::extension_write("VM-E", "CUSTOMSCRIPTEXTENSION")
            .service_principal()
            .at(t0, base)
            .success(),
    );
    records.push(
        Record::extension_write("VM-E", "VMACCESSAGENT")
            .service_principal()
            .at(t0, base + 10)
            .success(),
    );
    records.push(
        Record::extension_write("VM-F", "CUSTOMSCRIPTEXTENSION")
            .user("bob@contoso.com")
            .at(t0, base + 20)
            .failure(),
    );
    records.push(
        Record::extension_write("VM-F", "DSC")
            .user("bob@contoso.com")
            .at(t0, base + 30)
            .failure(),
    );
    // `*/DSC/*` needs a `/` after DSC, which an extension's own resource id never has: the seed
    // rule does not fire for an extension named DSC (nor does Elasticsearch's wildcard query).
    records.push(
        Record::extension_write("VM-C", "DSC")
            .user("alice@contoso.com")
            .at(t0, base + 35)
            .success(),
    );
    records.push(
        Record::extension_write("VM-G", "AZUREMONITORWINDOWSAGENT")
            .user("alice@contoso.com")
            .at(t0, base + 40)
            .success(),
    );
    records.push(
        Record::extension_write("VM-G", "MDE.WINDOWS")
            .user("alice@contoso.com")
            .at(t0, base + 50)
            .success(),
    );
    // The same family on a scale set is a different operation, which this rule does not name.
    records.push(
        Record::new(
            "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS/EXTENSIONS/WRITE",
            "VIRTUALMACHINESCALESETS/VMSS-1/EXTENSIONS/CUSTOMSCRIPTEXTENSION",
        )
        .user("alice@contoso.com")
        .at(t0, base + 60)
        .success(),
    );
    records.push(
        Record::new(
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/DELETE",
            "VIRTUALMACHINES/VM-H/EXTENSIONS/CUSTOMSCRIPTEXTENSION",
        )
        .user("alice@contoso.com")
        .at(t0, base + 70)
        .success(),
    );
    records.push(
        Record::new(
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
            "VIRTUALMACHINES/VM-H",
        )
        .user("alice@contoso.com")
        .at(t0, base + 80)
        .success(),
    );

    let alerts = hunt_ndjson(&rule, &records, &[]);
    let mut got: Vec<String> = alerts
        .iter()
        .map(|a| {
            a["azure.resource.name"]
                .as_str()
                .or_else(|| a["azure"]["resource"]["name"].as_str())
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    got.sort();
    expected_alert_resources.sort();
    assert_eq!(got, expected_alert_resources);
    for a in &alerts {
        assert_eq!(
            a["kibana.alert.rule.rule_id"],
            "e842d39d-ead1-48c6-97f1-6b055476c2f3"
        );
        assert_eq!(
            a["kibana.alert.rule.name"],
            "Azure VM Extension Deployment by User"
        );
        assert_eq!(a["kibana.alert.rule.type"], "query");
        assert_eq!(a["kibana.alert.severity"], "medium");
        assert_eq!(a["kibana.alert.risk_score"], 47);
        assert_eq!(a["event"]["kind"], "signal");
        assert_eq!(a["kibana.alert.original_event.outcome"], "success");
        assert!(
            a["kibana.alert.uuid"]
                .as_str()
                .is_some_and(|u| u.len() == 64)
        );
        assert!(
            a["kibana.alert.reason"]
                .as_str()
                .unwrap_or_default()
                .ends_with("created medium alert Azure VM Extension Deployment by User.")
        );
        assert!(a["kibana.alert.original_time"].as_str().is_some());
    }
}

#[test]
fn overlapping_runs_raise_each_alert_once() {
    let Some(rule) =
        seed_rule("persistence_azure_vm_extension_deployment_by_interactive_user.toml")
    else {
        return;
    };
    // from = now-9m with a 5-minute interval: every event lies in two consecutive windows.
    let records: Vec<Record> = (0..12)
        .map(|i| {
            Record::extension_write(&format!("VM-{i}"), "CUSTOMSCRIPTEXTENSION")
                .user("alice@contoso.com")
                .at("2026-05-18T10:00:00", i * 97)
                .success()
        })
        .collect();
    let alerts = hunt_ndjson(&rule, &records, &[]);
    assert_eq!(alerts.len(), 12);
    let mut ids: Vec<&str> = alerts
        .iter()
        .filter_map(|a| a["kibana.alert.uuid"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 12);
    // The same records again (a duplicate delivery) are the same documents: still 12.
    let twice: Vec<Record> = records
        .iter()
        .cloned()
        .chain(records.iter().cloned())
        .collect();
    assert_eq!(hunt_ndjson(&rule, &twice, &[]).len(), 12);
}

#[test]
fn start_and_end_bound_the_hunt() {
    let Some(rule) =
        seed_rule("persistence_azure_vm_extension_deployment_by_interactive_user.toml")
    else {
        return;
    };
    let records: Vec<Record> = (0..6)
        .map(|i| {
            Record::extension_write(&format!("VM-{i}"), "VMACCESSAGENT")
                .user("alice@contoso.com")
                .at("2026-05-18T10:00:00", i * 3600)
                .success()
        })
        .collect();
    let alerts = hunt_ndjson(
        &rule,
        &records,
        &[
            "--start",
            "2026-05-18T11:30:00Z",
            "--end",
            "2026-05-18T14:30:00Z",
        ],
    );
    let mut hosts: Vec<&str> = alerts
        .iter()
        .filter_map(|a| a["azure"]["resource"]["name"].as_str())
        .collect();
    hosts.sort_unstable();
    assert_eq!(
        hosts,
        [
            "VM-2/EXTENSIONS/VMACCESSAGENT",
            "VM-3/EXTENSIONS/VMACCESSAGENT",
            "VM-4/EXTENSIONS/VMACCESSAGENT"
        ]
    );
}
