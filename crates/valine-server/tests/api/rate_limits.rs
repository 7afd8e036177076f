//! Rate limits (SPEC §7): the seed's tiers, the per-account login throttle, trusted
//! proxies, and one budget shared through Redis by several instances.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Db, PASSWORD, Spawn, TestApp, assert_error, raw_client};

fn real_tiers(s: Spawn) -> Spawn {
    s.var("RATE_LIMIT_AUTH", "10/900")
        .var("RATE_LIMIT_WRITE", "100/3600")
        .var("RATE_LIMIT_READ", "1000/3600")
}

async fn login_from(
    app: &TestApp,
    login: &str,
    password: &str,
    xff: Option<&str>,
) -> reqwest::Response {
    let mut req = raw_client()
        .post(app.url("/auth/login"))
        .json(&json!({ "email": login, "password": password }));
    if let Some(ip) = xff {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn eleventh_login_from_one_ip_is_429_and_forged_forwarding_does_not_help() {
    let app = real_tiers(Spawn::new(Db::Sqlite)).start().await;
    app.register("iplimited").await; // register is its own route budget
    for i in 0..10 {
        let resp = login_from(&app, "iplimited", PASSWORD, None).await;
        assert_eq!(resp.status(), 200, "login {i}");
        assert_eq!(resp.headers()["x-ratelimit-limit"], "10");
        assert_eq!(
            resp.headers()["x-ratelimit-remaining"].to_str().unwrap(),
            (9 - i).to_string()
        );
        assert!(resp.headers().contains_key("x-ratelimit-reset"));
    }
    let resp = login_from(&app, "iplimited", PASSWORD, None).await;
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900);
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    let body = assert_error(resp, 429, "RATE_LIMITED").await;
    assert!(body["retryAfter"].as_u64().unwrap() > 0);
    // The peer is not a trusted proxy: a forged X-Forwarded-For changes nothing.
    let forged = login_from(&app, "iplimited", PASSWORD, Some("198.51.100.23")).await;
    assert_error(forged, 429, "RATE_LIMITED").await;
    // Health checks are never limited.
    assert_eq!(app.get("/health").await.status(), 200);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("rate_limit_hits_total{type=\"auth\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_trusted_proxy_selects_the_client_from_forwarded_for() {
    let app = real_tiers(Spawn::new(Db::Sqlite))
        .var("TRUSTED_PROXIES", "127.0.0.1/32,::1/128")
        .start()
        .await;
    app.register("proxied").await;
    for _ in 0..10 {
        assert_eq!(
            login_from(&app, "proxied", PASSWORD, Some("203.0.113.5"))
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        login_from(&app, "proxied", PASSWORD, Some("203.0.113.5"))
            .await
            .status(),
        429
    );
    // Another client behind the same proxy has its own budget.
    assert_eq!(
        login_from(&app, "proxied", PASSWORD, Some("203.0.113.6"))
            .await
            .status(),
        200
    );
    // The client wrote the leftmost entry itself; the proxy appended the real address.
    assert_eq!(
        login_from(&app, "proxied", PASSWORD, Some("203.0.113.6, 203.0.113.5"))
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn per_account_throttle_holds_when_the_attacker_rotates_ips() {
    let app = real_tiers(Spawn::new(Db::Sqlite))
        .var("TRUSTED_PROXIES", "127.0.0.1/32,::1/128")
        .start()
        .await;
    app.register("victim").await;
    for i in 0..10 {
        let ip = format!("192.0.2.{}", i + 1);
        let resp = login_from(&app, "victim", "wrong-password-x", Some(&ip)).await;
        assert_error(resp, 401, "INVALID_CREDENTIALS").await;
    }
    // Even the right password from a fresh IP is refused until the window passes.
    let resp = login_from(&app, "victim", PASSWORD, Some("192.0.2.200")).await;
    assert_error(resp, 429, "RATE_LIMITED").await;
    // The account throttle is a security control: it stays on with the tiers off.
    let off = Spawn::new(Db::Sqlite)
        .var("RATE_LIMITING_ENABLED", "false")
        .start()
        .await;
    off.register("victim2").await;
    for _ in 0..10 {
        login_from(&off, "victim2", "wrong-password-x", None).await;
    }
    assert_eq!(
        login_from(&off, "victim2", PASSWORD, None).await.status(),
        429
    );
    // A success resets the consecutive-failure count.
    let app3 = Spawn::new(Db::Sqlite).start().await;
    app3.register("forgetful2").await;
    for _ in 0..9 {
        login_from(&app3, "forgetful2", "wrong-password-x", None).await;
    }
    assert_eq!(
        login_from(&app3, "forgetful2", PASSWORD, None)
            .await
            .status(),
        200
    );
    for _ in 0..9 {
        login_from(&app3, "forgetful2", "wrong-password-x", None).await;
    }
    assert_eq!(
        login_from(&app3, "forgetful2", PASSWORD, None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn write_and_read_tiers_count_per_user() {
    let app = Spawn::new(Db::Sqlite)
        .var("RATE_LIMIT_WRITE", "3/3600")
        .var("RATE_LIMIT_READ", "5/3600")
        .start()
        .await;
    let a = app.register("tiered_a").await;
    let b = app.register("tiered_b").await;
    for _ in 0..5 {
        assert_eq!(app.me_status(&a).await, 200);
    }
    assert_eq!(app.me_status(&a).await, 429);
    assert_eq!(app.me_status(&b).await, 200, "per user, not per shared IP");
    for _ in 0..3 {
        let r = app
            .as_bearer(reqwest::Method::POST, "/auth/logout-all", &b)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = app
        .as_bearer(reqwest::Method::POST, "/auth/logout-all", &b)
        .send()
        .await
        .unwrap();
    assert_error(r, 429, "RATE_LIMITED").await;
}

/// Two instances sharing one Redis (and, in CI, one PostgreSQL) share one budget.
#[tokio::test]
async fn two_instances_share_one_budget_through_redis() {
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_default();
    if redis.is_empty() {
        // Runs whenever TEST_REDIS_URL is set; .ci/run sets it and fails if Redis is down.
        assert!(std::env::var("CI").is_err(), "CI must set TEST_REDIS_URL");
        eprintln!("TEST_REDIS_URL not set: skipping the shared-Redis test");
        return;
    }
    let prefix = format!("valine:test:{}:", valine_store::new_id());
    let dir = tempfile::tempdir().unwrap();
    let db = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) => valine_store::testing::fresh_postgres_url(&admin)
            .await
            .unwrap(),
        Err(_) => format!("sqlite://{}/shared.db", dir.path().display()),
    };
    let shared = |s: Spawn| {
        real_tiers(s)
            .var("REDIS_URL", &redis)
            .var("REDIS_KEY_PREFIX", &prefix)
            .var("DATABASE_URL", &db)
            .var("JWT_SECRET", "shared-secret-for-both-instances-0123456789")
            .var("DATA_ENCRYPTION_KEY", &"22".repeat(32))
    };
    let one = shared(Spawn::new(Db::Sqlite)).start().await;
    let two = shared(Spawn::new(Db::Sqlite)).start().await;
    one.register("shared_user").await;
    assert_eq!(two.get("/ready").await.status(), 200);
    for i in 0..10 {
        let app = if i % 2 == 0 { &one } else { &two };
        assert_eq!(
            login_from(app, "shared_user", PASSWORD, None)
                .await
                .status(),
            200,
            "login {i}"
        );
    }
    assert_error(
        login_from(&one, "shared_user", PASSWORD, None).await,
        429,
        "RATE_LIMITED",
    )
    .await;
    assert_error(
        login_from(&two, "shared_user", PASSWORD, None).await,
        429,
        "RATE_LIMITED",
    )
    .await;
    let metrics = one.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("rate_limit_store_fallbacks_total 0"),
        "Redis answered"
    );
}

struct RedisServer(Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn redis_stopping_mid_test_falls_back_and_keeps_serving() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (the machine's Redis package) must be installed");
    let mut server = RedisServer(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let app = real_tiers(Spawn::new(Db::Sqlite))
        .var("REDIS_URL", &format!("redis://127.0.0.1:{port}"))
        .start()
        .await;
    let s = app.register("resilient").await;
    assert_eq!(app.get("/ready").await.status(), 200);
    assert_eq!(app.me_status(&s).await, 200);
    let _ = server.0.kill();
    let _ = server.0.wait();
    for _ in 0..5 {
        assert_eq!(app.me_status(&s).await, 200, "served without Redis");
    }
    assert_eq!(
        app.get("/ready").await.status(),
        503,
        "readiness reports the dead Redis"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let fallbacks: u64 = metrics
        .lines()
        .find(|l| l.starts_with("rate_limit_store_fallbacks_total"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(fallbacks >= 1, "{metrics}");
}
