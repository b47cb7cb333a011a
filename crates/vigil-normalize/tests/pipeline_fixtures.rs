//! Runs the upstream pipeline-test inputs of the Azure integration's `activitylogs` data stream
//! (`../shared/samples/elastic-azure-activitylogs/test_pipeline/`) through the normalizer and
//! compares the result with the expected documents, field by field.
//!
//! Each input line is fed as the pipeline's `message`, with `tags: ["preserve_original_event"]`
//! as the package's `test-common-config.yml` sets. GeoIP and ASN fields (`geo.*`,
//! `source.geo.*`, `source.as.*`) are enrichment, not normalization, and are not compared in
//! either direction (the pipeline's own `geo.name`, from `location`, is replaced by the City
//! lookup when it finds the caller's address, so the expected documents with an address lack
//! it while Vigil's pre-enrichment output has it). The
//! expected files come from several versions of the pipeline; fields that differ between those
//! versions and the one Vigil reproduces are listed per file below, with what Vigil must emit
//! instead.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value as Json, json};

use common::{fixture_dir, leaves, normalize, to_json};

/// Fields the data stream adds at index time, not the pipeline.
const INDEX_TIME: &[&str] = &[
    "data_stream.type",
    "data_stream.dataset",
    "data_stream.namespace",
    "event.dataset",
    "event.module",
];

fn is_enrichment(path: &str) -> bool {
    ["geo", "source.geo", "source.as"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}.")))
}

/// A version-specific field: its path and, per record, the value Vigil must produce (`None` =
/// absent) under the pipeline versions it reproduces.
struct VersionField {
    path: &'static str,
    ours: Vec<Option<Json>>,
}

struct Fixture {
    expected: &'static str,
    input: &'static str,
    /// The package's test config adds these tags to every input document.
    tags: bool,
    version_fields: Vec<VersionField>,
}

fn fixtures() -> Vec<Fixture> {
    let raw_id = "/SUBSCRIPTIONS/8a4de8b5-095c-47d0-a96f-a75130c61d53/RESOURCEGROUPS/SA-HEMA/PROVIDERS/MICROSOFT.EVENTHUB/NAMESPACES/AZURELSEVENTS/AUTHORIZATIONRULES/ROOTMANAGESHAREDACCESSKEY";
    let principal = "8a4de8b5-095c-47d0-a96f-a75130c61d53";
    let mixed_id_0 = "/subscriptions/8a4de8b5-095c-47d0-a96f-a75130c61d53/resourcegroups/sa-hema/providers/Microsoft.EventHub/namespaces/azurelsevents";
    let mixed_id_1 = "/TeNaNtS/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/providers/Microsoft.aadiam";
    vec![
        Fixture {
            // Expected output of pipeline version 136ebec1, older than ours.
            expected: "test-activitylogs-raw.log-expected@136ebec1.json",
            input: "test-activitylogs-raw.log@c81e9fe7.log",
            tags: true,
            version_fields: vec![
                // 136ebec1 renamed correlationId to azure.correlation_id; 37c97e14 writes
                // azure.correlation.id.
                VersionField {
                    path: "azure.correlation_id",
                    ours: vec![None],
                },
                VersionField {
                    path: "azure.correlation.id",
                    ours: vec![Some(json!(principal))],
                },
                // related.entity (resource id, then the evidence principal id) came later.
                VersionField {
                    path: "related.entity",
                    ours: vec![Some(json!([raw_id, principal]))],
                },
            ],
        },
        Fixture {
            expected: "test-time-formats-corner-cases.log-expected@6b515b51.json",
            input: "test-time-formats-corner-cases.log@811c7f04.log",
            tags: true,
            version_fields: vec![],
        },
        Fixture {
            // Version 627146b1: its durationMs handling is the one Vigil follows; its
            // correlation field is the older name.
            expected: "test-azure-activitylogs-duration-as-string-sample.log-expected@627146b1.json",
            input: "test-azure-activitylogs-duration-as-string-sample.log@627146b1.log",
            tags: true,
            version_fields: vec![
                VersionField {
                    path: "azure.correlation_id",
                    ours: vec![None, None, None],
                },
                VersionField {
                    path: "azure.correlation.id",
                    ours: vec![
                        Some(json!(principal)),
                        Some(json!("1c867fe2-050c-4a74-bb1c-a83b15246fdd")),
                        Some(json!("1c867fe2-050c-4a74-bb1c-a83b15246fdd")),
                    ],
                },
            ],
        },
        Fixture {
            // Produced by a newer shared pipeline than 1b08d3b5 (source not available), from
            // the input recovered out of its event.original values. That run had no tags.
            expected: "test-activitylogs-mixedcase-resourceid.log-expected@55c9a0a3.json",
            input: "test-activitylogs-mixedcase-resourceid.log.INPUT-FROM-EXPECTED@55c9a0a3.log",
            tags: false,
            version_fields: vec![
                // Newer pipeline only: cloud.* copies and resource_group / resource_provider
                // objects, resource name cut from the lower-case id, tenant from /tenants/.
                VersionField {
                    path: "cloud.resource_id",
                    ours: vec![None, None],
                },
                VersionField {
                    path: "cloud.account.id",
                    ours: vec![None, None],
                },
                VersionField {
                    path: "azure.resource_group.name",
                    ours: vec![None, None],
                },
                VersionField {
                    path: "azure.resource_provider.namespace",
                    ours: vec![None, None],
                },
                VersionField {
                    path: "azure.tenant.id",
                    ours: vec![None, None],
                },
                // 1b08d3b5: `resourcegroups` in lower case defeats the group patterns; only
                // `/providers/…` and the subscription grok apply. `/TeNaNtS/` has no
                // subscription at all.
                VersionField {
                    path: "azure.resource.name",
                    ours: vec![None, None],
                },
                VersionField {
                    path: "azure.resource.provider",
                    ours: vec![
                        Some(json!("Microsoft.EventHub/namespaces/azurelsevents")),
                        Some(json!("Microsoft.aadiam")),
                    ],
                },
                VersionField {
                    path: "azure.resource.id",
                    ours: vec![Some(json!(mixed_id_0)), Some(json!(mixed_id_1))],
                },
                // 37c97e14 copies a location longer than two letters other than "global";
                // that pipeline predates it.
                VersionField {
                    path: "cloud.region",
                    ours: vec![Some(json!("West Europe")), None],
                },
            ],
        },
    ]
}

