//! `sessions` and `refresh_tokens`: logins (devices) and their refresh-token generations.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError};

crate::statements! {
    INSERT_SESSION = Sql::both(
        "INSERT INTO sessions (id, user_id, user_agent, ip_address, created_at, last_used_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
    );
    INSERT_REFRESH = Sql::both(
        "INSERT INTO refresh_tokens (id, session_id, user_id, token_hash, generation, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    );
    /// The compare-and-swap at the heart of rotation: only one caller can retire a live
    /// generation. On PostgreSQL the row lock makes a concurrent UPDATE re-check
    /// `retired_at IS NULL` and match nothing; on SQLite writers are serialised.
    RETIRE_LIVE = Sql::both(
        "UPDATE refresh_tokens SET retired_at = $2 \
         WHERE token_hash = $1 AND retired_at IS NULL AND expires_at > $2 \
         RETURNING session_id, user_id, generation",
    );
    TOKEN_BY_HASH = Sql::both(
        "SELECT session_id, user_id, generation, retired_at, expires_at \
         FROM refresh_tokens WHERE token_hash = $1",
    );
    RETIRE_ALL_FOR_SESSION = Sql::both(
        "UPDATE refresh_tokens SET retired_at = $2 WHERE session_id = $1 AND retired_at IS NULL",
    );
    SESSION_WITH_USER = Sql::both(
        "SELECT s.id, s.user_id, s.user_agent, s.ip_address, s.created_at, s.last_used_at, \
         s.expires_at, s.revoked_at, s.revoked_reason FROM sessions s WHERE s.id = $1",
    );
    TOUCH_SESSION = Sql::both(
        "UPDATE sessions SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2",
    );
    REVOKE_SESSION = Sql::both(
        "UPDATE sessions SET revoked_at = $3, revoked_reason = $4 \
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3",
    );
    REVOKE_USER_SESSIONS = Sql::both(
        "UPDATE sessions SET revoked_at = $3, revoked_reason = $4 \
         WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL AND expires_at > $3 \
         RETURNING id",
    );
    RETIRE_TOKENS_OF_REVOKED = Sql::both(
        "UPDATE refresh_tokens SET retired_at = $2 WHERE user_id = $1 AND retired_at IS NULL \
         AND session_id IN (SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NOT NULL)",
    );
    ACTIVE_FOR_USER = Sql::both(
        "SELECT id, user_id, user_agent, ip_address, created_at, last_used_at, expires_at, \
         revoked_at, revoked_reason FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
         ORDER BY last_used_at DESC, id DESC",
    );
    COUNT_ACTIVE = Sql::both(
        "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1",
    );
    /// The session and its user in one round trip: every authenticated request runs it.
    SESSION_AND_USER = Sql::both(concat!(
        "SELECT s.revoked_at AS s_revoked_at, s.expires_at AS s_expires_at, \
         s.last_used_at AS s_last_used_at, ",
        "u.id, u.username, u.email, u.normalized_email, u.password_hash, u.display_name, \
         u.bio, u.avatar, u.role, u.email_verified_at, u.two_factor_enabled_at, \
         u.created_at, u.updated_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.user_id = $2"
    ));
    ACTIVE_PER_USER = Sql::both(
        "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1 \
         GROUP BY user_id",
    );
    REVOCATIONS_BY_REASON = Sql::both(
        "SELECT COALESCE(revoked_reason, 'unknown'), COUNT(*) FROM sessions \
         WHERE revoked_at IS NOT NULL GROUP BY revoked_reason",
    );
    LIVE_GENERATIONS = Sql::both(
        "SELECT COUNT(*) FROM refresh_tokens WHERE session_id = $1 AND retired_at IS NULL",
    );
}

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

impl SessionRow {
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A session's liveness fields with its user (see `SESSION_AND_USER`).
#[derive(Debug, Clone, FromRow)]
pub struct SessionUser {
    pub s_revoked_at: Option<i64>,
    pub s_expires_at: i64,
    pub s_last_used_at: i64,
    #[sqlx(flatten)]
    pub user: crate::users::UserRow,
}

impl SessionUser {
    pub fn is_live(&self, now: i64) -> bool {
        self.s_revoked_at.is_none() && self.s_expires_at > now
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct RefreshTokenRow {
    pub session_id: String,
    pub user_id: String,
    pub generation: i64,
    pub retired_at: Option<i64>,
    pub expires_at: i64,
}

/// A session to create with its first refresh generation.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub user_agent: Option<&'a str>,
    pub ip_address: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
    pub refresh_hash: &'a str,
}

use crate::Tx;

impl Store {
    /// Creates a session and its generation-0 refresh token inside `tx`.
    pub async fn insert_session(&self, tx: &mut Tx, s: &NewSession<'_>) -> Result<(), StoreError> {
        sqlx::query(INSERT_SESSION.text(self.backend))
            .bind(s.id)
            .bind(s.user_id)
            .bind(s.user_agent)
            .bind(s.ip_address)
            .bind(s.now)
            .bind(s.expires_at)
            .execute(&mut **tx)
            .await?;
        self.insert_refresh(tx, s.id, s.user_id, s.refresh_hash, 0, s.now, s.expires_at)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_refresh(
        &self,
        tx: &mut Tx,
        session_id: &str,
        user_id: &str,
        hash: &str,
        generation: i64,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT_REFRESH.text(self.backend))
            .bind(crate::new_id())
            .bind(session_id)
            .bind(user_id)
            .bind(hash)
            .bind(generation)
            .bind(now)
            .bind(expires_at)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Rotates the live generation `old_hash` to `new_hash` atomically: retire (CAS), check
    /// the session is live, insert the next generation, touch the session — one
    /// transaction. Returns the session, or `None` when the token was not live (never
    /// existed, already rotated, expired) or its session is dead.
    pub async fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        let mut tx = self.begin_write().await?;
        let retired: Option<(String, String, i64)> = sqlx::query_as(RETIRE_LIVE.text(self.backend))
            .bind(old_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((session_id, user_id, generation)) = retired else {
            return Ok(None);
        };
        let session: Option<SessionRow> = sqlx::query_as(SESSION_WITH_USER.text(self.backend))
            .bind(&session_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(session) = session.filter(|s| s.is_live(now)) else {
            // Dropping the transaction rolls the retirement back; nothing changes.
            return Ok(None);
        };
        self.insert_refresh(
            &mut tx,
            &session_id,
            &user_id,
            new_hash,
            generation + 1,
            now,
            session.expires_at,
        )
        .await?;
        sqlx::query(TOUCH_SESSION.text(self.backend))
            .bind(&session_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(session))
    }

    /// Any generation (live or retired) by hash, to tell reuse from garbage.
    pub async fn refresh_token_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<RefreshTokenRow>, StoreError> {
        Ok(sqlx::query_as(TOKEN_BY_HASH.text(self.backend))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The session `session_id` of `user_id` with the user, live or not.
    pub async fn session_and_user(
        &self,
        session_id: &str,
        user_id: &str,
    ) -> Result<Option<SessionUser>, StoreError> {
        Ok(sqlx::query_as(SESSION_AND_USER.text(self.backend))
            .bind(session_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(sqlx::query_as(SESSION_WITH_USER.text(self.backend))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Records use of a session (throttled by the caller).
    pub async fn touch_session(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(TOUCH_SESSION.text(self.backend))
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes one live session of `user_id` and retires its refresh tokens. Returns false
    /// when there was no such live session (unknown, another user's, already revoked).
    pub async fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(REVOKE_SESSION.text(self.backend))
            .bind(session_id)
            .bind(user_id)
            .bind(now)
            .bind(reason)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        sqlx::query(RETIRE_ALL_FOR_SESSION.text(self.backend))
            .bind(session_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Revokes every live session of `user_id` except `keep` (pass "" to keep none), and
    /// retires their refresh tokens. Returns the revoked session ids.
    pub async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: &str,
        reason: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let ids = self
            .revoke_user_sessions_tx(&mut tx, user_id, keep, reason, now)
            .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// [`Store::revoke_user_sessions`] inside a larger transaction.
    pub async fn revoke_user_sessions_tx(
        &self,
        tx: &mut Tx,
        user_id: &str,
        keep: &str,
        reason: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<(String,)> = sqlx::query_as(REVOKE_USER_SESSIONS.text(self.backend))
            .bind(user_id)
            .bind(keep)
            .bind(now)
            .bind(reason)
            .fetch_all(&mut **tx)
            .await?;
        sqlx::query(RETIRE_TOKENS_OF_REVOKED.text(self.backend))
            .bind(user_id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    /// Live sessions of a user, most recently used first.
    pub async fn active_sessions(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<SessionRow>, StoreError> {
        Ok(sqlx::query_as(ACTIVE_FOR_USER.text(self.backend))
            .bind(user_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn count_active_sessions(&self, now: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(COUNT_ACTIVE.text(self.backend))
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Live-session counts, one per user who has any (for the phase 2 metrics).
    pub async fn active_sessions_per_user(&self, now: i64) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(ACTIVE_PER_USER.text(self.backend))
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// Revoked sessions per reason (sessions of deleted accounts are gone with them).
    pub async fn revocations_by_reason(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(REVOCATIONS_BY_REASON.text(self.backend))
            .fetch_all(&self.pool)
            .await?)
    }

    /// How many generations of a session are live (exactly one for a live session).
    pub async fn live_generations(&self, session_id: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(LIVE_GENERATIONS.text(self.backend))
            .bind(session_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
