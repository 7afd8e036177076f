//! Normalized IR: the database a schema describes, keyed by DATABASE names (`@map`/`@@map`)
//! with types as the datasource's provider spells them, and constraint names as Prisma
//! generates them. The differ compares two of these, so anything that does not reach the
//! database (Prisma names, `@updatedAt`, `uuid()`/`cuid()` defaults, docs) is absent.

use crate::ast::*;
use crate::fasthash::FastMap;
use crate::validate::{is_relation_field, listed_fields, relation_items, relation_name};
use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ir<'a> {
    pub provider: &'a str,
    /// Tables by database name (`schema.table` when `@@schema` is used).
    pub tables: BTreeMap<Cow<'a, str>, Table<'a>>,
    /// Enums by database name.
    pub enums: BTreeMap<Cow<'a, str>, EnumIr<'a>>,
}

// The IR borrows names from the AST it was lowered from: a 1,000-model schema holds tens of
// thousands of names, and copying each one made allocation and freeing the dominant cost.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table<'a> {
    /// The Prisma model name (for implicit many-to-many join tables, the table name).
    pub model: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub columns: Vec<Column<'a>>,
    pub primary_key: Option<PrimaryKey<'a>>,
    pub indexes: Vec<Index<'a>>,
    pub foreign_keys: Vec<ForeignKey<'a>>,
}

/// What kind of value a column holds at the Prisma level. A change here is an
/// `alterType`; a change only in the database type is an `alterNativeType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKey<'a> {
    /// `String`, `Int`, … (or, for join tables, the referenced id's database type).
    Scalar(&'a str),
    /// An enum, by database name.
    Enum(Cow<'a, str>),
    /// A composite type, by name.
    Composite(&'a str),
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column<'a> {
    pub field: &'a str,
    pub name: &'a str,
    pub arity: Arity,
    /// The Prisma type name as written (`String`, `Role`, or the `Unsupported` text).
    pub type_name: &'a str,
    pub type_key: TypeKey<'a>,
    /// Database type, e.g. `text`, `varchar(50)`, `timestamp(3)`, `text[]`.
    pub db_type: Cow<'a, str>,
    pub nullable: bool,
    /// Database-level default (`'artist'`, `CURRENT_TIMESTAMP`, `false`), normalized.
    pub default: Option<Cow<'a, str>>,
}

impl Column<'_> {
    pub fn is_list(&self) -> bool {
        self.arity == Arity::List
    }

    /// The type as written in the schema, e.g. `String?`, for reports.
    pub fn field_type(&self) -> String {
        let base = if self.type_key == TypeKey::Unsupported {
            format!("Unsupported({})", crate::lexer::escape(self.type_name))
        } else {
            self.type_name.to_string()
        };
        match self.arity {
            Arity::Required => base,
            Arity::Optional => format!("{base}?"),
            Arity::List => format!("{base}[]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryKey<'a> {
    pub name: Cow<'a, str>,
    pub columns: Vec<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index<'a> {
    pub name: Cow<'a, str>,
    /// Database column names, with ` DESC` appended for descending entries.
    pub columns: Vec<Cow<'a, str>>,
    /// Prisma field names, for reports.
    pub fields: Vec<&'a str>,
    pub unique: bool,
    /// `Hash`, `Gin`, `fulltext`, … when not the default B-tree.
    pub kind: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey<'a> {
    pub name: Cow<'a, str>,
    /// The relation field that declares it.
    pub field: &'a str,
    pub columns: Vec<&'a str>,
    pub referenced_table: Cow<'a, str>,
    pub referenced_columns: Vec<&'a str>,
    pub on_delete: &'a str,
    pub on_update: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumIr<'a> {
    pub name: &'a str,
    pub db_name: Cow<'a, str>,
    /// (Prisma name, database name) in declaration order.
    pub values: Vec<(&'a str, &'a str)>,
}

/// Prisma's identifier length limit per provider, used when it generates constraint names.
fn name_limit(provider: &str) -> usize {
    match provider {
        "mysql" => 64,
        "sqlserver" => 128,
        _ => 63,
    }
}

/// Prisma's default constraint name: `{table}_{columns}` truncated to leave room for the
/// suffix (`_idx`, `_key`, `_fkey`, `_pkey`).
pub fn constraint_name(provider: &str, table: &str, columns: &[&str], suffix: &str) -> String {
    let len = table.len() + columns.iter().map(|c| c.len() + 1).sum::<usize>();
    let mut base = String::with_capacity(len + suffix.len());
    base.push_str(table);
    for c in columns {
        base.push('_');
        base.push_str(c);
    }
    let room = name_limit(provider).saturating_sub(suffix.len());
    if base.len() > room {
        let mut cut = room;
        while cut > 0 && !base.is_char_boundary(cut) {
            cut -= 1;
        }
        base.truncate(cut);
    }
    base.push_str(suffix);
    base
}

fn map_arg<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| a.arg("name", true))
        .and_then(Expr::as_str)
}

/// An enum value's database name (`@map`, else its Prisma name).
fn enum_value_db<'x>(v: &'x EnumValue<'_>) -> &'x str {
    map_arg(&v.attributes, "map").unwrap_or(v.name.as_ref())
}

fn named_str<'a>(a: &'a Attribute, key: &str) -> Option<&'a str> {
    a.arg(key, false).and_then(Expr::as_str)
}