#[derive(Default)]
struct Counts {
    files: usize,
    records: usize,
    fields: usize,
    version_fields: usize,
    skipped: Vec<String>,
}

#[test]
fn upstream_pipeline_fixtures() {
    let Some(dir) = fixture_dir() else {
        eprintln!(
            "SKIP pipeline fixtures: shared samples not found (set VIGIL_SHARED); 4 fixture files skipped"
        );
        return;
    };
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for fx in fixtures() {
        run_fixture(&dir, &fx, &mut counts, &mut failures);
    }
    // Inputs with no expected output of their own version: the .log of the mixed-case test
    // at 4f2b318e was not the input of the 55c9a0a3 expectations.
    let paired: Vec<&str> = fixtures().iter().map(|f| f.input).collect();
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".log") && !paired.contains(&name.as_str()) {
            counts
                .skipped
                .push(format!("{name}: no expected output generated from it"));
        }
    }
    eprintln!(
        "pipeline fixtures: {} files, {} records, {} fields compared, {} version-specific fields checked",
        counts.files, counts.records, counts.fields, counts.version_fields
    );
    for s in &counts.skipped {
        eprintln!("  skipped {s}");
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        counts.records >= 17,
        "expected the 17 upstream records, compared {}",
        counts.records
    );
}

fn run_fixture(dir: &Path, fx: &Fixture, counts: &mut Counts, failures: &mut Vec<String>) {
    let (Ok(input), Ok(expected)) = (
        std::fs::read_to_string(dir.join(fx.input)),
        std::fs::read_to_string(dir.join(fx.expected)),
    ) else {
        counts
            .skipped
            .push(format!("{}: file missing", fx.expected));
        return;
    };
    let expected: Json = serde_json::from_str(&expected).expect("expected file is JSON");
    let expected = expected["expected"]
        .as_array()
        .expect("an `expected` array")
        .clone();
    let lines: Vec<&str> = input.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        expected.len(),
        "{}: one expected document per line",
        fx.expected
    );
    counts.files += 1;

    for (i, (line, want)) in lines.iter().zip(&expected).enumerate() {
        counts.records += 1;
        let mut got = to_json(&normalize(line));
        if fx.tags {
            simulate_input_tags(&mut got);
        }
        let at = |path: &str| format!("{} #{i} {path}", fx.expected);
        let want_leaves: BTreeMap<String, Json> = leaves(want).into_iter().collect();
        let got_leaves: BTreeMap<String, Json> = leaves(&got).into_iter().collect();
        let version_paths: Vec<&str> = fx.version_fields.iter().map(|v| v.path).collect();

        for (path, value) in &want_leaves {
            if is_enrichment(path) || version_paths.contains(&path.as_str()) {
                continue;
            }
            counts.fields += 1;
            match got_leaves.get(path) {
                Some(g) if g == value => {}
                Some(g) => failures.push(format!("{}: got {g}, want {value}", at(path))),
                None => failures.push(format!("{}: missing, want {value}", at(path))),
            }
        }
        for (path, value) in &got_leaves {
            let allowed = want_leaves.contains_key(path)
                || is_enrichment(path)
                || INDEX_TIME.contains(&path.as_str())
                || version_paths.contains(&path.as_str());
            if !allowed {
                failures.push(format!("{}: extra field {value}", at(path)));
            }
        }
        for vf in &fx.version_fields {
            counts.version_fields += 1;
            let ours = got_leaves.get(vf.path);
            if ours != vf.ours[i].as_ref() {
                failures.push(format!(
                    "{}: version-specific field: got {ours:?}, want {:?} (upstream {:?})",
                    at(vf.path),
                    vf.ours[i],
                    want_leaves.get(vf.path)
                ));
            }
        }
        for constant in INDEX_TIME {
            if !got_leaves.contains_key(*constant) {
                failures.push(format!("{}: index-time constant missing", at(constant)));
            }
        }
        if got_leaves.contains_key("event.ingested") {
            failures.push(at("event.ingested: must be absent without an ingest time"));
        }
    }
}

/// The input document of the upstream test carries `tags`; the pipeline only appends to it.
fn simulate_input_tags(doc: &mut Json) {
    let tags = doc
        .as_object_mut()
        .expect("an object")
        .entry("tags")
        .or_insert_with(|| json!([]));
    let list = tags.as_array_mut().expect("tags is a list");
    if !list.contains(&json!("preserve_original_event")) {
        list.insert(0, json!("preserve_original_event"));
    }
}
