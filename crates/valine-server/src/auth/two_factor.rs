//! Two-factor authentication: TOTP secrets (encrypted at rest), backup codes, and the
//! login challenge that stands between a correct password and a session.

use data_encoding::BASE32_NOPAD;
use valine_store::users::UserRow;

use crate::auth::events::{self, EventType};
use crate::auth::keys::hmac_sha256;
use crate::auth::sessions::ClientInfo;
use crate::auth::tokens::{hash_token, random_token};
use crate::auth::totp;
use crate::error::ApiError;
use crate::state::AppState;

pub const ISSUER: &str = "Valine";
pub const CHALLENGE_TTL_SECS: i64 = 300;
pub const CHALLENGE_MAX_ATTEMPTS: i64 = 5;
const BACKUP_CODES: usize = 10;

/// What `/2fa/setup` hands out (shown once; the secret is stored only encrypted).
pub struct Setup {
    pub secret_b32: String,
    pub otpauth_url: String,
    pub qr_svg: String,
}

fn secret_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

pub async fn setup(state: &AppState, user: &UserRow) -> Result<Setup, ApiError> {
    if user.two_factor_enabled() {
        return Err(ApiError::validation(
            "twoFactor",
            "Two-factor authentication is already enabled",
        ));
    }
    // 160 bits, the RFC 4226 recommendation for HMAC-SHA1.
    let mut secret = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
    let sealed = state
        .auth
        .secrets
        .seal(&secret, &secret_context(&user.id))
        .map_err(ApiError::internal)?;
    state
        .store
        .set_pending_secret(&user.id, &sealed, valine_store::now_ms())
        .await?;
    let secret_b32 = BASE32_NOPAD.encode(&secret);
    let otpauth_url = totp::otpauth_url(ISSUER, &user.email, &secret_b32);
    let qr_svg = qrcode::QrCode::new(otpauth_url.as_bytes())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("qr code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Ok(Setup {
        secret_b32,
        otpauth_url,
        qr_svg,
    })
}

fn open_secret(state: &AppState, user_id: &str, sealed: &str) -> Result<Vec<u8>, ApiError> {
    state
        .auth
        .secrets
        .open(sealed, &secret_context(user_id))
        .map_err(ApiError::internal)
}

/// Checks a TOTP code against `sealed` and, if it matches a step later than every step
/// accepted before, records that step (atomically, so a code works once).
async fn accept_totp(
    state: &AppState,
    user_id: &str,
    sealed: &str,
    code: &str,
) -> Result<bool, ApiError> {
    let secret = open_secret(state, user_id, sealed)?;
    let now = valine_store::now_ms();
    let Some(step) = totp::matching_step(&secret, code, now / 1000) else {
        return Ok(false);
    };
    Ok(state.store.accept_totp_step(user_id, step, now).await?)
}

fn normalize_backup(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn backup_hash(state: &AppState, user_id: &str, code: &str) -> String {
    hex::encode(hmac_sha256(
        &state.auth.keys.backup,
        &[user_id.as_bytes(), b"|", normalize_backup(code).as_bytes()],
    ))
}

/// Ten fresh codes (50 bits each, `xxxxx-xxxxx`) and their stored hashes.
fn new_backup_codes(state: &AppState, user_id: &str) -> (Vec<String>, Vec<String>) {
    let mut codes = Vec::with_capacity(BACKUP_CODES);
    let mut hashes = Vec::with_capacity(BACKUP_CODES);
    for _ in 0..BACKUP_CODES {
        let mut raw = [0u8; 7];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
        let text: String = BASE32_NOPAD
            .encode(&raw)
            .to_ascii_lowercase()
            .chars()
            .take(10)
            .collect();
        let display = format!("{}-{}", &text[..5], &text[5..]);
        hashes.push(backup_hash(state, user_id, &display));
        codes.push(display);
    }
    (codes, hashes)
}

/// `/2fa/enable`: the code proves the user holds the pending secret.
pub async fn enable(
    state: &AppState,
    user: &UserRow,
    code: &str,
    client: &ClientInfo,
) -> Result<Vec<String>, ApiError> {
    if user.two_factor_enabled() {
        return Err(ApiError::validation(
            "twoFactor",
            "Two-factor authentication is already enabled",
        ));
    }
    let pending = state
        .store
        .two_factor(&user.id)
        .await?
        .and_then(|r| r.pending_secret_enc)
        .ok_or_else(|| ApiError::validation("code", "Call /auth/2fa/setup first"))?;
    if !accept_totp(state, &user.id, &pending, code).await? {
        failed(state, user, client, "enable").await?;
        return Err(ApiError::InvalidTwoFactorCode);
    }
    let (codes, hashes) = new_backup_codes(state, &user.id);
    if !state
        .store
        .enable_two_factor(&user.id, &hashes, valine_store::now_ms())
        .await?
    {
        return Err(ApiError::validation("code", "Call /auth/2fa/setup first"));
    }
    events::record(
        state,
        Some(&user.id),
        EventType::TwoFactorEnabled,
        client,
        serde_json::json!({}),
    )
    .await?;
    Ok(codes)
}

async fn failed(
    state: &AppState,
    user: &UserRow,
    client: &ClientInfo,
    during: &str,
) -> Result<(), ApiError> {
    events::record(
        state,
        Some(&user.id),
        EventType::TwoFactorFailed,
        client,
        serde_json::json!({ "during": during }),
    )
    .await
}

/// Checks a TOTP or backup code for a user with 2FA on; a used backup code is recorded.
/// Wrong → `INVALID_TWO_FACTOR_CODE`.
pub async fn check_code(
    state: &AppState,
    user: &UserRow,
    code: &str,
    client: &ClientInfo,
    during: &str,
) -> Result<(), ApiError> {
    // Per-user limit on wrong codes (a security control: on even when the rate-limit
    // tiers are off). Every 2FA endpoint checks codes through here.
    let throttle = format!("2fa-fail:{}", user.id);
    if let Some(over) = state
        .limiter
        .over(&throttle, state.settings.login_failures_short)
        .await
    {
        state.metrics.rate_limited("two_factor_user");
        return Err(ApiError::RateLimited {
            retry_after_secs: over.retry_after_secs(valine_store::now_ms()),
        });
    }
    let row = state.store.two_factor(&user.id).await?;
    let Some(sealed) = row.and_then(|r| r.secret_enc) else {
        return Err(ApiError::InvalidTwoFactorCode);
    };
    let code = code.trim();
    let ok = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        accept_totp(state, &user.id, &sealed, code).await?
    } else if !code.is_empty() && code.len() <= 32 {
        let used = state
            .store
            .use_backup_code(
                &user.id,
                &backup_hash(state, &user.id, code),
                valine_store::now_ms(),
            )
            .await?;
        if used {
            events::record(
                state,
                Some(&user.id),
                EventType::BackupCodeUsed,
                client,
                serde_json::json!({ "during": during }),
            )
            .await?;
        }
        used
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        state
            .limiter
            .check(&throttle, state.settings.login_failures_short)
            .await;
        failed(state, user, client, during).await?;
        Err(ApiError::InvalidTwoFactorCode)
    }
}

