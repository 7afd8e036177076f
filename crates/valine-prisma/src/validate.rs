//! Semantic checks Prisma's validator performs and a diff depends on: unique names, known
//! types and attributes, existing fields in indexes and relations, a unique criterion per
//! model, and an opposite field for every relation. The first violation is reported.

use crate::ast::*;
use crate::error::SchemaError;
use crate::fasthash::{FastMap, FastSet};
use crate::lexer::Span;

/// A field attribute, classified once by name: each field's attributes are scanned once,
/// and what later checks need (its `@id`, `@map`, `@relation`, …) is kept from that scan
/// instead of being looked up by name again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldAttr {
    Id,
    Unique,
    Default,
    Relation,
    Map,
    UpdatedAt,
    Ignore,
    ShardKey,
    /// `@db.X` (or `@{datasource}.X`): a native type; at most one per field, whatever X.
    Native,
    Unknown,
}

impl FieldAttr {
    fn of(name: &str, ds_name: &str) -> FieldAttr {
        match name {
            "id" => FieldAttr::Id,
            "unique" => FieldAttr::Unique,
            "default" => FieldAttr::Default,
            "relation" => FieldAttr::Relation,
            "map" => FieldAttr::Map,
            "updatedAt" => FieldAttr::UpdatedAt,
            "ignore" => FieldAttr::Ignore,
            "shardKey" => FieldAttr::ShardKey,
            _ if is_native(name, ds_name) => FieldAttr::Native,
            _ => FieldAttr::Unknown,
        }
    }

    /// A bit per kind, to tell a repeated attribute without a list of those seen.
    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// `@db.X` or `@{datasource}.X`.
fn is_native(name: &str, ds_name: &str) -> bool {
    native_type_name(name, ds_name).is_some()
}

/// The `X` of a native type attribute `@db.X` or `@{datasource}.X`.
pub(crate) fn native_type_name<'x>(name: &'x str, ds_name: &str) -> Option<&'x str> {
    split_dot(name)
        .filter(|(prefix, _)| *prefix == ds_name || *prefix == "db")
        .map(|(_, t)| t)
}

/// `name.split_once('.')` as a plain byte scan: attribute names are short, and the general
/// character searcher cost several times more per name.
pub(crate) fn split_dot(name: &str) -> Option<(&str, &str)> {
    let dot = name.bytes().position(|b| b == b'.')?;
    Some((name.get(..dot)?, name.get(dot + 1..)?))
}

fn is_model_attr(name: &str) -> bool {
    matches!(
        name,
        "id" | "unique" | "index" | "map" | "ignore" | "schema" | "fulltext" | "shardKey"
    )
}

/// What a top-level name declares. One lookup answers both "is this type known" and "is a
/// field of this type a relation", with the model behind it.
#[derive(Clone, Copy)]
struct Top<'s> {
    /// `model`, `view`, `type` or `enum`, for messages.
    kind: &'static str,
    model: Option<&'s Model<'s>>,
}

/// How a field's type resolves.
#[derive(Clone, Copy)]
enum Resolved<'s> {
    /// A scalar, enum, composite type or `Unsupported`: a column.
    Column,
    /// A model or view: a relation field.
    Relation(&'s Model<'s>),
    /// A name nothing declares.
    Unknown,
}

fn resolve<'s>(f: &Field, top: &FastMap<&str, Top<'s>>) -> Resolved<'s> {
    match &f.ty {
        // Most fields are scalars: answered without hashing the type name.
        FieldType::Named(n) if is_scalar(n) => Resolved::Column,
        FieldType::Named(n) => match top.get(n.as_ref()) {
            Some(Top { model: Some(m), .. }) if m.kind != ModelKind::Type => Resolved::Relation(m),
            Some(_) => Resolved::Column,
            None => Resolved::Unknown,
        },
        FieldType::Unsupported(_) => Resolved::Column,
    }
}

fn is_relation(f: &Field, top: &FastMap<&str, Top>) -> bool {
    matches!(resolve(f, top), Resolved::Relation(_))
}

