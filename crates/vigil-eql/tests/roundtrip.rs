//! Printing a query and parsing it back gives the same tree, and no input makes the parser or
//! the lowering panic.

use proptest::prelude::*;
use vigil_eql::ast::{
    ArithOp, AstSpan, Body, Category, CmpOp, EventQuery, Expr, FieldName, Lit, MatchOp, Part, Pipe,
    Query, SequenceQuery, Step, TimeValue,
};

fn sp() -> AstSpan {
    AstSpan::default()
}

fn lit() -> impl Strategy<Value = Lit> {
    prop_oneof![
        Just(Lit::Null),
        any::<bool>().prop_map(Lit::Bool),
        (0i64..100_000).prop_map(Lit::Int),
        (1u32..1_000_000).prop_map(|n| Lit::Float(f64::from(n) / 64.0)),
        prop::num::f64::POSITIVE
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Lit::Float),
        "[a-zA-Z0-9 *?.\\\\\"\n\t:é]{0,10}".prop_map(|value| Lit::Str { value, raw: false }),
        "[a-z\\\\ *]{0,8}".prop_map(|value| Lit::Str { value, raw: true }),
    ]
}

fn string_lit() -> impl Strategy<Value = Lit> {
    "[a-zA-Z*?\\\\]{0,8}".prop_map(|value| Lit::Str { value, raw: false })
}

fn field() -> impl Strategy<Value = FieldName> {
    let name = "[a-z_@][a-z0-9_]{0,6}".prop_filter("not a keyword", |s| {
        !vigil_eql::ast::KEYWORDS.contains(&s.as_str())
    });
    let part = prop_oneof![
        name.clone().prop_map(|name| Part::Name {
            name,
            quoted: false
        }),
        "[a-z -]{1,6}".prop_map(|name| Part::Name { name, quoted: true }),
    ];
    (part, prop::collection::vec(name, 0..3), any::<bool>()).prop_map(|(first, rest, optional)| {
        let mut parts = vec![first];
        parts.extend(rest.into_iter().map(|name| Part::Name {
            name,
            quoted: false,
        }));
        FieldName { parts, optional }
    })
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        lit().prop_map(|value| Expr::Literal { value, span: sp() }),
        field().prop_map(|name| Expr::Field { name, span: sp() }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        let b = |e: Expr| Box::new(e);
        prop_oneof![
            inner.clone().prop_map(move |e| Expr::Not {
                inner: b(e),
                span: sp()
            }),
            inner.clone().prop_map(move |e| Expr::Neg {
                inner: b(e),
                span: sp()
            }),
            (inner.clone(), inner.clone(), any::<bool>()).prop_map(move |(l, r, and)| {
                if and {
                    Expr::And {
                        left: b(l),
                        right: b(r),
                        span: sp(),
                    }
                } else {
                    Expr::Or {
                        left: b(l),
                        right: b(r),
                        span: sp(),
                    }
                }
            }),
            (inner.clone(), inner.clone(), 0usize..6).prop_map(move |(l, r, k)| Expr::Compare {
                op: [
                    CmpOp::Eq,
                    CmpOp::NotEq,
                    CmpOp::Lt,
                    CmpOp::LtEq,
                    CmpOp::Gt,
                    CmpOp::GtEq
                ][k],
                left: b(l),
                right: b(r),
                span: sp(),
            }),
            (inner.clone(), inner.clone(), 0usize..5).prop_map(move |(l, r, k)| Expr::Arith {
                op: [
                    ArithOp::Add,
                    ArithOp::Sub,
                    ArithOp::Mul,
                    ArithOp::Div,
                    ArithOp::Mod
                ][k],
                left: b(l),
                right: b(r),
                span: sp(),
            }),
            (
                inner.clone(),
                prop::collection::vec(inner.clone(), 1..3),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(move |(e, list, negated, insensitive)| Expr::In {
                    expr: b(e),
                    list,
                    negated,
                    insensitive,
                    span: sp(),
                }),
            (
                inner.clone(),
                prop::collection::vec(string_lit(), 1..3),
                0usize..5,
                any::<bool>()
            )
                .prop_map(move |(e, mut patterns, k, list)| {
                    if !list {
                        patterns.truncate(1);
                    }
                    Expr::Match {
                        expr: b(e),
                        op: [
                            MatchOp::Seq,
                            MatchOp::Like,
                            MatchOp::LikeInsensitive,
                            MatchOp::Regex,
                            MatchOp::RegexInsensitive,
                        ][k],
                        patterns,
                        list,
                        span: sp(),
                    }
                }),
            (
                prop_oneof![
                    Just("startsWith"),
                    Just("between"),
                    Just("CIDRMATCH"),
                    Just("concat"),
                    Just("length")
                ],
                any::<bool>(),
                prop::collection::vec(inner, 0..3)
            )
                .prop_map(|(name, insensitive, args)| Expr::Call {
                    name: name.into(),
                    insensitive,
                    args,
                    span: sp(),
                }),
        ]
    })
}

