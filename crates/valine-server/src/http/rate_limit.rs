//! The rate-limit layer over the whole router: the seed's tiers (SPEC §7), with
//! `X-RateLimit-*` on allowed responses and 429 + `Retry-After` when over.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::http::client::client_ip;
use crate::ratelimit::{Decision, Rule};
use crate::state::AppState;

/// Never limited: orchestration probes and scrapes.
const EXEMPT: &[&str] = &["/health", "/ready", "/metrics"];

/// `/auth/*` POSTs of the auth tier (keyed by route + client IP, as the seed keyed them).
fn is_auth_tier(path: &str) -> bool {
    matches!(
        path,
        "/auth/register"
            | "/auth/login"
            | "/auth/refresh"
            | "/auth/verify-email"
            | "/auth/forgot-password"
            | "/auth/reset-password"
    ) || path.starts_with("/auth/2fa/")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Auth,
    Write,
    Read,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Auth => "auth",
            Tier::Write => "write",
            Tier::Read => "read",
        }
    }
}

pub fn tier_of(method: &Method, path: &str) -> Option<Tier> {
    if EXEMPT.contains(&path) || *method == Method::OPTIONS {
        return None;
    }
    if *method == Method::GET || *method == Method::HEAD {
        return Some(Tier::Read);
    }
    if is_auth_tier(path) {
        Some(Tier::Auth)
    } else {
        Some(Tier::Write)
    }
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.settings.rate_limiting_enabled {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let Some(tier) = tier_of(req.method(), &path) else {
        return next.run(req).await;
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip(peer, req.headers(), &state.settings.trusted_proxies)
        .map(|i| i.to_string())
        .unwrap_or_else(|| "unknown".into());
    let s = &state.settings;
    let (key, rule): (String, Rule) = match tier {
        Tier::Auth => (format!("auth:{path}:{ip}"), s.rate_limit_auth),
        Tier::Write => (
            format!(
                "write:{}",
                caller(&state, req.headers()).unwrap_or(format!("ip:{ip}"))
            ),
            s.rate_limit_write,
        ),
        Tier::Read => (
            format!(
                "read:{}",
                caller(&state, req.headers()).unwrap_or(format!("ip:{ip}"))
            ),
            s.rate_limit_read,
        ),
    };
    let decision = state.limiter.check(&key, rule).await;
    if !decision.allowed {
        state.metrics.rate_limited(tier.name());
        return too_many(decision);
    }
    let mut response = next.run(req).await;
    // A handler with a stricter limit of its own (e.g. verification resend) has already
    // set the headers; it is the most restrictive one that applied.
    if !response.headers().contains_key("x-ratelimit-limit") {
        set_headers(response.headers_mut(), &decision);
    }
    response
}

/// The user a request authenticates as (signature-checked token, no database), so the
/// write and read tiers count per user rather than per shared IP.
fn caller(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let (token, _) = crate::http::auth::access_token_from(headers)?;
    state
        .auth
        .access
        .verify(&token)
        .map(|c| format!("user:{}", c.sub))
}

pub fn set_headers(h: &mut HeaderMap, d: &Decision) {
    for (name, value) in [
        ("x-ratelimit-limit", d.limit.to_string()),
        ("x-ratelimit-remaining", d.remaining.to_string()),
        ("x-ratelimit-reset", (d.reset_at_ms / 1000).to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

/// 429 with `Retry-After`, `retryAfter` and the `X-RateLimit-*` headers.
pub fn too_many(d: Decision) -> Response {
    let mut resp = ApiError::RateLimited {
        retry_after_secs: d.retry_after_secs(valine_store::now_ms()),
    }
    .into_response();
    set_headers(resp.headers_mut(), &d);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers() {
        assert_eq!(tier_of(&Method::POST, "/auth/login"), Some(Tier::Auth));
        assert_eq!(tier_of(&Method::POST, "/auth/2fa/verify"), Some(Tier::Auth));
        assert_eq!(tier_of(&Method::POST, "/auth/logout"), Some(Tier::Write));
        assert_eq!(tier_of(&Method::PUT, "/settings"), Some(Tier::Write));
        assert_eq!(tier_of(&Method::GET, "/auth/me"), Some(Tier::Read));
        assert_eq!(tier_of(&Method::GET, "/health"), None);
        assert_eq!(tier_of(&Method::GET, "/metrics"), None);
    }
}
