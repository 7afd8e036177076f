//! The `users` table: accounts and their credentials.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError};

crate::statements! {
    INSERT = Sql::both(
        "INSERT INTO users (id, username, normalized_username, email, normalized_email, \
         password_hash, display_name, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    );
    BY_ID = Sql::both(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1"));
    BY_LOGIN = Sql::both(concat!(
        "SELECT ", user_columns!(),
        " FROM users WHERE normalized_email = $1 OR normalized_username = $1 \
         ORDER BY CASE WHEN normalized_email = $1 THEN 0 ELSE 1 END LIMIT 1"
    ));
    UPDATE_PASSWORD = Sql::both(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
    );
    MARK_VERIFIED = Sql::both(
        "UPDATE users SET email_verified_at = $2, updated_at = $2 \
         WHERE id = $1 AND email_verified_at IS NULL",
    );
    COUNT = Sql::both("SELECT COUNT(*) FROM users");
}

/// The column list every user query selects, in `UserRow` order.
macro_rules! user_columns {
    () => {
        "id, username, email, normalized_email, password_hash, display_name, bio, avatar, \
         role, email_verified_at, two_factor_enabled_at, created_at, updated_at"
    };
}
use user_columns;

/// A stored account. `password_hash` is a PHC string; it never leaves the server.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: String,
    pub normalized_email: String,
    pub password_hash: String,
    pub display_name: String,
    pub bio: Option<String>,
    pub avatar: Option<String>,
    pub role: String,
    pub email_verified_at: Option<i64>,
    pub two_factor_enabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserRow {
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
    pub fn two_factor_enabled(&self) -> bool {
        self.two_factor_enabled_at.is_some()
    }
}

/// What registration writes; the caller has validated and normalised every field.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub normalized_username: &'a str,
    pub email: &'a str,
    pub normalized_email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub now: i64,
}

impl Store {
    /// Inserts a user inside `tx`. A duplicate email or username is
    /// [`StoreError::Conflict`] naming the unique index.
    pub async fn insert_user(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        user: &NewUser<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT.text(self.backend))
            .bind(user.id)
            .bind(user.username)
            .bind(user.normalized_username)
            .bind(user.email)
            .bind(user.normalized_email)
            .bind(user.password_hash)
            .bind(user.display_name)
            .bind(user.role)
            .bind(user.now)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(BY_ID.text(self.backend))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Finds a user by normalised email or normalised username (login accepts either).
    pub async fn user_by_login(&self, normalized: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(BY_LOGIN.text(self.backend))
            .bind(normalized)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn update_password_hash(
        &self,
        id: &str,
        hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(UPDATE_PASSWORD.text(self.backend))
            .bind(id)
            .bind(hash)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets a new password hash inside `tx` (password change and reset revoke sessions in
    /// the same transaction).
    pub async fn set_password_hash_tx(
        &self,
        tx: &mut crate::Tx,
        id: &str,
        hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(UPDATE_PASSWORD.text(self.backend))
            .bind(id)
            .bind(hash)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Marks the email verified (no-op if it already is). Returns whether it changed.
    pub async fn mark_email_verified(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        Ok(sqlx::query(MARK_VERIFIED.text(self.backend))
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(COUNT.text(self.backend))
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
