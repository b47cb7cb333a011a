//! Functions with ES|QL's own semantics, looked up without the `esql.` prefix.
//!
//! ES|QL functions that take one value return null (and the executor counts a warning) when an
//! argument is multi-valued; a multi-value with one element is that element, and an empty result
//! is null. Arguments arrive already typed by the plan (the lowering checked them), so these
//! functions only see the values ES|QL would pass.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use vigil_event::Value;

use super::ScalarFn;
use crate::compare::compare_values;
use crate::key::GroupKey;

type R = Result<Value, String>;

pub(super) fn lookup(name: &str) -> Option<ScalarFn> {
    Some(match name {
        "doc_values" => |a| {
            let mut v = leaves(arg(a, 0));
            if v.len() < 2 {
                return Ok(out(v));
            }
            sort_values(&mut v);
            if arg(a, 1).as_str() == Some("set") {
                v.dedup_by(|x, y| compare_values(x, y, false, false) == Some(Ordering::Equal));
            }
            Ok(Value::Array(v))
        },
        "single" => |a| Ok(one(arg(a, 0))?.cloned().unwrap_or(Value::Null)),
        "arith" => arith,
        "check_int" => check_int,
        // Conversions.
        "to_double" => |a| convert(arg(a, 0), to_double),
        "to_long" => |a| match a.get(1) {
            Some(b) => with_base(arg(a, 0), b, i64::MIN, i64::MAX),
            None => convert(arg(a, 0), to_long),
        },
        "to_integer" => |a| match a.get(1) {
            Some(b) => with_base(arg(a, 0), b, i64::from(i32::MIN), i64::from(i32::MAX)),
            None => convert(arg(a, 0), to_integer),
        },
        "to_unsigned_long" => |a| convert(arg(a, 0), to_unsigned_long),
        "to_boolean" => |a| convert(arg(a, 0), to_boolean),
        "to_string" => |a| convert(arg(a, 0), |v| Ok(Value::from(to_text(v)))),
        "to_ip" => |a| convert(arg(a, 0), to_ip),
        "to_datetime" => |a| convert(arg(a, 0), |v| to_datetime(v, false)),
        "to_date_nanos" => |a| convert(arg(a, 0), |v| to_datetime(v, true)),
        // Strings.
        "to_lower" => |a| convert(arg(a, 0), |v| Ok(Value::from(to_text(v).to_lowercase()))),
        "to_upper" => |a| convert(arg(a, 0), |v| Ok(Value::from(to_text(v).to_uppercase()))),
        "trim" => |a| str1(a, |s| Ok(Value::from(s.trim()))),
        "ltrim" => |a| str1(a, |s| Ok(Value::from(s.trim_start()))),
        "rtrim" => |a| str1(a, |s| Ok(Value::from(s.trim_end()))),
        "reverse" => |a| str1(a, |s| Ok(Value::from(s.chars().rev().collect::<String>()))),
        "length" => |a| str1(a, |s| Ok(Value::Int(s.chars().count() as i64))),
        "byte_length" => |a| str1(a, |s| Ok(Value::Int(s.len() as i64))),
        "bit_length" => |a| str1(a, |s| Ok(Value::Int(s.len() as i64 * 8))),
        "concat" => concat,
        "replace" => replace,
        "locate" => locate,
        "substring" => substring,
        "left" => |a| str_n(a, |s, n| s.chars().take(n).collect()),
        "right" => |a| {
            str_n(a, |s, n| {
                let c = s.chars().count();
                s.chars().skip(c.saturating_sub(n)).collect()
            })
        },
        "repeat" => |a| {
            if let Some(Value::Int(n)) = a.get(1)
                && *n < 0
            {
                return Err(format!("Number parameter cannot be negative, found [{n}]"));
            }
            if let (Some(Value::Str(s)), Some(Value::Int(n))) = (a.first(), a.get(1))
                && (s.len() as i64).saturating_mul(*n) > MAX_STRING
            {
                return Err(format!(
                    "Creating strings longer than [{MAX_STRING}] bytes is not supported"
                ));
            }
            str_n(a, |s, n| s.repeat(n))
        },
        "space" => |a| match one(arg(a, 0))? {
            Some(Value::Int(n)) if *n > MAX_STRING => Err(format!(
                "Creating strings longer than [{MAX_STRING}] bytes is not supported"
            )),
            Some(Value::Int(n)) if *n >= 0 => Ok(Value::from(" ".repeat(*n as usize))),
            Some(Value::Int(n)) => Err(format!("Number parameter cannot be negative, found [{n}]")),
            _ => Ok(Value::Null),
        },
        "starts_with" => |a| str2(a, |s, p| Value::Bool(s.starts_with(p))),
        "ends_with" => |a| str2(a, |s, p| Value::Bool(s.ends_with(p))),
        "contains" => |a| str2(a, |s, p| Value::Bool(s.contains(p))),
        "split" => split,
        "url_decode" => |a| str1(a, url_decode),
        "url_encode" => |a| str1(a, |s| Ok(Value::from(url_encode(s, true)))),
        "url_encode_component" => |a| str1(a, |s| Ok(Value::from(url_encode(s, false)))),
        "from_base64" => |a| str1(a, from_base64),
        "to_base64" => |a| str1(a, |s| Ok(Value::from(to_base64(s.as_bytes())))),
        "json_extract" => json_extract,
        "to_geopoint" => |a| match one(arg(a, 0))?.map(geo_point).transpose()? {
            Some((lon, lat)) => Ok(point_value(lon, lat)),
            None => Ok(Value::Null),
        },
        "st_x" => |a| {
            Ok(one(arg(a, 0))?
                .map(geo_point)
                .transpose()?
                .map_or(Value::Null, |p| Value::Float(p.0)))
        },
        "st_y" => |a| {
            Ok(one(arg(a, 0))?
                .map(geo_point)
                .transpose()?
                .map_or(Value::Null, |p| Value::Float(p.1)))
        },
        "st_distance" => |a| {
            let (Some(p), Some(q)) = (one(arg(a, 0))?, one(arg(a, 1))?) else {
                return Ok(Value::Null);
            };
            Ok(Value::Float(haversine(geo_point(p)?, geo_point(q)?)))
        },
        "match" => full_text_match,
        // Math.
        "abs" => |a| {
            num1(
                a,
                |i| i.checked_abs().map(Value::Int),
                |f| Some(Value::Float(f.abs())),
            )
        },
        "ceil" => |a| num1(a, |i| Some(Value::Int(i)), |f| Some(Value::Float(f.ceil()))),
        "floor" => |a| {
            num1(
                a,
                |i| Some(Value::Int(i)),
                |f| Some(Value::Float(f.floor())),
            )
        },
        "round" => round,
        "signum" => |a| float1(a, |f| Ok(if f == 0.0 { 0.0 } else { f.signum() })),
        "sqrt" => |a| {
            float1(a, |f| {
                if f < 0.0 {
                    Err("Square root of negative".into())
                } else {
                    Ok(f.sqrt())
                }
            })
        },
        "cbrt" => |a| float1(a, |f| Ok(f.cbrt())),
        "exp" => |a| float1(a, |f| Ok(f.exp())),
        "log10" => |a| {
            float1(a, |f| {
                if f <= 0.0 {
                    Err("Log of non-positive number".into())
                } else {
                    Ok(f.log10())
                }
            })
        },
        "log" => log,
        "sin" => |a| float1(a, |f| Ok(f.sin())),
        "cos" => |a| float1(a, |f| Ok(f.cos())),
        "tan" => |a| float1(a, |f| Ok(f.tan())),
        "asin" => |a| float1(a, |f| domain(f.asin())),
        "acos" => |a| float1(a, |f| domain(f.acos())),
        "atan" => |a| float1(a, |f| Ok(f.atan())),
        "sinh" => |a| float1(a, |f| domain(f.sinh())),
        "cosh" => |a| float1(a, |f| domain(f.cosh())),
        "tanh" => |a| float1(a, |f| Ok(f.tanh())),
        "pow" => |a| float2(a, f64::powf),
        "hypot" => |a| float2(a, f64::hypot),
        "to_degrees" => |a| float1(a, |f| Ok(f.to_degrees())),
        "to_radians" => |a| float1(a, |f| Ok(f.to_radians())),
        "acosh" => |a| float1(a, |f| domain(f.acosh())),
        "asinh" => |a| float1(a, |f| Ok(f.asinh())),
        "atanh" => |a| float1(a, |f| domain(f.atanh())),
        "atan2" => |a| float2(a, f64::atan2),
        "greatest" => |a| extreme(a, Ordering::Greater),
        "least" => |a| extreme(a, Ordering::Less),
        "coalesce" => |a| {
            Ok(a.iter()
                .find(|v| !v.is_null())
                .cloned()
                .unwrap_or(Value::Null))
        },
        // Multi-values.
        "mv_count" => |a| {
            let n = leaves(arg(a, 0)).len();
            Ok(if n == 0 {
                Value::Null
            } else {
                Value::Int(n as i64)
            })
        },
        "mv_first" => |a| Ok(leaves(arg(a, 0)).first().cloned().unwrap_or(Value::Null)),
        "mv_last" => |a| Ok(leaves(arg(a, 0)).last().cloned().unwrap_or(Value::Null)),
        "mv_min" => |a| Ok(mv_extreme(arg(a, 0), Ordering::Less)),
        "mv_max" => |a| Ok(mv_extreme(arg(a, 0), Ordering::Greater)),
        "mv_dedupe" => |a| Ok(out(dedupe(leaves(arg(a, 0))))),
        "mv_sort" => mv_sort,
        "mv_slice" => mv_slice,
        "mv_sum" => mv_sum,
        "mv_avg" => |a| {
            let v = leaves(arg(a, 0));
            if v.is_empty() {
                return Ok(Value::Null);
            }
            let sum: f64 = v.iter().filter_map(Value::as_f64).sum();
            Ok(Value::Float(sum / v.len() as f64))
        },
        "mv_median" => mv_median,
        "mv_concat" => |a| {
            let v = leaves(arg(a, 0));
            let Some(sep) = one(arg(a, 1))?.and_then(Value::as_str) else {
                return Ok(Value::Null);
            };
            if v.is_empty() {
                return Ok(Value::Null);
            }
            Ok(Value::from(
                v.iter().map(to_text).collect::<Vec<_>>().join(sep),
            ))
        },
        "mv_contains" => |a| {
            let sup = leaves(arg(a, 0));
            let sub = leaves(arg(a, 1));
            Ok(Value::Bool(sub.iter().all(|x| {
                sup.iter()
                    .any(|y| compare_values(x, y, false, false) == Some(Ordering::Equal))
            })))
        },
        "mv_intersection" => |a| {
            let x = dedupe(leaves(arg(a, 0)));
            let y = leaves(arg(a, 1));
            Ok(out(x
                .into_iter()
                .filter(|v| y.iter().any(|w| GroupKey::new(v) == GroupKey::new(w)))
                .collect()))
        },
        "mv_append" => |a| {
            if a.iter().any(Value::is_null) {
                return Ok(Value::Null);
            }
            let mut v = leaves(arg(a, 0));
            v.extend(leaves(arg(a, 1)));
            Ok(out(v))
        },
        "mv_zip" => mv_zip,
        // Dates.
        "date_trunc" => date_trunc,
        "date_diff" => date_diff,
        "date_extract" => date_extract,
        "date_format" => date_format,
        "date_parse" => date_parse,
        "date_add_period" => date_add_period,
        // Ips.
        "cidr_match" => cidr_match,
        "ip_prefix" => ip_prefix,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&Value::Null)
}

/// The longest string `REPEAT` and `SPACE` build, as Elasticsearch limits them (1 MiB).
const MAX_STRING: i64 = 1 << 20;

const MULTI: &str = "single-value function encountered multi-value";

/// The single value of an argument: `None` for null, an error for a multi-value.
fn one(v: &Value) -> Result<Option<&Value>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => {
            let mut it = items.iter().filter(|x| !x.is_null());
            match (it.next(), it.next()) {
                (None, _) => Ok(None),
                (Some(x), None) => one(x),
                _ => Err(MULTI.into()),
            }
        }
        v => Ok(Some(v)),
    }
}

