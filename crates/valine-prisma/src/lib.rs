//! Prisma schema parser, differ and migration-risk analyzer. Pure library: no I/O, no async.
//!
//! ```
//! let base = "model User {\n  id Int @id\n}\n";
//! let target = "model User {\n  id       Int    @id\n  username String\n}\n";
//! let analysis = valine_prisma::analyze(base, target).unwrap();
//! assert_eq!(analysis.operations[0].kind, valine_prisma::OpKind::AddField);
//! assert_eq!(analysis.risk_score, 2);
//! ```
//!
//! # Pipeline
//! text → [`lexer`] (tokens with byte spans) → [`parser`] (AST, [`ast`]) → [`validate`]
//! (Prisma's semantic rules) → [`ir`] (tables, columns, constraints by database name, typed
//! for the datasource provider) → [`diff`] (operations, risk, warnings).
//!
//! # Operations and weights
//! `riskScore` is the sum of the weights of all operations. The first five are the seed's
//! weights, unchanged; the others are ours, set relative to them by what the operation does
//! to a live PostgreSQL table.
//!
//! | operation | weight | destructive | why this weight |
//! |---|---|---|---|
//! | `addModel` | 1 | no | new empty table, nothing reads it yet (seed) |
//! | `addField` | 2 | no | metadata-only on PG 11+; fails on rows if required without default (seed; warned) |
//! | `alterType` | 7 | no | Prisma-level type change: table rewrite + cast that can fail (seed; warned) |
//! | `dropField` | 8 | yes | data loss; old code still selecting the column breaks (seed) |
//! | `dropModel` | 10 | yes | loses a whole table (seed) |
//! | `addEnum` | 1 | no | a new type, used by nothing yet |
//! | `dropEnum` | 6 | yes | removes a type; any remaining use fails |
//! | `addEnumValue` | 1 | no | `ALTER TYPE … ADD VALUE`: cheap, but not usable in the same transaction |
//! | `dropEnumValue` | 7 | yes | Prisma recreates the type and casts every column: fails if rows hold the value (warned) |
//! | `renameEnum` | 3 | no | `@@map` change on an enum: cheap, but raw SQL using the old name breaks |
//! | `renameEnumValue` | 4 | no | `@map` change on a value: stored data and clients using the old label disagree |
//! | `makeRequired` | 5 | no | full scan under lock; fails on existing NULLs (warned) |
//! | `makeOptional` | 1 | no | metadata only |
//! | `alterDefault` | 1 | no | metadata only; affects future inserts |
//! | `addIndex` | 3 | no | builds under a write lock unless created concurrently |
//! | `dropIndex` | 2 | no | cheap, but queries relying on it may slow down |
//! | `addUnique` | 5 | no | index build under lock and fails on duplicates (warned) |
//! | `dropUnique` | 3 | no | cheap, but lets duplicates in from now on |
//! | `alterPrimaryKey` | 8 | no | rebuilds the key index and touches every referencing foreign key |
//! | `addRelation` | 3 | no | validates every row under lock; fails on orphans |
//! | `dropRelation` | 2 | no | cheap; integrity is no longer enforced |
//! | `renameTable` | 6 | no | instant in SQL, but every running instance of old code breaks |
//! | `renameColumn` | 5 | no | same as a table rename, for one column |
//! | `alterNativeType` | 4 | no | same Prisma type, different database type (`VarChar(50)`→`VarChar(100)`): may rewrite; warned when it can truncate |
//! | `renameIndex` | 1 | no | `map:` of an index or unique changed: `ALTER INDEX … RENAME`, metadata only |
//! | `renameConstraint` | 1 | no | `map:` of a primary or foreign key changed: `RENAME CONSTRAINT`, metadata only |
//!
//! A changed referential action (`onDelete`/`onUpdate`) is a `dropRelation` plus an
//! `addRelation`, as Prisma migrates it.
//!
//! Severity: `high` if riskScore > 50, `medium` if > 20, else `low`. Window:
//! `scheduled-maintenance` if riskScore > 50 or anything is destructive, `off-peak` if > 20 or
//! any type change (`alterType` or `alterNativeType`), else `low-traffic`.
//!
//! # Decisions worth knowing
//! - Tables and columns match by database name; an unmatched old/new pair with the same
//!   Prisma model (field) name is a `renameTable` (`renameColumn`). A Prisma-name change that
//!   keeps the mapping changes nothing. Enums and enum values follow the same rule
//!   (`renameEnum`, `renameEnumValue`). With `renameIndex` and `renameConstraint` these are
//!   the four operations beyond the contract's list.
//! - Only what reaches the database is compared: `@updatedAt`, `uuid()`/`cuid()` defaults,
//!   docs and Prisma names do not; `view` and `type` blocks are not migrated tables.
//! - Objects inside an added or dropped table (its columns, indexes, keys) are part of the
//!   `addModel`/`dropModel`; they are not reported again.
//! - `FailOn::Low` fails on any operation (an empty diff never fails), `Medium`/`High` on the
//!   severity, `Destructive` on any destructive operation.
//! - Inputs over 128 KiB in total are parsed on two threads (base and target); smaller ones
//!   on the caller's thread. Likewise, from 256 matched tables on, the diff compares the
//!   tables in two halves on two threads (the operations keep the order of one pass).
//!
//! For enum operations `model`/`table` name the enum (Prisma / database name) and
//! `field`/`column` the value. For index, unique and relation operations `column` lists the
//! columns and `from`/`to` name the constraint or referenced table.

