//! ES|QL functions: argument checks and result types at plan time, and the executor function
//! each one calls (`esql.<name>` in `vigil-exec`).

use vigil_event::Value;
use vigil_plan::{AggCall, Expr, ExprKind as IrKind, Span};

use crate::ast::{self, ExprKind};
use crate::lower::{LowerError, Lowerer, Typed, err, int_check};
use crate::types::EsqlType;

const AGGREGATES: &[&str] = &[
    "count",
    "count_distinct",
    "values",
    "min",
    "max",
    "sum",
    "avg",
    "top",
    "median",
    "percentile",
    "std_dev",
    "median_absolute_deviation",
    "weighted_avg",
    "first",
    "last",
];

pub(crate) fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name.to_ascii_lowercase().as_str())
}

/// Every function name the lowering knows (scalars and aggregates), lower case.
pub fn known_functions() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = AGGREGATES.to_vec();
    v.extend_from_slice(SCALARS);
    v
}

const SCALARS: &[&str] = &[
    "abs",
    "acos",
    "asin",
    "atan",
    "atan2",
    "bit_length",
    "byte_length",
    "case",
    "cbrt",
    "ceil",
    "cidr_match",
    "coalesce",
    "concat",
    "cos",
    "cosh",
    "date_diff",
    "date_extract",
    "date_format",
    "date_parse",
    "date_trunc",
    "e",
    "ends_with",
    "exp",
    "floor",
    "from_base64",
    "greatest",
    "ip_prefix",
    "json_extract",
    "kql",
    "least",
    "left",
    "length",
    "locate",
    "log",
    "log10",
    "ltrim",
    "mv_append",
    "mv_avg",
    "mv_concat",
    "mv_contains",
    "mv_count",
    "mv_dedupe",
    "mv_first",
    "mv_intersection",
    "mv_last",
    "mv_max",
    "mv_median",
    "mv_min",
    "mv_slice",
    "mv_sort",
    "mv_sum",
    "mv_zip",
    "now",
    "pi",
    "pow",
    "repeat",
    "replace",
    "reverse",
    "right",
    "round",
    "rtrim",
    "signum",
    "sin",
    "sinh",
    "space",
    "split",
    "sqrt",
    "starts_with",
    "substring",
    "tan",
    "tanh",
    "tau",
    "to_base64",
    "to_bool",
    "to_boolean",
    "to_datetime",
    "to_date_nanos",
    "to_dbl",
    "to_double",
    "to_dt",
    "to_int",
    "to_integer",
    "to_ip",
    "to_long",
    "to_lower",
    "to_str",
    "to_string",
    "to_ul",
    "to_ulong",
    "to_unsigned_long",
    "to_upper",
    "trim",
    "url_decode",
    "url_encode",
    "url_encode_component",
    "atob",
    "btoa",
    "contains",
    "to_timeduration",
    "to_dateperiod",
    "to_degrees",
    "to_radians",
    "acosh",
    "asinh",
    "atanh",
    "hypot",
    "match",
    "to_geopoint",
    "st_x",
    "st_y",
    "st_distance",
];

/// The conversion function a `::type` cast calls.
pub(crate) fn conversion_for(t: EsqlType) -> Option<&'static str> {
    Some(match t {
        EsqlType::Boolean => "to_boolean",
        EsqlType::Integer => "to_integer",
        EsqlType::Long => "to_long",
        EsqlType::UnsignedLong => "to_unsigned_long",
        EsqlType::Double => "to_double",
        EsqlType::Keyword | EsqlType::Text => "to_string",
        EsqlType::Date => "to_datetime",
        EsqlType::DateNanos => "to_date_nanos",
        EsqlType::Ip => "to_ip",
        EsqlType::TimeDuration => "to_timeduration",
        EsqlType::DatePeriod => "to_dateperiod",
        _ => return None,
    })
}

fn arity(
    name: &str,
    args: &[ast::Expr],
    min: usize,
    max: usize,
    span: Span,
) -> Result<(), LowerError> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return err(
            format!(
                "function [{}] takes {want} argument(s), found {}",
                name.to_ascii_uppercase(),
                args.len()
            ),
            span,
        );
    }
    Ok(())
}

