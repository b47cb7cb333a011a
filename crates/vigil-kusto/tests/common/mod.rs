//! Shared helpers for the integration tests: where the reference data lives.

use std::path::PathBuf;

/// `../shared` next to the repository (or `$VIGIL_SHARED`), when present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    dir.is_dir().then_some(dir)
}
