//! Persistent state: two hunts over adjacent ranges raise exactly the alerts of one hunt over
//! the union, and a hunt killed with SIGKILL and restarted raises no duplicate and loses none.
//! Rules of three stateful kinds (new_terms, threshold, suppressed query) over 8 days of
//! generated native Activity Log records.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{Record, TempFile, parse_ndjson, vigil};

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

/// 8 days of extension writes and Run Commands by a few callers from a few addresses,
/// deterministic.
fn scenario(per_day: u64) -> Vec<Record> {
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let users = [
        "alice@contoso.com",
        "bob@contoso.com",
        "carol@contoso.com",
        "dave@contoso.com",
    ];
    let ips = [
        "81.2.69.160",
        "81.2.69.161",
        "203.0.113.7",
        "198.51.100.9",
        "1.128.0.10",
    ];
    let exts = [
        "CUSTOMSCRIPTEXTENSION",
        "VMACCESSAGENT",
        "DSC",
        "MDE.WINDOWS",
    ];
    let mut out = Vec::new();
    let mut t: i64 = 0;
    for _ in 0..per_day * 8 {
        t += 1 + next(86_400 * 2 / per_day) as i64;
        let user = users[next(users.len() as u64) as usize];
        let ip = ips[next(ips.len() as u64) as usize];
        let vm = format!("VM-{}", next(12));
        let r = if next(10) < 8 {
            Record::extension_write(&vm, exts[next(exts.len() as u64) as usize])
        } else {
            Record::new(
                "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION",
                &format!("VIRTUALMACHINES/{vm}"),
            )
        };
        let r = r.user(user).ip(ip).at("2026-05-11T00:00:00", t);
        out.push(if next(20) == 0 {
            r.failure()
        } else {
            r.success()
        });
    }
    out
}

fn hunt_args(state: &Path, extra: &[&str], inputs: &[&Path]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "hunt".into(),
        "--rules".into(),
        rules_dir().display().to_string(),
        "--format".into(),
        "ndjson".into(),
        "--quiet".into(),
    ];
    args.push("--state".into());
    args.push(state.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args
}

fn run(args: &[String]) -> Vec<serde_json::Value> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = vigil(&a);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_ndjson(&out.stdout)
}

/// (rule, uuid, run time) of each alert.
fn identity(alerts: &[serde_json::Value]) -> BTreeSet<(String, String, String)> {
    alerts
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or("?").to_string();
            (
                s("kibana.alert.rule.rule_id"),
                s("kibana.alert.uuid"),
                s("@timestamp"),
            )
        })
        .collect()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("vigil-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn adjacent_hunts_equal_one_hunt_over_the_union() {
    let records = scenario(400);
    let all = TempFile::ndjson(&records);
    let (first, second): (Vec<Record>, Vec<Record>) = records
        .iter()
        .cloned()
        .partition(|r| r.time_str() < "2026-05-15");
    let a = TempFile::ndjson(&first);
    let b = TempFile::ndjson(&second);

    let one = TempDir::new("state-one");
    let whole = run(&hunt_args(
        &one.0,
        &[
            "--start",
            "2026-05-11T00:00:00Z",
            "--end",
            "2026-05-19T00:00:00Z",
        ],
        &[&all.0],
    ));

    let two = TempDir::new("state-two");
    let mut parts = run(&hunt_args(
        &two.0,
        &[
            "--start",
            "2026-05-11T00:00:00Z",
            "--end",
            "2026-05-15T00:00:00Z",
        ],
        &[&a.0],
    ));
    parts.extend(run(&hunt_args(
        &two.0,
        &[
            "--start",
            "2026-05-15T00:00:00Z",
            "--end",
            "2026-05-19T00:00:00Z",
        ],
        &[&b.0],
    )));

    let kinds: BTreeSet<String> = whole
        .iter()
        .map(|a| {
            a["kibana.alert.rule.type"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds.len(),
        3,
        "every rule kind alerts in the scenario: {kinds:?}"
    );
    assert_eq!(
        identity(&parts).len(),
        parts.len(),
        "no duplicate across the two hunts"
    );
    let (p, w) = (identity(&parts), identity(&whole));
    let only_parts: Vec<_> = p.difference(&w).collect();
    let only_whole: Vec<_> = w.difference(&p).collect();
    assert!(
        only_parts.is_empty() && only_whole.is_empty(),
        "{} alerts only from the two hunts, {} only from the one hunt; first ones: {:?} / {:?}",
        only_parts.len(),
        only_whole.len(),
        only_parts.iter().take(5).collect::<Vec<_>>(),
        only_whole.iter().take(5).collect::<Vec<_>>()
    );

    // Running the second hunt again raises nothing new: its runs are done.
    let again = run(&hunt_args(
        &two.0,
        &[
            "--start",
            "2026-05-15T00:00:00Z",
            "--end",
            "2026-05-19T00:00:00Z",
        ],
        &[&b.0],
    ));
    assert!(again.is_empty(), "{} alerts raised twice", again.len());
}

#[test]
fn a_killed_hunt_resumes_without_duplicates_or_losses() {
    let records = scenario(2500);
    let input = TempFile::ndjson(&records);
    let clean_dir = TempDir::new("state-clean");
    let started = Instant::now();
    let clean = run(&hunt_args(&clean_dir.0, &[], &[&input.0]));
    let clean_time = started.elapsed();
    println!(
        "uninterrupted hunt: {} alerts in {:.2} s",
        clean.len(),
        clean_time.as_secs_f64()
    );
    assert!(
        clean.len() > 100,
        "the scenario raises enough alerts to split: {}",
        clean.len()
    );

    let mut resumed_mid_way = 0;
    for fraction in [0.2, 0.4, 0.6, 0.8] {
        let dir = TempDir::new(&format!("state-kill-{}", (fraction * 100.0) as u32));
        let args = hunt_args(&dir.0, &[], &[&input.0]);
        let first_out = TempFile::with_bytes("ndjson", b"");
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(&args)
            .stdout(std::fs::File::create(&first_out.0).expect("stdout file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("start vigil");
        std::thread::sleep(clean_time.mul_f64(fraction));
        // SIGKILL: no chance to clean up.
        let _ = child.kill();
        let _ = child.wait();
        // Restart without --quiet, to read the summary.
        let loud: Vec<&str> = args
            .iter()
            .map(String::as_str)
            .filter(|a| *a != "--quiet")
            .collect();
        let out = vigil(&loud);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let resumed = parse_ndjson(&out.stdout);
        assert_eq!(
            identity(&resumed).len(),
            resumed.len(),
            "no duplicate after resuming"
        );
        if resumed.is_empty() {
            // The first hunt closed its session before the kill: it delivered every alert.
            let first_text = std::fs::read_to_string(&first_out.0).expect("first output");
            let first: Vec<serde_json::Value> = first_text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            assert_eq!(
                identity(&first),
                identity(&clean),
                "killed at {fraction} after completing: same alerts"
            );
            continue;
        }
        // Killed before closing its session: the session's alerts are all delivered again
        // (at least once), the rest computed by the resumed hunt.
        assert_eq!(
            identity(&resumed),
            identity(&clean),
            "killed at {fraction}: same alerts as an uninterrupted hunt"
        );
        if String::from_utf8_lossy(&out.stderr).contains("resumed an interrupted hunt") {
            resumed_mid_way += 1;
        }
    }
    assert!(
        resumed_mid_way > 0,
        "no kill landed in the middle of the replay"
    );
}