fn type_err<T>(
    name: &str,
    pos: usize,
    want: &str,
    got: EsqlType,
    span: Span,
) -> Result<T, LowerError> {
    let ord = match pos {
        0 => "first",
        1 => "second",
        2 => "third",
        _ => "an",
    };
    err(
        format!(
            "{ord} argument of [{}] must be [{want}], found value of type [{got}]",
            name.to_ascii_uppercase()
        ),
        span,
    )
}

fn check(
    name: &str,
    args: &[Typed],
    pos: usize,
    want: &str,
    ok: impl Fn(EsqlType) -> bool,
    spans: &[Span],
) -> Result<(), LowerError> {
    let t = args[pos].ty;
    if t.is_any() || ok(t) {
        Ok(())
    } else {
        type_err(name, pos, want, t, spans[pos])
    }
}

fn call(name: &str, args: Vec<Typed>, span: Span) -> Expr {
    Expr::call(
        format!("esql.{name}"),
        args.into_iter().map(|t| t.expr).collect(),
        span,
    )
}

fn string(t: EsqlType) -> bool {
    t.is_string()
}

fn numeric(t: EsqlType) -> bool {
    t.is_numeric()
}

fn integral(t: EsqlType) -> bool {
    t.is_integral()
}

/// Lowers a scalar function call.
pub(crate) fn scalar(
    l: &mut Lowerer<'_>,
    name: &str,
    args: &[ast::Expr],
    span: Span,
) -> Result<Typed, LowerError> {
    let lower = name.to_ascii_lowercase();
    let f = lower.as_str();
    if !SCALARS.contains(&f) {
        return err(format!("Unknown function [{name}]"), span);
    }
    if f == "kql" {
        arity(f, args, 1, 1, span)?;
        let ExprKind::Str(q) = &args[0].kind else {
            return err("KQL() takes a constant string", args[0].span());
        };
        let e = l.kql(q, span)?;
        return Ok(Typed::new(e, EsqlType::Boolean));
    }
    if f == "match" {
        return full_text_match(l, args, span);
    }
    if f == "now" {
        arity(f, args, 0, 0, span)?;
        return Ok(Typed::new(Expr::new(IrKind::Now, span), EsqlType::Date));
    }
    if let Some(star) = args.iter().find(|a| matches!(a.kind, ExprKind::Star)) {
        return err("`*` is only allowed in COUNT(*)", star.span());
    }
    let spans: Vec<Span> = args.iter().map(ast::Expr::span).collect();
    let mut ts = Vec::with_capacity(args.len());
    for a in args {
        let t = l.expr(a)?;
        // Time spans are only constants of a few functions (DATE_TRUNC).
        if t.ty == EsqlType::DatePeriod && f != "date_trunc" {
            return err("a date_period is not allowed here", a.span());
        }
        ts.push(t);
    }
    // String literals where a date or a whole number is expected are converted at plan time
    // (ES|QL's implicit casting of literals).
    let date_pos: &[usize] = match f {
        "date_trunc" | "date_extract" => &[1],
        "date_format" if ts.len() == 2 => &[1],
        "date_format" => &[0],
        "date_diff" => &[1, 2],
        _ => &[],
    };
    for &i in date_pos {
        if let Some(t) = ts.get(i).cloned() {
            ts[i] = l.implicit_cast(t, EsqlType::Date, spans[i])?;
        }
    }
    let int_pos: &[usize] = match f {
        "substring" => &[1, 2],
        "left" | "right" | "repeat" | "mv_slice" => &[1, 2],
        "round" => &[1],
        _ => &[],
    };
    for &i in int_pos {
        if let Some(t) = ts.get_mut(i)
            && t.ty.is_string()
            && let Some(Value::Str(s)) = t.literal()
            && let Ok(n) = s.trim().parse::<i32>()
        {
            *t = Typed::new(Expr::literal(i64::from(n), spans[i]), EsqlType::Integer);
        }
    }
    // ES|QL reads indexed fields from doc values, where a keyword or ip field's values are
    // sorted and deduplicated and a number's, date's or boolean's sorted: the functions that
    // depend on value order see them that way, whatever order the document lists them in.
    if matches!(
        f,
        "mv_first" | "mv_last" | "mv_slice" | "mv_concat" | "mv_zip" | "mv_dedupe"
    ) {
        for (t, a) in ts.iter_mut().zip(args) {
            if let ExprKind::Field(n) = &a.kind
                && l.is_document_field(&n.joined())
            {
                let kind = match t.ty {
                    EsqlType::Keyword | EsqlType::Ip => "set",
                    ty if ty.is_numeric() || ty.is_date() || ty == EsqlType::Boolean => "sorted",
                    _ => continue,
                };
                let e = std::mem::replace(&mut t.expr, Expr::literal(Value::Null, span));
                t.expr = Expr::call(
                    "esql.doc_values",
                    vec![e, Expr::literal(kind, a.span())],
                    a.span(),
                );
            }
        }
    }
    let t0 = ts.first().map_or(EsqlType::Null, |t| t.ty);
    let ret_same_string = |t: EsqlType| {
        if t == EsqlType::Text {
            EsqlType::Text
        } else {
            EsqlType::Keyword
        }
    };
    let out = match f {
        // --- strings -----------------------------------------------------------------------
        "to_lower" | "to_upper" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            (call(f, ts, span), ret_same_string(t0))
        }
        "trim" | "ltrim" | "rtrim" | "reverse" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            (call(f, ts, span), ret_same_string(t0))
        }
        "concat" => {
            arity(f, args, 2, usize::MAX, span)?;
            for i in 0..ts.len() {
                check(f, &ts, i, "string", string, &spans)?;
            }
            (call(f, ts, span), EsqlType::Keyword)
        }
        "replace" => {
            arity(f, args, 3, 3, span)?;
            for i in 0..3 {
                check(f, &ts, i, "string", string, &spans)?;
            }
            (call(f, ts, span), EsqlType::Keyword)
        }
        "length" | "bit_length" | "byte_length" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            (call(f, ts, span), EsqlType::Integer)
        }
        "locate" => {
            arity(f, args, 2, 3, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            check(f, &ts, 1, "string", string, &spans)?;
            if ts.len() == 3 {
                check(f, &ts, 2, "integer", integral, &spans)?;
            }
            (call(f, ts, span), EsqlType::Integer)
        }
        "substring" => {
            arity(f, args, 2, 3, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            for i in 1..ts.len() {
                check(f, &ts, i, "integer", integral, &spans)?;
            }
            (call(f, ts, span), EsqlType::Keyword)
        }
        "left" | "right" | "repeat" => {
            arity(f, args, 2, 2, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            check(f, &ts, 1, "integer", integral, &spans)?;
            (call(f, ts, span), EsqlType::Keyword)
        }
        "space" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "integer", integral, &spans)?;
            (call(f, ts, span), EsqlType::Keyword)
        }
        "starts_with" | "ends_with" | "contains" => {
            arity(f, args, 2, 2, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            check(f, &ts, 1, "string", string, &spans)?;
            (call(f, ts, span), EsqlType::Boolean)
        }
        "split" => {
            arity(f, args, 2, 2, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            check(f, &ts, 1, "string", string, &spans)?;
            (call(f, ts, span), EsqlType::Keyword)
        }
        "url_decode"
        | "url_encode"
        | "url_encode_component"
        | "from_base64"
        | "to_base64"
        | "atob"
        | "btoa" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            let f = match f {
                "atob" => "from_base64",
                "btoa" => "to_base64",
                f => f,
            };
            (call(f, ts, span), EsqlType::Keyword)
        }
        "json_extract" => {
            arity(f, args, 2, 2, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            check(f, &ts, 1, "string", string, &spans)?;
            (call(f, ts, span), EsqlType::Keyword)
        }
        // --- conversions ---------------------------------------------------------------------
        "to_string" | "to_str" => {
            arity(f, args, 1, 1, span)?;
            (call("to_string", ts, span), EsqlType::Keyword)
        }
        "to_double" | "to_dbl" => {
            arity(f, args, 1, 1, span)?;
            conv_check(f, &ts, &spans)?;
            (call("to_double", ts, span), EsqlType::Double)
        }
        "to_long" => {
            arity(f, args, 1, 2, span)?;
            conv_check(f, &ts, &spans)?;
            (call("to_long", ts, span), EsqlType::Long)
        }
        "to_integer" | "to_int" => {
            arity(f, args, 1, 2, span)?;
            conv_check(f, &ts, &spans)?;
            (call("to_integer", ts, span), EsqlType::Integer)
        }
        "to_unsigned_long" | "to_ul" | "to_ulong" => {
            arity(f, args, 1, 1, span)?;
            conv_check(f, &ts, &spans)?;
            (call("to_unsigned_long", ts, span), EsqlType::UnsignedLong)
        }
        "to_boolean" | "to_bool" => {
            arity(f, args, 1, 1, span)?;
            conv_check(f, &ts, &spans)?;
            (call("to_boolean", ts, span), EsqlType::Boolean)
        }
        "to_datetime" | "to_dt" => {
            arity(f, args, 1, 1, span)?;
            conv_check(f, &ts, &spans)?;
            (call("to_datetime", ts, span), EsqlType::Date)
        }
        "to_date_nanos" => {
            arity(f, args, 1, 1, span)?;
            conv_check(f, &ts, &spans)?;
            (call("to_date_nanos", ts, span), EsqlType::DateNanos)
        }
        "to_ip" => {
            arity(f, args, 1, 1, span)?;
            check(
                f,
                &ts,
                0,
                "ip or string",
                |t| t == EsqlType::Ip || t.is_string(),
                &spans,
            )?;
            (call(f, ts, span), EsqlType::Ip)
        }
        "to_timeduration" | "to_dateperiod" => {
            arity(f, args, 1, 1, span)?;
            return const_span(f, &ts[0], span);
        }
        // --- math ----------------------------------------------------------------------------
        "abs" | "ceil" | "floor" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "numeric", numeric, &spans)?;
            let ty = if t0 == EsqlType::Null {
                EsqlType::Null
            } else {
                t0
            };
            (int_check(call(f, ts, span), ty, span), ty)
        }
        "round" => {
            arity(f, args, 1, 2, span)?;
            check(f, &ts, 0, "numeric", numeric, &spans)?;
            if ts.len() == 2 {
                check(f, &ts, 1, "integer", integral, &spans)?;
            }
            (call(f, ts, span), t0)
        }
        "signum" | "sqrt" | "cbrt" | "exp" | "log10" | "sin" | "cos" | "tan" | "asin" | "acos"
        | "atan" | "sinh" | "cosh" | "tanh" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "numeric", numeric, &spans)?;
            (call(f, ts, span), EsqlType::Double)
        }
        "log" => {
            arity(f, args, 1, 2, span)?;
            for i in 0..ts.len() {
                check(f, &ts, i, "numeric", numeric, &spans)?;
            }
            (call(f, ts, span), EsqlType::Double)
        }
        "to_degrees" | "to_radians" | "acosh" | "asinh" | "atanh" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "numeric", numeric, &spans)?;
            (call(f, ts, span), EsqlType::Double)
        }
        "pow" | "atan2" | "hypot" => {
            arity(f, args, 2, 2, span)?;
            check(f, &ts, 0, "numeric", numeric, &spans)?;
            check(f, &ts, 1, "numeric", numeric, &spans)?;
            (call(f, ts, span), EsqlType::Double)
        }
        "pi" | "e" | "tau" => {
            arity(f, args, 0, 0, span)?;
            let v = match f {
                "pi" => std::f64::consts::PI,
                "e" => std::f64::consts::E,
                _ => std::f64::consts::TAU,
            };
            (Expr::literal(v, span), EsqlType::Double)
        }
        "greatest" | "least" => {
            arity(f, args, 1, usize::MAX, span)?;
            let ty = common_type(f, &ts, &spans)?;
            (call(f, ts, span), ty)
        }
        // --- conditionals ---------------------------------------------------------------------
        "coalesce" => {
            arity(f, args, 1, usize::MAX, span)?;
            let ty = common_type(f, &ts, &spans)?;
            (call(f, ts, span), ty)
        }
        "case" => return case(ts, &spans, span),
        // --- multi-values -----------------------------------------------------------------------
        "mv_count" => {
            arity(f, args, 1, 1, span)?;
            (call(f, ts, span), EsqlType::Integer)
        }
        "mv_first" | "mv_last" | "mv_min" | "mv_max" | "mv_dedupe" => {
            arity(f, args, 1, 1, span)?;
            (call(f, ts, span), t0)
        }
        "mv_sort" => {
            arity(f, args, 1, 2, span)?;
            (call(f, ts, span), t0)
        }
        "mv_slice" => {
            arity(f, args, 2, 3, span)?;
            for i in 1..ts.len() {
                check(f, &ts, i, "integer", integral, &spans)?;
            }
            (call(f, ts, span), t0)
        }
        "mv_sum" | "mv_median" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "numeric", numeric, &spans)?;
            (int_check(call(f, ts, span), t0, span), t0)
        }
        "mv_avg" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "numeric", numeric, &spans)?;
            (call(f, ts, span), EsqlType::Double)
        }
        "mv_concat" => {
            arity(f, args, 2, 2, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            check(f, &ts, 1, "string", string, &spans)?;
            (call(f, ts, span), EsqlType::Keyword)
        }
        "mv_contains" => {
            arity(f, args, 2, 2, span)?;
            let ty = common_type(f, &ts, &spans)?;
            let _ = ty;
            (call(f, ts, span), EsqlType::Boolean)
        }
        "mv_intersection" | "mv_append" => {
            arity(f, args, 2, 2, span)?;
            let ty = common_type(f, &ts, &spans)?;
            (call(f, ts, span), ty)
        }
        "mv_zip" => {
            arity(f, args, 2, 3, span)?;
            for i in 0..ts.len() {
                check(f, &ts, i, "string", string, &spans)?;
            }
            (call(f, ts, span), EsqlType::Keyword)
        }
        // --- dates -------------------------------------------------------------------------
        "date_trunc" => {
            arity(f, args, 2, 2, span)?;
            let (months, millis) = match (&ts[0].period, ts[0].ty, ts[0].literal()) {
                (Some((m, d)), _, _) => (*m, d * 86_400_000),
                (None, EsqlType::TimeDuration, Some(Value::Duration(d))) => {
                    (0, i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                }
                _ => {
                    return type_err(f, 0, "dateperiod or timeduration", ts[0].ty, spans[0]);
                }
            };
            check(f, &ts, 1, "datetime", EsqlType::is_date, &spans)?;
            let ty = if ts[1].ty == EsqlType::DateNanos {
                EsqlType::DateNanos
            } else {
                EsqlType::Date
            };
            let date = ts.remove(1).expr;
            (
                Expr::call(
                    "esql.date_trunc",
                    vec![
                        date,
                        Expr::literal(months, span),
                        Expr::literal(millis, span),
                    ],
                    span,
                ),
                ty,
            )
        }
        "date_diff" => {
            arity(f, args, 3, 3, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            check(f, &ts, 1, "datetime", EsqlType::is_date, &spans)?;
            check(f, &ts, 2, "datetime", EsqlType::is_date, &spans)?;
            let mut ts = ts;
            ts[1] = l.implicit_cast(ts[1].clone(), EsqlType::Date, spans[1])?;
            ts[2] = l.implicit_cast(ts[2].clone(), EsqlType::Date, spans[2])?;
            (call(f, ts, span), EsqlType::Integer)
        }
        "date_extract" => {
            arity(f, args, 2, 2, span)?;
            check(f, &ts, 0, "string", string, &spans)?;
            check(f, &ts, 1, "datetime", EsqlType::is_date, &spans)?;
            (call(f, ts, span), EsqlType::Long)
        }
        "date_format" => {
            arity(f, args, 1, 2, span)?;
            let last = ts.len() - 1;
            check(f, &ts, last, "datetime", EsqlType::is_date, &spans)?;
            if ts.len() == 2 {
                check(f, &ts, 0, "string", string, &spans)?;
            }
            (call(f, ts, span), EsqlType::Keyword)
        }
        "date_parse" => {
            arity(f, args, 1, 2, span)?;
            for i in 0..ts.len() {
                check(f, &ts, i, "string", string, &spans)?;
            }
            (call(f, ts, span), EsqlType::Date)
        }
        // --- geo points ------------------------------------------------------------------------
        "to_geopoint" => {
            arity(f, args, 1, 1, span)?;
            check(
                f,
                &ts,
                0,
                "geo_point or string",
                |t| t == EsqlType::GeoPoint || t.is_string(),
                &spans,
            )?;
            (call(f, ts, span), EsqlType::GeoPoint)
        }
        "st_x" | "st_y" => {
            arity(f, args, 1, 1, span)?;
            check(f, &ts, 0, "geo_point", |t| t == EsqlType::GeoPoint, &spans)?;
            (call(f, ts, span), EsqlType::Double)
        }
        "st_distance" => {
            arity(f, args, 2, 2, span)?;
            check(f, &ts, 0, "geo_point", |t| t == EsqlType::GeoPoint, &spans)?;
            check(f, &ts, 1, "geo_point", |t| t == EsqlType::GeoPoint, &spans)?;
            (call(f, ts, span), EsqlType::Double)
        }
        // --- ip --------------------------------------------------------------------------------
        "cidr_match" => {
            arity(f, args, 2, usize::MAX, span)?;
            check(f, &ts, 0, "ip", |t| t == EsqlType::Ip, &spans)?;
            for i in 1..ts.len() {
                check(f, &ts, i, "string", string, &spans)?;
            }
            (call(f, ts, span), EsqlType::Boolean)
        }
        "ip_prefix" => {
            arity(f, args, 3, 3, span)?;
            check(f, &ts, 0, "ip", |t| t == EsqlType::Ip, &spans)?;
            (call(f, ts, span), EsqlType::Ip)
        }
        _ => return err(format!("Unknown function [{name}]"), span),
    };
    Ok(Typed::new(out.0, out.1))
}

/// `MATCH(field, query[, {options}])` and `field : query`: Elasticsearch's match query. On a
/// keyword field the whole value is one term; on a text field the analysed tokens are compared.
/// `fuzziness` allows that many edits per term (`AUTO`: 0, 1 or 2 by term length).
fn full_text_match(
    l: &mut Lowerer<'_>,
    args: &[ast::Expr],
    span: Span,
) -> Result<Typed, LowerError> {
    arity("match", args, 2, 3, span)?;
    let field = l.expr(&args[0])?;
    if !(field.ty.is_string() || field.ty.is_any()) {
        return type_err("match", 0, "keyword or text", field.ty, args[0].span());
    }
    let query = l.expr(&args[1])?;
    let Some(Value::Str(_)) = query.literal() else {
        return err("MATCH takes a constant query string", args[1].span());
    };
    let mut fuzziness = 0i64;
    if let Some(opts) = args.get(2) {
        let ExprKind::Map(entries) = &opts.kind else {
            return err(
                "the third argument of MATCH must be options `{…}`",
                opts.span(),
            );
        };
        for (k, v) in entries {
            match (k.as_str(), &v.kind) {
                ("fuzziness", ExprKind::Int(n)) => fuzziness = i64::try_from(*n).unwrap_or(2),
                ("fuzziness", ExprKind::Str(s)) if s.eq_ignore_ascii_case("auto") => fuzziness = -1,
                // Options that tune scoring or term expansion do not change which documents
                // match a single-term query.
                (
                    "max_expansions"
                    | "prefix_length"
                    | "boost"
                    | "fuzzy_transpositions"
                    | "lenient"
                    | "operator"
                    | "auto_generate_synonyms_phrase_query",
                    _,
                ) => {}
                _ => return err(format!("unsupported MATCH option [{k}]"), v.span()),
            }
        }
    }
    let text = field.ty == EsqlType::Text;
    Ok(Typed::new(
        Expr::call(
            "esql.match",
            vec![
                field.expr,
                query.expr,
                Expr::literal(fuzziness, span),
                Expr::literal(text, span),
            ],
            span,
        ),
        EsqlType::Boolean,
    ))
}

fn conv_check(f: &str, ts: &[Typed], spans: &[Span]) -> Result<(), LowerError> {
    check(
        f,
        ts,
        0,
        "boolean, date, numeric or string",
        |t| {
            !matches!(
                t,
                EsqlType::Unsupported
                    | EsqlType::GeoPoint
                    | EsqlType::GeoShape
                    | EsqlType::CartesianPoint
                    | EsqlType::CartesianShape
            )
        },
        spans,
    )
}

fn const_span(f: &str, t: &Typed, span: Span) -> Result<Typed, LowerError> {
    let Some(Value::Str(s)) = t.literal() else {
        if (f == "to_timeduration" && t.ty == EsqlType::TimeDuration)
            || (f == "to_dateperiod" && t.ty == EsqlType::DatePeriod)
        {
            return Ok(t.clone());
        }
        return err(
            format!("{} takes a constant string", f.to_ascii_uppercase()),
            span,
        );
    };
    let mut parts = s.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return err(format!("Cannot parse [{s}] as a time span"), span);
    };
    let Ok(n) = n.parse::<u64>() else {
        return err(format!("Cannot parse [{s}] as a time span"), span);
    };
    let out = crate::lower::span_literal(n, unit, span)?;
    let want = if f == "to_timeduration" {
        EsqlType::TimeDuration
    } else {
        EsqlType::DatePeriod
    };
    if out.ty != want {
        return err(format!("Cannot parse [{s}] as a {want}"), span);
    }
    Ok(out)
}

