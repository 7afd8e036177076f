//! CSRF protection (SPEC §6), one layer over the whole router:
//! 1. Origin: a state-changing request whose `Origin` (or, without one,
//!    `Sec-Fetch-Site: cross-site`) is not allowed is refused — this covers login and
//!    register, which have no session yet. `Origin: null` counts as cross-site.
//! 2. Token: a state-changing request carrying a session cookie must send `X-CSRF-Token`
//!    equal to the `XSRF-TOKEN` cookie and valid (HMAC) for that cookie's session.
//!    Requests with no session cookie (Bearer-only, API keys) are exempt: a browser cannot
//!    forge their credentials.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{cookies, csrf};
use crate::error::ApiError;
use crate::state::AppState;

/// The only routes exempt from the token check, each authenticated by something a browser
/// cannot attach on its own. Entries are route templates: a `{param}` segment matches any
/// one path segment ([`is_exempt`]). Tests read this list.
pub const EXEMPT: &[&str] = &[
    // HMAC-signed webhook (or API key); never carries a session.
    "/internal/pr-intel/ingest",
    // Signed media upload URL (HMAC over media id, expiry, size and type); the signature,
    // not a session, authorises it, so cookies a browser attaches add nothing to forge.
    "/media/upload/{id}",
];

/// Whether `path` matches an [`EXEMPT`] template.
pub fn is_exempt(path: &str) -> bool {
    EXEMPT.iter().any(|template| {
        let mut want = template.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                    if g.is_empty() {
                        return false;
                    }
                }
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    })
}

/// Why a request was refused (a label of the `csrf_rejections_total` metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Origin,
    Missing,
    Mismatch,
    WrongSession,
}

/// Every reason, for reporting.
pub const REASONS: [Reason; 4] = [
    Reason::Origin,
    Reason::Missing,
    Reason::Mismatch,
    Reason::WrongSession,
];

impl Reason {
    pub fn label(self) -> &'static str {
        match self {
            Reason::Origin => "origin",
            Reason::Missing => "missing",
            Reason::Mismatch => "mismatch",
            Reason::WrongSession => "wrong_session",
        }
    }
}

fn state_changing(m: &Method) -> bool {
    matches!(
        *m,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state_changing(req.method()) {
        return next.run(req).await;
    }
    let started = Instant::now();
    let verdict = check(&state, req.uri().path(), req.headers()).await;
    state.metrics.csrf_checked(started.elapsed());
    match verdict {
        Ok(()) => next.run(req).await,
        Err(reason) => {
            state.metrics.csrf_rejected(reason.label());
            tracing::warn!(reason = reason.label(), "CSRF check failed");
            ApiError::CsrfFailed.into_response()
        }
    }
}

async fn check(state: &AppState, path: &str, headers: &HeaderMap) -> Result<(), Reason> {
    check_origin(state, headers)?;
    if !state.settings.csrf_enabled || is_exempt(path) {
        return Ok(());
    }
    let access = cookies::read(headers, cookies::ACCESS);
    let refresh = cookies::read(headers, cookies::REFRESH);
    if access.is_none() && refresh.is_none() {
        return Ok(());
    }
    // Cookies that name no session (garbage, or a refresh token never issued) protect
    // nothing; the handler answers 401 for them.
    let Some(session_id) = session_of(state, access.as_deref(), refresh.as_deref()).await else {
        return Ok(());
    };
    let header = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .ok_or(Reason::Missing)?;
    let cookie = cookies::read(headers, cookies::XSRF).ok_or(Reason::Missing)?;
    if !crate::auth::ct_eq(header.as_bytes(), cookie.as_bytes()) {
        return Err(Reason::Mismatch);
    }
    if csrf::valid_for_session(&state.auth.keys.csrf, &session_id, header) {
        Ok(())
    } else {
        Err(Reason::WrongSession)
    }
}

/// The session the cookies belong to: the access token's `sid` (signature checked, expiry
/// not — an expired access token still names its session), else the refresh token's row.
async fn session_of(
    state: &AppState,
    access: Option<&str>,
    refresh: Option<&str>,
) -> Option<String> {
    if let Some(sid) = access.and_then(|t| state.auth.access.session_id_ignoring_expiry(t)) {
        return Some(sid);
    }
    let refresh = refresh?;
    state
        .store
        .refresh_token_by_hash(&crate::auth::tokens::hash_token(refresh))
        .await
        .ok()
        .flatten()
        .map(|row| row.session_id)
}

fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), Reason> {
    if let Some(origin) = headers.get("origin") {
        let origin = origin.to_str().map_err(|_| Reason::Origin)?;
        let allowed = origin != "null"
            && (state.settings.allowed_origins.iter().any(|o| o == origin)
                || origin == state.settings.public_origin());
        return if allowed { Ok(()) } else { Err(Reason::Origin) };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site") => Err(Reason::Origin),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::is_exempt;

    #[test]
    fn exempt_templates_match_one_segment_per_parameter() {
        assert!(is_exempt("/internal/pr-intel/ingest"));
        assert!(is_exempt("/media/upload/0190-abc"));
        assert!(!is_exempt("/media/upload/"));
        assert!(!is_exempt("/media/upload/a/b"));
        assert!(!is_exempt("/media/upload"));
        assert!(!is_exempt("/media/0190-abc"));
        assert!(!is_exempt("/internal/pr-intel/ingest/x"));
    }
}
