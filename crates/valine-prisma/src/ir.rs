//! Normalized IR: the database a schema describes, keyed by DATABASE names (`@map`/`@@map`)
//! with types as the datasource's provider spells them, and constraint names as Prisma
//! generates them. The differ compares two of these, so anything that does not reach the
//! database (Prisma names, `@updatedAt`, `uuid()`/`cuid()` defaults, docs) is absent.

use crate::ast::*;
use crate::fasthash::FastMap;
use crate::validate::{
    attr_str, attr_str_of, listed, native_type_name, paths, relation_name, same_name,
};
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

/// The datasource provider, told apart once per schema rather than by comparing the
/// provider string for every column and constraint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Postgres,
    Cockroach,
    Mysql,
    Sqlite,
    SqlServer,
    Other,
}

impl Dialect {
    fn of(provider: &str) -> Dialect {
        match provider {
            "postgresql" | "postgres" => Dialect::Postgres,
            "cockroachdb" => Dialect::Cockroach,
            "mysql" => Dialect::Mysql,
            "sqlite" => Dialect::Sqlite,
            "sqlserver" => Dialect::SqlServer,
            _ => Dialect::Other,
        }
    }

    /// PostgreSQL's types (CockroachDB speaks its dialect).
    fn pg(self) -> bool {
        matches!(self, Dialect::Postgres | Dialect::Cockroach)
    }

    /// Prisma's identifier length limit, used when it generates constraint names.
    fn name_limit(self) -> usize {
        match self {
            Dialect::Mysql => 64,
            Dialect::SqlServer => 128,
            _ => 63,
        }
    }
}

/// The strings concatenated, allocated once at their total length (`format!` costs several
/// times more for these short names).
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// Prisma's default constraint name: `{table}_{columns}` truncated to leave room for the
/// suffix (`_idx`, `_key`, `_fkey`, `_pkey`).
fn constraint_name<'c>(
    dialect: Dialect,
    table: &str,
    columns: impl Iterator<Item = &'c str> + Clone,
    suffix: &str,
) -> String {
    let len = table.len() + columns.clone().map(|c| c.len() + 1).sum::<usize>();
    let mut base = String::with_capacity(len + suffix.len());
    base.push_str(table);
    for c in columns {
        base.push('_');
        base.push_str(c);
    }
    let room = dialect.name_limit().saturating_sub(suffix.len());
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

/// An enum value's database name (`@map`, else its Prisma name).
fn enum_value_db<'x>(v: &'x EnumValue<'_>) -> &'x str {
    attr_str_of(&v.attributes, "map").unwrap_or(v.name.as_ref())
}

fn named_str<'a>(a: &'a Attribute, key: &str) -> Option<&'a str> {
    a.arg(key, false).and_then(Expr::as_str)
}

/// What a top-level name declares. One map answers every question lowering asks of a type
/// name (relation? enum? composite? which table?) with a single lookup.
#[derive(Clone, Copy)]
enum Decl<'c, 'a> {
    /// A `model`, lowered to a table.
    Table(&'c ModelInfo<'a>),
    /// A `view`: a relation target, but not a table here.
    View,
    /// A composite `type`.
    Composite,
    Enum(&'c EnumInfo<'a>),
}

/// How a field's type lowers.
#[derive(Clone, Copy)]
enum Kind<'c, 'a> {
    /// A column of a scalar (or unknown) type, or `Unsupported`.
    Scalar,
    Enum(&'c EnumInfo<'a>),
    Composite,
    /// A relation field, with the table it points at (`None` for a view).
    Relation(Option<&'c ModelInfo<'a>>),
}

struct EnumInfo<'a> {
    e: &'a Enum<'a>,
    db: Cow<'a, str>,
}

struct ModelInfo<'a> {
    /// Position among the models lowered to tables, in schema order.
    index: usize,
    model: &'a Model<'a>,
    table: Cow<'a, str>,
}

struct Ctx<'a, 'c> {
    dialect: Dialect,
    ds_name: &'a str,
    decls: &'c FastMap<&'a str, Decl<'c, 'a>>,
}

