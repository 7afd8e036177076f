//! Behaviour a user of the analyzer relies on: the seed's cases, the exact thresholds, layout
//! Prisma accepts or rejects, renames by mapping, provider-aware types, and the report shapes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use valine_prisma::{Analysis, FailOn, OpKind, Severity, analyze, parse, print};

const DS: &str =
    "datasource db {\n  provider = \"postgresql\"\n  url      = env(\"DATABASE_URL\")\n}\n\n";

fn schema(body: &str) -> String {
    format!("{DS}{body}")
}

fn run(old: &str, new: &str) -> Analysis {
    analyze(&schema(old), &schema(new)).unwrap_or_else(|e| panic!("{e}"))
}

fn kinds(a: &Analysis) -> Vec<OpKind> {
    a.operations.iter().map(|o| o.kind).collect()
}

const USER: &str =
    "model User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n}\n";
const USER_WITH_USERNAME: &str = "model User {\n  id       Int    @id @default(autoincrement())\n  email    String @unique\n  username String\n}\n";

// ------------------------------------------------------------------ seed cases

#[test]
fn adding_username_is_add_field() {
    let a = run(USER, USER_WITH_USERNAME);
    assert_eq!(kinds(&a), vec![OpKind::AddField]);
    let op = &a.operations[0];
    assert_eq!(op.field.as_deref(), Some("username"));
    assert_eq!(op.field_type.as_deref(), Some("String"));
    assert_eq!(a.risk_score, 2);
    assert_eq!(a.severity, Severity::Low);
    assert_eq!(a.window_recommendation.as_str(), "low-traffic");
    // Required without a default on an existing table: a real migration failure.
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("username") && w.contains("without a default"))
    );
    assert!(op.recipe.as_deref().unwrap().contains("backfill"));
}

#[test]
fn dropping_username_is_destructive_and_needs_maintenance() {
    let a = run(USER_WITH_USERNAME, USER);
    assert_eq!(kinds(&a), vec![OpKind::DropField]);
    assert!(a.operations[0].destructive);
    assert_eq!(a.risk_score, 8);
    assert_eq!(a.severity, Severity::Low);
    assert!(a.summary.has_destructive);
    assert_eq!(a.window_recommendation.as_str(), "scheduled-maintenance");
    assert!(a.meets(FailOn::Destructive));
    assert!(!a.meets(FailOn::Medium));
}

