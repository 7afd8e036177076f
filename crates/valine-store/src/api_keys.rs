//! `api_keys`: credentials for the internal API (SPEC §9), stored only as SHA-256 hashes.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError};

crate::statements! {
    INSERT = Sql::both(
        "INSERT INTO api_keys (id, name, key_hash, scopes, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    );
    BY_HASH = Sql::both(
        "SELECT id, name, scopes, created_at, last_used_at, revoked_at \
         FROM api_keys WHERE key_hash = $1",
    );
    LIST = Sql::both(
        "SELECT id, name, scopes, created_at, last_used_at, revoked_at \
         FROM api_keys ORDER BY id",
    );
    REVOKE = Sql::both(
        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
    );
    EXISTS = Sql::both("SELECT COUNT(*) FROM api_keys WHERE id = $1");
    /// Only moves forward, so a late, delayed touch cannot make lastUsedAt older.
    TOUCH = Sql::both(
        "UPDATE api_keys SET last_used_at = $2 \
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
    );
}

/// A key as stored, without its hash.
#[derive(Debug, Clone, FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    /// Comma-separated scope names.
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiKeyRow {
    pub fn scope_list(&self) -> Vec<&str> {
        self.scopes
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// Hex SHA-256 of the key.
    pub key_hash: &'a str,
    pub scopes: &'a str,
    pub now: i64,
}

/// What revoking found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Now,
    Already,
}

impl Store {
    pub async fn insert_api_key(&self, k: &NewApiKey<'_>) -> Result<(), StoreError> {
        sqlx::query(INSERT.text(self.backend))
            .bind(k.id)
            .bind(k.name)
            .bind(k.key_hash)
            .bind(k.scopes)
            .bind(k.now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The key whose hash is `key_hash`, revoked or not. The lookup is by a hash of a
    /// 256-bit secret, so its timing reveals nothing useful about stored keys.
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(sqlx::query_as(BY_HASH.text(self.backend))
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every key, oldest first (ids are time-ordered).
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(sqlx::query_as(LIST.text(self.backend))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Revokes key `id`; `NotFound` when there is no such key.
    pub async fn revoke_api_key(&self, id: &str, now: i64) -> Result<Revoked, StoreError> {
        let done = sqlx::query(REVOKE.text(self.backend))
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() > 0 {
            return Ok(Revoked::Now);
        }
        let (n,): (i64,) = sqlx::query_as(EXISTS.text(self.backend))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        if n > 0 {
            Ok(Revoked::Already)
        } else {
            Err(StoreError::NotFound)
        }
    }

    pub async fn touch_api_key(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(TOUCH.text(self.backend))
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
