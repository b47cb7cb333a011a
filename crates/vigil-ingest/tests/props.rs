//! Properties: no input panics the framer, whatever the buffer size; every record it yields is a
//! JSON object; N valid records joined by any whitespace (bare, in an array, in an envelope)
//! come out as exactly those N records; a table the `csv` crate writes comes out as its rows;
//! a damaged EVTX file never panics the EVTX framer.

mod common;

use std::io::{Cursor, Write};
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;
use vigil_ingest::{Format, InputId, Inputs, Item, Options, Reader, frame_slice};

fn via_slice(bytes: &[u8], opts: &Options) -> Vec<Item> {
    frame_slice(InputId(0), bytes, opts).collect()
}

fn via_reader(bytes: Vec<u8>, opts: Options) -> Vec<Item> {
    let mut inputs = Inputs::new();
    inputs.add_reader("prop", Cursor::new(bytes));
    Reader::new(inputs, opts).collect()
}

fn records(items: &[Item]) -> Vec<&[u8]> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Record(r) => Some(&r.bytes[..]),
            Item::Bad(_) => None,
        })
        .collect()
}

/// Bytes that exercise the JSON grammar more often than uniform noise does.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"{}[]\":,\\ \n\r\tabtrufenlsrcod0123456789-.eE\xff\xc3\xa9".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..400)
}

/// A header row, then bytes that exercise CSV quoting and line breaks.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b",,;\t\"\"\n\r abAB01{}\xff\xc3\xa9".to_vec();
    (
        prop::sample::select(vec!["A,B\n", "A;B;C\r\n", "A\tB\n", "\u{feff}A,B\n", ""]),
        prop::collection::vec(prop::sample::select(alphabet), 0..300),
    )
        .prop_map(|(header, body)| [header.as_bytes(), &body].concat())
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        jsonish(),
        csvish()
    ]
}

/// A small Sysmon log: two chunks, three templates' worth of records.
fn sysmon_log() -> &'static [u8] {
    static LOG: OnceLock<Vec<u8>> = OnceLock::new();
    LOG.get_or_init(|| {
        use common::evtx::{chunk, file, file_create, process_create};
        file(&[
            chunk(&[
                process_create(1, "C:\\a.exe", "a -x", "C:\\p.exe"),
                file_create(2, "C:\\a.exe", "C:\\t\\x.ps1"),
                process_create(3, "C:\\b.exe", "b", "C:\\a.exe"),
            ]),
            chunk(&[file_create(4, "C:\\b.exe", "C:\\y.txt")]),
        ])
    })
}

/// Column names as Kusto writes them.
fn column_names() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[A-Za-z_][A-Za-z0-9_]{0,7}", 1..6)
        .prop_map(|names| names.into_iter().collect())
}

/// Cell text with everything that needs quoting.
fn cell() -> impl Strategy<Value = String> {
    "[a-z ,;\"\n\r\t{}\\\\\u{e9}]{0,8}"
}

/// Checks a framing of any input: every record is one JSON object, and the reader agrees with
/// the slice whatever its buffer size.
fn check_items(
    bytes: &[u8],
    opts: &Options,
    buffer_bytes: usize,
) -> Result<Vec<Item>, TestCaseError> {
    let items = via_slice(bytes, opts);
    for r in records(&items) {
        prop_assert_eq!(r.first(), Some(&b'{'));
        let parsed: Result<Value, _> = serde_json::from_slice(r);
        prop_assert!(
            parsed.is_ok_and(|v| v.is_object()),
            "{:?}",
            String::from_utf8_lossy(r)
        );
    }
    let read = via_reader(
        bytes.to_vec(),
        Options {
            buffer_bytes,
            ..opts.clone()
        },
    );
    prop_assert_eq!(&read, &items);
    Ok(items)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            // Keys without an `r`, so no generated record looks like a `records` envelope.
            prop::collection::btree_map("[a-qs-z\u{e9}\"\\\\ ]{0,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_record() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-qs-z]{0,6}", json_value(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn blank() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["", " ", "\t", "\n", "\r\n", "  \n"]),
        0..3,
    )
    .prop_map(|parts| parts.concat())
}

#[derive(Debug, Clone, Copy)]
enum Wrap {
    Bare,
    Array,
    Envelope,
}