#[test]
fn optional_field_with_default_has_no_warning() {
    let new = "model User {\n  id    Int     @id @default(autoincrement())\n  email String  @unique\n  nick  String?\n  role  String  @default(\"user\")\n}\n";
    let a = run(USER, new);
    assert_eq!(kinds(&a), vec![OpKind::AddField, OpKind::AddField]);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

/// `n` optional fields (2 each) plus `models` new models (1 each).
fn fields_and_models(n: usize, models: usize) -> String {
    let mut s = String::from("model User {\n  id Int @id\n");
    for i in 0..n {
        s.push_str(&format!("  f{i} String?\n"));
    }
    s.push_str("}\n");
    for i in 0..models {
        s.push_str(&format!("model M{i} {{\n  id Int @id\n}}\n"));
    }
    s
}

#[test]
fn thresholds_are_exact_at_20_21_50_51() {
    let base = fields_and_models(0, 0);
    let cases = [
        (10, 0, 20, Severity::Low, "low-traffic"),
        (10, 1, 21, Severity::Medium, "off-peak"),
        (25, 0, 50, Severity::Medium, "off-peak"),
        (25, 1, 51, Severity::High, "scheduled-maintenance"),
    ];
    for (fields, models, score, severity, window) in cases {
        let a = run(&base, &fields_and_models(fields, models));
        assert_eq!(a.risk_score, score);
        assert_eq!(a.severity, severity, "score {score}");
        assert_eq!(a.window_recommendation.as_str(), window, "score {score}");
        assert!(!a.summary.has_destructive);
        assert!(a.meets(FailOn::Low));
        assert_eq!(a.meets(FailOn::Medium), score > 20);
        assert_eq!(a.meets(FailOn::High), score > 50);
    }
}

#[test]
fn a_type_change_alone_means_off_peak() {
    let old = "model A {\n  id Int @id\n  n  Int\n}\n";
    let new = "model A {\n  id Int @id\n  n  String\n}\n";
    let a = run(old, new);
    assert_eq!(kinds(&a), vec![OpKind::AlterType]);
    assert_eq!(a.risk_score, 7);
    assert_eq!(a.window_recommendation.as_str(), "off-peak");
    assert!(a.summary.has_type_changes);
    assert!(!a.operations[0].destructive);
    // Int → text is a safe widening, no cast warning.
    assert!(a.warnings.is_empty());
    let back = run(new, old);
    assert!(back.warnings.iter().any(|w| w.contains("needs a cast")));
}

#[test]
fn empty_diff_is_low_and_fails_nothing() {
    let a = run(USER, USER);
    assert!(a.operations.is_empty());
    for f in [
        FailOn::Low,
        FailOn::Medium,
        FailOn::High,
        FailOn::Destructive,
    ] {
        assert!(!a.meets(f));
    }
    assert!(a.to_text().contains("No database changes"));
}

#[test]
fn fail_on_parses() {
    assert_eq!("low".parse::<FailOn>(), Ok(FailOn::Low));
    assert_eq!("MEDIUM".parse::<FailOn>(), Ok(FailOn::Medium));
    assert_eq!("high".parse::<FailOn>(), Ok(FailOn::High));
    assert_eq!("destructive".parse::<FailOn>(), Ok(FailOn::Destructive));
    assert!("critical".parse::<FailOn>().is_err());
    for f in [
        FailOn::Low,
        FailOn::Medium,
        FailOn::High,
        FailOn::Destructive,
    ] {
        assert_eq!(f.to_string().parse::<FailOn>(), Ok(f));
    }
    assert_eq!(Severity::Medium.to_string(), "medium");
}

#[test]
fn json_shape_matches_the_contract() {
    let a = run(USER_WITH_USERNAME, USER);
    let v = serde_json::to_value(&a).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "operations",
        "riskScore",
        "severity",
        "windowRecommendation",
        "summary",
        "warnings",
    ] {
        assert!(keys.contains(&k), "missing {k}");
    }
    assert_eq!(v["severity"], "low");
    assert_eq!(v["windowRecommendation"], "scheduled-maintenance");
    let s = &v["summary"];
    for k in [
        "totalOperations",
        "addModels",
        "dropModels",
        "addFields",
        "dropFields",
        "alterTypes",
        "hasDestructive",
        "hasTypeChanges",
    ] {
        assert!(s.get(k).is_some(), "summary.{k}");
    }
    let op = &v["operations"][0];
    assert_eq!(op["type"], "dropField");
    assert_eq!(op["model"], "User");
    assert_eq!(op["table"], "User");
    assert_eq!(op["field"], "username");
    assert_eq!(op["column"], "username");
    assert_eq!(op["fieldType"], "String");
    assert_eq!(op["risk"], 8);
    assert_eq!(op["destructive"], true);
    assert!(op["reason"].is_string());
    assert!(op.get("from").is_none());
}

#[test]
fn text_report_lists_operations_and_warnings() {
    let t = run(USER, USER_WITH_USERNAME).to_text();
    assert!(t.contains("LOW (score 2)"), "{t}");
    assert!(t.contains("addField User.username"), "{t}");
    assert!(t.contains("Warnings:"), "{t}");
}

// ------------------------------------------------------------------ database names

#[test]
fn renaming_prisma_names_that_keep_mappings_is_no_change() {
    let old = "model User {\n  id   Int    @id\n  name String @map(\"full_name\")\n\n  @@map(\"users\")\n}\n";
    let new = "model Account {\n  id       Int    @id\n  fullName String @map(\"full_name\")\n\n  @@map(\"users\")\n}\n";
    let a = run(old, new);
    assert!(a.operations.is_empty(), "{:#?}", a.operations);
}

