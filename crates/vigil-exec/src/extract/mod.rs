//! Text extraction: the `Extract` operator's patterns (ES|QL `DISSECT`/`GROK`, regular
//! expressions with named groups, Kusto `parse`). Each pattern compiles once per plan and
//! yields, for one input string, a value per output column or no match.

mod dissect;
mod grok;
mod kusto_parse;
mod regex;

use vigil_event::{DataType, Value};
use vigil_plan::{ExtractPattern, Span};

use crate::error::ExecError;

/// A compiled extraction pattern and the columns it fills.
#[derive(Clone, Debug)]
pub(crate) struct Extractor {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Dissect(dissect::Dissect),
    Grok(grok::Grok),
    Regex(regex::RegexExtract),
    KustoParse(kusto_parse::KustoParse),
}

impl Extractor {
    /// Compiles `pattern` for `columns` (names and types, in the plan's order).
    pub fn new(
        pattern: &ExtractPattern,
        columns: &[(String, DataType)],
        span: Span,
    ) -> Result<Extractor, ExecError> {
        let fail = |m: String| ExecError::new(m, span);
        let kind = match pattern {
            ExtractPattern::Dissect {
                pattern,
                append_separator,
            } => Kind::Dissect(
                dissect::Dissect::new(pattern, append_separator.as_deref(), columns)
                    .map_err(fail)?,
            ),
            ExtractPattern::Grok { pattern } => {
                Kind::Grok(grok::Grok::new(pattern, columns).map_err(fail)?)
            }
            ExtractPattern::Regex { pattern } => {
                Kind::Regex(regex::RegexExtract::new(pattern, columns).map_err(fail)?)
            }
            ExtractPattern::KustoParse { parts, relaxed } => Kind::KustoParse(
                kusto_parse::KustoParse::new(parts, *relaxed, columns).map_err(fail)?,
            ),
        };
        Ok(Extractor { kind })
    }

    /// One value per column (`None` where the pattern captured nothing), or `None` when the
    /// input does not match.
    pub fn extract(&self, input: &str) -> Option<Vec<Option<Value>>> {
        match &self.kind {
            Kind::Dissect(d) => d.extract(input),
            Kind::Grok(g) => g.extract(input),
            Kind::Regex(r) => r.extract(input),
            Kind::KustoParse(k) => k.extract(input),
        }
    }
}

/// Converts captured text to a column's type; text that does not convert gives null.
pub(crate) fn typed(text: &str, ty: DataType) -> Option<Value> {
    match ty {
        DataType::Long | DataType::UnsignedLong => text.trim().parse::<i64>().ok().map(Value::Int),
        DataType::Double => text.trim().parse::<f64>().ok().map(Value::Float),
        DataType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => Some(Value::from(text)),
    }
}

/// The compiled `Extract` operator: the input expression, the pattern and the column slots.
#[derive(Clone, Debug)]
pub(crate) struct ExtractOp {
    source: crate::expr::CompiledExpr,
    extractor: Extractor,
    pub slots: Vec<vigil_event::SlotId>,
    drop_unmatched: bool,
}

impl ExtractOp {
    pub fn compile(
        x: &vigil_plan::Extract,
        b: &mut crate::builder::Builder<'_>,
    ) -> Result<ExtractOp, ExecError> {
        // The input is read before the columns are defined: `GROK a "%{WORD:a}"` reads the
        // old `a`.
        let source = b.expr(&x.source)?;
        let extractor = Extractor::new(&x.pattern, &x.columns, x.source.span)?;
        let slots = x.columns.iter().map(|(name, _)| b.define(name)).collect();
        Ok(ExtractOp {
            source,
            extractor,
            slots,
            drop_unmatched: x.drop_unmatched,
        })
    }

    fn extract_each(&self, items: &[Value]) -> Option<Vec<Option<Value>>> {
        let mut cols: Vec<Vec<Value>> = vec![Vec::new(); self.slots.len()];
        let mut any = false;
        for item in items.iter().filter(|v| !v.is_null()) {
            let text = match item {
                Value::Str(s) => s.to_string(),
                other => other.to_string(),
            };
            let Some(values) = self.extractor.extract(&text) else {
                continue;
            };
            any = true;
            for (col, v) in cols.iter_mut().zip(values) {
                match v {
                    Some(Value::Array(vs)) => col.extend(vs),
                    Some(v) => col.push(v),
                    None => {}
                }
            }
        }
        any.then(|| {
            cols.into_iter()
                .map(|mut c| match c.len() {
                    0 => None,
                    1 => c.pop(),
                    _ => Some(Value::Array(c)),
                })
                .collect()
        })
    }

    pub fn run<'a>(
        &self,
        rows: Vec<crate::plan::Pending<'a>>,
        ctx: &crate::expr::EvalContext,
    ) -> Vec<crate::plan::Pending<'a>> {
        let mut out = Vec::with_capacity(rows.len());
        for mut p in rows {
            let input = self.source.eval(&p.row, ctx, &mut crate::expr::NoTrace);
            let found = match &input {
                // Each value of a multi-valued input is matched; the captures of the values that
                // match are gathered, in order (ES|QL DISSECT and GROK).
                Value::Array(items) => self.extract_each(items),
                Value::Null | Value::Object(_) => None,
                Value::Str(s) => self.extractor.extract(s),
                other => self.extractor.extract(&other.to_string()),
            };
            if found.is_none() && self.drop_unmatched {
                continue;
            }
            let row = p.row.to_mut();
            match found {
                Some(values) => {
                    for (slot, v) in self.slots.iter().zip(values) {
                        row.set(*slot, v);
                    }
                }
                None => {
                    for slot in &self.slots {
                        row.set(*slot, None);
                    }
                }
            }
            out.push(p);
        }
        out
    }
}
