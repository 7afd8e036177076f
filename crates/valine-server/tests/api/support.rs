//! `spawn_app`: the real server with its own temporary database, on a free port.

use axum::Router;
use tokio::sync::oneshot;
use valine_server::AppState;
use valine_server::config::{Settings, Source};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Every backend to run a backend-sensitive test on: SQLite always, PostgreSQL when
/// `TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Db> {
    let mut v = vec![Db::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        v.push(Db::Postgres);
    }
    v
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub _dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub struct Spawn {
    db: Db,
    vars: Vec<(String, String)>,
    extra: Router<AppState>,
    self_addressed: bool,
}

impl Spawn {
    pub fn new(db: Db) -> Spawn {
        Spawn {
            db,
            vars: Vec::new(),
            extra: Router::new(),
            self_addressed: false,
        }
    }
    pub fn var(mut self, k: &str, v: &str) -> Spawn {
        self.vars.push((k.to_string(), v.to_string()));
        self
    }
    /// Binds the port before loading settings and sets `PUBLIC_URL` and `API_BASE_URL` to
    /// the real address, as a deployment knows its own URL (upload URLs, server-side
    /// journeys). Other tests keep the unbound `http://127.0.0.1:0`.
    pub fn self_addressed(mut self) -> Spawn {
        self.self_addressed = true;
        self
    }
    pub fn routes(mut self, extra: Router<AppState>) -> Spawn {
        self.extra = extra;
        self
    }

    pub async fn start(self) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap().to_string();
        let database_url = match self.db {
            Db::Sqlite => format!("sqlite://{data}/valine.db"),
            Db::Postgres => {
                let admin = std::env::var("TEST_DATABASE_URL").unwrap();
                valine_store::testing::fresh_postgres_url(&admin)
                    .await
                    .expect("TEST_DATABASE_URL is set but PostgreSQL is not usable")
            }
        };
        let mut vars: Vec<(String, String)> = vec![
            ("DATA_DIR".into(), data),
            ("DATABASE_URL".into(), database_url),
            ("PORT".into(), "0".into()),
            // Tests may lower Argon2's cost only through configuration.
            ("ARGON2_MEMORY_KIB".into(), "64".into()),
            ("ARGON2_ITERATIONS".into(), "1".into()),
            ("FRONTEND_URL".into(), "http://app.test".into()),
            // The limiter runs in every test, with budgets no functional test reaches;
            // the rate-limit tests set the real tiers.
            ("RATE_LIMIT_AUTH".into(), "100000/900".into()),
            ("RATE_LIMIT_WRITE".into(), "100000/3600".into()),
            ("RATE_LIMIT_READ".into(), "100000/3600".into()),
        ];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        if self.self_addressed {
            vars.push(("PUBLIC_URL".into(), format!("http://{addr}")));
            vars.push(("API_BASE_URL".into(), format!("http://{addr}")));
        }
        vars.extend(self.vars);
        let settings = Settings::load(&Source::from_map(vars)).unwrap();
        let app = valine_server::build_app_with(settings, self.extra)
            .await
            .unwrap();
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run(listener, async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            base: format!("http://{addr}"),
            client,
            state,
            _dir: dir,
            shutdown: Some(tx),
            server: Some(server),
        }
    }
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        Spawn::new(Db::Sqlite).start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Asks the server to stop (graceful: in-flight requests finish).
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts the SPEC §2 error shape and returns the body.
pub async fn assert_error(resp: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let header_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: serde_json::Value = resp.json().await.expect("error body is JSON");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert_eq!(body["requestId"].as_str(), header_id.as_deref(), "{body}");
    body
}

/// A client without a cookie jar, for tests that control cookies by hand.
pub fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Cookies a response set, by name (value of each `Set-Cookie`).
pub fn set_cookies(resp: &reqwest::Response) -> std::collections::HashMap<String, String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| {
            let first = c.split(';').next()?;
            let (k, v) = first.split_once('=')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// The credentials of a logged-in session, as a browser would hold them.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub access: String,
    pub refresh: String,
    pub csrf: String,
}

impl Session {
    /// Only a refresh token (and no CSRF pair), e.g. one that was never issued.
    pub fn refresh_only(refresh: &str) -> Session {
        Session {
            user_id: String::new(),
            access: String::new(),
            refresh: refresh.to_string(),
            csrf: String::new(),
        }
    }

