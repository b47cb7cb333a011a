//! `vigil test` run as a process over the runner's own fixtures (tests/fixtures/test-cmd) and
//! over the rule pack.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `vigil test ARGS` from the crate directory, so printed paths are relative to it.
fn vigil_test(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(crate_dir())
        .arg("test")
        .args(args)
        .output()
        .expect("run vigil")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn passing_fixture_exits_0() {
    let out = vigil_test(&["tests/fixtures/test-cmd/failed_login.test.toml"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(
        "ok   tests/fixtures/test-cmd/failed_login.test.toml :: two failures, one success\n"
    ));
    assert!(stdout.ends_with("\n2 passed, 0 failed\n"), "{stdout}");
}

#[test]
fn broken_fixture_shows_a_diff() {
    let out = vigil_test(&["tests/fixtures/test-cmd/broken.test.toml"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    for line in [
        "  expected 1 alert, got 2",
        "    host.name: expected \"ws-09\", got \"ws-01\"",
        "    host.ip: expected \"10.0.0.5\", got [\"10.0.0.5\",\"fe80::1\"]",
        "    process.name: expected \"sshd\", missing",
        "  expected 1 alert, got 0",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}");
    }
    insta::assert_snapshot!(stdout);
}

#[test]
fn a_directory_runs_every_fixture_under_it() {
    let out = vigil_test(&["tests/fixtures/test-cmd"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.ends_with("\n3 passed, 2 failed\n"), "{stdout}");
}

#[test]
fn json_format_gives_one_object_per_case() {
    let out = vigil_test(&[
        "--format",
        "json",
        "tests/fixtures/test-cmd/broken.test.toml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let cases: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let status: Vec<&str> = cases
        .iter()
        .map(|c| c["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(status, ["fail", "fail", "ok"]);
    assert_eq!(cases[0]["actual_count"], 2);
    let fields = &cases[0]["mismatches"][0]["fields"];
    assert!(fields.as_array().is_some_and(|f| {
        f.iter()
            .any(|f| f["field"] == "process.name" && f["actual"].is_null())
    }));
}

/// A temporary directory with the test rule and one fixture text.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, fixture: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("vigil-test-cmd-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::copy(
            crate_dir().join("tests/fixtures/test-cmd/failed_login.toml"),
            dir.join("failed_login.toml"),
        )
        .expect("copy rule");
        std::fs::write(dir.join("f.test.toml"), fixture).expect("write fixture");
        Scratch(dir)
    }

    fn fixture(&self) -> String {
        self.0.join("f.test.toml").display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn an_invalid_fixture_exits_2_with_line_and_column() {
    let s = Scratch::new(
        "invalid",
        "rule = \"failed_login.toml\"\n[[case]]\nname = \"a\"\nevents = \"{}\"\n[case.expect]\ncount = \"one\"\n",
    );
    let out = vigil_test(&[&s.fixture()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("f.test.toml:6:9"), "{stderr}");
    assert!(stderr.contains("line 6, column 9"), "{stderr}");
    assert!(text(&out.stdout).ends_with("0 passed, 0 failed, 1 error\n"));
}

#[test]
fn a_bad_inline_event_points_at_its_fixture_line() {
    let s = Scratch::new(
        "bad-event",
        "rule = \"failed_login.toml\"\n[[case]]\nname = \"a\"\nevents = '''\n{\"a\": 1}\n{\"b\": \n'''\n[case.expect]\ncount = 0\n",
    );
    let out = vigil_test(&[&s.fixture()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad event"), "{stderr}");
    assert!(stderr.contains("f.test.toml:6:1"), "{stderr}");
}

#[test]
fn a_rule_that_does_not_load_exits_2() {
    let s = Scratch::new(
        "bad-rule",
        "rule = \"broken.toml\"\n[[case]]\nname = \"a\"\nevents = \"{}\"\n[case.expect]\ncount = 0\n",
    );
    let rule = std::fs::read_to_string(s.0.join("failed_login.toml")).expect("rule");
    std::fs::write(
        s.0.join("broken.toml"),
        rule.replace("event.outcome:failure", "event.outcome:(failure"),
    )
    .expect("write rule");
    let out = vigil_test(&[&s.fixture()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("broken.toml:"), "{stderr}");
    assert!(stderr.contains("expected `)`"), "{stderr}");
}

/// Every rule of the pack has fixtures with a positive and a negative case, and they pass.
#[test]
fn the_rule_pack_passes() {
    let rules = crate_dir().join("../../rules");
    let out = vigil_test(&[rules.to_str().expect("utf-8")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(" passed, 0 failed\n"), "{stdout}");

    let out = vigil_test(&["--format", "json", rules.to_str().expect("utf-8")]);
    let mut positive = BTreeSet::new();
    let mut negative = BTreeSet::new();
    for line in text(&out.stdout).lines() {
        let case: serde_json::Value = serde_json::from_str(line).expect("JSON");
        let rule = std::fs::canonicalize(case["rule"].as_str().unwrap_or("?")).expect("rule");
        match case["expected_count"].as_u64() {
            Some(0) => negative.insert(rule),
            Some(_) => positive.insert(rule),
            None => false,
        };
    }
    let mut rule_files = Vec::new();
    let mut stack = vec![rules];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read rules").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if vigil_rules::is_rule_file(&p) {
                rule_files.push(std::fs::canonicalize(&p).expect("rule"));
            }
        }
    }
    assert!(!rule_files.is_empty());
    let lacking: Vec<String> = rule_files
        .iter()
        .filter(|r| !positive.contains(*r) || !negative.contains(*r))
        .map(|r| r.display().to_string())
        .collect();
    assert!(
        lacking.is_empty(),
        "rules without a positive and a negative case: {lacking:?}"
    );
}
