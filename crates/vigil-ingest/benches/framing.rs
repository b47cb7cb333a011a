//! Framing throughput over ~100 MB of Azure Activity Log-like records.
//!
//! - `ndjson/slice`: NDJSON in memory, through `frame_slice` and `SliceFrames::next_ref`
//!   (framing and validation only).
//! - `ndjson/reader`: the same bytes from a file (page cache), through `Reader::next_ref`.
//! - `ndjson-gz/reader`: that file gzip-compressed (decompression dominates).
//! - `json-array/slice`: the records as one pretty-printed JSON array, streamed.

use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_ingest::{InputId, ItemRef, Options, Reader, frame_slice};

const TARGET_BYTES: usize = 100 << 20;

/// A small deterministic generator (xorshift), so every run frames the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn guid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

/// One Activity Log record as Azure diagnostic settings write it (one line, ~1.5 KB).
fn record(rng: &mut Rng, i: u64) -> String {
    let op = rng.pick(&[
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
        "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION",
        "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE",
        "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE",
    ]);
    let result = rng.pick(&["Start", "Success", "Success", "Accept", "Failure"]);
    let category = rng.pick(&["Administrative", "Administrative", "Policy", "Security"]);
    let sub = rng.guid();
    let rg = rng.pick(&[
        "rg-prod-weu",
        "SecuraAllRG",
        "rg-dev-001",
        "MC_aks_cluster_westeurope",
    ]);
    let vm = format!("vm-{:04}", rng.next() % 500);
    let caller = rng.pick(&[
        "admin@contoso.onmicrosoft.com",
        "attacker@securathesis.onmicrosoft.com",
        "8a4de8b5-095c-47d0-a96f-a75130c61d53",
    ]);
    let ip = format!(
        "{}.{}.{}.{}",
        rng.next() % 223 + 1,
        rng.next() % 256,
        rng.next() % 256,
        rng.next() % 256
    );
    let secs = i % 86_400;
    format!(
        concat!(
            "{{\"time\":\"2024-03-{:02}T{:02}:{:02}:{:02}.{:07}Z\",",
            "\"resourceId\":\"/SUBSCRIPTIONS/{sub}/RESOURCEGROUPS/{rg}/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/{vm}/EXTENSIONS/CUSTOMSCRIPTEXTENSION\",",
            "\"operationName\":\"{op}\",\"category\":\"{category}\",\"resultType\":\"{result}\",",
            "\"resultSignature\":\"Succeeded.Created\",\"durationMs\":\"{dur}\",",
            "\"callerIpAddress\":\"{ip}\",\"correlationId\":\"{corr}\",",
            "\"identity\":{{\"authorization\":{{\"scope\":\"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/extensions/CustomScriptExtension\",",
            "\"action\":\"Microsoft.Compute/virtualMachines/extensions/write\",",
            "\"evidence\":{{\"role\":\"Contributor\",\"roleAssignmentScope\":\"/subscriptions/{sub}\",\"roleAssignmentId\":\"{ra}\",",
            "\"roleDefinitionId\":\"b24988ac61804e20aa8a0f4ec7c4d7f3\",\"principalId\":\"{pid}\",\"principalType\":\"User\"}}}},",
            "\"claims\":{{\"aud\":\"https://management.core.windows.net/\",\"iss\":\"https://sts.windows.net/{tenant}/\",",
            "\"iat\":\"1709251200\",\"nbf\":\"1709251200\",\"exp\":\"1709255100\",",
            "\"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn\":\"{caller}\",",
            "\"http://schemas.microsoft.com/identity/claims/objectidentifier\":\"{pid}\",",
            "\"ipaddr\":\"{ip}\",\"name\":\"Jane Admin \\u00e9\",\"appid\":\"c44b4083-3bb0-49c1-b47d-974e53cbdf3c\"}}}},",
            "\"level\":\"Information\",\"location\":\"westeurope\",",
            "\"properties\":{{\"statusCode\":\"Created\",\"serviceRequestId\":\"{srid}\",",
            "\"entity\":\"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/extensions/CustomScriptExtension\",",
            "\"message\":\"{op}\",\"hierarchy\":\"{tenant}/{sub}\",",
            "\"requestbody\":\"{{\\\"properties\\\":{{\\\"publisher\\\":\\\"Microsoft.Compute\\\",\\\"type\\\":\\\"CustomScriptExtension\\\",\\\"typeHandlerVersion\\\":\\\"1.10\\\"}}}}\"}}}}"
        ),
        secs / 86_400 % 28 + 1,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        rng.next() % 10_000_000,
        sub = sub,
        rg = rg,
        vm = vm,
        op = op,
        category = category,
        result = result,
        dur = rng.next() % 5000,
        ip = ip,
        corr = rng.guid(),
        ra = rng.guid(),
        pid = rng.guid(),
        tenant = rng.guid(),
        caller = caller,
        srid = rng.guid(),
    )
}

