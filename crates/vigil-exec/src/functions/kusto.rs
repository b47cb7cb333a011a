//! Functions with Kusto's own semantics, looked up without the `kusto.` prefix.
//!
//! Kusto conventions kept here: string results are never null (`tostring(null)` is `""`,
//! `extract` without a match is `""`); a `dynamic` array is one value; conversions that fail
//! give null; `%` follows the divisor's sign rules of Kusto (Euclidean remainder).

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::Ipv4Addr;

use jiff::{SignedDuration, Timestamp};
use vigil_event::{Map, Value};

use super::ScalarFn;
use crate::compare::{fold_case, values_equal};

pub(super) fn lookup(name: &str) -> Option<ScalarFn> {
    Some(match name {
        "index" => index,
        "arith" => arith,
        "tostring" => |a| Ok(Value::from(to_kusto_string(arg(a, 0)))),
        "tolong" | "toint" => |a| Ok(to_long(arg(a, 0)).map_or(Value::Null, Value::Int)),
        "todouble" | "toreal" | "todecimal" => {
            |a| Ok(to_double(arg(a, 0)).map_or(Value::Null, Value::Float))
        }
        "tobool" => |a| Ok(to_bool(arg(a, 0)).map_or(Value::Null, Value::Bool)),
        "todatetime" => |a| Ok(to_datetime(arg(a, 0)).map_or(Value::Null, Value::Date)),
        "totimespan" => |a| Ok(to_timespan(arg(a, 0)).map_or(Value::Null, Value::Duration)),
        "parse_json" => |a| Ok(parse_json(arg(a, 0))),
        "tolower" => |a| Ok(Value::from(fold_case(&to_kusto_string(arg(a, 0))))),
        "toupper" => |a| Ok(Value::from(to_kusto_string(arg(a, 0)).to_uppercase())),
        "strcat" => |a| {
            Ok(Value::from(
                a.iter().map(to_kusto_string).collect::<String>(),
            ))
        },
        "strcat_delim" => |a| {
            let delim = to_kusto_string(arg(a, 0));
            let parts: Vec<String> = a.iter().skip(1).map(to_kusto_string).collect();
            Ok(Value::from(parts.join(&delim)))
        },
        "strcat_array" => |a| {
            let delim = to_kusto_string(arg(a, 1));
            match arg(a, 0) {
                Value::Array(items) => Ok(Value::from(
                    items
                        .iter()
                        .map(to_kusto_string)
                        .collect::<Vec<_>>()
                        .join(&delim),
                )),
                Value::Null => Ok(Value::from("")),
                other => Ok(Value::from(to_kusto_string(other))),
            }
        },
        "strlen" => |a| Ok(Value::Int(to_kusto_string(arg(a, 0)).chars().count() as i64)),
        "split" => split,
        "array_length" => |a| match arg(a, 0) {
            Value::Array(items) => Ok(Value::Int(items.len() as i64)),
            _ => Ok(Value::Null),
        },
        "array_slice" => array_slice,
        "array_concat" => |a| {
            let mut out = Vec::new();
            for v in a {
                match v {
                    Value::Array(items) => out.extend(items.iter().cloned()),
                    _ => return Ok(Value::Null),
                }
            }
            Ok(Value::Array(out))
        },
        "pack_array" => |a| Ok(Value::Array(a.to_vec())),
        "bag_pack" | "pack" | "pack_dictionary" => |a| {
            let mut m = Map::new();
            for pair in a.chunks(2) {
                if let [k, v] = pair {
                    m.insert(to_kusto_string(k).into(), v.clone());
                }
            }
            Ok(Value::Object(m))
        },
        "set_has_element" | "array_contains" => |a| match arg(a, 0) {
            Value::Array(items) => Ok(Value::Bool(
                items
                    .iter()
                    .any(|i| values_equal(i, arg(a, 1), false, false)),
            )),
            _ => Ok(Value::Null),
        },
        "array_index_of" => |a| match arg(a, 0) {
            Value::Array(items) => Ok(Value::Int(
                items
                    .iter()
                    .position(|i| values_equal(i, arg(a, 1), false, false))
                    .map_or(-1, |p| p as i64),
            )),
            _ => Ok(Value::Null),
        },
        "isempty" => |a| {
            Ok(Value::Bool(match arg(a, 0) {
                Value::Null => true,
                Value::Str(s) => s.is_empty(),
                _ => false,
            }))
        },
        "coalesce" => |a| {
            Ok(a.iter()
                .find(|v| match v {
                    Value::Null => false,
                    Value::Str(s) => !s.is_empty(),
                    _ => true,
                })
                .cloned()
                .unwrap_or_else(|| {
                    // All empty: strings give "", others null.
                    if a.iter().any(|v| matches!(v, Value::Str(_))) {
                        Value::from("")
                    } else {
                        Value::Null
                    }
                }))
        },
        "extract" => extract,
        "extract_all" => extract_all,
        "matches_regex" => |a| {
            let re = regex_cached(&to_kusto_string(arg(a, 1)))?;
            Ok(Value::Bool(re.is_match(&to_kusto_string(arg(a, 0)))))
        },
        "replace_string" => |a| {
            let text = to_kusto_string(arg(a, 0));
            let lookup = to_kusto_string(arg(a, 1));
            if lookup.is_empty() {
                return Ok(Value::from(text));
            }
            Ok(Value::from(
                text.replace(&lookup, &to_kusto_string(arg(a, 2))),
            ))
        },
        // replace_regex(text, regex, rewrite); the legacy replace(regex, rewrite, text).
        "replace_regex" => |a| replace_re(arg(a, 0), arg(a, 1), arg(a, 2)),
        "replace" => |a| replace_re(arg(a, 2), arg(a, 0), arg(a, 1)),
        "substring" => |a| {
            let s: Vec<char> = to_kusto_string(arg(a, 0)).chars().collect();
            let start = to_long(arg(a, 1)).unwrap_or(0).clamp(0, s.len() as i64) as usize;
            let len = match arg(a, 2) {
                Value::Null if a.len() < 3 => s.len() - start,
                v => to_long(v).unwrap_or(0).clamp(0, (s.len() - start) as i64) as usize,
            };
            Ok(Value::from(
                s[start..start + len].iter().collect::<String>(),
            ))
        },
        "indexof" => |a| {
            let s = to_kusto_string(arg(a, 0));
            let needle = to_kusto_string(arg(a, 1));
            Ok(Value::Int(match s.find(&needle) {
                Some(b) => s[..b].chars().count() as i64,
                None => -1,
            }))
        },
        "countof" => |a| {
            let s = to_kusto_string(arg(a, 0));
            let needle = to_kusto_string(arg(a, 1));
            if needle.is_empty() {
                return Ok(Value::Int(0));
            }
            Ok(Value::Int(s.matches(&needle).count() as i64))
        },
        "trim" | "trim_start" | "trim_end" => |a| {
            // The function name is not available here; trim both ends (the common use).
            let re = regex_cached(&format!(
                "^(?:{})+|(?:{})+$",
                to_kusto_string(arg(a, 0)),
                to_kusto_string(arg(a, 0))
            ))?;
            Ok(Value::from(
                re.replace_all(&to_kusto_string(arg(a, 1)), "").into_owned(),
            ))
        },
        "reverse" => |a| {
            Ok(Value::from(
                to_kusto_string(arg(a, 0)).chars().rev().collect::<String>(),
            ))
        },
        "bin" => bin,
        "range" => range,
        "mv_items" => mv_items,
        "mv_zip" => mv_zip,
        "has_any" => |a| needles(a, has_term_ci, true),
        "has_all" => |a| needles(a, has_term_ci, false),
        "in" => |a| in_array(a, false),
        "in_ci" => |a| in_array(a, true),
        "has" => |a| two_str(a, has_term_ci),
        "has_cs" => |a| two_str(a, |s, n| crate::expr::has_term(s, n, true, true)),
        "hasprefix" => |a| {
            two_str(a, |s, n| {
                crate::expr::has_term(&fold_case(s), &fold_case(n), true, false)
            })
        },
        "hassuffix" => |a| {
            two_str(a, |s, n| {
                crate::expr::has_term(&fold_case(s), &fold_case(n), false, true)
            })
        },
        "contains" => |a| two_str(a, |s, n| fold_case(s).contains(&fold_case(n))),
        "contains_cs" => |a| two_str(a, |s, n| s.contains(n)),
        "startswith" => |a| two_str(a, |s, n| fold_case(s).starts_with(&fold_case(n))),
        "startswith_cs" => |a| two_str(a, |s, n| s.starts_with(n)),
        "endswith" => |a| two_str(a, |s, n| fold_case(s).ends_with(&fold_case(n))),
        "endswith_cs" => |a| two_str(a, |s, n| s.ends_with(n)),
        "ipv4_is_private" => |a| {
            Ok(match parse_ipv4(&to_kusto_string(arg(a, 0))) {
                Some(ip) => Value::Bool(ip.is_private()),
                None => Value::Null,
            })
        },
        "ipv4_is_in_range" | "ipv4_is_match" => |a| {
            let ip = parse_ipv4(&to_kusto_string(arg(a, 0)));
            let net: Option<ipnet::Ipv4Net> = {
                let r = to_kusto_string(arg(a, 1));
                r.parse().ok().or_else(|| {
                    r.parse::<Ipv4Addr>()
                        .ok()
                        .and_then(|i| ipnet::Ipv4Net::new(i, 32).ok())
                })
            };
            Ok(match (ip, net) {
                (Some(ip), Some(net)) => Value::Bool(net.contains(&ip)),
                _ => Value::Null,
            })
        },
        "format_datetime" => format_datetime,
        "startofday" => |a| Ok(date_floor(arg(a, 0), Unit::Day)),
        "startofweek" => |a| Ok(date_floor(arg(a, 0), Unit::Week)),
        "startofmonth" => |a| Ok(date_floor(arg(a, 0), Unit::Month)),
        "startofyear" => |a| Ok(date_floor(arg(a, 0), Unit::Year)),
        "endofday" => |a| Ok(date_end(arg(a, 0), Unit::Day)),
        "endofweek" => |a| Ok(date_end(arg(a, 0), Unit::Week)),
        "endofmonth" => |a| Ok(date_end(arg(a, 0), Unit::Month)),
        "endofyear" => |a| Ok(date_end(arg(a, 0), Unit::Year)),
        "getyear" => |a| Ok(civil(arg(a, 0)).map_or(Value::Null, |d| Value::Int(d.year().into()))),
        "getmonth" => {
            |a| Ok(civil(arg(a, 0)).map_or(Value::Null, |d| Value::Int(d.month().into())))
        }
        "dayofmonth" => {
            |a| Ok(civil(arg(a, 0)).map_or(Value::Null, |d| Value::Int(d.day().into())))
        }
        "dayofweek" => |a| {
            Ok(civil(arg(a, 0)).map_or(Value::Null, |d| {
                let n = d.weekday().to_sunday_zero_offset();
                Value::Duration(SignedDuration::from_hours(24 * i64::from(n)))
            }))
        },
        "datetime_utc_to_local" => |a| {
            let (Value::Date(t), Value::Str(tz)) = (arg(a, 0), arg(a, 1)) else {
                return Ok(Value::Null);
            };
            let tz = jiff::tz::TimeZone::get(tz).map_err(|e| e.to_string())?;
            let local = tz.to_datetime(*t);
            Ok(jiff::tz::Offset::UTC
                .to_timestamp(local)
                .map_or(Value::Null, Value::Date))
        },
        "unixtime_seconds_todatetime" => |a| {
            Ok(to_double(arg(a, 0))
                .and_then(|s| Timestamp::from_nanosecond((s * 1e9) as i128).ok())
                .map_or(Value::Null, Value::Date))
        },
        "unixtime_milliseconds_todatetime" => |a| {
            Ok(to_double(arg(a, 0))
                .and_then(|s| Timestamp::from_nanosecond((s * 1e6) as i128).ok())
                .map_or(Value::Null, Value::Date))
        },
        "round" => |a| {
            let digits = to_long(arg(a, 1)).unwrap_or(0).clamp(-15, 15) as i32;
            Ok(match arg(a, 0) {
                Value::Int(i) if digits >= 0 => Value::Int(*i),
                v => to_double(v).map_or(Value::Null, |x| {
                    let p = 10f64.powi(digits);
                    Value::Float((x * p).round() / p)
                }),
            })
        },
        "abs" => |a| {
            Ok(match arg(a, 0) {
                Value::Int(i) => i.checked_abs().map_or(Value::Null, Value::Int),
                Value::Float(f) => Value::Float(f.abs()),
                Value::Duration(d) => Value::Duration(d.abs()),
                _ => Value::Null,
            })
        },
        "sqrt" => |a| Ok(float_fn(arg(a, 0), f64::sqrt)),
        "exp" => |a| Ok(float_fn(arg(a, 0), f64::exp)),
        "log" => |a| Ok(float_fn(arg(a, 0), f64::ln)),
        "log10" => |a| Ok(float_fn(arg(a, 0), f64::log10)),
        "pow" => |a| {
            Ok(match (to_double(arg(a, 0)), to_double(arg(a, 1))) {
                (Some(x), Some(y)) => finite(x.powf(y)),
                _ => Value::Null,
            })
        },
        "max_of" | "min_of" => |a| {
            // The name is not known here: both pick by the first argument's ordering below.
            Ok(a.iter()
                .filter(|v| !v.is_null())
                .cloned()
                .reduce(
                    |x, y| match crate::compare::compare_values(&x, &y, false, false) {
                        Some(std::cmp::Ordering::Less) => y,
                        _ => x,
                    },
                )
                .unwrap_or(Value::Null))
        },
        _ => return None,
    })
}

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&Value::Null)
}

