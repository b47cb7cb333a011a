//! Elasticsearch's dissect: the pattern is literal text with `%{key}` fields; each field takes
//! the input up to the next occurrence of the literal text after it (the last field takes the
//! rest). Modifiers: `%{+key}` appends to an earlier field (joined by the append separator,
//! ordered by `/n` when given), `%{?key}` and `%{}` skip, `%{key->}` also skips repeats of the
//! delimiter that follows.

use vigil_event::{DataType, Value};

#[derive(Clone, Debug)]
pub(crate) struct Dissect {
    prefix: String,
    parts: Vec<Part>,
    append_separator: String,
    columns: Vec<(String, DataType)>,
}

#[derive(Clone, Debug)]
struct Part {
    /// `None`: a skipped field.
    name: Option<String>,
    append: bool,
    order: Option<u32>,
    pad: bool,
    delimiter: String,
}

impl Dissect {
    pub fn new(
        pattern: &str,
        append_separator: Option<&str>,
        columns: &[(String, DataType)],
    ) -> Result<Dissect, String> {
        let bad = |why: &str| format!("Invalid DISSECT pattern [{pattern}]: {why}");
        let Some(first) = pattern.find("%{") else {
            return Err(bad("no keys"));
        };
        let prefix = pattern[..first].to_string();
        let mut parts = Vec::new();
        let mut rest = &pattern[first..];
        while let Some(after) = rest.strip_prefix("%{") {
            let close = after.find('}').ok_or_else(|| bad("unclosed `%{`"))?;
            let mut key = &after[..close];
            rest = &after[close + 1..];
            let next = rest.find("%{").unwrap_or(rest.len());
            let delimiter = rest[..next].to_string();
            rest = &rest[next..];
            let pad = key.ends_with("->");
            if pad {
                key = &key[..key.len() - 2];
            }
            let mut append = false;
            let mut order = None;
            let name = if key.is_empty() || key.starts_with('?') {
                None
            } else if let Some(k) = key.strip_prefix('+') {
                append = true;
                let (k, o) = match k.split_once('/') {
                    Some((k, o)) => (k, o.parse::<u32>().ok()),
                    None => (k, None),
                };
                order = o;
                Some(k.to_string())
            } else if key.starts_with('&') || key.starts_with('*') {
                return Err(bad("reference keys are not supported"));
            } else {
                Some(key.to_string())
            };
            parts.push(Part {
                name,
                append,
                order,
                pad,
                delimiter,
            });
        }
        Ok(Dissect {
            prefix,
            parts,
            append_separator: append_separator.unwrap_or_default().to_string(),
            columns: columns.to_vec(),
        })
    }

    pub fn extract(&self, input: &str) -> Option<Vec<Option<Value>>> {
        let mut pos = input
            .strip_prefix(self.prefix.as_str())
            .map(|_| self.prefix.len())?;
        // (column name, order, value) in pattern order.
        let mut found: Vec<(&str, Option<u32>, bool, &str)> = Vec::new();
        let last = self.parts.len().saturating_sub(1);
        for (i, p) in self.parts.iter().enumerate() {
            let value;
            if p.delimiter.is_empty() {
                if i == last {
                    value = &input[pos..];
                    pos = input.len();
                } else {
                    value = "";
                }
            } else {
                let at = input[pos..].find(p.delimiter.as_str())?;
                value = &input[pos..pos + at];
                pos += at + p.delimiter.len();
                if p.pad {
                    while input[pos..].starts_with(p.delimiter.as_str()) {
                        pos += p.delimiter.len();
                    }
                }
            }
            if let Some(n) = &p.name {
                found.push((n, p.order, p.append, value));
            }
        }
        Some(
            self.columns
                .iter()
                .map(|(col, ty)| {
                    let mut vals: Vec<(Option<u32>, bool, &str)> = found
                        .iter()
                        .filter(|(n, ..)| n == col)
                        .map(|(_, o, a, v)| (*o, *a, *v))
                        .collect();
                    if vals.is_empty() {
                        return None;
                    }
                    let text = if vals.iter().any(|(_, a, _)| *a) {
                        vals.sort_by_key(|(o, ..)| o.unwrap_or(0));
                        vals.iter()
                            .map(|(.., v)| *v)
                            .collect::<Vec<_>>()
                            .join(&self.append_separator)
                    } else {
                        vals.last().map(|(.., v)| v.to_string()).unwrap_or_default()
                    };
                    super::typed(&text, *ty)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<(String, DataType)> {
        names
            .iter()
            .map(|n| (n.to_string(), DataType::Keyword))
            .collect()
    }

    fn run(p: &str, sep: Option<&str>, names: &[&str], input: &str) -> Option<Vec<String>> {
        let d = Dissect::new(p, sep, &cols(names)).unwrap();
        d.extract(input).map(|v| {
            v.into_iter()
                .map(|x| x.map_or("null".into(), |x| x.to_string()))
                .collect()
        })
    }

    #[test]
    fn fields_modifiers_and_padding() {
        assert_eq!(
            run("%{a} %{b}", None, &["a", "b"], "foo bar baz"),
            Some(vec!["foo".into(), "bar baz".into()])
        );
        assert_eq!(
            run("%{+a} %{+a} %{b}", Some(","), &["a", "b"], "x y z"),
            Some(vec!["x,y".into(), "z".into()])
        );
        assert_eq!(
            run("%{a->} %{b}", None, &["a", "b"], "x     y"),
            Some(vec!["x".into(), "y".into()])
        );
        assert_eq!(
            run("[%{?skip}] %{a}", None, &["a"], "[zz] y"),
            Some(vec!["y".into()])
        );
        assert_eq!(run("%{a}-%{b}", None, &["a", "b"], "nodash"), None);
    }
}
