//! Functions every language shares, and Elasticsearch query semantics (`es.`).

use vigil_event::Value;

use super::ScalarFn;
use crate::compare::fold_case;

pub(super) fn lookup(name: &str) -> Option<ScalarFn> {
    Some(match name {
        "lower" => |a| map_str(a, fold_case),
        "upper" => |a| map_str(a, |s| s.to_uppercase()),
        "length" => |a| match a.first() {
            Some(Value::Str(s)) => Ok(Value::Int(s.chars().count() as i64)),
            _ => Ok(Value::Null),
        },
        "concat" => |a| {
            if a.iter().any(Value::is_null) {
                return Ok(Value::Null);
            }
            Ok(Value::from(
                a.iter().map(ToString::to_string).collect::<String>(),
            ))
        },
        "coalesce" => |a| {
            Ok(a.iter()
                .find(|v| !v.is_null())
                .cloned()
                .unwrap_or(Value::Null))
        },
        "es.match" => |a| Ok(Value::Bool(text_match(a, false))),
        "es.match_phrase" => |a| Ok(Value::Bool(text_match(a, true))),
        _ => return None,
    })
}

fn map_str(args: &[Value], f: impl Fn(&str) -> String) -> Result<Value, String> {
    match args.first() {
        Some(Value::Str(s)) => Ok(Value::from(f(s))),
        Some(Value::Null) | None => Ok(Value::Null),
        Some(other) => Err(format!("expected a string, found {}", other.type_name())),
    }
}

/// Elasticsearch `match` (any query token) and `match_phrase` (the tokens in sequence) on a text
/// field, with the standard analyzer approximated as lower-cased runs of letters, digits and `_`.
/// Arguments: the field's value (possibly multi-valued) and the query text.
fn text_match(args: &[Value], phrase: bool) -> bool {
    let (Some(field), Some(Value::Str(query))) = (args.first(), args.get(1)) else {
        return false;
    };
    let wanted = tokens(query);
    if wanted.is_empty() {
        return false;
    }
    field.leaves().any(|v| {
        let have = tokens(&v.to_string());
        if phrase {
            have.windows(wanted.len()).any(|w| w == wanted.as_slice())
        } else {
            wanted.iter().any(|t| have.contains(t))
        }
    })
}

fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .map(fold_case)
        .collect()
}
