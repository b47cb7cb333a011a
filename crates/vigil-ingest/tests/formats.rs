//! CSV and EVTX inputs: each row or event record comes out as one JSON object, and every
//! damaged row, chunk or record is a bad record with its line (EVTX: record id) and reason,
//! after which reading goes on.

mod common;

use std::io::Write;
use std::path::Path;

use common::evtx::{self, Event};
use common::{TempDir, bad, read, read_with};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;
use vigil_ingest::{Format, InputId, Inputs, Item, Options, Reader, frame_slice};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).expect("compress in memory");
    enc.finish().expect("compress in memory")
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("a record is JSON")
}

/// A string field of a JSON record, by a path of keys.
fn field(v: &Value, path: &[&str]) -> Value {
    path.iter()
        .try_fold(v, |cur, k| cur.get(k))
        .cloned()
        .unwrap_or(Value::Null)
}

// ---- CSV ----

#[test]
fn csv_defender_export_with_bom_crlf_quotes_and_line_breaks() {
    let dir = TempDir::new("csv-defender");
    let text = concat!(
        "\u{feff}Timestamp,DeviceName,ActionType,FileName,InitiatingProcessCommandLine,AdditionalFields,ReportId\r\n",
        "2026-06-17T10:00:20.123Z,vm-web-01,FileCreated,a.ps1,\"powershell.exe -c \"\"Get-Date\"\"\",,42\r\n",
        "2026-06-17T10:00:21Z,vm-web-01,ProcessCreated,cmd.exe,\"cmd.exe /c \"\"echo a,b\"\"\r\nline two\",\"{\"\"FileType\"\":\"\"PowerShell\"\"}\",43\r\n",
        "\r\n",
        "2026-06-17T10:00:22Z,\"vm,02\",FileCreated,,\"\",,44\r\n",
    );
    let path = dir.file("DeviceFileEvents.csv", text);
    let out = read(&path);
    assert!(out.bad.is_empty(), "{:?}", out.bad);
    assert_eq!(out.record_lines(), [2, 3, 6]);
    assert_eq!(
        out.record_texts(),
        [
            r#"{"Timestamp":"2026-06-17T10:00:20.123Z","DeviceName":"vm-web-01","ActionType":"FileCreated","FileName":"a.ps1","InitiatingProcessCommandLine":"powershell.exe -c \"Get-Date\"","AdditionalFields":"","ReportId":"42"}"#,
            r#"{"Timestamp":"2026-06-17T10:00:21Z","DeviceName":"vm-web-01","ActionType":"ProcessCreated","FileName":"cmd.exe","InitiatingProcessCommandLine":"cmd.exe /c \"echo a,b\"\r\nline two","AdditionalFields":"{\"FileType\":\"PowerShell\"}","ReportId":"43"}"#,
            r#"{"Timestamp":"2026-06-17T10:00:22Z","DeviceName":"vm,02","ActionType":"FileCreated","FileName":"","InitiatingProcessCommandLine":"","AdditionalFields":"","ReportId":"44"}"#,
        ]
    );
    let (_, reader) = read_with(&[&path], Options::default());
    assert_eq!(reader.stats()[0].format, Some(Format::Csv));
    assert_eq!(reader.stats()[0].records, 3);
}

#[test]
fn csv_log_analytics_sample_frames_into_one_record() {
    let sample = Path::new(
        "/work/shared/samples/sentinel/azureActivity_adele.EXCERPT_header_plus_first_record.csv",
    );
    if !sample.exists() {
        return;
    }
    let out = read(sample);
    assert!(out.bad.is_empty(), "{:?}", out.bad);
    assert_eq!(out.record_lines(), [2]);
    let header = std::fs::read_to_string(sample).unwrap_or_default();
    let columns = header.lines().next().unwrap_or_default().split(',').count();
    let v = json(&out.records[0].bytes);
    let obj = v.as_object().expect("an object");
    assert_eq!(obj.len(), columns);
    assert_eq!(v["$table"], "AzureActivity");
    assert!(obj.contains_key("TimeGenerated [UTC]"));
    assert!(obj.values().all(Value::is_string));
    // A multi-line JSON cell stays text, line breaks and all.
    let auth = v["Authorization"].as_str().unwrap_or_default();
    assert!(auth.starts_with("{\n  \"scope\": "), "{auth}");
}

