//! Elastic's "Azure VM Extension CRUD Operation with Unusual Source ASN" (seed 001, new_terms on
//! `azure.resource.name` × `source.as.number`, history `now-7d`), verbatim, over an 8-day scenario
//! of native records written here. Source ASNs come from MaxMind's test ASN database and Vigil's
//! fixture of Microsoft's ASNs (../shared/samples).
//!
//! The hunt searches the last day; the seven days before it are the history the rule compares
//! against, as Kibana's history query would read them from the index.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{Record, TempFile, parse_ndjson, seed_rule, shared_dir, vigil};

const RULE: &str = "execution_azure_vm_extension_crud_unusual_source.toml";

fn asn_dbs() -> Option<Vec<PathBuf>> {
    let s = shared_dir()?.join("samples");
    Some(vec![
        s.join("asn-fixture/vigil-asn-fixture.mmdb"),
        s.join("maxmind/GeoLite2-ASN-Test.mmdb"),
    ])
}

fn ext(vm: &str, ext: &str, ip: &str, day: i64, secs: i64) -> Record {
    Record::extension_write(vm, ext)
        .ip(ip)
        .at("2026-05-11T00:00:00", day * 86_400 + secs)
}

/// The 8-day scenario: history on days 0–6, the hunted day is day 7.
fn scenario() -> Vec<Record> {
    let telstra = "1.128.0.10"; // AS1221 (MaxMind test data)
    let att = "12.81.92.5"; // AS7018
    let mit = "18.1.2.3"; // AS3
    let akamai = "23.32.1.1"; // AS35994
    let microsoft = "20.1.2.3"; // AS8075 (fixture)
    let microsoft_3598 = "131.107.1.1"; // AS3598 (fixture)
    let tor = "185.220.101.45"; // AS208294 (fixture)
    let mut r = Vec::new();
    // History.
    for day in 0..7 {
        r.push(ext("VM-A", "CUSTOMSCRIPTEXTENSION", telstra, day, 3600).start());
        r.push(ext("VM-A", "CUSTOMSCRIPTEXTENSION", telstra, day, 3700).success());
        r.push(ext("VM-M", "MDE.WINDOWS", microsoft, day, 7200).success());
    }
    r.push(ext("VM-B", "DSC", att, 2, 40_000).success());
    r.push(ext("VM-E", "VMACCESSAGENT", mit, 0, 600).success()); // over 7 days before day 7's event
    // Day 7.
    r.push(ext("VM-A", "CUSTOMSCRIPTEXTENSION", telstra, 7, 3700).success()); // seen: no alert
    r.push(ext("VM-B", "DSC", att, 7, 5000).success()); // seen on day 2: no alert
    r.push(ext("VM-A", "CUSTOMSCRIPTEXTENSION", att, 7, 9000).start()); // Start: no outcome
    r.push(ext("VM-A", "CUSTOMSCRIPTEXTENSION", att, 7, 9100).success()); // new ASN for VM-A: alert
    r.push(ext("VM-A", "CUSTOMSCRIPTEXTENSION", att, 7, 30_000).success()); // same pair again: no
    r.push(ext("VM-D", "VMACCESSAGENT", akamai, 7, 12_000).success()); // new extension: alert
    r.push(ext("VM-E", "VMACCESSAGENT", mit, 7, 14_000).success()); // last seen > 7 d ago: alert
    r.push(ext("VM-M", "MDE.WINDOWS", microsoft, 7, 7200).success()); // Microsoft: excluded
    r.push(ext("VM-N", "CUSTOMSCRIPTEXTENSION", microsoft_3598, 7, 7300).success()); // Microsoft: excluded
    r.push(ext("VM-F", "RUNCOMMANDWINDOWS", tor, 7, 20_000).failure()); // failure: no alert
    r.push(ext("VM-G", "CUSTOMSCRIPTEXTENSION", "10.1.2.3", 7, 21_000).success()); // no ASN: no alert
    r.push(
        Record::new(
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/DELETE",
            "VIRTUALMACHINES/VM-D/EXTENSIONS/VMACCESSAGENT",
        )
        .ip(tor)
        .at("2026-05-11T00:00:00", 7 * 86_400 + 25_000)
        .success(),
    ); // delete from Tor: new pair, alert
    r.push(
        Record::new(
            "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS/EXTENSIONS/WRITE",
            "VIRTUALMACHINESCALESETS/VMSS-1/EXTENSIONS/DSC",
        )
        .ip(akamai)
        .at("2026-05-11T00:00:00", 7 * 86_400 + 26_000)
        .success(),
    ); // scale set: alert
    r.push(
        Record::new(
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
            "VIRTUALMACHINES/VM-H",
        )
        .ip(tor)
        .at("2026-05-11T00:00:00", 7 * 86_400 + 27_000)
        .success(),
    ); // not an extension operation
    r
}

