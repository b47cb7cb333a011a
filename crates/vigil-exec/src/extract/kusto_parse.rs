//! Kusto `parse` (`kind=simple` and `kind=relaxed`): literal text between column captures and
//! `*` skips, matched left to right from the start of the string.
//!
//! The pattern becomes one regular expression: `*` is `.*?`, a text is itself, a column is
//! `(.*?)` — except in simple mode, where `long`/`int` columns match `-?\d+` and `real`
//! columns a decimal number — and a column at the end takes the rest of the string. In simple
//! mode a value that does not convert to its column's type makes the whole row unmatched; in
//! relaxed mode only that column is null.

use vigil_event::{DataType, Value};
use vigil_plan::KustoParsePart;

#[derive(Clone, Debug)]
pub(crate) struct KustoParse {
    re: regex::Regex,
    /// (capture group, column index, type) in pattern order.
    captures: Vec<(usize, usize, DataType)>,
    columns: usize,
    relaxed: bool,
}

impl KustoParse {
    pub fn new(
        parts: &[KustoParsePart],
        relaxed: bool,
        columns: &[(String, DataType)],
    ) -> Result<KustoParse, String> {
        let mut re = String::from("(?s)^");
        let mut captures = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let before_text = matches!(parts.get(i + 1), Some(KustoParsePart::Text(_)));
            match p {
                KustoParsePart::Skip => re.push_str(".*?"),
                KustoParsePart::Text(t) => re.push_str(&regex::escape(t)),
                KustoParsePart::Column(c) => {
                    let ty = columns
                        .get(*c)
                        .map(|x| x.1)
                        .ok_or_else(|| format!("parse column {c} is not declared"))?;
                    // Relaxed mode: a number column up to a text takes anything (and may fail
                    // to convert); before a skip or the end it takes the digits if any.
                    let body = match (relaxed, ty, last) {
                        (false, DataType::Long, _) => r"-?\d+",
                        (false, DataType::Double, _) => r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
                        (true, DataType::Long, _) if !before_text => r"-?\d+|",
                        (true, DataType::Double, _) if !before_text => {
                            r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|"
                        }
                        (_, _, true) => ".*",
                        _ => ".*?",
                    };
                    captures.push((captures.len() + 1, *c, ty));
                    re.push('(');
                    re.push_str(body);
                    re.push(')');
                }
            }
        }
        let re = regex::RegexBuilder::new(&re)
            .size_limit(1 << 22)
            .build()
            .map_err(|e| format!("invalid parse pattern: {e}"))?;
        Ok(KustoParse {
            re,
            captures,
            columns: columns.len(),
            relaxed,
        })
    }

    pub fn extract(&self, input: &str) -> Option<Vec<Option<Value>>> {
        let caps = self.re.captures(input)?;
        let mut out = vec![None; self.columns];
        for (group, col, ty) in &self.captures {
            let text = caps.get(*group).map_or("", |m| m.as_str());
            let v = convert(text, *ty);
            if v.is_none() && !self.relaxed && *ty != DataType::String {
                return None;
            }
            out[*col] = v;
        }
        Some(out)
    }
}

fn convert(text: &str, ty: DataType) -> Option<Value> {
    match ty {
        DataType::Long => text.trim().parse::<i64>().ok().map(Value::Int),
        DataType::Double => text.trim().parse::<f64>().ok().map(Value::Float),
        DataType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        DataType::Date => crate::functions::parse_kusto_datetime(text).map(Value::Date),
        DataType::Dynamic => vigil_event::parse_json(text.as_bytes())
            .ok()
            .or_else(|| Some(Value::from(text))),
        _ => Some(Value::from(text)),
    }
}
