//! Vigil's event model.
//!
//! A [`Value`] is a typed JSON-like value (string, integer, float, bool, ip, date, duration, null,
//! arrays as multi-values, objects). A document is a `Value::Object`. Field access by dotted path
//! ([`Value::lookup`]) treats nested objects, flattened dotted keys (`{"a.b": 1}`) and arrays of
//! objects alike, as Elasticsearch does for non-nested object fields.
//!
//! The evaluator does not walk documents: a [`Projection`] extracts the fields the loaded rules read
//! into a [`Row`] of slots, once per event.

mod json;
mod path;
mod row;
mod time;
mod value;

pub use json::{JsonError, MAX_DEPTH, UniqueKeys, parse_json, parse_json_lazy_keys};
pub use row::{Layout, Projection, Row, SlotId, wildcard_match};
pub use time::{
    TimeError, format_date, format_es_date, parse_duration_es, parse_epoch_millis, parse_es_date,
    parse_rfc3339,
};
pub use value::{DataType, Map, Str, Value};

/// A timestamp with nanosecond precision (UTC).
pub type Timestamp = jiff::Timestamp;