/// The one type all arguments share (numbers widen; null fits any).
fn common_type(f: &str, ts: &[Typed], spans: &[Span]) -> Result<EsqlType, LowerError> {
    let mut ty = EsqlType::Null;
    for (i, t) in ts.iter().enumerate() {
        ty = unify(ty, t.ty).ok_or_else(|| {
            LowerError::new(
                format!(
                    "{} argument of [{}] must be [{ty}], found value of type [{}]",
                    ordinal(i),
                    f.to_ascii_uppercase(),
                    t.ty
                ),
                spans[i],
            )
        })?;
    }
    Ok(ty)
}

fn ordinal(i: usize) -> &'static str {
    ["first", "second", "third", "fourth", "fifth"]
        .get(i)
        .copied()
        .unwrap_or("an")
}

fn unify(a: EsqlType, b: EsqlType) -> Option<EsqlType> {
    if a == EsqlType::Null {
        return Some(b);
    }
    if b == EsqlType::Null || a == b {
        return Some(a);
    }
    if a == EsqlType::Unknown || b == EsqlType::Unknown {
        return Some(EsqlType::Unknown);
    }
    if a.is_string() && b.is_string() {
        return Some(EsqlType::Keyword);
    }
    if a.is_numeric() && b.is_numeric() {
        return Some(EsqlType::widen(a, b));
    }
    if a.is_date() && b.is_date() {
        return Some(EsqlType::DateNanos);
    }
    None
}

