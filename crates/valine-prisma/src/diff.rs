//! Diff of two IRs into operations, and the risk analysis over them.

use crate::fasthash::FastMap;
use crate::ir::{Column, EnumIr, ForeignKey, Index, Ir, Table, TypeKey};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::str::FromStr;

/// Every operation the differ emits. Serialized in camelCase (`addModel`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OpKind {
    AddModel,
    AddField,
    AlterType,
    DropField,
    DropModel,
    AddEnum,
    DropEnum,
    AddEnumValue,
    DropEnumValue,
    RenameEnum,
    RenameEnumValue,
    MakeRequired,
    MakeOptional,
    AlterDefault,
    AddIndex,
    DropIndex,
    AddUnique,
    DropUnique,
    AlterPrimaryKey,
    AddRelation,
    DropRelation,
    RenameTable,
    RenameColumn,
    AlterNativeType,
    RenameIndex,
    RenameConstraint,
}

impl OpKind {
    /// Every operation, in the order of the weights table in the crate docs.
    pub const ALL: [OpKind; 26] = [
        OpKind::AddModel,
        OpKind::AddField,
        OpKind::AlterType,
        OpKind::DropField,
        OpKind::DropModel,
        OpKind::AddEnum,
        OpKind::DropEnum,
        OpKind::AddEnumValue,
        OpKind::DropEnumValue,
        OpKind::RenameEnum,
        OpKind::RenameEnumValue,
        OpKind::MakeRequired,
        OpKind::MakeOptional,
        OpKind::AlterDefault,
        OpKind::AddIndex,
        OpKind::DropIndex,
        OpKind::AddUnique,
        OpKind::DropUnique,
        OpKind::AlterPrimaryKey,
        OpKind::AddRelation,
        OpKind::DropRelation,
        OpKind::RenameTable,
        OpKind::RenameColumn,
        OpKind::AlterNativeType,
        OpKind::RenameIndex,
        OpKind::RenameConstraint,
    ];

    /// Risk weight; the table in the crate docs explains each one.
    pub fn weight(self) -> u32 {
        match self {
            OpKind::AddModel => 1,
            OpKind::AddField => 2,
            OpKind::AlterType => 7,
            OpKind::DropField => 8,
            OpKind::DropModel => 10,
            OpKind::AddEnum => 1,
            OpKind::DropEnum => 6,
            OpKind::AddEnumValue => 1,
            OpKind::DropEnumValue => 7,
            OpKind::RenameEnum => 3,
            OpKind::RenameEnumValue => 4,
            OpKind::MakeRequired => 5,
            OpKind::MakeOptional => 1,
            OpKind::AlterDefault => 1,
            OpKind::AddIndex => 3,
            OpKind::DropIndex => 2,
            OpKind::AddUnique => 5,
            OpKind::DropUnique => 3,
            OpKind::AlterPrimaryKey => 8,
            OpKind::AddRelation => 3,
            OpKind::DropRelation => 2,
            OpKind::RenameTable => 6,
            OpKind::RenameColumn => 5,
            OpKind::AlterNativeType => 4,
            OpKind::RenameIndex => 1,
            OpKind::RenameConstraint => 1,
        }
    }

    /// Data is gone after these run (a type change is not: it gets a warning instead).
    pub fn destructive(self) -> bool {
        matches!(
            self,
            OpKind::DropModel | OpKind::DropField | OpKind::DropEnum | OpKind::DropEnumValue
        )
    }

    pub fn is_type_change(self) -> bool {
        matches!(self, OpKind::AlterType | OpKind::AlterNativeType)
    }

    pub fn name(self) -> &'static str {
        match self {
            OpKind::AddModel => "addModel",
            OpKind::AddField => "addField",
            OpKind::AlterType => "alterType",
            OpKind::DropField => "dropField",
            OpKind::DropModel => "dropModel",
            OpKind::AddEnum => "addEnum",
            OpKind::DropEnum => "dropEnum",
            OpKind::AddEnumValue => "addEnumValue",
            OpKind::DropEnumValue => "dropEnumValue",
            OpKind::RenameEnum => "renameEnum",
            OpKind::RenameEnumValue => "renameEnumValue",
            OpKind::MakeRequired => "makeRequired",
            OpKind::MakeOptional => "makeOptional",
            OpKind::AlterDefault => "alterDefault",
            OpKind::AddIndex => "addIndex",
            OpKind::DropIndex => "dropIndex",
            OpKind::AddUnique => "addUnique",
            OpKind::DropUnique => "dropUnique",
            OpKind::AlterPrimaryKey => "alterPrimaryKey",
            OpKind::AddRelation => "addRelation",
            OpKind::DropRelation => "dropRelation",
            OpKind::RenameTable => "renameTable",
            OpKind::RenameColumn => "renameColumn",
            OpKind::AlterNativeType => "alterNativeType",
            OpKind::RenameIndex => "renameIndex",
            OpKind::RenameConstraint => "renameConstraint",
        }
    }
}

/// One change. `model`/`field` are Prisma names, `table`/`column` database names; for enum
/// operations `model`/`table` name the enum and `field`/`column` the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    #[serde(rename = "type")]
    pub kind: OpKind,
    pub model: String,
    pub table: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For index/unique/relation operations: the columns, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub risk: u32,
    pub destructive: bool,
    pub reason: String,
    /// A safer way to roll this change out, where one exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipe: Option<String>,
    /// The database object (index or constraint name) the operation creates or removes.
    /// Not serialized: the contract's shape is fixed; tests and callers may use it.
    #[serde(skip)]
    pub object: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    /// Seed thresholds, exactly: high above 50, medium above 20.
    pub fn from_score(score: u32) -> Severity {
        if score > 50 {
            Severity::High
        } else if score > 20 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Window {
    LowTraffic,
    OffPeak,
    ScheduledMaintenance,
}

impl Window {
    pub fn as_str(self) -> &'static str {
        match self {
            Window::LowTraffic => "low-traffic",
            Window::OffPeak => "off-peak",
            Window::ScheduledMaintenance => "scheduled-maintenance",
        }
    }
}

