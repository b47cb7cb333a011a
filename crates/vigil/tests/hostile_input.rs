//! Hostile input end to end: malformed lines, invalid UTF-8, a 50 MB line and 100k-deep nesting
//! are reported with `file:line` and skipped; the rest of the file is processed and alerts.

mod common;

use common::{Record, TempFile, parse_ndjson, vigil};

#[test]
fn bad_records_are_reported_and_the_rest_is_processed() {
    let good = |i: i64| {
        Record::extension_write(&format!("VM-{i}"), "CUSTOMSCRIPTEXTENSION")
            .user("alice@contoso.com")
            .at("2026-05-18T10:00:00", i * 60)
            .success()
            .to_json()
            .to_string()
    };
    let mut bytes: Vec<u8> = Vec::new();
    let mut push = |b: &[u8]| {
        bytes.extend_from_slice(b);
        bytes.push(b'\n');
    };
    push(good(0).as_bytes()); // line 1
    push(br#"{"time": "2026-05-18T10:01:00Z", "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE""#); // 2: truncated
    push(b"{\"operationName\":\"MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE\",\"x\":\"\xff\xfe\"}"); // 3: invalid UTF-8
    let mut huge =
        b"{\"operationName\":\"MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE\",\"pad\":\""
            .to_vec();
    huge.resize(50 << 20, b'a');
    huge.extend_from_slice(b"\"}");
    push(&huge); // 4: 50 MB
    push(good(1).as_bytes()); // 5
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    push(deep.as_bytes()); // 6
    let deep_obj = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
    push(deep_obj.as_bytes()); // 7
    push(b"[1, 2, 3]"); // 8: not an object
    push(b"not json at all"); // 9
    push(good(2).as_bytes()); // 10
    let input = TempFile::with_bytes("ndjson", &bytes);
    let path = input.0.to_str().unwrap();

    // One rule of the pack, so that the count is about the records, not the pack's size.
    let rule = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../rules/azure/persistence_vm_script_extension_write.toml"
    );
    let out = vigil(&["hunt", "--rules", rule, "--format", "ndjson", path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = parse_ndjson(&out.stdout);
    assert_eq!(alerts.len(), 3, "the three good records still alert");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in [2, 3, 4, 6, 7, 8, 9] {
        assert!(
            stderr.contains(&format!("{path}:{line}:")),
            "line {line} is not reported:\n{stderr}"
        );
    }
    assert!(stderr.contains("7 bad"), "{stderr}");
    assert!(stderr.contains("10 records"), "{stderr}");
}