fn event() -> impl Strategy<Value = EventQuery> {
    (
        prop_oneof![
            Just(Category::Any),
            "[a-z][a-z_]{0,6}"
                .prop_filter("not a keyword", |s| !vigil_eql::ast::KEYWORDS
                    .contains(&s.as_str()))
                .prop_map(|name| Category::Name {
                    name,
                    quoted: false
                }),
            "[a-z .-]{1,6}".prop_map(|name| Category::Name { name, quoted: true }),
        ],
        expr(),
    )
        .prop_map(|(category, condition)| EventQuery {
            category,
            condition,
            span: sp(),
        })
}

fn query() -> impl Strategy<Value = Query> {
    let step = (
        event(),
        prop::collection::vec(
            field().prop_map(|name| Expr::Field { name, span: sp() }),
            0..2,
        ),
        prop::option::of(1u32..5),
    )
        .prop_map(|(query, by, runs)| Step {
            missing: false,
            query,
            by,
            runs,
            span: sp(),
        });
    let pipes = prop::collection::vec(
        (1u64..50, any::<bool>()).prop_map(|(n, tail)| {
            if tail {
                Pipe::Tail { n, span: sp() }
            } else {
                Pipe::Head { n, span: sp() }
            }
        }),
        0..2,
    );
    prop_oneof![
        (event(), pipes.clone()).prop_map(|(e, pipes)| Query {
            body: Body::Event(e),
            pipes
        }),
        (prop::collection::vec(step, 2..4), any::<bool>(), pipes).prop_map(
            |(mut steps, missing, pipes)| {
                // A missing step needs maxspan, which is always given here.
                steps[1].missing = missing;
                steps[1].runs = None;
                Query {
                    body: Body::Sequence(SequenceQuery {
                        by: vec![],
                        maxspan: Some(TimeValue {
                            value: 5,
                            unit: "m".into(),
                            span: sp(),
                        }),
                        steps,
                        until: None,
                        span: sp(),
                    }),
                    pipes,
                }
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_is_identity(q in query()) {
        let text = q.to_string();
        let back = vigil_eql::parse(&text);
        prop_assert!(back.is_ok(), "`{}` does not parse: {:?}", text, back);
        prop_assert_eq!(back.unwrap(), q, "text: {}", text);
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,80}") {
        let _ = vigil_eql::parse(&s);
    }

    #[test]
    fn query_like_input_never_panics(s in "(process|any|sequence|sample) (where|by)? [a-z:()\\[\\]\"\\\\*~!?<>=,. 0-9|-]{0,60}") {
        if let Ok(q) = vigil_eql::parse(&s) {
            let _ = vigil_eql::lower(&q, vigil_schema::Schema::elastic());
        }
    }

    #[test]
    fn generated_queries_lower_without_panicking(q in query()) {
        let _ = vigil_eql::lower(&q, vigil_schema::Schema::elastic());
    }
}
