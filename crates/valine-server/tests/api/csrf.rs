//! CSRF (SPEC §6): one layer over the whole router, walked route by route from the
//! OpenAPI document so a new state-changing route cannot slip through.

use reqwest::Method;
use serde_json::json;

use crate::support::{TestApp, assert_error, is_state_changing, raw_client};
use valine_server::http::csrf::EXEMPT;

async fn code_of(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
    (status, body["code"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn every_state_changing_route_requires_the_token_with_a_cookie_session() {
    let app = TestApp::sqlite().await;
    let routes = app.documented_routes("x").await;
    let writes: Vec<_> = routes
        .iter()
        .filter(|(m, p, _)| is_state_changing(m) && !EXEMPT.contains(&p.as_str()))
        .collect();
    assert!(writes.len() >= 15, "walked {} routes", writes.len());
    for (method, path, concrete) in writes {
        // A fresh, verified session per route: some routes end the session they run in.
        let s = app.register_verified(&format!("c{}", uuid_short())).await;
        let cookie = s.cookie_header();
        // No header: refused.
        let resp = raw_client()
            .request(method.clone(), app.url(concrete))
            .header("cookie", &cookie)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(resp).await,
            (403, "CSRF_FAILED".into()),
            "{method} {path} without header"
        );
        // A token of another session: refused.
        let other = app.register_verified(&format!("o{}", uuid_short())).await;
        let resp = raw_client()
            .request(method.clone(), app.url(concrete))
            .header(
                "cookie",
                format!("access_token={}; XSRF-TOKEN={}", s.access, other.csrf),
            )
            .header("x-csrf-token", &other.csrf)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(resp).await,
            (403, "CSRF_FAILED".into()),
            "{method} {path} foreign token"
        );
        // Header and cookie disagree: refused.
        let resp = raw_client()
            .request(method.clone(), app.url(concrete))
            .header("cookie", &cookie)
            .header("x-csrf-token", &other.csrf)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            code_of(resp).await.1,
            "CSRF_FAILED",
            "{method} {path} mismatch"
        );
        // The right header: whatever the route answers, it is not a CSRF refusal.
        let resp = raw_client()
            .request(method.clone(), app.url(concrete))
            .header("cookie", &cookie)
            .header("x-csrf-token", &s.csrf)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_ne!(
            code_of(resp).await.1,
            "CSRF_FAILED",
            "{method} {path} with header"
        );
        // Bearer only, no cookie: exempt.
        let fresh = app
            .login(&s_username(&app, &s).await, crate::support::PASSWORD)
            .await;
        let resp = raw_client()
            .request(method.clone(), app.url(concrete))
            .bearer_auth(&fresh.access)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_ne!(
            code_of(resp).await.1,
            "CSRF_FAILED",
            "{method} {path} bearer"
        );
    }
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for reason in ["missing", "wrong_session", "mismatch"] {
        assert!(
            metrics.contains(&format!("csrf_rejections_total{{reason=\"{reason}\"}}")),
            "{reason}"
        );
    }
    assert!(metrics.contains("csrf_check_duration_seconds_count"));
}

async fn s_username(app: &TestApp, s: &crate::support::Session) -> String {
    app.state
        .store
        .user_by_id(&s.user_id)
        .await
        .unwrap()
        .unwrap()
        .username
}

fn uuid_short() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}_{}",
        std::process::id() % 10_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test]
async fn cross_site_origins_are_refused_even_without_a_session() {
    let app = TestApp::sqlite().await;
    let body = json!({"email": "x@example.com", "password": "whatever-123", "username": "xx_1", "displayName": "X"});
    for (name, headers) in [
        ("foreign origin", vec![("origin", "https://evil.test")]),
        ("null origin", vec![("origin", "null")]),
        ("cross-site fetch", vec![("sec-fetch-site", "cross-site")]),
    ] {
        for path in ["/auth/register", "/auth/login"] {
            let mut req = raw_client().post(app.url(path)).json(&body);
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            assert_error(req.send().await.unwrap(), 403, "CSRF_FAILED").await;
            let _ = name;
        }
    }
    // The allowed origin and same-site fetches pass.
    let ok = raw_client()
        .post(app.url("/auth/register"))
        .header("origin", "http://app.test")
        .header("sec-fetch-site", "same-site")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("csrf_rejections_total{reason=\"origin\"} 6"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_csrf_endpoint_issues_a_token_for_the_session() {
    let app = TestApp::sqlite().await;
    let s = app.register("csrf_getter").await;
    let resp = app
        .as_bearer(Method::GET, "/auth/csrf", &s)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = crate::support::set_cookies(&resp)["XSRF-TOKEN"].clone();
    let body: serde_json::Value = resp.json().await.unwrap();
    let token = body["csrfToken"].as_str().unwrap();
    assert_eq!(token, cookie);
    // The new token works for a cookie-authenticated write.
    let resp = raw_client()
        .post(app.url("/auth/logout-all"))
        .header(
            "cookie",
            format!("access_token={}; XSRF-TOKEN={token}", s.access),
        )
        .header("x-csrf-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn csrf_can_be_switched_off_but_origins_still_count() {
    let app = crate::support::Spawn::new(crate::support::Db::Sqlite)
        .var("CSRF_ENABLED", "false")
        .start()
        .await;
    let s = app.register("nocsrf").await;
    let resp = raw_client()
        .post(app.url("/auth/logout-all"))
        .header("cookie", s.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