/// Flows that must not bypass 2FA (password reset, account deletion) call this: with 2FA
/// on, a valid TOTP or backup code is required.
pub async fn require_code_if_enabled(
    state: &AppState,
    user: &UserRow,
    code: Option<&str>,
    client: &ClientInfo,
) -> Result<(), ApiError> {
    if !state.settings.two_factor_enabled || !user.two_factor_enabled() {
        return Ok(());
    }
    match code {
        Some(c) if !c.trim().is_empty() => check_code(state, user, c, client, "step_up").await,
        _ => Err(ApiError::InvalidTwoFactorCode),
    }
}

/// Starts a login challenge; the token is returned once and stored hashed.
pub async fn start_challenge(state: &AppState, user: &UserRow) -> Result<(String, i64), ApiError> {
    let token = random_token();
    let now = valine_store::now_ms();
    state
        .store
        .insert_challenge(
            &user.id,
            &hash_token(&token),
            now,
            now + CHALLENGE_TTL_SECS * 1000,
        )
        .await?;
    Ok((token, CHALLENGE_TTL_SECS))
}

/// Completes a login challenge with a code. The challenge dies after use, expiry, or
/// `CHALLENGE_MAX_ATTEMPTS` wrong codes.
pub async fn complete_challenge(
    state: &AppState,
    token: &str,
    code: &str,
    client: &ClientInfo,
) -> Result<UserRow, ApiError> {
    let dead = || {
        ApiError::Unauthorized(
            "Two-factor challenge is invalid or has expired; log in again".into(),
        )
    };
    let now = valine_store::now_ms();
    let challenge = state
        .store
        .challenge_by_hash(&hash_token(token.trim()))
        .await?
        .filter(|c| {
            c.used_at.is_none() && c.expires_at > now && c.attempts < CHALLENGE_MAX_ATTEMPTS
        })
        .ok_or_else(dead)?;
    let user = state
        .store
        .user_by_id(&challenge.user_id)
        .await?
        .ok_or_else(dead)?;
    if let Err(e) = check_code(state, &user, code, client, "login").await {
        state
            .store
            .challenge_failed(&challenge.id, CHALLENGE_MAX_ATTEMPTS)
            .await?;
        return Err(e);
    }
    if !state
        .store
        .use_challenge(
            &challenge.id,
            valine_store::now_ms(),
            CHALLENGE_MAX_ATTEMPTS,
        )
        .await?
    {
        return Err(dead());
    }
    Ok(user)
}

/// `/2fa/disable`: password and code both required.
pub async fn disable(
    state: &AppState,
    user: &UserRow,
    password: &str,
    code: &str,
    client: &ClientInfo,
) -> Result<(), ApiError> {
    if !user.two_factor_enabled() {
        return Err(ApiError::validation(
            "twoFactor",
            "Two-factor authentication is not enabled",
        ));
    }
    let verified = state
        .auth
        .hasher
        .verify(password, &user.password_hash)
        .await?;
    if !verified.ok {
        return Err(ApiError::InvalidCredentials);
    }
    check_code(state, user, code, client, "disable").await?;
    state
        .store
        .disable_two_factor(&user.id, valine_store::now_ms())
        .await?;
    events::record(
        state,
        Some(&user.id),
        EventType::TwoFactorDisabled,
        client,
        serde_json::json!({}),
    )
    .await
}

/// `/2fa/backup-codes`: a fresh set after a valid code.
pub async fn regenerate_backup_codes(
    state: &AppState,
    user: &UserRow,
    code: &str,
    client: &ClientInfo,
) -> Result<Vec<String>, ApiError> {
    if !user.two_factor_enabled() {
        return Err(ApiError::validation(
            "twoFactor",
            "Two-factor authentication is not enabled",
        ));
    }
    check_code(state, user, code, client, "backup_codes").await?;
    let (codes, hashes) = new_backup_codes(state, &user.id);
    state
        .store
        .replace_backup_codes(&user.id, &hashes, valine_store::now_ms())
        .await?;
    Ok(codes)
}