fn finite(x: f64) -> Value {
    if x.is_finite() {
        Value::Float(x)
    } else {
        Value::Null
    }
}

fn float_fn(v: &Value, f: fn(f64) -> f64) -> Value {
    to_double(v).map_or(Value::Null, |x| finite(f(x)))
}

/// Kusto's `tostring`: `""` for null, JSON for dynamic arrays and bags, ISO 8601 for datetimes,
/// `[-][d.]hh:mm:ss[.fffffff]` for timespans.
pub fn to_kusto_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Str(s) => s.to_string(),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                format!("{f}")
            }
        }
        Value::Date(t) => format_iso(*t),
        Value::Duration(d) => format_timespan(*d),
        other => other.to_string(),
    }
}

/// ISO 8601 with 7 fractional digits trimmed of trailing zeros, as Kusto prints datetimes.
pub fn format_iso(t: Timestamp) -> String {
    let dt = jiff::tz::Offset::UTC.to_datetime(t);
    let ticks = dt.subsec_nanosecond() / 100;
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if ticks != 0 {
        let frac = format!("{ticks:07}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// .NET's constant timespan format: `[-][d.]hh:mm:ss[.fffffff]`.
pub fn format_timespan(d: SignedDuration) -> String {
    let neg = d.is_negative();
    let total = d.as_nanos().unsigned_abs();
    let ticks = total / 100;
    let secs = ticks / 10_000_000;
    let frac = ticks % 10_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if days > 0 {
        s.push_str(&format!("{days}."));
    }
    s.push_str(&format!(
        "{:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    ));
    if frac > 0 {
        s.push_str(&format!(".{frac:07}"));
    }
    s
}

fn to_long(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Str(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i64)
            })
        }
        Value::Duration(d) => i64::try_from(d.as_nanos() / 100).ok(),
        _ => None,
    }
}

fn to_double(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::Str(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Int(i) => Some(*i != 0),
        Value::Float(f) => Some(*f != 0.0),
        Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Datetimes in the forms Kusto's `todatetime` accepts most often: ISO 8601 (space or `T`,
/// optional zone), `M/D/YYYY[ h:mm[:ss]]`, RFC 1123 is not attempted.
pub fn parse_kusto_datetime(s: &str) -> Option<Timestamp> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(ts) = vigil_event::parse_rfc3339(t) {
        return Some(ts);
    }
    let (date, time) = t.split_once(' ').unwrap_or((t, "00:00:00"));
    let parts: Vec<&str> = date.split('/').collect();
    if parts.len() == 3 {
        let time = if time.matches(':').count() == 1 {
            format!("{time}:00")
        } else {
            time.to_string()
        };
        let iso = format!("{:0>4}-{:0>2}-{:0>2}T{time}", parts[2], parts[0], parts[1]);
        return vigil_event::parse_rfc3339(&iso).ok();
    }
    None
}

fn to_datetime(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Date(t) => Some(*t),
        Value::Str(s) => parse_kusto_datetime(s),
        _ => None,
    }
}

fn to_timespan(v: &Value) -> Option<SignedDuration> {
    match v {
        Value::Duration(d) => Some(*d),
        Value::Int(ticks) => Some(SignedDuration::from_nanos(ticks.checked_mul(100)?)),
        Value::Str(s) => parse_timespan_text(s),
        _ => None,
    }
}

/// `[-][d.]hh:mm[:ss[.fffffff]]` or a number with a unit (`1d`, `30m`).
fn parse_timespan_text(s: &str) -> Option<SignedDuration> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let nanos: i128 = if t.contains(':') {
        let (days, rest) = match t.split_once('.') {
            Some((d, r)) if !d.contains(':') => (d.parse::<i128>().ok()?, r),
            _ => (0, t),
        };
        let mut parts = rest.split(':');
        let h: i128 = parts.next()?.parse().ok()?;
        let m: i128 = parts.next()?.parse().ok()?;
        let (sec, frac) = match parts.next() {
            Some(x) => match x.split_once('.') {
                Some((a, b)) => {
                    let digits: String = b.chars().chain(std::iter::repeat('0')).take(9).collect();
                    (a.parse::<i128>().ok()?, digits.parse::<i128>().ok()?)
                }
                None => (x.parse().ok()?, 0),
            },
            None => (0, 0),
        };
        (((days * 24 + h) * 60 + m) * 60 + sec) * 1_000_000_000 + frac
    } else {
        let split = t.find(|c: char| c.is_ascii_alphabetic())?;
        let (num, unit) = t.split_at(split);
        let n: f64 = num.parse().ok()?;
        let per: f64 = match unit {
            "d" | "day" | "days" => 86_400e9,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600e9,
            "m" | "min" | "minute" | "minutes" => 60e9,
            "s" | "sec" | "second" | "seconds" => 1e9,
            "ms" | "millisecond" | "milliseconds" => 1e6,
            "tick" | "ticks" => 100.0,
            _ => return None,
        };
        (n * per).round() as i128
    };
    let nanos = if neg { -nanos } else { nanos };
    Some(SignedDuration::from_nanos(i64::try_from(nanos).ok()?))
}