/// A multi-value's elements (nulls dropped).
fn leaves(v: &Value) -> Vec<Value> {
    v.leaves().cloned().collect()
}

/// A result multi-value: null when empty, the element when single.
fn out(mut v: Vec<Value>) -> Value {
    match v.len() {
        0 => Value::Null,
        1 => v.remove(0),
        _ => Value::Array(v),
    }
}

fn dedupe(v: Vec<Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    v.into_iter()
        .filter(|x| seen.insert(GroupKey::new(x)))
        .collect()
}

/// Applies a conversion to every value of a (multi-)value; values that fail are dropped, and
/// the result is an error only when all fail.
fn convert(v: &Value, f: impl Fn(&Value) -> R) -> R {
    let vals = leaves(v);
    if vals.is_empty() {
        return Ok(Value::Null);
    }
    let mut res = Vec::new();
    let mut last_err = None;
    for x in &vals {
        match f(x) {
            Ok(Value::Null) => {}
            Ok(y) => res.push(y),
            Err(e) => last_err = Some(e),
        }
    }
    match (res.is_empty(), last_err) {
        (true, Some(e)) => Err(e),
        _ => Ok(out(res)),
    }
}

fn str1(a: &[Value], f: impl Fn(&str) -> R) -> R {
    match one(arg(a, 0))? {
        Some(Value::Str(s)) => f(s),
        Some(other) => f(&to_text(other)),
        None => Ok(Value::Null),
    }
}

fn str2(a: &[Value], f: impl Fn(&str, &str) -> Value) -> R {
    match (one(arg(a, 0))?, one(arg(a, 1))?) {
        (Some(x), Some(y)) => Ok(f(&to_text(x), &to_text(y))),
        _ => Ok(Value::Null),
    }
}

fn str_n(a: &[Value], f: impl Fn(&str, usize) -> String) -> R {
    match (one(arg(a, 0))?, one(arg(a, 1))?) {
        (Some(x), Some(Value::Int(n))) => Ok(Value::from(f(
            &to_text(x),
            usize::try_from(*n).unwrap_or(0),
        ))),
        _ => Ok(Value::Null),
    }
}

fn num1(
    a: &[Value],
    int: impl Fn(i64) -> Option<Value>,
    float: impl Fn(f64) -> Option<Value>,
) -> R {
    match one(arg(a, 0))? {
        Some(Value::Int(i)) => int(*i).ok_or_else(|| "arithmetic overflow".into()),
        Some(Value::Float(f)) => float(*f).ok_or_else(|| "arithmetic overflow".into()),
        _ => Ok(Value::Null),
    }
}