impl<'a> ModelInfo<'a> {
    fn column(&self, field: &str) -> Option<&'a str> {
        self.columns
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| *c)
    }
}

struct ModelInfo<'a> {
    model: &'a Model<'a>,
    table: Cow<'a, str>,
    /// (Prisma field name, database column name), scalar fields only. A short list: a
    /// linear scan is cheaper than hashing for the few dozen fields of a model.
    columns: Vec<(&'a str, &'a str)>,
    /// Per field: is it a relation field (asked for every field more than once).
    relation: Vec<bool>,
}

/// Lowers a validated AST. Never fails: anything validation let through but the IR cannot
/// place (e.g. a relation to a composite type) is simply not a database object.
pub fn lower<'s>(schema: &'s Schema<'_>) -> Ir<'s> {
    let provider = schema.provider();
    let ds_name = schema.datasource().map_or("db", |d| d.name.as_ref());
    let mut models: FastMap<&str, &Model> =
        FastMap::with_capacity_and_hasher(schema.blocks.len(), Default::default());
    models.extend(schema.models().map(|m| (m.name.as_ref(), m)));

    let mut enums = BTreeMap::new();
    let mut enum_db: FastMap<&str, Cow<'_, str>> = FastMap::default();
    for e in schema.enums() {
        let db_name = map_arg(&e.attributes, "map").unwrap_or(e.name.as_ref());
        let db_name = qualify(map_arg(&e.attributes, "schema"), db_name);
        enum_db.insert(e.name.as_ref(), db_name.clone());
        enums.insert(
            db_name.clone(),
            EnumIr {
                name: e.name.as_ref(),
                db_name,
                values: e
                    .values
                    .iter()
                    .map(|v| (v.name.as_ref(), enum_value_db(v)))
                    .collect(),
            },
        );
    }
    let enum_values: FastMap<&str, &Enum> = schema.enums().map(|e| (e.name.as_ref(), e)).collect();

    // Pass 1: table and column names, so relations can resolve the columns they point at.
    let mut infos: FastMap<&str, ModelInfo> =
        FastMap::with_capacity_and_hasher(models.len(), Default::default());
    for m in schema.models().filter(|m| m.kind == ModelKind::Model) {
        let table = qualify(
            map_arg(&m.attributes, "schema"),
            map_arg(&m.attributes, "map").unwrap_or(m.name.as_ref()),
        );
        let relation: Vec<bool> = m
            .fields
            .iter()
            .map(|f| is_relation_field(f, &models))
            .collect();
        let mut columns = Vec::with_capacity(m.fields.len());
        columns.extend(
            m.fields
                .iter()
                .zip(&relation)
                .filter(|(_, r)| !**r)
                .map(|(f, _)| {
                    let col = map_arg(&f.attributes, "map").unwrap_or(f.name.as_ref());
                    (f.name.as_ref(), col)
                }),
        );
        infos.insert(
            m.name.as_ref(),
            ModelInfo {
                model: m,
                table,
                columns,
                relation,
            },
        );
    }

    let ctx = Ctx {
        provider,
        ds_name,
        infos: &infos,
        models: &models,
        enum_db: &enum_db,
        enum_values: &enum_values,
    };
    let mut tables = BTreeMap::new();
    for m in schema.models().filter(|m| m.kind == ModelKind::Model) {
        let Some(info) = infos.get(m.name.as_ref()) else {
            continue;
        };
        let t = lower_model(&ctx, info);
        tables.insert(t.name.clone(), t);
    }
    for t in implicit_join_tables(provider, schema, &infos, &models, &tables) {
        tables.insert(t.name.clone(), t);
    }
    Ir {
        provider,
        tables,
        enums,
    }
}

