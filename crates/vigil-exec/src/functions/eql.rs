//! Functions with EQL's own semantics (Elasticsearch dialect), looked up without the `eql.`
//! prefix. Names are lower case; `_ci` is the `~` (case-insensitive) variant. Arguments are
//! single values: the front-end reduces a field to its first doc value (`doc_value`), as
//! Elasticsearch's scripts read fields. A null argument gives null, except where noted.

use std::cmp::Ordering;

use ipnet::IpNet;
use vigil_event::Value;

use super::ScalarFn;
use crate::compare::{compare_values, fold_case};

pub(super) fn lookup(name: &str) -> Option<ScalarFn> {
    Some(match name {
        "doc_value" => |a| Ok(doc_value(a.first().unwrap_or(&Value::Null))),
        "between" => |a| between(a, false),
        "between_ci" => |a| between(a, true),
        "cidrmatch" => cidr_match,
        "concat" => concat,
        "endswith" => |a| str_test(a, false, |s, p| s.ends_with(p)),
        "endswith_ci" => |a| str_test(a, true, |s, p| s.ends_with(p)),
        "startswith" => |a| str_test(a, false, |s, p| s.starts_with(p)),
        "startswith_ci" => |a| str_test(a, true, |s, p| s.starts_with(p)),
        "stringcontains" => |a| str_test(a, false, |s, p| s.contains(p)),
        "stringcontains_ci" => |a| str_test(a, true, |s, p| s.contains(p)),
        "indexof" => |a| index_of(a, false),
        "indexof_ci" => |a| index_of(a, true),
        "length" => |a| match a.first() {
            Some(Value::Str(s)) => Ok(Value::Int(s.chars().count() as i64)),
            Some(Value::Null) | None => Ok(Value::Null),
            Some(v) => Err(format!("length expects a string, found {}", v.type_name())),
        },
        "number" => number,
        "string" => |a| {
            Ok(match a.first() {
                None | Some(Value::Null) => Value::Null,
                Some(v @ Value::Str(_)) => v.clone(),
                Some(v) => Value::from(v.to_string()),
            })
        },
        "substring" => substring,
        "version_cmp" => |a| {
            Ok(match (a.first(), a.get(1)) {
                (Some(Value::Str(x)), Some(Value::Str(y))) => Value::Int(match version_cmp(x, y) {
                    Ordering::Less => -1,
                    Ordering::Equal => 0,
                    Ordering::Greater => 1,
                }),
                _ => Value::Null,
            })
        },
        _ => return None,
    })
}

/// The value an Elasticsearch script reads from a field: the first of its sorted doc values
/// (the smallest), or null when it has none.
fn doc_value(v: &Value) -> Value {
    match v {
        Value::Array(_) => {
            let mut best: Option<&Value> = None;
            for x in v.leaves() {
                best = match best {
                    Some(b) if compare_values(x, b, false, false) != Some(Ordering::Less) => {
                        Some(b)
                    }
                    _ => Some(x),
                };
            }
            best.cloned().unwrap_or(Value::Null)
        }
        other => other.clone(),
    }
}

fn text<'a>(v: &'a Value, what: &str) -> Result<Option<&'a str>, String> {
    match v {
        Value::Str(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        other => Err(format!(
            "{what} must be a string, found {}",
            other.type_name()
        )),
    }
}

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&Value::Null)
}

fn folded(s: &str, ci: bool) -> String {
    if ci { fold_case(s) } else { s.to_string() }
}

/// `startsWith`, `endsWith`, `stringContains`: null when either operand is null.
fn str_test(a: &[Value], ci: bool, test: fn(&str, &str) -> bool) -> Result<Value, String> {
    let (Some(s), Some(p)) = (text(arg(a, 0), "source")?, text(arg(a, 1), "pattern")?) else {
        return Ok(Value::Null);
    };
    Ok(Value::Bool(test(&folded(s, ci), &folded(p, ci))))
}

/// Character index of `needle` in `hay` at or after character `from`.
fn char_find(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let start = hay.char_indices().nth(from).map(|(b, _)| b).or_else(|| {
        // `from` may point just past the end, where only the empty needle is found.
        (from == hay.chars().count()).then_some(hay.len())
    })?;
    hay[start..]
        .find(needle)
        .map(|b| hay[..start + b].chars().count())
}

fn char_rfind(hay: &str, needle: &str) -> Option<usize> {
    hay.rfind(needle).map(|b| hay[..b].chars().count())
}

fn char_slice(s: &str, from: usize, to: usize) -> String {
    s.chars().skip(from).take(to.saturating_sub(from)).collect()
}