fn parse_json(v: &Value) -> Value {
    match v {
        Value::Str(s) => vigil_event::parse_json(s.as_bytes()).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

/// `x[i]`, `x.name`, `x["name"]` on a dynamic value; out of range or absent is null.
fn index(a: &[Value]) -> Result<Value, String> {
    Ok(match (arg(a, 0), arg(a, 1)) {
        (Value::Array(items), Value::Int(i)) => {
            let len = items.len() as i64;
            let i = if *i < 0 { len + i } else { *i };
            if (0..len).contains(&i) {
                items[i as usize].clone()
            } else {
                Value::Null
            }
        }
        (Value::Object(m), Value::Str(k)) => m.get(&**k).cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    })
}

fn arith(a: &[Value]) -> Result<Value, String> {
    use Value::{Date, Duration, Float, Int};
    let op = match arg(a, 0) {
        Value::Str(s) => s.to_string(),
        _ => return Ok(Value::Null),
    };
    let (x, y) = (arg(a, 1), arg(a, 2));
    Ok(match (x, y) {
        (Int(p), Int(q)) => match op.as_str() {
            "+" => p.checked_add(*q).map_or(Value::Null, Int),
            "-" => p.checked_sub(*q).map_or(Value::Null, Int),
            "*" => p.checked_mul(*q).map_or(Value::Null, Int),
            "/" => p.checked_div(*q).map_or(Value::Null, Int),
            _ => p.checked_rem_euclid(*q).map_or(Value::Null, Int),
        },
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (p, q) = (
                to_double(x).unwrap_or(f64::NAN),
                to_double(y).unwrap_or(f64::NAN),
            );
            finite(match op.as_str() {
                "+" => p + q,
                "-" => p - q,
                "*" => p * q,
                "/" => p / q,
                _ => p.rem_euclid(q),
            })
        }
        (Date(t), Duration(d)) => match op.as_str() {
            "+" => t.checked_add(*d).map_or(Value::Null, Date),
            "-" => t.checked_sub(*d).map_or(Value::Null, Date),
            _ => Value::Null,
        },
        (Duration(d), Date(t)) if op == "+" => t.checked_add(*d).map_or(Value::Null, Date),
        (Date(p), Date(q)) if op == "-" => Duration(p.duration_since(*q)),
        (Duration(p), Duration(q)) => match op.as_str() {
            "+" => p.checked_add(*q).map_or(Value::Null, Duration),
            "-" => p.checked_sub(*q).map_or(Value::Null, Duration),
            "/" if !q.is_zero() => finite(p.as_secs_f64() / q.as_secs_f64()),
            _ => Value::Null,
        },
        (Duration(d), Int(_) | Float(_)) | (Int(_) | Float(_), Duration(d)) => {
            let n = to_double(if matches!(x, Duration(_)) { y } else { x }).unwrap_or(f64::NAN);
            let secs = d.as_secs_f64();
            let r = match op.as_str() {
                "*" => secs * n,
                "/" if matches!(x, Duration(_)) => secs / n,
                _ => return Ok(Value::Null),
            };
            if r.is_finite() {
                SignedDuration::try_from_secs_f64(r).map_or(Value::Null, Duration)
            } else {
                Value::Null
            }
        }
        _ => Value::Null,
    })
}

fn split(a: &[Value]) -> Result<Value, String> {
    let s = to_kusto_string(arg(a, 0));
    let delim = to_kusto_string(arg(a, 1));
    let parts: Vec<Value> = if delim.is_empty() {
        vec![Value::from(s.as_str())]
    } else {
        s.split(delim.as_str()).map(Value::from).collect()
    };
    match a.get(2) {
        Some(Value::Int(i)) => {
            let len = parts.len() as i64;
            let i = if *i < 0 { len + i } else { *i };
            Ok(Value::Array(if (0..len).contains(&i) {
                vec![parts[i as usize].clone()]
            } else {
                vec![]
            }))
        }
        _ => Ok(Value::Array(parts)),
    }
}

fn array_slice(a: &[Value]) -> Result<Value, String> {
    let Value::Array(items) = arg(a, 0) else {
        return Ok(Value::Null);
    };
    let len = items.len() as i64;
    let norm = |v: &Value, default: i64| {
        let i = to_long(v).unwrap_or(default);
        if i < 0 { len + i } else { i }
    };
    let start = norm(arg(a, 1), 0).max(0);
    let end = norm(arg(a, 2), len - 1).min(len - 1);
    if start > end {
        return Ok(Value::Array(vec![]));
    }
    Ok(Value::Array(items[start as usize..=end as usize].to_vec()))
}

thread_local! {
    static REGEX_CACHE: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

/// Compiles a regular expression once per thread (rules apply the same few patterns to every
/// row).
fn regex_cached(pattern: &str) -> Result<regex::Regex, String> {
    REGEX_CACHE.with(|c| {
        if let Some(r) = c.borrow().get(pattern) {
            return Ok(r.clone());
        }
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 22)
            .build()
            .map_err(|e| e.to_string())?;
        let mut cache = c.borrow_mut();
        if cache.len() > 256 {
            cache.clear();
        }
        cache.insert(pattern.to_string(), re.clone());
        Ok(re)
    })
}

fn extract(a: &[Value]) -> Result<Value, String> {
    let re = regex_cached(&to_kusto_string(arg(a, 0)))?;
    let group = to_long(arg(a, 1)).unwrap_or(0).max(0) as usize;
    let text = to_kusto_string(arg(a, 2));
    Ok(Value::from(
        re.captures(&text)
            .and_then(|c| c.get(group))
            .map_or("", |m| m.as_str()),
    ))
}

fn extract_all(a: &[Value]) -> Result<Value, String> {
    let re = regex_cached(&to_kusto_string(arg(a, 0)))?;
    let text = to_kusto_string(if a.len() > 2 { arg(a, 2) } else { arg(a, 1) });
    let groups = re.captures_len() - 1;
    let mut out = Vec::new();
    for c in re.captures_iter(&text) {
        let get = |i: usize| Value::from(c.get(i).map_or("", |m| m.as_str()));
        out.push(match groups {
            0 => get(0),
            1 => get(1),
            n => Value::Array((1..=n).map(get).collect()),
        });
    }
    // No match: null, as Kusto returns.
    Ok(if out.is_empty() {
        Value::Null
    } else {
        Value::Array(out)
    })
}

fn replace_re(text: &Value, re: &Value, rewrite: &Value) -> Result<Value, String> {
    let re = regex_cached(&to_kusto_string(re))?;
    // Kusto writes group references as `\1`; the regex crate as `${1}`.
    let rewrite = to_kusto_string(rewrite);
    let mut rw = String::new();
    let mut chars = rewrite.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(d) = chars.peek().copied().filter(char::is_ascii_digit)
        {
            chars.next();
            rw.push_str(&format!("${{{d}}}"));
        } else if c == '$' {
            rw.push_str("$$");
        } else {
            rw.push(c);
        }
    }
    Ok(Value::from(
        re.replace_all(&to_kusto_string(text), rw.as_str())
            .into_owned(),
    ))
}

