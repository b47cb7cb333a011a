use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::time;

/// Shared immutable string: values are cloned into rows, groups and alerts, so clones are cheap.
pub type Str = Arc<str>;

/// Object fields, ordered by key so that output is deterministic.
pub type Map = BTreeMap<Str, Value>;

/// A typed value. JSON decoding yields `Null`, `Bool`, `Int`, `Float`, `Str`, `Array` and `Object`;
/// `Ip`, `Date` and `Duration` come from typed coercion (a field's mapping) or from functions.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Str),
    Ip(IpAddr),
    Date(Timestamp),
    Duration(SignedDuration),
    /// A multi-valued field (Elasticsearch) or a dynamic array (Kusto).
    Array(Vec<Value>),
    Object(Map),
}

/// The type of a field as a mapping or table schema declares it. Language front-ends read it from
/// `vigil-schema`; the executor coerces document values to it, as Elasticsearch does at index time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    /// `keyword`, `constant_keyword`, `wildcard`: exact, case-sensitive strings.
    Keyword,
    /// `text`, `match_only_text`: analysed full text.
    Text,
    /// Whole numbers (`long`, `integer`, `short`, `byte`, Kusto `int`/`long`).
    Long,
    /// `unsigned_long`.
    UnsignedLong,
    /// Floating point (`double`, `float`, `half_float`, `scaled_float`, Kusto `real`/`decimal`).
    Double,
    Boolean,
    Ip,
    /// `date`, `date_nanos`, Kusto `datetime`.
    Date,
    /// ES|QL time spans and Kusto `timespan`.
    Duration,
    Object,
    Nested,
    Flattened,
    GeoPoint,
    Version,
    /// Kusto `dynamic`: any JSON value, compared as a whole.
    Dynamic,
    /// Kusto `string`: a string column with Kusto's operators.
    String,
    /// No mapping known: the document value's own JSON type decides (dynamic mapping).
    Unknown,
}

impl DataType {
    /// Parses an Elasticsearch mapping type or a Kusto column type name.
    pub fn from_name(name: &str) -> Option<DataType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "keyword" | "constant_keyword" | "wildcard" | "guid" | "uuid" => DataType::Keyword,
            "text" | "match_only_text" => DataType::Text,
            "long" | "integer" | "short" | "byte" | "int" | "int64" | "int32" => DataType::Long,
            "unsigned_long" => DataType::UnsignedLong,
            "double" | "float" | "half_float" | "scaled_float" | "real" | "decimal" => {
                DataType::Double
            }
            "boolean" | "bool" => DataType::Boolean,
            "ip" => DataType::Ip,
            "date" | "date_nanos" | "datetime" => DataType::Date,
            "timespan" | "time_duration" | "date_period" => DataType::Duration,
            "object" | "group" => DataType::Object,
            "nested" => DataType::Nested,
            "flattened" => DataType::Flattened,
            "geo_point" => DataType::GeoPoint,
            "version" => DataType::Version,
            "dynamic" => DataType::Dynamic,
            "string" => DataType::String,
            _ => return None,
        })
    }

    /// The name used in diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Keyword => "keyword",
            DataType::Text => "text",
            DataType::Long => "long",
            DataType::UnsignedLong => "unsigned_long",
            DataType::Double => "double",
            DataType::Boolean => "boolean",
            DataType::Ip => "ip",
            DataType::Date => "date",
            DataType::Duration => "duration",
            DataType::Object => "object",
            DataType::Nested => "nested",
            DataType::Flattened => "flattened",
            DataType::GeoPoint => "geo_point",
            DataType::Version => "version",
            DataType::Dynamic => "dynamic",
            DataType::String => "string",
            DataType::Unknown => "unknown",
        }
    }

    /// True for types whose values are numbers.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            DataType::Long | DataType::UnsignedLong | DataType::Double
        )
    }

    /// True for string-like types.
    pub fn is_string(self) -> bool {
        matches!(
            self,
            DataType::Keyword | DataType::Text | DataType::String | DataType::Version
        )
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Numeric value as f64 for integers and floats.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The name of this value's type, for diagnostics.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "long",
            Value::Float(_) => "double",
            Value::Str(_) => "string",
            Value::Ip(_) => "ip",
            Value::Date(_) => "date",
            Value::Duration(_) => "duration",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// The values of a possibly multi-valued field: array elements (nested arrays flattened, nulls
    /// dropped, as Elasticsearch indexes them) or the value itself.
    pub fn leaves(&self) -> Leaves<'_> {
        Leaves {
            stack: vec![std::slice::from_ref(self).iter()],
        }
    }

    /// Number of values a field holds in Elasticsearch's sense (nulls are not indexed).
    pub fn value_count(&self) -> usize {
        self.leaves().count()
    }

    /// True if the value holds at least one non-null leaf, the condition of an `exists` query.
    /// Objects count when any of their fields does.
    pub fn has_content(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Array(a) => a.iter().any(Value::has_content),
            Value::Object(m) => m.values().any(Value::has_content),
            _ => true,
        }
    }

    /// Converts a value to the given mapping type the way Elasticsearch coerces a source value when
    /// it indexes it. `None` means the value cannot be indexed as that type (malformed) and is
    /// treated as absent.
    pub fn coerce_to(&self, ty: DataType) -> Option<Value> {
        match (ty, self) {
            (_, Value::Null) => None,
            (DataType::Unknown | DataType::Dynamic | DataType::Object | DataType::Flattened, v) => {
                Some(v.clone())
            }
            (DataType::Keyword | DataType::Text | DataType::String | DataType::Version, v) => {
                match v {
                    Value::Str(_) => Some(v.clone()),
                    Value::Object(_) | Value::Array(_) => None,
                    other => Some(Value::Str(Arc::from(other.to_string()))),
                }
            }
            (DataType::Long | DataType::UnsignedLong, v) => match v {
                Value::Int(_) => Some(v.clone()),
                Value::Float(f) if f.is_finite() => Some(Value::Int(f.trunc() as i64)),
                Value::Str(s) => parse_number(s.trim()).and_then(|n| n.coerce_to(ty)),
                _ => None,
            },
            (DataType::Double, v) => match v {
                Value::Int(i) => Some(Value::Float(*i as f64)),
                Value::Float(_) => Some(v.clone()),
                Value::Str(s) => s.trim().parse::<f64>().ok().map(Value::Float),
                _ => None,
            },
            (DataType::Boolean, v) => match v {
                Value::Bool(_) => Some(v.clone()),
                // Elasticsearch accepts "true", "false" and the empty string (false).
                Value::Str(s) => match &**s {
                    "true" => Some(Value::Bool(true)),
                    "false" | "" => Some(Value::Bool(false)),
                    _ => None,
                },
                _ => None,
            },
            (DataType::Ip, v) => match v {
                Value::Ip(_) => Some(v.clone()),
                Value::Str(s) => s.trim().parse::<IpAddr>().ok().map(Value::Ip),
                _ => None,
            },
            (DataType::Date, v) => match v {
                Value::Date(_) => Some(v.clone()),
                Value::Str(s) => time::parse_es_date(s).ok().map(Value::Date),
                Value::Int(ms) => time::parse_epoch_millis(*ms as f64).ok().map(Value::Date),
                Value::Float(ms) => time::parse_epoch_millis(*ms).ok().map(Value::Date),
                _ => None,
            },
            (DataType::Duration, v) => match v {
                Value::Duration(_) => Some(v.clone()),
                _ => None,
            },
            (DataType::Nested | DataType::GeoPoint, v) => Some(v.clone()),
        }
    }
}

