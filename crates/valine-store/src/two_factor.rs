//! `two_factor`, `backup_codes`, `two_factor_challenges`: TOTP state, recovery codes and
//! pending login challenges. Every "use once" operation is a compare-and-swap UPDATE.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError, Tx};

crate::statements! {
    UPSERT_PENDING = Sql::both(
        "INSERT INTO two_factor (user_id, pending_secret_enc, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET pending_secret_enc = excluded.pending_secret_enc, \
         updated_at = excluded.updated_at",
    );
    GET = Sql::both(
        "SELECT user_id, secret_enc, pending_secret_enc, last_step FROM two_factor WHERE user_id = $1",
    );
    /// Accepts TOTP step $2 only if it is later than every step accepted before.
    ACCEPT_STEP = Sql::both(
        "UPDATE two_factor SET last_step = $2, updated_at = $3 \
         WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)",
    );
    ACTIVATE = Sql::both(
        "UPDATE two_factor SET secret_enc = pending_secret_enc, pending_secret_enc = NULL, \
         updated_at = $2 WHERE user_id = $1 AND pending_secret_enc IS NOT NULL",
    );
    SET_USER_ENABLED = Sql::both(
        "UPDATE users SET two_factor_enabled_at = $2, updated_at = $3 WHERE id = $1",
    );
    DELETE_STATE = Sql::both("DELETE FROM two_factor WHERE user_id = $1");
    DELETE_CODES = Sql::both("DELETE FROM backup_codes WHERE user_id = $1");
    INSERT_CODE = Sql::both(
        "INSERT INTO backup_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)",
    );
    USE_CODE = Sql::both(
        "UPDATE backup_codes SET used_at = $3 \
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    );
    INSERT_CHALLENGE = Sql::both(
        "INSERT INTO two_factor_challenges (id, user_id, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    );
    CHALLENGE_BY_HASH = Sql::both(
        "SELECT id, user_id, expires_at, attempts, used_at FROM two_factor_challenges \
         WHERE token_hash = $1",
    );
    CHALLENGE_FAIL = Sql::both(
        "UPDATE two_factor_challenges SET attempts = attempts + 1 \
         WHERE id = $1 AND used_at IS NULL AND attempts < $2 RETURNING attempts",
    );
    CHALLENGE_USE = Sql::both(
        "UPDATE two_factor_challenges SET used_at = $2 \
         WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3",
    );
    COUNT_ENABLED = Sql::both(
        "SELECT COUNT(*) FROM users WHERE two_factor_enabled_at IS NOT NULL",
    );
    COUNT_VERIFIED_USERS = Sql::both(
        "SELECT COUNT(*) FROM users WHERE email_verified_at IS NOT NULL",
    );
}

#[derive(Debug, Clone, FromRow)]
pub struct TwoFactorRow {
    pub user_id: String,
    pub secret_enc: Option<String>,
    pub pending_secret_enc: Option<String>,
    pub last_step: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct ChallengeRow {
    pub id: String,
    pub user_id: String,
    pub expires_at: i64,
    pub attempts: i64,
    pub used_at: Option<i64>,
}

impl Store {
    /// Stores a freshly generated (encrypted) secret as pending, replacing any earlier one.
    pub async fn set_pending_secret(
        &self,
        user_id: &str,
        secret_enc: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(UPSERT_PENDING.text(self.backend))
            .bind(user_id)
            .bind(secret_enc)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn two_factor(&self, user_id: &str) -> Result<Option<TwoFactorRow>, StoreError> {
        Ok(sqlx::query_as(GET.text(self.backend))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Records `step` as used; false if it (or a later step) was already accepted, which
    /// makes a replayed code fail even when two requests race.
    pub async fn accept_totp_step(
        &self,
        user_id: &str,
        step: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(ACCEPT_STEP.text(self.backend))
            .bind(user_id)
            .bind(step)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    /// Turns the pending secret into the active one, replaces the backup codes, and flags
    /// the user — one transaction.
    pub async fn enable_two_factor(
        &self,
        user_id: &str,
        code_hashes: &[String],
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let activated = sqlx::query(ACTIVATE.text(self.backend))
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if activated == 0 {
            return Ok(false);
        }
        self.replace_backup_codes_tx(&mut tx, user_id, code_hashes, now)
            .await?;
        sqlx::query(SET_USER_ENABLED.text(self.backend))
            .bind(user_id)
            .bind(Some(now))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes all 2FA state of a user.
    pub async fn disable_two_factor(&self, user_id: &str, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for q in [DELETE_STATE, DELETE_CODES] {
            sqlx::query(q.text(self.backend))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(SET_USER_ENABLED.text(self.backend))
            .bind(user_id)
            .bind(None::<i64>)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn replace_backup_codes_tx(
        &self,
        tx: &mut Tx,
        user_id: &str,
        code_hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(DELETE_CODES.text(self.backend))
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        for hash in code_hashes {
            sqlx::query(INSERT_CODE.text(self.backend))
                .bind(crate::new_id())
                .bind(user_id)
                .bind(hash)
                .bind(now)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// A fresh set of backup codes; the old ones die.
    pub async fn replace_backup_codes(
        &self,
        user_id: &str,
        code_hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        self.replace_backup_codes_tx(&mut tx, user_id, code_hashes, now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses a backup code once; false if unknown or already used.
    pub async fn use_backup_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(USE_CODE.text(self.backend))
            .bind(user_id)
            .bind(code_hash)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    pub async fn insert_challenge(
        &self,
        user_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT_CHALLENGE.text(self.backend))
            .bind(crate::new_id())
            .bind(user_id)
            .bind(token_hash)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn challenge_by_hash(&self, hash: &str) -> Result<Option<ChallengeRow>, StoreError> {
        Ok(sqlx::query_as(CHALLENGE_BY_HASH.text(self.backend))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Counts a wrong code; returns the new attempt count (None if already dead).
    pub async fn challenge_failed(
        &self,
        id: &str,
        max_attempts: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(CHALLENGE_FAIL.text(self.backend))
            .bind(id)
            .bind(max_attempts)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(n,)| n))
    }

    /// Uses the challenge once (single use even under concurrency).
    pub async fn use_challenge(
        &self,
        id: &str,
        now: i64,
        max_attempts: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(CHALLENGE_USE.text(self.backend))
            .bind(id)
            .bind(now)
            .bind(max_attempts)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    /// (users with 2FA, users with a verified email).
    pub async fn two_factor_adoption(&self) -> Result<(i64, i64), StoreError> {
        let (enabled,): (i64,) = sqlx::query_as(COUNT_ENABLED.text(self.backend))
            .fetch_one(&self.pool)
            .await?;
        let (verified,): (i64,) = sqlx::query_as(COUNT_VERIFIED_USERS.text(self.backend))
            .fetch_one(&self.pool)
            .await?;
        Ok((enabled, verified))
    }
}
