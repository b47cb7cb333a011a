//! `vigil query` run as a process, one query per language over a small file of native
//! Activity Log records.

mod common;

use common::{Record, TempFile, vigil};
use serde_json::Value;

/// Four records: a Custom Script write by alice (start, success), one by automation, and a
/// failed VM delete by bob.
fn input() -> TempFile {
    let base = "2026-05-18T10:00:00";
    TempFile::ndjson(&[
        Record::extension_write("VM-A", "CUSTOMSCRIPT")
            .start()
            .at(base, 0),
        Record::extension_write("VM-A", "CUSTOMSCRIPT")
            .success()
            .at(base, 40),
        Record::extension_write("VM-B", "MONITORAGENT")
            .service_principal()
            .ip("20.42.65.92")
            .at(base, 600),
        Record::new(
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/DELETE",
            "VIRTUALMACHINES/VM-C",
        )
        .user("bob@contoso.com")
        .failure()
        .at(base, 1200),
    ])
}

fn query(args: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let file = input();
    let path = file.0.to_str().expect("utf-8 path").to_string();
    let out = vigil(&[&["query", "--format", "ndjson"], args, &[path.as_str()]].concat());
    let rows = common::parse_ndjson(&out.stdout);
    (
        out.status.code(),
        rows,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn strs<'a>(rows: &'a [Value], field: &str) -> Vec<&'a str> {
    rows.iter()
        .map(|r| r[field].as_str().unwrap_or("?"))
        .collect()
}

#[test]
fn kuery_prints_matching_events() {
    let (code, rows, err) = query(&[
        "--fields",
        "@timestamp,azure.resource.name,event.outcome",
        "event.action:*EXTENSIONS/WRITE and event.outcome:success",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        strs(&rows, "azure.resource.name"),
        [
            "VM-A/EXTENSIONS/CUSTOMSCRIPT",
            "VM-B/EXTENSIONS/MONITORAGENT"
        ]
    );
    assert_eq!(strs(&rows, "@timestamp")[0], "2026-05-18T10:00:40.123Z");
    assert!(err.contains("2 rows from 4 records"), "{err}");
}

#[test]
fn kuery_without_fields_prints_whole_documents() {
    let (code, rows, err) = query(&["event.outcome:failure"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["event"]["action"],
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/DELETE"
    );
    assert_eq!(rows[0]["data_stream"]["dataset"], "azure.activitylogs");
}

#[test]
fn eql_sequences_print_their_events_in_order() {
    let (code, rows, err) = query(&[
        "--lang",
        "eql",
        "--fields",
        "azure.activitylogs.result_type",
        "sequence by azure.resource.name with maxspan=5m \
         [any where azure.activitylogs.result_type == \"Start\"] \
         [any where event.outcome == \"success\"]",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let outcome: Vec<(&str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["azure.activitylogs.result_type"].as_str().unwrap_or("?"),
                r["sequence"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(outcome, [("Start", 0), ("Success", 0)]);
}

#[test]
fn esql_prints_result_columns() {
    let (code, rows, err) = query(&[
        "--lang",
        "esql",
        "FROM logs-azure.activitylogs-* | STATS n = COUNT(*) BY event.outcome | SORT event.outcome",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let got: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["event.outcome"].as_str().unwrap_or("null").to_string(),
                r["n"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("failure".to_string(), 1),
            ("success".to_string(), 2),
            // A `Start` record has no outcome; nulls sort last.
            ("null".to_string(), 1)
        ]
    );
}

#[test]
fn kusto_reads_the_azure_activity_table() {
    let (code, rows, err) = query(&[
        "--lang",
        "kusto",
        "AzureActivity | where ActivityStatusValue == 'Success' | summarize n = count() by Caller | order by Caller asc",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let callers = strs(&rows, "Caller");
    assert_eq!(
        callers,
        // A service principal is its object id.
        ["1f2e3d4c-0000-4000-8000-000000000001", "alice@contoso.com"]
    );
    assert!(rows.iter().all(|r| r["n"] == 1), "{rows:?}");
}

#[test]
fn now_is_the_clock_of_relative_times() {
    let q = "@timestamp >= \"now-15m\"";
    let (_, rows, err) = query(&["--now", "2026-05-18T10:25:00Z", q]);
    // 10:10 and 10:20 are within 15 minutes of 10:25; 10:00 is not.
    assert_eq!(rows.len(), 2, "{err}");
    let (_, rows, _) = query(&["--now", "2026-05-18T12:00:00Z", q]);
    assert!(rows.is_empty());
}

#[test]
fn a_syntax_error_shows_where() {
    let (code, rows, err) = query(&["event.action:(a or"]);
    assert_eq!(code, Some(2));
    assert!(rows.is_empty());
    assert!(err.contains("line 1, column 19"), "{err}");
    let (code, _, err) = query(&["--lang", "kusto", "AzureActivity | where | take 1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("line 1, column"), "{err}");
}

#[test]
fn table_output_names_the_columns() {
    let file = input();
    let out = vigil(&[
        "query",
        "--format",
        "table",
        "--lang",
        "esql",
        "FROM logs-* | STATS n = COUNT(*)",
        file.0.to_str().expect("utf-8 path"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "n\n4\n");
}

#[test]
fn limit_caps_the_rows_printed_not_the_count() {
    let file = input();
    let out = vigil(&[
        "query",
        "--format",
        "table",
        "--limit",
        "1",
        "--fields",
        "@timestamp,azure.resource.name",
        "event.action:*",
        file.0.to_str().expect("utf-8 path"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "@timestamp                azure.resource.name",
            "2026-05-18T10:00:00.123Z  VM-A/EXTENSIONS/CUSTOMSCRIPT",
        ]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("4 rows from 4 records (0 bad); printed 1 (--limit)"),
        "{stderr}"
    );
}