impl<'a, 'c> Ctx<'a, 'c> {
    #[inline]
    fn kind(&self, f: &Field) -> Kind<'c, 'a> {
        match &f.ty {
            // Scalars first: they are most fields, and need no lookup.
            FieldType::Named(n) if crate::validate::is_scalar(n) => Kind::Scalar,
            FieldType::Named(n) => match self.decls.get(n.as_ref()) {
                Some(Decl::Table(info)) => Kind::Relation(Some(*info)),
                Some(Decl::View) => Kind::Relation(None),
                Some(Decl::Composite) => Kind::Composite,
                Some(Decl::Enum(e)) => Kind::Enum(e),
                None => Kind::Scalar,
            },
            FieldType::Unsupported(_) => Kind::Scalar,
        }
    }

    /// The column of field `name` of `m`: its `@map`, else its name (also for a name that
    /// is no scalar field).
    fn column_of(&self, m: &'a Model<'a>, name: &'a str) -> &'a str {
        m.fields
            .iter()
            .filter(|f| f.name == name)
            .find(|f| !matches!(self.kind(f), Kind::Relation(_)))
            .and_then(|f| attr_str_of(&f.attributes, "map"))
            .unwrap_or(name)
    }
}

/// Lowers a validated AST. Never fails: anything validation let through but the IR cannot
/// place (e.g. a relation to a composite type) is simply not a database object.
pub fn lower<'s>(schema: &'s Schema<'_>) -> Ir<'s> {
    let provider = schema.provider();
    let ds_name = schema.datasource().map_or("db", |d| d.name.as_ref());
    let mut infos = Vec::with_capacity(schema.blocks.len());
    let mut enums = Vec::new();
    for block in &schema.blocks {
        match block {
            Block::Model(m) if m.kind == ModelKind::Model => {
                let table = qualify(
                    attr_str_of(&m.attributes, "schema"),
                    attr_str_of(&m.attributes, "map").unwrap_or(m.name.as_ref()),
                );
                infos.push(ModelInfo {
                    index: infos.len(),
                    model: m,
                    table,
                });
            }
            Block::Enum(e) => {
                let db = attr_str_of(&e.attributes, "map").unwrap_or(e.name.as_ref());
                let db = qualify(attr_str_of(&e.attributes, "schema"), db);
                enums.push(EnumInfo { e, db });
            }
            _ => {}
        }
    }
    // A second walk, once `infos` and `enums` are complete (the map borrows their entries):
    // it meets the tables' models and the enums in the first walk's order, so the two
    // iterators below stay in step with the blocks.
    let mut decls: FastMap<&str, Decl> =
        FastMap::with_capacity_and_hasher(schema.blocks.len(), Default::default());
    let (mut next_info, mut next_enum) = (infos.iter(), enums.iter());
    for block in &schema.blocks {
        let (name, decl) = match block {
            Block::Model(m) => match m.kind {
                ModelKind::Model => match next_info.next() {
                    Some(info) => (m.name.as_ref(), Decl::Table(info)),
                    None => continue,
                },
                ModelKind::View => (m.name.as_ref(), Decl::View),
                ModelKind::Type => (m.name.as_ref(), Decl::Composite),
            },
            Block::Enum(e) => match next_enum.next() {
                Some(info) => (e.name.as_ref(), Decl::Enum(info)),
                None => continue,
            },
            Block::Datasource(_) | Block::Generator(_) => continue,
        };
        decls.insert(name, decl);
    }

    let dialect = Dialect::of(provider);
    let ctx = Ctx {
        dialect,
        ds_name,
        decls: &decls,
    };
    // Tables are lowered in name order, so the map is built from a sorted list of distinct
    // names in one go instead of by an insert per table, each searching the tree and moving
    // its ~200-byte values around. Sorting (name prefix, position) pairs moves a few bytes
    // per step, and the first 16 bytes of a name decide most comparisons without a call to
    // `memcmp`.
    let mut order: Vec<(u128, usize)> = infos
        .iter()
        .map(|info| (name_prefix(&info.table), info.index))
        .collect();
    let table_name = |i: usize| infos.get(i).map(|info| info.table.as_ref());
    // Stable, so equal names keep schema order (see the dedup below).
    order.sort_by(|x, y| {
        x.0.cmp(&y.0)
            .then_with(|| table_name(x.1).cmp(&table_name(y.1)))
    });
    let mut scratch = Scratch::default();
    let mut tables: Vec<(Cow<str>, Table)> = Vec::with_capacity(infos.len());
    // Per model (by position): where its table went in `tables`, and the range of its list
    // relation fields in `scratch.lists`.
    let mut placed = vec![(0usize, 0usize..0usize); infos.len()];
    for &(_, i) in &order {
        if let (Some(info), Some(slot)) = (infos.get(i), placed.get_mut(i)) {
            let lists = scratch.lists.len();
            let t = lower_model(&ctx, info, &mut scratch);
            *slot = (tables.len(), lists..scratch.lists.len());
            tables.push((t.name.clone(), t));
        }
    }
    let joins = implicit_join_tables(dialect, &scratch.lists, &tables, &placed);
    // Two models of one table name (validation rejects them, lowering must not rely on it):
    // the later one in the schema wins, as an insert after the earlier one would.
    if tables.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0)) {
        let mut distinct: Vec<(Cow<str>, Table)> = Vec::with_capacity(tables.len());
        for (name, t) in tables {
            match distinct.last_mut() {
                Some(last) if last.0 == name => *last = (name, t),
                _ => distinct.push((name, t)),
            }
        }
        tables = distinct;
    }
    let mut tables: BTreeMap<Cow<str>, Table> = tables.into_iter().collect();
    // Join tables go in after the models' tables: one named like a model's table replaces it.
    for t in joins {
        tables.insert(t.name.clone(), t);
    }
    // Enums in schema order; of two with one database name the later wins.
    let mut enum_map: BTreeMap<Cow<str>, EnumIr> = BTreeMap::new();
    for info in &enums {
        enum_map.insert(
            info.db.clone(),
            EnumIr {
                name: info.e.name.as_ref(),
                db_name: info.db.clone(),
                values: info
                    .e
                    .values
                    .iter()
                    .map(|v| (v.name.as_ref(), enum_value_db(v)))
                    .collect(),
            },
        );
    }
    let enums = enum_map;
    Ir {
        provider,
        tables,
        enums,
    }
}