/// Ticks between 0001-01-01 and 1970-01-01: Kusto bins datetimes from year 1.
const EPOCH_OFFSET_NANOS: i128 = 62_135_596_800 * 1_000_000_000;

fn bin(a: &[Value]) -> Result<Value, String> {
    Ok(match (arg(a, 0), arg(a, 1)) {
        (Value::Date(t), Value::Duration(d)) if !d.is_zero() => {
            let size = d.as_nanos();
            let n = t.as_nanosecond() + EPOCH_OFFSET_NANOS;
            let floored = n.div_euclid(size) * size - EPOCH_OFFSET_NANOS;
            Timestamp::from_nanosecond(floored).map_or(Value::Null, Value::Date)
        }
        (Value::Duration(x), Value::Duration(d)) if !d.is_zero() => {
            let size = d.as_nanos();
            let floored = x.as_nanos().div_euclid(size) * size;
            i64::try_from(floored).map_or(Value::Null, |n| {
                Value::Duration(SignedDuration::from_nanos(n))
            })
        }
        (Value::Int(x), Value::Int(s)) if *s != 0 => Value::Int(x.div_euclid(*s) * s),
        (x @ (Value::Int(_) | Value::Float(_)), s @ (Value::Int(_) | Value::Float(_))) => {
            match (to_double(x), to_double(s)) {
                (Some(x), Some(s)) if s != 0.0 => finite((x / s).floor() * s),
                _ => Value::Null,
            }
        }
        _ => Value::Null,
    })
}

