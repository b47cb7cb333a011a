//! Hostile inputs: every one is framed without a panic, the good records come out exactly, and
//! every bad record is reported with its line and reason.

mod common;

use std::io::Write;
use std::path::Path;

use common::{TempDir, bad, read, read_with};
use flate2::Compression;
use flate2::write::GzEncoder;
use vigil_event::MAX_DEPTH;
use vigil_ingest::{Format, InputId, Inputs, Item, ItemRef, Options, Reader, frame_slice};

const TOO_DEEP: &str = "nesting deeper than 127 levels";

#[test]
fn malformed_lines_among_good_ones() {
    let dir = TempDir::new("malformed");
    let path = dir.file(
        "a.ndjson",
        concat!(
            "{\"a\":1}\n",
            "{\"a\":2,}\n",
            "{\"a\":3}\n",
            "{\"a\" 4}\n",
            "garbage line\n",
            "{\"a\":\"unterminated\n",
            "{\"a\":7}\n",
            "{\"a\":tru}\n",
            "{\"a\":9}\n",
            "{\"a\":01}\n",
            "{\"a\":\"\\x\"}\n",
            "}\n",
            "{\"a\":13}\n",
        ),
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [1, 3, 7, 9, 13]);
    assert_eq!(
        out.record_texts(),
        [
            "{\"a\":1}",
            "{\"a\":3}",
            "{\"a\":7}",
            "{\"a\":9}",
            "{\"a\":13}"
        ]
    );
    assert_eq!(
        out.bad_lines(),
        [
            bad(2, "invalid JSON: expected a string key at column 8"),
            bad(4, "invalid JSON: expected ':' after a key at column 6"),
            bad(5, "invalid JSON: expected a value at column 1"),
            bad(6, "truncated record: the line ends inside the value"),
            bad(8, "invalid JSON: invalid literal at column 9"),
            bad(10, "invalid JSON: expected ',' or '}' at column 7"),
            bad(11, "invalid JSON: invalid escape in string at column 8"),
            bad(12, "invalid JSON: expected a value at column 1"),
        ]
    );
}

#[test]
fn trailing_garbage_after_a_record_on_its_line() {
    let dir = TempDir::new("trailing");
    let path = dir.file("a.ndjson", "{\"a\":1} x\n{\"a\":2}{\"a\":3}\n");
    let out = read(&path);
    // Values concatenated on a line are records of that line; what follows them must be one.
    assert_eq!(out.record_texts(), ["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"]);
    assert_eq!(out.record_lines(), [1, 2, 2]);
    assert_eq!(
        out.bad_lines(),
        [bad(1, "invalid JSON: expected a value at column 9")]
    );
}

#[test]
fn invalid_utf8() {
    let dir = TempDir::new("utf8");
    let mut text = Vec::new();
    text.extend_from_slice(b"{\"a\":\"ok \xc3\xa9\"}\n");
    text.extend_from_slice(b"{\"a\":\"\xff\"}\n");
    text.extend_from_slice(b"{\"a\":1}\n");
    // A UTF-16 surrogate encoded as UTF-8, and an overlong encoding of '/'.
    text.extend_from_slice(b"{\"s\":\"\xed\xa0\x80\",\"o\":\"\xc0\xaf\"}\n");
    // Outside a string, a non-ASCII byte is not JSON at all.
    text.extend_from_slice(b"{\"a\":1,\xff}\n");
    // Cut inside a multi-byte character.
    text.extend_from_slice(b"{\"a\":\"\xe2\x82\"}\n");
    text.extend_from_slice(b"{\"b\":2}");
    let path = dir.file("u.json", &text);
    let out = read(&path);
    assert_eq!(out.record_lines(), [1, 3, 7]);
    assert_eq!(out.records[0].bytes, "{\"a\":\"ok \u{e9}\"}".as_bytes());
    assert_eq!(
        out.bad_lines(),
        [
            bad(2, "invalid UTF-8 at byte 6 of the record"),
            bad(4, "invalid UTF-8 at byte 6 of the record"),
            bad(5, "invalid JSON: expected a string key at column 8"),
            bad(6, "invalid UTF-8 at byte 6 of the record"),
        ]
    );
}

