//! Lowered plans and errors for representative queries, as insta snapshots. Review changes
//! with `cargo insta review`.

use vigil_schema::Schema;

fn lowered(q: &str) -> String {
    let ast = match vigil_eql::parse(q) {
        Ok(a) => a,
        Err(e) => return format!("{q}\n  parse error at {} ({}): {e}", e.span, e.line),
    };
    match vigil_eql::lower_rule_query(
        q,
        &["logs-endpoint.events.process-*".to_string()],
        Schema::elastic(),
        None,
        None,
        None,
    ) {
        Ok(plan) => format!(
            "{q}\n  ast:  {}\n  plan:\n{plan}",
            ast.to_string().replace('\n', " ")
        ),
        Err(e) => format!("{q}\n  error at {}: {e}", e.span),
    }
}

#[test]
fn semantics_per_operator() {
    let queries = [
        r#"process where process.name == "cmd.exe""#,
        r#"process where process.name != "cmd.exe""#,
        r#"process where process.name : ("CMD.EXE", "pwsh.exe", "*script*.exe")"#,
        r#"process where process.name like~ "power*" and process.command_line regex ".*-[eE]nc.*""#,
        r#"process where process.name in~ ("A.exe", "b.exe") and process.pid not in (4, 8)"#,
        r#"process where process.parent.name == null and ?process.Ext.token.integrity_level_name != null"#,
        r#"process where startsWith~(process.executable, "C:\\Windows\\") and cidrMatch(source.ip, "10.0.0.0/8")"#,
        r#"process where length(process.command_line) > 200 or not endsWith(process.name, concat("x", ".exe"))"#,
        r#"process where process.args_count >= 3 and @timestamp > "2026-01-01T00:00:00Z" | tail 5"#,
        r#"any where source.ip == "192.168.0.0/16" and destination.port == "445""#,
    ];
    let text: Vec<String> = queries.iter().map(|q| lowered(q)).collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

#[test]
fn sequences_and_samples() {
    let queries = [
        r#"sequence by host.id with maxspan=1m
  [process where process.name : "CustomScriptHandler.exe"] by process.entity_id
  [process where process.name : "whoami.exe"] by process.Ext.ancestry"#,
        r#"sequence by host.id, ?user.name with maxspan=30s
  [authentication where event.outcome == "failure"] with runs=3
  ![authentication where event.outcome == "success"]
  [authentication where event.outcome == "success"]
until [process where event.type == "end"]
| head 10"#,
        r#"sample by host.id [process where true] [network where true]"#,
    ];
    let text: Vec<String> = queries.iter().map(|q| lowered(q)).collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

#[test]
fn errors() {
    let queries = [
        "process where",
        "process where process.name = \"x\"",
        "process where process.name == 'x'",
        "process where a < b < c",
        "process where process.name == process.parent.name",
        "process where process.name in (process.parent.name)",
        "process where process.pid : \"4\"",
        "process where arrayContains(process.args, \"x\")",
        "process where length(process.pid) > 1",
        "process where unknownFn(x)",
        "process where true | unique process.name",
        "join [process where true] [file where true]",
        "sequence [process where true] by process.pid * 2 [file where true] by process.pid",
        "sequence [process where true] ![file where true] [file where true]",
        "sequence with maxspan=5 [a where true] [b where true]",
        "process where x[0] == 1",
        "process where \"unterminated",
    ];
    let text: Vec<String> = queries.iter().map(|q| lowered(q)).collect();
    insta::assert_snapshot!(text.join("\n\n"));
}
