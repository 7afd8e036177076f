//! `/internal/pr-intel*` (SPEC §10): signed or key-authenticated ingestion, per-PR history
//! and the riskiest-first list.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use valine_ci::signature::{SignatureError, verify_github_signature};
use valine_store::pr_intel::PrAnalysisRow;

use crate::error::{ApiError, ApiResult};
use crate::http::api_key::{self, ApiKey};
use crate::http::extract::ValidQuery;
use crate::internal::api_keys::Scope;
use crate::internal::pr_intel::{
    self as domain, ANALYSED_ACTIONS, PullRequestEvent, SeedBody, Submission,
};
use crate::routes::views::{encode_cursor, page_params};
use crate::state::AppState;
use crate::timefmt::iso;

/// GitHub caps webhook payloads at 25 MB; a `pull_request` event or a seed body with a
/// few thousand files stays far below this.
const INGEST_BODY_LIMIT: usize = 8 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest))
        .layer(DefaultBodyLimit::max(INGEST_BODY_LIMIT))
        .routes(routes!(by_pr))
        .routes(routes!(list))
}

fn ensure_enabled(state: &AppState) -> ApiResult<()> {
    if state.settings.pr_intel_enabled {
        Ok(())
    } else {
        Err(ApiError::FeatureDisabled)
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestResponse {
    message: String,
    id: String,
    pr_number: i64,
    risk_score: i64,
    level: String,
    reasons: Vec<String>,
    /// Every term of the score with its points (explains `riskScore`).
    #[schema(value_type = Vec<Object>)]
    components: Vec<valine_ci::pr_risk::Component>,
}

#[derive(Serialize, ToSchema)]
pub struct Acknowledged {
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<bool>,
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::validation("body", e.to_string()),
        _ => ApiError::InvalidJson(format!("Malformed JSON: {e}")),
    })
}

/// Who is calling: an API key with `pr-intel:write`, or (with no `Authorization` header at
/// all) a valid GitHub signature over the raw body. Returns the audit actor and source.
async fn authorise(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<(String, &'static str)> {
    if let Some(raw) = api_key::bearer(headers) {
        let key = api_key::authenticate(state, &raw).await?;
        key.require(Scope::PrIntelWrite)?;
        return Ok((key.name, "api-key"));
    }
    let secret = state
        .settings
        .pr_intel_webhook_secret
        .as_ref()
        .map(|s| s.expose())
        .unwrap_or_default();
    let signature = headers
        .get(valine_ci::signature::SIGNATURE_HEADER)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    match verify_github_signature(secret, body, signature) {
        Ok(()) => Ok(("github-webhook".to_string(), "webhook")),
        Err(e) => {
            let reason = match e {
                SignatureError::Missing => "missing",
                SignatureError::Malformed(_) => "malformed",
                SignatureError::Mismatch => "mismatch",
                SignatureError::NoSecret => "no_secret",
            };
            state.metrics.internal.signature_rejected(reason);
            let message = match e {
                SignatureError::NoSecret => {
                    "Webhook signatures are not accepted: no PR_INTEL_WEBHOOK_SECRET is configured"
                        .to_string()
                }
                other => format!("Invalid webhook signature: {other}"),
            };
            Err(ApiError::InvalidSignature(message))
        }
    }
}

/// Ingests a PR for analysis: the seed body (with `files`) or a GitHub `pull_request`
/// event (`X-GitHub-Event`). Authenticated by API key (`pr-intel:write`) or, without an
/// `Authorization` header, by `X-Hub-Signature-256`. A repeated `X-GitHub-Delivery` is 409.
#[utoipa::path(post, path = "/internal/pr-intel/ingest", tag = "internal",
    request_body = SeedBody,
    params(
        ("X-Hub-Signature-256" = Option<String>, Header, description = "sha256=<hex HMAC of the raw body>"),
        ("X-GitHub-Event" = Option<String>, Header, description = "pull_request, ping, …; absent for the seed body"),
        ("X-GitHub-Delivery" = Option<String>, Header, description = "delivery id; a repeat is refused"),
    ),
    security(("apiKey" = [])),
    responses((status = 201, body = IngestResponse),
              (status = 200, body = Acknowledged, description = "ping"),
              (status = 202, body = Acknowledged, description = "event action ignored"),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    ensure_enabled(&state)?;
    let (actor, source) = authorise(&state, &headers, &body).await?;
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        && !ct.trim_start().starts_with("application/json")
    {
        return Err(ApiError::UnsupportedMediaType(
            "Expected `Content-Type: application/json`".into(),
        ));
    }
    let delivery = header_str(&headers, "x-github-delivery");
    if delivery.is_some_and(|d| d.len() > 200) {
        return Err(ApiError::validation(
            "X-GitHub-Delivery",
            "must be at most 200 characters",
        ));
    }
    let submission: Submission = match header_str(&headers, "x-github-event") {
        None => parse_json::<SeedBody>(&body)?.into_submission()?,
        Some("ping") => {
            domain::acknowledge(&state, delivery).await?;
            return Ok((
                StatusCode::OK,
                Json(Acknowledged {
                    message: "pong".into(),
                    ignored: None,
                }),
            )
                .into_response());
        }
        Some("pull_request") => {
            let event: PullRequestEvent = parse_json(&body)?;
            if !ANALYSED_ACTIONS.contains(&event.action.as_str()) {
                domain::acknowledge(&state, delivery).await?;
                return Ok(ignored(format!(
                    "pull_request action {:?} is not analysed",
                    event.action
                )));
            }
            event.into_submission(delivery)?
        }
        Some(other) => {
            domain::acknowledge(&state, delivery).await?;
            return Ok(ignored(format!("event {other:?} is not analysed")));
        }
    };
    let stored = domain::analyse_and_store(&state, submission, delivery, &actor, source).await?;
    Ok((
        StatusCode::CREATED,
        Json(IngestResponse {
            message: "PR analysed".into(),
            id: stored.row.id,
            pr_number: stored.row.pr_number,
            risk_score: stored.row.risk_score,
            level: stored.row.level,
            reasons: stored.report.reasons,
            components: stored.report.components,
        }),
    )
        .into_response())
}

fn ignored(message: String) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(Acknowledged {
            message,
            ignored: Some(true),
        }),
    )
        .into_response()
}