fn records() -> Vec<String> {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut out = Vec::new();
    let mut total = 0;
    let mut i = 0;
    while total < TARGET_BYTES {
        let r = record(&mut rng, i);
        total += r.len() + 1;
        out.push(r);
        i += 1;
    }
    out
}

fn ndjson(recs: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TARGET_BYTES + (1 << 20));
    for r in recs {
        out.extend_from_slice(r.as_bytes());
        out.push(b'\n');
    }
    out
}

/// The same records as one pretty-printed array (re-indented by a JSON round trip).
fn json_array(recs: &[String]) -> Vec<u8> {
    let values: Vec<serde_json::Value> = recs
        .iter()
        .map(|r| serde_json::from_str(r).expect("generated record is JSON"))
        .collect();
    serde_json::to_vec_pretty(&values).expect("serialisable")
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("vigil-ingest-bench-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).expect("write bench input");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn count_slice(bytes: &[u8]) -> u64 {
    let mut n = 0;
    let mut frames = frame_slice(InputId(0), bytes, &Options::default());
    while let Some(item) = frames.next_ref() {
        if let ItemRef::Record(r) = item {
            n += black_box(r.bytes).len() as u64;
        }
    }
    n
}

fn count_reader(path: &PathBuf) -> u64 {
    let mut reader = Reader::open([path], Options::default()).expect("open bench input");
    let mut n = 0;
    while let Some(item) = reader.next_ref() {
        if let ItemRef::Record(r) = item {
            n += black_box(r.bytes).len() as u64;
        }
    }
    n
}

fn framing(c: &mut Criterion) {
    let recs = records();
    let nd = ndjson(&recs);
    let arr = json_array(&recs);
    let nd_file = TempFile::new("ndjson", &nd);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&nd).expect("compress");
    let gz_file = TempFile::new("ndjson.gz", &gz.finish().expect("compress"));
    eprintln!(
        "{} records; NDJSON {:.1} MB, pretty array {:.1} MB",
        recs.len(),
        nd.len() as f64 / 1e6,
        arr.len() as f64 / 1e6
    );
    // Every record comes out.
    assert_eq!(
        count_slice(&nd),
        recs.iter().map(|r| r.len() as u64).sum::<u64>()
    );

    let mut group = c.benchmark_group("framing");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(nd.len() as u64));
    group.bench_function("ndjson/slice", |b| b.iter(|| count_slice(&nd)));
    group.bench_function("ndjson/reader", |b| b.iter(|| count_reader(&nd_file.0)));
    group.bench_function("ndjson-gz/reader", |b| b.iter(|| count_reader(&gz_file.0)));
    group.throughput(Throughput::Bytes(arr.len() as u64));
    group.bench_function("json-array/slice", |b| b.iter(|| count_slice(&arr)));
    group.finish();
}

criterion_group!(benches, framing);
criterion_main!(benches);