/// The first 16 bytes of `name`, zero-padded, as a big-endian number: names whose prefixes
/// differ compare as their prefixes do (equal prefixes need the full comparison).
fn name_prefix(name: &str) -> u128 {
    let mut buf = [0u8; 16];
    for (d, s) in buf.iter_mut().zip(name.bytes()) {
        *d = s;
    }
    u128::from_be_bytes(buf)
}

fn qualify<'a>(schema: Option<&str>, name: &'a str) -> Cow<'a, str> {
    match schema {
        Some(s) => Cow::Owned(concat(&[s, ".", name])),
        None => Cow::Borrowed(name),
    }
}

/// Lists [`lower_model`] fills per model, kept for the whole schema so they are allocated
/// once.
#[derive(Default)]
struct Scratch<'a, 'c> {
    /// (Prisma field name, database column) of the model's scalar fields.
    columns: Vec<(&'a str, &'a str)>,
    /// The model's relation fields and the table each points at.
    relations: Vec<(&'a Field<'a>, Option<&'c ModelInfo<'a>>)>,
    /// The columns of the index being lowered.
    cols: Vec<&'a str>,
    /// Every list relation field between tables, model by model in the order they are
    /// lowered: the candidates for implicit many-to-many join tables.
    lists: Vec<(&'c ModelInfo<'a>, &'a Field<'a>, &'c ModelInfo<'a>)>,
}

