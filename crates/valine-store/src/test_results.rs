//! `test_batches`, `test_runs` and `test_rollups`: ingested CI test results and the
//! per-test, per-branch, per-day aggregates the flaky detector reads.
//!
//! Bulk writes use multi-row `VALUES` statements built from the one-row forms declared
//! below (those are what the prepare-everything test checks). Chunks stay under SQLite's
//! 32,766 bind-parameter limit; PostgreSQL's 65,535 is then never reached either. The
//! `Any` driver cannot bind arrays, which rules out PostgreSQL's `UNNEST`.

use std::fmt::Write as _;

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Backend, Store, StoreError, Tx};

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER`.
const MAX_BINDS: usize = 32_766;

const RESULT_SHARED: usize = 5;
const RESULT_PER_ROW: usize = 8;
const ROLLUP_PER_ROW: usize = 9;
const KEY_PER_ROW: usize = 2;
const HOT_PER_ROW: usize = 4;

const INSERT_RESULTS_HEAD: &str = "INSERT INTO test_runs (batch_id, run_id, commit_sha, branch, \
     run_at, suite, test_name, status, duration_ms, attempt, retries, file, metadata) VALUES ";
const UPSERT_ROLLUPS_HEAD: &str = "INSERT INTO test_rollups (suite, test_name, branch_key, day, \
     total_runs, failed, retry_passes, data, updated_at) VALUES ";
const UPSERT_ROLLUPS_TAIL: &str = " ON CONFLICT (suite, test_name, branch_key, day) DO UPDATE SET \
     total_runs = excluded.total_runs, failed = excluded.failed, \
     retry_passes = excluded.retry_passes, data = excluded.data, updated_at = excluded.updated_at";
/// A row-value `IN (VALUES …)`: both engines turn the list into a hashed or indexed set
/// (a join against a `VALUES` CTE made SQLite compare every pair, quadratic in the batch).
const UPSERT_HOT_HEAD: &str =
    "INSERT INTO test_hot (suite, test_name, branch_key, last_hot_day) VALUES ";
const UPSERT_HOT_TAIL: &str = " ON CONFLICT (suite, test_name, branch_key) DO UPDATE SET \
     last_hot_day = CASE WHEN excluded.last_hot_day > test_hot.last_hot_day \
     THEN excluded.last_hot_day ELSE test_hot.last_hot_day END";
const LOAD_ROLLUPS_HEAD: &str = "SELECT suite, test_name, data FROM test_rollups \
     WHERE branch_key = $1 AND day = $2 AND (suite, test_name) IN (VALUES ";
const LOAD_ROLLUPS_TAIL: &str = ")";

crate::statements! {
    /// Serialises ingestion on PostgreSQL so rollups are read-modified-written by one
    /// batch at a time and the result sequence matches the order rollups saw them.
    /// SQLite's `BEGIN IMMEDIATE` already serialises writers.
    INGEST_LOCK = Sql::split("SELECT 1", "SELECT 1 FROM pg_advisory_xact_lock(7305001)");
    INSERT_BATCH = Sql::both(
        "INSERT INTO test_batches (id, run_id, commit_sha, branch, job_url, format, \
         api_key_name, result_count, failed_count, infrastructure_failure_runs, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    );
    /// The one-row form of the bulk insert (see `insert_test_results`).
    INSERT_RESULT_ONE = Sql::both(concat!(
        "INSERT INTO test_runs (batch_id, run_id, commit_sha, branch, \
         run_at, suite, test_name, status, duration_ms, attempt, retries, file, metadata) VALUES ",
        "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ));
    UPSERT_ROLLUP_ONE = Sql::both(concat!(
        "INSERT INTO test_rollups (suite, test_name, branch_key, day, \
         total_runs, failed, retry_passes, data, updated_at) VALUES ",
        "($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        " ON CONFLICT (suite, test_name, branch_key, day) DO UPDATE SET \
         total_runs = excluded.total_runs, failed = excluded.failed, \
         retry_passes = excluded.retry_passes, data = excluded.data, updated_at = excluded.updated_at"
    ));
    LOAD_ROLLUPS_ONE = Sql::both(concat!(
        "SELECT suite, test_name, data FROM test_rollups \
         WHERE branch_key = $1 AND day = $2 AND (suite, test_name) IN (VALUES ",
        "($3, $4)",
        ")"
    ));
    UPSERT_HOT_ONE = Sql::both(concat!(
        "INSERT INTO test_hot (suite, test_name, branch_key, last_hot_day) VALUES ",
        "($1, $2, $3, $4)",
        " ON CONFLICT (suite, test_name, branch_key) DO UPDATE SET \
         last_hot_day = CASE WHEN excluded.last_hot_day > test_hot.last_hot_day \
         THEN excluded.last_hot_day ELSE test_hot.last_hot_day END"
    ));
    /// The window's rollup buckets of every test that failed or passed on a retry in it
    /// (on any branch), one row per test: `day US branch US data` per bucket, buckets
    /// separated by RS (ASCII 0x1F/0x1E, which neither JSON text nor a validated branch
    /// name contains). One row per test instead of one per bucket: at ~60 buckets per test
    /// the per-row cost of the driver dominated the query. Never-failing tests, the vast
    /// majority, are not read at all.
    WINDOW_ALL = Sql::split(
        "SELECT r.suite, r.test_name, group_concat(CAST(r.day AS TEXT) || char(31) || \
         r.branch_key || char(31) || r.data, char(30)) AS buckets \
         FROM (SELECT DISTINCT suite, test_name FROM test_hot WHERE last_hot_day >= $1) h \
         JOIN test_rollups r ON r.suite = h.suite AND r.test_name = h.test_name \
         WHERE r.day >= $1 GROUP BY r.suite, r.test_name",
        "SELECT r.suite, r.test_name, string_agg(CAST(r.day AS TEXT) || chr(31) || \
         r.branch_key || chr(31) || r.data, chr(30)) AS buckets \
         FROM (SELECT DISTINCT suite, test_name FROM test_hot WHERE last_hot_day >= $1) h \
         JOIN test_rollups r ON r.suite = h.suite AND r.test_name = h.test_name \
         WHERE r.day >= $1 GROUP BY r.suite, r.test_name",
    );
    WINDOW_BRANCH = Sql::split(
        "SELECT r.suite, r.test_name, group_concat(CAST(r.day AS TEXT) || char(31) || \
         r.branch_key || char(31) || r.data, char(30)) AS buckets \
         FROM test_hot h JOIN test_rollups r ON r.suite = h.suite \
         AND r.test_name = h.test_name AND r.branch_key = h.branch_key \
         WHERE h.branch_key = $2 AND h.last_hot_day >= $1 AND r.day >= $1 \
         GROUP BY r.suite, r.test_name",
        "SELECT r.suite, r.test_name, string_agg(CAST(r.day AS TEXT) || chr(31) || \
         r.branch_key || chr(31) || r.data, chr(30)) AS buckets \
         FROM test_hot h JOIN test_rollups r ON r.suite = h.suite \
         AND r.test_name = h.test_name AND r.branch_key = h.branch_key \
         WHERE h.branch_key = $2 AND h.last_hot_day >= $1 AND r.day >= $1 \
         GROUP BY r.suite, r.test_name",
    );
    HISTORY = Sql::both(
        "SELECT id, suite, test_name, status, duration_ms, attempt, run_id, commit_sha, \
         branch, run_at FROM test_runs WHERE suite = $1 AND test_name = $2 AND id < $3 \
         ORDER BY id DESC LIMIT $4",
    );
    TOTALS = Sql::both(
        "SELECT COUNT(*), CAST(COALESCE(SUM(result_count), 0) AS BIGINT), \
         CAST(COALESCE(SUM(infrastructure_failure_runs), 0) AS BIGINT) FROM test_batches",
    );
}

/// One accepted ingest request.
pub struct NewTestBatch<'a> {
    pub id: &'a str,
    pub run_id: &'a str,
    pub commit_sha: Option<&'a str>,
    pub branch: Option<&'a str>,
    pub job_url: Option<&'a str>,
    /// `json` or `junit`.
    pub format: &'a str,
    pub api_key_name: Option<&'a str>,
    pub result_count: i64,
    pub failed_count: i64,
    pub infrastructure_failure_runs: i64,
    pub run_at: i64,
}

/// One result of a batch; the batch's run, commit, branch and instant are shared.
pub struct NewTestResult<'a> {
    pub suite: &'a str,
    pub test_name: &'a str,
    /// `passed|failed|skipped|error`.
    pub status: &'a str,
    pub duration_ms: i64,
    pub attempt: i64,
    pub retries: i64,
    pub file: Option<&'a str>,
    /// JSON text.
    pub metadata: Option<&'a str>,
}

/// A rollup bucket to write: one test on one branch (`""` = none given) on one UTC day.
pub struct RollupWrite<'a> {
    pub suite: &'a str,
    pub test_name: &'a str,
    pub branch_key: &'a str,
    pub day: i64,
    pub total_runs: i64,
    pub failed: i64,
    pub retry_passes: i64,
    /// Serialized rollup.
    pub data: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct StoredRollup {
    pub suite: String,
    pub test_name: String,
    pub data: String,
}

/// One test's rollup buckets in a window (see `WINDOW_ALL` for the encoding).
#[derive(Debug, Clone, FromRow)]
pub struct WindowTest {
    pub suite: String,
    pub test_name: String,
    buckets: String,
}

/// One bucket of a [`WindowTest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket<'a> {
    pub day: i64,
    pub branch_key: &'a str,
    /// Serialized rollup.
    pub data: &'a str,
}

