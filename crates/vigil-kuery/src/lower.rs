//! Lowering to Vigil's IR with the semantics Elasticsearch gives the query Kibana builds.
//!
//! Kibana turns `field: value` into a `match`/`match_phrase`/`term`/`wildcard`/`range`/`exists`
//! query chosen by the field's mapping type. Each becomes an IR predicate with the any-value
//! quantifier (a term query matches a document if any value of the field matches; a missing
//! field never matches, so `not` of it does). Fields no schema knows are compared leniently,
//! as Elasticsearch's dynamic mapping would have typed them from the values themselves.

use std::net::IpAddr;

use ipnet::IpNet;
use jiff::SignedDuration;
use vigil_event::{DataType, Value};
use vigil_plan::{
    ArithOp, CmpOp, Expr, ExprKind, FieldRef, MatchOpts, Pattern, Plan, Quantifier, SourceKind,
    Span, WildcardPattern, WildcardToken,
};
use vigil_schema::Schema;

use crate::ast::{Lit, LitValue, Node, Query, RangeOp, Values, WildPart};
use crate::parser::{ParseError, parse};

/// A query that parses but cannot run: a value the field's type rejects, an unsupported form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LowerError {
    pub message: String,
    pub span: Span,
}

impl From<ParseError> for LowerError {
    fn from(e: ParseError) -> LowerError {
        LowerError {
            message: e.message,
            span: e.span,
        }
    }
}

fn err<T>(message: impl Into<String>, span: Span) -> Result<T, LowerError> {
    Err(LowerError {
        message: message.into(),
        span,
    })
}

/// Parses and lowers a query rule: `Source(indices)` filtered by the query.
pub fn lower_query_rule(
    text: &str,
    indices: &[String],
    schema: &Schema,
) -> Result<Plan, LowerError> {
    let query = parse(text)?;
    let source = Plan::source(SourceKind::Elastic, indices.to_vec(), Span::default());
    match &query.root {
        None => Ok(source),
        Some(_) => {
            let pred = lower(&query, schema)?;
            source.filter(pred).map_err(|e| LowerError {
                message: e.message,
                span: e.span,
            })
        }
    }
}

/// The query as an IR predicate. The empty query is `true`.
pub fn lower(query: &Query, schema: &Schema) -> Result<Expr, LowerError> {
    match &query.root {
        None => Ok(Expr::literal(true, Span::default())),
        Some(n) => Lowerer {
            schema,
            prefix: String::new(),
        }
        .node(n),
    }
}

struct Lowerer<'a> {
    schema: &'a Schema,
    /// Absolute path of the enclosing nested field (`path.`), for type lookups.
    prefix: String,
}