fn float1(a: &[Value], f: impl Fn(f64) -> Result<f64, String>) -> R {
    match one(arg(a, 0))?.and_then(Value::as_f64) {
        Some(x) => finite(f(x)?),
        None => Ok(Value::Null),
    }
}

fn float2(a: &[Value], f: impl Fn(f64, f64) -> f64) -> R {
    match (
        one(arg(a, 0))?.and_then(Value::as_f64),
        one(arg(a, 1))?.and_then(Value::as_f64),
    ) {
        (Some(x), Some(y)) => finite(f(x, y)),
        _ => Ok(Value::Null),
    }
}

fn domain(f: f64) -> Result<f64, String> {
    if f.is_nan() {
        Err("argument out of domain".into())
    } else {
        Ok(f)
    }
}

fn finite(f: f64) -> R {
    if f.is_finite() {
        Ok(Value::Float(f))
    } else {
        Err("java.lang.ArithmeticException: not a finite double number".into())
    }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic and conversions
// ---------------------------------------------------------------------------------------------

fn arith(a: &[Value]) -> R {
    let op = arg(a, 0).as_str().unwrap_or("+");
    let (Some(x), Some(y)) = (one(arg(a, 1))?, one(arg(a, 2))?) else {
        return Ok(Value::Null);
    };
    match (x, y) {
        (Value::Int(x), Value::Int(y)) => {
            let r = match op {
                "+" => x.checked_add(*y),
                "-" => x.checked_sub(*y),
                "*" => x.checked_mul(*y),
                "/" | "%" if *y == 0 => {
                    return Err("java.lang.ArithmeticException: / by zero".into());
                }
                "/" => x.checked_div(*y),
                _ => x.checked_rem(*y),
            };
            r.map(Value::Int)
                .ok_or_else(|| "java.lang.ArithmeticException: long overflow".into())
        }
        _ => {
            let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) else {
                return Ok(Value::Null);
            };
            let r = match op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "/" if y == 0.0 => return Err("java.lang.ArithmeticException: / by zero".into()),
                "/" => x / y,
                _ if y == 0.0 => return Err("java.lang.ArithmeticException: / by zero".into()),
                _ => x % y,
            };
            finite(r)
        }
    }
}

fn check_int(a: &[Value]) -> R {
    match arg(a, 0) {
        Value::Int(i) if i32::try_from(*i).is_err() => {
            Err("java.lang.ArithmeticException: integer overflow".into())
        }
        v => Ok(v.clone()),
    }
}

/// `TO_LONG(text, base)`: a whole number in base 2 to 36 (`0x` allowed for 16).
fn with_base(v: &Value, base: &Value, min: i64, max: i64) -> R {
    let (Some(v), Some(Value::Int(b))) = (one(v)?, one(base)?) else {
        return Ok(Value::Null);
    };
    let text = to_text(v);
    let t = text.trim();
    let radix = u32::try_from(*b)
        .ok()
        .filter(|r| (2..=36).contains(r))
        .ok_or_else(|| {
            format!(
                "org.elasticsearch.xpack.esql.core.InvalidArgumentException: invalid base [{b}]"
            )
        })?;
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits = if radix == 16 {
        digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
            .unwrap_or(digits)
    } else {
        digits
    };
    let parsed = i128::from_str_radix(digits, radix)
        .ok()
        .map(|n| if neg { -n } else { n });
    match parsed {
        Some(n) if n >= i128::from(min) && n <= i128::from(max) => Ok(Value::Int(n as i64)),
        _ => Err(format!(
            "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Cannot parse number [{text}] in base [{b}]"
        )),
    }
}

fn to_double(v: &Value) -> R {
    Ok(match v {
        Value::Int(i) => Value::Float(*i as f64),
        Value::Float(_) => v.clone(),
        Value::Bool(b) => Value::Float(if *b { 1.0 } else { 0.0 }),
        Value::Date(t) => Value::Float(t.as_millisecond() as f64),
        Value::Str(s) => {
            let t = s.trim();
            match t.parse::<f64>() {
                Ok(f) if f.is_finite() => Value::Float(f),
                _ => {
                    return Err(format!(
                        "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Cannot parse number [{s}]"
                    ));
                }
            }
        }
        _ => return Err(format!("cannot convert {} to double", v.type_name())),
    })
}

fn to_long(v: &Value) -> R {
    Ok(match v {
        Value::Int(_) => v.clone(),
        Value::Float(f) => Value::Int(double_to_long(*f)?),
        Value::Bool(b) => Value::Int(i64::from(*b)),
        Value::Date(t) => Value::Int(t.as_millisecond()),
        Value::Str(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                Value::Int(i)
            } else {
                match t.parse::<f64>() {
                    Ok(f) => Value::Int(double_to_long(f)?),
                    Err(_) => {
                        return Err(format!(
                            "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Cannot parse number [{s}]"
                        ));
                    }
                }
            }
        }
        _ => return Err(format!("cannot convert {} to long", v.type_name())),
    })
}

fn double_to_long(f: f64) -> Result<i64, String> {
    if (-9.223_372_036_854_776E18..9.223_372_036_854_776E18).contains(&f) {
        // Java's Math.round: half up.
        Ok((f + 0.5).floor() as i64)
    } else {
        Err(format!(
            "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{}] out of [long] range",
            java_double(f)
        ))
    }
}

fn to_integer(v: &Value) -> R {
    let parsed;
    let v = match v {
        Value::Str(s) => {
            let t = s.trim();
            parsed = match t.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => t.parse::<f64>().map(Value::Float).map_err(|_| {
                    format!(
                        "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Cannot parse number [{s}]"
                    )
                })?,
            };
            &parsed
        }
        v => v,
    };
    let l = match v {
        Value::Float(f) => {
            // The range is checked before rounding: 2147483647.2 is out of range.
            if !(f.is_finite() && *f >= -2_147_483_648.0 && *f <= 2_147_483_647.0) {
                return Err(format!(
                    "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{}] out of [integer] range",
                    java_double(*f)
                ));
            }
            (*f + 0.5).floor() as i64
        }
        other => match to_long(other)? {
            Value::Int(i) => i,
            _ => return Ok(Value::Null),
        },
    };
    if i32::try_from(l).is_err() {
        return Err(format!(
            "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{l}] out of [integer] range"
        ));
    }
    Ok(Value::Int(l))
}

fn to_unsigned_long(v: &Value) -> R {
    match to_long(v)? {
        Value::Int(i) if i >= 0 => Ok(Value::Int(i)),
        Value::Int(i) => Err(format!(
            "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{i}] out of [unsigned_long] range"
        )),
        other => Ok(other),
    }
}

fn to_boolean(v: &Value) -> R {
    Ok(match v {
        Value::Bool(_) => v.clone(),
        Value::Str(s) => Value::Bool(s.eq_ignore_ascii_case("true")),
        Value::Int(i) => Value::Bool(*i != 0),
        Value::Float(f) => Value::Bool(*f != 0.0),
        _ => return Err(format!("cannot convert {} to boolean", v.type_name())),
    })
}

fn to_ip(v: &Value) -> R {
    match v {
        Value::Ip(_) => Ok(v.clone()),
        Value::Str(s) => s.parse::<IpAddr>().map(Value::Ip).map_err(|_| {
            format!("java.lang.IllegalArgumentException: '{s}' is not an IP string literal.")
        }),
        _ => Err(format!("cannot convert {} to ip", v.type_name())),
    }
}