pub fn validate(src: &str, schema: &Schema) -> Result<(), SchemaError> {
    let err = |span: Span, msg: String| Err(SchemaError::at(src, span.start, msg));

    // Top-level names share one namespace (a model and an enum cannot both be `Role`).
    let mut top: FastMap<&str, Top> =
        FastMap::with_capacity_and_hasher(schema.blocks.len(), Default::default());
    let mut datasources = 0usize;
    let mut generators: FastSet<&str> = FastSet::default();
    for block in &schema.blocks {
        let (kind, name, span, model) = match block {
            Block::Model(m) => (m.kind.keyword(), m.name.as_ref(), m.name_span, Some(m)),
            Block::Enum(e) => ("enum", e.name.as_ref(), e.name_span, None),
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
        if let Some(prev) = top.insert(name, Top { kind, model }) {
            return err(
                span,
                format!(
                    "The {kind} \"{name}\" cannot be defined because a {} with that name already exists.",
                    prev.kind
                ),
            );
        }
    }
    let ds_name = schema.datasource().map_or("db", |d| d.name.as_ref());

    let mut enum_db_names: FastSet<(Option<&str>, &str)> = FastSet::default();
    let mut seen = FastSet::default();
    for e in schema.enums() {
        let db = (
            attr_str_of(&e.attributes, "schema"),
            attr_str_of(&e.attributes, "map").unwrap_or(e.name.as_ref()),
        );
        if !enum_db_names.insert(db) {
            return err(
                e.name_span,
                format!(
                    "An enum with the same database name is already defined (enum \"{}\" maps to \"{}\").",
                    e.name, db.1
                ),
            );
        }
        if e.values.is_empty() {
            return err(
                e.name_span,
                format!(
                    "An enum must have at least one value (enum \"{}\").",
                    e.name
                ),
            );
        }
        seen.clear();
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
            if !matches!(a.name.as_ref(), "map" | "schema") {
                return err(a.span, format!("Attribute not known: \"@@{}\".", a.name));
            }
            expect_string_arg(src, a)?;
        }
    }

    let mut scratch = Scratch::default();
    let mut tables: FastMap<std::borrow::Cow<str>, &str> =
        FastMap::with_capacity_and_hasher(schema.blocks.len(), Default::default());
    for m in schema.models() {
        let names = check_model(src, m, &top, ds_name, &mut scratch)?;
        if m.kind == ModelKind::Type {
            continue;
        }
        let table = attr_str(names.map).unwrap_or(m.name.as_ref());
        let key = match attr_str(names.schema) {
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

/// The string argument of an attribute such as `@@map("name")`.
pub(crate) fn attr_str<'a>(a: Option<&'a Attribute<'_>>) -> Option<&'a str> {
    a.and_then(|a| a.arg("name", true)).and_then(Expr::as_str)
}

/// [`attr_str`] of the first attribute called `name` in `attrs`.
pub(crate) fn attr_str_of<'a>(attrs: &'a [Attribute<'_>], name: &str) -> Option<&'a str> {
    attr_str(attrs.iter().find(|a| a.name == name))
}

/// Bytes a block or field name may contain: ASCII letters, digits and `_`.
const NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    t
};

/// One bit (of 64) from a name's length and first and last bytes. Names whose bits differ
/// differ, so the scans for a repeated field or column name only run when the bit of the
/// name was already set: for a model's few dozen names that is rarely, where a scan per
/// name compared each against all those before it.
fn name_bit(name: &str) -> u64 {
    let b = name.as_bytes();
    let first = b.first().map_or(0, |&c| u32::from(c));
    let last = b.last().map_or(0, |&c| u32::from(c));
    // Truncating the length is fine: this is a filter, equal names always get equal bits.
    let key = (b.len() as u32) ^ (first << 8) ^ (last << 16);
    1 << (key.wrapping_mul(0x9E37_79B1) >> 26)
}

/// Prisma identifiers may lexically start with a digit or contain `-`; names of blocks and
/// fields may not.
fn check_name(src: &str, name: &str, span: Span, kind: &str) -> Result<(), SchemaError> {
    // Every field and block name passes through here: a table lookup per byte is about half
    // the instructions of the three range tests.
    let ok = name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && name.bytes().all(|c| NAME_BYTE[usize::from(c)]);
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
pub(crate) fn listed<'x>(a: &'x Attribute<'_>) -> impl Iterator<Item = &'x str> + Clone {
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
#[inline]
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

/// Lists [`check_model`] fills and empties per model, kept for the whole schema so they are
/// allocated once.
#[derive(Default)]
struct Scratch<'s> {
    /// Per field of the current model: how its type resolves (asked again by relation
    /// checks for other fields of the model).
    resolved: Vec<Resolved<'s>>,
    /// Scalar fields of the current model with their database column, in field order.
    columns: Vec<(&'s str, &'s Field<'s>)>,
}

/// A model's `@@map` and `@@schema` (the first of each), found while checking it.
struct ModelNames<'s> {
    map: Option<&'s Attribute<'s>>,
    schema: Option<&'s Attribute<'s>>,
}

fn check_model<'s>(
    src: &str,
    m: &'s Model<'s>,
    top: &FastMap<&str, Top<'s>>,
    ds_name: &str,
    scratch: &mut Scratch<'s>,
) -> Result<ModelNames<'s>, SchemaError> {
    let err = |span: Span, msg: String| Err(SchemaError::at(src, span.start, msg));
    let kind = m.kind.keyword();
    let mut ids = 0usize;
    let resolved = &mut scratch.resolved;
    resolved.clear();
    resolved.extend(m.fields.iter().map(|f| resolve(f, top)));
    let resolved = &scratch.resolved;
    let columns = &mut scratch.columns;
    columns.clear();
    let mut has_criterion = false;
    let mut seen_names = 0u64;
    for (i, (f, &res)) in m.fields.iter().zip(resolved).enumerate() {
        check_name(src, &f.name, f.span, "field")?;
        // Models have tens of fields: a scan of the names seen so far beats hashing each one,
        // and is only needed when the name's bit was seen before.
        let bit = name_bit(&f.name);
        let earlier = m.fields.get(..i).unwrap_or_default();
        if seen_names & bit != 0 && earlier.iter().any(|e| e.name == f.name) {
            return err(
                f.span,
                format!(
                    "Field \"{}\" is already defined on {kind} \"{}\".",
                    f.name, m.name
                ),
            );
        }
        seen_names |= bit;
        if let (Resolved::Unknown, FieldType::Named(t)) = (res, &f.ty) {
            return err(
                f.type_span,
                format!(
                    "Type \"{t}\" is neither a built-in type, nor refers to another model, composite type, or enum."
                ),
            );
        }
        // One pass over the attributes: each is classified once, repeats are caught by a
        // bit per kind, and the ones the checks below need are kept.
        let mut seen_attrs = 0u16;
        let (mut id, mut unique, mut map, mut updated_at, mut relation) =
            (false, false, None, None, None);
        for a in &f.attributes {
            let attr = FieldAttr::of(&a.name, ds_name);
            if attr == FieldAttr::Unknown {
                return err(a.span, format!("Attribute not known: \"@{}\".", a.name));
            }
            if seen_attrs & attr.bit() != 0 {
                return err(
                    a.span,
                    format!("Attribute \"@{}\" can only be defined once.", a.name),
                );
            }
            seen_attrs |= attr.bit();
            match attr {
                FieldAttr::Map => {
                    expect_string_arg(src, a)?;
                    map = Some(a);
                }
                FieldAttr::Default if a.arg("value", true).is_none() => {
                    return err(a.span, "Attribute \"@default\" expects a value.".into());
                }
                FieldAttr::Id => id = true,
                FieldAttr::Unique => unique = true,
                FieldAttr::UpdatedAt => updated_at = Some(a),
                FieldAttr::Relation => relation = Some(a),
                _ => {}
            }
        }
        if id && f.arity != Arity::Required {
            return err(
                f.span,
                format!(
                    "Fields that are marked as id must be required (field \"{}\").",
                    f.name
                ),
            );
        }
        if let Some(a) = updated_at
            && f.type_name() != "DateTime"
        {
            return err(
                a.span,
                "Fields that are marked with @updatedAt must be of type DateTime.".into(),
            );
        }
        if id {
            ids += 1;
            if ids > 1 {
                return err(
                    f.span,
                    "At most one field must be marked as the id field with the `@id` attribute."
                        .into(),
                );
            }
        }
        if let Resolved::Relation(target) = res {
            check_relation(src, m, f, relation, target, resolved, top)?;
        } else {
            let db = attr_str(map).unwrap_or(f.name.as_ref());
            columns.push((db, f));
            has_criterion |= unique && f.arity == Arity::Required;
        }
    }
    has_criterion |= ids > 0;

    // Two fields may not end up as the same database column.
    let columns = &scratch.columns;
    let mut seen_columns = 0u64;
    for (i, &(db, f)) in columns.iter().enumerate() {
        let bit = name_bit(db);
        let earlier = columns.get(..i).unwrap_or_default();
        if seen_columns & bit != 0
            && let Some(&(_, other)) = earlier.iter().find(|(c, _)| *c == db)
        {
            return err(
                f.span,
                format!(
                    "Field \"{}\" and field \"{}\" of {kind} \"{}\" both map to the database column \"{db}\".",
                    f.name, other.name, m.name
                ),
            );
        }
        seen_columns |= bit;
    }
    let scalar_field = |name: &str| columns.iter().map(|(_, f)| *f).find(|f| f.name == name);
    let mut names = ModelNames {
        map: None,
        schema: None,
    };
    let mut ignored = false;
    for a in &m.attributes {
        if !is_model_attr(&a.name) {
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
                if fields.clone().any(|f| scalar_field(f).is_none()) {
                    let unknown: Vec<&str> = fields
                        .clone()
                        .filter(|f| scalar_field(f).is_none())
                        .collect();
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
            "map" => {
                expect_string_arg(src, a)?;
                names.map = names.map.or(Some(a));
            }
            "schema" => {
                expect_string_arg(src, a)?;
                names.schema = names.schema.or(Some(a));
            }
            "ignore" => ignored = true,
            _ => {}
        }
    }
    if m.kind == ModelKind::Model && !has_criterion && !ignored {
        return err(
            m.name_span,
            format!(
                "Each model must have at least one unique criteria that has only required fields. Either mark a single field with `@id`, `@unique` or add a multi field criterion with `@@id([])` or `@@unique([])` to the model \"{}\".",
                m.name
            ),
        );
    }
    Ok(names)
}

/// `a == b`, rejecting on the last byte before comparing all: the opposite-field searches
/// compare a model's name with the type of every field of another model, and model names of
/// one length often share all but their last bytes (`Order1`, `Order2`), which made most of
/// those comparisons a call to `memcmp`.
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().last() == b.as_bytes().last() && a == b
}

/// The name a relation field belongs to: `@relation("name")` or `@relation(name: "name")`.
pub fn relation_name<'x>(f: &'x Field<'_>) -> Option<&'x str> {
    attr_str(f.attribute("relation"))
}

/// The paths of a list argument (`fields: [a, b]`); nothing for any other value.
pub(crate) fn paths<'x>(e: Option<&'x Expr<'_>>) -> impl Iterator<Item = &'x str> + Clone {
    let items: &[Expr] = match e {
        Some(Expr::Array(items)) => items,
        _ => &[],
    };
    items.iter().filter_map(|e| match e {
        Expr::Path(p) => Some(p.as_ref()),
        _ => None,
    })
}

/// Checks relation field `f` of `m` (its `@relation` attribute is `rel`) pointing at
/// `target`; `resolved` tells, per field of `m`, how its type resolves.
fn check_relation(
    src: &str,
    m: &Model,
    f: &Field,
    rel: Option<&Attribute>,
    target: &Model,
    resolved: &[Resolved],
    top: &FastMap<&str, Top>,
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
    let fields = paths(rel.and_then(|a| a.arg("fields", false)));
    let references = paths(rel.and_then(|a| a.arg("references", false)));
    if fields.clone().count() != references.clone().count() {
        return err(
            "You must specify the same number of fields in `fields` and `references`.".into(),
        );
    }
    for name in fields.clone() {
        if !m
            .fields
            .iter()
            .zip(resolved)
            .any(|(x, r)| x.name == name && !matches!(r, Resolved::Relation(_)))
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
            .any(|x| x.name == name && !is_relation(x, top))
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
    let name = attr_str(rel);
    let opposite = target.fields.iter().find(|o| {
        same_name(o.type_name(), &m.name)
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
            if !both_lists
                && no_fields
                && paths(o.attribute("relation").and_then(|a| a.arg("fields", false)))
                    .next()
                    .is_none()
            {
                return err(format!(
                    "The relation fields `{}` on Model `{}` and `{}` on Model `{}` do not provide the `fields` argument in the @relation attribute. You have to provide it on one of the two fields.",
                    f.name, m.name, o.name, target_name
                ));
            }
            Ok(())
        }
    }
}