/// A CI gate: `--fail-on low|medium|high|destructive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Any change at all (an empty diff never fails).
    Low,
    /// Severity medium or high.
    Medium,
    High,
    /// Any destructive operation, whatever the score.
    Destructive,
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for FailOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FailOn::Low => "low",
            FailOn::Medium => "medium",
            FailOn::High => "high",
            FailOn::Destructive => "destructive",
        })
    }
}

impl FromStr for FailOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(FailOn::Low),
            "medium" => Ok(FailOn::Medium),
            "high" => Ok(FailOn::High),
            "destructive" => Ok(FailOn::Destructive),
            other => Err(format!(
                "unknown threshold `{other}` (expected low, medium, high or destructive)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub total_operations: usize,
    pub add_models: usize,
    pub drop_models: usize,
    pub add_fields: usize,
    pub drop_fields: usize,
    /// `alterType` plus `alterNativeType`: both change what the column stores.
    pub alter_types: usize,
    pub has_destructive: bool,
    pub has_type_changes: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub operations: Vec<Operation>,
    pub risk_score: u32,
    pub severity: Severity,
    pub window_recommendation: Window,
    pub summary: Summary,
    pub warnings: Vec<String>,
}

impl Analysis {
    pub fn from_operations(operations: Vec<Operation>, warnings: Vec<String>) -> Analysis {
        let risk_score = operations.iter().map(|o| o.risk).sum();
        let count = |k: OpKind| operations.iter().filter(|o| o.kind == k).count();
        let has_destructive = operations.iter().any(|o| o.destructive);
        let alter_types = operations
            .iter()
            .filter(|o| o.kind.is_type_change())
            .count();
        let summary = Summary {
            total_operations: operations.len(),
            add_models: count(OpKind::AddModel),
            drop_models: count(OpKind::DropModel),
            add_fields: count(OpKind::AddField),
            drop_fields: count(OpKind::DropField),
            alter_types,
            has_destructive,
            has_type_changes: alter_types > 0,
        };
        let window_recommendation = if risk_score > 50 || has_destructive {
            Window::ScheduledMaintenance
        } else if risk_score > 20 || summary.has_type_changes {
            Window::OffPeak
        } else {
            Window::LowTraffic
        };
        Analysis {
            operations,
            risk_score,
            severity: Severity::from_score(risk_score),
            window_recommendation,
            summary,
            warnings,
        }
    }

    /// Whether this analysis reaches a `--fail-on` threshold.
    pub fn meets(&self, threshold: FailOn) -> bool {
        match threshold {
            FailOn::Low => !self.operations.is_empty(),
            FailOn::Medium => self.severity >= Severity::Medium,
            FailOn::High => self.severity >= Severity::High,
            FailOn::Destructive => self.summary.has_destructive,
        }
    }

    /// A plain-text report for CI logs.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Schema migration risk: {} (score {}), window: {}",
            self.severity.as_str().to_uppercase(),
            self.risk_score,
            self.window_recommendation.as_str()
        );
        let s = &self.summary;
        let _ = writeln!(
            out,
            "{} operation(s): {} model(s) added, {} dropped; {} field(s) added, {} dropped; {} type change(s){}",
            s.total_operations,
            s.add_models,
            s.drop_models,
            s.add_fields,
            s.drop_fields,
            s.alter_types,
            if s.has_destructive {
                "; DESTRUCTIVE"
            } else {
                ""
            }
        );
        if self.operations.is_empty() {
            out.push_str("No database changes.\n");
        } else {
            out.push_str("\nOperations:\n");
            for op in &self.operations {
                let target = match &op.column {
                    Some(c) => format!("{}.{}", op.table, c),
                    None => op.table.clone(),
                };
                let _ = writeln!(
                    out,
                    "  [{:>2}] {}{} {} — {}",
                    op.risk,
                    op.kind.name(),
                    if op.destructive { " (destructive)" } else { "" },
                    target,
                    op.reason
                );
                if let Some(r) = &op.recipe {
                    let _ = writeln!(out, "       recipe: {r}");
                }
            }
        }
        if !self.warnings.is_empty() {
            out.push_str("\nWarnings:\n");
            for w in &self.warnings {
                let _ = writeln!(out, "  ! {w}");
            }
        }
        out
    }
}

struct Builder {
    ops: Vec<Operation>,
    warnings: Vec<String>,
    /// Never used in practice: `push` hands it out only if the vector were somehow empty
    /// right after a push, which keeps this path free of panics without `unwrap`.
    scratch: Operation,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            ops: Vec::new(),
            warnings: Vec::new(),
            scratch: new_op(OpKind::AddModel, "", "", String::new()),
        }
    }

    fn push(&mut self, kind: OpKind, model: &str, table: &str, reason: String) -> &mut Operation {
        self.ops.push(new_op(kind, model, table, reason));
        match self.ops.last_mut() {
            Some(op) => op,
            None => &mut self.scratch,
        }
    }
}

fn new_op(kind: OpKind, model: &str, table: &str, reason: String) -> Operation {
    {
        Operation {
            kind,
            model: model.to_string(),
            table: table.to_string(),
            field: None,
            column: None,
            field_type: None,
            from: None,
            to: None,
            risk: kind.weight(),
            destructive: kind.destructive(),
            reason,
            recipe: None,
            object: None,
        }
    }
}

/// Computes the operations turning `old` into `new`, then scores them.
pub fn diff(old: &Ir<'_>, new: &Ir<'_>) -> Analysis {
    diff_with(old, new, PARALLEL_TABLES)
}

