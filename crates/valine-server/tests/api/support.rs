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
}

impl Spawn {
    pub fn new(db: Db) -> Spawn {
        Spawn {
            db,
            vars: Vec::new(),
            extra: Router::new(),
        }
    }
    pub fn var(mut self, k: &str, v: &str) -> Spawn {
        self.vars.push((k.to_string(), v.to_string()));
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
        ];
        vars.extend(self.vars);
        let settings = Settings::load(&Source::from_map(vars)).unwrap();
        let app = valine_server::build_app_with(settings, self.extra)
            .await
            .unwrap();
        let state = app.state().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
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
