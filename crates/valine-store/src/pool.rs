//! Connecting: one pool over the `Any` driver, tuned per backend.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::StoreError;
use crate::sql::Sql;

crate::statements! {
    PING = Sql::both("SELECT 1");
}

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names, by scheme.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The database handle every part of Valine shares. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// PostgreSQL only: a small native pool for bulk paths the `Any` driver cannot express
    /// (`COPY`, array binds for `UNNEST`). Connects lazily, on first use.
    pub(crate) pg: Option<PgPool>,
}

/// Pool and connection tuning; defaults suit a small server.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

impl Store {
    /// Connects to `url` (`sqlite://path` or `postgres://…`). A SQLite file (and its
    /// directory) is created when missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    pub async fn connect_with(url: &str, opts: ConnectOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let connect = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.acquire_timeout)
            // sqlx pings every connection on acquire by default: for SQLite that is an extra
            // round trip to the connection's worker thread on every query (a quarter of
            // `/auth/me`'s time went to such hand-offs). A dead PostgreSQL connection now
            // surfaces as one failed query, after which the pool replaces it.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; busy_timeout makes a
                        // second writer wait instead of failing at once; NORMAL is durable
                        // at every checkpoint under WAL and much faster than FULL. A 64 MiB
                        // page cache and memory-mapped reads keep CI-scale aggregate
                        // queries (flaky candidates over 10^6 results) off the disk path.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                             PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; \
                             PRAGMA temp_store = MEMORY;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(
                PgPoolOptions::new()
                    // Bulk ingestion is serialised by an advisory lock; a few connections
                    // cover concurrent requests queueing for it.
                    .max_connections(opts.max_connections.clamp(1, 4))
                    .acquire_timeout(opts.acquire_timeout)
                    .test_before_acquire(false)
                    .connect_lazy_with(PgConnectOptions::from_str(&url)?),
            ),
        };
        Ok(Store { pool, backend, pg })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Cheap liveness probe for `/ready`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(PING.text(self.backend))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Begins a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so that two read-then-write transactions cannot deadlock on
    /// lock upgrade; `busy_timeout` then queues writers.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// Prepares every statement the store uses, reporting the ones the database refuses.
    /// Used by tests on both backends in place of compile-time query checking.
    pub async fn prepare_all(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let Ok(mut conn) = self.pool.acquire().await else {
            return vec!["could not acquire a connection".to_string()];
        };
        for (module, name, sql) in crate::sql::all_statements() {
            if let Err(err) = conn
                .prepare(sqlx::SqlSafeStr::into_sql_str(sql.text(self.backend)))
                .await
            {
                failures.push(format!("{module}::{name}: {err}"));
            }
        }
        if let Some(pg) = &self.pg {
            let Ok(mut conn) = pg.acquire().await else {
                failures.push("could not acquire a native PostgreSQL connection".to_string());
                return failures;
            };
            for (name, sql) in crate::test_results::PG_NATIVE {
                if let Err(err) = conn.prepare(sqlx::SqlSafeStr::into_sql_str(*sql)).await {
                    failures.push(format!("test_results::{name}: {err}"));
                }
            }
        }
        failures
    }

    /// Closes the pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(pg) = &self.pg {
            pg.close().await;
        }
    }
}

/// Normalises a SQLite URL so the file is created on first run (`mode=rwc`), and creates
/// its parent directory.
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or(StoreError::UnsupportedUrl)?;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let parent = std::path::Path::new(path).parent();
    if let Some(parent) = parent.filter(|p| path != ":memory:" && !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::Database(sqlx::Error::Configuration(
                format!("cannot create {}: {e}", parent.display()).into(),
            ))
        })?;
    }
    let query = match query {
        Some(q) if q.contains("mode=") => q.to_string(),
        Some(q) => format!("{q}&mode=rwc"),
        None => "mode=rwc".to_string(),
    };
    Ok(format!("sqlite://{path}?{query}"))
}