#[test]
fn fifty_megabyte_line_is_read_past() {
    let dir = TempDir::new("huge");
    let mut text = Vec::with_capacity(51 << 20);
    text.extend_from_slice(b"{\"a\":1}\n{\"big\":\"");
    text.resize(text.len() + 50_000_000, b'x');
    text.extend_from_slice(b"\"}\n{\"a\":3}\n");
    let path = dir.file("huge.ndjson", &text);
    let (out, reader) = read_with(&[&path], Options::default());
    assert_eq!(out.record_lines(), [1, 3]);
    assert_eq!(
        out.bad_lines(),
        [bad(2, "record too large: 50000010 bytes (limit 16777216)")]
    );
    // Never more than the limit plus one read in memory.
    assert!(reader.buffer_capacity() <= (16 << 20) + (1 << 20));
    assert_eq!(reader.stats()[0].bytes_decoded, text.len() as u64);

    // The same line with a small limit, and as the last line without a newline.
    let path = dir.file("last.ndjson", &text[..text.len() - 9]);
    let opts = Options {
        max_record_bytes: 1 << 20,
        buffer_bytes: 64 << 10,
        ..Options::default()
    };
    let (out, reader) = read_with(&[&path], opts);
    assert_eq!(out.record_lines(), [1]);
    assert_eq!(
        out.bad_lines(),
        [bad(2, "record too large: 50000010 bytes (limit 1048576)")]
    );
    assert!(reader.buffer_capacity() <= (1 << 20) + (64 << 10));
}

#[test]
fn oversized_record_in_a_pretty_array_is_skipped() {
    let dir = TempDir::new("huge-array");
    let mut text = String::from("[\n  {\"a\": 1},\n  {\n    \"big\": \"");
    text.push_str(&"y".repeat(3 << 20));
    text.push_str("\"\n  },\n  {\"a\": 3}\n]\n");
    let path = dir.file("big.json", &text);
    let opts = Options {
        max_record_bytes: 1 << 20,
        buffer_bytes: 4096,
        ..Options::default()
    };
    let (out, reader) = read_with(&[&path], opts);
    assert_eq!(out.record_lines(), [2, 6]);
    assert_eq!(
        out.bad_lines(),
        [bad(3, "record too large: 3145747 bytes (limit 1048576)")]
    );
    assert!(reader.buffer_capacity() <= (1 << 20) + 4096 + 64);
}

#[test]
fn deep_nesting() {
    let dir = TempDir::new("deep");
    let depth = 100_000;
    let arrays = "[".repeat(depth) + &"]".repeat(depth);
    let objects = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
    let at_limit = "{\"a\":".repeat(MAX_DEPTH) + "1" + &"}".repeat(MAX_DEPTH);
    let over_limit = "{\"a\":".repeat(MAX_DEPTH + 1) + "1" + &"}".repeat(MAX_DEPTH + 1);
    let text = format!(
        "{{\"ok\":1}}\n{arrays}\n{objects}\n{at_limit}\n{over_limit}\n{}\n{{\"ok\":2}}\n",
        "[".repeat(depth)
    );
    let path = dir.file("deep.ndjson", &text);
    let (out, _) = read_with(&[&path], Options::default());
    assert_eq!(out.record_lines(), [1, 4, 7]);
    assert_eq!(
        out.bad_lines(),
        [
            bad(2, TOO_DEEP),
            bad(3, TOO_DEEP),
            bad(5, TOO_DEEP),
            bad(6, TOO_DEEP)
        ]
    );
    // The decoder takes what the framer lets through (its projecting parser; `parse_json` stops
    // one level short, at serde_json's own recursion limit).
    let keys = ["a"].into_iter().collect();
    assert!(vigil_event::parse_json_lazy_keys(&out.records[1].bytes, &keys).is_ok());

    // As documents: a top-level array whose one element is too deep, and a deep object.
    let path = dir.file("deep-array.json", format!("[\n{arrays}\n]"));
    let out = read(&path);
    assert!(out.records.is_empty());
    assert_eq!(out.bad_lines(), [bad(2, TOO_DEEP)]);
    let path = dir.file(
        "deep-object.json",
        format!("{{\n \"ok\": 0\n}}\n{objects}\n\n{{\n \"ok\": 3\n}}"),
    );
    let out = read(&path);
    assert_eq!(out.bad_lines(), [bad(4, TOO_DEEP)]);
    assert_eq!(out.record_lines(), [1, 6]);
}

