//! `/settings` (SPEC §8): defaults on first read, validated key-by-key merge on update.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use valine_store::profiles::SettingsRow;

use crate::content::settings as rules;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::AuthUser;
use crate::state::AppState;
use crate::timefmt::iso;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    #[schema(value_type = Object)]
    notifications: serde_json::Value,
    /// `twoFactorEnabled` is derived from the account and read-only.
    #[schema(value_type = Object)]
    account_security: serde_json::Value,
    #[schema(value_type = Object)]
    privacy: serde_json::Value,
    updated_at: String,
}

fn parse(text: &str, default: serde_json::Value) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(default)
}

async fn load(state: &AppState, user_id: &str) -> ApiResult<SettingsRow> {
    if let Some(row) = state.store.settings(user_id).await? {
        return Ok(row);
    }
    let defaults = SettingsRow {
        notifications: rules::default_notifications().to_string(),
        account_security: rules::default_account_security().to_string(),
        privacy: rules::default_privacy().to_string(),
        updated_at: valine_store::now_ms(),
    };
    state.store.save_settings(user_id, &defaults, true).await?;
    // A concurrent first read may have inserted first; either way this is the stored row.
    Ok(state.store.settings(user_id).await?.unwrap_or(defaults))
}

fn view(row: &SettingsRow, auth: &AuthUser) -> SettingsView {
    let mut account_security = parse(&row.account_security, rules::default_account_security());
    if let Some(obj) = account_security.as_object_mut() {
        obj.insert(
            "twoFactorEnabled".into(),
            serde_json::Value::Bool(auth.user.two_factor_enabled()),
        );
    }
    SettingsView {
        notifications: parse(&row.notifications, rules::default_notifications()),
        account_security,
        privacy: parse(&row.privacy, rules::default_privacy()),
        updated_at: iso(row.updated_at),
    }
}

/// The caller's settings (created with the defaults on first read).
#[utoipa::path(get, path = "/settings", tag = "settings",
    responses((status = 200, body = SettingsView), (status = 401, body = crate::error::ErrorBody)))]
async fn get_settings(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<Json<SettingsView>> {
    let row = load(&state, &auth.user.id).await?;
    Ok(Json(view(&row, &auth)))
}

/// Merges the sent keys into the stored sections. Unknown keys, wrong types or writing
/// `twoFactorEnabled` → 400 and nothing changes.
#[utoipa::path(put, path = "/settings", tag = "settings", request_body = Object,
    responses((status = 200, body = SettingsView), (status = 400, body = crate::error::ErrorBody)))]
async fn put_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    crate::http::extract::ValidJson(body): crate::http::extract::ValidJson<serde_json::Value>,
) -> ApiResult<Json<SettingsView>> {
    let row = load(&state, &auth.user.id).await?;
    let mut n = parse(&row.notifications, rules::default_notifications());
    let mut a = parse(&row.account_security, rules::default_account_security());
    let mut p = parse(&row.privacy, rules::default_privacy());
    rules::apply(&body, &mut n, &mut a, &mut p)?;
    let saved = SettingsRow {
        notifications: n.to_string(),
        account_security: a.to_string(),
        privacy: p.to_string(),
        updated_at: valine_store::now_ms(),
    };
    state
        .store
        .save_settings(&auth.user.id, &saved, false)
        .await
        .map_err(ApiError::from)?;
    Ok(Json(view(&saved, &auth)))
}