/// [`diff`], comparing the tables on two threads from `parallel_from` matched tables on.
fn diff_with(old: &Ir<'_>, new: &Ir<'_>, parallel_from: usize) -> Analysis {
    let mut b = Builder::new();
    let enum_renamed = diff_enums(&mut b, old, new);

    // Tables match by database name; an unmatched pair with the same Prisma model name is a
    // rename (the mapping changed, the model did not). Both maps are sorted by name, so one
    // merge pass pairs them: a lookup per table cost a dozen string comparisons each, several
    // times over, on large schemas.
    let mut matched: Vec<(&Table, &Table)> = Vec::with_capacity(old.tables.len());
    let mut old_only: Vec<&Table> = Vec::new();
    let mut new_only: Vec<&Table> = Vec::new();
    let mut olds = old.tables.values().peekable();
    let mut news = new.tables.values().peekable();
    loop {
        match (olds.peek(), news.peek()) {
            (Some(o), Some(n)) => match o.name.cmp(&n.name) {
                std::cmp::Ordering::Equal => {
                    matched.push((o, n));
                    olds.next();
                    news.next();
                }
                std::cmp::Ordering::Less => {
                    old_only.push(o);
                    olds.next();
                }
                std::cmp::Ordering::Greater => {
                    new_only.push(n);
                    news.next();
                }
            },
            (Some(o), None) => {
                old_only.push(o);
                olds.next();
            }
            (None, Some(n)) => {
                new_only.push(n);
                news.next();
            }
            (None, None) => break,
        }
    }
    let mut renamed: FastMap<&str, &str> = FastMap::default(); // old db name → new db name
    for t in &old_only {
        if let Some(n) = new_only
            .iter()
            .find(|n| n.model == t.model && !t.model.starts_with('_'))
        {
            renamed.insert(&t.name, &n.name);
        }
    }
    let renamed_to: BTreeSet<&str> = renamed.values().copied().collect();

    for t in old_only.iter().filter(|t| !renamed.contains_key(&*t.name)) {
        let op = b.push(
            OpKind::DropModel,
            &t.model,
            &t.name,
            format!("drops table `{}` and every row in it", t.name),
        );
        op.recipe = Some(
            "deploy code that no longer reads or writes the model first, back the table up, then drop it in a later release".into(),
        );
    }
    for t in new_only.iter().filter(|t| !renamed_to.contains(&*t.name)) {
        b.push(
            OpKind::AddModel,
            &t.model,
            &t.name,
            format!("creates table `{}` ({} columns)", t.name, t.columns.len()),
        );
    }
    // Matched and renamed pairs, in the old schema's table order (`matched` is that order
    // when nothing was renamed).
    let pairs: Vec<(&Table, &Table)> = if renamed.is_empty() {
        matched
    } else {
        old.tables
            .values()
            .filter_map(|o| {
                let new_name: &str = renamed.get(&*o.name).copied().unwrap_or(&o.name);
                new.tables.get(new_name).map(|n| (o, n))
            })
            .collect()
    };
    let pairs_b = if pairs.len() >= parallel_from {
        pairs.split_at(pairs.len() / 2)
    } else {
        (&pairs[..], &[][..])
    };
    if pairs_b.1.is_empty() {
        diff_tables(&mut b, pairs_b.0, &renamed, &enum_renamed);
    } else {
        // Tables are compared independently: the second half on another thread, its
        // operations and warnings appended after the first half's, so the order is the same
        // as one pass. If no thread can be spawned the second half is done here.
        let (first, second) = pairs_b;
        let (renamed, enum_renamed) = (&renamed, &enum_renamed);
        let second_b = std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("valine-prisma".into())
                .spawn_scoped(scope, move || {
                    let mut b2 = Builder::new();
                    diff_tables(&mut b2, second, renamed, enum_renamed);
                    b2
                });
            diff_tables(&mut b, first, renamed, enum_renamed);
            match handle.map(|h| h.join()) {
                Ok(Ok(b2)) => b2,
                _ => {
                    let mut b2 = Builder::new();
                    diff_tables(&mut b2, second, renamed, enum_renamed);
                    b2
                }
            }
        });
        b.ops.extend(second_b.ops);
        b.warnings.extend(second_b.warnings);
    }
    Analysis::from_operations(b.ops, b.warnings)
}

/// Number of matched tables from which [`diff`] compares them on two threads; below it a
/// thread costs more than it saves.
const PARALLEL_TABLES: usize = 256;

/// Compares matched (old, new) tables in order: a rename, then the table's changes.
fn diff_tables(
    b: &mut Builder,
    pairs: &[(&Table<'_>, &Table<'_>)],
    renamed: &FastMap<&str, &str>,
    enum_renamed: &FastMap<&str, &str>,
) {
    for &(o, n) in pairs {
        if n.name != o.name {
            let op = b.push(
                OpKind::RenameTable,
                &n.model,
                &n.name,
                format!("renames table `{}` to `{}`", o.name, n.name),
            );
            op.from = Some(o.name.to_string());
            op.to = Some(n.name.to_string());
            op.recipe = Some(
                "old application code still uses the old name: expand-contract (create a view or the new table, dual-write, switch reads, then drop the old name)".into(),
            );
        }
        diff_table(b, o, n, renamed, enum_renamed);
    }
}

