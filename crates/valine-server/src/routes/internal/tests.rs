//! `/internal/tests/*` (SPEC §11): result ingestion (JSON or JUnit XML), flaky candidates
//! and per-test history.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use valine_ci::junit::{self, JunitError, Status};

use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::api_key::ApiKey;
use crate::http::extract::ValidQuery;
use crate::internal::api_keys::Scope;
use crate::internal::tests::{self as domain, Batch, CandidateQuery, Incoming, MAX_RESULTS};
use crate::routes::views::{encode_cursor, page_params};
use crate::state::AppState;
use crate::timefmt::iso;

/// 50,000 results with stack traces in JUnit, or with metadata in JSON, need far more
/// than the global 1 MiB JSON cap; this route alone gets 64 MiB.
const INGEST_BODY_LIMIT: usize = 64 * 1024 * 1024;
const MAX_NAME: usize = 1_000;
const MAX_REPORTED_ERRORS: usize = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest))
        .layer(DefaultBodyLimit::max(INGEST_BODY_LIMIT))
        .routes(routes!(flaky_candidates))
        .routes(routes!(history))
}

fn ensure_enabled(state: &AppState) -> ApiResult<()> {
    if state.settings.flaky_detector_enabled {
        Ok(())
    } else {
        Err(ApiError::FeatureDisabled)
    }
}

/// The seed's JSON shape, extended.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonBatch {
    run_id: Option<String>,
    commit_sha: Option<String>,
    branch: Option<String>,
    job_url: Option<String>,
    tests: Vec<JsonResult>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonResult {
    suite: String,
    test_name: String,
    /// `passed|failed|skipped|error`.
    status: String,
    /// Milliseconds.
    duration_ms: Option<f64>,
    /// 1-based attempt within the run; a pass on attempt > 1 is a retry-pass.
    attempt: Option<u32>,
    file: Option<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
}

/// Run context for JUnit uploads (JSON bodies carry it inline).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct RunParams {
    run_id: Option<String>,
    commit_sha: Option<String>,
    branch: Option<String>,
    job_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestResponse {
    message: String,
    count: usize,
    run_id: String,
    batch_id: String,
    /// The run was judged an infrastructure failure (≥ 80 % failed): stored, but left
    /// out of flaky detection.
    infrastructure_failure: bool,
}

/// A short printable identifier (run id, commit, branch): trimmed, empty → absent.
fn ident(
    field: &str,
    value: Option<String>,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    let v = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())?;
    if v.chars().count() > max || v.chars().any(char::is_control) {
        errors.insert(
            field.into(),
            format!("must be at most {max} printable characters"),
        );
        return None;
    }
    Some(v)
}

struct Context {
    run_id: Option<String>,
    commit_sha: Option<String>,
    branch: Option<String>,
    job_url: Option<String>,
}

fn context(
    c: Context,
    errors: &mut FieldErrors,
) -> (String, Option<String>, Option<String>, Option<String>) {
    let run_id = ident("runId", c.run_id, 200, errors).unwrap_or_else(valine_store::new_id);
    (
        run_id,
        ident("commitSha", c.commit_sha, 200, errors),
        ident("branch", c.branch, 255, errors),
        ident("jobUrl", c.job_url, 2_000, errors),
    )
}

fn too_many(n: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "A batch holds at most {MAX_RESULTS} results; this one has {n}"
    ))
}

