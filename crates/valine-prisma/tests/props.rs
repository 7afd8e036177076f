//! Property tests: printing round-trips, a schema never differs from itself, and no input —
//! random or a mutated real schema — makes the parser panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use valine_prisma::ast::*;
use valine_prisma::{analyze, parse, print};

fn name(prefix: &'static str) -> impl Strategy<Value = String> {
    "[a-z][a-zA-Z0-9_]{0,8}".prop_map(move |s| format!("{prefix}{s}"))
}

fn doc() -> impl Strategy<Value = Vec<Name<'static>>> {
    prop::collection::vec("[a-zA-Z0-9 ,.()]{0,20}", 0..2)
        .prop_map(|v| v.into_iter().map(Name::Owned).collect())
}

/// An owned name: generated trees own their text, as no source text backs them.
fn owned(s: &str) -> Name<'static> {
    Name::Owned(s.to_string())
}

fn attr(name: &str, args: Vec<Argument<'static>>) -> Attribute<'static> {
    Attribute {
        name: owned(name),
        args,
        span: Span::default(),
    }
}

fn arg(name: Option<&str>, value: Expr<'static>) -> Argument<'static> {
    Argument {
        name: name.map(owned),
        value,
        span: Span::default(),
    }
}

/// A scalar field with attributes that suit its type.
fn scalar_field() -> impl Strategy<Value = Field<'static>> {
    let ty = prop_oneof![
        Just("String"),
        Just("Int"),
        Just("Boolean"),
        Just("Float"),
        Just("DateTime"),
        Just("Json"),
        Just("BigInt"),
        Just("Decimal"),
        Just("Bytes"),
    ];
    (
        name("f"),
        ty,
        prop_oneof![
            Just(Arity::Required),
            Just(Arity::Optional),
            Just(Arity::List)
        ],
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(".{0,12}"),
        1u32..500,
        doc(),
    )
        .prop_map(
            |(name, ty, arity, with_default, with_native, map, len, docs)| {
                let mut attributes = Vec::new();
                if with_default && arity != Arity::List {
                    let value = match ty {
                        "String" => Expr::String(format!("d{len}\"\\\t").into()),
                        "Int" | "BigInt" => Expr::Number(format!("-{len}").into()),
                        "Float" | "Decimal" => Expr::Number(format!("{len}.25").into()),
                        "Boolean" => Expr::Path("true".into()),
                        "DateTime" => Expr::Function {
                            name: "now".into(),
                            args: vec![],
                        },
                        "Json" => Expr::String("{}".into()),
                        _ => Expr::Function {
                            name: "dbgenerated".into(),
                            args: vec![arg(None, Expr::String("x".into()))],
                        },
                    };
                    attributes.push(attr("default", vec![arg(None, value)]));
                }
                if with_native && ty == "String" {
                    attributes.push(attr(
                        "db.VarChar",
                        vec![arg(None, Expr::Number(len.to_string().into()))],
                    ));
                }
                if let Some(m) = map {
                    // A space cannot occur in a field name, so mapped names never collide.
                    attributes.push(attr(
                        "map",
                        vec![arg(None, Expr::String(format!("{name} {m}").into()))],
                    ));
                }
                Field {
                    name: name.into(),
                    ty: FieldType::Named(owned(ty)),
                    arity,
                    attributes,
                    docs,
                    span: Span::default(),
                    type_span: Span::default(),
                }
            },
        )
}

fn id_field() -> Field<'static> {
    Field {
        name: "id".into(),
        ty: FieldType::Named("Int".into()),
        arity: Arity::Required,
        attributes: vec![
            attr("id", vec![]),
            attr(
                "default",
                vec![arg(
                    None,
                    Expr::Function {
                        name: "autoincrement".into(),
                        args: vec![],
                    },
                )],
            ),
        ],
        docs: vec![],
        span: Span::default(),
        type_span: Span::default(),
    }
}

fn model() -> impl Strategy<Value = Model<'static>> {
    (
        name("M"),
        prop::collection::vec(scalar_field(), 0..6),
        any::<bool>(),
        proptest::option::of("[a-z_]{1,10}"),
        doc(),
    )
        .prop_map(|(name, extra, with_index, map, docs)| {
            let mut fields = vec![id_field()];
            for f in extra {
                if !fields.iter().any(|x| x.name == f.name) {
                    fields.push(f);
                }
            }
            let mut attributes = Vec::new();
            if with_index && fields.len() > 1 {
                let cols = fields
                    .iter()
                    .skip(1)
                    .map(|f| Expr::Function {
                        name: f.name.clone(),
                        args: vec![arg(Some("sort"), Expr::Path("Desc".into()))],
                    })
                    .collect();
                attributes.push(attr(
                    "index",
                    vec![
                        arg(None, Expr::Array(cols)),
                        arg(Some("map"), Expr::String("ix".into())),
                    ],
                ));
            }
            if let Some(m) = map {
                attributes.push(attr(
                    "map",
                    vec![arg(None, Expr::String(format!("{name} {m}").into()))],
                ));
            }
            Model {
                kind: ModelKind::Model,
                name: name.into(),
                fields,
                attributes,
                docs,
                span: Span::default(),
                name_span: Span::default(),
            }
        })
}

