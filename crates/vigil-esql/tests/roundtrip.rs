//! Printing a query and parsing it back gives the same tree, and no input makes the parser or
//! the lowering panic.

use proptest::prelude::*;
use vigil_esql::ast::{
    AggField, AstSpan, AstText, BinOp, Command, Expr, ExprKind, Field, Ident, IndexPattern, Name,
    Query, SortKey, SourceCommand,
};

fn e(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: AstSpan::default(),
    }
}

fn ident() -> impl Strategy<Value = Ident> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,6}".prop_map(|value| Ident {
            value,
            quoted: false
        }),
        "[a-z .`*-]{1,6}".prop_map(|value| Ident {
            value,
            quoted: true
        }),
    ]
}

fn name() -> impl Strategy<Value = Name> {
    prop::collection::vec(ident(), 1..3).prop_map(|parts| Name {
        parts,
        span: AstSpan::default(),
    })
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        Just(e(ExprKind::Null)),
        any::<bool>().prop_map(|b| e(ExprKind::Bool(b))),
        any::<u64>().prop_map(|i| e(ExprKind::Int(i))),
        (0.0f64..1e12).prop_map(|x| e(ExprKind::Decimal(x))),
        "[ -~\n\t\"\\\\]{0,8}".prop_map(|s| e(ExprKind::Str(s))),
        (
            1u64..100,
            prop::sample::select(vec!["minutes", "hour", "day", "ms", "months"])
        )
            .prop_map(|(value, unit)| e(ExprKind::Span {
                value,
                unit: unit.into()
            })),
        name().prop_map(|n| e(ExprKind::Field(n))),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        let ops = prop::sample::select(vec![
            BinOp::Or,
            BinOp::And,
            BinOp::Eq,
            BinOp::Neq,
            BinOp::Lt,
            BinOp::Gte,
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::Div,
            BinOp::Mod,
        ]);
        prop_oneof![
            (ops, inner.clone(), inner.clone()).prop_map(|(op, l, r)| e(ExprKind::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r)
            })),
            inner.clone().prop_map(|x| e(ExprKind::Not(Box::new(x)))),
            inner.clone().prop_map(|x| e(ExprKind::Neg(Box::new(x)))),
            (
                prop::sample::select(vec!["TO_LOWER", "concat", "MV_FIRST", "coalesce"]),
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(n, args)| e(ExprKind::Call {
                    name: n.into(),
                    args
                })),
            (
                inner.clone(),
                prop::sample::select(vec!["long", "keyword", "ip"])
            )
                .prop_map(|(x, ty)| e(ExprKind::Cast {
                    expr: Box::new(x),
                    ty: ty.into()
                })),
            (
                inner.clone(),
                prop::collection::vec(inner.clone(), 1..3),
                any::<bool>()
            )
                .prop_map(|(x, list, negated)| e(ExprKind::In {
                    expr: Box::new(x),
                    list,
                    negated
                })),
            (
                inner.clone(),
                prop::collection::vec("[a-z*?]{0,5}", 1..3),
                any::<bool>(),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(|(x, patterns, listed, negated, regex)| e(ExprKind::Like {
                    expr: Box::new(x),
                    listed: listed || patterns.len() > 1,
                    patterns,
                    negated,
                    regex
                })),
            (inner.clone(), any::<bool>()).prop_map(|(x, negated)| e(ExprKind::IsNull {
                expr: Box::new(x),
                negated
            })),
            prop::collection::vec(leaf(), 0..3).prop_map(|items| e(ExprKind::List(items))),
        ]
    })
}

fn field() -> impl Strategy<Value = Field> {
    (prop::option::of(name()), expr()).prop_map(|(name, expr)| Field {
        name,
        expr,
        text: AstText::default(),
    })
}

