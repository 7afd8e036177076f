//! `test_batches`, `test_runs` and `test_rollups`: ingested CI test results and the
//! per-test, per-branch, per-day aggregates the flaky detector reads.
//!
//! An ingest runs in one [`IngestTx`]. On SQLite, bulk writes use multi-row `VALUES`
//! statements built from the one-row forms declared below (those are what the
//! prepare-everything test checks), in chunks under SQLite's 32,766 bind-parameter limit.
//! On PostgreSQL the ingest runs on the store's native connection pool instead, because
//! the `Any` driver can neither bind arrays nor `COPY`: results are streamed with
//! `COPY … FROM STDIN`, and rollups are read and upserted with one `UNNEST` statement each
//! (`PG_*` below), a few statements per batch instead of dozens of 4,000-row ones.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError, Tx};

/// A result-ingestion transaction, holding the ingestion lock; see [`Store::begin_test_ingest`].
/// Dropping it rolls back.
pub enum IngestTx {
    /// SQLite, through the shared `Any` pool (the chunked statements here use SQLite's
    /// anonymous `?` placeholders).
    Any(Tx),
    /// PostgreSQL through the native driver: `COPY` and array binds.
    Pg(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl IngestTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            IngestTx::Any(tx) => tx.commit().await?,
            IngestTx::Pg(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// The column list `COPY` streams into (same order as [`INSERT_RESULTS_HEAD`]).
const PG_COPY_RESULTS: &str = "COPY test_runs (batch_id, run_id, commit_sha, branch, run_at, \
     suite, test_name, status, duration_ms, attempt, retries, file, metadata) FROM STDIN";
const PG_COPY_ROLLUPS: &str = "COPY test_rollups (suite, test_name, branch_key, day, \
     total_runs, failed, retry_passes, data, updated_at) FROM STDIN";
/// Bytes buffered before each `COPY` data message.
const COPY_CHUNK: usize = 1 << 20;

/// PostgreSQL-only statements of the native ingest path (prepared by `prepare_all` too).
pub(crate) const PG_NATIVE: &[(&str, &str)] = &[
    ("PG_LOCK", PG_LOCK),
    ("PG_LOAD_ROLLUPS", PG_LOAD_ROLLUPS),
    ("PG_UPSERT_ROLLUPS", PG_UPSERT_ROLLUPS),
    ("PG_MARK_HOT", PG_MARK_HOT),
    ("PG_TRACKED", PG_TRACKED),
    ("PG_RAW_SINCE", PG_RAW_SINCE),
    ("PG_QUEUE_REPLAY", PG_QUEUE_REPLAY),
    ("PG_DEQUEUE_REPLAY", PG_DEQUEUE_REPLAY),
    ("PG_WINDOW_ALL", PG_WINDOW_ALL),
    ("PG_WINDOW_BRANCH", PG_WINDOW_BRANCH),
];
const PG_QUEUE_REPLAY: &str = "INSERT INTO test_replay_queue (suite, test_name, queued_at) \
     SELECT k.suite, k.test_name, $3 FROM UNNEST($1::text[], $2::text[]) AS k(suite, test_name) \
     ON CONFLICT (suite, test_name) DO NOTHING";
const PG_DEQUEUE_REPLAY: &str = "DELETE FROM test_replay_queue q \
     USING UNNEST($1::text[], $2::text[]) AS k(suite, test_name) \
     WHERE q.suite = k.suite AND q.test_name = k.test_name";
/// The window's buckets of every test hot in it (on any branch), one row per bucket.
const PG_WINDOW_ALL: &str = "SELECT r.suite, r.test_name, r.day, r.branch_key, r.data \
     FROM (SELECT DISTINCT suite, test_name FROM test_hot WHERE last_hot_day >= $1) h \
     JOIN test_rollups r ON r.suite = h.suite AND r.test_name = h.test_name \
     WHERE r.day >= $1";
const PG_WINDOW_BRANCH: &str = "SELECT r.suite, r.test_name, r.day, r.branch_key, r.data \
     FROM test_hot h JOIN test_rollups r ON r.suite = h.suite \
     AND r.test_name = h.test_name AND r.branch_key = h.branch_key \
     WHERE h.branch_key = $2 AND h.last_hot_day >= $1 AND r.day >= $1";
const PG_TRACKED: &str = "SELECT DISTINCT h.suite, h.test_name \
     FROM UNNEST($1::text[], $2::text[]) AS k(suite, test_name) \
     JOIN test_hot h ON h.suite = k.suite AND h.test_name = k.test_name";
const PG_RAW_SINCE: &str = "SELECT r.suite, r.test_name, r.branch, r.run_at, r.run_id, \
     r.commit_sha, r.status, CAST(r.retries AS BIGINT) AS retries, r.duration_ms \
     FROM UNNEST($2::text[], $3::text[]) AS k(suite, test_name) \
     JOIN test_runs r ON r.suite = k.suite AND r.test_name = k.test_name \
     WHERE r.run_at >= $1 AND NOT EXISTS (SELECT 1 FROM test_batches b \
     WHERE b.id = r.batch_id AND b.infrastructure_failure_runs > 0) ORDER BY r.id";
/// Serialises ingestion (and history replays) so rollups are read-modified-written by one
/// transaction at a time, in the order of the result sequence.
const PG_LOCK: &str = "SELECT 1 FROM pg_advisory_xact_lock(7305001)";
const PG_LOAD_ROLLUPS: &str = "SELECT r.suite, r.test_name, r.data \
     FROM UNNEST($3::text[], $4::text[]) AS k(suite, test_name) \
     JOIN test_rollups r ON r.suite = k.suite AND r.test_name = k.test_name \
     AND r.branch_key = $1 AND r.day = $2";
const PG_UPSERT_ROLLUPS: &str = "INSERT INTO test_rollups (suite, test_name, branch_key, day, \
     total_runs, failed, retry_passes, data, updated_at) \
     SELECT u.suite, u.test_name, u.branch_key, u.day, u.total_runs, u.failed, u.retry_passes, \
     u.data, $9 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], \
     $6::bigint[], $7::bigint[], $8::text[]) \
     AS u(suite, test_name, branch_key, day, total_runs, failed, retry_passes, data) \
     ON CONFLICT (suite, test_name, branch_key, day) DO UPDATE SET \
     total_runs = excluded.total_runs, failed = excluded.failed, \
     retry_passes = excluded.retry_passes, data = excluded.data, updated_at = excluded.updated_at";
const PG_MARK_HOT: &str = "INSERT INTO test_hot (suite, test_name, branch_key, last_hot_day) \
     SELECT u.suite, u.test_name, $3, $4 FROM UNNEST($1::text[], $2::text[]) AS u(suite, test_name) \
     ON CONFLICT (suite, test_name, branch_key) DO UPDATE SET \
     last_hot_day = GREATEST(excluded.last_hot_day, test_hot.last_hot_day)";

/// Appends `value` as one field of `COPY`'s text format (`\N` is NULL).
fn copy_field(out: &mut Vec<u8>, value: Option<&str>) {
    let Some(value) = value else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for &b in value.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

fn copy_int(out: &mut Vec<u8>, value: i64) {
    let _ = std::io::Write::write_fmt(out, format_args!("{value}"));
}

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
const TRACKED_HEAD: &str =
    "SELECT DISTINCT suite, test_name FROM test_hot WHERE (suite, test_name) IN (VALUES ";
const RAW_SINCE_HEAD: &str = "SELECT r.suite, r.test_name, r.branch, r.run_at, r.run_id, \
     r.commit_sha, r.status, CAST(r.retries AS BIGINT) AS retries, r.duration_ms \
     FROM test_runs r WHERE r.run_at >= ? AND NOT EXISTS (SELECT 1 FROM test_batches b \
     WHERE b.id = r.batch_id AND b.infrastructure_failure_runs > 0) \
     AND (r.suite, r.test_name) IN (VALUES ";
const RAW_SINCE_TAIL: &str = ") ORDER BY r.id";
const LOAD_ROLLUPS_HEAD: &str = "SELECT suite, test_name, data FROM test_rollups \
     WHERE branch_key = ? AND day = ? AND (suite, test_name) IN (VALUES ";
const LOAD_ROLLUPS_TAIL: &str = ")";

crate::statements! {
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
    /// Which of the given tests are tracked (have a `test_hot` row on any branch); the
    /// one-row form of the chunked query.
    TRACKED_ONE = Sql::both(concat!(
        "SELECT DISTINCT suite, test_name FROM test_hot WHERE (suite, test_name) IN (VALUES ",
        "($1, $2)",
        ")"
    ));
    /// The raw results of the given tests since an instant, leaving out infrastructure-
    /// failure batches, in ingestion order; the one-row form of the chunked query.
    RAW_SINCE_ONE = Sql::both(concat!(
        "SELECT r.suite, r.test_name, r.branch, r.run_at, r.run_id, r.commit_sha, r.status, \
         CAST(r.retries AS BIGINT) AS retries, r.duration_ms FROM test_runs r \
         WHERE r.run_at >= $1 AND NOT EXISTS (SELECT 1 FROM test_batches b \
         WHERE b.id = r.batch_id AND b.infrastructure_failure_runs > 0) \
         AND (r.suite, r.test_name) IN (VALUES ",
        "($2, $3)",
        ") ORDER BY r.id"
    ));
    /// One-row forms of the replay-queue writes (chunked on SQLite).
    QUEUE_REPLAY_ONE = Sql::both(concat!(
        "INSERT INTO test_replay_queue (suite, test_name, queued_at) VALUES ",
        "($1, $2, $3)",
        " ON CONFLICT (suite, test_name) DO NOTHING"
    ));
    DEQUEUE_REPLAY_ONE = Sql::both(concat!(
        "DELETE FROM test_replay_queue WHERE (suite, test_name) IN (VALUES ",
        "($1, $2)",
        ")"
    ));
    /// The oldest queued tests.
    REPLAY_HEAD = Sql::both(
        "SELECT suite, test_name FROM test_replay_queue \
         ORDER BY queued_at, suite, test_name LIMIT $1",
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

/// What [`Store::insert_results_and_load_tracked`] found.
#[derive(Debug, Clone, Default)]
pub struct Tracked {
    /// The batch's tests that have rollups maintained (a `test_hot` row on any branch).
    pub tests: Vec<(String, String)>,
    /// Their rollups in the batch's branch/day bucket, where one exists.
    pub rollups: Vec<StoredRollup>,
}

/// One stored result, as the detector replays it into rollups.
#[derive(Debug, Clone, FromRow)]
pub struct RawResult {
    pub suite: String,
    pub test_name: String,
    pub branch: Option<String>,
    pub run_at: i64,
    pub run_id: String,
    pub commit_sha: Option<String>,
    pub status: String,
    pub retries: i64,
    pub duration_ms: i64,
}

/// One test's rollup buckets in a window.
#[derive(Debug, Clone)]
pub struct WindowTest {
    pub suite: String,
    pub test_name: String,
    buckets: Buckets,
}

#[derive(Debug, Clone)]
enum Buckets {
    /// SQLite: joined into one text by the query (see `WINDOW_ALL`).
    Joined(String),
    /// PostgreSQL: one row each, (day, branch key, data).
    Rows(Vec<(i64, String, String)>),
}

/// A row of `WINDOW_ALL`/`WINDOW_BRANCH`.
#[derive(FromRow)]
struct JoinedRow {
    suite: String,
    test_name: String,
    buckets: String,
}

/// A row of `PG_WINDOW_ALL`/`PG_WINDOW_BRANCH`.
#[derive(FromRow)]
struct BucketRow {
    suite: String,
    test_name: String,
    day: i64,
    branch_key: String,
    data: String,
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
        let joined = match &self.buckets {
            Buckets::Joined(text) => text,
            Buckets::Rows(rows) => {
                let mut out: Vec<Bucket<'_>> = rows
                    .iter()
                    .map(|(day, branch_key, data)| Bucket {
                        day: *day,
                        branch_key,
                        data,
                    })
                    .collect();
                out.sort_by(|a, b| (a.day, a.branch_key).cmp(&(b.day, b.branch_key)));
                return Ok(out);
            }
        };
        let mut out = Vec::new();
        for part in joined.split('\u{1e}') {
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

/// `(?, ?, …)` tuples, `rows` of them, `per_row` placeholders each. Anonymous `?` rather
/// than `$N`: SQLite looks up a numbered parameter's name by a linear scan, which made
/// binding 32,000 `$N` parameters quadratic (seconds per statement); anonymous ones are
/// bound by position. (These chunked statements run on SQLite only: PostgreSQL ingests
/// through the native path.)
fn tuples(out: &mut String, rows: usize, per_row: usize) {
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for i in 0..per_row {
            out.push_str(if i == 0 { "?" } else { ", ?" });
        }
        out.push(')');
    }
}

fn chunk_rows(shared: usize, per_row: usize) -> usize {
    (MAX_BINDS - shared) / per_row
}

impl Store {
    /// Begins an ingestion transaction and takes the ingestion lock for its duration
    /// (PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serialises writers).
    pub async fn begin_test_ingest(&self) -> Result<IngestTx, StoreError> {
        if let Some(pg) = &self.pg {
            let mut tx = pg.begin().await?;
            sqlx::query(PG_LOCK).execute(&mut *tx).await?;
            return Ok(IngestTx::Pg(tx));
        }
        // SQLite's `BEGIN IMMEDIATE` already serialises writers.
        Ok(IngestTx::Any(self.begin_write().await?))
    }

    pub async fn insert_test_batch(
        &self,
        tx: &mut IngestTx,
        b: &NewTestBatch<'_>,
    ) -> Result<(), StoreError> {
        if let IngestTx::Pg(tx) = tx {
            sqlx::query(INSERT_BATCH.postgres)
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
            return Ok(());
        }
        let IngestTx::Any(tx) = tx else {
            return Ok(());
        };
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
        tx: &mut IngestTx,
        b: &NewTestBatch<'_>,
        results: &[NewTestResult<'_>],
    ) -> Result<(), StoreError> {
        let tx = match tx {
            IngestTx::Pg(tx) => return pg_copy_results(tx, b, results).await,
            IngestTx::Any(tx) => tx,
        };
        // The batch's shared columns are bound again in every row (see `tuples`).
        for chunk in results.chunks(chunk_rows(0, RESULT_SHARED + RESULT_PER_ROW)) {
            let mut sql = String::with_capacity(INSERT_RESULTS_HEAD.len() + chunk.len() * 48);
            sql.push_str(INSERT_RESULTS_HEAD);
            tuples(&mut sql, chunk.len(), RESULT_SHARED + RESULT_PER_ROW);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(b.id)
                    .bind(b.run_id)
                    .bind(b.commit_sha)
                    .bind(b.branch)
                    .bind(b.run_at);
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

    /// Inserts `results` of batch `b` (as [`Store::insert_test_results`]) and finds which
    /// of `keys` are tracked and their rollups in the `branch_key`/`day` bucket. Call it
    /// before this transaction writes any rollup or hot mark. On PostgreSQL the reads run
    /// on a second connection while the results stream, so the two database backends
    /// share the work; they see the last committed state, which is the transaction's own
    /// view of those tables, because every writer of them holds the ingestion lock this
    /// transaction took.
    pub async fn insert_results_and_load_tracked(
        &self,
        tx: &mut IngestTx,
        b: &NewTestBatch<'_>,
        results: &[NewTestResult<'_>],
        branch_key: &str,
        day: i64,
        keys: &[(&str, &str)],
    ) -> Result<Tracked, StoreError> {
        if let (IngestTx::Pg(pg_tx), Some(pg)) = (&mut *tx, &self.pg) {
            let reads = async {
                let (suites, names) = columns(keys);
                let tests: Vec<(String, String)> = sqlx::query_as(PG_TRACKED)
                    .bind(suites)
                    .bind(names)
                    .fetch_all(pg)
                    .await?;
                let (suites, names): (Vec<&str>, Vec<&str>) =
                    tests.iter().map(|(s, t)| (s.as_str(), t.as_str())).unzip();
                let rollups = sqlx::query_as(PG_LOAD_ROLLUPS)
                    .bind(branch_key)
                    .bind(day)
                    .bind(suites)
                    .bind(names)
                    .fetch_all(pg)
                    .await?;
                Ok::<_, StoreError>(Tracked { tests, rollups })
            };
            let (copied, tracked) = tokio::join!(pg_copy_results(pg_tx, b, results), reads);
            copied?;
            return tracked;
        }
        self.insert_test_results(tx, b, results).await?;
        let IngestTx::Any(any) = &mut *tx else {
            return Ok(Tracked::default());
        };
        let mut tests: Vec<(String, String)> = Vec::new();
        for chunk in keys.chunks(chunk_rows(0, KEY_PER_ROW)) {
            let mut sql = String::with_capacity(TRACKED_HEAD.len() + chunk.len() * 8);
            sql.push_str(TRACKED_HEAD);
            tuples(&mut sql, chunk.len(), KEY_PER_ROW);
            sql.push(')');
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for (suite, name) in chunk {
                q = q.bind(*suite).bind(*name);
            }
            tests.extend(q.fetch_all(&mut **any).await?);
        }
        let tracked_keys: Vec<(&str, &str)> = tests
            .iter()
            .map(|(s, t)| (s.as_str(), t.as_str()))
            .collect();
        let rollups = self
            .load_rollups(tx, branch_key, day, &tracked_keys)
            .await?;
        Ok(Tracked { tests, rollups })
    }

    /// Queues `keys` for a background history replay (already queued ones stay as they are).
    pub async fn queue_replay(
        &self,
        tx: &mut IngestTx,
        keys: &[(&str, &str)],
        now: i64,
    ) -> Result<(), StoreError> {
        self.keyed_write(tx, keys, KeyedWrite::Queue(now)).await
    }

    /// Takes `keys` off the replay queue.
    pub async fn dequeue_replay(
        &self,
        tx: &mut IngestTx,
        keys: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        self.keyed_write(tx, keys, KeyedWrite::Dequeue).await
    }

    /// Up to `limit` of the oldest queued tests.
    pub async fn replay_queue_head(
        &self,
        tx: &mut IngestTx,
        limit: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(match tx {
            IngestTx::Pg(tx) => {
                sqlx::query_as(REPLAY_HEAD.postgres)
                    .bind(limit)
                    .fetch_all(&mut **tx)
                    .await?
            }
            IngestTx::Any(tx) => {
                sqlx::query_as(REPLAY_HEAD.sqlite)
                    .bind(limit)
                    .fetch_all(&mut **tx)
                    .await?
            }
        })
    }

    async fn keyed_write(
        &self,
        tx: &mut IngestTx,
        keys: &[(&str, &str)],
        what: KeyedWrite,
    ) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let any = match tx {
            IngestTx::Pg(tx) => {
                let (suites, names) = columns(keys);
                let q = match what {
                    KeyedWrite::Queue(now) => sqlx::query(PG_QUEUE_REPLAY)
                        .bind(suites)
                        .bind(names)
                        .bind(now),
                    KeyedWrite::Dequeue => sqlx::query(PG_DEQUEUE_REPLAY).bind(suites).bind(names),
                };
                q.execute(&mut **tx).await?;
                return Ok(());
            }
            IngestTx::Any(any) => any,
        };
        let per_row = match what {
            KeyedWrite::Queue(_) => 3,
            KeyedWrite::Dequeue => KEY_PER_ROW,
        };
        for chunk in keys.chunks(chunk_rows(0, per_row)) {
            let mut sql = String::with_capacity(96 + chunk.len() * 12);
            match what {
                KeyedWrite::Queue(_) => {
                    sql.push_str(
                        "INSERT INTO test_replay_queue (suite, test_name, queued_at) VALUES ",
                    );
                }
                KeyedWrite::Dequeue => {
                    sql.push_str(
                        "DELETE FROM test_replay_queue WHERE (suite, test_name) IN (VALUES ",
                    );
                }
            }
            tuples(&mut sql, chunk.len(), per_row);
            sql.push_str(match what {
                KeyedWrite::Queue(_) => " ON CONFLICT (suite, test_name) DO NOTHING",
                KeyedWrite::Dequeue => ")",
            });
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (suite, name) in chunk {
                q = q.bind(*suite).bind(*name);
                if let KeyedWrite::Queue(now) = what {
                    q = q.bind(now);
                }
            }
            q.execute(&mut **any).await?;
        }
        Ok(())
    }

    /// The raw results of `keys` stored at or after `since` (epoch ms), infrastructure-
    /// failure batches left out, in ingestion order; this transaction's own included.
    pub async fn raw_results_since(
        &self,
        tx: &mut IngestTx,
        keys: &[(&str, &str)],
        since: i64,
    ) -> Result<Vec<RawResult>, StoreError> {
        let any = match tx {
            IngestTx::Pg(tx) => {
                let (suites, names) = columns(keys);
                return Ok(sqlx::query_as(PG_RAW_SINCE)
                    .bind(since)
                    .bind(suites)
                    .bind(names)
                    .fetch_all(&mut **tx)
                    .await?);
            }
            IngestTx::Any(any) => any,
        };
        // A test's rows all come from one chunk, so its order survives the chunking.
        let mut out = Vec::new();
        for chunk in keys.chunks(chunk_rows(1, KEY_PER_ROW)) {
            let mut sql = String::with_capacity(RAW_SINCE_HEAD.len() + chunk.len() * 8);
            sql.push_str(RAW_SINCE_HEAD);
            tuples(&mut sql, chunk.len(), KEY_PER_ROW);
            sql.push_str(RAW_SINCE_TAIL);
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since);
            for (suite, name) in chunk {
                q = q.bind(*suite).bind(*name);
            }
            out.extend(q.fetch_all(&mut **any).await?);
        }
        Ok(out)
    }

    /// The stored rollups of `keys` (suite, test name) in one branch/day bucket.
    pub async fn load_rollups(
        &self,
        tx: &mut IngestTx,
        branch_key: &str,
        day: i64,
        keys: &[(&str, &str)],
    ) -> Result<Vec<StoredRollup>, StoreError> {
        let tx = match tx {
            IngestTx::Pg(tx) => {
                let (suites, names) = columns(keys);
                return Ok(sqlx::query_as(PG_LOAD_ROLLUPS)
                    .bind(branch_key)
                    .bind(day)
                    .bind(suites)
                    .bind(names)
                    .fetch_all(&mut **tx)
                    .await?);
            }
            IngestTx::Any(tx) => tx,
        };
        let mut out = Vec::new();
        for chunk in keys.chunks(chunk_rows(2, KEY_PER_ROW)) {
            let mut sql = String::with_capacity(LOAD_ROLLUPS_HEAD.len() + chunk.len() * 16);
            sql.push_str(LOAD_ROLLUPS_HEAD);
            tuples(&mut sql, chunk.len(), KEY_PER_ROW);
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
        tx: &mut IngestTx,
        rows: &[RollupWrite<'_>],
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = match tx {
            IngestTx::Pg(tx) => return pg_upsert_rollups(tx, rows, now).await,
            IngestTx::Any(tx) => tx,
        };
        for chunk in rows.chunks(chunk_rows(0, ROLLUP_PER_ROW)) {
            let mut sql = String::with_capacity(UPSERT_ROLLUPS_HEAD.len() + chunk.len() * 56);
            sql.push_str(UPSERT_ROLLUPS_HEAD);
            tuples(&mut sql, chunk.len(), ROLLUP_PER_ROW);
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

    /// Inserts rollup buckets that do not exist yet: the caller found them missing with
    /// [`Store::load_rollups`] in this transaction, and the ingestion lock keeps it so.
    /// On PostgreSQL they are streamed with `COPY` (no conflict check per row); elsewhere
    /// this is [`Store::upsert_rollups`].
    pub async fn insert_new_rollups(
        &self,
        tx: &mut IngestTx,
        rows: &[RollupWrite<'_>],
        now: i64,
    ) -> Result<(), StoreError> {
        match tx {
            IngestTx::Pg(tx) => pg_copy_rollups(tx, rows, now).await,
            IngestTx::Any(_) => self.upsert_rollups(tx, rows, now).await,
        }
    }

    /// Marks tests as having failed (or retry-passed) on `branch_key` on `day`.
    pub async fn mark_hot(
        &self,
        tx: &mut IngestTx,
        branch_key: &str,
        day: i64,
        tests: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let tx = match tx {
            IngestTx::Pg(tx) => {
                let (suites, names) = columns(tests);
                sqlx::query(PG_MARK_HOT)
                    .bind(suites)
                    .bind(names)
                    .bind(branch_key)
                    .bind(day)
                    .execute(&mut **tx)
                    .await?;
                return Ok(());
            }
            IngestTx::Any(tx) => tx,
        };
        for chunk in tests.chunks(chunk_rows(0, HOT_PER_ROW)) {
            let mut sql = String::with_capacity(UPSERT_HOT_HEAD.len() + chunk.len() * 24);
            sql.push_str(UPSERT_HOT_HEAD);
            tuples(&mut sql, chunk.len(), HOT_PER_ROW);
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
        // On PostgreSQL through the native driver, one row per bucket, grouped here: the
        // driver's per-row cost is small, and letting PostgreSQL group them cost it a sort
        // and a string aggregate over every bucket, as much again as the join.
        if let Some(pg) = &self.pg {
            let rows: Vec<BucketRow> = match branch_key {
                Some(branch) => {
                    sqlx::query_as(PG_WINDOW_BRANCH)
                        .bind(from_day)
                        .bind(branch)
                        .fetch_all(pg)
                        .await?
                }
                None => {
                    sqlx::query_as(PG_WINDOW_ALL)
                        .bind(from_day)
                        .fetch_all(pg)
                        .await?
                }
            };
            let mut index: std::collections::HashMap<(String, String), usize> =
                std::collections::HashMap::new();
            let mut out: Vec<WindowTest> = Vec::new();
            for row in rows {
                let bucket = (row.day, row.branch_key, row.data);
                let key = (row.suite, row.test_name);
                match index.get(&key) {
                    Some(&i) => {
                        if let Some(WindowTest {
                            buckets: Buckets::Rows(list),
                            ..
                        }) = out.get_mut(i)
                        {
                            list.push(bucket);
                        }
                    }
                    None => {
                        out.push(WindowTest {
                            suite: key.0.clone(),
                            test_name: key.1.clone(),
                            buckets: Buckets::Rows(vec![bucket]),
                        });
                        index.insert(key, out.len() - 1);
                    }
                }
            }
            return Ok(out);
        }
        let rows: Vec<JoinedRow> = match branch_key {
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
        Ok(rows
            .into_iter()
            .map(|r| WindowTest {
                suite: r.suite,
                test_name: r.test_name,
                buckets: Buckets::Joined(r.buckets),
            })
            .collect())
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

type PgTx = sqlx::Transaction<'static, sqlx::Postgres>;

/// (suite, test name) keys as the two arrays the `UNNEST` statements bind.
fn columns<'a>(keys: &[(&'a str, &'a str)]) -> (Vec<&'a str>, Vec<&'a str>) {
    keys.iter().copied().unzip()
}

/// A statement over a list of (suite, test name) keys.
#[derive(Debug, Clone, Copy)]
enum KeyedWrite {
    /// Queue for replay, at this instant.
    Queue(i64),
    Dequeue,
}

/// Streams `results` of batch `b` into `test_runs` with `COPY … FROM STDIN` (text format),
/// in order, so ids follow the batch order as with the multi-row inserts.
async fn pg_copy_results(
    tx: &mut PgTx,
    b: &NewTestBatch<'_>,
    results: &[NewTestResult<'_>],
) -> Result<(), StoreError> {
    // The batch's shared columns, escaped once.
    let mut shared = Vec::with_capacity(128);
    copy_field(&mut shared, Some(b.id));
    shared.push(b'\t');
    copy_field(&mut shared, Some(b.run_id));
    shared.push(b'\t');
    copy_field(&mut shared, b.commit_sha);
    shared.push(b'\t');
    copy_field(&mut shared, b.branch);
    shared.push(b'\t');
    copy_int(&mut shared, b.run_at);
    shared.push(b'\t');

    copy_rows(tx, PG_COPY_RESULTS, results, |buf, r| {
        buf.extend_from_slice(&shared);
        copy_field(buf, Some(r.suite));
        buf.push(b'\t');
        copy_field(buf, Some(r.test_name));
        buf.push(b'\t');
        copy_field(buf, Some(r.status));
        buf.push(b'\t');
        for n in [r.duration_ms, r.attempt, r.retries] {
            copy_int(buf, n);
            buf.push(b'\t');
        }
        copy_field(buf, r.file);
        buf.push(b'\t');
        copy_field(buf, r.metadata);
    })
    .await
}

/// Streams `rows` to `statement` (a `COPY … FROM STDIN` in text format), one line each as
/// `write_row` spells it, in messages of about [`COPY_CHUNK`] bytes from one reused buffer.
async fn copy_rows<T>(
    tx: &mut PgTx,
    statement: &str,
    rows: &[T],
    write_row: impl Fn(&mut Vec<u8>, &T),
) -> Result<(), StoreError> {
    let mut copy = tx.copy_in_raw(statement).await?;
    let mut buf = Vec::with_capacity(COPY_CHUNK + 4096);
    for row in rows {
        write_row(&mut buf, row);
        buf.push(b'\n');
        if buf.len() >= COPY_CHUNK {
            copy.send(buf.as_slice()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_slice()).await?;
    }
    copy.finish().await?;
    Ok(())
}

async fn pg_copy_rollups(
    tx: &mut PgTx,
    rows: &[RollupWrite<'_>],
    now: i64,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    copy_rows(tx, PG_COPY_ROLLUPS, rows, |buf, r| {
        copy_field(buf, Some(r.suite));
        buf.push(b'\t');
        copy_field(buf, Some(r.test_name));
        buf.push(b'\t');
        copy_field(buf, Some(r.branch_key));
        buf.push(b'\t');
        for n in [r.day, r.total_runs, r.failed, r.retry_passes] {
            copy_int(buf, n);
            buf.push(b'\t');
        }
        copy_field(buf, Some(&r.data));
        buf.push(b'\t');
        copy_int(buf, now);
    })
    .await
}

async fn pg_upsert_rollups(
    tx: &mut PgTx,
    rows: &[RollupWrite<'_>],
    now: i64,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let mut suites = Vec::with_capacity(n);
    let mut names = Vec::with_capacity(n);
    let mut branches = Vec::with_capacity(n);
    let mut days = Vec::with_capacity(n);
    let mut totals = Vec::with_capacity(n);
    let mut failed = Vec::with_capacity(n);
    let mut retry_passes = Vec::with_capacity(n);
    let mut data = Vec::with_capacity(n);
    for r in rows {
        suites.push(r.suite);
        names.push(r.test_name);
        branches.push(r.branch_key);
        days.push(r.day);
        totals.push(r.total_runs);
        failed.push(r.failed);
        retry_passes.push(r.retry_passes);
        data.push(r.data.as_str());
    }
    sqlx::query(PG_UPSERT_ROLLUPS)
        .bind(suites)
        .bind(names)
        .bind(branches)
        .bind(days)
        .bind(totals)
        .bind(failed)
        .bind(retry_passes)
        .bind(data)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