#[test]
fn truncated_final_record() {
    let dir = TempDir::new("truncated");
    let path = dir.file("t.ndjson", "{\"a\":1}\n{\"a\":2,\"b\":\"tru");
    let out = read(&path);
    assert_eq!(out.record_lines(), [1]);
    assert_eq!(
        out.bad_lines(),
        [bad(2, "truncated record: the input ends inside the value")]
    );

    let path = dir.file("t.json", "{\n  \"a\": 1,\n  \"b\": [\n    1,\n");
    let out = read(&path);
    assert!(out.records.is_empty());
    assert_eq!(
        out.bad_lines(),
        [bad(1, "truncated record: the input ends inside the value")]
    );

    let path = dir.file("t-array.json", "[\n  {\"a\": 1},\n  {\"a\":");
    let out = read(&path);
    assert_eq!(out.record_lines(), [2]);
    assert_eq!(
        out.bad_lines(),
        [bad(3, "truncated record: the input ends inside the value")]
    );

    let path = dir.file("t-array2.json", "[\n  {\"a\": 1},\n");
    let out = read(&path);
    assert_eq!(out.record_lines(), [2]);
    assert_eq!(
        out.bad_lines(),
        [bad(1, "truncated array: the input ends before its ']'")]
    );

    let path = dir.file(
        "t-envelope.ndjson",
        "{\"records\":[{\"a\":1},{\"a\":2}]}\n{\"records\":[{\"a\":3},\n",
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [1, 1, 2]);
    assert_eq!(
        out.bad_lines(),
        [bad(
            2,
            "truncated records array: the line ends before its ']'"
        )]
    );
}

#[test]
fn empty_inputs() {
    let dir = TempDir::new("empty");
    for (name, text) in [
        ("empty.json", ""),
        ("blank.json", " \n\r\n\t\n"),
        ("bom.json", "\u{feff}"),
    ] {
        let path = dir.file(name, text);
        let (out, reader) = read_with(&[&path], Options::default());
        assert_eq!(out, common::Outcome::default(), "{name}");
        assert_eq!(reader.stats()[0].records, 0);
        assert_eq!(reader.stats()[0].bad_records, 0);
    }
    // An empty array and an empty envelope hold no records either.
    for text in [
        "[]",
        "[\n]\n",
        "{\"records\":[]}",
        "{\n  \"records\": [\n  ]\n}",
    ] {
        let path = dir.file("e.json", text);
        let out = read(&path);
        assert_eq!(out, common::Outcome::default(), "{text}");
    }
}

#[test]
fn empty_lines_and_blank_lines() {
    let dir = TempDir::new("blank-lines");
    let path = dir.file(
        "b.ndjson",
        "\n\n{\"a\":1}\n\n\n  {\"a\":2}  \n \t \n\n{\"a\":3}",
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [3, 6, 9]);
    assert_eq!(out.record_texts()[1], "{\"a\":2}");
    assert!(out.bad.is_empty());
}

#[test]
fn crlf_line_endings() {
    let dir = TempDir::new("crlf");
    let path = dir.file(
        "c.ndjson",
        "{\"a\":1}\r\n{\"a\":2}\r\n{\"bad\"\r\n\r\n{\"a\":3}\r\n",
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [1, 2, 5]);
    assert_eq!(out.record_texts(), ["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"]);
    assert_eq!(
        out.bad_lines(),
        [bad(3, "truncated record: the line ends inside the value")]
    );

    let path = dir.file(
        "c.json",
        "[\r\n  {\r\n    \"a\": 1\r\n  },\r\n  {\"a\": 2}\r\n]\r\n",
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [2, 5]);
    assert_eq!(out.record_texts()[0], "{\r\n    \"a\": 1\r\n  }");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).expect("compress in memory");
    enc.finish().expect("compress in memory")
}

