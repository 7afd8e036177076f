//! Golden tests against Prisma's own migration engine: for every consecutive pair of fixture
//! schemas, the set of database objects our diff touches must equal the set Prisma's SQL
//! touches. The SQL is classified statement by statement here; no expected numbers are copied.

// Test code: a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use valine_prisma::{OpKind, Operation, analyze, parse};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Table(String),
    Column(String, String),
    Index(String),
    Constraint(String, String),
    Enum(String),
}

fn fixtures_dir() -> PathBuf {
    // The CI checkout has `shared/` as a sibling of the repository folder.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/prisma");
    assert!(
        dir.is_dir(),
        "fixture folder missing: {} (expected shared/ next to the repository checkout)",
        dir.display()
    );
    dir
}

/// (version number, schema path) sorted by version, and diff files by (from, to).
type Fixtures = (Vec<(u32, PathBuf)>, BTreeMap<(u32, u32), PathBuf>);

fn fixtures() -> Fixtures {
    let mut schemas = Vec::new();
    let mut diffs = BTreeMap::new();
    let entries = std::fs::read_dir(fixtures_dir()).unwrap();
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix("valine-") else {
            continue;
        };
        if let Some(pair) = rest.strip_suffix(".diff.json") {
            let (a, b) = pair.split_once("-to-").unwrap();
            diffs.insert((a.parse().unwrap(), b.parse().unwrap()), path);
        } else if rest.ends_with(".prisma") {
            let n = rest.split('-').next().unwrap().parse().unwrap();
            schemas.push((n, path));
        }
    }
    schemas.sort();
    assert!(schemas.len() >= 2, "expected at least two fixture schemas");
    (schemas, diffs)
}

// ---------------------------------------------------------------- SQL classifier

#[derive(Debug, Clone, PartialEq)]
enum SqlTok {
    Ident(String),
    Word(String),
    Punct(char),
    Str,
}

fn sql_tokens(sql: &str) -> Vec<SqlTok> {
    let mut out = Vec::new();
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        s.push(c);
                        i += 2;
                        continue;
                    }
                    break;
                }
                s.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(if c == '"' {
                SqlTok::Ident(s)
            } else {
                SqlTok::Str
            });
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(SqlTok::Word(
                chars[start..i].iter().collect::<String>().to_uppercase(),
            ));
        } else {
            out.push(SqlTok::Punct(c));
            i += 1;
        }
    }
    out
}

struct Cursor {
    toks: Vec<SqlTok>,
    pos: usize,
}

impl Cursor {
    fn word(&mut self, w: &str) -> bool {
        if self.toks.get(self.pos) == Some(&SqlTok::Word(w.into())) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn words(&mut self, ws: &[&str]) -> bool {
        let save = self.pos;
        if ws.iter().all(|w| self.word(w)) {
            true
        } else {
            self.pos = save;
            false
        }
    }
    /// A possibly schema-qualified quoted name: `"s"."t"` → `s.t`.
    fn name(&mut self) -> String {
        let mut parts = Vec::new();
        while let Some(SqlTok::Ident(s)) = self.toks.get(self.pos) {
            parts.push(s.clone());
            self.pos += 1;
            if self.toks.get(self.pos) == Some(&SqlTok::Punct('.')) {
                self.pos += 1;
            } else {
                break;
            }
        }
        assert!(
            !parts.is_empty(),
            "expected a quoted name at token {} in {:?}",
            self.pos,
            self.toks
        );
        parts.join(".")
    }
    /// Splits the rest at top-level commas (ALTER TABLE clause lists).
    fn clauses(&self) -> Vec<Cursor> {
        let mut out = Vec::new();
        let mut depth = 0i32;
        let mut cur = Vec::new();
        for t in &self.toks[self.pos..] {
            match t {
                SqlTok::Punct('(') => depth += 1,
                SqlTok::Punct(')') => depth -= 1,
                SqlTok::Punct(',') if depth == 0 => {
                    out.push(Cursor {
                        toks: std::mem::take(&mut cur),
                        pos: 0,
                    });
                    continue;
                }
                _ => {}
            }
            cur.push(t.clone());
        }
        out.push(Cursor { toks: cur, pos: 0 });
        out
    }
}

/// Prisma recreates an enum through temporary `X_new` / `X_old` types; they are `X`.
fn enum_name(n: String) -> String {
    n.strip_suffix("_new")
        .or_else(|| n.strip_suffix("_old"))
        .map_or(n.clone(), str::to_string)
}

/// Columns Prisma re-types to a temporary `X_new` enum while recreating enum `X`; their
/// `DROP DEFAULT` / `TYPE` / `SET DEFAULT` clauses belong to that recreation.
fn enum_recast_columns(statements: &[&str]) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for stmt in statements {
        let mut c = Cursor {
            toks: sql_tokens(stmt),
            pos: 0,
        };
        if !c.words(&["ALTER", "TABLE"]) {
            continue;
        }
        let table = c.name();
        for mut cl in c.clauses() {
            if cl.words(&["ALTER", "COLUMN"]) {
                let col = cl.name();
                let rest = &cl.toks[cl.pos..];
                if rest.first() == Some(&SqlTok::Word("TYPE".into()))
                    && matches!(rest.get(1), Some(SqlTok::Ident(t)) if t.ends_with("_new"))
                {
                    out.insert((table.clone(), col));
                }
            }
        }
    }
    out
}