/// Parses a JSON-style number: integer when it fits, float otherwise.
pub(crate) fn parse_number(s: &str) -> Option<Value> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::Int(i));
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::Float)
}

/// Iterator over the leaves of a multi-valued field. See [`Value::leaves`].
pub struct Leaves<'a> {
    stack: Vec<std::slice::Iter<'a, Value>>,
}

impl<'a> Iterator for Leaves<'a> {
    type Item = &'a Value;

    fn next(&mut self) -> Option<&'a Value> {
        loop {
            let top = self.stack.last_mut()?;
            match top.next() {
                None => {
                    self.stack.pop();
                }
                Some(Value::Null) => {}
                Some(Value::Array(a)) => self.stack.push(a.iter()),
                Some(v) => return Some(v),
            }
        }
    }
}

impl fmt::Display for Value {
    /// Strings print raw; other values print as they appear in JSON output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => {
                if x.fract() == 0.0 && x.abs() < 1e16 {
                    write!(f, "{x:.1}")
                } else {
                    write!(f, "{x}")
                }
            }
            Value::Str(s) => f.write_str(s),
            Value::Ip(ip) => write!(f, "{ip}"),
            Value::Date(t) => f.write_str(&time::format_date(*t)),
            Value::Duration(d) => write!(f, "{d:#}"),
            Value::Array(_) | Value::Object(_) => {
                let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
                f.write_str(&json)
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Arc::from(s))
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::Array(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_flatten_arrays_and_drop_nulls() {
        let v = Value::Array(vec![
            Value::Int(1),
            Value::Null,
            Value::Array(vec![Value::Int(2), Value::Array(vec![Value::Int(3)])]),
        ]);
        let got: Vec<_> = v.leaves().cloned().collect();
        assert_eq!(got, vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
        assert_eq!(Value::Null.value_count(), 0);
    }

    #[test]
    fn coercion_follows_index_time_rules() {
        assert_eq!(
            Value::str("42").coerce_to(DataType::Long),
            Some(Value::Int(42))
        );
        assert_eq!(
            Value::Float(4.7).coerce_to(DataType::Long),
            Some(Value::Int(4))
        );
        assert_eq!(
            Value::str("4.7").coerce_to(DataType::Long),
            Some(Value::Int(4))
        );
        assert_eq!(
            Value::Int(7).coerce_to(DataType::Keyword),
            Some(Value::str("7"))
        );
        assert_eq!(
            Value::Bool(true).coerce_to(DataType::Keyword),
            Some(Value::str("true"))
        );
        assert_eq!(Value::str("x").coerce_to(DataType::Long), None);
        assert_eq!(
            Value::str("10.0.0.1").coerce_to(DataType::Ip),
            Some(Value::Ip("10.0.0.1".parse().unwrap()))
        );
        assert_eq!(Value::str("nope").coerce_to(DataType::Ip), None);
        assert!(matches!(
            Value::str("2024-01-01T00:00:00Z").coerce_to(DataType::Date),
            Some(Value::Date(_))
        ));
    }

    #[test]
    fn has_content_sees_through_objects() {
        let mut m = Map::new();
        m.insert("a".into(), Value::Null);
        assert!(!Value::Object(m.clone()).has_content());
        m.insert("b".into(), Value::Int(0));
        assert!(Value::Object(m).has_content());
        assert!(!Value::Array(vec![]).has_content());
    }
}
