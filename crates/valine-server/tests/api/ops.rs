//! Operational endpoints, OpenAPI completeness, request ids, headers, shutdown.

use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::support::{Db, Spawn, TestApp, assert_error, backends};

#[tokio::test]
async fn health_ready_and_metrics_answer_on_every_backend() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let health: serde_json::Value = app.get("/health").await.json().await.unwrap();
        assert_eq!(health["status"], "ok");
        assert!(health["version"].is_string());
        assert_eq!(app.get("/ready").await.status(), 200, "{db:?}");
        app.get("/health").await;
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(
            metrics.contains(r#"http_requests_total{method="GET",route="/health",status="200"} 2"#),
            "{metrics}"
        );
        assert!(metrics.contains("http_request_duration_seconds_bucket"));
    }
}

#[tokio::test]
async fn ready_is_503_when_the_database_does_not_answer() {
    let app = TestApp::sqlite().await;
    assert_eq!(app.get("/ready").await.status(), 200);
    app.state.store.close().await;
    let resp = app.get("/ready").await;
    assert_eq!(resp.status(), 503);
    // Liveness does no I/O and stays up.
    assert_eq!(app.get("/health").await.status(), 200);
}

#[tokio::test]
async fn metrics_use_route_templates_and_count_unknown_routes_once() {
    let app = TestApp::sqlite().await;
    app.get("/no/such/thing/123").await;
    app.get("/no/such/thing/456").await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 2"#),
        "{metrics}"
    );
    assert!(!metrics.contains("/no/such/thing"));
}

/// Every operation of the OpenAPI document is a real route (not the 404 fallback), and the
/// document is OpenAPI 3.1. Routes are registered through utoipa-axum's `routes!`, which
/// is the only way into the router (see routes/mod.rs), so the other direction holds by
/// construction; this test catches a documented path that the router does not serve.
#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::sqlite().await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for required in ["/health", "/ready", "/metrics", "/openapi.json"] {
        assert!(
            paths.contains_key(required),
            "{required} missing from OpenAPI"
        );
    }
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = app
                .client
                .request(m, app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap_or_default();
            assert!(
                !(status == 404 && body.contains("No route for")),
                "{method} {path} is documented but not routed"
            );
            assert_ne!(
                status, 405,
                "{method} {path} documented with the wrong method"
            );
        }
    }
}

#[tokio::test]
async fn request_ids_are_propagated_or_generated() {
    let app = TestApp::sqlite().await;
    let resp = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    // A hostile id (spaces, too long) is replaced, not echoed.
    let resp = app
        .client
        .get(app.url("/nope"))
        .header("x-request-id", "a b\tc")
        .send()
        .await
        .unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(id, "a b\tc");
    let body = assert_error(resp, 404, "NOT_FOUND").await;
    assert_eq!(body["requestId"], id);
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let app = TestApp::sqlite().await;
    for path in ["/health", "/nope", "/metrics"] {
        let resp = app.get(path).await;
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(
            h.get("strict-transport-security").is_none(),
            "HSTS only in production"
        );
    }
    // Non-JSON responses get a restrictive CSP.
    let resp = app.get("/metrics").await;
    assert!(
        resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
}

#[tokio::test]
async fn production_sends_hsts() {
    let app = Spawn::new(Db::Sqlite)
        .var("APP_ENV", "production")
        .var("JWT_SECRET", "an-adequately-long-production-secret-value")
        .var("DATA_ENCRYPTION_KEY", &"11".repeat(32))
        .var("LOG_FORMAT", "pretty")
        .var("ARGON2_MEMORY_KIB", "19456")
        .var("ARGON2_ITERATIONS", "2")
        .start()
        .await;
    let resp = app.get("/health").await;
    assert!(resp.headers().get("strict-transport-security").is_some());
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins_with_credentials() {
    let app = TestApp::sqlite().await;
    let ok = app
        .client
        .get(app.url("/health"))
        .header("origin", "http://app.test")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://app.test"
    );
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    let evil = app
        .client
        .get(app.url("/health"))
        .header("origin", "http://evil.test")
        .send()
        .await
        .unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn graceful_shutdown_lets_in_flight_requests_finish() {
    let slow = Router::new().route(
        "/test/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            "done"
        }),
    );
    let mut app = Spawn::new(Db::Sqlite).routes(slow).start().await;
    let client = app.client.clone();
    let url = app.url("/test/slow");
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.begin_shutdown();
    let resp = in_flight.await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "done");
    // The server then stops accepting.
    let server = app.server.take().unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(reqwest::get(app.url("/health")).await.is_err());
}