fn enumeration() -> impl Strategy<Value = Enum<'static>> {
    (
        name("E"),
        prop::collection::btree_set("[A-Z][A-Z0-9_]{0,6}", 1..5),
        doc(),
    )
        .prop_map(|(name, values, docs)| Enum {
            name: name.into(),
            values: values
                .into_iter()
                .map(|v| EnumValue {
                    name: v.into(),
                    attributes: vec![],
                    docs: vec![],
                    span: Span::default(),
                })
                .collect(),
            attributes: vec![],
            docs,
            span: Span::default(),
            name_span: Span::default(),
        })
}

fn schema() -> impl Strategy<Value = Schema<'static>> {
    (
        prop::collection::vec(model(), 0..5),
        prop::collection::vec(enumeration(), 0..3),
    )
        .prop_map(|(models, enums)| {
            let mut blocks = vec![Block::Datasource(ConfigBlock {
                name: "db".into(),
                properties: vec![
                    Property {
                        name: "provider".into(),
                        value: Expr::String("postgresql".into()),
                        span: Span::default(),
                    },
                    Property {
                        name: "url".into(),
                        value: Expr::Function {
                            name: "env".into(),
                            args: vec![arg(None, Expr::String("DATABASE_URL".into()))],
                        },
                        span: Span::default(),
                    },
                ],
                docs: vec![],
                span: Span::default(),
            })];
            let mut seen = std::collections::HashSet::new();
            for m in models {
                if seen.insert(m.name.clone()) {
                    blocks.push(Block::Model(m));
                }
            }
            for e in enums {
                if seen.insert(e.name.clone()) {
                    blocks.push(Block::Enum(e));
                }
            }
            Schema { blocks }
        })
}

fn fixture_texts() -> Vec<String> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/prisma");
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "prisma"))
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect()
        })
        .unwrap_or_default();
    if out.is_empty() {
        out.push(valine_prisma::generate_schema(5));
    }
    out
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (
            any::<usize>(),
            prop_oneof![
                Just("{".to_string()),
                Just("}".to_string()),
                Just("\n".to_string()),
                Just("\r".to_string()),
                Just("\"".to_string()),
                Just("@@".to_string()),
                Just("@".to_string()),
                Just("(".to_string()),
                Just("[".to_string()),
                Just("//".to_string()),
                Just("model X {".to_string()),
                ".{0,8}",
            ]
        )
            .prop_map(|(a, s)| Edit::Insert(a, s)),
        (any::<usize>(), 1usize..200).prop_map(|(a, n)| Edit::Duplicate(a, n)),
    ]
}

fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(mut s: String, e: &Edit) -> String {
    match e {
        Edit::Delete(a, n) => {
            let start = boundary(&s, *a);
            let end = boundary(&s, (start + n).min(s.len()));
            s.replace_range(start..end.max(start), "");
        }
        Edit::Insert(a, text) => {
            let at = boundary(&s, *a);
            s.insert_str(at, text);
        }
        Edit::Duplicate(a, n) => {
            let start = boundary(&s, *a);
            let end = boundary(&s, (start + n).min(s.len()));
            let piece = s[start..end.max(start)].to_string();
            s.insert_str(end.max(start), &piece);
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_identity(ast in schema()) {
        let text = print(&ast);
        let parsed = parse(&text);
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), text);
        prop_assert_eq!(parsed.unwrap(), ast);
    }

    #[test]
    fn a_schema_never_differs_from_itself(ast in schema()) {
        let text = print(&ast);
        let a = analyze(&text, &text).unwrap();
        prop_assert!(a.operations.is_empty(), "{:#?}", a.operations);
        prop_assert_eq!(a.risk_score, 0);
    }

    #[test]
    fn diff_is_antisymmetric_in_size(a in schema(), b in schema()) {
        // Whatever the pair, analysis succeeds and scoring is the sum of its operations.
        let (ta, tb) = (print(&a), print(&b));
        let ab = analyze(&ta, &tb).unwrap();
        prop_assert_eq!(ab.risk_score, ab.operations.iter().map(|o| o.risk).sum::<u32>());
        prop_assert_eq!(ab.summary.total_operations, ab.operations.len());
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(s in ".{0,400}") {
        let _ = parse(&s);
    }

    #[test]
    fn parse_never_panics_on_prisma_shaped_noise(s in "[a-zA-Z0-9 @(){}\\[\\]\"=,.:?\n\r\t/\\\\-]{0,300}") {
        let _ = parse(&s);
        let _ = analyze(&s, &s);
    }

    #[test]
    fn parse_never_panics_on_mutated_fixtures(idx in any::<usize>(), edits in prop::collection::vec(edit(), 1..6)) {
        let texts = fixture_texts();
        let mut s = texts[idx % texts.len()].clone();
        for e in &edits {
            s = apply(s, e);
        }
        if let Err(e) = parse(&s) {
            prop_assert!(e.line >= 1 && e.column >= 1);
            prop_assert!(e.line <= s.split('\n').count() + 1);
        }
        let _ = analyze(&texts[idx % texts.len()], &s);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "model A {{\n  id Int @id @default({}1{})\n}}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(parse(&deep).is_err());
    let calls = format!(
        "model A {{\n  id Int @id @default({}{})\n}}\n",
        "f(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(parse(&calls).is_err());
}