fn to_datetime(v: &Value, nanos: bool) -> R {
    match v {
        Value::Date(_) => Ok(v.clone()),
        Value::Int(i) => {
            let t = if nanos {
                Timestamp::from_nanosecond(i128::from(*i))
            } else {
                Timestamp::from_millisecond(*i)
            };
            t.map(Value::Date).map_err(|e| e.to_string())
        }
        Value::Float(f) => Timestamp::from_millisecond(*f as i64)
            .map(Value::Date)
            .map_err(|e| e.to_string()),
        Value::Str(s) => vigil_event::parse_rfc3339(s)
            .map(Value::Date)
            .map_err(|_| {
                format!(
                    "java.lang.IllegalArgumentException: failed to parse date field [{s}] with format [strict_date_optional_time]"
                )
            }),
        _ => Err(format!("cannot convert {} to date", v.type_name())),
    }
}

/// A value as ES|QL prints it: doubles as Java does, dates in ISO 8601 with milliseconds.
fn to_text(v: &Value) -> String {
    match v {
        Value::Float(f) => java_double(*f),
        Value::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// Java's `Double.toString`: plain notation for 1e-3 ≤ |x| < 1e7, otherwise `d.dddE±n`, with
/// the shortest digits that read back to the same double.
pub(crate) fn java_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let abs = f.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

fn concat(a: &[Value]) -> R {
    let mut s = String::new();
    for v in a {
        match one(v)? {
            Some(x) => s.push_str(&to_text(x)),
            None => return Ok(Value::Null),
        }
    }
    Ok(Value::from(s))
}

thread_local! {
    static REGEX_CACHE: RefCell<HashMap<String, Result<fancy_regex::Regex, String>>> =
        RefCell::new(HashMap::new());
}

/// A compiled regular expression, cached: patterns are constants of the query, but functions
/// only see values.
fn cached_regex(pattern: &str) -> Result<fancy_regex::Regex, String> {
    REGEX_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 256 {
            c.clear();
        }
        c.entry(pattern.to_string())
            .or_insert_with(|| {
                fancy_regex::RegexBuilder::new(pattern)
                    .delegate_size_limit(1 << 22)
                    .build()
                    .map_err(|e| format!("java.util.regex.PatternSyntaxException: {e}"))
            })
            .clone()
    })
}

/// Java's replacement syntax (`$1`, `${name}`, `\$`) in the `regex` crate's (`${1}`, `$$`).
fn java_replacement(r: &str) -> String {
    let mut out = String::new();
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(n) => out.push(n),
                None => {}
            },
            '$' => {
                if chars.peek() == Some(&'{') {
                    out.push('$');
                    continue;
                }
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn replace(a: &[Value]) -> R {
    let (Some(s), Some(p), Some(r)) = (one(arg(a, 0))?, one(arg(a, 1))?, one(arg(a, 2))?) else {
        return Ok(Value::Null);
    };
    let re = cached_regex(&to_text(p))?;
    let text = to_text(s);
    let repl = java_replacement(&to_text(r));
    // A backtracking limit hit is an evaluation error (null and a warning).
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(text.as_str()) {
        let caps = caps.map_err(|e| format!("java.lang.StackOverflowError: {e}"))?;
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&text[last..m.start()]);
        fancy_regex::Expander::default().append_expansion(&mut out, &repl, &caps);
        last = m.end();
    }
    out.push_str(&text[last..]);
    Ok(Value::from(out))
}

fn locate(a: &[Value]) -> R {
    let (Some(s), Some(sub)) = (one(arg(a, 0))?, one(arg(a, 1))?) else {
        return Ok(Value::Null);
    };
    let (s, sub) = (to_text(s), to_text(sub));
    let start = match a.get(2).map(one).transpose()?.flatten() {
        Some(Value::Int(i)) => *i,
        _ => 1,
    };
    let chars: Vec<char> = s.chars().collect();
    let from = if start <= 0 { 0 } else { (start - 1) as usize };
    if from > chars.len() {
        return Ok(Value::Int(0));
    }
    let hay: String = chars[from..].iter().collect();
    Ok(Value::Int(match hay.find(&sub) {
        Some(byte) => (from + hay[..byte].chars().count() + 1) as i64,
        None => 0,
    }))
}

fn substring(a: &[Value]) -> R {
    let (Some(s), Some(Value::Int(start))) = (one(arg(a, 0))?, one(arg(a, 1))?) else {
        return Ok(Value::Null);
    };
    let chars: Vec<char> = to_text(s).chars().collect();
    let n = chars.len() as i64;
    let len = match a.get(2).map(one).transpose()?.flatten() {
        Some(Value::Int(l)) => *l,
        Some(_) => return Ok(Value::Null),
        None if a.len() > 2 => return Ok(Value::Null),
        None => n,
    };
    if len < 0 {
        return Err(format!(
            "Length parameter cannot be negative, found [{len}]"
        ));
    }
    // 1-based; a negative start counts from the end.
    let mut st = if *start < 0 { n + start } else { start - 1 };
    st = st.clamp(0, n);
    let end = st.saturating_add(len).min(n);
    Ok(Value::from(
        chars[st as usize..end.max(st) as usize]
            .iter()
            .collect::<String>(),
    ))
}

fn split(a: &[Value]) -> R {
    let (Some(s), Some(d)) = (one(arg(a, 0))?, one(arg(a, 1))?) else {
        return Ok(Value::Null);
    };
    let (s, d) = (to_text(s), to_text(d));
    if d.is_empty() {
        return Ok(out(s.chars().map(|c| Value::from(c.to_string())).collect()));
    }
    Ok(out(s.split(d.as_str()).map(Value::from).collect()))
}

fn url_decode(s: &str) -> R {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(h) = hex else {
                    return Err("java.lang.IllegalArgumentException: URLDecoder: Illegal hex characters in escape (%) pattern".into());
                };
                out.push(h);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Ok(Value::from(String::from_utf8_lossy(&out).into_owned()))
}