    pub fn from_response(resp: &reqwest::Response, user_id: String) -> Session {
        let c = set_cookies(resp);
        Session {
            user_id,
            access: c.get("access_token").cloned().unwrap_or_default(),
            refresh: c.get("refresh_token").cloned().unwrap_or_default(),
            csrf: c.get("XSRF-TOKEN").cloned().unwrap_or_default(),
        }
    }

    /// The `Cookie` header a browser would send to `/auth/*`.
    pub fn cookie_header(&self) -> String {
        format!(
            "access_token={}; refresh_token={}; XSRF-TOKEN={}",
            self.access, self.refresh, self.csrf
        )
    }

    /// The session id (`sid` claim of the access token).
    pub fn sid(&self) -> String {
        use base64::Engine;
        let payload = self.access.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["sid"].as_str().unwrap().to_string()
    }
}

pub const PASSWORD: &str = "violet-anchor-91";

impl TestApp {
    /// Registers `name` (email `name@example.com`) and returns its session.
    pub async fn register(&self, name: &str) -> Session {
        let resp = raw_client()
            .post(self.url("/auth/register"))
            .json(&serde_json::json!({
                "email": format!("{name}@example.com"),
                "password": PASSWORD,
                "username": name,
                "displayName": format!("{name} Example"),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "register {name}");
        let session = Session::from_response(&resp, String::new());
        let body: serde_json::Value = resp.json().await.unwrap();
        Session {
            user_id: body["user"]["id"].as_str().unwrap().to_string(),
            ..session
        }
    }

    /// Logs in and returns the new session.
    pub async fn login(&self, login: &str, password: &str) -> Session {
        let resp = raw_client()
            .post(self.url("/auth/login"))
            .json(&serde_json::json!({"email": login, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "login {login}");
        let session = Session::from_response(&resp, String::new());
        let body: serde_json::Value = resp.json().await.unwrap();
        Session {
            user_id: body["user"]["id"].as_str().unwrap().to_string(),
            ..session
        }
    }

    /// A request authenticated as a browser would: cookies plus the CSRF header.
    pub fn as_browser(
        &self,
        method: reqwest::Method,
        path: &str,
        s: &Session,
    ) -> reqwest::RequestBuilder {
        raw_client()
            .request(method, self.url(path))
            .header("cookie", s.cookie_header())
            .header("x-csrf-token", &s.csrf)
            .header("origin", "http://app.test")
    }

    /// A request authenticated by `Authorization: Bearer` only.
    pub fn as_bearer(
        &self,
        method: reqwest::Method,
        path: &str,
        s: &Session,
    ) -> reqwest::RequestBuilder {
        raw_client()
            .request(method, self.url(path))
            .bearer_auth(&s.access)
    }

    /// `POST /auth/refresh` as a browser sends it: the refresh cookie (its path is /auth),
    /// the CSRF cookie and header.
    pub async fn refresh_with(&self, s: &Session) -> reqwest::Response {
        raw_client()
            .post(self.url("/auth/refresh"))
            .header(
                "cookie",
                format!("refresh_token={}; XSRF-TOKEN={}", s.refresh, s.csrf),
            )
            .header("x-csrf-token", &s.csrf)
            .header("origin", "http://app.test")
            .send()
            .await
            .unwrap()
    }

    pub async fn me_status(&self, s: &Session) -> u16 {
        self.as_bearer(reqwest::Method::GET, "/auth/me", s)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

impl TestApp {
    /// Registers `name` and marks the email verified (as following the mailed link would).
    pub async fn register_verified(&self, name: &str) -> Session {
        let s = self.register(name).await;
        self.state
            .store
            .mark_email_verified(&s.user_id, valine_store::now_ms())
            .await
            .unwrap();
        s
    }

    /// Every (method, concrete path) of the OpenAPI document, path parameters filled with
    /// `fill`.
    pub async fn documented_routes(&self, fill: &str) -> Vec<(reqwest::Method, String, String)> {
        let doc: serde_json::Value = self.get("/openapi.json").await.json().await.unwrap();
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let concrete = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { fill } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            for method in item.as_object().unwrap().keys() {
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                out.push((m, path.clone(), concrete.clone()));
            }
        }
        out
    }
}

pub fn is_state_changing(m: &reqwest::Method) -> bool {
    matches!(
        *m,
        reqwest::Method::POST
            | reqwest::Method::PUT
            | reqwest::Method::PATCH
            | reqwest::Method::DELETE
    )
}
