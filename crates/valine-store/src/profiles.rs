//! `profiles`, `profile_links`, the search document, and `user_settings`.

use sqlx::FromRow;

use crate::sql::Sql;
use crate::{Backend, Store, StoreError, Tx};

crate::statements! {
    INSERT = Sql::both(
        "INSERT INTO profiles (id, user_id, vanity_url, normalized_vanity, headline, title, bio, \
         roles, tags, location, social_links, privacy, visibility, roles_text, location_text, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
    );
    UPDATE = Sql::both(
        "UPDATE profiles SET vanity_url = $2, normalized_vanity = $3, headline = $4, title = $5, \
         bio = $6, roles = $7, tags = $8, location = $9, social_links = $10, privacy = $11, \
         visibility = $12, roles_text = $13, location_text = $14, updated_at = $15 WHERE id = $1",
    );
    BY_ID = Sql::both(concat!("SELECT ", profile_columns!(), " FROM profiles WHERE id = $1"));
    BY_USER = Sql::both(concat!("SELECT ", profile_columns!(), " FROM profiles WHERE user_id = $1"));
    BY_VANITY = Sql::both(concat!(
        "SELECT ", profile_columns!(), " FROM profiles WHERE normalized_vanity = $1"
    ));
    DELETE = Sql::both("DELETE FROM profiles WHERE id = $1 AND user_id = $2");
    DELETE_LINKS = Sql::both("DELETE FROM profile_links WHERE profile_id = $1");
    INSERT_LINK = Sql::both(
        "INSERT INTO profile_links (id, profile_id, position, label, url, link_type) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    );
    LINKS = Sql::both(
        "SELECT label, url, link_type FROM profile_links WHERE profile_id = $1 ORDER BY position",
    );
    DELETE_SEARCH = Sql::split(
        "DELETE FROM profile_search WHERE profile_id = $1",
        "UPDATE profiles SET search_vector = ''::tsvector WHERE id = $1",
    );
    INSERT_SEARCH = Sql::split(
        "INSERT INTO profile_search (profile_id, body) VALUES ($1, $2)",
        "UPDATE profiles SET search_vector = to_tsvector('simple', $2) WHERE id = $1",
    );
    /// Full-text search over public profiles, ranked, with optional role and location
    /// filters. $1 query (backend syntax), $2 role ('' for any), $3 location ('' for any),
    /// $4 limit, $5 offset.
    SEARCH_TEXT = Sql::split(
        concat!(
            "SELECT ", profile_columns_p!(), ", u.username AS u_username, \
             u.display_name AS u_display_name, u.avatar AS u_avatar \
             FROM profile_search s JOIN profiles p ON p.id = s.profile_id \
             JOIN users u ON u.id = p.user_id \
             WHERE profile_search MATCH $1 AND p.visibility = 'public' \
             AND ($2 = '' OR p.roles_text LIKE '%|' || $2 || '|%') \
             AND ($3 = '' OR p.location_text LIKE '%' || $3 || '%') \
             ORDER BY bm25(profile_search), p.id LIMIT $4 OFFSET $5"
        ),
        concat!(
            "SELECT ", profile_columns_p!(), ", u.username AS u_username, \
             u.display_name AS u_display_name, u.avatar AS u_avatar \
             FROM profiles p JOIN users u ON u.id = p.user_id \
             WHERE p.search_vector @@ to_tsquery('simple', $1) AND p.visibility = 'public' \
             AND ($2 = '' OR p.roles_text LIKE '%|' || $2 || '|%') \
             AND ($3 = '' OR p.location_text LIKE '%' || $3 || '%') \
             ORDER BY ts_rank(p.search_vector, to_tsquery('simple', $1)) DESC, p.id \
             LIMIT $4 OFFSET $5"
        ),
    );
    /// Filters only (no text): newest profiles first.
    SEARCH_FILTER = Sql::both(concat!(
        "SELECT ", profile_columns_p!(), ", u.username AS u_username, \
         u.display_name AS u_display_name, u.avatar AS u_avatar \
         FROM profiles p JOIN users u ON u.id = p.user_id \
         WHERE p.visibility = 'public' \
         AND ($1 = '' OR p.roles_text LIKE '%|' || $1 || '|%') \
         AND ($2 = '' OR p.location_text LIKE '%' || $2 || '%') \
         ORDER BY p.id DESC LIMIT $3 OFFSET $4"
    ));
    GET_SETTINGS = Sql::both(
        "SELECT notifications, account_security, privacy, updated_at FROM user_settings \
         WHERE user_id = $1",
    );
    UPSERT_SETTINGS = Sql::both(
        "INSERT INTO user_settings (user_id, notifications, account_security, privacy, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET \
         notifications = excluded.notifications, account_security = excluded.account_security, \
         privacy = excluded.privacy, updated_at = excluded.updated_at",
    );
    INSERT_SETTINGS_IF_MISSING = Sql::both(
        "INSERT INTO user_settings (user_id, notifications, account_security, privacy, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO NOTHING",
    );
    DELETE_USER = Sql::both("DELETE FROM users WHERE id = $1");
}

macro_rules! profile_columns {
    () => {
        "id, user_id, vanity_url, headline, title, bio, roles, tags, location, social_links, \
         privacy, visibility, created_at, updated_at"
    };
}
macro_rules! profile_columns_p {
    () => {
        "p.id, p.user_id, p.vanity_url, p.headline, p.title, p.bio, p.roles, p.tags, p.location, \
         p.social_links, p.privacy, p.visibility, p.created_at, p.updated_at"
    };
}
use {profile_columns, profile_columns_p};

/// A stored profile; JSON-valued fields are text (the server owns their shape).
#[derive(Debug, Clone, FromRow)]
pub struct ProfileRow {
    pub id: String,
    pub user_id: String,
    pub vanity_url: String,
    pub headline: Option<String>,
    pub title: Option<String>,
    pub bio: Option<String>,
    pub roles: String,
    pub tags: String,
    pub location: String,
    pub social_links: String,
    pub privacy: String,
    pub visibility: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A search hit: the profile and its owner's public fields.
#[derive(Debug, Clone, FromRow)]
pub struct SearchRow {
    #[sqlx(flatten)]
    pub profile: ProfileRow,
    pub u_username: String,
    pub u_display_name: String,
    pub u_avatar: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct LinkRow {
    pub label: String,
    pub url: String,
    pub link_type: String,
}

/// Everything written for a profile, already validated and serialised.
pub struct ProfileWrite<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub vanity_url: &'a str,
    pub normalized_vanity: &'a str,
    pub headline: Option<&'a str>,
    pub title: Option<&'a str>,
    pub bio: Option<&'a str>,
    pub roles: &'a str,
    pub tags: &'a str,
    pub location: &'a str,
    pub social_links: &'a str,
    pub privacy: &'a str,
    pub visibility: &'a str,
    pub roles_text: &'a str,
    pub location_text: &'a str,
    /// The full-text document (display name, username, vanity URL, headline, bio, tags).
    pub search_body: &'a str,
    pub now: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct SettingsRow {
    pub notifications: String,
    pub account_security: String,
    pub privacy: String,
    pub updated_at: i64,
}

/// Binds the profile columns `INSERT` and `UPDATE` share, in their order (after the id,
/// and for `INSERT` the user id).
fn bind_profile_fields<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    p: &ProfileWrite<'q>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(p.vanity_url)
        .bind(p.normalized_vanity)
        .bind(p.headline)
        .bind(p.title)
        .bind(p.bio)
        .bind(p.roles)
        .bind(p.tags)
        .bind(p.location)
        .bind(p.social_links)
        .bind(p.privacy)
        .bind(p.visibility)
        .bind(p.roles_text)
        .bind(p.location_text)
        .bind(p.now)
}

impl Store {
    /// Creates a profile with its search document; duplicate user or vanity URL is a
    /// `Conflict` naming the index.
    pub async fn insert_profile(&self, p: &ProfileWrite<'_>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let q = sqlx::query(INSERT.text(self.backend))
            .bind(p.id)
            .bind(p.user_id);
        bind_profile_fields(q, p).execute(&mut *tx).await?;
        self.write_search_tx(&mut tx, p.id, p.search_body).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rewrites a profile (partial updates are merged by the caller), its links when given,
    /// and its search document, in one transaction.
    pub async fn update_profile(
        &self,
        p: &ProfileWrite<'_>,
        links: Option<&[(String, String, String)]>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let q = sqlx::query(UPDATE.text(self.backend)).bind(p.id);
        bind_profile_fields(q, p).execute(&mut *tx).await?;
        if let Some(links) = links {
            sqlx::query(DELETE_LINKS.text(self.backend))
                .bind(p.id)
                .execute(&mut *tx)
                .await?;
            for (i, (label, url, kind)) in links.iter().enumerate() {
                sqlx::query(INSERT_LINK.text(self.backend))
                    .bind(crate::new_id())
                    .bind(p.id)
                    .bind(i64::try_from(i).unwrap_or(i64::MAX))
                    .bind(label)
                    .bind(url)
                    .bind(kind)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.write_search_tx(&mut tx, p.id, p.search_body).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn write_search_tx(&self, tx: &mut Tx, id: &str, body: &str) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query(DELETE_SEARCH.text(self.backend))
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        sqlx::query(INSERT_SEARCH.text(self.backend))
            .bind(id)
            .bind(body)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn profile_by_id(&self, id: &str) -> Result<Option<ProfileRow>, StoreError> {
        Ok(sqlx::query_as(BY_ID.text(self.backend))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn profile_by_user(&self, user_id: &str) -> Result<Option<ProfileRow>, StoreError> {
        Ok(sqlx::query_as(BY_USER.text(self.backend))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn profile_by_vanity(
        &self,
        normalized: &str,
    ) -> Result<Option<ProfileRow>, StoreError> {
        Ok(sqlx::query_as(BY_VANITY.text(self.backend))
            .bind(normalized)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn profile_links(&self, profile_id: &str) -> Result<Vec<LinkRow>, StoreError> {
        Ok(sqlx::query_as(LINKS.text(self.backend))
            .bind(profile_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Deletes a profile of `user_id` (links, media rows and the search document go with
    /// it). False if there was none.
    pub async fn delete_profile(&self, id: &str, user_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query(DELETE_SEARCH.text(self.backend))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let n = sqlx::query(DELETE.text(self.backend))
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Searches public profiles. `query` must already be in the backend's syntax (see the
    /// server's search module); empty strings mean "no filter".
    pub async fn search_profiles(
        &self,
        query: &str,
        role: &str,
        location: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<SearchRow>, StoreError> {
        let rows = if query.is_empty() {
            sqlx::query_as(SEARCH_FILTER.text(self.backend))
                .bind(role)
                .bind(location)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?
        } else {
            sqlx::query_as(SEARCH_TEXT.text(self.backend))
                .bind(query)
                .bind(role)
                .bind(location)
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await?
        };
        Ok(rows)
    }

    pub async fn settings(&self, user_id: &str) -> Result<Option<SettingsRow>, StoreError> {
        Ok(sqlx::query_as(GET_SETTINGS.text(self.backend))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stores settings; with `only_if_missing` an existing row wins (first read creates the
    /// defaults without racing a concurrent write).
    pub async fn save_settings(
        &self,
        user_id: &str,
        s: &SettingsRow,
        only_if_missing: bool,
    ) -> Result<(), StoreError> {
        let q = if only_if_missing {
            INSERT_SETTINGS_IF_MISSING
        } else {
            UPSERT_SETTINGS
        };
        sqlx::query(q.text(self.backend))
            .bind(user_id)
            .bind(&s.notifications)
            .bind(&s.account_security)
            .bind(&s.privacy)
            .bind(s.updated_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes an account and, by cascade, everything that belongs to it (sessions,
    /// tokens, profile, links, media rows, settings, 2FA state, its security events).
    pub async fn delete_user(
        &self,
        user_id: &str,
        profile_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if let (Backend::Sqlite, Some(pid)) = (self.backend, profile_id) {
            // The FTS table has no foreign keys.
            sqlx::query(DELETE_SEARCH.text(self.backend))
                .bind(pid)
                .execute(&mut *tx)
                .await?;
        }
        let n = sqlx::query(DELETE_USER.text(self.backend))
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }
}
