//! The `media` table: portfolio media rows (the bytes live in object storage; `object_key`
//! names them).

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Store, StoreError};

crate::statements! {
    INSERT = Sql::both(
        "INSERT INTO media (id, profile_id, user_id, media_type, title, description, privacy, \
         content_type, file_size, processed_status, object_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $11)",
    );
    BY_ID = Sql::both(concat!("SELECT ", media_columns!(), " FROM media WHERE id = $1"));
    BY_PROFILE = Sql::both(concat!(
        "SELECT ", media_columns!(),
        " FROM media WHERE profile_id = $1 ORDER BY created_at DESC, id DESC"
    ));
    BY_USER = Sql::both(concat!(
        "SELECT ", media_columns!(),
        " FROM media WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
    ));
    KEYS_BY_USER = Sql::both("SELECT object_key FROM media WHERE user_id = $1 ORDER BY id");
    UPDATE_META = Sql::both(
        "UPDATE media SET title = $2, description = $3, privacy = $4, updated_at = $5 \
         WHERE id = $1",
    );
    /// Moves a pending row to its final state; only the first finisher wins.
    FINISH = Sql::both(
        "UPDATE media SET processed_status = $2, file_size = $3, width = $4, height = $5, \
         failure_reason = $6, updated_at = $7 WHERE id = $1 AND processed_status = 'pending'",
    );
    DELETE = Sql::both("DELETE FROM media WHERE id = $1 AND user_id = $2");
}

macro_rules! media_columns {
    () => {
        "id, profile_id, user_id, media_type, title, description, privacy, content_type, \
         file_size, width, height, processed_status, failure_reason, object_key, created_at, \
         updated_at"
    };
}
use media_columns;

/// A stored media row. Enumerations are text; the server owns their vocabulary.
#[derive(Debug, Clone, FromRow)]
pub struct MediaRow {
    pub id: String,
    pub profile_id: String,
    pub user_id: String,
    pub media_type: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub privacy: String,
    pub content_type: String,
    pub file_size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub processed_status: String,
    pub failure_reason: Option<String>,
    pub object_key: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new pending upload; the caller has validated every field.
#[derive(Debug, Clone)]
pub struct NewMedia<'a> {
    pub id: &'a str,
    pub profile_id: &'a str,
    pub user_id: &'a str,
    pub media_type: &'a str,
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub privacy: &'a str,
    pub content_type: &'a str,
    pub file_size: i64,
    pub object_key: &'a str,
    pub now: i64,
}

/// The outcome of processing an upload.
#[derive(Debug, Clone)]
pub struct MediaFinish<'a> {
    pub status: &'a str,
    pub file_size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub failure_reason: Option<&'a str>,
    pub now: i64,
}

impl Store {
    pub async fn insert_media(&self, m: &NewMedia<'_>) -> Result<(), StoreError> {
        sqlx::query(INSERT.text(self.backend))
            .bind(m.id)
            .bind(m.profile_id)
            .bind(m.user_id)
            .bind(m.media_type)
            .bind(m.title)
            .bind(m.description)
            .bind(m.privacy)
            .bind(m.content_type)
            .bind(m.file_size)
            .bind(m.object_key)
            .bind(m.now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn media_by_id(&self, id: &str) -> Result<Option<MediaRow>, StoreError> {
        Ok(sqlx::query_as(BY_ID.text(self.backend))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A profile's media, newest first.
    pub async fn media_by_profile(&self, profile_id: &str) -> Result<Vec<MediaRow>, StoreError> {
        Ok(sqlx::query_as(BY_PROFILE.text(self.backend))
            .bind(profile_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every media row of a user, newest first.
    pub async fn media_by_user(&self, user_id: &str) -> Result<Vec<MediaRow>, StoreError> {
        Ok(sqlx::query_as(BY_USER.text(self.backend))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The object keys of a user's media (collected before the rows cascade away).
    pub async fn media_keys_by_user(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(KEYS_BY_USER.text(self.backend))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(k,)| k).collect())
    }

    /// Rewrites the editable metadata (the caller merged the partial update). False if the
    /// row is gone.
    pub async fn update_media_meta(
        &self,
        id: &str,
        title: Option<&str>,
        description: Option<&str>,
        privacy: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(UPDATE_META.text(self.backend))
            .bind(id)
            .bind(title)
            .bind(description)
            .bind(privacy)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Records the processing outcome if the row is still pending. False when another
    /// request finished it first (or it is gone).
    pub async fn finish_media(&self, id: &str, f: &MediaFinish<'_>) -> Result<bool, StoreError> {
        let n = sqlx::query(FINISH.text(self.backend))
            .bind(id)
            .bind(f.status)
            .bind(f.file_size)
            .bind(f.width)
            .bind(f.height)
            .bind(f.failure_reason)
            .bind(f.now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Deletes a media row of `user_id`. False if there was none.
    pub async fn delete_media(&self, id: &str, user_id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query(DELETE.text(self.backend))
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }
}