/// The values of `range x from a to b step c`, as an array (at most a million).
fn range(a: &[Value]) -> Result<Value, String> {
    const MAX: usize = 1_000_000;
    let mut out = Vec::new();
    match (arg(a, 0), arg(a, 1), arg(a, 2)) {
        (Value::Int(from), Value::Int(to), Value::Int(step)) if *step != 0 => {
            let mut x = *from;
            while (if *step > 0 { x <= *to } else { x >= *to }) && out.len() < MAX {
                out.push(Value::Int(x));
                match x.checked_add(*step) {
                    Some(n) => x = n,
                    None => break,
                }
            }
        }
        (Value::Date(from), Value::Date(to), Value::Duration(step)) if step.is_positive() => {
            let mut x = *from;
            while x <= *to && out.len() < MAX {
                out.push(Value::Date(x));
                match x.checked_add(*step) {
                    Ok(n) => x = n,
                    Err(_) => break,
                }
            }
        }
        (f, t, s) => {
            let (Some(from), Some(to), Some(step)) = (to_double(f), to_double(t), to_double(s))
            else {
                return Ok(Value::Null);
            };
            if step == 0.0 {
                return Ok(Value::Null);
            }
            let mut x = from;
            while (if step > 0.0 { x <= to } else { x >= to }) && out.len() < MAX {
                out.push(Value::Float(x));
                x += step;
            }
        }
    }
    Ok(Value::Array(out))
}