fn qualify<'a>(schema: Option<&str>, name: &'a str) -> Cow<'a, str> {
    match schema {
        Some(s) => Cow::Owned(format!("{s}.{name}")),
        None => Cow::Borrowed(name),
    }
}

struct Ctx<'a, 'c> {
    provider: &'a str,
    ds_name: &'a str,
    infos: &'c FastMap<&'a str, ModelInfo<'a>>,
    models: &'c FastMap<&'a str, &'a Model<'a>>,
    enum_db: &'c FastMap<&'a str, Cow<'a, str>>,
    enum_values: &'c FastMap<&'a str, &'a Enum<'a>>,
}

fn lower_model<'a>(ctx: &Ctx<'a, '_>, info: &ModelInfo<'a>) -> Table<'a> {
    let provider = ctx.provider;
    let models = ctx.models;
    let m = info.model;
    let table = info.table.clone();
    let bare_table: &str = table.rsplit('.').next().unwrap_or(&table);
    let col_of = |field: &'a str| -> &'a str { info.column(field).unwrap_or(field) };
    let mut columns = Vec::with_capacity(m.fields.len());
    let mut indexes = Vec::new();
    let mut primary_key = None;
    for (f, _) in m.fields.iter().zip(&info.relation).filter(|(_, r)| !**r) {
        let name = col_of(f.name.as_ref());
        let list = f.arity == Arity::List;
        let (type_name, type_key, base_db): (&str, TypeKey, Cow<str>) = match &f.ty {
            FieldType::Unsupported(s) => {
                (s.as_ref(), TypeKey::Unsupported, Cow::Borrowed(s.as_ref()))
            }
            // Scalars first: they are most fields, and need no lookup.
            FieldType::Named(n) if crate::validate::is_scalar(n) => (
                n.as_ref(),
                TypeKey::Scalar(n.as_ref()),
                db_type(provider, ctx.ds_name, n, f),
            ),
            FieldType::Named(n) => match ctx.enum_db.get(n.as_ref()) {
                Some(db) => (
                    n.as_ref(),
                    TypeKey::Enum(db.clone()),
                    enum_db_type(provider, db, n, ctx.enum_values),
                ),
                None if models.contains_key(n.as_ref()) => {
                    // A composite type field: stored as a document / JSON value.
                    (
                        n.as_ref(),
                        TypeKey::Composite(n.as_ref()),
                        Cow::Borrowed("jsonb"),
                    )
                }
                None => (
                    n.as_ref(),
                    TypeKey::Scalar(n.as_ref()),
                    db_type(provider, ctx.ds_name, n, f),
                ),
            },
        };
        let default = f
            .attribute("default")
            .and_then(|a| a.arg("value", true))
            .and_then(|v| default_sql(v, f, ctx.enum_values));
        columns.push(Column {
            field: f.name.as_ref(),
            name,
            arity: f.arity,
            type_name,
            type_key,
            db_type: if list {
                Cow::Owned(format!("{base_db}[]"))
            } else {
                base_db
            },
            nullable: f.arity == Arity::Optional,
            default,
        });
        if let Some(a) = f.attribute("id") {
            primary_key = Some(PrimaryKey {
                name: named_str(a, "map").map_or_else(
                    || Cow::Owned(constraint_name(provider, bare_table, &[], "_pkey")),
                    Cow::Borrowed,
                ),
                columns: vec![name],
            });
        }
        if let Some(a) = f.attribute("unique") {
            indexes.push(Index {
                name: named_str(a, "map").map_or_else(
                    || Cow::Owned(constraint_name(provider, bare_table, &[name], "_key")),
                    Cow::Borrowed,
                ),
                columns: vec![with_sort(name, a.arg("sort", false))],
                fields: vec![f.name.as_ref()],
                unique: true,
                kind: None,
            });
        }
    }
    for a in &m.attributes {
        let fields = listed_fields(a);
        let cols: Vec<&str> = fields.iter().map(|f| col_of(f)).collect();
        let (unique, suffix, kind) = match a.name.as_ref() {
            "id" => {
                primary_key = Some(PrimaryKey {
                    name: named_str(a, "map").map_or_else(
                        || Cow::Owned(constraint_name(provider, bare_table, &[], "_pkey")),
                        Cow::Borrowed,
                    ),
                    columns: cols,
                });
                continue;
            }
            "unique" => (true, "_key", None),
            "index" => (
                false,
                "_idx",
                a.arg("type", false).and_then(|e| match e {
                    Expr::Path(p) if p != "BTree" => Some(p.as_ref()),
                    _ => None,
                }),
            ),
            "fulltext" => (false, "_idx", Some("fulltext")),
            _ => continue,
        };
        indexes.push(Index {
            name: named_str(a, "map").map_or_else(
                || Cow::Owned(constraint_name(provider, bare_table, &cols, suffix)),
                Cow::Borrowed,
            ),
            columns: sorted_columns(a, &cols),
            fields,
            unique,
            kind,
        });
    }
    let mut foreign_keys = Vec::new();
    for (f, _) in m.fields.iter().zip(&info.relation).filter(|(_, r)| **r) {
        let fields = relation_items(f, "fields");
        if fields.clone().next().is_none() {
            continue;
        }
        let Some(target) = ctx.infos.get(f.type_name()) else {
            continue;
        };
        let references = relation_items(f, "references");
        let cols: Vec<&str> = fields.clone().map(col_of).collect();
        let rel = f.attribute("relation");
        let optional = f.arity == Arity::Optional
            || fields.clone().any(|x| {
                m.fields
                    .iter()
                    .any(|y| y.name == x && y.arity == Arity::Optional)
            });
        let action = |key: &str, default: &'static str| -> &'a str {
            rel.and_then(|a| a.arg(key, false))
                .and_then(|e| match e {
                    Expr::Path(p) => Some(p.as_ref()),
                    _ => None,
                })
                .unwrap_or(default)
        };
        foreign_keys.push(ForeignKey {
            name: rel.and_then(|a| named_str(a, "map")).map_or_else(
                || Cow::Owned(constraint_name(provider, bare_table, &cols, "_fkey")),
                Cow::Borrowed,
            ),
            field: f.name.as_ref(),
            columns: cols,
            referenced_table: target.table.clone(),
            referenced_columns: references.map(|r| target.column(r).unwrap_or(r)).collect(),
            // Prisma's defaults: an optional relation nulls out, a required one restricts.
            on_delete: action("onDelete", if optional { "SetNull" } else { "Restrict" }),
            on_update: action("onUpdate", "Cascade"),
        });
    }
    Table {
        model: Cow::Borrowed(m.name.as_ref()),
        name: table,
        columns,
        primary_key,
        indexes,
        foreign_keys,
    }
}

