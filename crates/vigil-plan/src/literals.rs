//! Literals every matching event must contain: the basis of "don't parse what no rule can match".
//!
//! For a predicate P this derives a set S of strings such that any event satisfying P holds at
//! least one member of S in its raw text. The derivation may only over-approximate: `None` (no
//! requirement known) is always a safe answer, and is the answer for negations, existence checks,
//! numbers, regexes and fields whose raw text a normalizer rewrites.

use vigil_event::Value;

use crate::expr::{Case, CmpOp, Expr, ExprKind, FieldRef, Pattern};

/// How a field's string value appears in an input record's raw bytes. The input's normalizer
/// knows: a native Azure record holds `operationName` verbatim as `event.action`, lower-cases
/// `resultType` into `event.outcome`, and has no `data_stream.dataset` at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiteralMode {
    /// The value (or the substring a rule matches) is in the raw text as is.
    Verbatim,
    /// The value is in the raw text, possibly in another case.
    CaseFolded,
    /// The value may not be in the raw text (synthesized, enriched, reformatted).
    Absent,
}

/// A string that must occur in the raw record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequiredLiteral {
    pub text: String,
    pub case_insensitive: bool,
}

/// The literals an event satisfying `pred` must contain, or `None` when no set is known.
/// `Some(vec![])` means no event can satisfy it.
pub fn required_literals(
    pred: &Expr,
    mode: &dyn Fn(&str) -> LiteralMode,
) -> Option<Vec<RequiredLiteral>> {
    match &pred.kind {
        ExprKind::Literal(Value::Bool(false) | Value::Null) => Some(vec![]),
        ExprKind::IsTrue(inner) => required_literals(inner, mode),
        ExprKind::And(items) => items
            .iter()
            .filter_map(|e| required_literals(e, mode))
            .max_by_key(|set| strength(set)),
        ExprKind::Or(items) => {
            let mut all = Vec::new();
            for e in items {
                all.extend(required_literals(e, mode)?);
            }
            all.sort();
            all.dedup();
            Some(all)
        }
        ExprKind::Compare {
            op: CmpOp::Eq,
            left,
            right,
            opts,
        } => {
            let (field, value) = field_and_literal(left, right)?;
            let text = value.as_str()?;
            if opts.lenient && looks_non_string(text) {
                return None;
            }
            literal_for(field, text, opts.case, mode).map(|l| vec![l])
        }
        ExprKind::In { expr, list, opts } => {
            let field = expr.as_field()?;
            let mut out = Vec::new();
            for item in list {
                let text = item.as_literal()?.as_str()?;
                if opts.lenient && looks_non_string(text) {
                    return None;
                }
                out.push(literal_for(field, text, opts.case, mode)?);
            }
            Some(out)
        }
        ExprKind::Match {
            expr,
            pattern,
            opts,
        } => {
            let field = expr.as_field()?;
            let text = match pattern {
                Pattern::Wildcard(w) => w.literals().max_by_key(|s| s.len())?,
                Pattern::Contains(s)
                | Pattern::StartsWith(s)
                | Pattern::EndsWith(s)
                | Pattern::HasTerm(s)
                | Pattern::HasPrefix(s)
                | Pattern::HasSuffix(s) => s.as_str(),
                Pattern::Regex { .. } => return None,
            };
            literal_for(field, text, opts.case, mode).map(|l| vec![l])
        }
        _ => None,
    }
}

fn field_and_literal<'a>(left: &'a Expr, right: &'a Expr) -> Option<(&'a FieldRef, &'a Value)> {
    match (&left.kind, &right.kind) {
        (ExprKind::Field(f), ExprKind::Literal(v)) | (ExprKind::Literal(v), ExprKind::Field(f)) => {
            Some((f, v))
        }
        _ => None,
    }
}

/// A lenient comparison may match a number or boolean whose raw text differs (`1.0` for `"1"`).
fn looks_non_string(text: &str) -> bool {
    text.parse::<f64>().is_ok() || text == "true" || text == "false"
}