impl WindowTest {
    /// The buckets, sorted by day, then branch: the order to merge them in.
    pub fn buckets(&self) -> Result<Vec<Bucket<'_>>, StoreError> {
        let bad = || {
            StoreError::Database(sqlx::Error::Decode(
                format!(
                    "malformed rollup buckets of {}::{}",
                    self.suite, self.test_name
                )
                .into(),
            ))
        };
        let mut out = Vec::new();
        for part in self.buckets.split('\u{1e}') {
            let mut fields = part.splitn(3, '\u{1f}');
            let (Some(day), Some(branch_key), Some(data)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(bad());
            };
            out.push(Bucket {
                day: day.parse().map_err(|_| bad())?,
                branch_key,
                data,
            });
        }
        out.sort_by(|a, b| (a.day, a.branch_key).cmp(&(b.day, b.branch_key)));
        Ok(out)
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct TestHistoryRow {
    pub id: i64,
    pub suite: String,
    pub test_name: String,
    pub status: String,
    pub duration_ms: i64,
    pub attempt: i64,
    pub run_id: String,
    pub commit_sha: Option<String>,
    pub branch: Option<String>,
    pub run_at: i64,
}

/// Totals over every accepted batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestIngestTotals {
    pub batches: i64,
    pub results: i64,
    pub infrastructure_failure_runs: i64,
}