#[test]
fn changing_a_mapping_is_a_rename() {
    let old = "model User {\n  id   Int    @id\n  name String @map(\"full_name\")\n\n  @@map(\"users\")\n}\n";
    let new = "model User {\n  id   Int    @id\n  name String @map(\"display_name\")\n\n  @@map(\"accounts\")\n}\n";
    let a = run(old, new);
    // Renaming a table keeps its key's name (`users_pkey`); Prisma expects `accounts_pkey`.
    assert_eq!(
        kinds(&a),
        vec![
            OpKind::RenameTable,
            OpKind::RenameColumn,
            OpKind::RenameConstraint
        ]
    );
    assert_eq!(a.operations[2].to.as_deref(), Some("accounts_pkey"));
    let t = &a.operations[0];
    assert_eq!(
        (t.from.as_deref(), t.to.as_deref()),
        (Some("users"), Some("accounts"))
    );
    let c = &a.operations[1];
    assert_eq!(c.model, "User");
    assert_eq!(c.table, "accounts");
    assert_eq!(c.field.as_deref(), Some("name"));
    assert_eq!(
        (c.from.as_deref(), c.to.as_deref()),
        (Some("full_name"), Some("display_name"))
    );
    assert!(!a.summary.has_destructive);
}

#[test]
fn db_text_on_string_is_no_change_but_varchar_length_is() {
    let text = "model A {\n  id Int    @id\n  s  String @db.Text\n}\n";
    let plain = "model A {\n  id Int    @id\n  s  String\n}\n";
    assert!(run(text, plain).operations.is_empty());
    assert!(run(plain, text).operations.is_empty());
    let v50 = "model A {\n  id Int    @id\n  s  String @db.VarChar(50)\n}\n";
    let v100 = "model A {\n  id Int    @id\n  s  String @db.VarChar(100)\n}\n";
    let up = run(v50, v100);
    assert_eq!(kinds(&up), vec![OpKind::AlterNativeType]);
    assert_eq!(up.operations[0].from.as_deref(), Some("varchar(50)"));
    assert_eq!(up.operations[0].to.as_deref(), Some("varchar(100)"));
    assert!(up.warnings.is_empty());
    assert!(up.summary.has_type_changes);
    let down = run(v100, v50);
    assert!(
        down.warnings.iter().any(|w| w.contains("shrinking")),
        "{:?}",
        down.warnings
    );
}

#[test]
fn updated_at_and_client_side_defaults_do_not_reach_the_database() {
    let old = "model A {\n  id String   @id @default(uuid())\n  u  DateTime\n}\n";
    let new = "model A {\n  id String   @id @default(cuid())\n  u  DateTime @updatedAt\n}\n";
    assert!(run(old, new).operations.is_empty());
}

#[test]
fn nullability_defaults_and_required_warnings() {
    let old =
        "model A {\n  id Int     @id\n  a  String?\n  b  String\n  c  Int     @default(1)\n}\n";
    let new =
        "model A {\n  id Int     @id\n  a  String\n  b  String?\n  c  Int     @default(2)\n}\n";
    let a = run(old, new);
    assert_eq!(
        kinds(&a),
        vec![
            OpKind::MakeRequired,
            OpKind::MakeOptional,
            OpKind::AlterDefault
        ]
    );
    assert!(a.warnings.iter().any(|w| w.contains("`A.a` required")));
    assert_eq!(a.operations[2].from.as_deref(), Some("1"));
    assert_eq!(a.operations[2].to.as_deref(), Some("2"));
}

#[test]
fn enums_values_and_mapped_values() {
    let old = "model A {\n  id Int  @id\n  r  Role @default(USER)\n}\nenum Role {\n  USER\n  ADMIN\n  GUEST\n}\n";
    let new = "model A {\n  id Int  @id\n  r  Role @default(USER)\n}\nenum Role {\n  USER  @map(\"user\")\n  ADMIN\n  OWNER\n\n  @@map(\"role\")\n}\nenum Extra {\n  X\n}\n";
    let a = run(old, new);
    let k = kinds(&a);
    assert!(k.contains(&OpKind::RenameEnum));
    assert!(k.contains(&OpKind::RenameEnumValue));
    assert!(k.contains(&OpKind::DropEnumValue));
    assert!(k.contains(&OpKind::AddEnumValue));
    assert!(k.contains(&OpKind::AddEnum));
    // The mapped default value changes what the database stores.
    assert!(k.contains(&OpKind::AlterDefault));
    // The column keeps its (renamed) enum: not a type change.
    assert!(
        !k.contains(&OpKind::AlterType) && !k.contains(&OpKind::AlterNativeType),
        "{k:?}"
    );
    assert!(a.summary.has_destructive);
    assert!(a.warnings.iter().any(|w| w.contains("GUEST")));
    let dropped = run(old, "model A {\n  id Int @id\n}\n");
    assert!(kinds(&dropped).contains(&OpKind::DropEnum));
}

