//! `mail_outbox`: mail written in the same transaction as what it announces, delivered by
//! workers that lease due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises
//! writers, so its single `UPDATE … RETURNING` claim is already exclusive).

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError, Tx};

crate::statements! {
    ENQUEUE = Sql::both(
        "INSERT INTO mail_outbox (id, kind, recipient, subject, text_body, html_body, \
         created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    );
    CLAIM = Sql::split(
        "UPDATE mail_outbox SET locked_until = $2 WHERE id IN (\
            SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
            AND (locked_until IS NULL OR locked_until < $1) \
            ORDER BY next_attempt_at LIMIT $3) \
         RETURNING id, kind, recipient, subject, text_body, html_body, attempts",
        "UPDATE mail_outbox SET locked_until = $2 WHERE id IN (\
            SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
            AND (locked_until IS NULL OR locked_until < $1) \
            ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
         RETURNING id, kind, recipient, subject, text_body, html_body, attempts",
    );
    MARK_SENT = Sql::both(
        "UPDATE mail_outbox SET status = 'sent', sent_at = $2, locked_until = NULL, \
         attempts = attempts + 1, last_error = NULL WHERE id = $1",
    );
    MARK_RETRY = Sql::both(
        "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2, \
         locked_until = NULL, last_error = $3 WHERE id = $1",
    );
    MARK_FAILED = Sql::both(
        "UPDATE mail_outbox SET status = 'failed', attempts = attempts + 1, \
         locked_until = NULL, last_error = $2 WHERE id = $1",
    );
    COUNT_BY_STATUS = Sql::both("SELECT COUNT(*) FROM mail_outbox WHERE status = $1");
}

#[derive(Debug, Clone, FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: i64,
}

pub struct NewMail<'a> {
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub now: i64,
}

impl Store {
    /// Queues a message inside `tx`: it exists exactly when the transaction commits.
    pub async fn enqueue_mail_tx(
        &self,
        tx: &mut Tx,
        m: &NewMail<'_>,
    ) -> Result<String, StoreError> {
        let id = crate::new_id();
        sqlx::query(ENQUEUE.text(self.backend))
            .bind(&id)
            .bind(m.kind)
            .bind(m.recipient)
            .bind(m.subject)
            .bind(m.text_body)
            .bind(m.html_body)
            .bind(m.now)
            .execute(&mut **tx)
            .await?;
        Ok(id)
    }

    /// Leases up to `limit` due messages until `lease_until`.
    pub async fn claim_due_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query_as(CLAIM.text(self.backend))
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    pub async fn mark_mail_sent(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(MARK_SENT.text(self.backend))
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn mark_mail_retry(
        &self,
        id: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(MARK_RETRY.text(self.backend))
            .bind(id)
            .bind(next_attempt_at)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn mark_mail_failed(&self, id: &str, error: &str) -> Result<(), StoreError> {
        sqlx::query(MARK_FAILED.text(self.backend))
            .bind(id)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Messages with `status` (`pending`, `sent`, `failed`).
    pub async fn count_mail(&self, status: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(COUNT_BY_STATUS.text(self.backend))
            .bind(status)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
