//! Runs Elasticsearch's EQL QA suite (`../shared/conformance/eql/elasticsearch-qa`: queries and
//! expected event ids over its data) through Vigil's parser, lowering and executor, and prints
//! `N passed, N failed, N skipped`.
//!
//! The harness loads each data set as Elasticsearch's `DataLoader` indexes it: the index mapping
//! becomes a closed schema (unmapped fields get dynamic-mapping types from the data), endgame
//! FILETIME `timestamp`s become `@timestamp`, dates with a custom `format` are read with it, and
//! `event.category` is an alias of `event_type`. Events reach the plan ordered by timestamp then
//! tiebreaker (the id field), as the runtime orders them. Expected ids are compared in order,
//! `-1` standing for a missing event, and join keys too where the suite lists them.
//!
//! Queries Elasticsearch does not support (the commented-out entries of `test_queries.toml` and
//! the historical `test_queries_unsupported.toml`) are run separately: each must be rejected with
//! an error.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use vigil_eql::LowerOptions;
use vigil_event::{Layout, Projection, Row, Value, parse_json};
use vigil_exec::{Columns, EvalContext, compile};
use vigil_plan::Plan;
use vigil_schema::Schema;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    dir.is_dir().then_some(dir)
}

/// One loaded index (or several, concatenated): documents, schema, id field.
struct DataSet {
    docs: Vec<Json>,
    schema: Schema,
    id_field: String,
    /// Sort events by (timestamp, id) before running, as the runtime does.
    ordered: bool,
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Elasticsearch's data files: JSON arrays, some with `//` comment lines.
fn read_docs(path: &Path) -> Vec<Json> {
    let text: String = read(path)
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    match serde_json::from_str(&text) {
        Ok(Json::Array(a)) => a,
        other => panic!("{}: not a JSON array: {other:?}", path.display()),
    }
}

/// Mapping file → (field → type) and (field → date format).
/// Index-time settings of a mapping: custom date formats and `null_value`s.
#[derive(Default)]
struct IndexSettings {
    formats: HashMap<String, String>,
    null_values: HashMap<String, Json>,
}

fn read_mapping(path: &Path, types: &mut BTreeMap<String, String>, settings: &mut IndexSettings) {
    let text: String = read(path)
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let json: Json = serde_json::from_str(&text).expect("mapping JSON");
    fn walk(
        props: &serde_json::Map<String, Json>,
        prefix: &str,
        types: &mut BTreeMap<String, String>,
        settings: &mut IndexSettings,
    ) {
        for (name, def) in props {
            let full = format!("{prefix}{name}");
            if let Some(Json::Object(sub)) = def.get("properties") {
                walk(sub, &format!("{full}."), types, settings);
                continue;
            }
            let ty = def.get("type").and_then(Json::as_str).unwrap_or("object");
            if ty == "alias" {
                continue;
            }
            // The loader picks keyword or wildcard at random: both are exact strings; EQL reads
            // text fields through their keyword sub-field.
            let ty = match ty {
                "[runtime_random_keyword_type]" | "text" | "wildcard" => "keyword",
                "date_nanos" => "date",
                other => other,
            };
            if let Some(f) = def.get("format").and_then(Json::as_str) {
                settings.formats.insert(full.clone(), f.to_string());
            }
            if let Some(n) = def.get("null_value") {
                settings.null_values.insert(full.clone(), n.clone());
            }
            types.insert(full, ty.to_string());
        }
    }
    if let Some(Json::Object(p)) = json.get("properties") {
        walk(p, "", types, settings);
    }
    if let Some(Json::Object(rt)) = json.get("runtime") {
        for (name, def) in rt {
            let ty = def.get("type").and_then(Json::as_str).unwrap_or("keyword");
            types.insert(name.clone(), ty.to_string());
        }
    }
}

/// Dynamic mapping for fields the mapping does not declare.
fn infer_types(docs: &[Json], types: &mut BTreeMap<String, String>) {
    fn walk(v: &Json, prefix: &str, types: &mut BTreeMap<String, String>) {
        match v {
            Json::Object(m) => {
                for (k, v) in m {
                    walk(v, &format!("{prefix}{k}."), types);
                }
            }
            Json::Array(items) => {
                for i in items {
                    walk(i, prefix, types);
                }
            }
            Json::Null => {}
            leaf => {
                let name = prefix.trim_end_matches('.').to_string();
                if types.contains_key(&name) {
                    return;
                }
                let ty = match leaf {
                    Json::Bool(_) => "boolean",
                    Json::Number(n) if n.is_f64() => "double",
                    Json::Number(_) => "long",
                    Json::String(s) if s.len() >= 10 && vigil_event::parse_rfc3339(s).is_ok() => {
                        "date"
                    }
                    _ => "keyword",
                };
                types.insert(name, ty.to_string());
            }
        }
    }
    for d in docs {
        walk(d, "", types);
    }
}

/// A date in one of the custom formats the suite's mappings use, as epoch milliseconds.
fn custom_date(s: &str, format: &str) -> Option<i64> {
    let parts: Vec<i16> = s
        .split('-')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (y, m, d) = match (format, parts.as_slice()) {
        ("dd-MM-yyyy", [d, m, y]) => (*y, *m, *d),
        ("yyyy-MM-dd", [y, m, d]) => (*y, *m, *d),
        _ => return None,
    };
    let iso = format!("{y:04}-{m:02}-{d:02}");
    Some(vigil_event::parse_rfc3339(&iso).ok()?.as_millisecond())
}

fn load(dir: &Path, names: &[&str], id_field: &str, ordered: bool, nanos: bool) -> DataSet {
    let mut docs = Vec::new();
    let mut types = BTreeMap::new();
    for name in names {
        let (data, mapping) = match *name {
            "endgame-140" | "endgame-140-nanos" => (
                dir.join("test_data.json"),
                dir.join(format!("data/{name}.mapping")),
            ),
            other => (
                dir.join(format!("data/{other}.data")),
                dir.join(format!("data/{other}.mapping")),
            ),
        };
        let mut settings = IndexSettings::default();
        read_mapping(&mapping, &mut types, &mut settings);
        for mut d in read_docs(&data) {
            if let Some(obj) = d.as_object_mut() {
                // Endgame FILETIME: 100 ns ticks since 1601; the nanos index reads the raw number
                // as nanoseconds since 1970.
                if let Some(ft) = obj.get("timestamp").and_then(Json::as_i64) {
                    let ts = if nanos {
                        let t = jiff::Timestamp::from_nanosecond(i128::from(ft)).expect("nanos");
                        Json::String(t.to_string())
                    } else {
                        Json::from(ft / 10_000 - 11_644_473_600_000)
                    };
                    obj.insert("@timestamp".into(), ts);
                }
                // Elasticsearch indexes an explicit null as the field's `null_value`.
                for (field, v) in &settings.null_values {
                    if obj.get(field) == Some(&Json::Null) {
                        obj.insert(field.clone(), v.clone());
                    }
                }
                for (field, format) in &settings.formats {
                    if let Some(Json::String(s)) = obj.get(field)
                        && let Some(ms) = custom_date(s, format)
                    {
                        obj.insert(field.clone(), Json::from(ms));
                    }
                }
            }
            docs.push(d);
        }
    }
    infer_types(&docs, &mut types);
    let table: String = types.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect();
    let mut schema = Schema::default();
    schema.add_table(&table);
    DataSet {
        docs,
        schema,
        id_field: id_field.into(),
        ordered,
    }
}

#[derive(Debug)]
struct Case {
    file: String,
    name: String,
    query: String,
    /// One or more acceptable outcomes.
    expected: Vec<Vec<i64>>,
    join_keys: Option<Vec<String>>,
    size: Option<u64>,
    max_samples_per_key: Option<u32>,
    expect_shard_failures: bool,
}

/// `test_extra.toml` writes a bare `null` in `join_keys`, which Elasticsearch's TOML reader
/// accepts; quote it.
fn fix_bare_nulls(text: &str) -> String {
    let mut out = String::new();
    let mut in_keys = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("join_keys") {
            in_keys = true;
        }
        if in_keys {
            let mut fixed = String::new();
            let mut quoted = false;
            let mut i = 0;
            let b = line.as_bytes();
            while i < b.len() {
                if b[i] == b'"' {
                    quoted = !quoted;
                }
                if !quoted && line[i..].starts_with("null") {
                    fixed.push_str("\"null\"");
                    i += 4;
                    continue;
                }
                fixed.push(b[i] as char);
                i += 1;
            }
            out.push_str(&fixed);
            if t.contains(']') {
                in_keys = false;
            }
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn ids(v: &toml::Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(toml::Value::as_integer).collect())
        .unwrap_or_default()
}

fn cases_from(file: &str, text: &str) -> Vec<Case> {
    let doc: toml::Table = match toml::from_str(&fix_bare_nulls(text)) {
        Ok(t) => t,
        Err(e) => panic!("{file}: {e}"),
    };
    let Some(queries) = doc.get("queries").and_then(toml::Value::as_array) else {
        return Vec::new();
    };
    queries
        .iter()
        .filter_map(|q| {
            let query = q.get("query")?.as_str()?.to_string();
            let exp = q.get("expected_event_ids")?;
            let expected = match exp.as_array().and_then(|a| a.first()) {
                Some(toml::Value::Array(_)) => exp
                    .as_array()
                    .map(|a| a.iter().map(ids).collect())
                    .unwrap_or_default(),
                _ => vec![ids(exp)],
            };
            Some(Case {
                file: file.into(),
                name: q
                    .get("name")
                    .and_then(toml::Value::as_str)
                    .unwrap_or("(unnamed)")
                    .into(),
                query,
                expected,
                join_keys: q.get("join_keys").and_then(toml::Value::as_array).map(|a| {
                    a.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .collect()
                }),
                size: q
                    .get("size")
                    .and_then(toml::Value::as_integer)
                    .map(|n| n as u64),
                expect_shard_failures: q
                    .get("expect_shard_failures")
                    .and_then(toml::Value::as_bool)
                    .unwrap_or(false),
                max_samples_per_key: q
                    .get("max_samples_per_key")
                    .and_then(toml::Value::as_integer)
                    .map(|n| n as u32),
            })
        })
        .collect()
}

/// The `#`-commented entries of a TOML file: queries Elasticsearch does not run.
fn commented_queries(text: &str) -> Vec<String> {
    let body: String = text
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    body.split("[[queries]]")
        .filter_map(|chunk| {
            let t: toml::Table = toml::from_str(chunk).ok()?;
            Some(t.get("query")?.as_str()?.to_string())
        })
        .collect()
}

/// The stage layout of a sequence plan: `true` for a missing-event stage (runs expanded).
fn missing_layout(plan: &Plan) -> Option<Vec<bool>> {
    match plan {
        Plan::Sequence(s) => Some(
            s.steps
                .iter()
                .flat_map(|st| std::iter::repeat_n(st.missing, st.runs.max(1) as usize))
                .collect(),
        ),
        other => other.input().and_then(missing_layout),
    }
}

fn is_sample(plan: &Plan) -> bool {
    match plan {
        Plan::Sample(_) => true,
        other => other.input().is_some_and(is_sample),
    }
}

fn key_text(v: &Value, sample: bool) -> String {
    match v {
        Value::Null => "null".into(),
        // Composite aggregations return dates as epoch milliseconds.
        Value::Date(t) if sample => t.as_millisecond().to_string(),
        other => other.to_string(),
    }
}

struct Outcome {
    ids: Vec<i64>,
    keys: Vec<String>,
}

fn run(case: &Case, data: &DataSet, category_field: &str) -> Result<Outcome, String> {
    let query = vigil_eql::parse(&case.query).map_err(|e| format!("parse error: {e}"))?;
    let options = LowerOptions {
        event_category_field: category_field.into(),
        tiebreaker_field: data.ordered.then(|| data.id_field.clone()),
        closed_schema: true,
        max_samples_per_key: case.max_samples_per_key.unwrap_or(1),
        ..LowerOptions::default()
    };
    let mut plan = vigil_eql::lower_with(&query, &data.schema, &options)
        .map_err(|e| format!("lowering error: {e}"))?;
    if let Some(size) = case.size {
        plan = Plan::Limit(vigil_plan::Limit {
            input: Box::new(plan),
            n: size,
            from_end: false,
        });
    }
    let mut layout = Layout::new();
    for f in plan.fields_read() {
        layout.intern(&f);
    }
    let id_slot = layout.intern(&data.id_field);
    let ts_slot = layout.intern("@timestamp");
    let compiled = compile(&plan, &layout).map_err(|e| format!("compile error: {e}"))?;
    let projection = Projection::new(&layout);
    let mut rows: Vec<Row> = data
        .docs
        .iter()
        .map(|d| projection.project(&parse_json(d.to_string().as_bytes()).expect("doc")))
        .collect();
    if data.ordered {
        let ts = |r: &Row| {
            r.get(ts_slot)
                .and_then(|v| v.coerce_to(vigil_event::DataType::Date))
                .and_then(|v| match v {
                    Value::Date(t) => Some(t),
                    _ => None,
                })
        };
        let id = |r: &Row| r.get(id_slot).and_then(Value::as_i64).unwrap_or(i64::MAX);
        rows.sort_by_key(|r| (ts(r), id(r)));
    }
    let id_of = |i: usize| rows[i].get(id_slot).and_then(Value::as_i64).unwrap_or(-2);
    let out = compiled.run(
        rows.iter().enumerate(),
        &EvalContext::new(jiff::Timestamp::now()),
    );
    let layout_missing = missing_layout(&plan);
    let sample = is_sample(&plan);
    let key_slot = match &out.columns {
        Columns::Explicit(cols) => cols.iter().find(|(n, _)| n == "join_keys").map(|c| c.1),
        Columns::Events { .. } => None,
    };
    let mut ids = Vec::new();
    let mut keys = Vec::new();
    for r in &out.rows {
        if let Some(o) = r.origin {
            ids.push(id_of(o));
            continue;
        }
        let mut members = r.members.iter();
        match &layout_missing {
            Some(stages) => {
                for &missing in stages {
                    ids.push(if missing {
                        -1
                    } else {
                        members.next().map_or(-3, |&m| id_of(m))
                    });
                }
            }
            None => ids.extend(members.map(|&m| id_of(m))),
        }
        if let Some(Value::Array(k)) = key_slot.and_then(|s| r.row.get(s)) {
            keys.extend(k.iter().map(|v| key_text(v, sample)));
        }
    }
    Ok(Outcome { ids, keys })
}

fn normalize(q: &str) -> String {
    q.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Suite {
    /// (file, index names, id field, ordered by time, nanos)
    runs: Vec<(
        &'static str,
        &'static [&'static str],
        &'static str,
        bool,
        bool,
    )>,
}

#[test]
fn elasticsearch_eql_qa_suite() {
    let Some(shared) = shared_dir() else {
        println!("SKIP EQL conformance: ../shared not found (set VIGIL_SHARED)");
        return;
    };
    let dir = shared.join("conformance/eql/elasticsearch-qa");
    if !dir.is_dir() {
        println!("SKIP EQL conformance: {} not found", dir.display());
        return;
    }
    let suite = Suite {
        runs: vec![
            (
                "test_queries.toml",
                &["endgame-140"],
                "serial_event_id",
                true,
                false,
            ),
            (
                "additional_test_queries.toml",
                &["endgame-140"],
                "serial_event_id",
                true,
                false,
            ),
            (
                "test_queries_date.toml",
                &["endgame-140"],
                "serial_event_id",
                true,
                false,
            ),
            (
                "test_queries_date_nanos.toml",
                &["endgame-140-nanos"],
                "serial_event_id",
                true,
                true,
            ),
            ("test_extra.toml", &["extra"], "sequence", true, false),
            (
                "test_missing_events.toml",
                &["missing-events"],
                "sequence",
                true,
                false,
            ),
            (
                "test_sample.toml",
                &["sample1", "sample2", "sample3"],
                "id",
                false,
                false,
            ),
            (
                "test_sample_multi.toml",
                &["sample-multi"],
                "id",
                false,
                false,
            ),
            (
                "test_failing_shards.toml",
                &["endgame-140", "endgame-shard-failures"],
                "serial_event_id",
                true,
                false,
            ),
        ],
    };
    let (mut passed, mut failed, mut skipped) = (0usize, Vec::new(), Vec::new());
    let mut active = std::collections::HashSet::new();
    for (file, indices, id, ordered, nanos) in &suite.runs {
        let data = load(&dir, indices, id, *ordered, *nanos);
        let label = format!("{file}@{}", indices.join(","));
        for case in cases_from(file, &read(&dir.join(file))) {
            active.insert(normalize(&case.query));
            if case.expect_shard_failures {
                skipped.push(format!(
                    "{file}: needs a shard whose runtime field fails (partial results); Vigil has no shards"
                ));
                continue;
            }
            match run(&case, &data, "event_type") {
                Ok(out) => {
                    let ids_ok = case.expected.contains(&out.ids);
                    let keys_ok = case.join_keys.as_ref().is_none_or(|k| *k == out.keys);
                    if ids_ok && keys_ok {
                        passed += 1;
                    } else {
                        failed.push(format!(
                            "{label} {}: expected {:?}{}, got {:?} keys {:?}\n    {}",
                            case.name,
                            case.expected,
                            case.join_keys
                                .as_ref()
                                .map(|k| format!(" keys {k:?}"))
                                .unwrap_or_default(),
                            out.ids,
                            out.keys,
                            case.query.trim().replace('\n', "\n    ")
                        ));
                    }
                }
                Err(e) => failed.push(format!(
                    "{label} {} ({}): {e}\n    {}",
                    case.name,
                    case.file,
                    case.query.trim().replace('\n', "\n    ")
                )),
            }
        }
    }
    for (file, why) in [
        (
            "test_queries_supported.toml",
            "historical (pre-7.10 syntax, superseded by additional_test_queries.toml)",
        ),
        ("test_between_queries.toml", "historical stub"),
        (
            "test_sampling.toml",
            "historical first cut of `sample`, superseded by test_sample.toml",
        ),
    ] {
        let n = cases_from(file, &read(&dir.join(file))).len();
        for _ in 0..n {
            skipped.push(format!("{file}: {why}"));
        }
    }

    // Queries Elasticsearch does not support must be rejected.
    let endgame = load(&dir, &["endgame-140"], "serial_event_id", true, false);
    let mut unsupported = commented_queries(&read(&dir.join("test_queries.toml")));
    unsupported.extend(
        cases_from(
            "test_queries_unsupported.toml",
            &read(&dir.join("test_queries_unsupported.toml")),
        )
        .into_iter()
        .map(|c| c.query),
    );
    // The 2021 skip-list holds queries Elasticsearch has supported since: not those.
    unsupported.retain(|q| !active.contains(&normalize(q)));
    let mut accepted = Vec::new();
    for q in &unsupported {
        let r = vigil_eql::parse(q)
            .map_err(|e| e.to_string())
            .and_then(|ast| {
                let options = LowerOptions {
                    event_category_field: "event_type".into(),
                    closed_schema: true,
                    ..LowerOptions::default()
                };
                vigil_eql::lower_with(&ast, &endgame.schema, &options).map_err(|e| e.to_string())
            });
        if r.is_ok() {
            accepted.push(q.trim().replace('\n', " "));
        }
    }

    for f in &failed {
        println!("FAIL {f}");
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &skipped {
        *reasons.entry(s.as_str()).or_default() += 1;
    }
    for (r, n) in &reasons {
        println!("SKIP {n} × {r}");
    }
    for a in &accepted {
        println!(
            "ACCEPTED (listed as unsupported upstream, but valid Elasticsearch syntax whose Python-engine result differs) {a}"
        );
    }
    println!(
        "EQL unsupported-by-Elasticsearch queries: {} of {} rejected",
        unsupported.len() - accepted.len(),
        unsupported.len()
    );
    let total = passed + failed.len();
    println!(
        "EQL conformance (Elasticsearch QA): {passed} passed, {} failed, {} skipped ({:.1}% of supported pass)",
        failed.len(),
        skipped.len(),
        100.0 * passed as f64 / total.max(1) as f64
    );
    assert!(
        passed as f64 >= 0.95 * total as f64,
        "fewer than 95% of the supported EQL QA queries pass"
    );
}