/// Enum operations; returns the enum renames (old → new database name) so that columns of a
/// renamed enum are not reported as type changes.
fn diff_enums<'i>(b: &mut Builder, old: &'i Ir<'_>, new: &'i Ir<'_>) -> FastMap<&'i str, &'i str> {
    let mut renamed: BTreeMap<&str, &EnumIr> = BTreeMap::new();
    for e in old
        .enums
        .values()
        .filter(|e| !new.enums.contains_key(&e.db_name))
    {
        if let Some(n) = new
            .enums
            .values()
            .find(|n| n.name == e.name && !old.enums.contains_key(&n.db_name))
        {
            renamed.insert(&e.db_name, n);
            let op = b.push(
                OpKind::RenameEnum,
                n.name,
                &n.db_name,
                format!("renames enum type `{}` to `{}`", e.db_name, n.db_name),
            );
            op.from = Some(e.db_name.to_string());
            op.to = Some(n.db_name.to_string());
        }
    }
    let renamed_to: BTreeSet<&str> = renamed.values().map(|n| &*n.db_name).collect();
    for e in old.enums.values() {
        if new.enums.contains_key(&e.db_name) || renamed.contains_key(&*e.db_name) {
            continue;
        }
        let op = b.push(
            OpKind::DropEnum,
            e.name,
            &e.db_name,
            format!("drops enum type `{}`", e.db_name),
        );
        op.recipe = Some(
            "move columns off the enum first; the type can only be dropped once nothing uses it"
                .into(),
        );
    }
    for e in new.enums.values() {
        if old.enums.contains_key(&e.db_name) || renamed_to.contains(&*e.db_name) {
            continue;
        }
        b.push(
            OpKind::AddEnum,
            e.name,
            &e.db_name,
            format!(
                "creates enum type `{}` ({} values)",
                e.db_name,
                e.values.len()
            ),
        );
    }
    for o in old.enums.values() {
        let n = match renamed.get(&*o.db_name) {
            Some(n) => *n,
            None => match new.enums.get(&o.db_name) {
                Some(n) => n,
                None => continue,
            },
        };
        let old_db: BTreeSet<&str> = o.values.iter().map(|(_, d)| *d).collect();
        let new_db: BTreeSet<&str> = n.values.iter().map(|(_, d)| *d).collect();
        let mut value_renames: BTreeSet<&str> = BTreeSet::new();
        for &(prisma, db) in &o.values {
            if new_db.contains(db) {
                continue;
            }
            if let Some(&(_, to)) = n
                .values
                .iter()
                .find(|(p, d)| *p == prisma && !old_db.contains(d))
            {
                value_renames.insert(to);
                let op = b.push(
                    OpKind::RenameEnumValue,
                    n.name,
                    &n.db_name,
                    format!("renames value `{db}` of enum `{}` to `{to}`", n.db_name),
                );
                op.field = Some(prisma.to_string());
                op.column = Some(to.to_string());
                op.from = Some(db.to_string());
                op.to = Some(to.to_string());
                continue;
            }
            let op = b.push(
                OpKind::DropEnumValue,
                n.name,
                &n.db_name,
                format!("removes value `{db}` from enum `{}`", n.db_name),
            );
            op.field = Some(prisma.to_string());
            op.column = Some(db.to_string());
            op.recipe = Some(format!(
                "update rows that hold `{db}` to another value before deploying"
            ));
            b.warnings.push(format!(
                "Dropping value `{db}` from enum `{}`: the migration fails if any row still uses it.",
                n.db_name
            ));
        }
        for &(prisma, db) in &n.values {
            if old_db.contains(db) || value_renames.contains(db) {
                continue;
            }
            let op = b.push(
                OpKind::AddEnumValue,
                n.name,
                &n.db_name,
                format!("adds value `{db}` to enum `{}`", n.db_name),
            );
            op.field = Some(prisma.to_string());
            op.column = Some(db.to_string());
        }
    }
    renamed
        .iter()
        .map(|(old, new)| (*old, &*new.db_name))
        .collect()
}

fn cols<S: AsRef<str>>(c: &[S]) -> String {
    let parts: Vec<&str> = c.iter().map(AsRef::as_ref).collect();
    parts.join(", ")
}

fn diff_table(
    b: &mut Builder,
    o: &Table<'_>,
    n: &Table<'_>,
    renamed: &FastMap<&str, &str>,
    enum_renamed: &FastMap<&str, &str>,
) {
    // Most tables of a real migration are untouched; one structural comparison proves it
    // without building the lookup maps below.
    if o == n {
        return;
    }
    let model: &str = &n.model;
    let table: &str = &n.name;
    // Columns match by database name; same Prisma field under a new mapping is a rename.
    // Tables are a few dozen columns wide, so lookups are linear scans over a name index.
    let old_names = NameIndex::new(&o.columns);
    let new_names = NameIndex::new(&n.columns);
    let mut col_renamed: FastMap<&str, &str> = FastMap::default();
    for c in o.columns.iter().filter(|c| !new_names.contains_key(c.name)) {
        if let Some(x) = n
            .columns
            .iter()
            .find(|x| x.field == c.field && !old_names.contains_key(x.name))
        {
            col_renamed.insert(c.name, x.name);
        }
    }
    let col_renamed_to: BTreeSet<&str> = col_renamed.values().copied().collect();
    for c in &o.columns {
        if new_names.contains_key(c.name) || col_renamed.contains_key(c.name) {
            continue;
        }
        let op = b.push(
            OpKind::DropField,
            model,
            table,
            format!("drops column `{}` and its data", c.name),
        );
        op.field = Some(c.field.to_string());
        op.column = Some(c.name.to_string());
        op.field_type = Some(c.field_type());
        op.recipe = Some(
            "stop reading and writing the field in a release first, then drop the column".into(),
        );
    }
    for c in &n.columns {
        if old_names.contains_key(c.name) || col_renamed_to.contains(c.name) {
            continue;
        }
        let required_no_default = !c.nullable && c.default.is_none() && !c.is_list();
        let op = b.push(
            OpKind::AddField,
            model,
            table,
            format!(
                "adds {} column `{}` ({})",
                if c.is_list() {
                    "list"
                } else if c.nullable {
                    "nullable"
                } else {
                    "required"
                },
                c.name,
                c.db_type
            ),
        );
        op.field = Some(c.field.to_string());
        op.column = Some(c.name.to_string());
        op.field_type = Some(c.field_type());
        if required_no_default {
            op.recipe = Some(
                "add the column as nullable, backfill existing rows, then make it required".into(),
            );
            b.warnings.push(format!(
                "Adding required column `{}` to `{table}` without a default: the migration fails if the table has rows.",
                c.name
            ));
        }
    }
    for oc in &o.columns {
        let new_name = col_renamed.get(oc.name).copied().unwrap_or(oc.name);
        let Some(nc) = new_names.get(new_name).and_then(|i| n.columns.get(i)) else {
            continue;
        };
        if new_name != oc.name {
            let op = b.push(
                OpKind::RenameColumn,
                model,
                table,
                format!("renames column `{}` to `{}`", oc.name, nc.name),
            );
            op.field = Some(nc.field.to_string());
            op.column = Some(nc.name.to_string());
            op.from = Some(oc.name.to_string());
            op.to = Some(nc.name.to_string());
            op.recipe = Some(
                "running code still uses the old name: add the new column, dual-write, backfill, switch reads, then drop the old one".into(),
            );
        }
        diff_column(b, model, table, oc, nc, enum_renamed);
    }

    // Primary key, compared by columns: a name-only change is metadata.
    let same_pk = match (&o.primary_key, &n.primary_key) {
        (Some(a), Some(z)) => {
            same_entries(&a.columns, &col_renamed, &z.columns, &FastMap::default())
        }
        (None, None) => true,
        _ => false,
    };
    if !same_pk {
        let op = b.push(
            OpKind::AlterPrimaryKey,
            model,
            table,
            "changes the primary key".into(),
        );
        op.from = o.primary_key.as_ref().map(|p| cols(&p.columns));
        op.to = n.primary_key.as_ref().map(|p| cols(&p.columns));
        op.object = n
            .primary_key
            .as_ref()
            .or(o.primary_key.as_ref())
            .map(|p| p.name.to_string());
        op.recipe = Some("build a unique index concurrently on the new key columns, then swap the constraint using it".into());
    } else if let (Some(old_pk_def), Some(new_pk_def)) = (&o.primary_key, &n.primary_key)
        && old_pk_def.name != new_pk_def.name
    {
        let op = b.push(
            OpKind::RenameConstraint,
            model,
            table,
            format!(
                "renames primary key `{}` to `{}`",
                old_pk_def.name, new_pk_def.name
            ),
        );
        op.column = Some(cols(&new_pk_def.columns));
        op.from = Some(old_pk_def.name.to_string());
        op.to = Some(new_pk_def.name.to_string());
        op.object = Some(new_pk_def.name.to_string());
    }

    let added: BTreeSet<&str> = n
        .columns
        .iter()
        .filter(|c| !old_names.contains_key(c.name) && !col_renamed_to.contains(c.name))
        .filter(|c| c.nullable)
        .map(|c| c.name)
        .collect();
    diff_indexes(b, model, table, o, n, &col_renamed, &added);
    diff_foreign_keys(b, model, table, o, n, &col_renamed, renamed);
}

