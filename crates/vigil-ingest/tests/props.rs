//! Properties: no input panics the framer, whatever the buffer size; every record it yields is a
//! JSON object; N valid records joined by any whitespace (bare, in an array, in an envelope)
//! come out as exactly those N records.

use std::io::{Cursor, Write};

use proptest::prelude::*;
use serde_json::Value;
use vigil_ingest::{Format, InputId, Inputs, Item, ItemRef, Options, Reader, frame_slice};

fn via_slice(bytes: &[u8], opts: &Options) -> Vec<Item> {
    frame_slice(InputId(0), bytes, opts)
        .map(ItemRef::into_owned)
        .collect()
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

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..600), jsonish()]
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
            small.clone(),
        ] {
            let items = via_slice(&bytes, &opts);
            // Every record is a complete JSON object.
            for r in records(&items) {
                prop_assert_eq!(r.first(), Some(&b'{'));
                let parsed: Result<Value, _> = serde_json::from_slice(r);
                prop_assert!(parsed.is_ok_and(|v| v.is_object()), "{:?}", String::from_utf8_lossy(r));
            }
            // Reading in small pieces frames exactly the same.
            let read = via_reader(bytes.clone(), Options { buffer_bytes, ..opts.clone() });
            prop_assert_eq!(read, items);
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
