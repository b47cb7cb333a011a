//! Lowered plans and errors (with line and column) for representative queries, as insta
//! snapshots. Review changes with `cargo insta review`.

use vigil_schema::Schema;

fn lowered(q: &str) -> String {
    let out = vigil_esql::parse(q)
        .map_err(vigil_esql::LowerError::from)
        .and_then(|ast| vigil_esql::lower_rule_query(q, Schema::elastic()).map(|p| (ast, p)));
    match out {
        Ok((ast, p)) => {
            let cols: Vec<String> = p.columns.iter().map(|(n, t)| format!("{n}:{t}")).collect();
            format!(
                "{q}\n--- printed\n{ast}\n--- plan (aggregating: {}, open columns: {}, metadata: {:?})\n{}\n--- columns\n{}",
                p.aggregating,
                p.open_columns,
                p.metadata,
                p.plan,
                cols.join(", ")
            )
        }
        Err(e) => {
            let (line, col) = e.line_col(q);
            format!("{q}\n--- error at line {line}, column {col}: {e}")
        }
    }
}

#[test]
fn rule_shaped_queries() {
    let queries = [
        r#"FROM logs-azure.activitylogs-* METADATA _id, _index
| WHERE event.action IN ("MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE") AND event.outcome == "success"
| EVAL Esql.vm = MV_FIRST(SPLIT(azure.resource.name, "/"))
| KEEP _id, _index, Esql.*, azure.resource.name"#,
        r#"FROM logs-* // comment
| STATS Esql.n = COUNT(*), Esql.first = MIN(@timestamp), Esql.ips = VALUES(source.ip) WHERE source.`as`.number > 0
  BY host.name, Esql.bucket = DATE_TRUNC(15 minutes, @timestamp)
| EVAL Esql.age = DATE_DIFF("minute", Esql.first, NOW())
| WHERE Esql.n >= 5 AND Esql.age <= 10
| SORT Esql.n DESC NULLS LAST
| LIMIT 10"#,
        r#"FROM logs-endpoint.events.process-*
| WHERE KQL("process.name:(curl or wget)") AND process.command_line RLIKE ".*https?://.*"
| GROK process.command_line "%{URIPROTO:proto}://%{URIHOST:host}"
| DISSECT process.command_line "%{cmd} %{rest}"
| INLINE STATS Esql.hosts = COUNT_DISTINCT(host.name) BY host
| WHERE Esql.hosts < 3 AND NOT process.name LIKE "*.exe""#,
        "ROW a = [1, 2, 3], b = \"x\"::keyword | MV_EXPAND a | EVAL c = a * 2 + 1 | RENAME b AS d",
    ];
    let text: Vec<String> = queries.iter().map(|q| lowered(q)).collect();
    insta::assert_snapshot!(text.join("\n\n"));
}

#[test]
fn errors() {
    let queries = [
        "FROM logs-*\n| WHERE event.action ==",
        "FROM logs-* | EVAL x = 1 | STATS y = SUM(x) BY z | KEEP nope",
        "ROW a = 1 | EVAL b = a + \"x\"",
        "ROW a = 1 | WHERE a",
        "FROM logs-* | STATS COUNT(*) | EVAL c = MAX(1)",
        "FROM logs-* | COMPLETION r = p WITH { \"inference_id\": \"x\" }",
        "FROM logs-* | LOOKUP JOIN hosts ON host.name",
        "ROW a = TO_UPPER(1, 2)",
        "ROW a = 1 < 2 < 3",
        "ROW a = \"unterminated",
        "FROM logs-* | GROK message \"%{NOPE:x}\"",
    ];
    let text: Vec<String> = queries.iter().map(|q| lowered(q)).collect();
    insta::assert_snapshot!(text.join("\n\n"));
}