/// Column lookup by database name: a linear scan for the usual few dozen columns, a hash
/// map only for very wide tables. The scan compares a small key per column (length, first
/// and last byte) and compares whole names only where the key matches: a table diff looks
/// names up dozens of times, and a string comparison per column made that its main cost.
struct NameIndex<'t> {
    columns: &'t [Column<'t>],
    keys: [u32; SCAN_COLUMNS],
    map: Option<FastMap<&'t str, usize>>,
}

/// Widest table looked up by scanning.
const SCAN_COLUMNS: usize = 32;

/// A name's length (low 16 bits), first and last byte: equal names have equal keys.
fn name_key(name: &str) -> u32 {
    let b = name.as_bytes();
    let first = b.first().copied().unwrap_or(0);
    let last = b.last().copied().unwrap_or(0);
    ((b.len() & 0xffff) as u32) << 16 | u32::from(first) << 8 | u32::from(last)
}

impl<'t> NameIndex<'t> {
    fn new(columns: &'t [Column<'t>]) -> Self {
        let mut keys = [0; SCAN_COLUMNS];
        let map = if columns.len() > SCAN_COLUMNS {
            let mut map = FastMap::with_capacity_and_hasher(columns.len(), Default::default());
            // The last column of a name wins, as the reverse scan below finds it.
            for (i, c) in columns.iter().enumerate() {
                map.insert(c.name, i);
            }
            Some(map)
        } else {
            for (k, c) in keys.iter_mut().zip(columns) {
                *k = name_key(c.name);
            }
            None
        };
        NameIndex { columns, keys, map }
    }

    fn get(&self, name: &str) -> Option<usize> {
        match &self.map {
            Some(map) => map.get(name).copied(),
            None => {
                let key = name_key(name);
                let keys = self.keys.get(..self.columns.len()).unwrap_or_default();
                keys.iter()
                    .zip(self.columns)
                    .rposition(|(k, c)| *k == key && c.name == name)
            }
        }
    }

    fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// An index or key entry with its column name mapped through `map`: the name, then ` rest`
/// (e.g. ` DESC`) if the entry has one.
fn entry<'x>(x: &'x str, map: &'x FastMap<&'x str, &'x str>) -> [&'x str; 3] {
    // A byte scan: entries are short, and `split_once` calls `memchr` for each.
    let (name, rest) = match x.bytes().position(|b| b == b' ') {
        Some(i) => (x.get(..i).unwrap_or(x), x.get(i + 1..).unwrap_or("")),
        None => (x, ""),
    };
    let mapped = if map.is_empty() {
        name
    } else {
        map.get(name).copied().unwrap_or(name)
    };
    if rest.is_empty() {
        [mapped, "", ""]
    } else {
        [mapped, " ", rest]
    }
}

/// Whether two entries spell the same text once each is mapped (see [`entry`]).
fn same_entry(a: &str, amap: &FastMap<&str, &str>, z: &str, zmap: &FastMap<&str, &str>) -> bool {
    let (pa, pz) = (entry(a, amap), entry(z, zmap));
    if pa[1].is_empty() && pz[1].is_empty() {
        return pa[0] == pz[0];
    }
    let len = |p: &[&str; 3]| p.iter().map(|s| s.len()).sum::<usize>();
    len(&pa) == len(&pz)
        && pa
            .iter()
            .flat_map(|s| s.bytes())
            .eq(pz.iter().flat_map(|s| s.bytes()))
}

/// Whether two column lists are the same once each is mapped (see [`entry`]).
fn same_entries<A: AsRef<str>, Z: AsRef<str>>(
    a: &[A],
    amap: &FastMap<&str, &str>,
    z: &[Z],
    zmap: &FastMap<&str, &str>,
) -> bool {
    a.len() == z.len()
        && a.iter()
            .zip(z)
            .all(|(a, z)| same_entry(a.as_ref(), amap, z.as_ref(), zmap))
}

