//! Accounts and sessions over real HTTP (SPEC §3), on every backend.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::support::{
    Db, PASSWORD, Spawn, TestApp, assert_error, backends, raw_client, set_cookies,
};

#[tokio::test]
async fn register_me_logout_and_login_with_other_casing() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let resp = raw_client()
            .post(app.url("/auth/register"))
            .json(
                &json!({"email": "  Ada.Lovelace@Example.com ", "password": PASSWORD,
                          "username": "Ada_L", "displayName": "Ada Lovelace"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{db:?}");
        let cookies: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert_eq!(cookies.len(), 3, "one Set-Cookie per cookie: {cookies:?}");
        let access = cookies
            .iter()
            .find(|c| c.starts_with("access_token="))
            .unwrap();
        assert!(
            access.contains("HttpOnly")
                && access.contains("SameSite=Lax")
                && access.contains("Path=/;")
        );
        assert!(access.contains("Max-Age=900"));
        let refresh = cookies
            .iter()
            .find(|c| c.starts_with("refresh_token="))
            .unwrap();
        assert!(
            refresh.contains("HttpOnly")
                && refresh.contains("SameSite=Strict")
                && refresh.contains("Path=/auth;")
        );
        let xsrf = cookies
            .iter()
            .find(|c| c.starts_with("XSRF-TOKEN="))
            .unwrap();
        assert!(
            !xsrf.contains("HttpOnly"),
            "scripts must read the CSRF cookie"
        );
        assert!(!access.contains("Secure"), "Secure only in production");

        let session = crate::support::Session::from_response(&resp, String::new());
        let body: serde_json::Value = resp.json().await.unwrap();
        let user = &body["user"];
        assert_eq!(user["email"], "Ada.Lovelace@Example.com");
        assert_eq!(user["username"], "Ada_L");
        assert_eq!(user["displayName"], "Ada Lovelace");
        assert_eq!(user["emailVerified"], false);
        assert_eq!(user["twoFactorEnabled"], false);
        assert_eq!(user["role"], "user");
        assert!(user.get("passwordHash").is_none() && !body.to_string().contains("argon2"));
        assert!(body["accessToken"].is_string());

        // me by cookie and by bearer
        let me = app
            .as_browser(Method::GET, "/auth/me", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        assert_eq!(app.me_status(&session).await, 200);

        // logout → the same access token is dead at once
        let out = app
            .as_browser(Method::POST, "/auth/logout", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 200);
        let cleared = set_cookies(&out);
        assert_eq!(cleared.len(), 3);
        assert!(cleared.values().all(String::is_empty));
        assert_eq!(app.me_status(&session).await, 401);
        // idempotent, even with no cookies at all
        let again = raw_client()
            .post(app.url("/auth/logout"))
            .header("origin", "http://app.test")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 200);

        // login with other casing, and by username
        let s2 = app.login("ADA.LOVELACE@example.COM", PASSWORD).await;
        assert_eq!(app.me_status(&s2).await, 200);
        let s3 = app.login("ada_l", PASSWORD).await;
        assert_eq!(app.me_status(&s3).await, 200);
    }
}

#[tokio::test]
async fn login_failures_are_indistinguishable() {
    let app = TestApp::sqlite().await;
    app.register("grace").await;
    let wrong = raw_client()
        .post(app.url("/auth/login"))
        .json(&json!({"email": "grace@example.com", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    let unknown = raw_client()
        .post(app.url("/auth/login"))
        .json(&json!({"email": "nobody@example.com", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    assert!(set_cookies(&wrong).is_empty());
    let a = assert_error(wrong, 401, "INVALID_CREDENTIALS").await;
    let b = assert_error(unknown, 401, "INVALID_CREDENTIALS").await;
    assert_eq!(a["error"], b["error"]);
}

#[tokio::test]
async fn registration_validation_reports_every_field() {
    let app = TestApp::sqlite().await;
    let resp = raw_client()
        .post(app.url("/auth/register"))
        .json(&json!({"email": "not-an-email", "password": "password1",
                      "username": "x", "displayName": ""}))
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
    for field in ["email", "password", "username", "displayName"] {
        assert!(body["details"][field].is_string(), "{field}: {body}");
    }
    // Password equal to the username.
    let resp = raw_client()
        .post(app.url("/auth/register"))
        .json(
            &json!({"email": "h@example.com", "password": "hedy_lamarr_1",
                      "username": "Hedy_Lamarr_1", "displayName": "Hedy"}),
        )
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
    assert!(body["details"]["password"].is_string());
    // Missing fields are named too.
    let resp = raw_client()
        .post(app.url("/auth/register"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
    assert!(body["details"]["email"].is_string());
}

#[tokio::test]
async fn duplicate_email_or_username_is_one_409() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        app.register("linus").await;
        let mut messages = Vec::new();
        for (email, username) in [("LINUS@example.com", "other"), ("new@example.com", "LINUS")] {
            let resp = raw_client()
                .post(app.url("/auth/register"))
                .json(
                    &json!({"email": email, "password": PASSWORD, "username": username,
                              "displayName": "L"}),
                )
                .send()
                .await
                .unwrap();
            messages.push(assert_error(resp, 409, "CONFLICT").await["error"].clone());
        }
        assert_eq!(messages[0], messages[1], "one message for both");
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_after_grace_kills_the_session() {
    for db in backends() {
        let app = Spawn::new(db)
            .var("REFRESH_REUSE_GRACE_SECONDS", "1")
            .start()
            .await;
        let s0 = app.register("rotator").await;
        let r1 = app.refresh_with(&s0).await;
        assert_eq!(r1.status(), 200);
        let s1 = crate::support::Session::from_response(&r1, s0.user_id.clone());
        let body: serde_json::Value = r1.json().await.unwrap();
        assert!(body["accessToken"].is_string() && body["expiresIn"] == 900);
        assert_ne!(s1.refresh, s0.refresh, "rotated");
        assert_eq!(s1.sid(), s0.sid(), "same session");

        // Inside the grace window the old token only fails; nothing is revoked.
        let racing = app.refresh_with(&s0).await;
        assert_error(racing, 401, "UNAUTHORIZED").await;
        assert_eq!(app.me_status(&s1).await, 200);

        tokio::time::sleep(Duration::from_millis(1300)).await;
        let reused = app.refresh_with(&s0).await;
        assert_eq!(
            set_cookies(&reused)
                .get("refresh_token")
                .map(String::as_str),
            Some("")
        );
        assert_error(reused, 401, "REFRESH_TOKEN_REUSED").await;
        // The newest refresh token and the session's access tokens are dead too.
        assert_eq!(app.me_status(&s1).await, 401, "{db:?}");
        assert_eq!(app.me_status(&s0).await, 401);
        assert_error(app.refresh_with(&s1).await, 401, "UNAUTHORIZED").await;

        // The event is in the user's trail.
        let s2 = app.login("rotator", PASSWORD).await;
        let events: serde_json::Value = app
            .as_bearer(Method::GET, "/auth/security-events", &s2)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let types: Vec<&str> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert!(types.contains(&"refresh_token_reused"), "{types:?}");
    }
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_succeed_once() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let s = app.register("racer").await;
        let futures = (0..20).map(|_| app.refresh_with(&s));
        let results = futures::future::join_all(futures).await;
        let ok = results.iter().filter(|r| r.status() == 200).count();
        assert_eq!(ok, 1, "{db:?}: exactly one refresh wins");
        assert!(
            results
                .iter()
                .all(|r| r.status() == 200 || r.status() == 401)
        );
        let live = app.state.store.live_generations(&s.sid()).await.unwrap();
        assert_eq!(live, 1, "{db:?}: the session never forks");
        // The winner's new token works.
        let winner = results.iter().find(|r| r.status() == 200).unwrap();
        let new_refresh = set_cookies(winner)["refresh_token"].clone();
        assert_eq!(
            app.refresh_with(&crate::support::Session {
                refresh: new_refresh,
                ..s.clone()
            })
            .await
            .status(),
            200
        );
    }
}

#[tokio::test]
async fn session_management() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let a1 = app.register("anna").await;
        let a2 = app.login("anna", PASSWORD).await;
        let a3 = app.login("anna", PASSWORD).await;
        let b = app.register("bert").await;

        let list: serde_json::Value = app
            .as_bearer(Method::GET, "/auth/sessions", &a3)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], 3);
        let current: Vec<_> = list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["isCurrent"] == true)
            .collect();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0]["id"], a3.sid());
        assert!(
            current[0]["ipAddress"]
                .as_str()
                .unwrap()
                .contains("127.0.0.1")
        );

        // Another user's session: 404 and nothing revoked.
        let resp = app
            .as_bearer(Method::POST, "/auth/logout-session", &a1)
            .json(&json!({"sessionId": b.sid()}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;
        assert_eq!(app.me_status(&b).await, 200);
        let resp = app
            .as_bearer(Method::POST, "/auth/logout-session", &a1)
            .json(&json!({"sessionId": "no-such-session"}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;

        // Own other session: revoked at once.
        let resp = app
            .as_bearer(Method::POST, "/auth/logout-session", &a1)
            .json(&json!({"sessionId": a2.sid()}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["sessionId"], a2.sid());
        assert_eq!(app.me_status(&a2).await, 401);

        // logout-all keeps the current session by default…
        let a4 = app.login("anna", PASSWORD).await;
        let resp = app
            .as_bearer(Method::POST, "/auth/logout-all", &a1)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["revoked"], 2, "a3 and a4");
        assert_eq!(app.me_status(&a1).await, 200);
        assert_eq!(app.me_status(&a3).await, 401);
        assert_eq!(app.me_status(&a4).await, 401);
        assert_eq!(app.me_status(&b).await, 200, "other users untouched");
        // …and ends it too with includeCurrent.
        let resp = app
            .as_bearer(Method::POST, "/auth/logout-all", &a1)
            .json(&json!({"includeCurrent": true}))
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["revoked"], 1);
        assert_eq!(app.me_status(&a1).await, 401);
    }
}

#[tokio::test]
async fn change_password_revokes_the_other_sessions() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let s1 = app.register("carla").await;
        let s2 = app.login("carla", PASSWORD).await;
        let wrong = app
            .as_bearer(Method::POST, "/auth/change-password", &s1)
            .json(&json!({"currentPassword": "wrong-password", "newPassword": "saffron-kettle-42"}))
            .send()
            .await
            .unwrap();
        assert_error(wrong, 401, "INVALID_CREDENTIALS").await;
        let weak = app
            .as_bearer(Method::POST, "/auth/change-password", &s1)
            .json(&json!({"currentPassword": PASSWORD, "newPassword": "qwerty123"}))
            .send()
            .await
            .unwrap();
        assert_error(weak, 400, "VALIDATION_FAILED").await;
        assert_eq!(
            app.me_status(&s2).await,
            200,
            "failed attempts revoke nothing"
        );

        let ok = app
            .as_bearer(Method::POST, "/auth/change-password", &s1)
            .json(&json!({"currentPassword": PASSWORD, "newPassword": "saffron-kettle-42"}))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(app.me_status(&s1).await, 200, "current session kept");
        assert_eq!(app.me_status(&s2).await, 401, "other session revoked");
        assert_error(app.refresh_with(&s2).await, 401, "UNAUTHORIZED").await;
        // Old password no longer works; the new one does.
        let old = raw_client()
            .post(app.url("/auth/login"))
            .json(&json!({"email": "carla", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(old.status(), 401);
        app.login("carla", "saffron-kettle-42").await;
    }
}

#[tokio::test]
async fn security_events_are_paginated_newest_first() {
    let app = TestApp::sqlite().await;
    let s = app.register("dora").await;
    for _ in 0..4 {
        let _ = raw_client()
            .post(app.url("/auth/login"))
            .json(&json!({"email": "dora", "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/auth/security-events?limit=2".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value = app
            .as_bearer(Method::GET, &path, &s)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["type"].as_str().unwrap().to_string());
            assert!(item["at"].is_string() && item["metadata"].is_object());
        }
        if page["hasMore"] == false {
            assert!(page["nextCursor"].is_null());
            break;
        }
        cursor = page["nextCursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[..4], ["login_failed"; 4]);
    assert_eq!(seen[4], "login_succeeded");
    for bad in ["limit=0", "limit=101", "limit=abc", "cursor=%%%"] {
        let resp = app
            .as_bearer(Method::GET, &format!("/auth/security-events?{bad}"), &s)
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn bad_and_missing_tokens_are_401() {
    let app = TestApp::sqlite().await;
    let resp = app.get("/auth/me").await;
    assert_error(resp, 401, "UNAUTHORIZED").await;
    for token in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."] {
        let resp = raw_client()
            .get(app.url("/auth/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_error(resp, 401, "UNAUTHORIZED").await;
    }
    assert_error(
        app.refresh_with(&crate::support::Session::refresh_only("never-issued"))
            .await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    let none = raw_client()
        .post(app.url("/auth/refresh"))
        .header("origin", "http://app.test")
        .send()
        .await
        .unwrap();
    assert_error(none, 401, "UNAUTHORIZED").await;
}

#[tokio::test]
async fn production_cookies_are_secure_with_domain() {
    let app = Spawn::new(Db::Sqlite)
        .var("APP_ENV", "production")
        .var("JWT_SECRET", "an-adequately-long-production-secret-value")
        .var("DATA_ENCRYPTION_KEY", &"11".repeat(32))
        .var("ARGON2_MEMORY_KIB", "19456")
        .var("ARGON2_ITERATIONS", "2")
        .var("COOKIE_DOMAIN", "example.test")
        .var("LOG_FORMAT", "pretty")
        .start()
        .await;
    let resp = raw_client()
        .post(app.url("/auth/register"))
        .json(
            &json!({"email": "p@example.com", "password": PASSWORD, "username": "prod_user",
                      "displayName": "P"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    for c in resp.headers().get_all("set-cookie") {
        let c = c.to_str().unwrap();
        assert!(
            c.contains("; Secure") && c.contains("; Domain=example.test"),
            "{c}"
        );
    }
}