pub mod ast;
pub mod diff;
pub mod error;
mod fasthash;
pub mod generate;
pub mod ir;
// The stages below are public for benchmarks, fuzzing and tests of a single stage; the
// supported API is the functions and types re-exported at the crate root.
#[doc(hidden)]
pub mod lexer;
#[doc(hidden)]
pub mod parser;
pub mod printer;
#[doc(hidden)]
pub mod validate;

pub use ast::Schema;
pub use diff::{Analysis, FailOn, OpKind, Operation, Severity, Summary, Window};
pub use error::{SchemaError, Side};
pub use generate::generate_schema;

use std::sync::OnceLock;

/// Parses and validates a schema; any input Prisma would reject is an error.
pub fn parse(src: &str) -> Result<Schema<'_>, SchemaError> {
    let schema = parser::parse_syntax(src)?;
    validate::validate(src, &schema)?;
    Ok(schema)
}

/// The database a schema describes (tables, columns, constraints by database name).
pub fn lower<'s>(schema: &'s Schema<'_>) -> ir::Ir<'s> {
    ir::lower(schema)
}

/// Diffs two schema texts and scores the migration between them. An error names the side
/// (`base` or `target`) it came from; when both are invalid, the base's error is returned.
///
/// CPU-bound (about 13–20 ms for two 1,000-model schemas on two cores): async callers should
/// run it on a blocking thread.
pub fn analyze(old_src: &str, new_src: &str) -> Result<Analysis, SchemaError> {
    // Each side's tree lives in a slot outside the threads, so an IR built on a worker
    // thread can borrow it after that thread is gone.
    let old_slot = OnceLock::new();
    let new_slot = OnceLock::new();
    // Large schemas are independent work: build the target's IR on a second thread. If no
    // thread can be spawned (or it somehow dies), the work is simply done here instead.
    let parallel = old_src.len() + new_src.len() >= PARALLEL_THRESHOLD;
    let (old_ir, new_ir) = if parallel {
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("valine-prisma".into())
                .spawn_scoped(scope, || build_side(&new_slot, new_src, Side::Target));
            let old_ir = build_side(&old_slot, old_src, Side::Base);
            let new_ir = match handle.map(|h| h.join()) {
                Ok(Ok(result)) => result,
                _ => build_side(&new_slot, new_src, Side::Target),
            };
            (old_ir, new_ir)
        })
    } else {
        (
            build_side(&old_slot, old_src, Side::Base),
            build_side(&new_slot, new_src, Side::Target),
        )
    };
    let (old_ir, new_ir) = (old_ir?, new_ir?);
    let analysis = diff::diff(&old_ir, &new_ir);
    if parallel {
        // Freeing two large IRs, then two large syntax trees, costs about as much as building
        // one IR: do it on both threads too. A failed spawn drops the value right here.
        drop_in_parallel(old_ir, new_ir);
        drop_in_parallel(old_slot.into_inner(), new_slot.into_inner());
    } else {
        drop((old_ir, new_ir));
    }
    Ok(analysis)
}

/// Drops `a` here and `b` on another thread, both before returning.
fn drop_in_parallel<A, B: Send>(a: A, b: B) {
    std::thread::scope(|scope| {
        let _ = std::thread::Builder::new()
            .name("valine-prisma".into())
            .spawn_scoped(scope, move || drop(b));
        drop(a);
    });
}

type Slot<'src> = OnceLock<Result<Schema<'src>, SchemaError>>;

/// Parses `src` into `slot` (once) and lowers the tree kept there.
fn build_side<'s, 'src>(
    slot: &'s Slot<'src>,
    src: &'src str,
    side: Side,
) -> Result<ir::Ir<'s>, SchemaError> {
    match slot.get_or_init(|| parse(src).map_err(|e| e.with_side(side))) {
        Ok(schema) => Ok(ir::lower(schema)),
        Err(e) => Err(e.clone()),
    }
}

/// Combined input size above which [`analyze`] parses the two sides in parallel; below it a
/// thread costs more than it saves.
const PARALLEL_THRESHOLD: usize = 128 * 1024;

/// Pretty-prints a schema in `prisma format` style.
pub fn print(schema: &Schema) -> String {
    printer::print(schema)
}
