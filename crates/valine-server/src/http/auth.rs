//! Authentication as extractors. `AuthUser` rejects; `MaybeAuthUser` means "no
//! credentials" and still rejects a bad token. Every request re-checks that its session is
//! live, so a revocation takes effect on the very next request on every instance.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use valine_store::users::UserRow;

use crate::auth::cookies;
use crate::error::ApiError;
use crate::state::AppState;

/// How the request authenticated (CSRF applies to cookie-authenticated requests only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Bearer,
    Cookie,
}

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: UserRow,
    pub session_id: String,
    pub credential: Credential,
}

/// `lastUsedAt` is written at most this often per session, so reads stay reads.
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// The access token of a request: `Authorization: Bearer` first, then the cookie.
pub fn access_token(parts: &Parts) -> Option<(String, Credential)> {
    access_token_from(&parts.headers)
}

/// [`access_token`] from bare headers (layers and handlers that do not extract a user).
pub fn access_token_from(headers: &axum::http::HeaderMap) -> Option<(String, Credential)> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if let Some(t) = bearer {
        return Some((t, Credential::Bearer));
    }
    cookies::read(headers, cookies::ACCESS).map(|t| (t, Credential::Cookie))
}

async fn authenticate(
    state: &AppState,
    token: &str,
    credential: Credential,
) -> Result<AuthUser, ApiError> {
    let claims = state
        .auth
        .access
        .verify(token)
        .ok_or_else(|| ApiError::Unauthorized("Invalid or expired access token".into()))?;
    let now = valine_store::now_ms();
    let found = state
        .store
        .session_and_user(&claims.sid, &claims.sub)
        .await?;
    let Some(found) = found.filter(|f| f.is_live(now)) else {
        return Err(ApiError::Unauthorized(
            "Session has ended; please log in again".into(),
        ));
    };
    if now - found.s_last_used_at > TOUCH_INTERVAL_MS {
        let store = state.store.clone();
        let sid = claims.sid.clone();
        // Best effort and off the request path: a lost touch only makes lastUsedAt older.
        tokio::spawn(async move {
            if let Err(e) = store.touch_session(&sid, now).await {
                tracing::warn!(error = %e, "could not record session use");
            }
        });
    }
    tracing::Span::current().record("user_id", found.user.id.as_str());
    Ok(AuthUser {
        user: found.user,
        session_id: claims.sid,
        credential,
    })
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(existing) = parts.extensions.get::<AuthUser>() {
            return Ok(existing.clone());
        }
        let (token, credential) = access_token(parts)
            .ok_or_else(|| ApiError::Unauthorized("Authentication required".into()))?;
        let user = authenticate(state, &token, credential).await?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// `Option<AuthUser>`: `None` without credentials; a bad or revoked token still rejects.
impl OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if access_token(parts).is_none() {
            return Ok(None);
        }
        <AuthUser as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}
