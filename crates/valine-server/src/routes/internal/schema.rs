//! `POST /internal/schema/diff` (SPEC §12): migration risk of a Prisma schema change.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use valine_prisma::Analysis;

use crate::error::{ApiError, ApiResult};
use crate::http::api_key::ApiKey;
use crate::http::extract::ValidJson;
use crate::internal::api_keys::Scope;
use crate::internal::schema as domain;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(diff))
}

/// Two versions of a `schema.prisma`. Together under the 1 MiB body cap (over it: 413).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffRequest {
    /// The schema as deployed (e.g. the base branch's).
    base_schema: String,
    /// The schema to migrate to.
    target_schema: String,
}

/// Diffs two Prisma schemas by database name and scores the migration (seed weights and
/// thresholds: severity `high` above 50, `medium` above 20). An invalid schema is 422
/// `UNPROCESSABLE` whose `details` hold `line`, `column` and `side` (`base` or `target`).
#[utoipa::path(post, path = "/internal/schema/diff", tag = "internal",
    request_body = DiffRequest,
    security(("apiKey" = [])),
    responses((status = 200, body = AnalysisDoc),
              (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody,
               description = "FEATURE_DISABLED when SCHEMA_DIFF_ENABLED=false"),
              (status = 413, body = crate::error::ErrorBody),
              (status = 415, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody,
               description = "a schema does not parse or validate; details: line, column, side")))]
async fn diff(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
    body: Result<ValidJson<DiffRequest>, ApiError>,
) -> ApiResult<Json<Analysis>> {
    if !state.settings.schema_diff_enabled {
        return Err(ApiError::FeatureDisabled);
    }
    let key = key?;
    key.require(Scope::Schema)?;
    let ValidJson(req) = body?;
    let analysis = domain::diff(&state, &key.name, req.base_schema, req.target_schema).await?;
    Ok(Json(analysis))
}

// The response is `valine_prisma::Analysis`, serialized by that pure crate (which knows
// nothing of OpenAPI). These types only describe its wire shape in /openapi.json; the
// integration tests check real responses against the same field names.

/// The migration analysis (seed shape).
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = SchemaAnalysis)]
#[serde(rename_all = "camelCase")]
struct AnalysisDoc {
    operations: Vec<OperationDoc>,
    /// Sum of the operations' weights.
    risk_score: u32,
    /// `low`, `medium` (score > 20) or `high` (score > 50).
    severity: String,
    /// `low-traffic`, `off-peak` (score > 20 or a type change) or `scheduled-maintenance`
    /// (score > 50 or anything destructive).
    window_recommendation: String,
    summary: SummaryDoc,
    /// Where the migration will fail or lose data.
    warnings: Vec<String>,
}

/// One operation. `model`/`field` are Prisma names, `table`/`column` database names.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = SchemaOperation)]
#[serde(rename_all = "camelCase")]
struct OperationDoc {
    /// `addModel`, `dropField`, `alterType`, `renameColumn`, … (weights in the README).
    #[serde(rename = "type")]
    kind: String,
    model: String,
    table: String,
    field: Option<String>,
    /// For index, unique and relation operations: the columns, comma-separated.
    column: Option<String>,
    field_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// This operation's weight.
    risk: u32,
    destructive: bool,
    reason: String,
    /// A safer way to roll the change out, where one exists.
    recipe: Option<String>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[schema(as = SchemaSummary)]
#[serde(rename_all = "camelCase")]
struct SummaryDoc {
    total_operations: usize,
    add_models: usize,
    drop_models: usize,
    add_fields: usize,
    drop_fields: usize,
    /// `alterType` plus `alterNativeType`.
    alter_types: usize,
    has_destructive: bool,
    has_type_changes: bool,
}
