//! Valine's HTTP application: build it apart from running it, so tests start the real
//! server on `127.0.0.1:0` with their own database.

pub mod auth;
pub mod config;
pub mod content;
pub mod error;
pub mod http;
pub mod internal;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod timefmt;

pub use state::AppState;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use valine_store::Store;

use crate::config::Settings;
use crate::metrics::Metrics;

/// JSON bodies are capped at 1 MiB (SPEC §2); larger uploads use their own limits.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// A built application: router, state and the background work it owns.
pub struct App {
    router: Router,
    state: AppState,
    mail: Arc<dyn mail::Transport>,
}

/// Connects the store (migrating unless `AUTO_MIGRATE=false`) and builds the router.
pub async fn build_app(settings: Settings) -> anyhow::Result<App> {
    build_app_with(settings, Router::new()).await
}

/// Like [`build_app`], with extra routes merged in (tests use it to mount a handler that
/// panics, to prove the process survives).
pub async fn build_app_with(settings: Settings, extra: Router<AppState>) -> anyhow::Result<App> {
    let store = Store::connect(&settings.database_url).await?;
    if settings.auto_migrate {
        store.migrate_up().await?;
    }
    let auth = Arc::new(state::AuthContext::new(&settings)?);
    let metrics = Metrics::new();
    let redis = match &settings.redis_url {
        Some(url) => Some(Arc::new(
            ratelimit::redis_store::RedisStore::new(url, &settings.redis_key_prefix)
                .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?,
        )),
        None => None,
    };
    let limiter = ratelimit::Limiter::new(redis.clone(), metrics.rate_limit_fallbacks.clone());
    let state = AppState {
        auth,
        mail_notify: Arc::new(tokio::sync::Notify::new()),
        settings: Arc::new(settings),
        store,
        metrics: Arc::new(metrics),
        limiter,
        redis,
        openapi_json: Arc::new(serde_json::to_string(&openapi())?),
    };
    let mail = mail::transport(&state.settings)?;
    let router = router(state.clone(), extra);
    Ok(App {
        router,
        state,
        mail,
    })
}

/// The OpenAPI document of every route, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes::router().into_openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

fn router(state: AppState, extra: Router<AppState>) -> Router {
    let (api, _doc) = routes::router().split_for_parts();
    let settings = state.settings.clone();
    api.merge(extra)
        .route_layer(from_fn(http::metrics::mark_route))
        .fallback(http::errors::fallback)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(http::errors::panic_response))
        .layer(from_fn_with_state(state.clone(), http::csrf::layer))
        .layer(from_fn_with_state(state.clone(), http::rate_limit::layer))
        .layer(http::headers::cors(&settings.allowed_origins))
        .layer(from_fn_with_state(
            state.clone(),
            http::headers::security_headers,
        ))
        .layer(from_fn_with_state(state.clone(), http::metrics::record))
        .layer(from_fn(http::errors::normalize))
        .layer(from_fn(http::request_id::layer))
        .layer(axum::Extension(state.clone()))
        .with_state(state)
}

impl App {
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves; in-flight requests are allowed to finish.
    pub async fn run<F>(self, listener: TcpListener, shutdown: F) -> std::io::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let store = self.state.store.clone();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(mail::worker::run(self.state.clone(), self.mail, stop_rx));
        // Replays a previous process left queued (flaky-test history; see internal::tests).
        internal::tests::schedule_replay(&self.state);
        axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        let _ = stop_tx.send(true);
        let _ = worker.await;
        store.close().await;
        Ok(())
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; draining in-flight requests");
}
