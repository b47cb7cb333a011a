//! Extraction by a regular expression whose named groups are the columns.

use vigil_event::{DataType, Value};

/// A compiled regular expression and, per column, its group.
#[derive(Clone, Debug)]
pub(crate) struct RegexExtract {
    re: ::regex::Regex,
    columns: Vec<(String, DataType)>,
}

impl RegexExtract {
    pub fn new(pattern: &str, columns: &[(String, DataType)]) -> Result<RegexExtract, String> {
        let re = ::regex::RegexBuilder::new(pattern)
            .size_limit(1 << 22)
            .build()
            .map_err(|e| format!("invalid regular expression: {e}"))?;
        for (name, _) in columns {
            if !re.capture_names().flatten().any(|n| n == name) {
                return Err(format!("the pattern has no group named `{name}`"));
            }
        }
        Ok(RegexExtract {
            re,
            columns: columns.to_vec(),
        })
    }

    pub fn extract(&self, input: &str) -> Option<Vec<Option<Value>>> {
        let caps = self.re.captures(input)?;
        Some(
            self.columns
                .iter()
                .map(|(name, ty)| caps.name(name).and_then(|m| super::typed(m.as_str(), *ty)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_groups_fill_columns() {
        let r = RegexExtract::new(
            r"user=(?P<user>\w+) n=(?P<n>\d+)",
            &[
                ("user".into(), DataType::Keyword),
                ("n".into(), DataType::Long),
            ],
        )
        .unwrap();
        assert_eq!(
            r.extract("x user=bob n=42"),
            Some(vec![Some(Value::str("bob")), Some(Value::Int(42))])
        );
        assert_eq!(r.extract("nothing"), None);
    }
}