fn command() -> impl Strategy<Value = Command> {
    let sp = AstSpan::default;
    prop_oneof![
        expr().prop_map(move |cond| Command::Where { cond, span: sp() }),
        prop::collection::vec(field(), 1..3)
            .prop_map(move |fields| Command::Eval { fields, span: sp() }),
        (
            prop::collection::vec((field(), prop::option::of(expr())), 0..3),
            prop::collection::vec(field(), 0..2),
            any::<bool>()
        )
            .prop_filter("STATS needs something", |(a, b, _)| !a.is_empty()
                || !b.is_empty())
            .prop_map(move |(aggs, by, inline)| Command::Stats {
                aggs: aggs
                    .into_iter()
                    .map(|(field, filter)| AggField { field, filter })
                    .collect(),
                by,
                inline,
                span: sp()
            }),
        prop::collection::vec(name(), 1..3).prop_map(move |patterns| Command::Keep {
            patterns,
            span: sp()
        }),
        prop::collection::vec(name(), 1..3).prop_map(move |patterns| Command::Drop {
            patterns,
            span: sp()
        }),
        prop::collection::vec((name(), name()), 1..3)
            .prop_map(move |pairs| Command::Rename { pairs, span: sp() }),
        prop::collection::vec(
            (
                expr(),
                any::<bool>(),
                prop::option::of(any::<bool>()),
                any::<bool>()
            ),
            1..3
        )
        .prop_map(move |keys| Command::Sort {
            keys: keys
                .into_iter()
                .map(|(expr, ascending, nulls_first, explicit)| SortKey {
                    expr,
                    ascending,
                    nulls_first,
                    explicit_order: explicit || !ascending
                })
                .collect(),
            span: sp()
        }),
        any::<u32>().prop_map(move |n| Command::Limit {
            n: u64::from(n),
            span: sp()
        }),
        (leaf(), "[ -~]{0,10}", prop::option::of("[ -~]{0,2}")).prop_map(
            move |(input, pattern, append_separator)| Command::Dissect {
                input,
                pattern,
                append_separator,
                span: sp()
            }
        ),
        (leaf(), prop::collection::vec("[ -~]{0,10}", 1..3)).prop_map(move |(input, patterns)| {
            Command::Grok {
                input,
                patterns,
                span: sp(),
            }
        }),
        name().prop_map(move |name| Command::MvExpand { name, span: sp() }),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    let source = prop_oneof![
        (
            prop::collection::vec(
                prop_oneof![
                    "[a-z][a-z0-9.*-]{0,8}".prop_map(|text| IndexPattern {
                        text,
                        quoted: false
                    }),
                    "[a-z ,|]{1,6}".prop_map(|text| IndexPattern { text, quoted: true }),
                ],
                1..3
            ),
            prop::collection::vec(
                prop::sample::select(vec!["_id", "_index", "_version"]).prop_map(|v| Ident {
                    value: v.into(),
                    quoted: false
                }),
                0..2
            )
        )
            .prop_map(|(indices, metadata)| SourceCommand::From {
                indices,
                metadata,
                span: AstSpan::default()
            }),
        prop::collection::vec(field(), 1..3).prop_map(|fields| SourceCommand::Row {
            fields,
            span: AstSpan::default()
        }),
    ];
    (source, prop::collection::vec(command(), 0..4))
        .prop_map(|(source, commands)| Query { source, commands })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_is_identity(q in query()) {
        let text = q.to_string();
        let back = vigil_esql::parse(&text)
            .map_err(|err| TestCaseError::fail(format!("{text}\n=> {err}")))?;
        prop_assert_eq!(&back, &q, "{}", text);
        // Printing is stable.
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn parser_and_lowering_never_panic(s in "[ -~\n]{0,60}") {
        if let Ok(q) = vigil_esql::parse(&s) {
            let _ = vigil_esql::lower(&q, vigil_schema::Schema::elastic());
        }
    }

    #[test]
    fn unicode_input_never_panics(s in "\\PC{0,40}") {
        if let Ok(q) = vigil_esql::parse(&s) {
            let _ = vigil_esql::lower(&q, vigil_schema::Schema::elastic());
        }
        let with_source = format!("FROM logs-* /* {s} */ | WHERE a == \"{s}\" // {s}");
        let _ = vigil_esql::parse(&with_source);
    }

    #[test]
    fn query_shaped_input_never_panics(
        parts in prop::collection::vec(prop::sample::select(vec![
            "FROM", "ROW", "|", "WHERE", "EVAL", "STATS", "BY", "KEEP", "DROP", "SORT", "LIMIT",
            "a", "b.c", "`x`", "=", "==", "(", ")", ",", "1", "1.5", "\"s\"", "NOT", "IN", "LIKE",
            "IS", "NULL", "AND", "OR", "+", "*", "::", "long", "count(*)", "1 day", "[", "]",
            "INLINE", "DISSECT", "GROK", "\"%{a}\"", "MV_EXPAND", "RENAME", "AS", "//c\n",
        ]), 0..24)
    ) {
        let s = parts.join(" ");
        if let Ok(q) = vigil_esql::parse(&s) {
            let _ = vigil_esql::lower(&q, vigil_schema::Schema::elastic());
        }
    }
}

#[test]
fn deep_nesting_fails_cleanly() {
    let deep = format!("ROW a = {}1{}", "(".repeat(5000), ")".repeat(5000));
    let err = vigil_esql::parse(&deep).unwrap_err();
    assert!(err.message.contains("nested deeper"), "{err}");
    let deep_not = format!("ROW a = {}true", "NOT ".repeat(5000));
    assert!(vigil_esql::parse(&deep_not).is_err());
}