fn json_batch(body: &[u8]) -> ApiResult<Batch> {
    let parsed: JsonBatch = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::validation("body", e.to_string()),
        _ => ApiError::InvalidJson(format!("Malformed JSON: {e}")),
    })?;
    if parsed.tests.len() > MAX_RESULTS {
        return Err(too_many(parsed.tests.len()));
    }
    let mut errors = FieldErrors::new();
    let (run_id, commit_sha, branch, job_url) = context(
        Context {
            run_id: parsed.run_id,
            commit_sha: parsed.commit_sha,
            branch: parsed.branch,
            job_url: parsed.job_url,
        },
        &mut errors,
    );
    if parsed.tests.is_empty() {
        errors.insert("tests".into(), "at least one result is required".into());
    }
    let mut results = Vec::with_capacity(parsed.tests.len());
    for (i, t) in parsed.tests.into_iter().enumerate() {
        let mut bad = |field: &str, msg: String| {
            if errors.len() < MAX_REPORTED_ERRORS {
                errors.insert(format!("tests[{i}].{field}"), msg);
            }
        };
        let status = match t.status.parse::<Status>() {
            Ok(s) => s,
            Err(e) => {
                bad("status", e.to_string());
                continue;
            }
        };
        let suite = t.suite.trim().to_string();
        let test_name = t.test_name.trim().to_string();
        // NUL is refused because PostgreSQL cannot store it in text.
        if suite.is_empty() || suite.chars().count() > MAX_NAME || suite.contains('\0') {
            bad(
                "suite",
                format!("must be 1–{MAX_NAME} characters, none of them NUL"),
            );
        }
        if test_name.is_empty() || test_name.chars().count() > MAX_NAME || test_name.contains('\0')
        {
            bad(
                "testName",
                format!("must be 1–{MAX_NAME} characters, none of them NUL"),
            );
        }
        if t.file.as_deref().is_some_and(|f| f.contains('\0')) {
            bad("file", "must not contain NUL".into());
        }
        let duration_ms = match t.duration_ms {
            None => 0,
            Some(d) if d.is_finite() && d >= 0.0 => d.round().min(u64::MAX as f64) as u64,
            Some(_) => {
                bad("durationMs", "must be a non-negative number".into());
                0
            }
        };
        let attempt = t.attempt.unwrap_or(1);
        if attempt == 0 {
            bad("attempt", "must be at least 1".into());
        }
        let metadata = match t.metadata {
            None | Some(serde_json::Value::Null) => None,
            Some(v @ serde_json::Value::Object(_)) => Some(v.to_string()),
            Some(_) => {
                bad("metadata", "must be an object".into());
                None
            }
        };
        results.push(Incoming {
            suite,
            test_name,
            status,
            duration_ms,
            attempt: attempt.max(1),
            retries: attempt.saturating_sub(1),
            file: t
                .file
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty()),
            metadata,
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    Ok(Batch {
        run_id,
        commit_sha,
        branch,
        job_url,
        format: "json",
        results,
    })
}

fn junit_batch(body: &[u8], params: RunParams) -> ApiResult<Batch> {
    let parsed = junit::parse(body).map_err(|e| match e {
        JunitError::LimitExceeded {
            limit: junit::LimitKind::Results,
            max,
            ..
        } => too_many(max + 1),
        other => {
            let mut details = FieldErrors::new();
            details.insert("body".into(), other.to_string());
            if let Some(p) = other.position() {
                details.insert("line".into(), p.line.to_string());
                details.insert("column".into(), p.column.to_string());
                details.insert("byte".into(), p.byte.to_string());
            }
            ApiError::Validation {
                message: format!("Invalid JUnit XML: {other}"),
                details,
            }
        }
    })?;
    let mut errors = FieldErrors::new();
    let (run_id, commit_sha, branch, job_url) = context(
        Context {
            run_id: params.run_id,
            commit_sha: params.commit_sha,
            branch: params.branch,
            job_url: params.job_url,
        },
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let results = parsed
        .into_iter()
        .map(|r| Incoming {
            attempt: r.retries.saturating_add(1),
            retries: r.retries,
            suite: truncate(no_nul(r.suite)),
            test_name: truncate(no_nul(r.test_name)),
            status: r.status,
            duration_ms: r.duration_ms,
            file: r.file.map(no_nul),
            metadata: None,
        })
        .collect();
    Ok(Batch {
        run_id,
        commit_sha,
        branch,
        job_url,
        format: "junit",
        results,
    })
}

/// A character reference `&#0;` in a report would put NUL in a name, which PostgreSQL
/// cannot store; it becomes U+FFFD rather than failing the whole CI run.
fn no_nul(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s
    }
}

/// JUnit names come from tools, not people: an absurdly long one is cut rather than
/// rejecting a whole CI run.
fn truncate(mut s: String) -> String {
    if s.len() > 4 * MAX_NAME {
        let mut end = 4 * MAX_NAME;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Ingests one batch of results, all or nothing: JSON (`application/json`) or a JUnit
/// XML report (`application/xml`, run context in the query string). Scope `tests:write`.
#[utoipa::path(post, path = "/internal/tests/ingest", tag = "internal",
    request_body(content(
        (JsonBatch = "application/json"),
        (String = "application/xml"),
    )),
    params(RunParams),
    security(("apiKey" = [])),
    responses((status = 201, body = IngestResponse),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody),
              (status = 415, body = crate::error::ErrorBody)))]
