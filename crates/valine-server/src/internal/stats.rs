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

/// Phase 6: schema migration risk. Counted from the audit log, so every instance agrees.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Phase6 {
    /// Diffs analysed (every severity).
    pub diffs_run: i64,
    /// Diffs per severity (`low`, `medium`, `high`; zero when none).
    pub diffs_by_severity: BTreeMap<String, i64>,
    /// Diffs refused with 422 because a schema did not parse or validate.
    pub invalid_schemas: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub generated_at: String,
    pub phase4: Phase4,
    pub phase5: Phase5,
    pub phase6: Phase6,
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

pub async fn phase6(state: &AppState) -> ApiResult<Phase6> {
    use super::schema::{INVALID_EVENT, SEVERITIES, severity_event};
    let mut diffs_by_severity = BTreeMap::new();
    let mut diffs_run = 0;
    for severity in SEVERITIES {
        let n = state.store.count_events(&severity_event(severity)).await?;
        diffs_run += n;
        diffs_by_severity.insert(severity.as_str().to_string(), n);
    }
    Ok(Phase6 {
        diffs_run,
        diffs_by_severity,
        invalid_schemas: state.store.count_events(INVALID_EVENT).await?,
    })
}

pub async fn collect(state: &AppState) -> ApiResult<Stats> {
    Ok(Stats {
        generated_at: crate::timefmt::iso(valine_store::now_ms()),
        phase4: phase4(state).await?,
        phase5: phase5(state).await?,
        phase6: phase6(state).await?,
    })
}