fn diff_column(
    b: &mut Builder,
    model: &str,
    table: &str,
    o: &Column<'_>,
    n: &Column<'_>,
    enum_renamed: &FastMap<&str, &str>,
) {
    let base = |op: &mut Operation| {
        op.field = Some(n.field.to_string());
        op.column = Some(n.name.to_string());
        op.field_type = Some(n.field_type());
    };
    // A column of a renamed enum keeps its values: compare it under the enum's new name.
    let renamed_enum = match &o.type_key {
        TypeKey::Enum(e) => enum_renamed.get(&**e).copied(),
        _ => None,
    };
    let renamed_key = renamed_enum.map(|to| {
        let db = if o.is_list() {
            format!("{to}[]")
        } else {
            to.to_string()
        };
        (TypeKey::Enum(to.into()), db)
    });
    let (o_key, o_db): (&TypeKey, &str) = match &renamed_key {
        Some((key, db)) => (key, db),
        None => (&o.type_key, &o.db_type),
    };
    if *o_key != n.type_key || o.is_list() != n.is_list() {
        let op = b.push(
            OpKind::AlterType,
            model,
            table,
            format!(
                "changes the type of `{}` from {} to {}",
                n.name, o.db_type, n.db_type
            ),
        );
        base(op);
        op.from = Some(o.db_type.to_string());
        op.to = Some(n.db_type.to_string());
        op.recipe = Some("add a new column of the new type, backfill it with a cast, switch the application over, then drop the old column".into());
        if o.is_list() != n.is_list() || !safe_widening(&o.type_key, &n.type_key) {
            b.warnings.push(format!(
                "Changing `{table}.{}` from {} to {} needs a cast: rows that cannot be converted make the migration fail (Prisma may drop and recreate the column, losing its data).",
                n.name, o.db_type, n.db_type
            ));
        }
    } else if o_db != n.db_type {
        let op = b.push(
            OpKind::AlterNativeType,
            model,
            table,
            format!(
                "changes the database type of `{}` from {} to {}",
                n.name, o.db_type, n.db_type
            ),
        );
        base(op);
        op.from = Some(o.db_type.to_string());
        op.to = Some(n.db_type.to_string());
        let warning = native_change_warning(&o.db_type, &n.db_type);
        if warning.is_some() {
            op.recipe = Some("check existing values fit the new type first (e.g. max(length(col))), or add a new column and backfill".into());
        }
        if let Some(w) = warning {
            b.warnings.push(format!("`{table}.{}`: {w}", n.name));
        }
    }
    if o.nullable && !n.nullable {
        let op = b.push(
            OpKind::MakeRequired,
            model,
            table,
            format!("makes `{}` NOT NULL", n.name),
        );
        base(op);
        op.recipe = Some("backfill NULLs first; on large tables add a CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL".into());
        b.warnings.push(format!(
            "Making `{table}.{}` required: the migration fails if any row holds NULL{}.",
            n.name,
            if n.default.is_some() {
                " (the default does not fill existing rows)"
            } else {
                ""
            }
        ));
    } else if !o.nullable && n.nullable {
        let op = b.push(
            OpKind::MakeOptional,
            model,
            table,
            format!("makes `{}` nullable", n.name),
        );
        base(op);
    }
    if o.default != n.default {
        let op = b.push(
            OpKind::AlterDefault,
            model,
            table,
            format!(
                "changes the default of `{}` from {} to {}",
                n.name,
                o.default.as_deref().unwrap_or("none"),
                n.default.as_deref().unwrap_or("none")
            ),
        );
        base(op);
        op.from = o.default.as_ref().map(|d| d.to_string());
        op.to = n.default.as_ref().map(|d| d.to_string());
    }
}