async fn ingest(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
    ValidQuery(params): ValidQuery<RunParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    ensure_enabled(&state)?;
    let key = key?;
    key.require(Scope::TestsWrite)?;
    let outcome = async {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let batch = match content_type.as_str() {
            "application/json" => json_batch(&body)?,
            "application/xml" | "text/xml" | "application/junit+xml" => junit_batch(&body, params)?,
            _ => {
                return Err(ApiError::UnsupportedMediaType(
                    "Expected `Content-Type: application/json` or `application/xml` (JUnit)".into(),
                ));
            }
        };
        domain::ingest(&state, &batch, &key.name).await
    }
    .await;
    match outcome {
        Ok(done) => Ok((
            StatusCode::CREATED,
            Json(IngestResponse {
                message: format!("{} test results stored", done.count),
                count: done.count,
                run_id: done.run_id,
                batch_id: done.batch_id,
                infrastructure_failure: done.infrastructure_failure,
            }),
        )
            .into_response()),
        Err(e) => {
            domain::record_failure(&state, &key.name, e.code()).await;
            Err(e)
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct CandidateParams {
    /// 1–10,000, default 10: counted (passed + failed) runs needed.
    min_runs: Option<u32>,
    /// 1–365, default 30: whole UTC days, today included.
    window_days: Option<u32>,
    /// Only this branch's results; default all branches.
    branch: Option<String>,
    /// 1–100, default 20.
    limit: Option<u32>,
    /// Also list tests failing ≥ 80 % (`classification: broken`).
    include_broken: Option<bool>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CandidatesResponse {
    #[schema(value_type = Vec<Object>)]
    flaky_candidates: Vec<valine_ci::flaky::FlakyCandidate>,
    total_candidates: usize,
    min_runs: u32,
    window_days: u32,
    branch: Option<String>,
    include_broken: bool,
    analysis_date: String,
}

/// Tests most likely to be flaky, best evidence first (SPEC §11). Scope `tests:read`.
#[utoipa::path(get, path = "/internal/tests/flaky-candidates", tag = "internal",
    params(CandidateParams),
    security(("apiKey" = [])),
    responses((status = 200, body = CandidatesResponse),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
async fn flaky_candidates(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
    ValidQuery(p): ValidQuery<CandidateParams>,
) -> ApiResult<Json<CandidatesResponse>> {
    ensure_enabled(&state)?;
    let key = key?;
    key.require(Scope::TestsRead)?;
    let mut errors = FieldErrors::new();
    let min_runs = p.min_runs.unwrap_or(10);
    if !(1..=10_000).contains(&min_runs) {
        errors.insert(
            "minRuns".into(),
            "minRuns must be between 1 and 10000".into(),
        );
    }
    let window_days = p.window_days.unwrap_or(30);
    if !(1..=domain::MAX_WINDOW_DAYS).contains(&i64::from(window_days)) {
        errors.insert(
            "windowDays".into(),
            format!(
                "windowDays must be between 1 and {}",
                domain::MAX_WINDOW_DAYS
            ),
        );
    }
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        errors.insert("limit".into(), "limit must be between 1 and 100".into());
    }
    let branch = p
        .branch
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty());
    if branch.as_ref().is_some_and(|b| b.chars().count() > 255) {
        errors.insert(
            "branch".into(),
            "branch must be at most 255 characters".into(),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let include_broken = p.include_broken.unwrap_or(false);
    let now = valine_store::now_ms();
    let ranking = domain::candidates(
        &state.store,
        &CandidateQuery {
            min_runs: u64::from(min_runs),
            window_days,
            branch: branch.clone(),
            limit: limit as usize,
            include_broken,
        },
        now,
    )
    .await?;
    Ok(Json(CandidatesResponse {
        flaky_candidates: ranking.flaky_candidates,
        total_candidates: ranking.total_candidates,
        min_runs,
        window_days,
        branch,
        include_broken,
        analysis_date: iso(now),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct HistoryParams {
    suite: String,
    test_name: String,
    /// 1–100, default 20.
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItem {
    suite: String,
    test_name: String,
    status: String,
    duration_ms: i64,
    attempt: i64,
    run_id: String,
    commit_sha: Option<String>,
    branch: Option<String>,
    run_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    items: Vec<HistoryItem>,
    next_cursor: Option<String>,
    has_more: bool,
}

/// One test's results, newest first; an unknown test has none. Scope `tests:read`.
#[utoipa::path(get, path = "/internal/tests/history", tag = "internal",
    params(HistoryParams),
    security(("apiKey" = [])),
    responses((status = 200, body = HistoryPage),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
async fn history(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
    ValidQuery(p): ValidQuery<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    ensure_enabled(&state)?;
    let key = key?;
    key.require(Scope::TestsRead)?;
    let (limit, cursor) = page_params(p.limit, p.cursor.as_deref())?;
    let before = match cursor {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::validation("cursor", "cursor is not valid"))?,
        ),
    };
    let mut rows = state
        .store
        .test_history(p.suite.trim(), p.test_name.trim(), before, limit + 1)
        .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if has_more {
        rows.last().map(|r| encode_cursor(&r.id.to_string()))
    } else {
        None
    };
    Ok(Json(HistoryPage {
        items: rows
            .into_iter()
            .map(|r| HistoryItem {
                suite: r.suite,
                test_name: r.test_name,
                status: r.status,
                duration_ms: r.duration_ms,
                attempt: r.attempt,
                run_id: r.run_id,
                commit_sha: r.commit_sha,
                branch: r.branch,
                run_at: iso(r.run_at),
            })
            .collect(),
        next_cursor,
        has_more,
    }))
}
