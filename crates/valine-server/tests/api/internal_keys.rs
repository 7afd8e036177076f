//! API keys on `/internal/*` (SPEC §9): 401 without a valid key, 403 without the scope,
//! `all` grants everything, revocation is immediate, lastUsedAt and the audit trail.

use std::time::Duration;

use reqwest::Method;
use valine_server::internal::api_keys::{
    ApiKeyError, KEY_PREFIX, Scope, create_api_key, list_api_keys, revoke_api_key,
};

use crate::support::{Spawn, TestApp, assert_error, backends, raw_client};

/// Creates a key through the same domain function `valine api-key create` calls.
pub async fn api_key(app: &TestApp, scopes: &[&str]) -> String {
    let scopes: Vec<Scope> = scopes.iter().map(|s| s.parse().unwrap()).collect();
    create_api_key(&app.state.store, "test-key", &scopes, "test")
        .await
        .unwrap()
        .key
}

pub fn with_key(app: &TestApp, method: Method, path: &str, key: &str) -> reqwest::RequestBuilder {
    raw_client().request(method, app.url(path)).bearer_auth(key)
}

const READ_ROUTES: [(&str, &str); 4] = [
    ("/internal/pr-intel", "pr-intel:read"),
    ("/internal/pr-intel/1", "pr-intel:read"),
    ("/internal/tests/flaky-candidates", "tests:read"),
    ("/internal/tests/history?suite=s&testName=t", "tests:read"),
];

#[tokio::test]
async fn internal_routes_need_a_valid_key_with_the_route_scope() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let tests_read = api_key(&app, &["tests:read"]).await;
        let pr_read = api_key(&app, &["pr-intel:read"]).await;
        let pr_write = api_key(&app, &["pr-intel:write"]).await;
        let all = api_key(&app, &["all"]).await;
        for (path, scope) in READ_ROUTES
            .iter()
            .chain([("/internal/stats", "all")].iter())
        {
            let resp = raw_client().get(app.url(path)).send().await.unwrap();
            assert_error(resp, 401, "UNAUTHORIZED").await;
            let resp = with_key(&app, Method::GET, path, "vk_not-a-real-key")
                .send()
                .await
                .unwrap();
            assert_error(resp, 401, "UNAUTHORIZED").await;
            // A user's JWT or a non-bearer scheme is not an API key either.
            let resp = raw_client()
                .get(app.url(path))
                .header("authorization", format!("Basic {all}"))
                .send()
                .await
                .unwrap();
            assert_error(resp, 401, "UNAUTHORIZED").await;

            let wrong = if *scope == "tests:read" {
                &pr_read
            } else {
                &tests_read
            };
            let resp = with_key(&app, Method::GET, path, wrong)
                .send()
                .await
                .unwrap();
            assert_error(resp, 403, "FORBIDDEN").await;

            let resp = with_key(&app, Method::GET, path, &all)
                .send()
                .await
                .unwrap();
            // `all` gets past authorisation (an unknown PR is a plain 404).
            assert!(
                [200, 404].contains(&resp.status().as_u16()),
                "{path}: {}",
                resp.status()
            );
            if *path == "/internal/pr-intel/1" {
                assert_error(resp, 404, "NOT_FOUND").await;
            }
        }
        // Write does not grant read.
        let resp = with_key(&app, Method::GET, "/internal/pr-intel", &pr_write)
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "FORBIDDEN").await;
        let resp = with_key(&app, Method::GET, "/internal/pr-intel", &pr_read)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        // tests:read cannot ingest.
        let resp = with_key(&app, Method::POST, "/internal/tests/ingest", &tests_read)
            .json(&serde_json::json!({"tests": [{"suite": "s", "testName": "t", "status": "passed", "durationMs": 1}]}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 403, "FORBIDDEN").await;
    }
}

#[tokio::test]
async fn cli_lifecycle_create_list_revoke_and_last_used() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let store = &app.state.store;
        let created = create_api_key(
            store,
            "ci-uploader",
            &[Scope::TestsWrite, Scope::TestsRead],
            "cli",
        )
        .await
        .unwrap();
        assert!(created.key.starts_with(KEY_PREFIX));
        // 256 bits in base64url without padding is 43 characters.
        assert_eq!(created.key.len(), KEY_PREFIX.len() + 43);
        let listed = list_api_keys(store).await.unwrap();
        let row = listed.iter().find(|k| k.id == created.id).unwrap();
        assert_eq!(row.name, "ci-uploader");
        assert_eq!(row.scopes, "tests:write,tests:read");
        assert!(row.last_used_at.is_none());
        assert!(
            !format!("{listed:?}").contains(&created.key),
            "the key itself is never stored"
        );

        let resp = with_key(
            &app,
            Method::GET,
            "/internal/tests/flaky-candidates",
            &created.key,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(resp.status(), 200);
        // lastUsedAt is written off the request path.
        let mut used = None;
        for _ in 0..50 {
            used = list_api_keys(store)
                .await
                .unwrap()
                .into_iter()
                .find(|k| k.id == created.id)
                .and_then(|k| k.last_used_at);
            if used.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(used.is_some(), "lastUsedAt recorded");

        revoke_api_key(store, &created.id, "cli").await.unwrap();
        let resp = with_key(
            &app,
            Method::GET,
            "/internal/tests/flaky-candidates",
            &created.key,
        )
        .send()
        .await
        .unwrap();
        assert_error(resp, 401, "UNAUTHORIZED").await;
        assert!(matches!(
            revoke_api_key(store, "no-such-id", "cli").await,
            Err(ApiKeyError::NotFound(_))
        ));
        assert!(matches!(
            create_api_key(store, "  ", &[Scope::All], "cli").await,
            Err(ApiKeyError::InvalidName)
        ));
        assert!(matches!(
            create_api_key(store, "x", &[], "cli").await,
            Err(ApiKeyError::NoScopes)
        ));
        assert_eq!(store.count_events("api_key_created").await.unwrap(), 1);
        assert_eq!(store.count_events("api_key_revoked").await.unwrap(), 1);
    }
}
