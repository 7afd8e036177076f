//! Helpers for tests (this crate's and the server's): throwaway databases.

use sqlx::Connection;

use crate::{Store, StoreError};

/// Creates an empty, uniquely named PostgreSQL database next to the one `admin_url` names
/// and returns its URL. Databases left by earlier runs (older than an hour) are dropped, so
/// a crashed test run cannot fill the server.
pub async fn fresh_postgres_url(admin_url: &str) -> Result<String, StoreError> {
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(admin_url).await?;
    let now_s = crate::now_ms() / 1000;
    let stale: Vec<(String,)> =
        sqlx::query_as("SELECT datname::text FROM pg_database WHERE datname LIKE 'valine_t_%'")
            .fetch_all(&mut admin)
            .await?;
    for (name,) in stale {
        let born = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0);
        if now_s - born > 3600 {
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await;
        }
    }
    let name = format!(
        "valine_t_{now_s}_{}",
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..12)
            .unwrap_or("x")
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(replace_database(admin_url, &name))
}

/// `postgres://u@h:5432/test?x=y` with database `name` instead of `test`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_part_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A migrated store on a new temporary SQLite file. Keep the `TempDir` alive.
pub async fn sqlite_store() -> Result<(Store, tempfile::TempDir), StoreError> {
    let dir = tempfile::tempdir()
        .map_err(|e| StoreError::Database(sqlx::Error::Configuration(e.to_string().into())))?;
    let url = format!("sqlite://{}/test.db", dir.path().display());
    let store = Store::connect(&url).await?;
    store.migrate_up().await?;
    Ok((store, dir))
}

/// A migrated store on a fresh PostgreSQL database, when `TEST_DATABASE_URL` is set.
pub async fn postgres_store() -> Result<Option<Store>, StoreError> {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        return Ok(None);
    };
    let url = fresh_postgres_url(&admin).await?;
    let store = Store::connect(&url).await?;
    store.migrate_up().await?;
    Ok(Some(store))
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://u:p@h/test?sslmode=disable", "y"),
            "postgres://u:p@h/y?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://h", "z"),
            "postgres://h/z"
        );
    }
}