/// One stored analysis.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordView {
    id: String,
    pr_number: i64,
    repository: Option<String>,
    title: Option<String>,
    author: Option<String>,
    base_ref: Option<String>,
    head_sha: Option<String>,
    risk_score: i64,
    level: String,
    reasons: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    components: serde_json::Value,
    changed_files_count: i64,
    sensitive_paths_count: i64,
    client_risk_score: Option<f64>,
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
    /// `api-key` or `webhook`.
    source: String,
    created_at: String,
}

impl From<PrAnalysisRow> for RecordView {
    fn from(r: PrAnalysisRow) -> Self {
        RecordView {
            reasons: serde_json::from_str(&r.reasons).unwrap_or_default(),
            components: serde_json::from_str(&r.components).unwrap_or_default(),
            metadata: serde_json::from_str(&r.metadata).unwrap_or_else(|_| serde_json::json!({})),
            id: r.id,
            pr_number: r.pr_number,
            repository: r.repository,
            title: r.title,
            author: r.author,
            base_ref: r.base_ref,
            head_sha: r.head_sha,
            risk_score: r.risk_score,
            level: r.level,
            changed_files_count: r.changed_files_count,
            sensitive_paths_count: r.sensitive_paths_count,
            client_risk_score: r.client_risk_score,
            source: r.source,
            created_at: iso(r.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrHistory {
    pr_number: i64,
    /// Newest first (at most 100).
    records: Vec<RecordView>,
    latest_risk_score: i64,
    latest_level: String,
    total_analyses: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepositoryQuery {
    /// `owner/name`; without it every repository's records of this PR number.
    repository: Option<String>,
}

/// Every analysis of one PR, newest first.
#[utoipa::path(get, path = "/internal/pr-intel/{prNumber}", tag = "internal",
    params(("prNumber" = i64, Path, description = "pull request number"), RepositoryQuery),
    security(("apiKey" = [])),
    responses((status = 200, body = PrHistory),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
async fn by_pr(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
    Path(pr): Path<String>,
    ValidQuery(q): ValidQuery<RepositoryQuery>,
) -> ApiResult<Json<PrHistory>> {
    ensure_enabled(&state)?;
    let key = key?;
    key.require(Scope::PrIntelRead)?;
    let pr_number = pr
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::validation("prNumber", "must be a positive integer"))?;
    let repository = q
        .repository
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let (rows, total) = state.store.pr_analyses(pr_number, repository, 100).await?;
    let Some(latest) = rows.first() else {
        return Err(ApiError::NotFound(format!(
            "No analyses for PR #{pr_number}"
        )));
    };
    let (latest_risk_score, latest_level) = (latest.risk_score, latest.level.clone());
    Ok(Json(PrHistory {
        pr_number,
        records: rows.into_iter().map(RecordView::from).collect(),
        latest_risk_score,
        latest_level,
        total_analyses: total,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// 0–100: only analyses scoring at least this.
    min_risk: Option<u32>,
    /// 1–100, default 20.
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordPage {
    items: Vec<RecordView>,
    next_cursor: Option<String>,
    has_more: bool,
}

/// Stored analyses, riskiest first (newest first among equal scores).
#[utoipa::path(get, path = "/internal/pr-intel", tag = "internal", params(ListQuery),
    security(("apiKey" = [])),
    responses((status = 200, body = RecordPage),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> ApiResult<Json<RecordPage>> {
    ensure_enabled(&state)?;
    let key = key?;
    key.require(Scope::PrIntelRead)?;
    let min_risk = q.min_risk.unwrap_or(0);
    if min_risk > 100 {
        return Err(ApiError::validation(
            "minRisk",
            "minRisk must be between 0 and 100",
        ));
    }
    let (limit, cursor) = page_params(q.limit, q.cursor.as_deref())?;
    let after = match cursor.as_deref() {
        None => None,
        Some(c) => {
            let (score, id) = c
                .split_once(':')
                .and_then(|(s, id)| Some((s.parse::<i64>().ok()?, id)))
                .ok_or_else(|| ApiError::validation("cursor", "cursor is not valid"))?;
            Some((score, id.to_string()))
        }
    };
    let mut rows = state
        .store
        .pr_analyses_page(
            i64::from(min_risk),
            after.as_ref().map(|(s, id)| (*s, id.as_str())),
            limit + 1,
        )
        .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if has_more {
        rows.last()
            .map(|r| encode_cursor(&format!("{}:{}", r.risk_score, r.id)))
    } else {
        None
    };
    Ok(Json(RecordPage {
        items: rows.into_iter().map(RecordView::from).collect(),
        next_cursor,
        has_more,
    }))
}
