//! Reversible migrations, one embedded set per backend with identical versions.
//!
//! sqlx's migrator takes a PostgreSQL advisory lock around `up`/`down`, so instances that
//! start together migrate once; on SQLite the file's write lock serialises them.

use sqlx::migrate::{Migrate, Migrator};

use crate::{Backend, Store, StoreError};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// One known migration and whether the database has it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

impl Store {
    pub(crate) fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        }
    }

    /// Applies every pending migration.
    pub async fn migrate_up(&self) -> Result<(), StoreError> {
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// Reverts the newest `steps` applied migrations. Returns the versions reverted.
    pub async fn migrate_down(&self, steps: usize) -> Result<Vec<i64>, StoreError> {
        let applied = self.applied_versions().await?;
        if steps == 0 || applied.is_empty() {
            return Ok(Vec::new());
        }
        let keep = applied.len().saturating_sub(steps);
        // undo() reverts everything above the target version.
        let target = if keep == 0 { 0 } else { applied[keep - 1] };
        self.migrator().undo(&self.pool, target).await?;
        Ok(applied[keep..].iter().rev().copied().collect())
    }

    /// Every migration this build knows, in order, with whether it is applied.
    pub async fn migrate_status(&self) -> Result<Vec<MigrationStatus>, StoreError> {
        let applied = self.applied_versions().await?;
        Ok(self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
            })
            .collect())
    }

    /// Versions applied to this database, ascending.
    async fn applied_versions(&self) -> Result<Vec<i64>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        conn.ensure_migrations_table("_sqlx_migrations").await?;
        let mut versions: Vec<i64> = conn
            .list_applied_migrations("_sqlx_migrations")
            .await?
            .into_iter()
            .map(|m| m.version)
            .collect();
        versions.sort_unstable();
        Ok(versions)
    }

    /// A canonical description of the schema (tables, columns, indexes, constraints) for
    /// comparing databases: migration round-trip tests assert it is unchanged by down+up.
    pub async fn schema_fingerprint(&self) -> Result<Vec<String>, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || COALESCE(sql, '') \
                 FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' \
                 AND name <> '_sqlx_migrations' ORDER BY type, name"
            }
            Backend::Postgres => {
                "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' \
                   || is_nullable || ' ' || COALESCE(column_default, '') \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
                 UNION ALL \
                 SELECT 'index ' || tablename || ' ' || indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations' \
                 UNION ALL \
                 SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' \
                   || pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE connamespace = current_schema()::regnamespace \
                 AND conrelid::regclass::text <> '_sqlx_migrations' \
                 UNION ALL \
                 SELECT 'storage ' || c.relname || ' ' || array_to_string(c.reloptions, ',') \
                 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace \
                 AND c.reloptions IS NOT NULL \
                 UNION ALL \
                 SELECT 'type ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) \
                 FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
                 WHERE t.typnamespace = current_schema()::regnamespace GROUP BY t.typname \
                 ORDER BY 1"
            }
        };
        let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }
}
