//! One deliberately broken rule per finding code: each file's first line says the code it
//! must yield and where (`# expect: VC501 at 30:14`), or `none` for clean fixtures. The check
//! must report exactly that code at that position, and no other error or warning.

use std::path::{Path, PathBuf};

use vigil_check::{CODES, Finding, Level};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken")
}

/// (code, line, column) from the header, or `None` for a clean fixture.
fn expectation(text: &str) -> Option<(String, usize, usize)> {
    let first = text.lines().next().unwrap_or_default();
    let body = first
        .trim_start_matches(['#', '/'])
        .trim()
        .strip_prefix("expect:")
        .unwrap_or_else(|| panic!("no `expect:` header: {first}"))
        .trim();
    if body.starts_with("none") {
        return None;
    }
    let mut words = body.split_whitespace();
    let code = words.next().expect("a code").to_string();
    assert_eq!(words.next(), Some("at"), "header: {first}");
    let (l, c) = words
        .next()
        .and_then(|p| p.split_once(':'))
        .expect("line:col");
    Some((code, l.parse().expect("line"), c.parse().expect("column")))
}

fn verify(name: &str, text: &str, findings: &[Finding]) -> Result<Option<String>, String> {
    let expected = expectation(text);
    let loud: Vec<&Finding> = findings.iter().filter(|f| f.level != Level::Note).collect();
    let show = |fs: &[&Finding]| {
        fs.iter()
            .map(|f| format!("{} {}:{} {}", f.code, f.line, f.column, f.message))
            .collect::<Vec<_>>()
            .join("; ")
    };
    match expected {
        None if !loud.is_empty() => {
            return Err(format!("{name}: expected no finding, got {}", show(&loud)));
        }
        None => {}
        Some((code, line, col)) => {
            let hits: Vec<&Finding> = findings.iter().filter(|f| f.code == code).collect();
            if hits.len() != 1 {
                let all: Vec<&Finding> = findings.iter().collect();
                return Err(format!("{name}: expected one {code}, got {}", show(&all)));
            }
            if (hits[0].line, hits[0].column) != (line, col) {
                return Err(format!(
                    "{name}: {code} at {}:{}, expected {line}:{col} ({})",
                    hits[0].line, hits[0].column, hits[0].message
                ));
            }
            let others: Vec<&Finding> = loud.into_iter().filter(|f| f.code != code).collect();
            if !others.is_empty() {
                return Err(format!("{name}: other findings: {}", show(&others)));
            }
            return Ok(Some(code));
        }
    }
    Ok(None)
}

#[test]
fn each_broken_rule_yields_exactly_its_code() {
    let mut covered = Vec::new();
    let mut failures = Vec::new();
    let mut record = |r: Result<Option<String>, String>| match r {
        Ok(c) => covered.extend(c),
        Err(e) => failures.push(e),
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/broken")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).expect("read");
        let checked = vigil_check::check_text(&name, &text);
        record(verify(&name, &text, &checked.findings));
    }
    // Duplicate ids need two files: check the directory as a set.
    let dup = dir().join("duplicate");
    let report = vigil_check::check_paths(std::slice::from_ref(&dup)).expect("check");
    for f in ["a.toml", "b.toml"] {
        let path = dup.join(f);
        let text = std::fs::read_to_string(&path).expect("read");
        let mine: Vec<Finding> = report
            .findings
            .iter()
            .filter(|x| x.path.ends_with(f))
            .cloned()
            .collect();
        record(verify(f, &text, &mine));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let missing: Vec<&str> = CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| !covered.iter().any(|x| x == c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a broken rule: {missing:?}"
    );
}

#[test]
fn every_code_is_documented() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/check.md"))
            .expect("docs/check.md");
    for c in CODES {
        assert!(doc.contains(c.code), "{} is not in docs/check.md", c.code);
    }
}
