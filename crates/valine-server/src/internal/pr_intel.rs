//! PR intelligence (SPEC §10): turn a seed-shaped body or a GitHub `pull_request` event
//! into a `valine_ci::pr_risk` input, score it on the server, store the analysis and the
//! webhook delivery id in one transaction.

use serde::Deserialize;
use valine_ci::pr_risk::{self, FileChange, PrInput, RiskReport, SensitivePaths};
use valine_store::StoreError;
use valine_store::pr_intel::PrAnalysisRow;

use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::state::AppState;

/// GitHub `pull_request` actions that change what a PR would merge; others are ignored.
pub const ANALYSED_ACTIONS: [&str; 5] = [
    "opened",
    "reopened",
    "synchronize",
    "ready_for_review",
    "edited",
];

const MAX_FILES: usize = 10_000;
const MAX_TEXT: usize = 1_000;

/// The seed body, extended with `files` (SPEC §10).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeedBody {
    pub pr_number: u64,
    pub repository: Option<String>,
    pub title: Option<String>,
    pub author: Option<String>,
    pub base_ref: Option<String>,
    pub head_sha: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub files: Option<Vec<FileChange>>,
    pub changed_files_count: Option<u32>,
    /// Ignored: the server finds sensitive paths itself.
    pub sensitive_paths_count: Option<u32>,
    /// Stored as `clientRiskScore`; never trusted.
    pub risk_score: Option<f64>,
    /// Totals for clients that send no file list.
    pub additions: Option<u64>,
    pub deletions: Option<u64>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// The parts of a GitHub `pull_request` webhook event that are used.
#[derive(Debug, Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub number: Option<u64>,
    pub pull_request: GhPullRequest,
    pub repository: Option<GhRepository>,
}