/// `between(source, left, right[, greedy])`: the text after the first `left` and before the
/// next `right` (the last one when greedy); empty when either is not found.
fn between(a: &[Value], ci: bool) -> Result<Value, String> {
    let (Some(s), Some(l), Some(r)) = (
        text(arg(a, 0), "source")?,
        text(arg(a, 1), "left")?,
        text(arg(a, 2), "right")?,
    ) else {
        return Ok(Value::Null);
    };
    let greedy = match arg(a, 3) {
        Value::Bool(b) => *b,
        Value::Null => false,
        other => {
            return Err(format!(
                "greedy must be a boolean, found {}",
                other.type_name()
            ));
        }
    };
    let (hay, l2, r2) = (folded(s, ci), folded(l, ci), folded(r, ci));
    let Some(start) = char_find(&hay, &l2, 0) else {
        return Ok(Value::from(""));
    };
    let start = start + l2.chars().count();
    let end = if greedy {
        char_rfind(&hay, &r2).filter(|e| *e >= start)
    } else {
        char_find(&hay, &r2, start)
    };
    Ok(Value::from(match end {
        Some(end) => char_slice(s, start, end),
        None => String::new(),
    }))
}

fn cidr_match(a: &[Value]) -> Result<Value, String> {
    let ip = match arg(a, 0) {
        Value::Null => return Ok(Value::Null),
        Value::Ip(ip) => *ip,
        Value::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address"))?,
        other => {
            return Err(format!(
                "cidrMatch needs an ip, found {}",
                other.type_name()
            ));
        }
    };
    for c in &a[1..] {
        let Some(text) = text(c, "CIDR block")? else {
            continue;
        };
        let net: IpNet = text
            .parse()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
            .map_err(|_| format!("`{text}` is not a CIDR block"))?;
        if net.contains(&ip) {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn concat(a: &[Value]) -> Result<Value, String> {
    if a.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    Ok(Value::from(
        a.iter().map(ToString::to_string).collect::<String>(),
    ))
}

/// `indexOf(source, substring[, start])`: the character index, or null when not found.
fn index_of(a: &[Value], ci: bool) -> Result<Value, String> {
    let (Some(s), Some(sub)) = (text(arg(a, 0), "source")?, text(arg(a, 1), "substring")?) else {
        return Ok(Value::Null);
    };
    let from = match arg(a, 2) {
        Value::Null => 0,
        Value::Int(i) => usize::try_from(*i).unwrap_or(0),
        other => {
            return Err(format!(
                "start must be an integer, found {}",
                other.type_name()
            ));
        }
    };
    Ok(char_find(&folded(s, ci), &folded(sub, ci), from)
        .map_or(Value::Null, |i| Value::Int(i as i64)))
}

/// `number(text[, base])`: base 10 reads integers and decimals, other bases integers (with an
/// optional `0x` for 16).
fn number(a: &[Value]) -> Result<Value, String> {
    let Some(s) = text(arg(a, 0), "source")? else {
        return Ok(Value::Null);
    };
    let base = match arg(a, 1) {
        Value::Null => 10,
        Value::Int(b) if (2..=36).contains(b) => *b as u32,
        other => return Err(format!("invalid base {other}")),
    };
    let t = s.trim();
    if base == 10 {
        if let Ok(i) = t.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        return t
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::Float)
            .ok_or_else(|| format!("`{s}` is not a number"));
    }
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let digits = if base == 16 {
        digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
            .unwrap_or(digits)
    } else {
        digits
    };
    let n = i64::from_str_radix(digits, base).map_err(|_| format!("`{s}` is not a number"))?;
    Ok(Value::Int(if neg { -n } else { n }))
}

/// `substring(source, start[, end])` with Python's slice rules: negative positions count from
/// the end, out-of-range positions are clamped.
fn substring(a: &[Value]) -> Result<Value, String> {
    let Some(s) = text(arg(a, 0), "source")? else {
        return Ok(Value::Null);
    };
    let len = s.chars().count() as i64;
    let pos = |v: &Value, default: i64| -> Result<i64, String> {
        let p = match v {
            Value::Null => default,
            Value::Int(i) => *i,
            other => return Err(format!("position must be an integer, found {other}")),
        };
        Ok(if p < 0 { (p + len).max(0) } else { p.min(len) })
    };
    let start = pos(arg(a, 1), 0)?;
    let end = pos(arg(a, 2), len)?;
    Ok(Value::from(if end <= start {
        String::new()
    } else {
        char_slice(s, start as usize, end as usize)
    }))
}

/// Orders versions as Elasticsearch's `version` field does: semantic versions by their numeric
/// parts, a pre-release before its release, and anything that is not a version after all
/// versions, by its bytes.
fn version_cmp(a: &str, b: &str) -> Ordering {
    match (parse_version(a), parse_version(b)) {
        (Some(x), Some(y)) => x.0.cmp(&y.0).then_with(|| match (x.1, y.1) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(p), Some(q)) => p.cmp(q),
        }),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.as_bytes().cmp(b.as_bytes()),
    }
}