fn hunt(records: &[Record], extra: &[&str]) -> Option<Vec<serde_json::Value>> {
    let rule = seed_rule(RULE)?;
    let dbs = asn_dbs()?;
    let input = TempFile::ndjson(records);
    let mut args: Vec<String> = vec![
        "hunt".into(),
        "--rules".into(),
        rule.display().to_string(),
        "--format".into(),
        "ndjson".into(),
    ];
    for d in &dbs {
        args.push("--asn-db".into());
        args.push(d.display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(input.0.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = vigil(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(parse_ndjson(&out.stdout))
}

fn pairs(alerts: &[serde_json::Value]) -> BTreeSet<(String, i64)> {
    alerts
        .iter()
        .map(|a| {
            let t = &a["kibana.alert.new_terms"];
            (
                t[0].as_str().unwrap_or("?").to_string(),
                t[1].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

#[test]
fn alerts_on_pairs_first_seen_on_the_hunted_day() {
    let Some(alerts) = hunt(
        &scenario(),
        &[
            "--start",
            "2026-05-18T00:00:00Z",
            "--end",
            "2026-05-18T23:59:59Z",
        ],
    ) else {
        return;
    };
    let expected: BTreeSet<(String, i64)> = [
        ("VM-A/EXTENSIONS/CUSTOMSCRIPTEXTENSION", 7018),
        ("VM-D/EXTENSIONS/VMACCESSAGENT", 35994),
        ("VM-E/EXTENSIONS/VMACCESSAGENT", 3),
        ("VM-D/EXTENSIONS/VMACCESSAGENT", 208_294),
        ("VMSS-1/EXTENSIONS/DSC", 35994),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b))
    .collect();
    assert_eq!(pairs(&alerts), expected);
    assert_eq!(alerts.len(), expected.len(), "one alert per pair");
    for a in &alerts {
        assert_eq!(a["kibana.alert.rule.type"], "new_terms");
        assert_eq!(
            a["kibana.alert.rule.rule_id"],
            "d69d05f8-d48a-4dcb-b226-fb2efbedd6ba"
        );
        assert!(a["source"]["as"]["organization"]["name"].is_string());
    }
}

#[test]
fn the_whole_eight_days_alert_on_every_first_sighting() {
    let Some(alerts) = hunt(&scenario(), &[]) else {
        return;
    };
    // Day 0 has no history: its pairs are new then; VM-E's pair is new twice, 7+ days apart.
    let vm_e: Vec<_> = alerts
        .iter()
        .filter(|a| a["kibana.alert.new_terms"][0] == "VM-E/EXTENSIONS/VMACCESSAGENT")
        .collect();
    assert_eq!(vm_e.len(), 2);
    assert!(pairs(&alerts).contains(&("VM-A/EXTENSIONS/CUSTOMSCRIPTEXTENSION".into(), 1221)));
    assert!(
        !pairs(&alerts).iter().any(|p| p.1 == 8075 || p.1 == 3598),
        "Microsoft ASNs never alert"
    );
}

#[test]
fn databases_named_in_a_config_file_enrich_like_the_flags() {
    let window = [
        "--start",
        "2026-05-18T00:00:00Z",
        "--end",
        "2026-05-18T23:59:59Z",
    ];
    let (Some(rule), Some(dbs), Some(with_flags)) =
        (seed_rule(RULE), asn_dbs(), hunt(&scenario(), &window))
    else {
        return;
    };
    let list: Vec<String> = dbs
        .iter()
        .map(|d| format!("{:?}", d.display().to_string()))
        .collect();
    let config = TempFile::with_bytes(
        "toml",
        format!("[enrich]\nasn_db = [{}]\n", list.join(", ")).as_bytes(),
    );
    let input = TempFile::ndjson(&scenario());
    let (rule, config, input) = (
        rule.display().to_string(),
        config.0.display().to_string(),
        input.0.display().to_string(),
    );
    let mut args = vec![
        "hunt", "--rules", &rule, "--format", "ndjson", "--config", &config,
    ];
    args.extend(window);
    args.push(&input);
    let out = vigil(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let with_config = parse_ndjson(&out.stdout);
    assert_eq!(pairs(&with_config), pairs(&with_flags));
    assert_eq!(with_config.len(), with_flags.len());
}