fn with_sort<'a>(col: &'a str, sort: Option<&Expr>) -> Cow<'a, str> {
    match sort {
        Some(Expr::Path(p)) if p == "Desc" => Cow::Owned(format!("{col} DESC")),
        _ => Cow::Borrowed(col),
    }
}

fn sorted_columns<'a>(a: &Attribute, cols: &[&'a str]) -> Vec<Cow<'a, str>> {
    let entries: &[Expr] = match a.arg("fields", true) {
        Some(Expr::Array(items)) => items,
        _ => &[],
    };
    cols.iter()
        .enumerate()
        .map(|(i, c)| match entries.get(i) {
            Some(Expr::Function { args, .. }) => {
                let sort = args
                    .iter()
                    .find(|x| x.name.as_deref() == Some("sort"))
                    .map(|x| &x.value);
                with_sort(c, sort)
            }
            _ => Cow::Borrowed(*c),
        })
        .collect()
}

fn enum_db_type<'a>(
    provider: &str,
    db: &Cow<'a, str>,
    prisma: &str,
    enum_values: &FastMap<&str, &Enum>,
) -> Cow<'a, str> {
    if provider == "mysql" {
        // MySQL enums are inline column types, so the value list is part of the type.
        let mut vals: Vec<&str> = enum_values
            .get(prisma)
            .map(|e| e.values.iter().map(enum_value_db).collect())
            .unwrap_or_default();
        vals.sort_unstable();
        Cow::Owned(format!("enum({})", vals.join(",")))
    } else {
        db.clone()
    }
}