/// Keys touched by one statement, plus (index name → table) for CREATE INDEX.
fn classify(
    stmt: &str,
    recast: &BTreeSet<(String, String)>,
    keys: &mut BTreeSet<Key>,
    index_tables: &mut BTreeMap<String, String>,
) {
    let mut c = Cursor {
        toks: sql_tokens(stmt),
        pos: 0,
    };
    // Transaction brackets (around enum recreation), sequences (behind an autoincrement
    // default, whose ALTER COLUMN is classified) and schema/extension creation change no
    // table, column, index, constraint or enum by themselves.
    let ignored = [
        &["BEGIN"][..],
        &["COMMIT"],
        &["CREATE", "SEQUENCE"],
        &["ALTER", "SEQUENCE"],
        &["DROP", "SEQUENCE"],
        &["CREATE", "SCHEMA"],
        &["CREATE", "EXTENSION"],
    ];
    if ignored.iter().any(|w| c.words(w)) {
        return;
    }
    if c.words(&["CREATE", "TABLE"]) || c.words(&["DROP", "TABLE"]) {
        keys.insert(Key::Table(c.name()));
    } else if c.word("CREATE") {
        c.word("UNIQUE");
        if c.word("INDEX") {
            c.word("CONCURRENTLY");
            let name = c.name();
            assert!(c.word("ON"), "CREATE INDEX without ON: {stmt}");
            index_tables.insert(name.clone(), c.name());
            keys.insert(Key::Index(name));
        } else if c.word("TYPE") {
            keys.insert(Key::Enum(enum_name(c.name())));
        } else {
            panic!("unclassified statement: {stmt}");
        }
    } else if c.words(&["DROP", "INDEX"]) {
        keys.insert(Key::Index(c.name()));
    } else if c.words(&["ALTER", "INDEX"]) {
        keys.insert(Key::Index(c.name()));
        assert!(c.words(&["RENAME", "TO"]), "unclassified statement: {stmt}");
        keys.insert(Key::Index(c.name()));
    } else if c.words(&["DROP", "TYPE"]) || c.words(&["ALTER", "TYPE"]) {
        keys.insert(Key::Enum(enum_name(c.name())));
    } else if c.words(&["ALTER", "TABLE"]) {
        let table = c.name();
        if c.words(&["RENAME", "TO"]) {
            keys.insert(Key::Table(table));
            keys.insert(Key::Table(c.name()));
            return;
        }
        if c.words(&["RENAME", "COLUMN"]) {
            keys.insert(Key::Column(table.clone(), c.name()));
            assert!(c.word("TO"));
            keys.insert(Key::Column(table, c.name()));
            return;
        }
        for mut cl in c.clauses() {
            if cl.words(&["ADD", "COLUMN"]) || cl.words(&["DROP", "COLUMN"]) {
                keys.insert(Key::Column(table.clone(), cl.name()));
            } else if cl.words(&["ALTER", "COLUMN"]) {
                let col = cl.name();
                // Part of an enum recreation: the enum key covers it.
                if !recast.contains(&(table.clone(), col.clone())) {
                    keys.insert(Key::Column(table.clone(), col));
                }
            } else if cl.words(&["ADD", "CONSTRAINT"]) || cl.words(&["DROP", "CONSTRAINT"]) {
                keys.insert(Key::Constraint(table.clone(), cl.name()));
            } else if cl.words(&["RENAME", "CONSTRAINT"]) {
                keys.insert(Key::Constraint(table.clone(), cl.name()));
                assert!(cl.word("TO"));
                keys.insert(Key::Constraint(table.clone(), cl.name()));
            } else {
                panic!("unclassified ALTER TABLE clause in: {stmt}");
            }
        }
    } else {
        panic!("unclassified statement: {stmt}");
    }
}

