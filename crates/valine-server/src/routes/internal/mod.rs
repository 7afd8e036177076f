//! `/internal/*`: tooling for platform engineers, authenticated by API key (SPEC §9).

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod journey;
pub mod pr_intel;
pub mod schema;
pub mod stats;
pub mod tests;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(pr_intel::router())
        .merge(schema::router())
        .merge(tests::router())
        .merge(stats::router())
        .merge(journey::router())
}
