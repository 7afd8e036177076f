//! `GET /internal/stats` (scope `all`).

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::http::api_key::ApiKey;
use crate::internal::api_keys::Scope;
use crate::internal::stats::{self, Stats};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_stats))
}

/// The seed's success metrics (SPEC §16), one object per phase.
#[utoipa::path(get, path = "/internal/stats", tag = "internal",
    security(("apiKey" = [])),
    responses((status = 200, body = Stats),
              (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
async fn get_stats(
    State(state): State<AppState>,
    key: Result<ApiKey, ApiError>,
) -> ApiResult<Json<Stats>> {
    key?.require(Scope::All)?;
    Ok(Json(stats::collect(&state).await?))
}
