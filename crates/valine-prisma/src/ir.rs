//! Normalized IR: the database a schema describes, keyed by DATABASE names (`@map`/`@@map`)
//! with types as the datasource's provider spells them, and constraint names as Prisma
//! generates them. The differ compares two of these, so anything that does not reach the
//! database (Prisma names, `@updatedAt`, `uuid()`/`cuid()` defaults, docs) is absent.

use crate::ast::*;
use crate::fasthash::FastMap;
use crate::validate::{is_relation_field, listed_fields, relation_list, relation_name};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ir {
    pub provider: String,
    /// Tables by database name (`schema.table` when `@@schema` is used).
    pub tables: BTreeMap<String, Table>,
    /// Enums by database name.
    pub enums: BTreeMap<String, EnumIr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The Prisma model name (for implicit many-to-many join tables, the relation's name).
    pub model: String,
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Option<PrimaryKey>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub field: String,
    pub name: String,
    /// The type as written in the schema, e.g. `String?`, for reports.
    pub field_type: String,
    /// Identity of the Prisma-level type: a scalar name or `enum:<db name>`, plus `[]`.
    /// A change here is an `alterType`; a change only in `db_type` is `alterNativeType`.
    pub type_key: String,
    /// Database type, e.g. `text`, `varchar(50)`, `timestamp(3)`, `text[]`.
    pub db_type: String,
    pub nullable: bool,
    /// Database-level default (`'artist'`, `CURRENT_TIMESTAMP`, `false`), normalized.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    /// Database column names, with ` DESC` appended for descending entries.
    pub columns: Vec<String>,
    /// Prisma field names, for reports.
    pub fields: Vec<String>,
    pub unique: bool,
    /// `Hash`, `Gin`, `fulltext`, … when not the default B-tree.
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    /// The relation field that declares it.
    pub field: String,
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumIr {
    pub name: String,
    pub db_name: String,
    /// (Prisma name, database name) in declaration order.
    pub values: Vec<(String, String)>,
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
    let mut base = if columns.is_empty() {
        table.to_string()
    } else {
        format!("{table}_{}", columns.join("_"))
    };
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

fn map_arg(attrs: &[Attribute], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| a.arg("name", true))
        .and_then(Expr::as_str)
        .map(str::to_string)
}

fn named_str(a: &Attribute, key: &str) -> Option<String> {
    a.arg(key, false).and_then(Expr::as_str).map(str::to_string)
}

struct ModelInfo<'a> {
    model: &'a Model,
    table: String,
    /// Prisma field name → database column name, scalar fields only.
    columns: FastMap<&'a str, String>,
}

/// Lowers a validated AST. Never fails: anything validation let through but the IR cannot
/// place (e.g. a relation to a composite type) is simply not a database object.
pub fn lower(schema: &Schema) -> Ir {
    let provider = schema.provider().to_string();
    let ds_name = schema
        .datasource()
        .map_or("db".to_string(), |d| d.name.clone());
    let models: FastMap<&str, &Model> = schema.models().map(|m| (m.name.as_str(), m)).collect();

    let mut enums = BTreeMap::new();
    let mut enum_db: FastMap<&str, String> = FastMap::default();
    for e in schema.enums() {
        let db_name = map_arg(&e.attributes, "map").unwrap_or_else(|| e.name.clone());
        let db_name = qualify(map_arg(&e.attributes, "schema"), db_name);
        enum_db.insert(e.name.as_str(), db_name.clone());
        enums.insert(
            db_name.clone(),
            EnumIr {
                name: e.name.clone(),
                db_name,
                values: e
                    .values
                    .iter()
                    .map(|v| {
                        let db = map_arg(&v.attributes, "map").unwrap_or_else(|| v.name.clone());
                        (v.name.clone(), db)
                    })
                    .collect(),
            },
        );
    }
    let enum_values: FastMap<&str, FastMap<&str, &str>> = schema
        .enums()
        .map(|e| {
            let vals = e
                .values
                .iter()
                .map(|v| {
                    let db = v
                        .attributes
                        .iter()
                        .find(|a| a.name == "map")
                        .and_then(|a| a.arg("name", true))
                        .and_then(Expr::as_str)
                        .unwrap_or(v.name.as_str());
                    (v.name.as_str(), db)
                })
                .collect();
            (e.name.as_str(), vals)
        })
        .collect();

    // Pass 1: table and column names, so relations can resolve the columns they point at.
    let mut infos: FastMap<&str, ModelInfo> = FastMap::default();
    for m in schema.models().filter(|m| m.kind == ModelKind::Model) {
        let table = qualify(
            map_arg(&m.attributes, "schema"),
            map_arg(&m.attributes, "map").unwrap_or_else(|| m.name.clone()),
        );
        let columns = m
            .fields
            .iter()
            .filter(|f| !is_relation_field(f, &models))
            .map(|f| {
                let col = map_arg(&f.attributes, "map").unwrap_or_else(|| f.name.clone());
                (f.name.as_str(), col)
            })
            .collect();
        infos.insert(
            m.name.as_str(),
            ModelInfo {
                model: m,
                table,
                columns,
            },
        );
    }

    let mut tables = BTreeMap::new();
    for m in schema.models().filter(|m| m.kind == ModelKind::Model) {
        let Some(info) = infos.get(m.name.as_str()) else {
            continue;
        };
        let t = lower_model(
            &provider,
            &ds_name,
            info,
            &infos,
            &models,
            &enum_db,
            &enum_values,
        );
        tables.insert(t.name.clone(), t);
    }
    for t in implicit_join_tables(&provider, schema, &infos, &models, &tables) {
        tables.insert(t.name.clone(), t);
    }
    Ir {
        provider,
        tables,
        enums,
    }
}

fn qualify(schema: Option<String>, name: String) -> String {
    match schema {
        Some(s) => format!("{s}.{name}"),
        None => name,
    }
}

fn lower_model(
    provider: &str,
    ds_name: &str,
    info: &ModelInfo,
    infos: &FastMap<&str, ModelInfo>,
    models: &FastMap<&str, &Model>,
    enum_db: &FastMap<&str, String>,
    enum_values: &FastMap<&str, FastMap<&str, &str>>,
) -> Table {
    let m = info.model;
    let table = info.table.clone();
    let bare_table = table.rsplit('.').next().unwrap_or(&table).to_string();
    let col_of = |field: &str| {
        info.columns
            .get(field)
            .cloned()
            .unwrap_or_else(|| field.to_string())
    };
    let mut columns = Vec::new();
    let mut indexes = Vec::new();
    let mut primary_key = None;
    for f in &m.fields {
        if is_relation_field(f, models) {
            continue;
        }
        let name = col_of(&f.name);
        let list = f.arity == Arity::List;
        let (type_key, base_db) = match &f.ty {
            FieldType::Unsupported(s) => ("Unsupported".to_string(), s.clone()),
            FieldType::Named(n) => match enum_db.get(n.as_str()) {
                Some(db) => (
                    format!("enum:{db}"),
                    enum_db_type(provider, db, n, enum_values),
                ),
                None if models.contains_key(n.as_str()) => {
                    // A composite type field: stored as a document / JSON value.
                    (format!("type:{n}"), "jsonb".to_string())
                }
                None => (n.clone(), db_type(provider, ds_name, n, f)),
            },
        };
        let default = f
            .attribute("default")
            .and_then(|a| a.arg("value", true))
            .and_then(|v| default_sql(v, f, enum_values));
        columns.push(Column {
            field: f.name.clone(),
            name: name.clone(),
            field_type: f.type_display(),
            type_key: if list {
                format!("{type_key}[]")
            } else {
                type_key
            },
            db_type: if list {
                format!("{base_db}[]")
            } else {
                base_db
            },
            nullable: f.arity == Arity::Optional,
            default,
        });
        if let Some(a) = f.attribute("id") {
            primary_key = Some(PrimaryKey {
                name: named_str(a, "map")
                    .unwrap_or_else(|| constraint_name(provider, &bare_table, &[], "_pkey")),
                columns: vec![name.clone()],
            });
        }
        if let Some(a) = f.attribute("unique") {
            indexes.push(Index {
                name: named_str(a, "map").unwrap_or_else(|| {
                    constraint_name(provider, &bare_table, &[name.as_str()], "_key")
                }),
                columns: vec![with_sort(&name, a.arg("sort", false))],
                fields: vec![f.name.clone()],
                unique: true,
                kind: None,
            });
        }
    }
    for a in &m.attributes {
        let fields = listed_fields(a);
        let cols: Vec<String> = fields.iter().map(|f| col_of(f)).collect();
        let col_refs: Vec<&str> = cols.iter().map(String::as_str).collect();
        let sorted_cols = sorted_columns(a, &cols);
        let (unique, suffix, kind) = match a.name.as_str() {
            "id" => {
                primary_key = Some(PrimaryKey {
                    name: named_str(a, "map")
                        .unwrap_or_else(|| constraint_name(provider, &bare_table, &[], "_pkey")),
                    columns: cols.clone(),
                });
                continue;
            }
            "unique" => (true, "_key", None),
            "index" => (
                false,
                "_idx",
                a.arg("type", false).and_then(|e| match e {
                    Expr::Path(p) if p != "BTree" => Some(p.clone()),
                    _ => None,
                }),
            ),
            "fulltext" => (false, "_idx", Some("fulltext".to_string())),
            _ => continue,
        };
        indexes.push(Index {
            name: named_str(a, "map")
                .unwrap_or_else(|| constraint_name(provider, &bare_table, &col_refs, suffix)),
            columns: sorted_cols,
            fields: fields.iter().map(|s| s.to_string()).collect(),
            unique,
            kind,
        });
    }
    let mut foreign_keys = Vec::new();
    for f in &m.fields {
        let fields = relation_list(f, "fields");
        if fields.is_empty() || !is_relation_field(f, models) {
            continue;
        }
        let Some(target) = infos.get(f.type_name()) else {
            continue;
        };
        let references = relation_list(f, "references");
        let cols: Vec<String> = fields.iter().map(|x| col_of(x)).collect();
        let col_refs: Vec<&str> = cols.iter().map(String::as_str).collect();
        let rel = f.attribute("relation");
        let optional = f.arity == Arity::Optional
            || fields.iter().any(|x| {
                m.fields
                    .iter()
                    .any(|y| y.name == *x && y.arity == Arity::Optional)
            });
        let action = |key: &str, default: &str| {
            rel.and_then(|a| a.arg(key, false))
                .and_then(|e| match e {
                    Expr::Path(p) => Some(p.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| default.to_string())
        };
        foreign_keys.push(ForeignKey {
            name: rel
                .and_then(|a| named_str(a, "map"))
                .unwrap_or_else(|| constraint_name(provider, &bare_table, &col_refs, "_fkey")),
            field: f.name.clone(),
            columns: cols,
            referenced_table: target.table.clone(),
            referenced_columns: references
                .iter()
                .map(|r| {
                    target
                        .columns
                        .get(r)
                        .cloned()
                        .unwrap_or_else(|| r.to_string())
                })
                .collect(),
            // Prisma's defaults: an optional relation nulls out, a required one restricts.
            on_delete: action("onDelete", if optional { "SetNull" } else { "Restrict" }),
            on_update: action("onUpdate", "Cascade"),
        });
    }
    Table {
        model: m.name.clone(),
        name: table,
        columns,
        primary_key,
        indexes,
        foreign_keys,
    }
}

fn with_sort(col: &str, sort: Option<&Expr>) -> String {
    match sort {
        Some(Expr::Path(p)) if p == "Desc" => format!("{col} DESC"),
        _ => col.to_string(),
    }
}

fn sorted_columns(a: &Attribute, cols: &[String]) -> Vec<String> {
    let entries: Vec<&Expr> = match a.arg("fields", true) {
        Some(Expr::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
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
            _ => c.clone(),
        })
        .collect()
}

fn enum_db_type(
    provider: &str,
    db: &str,
    prisma: &str,
    enum_values: &FastMap<&str, FastMap<&str, &str>>,
) -> String {
    if provider == "mysql" {
        // MySQL enums are inline column types, so the value list is part of the type.
        let mut vals: Vec<&str> = enum_values
            .get(prisma)
            .map(|v| v.values().copied().collect())
            .unwrap_or_default();
        vals.sort_unstable();
        format!("enum({})", vals.join(","))
    } else {
        db.to_string()
    }
}

/// The database type of a scalar field for the provider, honouring `@db.X(args)`.
fn db_type(provider: &str, ds_name: &str, scalar: &str, f: &Field) -> String {
    let native = f.attributes.iter().find_map(|a| {
        a.name
            .split_once('.')
            .filter(|(p, _)| *p == ds_name || *p == "db")
            .map(|(_, t)| (t, a))
    });
    if let Some((t, a)) = native {
        let args: Vec<String> = a
            .args
            .iter()
            .map(|x| match &x.value {
                Expr::Number(n) => n.clone(),
                Expr::String(s) => s.clone(),
                Expr::Path(p) => p.clone(),
                other => crate::printer::expr(other),
            })
            .collect();
        return native_type(provider, t, &args);
    }
    let pg = matches!(provider, "postgresql" | "postgres" | "cockroachdb");
    let s = match (provider, scalar) {
        (_, "String") if pg => "text",
        (_, "Boolean") if pg => "boolean",
        ("cockroachdb", "Int") => "int4",
        (_, "Int") if pg => "integer",
        (_, "BigInt") if pg => "bigint",
        (_, "Float") if pg => "double precision",
        (_, "Decimal") if pg => "decimal(65,30)",
        (_, "DateTime") if pg => "timestamp(3)",
        (_, "Json") if pg => "jsonb",
        (_, "Bytes") if pg => "bytea",
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
        (_, other) => return other.to_string(),
    };
    s.to_string()
}

/// `@db.X(args)` as the database spells it; aliases that name the same type collapse
/// (on PostgreSQL `@db.Text` on a `String` is exactly `text`).
fn native_type(provider: &str, name: &str, args: &[String]) -> String {
    let lower = name.to_ascii_lowercase();
    let pg = matches!(provider, "postgresql" | "postgres" | "cockroachdb");
    let base = match lower.as_str() {
        "doubleprecision" if pg => "double precision".to_string(),
        "integer" | "int4" if pg => "integer".to_string(),
        "int8" if pg => "bigint".to_string(),
        "int2" if pg => "smallint".to_string(),
        "bool" if pg => "boolean".to_string(),
        "string" if provider == "cockroachdb" => "text".to_string(),
        "timestamp" | "timestamptz" | "time" | "timetz" if pg && args.is_empty() => {
            return format!("{lower}(6)");
        }
        "decimal" if pg && args.is_empty() => return "decimal(65,30)".to_string(),
        _ => lower,
    };
    if args.is_empty() {
        base
    } else {
        format!("{base}({})", args.join(","))
    }
}

/// The default as the database stores it; `None` for defaults Prisma computes in the client
/// (`uuid()`, `cuid()`, `nanoid()`, `ulid()`), which never reach the database.
fn default_sql(
    v: &Expr,
    f: &Field,
    enum_values: &FastMap<&str, FastMap<&str, &str>>,
) -> Option<String> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    match v {
        Expr::String(s) => Some(quote(s)),
        Expr::Number(n) => Some(normalize_number(n)),
        Expr::Path(p) => match p.as_str() {
            "true" | "false" => Some(p.clone()),
            value => {
                // An enum value: the database sees its mapped name.
                let db = enum_values
                    .get(f.type_name())
                    .and_then(|vals| vals.get(value))
                    .copied()
                    .unwrap_or(value);
                Some(quote(db))
            }
        },
        Expr::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| default_sql(i, f, enum_values))
                .collect();
            Some(format!("ARRAY[{}]", parts.join(", ")))
        }
        Expr::Function { name, args } => match name.as_str() {
            "now" => Some("CURRENT_TIMESTAMP".to_string()),
            "uuid" | "cuid" | "nanoid" | "ulid" => None,
            "autoincrement" | "sequence" => Some("autoincrement()".to_string()),
            "dbgenerated" => Some(
                args.first()
                    .and_then(|a| a.value.as_str())
                    .map_or_else(|| "dbgenerated()".to_string(), str::to_string),
            ),
            other => Some(format!("{other}()")),
        },
    }
}

