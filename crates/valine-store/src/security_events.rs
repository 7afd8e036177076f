//! `security_events`: the audit log.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError};

crate::statements! {
    INSERT = Sql::both(
        "INSERT INTO security_events (id, user_id, event_type, at, ip_address, user_agent, \
         actor, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    );
    PAGE = Sql::both(
        "SELECT id, user_id, event_type, at, ip_address, user_agent, actor, metadata \
         FROM security_events WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    );
    COUNT_BY_TYPE = Sql::both("SELECT COUNT(*) FROM security_events WHERE event_type = $1");
}

#[derive(Debug, Clone, FromRow)]
pub struct SecurityEventRow {
    pub id: String,
    pub user_id: Option<String>,
    pub event_type: String,
    pub at: i64,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub actor: Option<String>,
    /// JSON object text.
    pub metadata: String,
}

/// An event to record. `metadata` must never carry secrets (the callers pass only ids,
/// reasons and counts).
pub struct NewSecurityEvent<'a> {
    pub user_id: Option<&'a str>,
    pub event_type: &'a str,
    pub at: i64,
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub metadata: &'a str,
}

use crate::Tx;

impl Store {
    pub async fn record_event(&self, e: &NewSecurityEvent<'_>) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        self.bind_event(e).execute(&mut *conn).await?;
        Ok(())
    }

    /// Records an event as part of a larger write.
    pub async fn record_event_tx(
        &self,
        tx: &mut Tx,
        e: &NewSecurityEvent<'_>,
    ) -> Result<(), StoreError> {
        self.bind_event(e).execute(&mut **tx).await?;
        Ok(())
    }

    fn bind_event<'q>(
        &self,
        e: &'q NewSecurityEvent<'q>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        sqlx::query(INSERT.text(self.backend))
            .bind(crate::new_id())
            .bind(e.user_id)
            .bind(e.event_type)
            .bind(e.at)
            .bind(e.ip_address)
            .bind(e.user_agent)
            .bind(e.actor)
            .bind(e.metadata)
    }

    /// The user's events, newest first, strictly before `before_id` (ids are UUIDv7, so
    /// id order is time order). Pass `None` for the first page.
    pub async fn security_events_page(
        &self,
        user_id: &str,
        before_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SecurityEventRow>, StoreError> {
        // "~" sorts after every UUID character, so it means "from the newest".
        Ok(sqlx::query_as(PAGE.text(self.backend))
            .bind(user_id)
            .bind(before_id.unwrap_or("~"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn count_events(&self, event_type: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(COUNT_BY_TYPE.text(self.backend))
            .bind(event_type)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