fn case(ts: Vec<Typed>, spans: &[Span], span: Span) -> Result<Typed, LowerError> {
    if ts.len() < 2 {
        return err("function [CASE] takes at least 2 arguments", span);
    }
    let mut branches = Vec::new();
    let mut ty = EsqlType::Null;
    let mut otherwise = None;
    let mut it = ts.into_iter().enumerate().peekable();
    while let Some((i, cond)) = it.next() {
        match it.next() {
            Some((j, value)) => {
                if !(cond.ty == EsqlType::Boolean || cond.ty.is_any()) {
                    return type_err("case", i, "boolean", cond.ty, spans[i]);
                }
                ty = unify(ty, value.ty).ok_or_else(|| {
                    LowerError::new(
                        format!(
                            "all CASE values must have the same type [{ty}], found [{}]",
                            value.ty
                        ),
                        spans[j],
                    )
                })?;
                branches.push((cond.expr, value.expr));
            }
            None => {
                ty = unify(ty, cond.ty).ok_or_else(|| {
                    LowerError::new(
                        format!(
                            "all CASE values must have the same type [{ty}], found [{}]",
                            cond.ty
                        ),
                        spans[i],
                    )
                })?;
                otherwise = Some(Box::new(cond.expr));
            }
        }
    }
    Ok(Typed::new(
        Expr::new(
            IrKind::Case {
                branches,
                otherwise,
            },
            span,
        ),
        ty,
    ))
}

