//! Helpers for the CLI tests: native Activity Log records built in code, the upstream seed rules
//! read from `../shared`, and `vigil hunt` run as a process.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

pub const SUBSCRIPTION: &str = "8d2f4b6a-1c3e-4f5a-9b7d-2e6c8a0f4d13";

/// The shared reference folder, or `None` (with a message) when it is absent.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: {} not found (set VIGIL_SHARED)", dir.display());
        None
    }
}

/// An upstream Elastic seed rule file.
pub fn seed_rule(name: &str) -> Option<PathBuf> {
    let p = shared_dir()?.join("upstream/elastic/seed").join(name);
    p.is_file().then_some(p)
}

/// A native Azure Activity Log record (diagnostic-settings schema).
#[derive(Clone, Debug)]
pub struct Record {
    op: String,
    /// Resource path under the provider, e.g. `VIRTUALMACHINES/VM-A/EXTENSIONS/X`.
    tail: String,
    principal: String,
    principal_type: String,
    time: String,
    result: String,
    ip: String,
    properties: Value,
}

impl Record {
    pub fn new(op: &str, tail: &str) -> Record {
        Record {
            op: op.into(),
            tail: tail.into(),
            principal: "alice@contoso.com".into(),
            principal_type: "User".into(),
            time: "2026-05-18T10:00:00.0000000Z".into(),
            result: "Success".into(),
            ip: "81.2.69.160".into(),
            properties: json!({"statusCode": "OK", "eventCategory": "Administrative"}),
        }
    }

    /// Replaces the record's `properties`.
    pub fn properties(mut self, properties: Value) -> Record {
        self.properties = properties;
        self
    }

    pub fn extension_write(vm: &str, ext: &str) -> Record {
        Record::new(
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
            &format!("VIRTUALMACHINES/{vm}/EXTENSIONS/{ext}"),
        )
    }

    pub fn user(mut self, upn: &str) -> Record {
        self.principal = upn.into();
        self.principal_type = "User".into();
        self
    }

    pub fn service_principal(mut self) -> Record {
        self.principal = "0d6a1f42-2b7e-4c39-8a51-7f3e9b2c6d10".into();
        self.principal_type = "ServicePrincipal".into();
        self
    }

    pub fn ip(mut self, ip: &str) -> Record {
        self.ip = ip.into();
        self
    }

    /// `base` (`YYYY-MM-DDTHH:MM:SS`, UTC) plus `offset` seconds.
    pub fn at(mut self, base: &str, offset: i64) -> Record {
        let t: jiff::Timestamp = format!("{base}Z").parse().expect("valid base time");
        let t = t + jiff::SignedDuration::from_secs(offset);
        self.time = t.strftime("%Y-%m-%dT%H:%M:%S.1234567Z").to_string();
        self
    }

    /// The record's `time`.
    pub fn time_str(&self) -> &str {
        &self.time
    }

    pub fn start(mut self) -> Record {
        self.result = "Start".into();
        self
    }

    pub fn success(mut self) -> Record {
        self.result = "Success".into();
        self
    }

    pub fn failure(mut self) -> Record {
        self.result = "Failure".into();
        self
    }

    pub fn to_json(&self) -> Value {
        let resource_id = format!(
            "/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/RG-TEST/PROVIDERS/MICROSOFT.COMPUTE/{}",
            self.tail
        );
        let mut claims = json!({
            "aud": "https://management.core.windows.net/",
            "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
            "http://schemas.microsoft.com/identity/claims/objectidentifier": "1f2e3d4c-0000-4000-8000-000000000001"
        });
        if self.principal_type == "User" {
            claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"] =
                json!(self.principal);
            claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] =
                json!(self.principal);
            claims["name"] = json!("Test User");
        }
        json!({
            "time": self.time,
            "resourceId": resource_id,
            "operationName": self.op,
            "category": "Administrative",
            "resultType": self.result,
            "resultSignature": if self.result == "Start" { "Started." } else { "Succeeded.OK" },
            "durationMs": 0,
            "callerIpAddress": self.ip,
            "correlationId": format!("c0ffee00-0000-4000-8000-{:012x}", fnv(&format!("{}{}", self.tail, self.time))),
            "identity": {
                "authorization": {
                    "scope": resource_id.to_lowercase(),
                    "action": self.op.to_lowercase(),
                    "evidence": {
                        "role": "Contributor",
                        "principalId": "1f2e3d4c000040008000000000000001",
                        "principalType": self.principal_type,
                    }
                },
                "claims": claims,
            },
            "level": "Information",
            "location": "global",
            "properties": self.properties,
        })
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) & 0xffff_ffff_ffff
}

/// A temporary file removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn with_bytes(ext: &str, bytes: &[u8]) -> TempFile {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "vigil-test-{}-{}.{ext}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&p, bytes).expect("write temp file");
        TempFile(p)
    }

    pub fn ndjson(records: &[Record]) -> TempFile {
        let mut text = String::new();
        for r in records {
            text.push_str(&r.to_json().to_string());
            text.push('\n');
        }
        TempFile::with_bytes("ndjson", text.as_bytes())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `vigil hunt --rules RULE --format ndjson [extra] FILE` and returns the alerts.
pub fn hunt_ndjson(rule: &std::path::Path, records: &[Record], extra: &[&str]) -> Vec<Value> {
    let input = TempFile::ndjson(records);
    let out = vigil(
        &[
            &[
                "hunt",
                "--rules",
                rule.to_str().expect("utf-8 path"),
                "--format",
                "ndjson",
            ],
            extra,
            &[input.0.to_str().expect("utf-8 path")],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "vigil failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_ndjson(&out.stdout)
}

pub fn vigil(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .output()
        .expect("run vigil")
}

pub fn parse_ndjson(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).expect("alert is JSON"))
        .collect()
}