#[test]
fn indexes_uniques_keys_and_relations() {
    let old = "model User {\n  id    Int    @id\n  email String\n  posts Post[]\n}\nmodel Post {\n  id       Int  @id\n  authorId Int\n  author   User @relation(fields: [authorId], references: [id])\n\n  @@index([authorId])\n}\n";
    let new = "model User {\n  id    Int    @id\n  email String @unique\n  posts Post[]\n}\nmodel Post {\n  id       Int\n  authorId Int\n  author   User @relation(fields: [authorId], references: [id], onDelete: Cascade)\n\n  @@id([id, authorId])\n}\n";
    let a = run(old, new);
    let k = kinds(&a);
    assert!(k.contains(&OpKind::AddUnique), "{k:?}");
    assert!(k.contains(&OpKind::DropIndex), "{k:?}");
    assert!(k.contains(&OpKind::AlterPrimaryKey), "{k:?}");
    // A changed referential action is re-created, as Prisma does it.
    assert!(
        k.contains(&OpKind::DropRelation) && k.contains(&OpKind::AddRelation),
        "{k:?}"
    );
    let unique = a
        .operations
        .iter()
        .find(|o| o.kind == OpKind::AddUnique)
        .unwrap();
    assert_eq!(unique.to.as_deref(), Some("User_email_key"));
    assert!(a.warnings.iter().any(|w| w.contains("duplicates")));
    let add_index = run(
        new,
        &new.replace(
            "@@id([id, authorId])",
            "@@id([id, authorId])\n  @@index([authorId])",
        ),
    );
    assert_eq!(kinds(&add_index), vec![OpKind::AddIndex]);
    assert!(
        add_index.operations[0]
            .recipe
            .as_deref()
            .unwrap()
            .contains("CONCURRENTLY")
    );
}

#[test]
fn renaming_an_enum_type_leaves_its_columns_alone() {
    let old = "model A {\n  id Int    @id\n  r  Role\n  rs Role[]\n}\nenum Role {\n  USER\n}\n";
    let new = "model A {\n  id Int    @id\n  r  Role\n  rs Role[]\n}\nenum Role {\n  USER\n\n  @@map(\"role\")\n}\n";
    let a = run(old, new);
    assert_eq!(kinds(&a), vec![OpKind::RenameEnum]);
    assert_eq!(a.operations[0].from.as_deref(), Some("Role"));
    assert_eq!(a.operations[0].to.as_deref(), Some("role"));
}

#[test]
fn unique_warning_only_when_existing_rows_can_collide() {
    let base = "model A {\n  id Int @id\n}\n";
    let nullable = run(
        base,
        "model A {\n  id   Int     @id\n  code String? @unique\n}\n",
    );
    assert_eq!(kinds(&nullable), vec![OpKind::AddField, OpKind::AddUnique]);
    assert!(nullable.warnings.is_empty(), "{:?}", nullable.warnings);
    let defaulted = run(
        base,
        "model A {\n  id   Int    @id\n  code String @unique @default(\"x\")\n}\n",
    );
    assert!(
        defaulted.warnings.iter().any(|w| w.contains("duplicates")),
        "{:?}",
        defaulted.warnings
    );
}