#[test]
fn gzip_by_magic_bytes() {
    let dir = TempDir::new("gzip");
    let text = "{\"a\":1}\n{\"a\":2}\n";
    // Named like a plain file: the magic bytes decide.
    let path = dir.file("logs.json", gzip(text.as_bytes()));
    let (out, reader) = read_with(&[&path], Options::default());
    assert_eq!(out.record_texts(), ["{\"a\":1}", "{\"a\":2}"]);
    assert!(reader.inputs()[0].compressed);
    assert_eq!(reader.stats()[0].bytes_decoded, text.len() as u64);
    assert_eq!(
        reader.stats()[0].bytes_read,
        std::fs::metadata(&path).unwrap().len()
    );

    // Multi-member (concatenated .gz files); a record may straddle members.
    let mut multi = gzip(b"{\"a\":1}\n{\"a\":");
    multi.extend(gzip(b"2}\n{\"a\":3}\n"));
    let path = dir.file("multi.gz", &multi);
    for buffer_bytes in [3, 1 << 20] {
        let opts = Options {
            buffer_bytes,
            ..Options::default()
        };
        let (out, _) = read_with(&[&path], opts);
        assert_eq!(out.record_lines(), [1, 2, 3]);
        assert!(out.bad.is_empty());
    }

    // A .gz name on a plain file: read as plain.
    let path = dir.file("plain.json.gz", text);
    let (out, reader) = read_with(&[&path], Options::default());
    assert_eq!(out.records.len(), 2);
    assert!(!reader.inputs()[0].compressed);

    // A pretty-printed envelope, compressed.
    let path = dir.file(
        "env.gz",
        gzip(b"{\n \"records\": [\n  {\"a\": 1},\n  {\"a\": 2}\n ]\n}\n"),
    );
    let (out, _) = read_with(&[&path], Options::default());
    assert_eq!(out.record_lines(), [3, 4]);
}

#[test]
fn gzip_with_garbage() {
    let dir = TempDir::new("gzip-garbage");
    // Garbage after a complete member.
    let mut bytes = gzip(b"{\"a\":1}\n{\"a\":2}\n");
    bytes.extend_from_slice(b"this is not gzip\n");
    let path = dir.file("trailing.gz", &bytes);
    let (out, _) = read_with(&[&path], Options::default());
    assert_eq!(out.record_lines(), [1, 2]);
    assert_eq!(out.bad.len(), 1);
    assert_eq!(out.bad[0].line, 3);
    assert!(
        out.bad[0].reason.starts_with("read error: "),
        "{:?}",
        out.bad
    );

    // Cut in the middle of the compressed stream: what decompressed is framed, then the
    // partial record and the error are reported.
    let text: String = (0..2000).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    let full = gzip(text.as_bytes());
    let path = dir.file("cut.gz", &full[..full.len() / 2]);
    let (out, _) = read_with(&[&path], Options::default());
    assert!(out.records.len() > 100 && out.records.len() < 2000);
    let next_line = out.records.len() as u64 + 1;
    assert_eq!(out.bad.len(), 2, "{:?}", out.bad);
    assert_eq!(
        (out.bad[0].line, out.bad[0].reason.as_str()),
        (
            next_line,
            "truncated record: the input ends inside the value"
        )
    );
    assert_eq!(out.bad[1].line, next_line);
    assert!(out.bad[1].reason.starts_with("read error: "));

    // Corrupted deflate data.
    let mut bytes = full.clone();
    for b in &mut bytes[20..60] {
        *b = 0xAA;
    }
    let path = dir.file("corrupt.gz", &bytes);
    let (out, reader) = read_with(&[&path], Options::default());
    assert!(out.bad.iter().any(|b| b.reason.starts_with("read error: ")));
    assert_eq!(reader.stats()[0].bad_records as usize, out.bad.len());
}