impl Lowerer<'_> {
    fn node(&self, n: &Node) -> Result<Expr, LowerError> {
        let span = n.span();
        match n {
            Node::Or { items, .. } => Ok(Expr::or(self.nodes(items)?, span)),
            Node::And { items, .. } => Ok(Expr::and(self.nodes(items)?, span)),
            Node::Not { inner, .. } => Ok(Expr::not(self.node(inner)?, span)),
            Node::Nested { path, query, .. } => self.nested(path, query, span),
            Node::Range {
                field, op, value, ..
            } => {
                let fields = self.fields(field)?;
                let items = fields
                    .iter()
                    .map(|f| self.range(f, *op, value, span))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Expr::or(items, span))
            }
            Node::Field { field, values, .. } => {
                if field.is_star() && matches!(values, Values::One(v) if v.is_star()) {
                    return Ok(Expr::literal(true, span));
                }
                let fields = self.fields(field)?;
                let items = fields
                    .iter()
                    .map(|f| self.values(f, values, span))
                    .collect::<Result<Vec<_>, _>>()?;
                // A single comparison stands for the whole `field: value` text.
                let mut e = Expr::or(items, span);
                e.span = span;
                Ok(e)
            }
            Node::FreeText { value, .. } => {
                if value.is_star() {
                    return Ok(Expr::literal(true, span));
                }
                err(
                    "a value without a field searches every field of the document, which Vigil \
                     does not do; name the field (`field: value`)",
                    span,
                )
            }
        }
    }

    fn nodes(&self, items: &[Node]) -> Result<Vec<Expr>, LowerError> {
        items.iter().map(|n| self.node(n)).collect()
    }

    fn nested(&self, path: &Lit, query: &Node, span: Span) -> Result<Expr, LowerError> {
        let rel = path.text();
        let abs = format!("{}{rel}", self.prefix);
        if let Some(ty) = self.schema.field_type(&abs)
            && ty != DataType::Nested
            && ty != DataType::Unknown
        {
            return err(
                format!("`{abs}` is a {ty} field, not a nested field"),
                path.span(),
            );
        }
        let inner = Lowerer {
            schema: self.schema,
            prefix: format!("{abs}."),
        }
        .node(query)?;
        Ok(Expr::new(
            ExprKind::AnyElement {
                field: FieldRef {
                    name: rel,
                    ty: DataType::Nested,
                },
                predicate: Box::new(inner),
            },
            span,
        ))
    }

    /// The concrete fields a field literal names: itself, or the known fields its wildcard
    /// pattern matches.
    fn fields(&self, field: &Lit) -> Result<Vec<FieldRef>, LowerError> {
        let name = field.text();
        if matches!(field.value, LitValue::Wildcard(_)) {
            let abs = format!("{}{name}", self.prefix);
            let found = self.schema.fields_matching(&abs);
            if found.is_empty() {
                // Kibana passes an unknown pattern through and Elasticsearch matches it against
                // the fields documents actually have: so does the projection, per event.
                return Ok(vec![FieldRef {
                    name,
                    ty: DataType::Unknown,
                }]);
            }
            return Ok(found
                .into_iter()
                .map(|f| FieldRef {
                    name: f[self.prefix.len()..].to_string(),
                    ty: self.schema.field_type(f).unwrap_or(DataType::Unknown),
                })
                .collect());
        }
        let ty = self
            .schema
            .field_type(&format!("{}{name}", self.prefix))
            .unwrap_or(DataType::Unknown);
        Ok(vec![FieldRef { name, ty }])
    }

    fn values(&self, f: &FieldRef, v: &Values, span: Span) -> Result<Expr, LowerError> {
        match v {
            Values::One(lit) => self.is(f, lit),
            Values::Or(items) => Ok(Expr::or(
                items
                    .iter()
                    .map(|i| self.values(f, i, span))
                    .collect::<Result<_, _>>()?,
                span,
            )),
            Values::And(items) => Ok(Expr::and(
                items
                    .iter()
                    .map(|i| self.values(f, i, span))
                    .collect::<Result<_, _>>()?,
                span,
            )),
            Values::Not(inner) => Ok(Expr::not(self.values(f, inner, span)?, span)),
        }
    }

    /// `field: value` for one concrete field.
    fn is(&self, f: &FieldRef, lit: &Lit) -> Result<Expr, LowerError> {
        let span = lit.span();
        let field = || Expr::new(ExprKind::Field(f.clone()), span);
        if lit.is_star() {
            return Ok(Expr::new(ExprKind::Exists(f.clone()), span));
        }
        let opts = MatchOpts {
            lenient: f.ty == DataType::Unknown,
            ..MatchOpts::ES_QUERY
        };
        if let LitValue::Wildcard(parts) = &lit.value {
            if !(f.ty.is_string() || matches!(f.ty, DataType::Unknown | DataType::Flattened)) {
                return err(
                    format!("a wildcard cannot match the {} field `{}`", f.ty, f.name),
                    span,
                );
            }
            let pattern = Pattern::Wildcard(wildcard(parts));
            // Text fields hold lower-cased tokens; keyword fields hold the value as is.
            let opts = if f.ty == DataType::Text {
                opts.with_case(vigil_plan::Case::Insensitive)
            } else {
                opts
            };
            return Ok(Expr::new(
                ExprKind::Match {
                    expr: Box::new(field()),
                    pattern,
                    opts,
                },
                span,
            ));
        }
        let text = lit.text();
        let eq = |value: Value| {
            Expr::compare(CmpOp::Eq, field(), Expr::literal(value, span), opts, span)
        };
        match f.ty {
            DataType::Text => {
                let func = if lit.quoted {
                    "es.match_phrase"
                } else {
                    "es.match"
                };
                Ok(Expr::call(
                    func,
                    vec![field(), Expr::literal(text, span)],
                    span,
                ))
            }
            DataType::Long | DataType::UnsignedLong | DataType::Double => {
                Ok(eq(number(&text, f, span)?))
            }
            DataType::Boolean => match text.as_str() {
                "true" => Ok(eq(Value::Bool(true))),
                "false" => Ok(eq(Value::Bool(false))),
                _ => err(
                    format!("`{text}` is not a boolean, as the field `{}` needs", f.name),
                    span,
                ),
            },
            DataType::Ip => {
                if text.contains('/') {
                    let net: IpNet = text.parse().map_err(|_| LowerError {
                        message: format!(
                            "`{text}` is not a CIDR block, as the ip field `{}` needs",
                            f.name
                        ),
                        span,
                    })?;
                    return Ok(Expr::new(
                        ExprKind::Cidr {
                            expr: Box::new(field()),
                            nets: vec![net],
                            quant: Quantifier::Any,
                        },
                        span,
                    ));
                }
                Ok(eq(Value::Ip(ip(&text, f, span)?)))
            }
            DataType::Date => {
                // Kibana queries a date with a range whose bounds are both the value.
                let at = date_math(&text, span)?;
                Ok(Expr::and(
                    vec![
                        Expr::compare(CmpOp::GtEq, field(), at.clone(), opts, span),
                        Expr::compare(CmpOp::LtEq, field(), at, opts, span),
                    ],
                    span,
                ))
            }
            DataType::GeoPoint => err(
                format!(
                    "geo_point field `{}` cannot be compared with a value",
                    f.name
                ),
                span,
            ),
            _ => Ok(eq(Value::from(text))),
        }
    }

    fn range(&self, f: &FieldRef, op: RangeOp, lit: &Lit, span: Span) -> Result<Expr, LowerError> {
        if matches!(lit.value, LitValue::Wildcard(_)) {
            return err("a range bound cannot hold a wildcard", lit.span());
        }
        let text = lit.text();
        let bound = match f.ty {
            DataType::Long | DataType::UnsignedLong | DataType::Double => {
                Expr::literal(number(&text, f, lit.span())?, lit.span())
            }
            DataType::Date => date_math(&text, lit.span())?,
            DataType::Ip => Expr::literal(Value::Ip(ip(&text, f, lit.span())?), lit.span()),
            DataType::Boolean => match text.as_str() {
                "true" | "false" => Expr::literal(text == "true", lit.span()),
                _ => return err(format!("`{text}` is not a boolean"), lit.span()),
            },
            _ => Expr::literal(text, lit.span()),
        };
        let op = match op {
            RangeOp::Lt => CmpOp::Lt,
            RangeOp::Lte => CmpOp::LtEq,
            RangeOp::Gt => CmpOp::Gt,
            RangeOp::Gte => CmpOp::GtEq,
        };
        let opts = MatchOpts {
            lenient: f.ty == DataType::Unknown,
            ..MatchOpts::ES_QUERY
        };
        let field = Expr::new(ExprKind::Field(f.clone()), span);
        Ok(Expr::compare(op, field, bound, opts, span))
    }
}