#[test]
fn name_only_changes_are_cheap_renames() {
    let old = "model U {\n  id Int @id\n  ps P[]\n}\nmodel P {\n  id  Int @id\n  uId Int\n  u   U   @relation(fields: [uId], references: [id])\n\n  @@index([uId])\n}\n";
    let new = "model U {\n  id Int @id(map: \"u_pk\")\n  ps P[]\n}\nmodel P {\n  id  Int @id\n  uId Int\n  u   U   @relation(fields: [uId], references: [id], map: \"p_u_fk\")\n\n  @@index([uId], map: \"p_u_idx\")\n}\n";
    let a = run(old, new);
    let mut k = kinds(&a);
    k.sort();
    assert_eq!(
        k,
        vec![
            OpKind::RenameIndex,
            OpKind::RenameConstraint,
            OpKind::RenameConstraint
        ]
    );
    let idx = a
        .operations
        .iter()
        .find(|o| o.kind == OpKind::RenameIndex)
        .unwrap();
    assert_eq!(
        (idx.from.as_deref(), idx.to.as_deref()),
        (Some("P_uId_idx"), Some("p_u_idx"))
    );
    assert_eq!(a.risk_score, 3);
    assert!(a.warnings.is_empty());
}

#[test]
fn implicit_many_to_many_creates_a_join_table() {
    let old = "model A {\n  id Int @id\n}\nmodel B {\n  id Int @id\n}\n";
    let new = "model A {\n  id Int @id\n  bs B[]\n}\nmodel B {\n  id Int @id\n  as A[]\n}\n";
    let a = run(old, new);
    assert_eq!(kinds(&a), vec![OpKind::AddModel]);
    assert_eq!(a.operations[0].table, "_AToB");
}

// ------------------------------------------------------------------ layout

#[test]
fn layout_variants_parse() {
    let cases = [
        (
            "closing brace comment",
            "model A {\n  id Int @id\n} // end of A\n",
        ),
        ("crlf", "model A {\r\n  id Int @id\r\n  n  String?\r\n}\r\n"),
        (
            "tabs",
            "model A {\n\tid\tInt\t@id\n\tn\tString\t@default(\"x\")\n}\n",
        ),
        (
            "comments between fields",
            "model A {\n  // leading\n  id Int @id // trailing\n  /// doc for n\n\n  // another\n  n String\n  // before attribute\n  @@map(\"a\") // after attribute\n}\n",
        ),
        (
            "model named constructor",
            "model constructor {\n  id Int @id\n}\n",
        ),
        (
            "empty model block braces",
            "model A {\n  id Int @id\n}\nenum E {\n  X\n}\n",
        ),
        ("no trailing newline", "model A {\n  id Int @id\n}"),
        (
            "attribute without spaces",
            "model A {\n  id Int@id@default(autoincrement())\n}\n",
        ),
        (
            "comment after open brace",
            "model A { // comment\n  id Int @id\n}\n",
        ),
        (
            "text after open brace is ignored, as by Prisma",
            "model A { ignored words\n  id Int @id\n}\n",
        ),
        (
            "next block after a closing brace",
            "model A {\n  id Int @id\n} model B {\n  id Int @id\n}\n",
        ),
        (
            "trailing comma in arguments",
            "model A {\n  id Int @id @default(1,)\n}\n",
        ),
        (
            "DEL and C1 characters in strings",
            "model A {\n  id Int    @id\n  s  String @default(\"a\u{7f}\u{85}b\")\n}\n",
        ),
    ];
    for (name, body) in cases {
        if let Err(e) = parse(&schema(body)) {
            panic!("{name}: {e}");
        }
    }
    let src = schema("model constructor {\n  id Int @id\n}\n");
    let ast = parse(&src).unwrap();
    assert!(print(&ast).contains("model constructor {"));
}

#[test]
fn brace_on_next_line_is_rejected_with_position() {
    let src = "model A\n{\n  id Int @id\n}\n";
    let e = parse(src).unwrap_err();
    assert_eq!((e.line, e.column), (2, 1), "{e}");
    assert!(e.message.contains("same line"), "{e}");
    let e = parse("enum E\n{\n  X\n}\n").unwrap_err();
    assert_eq!(e.line, 2);
}

