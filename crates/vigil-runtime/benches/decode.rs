//! Decode + evaluate throughput over generated native Activity Log NDJSON, side by side with a
//! plain `serde_json::Value` parse of the same bytes.
//!
//! - `serde_json_value`: parse every record into `serde_json::Value` (the reference).
//! - `vigil_pack`: Vigil's hot path with the built-in pack: literal prefilter, projected
//!   decode, normalization, rule filters.
//! - `vigil_pack_no_prefilter`: the same, decoding every record (projection pushdown only).
//! - `vigil_full_normalize`: full parse and full pipeline normalization of every record (what
//!   an engine without pushdown does).
//!
//! Run: `cargo bench -p vigil-runtime --bench decode`.

// The same generator the normalizer's differential tests use.
#[path = "../../vigil-normalize/tests/support/activity_gen.rs"]
mod activity_gen;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_exec::EvalContext;
use vigil_runtime::{Engine, EngineOptions};
use vigil_schema::Schema;

fn records(data: &[u8]) -> Vec<&[u8]> {
    data.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = activity_gen::ndjson(16 << 20, 42);
    let lines = records(&data);
    let rules = vigil_rules::builtin::load().rules;
    let engine = Engine::new(rules.clone(), Schema::elastic(), &EngineOptions::default());
    let engine_np = Engine::new(
        rules,
        Schema::elastic(),
        &EngineOptions {
            no_prefilter: true,
            ..EngineOptions::default()
        },
    );
    let ctx = EvalContext::new(jiff::Timestamp::now());

    // Sanity: the three paths agree on what matches.
    let hits = |e: &Engine| {
        lines
            .iter()
            .filter(|l| {
                e.may_match(l)
                    && e.decode(l).is_ok_and(|d| {
                        d.views
                            .iter()
                            .any(|v| !e.matching_rules(v, &ctx).is_empty())
                    })
            })
            .count()
    };
    let (a, b) = (hits(&engine), hits(&engine_np));
    assert_eq!(a, b, "the prefilter changed the result");
    eprintln!(
        "{} records, {:.1} MB, {a} matching the built-in pack",
        lines.len(),
        data.len() as f64 / 1e6
    );

    for (unit, throughput) in [
        ("bytes", Throughput::Bytes(data.len() as u64)),
        ("events", Throughput::Elements(lines.len() as u64)),
    ] {
        let mut g = c.benchmark_group(format!("decode_evaluate/{unit}"));
        g.throughput(throughput);
        g.sample_size(10);
        g.bench_function("serde_json_value", |b| {
            b.iter(|| {
                lines
                    .iter()
                    .filter(|l| serde_json::from_slice::<serde_json::Value>(l).is_ok())
                    .count()
            })
        });
        g.bench_function("vigil_pack", |b| b.iter(|| hits(&engine)));
        g.bench_function("vigil_pack_no_prefilter", |b| b.iter(|| hits(&engine_np)));
        g.bench_function("vigil_full_normalize", |b| {
            b.iter(|| {
                lines
                    .iter()
                    .filter(|l| engine.full_document(l).is_ok())
                    .count()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