/// The attributes of a scalar field that reach the database, found in one pass over them
/// (the first of each name, as a lookup by name would find).
#[derive(Default)]
struct FieldAttrs<'x, 'a> {
    map: Option<&'x Attribute<'a>>,
    id: Option<&'x Attribute<'a>>,
    unique: Option<&'x Attribute<'a>>,
    default: Option<&'x Attribute<'a>>,
    /// `@db.X`: the type name `X` and the attribute.
    native: Option<(&'x str, &'x Attribute<'a>)>,
}

impl<'x, 'a> FieldAttrs<'x, 'a> {
    fn of(f: &'x Field<'a>, ds_name: &str) -> Self {
        let mut out = FieldAttrs::default();
        for a in &f.attributes {
            let slot = match a.name.as_ref() {
                "map" => &mut out.map,
                "id" => &mut out.id,
                "unique" => &mut out.unique,
                "default" => &mut out.default,
                name => {
                    if out.native.is_none()
                        && let Some(t) = native_type_name(name, ds_name)
                    {
                        out.native = Some((t, a));
                    }
                    continue;
                }
            };
            slot.get_or_insert(a);
        }
        out
    }
}

/// The named arguments of a relation field's `@relation` that shape its foreign key, found in
/// one pass over them (the first of each name, as a lookup by name would find).
#[derive(Default)]
struct RelationArgs<'x, 'a> {
    fields: Option<&'x Expr<'a>>,
    references: Option<&'x Expr<'a>>,
    on_delete: Option<&'x Expr<'a>>,
    on_update: Option<&'x Expr<'a>>,
    map: Option<&'x Expr<'a>>,
}

impl<'x, 'a> RelationArgs<'x, 'a> {
    fn of(f: &'x Field<'a>) -> Self {
        let mut out = RelationArgs::default();
        let Some(rel) = f.attributes.iter().find(|a| a.name == "relation") else {
            return out;
        };
        for x in &rel.args {
            let Some(name) = &x.name else {
                continue;
            };
            let slot = match name.as_ref() {
                "fields" => &mut out.fields,
                "references" => &mut out.references,
                "onDelete" => &mut out.on_delete,
                "onUpdate" => &mut out.on_update,
                "map" => &mut out.map,
                _ => continue,
            };
            slot.get_or_insert(&x.value);
        }
        out
    }
}

fn lower_model<'a, 'c>(
    ctx: &Ctx<'a, 'c>,
    info: &'c ModelInfo<'a>,
    s: &mut Scratch<'a, 'c>,
) -> Table<'a> {
    let dialect = ctx.dialect;
    let m = info.model;
    let table = info.table.clone();
    // After the last `.`, if any (`schema.table`): a byte scan, cheaper than `rsplit`.
    let bare_table: &str = match table.bytes().rposition(|b| b == b'.') {
        Some(dot) => table.get(dot + 1..).unwrap_or(&table),
        None => &table,
    };
    s.columns.clear();
    s.relations.clear();
    let mut columns = Vec::with_capacity(m.fields.len());
    let mut primary_key = None;
    let mut indexes = Vec::new();
    let mut foreign_keys = Vec::new();
    for f in &m.fields {
        let kind = ctx.kind(f);
        if let Kind::Relation(target) = kind {
            s.relations.push((f, target));
            // A join table needs both sides to be tables.
            if f.arity == Arity::List
                && let Some(target) = target
            {
                s.lists.push((info, f, target));
            }
            continue;
        }
        let attrs = FieldAttrs::of(f, ctx.ds_name);
        let name = attr_str(attrs.map).unwrap_or(f.name.as_ref());
        s.columns.push((f.name.as_ref(), name));
        let mut enum_decl = None;
        let (type_name, type_key, base_db): (&str, TypeKey, Cow<str>) = match (&f.ty, kind) {
            (FieldType::Unsupported(s), _) => {
                (s.as_ref(), TypeKey::Unsupported, Cow::Borrowed(s.as_ref()))
            }
            (FieldType::Named(n), Kind::Enum(e)) => {
                enum_decl = Some(e.e);
                (
                    n.as_ref(),
                    TypeKey::Enum(e.db.clone()),
                    enum_db_type(dialect, &e.db, e.e),
                )
            }
            // A composite type field: stored as a document / JSON value.
            (FieldType::Named(n), Kind::Composite) => (
                n.as_ref(),
                TypeKey::Composite(n.as_ref()),
                Cow::Borrowed("jsonb"),
            ),
            (FieldType::Named(n), _) => (
                n.as_ref(),
                TypeKey::Scalar(n.as_ref()),
                db_type(dialect, n, attrs.native),
            ),
        };
        let default = attrs
            .default
            .and_then(|a| a.arg("value", true))
            .and_then(|v| default_sql(v, enum_decl));
        columns.push(Column {
            field: f.name.as_ref(),
            name,
            arity: f.arity,
            type_name,
            type_key,
            db_type: if f.arity == Arity::List {
                let mut t = String::with_capacity(base_db.len() + 2);
                t.push_str(&base_db);
                t.push_str("[]");
                Cow::Owned(t)
            } else {
                base_db
            },
            nullable: f.arity == Arity::Optional,
            default,
        });
        if let Some(a) = attrs.id {
            primary_key = Some(PrimaryKey {
                name: named_str(a, "map").map_or_else(
                    || {
                        Cow::Owned(constraint_name(
                            dialect,
                            bare_table,
                            [].into_iter(),
                            "_pkey",
                        ))
                    },
                    Cow::Borrowed,
                ),
                columns: vec![name],
            });
        }
        if let Some(a) = attrs.unique {
            indexes.push(Index {
                name: named_str(a, "map").map_or_else(
                    || {
                        Cow::Owned(constraint_name(
                            dialect,
                            bare_table,
                            [name].into_iter(),
                            "_key",
                        ))
                    },
                    Cow::Borrowed,
                ),
                columns: vec![with_sort(name, a.arg("sort", false))],
                fields: vec![f.name.as_ref()],
                unique: true,
                kind: None,
            });
        }
    }
    let scalar_columns = &s.columns;
    let col_of = |field: &'a str| -> &'a str {
        scalar_columns
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(field, |(_, c)| *c)
    };
    for a in &m.attributes {
        let (unique, suffix, kind) = match a.name.as_ref() {
            "id" => {
                let cols: Vec<&str> = listed(a).map(col_of).collect();
                primary_key = Some(PrimaryKey {
                    name: named_str(a, "map").map_or_else(
                        || {
                            Cow::Owned(constraint_name(
                                dialect,
                                bare_table,
                                [].into_iter(),
                                "_pkey",
                            ))
                        },
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
        // Field names, columns (with ` DESC`) and bare columns (for the default name) in one
        // pass over the entries (`name` or `name(sort: Desc)`; other entries name no field).
        let entries: &[Expr] = match a.arg("fields", true) {
            Some(Expr::Array(items)) => items,
            _ => &[],
        };
        let mut fields = Vec::with_capacity(entries.len());
        let mut columns = Vec::with_capacity(entries.len());
        s.cols.clear();
        for e in entries {
            let field = match e {
                Expr::Path(p) => p.as_ref(),
                Expr::Function { name, .. } => name.as_ref(),
                _ => continue,
            };
            let col = col_of(field);
            // The entry's own sort order: an entry naming no field (validation lets one
            // through) must not shift the others' onto the wrong column.
            let sort = match e {
                Expr::Function { args, .. } => args
                    .iter()
                    .find(|x| x.name.as_deref() == Some("sort"))
                    .map(|x| &x.value),
                _ => None,
            };
            fields.push(field);
            columns.push(with_sort(col, sort));
            s.cols.push(col);
        }
        let cols = &s.cols;
        indexes.push(Index {
            name: named_str(a, "map").map_or_else(
                || {
                    Cow::Owned(constraint_name(
                        dialect,
                        bare_table,
                        cols.iter().copied(),
                        suffix,
                    ))
                },
                Cow::Borrowed,
            ),
            columns,
            fields,
            unique,
            kind,
        });
    }
    for &(f, target) in &s.relations {
        let rel = RelationArgs::of(f);
        let fields = paths(rel.fields);
        if fields.clone().next().is_none() {
            continue;
        }
        let Some(target) = target else {
            continue;
        };
        let cols: Vec<&str> = fields.clone().map(col_of).collect();
        let optional = f.arity == Arity::Optional
            || fields.clone().any(|x| {
                m.fields
                    .iter()
                    .any(|y| y.name == x && y.arity == Arity::Optional)
            });
        let action = |e: Option<&'a Expr>, default: &'static str| -> &'a str {
            match e {
                Some(Expr::Path(p)) => p.as_ref(),
                _ => default,
            }
        };
        foreign_keys.push(ForeignKey {
            name: rel.map.and_then(Expr::as_str).map_or_else(
                || {
                    Cow::Owned(constraint_name(
                        dialect,
                        bare_table,
                        cols.iter().copied(),
                        "_fkey",
                    ))
                },
                Cow::Borrowed,
            ),
            field: f.name.as_ref(),
            columns: cols,
            referenced_table: target.table.clone(),
            referenced_columns: paths(rel.references)
                .map(|r| ctx.column_of(target.model, r))
                .collect(),
            // Prisma's defaults: an optional relation nulls out, a required one restricts.
            on_delete: action(rel.on_delete, if optional { "SetNull" } else { "Restrict" }),
            on_update: action(rel.on_update, "Cascade"),
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
        Some(Expr::Path(p)) if p == "Desc" => Cow::Owned(concat(&[col, " DESC"])),
        _ => Cow::Borrowed(col),
    }
}

fn enum_db_type<'a>(dialect: Dialect, db: &Cow<'a, str>, e: &Enum) -> Cow<'a, str> {
    if dialect == Dialect::Mysql {
        // MySQL enums are inline column types, so the value list is part of the type.
        let mut vals: Vec<&str> = e.values.iter().map(enum_value_db).collect();
        vals.sort_unstable();
        Cow::Owned(format!("enum({})", vals.join(",")))
    } else {
        db.clone()
    }
}

/// The database type of a scalar field for the provider, honouring `@db.X(args)` (`native`:
/// the type name `X` and the attribute).
fn db_type<'a>(
    dialect: Dialect,
    scalar: &'a str,
    native: Option<(&str, &Attribute)>,
) -> Cow<'a, str> {
    if let Some((t, a)) = native {
        return native_type(dialect, t, &a.args);
    }
    let s = if dialect.pg() {
        match scalar {
            "String" => "text",
            "Boolean" => "boolean",
            "Int" if dialect == Dialect::Cockroach => "int4",
            "Int" => "integer",
            "BigInt" => "bigint",
            "Float" => "double precision",
            "Decimal" => "decimal(65,30)",
            "DateTime" => "timestamp(3)",
            "Json" => "jsonb",
            "Bytes" => "bytea",
            other => return Cow::Borrowed(other),
        }
    } else {
        match (dialect, scalar) {
            (Dialect::Mysql, "String") => "varchar(191)",
            (Dialect::Mysql, "Boolean") => "tinyint(1)",
            (Dialect::Mysql, "Int") => "int",
            (Dialect::Mysql, "BigInt") => "bigint",
            (Dialect::Mysql, "Float") => "double",
            (Dialect::Mysql, "Decimal") => "decimal(65,30)",
            (Dialect::Mysql, "DateTime") => "datetime(3)",
            (Dialect::Mysql, "Json") => "json",
            (Dialect::Mysql, "Bytes") => "longblob",
            (Dialect::Sqlite, "String") => "text",
            (Dialect::Sqlite, "Boolean") => "boolean",
            (Dialect::Sqlite, "Int") => "integer",
            (Dialect::Sqlite, "BigInt") => "bigint",
            (Dialect::Sqlite, "Float") => "real",
            (Dialect::Sqlite, "Decimal") => "decimal",
            (Dialect::Sqlite, "DateTime") => "datetime",
            (Dialect::Sqlite, "Json") => "jsonb",
            (Dialect::Sqlite, "Bytes") => "blob",
            (Dialect::SqlServer, "String") => "nvarchar(1000)",
            (Dialect::SqlServer, "Boolean") => "bit",
            (Dialect::SqlServer, "Int") => "int",
            (Dialect::SqlServer, "BigInt") => "bigint",
            (Dialect::SqlServer, "Float") => "float(53)",
            (Dialect::SqlServer, "Decimal") => "decimal(32,16)",
            (Dialect::SqlServer, "DateTime") => "datetime2",
            (Dialect::SqlServer, "Json") => "nvarchar(max)",
            (Dialect::SqlServer, "Bytes") => "varbinary(max)",
            (_, other) => return Cow::Borrowed(other),
        }
    };
    Cow::Borrowed(s)
}

/// A lowercased native type name as a `'static` string, for the common ones: most native
/// types carry no arguments, and their lowercased name is then the whole type. Only an
/// allocation saver: a name missing here lowers the same, into an owned string.
fn static_native(lower: &str) -> Option<&'static str> {
    Some(match lower {
        "text" => "text",
        "varchar" => "varchar",
        "char" => "char",
        "uuid" => "uuid",
        "date" => "date",
        "json" => "json",
        "jsonb" => "jsonb",
        "xml" => "xml",
        "inet" => "inet",
        "citext" => "citext",
        "money" => "money",
        "oid" => "oid",
        "bit" => "bit",
        "varbit" => "varbit",
        "real" => "real",
        "bytea" => "bytea",
        "smallint" => "smallint",
        "bigint" => "bigint",
        "integer" => "integer",
        "boolean" => "boolean",
        "decimal" => "decimal",
        "numeric" => "numeric",
        "int" => "int",
        "tinyint" => "tinyint",
        "mediumint" => "mediumint",
        "double" => "double",
        "float" => "float",
        "datetime" => "datetime",
        "datetime2" => "datetime2",
        "timestamp" => "timestamp",
        "time" => "time",
        "nvarchar" => "nvarchar",
        "nchar" => "nchar",
        "ntext" => "ntext",
        "blob" => "blob",
        "longblob" => "longblob",
        "longtext" => "longtext",
        "mediumtext" => "mediumtext",
        "tinytext" => "tinytext",
        "binary" => "binary",
        "varbinary" => "varbinary",
        "year" => "year",
        "objectid" => "objectid",
        _ => return None,
    })
}

/// `@db.X(args)` as the database spells it; aliases that name the same type collapse
/// (on PostgreSQL `@db.Text` on a `String` is exactly `text`).
fn native_type(dialect: Dialect, name: &str, args: &[Argument]) -> Cow<'static, str> {
    // Lowercased on the stack: native type names are short, and this runs for every field
    // with a native type. Longer names take the general path.
    let mut buf = [0u8; 32];
    let lower: Cow<str> = match buf.get_mut(..name.len()) {
        Some(dst) => {
            dst.copy_from_slice(name.as_bytes());
            dst.make_ascii_lowercase();
            match std::str::from_utf8(dst) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(name.to_ascii_lowercase()),
            }
        }
        None => Cow::Owned(name.to_ascii_lowercase()),
    };
    let pg = dialect.pg();
    let alias = match lower.as_ref() {
        "doubleprecision" if pg => Some("double precision"),
        "integer" | "int4" if pg => Some("integer"),
        "int8" if pg => Some("bigint"),
        "int2" if pg => Some("smallint"),
        "bool" if pg => Some("boolean"),
        "string" if dialect == Dialect::Cockroach => Some("text"),
        _ => None,
    };
    if args.is_empty() {
        return match (alias, lower.as_ref()) {
            (Some(a), _) => Cow::Borrowed(a),
            (None, "timestamp") if pg => Cow::Borrowed("timestamp(6)"),
            (None, "timestamptz") if pg => Cow::Borrowed("timestamptz(6)"),
            (None, "time") if pg => Cow::Borrowed("time(6)"),
            (None, "timetz") if pg => Cow::Borrowed("timetz(6)"),
            (None, "decimal") if pg => Cow::Borrowed("decimal(65,30)"),
            (None, other) => {
                static_native(other).map_or_else(|| Cow::Owned(other.to_string()), Cow::Borrowed)
            }
        };
    }
    let base = alias.unwrap_or(&lower);
    // The arguments joined with `,`, written straight into the result.
    let mut out = String::with_capacity(base.len() + 2 + 8 * args.len());
    out.push_str(base);
    out.push('(');
    for (i, x) in args.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match &x.value {
            Expr::Number(n) => out.push_str(n),
            Expr::String(s) => out.push_str(s),
            Expr::Path(p) => out.push_str(p),
            other => out.push_str(&crate::printer::expr(other)),
        }
    }
    out.push(')');
    Cow::Owned(out)
}

