//! Elastic's "Unusual Azure VM Extension Detected" (PR #6277, an ES|QL rule emulating new terms:
//! `STATS … BY Esql.vm_name, Esql.extension_name` over `from = "now-7d"`, then
//! `event_count == 1` and first seen within 10 minutes of `NOW()`, suppressed by
//! `azure.resource.name` for 60 minutes), verbatim, replayed every 5 minutes over an 8-day
//! scenario of native records. The hunt searches day 7; days 0–6 are the history the 7-day
//! window reads.

mod common;

use std::collections::BTreeMap;

use common::{Record, TempFile, parse_ndjson, seed_rule, vigil};
use serde_json::Value;

const RULE: &str = "execution_azure_vm_extension_unusual_for_host.toml";

fn ext(vm: &str, ext: &str, day: i64, secs: i64) -> Record {
    Record::extension_write(vm, ext).at("2026-05-11T00:00:00", day * 86_400 + secs)
}

fn scenario() -> Vec<Record> {
    let mut r = Vec::new();
    for day in 0..7 {
        r.push(ext("VM-A", "CUSTOMSCRIPT", day, 36_000).success());
    }
    r.push(ext("VM-A", "CUSTOMSCRIPT", 7, 36_000).success()); // seen all week: none
    r.push(ext("VM-B", "DSC", 2, 40_000).success());
    r.push(ext("VM-B", "DSC", 7, 40_000).success()); // seen on day 2: none
    r.push(ext("VM-C", "CUSTOMSCRIPT", 7, 36_120).success()); // once: alert
    r.push(ext("VM-C", "RUNCMD", 7, 36_240).success()); // another name on VM-C: alert
    r.push(ext("VM-D", "VMACCESS", 7, 43_200).start()); // Start: no outcome
    r.push(ext("VM-D", "VMACCESS", 7, 43_260).success()); // alert
    r.push(ext("VM-E", "BROKEN", 7, 44_000).failure()); // failure: none
    r.push(ext("VM-F", "TWICE", 7, 45_030).success());
    r.push(ext("VM-F", "TWICE", 7, 45_120).success()); // twice in one run's view: none
    r.push(ext("VM-G", "OLD", 0, 600).success()); // more than 7 days before the next one
    r.push(ext("VM-G", "OLD", 7, 50_000).success()); // once in the window: alert
    r.push(
        Record::new(
            "MICROSOFT.COMPUTE/VIRTUALMACHINESCALESETS/EXTENSIONS/WRITE",
            "VIRTUALMACHINESCALESETS/VMSS-1/EXTENSIONS/DSC",
        )
        .at("2026-05-11T00:00:00", 7 * 86_400 + 60_030)
        .success(),
    ); // scale set: alert
    r
}

/// A field of an alert, whether the document nests it or keeps the dotted name.
fn field<'a>(a: &'a Value, path: &str) -> Option<&'a Value> {
    a.get(path)
        .or_else(|| path.split('.').try_fold(a, |v, k| v.get(k)))
}

#[test]
fn one_alert_per_pair_seen_once_in_seven_days() {
    let Some(rule) = seed_rule(RULE) else { return };
    let input = TempFile::ndjson(&scenario());
    let out = vigil(&[
        "hunt",
        "--rules",
        rule.to_str().expect("utf-8"),
        "--format",
        "ndjson",
        "--start",
        "2026-05-18T00:00:00Z",
        "--end",
        "2026-05-18T23:59:59Z",
        input.0.to_str().expect("utf-8"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let alerts = parse_ndjson(&out.stdout);

    let mut per_pair: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for a in &alerts {
        let s = |p: &str| {
            field(a, p)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        };
        per_pair
            .entry((s("Esql.vm_name"), s("Esql.extension_name")))
            .or_default()
            .push(a);
    }
    let pairs: Vec<(&str, &str)> = per_pair
        .keys()
        .map(|(v, e)| (v.as_str(), e.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("VM-C", "CUSTOMSCRIPT"),
            ("VM-C", "RUNCMD"),
            ("VM-D", "VMACCESS"),
            ("VM-G", "OLD"),
            ("VMSS-1", "DSC"),
        ],
        "{alerts:#?}"
    );
    for ((vm, name), list) in &per_pair {
        assert_eq!(
            list.len(),
            1,
            "{vm}/{name}: one alert, later runs suppressed"
        );
        let a = list[0];
        let created: jiff::Timestamp = a["@timestamp"]
            .as_str()
            .expect("@timestamp")
            .parse()
            .expect("time");
        let first: jiff::Timestamp = field(a, "Esql.first_time_seen")
            .and_then(Value::as_str)
            .expect("first_time_seen")
            .parse()
            .expect("time");
        let delay = created.duration_since(first);
        assert!(
            delay >= jiff::SignedDuration::ZERO && delay <= jiff::SignedDuration::from_mins(10),
            "{vm}/{name}: raised {delay:?} after the event"
        );
        assert_eq!(field(a, "Esql.event_count"), Some(&Value::from(1)));
        assert_eq!(a["kibana.alert.rule.type"], "esql");
        // Aggregating: the alert carries the query's columns, not a source document.
        assert!(field(a, "event.action").is_none(), "{a:#}");
        assert_eq!(
            field(a, "azure.resource.name").and_then(Value::as_str),
            Some(format!("{vm}/EXTENSIONS/{name}").as_str())
        );
        // The runs in the next ten minutes (two, or three when DATE_DIFF's whole minutes allow)
        // found the same row again: folded into this alert.
        let folded = a["kibana.alert.suppression.docs_count"]
            .as_i64()
            .unwrap_or(0);
        assert!(
            (1..=2).contains(&folded),
            "{vm}/{name}: {folded} later rows folded"
        );
    }
    assert!(stderr.contains("suppressed"), "{stderr}");
}
