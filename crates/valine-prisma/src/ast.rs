//! The syntax tree of a Prisma schema, as written (Prisma names, attributes unevaluated).

pub use crate::lexer::Span;
use std::borrow::Cow;

/// Text of the tree: borrowed from the schema source, as nearly all of it is written there
/// verbatim. Only a string literal with escapes, or a dotted path written with spaces
/// (`db . Text`), owns its text. A 1,000-model schema holds tens of thousands of names, and
/// allocating (then freeing) a copy of each dominated parse time.
pub type Name<'a> = Cow<'a, str>;

/// A parsed, validated schema. Blocks keep their source order so printing is stable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema<'a> {
    pub blocks: Vec<Block<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block<'a> {
    Datasource(ConfigBlock<'a>),
    Generator(ConfigBlock<'a>),
    /// `model`, `view` and `type` share one shape; [`ModelKind`] tells them apart.
    Model(Model<'a>),
    Enum(Enum<'a>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Model,
    View,
    /// A composite type (`type Address { … }`), embedded in documents on MongoDB.
    Type,
}

impl ModelKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ModelKind::Model => "model",
            ModelKind::View => "view",
            ModelKind::Type => "type",
        }
    }
}

/// `datasource` / `generator`: `key = expression` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigBlock<'a> {
    pub name: Name<'a>,
    pub properties: Vec<Property<'a>>,
    pub docs: Vec<Name<'a>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property<'a> {
    pub name: Name<'a>,
    pub value: Expr<'a>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model<'a> {
    pub kind: ModelKind,
    pub name: Name<'a>,
    pub fields: Vec<Field<'a>>,
    /// Block attributes (`@@id`, `@@index`, …) in source order.
    pub attributes: Vec<Attribute<'a>>,
    /// `///` comments directly above the block.
    pub docs: Vec<Name<'a>>,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Required,
    Optional,
    List,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType<'a> {
    /// A scalar (`String`), model, enum or composite type name.
    Named(Name<'a>),
    /// `Unsupported("…")`: a database type Prisma has no scalar for.
    Unsupported(Name<'a>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    pub name: Name<'a>,
    pub ty: FieldType<'a>,
    pub arity: Arity,
    pub attributes: Vec<Attribute<'a>>,
    pub docs: Vec<Name<'a>>,
    pub span: Span,
    pub type_span: Span,
}

/// `@name(args)` or `@@name(args)`; `name` is the full path, e.g. `db.VarChar`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute<'a> {
    pub name: Name<'a>,
    pub args: Vec<Argument<'a>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argument<'a> {
    /// `Some` for `name: value`, `None` for a positional argument.
    pub name: Option<Name<'a>>,
    pub value: Expr<'a>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr<'a> {
    /// String literal, unescaped.
    String(Name<'a>),
    /// Numeric literal kept as written, so no float rounding can creep into a diff.
    Number(Name<'a>),
    Array(Vec<Expr<'a>>),
    /// `now()`, `dbgenerated("…")`, `env("…")`, `id(sort: Desc)`.
    Function {
        name: Name<'a>,
        args: Vec<Argument<'a>>,
    },
    /// A bare identifier or dotted path: `Cascade`, `true`, `ADMIN`, `db.x`.
    Path(Name<'a>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enum<'a> {
    pub name: Name<'a>,
    pub values: Vec<EnumValue<'a>>,
    pub attributes: Vec<Attribute<'a>>,
    pub docs: Vec<Name<'a>>,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue<'a> {
    pub name: Name<'a>,
    pub attributes: Vec<Attribute<'a>>,
    pub docs: Vec<Name<'a>>,
    pub span: Span,
}

impl<'a> Schema<'a> {
    pub fn models(&self) -> impl Iterator<Item = &Model<'a>> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Model(m) => Some(m),
            _ => None,
        })
    }

    pub fn enums(&self) -> impl Iterator<Item = &Enum<'a>> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Enum(e) => Some(e),
            _ => None,
        })
    }

    pub fn datasource(&self) -> Option<&ConfigBlock<'a>> {
        self.blocks.iter().find_map(|b| match b {
            Block::Datasource(d) => Some(d),
            _ => None,
        })
    }

    /// The datasource `provider` string (`"postgresql"` when the schema names none, since
    /// that is what this platform runs and what the fixtures use).
    pub fn provider(&self) -> &str {
        self.datasource()
            .and_then(|d| d.properties.iter().find(|p| p.name == "provider"))
            .and_then(|p| match &p.value {
                Expr::String(s) => Some(s.as_ref()),
                _ => None,
            })
            .unwrap_or("postgresql")
    }
}

impl<'a> Field<'a> {
    pub fn attribute(&self, name: &str) -> Option<&Attribute<'a>> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn type_name(&self) -> &str {
        match &self.ty {
            FieldType::Named(n) => n,
            FieldType::Unsupported(_) => "Unsupported",
        }
    }

    /// The type as written: `String?`, `Tag[]`, `Unsupported("x")`.
    pub fn type_display(&self) -> String {
        let base = match &self.ty {
            FieldType::Named(n) => n.to_string(),
            FieldType::Unsupported(s) => format!("Unsupported({})", crate::lexer::escape(s)),
        };
        match self.arity {
            Arity::Required => base,
            Arity::Optional => format!("{base}?"),
            Arity::List => format!("{base}[]"),
        }
    }
}

impl<'a> Model<'a> {
    pub fn attribute(&self, name: &str) -> Option<&Attribute<'a>> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl<'a> Attribute<'a> {
    /// The argument called `name`, or — when `positional` — the first unnamed argument.
    /// One pass over the arguments, inlined: validation and lowering ask it of nearly every
    /// attribute.
    #[inline]
    pub fn arg(&self, name: &str, positional: bool) -> Option<&Expr<'a>> {
        let mut first_positional = None;
        for x in &self.args {
            match &x.name {
                Some(n) if n == name => return Some(&x.value),
                Some(_) => {}
                None if positional && first_positional.is_none() => {
                    first_positional = Some(&x.value)
                }
                None => {}
            }
        }
        first_positional
    }
}

impl Expr<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::String(s) => Some(s),
            _ => None,
        }
    }
}
