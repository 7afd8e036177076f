//! Valine's persistence: one `Store` over SQLite or PostgreSQL, chosen by the URL scheme.
//!
//! Both backends go through sqlx's `Any` driver so that most SQL text is shared (`$1`
//! placeholders work on both). Where the dialects differ, a statement is declared with
//! both spellings ([`sql::Sql`]), and each backend has its own migration set with the
//! same versions. Instants are epoch milliseconds (`BIGINT`), ids are UUIDv7 text, and
//! flags are nullable timestamps (`email_verified_at`), which keeps row decoding identical
//! on both backends.

pub mod api_keys;
pub mod email_tokens;
mod error;
pub mod journey_runs;
pub mod media;
pub mod migrate;
pub mod outbox;
mod pool;
pub mod pr_intel;
pub mod profiles;
pub mod security_events;
pub mod sessions;
pub mod sql;
pub mod test_results;
pub mod testing;
pub mod two_factor;
pub mod users;

pub use error::StoreError;
pub use pool::{Backend, Store};

/// A write transaction, begun with [`Store::begin_write`]. Dropping it rolls back.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Commits a write transaction.
pub async fn commit(tx: Tx) -> Result<(), StoreError> {
    tx.commit().await?;
    Ok(())
}

/// Current time as epoch milliseconds, the unit every stored instant uses.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// A new time-ordered id (UUIDv7, hyphenated lower-case text).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod internal_contract_tests;