#[test]
fn rejections_carry_line_and_column() {
    let cases: &[(&str, &str, usize, usize)] = &[
        (
            "duplicate model",
            "model A {\n  id Int @id\n}\nmodel A {\n  id Int @id\n}\n",
            4,
            7,
        ),
        (
            "duplicate enum",
            "enum E {\n  X\n}\nenum E {\n  Y\n}\n",
            4,
            6,
        ),
        (
            "model and enum clash",
            "model E {\n  id Int @id\n}\nenum E {\n  Y\n}\n",
            4,
            6,
        ),
        (
            "duplicate field",
            "model A {\n  id Int @id\n  id String\n}\n",
            3,
            3,
        ),
        (
            "unknown type",
            "model A {\n  id Int @id\n  x Strin\n}\n",
            3,
            5,
        ),
        ("duplicate enum value", "enum E {\n  X\n  X\n}\n", 3, 3),
        // Prisma's `{` swallows the rest of its line, so this block never closes.
        ("field on one line", "model A { id Int @id }\n", 2, 1),
        ("braces on one line", "model A {}\n", 2, 1),
        (
            "trailing comma in a list",
            "model A {\n  id Int   @id\n  l  Int[] @default([1, 2,])\n}\n",
            3,
            27,
        ),
        ("missing type", "model A {\n  id Int @id\n  name\n}\n", 3, 3),
        (
            "optional list",
            "model A {\n  id Int @id\n  x Int[]?\n}\n",
            3,
            10,
        ),
        ("unknown keyword", "modle A {\n  id Int @id\n}\n", 1, 1),
        ("unclosed block", "model A {\n  id Int @id\n", 3, 1),
        (
            "unterminated string",
            "model A {\n  id Int @id @map(\"x)\n}\n",
            2,
            19,
        ),
        (
            "unknown attribute",
            "model A {\n  id Int @id @primary\n}\n",
            2,
            14,
        ),
        ("no unique criteria", "model A {\n  n Int\n}\n", 1, 7),
        (
            "index on unknown field",
            "model A {\n  id Int @id\n\n  @@index([nope])\n}\n",
            4,
            3,
        ),
        (
            "relation without opposite",
            "model A {\n  id  Int @id\n  bId Int\n  b   B   @relation(fields: [bId], references: [id])\n}\nmodel B {\n  id Int @id\n}\n",
            4,
            3,
        ),
        (
            "multi-line attribute",
            "model A {\n  id Int @id @default(\n    1)\n}\n",
            2,
            23,
        ),
        ("stray character", "model A {\n  id Int @id $\n}\n", 2, 14),
        (
            "two fields, one column",
            "model A {\n  id Int @id\n  a  Int @map(\"x\")\n  x  Int\n}\n",
            4,
            3,
        ),
        (
            "two models, one table",
            "model A {\n  id Int @id\n\n  @@map(\"B\")\n}\nmodel B {\n  id Int @id\n}\n",
            6,
            7,
        ),
        (
            "empty map",
            "model A {\n  id Int @id @map(\"\")\n}\n",
            2,
            14,
        ),
        (
            "two enums, one database type",
            "enum A {\n  X\n\n  @@map(\"B\")\n}\nenum B {\n  Y\n}\n",
            6,
            6,
        ),
        (
            "datasource twice",
            "datasource a {\n  provider = \"postgresql\"\n}\ndatasource b {\n  provider = \"postgresql\"\n}\n",
            4,
            1,
        ),
    ];
    for (name, src, line, column) in cases {
        match parse(src) {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => {
                assert_eq!((e.line, e.column), (*line, *column), "{name}: {e}");
                assert!(!e.message.is_empty());
            }
        }
    }
}

#[test]
fn analyze_names_the_failing_side() {
    let good = schema(USER);
    let bad = "model A {\n  id Int @id\n  id Int\n}\n";
    let e = analyze(bad, &good).unwrap_err();
    assert_eq!(e.side, Some(valine_prisma::Side::Base));
    let e = analyze(&good, bad).unwrap_err();
    assert_eq!(e.side, Some(valine_prisma::Side::Target));
    assert!(
        e.to_string()
            .starts_with("target schema: line 3, column 3:"),
        "{e}"
    );
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["line"], 3);
    assert_eq!(v["column"], 3);
    assert_eq!(v["side"], "target");
}

#[test]
fn attribute_arguments_of_every_shape_parse() {
    let body = r#"generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["multiSchema", "views"]
}

