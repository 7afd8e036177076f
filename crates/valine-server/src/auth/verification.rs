//! Email verification and password reset: single-use hashed tokens, mailed through the
//! outbox in the same transaction that creates them.

use valine_store::email_tokens::VerificationSource;
use valine_store::outbox::NewMail;
use valine_store::users::UserRow;

use crate::auth::tokens::{hash_token, random_token};
use crate::error::ApiError;
use crate::mail::templates;
use crate::state::AppState;

/// Creates a verification token for `user` and queues its email, inside `tx`.
pub async fn queue_verification_tx(
    state: &AppState,
    tx: &mut valine_store::Tx,
    user: &UserRow,
    source: VerificationSource,
    now: i64,
) -> Result<(), ApiError> {
    let token = random_token();
    let ttl = i64::try_from(state.settings.verification_token_ttl.as_millis()).unwrap_or(i64::MAX);
    state
        .store
        .insert_verification_token_tx(
            tx,
            &user.id,
            &hash_token(&token),
            now,
            now.saturating_add(ttl),
            source,
        )
        .await?;
    if is_synthetic(state, &user.normalized_email) {
        // Synthetic journey accounts get their token from the internal journey endpoint;
        // mail to the journey domain (`.invalid` by default) could only bounce and retry.
        return Ok(());
    }
    let mail = templates::verification(&state.settings.frontend_url, &user.display_name, &token);
    state
        .store
        .enqueue_mail_tx(
            tx,
            &NewMail {
                kind: "verify_email",
                recipient: &user.email,
                subject: &mail.subject,
                text_body: &mail.text,
                html_body: &mail.html,
                now,
            },
        )
        .await?;
    tracing::info!(user_id = %user.id, token = %crate::auth::mask_token(&token), "verification email queued");
    Ok(())
}

/// Whether an address belongs to the synthetic-journey domain.
pub fn is_synthetic(state: &AppState, normalized_email: &str) -> bool {
    normalized_email
        .rsplit_once('@')
        .is_some_and(|(_, domain)| {
            domain.eq_ignore_ascii_case(&state.settings.journey_email_domain)
        })
}

/// Creates a password-reset token for `user` and queues its email, inside `tx`.
pub async fn queue_reset_tx(
    state: &AppState,
    tx: &mut valine_store::Tx,
    user: &UserRow,
    now: i64,
) -> Result<(), ApiError> {
    let token = random_token();
    let ttl = i64::try_from(state.settings.reset_token_ttl.as_millis()).unwrap_or(i64::MAX);
    state
        .store
        .insert_reset_token_tx(
            tx,
            &user.id,
            &hash_token(&token),
            now,
            now.saturating_add(ttl),
        )
        .await?;
    let mail = templates::password_reset(&state.settings.frontend_url, &user.display_name, &token);
    state
        .store
        .enqueue_mail_tx(
            tx,
            &NewMail {
                kind: "password_reset",
                recipient: &user.email,
                subject: &mail.subject,
                text_body: &mail.text,
                html_body: &mail.html,
                now,
            },
        )
        .await?;
    tracing::info!(user_id = %user.id, token = %crate::auth::mask_token(&token), "password reset email queued");
    Ok(())
}

/// What `POST /auth/verify-email` found.
pub enum VerifyOutcome {
    Verified { user_id: String },
    AlreadyVerified,
}

pub const INVALID_LINK: &str = "This verification link is invalid or has already been used.";
pub const EXPIRED_LINK: &str =
    "This verification link has expired. Please request a new one from your account.";

pub async fn verify(state: &AppState, token: &str) -> Result<VerifyOutcome, ApiError> {
    let now = valine_store::now_ms();
    let invalid = || ApiError::validation("token", INVALID_LINK);
    if token.is_empty() || token.len() > 256 {
        return Err(invalid());
    }
    let Some(row) = state
        .store
        .verification_token_by_hash(&hash_token(token))
        .await?
    else {
        return Err(invalid());
    };
    if row.used_at.is_some() || row.retired_at.is_some() {
        return Err(invalid());
    }
    if row.expires_at <= now {
        return Err(ApiError::validation("token", EXPIRED_LINK));
    }
    match state.store.consume_verification_token(&row, now).await? {
        None => Err(invalid()),
        Some(true) => Ok(VerifyOutcome::Verified {
            user_id: row.user_id,
        }),
        Some(false) => Ok(VerifyOutcome::AlreadyVerified),
    }
}