#[test]
fn directory_tree() {
    let dir = TempDir::new("tree");
    let root = dir.path().join("logs");
    dir.file("logs/b/2.json", "{\"n\":2}\n");
    dir.file("logs/a/y=2024/m=01/PT1H.json", "{\"n\":1}\n{\"n\":1.5}\n");
    dir.file("logs/c.json.gz", gzip(b"{\"n\":3}\n"));
    dir.file("logs/.hidden.json", "{\"n\":\"hidden\"}\n");
    dir.file("logs/.git/x.json", "{\"n\":\"hidden dir\"}\n");
    dir.file("logs/a/pretty.json", "{\n  \"n\": 0\n}\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        // A loop, a second route to a file already listed, and a dangling link.
        symlink(&root, root.join("b/loop")).unwrap();
        symlink(root.join("b/2.json"), root.join("b/also-2.json")).unwrap();
        symlink(root.join("nowhere"), root.join("b/dangling.json")).unwrap();
    }
    let mut inputs = Inputs::new();
    let added = inputs.add(&root).unwrap();
    let names: Vec<String> = inputs
        .infos()
        .iter()
        .map(|i| {
            Path::new(&i.name)
                .strip_prefix(&root)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "a/pretty.json",
            "a/y=2024/m=01/PT1H.json",
            "b/2.json",
            "c.json.gz"
        ]
    );
    assert_eq!(added, 4);
    assert!(inputs.infos()[3].compressed);
    assert_eq!(inputs.infos()[0].size, Some(13));

    let mut reader = Reader::new(inputs, Options::default());
    let out = common::drain(&mut reader);
    let seen: Vec<(u32, u64, String)> = out
        .records
        .iter()
        .map(|r| {
            (
                r.input.0,
                r.line,
                String::from_utf8(r.bytes.clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (0, 1, "{\n  \"n\": 0\n}".to_string()),
            (1, 1, "{\"n\":1}".to_string()),
            (1, 2, "{\"n\":1.5}".to_string()),
            (2, 1, "{\"n\":2}".to_string()),
            (3, 1, "{\"n\":3}".to_string()),
        ]
    );
    let stats = reader.stats();
    assert_eq!(stats[0].format, Some(Format::Json));
    assert_eq!(stats[1].format, Some(Format::JsonLines));
    assert_eq!(stats[1].records, 2);
    assert_eq!(reader.totals().records, 5);

    // Named explicitly, a hidden file is read.
    let mut inputs = Inputs::new();
    assert_eq!(inputs.add(root.join(".hidden.json")).unwrap(), 1);
}

#[test]
fn missing_and_unreadable_inputs_are_errors_naming_the_path() {
    let dir = TempDir::new("missing");
    let missing = dir.path().join("nope.json");
    let err = Reader::open([&missing], Options::default()).unwrap_err();
    assert!(
        err.to_string().starts_with(&missing.display().to_string()),
        "{err}"
    );
    let mut inputs = Inputs::new();
    assert!(inputs.add(&missing).is_err());
    assert!(inputs.is_empty());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.file("locked.json", "{}\n");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads anything: only check where permissions bite.
        if std::fs::File::open(&locked).is_err() {
            let err = inputs.add(&locked).unwrap_err();
            assert!(err.to_string().contains("locked.json"), "{err}");
        }
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

#[test]
fn json_array_of_100k_records_is_streamed() {
    let dir = TempDir::new("array");
    let n = 100_000;
    let mut text = String::from("[\n");
    for i in 0..n {
        let sep = if i + 1 < n { "," } else { "" };
        text.push_str(&format!(
            "  {{\n    \"operationName\": \"MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE\",\n    \"n\": {i}\n  }}{sep}\n"
        ));
    }
    text.push_str("]\n");
    let path = dir.file("array.json", &text);
    let opts = Options {
        buffer_bytes: 64 << 10,
        ..Options::default()
    };
    let (out, reader) = read_with(&[&path], opts);
    assert!(out.bad.is_empty());
    assert_eq!(out.records.len(), n);
    // Each element starts on its own line: 2, 6, 10, …
    for (i, r) in out.records.iter().enumerate() {
        assert_eq!(r.line, 2 + 4 * i as u64);
    }
    assert!(out.records[n - 1].bytes.ends_with(b"\"n\": 99999\n  }"));
    // Streamed: the buffer never grew past one read.
    assert_eq!(reader.buffer_capacity(), 64 << 10);
    assert_eq!(reader.stats()[0].format, Some(Format::Json));

    // Minified on one line.
    let compact = format!(
        "[{}]",
        (0..n)
            .map(|i| format!("{{\"n\":{i}}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let path = dir.file("compact.json", &compact);
    let (out, _) = read_with(&[&path], Options::default());
    assert_eq!(out.records.len(), n);
    assert!(out.records.iter().all(|r| r.line == 1));
}

#[test]
fn broken_element_in_a_pretty_array_costs_only_that_element() {
    let dir = TempDir::new("array-broken");
    let text = concat!(
        "[\n",
        "  {\"a\": 1},\n",
        "  {\"a\": 2,, \"b\": 3},\n",
        "  {\"a\": 3},\n",
        "  42,\n",
        "  {\"a\": 4}\n",
        "  {\"a\": 5},\n",
        "  {\n",
        "    \"a\": [1, 2\n",
        "  },\n",
        "  {\"a\": 6}\n",
        "]\n",
    );
    let path = dir.file("a.json", text);
    let out = read(&path);
    assert_eq!(out.record_lines(), [2, 4, 6, 7, 11]);
    assert_eq!(
        out.bad_lines(),
        [
            bad(3, "invalid JSON: expected a string key at column 11"),
            bad(5, "not an object: a number"),
            bad(7, "invalid JSON: expected ',' or ']' at column 3"),
            bad(8, "invalid JSON: expected ',' or ']' at line 10, column 3"),
        ]
    );
}

#[test]
fn envelope_with_records() {
    // The Azure Monitor documentation's Event Hubs / storage example, pretty-printed.
    let sample = Path::new(
        "/work/shared/samples/microsoft-docs/activity-log-schema_storage-eventhub-example.json",
    );
    if sample.exists() {
        let out = read(sample);
        assert!(out.bad.is_empty());
        assert_eq!(out.record_lines(), [3]);
        let text = String::from_utf8(out.records[0].bytes.clone()).unwrap();
        assert!(text.starts_with('{') && text.ends_with('}'));
        assert!(text.contains("\"operationName\": \"microsoft.support/supporttickets/write\""));
    }

    let dir = TempDir::new("envelope");
    let path = dir.file(
        "env.json",
        concat!(
            "{\n",
            "  \"records\": [\n",
            "    {\"time\": \"2024-01-01T00:00:00Z\", \"n\": 1},\n",
            "    {\n",
            "      \"time\": \"2024-01-01T00:00:01Z\",\n",
            "      \"n\": 2\n",
            "    },\n",
            "    \"not a record\"\n",
            "  ],\n",
            "  \"extra\": {\"ignored\": true}\n",
            "}\n",
            "{\"records\": [{\"n\": 3}]}\n",
        ),
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [3, 4, 12]);
    assert_eq!(out.bad_lines(), [bad(8, "not an object: a string")]);
    assert_eq!(out.record_texts()[2], "{\"n\": 3}");

    // `records` after another key: still an envelope, unless a key marks an event.
    let path = dir.file(
        "late.json",
        "{\"schema\": \"v1\", \"records\": [{\"n\": 1}, {\"n\": 2}]}\n{\"time\": \"t\", \"records\": [{\"n\": 1}]}\n{\"records\": 5}\n",
    );
    let out = read(&path);
    assert_eq!(
        out.record_texts(),
        [
            "{\"n\": 1}",
            "{\"n\": 2}",
            "{\"time\": \"t\", \"records\": [{\"n\": 1}]}",
            "{\"records\": 5}"
        ]
    );
    assert_eq!(out.record_lines(), [1, 1, 2, 3]);
}

#[test]
fn envelopes_inside_ndjson() {
    let dir = TempDir::new("envelope-ndjson");
    let path = dir.file(
        "PT1H.json",
        concat!(
            "{\"records\":[{\"n\":1},{\"n\":2},{\"n\":3}]}\n",
            "{\"n\":4}\n",
            "{\"records\":[{\"n\":5},7,{\"n\":6}]}\n",
            "{\"records\":[{\"n\":8},{\"n\":,},{\"n\":9}]}\n",
            "{ \"records\" : [ ] }\n",
            "{\"records\":[{\"n\":10}], \"x\": 1}\n",
        ),
    );
    let out = read(&path);
    assert_eq!(
        out.record_texts(),
        [
            "{\"n\":1}",
            "{\"n\":2}",
            "{\"n\":3}",
            "{\"n\":4}",
            "{\"n\":5}",
            "{\"n\":6}",
            "{\"n\":8}",
            "{\"n\":10}"
        ]
    );
    assert_eq!(out.record_lines(), [1, 1, 1, 2, 3, 3, 4, 6]);
    assert_eq!(
        out.bad_lines(),
        [
            bad(3, "not an object: a number"),
            bad(4, "invalid JSON: expected a value at column 26"),
        ]
    );
}

#[test]
fn non_object_values() {
    let dir = TempDir::new("shapes");
    let path = dir.file(
        "s.ndjson",
        "{\"a\":1}\n42\n\"str\"\n[1,2]\ntrue\nnull\n-1.5e3\n[]\n{\"a\":2}\n",
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [1, 9]);
    assert_eq!(
        out.bad_lines(),
        [
            bad(2, "not an object: a number"),
            bad(3, "not an object: a string"),
            bad(4, "not an object: an array"),
            bad(5, "not an object: a boolean"),
            bad(6, "not an object: null"),
            bad(7, "not an object: a number"),
            bad(8, "not an object: an array"),
        ]
    );

    // In an array of records, each element must be an object.
    let path = dir.file("s.json", "[1, \"x\", [{\"a\":1}], {\"a\": 2}, null, false]");
    let out = read(&path);
    assert_eq!(out.record_texts(), ["{\"a\": 2}"]);
    assert_eq!(
        out.bad_lines(),
        [
            bad(1, "not an object: a number"),
            bad(1, "not an object: a string"),
            bad(1, "not an object: an array"),
            bad(1, "not an object: null"),
            bad(1, "not an object: a boolean"),
        ]
    );

    // A lone top-level value.
    let path = dir.file("n.json", "12345");
    let out = read(&path);
    assert_eq!(out.bad_lines(), [bad(1, "not an object: a number")]);
}

#[test]
fn concatenated_pretty_objects() {
    let dir = TempDir::new("concat");
    // `jq .` output: pretty objects one after another, one of them cut short.
    let path = dir.file(
        "jq.json",
        "{\n  \"a\": 1\n}\n{\n  \"a\": 2,\n{\n  \"a\": 3\n}\n{\"a\": 4} {\"a\": 5}\n",
    );
    let out = read(&path);
    assert_eq!(out.record_lines(), [1, 6, 9, 9]);
    assert_eq!(
        out.bad_lines(),
        [bad(
            4,
            "invalid JSON: expected a string key at line 6, column 1"
        )]
    );
}

#[test]
fn public_samples_frame_cleanly() {
    let root = Path::new("/work/shared/samples");
    if !root.exists() {
        return;
    }
    for (path, records) in [
        (
            "elastic-azure-activitylogs/test_pipeline/test-time-formats-corner-cases.log@811c7f04.log",
            11,
        ),
        (
            "elastic-azure-activitylogs/test_pipeline/test-azure-activitylogs-duration-as-string-sample.log@627146b1.log",
            3,
        ),
        ("plaso/azure_activity_log.jsonl", 4),
        (
            "public-activitylog-samples/rest-format_extensions-delete_OMSExtension.json",
            1,
        ),
        (
            "public-activitylog-samples/rest-format_virtualMachines-write_with-extension-publisher-in-responseBody.json",
            1,
        ),
    ] {
        let out = read(&root.join(path));
        assert!(out.bad.is_empty(), "{path}: {:?}", out.bad);
        assert_eq!(out.records.len(), records, "{path}");
        for r in &out.records {
            assert!(
                vigil_event::parse_json(&r.bytes).is_ok(),
                "{path}:{}",
                r.line
            );
        }
    }
}

#[test]
fn progress_hook_and_stats() {
    let dir = TempDir::new("progress");
    let a = dir.file("a.json", "{\"a\":1}\n".repeat(100_000));
    let b = dir.file("b.json", gzip("{\"b\":2}\n".repeat(100_000).as_bytes()));
    let total = std::fs::metadata(&a).unwrap().len() + std::fs::metadata(&b).unwrap().len();
    let mut reader = Reader::open(
        [&a, &b],
        Options {
            buffer_bytes: 10_000,
            ..Options::default()
        },
    )
    .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    reader.set_progress_hook(move |p| sink.lock().unwrap().push(*p));
    let mut n = 0;
    while let Some(item) = reader.next_ref() {
        assert!(matches!(item, ItemRef::Record(_)));
        n += 1;
    }
    assert_eq!(n, 200_000);
    let seen = seen.lock().unwrap();
    assert!(seen.len() > 8);
    assert!(seen.windows(2).all(|w| w[0].bytes_read <= w[1].bytes_read));
    assert!(seen.iter().all(|p| p.bytes_total == Some(total)));
    assert_eq!(reader.progress().bytes_read, total);
    let totals = reader.totals();
    assert_eq!(totals.records, 200_000);
    assert_eq!(totals.bytes_read, total);
    assert_eq!(totals.bytes_decoded, 1_600_000);
}

#[test]
fn readers_and_slices() {
    let body = b"{\"records\":[{\"a\":1},{\"a\":2}]}";
    let items: Vec<Item> = frame_slice(InputId(7), body, &Options::default()).collect();
    assert_eq!(items.len(), 2);
    assert!(
        matches!(&items[1], Item::Record(r) if r.input == InputId(7) && r.bytes == b"{\"a\":2}")
    );

    let mut inputs = Inputs::new();
    inputs.add_reader("body-1", std::io::Cursor::new(gzip(body)));
    inputs.add_reader("body-2", std::io::Cursor::new(b"[{\"a\":3}]".to_vec()));
    let mut reader = Reader::new(inputs, Options::default());
    let out = common::drain(&mut reader);
    assert_eq!(out.records.len(), 3);
    assert_eq!(out.records[2].input, InputId(1));
    assert_eq!(reader.inputs()[1].name, "body-2");
    assert!(reader.inputs()[0].compressed);

    // Bad records name their input and line.
    let bad = frame_slice(InputId(0), b"{}\n{", &Options::default())
        .find_map(|i| match i {
            Item::Bad(b) => Some(b),
            Item::Record(_) => None,
        })
        .unwrap();
    let infos = [vigil_ingest::InputInfo {
        id: InputId(0),
        name: "x.json".into(),
        size: None,
        compressed: false,
    }];
    assert_eq!(
        bad.display(&infos).to_string(),
        "x.json:2: truncated record: the input ends inside the value"
    );
}

#[test]
fn forced_format() {
    let text = b"{\n\"a\":1}\n";
    let opts = Options {
        format: Some(Format::JsonLines),
        ..Options::default()
    };
    let items: Vec<Item> = frame_slice(InputId(0), text, &opts).collect();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| matches!(i, Item::Bad(_))));
    let items: Vec<Item> = frame_slice(InputId(0), text, &Options::default()).collect();
    assert!(matches!(&items[..], [Item::Record(_)]));
}

#[test]
fn inputs_that_are_not_utf8_text_get_one_report() {
    let dir = TempDir::new("unsupported");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("{\"a\":1}\r\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let a = dir.file("export.json", utf16);
    let b = dir.file(
        "logs.zip",
        b"PK\x03\x04\x14\x00\x00\x00rest of the archive\n",
    );
    let c = dir.file("ok.json", "{\"a\":1}\n");
    let (out, reader) = read_with(&[&a, &b, &c], Options::default());
    assert_eq!(out.records.len(), 1);
    let bad: Vec<(u32, u64, &str)> = out
        .bad
        .iter()
        .map(|b| (b.input.0, b.line, b.reason.as_str()))
        .collect();
    assert_eq!(
        bad,
        [
            (0, 1, "unsupported input: UTF-16 text (convert it to UTF-8)"),
            (1, 1, "unsupported input: a zip archive"),
        ]
    );
    assert_eq!(reader.stats()[0].bad_records, 1);
    let out = read(&b);
    assert_eq!(out.bad.len(), 1);
}

#[test]
fn reader_can_move_to_another_thread() {
    fn is_send<T: Send>() {}
    is_send::<Reader>();
    is_send::<Inputs>();
}

#[test]
fn live_stream_yields_records_as_lines_arrive() {
    use std::sync::mpsc;
    use std::time::Duration;

    let (pipe_in, mut pipe_out) = std::io::pipe().unwrap();
    let (got_first, first_seen) = mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        pipe_out.write_all(b"{\"a\":1}\n").unwrap();
        // The reader must frame the first line before more is written.
        let in_time = first_seen.recv_timeout(Duration::from_secs(10)).is_ok();
        pipe_out.write_all(b"{\"a\":2}\n").unwrap();
        in_time
    });
    let mut inputs = Inputs::new();
    inputs.add_reader("pipe", pipe_in);
    let mut reader = Reader::new(inputs, Options::default());
    let mut lines = Vec::new();
    while let Some(item) = reader.next_ref() {
        match item {
            ItemRef::Record(r) => lines.push(r.line),
            ItemRef::Bad(b) => panic!("{b:?}"),
        }
        if lines.len() == 1 {
            got_first.send(()).unwrap();
        }
    }
    assert!(
        writer.join().unwrap(),
        "the first record waited for more input"
    );
    assert_eq!(lines, [1, 2]);
}

#[test]
fn trailing_comma_in_an_array_of_records() {
    let dir = TempDir::new("trailing-comma");
    let path = dir.file("a.json", "[{\"a\":1},\n {\"a\":2},\n]\n{\"a\":3}\n");
    let out = read(&path);
    assert_eq!(out.record_lines(), [1, 2, 4]);
    assert_eq!(
        out.bad_lines(),
        [bad(3, "invalid JSON: trailing ',' before ']' at column 1")]
    );
}
