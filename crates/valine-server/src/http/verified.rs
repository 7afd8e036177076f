//! The email-verified gate (SPEC §4): one layer on the content route group. An unverified
//! user's state-changing request there is 403 `EMAIL_NOT_VERIFIED`; reads stay open. A
//! route added to the group cannot forget the check.

use axum::extract::{FromRequestParts, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::http::auth::AuthUser;
use crate::state::AppState;

/// The state travels in the request extensions (set by the app's outermost layer), so the
/// group's layer can be attached where routes are declared, before the state exists.
pub async fn require_verified_for_writes(req: Request, next: Next) -> Response {
    let Some(state) = req.extensions().get::<AppState>().cloned() else {
        return ApiError::internal(anyhow::anyhow!("application state missing")).into_response();
    };
    if !matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    // Authenticating here also leaves the user in the request for the handler's extractor.
    let user = match AuthUser::from_request_parts(&mut parts, &state).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    if !user.user.email_verified() {
        state.metrics.unverified_write_blocks.inc();
        return ApiError::EmailNotVerified.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}