#[derive(Debug, Deserialize)]
pub struct GhPullRequest {
    pub number: Option<u64>,
    pub title: Option<String>,
    pub user: Option<GhUser>,
    pub head: Option<GhRef>,
    pub base: Option<GhRef>,
    pub additions: Option<u64>,
    pub deletions: Option<u64>,
    pub changed_files: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub struct GhUser {
    pub login: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct GhRef {
    pub sha: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct GhRepository {
    pub full_name: Option<String>,
}

/// Everything an analysis needs, whatever the wire shape was.
#[derive(Debug)]
pub struct Submission {
    pub pr_number: i64,
    pub repository: Option<String>,
    pub title: Option<String>,
    pub author: Option<String>,
    pub base_ref: Option<String>,
    pub head_sha: Option<String>,
    pub input: PrInput,
    pub client_risk_score: Option<f64>,
    pub metadata: serde_json::Value,
}

fn text(field: &str, value: Option<String>, errors: &mut FieldErrors) -> Option<String> {
    let value = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())?;
    if value.chars().count() > MAX_TEXT || value.chars().any(char::is_control) {
        errors.insert(
            field.to_string(),
            format!("must be at most {MAX_TEXT} printable characters"),
        );
        return None;
    }
    Some(value)
}

fn pr_number(n: u64, errors: &mut FieldErrors) -> i64 {
    match i64::try_from(n) {
        Ok(v) if v >= 1 => v,
        _ => {
            errors.insert("prNumber".into(), "must be a positive integer".into());
            0
        }
    }
}

impl SeedBody {
    pub fn into_submission(self) -> ApiResult<Submission> {
        let mut errors = FieldErrors::new();
        let pr_number = pr_number(self.pr_number, &mut errors);
        let files = self.files.unwrap_or_default();
        if files.len() > MAX_FILES {
            errors.insert("files".into(), format!("at most {MAX_FILES} files"));
        }
        if let Some(i) = files
            .iter()
            .position(|f| f.path.trim().is_empty() || f.path.len() > 4096)
        {
            errors.insert(
                format!("files[{i}].path"),
                "must be a non-empty path of at most 4096 bytes".into(),
            );
        }
        let client_risk_score = match self.risk_score {
            Some(s) if !(0.0..=100.0).contains(&s) => {
                errors.insert("riskScore".into(), "must be between 0 and 100".into());
                None
            }
            other => other,
        };
        let metadata = match self.metadata {
            None | Some(serde_json::Value::Null) => serde_json::json!({}),
            Some(v @ serde_json::Value::Object(_)) => v,
            Some(_) => {
                errors.insert("metadata".into(), "must be an object".into());
                serde_json::Value::Null
            }
        };
        let submission = Submission {
            pr_number,
            repository: text("repository", self.repository, &mut errors),
            title: text("title", self.title, &mut errors),
            author: text("author", self.author, &mut errors),
            base_ref: text("baseRef", self.base_ref, &mut errors),
            head_sha: text("headSha", self.head_sha, &mut errors),
            input: PrInput {
                files,
                changed_files_count: self.changed_files_count,
                total_additions: self.additions,
                total_deletions: self.deletions,
            },
            client_risk_score,
            metadata,
        };
        if errors.is_empty() {
            Ok(submission)
        } else {
            Err(ApiError::fields(errors))
        }
    }
}

impl PullRequestEvent {
    /// The event as a submission. GitHub's event carries totals, not the file list, so
    /// the score rests on size and count alone (send the seed body with `files` from CI
    /// for the full analysis; see examples/github-actions/pr-intel.yml).
    pub fn into_submission(self, delivery_id: Option<&str>) -> ApiResult<Submission> {
        let mut errors = FieldErrors::new();
        let pr = self.pull_request;
        let number = pr.number.or(self.number).unwrap_or(0);
        let pr_number = pr_number(number, &mut errors);
        let submission = Submission {
            pr_number,
            repository: text(
                "repository",
                self.repository.and_then(|r| r.full_name),
                &mut errors,
            ),
            title: text("title", pr.title, &mut errors),
            author: text("author", pr.user.and_then(|u| u.login), &mut errors),
            base_ref: text("baseRef", pr.base.and_then(|b| b.git_ref), &mut errors),
            head_sha: text("headSha", pr.head.and_then(|h| h.sha), &mut errors),
            input: PrInput {
                files: Vec::new(),
                changed_files_count: pr.changed_files,
                total_additions: pr.additions,
                total_deletions: pr.deletions,
            },
            client_risk_score: None,
            metadata: serde_json::json!({
                "event": "pull_request",
                "action": self.action,
                "deliveryId": delivery_id,
            }),
        };
        if errors.is_empty() {
            Ok(submission)
        } else {
            Err(ApiError::fields(errors))
        }
    }
}

/// The configured sensitive-path globs (`PR_INTEL_SENSITIVE_PATHS`), else the default.
pub fn sensitive_paths(state: &AppState) -> ApiResult<SensitivePaths> {
    match &state.settings.pr_intel_sensitive_paths {
        Some(globs) if !globs.is_empty() => SensitivePaths::from_globs(globs).map_err(|e| {
            ApiError::internal(anyhow::anyhow!("PR_INTEL_SENSITIVE_PATHS is invalid: {e}"))
        }),
        _ => Ok(SensitivePaths::default()),
    }
}

pub struct Stored {
    pub row: PrAnalysisRow,
    pub report: RiskReport,
}

/// Refuses a replayed delivery id (409) inside `tx`.
async fn claim_delivery(
    state: &AppState,
    tx: &mut valine_store::Tx,
    delivery_id: Option<&str>,
) -> ApiResult<()> {
    let Some(id) = delivery_id else {
        return Ok(());
    };
    match state
        .store
        .record_delivery(tx, id, valine_store::now_ms())
        .await
    {
        Err(StoreError::Conflict { .. }) => Err(ApiError::Conflict(
            "This delivery (X-GitHub-Delivery) was already processed".into(),
        )),
        other => Ok(other?),
    }
}

/// Records a delivery that is acknowledged without analysis (ping, ignored actions), so
/// that its replay is refused like any other.
pub async fn acknowledge(state: &AppState, delivery_id: Option<&str>) -> ApiResult<()> {
    if delivery_id.is_none() {
        return Ok(());
    }
    let mut tx = state.store.begin_write().await?;
    claim_delivery(state, &mut tx, delivery_id).await?;
    valine_store::commit(tx).await?;
    Ok(())
}

/// Scores `s`, stores it (with the delivery id, atomically) and audits it as `actor`.
pub async fn analyse_and_store(
    state: &AppState,
    s: Submission,
    delivery_id: Option<&str>,
    actor: &str,
    source: &str,
) -> ApiResult<Stored> {
    let sensitive = sensitive_paths(state)?;
    let report = pr_risk::analyze(&s.input, &sensitive);
    let row = PrAnalysisRow {
        id: valine_store::new_id(),
        pr_number: s.pr_number,
        repository: s.repository,
        title: s.title,
        author: s.author,
        base_ref: s.base_ref,
        head_sha: s.head_sha,
        risk_score: i64::from(report.score),
        level: report.level.as_str().to_string(),
        reasons: serde_json::to_string(&report.reasons).map_err(ApiError::internal)?,
        components: serde_json::to_string(&report.components).map_err(ApiError::internal)?,
        changed_files_count: i64::from(report.changed_files_count),
        sensitive_paths_count: i64::from(report.sensitive_paths_count),
        client_risk_score: s.client_risk_score,
        metadata: s.metadata.to_string(),
        source: source.to_string(),
        created_at: valine_store::now_ms(),
    };
    let mut tx = state.store.begin_write().await?;
    claim_delivery(state, &mut tx, delivery_id).await?;
    state.store.insert_pr_analysis(&mut tx, &row).await?;
    valine_store::commit(tx).await?;
    state.metrics.internal.pr_analysed(&row.level);
    super::audit(
        &state.store,
        actor,
        "pr_intel_ingested",
        serde_json::json!({
            "analysisId": row.id,
            "prNumber": row.pr_number,
            "repository": row.repository,
            "riskScore": row.risk_score,
        }),
    )
    .await;
    Ok(Stored { row, report })
}
