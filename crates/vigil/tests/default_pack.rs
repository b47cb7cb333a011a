//! `vigil hunt examples/` with the built-in pack: the attack hidden in the examples raises the
//! pack's alerts, one of them the correlated control-plane + endpoint alert, and the tenant's
//! automation (service principals, the DSC check, patching) raises none.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{parse_ndjson, vigil};
use serde_json::Value;

const ATTACKER: &str = "m.ortiz@contoso.com";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hunt(extra: &[&str]) -> Vec<Value> {
    let examples = root().join("examples");
    let mut args = vec!["hunt", "--format", "ndjson"];
    args.extend(extra);
    args.push(examples.to_str().expect("utf-8"));
    let out = vigil(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_ndjson(&out.stdout)
}

fn per_rule(alerts: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in alerts {
        let name = a["kibana.alert.rule.name"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        *m.entry(name).or_insert(0) += 1;
    }
    m
}

/// Every alert (or, for sequences, every alert group) holds the attacker's activity: the
/// attacker's Azure calls or the attacked host's process and file events after the attack began.
fn assert_all_attack(alerts: &[Value]) {
    let mut groups: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for (i, a) in alerts.iter().enumerate() {
        let key = a["kibana.alert.group.id"]
            .as_str()
            .map_or_else(|| format!("single-{i}"), str::to_string);
        groups.entry(key).or_default().push(a);
    }
    for (key, members) in groups {
        let attack = members.iter().any(|a| {
            let text = a.to_string();
            text.contains(ATTACKER)
                || (text.contains("VM-PROD-SQL-01") && text.contains("2026-05-18T22:4"))
        });
        assert!(attack, "alert {key} holds no attack activity: {members:#?}");
    }
}

#[test]
fn default_pack_over_examples() {
    let alerts = hunt(&[]);
    let counts = per_rule(&alerts);
    let expected: BTreeMap<String, usize> = [
        ("Azure VM Script-Capable Extension Deployed by a User", 2),
        // The person's MMA install at 10:12 is first seen too (a human, not automation).
        ("Azure VM Extension Name First Seen on a Virtual Machine", 3),
        ("Azure VM Extension Rewritten by a User After Deployment", 3),
        ("Azure VM Extension Removed Shortly After Deployment", 3),
        (
            "Azure VM Script Extension or Run Command Used by a Person",
            1,
        ),
        (
            "Suspicious Process Below an Azure VM Extension Handler on Windows",
            3,
        ),
        ("Executable Written by an Azure VM Extension Handler", 1),
        (
            "Azure VM Extension Write Followed by Guest Agent Process Activity on the Same Host",
            1,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(counts, expected, "{alerts:#?}");

    let first_seen: Vec<&Value> = alerts
        .iter()
        .filter(|a| {
            a["kibana.alert.rule.name"] == "Azure VM Extension Name First Seen on a Virtual Machine"
        })
        .collect();
    let benign_admin = first_seen
        .iter()
        .filter(|a| a.to_string().contains("p.nakamura@contoso.com"))
        .count();
    assert_eq!(
        benign_admin, 1,
        "only the admin's agent install besides the attack"
    );
    let others: Vec<Value> = alerts
        .iter()
        .filter(|a| !a.to_string().contains("p.nakamura@contoso.com"))
        .cloned()
        .collect();
    assert_all_attack(&others);

    let correlated: Vec<&Value> = alerts
        .iter()
        .filter(|a| {
            a["kibana.alert.rule.name"]
                == "Azure VM Extension Write Followed by Guest Agent Process Activity on the Same Host"
        })
        .collect();
    let c = correlated[0];
    assert_eq!(c["Caller"], ATTACKER);
    assert_eq!(c["CallerIpAddress"], "203.0.113.77");
    assert_eq!(c["VMName"], "vm-prod-sql-01");
    assert_eq!(c["DeviceName"], "VM-PROD-SQL-01.contoso.internal");
    let cmds = c["CommandLines"].to_string();
    assert!(
        cmds.contains("localgroup administrators svc_sqlbak /add"),
        "{cmds}"
    );
    assert!(cmds.contains("svchost-update.exe -install"), "{cmds}");

    let drop = alerts
        .iter()
        .find(|a| {
            a["kibana.alert.rule.name"] == "Executable Written by an Azure VM Extension Handler"
        })
        .expect("drop alert");
    assert_eq!(drop["FileName"], "svchost-update.exe");
}

#[test]
fn unusual_network_rule_with_an_asn_database() {
    // The day before 20:00 is the rule's history; the attacker's hosting network is new.
    let asn = root().join("rules/azure/data/example-asn.tsv");
    let alerts = hunt(&[
        "--asn-db",
        asn.to_str().expect("utf-8"),
        "--start",
        "2026-05-18T20:00:00Z",
    ]);
    let asn_alerts: Vec<&Value> = alerts
        .iter()
        .filter(|a| {
            a["kibana.alert.rule.name"]
                == "Azure VM Extension Operation from a Network New for the Caller"
        })
        .collect();
    assert_eq!(asn_alerts.len(), 1, "{asn_alerts:#?}");
    assert_eq!(asn_alerts[0]["source"]["ip"], "203.0.113.77");
    assert_eq!(asn_alerts[0]["source"]["as"]["number"], 64511);
    assert_all_attack(&alerts);
}
