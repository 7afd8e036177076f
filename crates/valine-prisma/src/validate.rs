//! Semantic checks Prisma's validator performs and a diff depends on: unique names, known
//! types and attributes, existing fields in indexes and relations, a unique criterion per
//! model, and an opposite field for every relation. The first violation is reported.

use crate::ast::*;
use crate::error::SchemaError;
use crate::fasthash::{FastMap, FastSet};
use crate::lexer::Span;

const FIELD_ATTRS: &[&str] = &[
    "id",
    "unique",
    "default",
    "relation",
    "map",
    "updatedAt",
    "ignore",
    "shardKey",
];
const MODEL_ATTRS: &[&str] = &[
    "id", "unique", "index", "map", "ignore", "schema", "fulltext", "shardKey",
];
const ENUM_ATTRS: &[&str] = &["map", "schema"];

pub fn validate(src: &str, schema: &Schema) -> Result<(), SchemaError> {
    let err = |span: Span, msg: String| Err(SchemaError::at(src, span.start, msg));

    // Top-level names share one namespace (a model and an enum cannot both be `Role`).
    let mut top: FastMap<&str, &str> =
        FastMap::with_capacity_and_hasher(schema.blocks.len(), Default::default());
    let mut datasources = 0usize;
    let mut generators: FastSet<&str> = FastSet::default();
    for block in &schema.blocks {
        let (kind, name, span) = match block {
            Block::Model(m) => (m.kind.keyword(), m.name.as_ref(), m.name_span),
            Block::Enum(e) => ("enum", e.name.as_ref(), e.name_span),
            Block::Datasource(d) => {
                datasources += 1;
                if datasources > 1 {
                    return err(
                        d.span,
                        "You defined more than one datasource. This is not allowed yet because support for multiple databases has not been implemented yet.".into(),
                    );
                }
                continue;
            }
            Block::Generator(g) => {
                if !generators.insert(g.name.as_ref()) {
                    return err(
                        g.span,
                        format!(
                            "The generator \"{}\" cannot be defined because a generator with that name already exists.",
                            g.name
                        ),
                    );
                }
                continue;
            }
        };
        check_name(src, name, span, kind)?;
        if is_scalar(name) || name == "Unsupported" {
            return err(
                span,
                format!("The {kind} name `{name}` is invalid. It is a reserved type name."),
            );
        }
        if let Some(prev) = top.insert(name, kind) {
            return err(
                span,
                format!(
                    "The {kind} \"{name}\" cannot be defined because a {prev} with that name already exists."
                ),
            );
        }
    }
    let ds_name = schema.datasource().map_or("db", |d| d.name.as_ref());
    let mut models: FastMap<&str, &Model> =
        FastMap::with_capacity_and_hasher(schema.blocks.len(), Default::default());
    models.extend(schema.models().map(|m| (m.name.as_ref(), m)));

    let mut enum_db_names: Vec<(Option<&str>, &str)> = Vec::new();
    for e in schema.enums() {
        let attr_str = |name: &str| {
            e.attributes
                .iter()
                .find(|a| a.name == name)
                .and_then(|a| a.arg("name", true))
                .and_then(Expr::as_str)
        };
        let db = (
            attr_str("schema"),
            attr_str("map").unwrap_or(e.name.as_ref()),
        );
        if enum_db_names.contains(&db) {
            return err(
                e.name_span,
                format!(
                    "An enum with the same database name is already defined (enum \"{}\" maps to \"{}\").",
                    e.name, db.1
                ),
            );
        }
        enum_db_names.push(db);
        if e.values.is_empty() {
            return err(
                e.name_span,
                format!(
                    "An enum must have at least one value (enum \"{}\").",
                    e.name
                ),
            );
        }
        let mut seen = FastSet::default();
        for v in &e.values {
            if !seen.insert(v.name.as_ref()) {
                return err(
                    v.span,
                    format!(
                        "Value \"{}\" is already defined on enum \"{}\".",
                        v.name, e.name
                    ),
                );
            }
            for a in &v.attributes {
                if a.name != "map" {
                    return err(a.span, format!("Attribute not known: \"@{}\".", a.name));
                }
                expect_string_arg(src, a)?;
            }
        }
        for a in &e.attributes {
            if !ENUM_ATTRS.contains(&a.name.as_ref()) {
                return err(a.span, format!("Attribute not known: \"@@{}\".", a.name));
            }
            expect_string_arg(src, a)?;
        }
    }

    let mut scratch = Scratch::default();
    let mut tables: FastMap<std::borrow::Cow<str>, &str> =
        FastMap::with_capacity_and_hasher(schema.blocks.len(), Default::default());
    for m in schema.models() {
        check_model(src, m, &top, &models, ds_name, &mut scratch)?;
        if m.kind == ModelKind::Type {
            continue;
        }
        let attr_str = |name: &str| {
            m.attribute(name)
                .and_then(|a| a.arg("name", true))
                .and_then(Expr::as_str)
        };
        let table = attr_str("map").unwrap_or(m.name.as_ref());
        let key = match attr_str("schema") {
            Some(s) => std::borrow::Cow::Owned(format!("{s}.{table}")),
            None => std::borrow::Cow::Borrowed(table),
        };
        if let Some(other) = tables.insert(key, m.name.as_ref()) {
            return err(
                m.name_span,
                format!(
                    "The {} \"{}\" cannot be defined because \"{other}\" already uses the database name \"{table}\".",
                    m.kind.keyword(),
                    m.name
                ),
            );
        }
    }
    Ok(())
}