/// `1.0` and `1` are the same default to the database.
fn normalize_number(n: &str) -> String {
    match n.split_once('.') {
        Some((int, frac)) if frac.chars().all(|c| c == '0') => int.to_string(),
        _ => n.to_string(),
    }
}

/// Implicit many-to-many relations (both sides lists, no `fields`) get a join table
/// `_{relation}` with columns `A`/`B` pointing at the ids of the alphabetically ordered models.
fn implicit_join_tables(
    provider: &str,
    schema: &Schema,
    infos: &FastMap<&str, ModelInfo>,
    models: &FastMap<&str, &Model>,
    tables: &BTreeMap<String, Table>,
) -> Vec<Table> {
    let mut out: BTreeMap<String, Table> = BTreeMap::new();
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
            let (a, b) = if m.name.as_str() <= target {
                (m.name.as_str(), target)
            } else {
                (target, m.name.as_str())
            };
            let name = format!(
                "_{}",
                rel.map_or_else(|| format!("{a}To{b}"), str::to_string)
            );
            if out.contains_key(&name) {
                continue;
            }
            let id_of = |model: &str| -> Option<(String, String)> {
                let info = infos.get(model)?;
                let t = tables.get(&info.table)?;
                let pk = t.primary_key.as_ref()?.columns.first()?.clone();
                let ty = t.columns.iter().find(|c| c.name == pk)?.db_type.clone();
                Some((pk, ty))
            };
            let (Some((a_pk, a_ty)), Some((b_pk, b_ty))) = (id_of(a), id_of(b)) else {
                continue;
            };
            let table_of = |model: &str| {
                infos
                    .get(model)
                    .map_or_else(String::new, |i| i.table.clone())
            };
            let col = |n: &str, ty: String| Column {
                field: n.to_string(),
                name: n.to_string(),
                field_type: String::new(),
                type_key: ty.clone(),
                db_type: ty,
                nullable: false,
                default: None,
            };
            let fk = |c: &str, model: &str, pk: String| ForeignKey {
                name: constraint_name(provider, &name, &[c], "_fkey"),
                field: c.to_string(),
                columns: vec![c.to_string()],
                referenced_table: table_of(model),
                referenced_columns: vec![pk],
                on_delete: "Cascade".into(),
                on_update: "Cascade".into(),
            };
            let table = Table {
                model: name.clone(),
                name: name.clone(),
                columns: vec![col("A", a_ty), col("B", b_ty)],
                primary_key: Some(PrimaryKey {
                    name: constraint_name(provider, &name, &["AB"], "_pkey"),
                    columns: vec!["A".into(), "B".into()],
                }),
                indexes: vec![Index {
                    name: format!("{name}_B_index"),
                    columns: vec!["B".into()],
                    fields: vec!["B".into()],
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