/// The database type of a scalar field for the provider, honouring `@db.X(args)`.
fn db_type(provider: &str, ds_name: &str, scalar: &str, f: &Field) -> Cow<'static, str> {
    let native = f.attributes.iter().find_map(|a| {
        a.name
            .split_once('.')
            .filter(|(p, _)| *p == ds_name || *p == "db")
            .map(|(_, t)| (t, a))
    });
    if let Some((t, a)) = native {
        let mut args = String::new();
        for (i, x) in a.args.iter().enumerate() {
            if i > 0 {
                args.push(',');
            }
            match &x.value {
                Expr::Number(n) => args.push_str(n),
                Expr::String(s) => args.push_str(s),
                Expr::Path(p) => args.push_str(p),
                other => args.push_str(&crate::printer::expr(other)),
            }
        }
        return Cow::Owned(native_type(provider, t, !a.args.is_empty(), &args));
    }
    let pg = matches!(provider, "postgresql" | "postgres" | "cockroachdb");
    // One comparison of the provider, then of the scalar name.
    let s = if pg {
        match scalar {
            "String" => "text",
            "Boolean" => "boolean",
            "Int" if provider == "cockroachdb" => "int4",
            "Int" => "integer",
            "BigInt" => "bigint",
            "Float" => "double precision",
            "Decimal" => "decimal(65,30)",
            "DateTime" => "timestamp(3)",
            "Json" => "jsonb",
            "Bytes" => "bytea",
            other => return Cow::Owned(other.to_string()),
        }
    } else {
        match (provider, scalar) {
            ("mysql", "String") => "varchar(191)",
            ("mysql", "Boolean") => "tinyint(1)",
            ("mysql", "Int") => "int",
            ("mysql", "BigInt") => "bigint",
            ("mysql", "Float") => "double",
            ("mysql", "Decimal") => "decimal(65,30)",
            ("mysql", "DateTime") => "datetime(3)",
            ("mysql", "Json") => "json",
            ("mysql", "Bytes") => "longblob",
            ("sqlite", "String") => "text",
            ("sqlite", "Boolean") => "boolean",
            ("sqlite", "Int") => "integer",
            ("sqlite", "BigInt") => "bigint",
            ("sqlite", "Float") => "real",
            ("sqlite", "Decimal") => "decimal",
            ("sqlite", "DateTime") => "datetime",
            ("sqlite", "Json") => "jsonb",
            ("sqlite", "Bytes") => "blob",
            ("sqlserver", "String") => "nvarchar(1000)",
            ("sqlserver", "Boolean") => "bit",
            ("sqlserver", "Int") => "int",
            ("sqlserver", "BigInt") => "bigint",
            ("sqlserver", "Float") => "float(53)",
            ("sqlserver", "Decimal") => "decimal(32,16)",
            ("sqlserver", "DateTime") => "datetime2",
            ("sqlserver", "Json") => "nvarchar(max)",
            ("sqlserver", "Bytes") => "varbinary(max)",
            (_, other) => return Cow::Owned(other.to_string()),
        }
    };
    Cow::Borrowed(s)
}

