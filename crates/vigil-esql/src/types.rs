//! ES|QL's column types, computed at plan time.

use std::fmt;

use vigil_event::DataType;

/// The type of an ES|QL column or expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EsqlType {
    Null,
    Boolean,
    Integer,
    Long,
    UnsignedLong,
    Double,
    Keyword,
    Text,
    Date,
    DateNanos,
    Ip,
    Version,
    TimeDuration,
    DatePeriod,
    GeoPoint,
    CartesianPoint,
    GeoShape,
    CartesianShape,
    /// A field Elasticsearch maps but ES|QL cannot read (objects, counters, ranges…).
    Unsupported,
    /// A field no schema knows (rules over integrations Vigil has no table for): its values'
    /// own JSON types decide, as with Elasticsearch's dynamic mapping.
    Unknown,
}

impl EsqlType {
    /// The name Elasticsearch reports (`integer`, `keyword`, `date`…).
    pub fn name(self) -> &'static str {
        match self {
            EsqlType::Null => "null",
            EsqlType::Boolean => "boolean",
            EsqlType::Integer => "integer",
            EsqlType::Long => "long",
            EsqlType::UnsignedLong => "unsigned_long",
            EsqlType::Double => "double",
            EsqlType::Keyword => "keyword",
            EsqlType::Text => "text",
            EsqlType::Date => "date",
            EsqlType::DateNanos => "date_nanos",
            EsqlType::Ip => "ip",
            EsqlType::Version => "version",
            EsqlType::TimeDuration => "time_duration",
            EsqlType::DatePeriod => "date_period",
            EsqlType::GeoPoint => "geo_point",
            EsqlType::CartesianPoint => "cartesian_point",
            EsqlType::GeoShape => "geo_shape",
            EsqlType::CartesianShape => "cartesian_shape",
            EsqlType::Unsupported => "unsupported",
            EsqlType::Unknown => "unknown",
        }
    }

    /// Parses a type name as mappings, csv-spec headers and `::` casts spell it.
    pub fn from_name(name: &str) -> Option<EsqlType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "null" | "n" => EsqlType::Null,
            "boolean" | "bool" => EsqlType::Boolean,
            "integer" | "int" | "i" | "short" | "byte" => EsqlType::Integer,
            "long" | "l" => EsqlType::Long,
            "unsigned_long" | "ul" => EsqlType::UnsignedLong,
            "double" | "d" | "float" | "half_float" | "scaled_float" => EsqlType::Double,
            "keyword" | "k" | "s" | "string" | "constant_keyword" | "wildcard" => EsqlType::Keyword,
            "text" | "txt" | "match_only_text" => EsqlType::Text,
            "date" | "datetime" | "dt" => EsqlType::Date,
            "date_nanos" => EsqlType::DateNanos,
            "ip" => EsqlType::Ip,
            "version" | "v" => EsqlType::Version,
            "time_duration" => EsqlType::TimeDuration,
            "date_period" => EsqlType::DatePeriod,
            "geo_point" => EsqlType::GeoPoint,
            "cartesian_point" => EsqlType::CartesianPoint,
            "geo_shape" => EsqlType::GeoShape,
            "cartesian_shape" => EsqlType::CartesianShape,
            "unsupported" => EsqlType::Unsupported,
            _ => return None,
        })
    }

    /// The ES|QL type of a field a Vigil schema declares.
    pub fn from_data_type(t: DataType) -> EsqlType {
        match t {
            DataType::Keyword | DataType::String => EsqlType::Keyword,
            DataType::Text => EsqlType::Text,
            DataType::Long => EsqlType::Long,
            DataType::UnsignedLong => EsqlType::UnsignedLong,
            DataType::Double => EsqlType::Double,
            DataType::Boolean => EsqlType::Boolean,
            DataType::Ip => EsqlType::Ip,
            DataType::Date => EsqlType::Date,
            DataType::Duration => EsqlType::TimeDuration,
            DataType::Version => EsqlType::Version,
            DataType::GeoPoint => EsqlType::GeoPoint,
            // Flattened fields read as keywords of their leaf values.
            DataType::Flattened => EsqlType::Keyword,
            DataType::Object | DataType::Nested => EsqlType::Unsupported,
            DataType::Dynamic | DataType::Unknown => EsqlType::Unknown,
        }
    }

    /// The IR type the executor coerces values of this column to.
    pub fn data_type(self) -> DataType {
        match self {
            EsqlType::Boolean => DataType::Boolean,
            EsqlType::Integer | EsqlType::Long => DataType::Long,
            EsqlType::UnsignedLong => DataType::UnsignedLong,
            EsqlType::Double => DataType::Double,
            EsqlType::Keyword => DataType::Keyword,
            EsqlType::Text => DataType::Text,
            EsqlType::Date | EsqlType::DateNanos => DataType::Date,
            EsqlType::Ip => DataType::Ip,
            EsqlType::Version => DataType::Version,
            EsqlType::TimeDuration => DataType::Duration,
            EsqlType::GeoPoint => DataType::GeoPoint,
            _ => DataType::Unknown,
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            EsqlType::Integer | EsqlType::Long | EsqlType::UnsignedLong | EsqlType::Double
        )
    }

    /// Whole numbers.
    pub fn is_integral(self) -> bool {
        matches!(
            self,
            EsqlType::Integer | EsqlType::Long | EsqlType::UnsignedLong
        )
    }

    pub fn is_string(self) -> bool {
        matches!(self, EsqlType::Keyword | EsqlType::Text)
    }

    pub fn is_date(self) -> bool {
        matches!(self, EsqlType::Date | EsqlType::DateNanos)
    }

    /// Null and unknown types fit wherever a type is expected.
    pub fn is_any(self) -> bool {
        matches!(self, EsqlType::Null | EsqlType::Unknown)
    }

    /// The type of `a op b` for numbers: the wider of the two.
    pub fn widen(a: EsqlType, b: EsqlType) -> EsqlType {
        use EsqlType::{Double, Integer, Long, Null, Unknown, UnsignedLong};
        match (a, b) {
            (Unknown, _) | (_, Unknown) => Unknown,
            (Null, x) | (x, Null) => x,
            (Double, _) | (_, Double) => Double,
            (UnsignedLong, _) | (_, UnsignedLong) => UnsignedLong,
            (Long, _) | (_, Long) => Long,
            (Integer, Integer) => Integer,
            (x, _) => x,
        }
    }

    /// True if values of the two types can be compared with each other.
    pub fn comparable(a: EsqlType, b: EsqlType) -> bool {
        a.is_any()
            || b.is_any()
            || a == b
            || (a.is_numeric() && b.is_numeric())
            || (a.is_string() && b.is_string())
            || (a.is_date() && b.is_date())
    }
}

impl fmt::Display for EsqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
