//! SQL text per backend, declared once so a test can prepare every statement on both.

use crate::Backend;

/// One statement, spelled for each backend. Most are identical (`Sql::both`).
#[derive(Debug, Clone, Copy)]
pub struct Sql {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Sql {
    /// The same text works on both backends.
    pub const fn both(text: &'static str) -> Self {
        Sql {
            sqlite: text,
            postgres: text,
        }
    }

    /// Dialects differ; give each its own spelling.
    pub const fn split(sqlite: &'static str, postgres: &'static str) -> Self {
        Sql { sqlite, postgres }
    }

    /// The text for `backend`.
    pub const fn text(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

/// Declares a module's statements as constants plus an `ALL` list of them, so adding a
/// statement automatically adds it to the prepare-everything test.
#[macro_export]
macro_rules! statements {
    ($( $(#[$meta:meta])* $name:ident = $sql:expr; )*) => {
        $( $(#[$meta])* pub(crate) const $name: $crate::sql::Sql = $sql; )*
        /// Every statement of this module, by name.
        pub(crate) const ALL: &[(&str, $crate::sql::Sql)] = &[ $( (stringify!($name), $name) ),* ];
    };
}

/// Every statement of the store, by module and name.
pub fn all_statements() -> Vec<(&'static str, &'static str, Sql)> {
    let mut out = Vec::new();
    for (module, list) in [
        ("users", crate::users::ALL),
        ("pool", crate::pool::ALL),
        ("sessions", crate::sessions::ALL),
        ("security_events", crate::security_events::ALL),
        ("api_keys", crate::api_keys::ALL),
        ("pr_intel", crate::pr_intel::ALL),
        ("test_results", crate::test_results::ALL),
        ("email_tokens", crate::email_tokens::ALL),
        ("outbox", crate::outbox::ALL),
        ("two_factor", crate::two_factor::ALL),
        ("journey_runs", crate::journey_runs::ALL),
        ("profiles", crate::profiles::ALL),
        ("media", crate::media::ALL),
    ] {
        for (name, sql) in list {
            out.push((module, *name, *sql));
        }
    }
    out
}