/// Prisma identifiers may lexically start with a digit or contain `-`; names of blocks and
/// fields may not.
fn check_name(src: &str, name: &str, span: Span, kind: &str) -> Result<(), SchemaError> {
    let ok = name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
    if ok {
        Ok(())
    } else {
        Err(SchemaError::at(
            src,
            span.start,
            format!(
                "The name of a {kind} must start with a letter and contain only letters, digits and underscores: \"{name}\"."
            ),
        ))
    }
}

fn expect_string_arg(src: &str, a: &Attribute) -> Result<(), SchemaError> {
    match a.arg("name", true) {
        Some(Expr::String(s)) if s.is_empty() => Err(SchemaError::at(
            src,
            a.span.start,
            format!("The argument of \"@{}\" cannot be an empty string.", a.name),
        )),
        Some(Expr::String(_)) => Ok(()),
        _ => Err(SchemaError::at(
            src,
            a.span.start,
            format!("Attribute \"@{}\" expects a string argument.", a.name),
        )),
    }
}

/// Field names listed by `@@id`/`@@unique`/`@@index` (`fields:` or positional), where an
/// entry may be `name(sort: Desc)`.
pub fn listed_fields<'x>(a: &'x Attribute<'_>) -> Vec<&'x str> {
    listed(a).collect()
}

/// [`listed_fields`] without collecting them.
fn listed<'x>(a: &'x Attribute<'_>) -> impl Iterator<Item = &'x str> + Clone {
    let items: &[Expr] = match a.arg("fields", true) {
        Some(Expr::Array(items)) => items,
        _ => &[],
    };
    items.iter().filter_map(|e| match e {
        Expr::Path(p) => Some(p.as_ref()),
        Expr::Function { name, .. } => Some(name.as_ref()),
        _ => None,
    })
}

/// True for the built-in scalar type names.
pub fn is_scalar(name: &str) -> bool {
    matches!(
        name,
        "String"
            | "Boolean"
            | "Int"
            | "BigInt"
            | "Float"
            | "Decimal"
            | "DateTime"
            | "Json"
            | "Bytes"
    )
}

pub fn is_relation_field(f: &Field, models: &FastMap<&str, &Model>) -> bool {
    // Most fields are scalars; answering those without hashing the type name matters on
    // large schemas, where this is asked for every field several times.
    if let FieldType::Named(n) = &f.ty
        && is_scalar(n)
    {
        return false;
    }
    matches!(&f.ty, FieldType::Named(n) if models.get(n.as_ref()).is_some_and(|m| m.kind != ModelKind::Type))
}

/// Lists [`check_model`] fills and empties per model and field, kept for the whole schema
/// so they are allocated once.
#[derive(Default)]
struct Scratch<'s> {
    attrs: Vec<&'s str>,
    columns: Vec<(&'s str, &'s str)>,
    /// Per field of the current model: is it a relation field (asked several times each).
    relation: Vec<bool>,
}