proptest! {
    // PROPTEST_CASES raises the count for a longer soak.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn random_bytes_never_panic(bytes in any_bytes(), buffer_bytes in 1usize..48) {
        let small = Options { buffer_bytes, max_record_bytes: 256, ..Options::default() };
        for opts in [
            Options::default(),
            Options { format: Some(Format::JsonLines), ..Options::default() },
            Options { format: Some(Format::Json), ..Options::default() },
            Options { format: Some(Format::Csv), ..Options::default() },
            Options { format: Some(Format::Csv), max_record_bytes: 16, ..Options::default() },
            Options { format: Some(Format::Evtx), ..Options::default() },
            small.clone(),
        ] {
            check_items(&bytes, &opts, buffer_bytes)?;
        }
        // The same bytes behind an EVTX signature, and in place of a chunk.
        let mut evtx = b"ElfFile\0".to_vec();
        evtx.extend_from_slice(&bytes);
        check_items(&evtx, &Options::default(), buffer_bytes)?;
        let mut chunk = sysmon_log()[..4096].to_vec();
        chunk.extend_from_slice(b"ElfChnk\0");
        chunk.extend_from_slice(&bytes);
        chunk.resize(chunk.len().max(4096 + 600), 0);
        check_items(&chunk, &Options::default(), buffer_bytes)?;
    }

    #[test]
    fn damaged_evtx_never_panics(
        edits in prop::collection::vec((0usize..70_000, any::<u8>()), 0..12),
        reseal in any::<bool>(),
        cut in prop::option::of(0usize..(4096 + 2 * 65536)),
        buffer_bytes in prop_oneof![Just(1usize << 20), 1usize..5000],
    ) {
        let mut bytes = sysmon_log().to_vec();
        for (at, b) in edits {
            // Mostly in the first chunk's records, where the binary XML is.
            let at = 4096 + 512 + at % (bytes.len() - 4096 - 512);
            bytes[at] = b;
        }
        if reseal {
            // Sealed again, the edits reach the binary XML parser as if Windows wrote them.
            common::evtx::reseal(&mut bytes[4096..4096 + 65536]);
        }
        if let Some(cut) = cut {
            bytes.truncate(cut);
        }
        let items = check_items(&bytes, &Options::default(), buffer_bytes)?;
        // Never more records than the log holds.
        prop_assert!(records(&items).len() <= 4);
    }

    #[test]
    fn csv_tables_come_out_as_their_rows(
        names in column_names(),
        rows in prop::collection::vec(prop::collection::vec(cell(), 6), 0..8),
        crlf in any::<bool>(),
        bom in any::<bool>(),
        buffer_bytes in 1usize..64,
    ) {
        let mut text = if bom { "\u{feff}".as_bytes().to_vec() } else { Vec::new() };
        let mut writer = csv::WriterBuilder::new()
            .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        writer.write_record(&names).unwrap();
        writer.flush().unwrap();
        let mut expected = Vec::new();
        for row in &rows {
            let cells = &row[..names.len()];
            let start = writer.get_ref().len();
            writer.write_record(cells).unwrap();
            writer.flush().unwrap();
            let line = 1 + writer.get_ref()[..start].iter().filter(|&&c| c == b'\n').count() as u64;
            let object: serde_json::Map<String, Value> = names
                .iter()
                .cloned()
                .zip(cells.iter().map(|c| Value::String(c.clone())))
                .collect();
            expected.push((line, Value::Object(object)));
        }
        text.extend_from_slice(writer.get_ref());

        let csv_opts = Options { format: Some(Format::Csv), ..Options::default() };
        let items = via_slice(&text, &csv_opts);
        let got: Vec<(u64, Value)> = items
            .iter()
            .map(|i| match i {
                Item::Record(r) => (r.line, serde_json::from_slice(&r.bytes).unwrap()),
                Item::Bad(b) => (b.line, Value::String(b.reason.clone())),
            })
            .collect();
        prop_assert_eq!(&got, &expected, "{:?}", String::from_utf8_lossy(&text));

        // Detected by name, read in small pieces.
        let mut inputs = Inputs::new();
        inputs.add_reader("table.csv", Cursor::new(text.clone()));
        let read: Vec<Item> = Reader::new(inputs, Options { buffer_bytes, ..Options::default() }).collect();
        prop_assert_eq!(&read, &items);

        // Detected by content: a header of two or more names and a row that matches it.
        let first = rows.first().map(|r| r[0].as_str()).unwrap_or("{");
        if names.len() >= 2 && !first.starts_with(['{', '[']) {
            let detected = frame_slice(InputId(0), &text, &Options::default());
            prop_assert_eq!(detected.format(), Format::Csv);
            prop_assert_eq!(&detected.collect::<Vec<_>>(), &items);
        }
    }

    #[test]
    fn n_records_joined_by_whitespace(
        recs in prop::collection::vec((json_record(), any::<bool>(), blank()), 0..12),
        lead in blank(),
        wrap in prop_oneof![Just(Wrap::Bare), Just(Wrap::Array), Just(Wrap::Envelope)],
        buffer_bytes in 1usize..64,
    ) {
        let texts: Vec<String> = recs
            .iter()
            .map(|(v, pretty, _)| {
                if *pretty {
                    serde_json::to_string_pretty(v).unwrap()
                } else {
                    serde_json::to_string(v).unwrap()
                }
            })
            .collect();
        let mut doc = lead.clone();
        match wrap {
            Wrap::Bare => {
                for (text, (_, _, ws)) in texts.iter().zip(&recs) {
                    doc.push_str(text);
                    // Nothing at all between two records is fine too.
                    doc.push_str(ws);
                }
            }
            Wrap::Array | Wrap::Envelope => {
                if matches!(wrap, Wrap::Envelope) {
                    doc.push('{');
                    doc.push_str(&lead);
                    doc.push_str("\"records\"");
                    doc.push_str(&lead);
                    doc.push(':');
                }
                doc.push('[');
                for (i, (text, (_, _, ws))) in texts.iter().zip(&recs).enumerate() {
                    if i > 0 {
                        doc.push(',');
                    }
                    doc.push_str(ws);
                    doc.push_str(text);
                    doc.push_str(ws);
                }
                doc.push(']');
                if matches!(wrap, Wrap::Envelope) {
                    doc.push_str(&lead);
                    doc.push('}');
                }
                doc.push_str(&lead);
            }
        }
        let expected: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();

        let items = via_slice(doc.as_bytes(), &Options::default());
        prop_assert!(items.iter().all(|i| matches!(i, Item::Record(_))), "{:?}\n{}", items, doc);
        prop_assert_eq!(records(&items), expected.clone());

        let opts = Options { buffer_bytes, ..Options::default() };
        let read = via_reader(doc.clone().into_bytes(), opts.clone());
        prop_assert_eq!(&read, &items);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(doc.as_bytes()).unwrap();
        let read = via_reader(gz.finish().unwrap(), opts);
        prop_assert_eq!(&read, &items);
    }
}