/// `@db.X(args)` as the database spells it; aliases that name the same type collapse
/// (on PostgreSQL `@db.Text` on a `String` is exactly `text`). `args` is the arguments
/// joined with `,`; `has_args` tells an empty list from one empty argument.
fn native_type(provider: &str, name: &str, has_args: bool, args: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let pg = matches!(provider, "postgresql" | "postgres" | "cockroachdb");
    let base = match lower.as_str() {
        "doubleprecision" if pg => "double precision",
        "integer" | "int4" if pg => "integer",
        "int8" if pg => "bigint",
        "int2" if pg => "smallint",
        "bool" if pg => "boolean",
        "string" if provider == "cockroachdb" => "text",
        "timestamp" | "timestamptz" | "time" | "timetz" if pg && !has_args => {
            return format!("{lower}(6)");
        }
        "decimal" if pg && !has_args => return "decimal(65,30)".to_string(),
        _ if !has_args => return lower,
        _ => lower.as_str(),
    };
    if !has_args {
        return base.to_string();
    }
    let mut out = String::with_capacity(base.len() + args.len() + 2);
    out.push_str(base);
    out.push('(');
    out.push_str(args);
    out.push(')');
    out
}

/// The default as the database stores it; `None` for defaults Prisma computes in the client
/// (`uuid()`, `cuid()`, `nanoid()`, `ulid()`), which never reach the database.
fn default_sql<'a>(
    v: &'a Expr,
    f: &Field,
    enum_values: &FastMap<&str, &'a Enum>,
) -> Option<Cow<'a, str>> {
    let quote = |s: &str| {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('\'');
        for (i, part) in s.split('\'').enumerate() {
            if i > 0 {
                q.push_str("''");
            }
            q.push_str(part);
        }
        q.push('\'');
        Cow::Owned(q)
    };
    match v {
        Expr::String(s) => Some(quote(s)),
        Expr::Number(n) => Some(normalize_number(n)),
        Expr::Path(p) => match p.as_ref() {
            "true" | "false" => Some(Cow::Borrowed(p.as_ref())),
            value => {
                // An enum value: the database sees its mapped name.
                let db = enum_values
                    .get(f.type_name())
                    .and_then(|e| e.values.iter().find(|v| v.name == value))
                    .map_or(value, enum_value_db);
                Some(quote(db))
            }
        },
        Expr::Array(items) => {
            let parts: Vec<Cow<str>> = items
                .iter()
                .filter_map(|i| default_sql(i, f, enum_values))
                .collect();
            Some(Cow::Owned(format!("ARRAY[{}]", parts.join(", "))))
        }
        Expr::Function { name, args } => match name.as_ref() {
            "now" => Some(Cow::Borrowed("CURRENT_TIMESTAMP")),
            "uuid" | "cuid" | "nanoid" | "ulid" => None,
            "autoincrement" | "sequence" => Some(Cow::Borrowed("autoincrement()")),
            "dbgenerated" => Some(
                args.first()
                    .and_then(|a| a.value.as_str())
                    .map_or(Cow::Borrowed("dbgenerated()"), Cow::Borrowed),
            ),
            other => Some(Cow::Owned(format!("{other}()"))),
        },
    }
}

