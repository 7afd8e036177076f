//! Schema migration risk (SPEC §12, phase 6): runs the pure `valine-prisma` analysis off the
//! async worker threads and records each run (metrics and audit log) under the key's name.

use std::sync::LazyLock;

use tokio::sync::Semaphore;
use valine_prisma::{Analysis, SchemaError, Severity};

use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::state::AppState;

/// Every severity an analysis can have, in order; `/internal/stats` reports each.
pub const SEVERITIES: [Severity; 3] = [Severity::Low, Severity::Medium, Severity::High];

/// Audit event of a diff refused because a schema is invalid.
pub const INVALID_EVENT: &str = "schema_diff_invalid";

/// Audit event of an analysed diff of this severity (`schema_diff_low`, …). One event type
/// per severity, so the per-severity counts of `/internal/stats` are plain counts by type.
pub fn severity_event(severity: Severity) -> String {
    format!("schema_diff_{severity}")
}

/// Analyses are CPU-bound (tens of milliseconds for a 1 MiB body): at most one per core at a
/// time, so a burst of diffs cannot fill the blocking pool other work (password hashing)
/// needs too. Waiting requests queue here instead.
static ANALYSES: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Semaphore::new(cores)
});

/// Diffs `base` → `target` as `actor`. An invalid schema is 422 `UNPROCESSABLE` with
/// `details` `{line, column, side}` (`side` is `base` or `target`).
pub async fn diff(
    state: &AppState,
    actor: &str,
    base: String,
    target: String,
) -> ApiResult<Analysis> {
    let permit = ANALYSES.acquire().await.map_err(ApiError::internal)?;
    let result = tokio::task::spawn_blocking(move || valine_prisma::analyze(&base, &target))
        .await
        .map_err(ApiError::internal)?;
    drop(permit);
    match result {
        Ok(analysis) => {
            state.metrics.schema_diff_run(analysis.severity.as_str());
            super::audit(
                &state.store,
                actor,
                &severity_event(analysis.severity),
                serde_json::json!({
                    "riskScore": analysis.risk_score,
                    "operations": analysis.operations.len(),
                    "destructive": analysis.summary.has_destructive,
                    "windowRecommendation": analysis.window_recommendation,
                }),
            )
            .await;
            Ok(analysis)
        }
        Err(e) => {
            state.metrics.schema_diffs_invalid.inc();
            super::audit(
                &state.store,
                actor,
                INVALID_EVENT,
                serde_json::json!({"side": e.side, "line": e.line, "column": e.column}),
            )
            .await;
            Err(unprocessable(&e))
        }
    }
}

/// 422 naming the position: `error` reads "target schema: line 3, column 1: …".
pub fn unprocessable(e: &SchemaError) -> ApiError {
    let mut details = FieldErrors::new();
    details.insert("line".into(), e.line.to_string());
    details.insert("column".into(), e.column.to_string());
    if let Some(side) = e.side {
        details.insert("side".into(), side.to_string());
    }
    ApiError::UnprocessableAt {
        message: e.to_string(),
        details,
    }
}
