//! Synthetic journeys (SPEC §13, phase 7): the verification-token side door for synthetic
//! accounts, server-side runs of the `valine-journey` crate against `API_BASE_URL`, their
//! storage, metrics and statistics.
//!
//! **Why the token endpoint mints a new token.** Verification tokens are stored as SHA-256
//! hashes, so the pending token mailed at registration cannot be read back. The endpoint
//! therefore issues a fresh one through the same store call a resend uses
//! (`VerificationSource::Resend`): the earlier, mailed token is retired in the same
//! transaction, so at any moment the account has exactly one live link, the issue counts in
//! the account's resend trail, and the raw token exists only in this one response. It
//! answers only for a still-unverified account whose email is under
//! `JOURNEY_EMAIL_DOMAIN` (everything else is 404, the same answer as "no such account"),
//! so no ordinary account can be verified without its mail.
//!
//! **Which key the server-side run uses.** The journey's `verify` step calls the token
//! endpoint with the caller's own API key: it already holds scope `journey` (the run route
//! demands it), so no second credential is minted, stored or leaked, and revoking the
//! caller's key stops its runs at once.

use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;
use valine_journey::{Config, Progress, Report, Step, StepStatus};
use valine_store::email_tokens::VerificationSource;
use valine_store::journey_runs::JourneyRunRow;

use crate::auth::tokens::{hash_token, random_token};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Audit events.
pub const TOKEN_EVENT: &str = "journey_verification_token_issued";
pub const RUN_EVENT: &str = "journey_run";

/// 404 for everything that is not a pending journey account (no account oracle).
fn not_found() -> ApiError {
    ApiError::NotFound("No pending journey account has this email".into())
}

/// Issues a fresh verification token for the pending synthetic account `email`.
pub async fn issue_verification_token(
    state: &AppState,
    actor: &str,
    email: &str,
) -> ApiResult<String> {
    let normalized = email.trim().to_lowercase();
    let domain = state.settings.journey_email_domain.to_lowercase();
    let under_domain = normalized
        .rsplit_once('@')
        .is_some_and(|(local, d)| !local.is_empty() && d == domain);
    if !under_domain {
        return Err(not_found());
    }
    let user = state
        .store
        .user_by_login(&normalized)
        .await?
        .filter(|u| u.normalized_email == normalized && !u.email_verified())
        .ok_or_else(not_found)?;
    let now = valine_store::now_ms();
    let ttl = i64::try_from(state.settings.verification_token_ttl.as_millis()).unwrap_or(i64::MAX);
    let token = random_token();
    let mut tx = state.store.begin_write().await?;
    state
        .store
        .insert_verification_token_tx(
            &mut tx,
            &user.id,
            &hash_token(&token),
            now,
            now.saturating_add(ttl),
            VerificationSource::Resend,
        )
        .await?;
    valine_store::commit(tx).await?;
    tracing::info!(user_id = %user.id, token = %crate::auth::mask_token(&token), "journey verification token issued");
    super::audit(
        &state.store,
        actor,
        TOKEN_EVENT,
        serde_json::json!({"userId": user.id}),
    )
    .await;
    Ok(token)
}

/// The per-step deadline of a server-side run: the whole run (every step plus cleanup at
/// its deadline) must fit in one request's `REQUEST_TIMEOUT_SECONDS`, capped at the CLI's
/// default.
fn step_timeout(state: &AppState, steps: usize) -> Duration {
    let budget = state
        .settings
        .request_timeout
        .saturating_sub(Duration::from_secs(1));
    let per_step = budget / u32::try_from(steps.max(1) + 1).unwrap_or(u32::MAX);
    per_step.clamp(
        Duration::from_millis(500),
        valine_journey::DEFAULT_STEP_TIMEOUT,
    )
}

