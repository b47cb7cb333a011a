//! Printing a query and parsing it back gives the same tree, and no input makes the parser panic.

use proptest::prelude::*;
use vigil_kuery::ast::{AstSpan, Lit, LitValue, Node, Query, RangeOp, Values, WildPart};

fn span() -> AstSpan {
    AstSpan::default()
}

/// Unquoted text the parser can produce: no surrounding spaces, not a reserved word, no
/// lower-case `not ` (Kibana cannot escape it, `\n` wins).
fn unquoted_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9:()\"\\\\<>{}./_ -]{1,12}".prop_filter("parseable unquoted text", |s| {
        s.trim() == s
            && !["true", "false", "null"].contains(&s.as_str())
            && !s.to_ascii_lowercase().contains("not ")
    })
}

fn field_name() -> impl Strategy<Value = Lit> {
    prop_oneof![
        "[a-z][a-z0-9_.]{0,8}"
            .prop_filter("not a keyword", |s| ![
                "or", "and", "not", "true", "false", "null"
            ]
            .contains(&s.as_str()))
            .prop_map(|s| Lit {
                value: LitValue::Text(s),
                quoted: false,
                span: span()
            }),
        "[a-z .]{1,8}".prop_map(|s| Lit {
            value: LitValue::Text(s),
            quoted: true,
            span: span()
        }),
    ]
}

fn value_lit() -> impl Strategy<Value = Lit> {
    prop_oneof![
        unquoted_text().prop_map(|s| Lit {
            value: LitValue::Text(s),
            quoted: false,
            span: span()
        }),
        "[^\"]{0,10}|[a-z\"\\\\]{1,6}".prop_map(|s| Lit {
            value: LitValue::Text(s),
            quoted: true,
            span: span()
        }),
        prop::collection::vec(
            prop_oneof![Just(None), "[a-z0-9]{1,4}".prop_map(Some)],
            1..4
        )
        .prop_map(|parts| {
            let mut out: Vec<WildPart> = vec![WildPart::Star];
            for p in parts {
                match p {
                    Some(t) => {
                        if let Some(WildPart::Text(prev)) = out.last_mut() {
                            prev.push_str(&t);
                        } else {
                            out.push(WildPart::Text(t));
                        }
                    }
                    None => out.push(WildPart::Star),
                }
            }
            Lit {
                value: LitValue::Wildcard(out),
                quoted: false,
                span: span(),
            }
        }),
        any::<bool>().prop_map(|b| Lit {
            value: LitValue::Bool(b),
            quoted: false,
            span: span()
        }),
    ]
}

fn values() -> impl Strategy<Value = Values> {
    value_lit()
        .prop_map(Values::One)
        .prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4)
                    .prop_map(|v| Values::Or(
                        v.into_iter()
                            .filter(|x| !matches!(x, Values::Or(_)))
                            .collect()
                    ))
                    .prop_filter(
                        "two or more",
                        |v| matches!(v, Values::Or(items) if items.len() >= 2)
                    ),
                prop::collection::vec(inner.clone(), 2..4)
                    .prop_map(|v| Values::And(
                        v.into_iter()
                            .filter(|x| !matches!(x, Values::And(_)))
                            .collect()
                    ))
                    .prop_filter(
                        "two or more",
                        |v| matches!(v, Values::And(items) if items.len() >= 2)
                    ),
                inner.prop_map(|v| Values::Not(Box::new(v))),
            ]
        })
}

fn leaf() -> impl Strategy<Value = Node> {
    prop_oneof![
        (field_name(), values()).prop_map(|(field, values)| Node::Field {
            field,
            values,
            span: span()
        }),
        (
            field_name(),
            prop_oneof![
                Just(RangeOp::Lt),
                Just(RangeOp::Lte),
                Just(RangeOp::Gt),
                Just(RangeOp::Gte)
            ],
            value_lit()
        )
            .prop_filter("ranges take no wildcard", |(_, _, v)| !matches!(
                v.value,
                LitValue::Wildcard(_)
            ))
            .prop_map(|(field, op, value)| Node::Range {
                field,
                op,
                value,
                span: span()
            }),
        value_lit().prop_map(|value| Node::FreeText {
            value,
            span: span()
        }),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| Node::Or {
                    items: v
                        .into_iter()
                        .filter(|x| !matches!(x, Node::Or { .. }))
                        .collect(),
                    span: span()
                })
                .prop_filter(
                    "two or more",
                    |n| matches!(n, Node::Or { items, .. } if items.len() >= 2)
                ),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| Node::And {
                    items: v
                        .into_iter()
                        .filter(|x| !matches!(x, Node::And { .. }))
                        .collect(),
                    span: span()
                })
                .prop_filter(
                    "two or more",
                    |n| matches!(n, Node::And { items, .. } if items.len() >= 2)
                ),
            inner.clone().prop_map(|n| Node::Not {
                inner: Box::new(n),
                span: span()
            }),
            (field_name(), inner).prop_map(|(path, q)| Node::Nested {
                path,
                query: Box::new(q),
                span: span()
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_is_identity(n in node()) {
        let q = Query { root: Some(n) };
        let text = q.to_string();
        let back = vigil_kuery::parse(&text);
        prop_assert!(back.is_ok(), "`{}` does not parse: {:?}", text, back);
        prop_assert_eq!(back.unwrap(), q, "text: {}", text);
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,64}") {
        let _ = vigil_kuery::parse(&s);
    }

    #[test]
    fn query_like_input_never_panics(s in "[a-z:()\"\\\\*<>={} ]{0,40}") {
        if let Ok(q) = vigil_kuery::parse(&s) {
            let _ = vigil_kuery::lower(&q, vigil_schema::Schema::elastic());
        }
    }
}