/// `($first, $first+1, …)` tuples, `rows` of them, `per_row` placeholders each, after an
/// optional fixed prefix of shared placeholders. With `anonymous`, every placeholder is a
/// bare `?` (the caller then binds the shared values again for each row): SQLite looks up
/// a numbered parameter's name by a linear scan, which made binding 32,000 `$N`
/// parameters quadratic (seconds per statement); anonymous ones are bound by position.
fn tuples(
    out: &mut String,
    rows: usize,
    shared: &[usize],
    first: usize,
    per_row: usize,
    anonymous: bool,
) {
    let mut next = first;
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        let mut sep = "";
        for s in shared {
            if anonymous {
                let _ = write!(out, "{sep}?");
            } else {
                let _ = write!(out, "{sep}${s}");
            }
            sep = ", ";
        }
        for _ in 0..per_row {
            if anonymous {
                let _ = write!(out, "{sep}?");
            } else {
                let _ = write!(out, "{sep}${next}");
            }
            sep = ", ";
            next += 1;
        }
        out.push(')');
    }
}

fn chunk_rows(shared: usize, per_row: usize) -> usize {
    (MAX_BINDS - shared) / per_row
}

impl Store {
    /// Takes the ingestion lock for the rest of `tx` (PostgreSQL; a no-op on SQLite).
    pub async fn lock_test_ingest(&self, tx: &mut Tx) -> Result<(), StoreError> {
        sqlx::query(INGEST_LOCK.text(self.backend))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn insert_test_batch(
        &self,
        tx: &mut Tx,
        b: &NewTestBatch<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT_BATCH.text(self.backend))
            .bind(b.id)
            .bind(b.run_id)
            .bind(b.commit_sha)
            .bind(b.branch)
            .bind(b.job_url)
            .bind(b.format)
            .bind(b.api_key_name)
            .bind(b.result_count)
            .bind(b.failed_count)
            .bind(b.infrastructure_failure_runs)
            .bind(b.run_at)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Inserts `results` of batch `b`, in order, with multi-row statements.
    pub async fn insert_test_results(
        &self,
        tx: &mut Tx,
        b: &NewTestBatch<'_>,
        results: &[NewTestResult<'_>],
    ) -> Result<(), StoreError> {
        let anonymous = self.backend == Backend::Sqlite;
        let per_chunk = if anonymous {
            chunk_rows(0, RESULT_SHARED + RESULT_PER_ROW)
        } else {
            chunk_rows(RESULT_SHARED, RESULT_PER_ROW)
        };
        for chunk in results.chunks(per_chunk) {
            let mut sql = String::with_capacity(INSERT_RESULTS_HEAD.len() + chunk.len() * 48);
            sql.push_str(INSERT_RESULTS_HEAD);
            tuples(
                &mut sql,
                chunk.len(),
                &[1, 2, 3, 4, 5],
                RESULT_SHARED + 1,
                RESULT_PER_ROW,
                anonymous,
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            if !anonymous {
                q = q
                    .bind(b.id)
                    .bind(b.run_id)
                    .bind(b.commit_sha)
                    .bind(b.branch)
                    .bind(b.run_at);
            }
            for r in chunk {
                if anonymous {
                    q = q
                        .bind(b.id)
                        .bind(b.run_id)
                        .bind(b.commit_sha)
                        .bind(b.branch)
                        .bind(b.run_at);
                }
                q = q
                    .bind(r.suite)
                    .bind(r.test_name)
                    .bind(r.status)
                    .bind(r.duration_ms)
                    .bind(r.attempt)
                    .bind(r.retries)
                    .bind(r.file)
                    .bind(r.metadata);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// The stored rollups of `keys` (suite, test name) in one branch/day bucket.
    pub async fn load_rollups(
        &self,
        tx: &mut Tx,
        branch_key: &str,
        day: i64,
        keys: &[(&str, &str)],
    ) -> Result<Vec<StoredRollup>, StoreError> {
        let mut out = Vec::new();
        for chunk in keys.chunks(chunk_rows(2, KEY_PER_ROW)) {
            let anonymous = self.backend == Backend::Sqlite;
            let mut sql = String::with_capacity(LOAD_ROLLUPS_HEAD.len() + chunk.len() * 16);
            if anonymous {
                sql.push_str(&LOAD_ROLLUPS_HEAD.replace("$1", "?").replace("$2", "?"));
            } else {
                sql.push_str(LOAD_ROLLUPS_HEAD);
            }
            tuples(&mut sql, chunk.len(), &[], 3, KEY_PER_ROW, anonymous);
            sql.push_str(LOAD_ROLLUPS_TAIL);
            let mut q = sqlx::query_as::<_, StoredRollup>(sqlx::AssertSqlSafe(sql))
                .bind(branch_key)
                .bind(day);
            for (suite, name) in chunk {
                q = q.bind(*suite).bind(*name);
            }
            out.extend(q.fetch_all(&mut **tx).await?);
        }
        Ok(out)
    }

    /// Inserts or replaces rollup buckets. Keys must be distinct within one call.
    pub async fn upsert_rollups(
        &self,
        tx: &mut Tx,
        rows: &[RollupWrite<'_>],
        now: i64,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(chunk_rows(0, ROLLUP_PER_ROW)) {
            let mut sql = String::with_capacity(UPSERT_ROLLUPS_HEAD.len() + chunk.len() * 56);
            sql.push_str(UPSERT_ROLLUPS_HEAD);
            let anonymous = self.backend == Backend::Sqlite;
            tuples(&mut sql, chunk.len(), &[], 1, ROLLUP_PER_ROW, anonymous);
            sql.push_str(UPSERT_ROLLUPS_TAIL);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.suite)
                    .bind(r.test_name)
                    .bind(r.branch_key)
                    .bind(r.day)
                    .bind(r.total_runs)
                    .bind(r.failed)
                    .bind(r.retry_passes)
                    .bind(r.data.as_str())
                    .bind(now);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Marks tests as having failed (or retry-passed) on `branch_key` on `day`.
    pub async fn mark_hot(
        &self,
        tx: &mut Tx,
        branch_key: &str,
        day: i64,
        tests: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let anonymous = self.backend == Backend::Sqlite;
        for chunk in tests.chunks(chunk_rows(0, HOT_PER_ROW)) {
            let mut sql = String::with_capacity(UPSERT_HOT_HEAD.len() + chunk.len() * 24);
            sql.push_str(UPSERT_HOT_HEAD);
            tuples(&mut sql, chunk.len(), &[], 1, HOT_PER_ROW, anonymous);
            sql.push_str(UPSERT_HOT_TAIL);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (suite, name) in chunk {
                q = q.bind(*suite).bind(*name).bind(branch_key).bind(day);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Rollup buckets from `from_day` on of every test that failed or retry-passed in
    /// that window (on `branch_key`, or on any branch), one entry per test.
    pub async fn rollups_in_window(
        &self,
        from_day: i64,
        branch_key: Option<&str>,
    ) -> Result<Vec<WindowTest>, StoreError> {
        let rows = match branch_key {
            Some(branch) => {
                sqlx::query_as(WINDOW_BRANCH.text(self.backend))
                    .bind(from_day)
                    .bind(branch)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as(WINDOW_ALL.text(self.backend))
                    .bind(from_day)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows)
    }

    /// One test's results, newest first, strictly before result `before_id`.
    pub async fn test_history(
        &self,
        suite: &str,
        test_name: &str,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<TestHistoryRow>, StoreError> {
        Ok(sqlx::query_as(HISTORY.text(self.backend))
            .bind(suite)
            .bind(test_name)
            .bind(before_id.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn test_ingest_totals(&self) -> Result<TestIngestTotals, StoreError> {
        let (batches, results, infra): (i64, i64, i64) = sqlx::query_as(TOTALS.text(self.backend))
            .fetch_one(&self.pool)
            .await?;
        Ok(TestIngestTotals {
            batches,
            results,
            infrastructure_failure_runs: infra,
        })
    }
}
