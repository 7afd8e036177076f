//! Two-factor authentication (SPEC §5), checked against an independent TOTP
//! implementation: `oathtool` (Debian package; `.ci/run` installs it).

use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::support::{
    Db, PASSWORD, Session, Spawn, TestApp, assert_error, backends, raw_client, set_cookies,
};

/// The TOTP code for `secret` at now + `steps` × 30 s, from oathtool.
fn oath(secret: &str, steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let out = Command::new("oathtool")
        .args(["--totp", "-b", secret, "-N"])
        .arg(format!("@{}", now + steps * 30))
        .output()
        .expect("oathtool (apt-get install oathtool; .ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Registers `name` and enables 2FA; returns (session, secret, backup codes). The step
/// used to enable is "now", so later tests use +1 to stay ahead of replay protection.
async fn with_2fa(app: &TestApp, name: &str) -> (Session, String, Vec<String>) {
    let s = app.register(name).await;
    let setup: serde_json::Value = app
        .as_bearer(Method::POST, "/auth/2fa/setup", &s)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = setup["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32, "160-bit base32 secret");
    assert!(
        setup["otpauthUrl"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Valine:")
    );
    assert!(setup["qrCodeSvg"].as_str().unwrap().contains("<svg"));
    let enable = app
        .as_bearer(Method::POST, "/auth/2fa/enable", &s)
        .json(&json!({ "code": oath(&secret, 0) }))
        .send()
        .await
        .unwrap();
    assert_eq!(enable.status(), 200);
    let body: serde_json::Value = enable.json().await.unwrap();
    assert_eq!(body["enabled"], true);
    let codes: Vec<String> = body["backupCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (s, secret, codes)
}

async fn login_challenge(app: &TestApp, name: &str) -> String {
    let resp = raw_client()
        .post(app.url("/auth/login"))
        .json(&json!({ "email": name, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        set_cookies(&resp).is_empty(),
        "no session cookies before the second factor"
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["requiresTwoFactor"], true);
    assert_eq!(body["expiresIn"], 300);
    assert!(body.get("accessToken").is_none());
    body["challengeToken"].as_str().unwrap().to_string()
}

async fn verify(app: &TestApp, challenge: &str, code: &str) -> reqwest::Response {
    raw_client()
        .post(app.url("/auth/2fa/verify"))
        .json(&json!({ "challengeToken": challenge, "code": code }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn enable_logout_login_verify_with_oathtool() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let (s, secret, _) = with_2fa(&app, "totp_user").await;
        let me: serde_json::Value = app
            .as_bearer(Method::GET, "/auth/me", &s)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"]["twoFactorEnabled"], true);
        app.as_bearer(Method::POST, "/auth/logout", &s)
            .send()
            .await
            .unwrap();

        let challenge = login_challenge(&app, "totp_user").await;
        // The code used to enable (step 0) is spent; step +1 is inside the window.
        let replay = verify(&app, &challenge, &oath(&secret, 0)).await;
        assert_error(replay, 401, "INVALID_TWO_FACTOR_CODE").await;
        let ok = verify(&app, &challenge, &oath(&secret, 1)).await;
        assert_eq!(ok.status(), 200, "{db:?}");
        let session = Session::from_response(&ok, String::new());
        let body: serde_json::Value = ok.json().await.unwrap();
        assert_eq!(body["requiresTwoFactor"], false);
        assert!(body["accessToken"].is_string());
        assert_eq!(app.me_status(&session).await, 200);
        // The challenge is single use.
        let again = verify(&app, &challenge, &oath(&secret, 1)).await;
        assert_error(again, 401, "UNAUTHORIZED").await;
    }
}

#[tokio::test]
async fn replayed_and_stale_codes_are_refused() {
    let app = TestApp::sqlite().await;
    let (_s, secret, _) = with_2fa(&app, "replay").await;
    let c1 = login_challenge(&app, "replay").await;
    let code = oath(&secret, 1);
    assert_eq!(verify(&app, &c1, &code).await.status(), 200);
    // The same code again, on a fresh challenge: refused.
    let c2 = login_challenge(&app, "replay").await;
    assert_error(
        verify(&app, &c2, &code).await,
        401,
        "INVALID_TWO_FACTOR_CODE",
    )
    .await;
    // A code from two steps ago is outside the window.
    assert_error(
        verify(&app, &c2, &oath(&secret, -2)).await,
        401,
        "INVALID_TWO_FACTOR_CODE",
    )
    .await;
}

#[tokio::test]
async fn parallel_double_use_of_one_code_succeeds_once() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let (_s, secret, _) = with_2fa(&app, "double").await;
        let challenges =
            futures::future::join_all((0..6).map(|_| login_challenge(&app, "double"))).await;
        let code = oath(&secret, 1);
        let results =
            futures::future::join_all(challenges.iter().map(|c| verify(&app, c, &code))).await;
        let ok = results.iter().filter(|r| r.status() == 200).count();
        assert_eq!(ok, 1, "{db:?}: one code, one login");
    }
}

#[tokio::test]
async fn stolen_challenge_or_password_alone_never_yields_a_session() {
    let app = TestApp::sqlite().await;
    let (_s, _secret, _) = with_2fa(&app, "guarded").await;
    let challenge = login_challenge(&app, "guarded").await;
    // Five wrong codes kill the challenge…
    for _ in 0..5 {
        assert_error(
            verify(&app, &challenge, "000000").await,
            401,
            "INVALID_TWO_FACTOR_CODE",
        )
        .await;
    }
    // …so even a right code no longer helps (a stolen challenge can't be brute-forced).
    let secret_free = verify(&app, &challenge, "123456").await;
    assert_error(secret_free, 401, "UNAUTHORIZED").await;
    // A made-up challenge token is refused.
    assert_error(
        verify(&app, "forged-token", "123456").await,
        401,
        "UNAUTHORIZED",
    )
    .await;
    // The seed's {code, userId} oracle does not exist.
    let resp = raw_client()
        .post(app.url("/auth/2fa/verify"))
        .json(&json!({ "code": "123456", "userId": "anything" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(set_cookies(&resp).is_empty());
}

#[tokio::test]
async fn backup_codes_work_once_and_regenerate() {
    let app = TestApp::sqlite().await;
    let (s, secret, codes) = with_2fa(&app, "backup").await;
    let c1 = login_challenge(&app, "backup").await;
    let ok = verify(&app, &c1, &codes[0].to_uppercase()).await;
    assert_eq!(ok.status(), 200, "backup codes are case-insensitive");
    let c2 = login_challenge(&app, "backup").await;
    assert_error(
        verify(&app, &c2, &codes[0]).await,
        401,
        "INVALID_TWO_FACTOR_CODE",
    )
    .await;
    // Regenerate: old codes die.
    let resp = app
        .as_bearer(Method::POST, "/auth/2fa/backup-codes", &s)
        .json(&json!({ "code": oath(&secret, 1) }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let fresh: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(fresh["backupCodes"].as_array().unwrap().len(), 10);
    let c3 = login_challenge(&app, "backup").await;
    assert_error(
        verify(&app, &c3, &codes[1]).await,
        401,
        "INVALID_TWO_FACTOR_CODE",
    )
    .await;
    let new_code = fresh["backupCodes"][0].as_str().unwrap();
    assert_eq!(verify(&app, &c3, new_code).await.status(), 200);
    // The trail has the events.
    let events: serde_json::Value = app
        .as_bearer(Method::GET, "/auth/security-events?limit=100", &s)
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
    for t in [
        "two_factor_enabled",
        "backup_code_used",
        "two_factor_failed",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
}

#[tokio::test]
async fn disable_needs_password_and_code_and_reset_needs_a_code() {
    let app = Spawn::new(Db::Sqlite)
        .var("MAIL_POLL_INTERVAL_MS", "50")
        .start()
        .await;
    let (s, secret, codes) = with_2fa(&app, "stepup").await;
    let wrong_pw = app
        .as_bearer(Method::POST, "/auth/2fa/disable", &s)
        .json(&json!({ "password": "not-my-password", "code": oath(&secret, 1) }))
        .send()
        .await
        .unwrap();
    assert_error(wrong_pw, 401, "INVALID_CREDENTIALS").await;
    let wrong_code = app
        .as_bearer(Method::POST, "/auth/2fa/disable", &s)
        .json(&json!({ "password": PASSWORD, "code": "000000" }))
        .send()
        .await
        .unwrap();
    assert_error(wrong_code, 401, "INVALID_TWO_FACTOR_CODE").await;

    // Password reset must not bypass 2FA.
    let token = crate::email::reset_token_for(&app, "stepup@example.com").await;
    let no_code = raw_client()
        .post(app.url("/auth/reset-password"))
        .json(&json!({ "token": token, "newPassword": "quartz-meadow-77" }))
        .send()
        .await
        .unwrap();
    assert_error(no_code, 401, "INVALID_TWO_FACTOR_CODE").await;
    let with_code = raw_client()
        .post(app.url("/auth/reset-password"))
        .json(&json!({ "token": token, "newPassword": "quartz-meadow-77", "code": codes[2] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_code.status(),
        200,
        "the refused attempt did not use the token up"
    );

    let s2 = {
        let c = raw_client()
            .post(app.url("/auth/login"))
            .json(&json!({ "email": "stepup", "password": "quartz-meadow-77" }))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()["challengeToken"]
            .as_str()
            .unwrap()
            .to_string();
        let ok = verify(&app, &c, &codes[3]).await;
        assert_eq!(ok.status(), 200);
        Session::from_response(&ok, String::new())
    };
    let off = app
        .as_bearer(Method::POST, "/auth/2fa/disable", &s2)
        .json(&json!({ "password": "quartz-meadow-77", "code": oath(&secret, 1) }))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    assert_eq!(
        off.json::<serde_json::Value>().await.unwrap()["enabled"],
        false
    );
    // Login is single-factor again.
    app.login("stepup", "quartz-meadow-77").await;
}

#[tokio::test]
async fn secret_is_encrypted_at_rest_and_never_logged() {
    crate::secrets::captured_logs();
    let app = TestApp::sqlite().await;
    let (_s, secret, _) = with_2fa(&app, "vault").await;
    let row = app
        .state
        .store
        .two_factor(
            &app.state
                .store
                .user_by_login("vault")
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap()
        .unwrap();
    let raw = row.secret_enc.unwrap();
    assert!(raw.starts_with("v1."));
    assert!(!raw.contains(&secret));
    let decoded = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    assert!(!raw.contains(&hex::encode(&decoded)));
    // Nor does the account export.
    let export = app
        .as_bearer(Method::POST, "/account/export", &_s)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(export.contains("vault"), "export is the user's");
    assert!(!export.contains(&secret) && !export.contains(&raw));
    // Nor any log line.
    let logs =
        String::from_utf8(crate::secrets::captured_logs().0.lock().unwrap().clone()).unwrap();
    assert!(!logs.contains(&secret));
    // The whole database file holds no clear copy either.
    let db = std::fs::read(app.state.settings.data_dir.join("valine.db")).unwrap();
    let db_text = String::from_utf8_lossy(&db);
    assert!(!db_text.contains(&secret));
    assert!(!db.windows(decoded.len()).any(|w| w == decoded.as_slice()));
}

#[tokio::test]
async fn disabled_feature_is_404_and_login_ignores_2fa() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let db_url = format!("sqlite://{data}/valine.db");
    let on = Spawn::new(Db::Sqlite)
        .var("DATA_DIR", &data)
        .var("DATABASE_URL", &db_url)
        .start()
        .await;
    with_2fa(&on, "flagged").await;
    drop(on);
    let off = Spawn::new(Db::Sqlite)
        .var("DATA_DIR", &data)
        .var("DATABASE_URL", &db_url)
        .var("TWO_FACTOR_ENABLED", "false")
        .start()
        .await;
    let s = off.login("flagged", PASSWORD).await;
    assert_eq!(off.me_status(&s).await, 200);
    for path in [
        "/auth/2fa/setup",
        "/auth/2fa/enable",
        "/auth/2fa/verify",
        "/auth/2fa/disable",
        "/auth/2fa/backup-codes",
    ] {
        let resp = off
            .as_bearer(Method::POST, path, &s)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "FEATURE_DISABLED").await;
    }
}
