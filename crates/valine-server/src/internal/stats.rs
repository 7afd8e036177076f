//! `GET /internal/stats` (SPEC §16): the seed's success metrics from the database, one
//! section per phase so later phases add theirs without touching the others.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

/// Phase 1: email verification. Rates come from the database; the two counters are this
/// instance's since it started (they are not persisted).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Phase1 {
    pub registered: i64,
    pub verified: i64,
    /// verified ÷ registered, 0–1.
    pub verification_rate: f64,
    pub verification_rate_last_7_days: f64,
    pub unverified_write_blocks: u64,
    pub resend_rate_limit_hits: u64,
}

/// Phase 2: sessions and 2FA (database).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Phase2 {
    pub active_sessions: i64,
    pub active_sessions_per_user_mean: f64,
    pub active_sessions_per_user_p95: f64,
    pub session_revocations_by_reason: BTreeMap<String, i64>,
    pub users_with_two_factor: i64,
    /// Users with 2FA ÷ users with a verified email, 0–1.
    pub two_factor_adoption: f64,
}

/// Phase 3: CSRF (this instance since it started).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Phase3 {
    /// Rejections per reason: `origin`, `missing`, `mismatch`, `wrong_session`.
    pub csrf_rejections: BTreeMap<String, u64>,
    pub csrf_checks: u64,
    pub csrf_check_mean_micros: f64,
}

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
    pub phase1: Phase1,
    pub phase2: Phase2,
    pub phase3: Phase3,
    pub phase4: Phase4,
    pub phase5: Phase5,
    pub phase6: Phase6,
    pub phase7: super::journey::Phase7,
}

fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

pub async fn phase1(state: &AppState) -> ApiResult<Phase1> {
    let (registered, verified) = state.store.verification_counts(i64::MIN).await?;
    let week_ago = valine_store::now_ms() - 7 * 24 * 3_600_000;
    let (reg7, ver7) = state.store.verification_counts(week_ago).await?;
    Ok(Phase1 {
        registered,
        verified,
        verification_rate: ratio(verified, registered),
        verification_rate_last_7_days: ratio(ver7, reg7),
        unverified_write_blocks: state.metrics.unverified_write_blocks.get(),
        resend_rate_limit_hits: state.metrics.resend_rate_limited.get(),
    })
}

pub async fn phase2(state: &AppState) -> ApiResult<Phase2> {
    let counts = state
        .store
        .active_sessions_per_user(valine_store::now_ms())
        .await?;
    let active_sessions = counts.iter().sum();
    let (mean, p95) = crate::metrics::mean_p95(counts);
    let (with_2fa, verified) = state.store.two_factor_adoption().await?;
    Ok(Phase2 {
        active_sessions,
        active_sessions_per_user_mean: mean,
        active_sessions_per_user_p95: p95,
        session_revocations_by_reason: state
            .store
            .revocations_by_reason()
            .await?
            .into_iter()
            .collect(),
        users_with_two_factor: with_2fa,
        two_factor_adoption: ratio(with_2fa, verified),
    })
}

pub fn phase3(state: &AppState) -> Phase3 {
    let m = &state.metrics;
    let csrf_rejections = crate::http::csrf::REASONS
        .iter()
        .map(|r| (r.label().to_string(), m.csrf_rejected_count(r.label())))
        .collect();
    let (checks, mean) = m.csrf_latency();
    Phase3 {
        csrf_rejections,
        csrf_checks: checks,
        csrf_check_mean_micros: mean,
    }
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
        phase1: phase1(state).await?,
        phase2: phase2(state).await?,
        phase3: phase3(state),
        phase4: phase4(state).await?,
        phase5: phase5(state).await?,
        phase6: phase6(state).await?,
        phase7: super::journey::phase7(state).await?,
    })
}
