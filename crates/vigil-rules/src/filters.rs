//! Kibana filters attached to a rule (`[[rule.filters]]`): Elasticsearch query DSL clauses that
//! Kibana ANDs with the query, negated when `meta.negate` is set.

use vigil_event::{DataType, Value};
use vigil_plan::{
    Case, CmpOp, Expr, ExprKind, FieldRef, MatchOpts, Pattern, WildcardPattern, WildcardToken,
};
use vigil_schema::Schema;

/// Lowers one filter; the error names what is not supported.
pub fn lower_filter(filter: &toml::Value) -> Result<Expr, String> {
    let negate = filter
        .get("meta")
        .and_then(|m| m.get("negate"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(false);
    if filter
        .get("meta")
        .and_then(|m| m.get("disabled"))
        .and_then(toml::Value::as_bool)
        == Some(true)
    {
        return Ok(Expr::literal(true, Default::default()));
    }
    let query = filter
        .get("query")
        .and_then(toml::Value::as_table)
        .ok_or("a filter without `query`")?;
    let (kind, body) = query.iter().next().ok_or("an empty filter query")?;
    let expr = match kind.as_str() {
        "wildcard" | "term" | "match_phrase" | "match" => {
            let (field, spec) = body
                .as_table()
                .and_then(|t| t.iter().next())
                .ok_or("a clause without a field")?;
            let (value, ci) = match spec {
                toml::Value::Table(t) => (
                    t.get("value")
                        .or_else(|| t.get("query"))
                        .cloned()
                        .ok_or("a clause without `value`")?,
                    t.get("case_insensitive")
                        .and_then(toml::Value::as_bool)
                        .unwrap_or(false),
                ),
                v => (v.clone(), false),
            };
            let value = value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            let ty = Schema::elastic()
                .field_type(field)
                .unwrap_or(DataType::Unknown);
            let field_expr = Expr::field(field.clone(), ty, Default::default());
            let opts = MatchOpts {
                lenient: ty == DataType::Unknown,
                ..MatchOpts::ES_QUERY
            }
            .with_case(if ci {
                Case::Insensitive
            } else {
                Case::Sensitive
            });
            if kind == "wildcard" {
                Expr::new(
                    ExprKind::Match {
                        expr: Box::new(field_expr),
                        pattern: Pattern::Wildcard(es_wildcard(&value)),
                        opts,
                    },
                    Default::default(),
                )
            } else {
                Expr::compare(
                    CmpOp::Eq,
                    field_expr,
                    Expr::literal(Value::from(value), Default::default()),
                    opts,
                    Default::default(),
                )
            }
        }
        "exists" => {
            let field = body
                .get("field")
                .and_then(toml::Value::as_str)
                .ok_or("`exists` without `field`")?;
            let ty = Schema::elastic()
                .field_type(field)
                .unwrap_or(DataType::Unknown);
            Expr::new(
                ExprKind::Exists(FieldRef {
                    name: field.to_string(),
                    ty,
                }),
                Default::default(),
            )
        }
        other => return Err(format!("`{other}` clauses")),
    };
    Ok(if negate {
        Expr::not(expr, Default::default())
    } else {
        expr
    })
}

/// Elasticsearch `wildcard` query syntax: `*` any run, `?` one character, `\` escapes.
fn es_wildcard(s: &str) -> WildcardPattern {
    let mut tokens = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => {
                if !lit.is_empty() {
                    tokens.push(WildcardToken::Literal(std::mem::take(&mut lit)));
                }
                tokens.push(if c == '*' {
                    WildcardToken::AnyRun
                } else {
                    WildcardToken::AnyOne
                });
            }
            '\\' => lit.push(chars.next().unwrap_or('\\')),
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        tokens.push(WildcardToken::Literal(lit));
    }
    WildcardPattern { tokens }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negated_case_insensitive_wildcard() {
        let f: toml::Value = toml::from_str(
            r#"
            [meta]
            negate = true
            [query.wildcard."file.path"]
            case_insensitive = true
            value = "?:\\\\ProgramData\\\\*.ps1"
            "#,
        )
        .unwrap();
        assert_eq!(
            lower_filter(&f).unwrap().to_string(),
            r#"not(wildcard{any,ci}(file.path<keyword>, "?:\\ProgramData\\*.ps1"))"#
        );
    }
}
