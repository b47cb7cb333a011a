//! Helpers shared by the integration tests: temporary directories and running a reader.

// Test helpers: a failed set-up step should panic on the spot.
#![allow(dead_code, clippy::unwrap_used)]

pub mod evtx;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use vigil_ingest::{BadRecord, Inputs, Item, Options, Reader, Record};

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "vigil-ingest-test-{}-{n}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `bytes` to `name` (creating parent directories) and returns its path.
    pub fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What reading produced: records and bad records, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub records: Vec<Record>,
    pub bad: Vec<BadRecord>,
}

impl Outcome {
    /// `(line, reason)` of every bad record.
    pub fn bad_lines(&self) -> Vec<(u64, String)> {
        self.bad
            .iter()
            .map(|b| (b.line, b.reason.clone()))
            .collect()
    }

    pub fn record_lines(&self) -> Vec<u64> {
        self.records.iter().map(|r| r.line).collect()
    }

    pub fn record_texts(&self) -> Vec<String> {
        self.records
            .iter()
            .map(|r| String::from_utf8(r.bytes.clone()).unwrap())
            .collect()
    }
}

pub fn drain(reader: &mut Reader) -> Outcome {
    let mut out = Outcome::default();
    for item in reader.by_ref() {
        match item {
            Item::Record(r) => out.records.push(r),
            Item::Bad(b) => out.bad.push(b),
        }
    }
    out
}

/// Reads `paths` with `opts`.
pub fn read_with(paths: &[&Path], opts: Options) -> (Outcome, Reader) {
    let mut inputs = Inputs::new();
    for p in paths {
        inputs.add(p).unwrap();
    }
    let mut reader = Reader::new(inputs, opts);
    let out = drain(&mut reader);
    (out, reader)
}

/// Reads one path with default options, and checks that every buffer size frames it the same
/// (records spanning reads, detection from a few bytes at a time).
pub fn read(path: &Path) -> Outcome {
    let (out, _) = read_with(&[path], Options::default());
    for buffer_bytes in [1, 2, 3, 7, 64, 1000] {
        let opts = Options {
            buffer_bytes,
            ..Options::default()
        };
        let (small, _) = read_with(&[path], opts);
        assert_eq!(small, out, "buffer of {buffer_bytes} bytes");
    }
    // The in-memory framer agrees too (for plain files).
    let bytes = std::fs::read(path).unwrap();
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        let mut slice = Outcome::default();
        for item in vigil_ingest::frame_slice(vigil_ingest::InputId(0), &bytes, &Options::default())
        {
            match item {
                Item::Record(r) => slice.records.push(r),
                Item::Bad(b) => slice.bad.push(b),
            }
        }
        assert_eq!(slice, out, "frame_slice");
    }
    out
}

pub fn bad(line: u64, reason: &str) -> (u64, String) {
    (line, reason.to_string())
}