fn check_model<'s>(
    src: &str,
    m: &'s Model,
    top: &FastMap<&str, &str>,
    models: &FastMap<&str, &Model>,
    ds_name: &str,
    scratch: &mut Scratch<'s>,
) -> Result<(), SchemaError> {
    let err = |span: Span, msg: String| Err(SchemaError::at(src, span.start, msg));
    let kind = m.kind.keyword();
    let mut ids = 0usize;
    let relation = &mut scratch.relation;
    relation.clear();
    relation.extend(m.fields.iter().map(|f| is_relation_field(f, models)));
    let relation = &scratch.relation;
    for (i, f) in m.fields.iter().enumerate() {
        check_name(src, &f.name, f.span, "field")?;
        // Models have tens of fields: a scan of the names seen so far beats hashing each one.
        let earlier = m.fields.get(..i).unwrap_or_default();
        if earlier.iter().any(|e| e.name == f.name) {
            return err(
                f.span,
                format!(
                    "Field \"{}\" is already defined on {kind} \"{}\".",
                    f.name, m.name
                ),
            );
        }
        if let FieldType::Named(t) = &f.ty
            && !is_scalar(t)
            && !top.contains_key(t.as_ref())
        {
            return err(
                f.type_span,
                format!(
                    "Type \"{t}\" is neither a built-in type, nor refers to another model, composite type, or enum."
                ),
            );
        }
        // Attribute lists are a handful long: a scan beats allocating a set per field.
        let seen_attrs = &mut scratch.attrs;
        seen_attrs.clear();
        for a in &f.attributes {
            let native = a
                .name
                .split_once('.')
                .is_some_and(|(prefix, _)| prefix == ds_name || prefix == "db");
            if !native && !FIELD_ATTRS.contains(&a.name.as_ref()) {
                return err(a.span, format!("Attribute not known: \"@{}\".", a.name));
            }
            let key = if native {
                "native type"
            } else {
                a.name.as_ref()
            };
            if seen_attrs.contains(&key) {
                return err(
                    a.span,
                    format!("Attribute \"@{}\" can only be defined once.", a.name),
                );
            }
            seen_attrs.push(key);
            if a.name == "map" {
                expect_string_arg(src, a)?;
            }
            if a.name == "default" && a.arg("value", true).is_none() {
                return err(a.span, "Attribute \"@default\" expects a value.".into());
            }
        }
        let is_id = f.attribute("id").is_some();
        if is_id && f.arity != Arity::Required {
            return err(
                f.span,
                format!(
                    "Fields that are marked as id must be required (field \"{}\").",
                    f.name
                ),
            );
        }
        if let Some(a) = f.attribute("updatedAt")
            && f.type_name() != "DateTime"
        {
            return err(
                a.span,
                "Fields that are marked with @updatedAt must be of type DateTime.".into(),
            );
        }
        if is_id {
            ids += 1;
            if ids > 1 {
                return err(
                    f.span,
                    "At most one field must be marked as the id field with the `@id` attribute."
                        .into(),
                );
            }
        }
        if relation.get(i).copied().unwrap_or(false) {
            check_relation(src, m, f, models)?;
        }
    }

    // Two fields may not end up as the same database column.
    let columns = &mut scratch.columns;
    columns.clear();
    let scalars = || {
        m.fields
            .iter()
            .zip(relation)
            .filter(|(_, r)| !**r)
            .map(|(f, _)| f)
    };
    for f in scalars() {
        let db = f
            .attribute("map")
            .and_then(|a| a.arg("name", true))
            .and_then(Expr::as_str)
            .unwrap_or(f.name.as_ref());
        if let Some(&(_, other)) = columns.iter().find(|(c, _)| *c == db) {
            return err(
                f.span,
                format!(
                    "Field \"{}\" and field \"{other}\" of {kind} \"{}\" both map to the database column \"{db}\".",
                    f.name, m.name
                ),
            );
        }
        columns.push((db, f.name.as_ref()));
    }
    let scalar_field = |name: &str| scalars().find(|f| f.name == name);
    let mut has_criterion =
        ids > 0 || scalars().any(|f| f.attribute("unique").is_some() && f.arity == Arity::Required);
    for a in &m.attributes {
        if !MODEL_ATTRS.contains(&a.name.as_ref()) {
            return err(a.span, format!("Attribute not known: \"@@{}\".", a.name));
        }
        match a.name.as_ref() {
            "id" | "unique" | "index" | "fulltext" => {
                let fields = listed(a);
                if fields.clone().next().is_none() {
                    return err(
                        a.span,
                        format!(
                            "The \"@@{}\" attribute needs a non-empty list of fields.",
                            a.name
                        ),
                    );
                }
                let unknown: Vec<&str> = fields
                    .clone()
                    .filter(|f| scalar_field(f).is_none())
                    .collect();
                if !unknown.is_empty() {
                    return err(
                        a.span,
                        format!(
                            "The {} definition refers to the unknown fields: {}.",
                            a.name,
                            unknown.join(", ")
                        ),
                    );
                }
                if a.name == "id" {
                    if ids > 0 {
                        return err(a.span, "Each model must have at most one id criteria. You can't have `@id` and `@@id` at the same time.".into());
                    }
                    ids += 1;
                    has_criterion = true;
                }
                if a.name == "unique"
                    && fields
                        .clone()
                        .all(|f| scalar_field(f).is_some_and(|f| f.arity == Arity::Required))
                {
                    has_criterion = true;
                }
            }
            "map" | "schema" => expect_string_arg(src, a)?,
            _ => {}
        }
    }
    let ignored = m.attribute("ignore").is_some();
    if m.kind == ModelKind::Model && !has_criterion && !ignored {
        return err(
            m.name_span,
            format!(
                "Each model must have at least one unique criteria that has only required fields. Either mark a single field with `@id`, `@unique` or add a multi field criterion with `@@id([])` or `@@unique([])` to the model \"{}\".",
                m.name
            ),
        );
    }
    Ok(())
}