/// What `mv-expand` expands: arrays as they are; property bags as one-property bags, or as
/// `[key, value]` pairs with `kind=array`.
fn mv_items(a: &[Value]) -> Result<Value, String> {
    let as_pairs = matches!(arg(a, 1), Value::Bool(true));
    Ok(match arg(a, 0) {
        Value::Object(m) => Value::Array(
            m.iter()
                .map(|(k, v)| {
                    if as_pairs {
                        Value::Array(vec![Value::from(&**k), v.clone()])
                    } else {
                        let mut one = Map::new();
                        one.insert(k.clone(), v.clone());
                        Value::Object(one)
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    })
}

/// Side-by-side expansion of several columns: element i is `[c0[i], c1[i], …, (i)]`, as long
/// as the longest column; a scalar counts as a one-element array.
fn mv_zip(a: &[Value]) -> Result<Value, String> {
    let with_index = matches!(arg(a, 0), Value::Bool(true));
    let cols: Vec<Vec<Value>> = a[1.min(a.len())..]
        .iter()
        .map(|v| match v {
            Value::Array(items) => items.clone(),
            Value::Null => vec![],
            other => vec![other.clone()],
        })
        .collect();
    let len = cols.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let mut row: Vec<Value> = cols
            .iter()
            .map(|c| c.get(i).cloned().unwrap_or(Value::Null))
            .collect();
        if with_index {
            row.push(Value::Int(i as i64));
        }
        out.push(Value::Array(row));
    }
    Ok(Value::Array(out))
}

fn has_term_ci(s: &str, needle: &str) -> bool {
    crate::expr::has_term(&fold_case(s), &fold_case(needle), true, true)
}

/// `has_any` / `has_all` against needles known only at run time (a dynamic array).
fn needles(a: &[Value], test: fn(&str, &str) -> bool, any: bool) -> Result<Value, String> {
    let s = to_kusto_string(arg(a, 0));
    let items: Vec<String> = arg(a, 1).leaves().map(to_kusto_string).collect();
    if items.is_empty() {
        return Ok(Value::Bool(!any));
    }
    Ok(Value::Bool(if any {
        items.iter().any(|n| test(&s, n))
    } else {
        items.iter().all(|n| test(&s, n))
    }))
}

fn in_array(a: &[Value], ci: bool) -> Result<Value, String> {
    let x = arg(a, 0);
    if x.is_null() {
        return Ok(Value::Null);
    }
    Ok(Value::Bool(
        arg(a, 1).leaves().any(|v| values_equal(x, v, ci, false)),
    ))
}

fn two_str(a: &[Value], test: fn(&str, &str) -> bool) -> Result<Value, String> {
    if arg(a, 0).is_null() {
        return Ok(Value::Null);
    }
    Ok(Value::Bool(test(
        &to_kusto_string(arg(a, 0)),
        &to_kusto_string(arg(a, 1)),
    )))
}

/// An IPv4 address, optionally with a `/prefix` (ignored).
fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    s.trim().split('/').next()?.parse().ok()
}

#[derive(Clone, Copy)]
enum Unit {
    Day,
    Week,
    Month,
    Year,
}

fn civil(v: &Value) -> Option<jiff::civil::DateTime> {
    match v {
        Value::Date(t) => Some(jiff::tz::Offset::UTC.to_datetime(*t)),
        _ => None,
    }
}

fn date_floor(v: &Value, unit: Unit) -> Value {
    let Some(dt) = civil(v) else {
        return Value::Null;
    };
    let date = dt.date();
    let start = match unit {
        Unit::Day => Some(date),
        Unit::Week => date
            .checked_sub(jiff::Span::new().days(i64::from(date.weekday().to_sunday_zero_offset())))
            .ok(),
        Unit::Month => date.first_of_month().into(),
        Unit::Year => date.first_of_year().into(),
    };
    start
        .and_then(|d| {
            jiff::tz::Offset::UTC
                .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                .ok()
        })
        .map_or(Value::Null, Value::Date)
}

fn date_end(v: &Value, unit: Unit) -> Value {
    let Value::Date(start) = date_floor(v, unit) else {
        return Value::Null;
    };
    let z = jiff::tz::Offset::UTC.to_datetime(start);
    let next = match unit {
        Unit::Day => z.checked_add(jiff::Span::new().days(1)),
        Unit::Week => z.checked_add(jiff::Span::new().days(7)),
        Unit::Month => z.checked_add(jiff::Span::new().months(1)),
        Unit::Year => z.checked_add(jiff::Span::new().years(1)),
    };
    next.ok()
        .and_then(|n| jiff::tz::Offset::UTC.to_timestamp(n).ok())
        .and_then(|n| n.checked_sub(SignedDuration::from_nanos(100)).ok())
        .map_or(Value::Null, Value::Date)
}

/// `format_datetime(dt, format)` with .NET-style specifiers (`yyyy`, `MM`, `dd`, `HH`, `hh`,
/// `mm`, `ss`, `f…`, `F…`, `tt`); other characters are copied.
fn format_datetime(a: &[Value]) -> Result<Value, String> {
    let Some(dt) = civil(arg(a, 0)) else {
        return Ok(Value::from(""));
    };
    let fmt: Vec<char> = to_kusto_string(arg(a, 1)).chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        let mut n = 1;
        while i + n < fmt.len() && fmt[i + n] == c {
            n += 1;
        }
        let pad = |v: i64, w: usize| format!("{v:0w$}");
        match c {
            'y' => {
                let y = i64::from(dt.year());
                out.push_str(&if n <= 2 { pad(y % 100, n) } else { pad(y, n) });
            }
            'M' => out.push_str(&pad(dt.month().into(), n.min(2))),
            'd' => out.push_str(&pad(dt.day().into(), n.min(2))),
            'H' => out.push_str(&pad(dt.hour().into(), n.min(2))),
            'h' => {
                let h = i64::from(dt.hour()) % 12;
                out.push_str(&pad(if h == 0 { 12 } else { h }, n.min(2)));
            }
            'm' => out.push_str(&pad(dt.minute().into(), n.min(2))),
            's' => out.push_str(&pad(dt.second().into(), n.min(2))),
            'f' | 'F' => {
                let frac = format!("{:09}", dt.subsec_nanosecond());
                let digits = &frac[..n.min(9)];
                if c == 'F' {
                    out.push_str(digits.trim_end_matches('0'));
                } else {
                    out.push_str(digits);
                }
            }
            't' => out.push_str(if dt.hour() < 12 { "AM" } else { "PM" }),
            _ => {
                for _ in 0..n {
                    out.push(c);
                }
            }
        }
        i += n;
    }
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, args: &[Value]) -> Value {
        lookup(name).unwrap()(args).unwrap()
    }

    #[test]
    fn kusto_functions() {
        assert_eq!(
            f(
                "arith",
                &[Value::from("%"), Value::Int(-14), Value::Int(12)]
            ),
            Value::Int(10)
        );
        assert_eq!(
            f(
                "arith",
                &[Value::from("%"), Value::Int(14), Value::Int(-12)]
            ),
            Value::Int(2)
        );
        assert_eq!(f("tostring", &[Value::Null]), Value::from(""));
        assert_eq!(
            f("split", &[Value::from("a__b"), Value::from("_")]),
            Value::Array(vec!["a".into(), "".into(), "b".into()])
        );
        assert_eq!(
            f(
                "index",
                &[
                    f("split", &[Value::from("a/b"), Value::from("/")]),
                    Value::Int(8)
                ]
            ),
            Value::Null
        );
        assert_eq!(
            f(
                "coalesce",
                &[Value::from(""), Value::Null, Value::from("x")]
            ),
            Value::from("x")
        );
        assert_eq!(
            f("ipv4_is_private", &[Value::from("192.168.1.1/24")]),
            Value::Bool(true)
        );
        assert_eq!(
            f("ipv4_is_private", &[Value::from("127.0.0.1")]),
            Value::Bool(false)
        );
        assert_eq!(
            f(
                "extract",
                &[
                    Value::from(r"Email: (\S+),"),
                    Value::Int(1),
                    Value::from("x")
                ]
            ),
            Value::from("")
        );
        assert_eq!(
            format_timespan(SignedDuration::from_hours(24 * 14)),
            "14.00:00:00"
        );
        let t: Timestamp = "2017-01-29T09:00:05Z".parse().unwrap();
        assert_eq!(
            f(
                "format_datetime",
                &[Value::Date(t), Value::from("yy-MM-dd [hh:mm:ss tt]")]
            ),
            Value::from("17-01-29 [09:00:05 AM]")
        );
    }
}