#[test]
fn csv_ragged_rows_and_a_cut_quoted_cell() {
    let dir = TempDir::new("csv-ragged");
    let path = dir.file(
        "r.csv",
        "A,B,C\n1,2,3\n1,2\n1,2,3,4\n\"x\ny\",2,3\n4,5,6\n7,\"8\n9,10\n",
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [2, 5, 7]);
    assert_eq!(out.record_texts()[1], r#"{"A":"x\ny","B":"2","C":"3"}"#);
    assert_eq!(
        out.bad_lines(),
        [
            bad(3, "ragged row: 2 cells, the header has 3 columns"),
            bad(4, "ragged row: 4 cells, the header has 3 columns"),
            bad(8, "truncated row: the input ends inside a quoted cell"),
        ]
    );
}

#[test]
fn csv_empty_header_only_and_blank_lines() {
    let dir = TempDir::new("csv-empty");
    for (name, text) in [
        ("empty.csv", ""),
        ("header.csv", "A,B\n"),
        ("header-crlf.csv", "A,B\r\n"),
        ("header-no-newline.csv", "A,B"),
        ("header-blank-lines.csv", "A,B\n\n\r\n\n"),
        ("bom-header.csv", "\u{feff}A;B\n"),
        ("one-column.csv", "Name\n"),
    ] {
        let path = dir.file(name, text);
        let (out, reader) = read_with(&[&path], Options::default());
        assert_eq!(out, common::Outcome::default(), "{name}");
        if !text.is_empty() {
            assert_eq!(reader.stats()[0].format, Some(Format::Csv), "{name}");
        }
    }
    // Blank lines between rows are skipped; a one-column file keeps its rows.
    let path = dir.file("gaps.csv", "A,B\n\n1,2\n\n\n3,4\n");
    let out = read(&path);
    assert_eq!(out.record_lines(), [3, 6]);
    let path = dir.file("names.csv", "Name\nalpha\n\"\"\nbeta");
    let (out, _) = read_with(&[&path], Options::default());
    assert_eq!(
        out.record_texts(),
        [
            r#"{"Name":"alpha"}"#,
            r#"{"Name":""}"#,
            r#"{"Name":"beta"}"#
        ]
    );

    // Without a .csv name a header alone is no evidence: read as NDJSON, it is one bad line.
    let out = read(&dir.file("header.txt", "A,B\n"));
    assert_eq!(
        out.bad_lines(),
        [bad(1, "invalid JSON: expected a value at column 1")]
    );
}

#[test]
fn csv_semicolon_and_tab_delimiters() {
    let dir = TempDir::new("csv-delims");
    let path = dir.file(
        "export.txt",
        "Timestamp;DeviceName;FileName\n2026-06-17;vm-1;\"a;b.txt\"\n2026-06-18;vm-2;c,d.txt\n",
    );
    let out = read(&path);
    assert_eq!(
        out.record_texts(),
        [
            r#"{"Timestamp":"2026-06-17","DeviceName":"vm-1","FileName":"a;b.txt"}"#,
            r#"{"Timestamp":"2026-06-18","DeviceName":"vm-2","FileName":"c,d.txt"}"#,
        ]
    );
    let path = dir.file("export.tsv", "A\tB\n1,5\t\"x\ty\"\n");
    let out = read(&path);
    assert_eq!(out.record_texts(), [r#"{"A":"1,5","B":"x\ty"}"#]);
}

#[test]
fn ndjson_with_a_garbage_first_line_is_not_taken_for_csv() {
    let dir = TempDir::new("csv-not");
    for (text, records) in [
        ("oops, x\n{\"a\":1}\n", 1),
        ("oops,x\n{\"a\":1,\"b\":2}\n", 1),
        ("1,2\n3,4\n", 0),
        ("hello world\n{\"a\":1}\n", 1),
    ] {
        let path = dir.file("a.json", text);
        let (out, reader) = read_with(&[&path], Options::default());
        assert_eq!(
            reader.stats()[0].format,
            Some(Format::JsonLines),
            "{text:?}"
        );
        assert_eq!(out.records.len(), records, "{text:?}");
        assert_eq!(out.bad[0].line, 1, "{text:?}");
    }
}

#[test]
fn csv_gzip_compressed() {
    let dir = TempDir::new("csv-gz");
    let text = "A,B\n1,\"two\nlines\"\n3,4\n";
    for name in ["rows.csv.gz", "rows.gz"] {
        let path = dir.file(name, gzip(text.as_bytes()));
        for buffer_bytes in [3, 1 << 20] {
            let opts = Options {
                buffer_bytes,
                ..Options::default()
            };
            let (out, reader) = read_with(&[&path], opts);
            assert!(reader.inputs()[0].compressed);
            assert_eq!(reader.stats()[0].format, Some(Format::Csv));
            assert_eq!(out.record_lines(), [2, 4]);
            assert_eq!(out.record_texts()[0], r#"{"A":"1","B":"two\nlines"}"#);
        }
    }
    // A header alone: CSV by its name, through the compression suffix.
    let path = dir.file("empty.CSV.gz", gzip(b"A,B\n"));
    let (out, reader) = read_with(&[&path], Options::default());
    assert_eq!(reader.stats()[0].format, Some(Format::Csv));
    assert_eq!(out, common::Outcome::default());
}

#[test]
fn csv_oversized_row_is_read_past() {
    let dir = TempDir::new("csv-huge");
    let big = "line\n".repeat(2000);
    let text = format!("A,B\n1,2\n3,\"{big}\"\n5,6\n");
    let path = dir.file("big.csv", &text);
    let opts = Options {
        max_record_bytes: 1024,
        buffer_bytes: 64,
        ..Options::default()
    };
    let (out, reader) = read_with(&[&path], opts);
    assert_eq!(out.record_lines(), [2, 2004]);
    assert_eq!(
        out.bad_lines(),
        [bad(3, "record too large: 10004 bytes (limit 1024)")]
    );
    assert!(reader.buffer_capacity() <= 128 << 10);
    // The same row in a record whose JSON outgrows the limit, though its text does not.
    let keys: Vec<String> = (0..40).map(|i| format!("Column{i:02}")).collect();
    let text = format!("{}\n{}\n", keys.join(","), ",".repeat(39));
    let path = dir.file("wide.csv", &text);
    let opts = Options {
        max_record_bytes: 400,
        ..Options::default()
    };
    let (out, _) = read_with(&[&path], opts);
    assert_eq!(
        out.bad_lines(),
        [bad(2, "record too large: 561 bytes (limit 400)")]
    );
}

#[test]
fn csv_invalid_utf8_and_a_repeated_column() {
    let dir = TempDir::new("csv-bad");
    let path = dir.file("u.csv", b"A,B\n\xff,2\n3,\"\xc3\xa9\"\n");
    let out = read(&path);
    assert_eq!(out.record_texts(), ["{\"A\":\"3\",\"B\":\"\u{e9}\"}"]);
    assert_eq!(
        out.bad_lines(),
        [bad(2, "invalid UTF-8 at byte 0 of column 1")]
    );
    let path = dir.file("dup.csv", "A,B,A\n1,2,3\n");
    let out = read(&path);
    assert!(out.records.is_empty());
    assert_eq!(
        out.bad_lines(),
        [bad(1, "CSV header: column name \"A\" appears twice")]
    );
}

#[test]
fn forced_csv() {
    let opts = Options {
        format: Some(Format::Csv),
        ..Options::default()
    };
    let items: Vec<Item> = frame_slice(InputId(0), b"\n\nA,B\n1,2\n", &opts).collect();
    assert!(
        matches!(&items[..], [Item::Record(r)] if r.line == 4 && r.bytes == br#"{"A":"1","B":"2"}"#)
    );
    // A first line that names no columns is still the header when CSV is forced.
    let items: Vec<Item> = frame_slice(InputId(0), b"x y z!\n1\n", &opts).collect();
    assert!(
        matches!(&items[..], [Item::Record(r)] if r.bytes == br#"{"x y z!":"1"}"#),
        "{items:?}"
    );
    let mut frames = frame_slice(InputId(0), b"A\n1\n", &opts);
    assert_eq!(frames.format(), Format::Csv);
    assert!(frames.next_ref().is_some());
}

// ---- EVTX ----

const WHOAMI: &str = "C:\\Windows\\System32\\whoami.exe";
const CMD: &str = "C:\\Windows\\System32\\cmd.exe";
const SCRIPT: &str = "C:\\Packages\\Plugins\\Microsoft.Compute.CustomScriptExtension\\1.10.15\\Downloads\\0\\run.ps1";

/// Two chunks of Sysmon events (ids 1–5), then a chunk Windows allocated and never wrote.
fn sysmon_log() -> Vec<u8> {
    evtx::file(&[
        evtx::chunk(&[
            evtx::process_create(1, WHOAMI, "whoami /all", CMD),
            evtx::file_create(2, "C:\\Windows\\System32\\cmd.exe", SCRIPT),
        ]),
        evtx::chunk(&[
            evtx::process_create(3, "C:\\a.exe", "a.exe \"x y\"", CMD),
            evtx::file_create(4, "C:\\a.exe", "C:\\Temp\\b.txt"),
            evtx::process_create(5, "C:\\b.exe", "b.exe", "C:\\a.exe"),
        ]),
        vec![0; evtx::CHUNK],
    ])
}

#[test]
fn evtx_sysmon_records() {
    let dir = TempDir::new("evtx");
    let path = dir.file("Sysmon.evtx", sysmon_log());
    let out = read(&path);
    assert!(out.bad.is_empty(), "{:?}", out.bad);
    assert_eq!(out.record_lines(), [1, 2, 3, 4, 5]);
    let first = json(&out.records[0].bytes);
    let system = |k: &str| field(&first, &["Event", "System", k]);
    assert_eq!(system("EventID"), 1);
    assert_eq!(system("EventRecordID"), 1);
    assert_eq!(system("Computer"), "vm-web-01");
    assert_eq!(system("Channel"), "Microsoft-Windows-Sysmon/Operational");
    assert_eq!(
        field(
            &first,
            &["Event", "System", "Provider", "#attributes", "Name"]
        ),
        "Microsoft-Windows-Sysmon"
    );
    assert_eq!(
        field(
            &first,
            &[
                "Event",
                "System",
                "TimeCreated",
                "#attributes",
                "SystemTime"
            ]
        ),
        "2026-06-17T10:00:21.0000000Z"
    );
    let data = |v: &Value, k: &str| field(v, &["Event", "EventData", k]);
    assert_eq!(data(&first, "Image"), WHOAMI);
    assert_eq!(data(&first, "ProcessId"), 4321);
    assert_eq!(
        data(&first, "ProcessGuid"),
        "{11111111-1111-1111-1111-1111111111aa}"
    );
    assert_eq!(data(&first, "UtcTime"), "2026-06-17 10:00:20.123");
    let second = json(&out.records[1].bytes);
    assert_eq!(field(&second, &["Event", "System", "EventID"]), 11);
    assert_eq!(data(&second, "TargetFilename"), SCRIPT);
    assert_eq!(
        data(&json(&out.records[2].bytes), "CommandLine"),
        "a.exe \"x y\""
    );

    let (_, reader) = read_with(&[&path], Options::default());
    assert_eq!(reader.stats()[0].format, Some(Format::Evtx));
    assert_eq!(reader.stats()[0].records, 5);
    // Whatever the name and the forced text format: the signature decides.
    let forced = Options {
        format: Some(Format::JsonLines),
        ..Options::default()
    };
    let (forced_out, _) = read_with(&[&dir.file("x.json", sysmon_log())], forced);
    assert_eq!(forced_out.records.len(), 5);
}

#[test]
fn evtx_records_map_through_the_sysmon_normalizer() {
    let f = sysmon_log();
    let mut tree = vigil_normalize::ProcessTree::default();
    let mut docs = Vec::new();
    for item in frame_slice(InputId(0), &f, &Options::default()) {
        let Item::Record(r) = item else {
            panic!("{item:?}")
        };
        let doc = vigil_event::parse_json(&r.bytes).expect("decodes");
        assert_eq!(
            vigil_normalize::detect_endpoint(&doc),
            Some(vigil_normalize::EndpointFormat::Sysmon)
        );
        let ecs = vigil_normalize::sysmon_to_ecs(&doc).expect("event 1 or 11");
        docs.push(ecs);
        vigil_normalize::endpoint_to_ecs(doc, &mut tree).expect("mapped");
    }
    let f = |i: usize, p: &str| docs[i].get_path(p).map(|v| v.to_string());
    let s = |v: &str| Some(v.to_string());
    assert_eq!(f(0, "event.category"), s(r#"["process"]"#));
    assert_eq!(f(0, "event.code"), s("1"));
    assert_eq!(f(0, "@timestamp"), s("2026-06-17T10:00:20.123Z"));
    assert_eq!(f(0, "host.name"), s("vm-web-01"));
    assert_eq!(f(0, "winlog.record_id"), s("1"));
    assert_eq!(
        f(0, "process.entity_id"),
        s("{11111111-1111-1111-1111-1111111111aa}")
    );
    assert_eq!(f(0, "process.pid"), s("4321"));
    assert_eq!(f(0, "process.name"), s("whoami.exe"));
    assert_eq!(f(0, "process.args"), s(r#"["whoami","/all"]"#));
    assert_eq!(f(0, "process.parent.name"), s("cmd.exe"));
    assert_eq!(f(0, "process.parent.pid"), s("1234"));
    assert_eq!(f(0, "process.hash.sha256"), s("abcdef0123"));
    assert_eq!(f(0, "user.name"), s("SYSTEM"));
    assert_eq!(f(1, "event.category"), s(r#"["file"]"#));
    assert_eq!(f(1, "file.name"), s("run.ps1"));
    assert_eq!(f(1, "file.extension"), s("ps1"));
    assert_eq!(
        f(1, "file.directory"),
        s(&SCRIPT[..SCRIPT.len() - "\\run.ps1".len()])
    );
    assert_eq!(f(2, "process.args"), s(r#"["a.exe","x y"]"#));
}

#[test]
fn evtx_corrupt_chunks_and_records() {
    let dir = TempDir::new("evtx-corrupt");
    let good = || {
        evtx::chunk(&[
            evtx::process_create(1, WHOAMI, "whoami", CMD),
            evtx::file_create(2, WHOAMI, SCRIPT),
        ])
    };
    // A flipped bit in a record's text: the chunk's checksum fails, its records still come.
    let mut flipped = evtx::chunk(&[
        evtx::process_create(3, WHOAMI, "whoami", CMD),
        evtx::file_create(4, WHOAMI, SCRIPT),
    ]);
    let at = evtx::record_offsets(&flipped)[1];
    let size = u32::from_le_bytes([
        flipped[at + 4],
        flipped[at + 5],
        flipped[at + 6],
        flipped[at + 7],
    ]) as usize;
    let tail = flipped[at..at + size]
        .windows(2)
        .rposition(|w| w == b"s\0")
        .expect("a UTF-16 's' in the record");
    flipped[at + tail] = b'S';
    // A record whose binary XML is broken (its checksums sealed again): that record is bad.
    let mut broken = evtx::chunk(&[
        evtx::process_create(5, WHOAMI, "whoami", CMD),
        evtx::process_create(6, WHOAMI, "whoami", CMD),
        evtx::process_create(7, WHOAMI, "whoami", CMD),
    ]);
    let at = evtx::record_offsets(&broken)[1];
    // The template instance token after the fragment header.
    assert_eq!(broken[at + 28], 0x0c);
    broken[at + 28] = 0xee;
    evtx::reseal(&mut broken);
    // A chunk without its signature.
    let mut unsigned = evtx::chunk(&[evtx::process_create(8, WHOAMI, "w", CMD)]);
    unsigned[..8].copy_from_slice(b"NotAChnk");
    let last = evtx::chunk(&[evtx::process_create(9, WHOAMI, "whoami", CMD)]);
    let path = dir.file(
        "damaged.evtx",
        evtx::file(&[good(), flipped, broken, unsigned, last]),
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [1, 2, 3, 4, 5, 7, 9]);
    let fourth = json(&out.records[3].bytes);
    let target = field(&fourth, &["Event", "EventData", "TargetFilename"]);
    assert!(
        target.as_str().is_some_and(|t| t.ends_with("run.pS1")),
        "{target}"
    );
    let bads: Vec<(u64, &str)> = out
        .bad
        .iter()
        .map(|b| (b.line, b.reason.as_str()))
        .collect();
    assert_eq!(bads.len(), 3, "{bads:?}");
    assert_eq!(
        bads[0],
        (
            3,
            "EVTX chunk 1 (file offset 0x11000): CRC32 mismatch in its records; its records are read anyway"
        )
    );
    assert_eq!(bads[1].0, 6);
    assert!(
        bads[1].1.starts_with("invalid EVTX record: ") && bads[1].1.contains("0xee"),
        "{}",
        bads[1].1
    );
    assert_eq!(
        bads[2],
        (
            8,
            "EVTX chunk 3 (file offset 0x31000): no ElfChnk signature; its records are skipped"
        )
    );

    // A damaged chunk header: reported, read anyway.
    let mut header = good();
    header[8] ^= 0xff;
    let path = dir.file("header.evtx", evtx::file(&[header]));
    let out = read(&path);
    assert_eq!(out.record_lines(), [1, 2]);
    assert_eq!(
        out.bad_lines(),
        [bad(
            1,
            "EVTX chunk 0 (file offset 0x1000): CRC32 mismatch in its header; its records are read anyway"
        )]
    );
}

#[test]
fn evtx_truncated_files() {
    let dir = TempDir::new("evtx-truncated");
    let events: Vec<Event> = (1..=40)
        .map(|i| evtx::process_create(i, WHOAMI, "whoami /all", CMD))
        .collect();
    let full = evtx::file(&[evtx::chunk(&events[..20]), evtx::chunk(&events[20..])]);
    // Cut in the middle of the second chunk, inside record 31.
    let second = evtx::FILE_HEADER + evtx::CHUNK;
    let offsets = evtx::record_offsets(&full[second..]);
    let cut = second + offsets[10] + 100;
    let path = dir.file("cut.evtx", &full[..cut]);
    let out = read(&path);
    assert_eq!(out.record_lines(), (1..=30).collect::<Vec<u64>>());
    assert_eq!(out.bad.len(), 2, "{:?}", out.bad);
    assert_eq!(
        out.bad_lines()[0],
        bad(
            21,
            &format!(
                "truncated EVTX file: chunk 1 (file offset 0x11000) has {} of its 65536 bytes",
                cut - second
            )
        )
    );
    assert_eq!(out.bad[1].line, 31);
    assert!(out.bad[1].reason.starts_with("invalid EVTX record: "));

    // Cut inside the file header, and inside a chunk header.
    let path = dir.file("head.evtx", &full[..1000]);
    let out = read(&path);
    assert!(out.records.is_empty());
    assert_eq!(
        out.bad_lines(),
        [bad(
            1,
            "truncated EVTX file: 1000 bytes, less than its 4096-byte header"
        )]
    );
    let path = dir.file("chunk-head.evtx", &full[..evtx::FILE_HEADER + 300]);
    let out = read(&path);
    assert_eq!(
        out.bad_lines(),
        [bad(
            1,
            "truncated EVTX file: chunk 0 (file offset 0x1000) has 300 of its 65536 bytes"
        )]
    );
    // A header and nothing else: an empty log.
    let path = dir.file("no-chunks.evtx", &full[..evtx::FILE_HEADER]);
    assert_eq!(read(&path), common::Outcome::default());

    // Compressed and cut.
    let path = dir.file("cut.evtx.gz", gzip(&full[..cut]));
    let (out, reader) = read_with(&[&path], Options::default());
    assert!(reader.inputs()[0].compressed);
    assert_eq!(out.records.len(), 30);
    assert_eq!(out.bad.len(), 2);
}

#[test]
fn evtx_records_over_the_limit() {
    let f = evtx::file_of(&[vec![
        evtx::process_create(1, WHOAMI, "whoami", CMD),
        evtx::process_create(2, WHOAMI, &"x".repeat(3000), CMD),
    ]]);
    let opts = Options {
        max_record_bytes: 2500,
        ..Options::default()
    };
    let items: Vec<Item> = frame_slice(InputId(0), &f, &opts).collect();
    assert!(matches!(&items[0], Item::Record(r) if r.line == 1));
    assert!(
        matches!(&items[1], Item::Bad(b) if b.line == 2 && b.reason.starts_with("record too large: ")),
        "{:?}",
        items[1]
    );
}

// ---- Mixed ----

#[test]
fn directory_mixing_json_csv_and_evtx() {
    let dir = TempDir::new("mixed");
    let root = dir.path().join("case-42");
    dir.file("case-42/a-activity.json", "{\"n\":1}\n{\"n\":2}\n");
    dir.file(
        "case-42/b-DeviceProcessEvents.csv",
        "Timestamp,DeviceName\n2026-06-17,vm-1\n2026-06-18,vm-2\n",
    );
    dir.file("case-42/c-Sysmon.evtx", sysmon_log());
    dir.file(
        "case-42/d-DeviceFileEvents.csv.gz",
        gzip(b"Timestamp,FileName\n2026-06-17,\"a,b.ps1\"\n"),
    );
    dir.file("case-42/e-pretty.json", "[\n  {\"n\": 3}\n]\n");
    let mut inputs = Inputs::new();
    assert_eq!(inputs.add(&root).expect("a readable tree"), 5);
    let mut reader = Reader::new(inputs, Options::default());
    let out = common::drain(&mut reader);
    assert!(out.bad.is_empty(), "{:?}", out.bad);
    let seen: Vec<(u32, u64)> = out.records.iter().map(|r| (r.input.0, r.line)).collect();
    assert_eq!(
        seen,
        [
            (0, 1),
            (0, 2),
            (1, 2),
            (1, 3),
            (2, 1),
            (2, 2),
            (2, 3),
            (2, 4),
            (2, 5),
            (3, 2),
            (4, 2)
        ]
    );
    let formats: Vec<Option<Format>> = reader.stats().iter().map(|s| s.format).collect();
    assert_eq!(
        formats,
        [
            Some(Format::JsonLines),
            Some(Format::Csv),
            Some(Format::Evtx),
            Some(Format::Csv),
            Some(Format::Json)
        ]
    );
    assert_eq!(
        out.records[9].bytes,
        br#"{"Timestamp":"2026-06-17","FileName":"a,b.ps1"}"#
    );
    // Every record is one JSON object.
    assert!(out.records.iter().all(|r| json(&r.bytes).is_object()));
    assert_eq!(reader.totals().records, 11);
}

#[test]
fn converted_records_through_next_ref() {
    // The borrowed path lends a converted record's bytes from the reader.
    let mut inputs = Inputs::new();
    inputs.add_reader("rows.csv", std::io::Cursor::new(b"A\n1\n2\n".to_vec()));
    inputs.add_reader("log", std::io::Cursor::new(sysmon_log()));
    let mut reader = Reader::new(inputs, Options::default());
    let mut lines = Vec::new();
    while let Some(item) = reader.next_ref() {
        match item {
            vigil_ingest::ItemRef::Record(r) => {
                assert_eq!(r.bytes.first(), Some(&b'{'));
                lines.push((r.input.0, r.line));
            }
            vigil_ingest::ItemRef::Bad(b) => panic!("{b:?}"),
        }
    }
    assert_eq!(
        lines,
        [(0, 2), (0, 3), (1, 1), (1, 2), (1, 3), (1, 4), (1, 5)]
    );
}
