//! Email verification, the outbox and both transports (SPEC §4), with a real SMTP server
//! (Python's aiosmtpd, writing a maildir) and the `.eml` file transport.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::support::{Db, PASSWORD, Spawn, TestApp, assert_error, backends, raw_client};

/// A real SMTP server on 127.0.0.1:`port` storing messages in a maildir.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(port: u16, maildir: &Path) -> SmtpServer {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd; .ci/run installs it)");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer {
            child,
            maildir: maildir.to_path_buf(),
        }
    }

    fn messages(&self) -> Vec<String> {
        read_dir_texts(&self.maildir.join("new"), None)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn read_dir_texts(dir: &Path, ext: Option<&str>) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| ext.is_none_or(|x| e.path().extension().is_some_and(|y| y == x)))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect()
}

/// Undoes quoted-printable soft line breaks and `=XX` escapes, enough to read links.
fn qp_decode(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The token of the first `/{page}?token=` link in a message.
fn token_from(message: &str, page: &str) -> String {
    let text = qp_decode(message);
    let marker = format!("{page}?token=");
    let start = text.find(&marker).expect("link in message") + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn verified(app: &TestApp, s: &crate::support::Session) -> bool {
    let me: serde_json::Value = app
        .as_bearer(Method::GET, "/auth/me", s)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["user"]["emailVerified"] == true
}

#[tokio::test]
async fn registration_mail_over_real_smtp_verifies_the_account() {
    for db in backends() {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let smtp = SmtpServer::start(port, &dir.path().join("maildir"));
        let app = Spawn::new(db)
            .var("EMAIL_ENABLED", "true")
            .var("SMTP_HOST", "127.0.0.1")
            .var("SMTP_PORT", &port.to_string())
            .var("SMTP_TLS", "none")
            .var("FROM_EMAIL", "noreply@valine.test")
            .var("MAIL_POLL_INTERVAL_MS", "50")
            .start()
            .await;
        let s = app.register("smtp_user").await;
        assert!(!verified(&app, &s).await);
        let message = wait_for("SMTP delivery", 20, || smtp.messages().into_iter().next()).await;
        assert!(message.contains("smtp_user@example.com"));
        assert!(message.contains("noreply@valine.test"));
        assert!(message.contains("multipart/alternative"));
        assert!(message.contains("text/plain") && message.contains("text/html"));
        let token = token_from(&message, "http://app.test/verify-email");
        assert_eq!(token.len(), 43, "256-bit token: {token}");

        let resp = raw_client()
            .post(app.url("/auth/verify-email"))
            .json(&json!({ "token": token }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{db:?}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["verified"], true);
        assert!(verified(&app, &s).await);
        // Used: the same link again is invalid.
        let again = raw_client()
            .post(app.url("/auth/verify-email"))
            .json(&json!({ "token": token }))
            .send()
            .await
            .unwrap();
        assert_error(again, 400, "VALIDATION_FAILED").await;
    }
}

#[tokio::test]
async fn eml_file_transport_delivers_the_same_flow() {
    let app = Spawn::new(Db::Sqlite)
        .var("MAIL_POLL_INTERVAL_MS", "50")
        .start()
        .await;
    let outbox = app.state.settings.mail_outbox_dir.clone();
    let s = app.register("file_user").await;
    let message = wait_for(".eml file", 10, || {
        read_dir_texts(&outbox, Some("eml")).into_iter().next()
    })
    .await;
    assert!(message.contains("Subject: Verify your email address"));
    assert!(message.contains("Message-ID: <"));
    let token = token_from(&message, "http://app.test/verify-email");
    let resp = raw_client()
        .post(app.url("/auth/verify-email"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(verified(&app, &s).await);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("mail_sent_total 1"), "{metrics}");
    assert!(metrics.contains("mail_queue_depth 0"));
    assert!(metrics.contains("email_verification_rate 1"));
}

#[tokio::test]
async fn smtp_down_during_registration_delivers_later_exactly_once() {
    for db in backends() {
        // SMTP is down: the port accepts connections and closes them at once. (A port with
        // nothing listening is not a safe stand-in: another socket may take it meanwhile,
        // or the client may connect to itself, a TCP simultaneous open, and hang until its
        // timeout instead of failing.)
        let refuser = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = refuser.local_addr().unwrap().port();
        let refusing = tokio::spawn(async move {
            loop {
                if let Ok((conn, _)) = refuser.accept().await {
                    drop(conn);
                }
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let app = Spawn::new(db)
            .var("EMAIL_ENABLED", "true")
            .var("SMTP_HOST", "127.0.0.1")
            .var("SMTP_PORT", &port.to_string())
            .var("SMTP_TLS", "none")
            .var("MAIL_POLL_INTERVAL_MS", "50")
            .var("MAIL_RETRY_BASE_MS", "100")
            .var("MAIL_RETRY_MAX_MS", "400")
            .start()
            .await;
        // Registration must still succeed.
        app.register("patient").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = app.get("/metrics").await.text().await.unwrap();
            if text
                .lines()
                .any(|l| l.starts_with("mail_retries_total") && !l.ends_with(" 0"))
            {
                break;
            }
            assert!(Instant::now() < deadline, "no failed delivery attempt seen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(app.state.store.count_mail("pending").await.unwrap(), 1);

        // SMTP comes back on the same port.
        refusing.abort();
        let _ = refusing.await;
        let smtp = SmtpServer::start(port, &dir.path().join("maildir"));
        wait_for("delivery after recovery", 20, || {
            (!smtp.messages().is_empty()).then_some(())
        })
        .await;
        // Give a duplicate every chance to appear before counting.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(smtp.messages().len(), 1, "{db:?}: exactly once");
        assert_eq!(app.state.store.count_mail("sent").await.unwrap(), 1);
        assert_eq!(app.state.store.count_mail("pending").await.unwrap(), 0);
    }
}

#[tokio::test]
async fn sixth_resend_in_an_hour_is_429_with_headers() {
    let app = TestApp::sqlite().await;
    let s = app.register("resender").await;
    for i in 0..5 {
        let resp = app
            .as_bearer(Method::POST, "/auth/resend-verification", &s)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "resend {i}");
        assert_eq!(resp.headers()["x-ratelimit-limit"], "5");
        assert_eq!(
            resp.headers()["x-ratelimit-remaining"].to_str().unwrap(),
            (4 - i).to_string()
        );
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["email"], "resender@example.com");
    }
    let resp = app
        .as_bearer(Method::POST, "/auth/resend-verification", &s)
        .send()
        .await
        .unwrap();
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 3500 && retry_after <= 3600, "{retry_after}");
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    let reset: u64 = resp.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > 1_700_000_000);
    let body = assert_error(resp, 429, "RATE_LIMITED").await;
    assert!(body["retryAfter"].as_u64().unwrap() > 3500);
}

#[tokio::test]
async fn resend_retires_earlier_links_and_verified_accounts_cannot_resend() {
    let app = Spawn::new(Db::Sqlite)
        .var("MAIL_POLL_INTERVAL_MS", "50")
        .start()
        .await;
    let outbox = app.state.settings.mail_outbox_dir.clone();
    let s = app.register("twice").await;
    let first = wait_for("first mail", 10, || {
        read_dir_texts(&outbox, Some("eml")).into_iter().next()
    })
    .await;
    let old_token = token_from(&first, "verify-email");
    let resp = app
        .as_bearer(Method::POST, "/auth/resend-verification", &s)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let second = wait_for("second mail", 10, || {
        read_dir_texts(&outbox, Some("eml"))
            .into_iter()
            .find(|m| token_from(m, "verify-email") != old_token)
    })
    .await;
    let new_token = token_from(&second, "verify-email");
    let old = raw_client()
        .post(app.url("/auth/verify-email"))
        .json(&json!({ "token": old_token }))
        .send()
        .await
        .unwrap();
    assert_error(old, 400, "VALIDATION_FAILED").await;
    let ok = raw_client()
        .post(app.url("/auth/verify-email"))
        .json(&json!({ "token": new_token }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let resp = app
        .as_bearer(Method::POST, "/auth/resend-verification", &s)
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "VALIDATION_FAILED").await;
}

#[tokio::test]
async fn expired_verification_link_asks_for_a_new_one() {
    let app = Spawn::new(Db::Sqlite)
        .var("VERIFICATION_TOKEN_TTL_SECONDS", "1")
        .var("MAIL_POLL_INTERVAL_MS", "50")
        .start()
        .await;
    let outbox = app.state.settings.mail_outbox_dir.clone();
    app.register("late").await;
    let message = wait_for("mail", 10, || {
        read_dir_texts(&outbox, Some("eml")).into_iter().next()
    })
    .await;
    let token = token_from(&message, "verify-email");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let resp = raw_client()
        .post(app.url("/auth/verify-email"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("request a new one"),
        "{body}"
    );
    // Unknown tokens get the other message.
    let resp = raw_client()
        .post(app.url("/auth/verify-email"))
        .json(&json!({ "token": "nope" }))
        .send()
        .await
        .unwrap();
    let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
    assert!(
        !body["error"]
            .as_str()
            .unwrap()
            .contains("request a new one")
    );
}

#[tokio::test]
async fn forgot_and_reset_password() {
    for db in backends() {
        let app = Spawn::new(db)
            .var("MAIL_POLL_INTERVAL_MS", "50")
            .start()
            .await;
        let outbox = app.state.settings.mail_outbox_dir.clone();
        let s1 = app.register("forgetful").await;
        let s2 = app.login("forgetful", PASSWORD).await;
        // Unknown address: same 202.
        for email in ["nobody@example.com", "forgetful@example.com"] {
            let resp = raw_client()
                .post(app.url("/auth/forgot-password"))
                .json(&json!({ "email": email }))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 202);
        }
        let message = wait_for("reset mail", 10, || {
            read_dir_texts(&outbox, Some("eml"))
                .into_iter()
                .find(|m| m.contains("reset-password?token="))
        })
        .await;
        let token = token_from(&message, "http://app.test/reset-password");
        // A weak password is refused and does not use the token up.
        let weak = raw_client()
            .post(app.url("/auth/reset-password"))
            .json(&json!({ "token": token, "newPassword": "password" }))
            .send()
            .await
            .unwrap();
        assert_error(weak, 400, "VALIDATION_FAILED").await;
        let ok = raw_client()
            .post(app.url("/auth/reset-password"))
            .json(&json!({ "token": token, "newPassword": "maple-orbit-5521" }))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{db:?}");
        assert_eq!(app.me_status(&s1).await, 401, "all sessions revoked");
        assert_eq!(app.me_status(&s2).await, 401);
        app.login("forgetful", "maple-orbit-5521").await;
        let reuse = raw_client()
            .post(app.url("/auth/reset-password"))
            .json(&json!({ "token": token, "newPassword": "another-orbit-5521" }))
            .send()
            .await
            .unwrap();
        assert_error(reuse, 400, "VALIDATION_FAILED").await;
    }
}

/// Requests a password reset for `email` and returns the token from the `.eml` file.
pub async fn reset_token_for(app: &TestApp, email: &str) -> String {
    let outbox = app.state.settings.mail_outbox_dir.clone();
    let resp = raw_client()
        .post(app.url("/auth/forgot-password"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let message = wait_for("reset mail", 10, || {
        read_dir_texts(&outbox, Some("eml"))
            .into_iter()
            .find(|m| m.contains("reset-password?token="))
    })
    .await;
    token_from(&message, "reset-password")
}