fn literal_for(
    field: &FieldRef,
    text: &str,
    case: Case,
    mode: &dyn Fn(&str) -> LiteralMode,
) -> Option<RequiredLiteral> {
    if text.is_empty() {
        return None;
    }
    let case_insensitive = match (mode(&field.name), case) {
        (LiteralMode::Absent, _) => return None,
        (LiteralMode::Verbatim, Case::Sensitive) => false,
        _ => true,
    };
    // The scanner folds ASCII only; a non-ASCII literal compared without case stays unknown.
    if case_insensitive && !text.is_ascii() {
        return None;
    }
    Some(RequiredLiteral {
        text: text.to_string(),
        case_insensitive,
    })
}

/// Prefer the set whose weakest member is longest (fewest false hits), then the smaller set.
fn strength(set: &[RequiredLiteral]) -> (usize, std::cmp::Reverse<usize>) {
    let weakest = set.iter().map(|l| l.text.len()).min().unwrap_or(usize::MAX);
    (weakest, std::cmp::Reverse(set.len()))
}

#[cfg(test)]
mod tests {
    use vigil_event::DataType;

    use super::*;
    use crate::expr::{MatchOpts, WildcardPattern, WildcardToken};
    use crate::span::Span;

    fn f(name: &str) -> Expr {
        Expr::field(name, DataType::Keyword, Span::default())
    }

    fn eq(name: &str, v: &str) -> Expr {
        Expr::compare(
            CmpOp::Eq,
            f(name),
            Expr::literal(v, Span::default()),
            MatchOpts::ES_QUERY,
            Span::default(),
        )
    }

    fn verbatim_except_dataset(name: &str) -> LiteralMode {
        match name {
            "data_stream.dataset" => LiteralMode::Absent,
            "event.outcome" => LiteralMode::CaseFolded,
            _ => LiteralMode::Verbatim,
        }
    }

    fn texts(set: Option<Vec<RequiredLiteral>>) -> Option<Vec<(String, bool)>> {
        set.map(|s| {
            s.into_iter()
                .map(|l| (l.text, l.case_insensitive))
                .collect()
        })
    }

    #[test]
    fn and_picks_the_strongest_known_child() {
        let p = Expr::and(
            vec![
                eq("data_stream.dataset", "azure.activitylogs"),
                eq(
                    "event.action",
                    "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE",
                ),
                Expr::or(
                    vec![
                        eq("event.outcome", "Success"),
                        eq("event.outcome", "success"),
                    ],
                    Span::default(),
                ),
            ],
            Span::default(),
        );
        assert_eq!(
            texts(required_literals(&p, &verbatim_except_dataset)),
            Some(vec![(
                "MICROSOFT.COMPUTE/VIRTUALMACHINES/EXTENSIONS/WRITE".into(),
                false
            )])
        );
    }

    #[test]
    fn or_needs_every_branch_and_not_gives_nothing() {
        let both = Expr::or(vec![eq("a", "x1"), eq("b", "y2")], Span::default());
        assert_eq!(
            required_literals(&both, &verbatim_except_dataset).map(|s| s.len()),
            Some(2)
        );
        let one_unknown = Expr::or(
            vec![eq("a", "x1"), eq("data_stream.dataset", "y")],
            Span::default(),
        );
        assert_eq!(
            required_literals(&one_unknown, &verbatim_except_dataset),
            None
        );
        assert_eq!(
            required_literals(
                &Expr::not(eq("a", "x"), Span::default()),
                &verbatim_except_dataset
            ),
            None
        );
    }

    #[test]
    fn wildcards_contribute_their_longest_run_and_numbers_nothing() {
        let w = Expr::new(
            ExprKind::Match {
                expr: Box::new(f("azure.resource.id")),
                pattern: Pattern::Wildcard(WildcardPattern {
                    tokens: vec![
                        WildcardToken::AnyRun,
                        WildcardToken::Literal("/DSC/".into()),
                        WildcardToken::AnyRun,
                        WildcardToken::Literal("EXTENSIONS".into()),
                    ],
                }),
                opts: MatchOpts::ES_QUERY,
            },
            Span::default(),
        );
        assert_eq!(
            texts(required_literals(&w, &verbatim_except_dataset)),
            Some(vec![("EXTENSIONS".into(), false)])
        );
        assert_eq!(
            required_literals(&eq("n", "3598"), &verbatim_except_dataset),
            None
        );
    }
}