/// Prisma-level type changes PostgreSQL performs without a USING cast and without loss.
fn safe_widening(from: &TypeKey<'_>, to: &TypeKey<'_>) -> bool {
    match (from, to) {
        (TypeKey::Scalar(a), TypeKey::Scalar(z)) => matches!(
            (*a, *z),
            ("Int", "BigInt" | "Float" | "Decimal" | "String")
                | ("BigInt", "Decimal" | "String")
                | ("Float" | "Decimal" | "Boolean" | "DateTime", "String")
        ),
        (TypeKey::Enum(_), TypeKey::Scalar("String")) => true,
        _ => false,
    }
}
fn parse_len(t: &str, prefix: &str) -> Option<u64> {
    t.strip_prefix(prefix)?
        .strip_prefix('(')?
        .strip_suffix(')')?
        .split(',')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// A warning when a native type change can fail or lose precision; `None` for widening.
fn native_change_warning(from: &str, to: &str) -> Option<String> {
    for p in ["varchar", "char", "bit", "varbit"] {
        if let (Some(a), Some(z)) = (parse_len(from, p), parse_len(to, p)) {
            return (z < a).then(|| {
                format!("shrinking {from} to {to} fails (or truncates) for longer values")
            });
        }
    }
    for p in ["timestamp", "timestamptz", "time", "timetz"] {
        if let (Some(a), Some(z)) = (parse_len(from, p), parse_len(to, p)) {
            return (z < a)
                .then(|| format!("reducing precision from {from} to {to} rounds stored values"));
        }
    }
    if from == "text" && (to.starts_with("varchar(") || to.starts_with("char(")) {
        return Some(format!("changing text to {to} fails for longer values"));
    }
    if (from.starts_with("varchar") || from.starts_with("char")) && to == "text" {
        return None;
    }
    if from.starts_with("decimal") && to.starts_with("decimal") {
        return Some(format!(
            "changing {from} to {to} may round or overflow stored values"
        ));
    }
    Some(format!(
        "changing {from} to {to} needs a cast and may rewrite the table"
    ))
}

/// Indexes match by definition: columns (old ones renamed by `map`), uniqueness, kind.
fn same_index(old: &Index<'_>, map: &FastMap<&str, &str>, new: &Index<'_>) -> bool {
    old.unique == new.unique
        && old.kind == new.kind
        && same_entries(&old.columns, map, &new.columns, &FastMap::default())
}

fn diff_indexes(
    b: &mut Builder,
    model: &str,
    table: &str,
    o: &Table<'_>,
    n: &Table<'_>,
    col_renamed: &FastMap<&str, &str>,
    added_nullable: &BTreeSet<&str>,
) {
    // Matched by definition (columns, uniqueness, kind); a name-only change is a rename.
    // Same definition under another name: Prisma renames the index in place.
    for i in &o.indexes {
        let Some(ni) = n.indexes.iter().find(|ni| same_index(i, col_renamed, ni)) else {
            continue;
        };
        if ni.name != i.name {
            let op = b.push(
                OpKind::RenameIndex,
                model,
                table,
                format!("renames index `{}` to `{}`", i.name, ni.name),
            );
            op.field = Some(cols(&ni.fields));
            op.column = Some(cols(&ni.columns));
            op.from = Some(i.name.to_string());
            op.to = Some(ni.name.to_string());
            op.object = Some(ni.name.to_string());
        }
    }
    for i in &o.indexes {
        if n.indexes.iter().any(|ni| same_index(i, col_renamed, ni)) {
            continue;
        }
        let kind = if i.unique {
            OpKind::DropUnique
        } else {
            OpKind::DropIndex
        };
        let op = b.push(
            kind,
            model,
            table,
            format!(
                "drops {} `{}` on ({})",
                if i.unique {
                    "unique constraint"
                } else {
                    "index"
                },
                i.name,
                cols(&i.columns)
            ),
        );
        op.field = Some(cols(&i.fields));
        op.column = Some(cols(&i.columns));
        op.from = Some(i.name.to_string());
        op.object = Some(i.name.to_string());
        if !i.unique {
            op.recipe = Some(
                "DROP INDEX CONCURRENTLY avoids blocking writes; check no hot query relies on it"
                    .into(),
            );
        }
    }
    for i in &n.indexes {
        if o.indexes.iter().any(|oi| same_index(oi, col_renamed, i)) {
            continue;
        }
        let kind = if i.unique {
            OpKind::AddUnique
        } else {
            OpKind::AddIndex
        };
        let op = b.push(
            kind,
            model,
            table,
            format!(
                "creates {} `{}` on ({})",
                if i.unique {
                    "unique constraint"
                } else {
                    "index"
                },
                i.name,
                cols(&i.columns)
            ),
        );
        op.field = Some(cols(&i.fields));
        op.column = Some(cols(&i.columns));
        op.to = Some(i.name.to_string());
        op.object = Some(i.name.to_string());
        if i.unique {
            op.recipe = Some(format!(
                "find duplicates first (SELECT {c}, count(*) FROM \"{table}\" GROUP BY {c} HAVING count(*) > 1), then CREATE UNIQUE INDEX CONCURRENTLY",
                c = cols(&i.columns)
            ));
            // Over columns that are all new and nullable every existing row holds NULL,
            // which never collides; anything else can meet duplicates already stored.
            let all_new_nullable = i.columns.iter().all(|c| {
                let name = c.split_once(' ').map_or(&**c, |(n, _)| n);
                added_nullable.contains(name)
            });
            if !all_new_nullable {
                b.warnings.push(format!(
                    "New unique constraint `{}` on `{table}` ({}): the migration fails if existing rows hold duplicates.",
                    i.name,
                    cols(&i.columns)
                ));
            }
        } else {
            op.recipe =
                Some("CREATE INDEX CONCURRENTLY to avoid blocking writes on a large table".into());
        }
    }
}

/// Foreign keys match by columns and referenced table (old ones renamed by `cmap` and
/// `tmap`), referenced columns and referential actions: a changed action is a drop and
/// re-create, exactly as Prisma migrates it.
fn same_fk(
    old: &ForeignKey<'_>,
    cmap: &FastMap<&str, &str>,
    tmap: &FastMap<&str, &str>,
    new: &ForeignKey<'_>,
) -> bool {
    let target: &str = &old.referenced_table;
    let target = tmap.get(target).copied().unwrap_or(target);
    same_entries(&old.columns, cmap, &new.columns, &FastMap::default())
        && target == new.referenced_table
        && old.referenced_columns == new.referenced_columns
        && old.on_delete == new.on_delete
        && old.on_update == new.on_update
}

fn diff_foreign_keys(
    b: &mut Builder,
    model: &str,
    table: &str,
    o: &Table<'_>,
    n: &Table<'_>,
    col_renamed: &FastMap<&str, &str>,
    renamed: &FastMap<&str, &str>,
) {
    let same = |old: &ForeignKey, new: &ForeignKey| same_fk(old, col_renamed, renamed, new);
    let target = |f: &ForeignKey| {
        format!(
            "{}({}) ON DELETE {}",
            f.referenced_table,
            cols(&f.referenced_columns),
            f.on_delete
        )
    };
    for f in &o.foreign_keys {
        if let Some(z) = n.foreign_keys.iter().find(|z| same(f, z)) {
            if z.name != f.name {
                let op = b.push(
                    OpKind::RenameConstraint,
                    model,
                    table,
                    format!("renames foreign key `{}` to `{}`", f.name, z.name),
                );
                op.field = Some(z.field.to_string());
                op.column = Some(cols(&z.columns));
                op.from = Some(f.name.to_string());
                op.to = Some(z.name.to_string());
                op.object = Some(z.name.to_string());
            }
            continue;
        }
        let op = b.push(
            OpKind::DropRelation,
            model,
            table,
            format!(
                "drops foreign key `{}` ({}) → {}",
                f.name,
                cols(&f.columns),
                target(f)
            ),
        );
        op.field = Some(f.field.to_string());
        op.column = Some(cols(&f.columns));
        op.from = Some(target(f));
        op.object = Some(f.name.to_string());
    }
    for f in &n.foreign_keys {
        if o.foreign_keys.iter().any(|a| same(a, f)) {
            continue;
        }
        let op = b.push(
            OpKind::AddRelation,
            model,
            table,
            format!(
                "adds foreign key `{}` ({}) → {}",
                f.name,
                cols(&f.columns),
                target(f)
            ),
        );
        op.field = Some(f.field.to_string());
        op.column = Some(cols(&f.columns));
        op.to = Some(target(f));
        op.object = Some(f.name.to_string());
        op.recipe = Some("ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT separately, so existing rows are checked without blocking writes".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weights table in the crate docs is the documentation users read: it must say
    /// exactly what the code does, for every operation.
    #[test]
    fn documented_weights_match_the_code() {
        let docs = include_str!("lib.rs");
        let rows: Vec<(String, u32, bool)> = docs
            .lines()
            .filter_map(|l| l.strip_prefix("//! | `"))
            .filter_map(|l| {
                let (name, rest) = l.split_once('`')?;
                let cells: Vec<&str> = rest.split('|').map(str::trim).collect();
                let weight = cells.get(1)?.parse().ok()?;
                let destructive = *cells.get(2)? == "yes";
                Some((name.to_string(), weight, destructive))
            })
            .collect();
        assert_eq!(rows.len(), OpKind::ALL.len(), "one row per operation");
        for kind in OpKind::ALL {
            let row = rows.iter().find(|(n, _, _)| n == kind.name());
            assert_eq!(
                row.map(|(_, w, d)| (*w, *d)),
                Some((kind.weight(), kind.destructive())),
                "{}",
                kind.name()
            );
            let json = serde_json::to_value(kind).unwrap_or_default();
            assert_eq!(json, kind.name());
        }
    }

    /// Comparing the tables on two threads gives exactly the operations and warnings, in
    /// the same order, of one pass.
    #[test]
    fn parallel_table_comparison_matches_one_pass() {
        let base = crate::generate_schema(300);
        let target = base
            .replace("@db.VarChar(96)", "@db.VarChar(10)")
            .replace(
                "  title     String\n",
                "  title     String\n  code      Int\n",
            )
            .replace("  tags      String[]\n", "")
            .replace("@@map(\"entity_7", "@@map(\"renamed_7")
            .replace("@default(PENDING)", "@default(ACTIVE)");
        let (old, new) = (crate::parse(&base), crate::parse(&target));
        assert!(old.is_ok() && new.is_ok());
        let (old, new) = (old.unwrap_or_default(), new.unwrap_or_default());
        let (old, new) = (crate::lower(&old), crate::lower(&new));
        let one_pass = diff_with(&old, &new, usize::MAX);
        let parallel = diff_with(&old, &new, 2);
        assert!(one_pass.operations.len() > 500 && one_pass.warnings.len() > 50);
        assert_eq!(one_pass, parallel);
        assert_eq!(diff(&old, &new), one_pass);
    }

    /// Tables are paired by one merge over the two sorted maps: drops come in the old
    /// schema's table order, adds in the new one's, and a remapped model is a rename, with
    /// unmatched names on both sides interleaved around the matched ones.
    #[test]
    fn table_pairing_keeps_drop_add_and_rename_order() {
        let model = |name: &str, table: &str| {
            format!("model {name} {{\n  id Int @id\n\n  @@map(\"{table}\")\n}}\n")
        };
        let base: String = [
            model("A", "a"),
            model("C", "c"),
            model("E", "e"),
            model("G", "g"),
            model("K", "k"),
        ]
        .concat();
        let target: String = [
            model("B", "b"),
            model("C", "c"),
            model("E", "f"),
            model("H", "h"),
            model("K", "k"),
        ]
        .concat();
        let analysis = crate::analyze(&base, &target);
        assert!(analysis.is_ok(), "{analysis:?}");
        let ops: Vec<(OpKind, String)> = analysis
            .map(|a| a.operations)
            .unwrap_or_default()
            .into_iter()
            .map(|o| (o.kind, o.table))
            .collect();
        let op = |k: OpKind, t: &str| (k, t.to_string());
        assert_eq!(
            ops,
            vec![
                op(OpKind::DropModel, "a"),
                op(OpKind::DropModel, "g"),
                op(OpKind::AddModel, "b"),
                op(OpKind::AddModel, "h"),
                op(OpKind::RenameTable, "f"),
                // Its primary key's default name follows the table: `e_pkey` → `f_pkey`.
                op(OpKind::RenameConstraint, "f"),
            ]
        );
    }

    /// The keyed scan finds the last column of a name, like the plain reverse scan it
    /// replaces, also among names that share a key (same length, first and last byte).
    /// Validation rejects two columns of one name; the index must not rely on that.
    #[test]
    fn column_lookup_is_exact_under_key_collisions() {
        let parsed = crate::parse("model M {\n  id Int @id\n}\n");
        assert!(parsed.is_ok(), "{parsed:?}");
        let schema = parsed.unwrap_or_default();
        let ir = crate::lower(&schema);
        let Some(template) = ir.tables.get("M").and_then(|t| t.columns.first()) else {
            panic!("table M has its id column");
        };
        let columns: Vec<Column> = ["abcd", "axxd", "ab", "axxd", "x"]
            .into_iter()
            .map(|name| Column {
                name,
                ..template.clone()
            })
            .collect();
        let index = NameIndex::new(&columns);
        let plain = |name: &str| columns.iter().rposition(|c| c.name == name);
        for name in ["abcd", "axxd", "ab", "x", "abxd", "a", "", "axx", "id"] {
            assert_eq!(index.get(name), plain(name), "{name}");
        }
        assert_eq!(
            index.get("axxd"),
            Some(3),
            "the later column of a repeated name"
        );
    }

    #[test]
    fn seed_weights_and_destructive_set_are_exact() {
        assert_eq!(OpKind::AddModel.weight(), 1);
        assert_eq!(OpKind::AddField.weight(), 2);
        assert_eq!(OpKind::AlterType.weight(), 7);
        assert_eq!(OpKind::DropField.weight(), 8);
        assert_eq!(OpKind::DropModel.weight(), 10);
        let destructive: Vec<OpKind> = OpKind::ALL
            .into_iter()
            .filter(|k| k.destructive())
            .collect();
        assert_eq!(
            destructive,
            vec![
                OpKind::DropField,
                OpKind::DropModel,
                OpKind::DropEnum,
                OpKind::DropEnumValue
            ]
        );
    }
}
