//! The three cookies of SPEC §3.2, one `Set-Cookie` header each, with the same attributes
//! when set and when cleared.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::config::Settings;

pub const ACCESS: &str = "access_token";
pub const REFRESH: &str = "refresh_token";
pub const XSRF: &str = "XSRF-TOKEN";

struct Spec {
    name: &'static str,
    path: &'static str,
    same_site: &'static str,
    http_only: bool,
}

const ACCESS_SPEC: Spec = Spec {
    name: ACCESS,
    path: "/",
    same_site: "Lax",
    http_only: true,
};
const REFRESH_SPEC: Spec = Spec {
    name: REFRESH,
    path: "/auth",
    same_site: "Strict",
    http_only: true,
};
// Readable by scripts: the front end copies it into `X-CSRF-Token`.
const XSRF_SPEC: Spec = Spec {
    name: XSRF,
    path: "/",
    same_site: "Lax",
    http_only: false,
};

fn build(settings: &Settings, spec: &Spec, value: &str, max_age: i64) -> Option<HeaderValue> {
    let mut c = format!(
        "{}={}; Path={}; Max-Age={}; SameSite={}",
        spec.name,
        value,
        spec.path,
        max_age.max(0),
        spec.same_site
    );
    if spec.http_only {
        c.push_str("; HttpOnly");
    }
    if settings.is_production() {
        c.push_str("; Secure");
    }
    if let Some(domain) = &settings.cookie_domain {
        c.push_str("; Domain=");
        c.push_str(domain);
    }
    HeaderValue::from_str(&c).ok()
}

/// Values of a freshly issued session.
pub struct Issued<'a> {
    pub access_token: &'a str,
    pub access_max_age: i64,
    pub refresh_token: &'a str,
    pub refresh_max_age: i64,
    pub csrf_token: &'a str,
}

pub fn set_session(headers: &mut HeaderMap, settings: &Settings, issued: &Issued<'_>) {
    // The CSRF cookie lives as long as the session (the seed's expired after 15 minutes,
    // before the access token it protected).
    for v in [
        build(
            settings,
            &ACCESS_SPEC,
            issued.access_token,
            issued.access_max_age,
        ),
        build(
            settings,
            &REFRESH_SPEC,
            issued.refresh_token,
            issued.refresh_max_age,
        ),
        build(
            settings,
            &XSRF_SPEC,
            issued.csrf_token,
            issued.refresh_max_age,
        ),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(header::SET_COOKIE, v);
    }
}

/// Only the CSRF cookie (e.g. `GET /auth/csrf`).
pub fn set_csrf(headers: &mut HeaderMap, settings: &Settings, token: &str, max_age: i64) {
    if let Some(v) = build(settings, &XSRF_SPEC, token, max_age) {
        headers.append(header::SET_COOKIE, v);
    }
}

pub fn clear_session(headers: &mut HeaderMap, settings: &Settings) {
    for spec in [&ACCESS_SPEC, &REFRESH_SPEC, &XSRF_SPEC] {
        if let Some(v) = build(settings, spec, "", 0) {
            headers.append(header::SET_COOKIE, v);
        }
    }
}

/// The value of cookie `name` from the request's `Cookie` headers. Header values that are
/// not valid UTF-8 are ignored rather than rejected.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}