fn wildcard(parts: &[WildPart]) -> WildcardPattern {
    WildcardPattern {
        tokens: parts
            .iter()
            .map(|p| match p {
                WildPart::Star => WildcardToken::AnyRun,
                WildPart::Text(s) => WildcardToken::Literal(s.clone()),
            })
            .collect(),
    }
}

fn number(text: &str, f: &FieldRef, span: Span) -> Result<Value, LowerError> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Ok(if f.ty == DataType::Double {
            Value::Float(i as f64)
        } else {
            Value::Int(i)
        });
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() && (f.ty == DataType::Double || x.fract() == 0.0) => {
            Ok(if f.ty == DataType::Double {
                Value::Float(x)
            } else {
                Value::Int(x as i64)
            })
        }
        _ => err(
            format!(
                "`{text}` is not a valid value for the {} field `{}`",
                f.ty, f.name
            ),
            span,
        ),
    }
}

fn ip(text: &str, f: &FieldRef, span: Span) -> Result<IpAddr, LowerError> {
    text.trim().parse().map_err(|_| LowerError {
        message: format!(
            "`{text}` is not an IP address, as the ip field `{}` needs",
            f.name
        ),
        span,
    })
}

/// Elasticsearch date math: an absolute date (`strict_date_optional_time||epoch_millis`), or
/// `now` with `+`/`-` offsets in fixed units. Calendar units (`M`, `y`) and rounding (`/d`)
/// are refused rather than approximated.
fn date_math(text: &str, span: Span) -> Result<Expr, LowerError> {
    let t = text.trim();
    let Some(mut rest) = t.strip_prefix("now") else {
        return vigil_event::parse_es_date(t)
            .map(|ts| Expr::literal(Value::Date(ts), span))
            .map_err(|_| LowerError {
                message: format!("`{text}` is not a date"),
                span,
            });
    };
    let mut expr = Expr::new(ExprKind::Now, span);
    while !rest.is_empty() {
        let (sign, tail) = match rest.as_bytes()[0] {
            b'+' => (ArithOp::Add, &rest[1..]),
            b'-' => (ArithOp::Sub, &rest[1..]),
            _ => {
                return err(
                    format!("unsupported date math `{text}`: only now±N(s|m|h|d|w) is supported"),
                    span,
                );
            }
        };
        let digits = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let unit_end = digits + tail[digits..].chars().next().map_or(0, char::len_utf8);
        let n: i64 = tail[..digits].parse().map_err(|_| LowerError {
            message: format!("bad date math `{text}`"),
            span,
        })?;
        let secs = match &tail[digits..unit_end] {
            "s" => 1,
            "m" => 60,
            "h" | "H" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => {
                return err(
                    format!("unsupported date math `{text}`: only now±N(s|m|h|d|w) is supported"),
                    span,
                );
            }
        };
        let d = Expr::literal(
            Value::Duration(SignedDuration::from_secs(n.saturating_mul(secs))),
            span,
        );
        expr = Expr::new(
            ExprKind::Arith {
                op: sign,
                left: Box::new(expr),
                right: Box::new(d),
            },
            span,
        );
        rest = &tail[unit_end..];
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowered(q: &str) -> String {
        match parse(q)
            .map_err(LowerError::from)
            .and_then(|q| lower(&q, Schema::elastic()))
        {
            Ok(e) => e.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn types_decide_the_comparison() {
        assert_eq!(
            lowered("event.outcome: success"),
            r#"eq{any,cs}(event.outcome<keyword>, "success")"#
        );
        assert_eq!(
            lowered("source.as.number: 3598"),
            "eq{any,cs}(source.as.number<long>, 3598)"
        );
        assert_eq!(
            lowered(r#"source.as.number: "3598""#),
            "eq{any,cs}(source.as.number<long>, 3598)"
        );
        assert_eq!(
            lowered("source.ip: 10.0.0.0/8"),
            "cidr{any}(source.ip<ip>, [10.0.0.0/8])"
        );
        assert_eq!(
            lowered("source.ip: 10.1.2.3"),
            "eq{any,cs}(source.ip<ip>, ip(10.1.2.3))"
        );
        assert_eq!(
            lowered("custom.thing: 1"),
            r#"eq{any,cs,lenient}(custom.thing, "1")"#
        );
        assert_eq!(
            lowered("azure.resource.name: *"),
            "exists(azure.resource.name<keyword>)"
        );
        assert_eq!(
            lowered("azure.resource.id: *CUSTOMSCRIPT*"),
            r#"wildcard{any,cs}(azure.resource.id<keyword>, "*CUSTOMSCRIPT*")"#
        );
        assert_eq!(
            lowered(r#"message: "a b""#),
            r#"es.match_phrase(message<text>, "a b")"#
        );
    }

    #[test]
    fn value_lists_and_negation() {
        assert_eq!(
            lowered("source.as.number:(* and not (3598 or 8068))"),
            "and(exists(source.as.number<long>), not(or(eq{any,cs}(source.as.number<long>, 3598), eq{any,cs}(source.as.number<long>, 8068))))"
        );
    }

    #[test]
    fn type_errors_are_reported() {
        assert!(lowered("source.as.number: abc").starts_with("error"));
        assert!(lowered("source.as.number: 12*").starts_with("error"));
        assert!(lowered("source.ip: nope").starts_with("error"));
        assert!(lowered("just some words").starts_with("error"));
        assert_eq!(lowered("*"), "true");
    }

    #[test]
    fn dates_and_ranges() {
        assert_eq!(
            lowered("@timestamp >= now-10d"),
            "gte{any,cs}(@timestamp<date>, (now() - duration(240h)))"
        );
        assert!(lowered("@timestamp > now/d").starts_with("error"));
        assert_eq!(
            lowered("process.pid > 4"),
            "gt{any,cs}(process.pid<long>, 4)"
        );
    }
}
