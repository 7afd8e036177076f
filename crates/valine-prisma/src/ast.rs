//! The syntax tree of a Prisma schema, as written (Prisma names, attributes unevaluated).

use crate::fasthash::FastSet;
pub use crate::lexer::Span;
use std::borrow::Cow;
use std::sync::LazyLock;

/// A name that recurs across schemas (`id`, `default`, `String`, `Cascade`, …) borrows a
/// static string; any other name owns its text. A 1,000-model schema repeats a handful of
/// keywords tens of thousands of times, and allocating (then freeing) each copy dominated
/// parse time.
pub type Name = Cow<'static, str>;

/// Makes a [`Name`], borrowing when the text is one of the common schema words.
pub fn intern(s: &str) -> Name {
    const COMMON: &[&str] = &[
        // attributes and their arguments
        "id",
        "unique",
        "default",
        "relation",
        "map",
        "updatedAt",
        "ignore",
        "index",
        "schema",
        "fields",
        "references",
        "onDelete",
        "onUpdate",
        "name",
        "sort",
        "type",
        "length",
        "db.Text",
        "db.VarChar",
        "db.Char",
        "db.Uuid",
        "db.Timestamptz",
        "db.Timestamp",
        "db.Decimal",
        "db.Integer",
        "db.BigInt",
        "db.SmallInt",
        "db.JsonB",
        "db.Json",
        "db.Date",
        "db.Boolean",
        "db.DoublePrecision",
        "db.Real",
        // scalar types
        "String",
        "Boolean",
        "Int",
        "BigInt",
        "Float",
        "Decimal",
        "DateTime",
        "Json",
        "Bytes",
        // functions and constants
        "now",
        "uuid",
        "cuid",
        "nanoid",
        "ulid",
        "autoincrement",
        "dbgenerated",
        "env",
        "sequence",
        "true",
        "false",
        "Cascade",
        "Restrict",
        "NoAction",
        "SetNull",
        "SetDefault",
        "Desc",
        "Asc",
        "BTree",
        "Hash",
        "Gin",
        "Gist",
        // field names almost every model has
        "createdAt",
        "userId",
        "title",
        "status",
        "email",
        "slug",
        "parentId",
        "parent",
    ];
    // Hashing a short name is cheaper than scanning the list for every token.
    static SET: LazyLock<FastSet<&'static str>> =
        LazyLock::new(|| COMMON.iter().copied().collect());
    match SET.get(s) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(s.to_string()),
    }
}

/// A parsed, validated schema. Blocks keep their source order so printing is stable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schema {
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Datasource(ConfigBlock),
    Generator(ConfigBlock),
    /// `model`, `view` and `type` share one shape; [`ModelKind`] tells them apart.
    Model(Model),
    Enum(Enum),
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
pub struct ConfigBlock {
    pub name: String,
    pub properties: Vec<Property>,
    pub docs: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub kind: ModelKind,
    pub name: String,
    pub fields: Vec<Field>,
    /// Block attributes (`@@id`, `@@index`, …) in source order.
    pub attributes: Vec<Attribute>,
    /// `///` comments directly above the block.
    pub docs: Vec<String>,
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
pub enum FieldType {
    /// A scalar (`String`), model, enum or composite type name.
    Named(Name),
    /// `Unsupported("…")`: a database type Prisma has no scalar for.
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: Name,
    pub ty: FieldType,
    pub arity: Arity,
    pub attributes: Vec<Attribute>,
    pub docs: Vec<String>,
    pub span: Span,
    pub type_span: Span,
}

/// `@name(args)` or `@@name(args)`; `name` is the full path, e.g. `db.VarChar`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: Name,
    pub args: Vec<Argument>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argument {
    /// `Some` for `name: value`, `None` for a positional argument.
    pub name: Option<Name>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// String literal, unescaped.
    String(String),
    /// Numeric literal kept as written, so no float rounding can creep into a diff.
    Number(String),
    Array(Vec<Expr>),
    /// `now()`, `dbgenerated("…")`, `env("…")`, `id(sort: Desc)`.
    Function {
        name: Name,
        args: Vec<Argument>,
    },
    /// A bare identifier or dotted path: `Cascade`, `true`, `ADMIN`, `db.x`.
    Path(Name),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enum {
    pub name: String,
    pub values: Vec<EnumValue>,
    pub attributes: Vec<Attribute>,
    pub docs: Vec<String>,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue {
    pub name: String,
    pub attributes: Vec<Attribute>,
    pub docs: Vec<String>,
    pub span: Span,
}

impl Schema {
    pub fn models(&self) -> impl Iterator<Item = &Model> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Model(m) => Some(m),
            _ => None,
        })
    }

    pub fn enums(&self) -> impl Iterator<Item = &Enum> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Enum(e) => Some(e),
            _ => None,
        })
    }

    pub fn datasource(&self) -> Option<&ConfigBlock> {
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
                Expr::String(s) => Some(s.as_str()),
                _ => None,
            })
            .unwrap_or("postgresql")
    }
}

impl Field {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
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

impl Model {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl Attribute {
    /// The argument called `name`, or — when `positional` — the first unnamed argument.
    pub fn arg(&self, name: &str, positional: bool) -> Option<&Expr> {
        self.args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .or_else(|| {
                if positional {
                    self.args.iter().find(|a| a.name.is_none())
                } else {
                    None
                }
            })
            .map(|a| &a.value)
    }
}

impl Expr {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::String(s) => Some(s),
            _ => None,
        }
    }
}
