//! `pr_intelligence` and `pr_webhook_deliveries`: stored PR risk analyses and the
//! delivery ids that make webhook replays detectable.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError, Tx};

crate::statements! {
    INSERT_DELIVERY = Sql::both(
        "INSERT INTO pr_webhook_deliveries (delivery_id, received_at) VALUES ($1, $2)",
    );
    INSERT = Sql::both(
        "INSERT INTO pr_intelligence (id, pr_number, repository, title, author, base_ref, \
         head_sha, risk_score, level, reasons, components, changed_files_count, \
         sensitive_paths_count, client_risk_score, metadata, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    );
    BY_PR = Sql::both(
        "SELECT id, pr_number, repository, title, author, base_ref, head_sha, risk_score, \
         level, reasons, components, changed_files_count, sensitive_paths_count, \
         client_risk_score, metadata, source, created_at \
         FROM pr_intelligence WHERE pr_number = $1 ORDER BY id DESC LIMIT $2",
    );
    BY_PR_REPO = Sql::both(
        "SELECT id, pr_number, repository, title, author, base_ref, head_sha, risk_score, \
         level, reasons, components, changed_files_count, sensitive_paths_count, \
         client_risk_score, metadata, source, created_at \
         FROM pr_intelligence WHERE pr_number = $1 AND repository = $2 ORDER BY id DESC LIMIT $3",
    );
    COUNT_BY_PR = Sql::both("SELECT COUNT(*) FROM pr_intelligence WHERE pr_number = $1");
    COUNT_BY_PR_REPO = Sql::both(
        "SELECT COUNT(*) FROM pr_intelligence WHERE pr_number = $1 AND repository = $2",
    );
    /// Keyset page on (risk_score DESC, id DESC): riskiest first, newest first among
    /// equals. The first page passes a score above 100 and the id "~".
    PAGE = Sql::both(
        "SELECT id, pr_number, repository, title, author, base_ref, head_sha, risk_score, \
         level, reasons, components, changed_files_count, sensitive_paths_count, \
         client_risk_score, metadata, source, created_at \
         FROM pr_intelligence WHERE risk_score >= $1 \
         AND (risk_score < $2 OR (risk_score = $2 AND id < $3)) \
         ORDER BY risk_score DESC, id DESC LIMIT $4",
    );
    COUNT_BY_LEVEL = Sql::both(
        "SELECT level, COUNT(*) AS n FROM pr_intelligence GROUP BY level ORDER BY level",
    );
    COUNT_PRS = Sql::both(
        "SELECT COUNT(*) FROM (SELECT DISTINCT COALESCE(repository, ''), pr_number \
         FROM pr_intelligence) AS prs",
    );
}

#[derive(Debug, Clone, FromRow)]
pub struct PrAnalysisRow {
    pub id: String,
    pub pr_number: i64,
    pub repository: Option<String>,
    pub title: Option<String>,
    pub author: Option<String>,
    pub base_ref: Option<String>,
    pub head_sha: Option<String>,
    pub risk_score: i64,
    pub level: String,
    /// JSON array of strings.
    pub reasons: String,
    /// JSON array of components.
    pub components: String,
    pub changed_files_count: i64,
    pub sensitive_paths_count: i64,
    pub client_risk_score: Option<f64>,
    /// JSON object.
    pub metadata: String,
    /// `api-key` or `webhook`.
    pub source: String,
    pub created_at: i64,
}

impl Store {
    /// Remembers a webhook delivery id inside `tx`. A repeat is a
    /// `Conflict { constraint: "pr_webhook_deliveries_delivery_id_key" }`.
    pub async fn record_delivery(
        &self,
        tx: &mut Tx,
        delivery_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT_DELIVERY.text(self.backend))
            .bind(delivery_id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn insert_pr_analysis(
        &self,
        tx: &mut Tx,
        r: &PrAnalysisRow,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT.text(self.backend))
            .bind(&r.id)
            .bind(r.pr_number)
            .bind(&r.repository)
            .bind(&r.title)
            .bind(&r.author)
            .bind(&r.base_ref)
            .bind(&r.head_sha)
            .bind(r.risk_score)
            .bind(&r.level)
            .bind(&r.reasons)
            .bind(&r.components)
            .bind(r.changed_files_count)
            .bind(r.sensitive_paths_count)
            .bind(r.client_risk_score)
            .bind(&r.metadata)
            .bind(&r.source)
            .bind(r.created_at)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The newest `limit` analyses of PR `pr_number` (of one repository, or of all), and
    /// how many there are in total.
    pub async fn pr_analyses(
        &self,
        pr_number: i64,
        repository: Option<&str>,
        limit: i64,
    ) -> Result<(Vec<PrAnalysisRow>, i64), StoreError> {
        let (rows, (total,)): (Vec<PrAnalysisRow>, (i64,)) = match repository {
            Some(repo) => (
                sqlx::query_as(BY_PR_REPO.text(self.backend))
                    .bind(pr_number)
                    .bind(repo)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?,
                sqlx::query_as(COUNT_BY_PR_REPO.text(self.backend))
                    .bind(pr_number)
                    .bind(repo)
                    .fetch_one(&self.pool)
                    .await?,
            ),
            None => (
                sqlx::query_as(BY_PR.text(self.backend))
                    .bind(pr_number)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?,
                sqlx::query_as(COUNT_BY_PR.text(self.backend))
                    .bind(pr_number)
                    .fetch_one(&self.pool)
                    .await?,
            ),
        };
        Ok((rows, total))
    }

    /// Analyses with `risk_score >= min_risk`, riskiest first, strictly after the keyset
    /// position `after` = (score, id) of the previous page's last row.
    pub async fn pr_analyses_page(
        &self,
        min_risk: i64,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<PrAnalysisRow>, StoreError> {
        let (score, id) = after.unwrap_or((i64::MAX, "~"));
        Ok(sqlx::query_as(PAGE.text(self.backend))
            .bind(min_risk)
            .bind(score)
            .bind(id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Analyses per level, and distinct (repository, PR) pairs analysed.
    pub async fn pr_analysis_counts(&self) -> Result<(Vec<(String, i64)>, i64), StoreError> {
        let by_level: Vec<(String, i64)> = sqlx::query_as(COUNT_BY_LEVEL.text(self.backend))
            .fetch_all(&self.pool)
            .await?;
        let (prs,): (i64,) = sqlx::query_as(COUNT_PRS.text(self.backend))
            .fetch_one(&self.pool)
            .await?;
        Ok((by_level, prs))
    }
}
