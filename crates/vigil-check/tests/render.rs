//! Snapshots of the human and SARIF renderings of one broken rule.

use std::path::Path;

#[test]
fn human_and_sarif_renderings() {
    let rel = "tests/broken/vc511_tactic_tag.toml";
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).expect("fixture");
    let report = vigil_check::Report {
        files: 1,
        findings: vigil_check::check_text(rel, &text).findings,
    };
    let human = vigil_check::render::human(&report, &|_| Some(text.clone()));
    insta::assert_snapshot!("human", human);
    let mut sarif = vigil_check::render::sarif(&report);
    // The rule list is the code table; keep the snapshot to the run's shape and results.
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(rules, vigil_check::CODES.len());
    sarif["runs"][0]["tool"]["driver"]["rules"] = serde_json::json!(format!("{rules} rules"));
    sarif["runs"][0]["tool"]["driver"]["version"] = serde_json::json!("[version]");
    insta::assert_snapshot!("sarif", format!("{:#}", sorted(&sarif)));
}

/// Keys in sorted order: serde_json keeps insertion order when another crate of the workspace
/// enables `preserve_order`, so the snapshot must not depend on it.
fn sorted(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            serde_json::Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}
