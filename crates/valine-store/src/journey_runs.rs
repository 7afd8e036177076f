//! `journey_runs`: stored synthetic journey runs (SPEC §13), newest first by UUIDv7 id.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError};

crate::statements! {
    INSERT = Sql::both(
        "INSERT INTO journey_runs (id, status, total_duration_ms, started_at, finished_at, \
         steps_total, steps_passed, steps_failed, steps_skipped, success_rate, api_base_url, \
         actor, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    );
    /// Keyset page, newest first: the first page passes the id "~" (above every UUID).
    PAGE = Sql::both(
        "SELECT id, status, total_duration_ms, started_at, finished_at, steps_total, \
         steps_passed, steps_failed, steps_skipped, success_rate, api_base_url, actor \
         FROM journey_runs WHERE id < $1 ORDER BY id DESC LIMIT $2",
    );
    REPORT = Sql::both("SELECT report FROM journey_runs WHERE id = $1");
    COUNTS = Sql::both(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'passed' THEN 1 ELSE 0 END), 0) \
         FROM journey_runs",
    );
}

/// A run as listed (the full report is fetched separately with [`Store::journey_report`]).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct JourneyRunRow {
    pub id: String,
    /// `passed` or `failed`.
    pub status: String,
    pub total_duration_ms: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub steps_total: i64,
    pub steps_passed: i64,
    pub steps_failed: i64,
    pub steps_skipped: i64,
    /// Whole percent.
    pub success_rate: i64,
    pub api_base_url: String,
    /// The API key name that started the run.
    pub actor: String,
}

impl Store {
    /// Stores a finished run and its report (JSON text).
    pub async fn insert_journey_run(
        &self,
        run: &JourneyRunRow,
        report: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT.text(self.backend))
            .bind(&run.id)
            .bind(&run.status)
            .bind(run.total_duration_ms)
            .bind(run.started_at)
            .bind(run.finished_at)
            .bind(run.steps_total)
            .bind(run.steps_passed)
            .bind(run.steps_failed)
            .bind(run.steps_skipped)
            .bind(run.success_rate)
            .bind(&run.api_base_url)
            .bind(&run.actor)
            .bind(report)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Up to `limit` runs older than the run `before` (all runs when `None`), newest first.
    pub async fn journey_runs_page(
        &self,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<JourneyRunRow>, StoreError> {
        Ok(sqlx::query_as(PAGE.text(self.backend))
            .bind(before.unwrap_or("~"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The stored report document of run `id`.
    pub async fn journey_report(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(REPORT.text(self.backend))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(r,)| r))
    }

    /// (runs, passed runs), all time.
    pub async fn journey_run_counts(&self) -> Result<(i64, i64), StoreError> {
        Ok(sqlx::query_as(COUNTS.text(self.backend))
            .fetch_one(&self.pool)
            .await?)
    }
}
