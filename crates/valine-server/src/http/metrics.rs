//! Request counting and latency by route template (`/profiles/{vanityUrl}`, never the
//! concrete path, so label cardinality stays bounded).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics::{HttpLabels, RouteLabels};
use crate::state::AppState;

/// The matched route template, carried from the inner route layer to the outer one.
#[derive(Clone)]
struct RouteTemplate(String);

/// Inner layer (`route_layer`): only matched routes pass here; it records the template.
pub async fn mark_route(req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let mut response = next.run(req).await;
    if let Some(t) = template {
        response.extensions_mut().insert(RouteTemplate(t));
    }
    response
}

/// Outer layer: counts every request, with `route="unmatched"` for unknown paths.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map(|t| t.0.clone())
        .unwrap_or_else(|| "unmatched".to_string());
    let elapsed = started.elapsed().as_secs_f64();
    state
        .metrics
        .http_requests
        .get_or_create(&HttpLabels {
            method: method.clone(),
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .http_duration
        .get_or_create(&RouteLabels { method, route })
        .observe(elapsed);
    response
}