/// A documented model.
model Post {
  id       Int                      @id @default(autoincrement())
  slug     String                   @unique(map: "post_slug_key", sort: Desc) @db.VarChar(200)
  title    String                   @default("it's \"quoted\"\tand\\escaped")
  price    Decimal                  @default(-1.50) @db.Decimal(10, 2)
  rank     Float                    @default(0.5)
  big      BigInt                   @default(9007199254740993)
  flags    Int[]                    @default([1, 2, 3])
  created  DateTime                 @default(now()) @db.Timestamptz(6)
  token    String                   @default(dbgenerated("gen_random_uuid()")) @db.Uuid
  geo      Unsupported("geometry")?
  skipped  String?                  @ignore
  kind     Kind                     @default(A)

  @@unique(fields: [title, price], name: "title_price", map: "t_p")
  @@index([created(sort: Desc), rank], type: BTree, map: "created_rank")
  @@map("posts")
}

enum Kind {
  A @map("a")
  B

  @@map("kind")
}

view PostView {
  id    Int    @unique
  title String
}

type Address {
  street String
}
"#;
    let src = schema(body);
    let ast = parse(&src).unwrap_or_else(|e| panic!("{e}"));
    let printed = print(&ast);
    assert_eq!(parse(&printed).unwrap(), ast, "{printed}");
    let ir = valine_prisma::lower(&ast);
    let posts = &ir.tables["posts"];
    let col = |n: &str| posts.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(
        col("title").default.as_deref(),
        Some("'it''s \"quoted\"\tand\\escaped'")
    );
    assert_eq!(col("token").default.as_deref(), Some("gen_random_uuid()"));
    assert_eq!(col("created").db_type, "timestamptz(6)");
    assert_eq!(col("geo").db_type, "geometry");
    assert_eq!(col("kind").default.as_deref(), Some("'a'"));
    assert_eq!(col("flags").db_type, "integer[]");
    assert!(
        posts
            .indexes
            .iter()
            .any(|i| i.name == "post_slug_key" && i.unique)
    );
    assert!(posts.indexes.iter().any(|i| i.name == "t_p" && i.unique));
    assert!(
        posts
            .indexes
            .iter()
            .any(|i| i.name == "created_rank" && i.columns[0] == "created DESC")
    );
    assert!(ir.enums.contains_key("kind"));
    assert!(
        !ir.tables.contains_key("PostView"),
        "views are not migrated tables"
    );
}

#[test]
fn large_inputs_take_the_parallel_path_with_the_same_results() {
    // Over the 128 KiB threshold, the target side is built on a worker thread.
    let base = valine_prisma::generate_schema(300);
    assert!(base.len() * 2 > 128 * 1024);
    assert!(analyze(&base, &base).unwrap().operations.is_empty());
    let target = base.replacen(
        "model Entity7 {\n",
        "model Entity7 {\n  extra     String?\n",
        1,
    );
    let a = analyze(&base, &target).unwrap();
    assert_eq!(kinds(&a), vec![OpKind::AddField]);
    assert_eq!(a.operations[0].table, "entity_7");
    let broken = format!("{target}\nmodel Broken {{\n  id Int @id\n  id Int\n}}\n");
    let e = analyze(&base, &broken).unwrap_err();
    assert_eq!(e.side, Some(valine_prisma::Side::Target));
    let e = analyze(&broken, &broken).unwrap_err();
    assert_eq!(e.side, Some(valine_prisma::Side::Base));
}

/// Each `@@index` entry keeps its own sort order, also after an entry that names no field.
#[test]
fn index_sort_order_follows_its_own_entry() {
    let src =
        "model M {\n  id Int @id\n  a  Int\n  b  Int\n\n  @@index([1, a(sort: Desc), b])\n}\n";
    let parsed = valine_prisma::parse(src);
    assert!(parsed.is_ok(), "{parsed:?}");
    let schema = parsed.unwrap_or_default();
    let ir = valine_prisma::lower(&schema);
    let columns: Vec<String> = ir
        .tables
        .get("M")
        .and_then(|t| t.indexes.first())
        .map(|i| i.columns.iter().map(|c| c.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(columns, ["a DESC", "b"]);
}
