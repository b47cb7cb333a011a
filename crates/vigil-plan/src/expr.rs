use ipnet::IpNet;
use vigil_event::{DataType, Value};

use crate::span::{NodeId, Span};

/// An expression node. Equality compares structure only: spans and ids are ignored, so a plan
/// lowered from differently formatted text compares equal.
#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    pub id: NodeId,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.kind == other.kind
    }
}

/// A reference to a document field or a computed column, with the type the schema declares.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldRef {
    pub name: String,
    /// The mapping type values are coerced to before comparison; `Unknown` keeps each value's own
    /// JSON type (Elasticsearch's dynamic mapping).
    pub ty: DataType,
}

/// How string comparisons treat case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Case {
    #[default]
    Sensitive,
    /// Unicode simple case folding, as Lucene's case-insensitive term and Kusto's `=~` do.
    Insensitive,
}

/// What a predicate means when its operand is multi-valued or absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Quantifier {
    /// Elasticsearch query DSL (kuery, EQL filters): true if any value satisfies it; an absent
    /// field gives false, never null.
    #[default]
    Any,
    /// ES|QL: a multi-valued operand gives null (and a warning); an absent one gives null.
    NullOnMulti,
    /// Kusto and computed values: the operand is one value (arrays are `dynamic` values) and
    /// null propagates.
    Scalar,
}

/// Semantics of a comparison or match, stated by the front-end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MatchOpts {
    pub case: Case,
    pub quant: Quantifier,
    /// When the field's type is not known, convert the literal to each value's type before
    /// comparing (Elasticsearch's term query against a dynamically mapped field: `f:1` matches
    /// both `"1"` and `1`).
    pub lenient: bool,
}

impl MatchOpts {
    /// Elasticsearch query DSL semantics: any value, case-sensitive, literal follows the field.
    pub const ES_QUERY: MatchOpts = MatchOpts {
        case: Case::Sensitive,
        quant: Quantifier::Any,
        lenient: true,
    };

    pub fn with_case(self, case: Case) -> MatchOpts {
        MatchOpts { case, ..self }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// A wildcard pattern with its escapes already resolved by the front-end.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WildcardPattern {
    pub tokens: Vec<WildcardToken>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WildcardToken {
    Literal(String),
    /// Any run of characters, newlines included.
    AnyRun,
    /// Exactly one character.
    AnyOne,
}

impl WildcardPattern {
    /// True if the pattern has no wildcard token.
    pub fn is_literal(&self) -> bool {
        self.tokens
            .iter()
            .all(|t| matches!(t, WildcardToken::Literal(_)))
    }

    /// True for a pattern that matches every string (`*`).
    pub fn matches_everything(&self) -> bool {
        !self.tokens.is_empty()
            && self
                .tokens
                .iter()
                .all(|t| matches!(t, WildcardToken::AnyRun))
    }

    /// The literal runs of the pattern.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().filter_map(|t| match t {
            WildcardToken::Literal(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

/// String matching operators.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    Wildcard(WildcardPattern),
    /// A regular expression; `anchored` means it must match the whole value (Lucene, ES|QL
    /// RLIKE), otherwise anywhere (Kusto `matches regex`).
    Regex {
        pattern: String,
        anchored: bool,
    },
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    /// Kusto `has`: the value contains the term as a whole token (Kusto's term rules).
    HasTerm(String),
    HasPrefix(String),
    HasSuffix(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Value),
    Field(FieldRef),

    // Boolean logic, Kleene three-valued: NOT null = null, false AND null = false,
    // true OR null = true.
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// Collapses null to false (two-valued contexts: a filter's `not` over a nullable operand).
    IsTrue(Box<Expr>),

    /// The field holds at least one non-null value (Elasticsearch `exists`; objects count when
    /// any field below them does).
    Exists(FieldRef),
    /// The operand is null or absent.
    IsNull(Box<Expr>),

    Compare {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
        opts: MatchOpts,
    },
    /// Membership in a list of literals or expressions.
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        opts: MatchOpts,
    },
    Match {
        expr: Box<Expr>,
        pattern: Pattern,
        opts: MatchOpts,
    },
    /// Address in any of the networks.
    Cidr {
        expr: Box<Expr>,
        nets: Vec<IpNet>,
        quant: Quantifier,
    },

    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Negate(Box<Expr>),
    /// The execution time: the rule run's `now` (simulated in hunts), ES|QL `NOW()`, Kusto
    /// `now()`, kuery date math.
    Now,
    /// True if some element of `field` (an object or an array of objects) satisfies
    /// `predicate`, whose field names are relative to the element (kuery `path:{ … }`, an
    /// Elasticsearch `nested` query: all conditions hold on the same element).
    AnyElement {
        field: FieldRef,
        predicate: Box<Expr>,
    },
    /// A scalar function, by the executor's canonical name (e.g. `lower`, `esql.date_trunc`).
    Call {
        func: String,
        args: Vec<Expr>,
    },
    Cast {
        expr: Box<Expr>,
        to: DataType,
    },
    /// First branch whose condition is true; `otherwise` (or null) when none is.
    Case {
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr {
            kind,
            span,
            id: NodeId::default(),
        }
    }

    pub fn literal(v: impl Into<Value>, span: Span) -> Expr {
        Expr::new(ExprKind::Literal(v.into()), span)
    }

    pub fn field(name: impl Into<String>, ty: DataType, span: Span) -> Expr {
        Expr::new(
            ExprKind::Field(FieldRef {
                name: name.into(),
                ty,
            }),
            span,
        )
    }

    pub fn not(inner: Expr, span: Span) -> Expr {
        Expr::new(ExprKind::Not(Box::new(inner)), span)
    }

    /// A conjunction; a single operand is returned as is.
    pub fn and(mut items: Vec<Expr>, span: Span) -> Expr {
        if items.len() == 1 {
            return items.remove(0);
        }
        Expr::new(ExprKind::And(items), span)
    }

    /// A disjunction; a single operand is returned as is.
    pub fn or(mut items: Vec<Expr>, span: Span) -> Expr {
        if items.len() == 1 {
            return items.remove(0);
        }
        Expr::new(ExprKind::Or(items), span)
    }

    pub fn compare(op: CmpOp, left: Expr, right: Expr, opts: MatchOpts, span: Span) -> Expr {
        Expr::new(
            ExprKind::Compare {
                op,
                left: Box::new(left),
                right: Box::new(right),
                opts,
            },
            span,
        )
    }

    pub fn call(func: impl Into<String>, args: Vec<Expr>, span: Span) -> Expr {
        Expr::new(
            ExprKind::Call {
                func: func.into(),
                args,
            },
            span,
        )
    }

    /// The field this expression reads directly, if it is a field reference.
    pub fn as_field(&self) -> Option<&FieldRef> {
        match &self.kind {
            ExprKind::Field(f) => Some(f),
            _ => None,
        }
    }

    pub fn as_literal(&self) -> Option<&Value> {
        match &self.kind {
            ExprKind::Literal(v) => Some(v),
            _ => None,
        }
    }
}