/// Lowers an aggregate call of `STATS`.
pub(crate) fn aggregate(
    l: &mut Lowerer<'_>,
    name: &str,
    args: &[ast::Expr],
    out_name: String,
    filter: Option<Expr>,
    span: Span,
) -> Result<(AggCall, EsqlType), LowerError> {
    let f = name.to_ascii_lowercase();
    let mk = |func: &str, args: Vec<Expr>, filter: Option<Expr>| AggCall {
        name: out_name.clone(),
        func: func.to_string(),
        args,
        filter,
        span,
    };
    if f == "count" && (args.is_empty() || matches!(args[0].kind, ExprKind::Star)) {
        arity(&f, args, 0, 1, span)?;
        return Ok((mk("count_rows", vec![], filter), EsqlType::Long));
    }
    let mut ts = Vec::new();
    for a in args {
        if let Some(inner) = nested_aggregate(a) {
            return err(
                format!(
                    "aggregate function's parameters must not contain another aggregate [{inner}]"
                ),
                a.span(),
            );
        }
        let t = l.expr(a)?;
        ts.push(l.no_period(t, a.span())?);
    }
    let spans: Vec<Span> = args.iter().map(ast::Expr::span).collect();
    let t0 = ts.first().map_or(EsqlType::Null, |t| t.ty);
    let exprs = |ts: Vec<Typed>| ts.into_iter().map(|t| t.expr).collect::<Vec<_>>();
    Ok(match f.as_str() {
        "count" => {
            arity(&f, args, 1, 1, span)?;
            (mk("count", exprs(ts), filter), EsqlType::Long)
        }
        "count_distinct" => {
            arity(&f, args, 1, 2, span)?;
            let mut e = exprs(ts);
            e.truncate(1);
            (mk("count_distinct", e, filter), EsqlType::Long)
        }
        "values" => {
            arity(&f, args, 1, 1, span)?;
            (mk("esql.values", exprs(ts), filter), t0)
        }
        "min" | "max" => {
            arity(&f, args, 1, 1, span)?;
            if t0 == EsqlType::Text {
                return type_err(&f, 0, "representable except text", t0, spans[0]);
            }
            (mk(&f, exprs(ts), filter), t0)
        }
        "sum" => {
            arity(&f, args, 1, 1, span)?;
            check(&f, &ts, 0, "numeric", numeric, &spans)?;
            let ty = if t0 == EsqlType::Null {
                EsqlType::Null
            } else if t0 == EsqlType::Double {
                EsqlType::Double
            } else if t0 == EsqlType::UnsignedLong {
                EsqlType::UnsignedLong
            } else {
                EsqlType::Long
            };
            let func = if ty == EsqlType::Double {
                "esql.sum_double"
            } else {
                "sum"
            };
            (mk(func, exprs(ts), filter), ty)
        }
        "avg" => {
            arity(&f, args, 1, 1, span)?;
            check(&f, &ts, 0, "numeric", numeric, &spans)?;
            (mk("avg", exprs(ts), filter), EsqlType::Double)
        }
        "median" => {
            arity(&f, args, 1, 1, span)?;
            check(&f, &ts, 0, "numeric", numeric, &spans)?;
            (mk("esql.median", exprs(ts), filter), EsqlType::Double)
        }
        "percentile" => {
            arity(&f, args, 2, 2, span)?;
            check(&f, &ts, 0, "numeric", numeric, &spans)?;
            check(&f, &ts, 1, "numeric", numeric, &spans)?;
            (mk("esql.percentile", exprs(ts), filter), EsqlType::Double)
        }
        "median_absolute_deviation" => {
            arity(&f, args, 1, 1, span)?;
            check(&f, &ts, 0, "numeric", numeric, &spans)?;
            (mk("esql.mad", exprs(ts), filter), EsqlType::Double)
        }
        "std_dev" => {
            arity(&f, args, 1, 1, span)?;
            check(&f, &ts, 0, "numeric", numeric, &spans)?;
            (mk("esql.std_dev", exprs(ts), filter), EsqlType::Double)
        }
        "weighted_avg" => {
            arity(&f, args, 2, 2, span)?;
            check(&f, &ts, 0, "numeric", numeric, &spans)?;
            check(&f, &ts, 1, "numeric", numeric, &spans)?;
            (mk("esql.weighted_avg", exprs(ts), filter), EsqlType::Double)
        }
        "first" | "last" => {
            // FIRST(value, sort): the value of the row with the smallest (largest) sort key.
            arity(&f, args, 2, 2, span)?;
            (mk(&format!("esql.{f}_by"), exprs(ts), filter), t0)
        }
        "top" => {
            arity(&f, args, 3, 3, span)?;
            let (Some(Value::Int(n)), Some(Value::Str(order))) = (ts[1].literal(), ts[2].literal())
            else {
                return err("TOP takes a constant limit and a constant order", span);
            };
            if !matches!(order.to_ascii_lowercase().as_str(), "asc" | "desc") {
                return err(
                    format!("Invalid order value in [TOP]: [{order}], expected [ASC, DESC]"),
                    spans[2],
                );
            }
            if *n <= 0 {
                return err("Limit must be greater than 0 in [TOP]", spans[1]);
            }
            let ty = if t0 == EsqlType::Text {
                EsqlType::Keyword
            } else {
                t0
            };
            (mk("esql.top", exprs(ts), filter), ty)
        }
        _ => return err(format!("Unknown function [{name}]"), span),
    })
}

fn nested_aggregate(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Call { name, args } => {
            if is_aggregate(name) {
                Some(name.clone())
            } else {
                args.iter().find_map(nested_aggregate)
            }
        }
        ExprKind::Binary { left, right, .. } => {
            nested_aggregate(left).or_else(|| nested_aggregate(right))
        }
        ExprKind::Neg(x) | ExprKind::Not(x) => nested_aggregate(x),
        _ => None,
    }
}
