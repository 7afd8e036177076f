//! Every route of the API. Each resource module exposes `router()`; they are merged here,
//! in one place, so the OpenAPI document and the router cannot disagree.

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod auth;
pub mod email;
pub mod internal;
pub mod media;
pub mod ops;
pub mod two_factor;
pub mod views;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Valine API",
        description = "Accounts and delivery intelligence for a creative-professionals network."
    ),
    components(schemas(crate::error::ErrorBody, crate::routes::auth::TwoFactorChallenge))
)]
struct ApiDoc;

/// All routes with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(auth::router())
        .merge(internal::router())
        .merge(email::router())
        .merge(two_factor::router())
}
