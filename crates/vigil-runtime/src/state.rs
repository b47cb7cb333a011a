//! Persistent runtime state in an embedded crash-safe store (redb): what rules have done, so
//! that hunts are incremental and a killed hunt resumes without duplicates or losses.
//!
//! One key-value table. Keys are `kind/rule/…` strings; values are small JSON documents or raw
//! bytes. Changes are staged in memory and written in one transaction by [`State::commit`]:
//! a crash loses the work since the last commit, never leaves half of it. Without a directory
//! the store lives in memory only (same code path, nothing written).

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use redb::{Database, ReadableDatabase, TableDefinition};

const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("vigil");

/// The layout of the keys and values; bumped when it changes incompatibly.
pub const STATE_VERSION: u64 = 1;

/// Why the state store failed.
#[derive(Debug, thiserror::Error)]
#[error("state store {path}: {message}")]
pub struct StateError {
    pub path: String,
    pub message: String,
}

/// The store.
pub struct State {
    db: Option<Database>,
    path: String,
    /// Staged writes (`None`: delete).
    pending: BTreeMap<String, Option<Vec<u8>>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("path", &self.path)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl State {
    /// A store that keeps nothing after the process ends.
    pub fn in_memory() -> State {
        State {
            db: None,
            path: "<memory>".into(),
            pending: BTreeMap::new(),
        }
    }

    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<State, StateError> {
        let path = dir.join("vigil-state.redb");
        let fail = |m: String| StateError {
            path: path.display().to_string(),
            message: m,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let db = Database::create(&path).map_err(|e| fail(e.to_string()))?;
        let mut s = State {
            db: Some(db),
            path: path.display().to_string(),
            pending: BTreeMap::new(),
        };
        match s.get("meta/version") {
            None => {
                s.put("meta/version", STATE_VERSION.to_string().into_bytes());
                s.commit()?;
            }
            Some(v) if v == STATE_VERSION.to_string().as_bytes() => {}
            Some(v) => {
                return Err(fail(format!(
                    "written by a state version {} this Vigil cannot read (it reads version {STATE_VERSION}); use a new --state directory",
                    String::from_utf8_lossy(&v)
                )));
            }
        }
        Ok(s)
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        if let Some(v) = self.pending.get(key) {
            return v.clone();
        }
        let db = self.db.as_ref()?;
        let txn = db.begin_read().ok()?;
        let table = txn.open_table(KV).ok()?;
        table.get(key).ok()?.map(|v| v.value().to_vec())
    }

    pub fn put(&mut self, key: &str, value: Vec<u8>) {
        self.pending.insert(key.to_string(), Some(value));
    }

    pub fn delete(&mut self, key: &str) {
        self.pending.insert(key.to_string(), None);
    }

    /// Every (key, value) under `prefix`, staged changes included, in key order.
    pub fn scan(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        if let Some(db) = &self.db
            && let Ok(txn) = db.begin_read()
            && let Ok(table) = txn.open_table(KV)
            && let Ok(range) = table.range(prefix..)
        {
            for entry in range.flatten() {
                let k = entry.0.value();
                if !k.starts_with(prefix) {
                    break;
                }
                out.insert(k.to_string(), entry.1.value().to_vec());
            }
        }
        for (k, v) in self.pending.range(prefix.to_string()..) {
            if !k.starts_with(prefix) {
                break;
            }
            match v {
                Some(v) => out.insert(k.clone(), v.clone()),
                None => out.remove(k),
            };
        }
        out.into_iter().collect()
    }

    /// Writes the staged changes atomically and durably.
    pub fn commit(&mut self) -> Result<(), StateError> {
        let Some(db) = &self.db else {
            return Ok(());
        };
        if self.pending.is_empty() {
            return Ok(());
        }
        let fail = |m: String| StateError {
            path: self.path.clone(),
            message: m,
        };
        let txn = db.begin_write().map_err(|e| fail(e.to_string()))?;
        {
            let mut table = txn.open_table(KV).map_err(|e| fail(e.to_string()))?;
            for (k, v) in &self.pending {
                match v {
                    Some(v) => table.insert(k.as_str(), v.as_slice()).map(|_| ()),
                    None => table.remove(k.as_str()).map(|_| ()),
                }
                .map_err(|e| fail(e.to_string()))?;
            }
        }
        txn.commit().map_err(|e| fail(e.to_string()))?;
        self.pending.clear();
        Ok(())
    }

    pub fn get_time(&self, key: &str) -> Option<Timestamp> {
        decode_time(&self.get(key)?)
    }

    pub fn put_time(&mut self, key: &str, t: Timestamp) {
        self.put(key, encode_time(t));
    }
}

pub fn encode_time(t: Timestamp) -> Vec<u8> {
    t.as_nanosecond().to_string().into_bytes()
}

pub fn decode_time(b: &[u8]) -> Option<Timestamp> {
    let n: i128 = std::str::from_utf8(b).ok()?.parse().ok()?;
    Timestamp::from_nanosecond(n).ok()
}

/// Escapes a key component so that `/` keeps separating components.
pub fn key_part(s: &str) -> String {
    s.replace('%', "%25").replace('/', "%2F")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_changes_are_visible_and_commit_atomically() {
        let dir = std::env::temp_dir().join(format!("vigil-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let mut s = State::open(&dir).unwrap();
            s.put("a/1", b"x".to_vec());
            s.put("a/2", b"y".to_vec());
            s.put("b/1", b"z".to_vec());
            assert_eq!(s.scan("a/").len(), 2);
            s.commit().unwrap();
            s.delete("a/1");
            s.put("a/3", b"w".to_vec());
            // Not committed: lost when the process ends.
        }
        let s = State::open(&dir).unwrap();
        let keys: Vec<String> = s.scan("a/").into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a/1", "a/2"]);
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn in_memory_store_works_without_a_directory() {
        let mut s = State::in_memory();
        s.put_time("t", Timestamp::UNIX_EPOCH);
        s.commit().unwrap();
        assert_eq!(s.get_time("t"), Some(Timestamp::UNIX_EPOCH));
        assert_eq!(key_part("a/b%c"), "a%2Fb%25c");
    }
}
