//! Email verification, resend, forgot and reset password (SPEC §4, §3.1).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use valine_store::email_tokens::VerificationSource;

use crate::auth::events::{self, EventType};
use crate::auth::sessions::ClientInfo;
use crate::auth::tokens::hash_token;
use crate::auth::validate::{EmailAddress, Password};
use crate::auth::verification::{self, VerifyOutcome};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::AuthUser;
use crate::http::extract::ValidJson;
use crate::routes::views::Message;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct TokenRequest {
    token: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    already_verified: Option<bool>,
}

/// Verifies an email address with the token from the link (no authentication needed).
#[utoipa::path(post, path = "/auth/verify-email", tag = "email", request_body = TokenRequest,
    responses((status = 200, body = VerifyResponse), (status = 400, body = crate::error::ErrorBody)))]
async fn verify_email(
    State(state): State<AppState>,
    client: ClientInfo,
    ValidJson(req): ValidJson<TokenRequest>,
) -> ApiResult<Json<VerifyResponse>> {
    match verification::verify(&state, req.token.trim()).await? {
        VerifyOutcome::Verified { user_id } => {
            events::record(
                &state,
                Some(&user_id),
                EventType::EmailVerified,
                &client,
                serde_json::json!({}),
            )
            .await?;
            Ok(Json(VerifyResponse {
                message: "Email verified successfully.".into(),
                verified: Some(true),
                already_verified: None,
            }))
        }
        VerifyOutcome::AlreadyVerified => Ok(Json(VerifyResponse {
            message: "Your email address is already verified.".into(),
            verified: None,
            already_verified: Some(true),
        })),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ResendResponse {
    message: String,
    email: String,
}

const RESENDS_PER_HOUR: i64 = 5;
const HOUR_MS: i64 = 3_600_000;

/// Sends a fresh verification link (earlier links stop working). 5 per hour per user.
#[utoipa::path(post, path = "/auth/resend-verification", tag = "email",
    responses((status = 200, body = ResendResponse), (status = 400, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
async fn resend_verification(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Response> {
    if auth.user.email_verified() {
        return Err(ApiError::validation(
            "email",
            "Your email address is already verified.",
        ));
    }
    let now = valine_store::now_ms();
    // The budget is counted from the tokens themselves, so it is shared by every instance
    // and survives restarts.
    let (used, oldest) = state
        .store
        .resends_since(&auth.user.id, now - HOUR_MS)
        .await?;
    let reset_at = oldest.map(|o| o + HOUR_MS).unwrap_or(now + HOUR_MS);
    if used >= RESENDS_PER_HOUR {
        state.metrics.resend_rate_limited.inc();
        let retry_after = u64::try_from(((reset_at - now) / 1000).max(1)).unwrap_or(1);
        let mut resp = ApiError::RateLimited {
            retry_after_secs: retry_after,
        }
        .into_response();
        rate_headers(resp.headers_mut(), 0, reset_at);
        return Ok(resp);
    }
    let mut tx = state.store.begin_write().await?;
    verification::queue_verification_tx(
        &state,
        &mut tx,
        &auth.user,
        VerificationSource::Resend,
        now,
    )
    .await?;
    valine_store::commit(tx).await?;
    state.mail_notify.notify_one();
    let mut resp = Json(ResendResponse {
        message: "Verification email sent.".into(),
        email: auth.user.email.clone(),
    })
    .into_response();
    rate_headers(resp.headers_mut(), RESENDS_PER_HOUR - used - 1, reset_at);
    Ok(resp)
}

/// The resend budget in the same `X-RateLimit-*` form as the rate-limit layer's.
fn rate_headers(h: &mut HeaderMap, remaining: i64, reset_at_ms: i64) {
    crate::http::rate_limit::set_headers(
        h,
        &crate::ratelimit::Decision {
            allowed: remaining >= 0,
            limit: RESENDS_PER_HOUR.unsigned_abs(),
            remaining: remaining.max(0).unsigned_abs(),
            reset_at_ms,
        },
    );
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ForgotRequest {
    email: String,
}

/// Queues a password-reset email if the account exists. Always 202 (no enumeration).
#[utoipa::path(post, path = "/auth/forgot-password", tag = "email", request_body = ForgotRequest,
    responses((status = 202, body = Message)))]
async fn forgot_password(
    State(state): State<AppState>,
    ValidJson(req): ValidJson<ForgotRequest>,
) -> ApiResult<Response> {
    if let Ok(email) = EmailAddress::parse(&req.email)
        && let Some(user) = state.store.user_by_login(&email.normalized).await?
        && user.normalized_email == email.normalized
    {
        let now = valine_store::now_ms();
        let mut tx = state.store.begin_write().await?;
        verification::queue_reset_tx(&state, &mut tx, &user, now).await?;
        valine_store::commit(tx).await?;
        state.mail_notify.notify_one();
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Message::new(
            "If an account exists for that email, a password reset link has been sent.",
        )),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ResetRequest {
    token: String,
    new_password: String,
    /// TOTP or backup code; required when the account has 2FA.
    code: Option<String>,
}

const INVALID_RESET: &str = "This password reset link is invalid or has already been used.";

/// Sets a new password with a reset token; every session of the account is revoked. A
/// rejected attempt (weak password, missing or wrong 2FA code) does not use up the token.
#[utoipa::path(post, path = "/auth/reset-password", tag = "email", request_body = ResetRequest,
    responses((status = 200, body = Message), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    client: ClientInfo,
    ValidJson(req): ValidJson<ResetRequest>,
) -> ApiResult<Json<Message>> {
    let now = valine_store::now_ms();
    let token = req.token.trim();
    if token.is_empty() || token.len() > 256 {
        return Err(ApiError::validation("token", INVALID_RESET));
    }
    let row = state
        .store
        .reset_token_by_hash(&hash_token(token))
        .await?
        .filter(|r| r.used_at.is_none())
        .ok_or_else(|| ApiError::validation("token", INVALID_RESET))?;
    if row.expires_at <= now {
        return Err(ApiError::validation(
            "token",
            "This password reset link has expired. Please request a new one.",
        ));
    }
    let user = state
        .store
        .user_by_id(&row.user_id)
        .await?
        .ok_or_else(|| ApiError::validation("token", INVALID_RESET))?;
    let password = Password::parse(&req.new_password, Some(&user.email), Some(&user.username))
        .map_err(|e| ApiError::validation("newPassword", e))?;
    // Reset must not bypass 2FA.
    crate::auth::two_factor::require_code_if_enabled(&state, &user, req.code.as_deref(), &client)
        .await?;
    let hash = state.auth.hasher.hash(&password).await?;
    let mut tx = state.store.begin_write().await?;
    if !state
        .store
        .consume_reset_token_tx(&mut tx, &row.id, now)
        .await?
    {
        return Err(ApiError::validation("token", INVALID_RESET));
    }
    state
        .store
        .set_password_hash_tx(&mut tx, &user.id, &hash, now)
        .await?;
    let revoked = state
        .store
        .revoke_user_sessions_tx(&mut tx, &user.id, "", "password_reset", now)
        .await?;
    events::record_tx(
        &state,
        &mut tx,
        Some(&user.id),
        EventType::PasswordReset,
        &client,
        serde_json::json!({ "revokedSessions": revoked.len() }),
    )
    .await?;
    valine_store::commit(tx).await?;
    state.metrics.auth_event(EventType::PasswordReset);
    for _ in &revoked {
        state.metrics.session_revoked("password_reset");
    }
    Ok(Json(Message::new(
        "Password has been reset. Please log in.",
    )))
}
