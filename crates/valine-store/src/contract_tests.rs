//! The store's contract, run on SQLite always and on PostgreSQL when `TEST_DATABASE_URL`
//! is set (CI sets it; a set but unreachable database fails the run, it never skips).

use crate::testing::{postgres_store, sqlite_store};
use crate::users::NewUser;
use crate::{Backend, Store, StoreError};

/// Every backend under test. The `TempDir` keeps the SQLite file alive.
pub(crate) async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    let (sqlite, dir) = sqlite_store().await.expect("sqlite store");
    out.push((sqlite, Some(dir)));
    if let Some(pg) = postgres_store()
        .await
        .expect("TEST_DATABASE_URL is set but PostgreSQL is not usable")
    {
        out.push((pg, None));
    }
    out
}

#[tokio::test]
async fn every_statement_prepares_on_every_backend() {
    for (store, _dir) in stores().await {
        let failures = store.prepare_all().await;
        assert!(
            failures.is_empty(),
            "{:?}: statements that do not prepare: {failures:#?}",
            store.backend()
        );
        assert!(crate::sql::all_statements().len() >= 5);
    }
}

#[tokio::test]
async fn every_migration_round_trips() {
    for (store, _dir) in stores().await {
        let full = store.schema_fingerprint().await.unwrap();
        assert!(full.iter().any(|l| l.contains("users")), "{full:?}");
        let versions: Vec<i64> = store
            .migrate_status()
            .await
            .unwrap()
            .iter()
            .map(|m| m.version)
            .collect();
        assert!(!versions.is_empty());
        // Versions that exist on this backend only to keep both sets aligned (a tuning
        // that has no equivalent here): nothing but comments and `SELECT 1`.
        let noop: Vec<i64> = store
            .migrator()
            .iter()
            .filter(|m| {
                m.migration_type.is_up_migration()
                    && m.sql
                        .as_str()
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with("--"))
                        .all(|l| l == "SELECT 1;")
            })
            .map(|m| m.version)
            .collect();
        // Take each migration down and up again, newest first, one at a time: the schema
        // below it must be what it was, and re-applying it must restore the full schema.
        for steps in 1..=versions.len() {
            let before = store.schema_fingerprint().await.unwrap();
            let reverted = store.migrate_down(steps).await.unwrap();
            assert_eq!(reverted.len(), steps);
            let lowered = store.schema_fingerprint().await.unwrap();
            if !reverted.iter().all(|v| noop.contains(v)) {
                assert_ne!(before, lowered, "down {steps} changed nothing");
            }
            store.migrate_up().await.unwrap();
            assert_eq!(
                store.schema_fingerprint().await.unwrap(),
                full,
                "{:?}: schema differs after down {steps} + up",
                store.backend()
            );
        }
        // All the way down leaves nothing of ours behind.
        store.migrate_down(versions.len()).await.unwrap();
        let empty = store.schema_fingerprint().await.unwrap();
        assert!(empty.is_empty(), "{:?} left: {empty:?}", store.backend());
        assert!(
            store
                .migrate_status()
                .await
                .unwrap()
                .iter()
                .all(|m| !m.applied)
        );
        store.migrate_up().await.unwrap();
        assert_eq!(store.schema_fingerprint().await.unwrap(), full);
    }
}

fn new_user<'a>(id: &'a str, email: &'a str, username: &'a str) -> NewUser<'a> {
    NewUser {
        id,
        username,
        normalized_username: username,
        email,
        normalized_email: email,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        display_name: "Test User",
        role: "user",
        now: 1_700_000_000_000,
    }
}

#[tokio::test]
async fn duplicate_email_or_username_is_a_named_conflict() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_write().await.unwrap();
        store
            .insert_user(&mut tx, &new_user("u1", "a@example.com", "alice"))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        for (id, email, name, constraint) in [
            ("u2", "a@example.com", "bob", "users_normalized_email_key"),
            (
                "u3",
                "c@example.com",
                "alice",
                "users_normalized_username_key",
            ),
        ] {
            let mut tx = store.begin_write().await.unwrap();
            let err = store
                .insert_user(&mut tx, &new_user(id, email, name))
                .await
                .unwrap_err();
            match err {
                StoreError::Conflict { constraint: c } => {
                    assert_eq!(c, constraint, "{:?}", store.backend())
                }
                other => panic!("{:?}: expected conflict, got {other:?}", store.backend()),
            }
        }
        assert_eq!(store.count_users().await.unwrap(), 1);
        let found = store.user_by_login("alice").await.unwrap().unwrap();
        assert_eq!(found.id, "u1");
        let found = store.user_by_login("a@example.com").await.unwrap().unwrap();
        assert_eq!(found.username, "alice");
        assert!(!found.email_verified());
        assert!(store.user_by_login("nobody").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn backend_is_chosen_by_scheme() {
    assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
    assert_eq!(
        Backend::from_url("postgres://h/db").unwrap(),
        Backend::Postgres
    );
    assert_eq!(
        Backend::from_url("postgresql://h/db").unwrap(),
        Backend::Postgres
    );
    assert!(Backend::from_url("mysql://h/db").is_err());
}