/// The default as the database stores it; `None` for defaults Prisma computes in the client
/// (`uuid()`, `cuid()`, `nanoid()`, `ulid()`), which never reach the database. `enum_decl`
/// is the field's enum, if its type is one.
fn default_sql<'a>(v: &'a Expr, enum_decl: Option<&'a Enum>) -> Option<Cow<'a, str>> {
    let quote = |s: &str| {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('\'');
        // Quotes doubled; a byte scan, as a quote is ASCII (and rare).
        let mut rest = s;
        while let Some(i) = rest.bytes().position(|b| b == b'\'') {
            q.push_str(rest.get(..i).unwrap_or_default());
            q.push_str("''");
            rest = rest.get(i + 1..).unwrap_or_default();
        }
        q.push_str(rest);
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
                let db = enum_decl
                    .and_then(|e| e.values.iter().find(|v| v.name == value))
                    .map_or(value, enum_value_db);
                Some(quote(db))
            }
        },
        Expr::Array(items) => {
            let parts: Vec<Cow<str>> = items
                .iter()
                .filter_map(|i| default_sql(i, enum_decl))
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
            other => Some(Cow::Owned(concat(&[other, "()"]))),
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
/// `lists` holds every list relation field between tables, as (model, field, target);
/// `placed` tells, per model, where in `tables` its table is and which of `lists` are its.
fn implicit_join_tables<'a>(
    dialect: Dialect,
    lists: &[(&ModelInfo<'a>, &'a Field<'a>, &ModelInfo<'a>)],
    tables: &[(Cow<'a, str>, Table<'a>)],
    placed: &[(usize, std::ops::Range<usize>)],
) -> Vec<Table<'a>> {
    let mut out: BTreeMap<String, Table<'a>> = BTreeMap::new();
    // Models in schema order, each with its list fields in field order: the first of two
    // join tables with the same name wins.
    let in_order = placed
        .iter()
        .flat_map(|(_, range)| lists.get(range.clone()).unwrap_or_default());
    for &(mi, f, ti) in in_order {
        let (m, tm) = (mi.model, ti.model);
        let target = f.type_name();
        let rel = relation_name(f);
        let back = tm.fields.iter().find(|o| {
            same_name(o.type_name(), &m.name)
                && relation_name(o) == rel
                && !(tm.name == m.name && o.name == f.name)
        });
        if !back.is_some_and(|b| b.arity == Arity::List) {
            continue;
        }
        let ((a, a_info), (b, b_info)) = if m.name.as_ref() <= target {
            ((m.name.as_ref(), mi), (target, ti))
        } else {
            ((target, ti), (m.name.as_ref(), mi))
        };
        let name = format!(
            "_{}",
            rel.map_or_else(|| format!("{a}To{b}"), str::to_string)
        );
        if out.contains_key(&name) {
            continue;
        }
        let id_of = |info: &ModelInfo<'a>| -> Option<(&'a str, Column<'a>)> {
            let (_, t) = tables.get(placed.get(info.index)?.0)?;
            let pk = *t.primary_key.as_ref()?.columns.first()?;
            let c = t.columns.iter().find(|c| c.name == pk)?.clone();
            Some((pk, c))
        };
        let (Some((a_pk, a_ty)), Some((b_pk, b_ty))) = (id_of(a_info), id_of(b_info)) else {
            continue;
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
        let fk = |c: &'static str, info: &ModelInfo<'a>, pk: &'a str| ForeignKey {
            name: Cow::Owned(constraint_name(dialect, &name, [c].into_iter(), "_fkey")),
            field: c,
            columns: vec![c],
            referenced_table: info.table.clone(),
            referenced_columns: vec![pk],
            on_delete: "Cascade",
            on_update: "Cascade",
        };
        let table = Table {
            model: Cow::Owned(name.clone()),
            name: Cow::Owned(name.clone()),
            columns: vec![col("A", a_ty), col("B", b_ty)],
            primary_key: Some(PrimaryKey {
                name: Cow::Owned(constraint_name(dialect, &name, ["AB"].into_iter(), "_pkey")),
                columns: vec!["A", "B"],
            }),
            indexes: vec![Index {
                name: Cow::Owned(concat(&[&name, "_B_index"])),
                columns: vec![Cow::Borrowed("B")],
                fields: vec!["B"],
                unique: false,
                kind: None,
            }],
            foreign_keys: vec![fk("A", a_info, a_pk), fk("B", b_info, b_pk)],
        };
        out.insert(name, table);
    }
    out.into_values().collect()
}