fn url_encode(s: &str, form: bool) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        let keep = c.is_ascii_alphanumeric()
            || matches!(c, b'.' | b'-' | b'_')
            || (form && c == b'*')
            || (!form && c == b'~');
        if keep {
            out.push(c as char);
        } else if c == b' ' && form {
            out.push('+');
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn to_base64(b: &[u8]) -> String {
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= n {
                out.push(B64[((v >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn from_base64(s: &str) -> R {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    let body = s.trim_end_matches('=');
    let padded = s.len() - body.len();
    if padded > 2 || (padded > 0 && !s.len().is_multiple_of(4)) || body.len() % 4 == 1 {
        return Err(
            "java.lang.IllegalArgumentException: Input byte array has wrong 4-byte ending unit"
                .into(),
        );
    }
    for c in body.bytes() {
        let Some(v) = B64.iter().position(|x| *x == c) else {
            return Err(format!(
                "java.lang.IllegalArgumentException: Illegal base64 character {:x}",
                c
            ));
        };
        bits = (bits << 6) | v as u32;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    String::from_utf8(out).map(Value::from).map_err(|_| {
        "java.lang.IllegalArgumentException: the decoded bytes are not valid UTF-8".into()
    })
}

/// The match query: any value of the field matches the query (whole value for keywords, any
/// lower-cased token for text), within `fuzziness` edits (`-1`: by term length).
fn full_text_match(a: &[Value]) -> R {
    let Some(Value::Str(q)) = a.get(1) else {
        return Ok(Value::Bool(false));
    };
    let fuzziness = arg(a, 2).as_i64().unwrap_or(0);
    let text = arg(a, 3).as_bool().unwrap_or(false);
    let within = |x: &str, y: &str| {
        let max = if fuzziness < 0 {
            match y.chars().count() {
                0..=2 => 0,
                3..=5 => 1,
                _ => 2,
            }
        } else {
            fuzziness as usize
        };
        x == y || (max > 0 && edit_distance(x, y) <= max)
    };
    let tokens = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let hit = arg(a, 0).leaves().any(|v| {
        let v = to_text(v);
        if text {
            let have = tokens(&v);
            tokens(q).iter().any(|t| have.iter().any(|h| within(h, t)))
        } else {
            within(&v, q)
        }
    });
    Ok(Value::Bool(hit))
}

/// Edits between two strings, an adjacent transposition counting as one (Lucene's fuzzy
/// queries).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// A geo point as (lon, lat), from the forms Elasticsearch accepts in documents: an object
/// `{lat, lon}`, WKT `POINT (lon lat)` or the string `"lat,lon"`.
fn geo_point(v: &Value) -> Result<(f64, f64), String> {
    let bad = || {
        format!(
            "java.lang.IllegalArgumentException: cannot read a geo_point from [{}]",
            to_text(v)
        )
    };
    match v {
        Value::Object(m) => {
            let lat = m.get("lat").and_then(Value::as_f64).ok_or_else(bad)?;
            let lon = m.get("lon").and_then(Value::as_f64).ok_or_else(bad)?;
            Ok((lon, lat))
        }
        Value::Str(s) => {
            let t = s.trim();
            if let Some(rest) = t
                .strip_prefix("POINT")
                .or_else(|| t.strip_prefix("point"))
                .map(str::trim)
                .and_then(|r| r.strip_prefix('('))
                .and_then(|r| r.strip_suffix(')'))
            {
                let mut it = rest.split_whitespace().map(str::parse::<f64>);
                if let (Some(Ok(x)), Some(Ok(y)), None) = (it.next(), it.next(), it.next()) {
                    return Ok((x, y));
                }
                return Err(bad());
            }
            let (lat, lon) = t.split_once(',').ok_or_else(bad)?;
            Ok((
                lon.trim().parse().map_err(|_| bad())?,
                lat.trim().parse().map_err(|_| bad())?,
            ))
        }
        _ => Err(bad()),
    }
}

fn point_value(lon: f64, lat: f64) -> Value {
    let mut m = vigil_event::Map::new();
    m.insert("lat".into(), Value::Float(lat));
    m.insert("lon".into(), Value::Float(lon));
    Value::Object(m)
}

/// Great-circle distance in meters (Elasticsearch's mean earth radius).
fn haversine((lon1, lat1): (f64, f64), (lon2, lat2): (f64, f64)) -> f64 {
    const R: f64 = 6_371_008.771_4;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

fn json_extract(a: &[Value]) -> R {
    let (Some(s), Some(p)) = (one(arg(a, 0))?, one(arg(a, 1))?) else {
        return Ok(Value::Null);
    };
    let doc = vigil_event::parse_json(to_text(s).as_bytes()).map_err(|e| {
        format!(
            "java.lang.IllegalArgumentException: invalid JSON input: {}",
            e.0
        )
    })?;
    let path = to_text(p);
    let mut cur = &doc;
    for step in json_path(&path)? {
        let next = match (&step, cur) {
            (JsonStep::Key(k), Value::Object(m)) => m.get(k.as_str()),
            (JsonStep::Index(i), Value::Array(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => {
                return Err(format!(
                    "java.lang.IllegalArgumentException: path [{path}] does not exist"
                ));
            }
        }
    }
    Ok(match cur {
        Value::Null => Value::Null,
        Value::Str(_) => cur.clone(),
        Value::Float(f) => Value::from(java_double(*f)),
        other => Value::from(other.to_string()),
    })
}

enum JsonStep {
    Key(String),
    Index(usize),
}

/// `a.b[0].c`, `$.a['b']`, or a plain key.
fn json_path(p: &str) -> Result<Vec<JsonStep>, String> {
    let p = p.strip_prefix('$').unwrap_or(p);
    let p = p.strip_prefix('.').unwrap_or(p);
    let mut steps = Vec::new();
    let mut key = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !key.is_empty() {
                    steps.push(JsonStep::Key(std::mem::take(&mut key)));
                }
            }
            '[' => {
                if !key.is_empty() {
                    steps.push(JsonStep::Key(std::mem::take(&mut key)));
                }
                let mut inner = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    inner.push(d);
                }
                let inner = inner.trim();
                if let Some(q) = inner
                    .strip_prefix('\'')
                    .and_then(|x| x.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
                {
                    steps.push(JsonStep::Key(q.to_string()));
                } else {
                    let i = inner.parse::<usize>().map_err(|_| {
                        format!("java.lang.IllegalArgumentException: invalid path [{p}]")
                    })?;
                    steps.push(JsonStep::Index(i));
                }
            }
            c => key.push(c),
        }
    }
    if !key.is_empty() {
        steps.push(JsonStep::Key(key));
    }
    Ok(steps)
}

// ---------------------------------------------------------------------------------------------
// Math
// ---------------------------------------------------------------------------------------------

fn round(a: &[Value]) -> R {
    let Some(v) = one(arg(a, 0))? else {
        return Ok(Value::Null);
    };
    let d = match a.get(1).map(one).transpose()?.flatten() {
        Some(Value::Int(d)) => *d,
        Some(_) => return Ok(Value::Null),
        None if a.len() > 1 => return Ok(Value::Null),
        None => 0,
    };
    match v {
        Value::Int(i) => {
            if d >= 0 {
                return Ok(Value::Int(*i));
            }
            let Some(p) = 10i64.checked_pow(u32::try_from(-d).unwrap_or(u32::MAX)) else {
                return Ok(Value::Int(0));
            };
            // Half away from zero.
            let (i, p) = (i128::from(*i), i128::from(p));
            let r = (i.abs() + p / 2) / p * p;
            let r = if i < 0 { -r } else { r };
            i64::try_from(r)
                .map(Value::Int)
                .map_err(|_| "java.lang.ArithmeticException: long overflow".into())
        }
        Value::Float(f) => {
            let d = d.clamp(-308, 308) as i32;
            let p = 10f64.powi(d);
            let x = f * p;
            if !x.is_finite() {
                return Ok(Value::Float(*f));
            }
            let r = x.abs().round() * x.signum();
            Ok(Value::Float(r / p))
        }
        _ => Ok(Value::Null),
    }
}

fn log(a: &[Value]) -> R {
    if a.len() == 1 {
        return float1(a, |f| {
            if f <= 0.0 {
                Err("Log of non-positive number".into())
            } else {
                Ok(f.ln())
            }
        });
    }
    match (
        one(arg(a, 0))?.and_then(Value::as_f64),
        one(arg(a, 1))?.and_then(Value::as_f64),
    ) {
        (Some(b), Some(x)) => {
            if b <= 0.0 || x <= 0.0 {
                return Err("Log of non-positive number".into());
            }
            if b == 1.0 {
                return Err("Log of base 1".into());
            }
            finite(x.ln() / b.ln())
        }
        _ => Ok(Value::Null),
    }
}

fn extreme(a: &[Value], want: Ordering) -> R {
    let mut best: Option<Value> = None;
    for v in a {
        if v.is_null() {
            return Ok(Value::Null);
        }
        for x in v.leaves() {
            let better = match &best {
                None => true,
                Some(b) => compare_values(x, b, false, false) == Some(want),
            };
            if better {
                best = Some(x.clone());
            }
        }
    }
    Ok(best.unwrap_or(Value::Null))
}

fn mv_extreme(v: &Value, want: Ordering) -> Value {
    let mut best: Option<&Value> = None;
    for x in v.leaves() {
        if best.is_none_or(|b| compare_values(x, b, false, false) == Some(want)) {
            best = Some(x);
        }
    }
    best.cloned().unwrap_or(Value::Null)
}

fn sort_values(v: &mut [Value]) {
    v.sort_by(|x, y| compare_values(x, y, false, false).unwrap_or(Ordering::Equal));
}

fn mv_sort(a: &[Value]) -> R {
    let mut v = leaves(arg(a, 0));
    sort_values(&mut v);
    match a.get(1).map(one).transpose()?.flatten() {
        Some(Value::Str(o)) if o.eq_ignore_ascii_case("desc") => v.reverse(),
        Some(Value::Str(o)) if o.eq_ignore_ascii_case("asc") => {}
        Some(other) => {
            return Err(format!(
                "Invalid order value in [MV_SORT]: [{}], expected [ASC, DESC]",
                to_text(other)
            ));
        }
        None => {}
    }
    Ok(out(v))
}

fn mv_slice(a: &[Value]) -> R {
    let v = leaves(arg(a, 0));
    let n = v.len() as i64;
    let Some(Value::Int(start)) = one(arg(a, 1))? else {
        return Ok(Value::Null);
    };
    let end = match a.get(2).map(one).transpose()?.flatten() {
        Some(Value::Int(e)) => *e,
        _ => *start,
    };
    if (*start >= 0) != (end >= 0) {
        return Err("Start and end offset must be both positive or both negative".into());
    }
    if *start > end {
        return Err(format!(
            "Start offset is greater than end offset [{start}] > [{end}]"
        ));
    }
    let norm = |i: i64| if i < 0 { n + i } else { i };
    let (s, e) = (norm(*start).max(0), norm(end).min(n - 1));
    if v.is_empty() || s > e || s >= n {
        return Ok(Value::Null);
    }
    Ok(out(v[s as usize..=e as usize].to_vec()))
}

fn mv_sum(a: &[Value]) -> R {
    let v = leaves(arg(a, 0));
    if v.is_empty() {
        return Ok(Value::Null);
    }
    if v.iter().all(|x| matches!(x, Value::Int(_))) {
        let mut s: i64 = 0;
        for x in &v {
            if let Value::Int(i) = x {
                s = s
                    .checked_add(*i)
                    .ok_or("java.lang.ArithmeticException: long overflow")?;
            }
        }
        return Ok(Value::Int(s));
    }
    finite(kahan(v.iter().filter_map(Value::as_f64)))
}

/// Compensated sum, as Elasticsearch sums doubles.
fn kahan(it: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0f64, 0.0f64);
    for x in it {
        let y = x - c;
        let t = sum + y;
        c = (t - sum) - y;
        sum = t;
    }
    sum
}

fn mv_median(a: &[Value]) -> R {
    let mut v = leaves(arg(a, 0));
    if v.is_empty() {
        return Ok(Value::Null);
    }
    sort_values(&mut v);
    let n = v.len();
    if n % 2 == 1 {
        return Ok(v[n / 2].clone());
    }
    match (&v[n / 2 - 1], &v[n / 2]) {
        // Whole numbers: the mean of the two middle values, rounded down.
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(
            ((i128::from(*x) + i128::from(*y)).div_euclid(2)) as i64,
        )),
        (x, y) => Ok(Value::Float(
            (x.as_f64().unwrap_or(0.0) + y.as_f64().unwrap_or(0.0)) / 2.0,
        )),
    }
}

fn mv_zip(a: &[Value]) -> R {
    let x = leaves(arg(a, 0));
    let y = leaves(arg(a, 1));
    let sep = match a.get(2) {
        Some(v) => match one(v)? {
            Some(s) => to_text(s),
            None => return Ok(Value::Null),
        },
        None => ",".into(),
    };
    if x.is_empty() && y.is_empty() {
        return Ok(Value::Null);
    }
    let n = x.len().max(y.len());
    let mut res = Vec::new();
    for i in 0..n {
        let s = match (x.get(i), y.get(i)) {
            (Some(p), Some(q)) => format!("{}{sep}{}", to_text(p), to_text(q)),
            (Some(p), None) => to_text(p),
            (None, Some(q)) => to_text(q),
            (None, None) => continue,
        };
        res.push(Value::from(s));
    }
    Ok(out(res))
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

fn utc(t: Timestamp) -> DateTime {
    jiff::tz::Offset::UTC.to_datetime(t)
}

fn from_utc(dt: DateTime) -> Result<Timestamp, String> {
    jiff::tz::Offset::UTC
        .to_timestamp(dt)
        .map_err(|e| e.to_string())
}

fn date_arg(v: &Value) -> Result<Option<Timestamp>, String> {
    Ok(match one(v)? {
        Some(Value::Date(t)) => Some(*t),
        Some(Value::Str(s)) => Some(vigil_event::parse_es_date(s).map_err(|e| e.to_string())?),
        Some(Value::Int(ms)) => Timestamp::from_millisecond(*ms).ok(),
        _ => None,
    })
}

fn date_trunc(a: &[Value]) -> R {
    let Some(t) = date_arg(arg(a, 0))? else {
        return Ok(Value::Null);
    };
    let months = arg(a, 1).as_i64().unwrap_or(0);
    let millis = arg(a, 2).as_i64().unwrap_or(0);
    let dt = utc(t);
    if months > 0 {
        let idx = i64::from(dt.year()) * 12 + i64::from(dt.month()) - 1;
        let idx = idx.div_euclid(months) * months;
        let (y, m) = (idx.div_euclid(12), idx.rem_euclid(12) + 1);
        let d = Date::new(i16::try_from(y).map_err(|e| e.to_string())?, m as i8, 1)
            .map_err(|e| e.to_string())?;
        return Ok(Value::Date(from_utc(
            d.to_datetime(jiff::civil::Time::midnight()),
        )?));
    }
    if millis <= 0 {
        return Err("Zero or negative time interval is not supported".into());
    }
    if millis == 7 * 86_400_000 {
        // Weeks start on Monday.
        let d = dt.date();
        let back = i64::from(d.weekday().to_monday_zero_offset());
        let monday = d
            .checked_sub(jiff::Span::new().days(back))
            .map_err(|e| e.to_string())?;
        return Ok(Value::Date(from_utc(
            monday.to_datetime(jiff::civil::Time::midnight()),
        )?));
    }
    let ns = t.as_nanosecond();
    let step = i128::from(millis) * 1_000_000;
    let floored = ns.div_euclid(step) * step;
    Timestamp::from_nanosecond(floored)
        .map(Value::Date)
        .map_err(|e| e.to_string())
}

fn date_add_period(a: &[Value]) -> R {
    let Some(t) = date_arg(arg(a, 0))? else {
        return Ok(Value::Null);
    };
    let months = arg(a, 1).as_i64().unwrap_or(0);
    let days = arg(a, 2).as_i64().unwrap_or(0);
    let dt = utc(t);
    let span = jiff::Span::new()
        .try_months(months)
        .and_then(|s| s.try_days(days))
        .map_err(|e| e.to_string())?;
    let r = dt.checked_add(span).map_err(|e| e.to_string())?;
    Ok(Value::Date(from_utc(r)?))
}

/// Whole units from `start` to `end`, as Java's `ChronoUnit.between`.
fn date_diff(a: &[Value]) -> R {
    let Some(unit) = one(arg(a, 0))?.map(to_text) else {
        return Ok(Value::Null);
    };
    let (Some(s), Some(e)) = (date_arg(arg(a, 1))?, date_arg(arg(a, 2))?) else {
        return Ok(Value::Null);
    };
    let nanos = e.as_nanosecond() - s.as_nanosecond();
    let per = |n: i128| nanos / n;
    let r: i128 = match unit.to_ascii_lowercase().as_str() {
        "nanosecond" | "nanoseconds" | "ns" => nanos,
        "microsecond" | "microseconds" | "mcs" => per(1_000),
        "millisecond" | "milliseconds" | "ms" => per(1_000_000),
        "second" | "seconds" | "ss" | "s" => per(1_000_000_000),
        "minute" | "minutes" | "mi" | "n" => per(60_000_000_000),
        "hour" | "hours" | "hh" => per(3_600_000_000_000),
        "day" | "days" | "dd" | "d" | "dayofyear" | "dy" | "y" | "weekday" | "weekdays" | "dw" => {
            per(86_400_000_000_000)
        }
        "week" | "weeks" | "wk" | "ww" => per(7 * 86_400_000_000_000),
        "month" | "months" | "mm" | "m" => i128::from(month_diff(s, e)),
        "quarter" | "quarters" | "qq" | "q" => i128::from(month_diff(s, e) / 3),
        "year" | "years" | "yyyy" | "yy" => i128::from(month_diff(s, e) / 12),
        other => {
            return Err(format!(
                "java.lang.IllegalArgumentException: A value of [YEAR, QUARTER, MONTH, DAYOFYEAR, DAY, WEEK, WEEKDAY, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, NANOSECOND] or their aliases is required; received [{other}]"
            ));
        }
    };
    i32::try_from(r).map(|v| Value::Int(i64::from(v))).map_err(|_| {
        "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [DATE_DIFF] result overflows an integer".into()
    })
}

/// Complete calendar months between two instants (UTC).
fn month_diff(s: Timestamp, e: Timestamp) -> i64 {
    let (a, b) = (utc(s), utc(e));
    let mut m = (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month())
        - i64::from(a.month());
    let rest = |d: &DateTime| (d.day(), d.time());
    if m > 0 && rest(&b) < rest(&a) {
        m -= 1;
    } else if m < 0 && rest(&b) > rest(&a) {
        m += 1;
    }
    m
}

fn date_extract(a: &[Value]) -> R {
    let Some(part) = one(arg(a, 0))?.map(to_text) else {
        return Ok(Value::Null);
    };
    let Some(t) = date_arg(arg(a, 1))? else {
        return Ok(Value::Null);
    };
    let d = utc(t);
    let v: i64 = match part.to_ascii_uppercase().as_str() {
        "YEAR" => i64::from(d.year()),
        "MONTH_OF_YEAR" => i64::from(d.month()),
        "DAY_OF_MONTH" => i64::from(d.day()),
        "DAY_OF_WEEK" => i64::from(d.weekday().to_monday_one_offset()),
        "DAY_OF_YEAR" => i64::from(d.day_of_year()),
        "HOUR_OF_DAY" => i64::from(d.hour()),
        "MINUTE_OF_HOUR" => i64::from(d.minute()),
        "MINUTE_OF_DAY" => i64::from(d.hour()) * 60 + i64::from(d.minute()),
        "SECOND_OF_MINUTE" => i64::from(d.second()),
        "SECOND_OF_DAY" => {
            i64::from(d.hour()) * 3600 + i64::from(d.minute()) * 60 + i64::from(d.second())
        }
        "MILLI_OF_SECOND" => i64::from(d.subsec_nanosecond()) / 1_000_000,
        "MICRO_OF_SECOND" => i64::from(d.subsec_nanosecond()) / 1_000,
        "NANO_OF_SECOND" => i64::from(d.subsec_nanosecond()),
        "EPOCH_DAY" => t.as_second().div_euclid(86_400),
        "ALIGNED_WEEK_OF_YEAR" => (i64::from(d.day_of_year()) - 1) / 7 + 1,
        "ALIGNED_WEEK_OF_MONTH" => (i64::from(d.day()) - 1) / 7 + 1,
        "AMPM_OF_DAY" => i64::from(d.hour() >= 12),
        "HOUR_OF_AMPM" => i64::from(d.hour() % 12),
        "CLOCK_HOUR_OF_DAY" => {
            if d.hour() == 0 {
                24
            } else {
                i64::from(d.hour())
            }
        }
        "PROLEPTIC_MONTH" => i64::from(d.year()) * 12 + i64::from(d.month()) - 1,
        "YEAR_OF_ERA" => i64::from(d.year()),
        "ERA" => 1,
        other => {
            return Err(format!(
                "java.lang.IllegalArgumentException: No enum constant java.time.temporal.ChronoField.{other}"
            ));
        }
    };
    Ok(Value::Int(v))
}

const DEFAULT_DATE_FORMAT: &str = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";

fn date_format(a: &[Value]) -> R {
    let (fmt, date) = if a.len() == 2 {
        match one(arg(a, 0))? {
            Some(f) => (to_text(f), arg(a, 1)),
            None => return Ok(Value::Null),
        }
    } else {
        (DEFAULT_DATE_FORMAT.to_string(), arg(a, 0))
    };
    let Some(t) = date_arg(date)? else {
        return Ok(Value::Null);
    };
    Ok(Value::from(java_format(&fmt, utc(t))?))
}

/// Formats with a Java `DateTimeFormatter` pattern (the letters detection queries use).
fn java_format(fmt: &str, d: DateTime) -> Result<String, String> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i += 1;
            if chars.get(i) == Some(&'\'') {
                out.push('\'');
                i += 1;
                continue;
            }
            while i < chars.len() && chars[i] != '\'' {
                out.push(chars[i]);
                i += 1;
            }
            i += 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        let pad = |v: i64, w: usize| format!("{v:0w$}");
        let month0 = (d.month() - 1) as usize;
        let wd = d.weekday().to_monday_zero_offset() as usize;
        match c {
            'y' | 'u' | 'Y' => {
                if n == 2 {
                    out.push_str(&pad(i64::from(d.year()).rem_euclid(100), 2));
                } else {
                    out.push_str(&pad(i64::from(d.year()), n));
                }
            }
            'M' | 'L' => match n {
                1 | 2 => out.push_str(&pad(i64::from(d.month()), n)),
                3 => out.push_str(&MONTHS[month0][..3]),
                _ => out.push_str(MONTHS[month0]),
            },
            'd' => out.push_str(&pad(i64::from(d.day()), n)),
            'D' => out.push_str(&pad(i64::from(d.day_of_year()), n)),
            'H' => out.push_str(&pad(i64::from(d.hour()), n)),
            'h' => {
                let h = i64::from(d.hour()) % 12;
                out.push_str(&pad(if h == 0 { 12 } else { h }, n));
            }
            'm' => out.push_str(&pad(i64::from(d.minute()), n)),
            's' => out.push_str(&pad(i64::from(d.second()), n)),
            'S' => {
                let nanos = format!("{:09}", d.subsec_nanosecond());
                out.push_str(&nanos[..n.min(9)]);
            }
            'a' => out.push_str(if d.hour() < 12 { "AM" } else { "PM" }),
            'E' => {
                if n >= 4 {
                    out.push_str(DAYS[wd]);
                } else {
                    out.push_str(&DAYS[wd][..3]);
                }
            }
            'e' => out.push_str(&pad(wd as i64 + 1, n)),
            'X' | 'x' | 'Z' => out.push_str(if c == 'X' { "Z" } else { "+0000" }),
            'z' | 'V' | 'O' => out.push('Z'),
            other => {
                return Err(format!(
                    "java.lang.IllegalArgumentException: Unknown pattern letter: {other}"
                ));
            }
        }
    }
    Ok(out)
}

fn date_parse(a: &[Value]) -> R {
    let (fmt, text) = if a.len() == 2 {
        match (one(arg(a, 0))?, one(arg(a, 1))?) {
            (Some(f), Some(t)) => (to_text(f), to_text(t)),
            _ => return Ok(Value::Null),
        }
    } else {
        match one(arg(a, 0))? {
            Some(t) => (String::new(), to_text(t)),
            None => return Ok(Value::Null),
        }
    };
    if fmt.is_empty() {
        return vigil_event::parse_rfc3339(&text)
            .map(Value::Date)
            .map_err(|_| format!("java.lang.IllegalArgumentException: failed to parse date field [{text}] with format [strict_date_optional_time]"));
    }
    java_parse(&fmt, &text)
        .map(Value::Date)
        .ok_or_else(|| format!("java.lang.IllegalArgumentException: failed to parse date field [{text}] with format [{fmt}]"))
}

/// Parses with a Java `DateTimeFormatter` pattern of numeric fields and literals.
fn java_parse(fmt: &str, text: &str) -> Option<Timestamp> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ns) =
        (1970i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0i64);
    let mut pm: Option<bool> = None;
    let f: Vec<char> = fmt.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut i, mut j) = (0, 0);
    while i < f.len() {
        let c = f[i];
        if c == '\'' {
            i += 1;
            while i < f.len() && f[i] != '\'' {
                if t.get(j) != Some(&f[i]) {
                    return None;
                }
                i += 1;
                j += 1;
            }
            i += 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if t.get(j) != Some(&c) {
                return None;
            }
            i += 1;
            j += 1;
            continue;
        }
        let mut n = 1;
        while f.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        if c == 'a' {
            let w: String = t.get(j..j + 2)?.iter().collect();
            pm = Some(w.eq_ignore_ascii_case("pm"));
            j += 2;
            continue;
        }
        if matches!(c, 'X' | 'Z' | 'x') {
            if t.get(j) == Some(&'Z') {
                j += 1;
            }
            continue;
        }
        // Numeric field: as many digits as the pattern letters (more for an unpadded last field).
        let max = if i >= f.len() || !f[i].is_ascii_alphabetic() {
            usize::MAX
        } else {
            n.max(2)
        };
        let start = j;
        while j < t.len() && t[j].is_ascii_digit() && j - start < max {
            j += 1;
        }
        if j == start {
            return None;
        }
        let digits: String = t[start..j].iter().collect();
        let v: i64 = digits.parse().ok()?;
        match c {
            'y' | 'u' | 'Y' => y = v,
            'M' => mo = v,
            'd' => d = v,
            'H' | 'k' => h = v,
            'h' | 'K' => h = v,
            'm' => mi = v,
            's' => s = v,
            'S' => {
                let mut frac = digits.clone();
                frac.truncate(9);
                while frac.len() < 9 {
                    frac.push('0');
                }
                ns = frac.parse().ok()?;
            }
            _ => return None,
        }
    }
    if j != t.len() {
        return None;
    }
    if let Some(pm) = pm {
        h = h % 12 + if pm { 12 } else { 0 };
    }
    let dt = DateTime::new(
        i16::try_from(y).ok()?,
        i8::try_from(mo).ok()?,
        i8::try_from(d).ok()?,
        i8::try_from(h).ok()?,
        i8::try_from(mi).ok()?,
        i8::try_from(s).ok()?,
        i32::try_from(ns).ok()?,
    )
    .ok()?;
    from_utc(dt).ok()
}

// ---------------------------------------------------------------------------------------------
// Ips
// ---------------------------------------------------------------------------------------------

fn cidr_match(a: &[Value]) -> R {
    let Some(ip) = one(arg(a, 0))? else {
        return Ok(Value::Null);
    };
    let ip = match ip {
        Value::Ip(ip) => *ip,
        Value::Str(s) => match s.parse() {
            Ok(ip) => ip,
            Err(_) => return Ok(Value::Null),
        },
        _ => return Ok(Value::Null),
    };
    for block in &a[1..] {
        for b in block.leaves() {
            let text = to_text(b);
            let net: Option<IpNet> = text
                .parse()
                .ok()
                .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from));
            let Some(net) = net else {
                return Err(format!(
                    "java.lang.IllegalArgumentException: invalid CIDR [{text}]"
                ));
            };
            if net.contains(&ip) || net_contains_mapped(&net, ip) {
                return Ok(Value::Bool(true));
            }
        }
    }
    Ok(Value::Bool(false))
}

