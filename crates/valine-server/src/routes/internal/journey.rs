//! `/internal/journey/*` (SPEC §13): the verification-token endpoint for synthetic accounts,
//! server-side journey runs against `API_BASE_URL`, and their stored history.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use valine_journey::Report;

use crate::error::{ApiError, ApiResult};
use crate::http::api_key::{ApiKey, bearer};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::internal::api_keys::Scope;
use crate::internal::journey as domain;
use crate::routes::views::{encode_cursor, page_params};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verification_token))
        .routes(routes!(run))
        .routes(routes!(list_runs))
}

fn ensure_enabled(state: &AppState) -> ApiResult<()> {
    if state.settings.synthetic_journey_enabled {
        Ok(())
    } else {
        Err(ApiError::FeatureDisabled)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A synthetic account's email, under `JOURNEY_EMAIL_DOMAIN`.
    email: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// A fresh verification token for `POST /auth/verify-email`; shown once.
    token: String,
}

/// A fresh verification token for a still-unverified synthetic account (its email under
/// `JOURNEY_EMAIL_DOMAIN`); the mailed token is retired. Any other email — another domain,
/// unknown, already verified — is 404, so no ordinary account can be verified this way.
#[utoipa::path(post, path = "/internal/journey/verification-token", tag = "internal",
    request_body = TokenRequest,
    security(("apiKey" = [])),
    responses((status = 200, body = TokenResponse),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody,
               description = "not a pending journey account, or FEATURE_DISABLED")))]
async fn verification_token(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
    body: Result<ValidJson<TokenRequest>, ApiError>,
) -> ApiResult<Json<TokenResponse>> {
    ensure_enabled(&state)?;
    let key = key?;
    key.require(Scope::Journey)?;
    let ValidJson(req) = body?;
    let token = domain::issue_verification_token(&state, &key.name, &req.email).await?;
    Ok(Json(TokenResponse { token }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// Step names to run (`register`, `verify`, `login`, `createProfile`, `uploadMedia`,
    /// `searchSelf`, `exportData`, `logout`, `cleanup`); the steps they need are added and
    /// `cleanup` always runs last. Omitted or empty: the whole journey.
    scenarios: Option<Vec<String>>,
}

/// Runs the synthetic journey over real HTTP against `API_BASE_URL`, with the caller's key
/// for the `verify` step, and stores the run. 200 with the report even when the journey
/// failed (`journey.status = "failed"`). The body may be empty.
#[utoipa::path(post, path = "/internal/journey/run", tag = "internal",
    request_body = RunRequest,
    security(("apiKey" = [])),
    responses((status = 200, body = ReportDoc),
              (status = 400, body = crate::error::ErrorBody, description = "unknown scenario"),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody,
               description = "FEATURE_DISABLED when SYNTHETIC_JOURNEY_ENABLED=false")))]
async fn run(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Report>> {
    ensure_enabled(&state)?;
    let key = key?;
    key.require(Scope::Journey)?;
    let req: RunRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RunRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => ApiError::validation("body", e.to_string()),
            _ => ApiError::InvalidJson(format!("Malformed JSON: {e}")),
        })?
    };
    let steps = valine_journey::plan(req.scenarios.as_deref())
        .map_err(|e| ApiError::validation("scenarios", e.to_string()))?;
    // The extractor authenticated exactly this header's key.
    let raw_key = bearer(&headers).unwrap_or_default();
    let report = domain::run(&state, &key.name, &raw_key, steps).await?;
    Ok(Json(report))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// 1–100, default 20.
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunSummaryView {
    total: i64,
    passed: i64,
    failed: i64,
    skipped: i64,
    /// Whole percent.
    success_rate: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    id: String,
    /// `passed` or `failed`.
    status: String,
    /// Milliseconds.
    total_duration: i64,
    started_at: String,
    summary: RunSummaryView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunPage {
    items: Vec<RunView>,
    next_cursor: Option<String>,
    has_more: bool,
}

/// Stored journey runs, newest first.
#[utoipa::path(get, path = "/internal/journey/runs", tag = "internal", params(RunsQuery),
    security(("apiKey" = [])),
    responses((status = 200, body = RunPage),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody,
               description = "FEATURE_DISABLED when SYNTHETIC_JOURNEY_ENABLED=false")))]
async fn list_runs(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
    ValidQuery(q): ValidQuery<RunsQuery>,
) -> ApiResult<Json<RunPage>> {
    ensure_enabled(&state)?;
    key?.require(Scope::Journey)?;
    let (limit, cursor) = page_params(q.limit, q.cursor.as_deref())?;
    let mut rows = state
        .store
        .journey_runs_page(cursor.as_deref(), limit + 1)
        .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if has_more {
        rows.last().map(|r| encode_cursor(&r.id))
    } else {
        None
    };
    Ok(Json(RunPage {
        items: rows
            .into_iter()
            .map(|r| RunView {
                started_at: crate::timefmt::iso(r.started_at),
                summary: RunSummaryView {
                    total: r.steps_total,
                    passed: r.steps_passed,
                    failed: r.steps_failed,
                    skipped: r.steps_skipped,
                    success_rate: r.success_rate,
                },
                id: r.id,
                status: r.status,
                total_duration: r.total_duration_ms,
            })
            .collect(),
        next_cursor,
        has_more,
    }))
}

// The report is `valine_journey::Report`, serialized by that crate (which knows nothing of
// OpenAPI). These types describe its wire shape in /openapi.json; the integration tests
// check real responses against the same field names.

/// A journey run (SPEC §13 shape).
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = JourneyReport)]
struct ReportDoc {
    journey: JourneyDoc,
    metadata: MetadataDoc,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = Journey)]
#[serde(rename_all = "camelCase")]
struct JourneyDoc {
    /// `passed` or `failed`.
    status: String,
    /// Milliseconds, cleanup included.
    total_duration: u64,
    steps: Vec<StepDoc>,
    summary: SummaryDoc,
    account: AccountDoc,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = JourneyStep)]
struct StepDoc {
    /// The step name.
    step: String,
    /// `passed`, `failed` or `skipped`.
    status: String,
    /// Milliseconds.
    duration: u64,
    http: HttpDoc,
    /// What went wrong (failed steps only).
    error: Option<String>,
    /// What was expected (failed steps only).
    expected: Option<String>,
    /// What arrived instead (failed steps only).
    received: Option<String>,
}

/// The step's last request; `status` is null without a response. No query strings.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = JourneyHttp)]
struct HttpDoc {
    method: String,
    path: String,
    status: Option<u16>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = JourneySummary)]
#[serde(rename_all = "camelCase")]
struct SummaryDoc {
    total: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    /// Whole percent.
    success_rate: u32,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = JourneyAccount)]
struct AccountDoc {
    email: String,
    username: String,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = JourneyMetadata)]
#[serde(rename_all = "camelCase")]
struct MetadataDoc {
    timestamp: String,
    api_base_url: String,
    /// Always false.
    simulated: bool,
}
