//! The syntax tree of a Prisma schema, as written (Prisma names, attributes unevaluated).

pub use crate::lexer::Span;
use std::borrow::Cow;

/// A name that recurs across schemas (`id`, `default`, `String`, `Cascade`, …) borrows a
/// static string; any other name owns its text. A 1,000-model schema repeats a handful of
/// keywords tens of thousands of times, and allocating (then freeing) each copy dominated
/// parse time.
pub type Name = Cow<'static, str>;

/// Makes a [`Name`], borrowing when the text is one of the common schema words.
///
/// How the list was chosen: Prisma's own vocabulary (scalar type names, attribute names and
/// argument names, default functions, referential actions, index types and sort orders, and
/// the PostgreSQL native types), plus the ten most frequent field names in the real schemas
/// under `shared/fixtures/prisma` (1,683 field declarations, 161 distinct names): `id` (167),
/// `createdAt` (155), `updatedAt` (71), `userId` (63), `user` (42), `title` (34), `metadata`
/// (33), `status` (30), `authorId` (24), `author` (21). No name is here because a benchmark
/// or test schema uses it.
pub fn intern(s: &str) -> Name {
    // Dispatch on length and first byte: most names then have one candidate to compare.
    let common: Option<&'static str> = match (s.len(), s.as_bytes().first()) {
        (2, Some(b'i')) if s == "id" => Some("id"),
        (3, Some(b'A')) if s == "Asc" => Some("Asc"),
        (3, Some(b'G')) if s == "Gin" => Some("Gin"),
        (3, Some(b'I')) if s == "Int" => Some("Int"),
        (3, Some(b'e')) if s == "env" => Some("env"),
        (3, Some(b'm')) if s == "map" => Some("map"),
        (3, Some(b'n')) if s == "now" => Some("now"),
        (4, Some(b'D')) if s == "Desc" => Some("Desc"),
        (4, Some(b'G')) if s == "Gist" => Some("Gist"),
        (4, Some(b'H')) if s == "Hash" => Some("Hash"),
        (4, Some(b'J')) if s == "Json" => Some("Json"),
        (4, Some(b'c')) if s == "cuid" => Some("cuid"),
        (4, Some(b'n')) if s == "name" => Some("name"),
        (4, Some(b's')) if s == "sort" => Some("sort"),
        (4, Some(b'u')) => match s {
            "uuid" => Some("uuid"),
            "ulid" => Some("ulid"),
            "user" => Some("user"),
            _ => None,
        },
        (4, Some(b't')) => match s {
            "type" => Some("type"),
            "true" => Some("true"),
            _ => None,
        },
        (5, Some(b'B')) => match s {
            "Bytes" => Some("Bytes"),
            "BTree" => Some("BTree"),
            _ => None,
        },
        (5, Some(b'F')) if s == "Float" => Some("Float"),
        (5, Some(b'f')) if s == "false" => Some("false"),
        (5, Some(b'i')) if s == "index" => Some("index"),
        (5, Some(b't')) if s == "title" => Some("title"),
        (6, Some(b'a')) if s == "author" => Some("author"),
        (6, Some(b'B')) if s == "BigInt" => Some("BigInt"),
        (6, Some(b'S')) if s == "String" => Some("String"),
        (6, Some(b'f')) if s == "fields" => Some("fields"),
        (6, Some(b'i')) if s == "ignore" => Some("ignore"),
        (6, Some(b'l')) if s == "length" => Some("length"),
        (6, Some(b'n')) if s == "nanoid" => Some("nanoid"),
        (6, Some(b's')) => match s {
            "schema" => Some("schema"),
            "status" => Some("status"),
            _ => None,
        },
        (6, Some(b'u')) => match s {
            "unique" => Some("unique"),
            "userId" => Some("userId"),
            _ => None,
        },
        (7, Some(b'B')) if s == "Boolean" => Some("Boolean"),
        (7, Some(b'C')) if s == "Cascade" => Some("Cascade"),
        (7, Some(b'D')) if s == "Decimal" => Some("Decimal"),
        (7, Some(b'S')) if s == "SetNull" => Some("SetNull"),
        (7, Some(b'd')) => match s {
            "default" => Some("default"),
            "db.Text" => Some("db.Text"),
            "db.Char" => Some("db.Char"),
            "db.Uuid" => Some("db.Uuid"),
            "db.Json" => Some("db.Json"),
            "db.Date" => Some("db.Date"),
            "db.Real" => Some("db.Real"),
            _ => None,
        },
        (8, Some(b'D')) if s == "DateTime" => Some("DateTime"),
        (8, Some(b'a')) if s == "authorId" => Some("authorId"),
        (8, Some(b'm')) if s == "metadata" => Some("metadata"),
        (8, Some(b'N')) if s == "NoAction" => Some("NoAction"),
        (8, Some(b'R')) if s == "Restrict" => Some("Restrict"),
        (8, Some(b'd')) if s == "db.JsonB" => Some("db.JsonB"),
        (8, Some(b'o')) => match s {
            "onDelete" => Some("onDelete"),
            "onUpdate" => Some("onUpdate"),
            _ => None,
        },
        (8, Some(b'r')) if s == "relation" => Some("relation"),
        (8, Some(b's')) if s == "sequence" => Some("sequence"),
        (9, Some(b'c')) if s == "createdAt" => Some("createdAt"),
        (9, Some(b'd')) if s == "db.BigInt" => Some("db.BigInt"),
        (9, Some(b'u')) if s == "updatedAt" => Some("updatedAt"),
        (10, Some(b'S')) if s == "SetDefault" => Some("SetDefault"),
        (10, Some(b'd')) => match s {
            "db.VarChar" => Some("db.VarChar"),
            "db.Decimal" => Some("db.Decimal"),
            "db.Integer" => Some("db.Integer"),
            "db.Boolean" => Some("db.Boolean"),
            _ => None,
        },
        (10, Some(b'r')) if s == "references" => Some("references"),
        (11, Some(b'd')) => match s {
            "db.SmallInt" => Some("db.SmallInt"),
            "dbgenerated" => Some("dbgenerated"),
            _ => None,
        },
        (12, Some(b'd')) if s == "db.Timestamp" => Some("db.Timestamp"),
        (13, Some(b'a')) if s == "autoincrement" => Some("autoincrement"),
        (14, Some(b'd')) if s == "db.Timestamptz" => Some("db.Timestamptz"),
        (18, Some(b'd')) if s == "db.DoublePrecision" => Some("db.DoublePrecision"),
        _ => None,
    };
    match common {
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
