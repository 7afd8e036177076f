//! Sessions: starting one at login, rotating its refresh token, detecting reuse, ending it.

use valine_store::sessions::NewSession;
use valine_store::users::UserRow;

use crate::auth::events::EventType;
use crate::auth::tokens::{hash_token, random_token};
use crate::auth::{cookies, csrf};
use crate::error::ApiError;
use crate::state::AppState;

/// Who is asking, for session records and the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Everything a client receives when a session starts or rotates.
pub struct IssuedSession {
    pub session_id: String,
    pub access_token: String,
    pub access_expires_in: i64,
    pub refresh_token: String,
    pub refresh_max_age: i64,
    pub csrf_token: String,
}

impl IssuedSession {
    pub fn set_cookies(&self, headers: &mut axum::http::HeaderMap, state: &AppState) {
        cookies::set_session(
            headers,
            &state.settings,
            &cookies::Issued {
                access_token: &self.access_token,
                access_max_age: self.access_expires_in,
                refresh_token: &self.refresh_token,
                refresh_max_age: self.refresh_max_age,
                csrf_token: &self.csrf_token,
            },
        );
    }
}

fn issue_tokens(
    state: &AppState,
    user_id: &str,
    session_id: &str,
    refresh_token: String,
    session_expires_at: i64,
    now: i64,
) -> Result<IssuedSession, ApiError> {
    let (access_token, _exp) = state
        .auth
        .access
        .issue(user_id, session_id, now / 1000)
        .map_err(ApiError::internal)?;
    Ok(IssuedSession {
        session_id: session_id.to_string(),
        access_token,
        access_expires_in: state.auth.access.ttl_secs(),
        refresh_token,
        refresh_max_age: ((session_expires_at - now) / 1000).max(0),
        csrf_token: csrf::issue(&state.auth.keys.csrf, session_id),
    })
}

/// Starts a session for `user` inside `tx` (so registration's user, session and mail are
/// one atomic write). The caller commits.
pub async fn start_in_tx(
    state: &AppState,
    tx: &mut valine_store::Tx,
    user: &UserRow,
    client: &ClientInfo,
    now: i64,
) -> Result<IssuedSession, ApiError> {
    let session_id = valine_store::new_id();
    let refresh = random_token();
    let ttl_ms = i64::try_from(state.settings.refresh_token_ttl.as_millis()).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl_ms);
    state
        .store
        .insert_session(
            tx,
            &NewSession {
                id: &session_id,
                user_id: &user.id,
                user_agent: client.user_agent.as_deref(),
                ip_address: client.ip.as_deref(),
                now,
                expires_at,
                refresh_hash: &hash_token(&refresh),
            },
        )
        .await?;
    issue_tokens(state, &user.id, &session_id, refresh, expires_at, now)
}

/// Starts a session and records `login_succeeded`, in one transaction.
pub async fn start(
    state: &AppState,
    user: &UserRow,
    client: &ClientInfo,
    method: &str,
) -> Result<IssuedSession, ApiError> {
    let now = valine_store::now_ms();
    let mut tx = state.store.begin_write().await?;
    let issued = start_in_tx(state, &mut tx, user, client, now).await?;
    let metadata = serde_json::json!({ "sessionId": issued.session_id, "method": method });
    crate::auth::events::record_tx(
        state,
        &mut tx,
        Some(&user.id),
        EventType::LoginSucceeded,
        client,
        metadata,
    )
    .await?;
    valine_store::commit(tx).await?;
    state.metrics.auth_event(EventType::LoginSucceeded);
    Ok(issued)
}

/// `POST /auth/refresh`: rotate, or tell reuse from a race.
pub async fn refresh(
    state: &AppState,
    presented: &str,
    client: &ClientInfo,
) -> Result<IssuedSession, ApiError> {
    let now = valine_store::now_ms();
    let old_hash = hash_token(presented);
    let new_refresh = random_token();
    if let Some(session) = state
        .store
        .rotate_refresh(&old_hash, &hash_token(&new_refresh), now)
        .await?
    {
        return issue_tokens(
            state,
            &session.user_id,
            &session.id,
            new_refresh,
            session.expires_at,
            now,
        );
    }
    let unauthorized = || ApiError::Unauthorized("Invalid or expired refresh token".into());
    let Some(token) = state.store.refresh_token_by_hash(&old_hash).await? else {
        return Err(unauthorized());
    };
    let Some(retired_at) = token.retired_at else {
        // Live but not rotatable: expired, or its session is dead.
        return Err(unauthorized());
    };
    let session_live = state
        .store
        .session(&token.session_id)
        .await?
        .is_some_and(|s| s.is_live(now));
    if !session_live {
        // Tokens of a session that was logged out or revoked are simply dead.
        return Err(unauthorized());
    }
    let grace_ms = i64::try_from(state.settings.refresh_reuse_grace.as_millis()).unwrap_or(0);
    if now - retired_at <= grace_ms {
        // Two tabs raced the same rotation: refuse this one, revoke nothing.
        return Err(unauthorized());
    }
    // A generation retired earlier came back: whoever holds it is not the legitimate
    // client (or the legitimate client's token was stolen). Kill the whole session.
    let revoked = state
        .store
        .revoke_session(
            &token.user_id,
            &token.session_id,
            "refresh_token_reused",
            now,
        )
        .await?;
    if revoked {
        state.metrics.session_revoked("refresh_token_reused");
    }
    crate::auth::events::record(
        state,
        Some(&token.user_id),
        EventType::RefreshTokenReused,
        client,
        serde_json::json!({ "sessionId": token.session_id, "generation": token.generation }),
    )
    .await?;
    tracing::warn!(session_id = %token.session_id, "refresh token reuse detected; session revoked");
    Err(ApiError::RefreshTokenReused)
}
