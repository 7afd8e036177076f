//! Every route of the API. Each resource module exposes `router()`; they are merged here,
//! in one place, so the OpenAPI document and the router cannot disagree.

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod account;
pub mod auth;
pub mod email;
pub mod internal;
pub mod media;
pub mod ops;
pub mod profiles;
pub mod search;
pub mod settings;
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
        .merge(content())
        .merge(media::signed_router())
        .merge(search::router())
        .merge(account::router())
}

/// The content group: profiles, links, media, settings (and anything added here). Every
/// state-changing route in it requires a verified email — enforced once, by this layer.
pub fn content() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(profiles::router())
        .merge(settings::router())
        .merge(media::router())
        .layer(axum::middleware::from_fn(
            crate::http::verified::require_verified_for_writes,
        ))
}
