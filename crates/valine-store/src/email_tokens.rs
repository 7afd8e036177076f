//! `email_verification_tokens` and `password_reset_tokens`: single-use, hashed tokens.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError, Tx};

crate::statements! {
    RETIRE_UNUSED_VERIFICATION = Sql::both(
        "UPDATE email_verification_tokens SET retired_at = $2 \
         WHERE user_id = $1 AND used_at IS NULL AND retired_at IS NULL",
    );
    INSERT_VERIFICATION = Sql::both(
        "INSERT INTO email_verification_tokens (id, user_id, token_hash, created_at, \
         expires_at, source) VALUES ($1, $2, $3, $4, $5, $6)",
    );
    VERIFICATION_BY_HASH = Sql::both(
        "SELECT id, user_id, created_at, expires_at, used_at, retired_at \
         FROM email_verification_tokens WHERE token_hash = $1",
    );
    USE_VERIFICATION = Sql::both(
        "UPDATE email_verification_tokens SET used_at = $2 \
         WHERE id = $1 AND used_at IS NULL AND retired_at IS NULL AND expires_at > $2",
    );
    MARK_USER_VERIFIED = Sql::both(
        "UPDATE users SET email_verified_at = $2, updated_at = $2 \
         WHERE id = $1 AND email_verified_at IS NULL",
    );
    COUNT_RESENDS_SINCE = Sql::both(
        "SELECT COUNT(*) FROM email_verification_tokens \
         WHERE user_id = $1 AND source = 'resend' AND created_at > $2",
    );
    OLDEST_RESEND_SINCE = Sql::both(
        "SELECT MIN(created_at) FROM email_verification_tokens \
         WHERE user_id = $1 AND source = 'resend' AND created_at > $2",
    );
    PENDING_TOKEN_FOR_EMAIL = Sql::both(
        "SELECT t.id, t.user_id, t.created_at, t.expires_at, t.used_at, t.retired_at \
         FROM email_verification_tokens t JOIN users u ON u.id = t.user_id \
         WHERE u.normalized_email = $1 AND u.email_verified_at IS NULL \
         AND t.used_at IS NULL AND t.retired_at IS NULL AND t.expires_at > $2 \
         ORDER BY t.created_at DESC LIMIT 1",
    );
    INSERT_RESET = Sql::both(
        "INSERT INTO password_reset_tokens (id, user_id, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    );
    RESET_BY_HASH = Sql::both(
        "SELECT id, user_id, created_at, expires_at, used_at, NULL AS retired_at \
         FROM password_reset_tokens WHERE token_hash = $1",
    );
    USE_RESET = Sql::both(
        "UPDATE password_reset_tokens SET used_at = $2 \
         WHERE id = $1 AND used_at IS NULL AND expires_at > $2",
    );
    COUNT_VERIFIED = Sql::both(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN email_verified_at IS NOT NULL THEN 1 ELSE 0 END), 0) \
         FROM users WHERE created_at > $1",
    );
}

/// A single-use token as stored (its hash is the lookup key, never returned).
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub retired_at: Option<i64>,
}

/// Why a verification token was created.
#[derive(Debug, Clone, Copy)]
pub enum VerificationSource {
    Registration,
    Resend,
}

impl Store {
    /// Stores a new verification token for `user_id`, retiring any earlier unused one.
    pub async fn insert_verification_token_tx(
        &self,
        tx: &mut Tx,
        user_id: &str,
        hash: &str,
        now: i64,
        expires_at: i64,
        source: VerificationSource,
    ) -> Result<(), StoreError> {
        sqlx::query(RETIRE_UNUSED_VERIFICATION.text(self.backend))
            .bind(user_id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        sqlx::query(INSERT_VERIFICATION.text(self.backend))
            .bind(crate::new_id())
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .bind(expires_at)
            .bind(match source {
                VerificationSource::Registration => "registration",
                VerificationSource::Resend => "resend",
            })
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn verification_token_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<TokenRow>, StoreError> {
        Ok(sqlx::query_as(VERIFICATION_BY_HASH.text(self.backend))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Uses the token (compare-and-swap, so it works once) and marks its user verified.
    /// Returns `None` if the token could not be used (raced, expired meanwhile), else
    /// whether this call verified the user (`false`: the user was already verified).
    pub async fn consume_verification_token(
        &self,
        token: &TokenRow,
        now: i64,
    ) -> Result<Option<bool>, StoreError> {
        let mut tx = self.begin_write().await?;
        let used = sqlx::query(USE_VERIFICATION.text(self.backend))
            .bind(&token.id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if used == 0 {
            return Ok(None);
        }
        let verified = sqlx::query(MARK_USER_VERIFIED.text(self.backend))
            .bind(&token.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(Some(verified > 0))
    }

    /// Resends of `user_id` after `since`, and the oldest of them (for `Retry-After`).
    pub async fn resends_since(
        &self,
        user_id: &str,
        since: i64,
    ) -> Result<(i64, Option<i64>), StoreError> {
        let (n,): (i64,) = sqlx::query_as(COUNT_RESENDS_SINCE.text(self.backend))
            .bind(user_id)
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        let (oldest,): (Option<i64>,) = sqlx::query_as(OLDEST_RESEND_SINCE.text(self.backend))
            .bind(user_id)
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok((n, oldest))
    }

    /// The newest usable verification token of a still-unverified account, by email.
    pub async fn pending_verification_for_email(
        &self,
        normalized_email: &str,
        now: i64,
    ) -> Result<Option<TokenRow>, StoreError> {
        Ok(sqlx::query_as(PENDING_TOKEN_FOR_EMAIL.text(self.backend))
            .bind(normalized_email)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn insert_reset_token_tx(
        &self,
        tx: &mut Tx,
        user_id: &str,
        hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT_RESET.text(self.backend))
            .bind(crate::new_id())
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .bind(expires_at)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn reset_token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>, StoreError> {
        Ok(sqlx::query_as(RESET_BY_HASH.text(self.backend))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Uses a reset token inside `tx` (compare-and-swap). False if already used/expired.
    pub async fn consume_reset_token_tx(
        &self,
        tx: &mut Tx,
        id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(USE_RESET.text(self.backend))
            .bind(id)
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            > 0)
    }

    /// (registered, verified) among users created after `since`.
    pub async fn verification_counts(&self, since: i64) -> Result<(i64, i64), StoreError> {
        Ok(sqlx::query_as(COUNT_VERIFIED.text(self.backend))
            .bind(since)
            .fetch_one(&self.pool)
            .await?)
    }
}
