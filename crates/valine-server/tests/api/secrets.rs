//! Secrets never leak: no response body, log line or security event holds a password, a
//! password hash or a raw refresh/CSRF token (access tokens appear only where the contract
//! puts them: cookies and the `accessToken` field).

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, raw_client, set_cookies};

#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A process-wide subscriber writing into a buffer. Global rather than thread-local:
/// tracing caches per-callsite interest process-wide, so a thread-local subscriber could miss
/// events whose callsites another test's thread registered first.
pub fn captured_logs() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::TRACE)
            .json()
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the test binary");
        logs
    })
    .clone()
}

#[tokio::test]
async fn no_secret_in_logs_responses_or_events() {
    let logs = captured_logs();

    let app = TestApp::sqlite().await;
    let mut bodies = Vec::new();
    let mut secrets: Vec<String> = vec![PASSWORD.to_string(), "new-lantern-cobalt-7".to_string()];
    let mut access_tokens = Vec::new();

    let reg = raw_client()
        .post(app.url("/auth/register"))
        .json(
            &json!({"email": "sec@example.com", "password": PASSWORD, "username": "sec_user",
                      "displayName": "Sec"}),
        )
        .send()
        .await
        .unwrap();
    let c = set_cookies(&reg);
    secrets.push(c["refresh_token"].clone());
    secrets.push(c["XSRF-TOKEN"].clone());
    access_tokens.push(c["access_token"].clone());
    let s = crate::support::Session::from_response(&reg, String::new());
    bodies.push(reg.text().await.unwrap());

    let bad = raw_client()
        .post(app.url("/auth/login"))
        .json(&json!({"email": "sec_user", "password": "a-wrong-password-here"}))
        .send()
        .await
        .unwrap();
    secrets.push("a-wrong-password-here".into());
    bodies.push(bad.text().await.unwrap());

    let r = app.refresh_with(&s).await;
    let c = set_cookies(&r);
    secrets.push(c["refresh_token"].clone());
    access_tokens.push(c["access_token"].clone());
    let s2 = crate::support::Session::from_response(&r, String::new());
    bodies.push(r.text().await.unwrap());
    // Reuse after the grace window would revoke; inside it just fails — either way no leak.
    bodies.push(app.refresh_with(&s).await.text().await.unwrap());

    let cp = app
        .as_bearer(Method::POST, "/auth/change-password", &s2)
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "new-lantern-cobalt-7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cp.status(), 200);
    bodies.push(cp.text().await.unwrap());
    for path in ["/auth/me", "/auth/sessions", "/auth/security-events"] {
        bodies.push(
            app.as_bearer(Method::GET, path, &s2)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    let hash = app
        .state
        .store
        .user_by_login("sec_user")
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    secrets.push(hash.clone());
    // The salt and digest parts alone would leak too.
    secrets.extend(hash.rsplit('$').take(2).map(str::to_string));

    let events = app
        .state
        .store
        .security_events_page(&s2.user_id_or(&app).await, None, 100)
        .await
        .unwrap();
    assert!(events.len() >= 3);
    let event_text: String = events
        .iter()
        .map(|e| {
            format!(
                "{} {} {:?} {:?}",
                e.event_type, e.metadata, e.ip_address, e.user_agent
            )
        })
        .collect();

    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        log_text.contains("account registered"),
        "logs were captured"
    );
    for secret in &secrets {
        assert!(secret.len() >= 8, "test secret too short to search for");
        for body in &bodies {
            assert!(
                !body.contains(secret.as_str()),
                "response leaks a secret: {body}"
            );
        }
        assert!(!log_text.contains(secret.as_str()), "log leaks a secret");
        assert!(
            !event_text.contains(secret.as_str()),
            "event leaks a secret"
        );
    }
    for token in &access_tokens {
        assert!(
            !log_text.contains(token.as_str()),
            "log leaks an access token"
        );
        assert!(!event_text.contains(token.as_str()));
    }
}

impl crate::support::Session {
    async fn user_id_or(&self, app: &TestApp) -> String {
        let me: serde_json::Value = app
            .as_bearer(Method::GET, "/auth/me", self)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        me["user"]["id"].as_str().unwrap().to_string()
    }
}
