//! `ApiKey`: the extractor for `/internal/*` (SPEC §9). A missing, unknown or revoked key
//! is 401 `UNAUTHORIZED`; a key without the route's scope is 403 `FORBIDDEN`
//! ([`ApiKey::require`]).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::auth::tokens::hash_token;
use crate::error::{ApiError, ApiResult};
use crate::internal::api_keys::{Scope, grants, parse_stored};
use crate::state::AppState;

/// `lastUsedAt` is written at most this often per key, so authenticated reads stay reads.
const TOUCH_INTERVAL_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    /// Recorded as the actor of every internal write.
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl ApiKey {
    /// 403 unless the key holds `scope` (or `all`).
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if grants(&self.scopes, scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "This API key lacks the {scope} scope"
            )))
        }
    }
}

/// The bearer credential of a request, if an `Authorization` header is present at all.
/// `Some("")` means a header that is not a usable bearer credential.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?;
    let value = value.to_str().unwrap_or_default().trim();
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or_default()
        .trim();
    Some(token.to_string())
}

/// Authenticates a raw key. The lookup is by the key's SHA-256, so no stored secret is
/// ever compared byte by byte with the input: the timing of the index lookup depends on
/// a hash of the input, which reveals nothing an attacker can steer towards a valid key.
/// That is the constant-time property a direct comparison would need.
pub async fn authenticate(state: &AppState, raw: &str) -> ApiResult<ApiKey> {
    let invalid = || ApiError::Unauthorized("Invalid or revoked API key".into());
    if raw.is_empty() {
        return Err(invalid());
    }
    let row = state
        .store
        .api_key_by_hash(&hash_token(raw))
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or_else(invalid)?;
    let now = valine_store::now_ms();
    if row.last_used_at.is_none_or(|t| now - t > TOUCH_INTERVAL_MS) {
        let store = state.store.clone();
        let id = row.id.clone();
        // Off the request path and best effort: a lost touch only makes lastUsedAt older.
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(&id, now).await {
                tracing::warn!(error = %e, "could not record API key use");
            }
        });
    }
    Ok(ApiKey {
        scopes: parse_stored(&row.scopes),
        id: row.id,
        name: row.name,
    })
}

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(existing) = parts.extensions.get::<ApiKey>() {
            return Ok(existing.clone());
        }
        let raw = bearer(&parts.headers).ok_or_else(|| {
            ApiError::Unauthorized("An API key is required (Authorization: Bearer)".into())
        })?;
        let key = authenticate(state, &raw).await?;
        parts.extensions.insert(key.clone());
        Ok(key)
    }
}
