//! `/auth/2fa/*` (SPEC §5). `TWO_FACTOR_ENABLED=false` turns every route into 404
//! `FEATURE_DISABLED` (and login ignores 2FA).

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::sessions::{self as auth_sessions, ClientInfo};
use crate::auth::two_factor;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::AuthUser;
use crate::http::extract::ValidJson;
use crate::routes::auth::login_response;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(setup))
        .routes(routes!(enable))
        .routes(routes!(verify))
        .routes(routes!(disable))
        .routes(routes!(backup_codes))
}

fn feature(state: &AppState) -> ApiResult<()> {
    if state.settings.two_factor_enabled {
        Ok(())
    } else {
        Err(ApiError::FeatureDisabled)
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetupResponse {
    /// Base32 secret (160 bits) for manual entry.
    secret: String,
    otpauth_url: String,
    /// The `otpauthUrl` as an SVG QR code.
    qr_code_svg: String,
}

/// Generates a pending TOTP secret (stored encrypted) until `/auth/2fa/enable` proves it.
#[utoipa::path(post, path = "/auth/2fa/setup", tag = "2fa",
    responses((status = 200, body = SetupResponse), (status = 400, body = crate::error::ErrorBody)))]
async fn setup(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<SetupResponse>> {
    feature(&state)?;
    let s = two_factor::setup(&state, &auth.user).await?;
    Ok(Json(SetupResponse {
        secret: s.secret_b32,
        otpauth_url: s.otpauth_url,
        qr_code_svg: s.qr_svg,
    }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct CodeRequest {
    code: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnableResponse {
    enabled: bool,
    /// Ten single-use codes, shown once.
    backup_codes: Vec<String>,
}

/// Enables 2FA with a code from the pending secret; returns the backup codes once.
#[utoipa::path(post, path = "/auth/2fa/enable", tag = "2fa", request_body = CodeRequest,
    responses((status = 200, body = EnableResponse), (status = 401, body = crate::error::ErrorBody)))]
async fn enable(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ValidJson(req): ValidJson<CodeRequest>,
) -> ApiResult<Json<EnableResponse>> {
    feature(&state)?;
    let backup_codes = two_factor::enable(&state, &auth.user, &req.code, &client).await?;
    Ok(Json(EnableResponse {
        enabled: true,
        backup_codes,
    }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct VerifyRequest {
    challenge_token: String,
    /// A TOTP code or a backup code.
    code: String,
}

/// Completes a 2FA login: the challenge from `/auth/login` plus a code → the full login
/// response and cookies.
#[utoipa::path(post, path = "/auth/2fa/verify", tag = "2fa", request_body = VerifyRequest,
    responses((status = 200, body = crate::routes::auth::LoginResponse),
              (status = 401, body = crate::error::ErrorBody)))]
async fn verify(
    State(state): State<AppState>,
    client: ClientInfo,
    ValidJson(req): ValidJson<VerifyRequest>,
) -> ApiResult<Response> {
    feature(&state)?;
    let user =
        two_factor::complete_challenge(&state, &req.challenge_token, &req.code, &client).await?;
    let issued = auth_sessions::start(&state, &user, &client, "two_factor").await?;
    Ok(login_response(&state, &user, &issued))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct DisableRequest {
    password: String,
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct DisableResponse {
    enabled: bool,
}

/// Turns 2FA off; needs the password and a code.
#[utoipa::path(post, path = "/auth/2fa/disable", tag = "2fa", request_body = DisableRequest,
    responses((status = 200, body = DisableResponse), (status = 401, body = crate::error::ErrorBody)))]
async fn disable(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ValidJson(req): ValidJson<DisableRequest>,
) -> ApiResult<Json<DisableResponse>> {
    feature(&state)?;
    two_factor::disable(&state, &auth.user, &req.password, &req.code, &client).await?;
    Ok(Json(DisableResponse { enabled: false }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupCodesResponse {
    backup_codes: Vec<String>,
}

/// A fresh set of backup codes (the old ones stop working); needs a code.
#[utoipa::path(post, path = "/auth/2fa/backup-codes", tag = "2fa", request_body = CodeRequest,
    responses((status = 200, body = BackupCodesResponse), (status = 401, body = crate::error::ErrorBody)))]
async fn backup_codes(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ValidJson(req): ValidJson<CodeRequest>,
) -> ApiResult<Json<BackupCodesResponse>> {
    feature(&state)?;
    let backup_codes =
        two_factor::regenerate_backup_codes(&state, &auth.user, &req.code, &client).await?;
    Ok(Json(BackupCodesResponse { backup_codes }))
}
