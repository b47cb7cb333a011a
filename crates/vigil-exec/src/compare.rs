//! Value comparison shared by every language. What differs between languages (case, quantifier,
//! leniency) arrives as arguments; nothing here guesses a dialect.

use std::cmp::Ordering;

use vigil_event::Value;

/// Lower-cases for case-insensitive comparison (Unicode simple folding per character).
pub fn fold_case(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Orders two values of comparable types. `lenient` converts a string to the other side's type
/// first (a term query's text against a numeric or boolean field). `None`: not comparable.
pub fn compare_values(
    a: &Value,
    b: &Value,
    case_insensitive: bool,
    lenient: bool,
) -> Option<Ordering> {
    use Value::{Bool, Date, Duration, Float, Int, Ip, Str};
    match (a, b) {
        (Str(x), Str(y)) => Some(if case_insensitive {
            fold_case(x).cmp(&fold_case(y))
        } else {
            x.as_bytes().cmp(y.as_bytes())
        }),
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Int(_) | Float(_), Int(_) | Float(_)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Date(x), Date(y)) => Some(x.cmp(y)),
        (Duration(x), Duration(y)) => Some(x.cmp(y)),
        (Ip(x), Ip(y)) => Some(ip_cmp(*x, *y)),
        (Str(s), other) if lenient => {
            compare_values(&reinterpret(s, other)?, other, case_insensitive, false)
        }
        (other, Str(s)) if lenient => {
            compare_values(other, &reinterpret(s, other)?, case_insensitive, false)
        }
        _ => None,
    }
}

/// Equality under the same rules as [`compare_values`].
pub fn values_equal(a: &Value, b: &Value, case_insensitive: bool, lenient: bool) -> bool {
    compare_values(a, b, case_insensitive, lenient) == Some(Ordering::Equal)
}

/// Reads `s` as a value of `like`'s type.
fn reinterpret(s: &str, like: &Value) -> Option<Value> {
    let t = s.trim();
    match like {
        Value::Int(_) | Value::Float(_) => t
            .parse::<i64>()
            .map(Value::Int)
            .ok()
            .or_else(|| t.parse::<f64>().ok().map(Value::Float)),
        Value::Bool(_) => match t {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        Value::Ip(_) => t.parse().ok().map(Value::Ip),
        Value::Date(_) => vigil_event::parse_es_date(t).ok().map(Value::Date),
        _ => None,
    }
}

/// IPv4 sorts before IPv6, as Elasticsearch orders ip fields (IPv4-mapped).
fn ip_cmp(a: std::net::IpAddr, b: std::net::IpAddr) -> Ordering {
    let norm = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        std::net::IpAddr::V6(v6) => v6,
    };
    norm(a).cmp(&norm(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_and_lenient() {
        assert_eq!(
            compare_values(&Value::Int(1), &Value::str("1"), false, false),
            None
        );
        assert!(values_equal(&Value::Int(1), &Value::str("1"), false, true));
        assert!(values_equal(
            &Value::Float(1.0),
            &Value::Int(1),
            false,
            false
        ));
        assert!(values_equal(
            &Value::Bool(true),
            &Value::str("true"),
            false,
            true
        ));
        assert!(!values_equal(
            &Value::str("Success"),
            &Value::str("success"),
            false,
            false
        ));
        assert!(values_equal(
            &Value::str("Success"),
            &Value::str("success"),
            true,
            false
        ));
        assert_eq!(
            compare_values(&Value::str("a"), &Value::str("b"), false, false),
            Some(Ordering::Less)
        );
    }
}