/// `1.0` and `1` are the same default to the database.
fn normalize_number(n: &str) -> Cow<'_, str> {
    match n.split_once('.') {
        Some((int, frac)) if frac.chars().all(|c| c == '0') => Cow::Borrowed(int),
        _ => Cow::Borrowed(n),
    }
}

/// Implicit many-to-many relations (both sides lists, no `fields`) get a join table
/// `_{relation}` with columns `A`/`B` pointing at the ids of the alphabetically ordered models.
fn implicit_join_tables<'a>(
    provider: &str,
    schema: &'a Schema,
    infos: &FastMap<&'a str, ModelInfo<'a>>,
    models: &FastMap<&'a str, &'a Model>,
    tables: &BTreeMap<Cow<'a, str>, Table<'a>>,
) -> Vec<Table<'a>> {
    let mut out: BTreeMap<String, Table<'a>> = BTreeMap::new();
    for m in schema.models().filter(|m| m.kind == ModelKind::Model) {
        for f in &m.fields {
            if f.arity != Arity::List || !is_relation_field(f, models) {
                continue;
            }
            let target = f.type_name();
            let Some(tm) = models.get(target) else {
                continue;
            };
            let rel = relation_name(f);
            let back = tm.fields.iter().find(|o| {
                o.type_name() == m.name
                    && relation_name(o) == rel
                    && !(tm.name == m.name && o.name == f.name)
            });
            if !back.is_some_and(|b| b.arity == Arity::List) {
                continue;
            }
            let (a, b) = if m.name.as_ref() <= target {
                (m.name.as_ref(), target)
            } else {
                (target, m.name.as_ref())
            };
            let name = format!(
                "_{}",
                rel.map_or_else(|| format!("{a}To{b}"), str::to_string)
            );
            if out.contains_key(&name) {
                continue;
            }
            let id_of = |model: &str| -> Option<(&'a str, Column<'a>)> {
                let info = infos.get(model)?;
                let t = tables.get(&info.table)?;
                let pk = *t.primary_key.as_ref()?.columns.first()?;
                let c = t.columns.iter().find(|c| c.name == pk)?.clone();
                Some((pk, c))
            };
            let (Some((a_pk, a_ty)), Some((b_pk, b_ty))) = (id_of(a), id_of(b)) else {
                continue;
            };
            let table_of = |model: &str| {
                infos
                    .get(model)
                    .map_or(Cow::Borrowed(""), |i| i.table.clone())
            };
            // Join columns take the referenced id's type, without its default or mapping.
            let col = |n: &'static str, id: Column<'a>| Column {
                field: n,
                name: n,
                arity: Arity::Required,
                nullable: false,
                default: None,
                ..id
            };
            let fk = |c: &'static str, model: &str, pk: &'a str| ForeignKey {
                name: Cow::Owned(constraint_name(provider, &name, &[c], "_fkey")),
                field: c,
                columns: vec![c],
                referenced_table: table_of(model),
                referenced_columns: vec![pk],
                on_delete: "Cascade",
                on_update: "Cascade",
            };
            let table = Table {
                model: Cow::Owned(name.clone()),
                name: Cow::Owned(name.clone()),
                columns: vec![col("A", a_ty), col("B", b_ty)],
                primary_key: Some(PrimaryKey {
                    name: Cow::Owned(constraint_name(provider, &name, &["AB"], "_pkey")),
                    columns: vec!["A", "B"],
                }),
                indexes: vec![Index {
                    name: Cow::Owned(format!("{name}_B_index")),
                    columns: vec![Cow::Borrowed("B")],
                    fields: vec!["B"],
                    unique: false,
                    kind: None,
                }],
                foreign_keys: vec![fk("A", a, a_pk), fk("B", b, b_pk)],
            };
            out.insert(name, table);
        }
    }
    out.into_values().collect()
}