/// Runs `steps` against `API_BASE_URL` with the caller's key, stores the run and returns its
/// report (a failed journey is a report too, not an error). The run is its own task: if the
/// caller goes away, the journey still finishes, cleans up and is recorded.
pub async fn run(
    state: &AppState,
    actor: &str,
    api_key: &str,
    steps: Vec<Step>,
) -> ApiResult<Report> {
    let config = Config {
        base_url: state.settings.api_base_url.clone(),
        api_key: Some(api_key.to_string()),
        email_domain: state.settings.journey_email_domain.clone(),
        step_timeout: step_timeout(state, steps.len()),
        max_response_bytes: valine_journey::DEFAULT_MAX_RESPONSE_BYTES,
        steps,
    };
    let state = state.clone();
    let actor = actor.to_string();
    let task = tokio::spawn(async move {
        let started_at = valine_store::now_ms();
        let mut log = |event: Progress<'_>| {
            if let Progress::Finished { result, .. } = event {
                tracing::info!(
                    step = %result.step,
                    status = result.status.as_str(),
                    duration_ms = result.duration,
                    error = result.error.as_deref().unwrap_or(""),
                    "journey step"
                );
            }
        };
        let report = valine_journey::run(&config, &mut log).await;
        record(&state, &actor, started_at, &report).await?;
        Ok::<Report, ApiError>(report)
    });
    task.await.map_err(ApiError::internal)?
}

/// Metrics, the stored run and the audit event of a finished run.
async fn record(state: &AppState, actor: &str, started_at: i64, report: &Report) -> ApiResult<()> {
    let j = &report.journey;
    let m = &state.metrics.internal;
    m.journey_runs
        .get_or_create(&crate::internal::metrics::JourneyLabel {
            status: j.status.as_str().to_string(),
        })
        .inc();
    for step in j.steps.iter().filter(|s| s.status != StepStatus::Skipped) {
        m.journey_step_duration
            .get_or_create(&crate::internal::metrics::StepLabel {
                step: step.step.as_str().to_string(),
                status: step.status.as_str().to_string(),
            })
            .observe(step.duration as f64 / 1000.0);
    }
    let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let total_ms = i64::try_from(j.total_duration).unwrap_or(i64::MAX);
    let row = JourneyRunRow {
        id: valine_store::new_id(),
        status: j.status.as_str().to_string(),
        total_duration_ms: total_ms,
        started_at,
        finished_at: started_at.saturating_add(total_ms),
        steps_total: as_i64(j.summary.total),
        steps_passed: as_i64(j.summary.passed),
        steps_failed: as_i64(j.summary.failed),
        steps_skipped: as_i64(j.summary.skipped),
        success_rate: i64::from(j.summary.success_rate),
        api_base_url: report.metadata.api_base_url.clone(),
        actor: actor.to_string(),
    };
    let doc = serde_json::to_string(report).map_err(ApiError::internal)?;
    state.store.insert_journey_run(&row, &doc).await?;
    refresh_success_rate(state).await;
    super::audit(
        &state.store,
        actor,
        RUN_EVENT,
        serde_json::json!({
            "runId": row.id,
            "status": row.status,
            "successRate": row.success_rate,
            "failedStep": j.steps.iter().find(|s| s.status == StepStatus::Failed).map(|s| s.step),
        }),
    )
    .await;
    Ok(())
}

/// Re-reads the success-rate gauge from the stored runs (every instance's).
pub async fn refresh_success_rate(state: &AppState) {
    if let Ok((runs, passed)) = state.store.journey_run_counts().await {
        let rate = if runs == 0 {
            0.0
        } else {
            passed as f64 / runs as f64
        };
        state.metrics.internal.journey_success_rate.set(rate);
    }
}

/// Phase 7 of `GET /internal/stats`: synthetic journeys, from the stored runs.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Phase7 {
    pub journey_runs: i64,
    pub journey_runs_passed: i64,
    pub journey_runs_failed: i64,
    /// Passed runs ÷ runs, 0–1.
    pub success_rate: f64,
    /// The newest run's outcome (`passed`/`failed`), if any.
    pub last_run_status: Option<String>,
    pub last_run_at: Option<String>,
}

pub async fn phase7(state: &AppState) -> ApiResult<Phase7> {
    let (runs, passed) = state.store.journey_run_counts().await?;
    let last = state
        .store
        .journey_runs_page(None, 1)
        .await?
        .into_iter()
        .next();
    refresh_success_rate(state).await;
    Ok(Phase7 {
        journey_runs: runs,
        journey_runs_passed: passed,
        journey_runs_failed: runs - passed,
        success_rate: if runs == 0 {
            0.0
        } else {
            passed as f64 / runs as f64
        },
        last_run_status: last.as_ref().map(|r| r.status.clone()),
        last_run_at: last.map(|r| crate::timefmt::iso(r.started_at)),
    })
}
