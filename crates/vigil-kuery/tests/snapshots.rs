//! Lowered predicates and parse errors for a set of representative queries, as insta snapshots.
//! Review changes with `cargo insta review`.

use vigil_schema::Schema;

fn lowered(q: &str) -> String {
    let out = vigil_kuery::parse(q)
        .map_err(vigil_kuery::LowerError::from)
        .and_then(|ast| vigil_kuery::lower(&ast, Schema::elastic()).map(|e| (ast, e)));
    match out {
        Ok((ast, e)) => format!("{q}\n  ast:  {ast}\n  plan: {e}"),
        Err(e) => format!("{q}\n  error at {}: {e}", e.span),
    }
}

#[test]
fn vm_extension_queries() {
    let queries = [
        r#"data_stream.dataset:azure.activitylogs and azure.activitylogs.operation_name:"MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE""#,
        "event.outcome:(success or Success) and azure.activitylogs.identity.authorization.evidence.principal_type:User",
        "azure.resource.id:(*CUSTOMSCRIPTEXTENSION* or */DSC/* or *RUNCOMMANDWINDOWS*)",
        "source.as.number:(* and not (3598 or 8075 or 12076)) and source.ip:(10.0.0.0/8 or 192.168.0.0/16)",
        r#"process.name:("powershell.exe" or pwsh.exe) and process.command_line:*-enc*"#,
        r"process.executable:C\:\\Packages\\Plugins\\*",
        "not host.os.type:windows and host.name:web*",
        "user.name:* and not user.name:(root or admin)",
        "event.duration >= 1000000 and @timestamp < now-1h",
        "email.attachments:{ file.extension:exe and file.size > 100 }",
        "azure.activitylogs.properties.statusCode:Conflict",
    ];
    let text: Vec<String> = queries.iter().map(|q| lowered(q)).collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

#[test]
fn errors() {
    let queries = [
        "event.action:",
        "event.action:(a or b",
        "event.action:a b:c",
        r"process.name:foo\qbar",
        "source.as.number:twelve",
        "source.ip:300.1.2.3",
        "process.pid:12*",
        "\"unterminated",
        "some free text",
        "nonexistent.*:x",
    ];
    let text: Vec<String> = queries.iter().map(|q| lowered(q)).collect();
    insta::assert_snapshot!(text.join("\n\n"));
}
