//! `/account`: the user's data export and account deletion (SPEC §8). Both stay open to
//! unverified users.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::cookies;
use crate::auth::events::{self, EventType};
use crate::auth::sessions::ClientInfo;
use crate::content::profile::{ProfileData, links_from_rows};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::AuthUser;
use crate::http::extract::ValidJson;
use crate::ratelimit::Rule;
use crate::routes::views::UserView;
use crate::state::AppState;
use crate::timefmt::iso;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export))
        .routes(routes!(delete_account))
}

const EXPORTS_PER_HOUR: Rule = Rule::new(5, 3600);
pub const EXPORT_FORMAT_VERSION: u32 = 1;

/// Everything Valine holds about the caller, as one JSON document: no hashes, secrets or
/// internal keys; media as short-lived download URLs. 5 per hour.
#[utoipa::path(post, path = "/account/export", tag = "account",
    responses((status = 200, body = Object), (status = 429, body = crate::error::ErrorBody)))]
async fn export(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
) -> ApiResult<Response> {
    let decision = state
        .limiter
        .check(&format!("export:{}", auth.user.id), EXPORTS_PER_HOUR)
        .await;
    if !decision.allowed {
        return Ok(crate::http::rate_limit::too_many(decision));
    }
    let user = &auth.user;
    let now = valine_store::now_ms();
    let profile = match state.store.profile_by_user(&user.id).await? {
        Some(row) => {
            let d = ProfileData::from_row(&row);
            let links = links_from_rows(state.store.profile_links(&row.id).await?);
            Some(serde_json::json!({
                "id": row.id, "vanityUrl": d.vanity_url, "headline": d.headline,
                "title": d.title, "bio": d.bio, "roles": d.roles, "tags": d.tags,
                "location": d.location, "socialLinks": d.social_links, "privacy": d.privacy,
                "links": links,
                "media": crate::media::export_for_user(&state, &user.id).await?,
                "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at),
            }))
        }
        None => None,
    };
    let settings = state.store.settings(&user.id).await?.map(|s| {
        serde_json::json!({
            "notifications": serde_json::from_str::<serde_json::Value>(&s.notifications).unwrap_or_default(),
            "accountSecurity": serde_json::from_str::<serde_json::Value>(&s.account_security).unwrap_or_default(),
            "privacy": serde_json::from_str::<serde_json::Value>(&s.privacy).unwrap_or_default(),
            "updatedAt": iso(s.updated_at),
        })
    });
    let sessions: Vec<_> = state
        .store
        .active_sessions(&user.id, now)
        .await?
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id, "createdAt": iso(s.created_at), "lastUsedAt": iso(s.last_used_at),
                "expiresAt": iso(s.expires_at), "userAgent": s.user_agent,
                "ipAddress": s.ip_address, "isCurrent": s.id == auth.session_id,
            })
        })
        .collect();
    let events: Vec<_> = state
        .store
        .security_events_page(&user.id, None, 10_000)
        .await?
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "id": e.id, "type": e.event_type, "at": iso(e.at), "ipAddress": e.ip_address,
                "userAgent": e.user_agent,
                "metadata": serde_json::from_str::<serde_json::Value>(&e.metadata).unwrap_or_default(),
            })
        })
        .collect();
    events::record(
        &state,
        Some(&user.id),
        EventType::DataExported,
        &client,
        serde_json::json!({}),
    )
    .await?;
    let doc = serde_json::json!({
        "formatVersion": EXPORT_FORMAT_VERSION,
        "exportedAt": iso(now),
        "user": UserView::from(user),
        "profile": profile,
        "settings": settings,
        "sessions": sessions,
        "securityEvents": events,
    });
    let mut resp = Json(doc).into_response();
    crate::http::rate_limit::set_headers(resp.headers_mut(), &decision);
    Ok(resp)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DeleteRequest {
    confirm_password: String,
    /// Required when 2FA is enabled.
    code: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteResponse {
    message: String,
    deleted_at: String,
}

/// Deletes the account and everything it owns — rows and stored media objects. Its tokens
/// stop working at once.
#[utoipa::path(delete, path = "/account", tag = "account", request_body = DeleteRequest,
    responses((status = 200, body = DeleteResponse), (status = 401, body = crate::error::ErrorBody)))]
async fn delete_account(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ValidJson(req): ValidJson<DeleteRequest>,
) -> ApiResult<Response> {
    let verified = state
        .auth
        .hasher
        .verify(&req.confirm_password, &auth.user.password_hash)
        .await?;
    if !verified.ok {
        return Err(ApiError::InvalidCredentials);
    }
    crate::auth::two_factor::require_code_if_enabled(
        &state,
        &auth.user,
        req.code.as_deref(),
        &client,
    )
    .await?;
    let profile = state.store.profile_by_user(&auth.user.id).await?;
    let keys = crate::media::object_keys_for_user(&state, &auth.user.id).await?;
    let now = valine_store::now_ms();
    state
        .store
        .delete_user(&auth.user.id, profile.as_ref().map(|p| p.id.as_str()))
        .await?;
    // Rows are gone (sessions included, so every token is dead); now the stored bytes.
    let failed = crate::media::delete_objects(&state, &keys).await;
    if failed > 0 {
        tracing::error!(
            failed,
            "account deleted but some media objects could not be removed"
        );
    }
    state.metrics.session_revoked("account_deleted");
    tracing::info!(user_id = %auth.user.id, "account deleted");
    let mut headers = HeaderMap::new();
    cookies::clear_session(&mut headers, &state.settings);
    Ok((
        headers,
        Json(DeleteResponse {
            message: "Your account and all its data have been deleted".into(),
            deleted_at: iso(now),
        }),
    )
        .into_response())
}