fn parse_version(s: &str) -> Option<(Vec<u64>, Option<&str>)> {
    let core = s.split('+').next()?;
    let (nums, pre) = match core.split_once('-') {
        Some((n, p)) => (n, Some(p)),
        None => (core, None),
    };
    let parts = nums
        .split('.')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<Vec<_>>>()?;
    Some((parts, pre))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[Value]) -> Value {
        lookup(name).expect("known function")(args).unwrap_or(Value::str("ERR"))
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn between_follows_elasticsearch() {
        let p = s("System Idle Process");
        assert_eq!(call("between", &[p.clone(), s("s"), s("e")]), s("t"));
        assert_eq!(call("between_ci", &[p.clone(), s("s"), s("E")]), s("yst"));
        assert_eq!(
            call("between", &[p.clone(), s("S"), s("e"), Value::Bool(true)]),
            s("ystem Idle Proc")
        );
        assert_eq!(call("between", &[p, s("g"), s("z")]), s(""));
        assert_eq!(call("between", &[Value::Null, s("g"), s("z")]), Value::Null);
    }

    #[test]
    fn index_of_and_substring() {
        let f = s("explorer.exe");
        assert_eq!(call("indexof", &[f.clone(), s("plore")]), Value::Int(2));
        assert_eq!(
            call("indexof", &[f.clone(), s("plore"), Value::Int(100)]),
            Value::Null
        );
        assert_eq!(
            call("indexof_ci", &[s("EXPLORER"), s("plore")]),
            Value::Int(2)
        );
        assert_eq!(call("substring", &[f.clone(), Value::Int(-4)]), s(".exe"));
        assert_eq!(
            call("substring", &[f.clone(), Value::Int(-4), Value::Int(-1)]),
            s(".ex")
        );
        assert_eq!(
            call("substring", &[f, Value::Int(1), Value::Int(3)]),
            s("xp")
        );
    }

    #[test]
    fn numbers_strings_and_nulls() {
        assert_eq!(call("number", &[s("11"), Value::Int(16)]), Value::Int(17));
        assert_eq!(call("number", &[s("31"), Value::Int(13)]), Value::Int(40));
        assert_eq!(call("number", &[s("3.5")]), Value::Float(3.5));
        assert_eq!(call("number", &[s("x")]), s("ERR"));
        assert_eq!(call("string", &[Value::Int(5)]), s("5"));
        assert_eq!(call("string", &[Value::Bool(true)]), s("true"));
        assert_eq!(call("concat", &[Value::Int(5), s(":"), s("a")]), s("5:a"));
        assert_eq!(call("concat", &[s("a"), Value::Null]), Value::Null);
        assert_eq!(call("length", &[s("héllo")]), Value::Int(5));
        assert_eq!(
            call("startswith_ci", &[s("Explorer.EXE"), s("explorer.")]),
            Value::Bool(true)
        );
        assert_eq!(call("endswith", &[Value::Null, s("x")]), Value::Null);
    }

    #[test]
    fn cidr_and_doc_values() {
        assert_eq!(
            call(
                "cidrmatch",
                &[s("10.6.48.157"), s("192.168.0.0/16"), s("10.0.0.0/8")]
            ),
            Value::Bool(true)
        );
        assert_eq!(
            call("cidrmatch", &[Value::Null, s("10.0.0.0/8")]),
            Value::Null
        );
        let multi = Value::Array(vec![s("b"), s("a"), Value::Null]);
        assert_eq!(call("doc_value", &[multi]), s("a"));
        assert_eq!(
            call(
                "doc_value",
                &[Value::Array(vec![Value::Int(9), Value::Int(3)])]
            ),
            Value::Int(3)
        );
    }

    #[test]
    fn versions() {
        assert_eq!(version_cmp("1.11.3", "1.5.0"), Ordering::Greater);
        assert_eq!(version_cmp("1.2.4-SNAPSHOT", "1.2.4"), Ordering::Less);
        assert_eq!(version_cmp("bad", "1.5.0"), Ordering::Greater);
        assert_eq!(version_cmp("1.2.4", "1.2.4"), Ordering::Equal);
    }
}
