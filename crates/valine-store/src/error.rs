//! The store's one error type: callers match on meaning, never on driver text.

/// What went wrong in the store, in terms the domain can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint rejected the write; the name is the constraint's, identical on
    /// both backends (see the migrations), so callers can map it to a field.
    #[error("unique constraint violated: {constraint}")]
    Conflict { constraint: String },
    /// The row the operation needed does not exist.
    #[error("not found")]
    NotFound,
    /// The database URL is not one this build understands.
    #[error("unsupported database url scheme (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// Migration bookkeeping failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Anything else from the driver; logged with the request id, never shown to clients.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
                constraint: constraint_name(db.as_ref()),
            },
            _ => StoreError::Database(err),
        }
    }
}

/// PostgreSQL reports the constraint name directly; SQLite only names the columns
/// ("UNIQUE constraint failed: users.normalized_email"), so for SQLite the unique indexes
/// are named `<table>_<column>_key` exactly like PostgreSQL's defaults and we rebuild the
/// name from the message.
fn constraint_name(db: &dyn sqlx::error::DatabaseError) -> String {
    if let Some(name) = db.constraint() {
        return name.to_string();
    }
    let message = db.message();
    match message.split_once("UNIQUE constraint failed: ") {
        Some((_, cols)) => {
            let mut table = "";
            let mut columns = Vec::new();
            for part in cols.split(',') {
                if let Some((t, c)) = part.trim().split_once('.') {
                    table = t;
                    columns.push(c);
                }
            }
            format!("{table}_{}_key", columns.join("_"))
        }
        None => "unknown".to_string(),
    }
}
