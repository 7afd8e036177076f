//! `GET /internal/stats` (SPEC §16): the seed's success metrics from the database, one
//! section per phase so later phases add theirs without touching the others.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

/// Phase 4: PR intelligence.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Phase4 {
    /// Distinct (repository, PR number) pairs analysed.
    pub prs_analysed: i64,
    /// Every stored analysis.
    pub analyses: i64,
    /// Analyses per level (`low`, `medium`, `high`, `critical`; zero when none).
    pub analyses_by_level: BTreeMap<String, i64>,
}

/// Phase 5: flaky-test detection.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Phase5 {
    pub results_ingested: i64,
    pub batches_ingested: i64,
    /// Batches refused or failed after authentication (nothing of them was stored).
    pub batches_failed: i64,
    pub infrastructure_failure_runs: i64,
    /// Under the default query: minRuns 10, windowDays 30, every branch.
    pub current_flaky_tests: u64,
    pub current_broken_tests: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub generated_at: String,
    pub phase4: Phase4,
    pub phase5: Phase5,
}

pub async fn phase4(state: &AppState) -> ApiResult<Phase4> {
    let (by_level, prs) = state.store.pr_analysis_counts().await?;
    let mut analyses_by_level: BTreeMap<String, i64> = ["low", "medium", "high", "critical"]
        .into_iter()
        .map(|l| (l.to_string(), 0))
        .collect();
    let mut analyses = 0;
    for (level, n) in by_level {
        analyses += n;
        *analyses_by_level.entry(level).or_insert(0) += n;
    }
    Ok(Phase4 {
        prs_analysed: prs,
        analyses,
        analyses_by_level,
    })
}

pub async fn phase5(state: &AppState) -> ApiResult<Phase5> {
    let totals = state.store.test_ingest_totals().await?;
    let batches_failed = state.store.count_events("tests_ingest_failed").await?;
    // Also refreshes the /metrics gauges, so both views agree after a stats call.
    let (flaky, broken) = super::tests::refresh_gauges(state).await?;
    Ok(Phase5 {
        results_ingested: totals.results,
        batches_ingested: totals.batches,
        batches_failed,
        infrastructure_failure_runs: totals.infrastructure_failure_runs,
        current_flaky_tests: flaky,
        current_broken_tests: broken,
    })
}

pub async fn collect(state: &AppState) -> ApiResult<Stats> {
    Ok(Stats {
        generated_at: crate::timefmt::iso(valine_store::now_ms()),
        phase4: phase4(state).await?,
        phase5: phase5(state).await?,
    })
}
