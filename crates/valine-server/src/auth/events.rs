//! The security-event vocabulary of SPEC §3.4 (the user's audit trail).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    LoginSucceeded,
    LoginFailed,
    Logout,
    SessionRevoked,
    RefreshTokenReused,
    PasswordChanged,
    PasswordReset,
    TwoFactorEnabled,
    TwoFactorDisabled,
    TwoFactorFailed,
    BackupCodeUsed,
    EmailVerified,
    DataExported,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        use EventType::*;
        match self {
            LoginSucceeded => "login_succeeded",
            LoginFailed => "login_failed",
            Logout => "logout",
            SessionRevoked => "session_revoked",
            RefreshTokenReused => "refresh_token_reused",
            PasswordChanged => "password_changed",
            PasswordReset => "password_reset",
            TwoFactorEnabled => "two_factor_enabled",
            TwoFactorDisabled => "two_factor_disabled",
            TwoFactorFailed => "two_factor_failed",
            BackupCodeUsed => "backup_code_used",
            EmailVerified => "email_verified",
            DataExported => "data_exported",
        }
    }
}

use crate::auth::sessions::ClientInfo;
use crate::error::ApiError;
use crate::state::AppState;
use valine_store::security_events::NewSecurityEvent;

fn new_event<'a>(
    user_id: Option<&'a str>,
    event: EventType,
    client: &'a ClientInfo,
    metadata: &'a str,
) -> NewSecurityEvent<'a> {
    NewSecurityEvent {
        user_id,
        event_type: event.as_str(),
        at: valine_store::now_ms(),
        ip_address: client.ip.as_deref(),
        user_agent: client.user_agent.as_deref(),
        actor: None,
        metadata,
    }
}

/// Records an event on its own.
pub async fn record(
    state: &AppState,
    user_id: Option<&str>,
    event: EventType,
    client: &ClientInfo,
    metadata: serde_json::Value,
) -> Result<(), ApiError> {
    let metadata = metadata.to_string();
    state
        .store
        .record_event(&new_event(user_id, event, client, &metadata))
        .await?;
    state.metrics.auth_event(event);
    Ok(())
}

/// Records an event inside a larger transaction (the caller counts it once committed).
pub async fn record_tx(
    state: &AppState,
    tx: &mut valine_store::Tx,
    user_id: Option<&str>,
    event: EventType,
    client: &ClientInfo,
    metadata: serde_json::Value,
) -> Result<(), ApiError> {
    let metadata = metadata.to_string();
    state
        .store
        .record_event_tx(tx, &new_event(user_id, event, client, &metadata))
        .await?;
    Ok(())
}