/// Objects inside a created or dropped table are part of that table's key, on both sides:
/// Prisma spells out a new table's indexes and foreign keys, our `addModel` covers them.
fn fold_into_tables(keys: BTreeSet<Key>, index_tables: &BTreeMap<String, String>) -> BTreeSet<Key> {
    let whole: BTreeSet<String> = keys
        .iter()
        .filter_map(|k| match k {
            Key::Table(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    keys.into_iter()
        .filter(|k| match k {
            Key::Column(t, _) | Key::Constraint(t, _) => !whole.contains(t),
            Key::Index(n) => index_tables.get(n).is_none_or(|t| !whole.contains(t)),
            _ => true,
        })
        .collect()
}

fn prisma_keys(diff: &Value) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    let mut index_tables = BTreeMap::new();
    let statements: Vec<&str> = diff["statements"]
        .as_array()
        .expect("statements array")
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let recast = enum_recast_columns(&statements);
    for s in &statements {
        classify(s, &recast, &mut keys, &mut index_tables);
    }
    fold_into_tables(keys, &index_tables)
}

fn op_keys(ops: &[Operation]) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    for op in ops {
        let t = op.table.clone();
        let col = || op.column.clone().unwrap();
        let obj = || {
            op.object
                .clone()
                .unwrap_or_else(|| panic!("{op:?} names no object"))
        };
        match op.kind {
            OpKind::AddModel | OpKind::DropModel => {
                keys.insert(Key::Table(t));
            }
            OpKind::RenameTable => {
                keys.insert(Key::Table(op.from.clone().unwrap()));
                keys.insert(Key::Table(op.to.clone().unwrap()));
            }
            OpKind::RenameColumn => {
                keys.insert(Key::Column(t.clone(), op.from.clone().unwrap()));
                keys.insert(Key::Column(t, op.to.clone().unwrap()));
            }
            OpKind::AddField
            | OpKind::DropField
            | OpKind::AlterType
            | OpKind::AlterNativeType
            | OpKind::MakeRequired
            | OpKind::MakeOptional
            | OpKind::AlterDefault => {
                keys.insert(Key::Column(t, col()));
            }
            OpKind::AddIndex | OpKind::DropIndex | OpKind::AddUnique | OpKind::DropUnique => {
                keys.insert(Key::Index(obj()));
            }
            OpKind::RenameIndex => {
                keys.insert(Key::Index(op.from.clone().unwrap()));
                keys.insert(Key::Index(op.to.clone().unwrap()));
            }
            OpKind::RenameConstraint => {
                keys.insert(Key::Constraint(t.clone(), op.from.clone().unwrap()));
                keys.insert(Key::Constraint(t, op.to.clone().unwrap()));
            }
            OpKind::AlterPrimaryKey | OpKind::AddRelation | OpKind::DropRelation => {
                keys.insert(Key::Constraint(t, obj()));
            }
            OpKind::AddEnum
            | OpKind::DropEnum
            | OpKind::AddEnumValue
            | OpKind::DropEnumValue
            | OpKind::RenameEnum
            | OpKind::RenameEnumValue => {
                keys.insert(Key::Enum(t));
            }
        }
    }
    keys
}

/// Whether Prisma's engine refused a pair (it reports an error instead of statements).
fn prisma_rejected(diff: &Value) -> bool {
    diff.get("error").is_some() || diff.get("errors").is_some() || diff.get("statements").is_none()
}

fn load_diff(path: &PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_fixture_schema_parses_or_is_rejected_like_prisma() {
    let (schemas, diffs) = fixtures();
    // Versions Prisma refused are the endpoints of a rejected pair; every other version was
    // accepted by Prisma's engine, so it must parse here too.
    let mut maybe_invalid = BTreeSet::new();
    for ((a, b), path) in &diffs {
        if prisma_rejected(&load_diff(path)) {
            maybe_invalid.insert(*a);
            maybe_invalid.insert(*b);
        }
    }
    for (n, path) in &schemas {
        let src = std::fs::read_to_string(path).unwrap();
        match parse(&src) {
            Ok(_) => {}
            Err(e) if maybe_invalid.contains(n) => {
                println!("fixture {n} is rejected, as Prisma rejects it: {e}");
            }
            Err(e) => panic!(
                "fixture {n} ({}) is valid Prisma but was rejected: {e}",
                path.display()
            ),
        }
    }
}

#[test]
fn identical_fixture_schemas_have_no_operations() {
    let (schemas, _) = fixtures();
    for (n, path) in &schemas {
        let src = std::fs::read_to_string(path).unwrap();
        let a = analyze(&src, &src).unwrap();
        assert!(
            a.operations.is_empty(),
            "fixture {n} vs itself: {:#?}",
            a.operations
        );
        assert_eq!(a.risk_score, 0);
        assert!(a.warnings.is_empty());
    }
}

#[test]
fn diffs_touch_exactly_what_prisma_migrates() {
    let (schemas, diffs) = fixtures();
    let mut checked = 0;
    for pair in schemas.windows(2) {
        let ((a, pa), (b, pb)) = (&pair[0], &pair[1]);
        let diff_path = diffs
            .get(&(*a, *b))
            .unwrap_or_else(|| panic!("no engine diff for {a} → {b}"));
        let diff = load_diff(diff_path);
        let old = std::fs::read_to_string(pa).unwrap();
        let new = std::fs::read_to_string(pb).unwrap();
        if prisma_rejected(&diff) {
            // Prisma could not diff this pair because one side is invalid: so must we.
            let e = analyze(&old, &new).err().unwrap_or_else(|| {
                panic!("{a} → {b}: Prisma rejected this pair but we accepted both schemas")
            });
            println!("{a} → {b}: rejected like Prisma: {e}");
            checked += 1;
            continue;
        }
        let analysis = analyze(&old, &new).unwrap_or_else(|e| panic!("{a} → {b}: {e}"));
        let expected = prisma_keys(&diff);
        let actual = op_keys(&analysis.operations);
        if diff["empty"].as_bool() == Some(true) {
            assert!(
                analysis.operations.is_empty(),
                "{a} → {b} is empty for Prisma: {:#?}",
                analysis.operations
            );
        }
        let missing: Vec<_> = expected.difference(&actual).collect();
        let extra: Vec<_> = actual.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{a} → {b}: missing (Prisma changes, we don't) {missing:#?}\nextra (we change, Prisma doesn't) {extra:#?}"
        );
        checked += 1;
    }
    assert_eq!(checked, schemas.len() - 1);
}

#[test]
fn fixture_14_to_15_risk_reflects_drops_and_required_changes() {
    let (schemas, _) = fixtures();
    let get = |n: u32| {
        std::fs::read_to_string(&schemas.iter().find(|(v, _)| *v == n).unwrap().1).unwrap()
    };
    let a = analyze(&get(14), &get(15)).unwrap();
    // Script and Audition were replaced by differently named models: drops, destructive.
    assert!(a.summary.has_destructive);
    assert_eq!(a.summary.drop_models, 2);
    assert_eq!(a.window_recommendation.as_str(), "scheduled-maintenance");
    assert!(
        a.operations
            .iter()
            .any(|o| o.kind == OpKind::MakeRequired
                && o.column.as_deref() == Some("normalizedEmail"))
    );
    assert!(a.warnings.iter().any(|w| w.contains("normalizedEmail")));
    // `updatedAt DateTime` added as required without a default on existing tables.
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("`updatedAt`") && w.contains("posts"))
    );
}