/// An IPv4 address also matches IPv4-mapped IPv6 blocks, and the reverse, as Elasticsearch
/// stores every ip as 16 bytes.
fn net_contains_mapped(net: &IpNet, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpNet::V6(n), IpAddr::V4(v4)) => n.contains(&v4.to_ipv6_mapped()),
        (IpNet::V4(n), IpAddr::V6(v6)) => v6.to_ipv4_mapped().is_some_and(|v4| n.contains(&v4)),
        _ => false,
    }
}

fn ip_prefix(a: &[Value]) -> R {
    let (Some(Value::Ip(ip)), Some(Value::Int(l4)), Some(Value::Int(l6))) =
        (one(arg(a, 0))?, one(arg(a, 1))?, one(arg(a, 2))?)
    else {
        return Ok(Value::Null);
    };
    let net = match ip {
        IpAddr::V4(v4) => {
            if !(0..=32).contains(l4) {
                return Err("Prefix length v4 must be in range [0, 32]".into());
            }
            IpNet::V4(ipnet::Ipv4Net::new(*v4, *l4 as u8).map_err(|e| e.to_string())?)
        }
        IpAddr::V6(v6) => {
            if !(0..=128).contains(l6) {
                return Err("Prefix length v6 must be in range [0, 128]".into());
            }
            IpNet::V6(ipnet::Ipv6Net::new(*v6, *l6 as u8).map_err(|e| e.to_string())?)
        }
    };
    Ok(Value::Ip(net.network()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_doubles() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(1.0e9), "1.0E9");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(123.456), "123.456");
        assert_eq!(java_double(2.0299999713897705), "2.0299999713897705");
    }

    #[test]
    fn replacement_syntax() {
        assert_eq!(java_replacement("$1<REDACTED>"), "${1}<REDACTED>");
        assert_eq!(java_replacement("a\\$b"), "a$$b");
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(to_base64(b"elastic"), "ZWxhc3RpYw==");
        assert_eq!(from_base64("ZWxhc3RpYw==").unwrap(), Value::str("elastic"));
    }
}