/// The name a relation field belongs to: `@relation("name")` or `@relation(name: "name")`.
pub fn relation_name<'x>(f: &'x Field<'_>) -> Option<&'x str> {
    f.attribute("relation")
        .and_then(|a| a.arg("name", true))
        .and_then(Expr::as_str)
}

pub fn relation_list<'a>(f: &'a Field, key: &str) -> Vec<&'a str> {
    relation_items(f, key).collect()
}

/// [`relation_list`] without collecting it.
pub(crate) fn relation_items<'a>(f: &'a Field, key: &str) -> impl Iterator<Item = &'a str> + Clone {
    let items: &[Expr] = match f.attribute("relation").and_then(|a| a.arg(key, false)) {
        Some(Expr::Array(items)) => items,
        _ => &[],
    };
    items.iter().filter_map(|e| match e {
        Expr::Path(p) => Some(p.as_ref()),
        _ => None,
    })
}

fn check_relation(
    src: &str,
    m: &Model,
    f: &Field,
    models: &FastMap<&str, &Model>,
) -> Result<(), SchemaError> {
    let err = |msg: String| {
        Err(SchemaError::at(
            src,
            f.span.start,
            format!(
                "Error validating field `{}` in model `{}`: {msg}",
                f.name, m.name
            ),
        ))
    };
    let target_name = f.type_name();
    let Some(target) = models.get(target_name) else {
        return Ok(());
    };
    let fields = relation_items(f, "fields");
    let references = relation_items(f, "references");
    if fields.clone().count() != references.clone().count() {
        return err(
            "You must specify the same number of fields in `fields` and `references`.".into(),
        );
    }
    for name in fields.clone() {
        if !m
            .fields
            .iter()
            .any(|x| x.name == name && !is_relation_field(x, models))
        {
            return err(format!(
                "The argument fields must refer only to existing fields. The following fields do not exist in this model: {name}"
            ));
        }
    }
    for name in references {
        if !target
            .fields
            .iter()
            .any(|x| x.name == name && !is_relation_field(x, models))
        {
            return err(format!(
                "The argument `references` must refer only to existing fields in the related model `{target_name}`. The following fields do not exist in the related model: {name}"
            ));
        }
    }
    let no_fields = fields.clone().next().is_none();
    if f.arity == Arity::List && !no_fields {
        return err("The relation field cannot define `fields` or `references` on the list side of a relation.".into());
    }
    // Every relation needs its opposite field; which one carries `fields` decides where the
    // foreign key lives, so a one-sided relation would leave the database shape unknown.
    let name = relation_name(f);
    let opposite = target.fields.iter().find(|o| {
        o.type_name() == m.name
            && relation_name(o) == name
            && !(target.name == m.name && o.name == f.name)
    });
    match opposite {
        None => err(format!(
            "The relation field `{}` on model `{}` is missing an opposite relation field on the model `{}`.",
            f.name, m.name, target_name
        )),
        Some(o) => {
            let both_lists = f.arity == Arity::List && o.arity == Arity::List;
            if !both_lists && no_fields && relation_items(o, "fields").next().is_none() {
                return err(format!(
                    "The relation fields `{}` on Model `{}` and `{}` on Model `{}` do not provide the `fields` argument in the @relation attribute. You have to provide it on one of the two fields.",
                    f.name, m.name, o.name, target_name
                ));
            }
            Ok(())
        }
    }
}