#[test]
fn the_comparison_can_fail() {
    // Guard against a vacuous golden test: for every non-empty engine diff, the classifier
    // finds changes, and an analysis that misses them (old vs old) does not match.
    let (schemas, diffs) = fixtures();
    let mut non_empty = 0;
    for ((a, _), path) in &diffs {
        let diff = load_diff(path);
        if prisma_rejected(&diff) || diff["empty"].as_bool() == Some(true) {
            continue;
        }
        let expected = prisma_keys(&diff);
        assert!(
            !expected.is_empty(),
            "{a}: non-empty diff classified as no change"
        );
        let src =
            std::fs::read_to_string(&schemas.iter().find(|(v, _)| v == a).unwrap().1).unwrap();
        let nothing = analyze(&src, &src).unwrap();
        assert_ne!(op_keys(&nothing.operations), expected);
        non_empty += 1;
    }
    assert!(non_empty > 0, "no non-empty engine diff among the fixtures");
}

#[test]
fn classifier_reads_prisma_sql_shapes() {
    // Statement shapes Prisma emits that the fixtures do not all contain (enum value removal,
    // autoincrement, renames), classified by the same code as the golden test.
    let diff = serde_json::json!({ "statements": [
        "BEGIN",
        "CREATE TYPE \"Role_new\" AS ENUM ('A')",
        "ALTER TABLE \"User\" ALTER COLUMN \"role\" DROP DEFAULT",
        "ALTER TABLE \"User\" ALTER COLUMN \"role\" TYPE \"Role_new\" USING (\"role\"::text::\"Role_new\")",
        "ALTER TYPE \"Role\" RENAME TO \"Role_old\"",
        "ALTER TYPE \"Role_new\" RENAME TO \"Role\"",
        "DROP TYPE \"Role_old\"",
        "ALTER TABLE \"User\" ALTER COLUMN \"role\" SET DEFAULT 'A'",
        "COMMIT",
        "CREATE SEQUENCE \"post_id_seq\"",
        "ALTER TABLE \"post\" ALTER COLUMN \"id\" SET DEFAULT nextval('post_id_seq')",
        "ALTER SEQUENCE \"post_id_seq\" OWNED BY \"post\".\"id\"",
        "ALTER INDEX \"a_idx\" RENAME TO \"b_idx\"",
        "ALTER TABLE \"post\" RENAME CONSTRAINT \"p_fkey\" TO \"q_fkey\"",
        "ALTER TABLE \"s\".\"t\" ADD COLUMN \"c\" TEXT, DROP COLUMN \"d\""
    ]});
    let keys = prisma_keys(&diff);
    let expected: BTreeSet<Key> = [
        Key::Enum("Role".into()),
        Key::Column("post".into(), "id".into()),
        Key::Index("a_idx".into()),
        Key::Index("b_idx".into()),
        Key::Constraint("post".into(), "p_fkey".into()),
        Key::Constraint("post".into(), "q_fkey".into()),
        Key::Column("s.t".into(), "c".into()),
        Key::Column("s.t".into(), "d".into()),
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
}
