//! The journey's HTTP client: a browser-like session against the API (cookie jar, CSRF
//! header from the `XSRF-TOKEN` cookie, no `Origin`), plus a cookieless client for the API
//! key call and for signed upload URLs (which may point at another host, e.g. S3, and must
//! never receive the session cookies). Neither follows redirects.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;

use crate::HttpRecord;

/// Why a step failed: words, plus what was expected and what arrived.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub expected: Option<String>,
    pub received: Option<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            expected: None,
            received: None,
        }
    }

    pub fn mismatch(
        message: impl Into<String>,
        expected: impl Into<String>,
        received: impl Into<String>,
    ) -> Failure {
        Failure {
            message: message.into(),
            expected: Some(expected.into()),
            received: Some(received.into()),
        }
    }
}

/// A response whose body was read within the size cap.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `HTTP 500 INTERNAL: message (requestId …)`, or the start of a non-JSON body.
    pub fn describe(&self) -> String {
        let mut out = format!("HTTP {}", self.status);
        match self.json() {
            Some(v) => {
                if let Some(code) = v.get("code").and_then(Value::as_str) {
                    out.push(' ');
                    out.push_str(code);
                }
                if let Some(msg) = v.get("error").and_then(Value::as_str) {
                    out.push_str(": ");
                    out.push_str(msg);
                }
                if let Some(id) = v.get("requestId").and_then(Value::as_str) {
                    out.push_str(&format!(" (requestId {id})"));
                }
            }
            None if !self.body.is_empty() => {
                let text = String::from_utf8_lossy(&self.body);
                let snippet: String = text.chars().take(200).collect();
                out.push_str(": ");
                out.push_str(snippet.trim());
            }
            None => {}
        }
        out
    }
}

pub struct Http {
    /// The API session (cookies).
    api: reqwest::Client,
    jar: Arc<Jar>,
    /// No cookies: API-key calls and signed upload URLs.
    plain: reqwest::Client,
    base: Url,
    max_bytes: usize,
}

impl Http {
    pub fn new(base_url: &str, max_bytes: usize) -> Result<Http, String> {
        let base = Url::parse(base_url.trim_end_matches('/'))
            .map_err(|e| format!("base URL {base_url:?} is not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(format!(
                "base URL {base_url:?} must be http(s)://host[:port]"
            ));
        }
        let jar = Arc::new(Jar::default());
        let user_agent = concat!("valine-journey/", env!("CARGO_PKG_VERSION"));
        let api = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let plain = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Http {
            api,
            jar,
            plain,
            base,
            max_bytes,
        })
    }

    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `base` + `path` (the base may carry a path prefix).
    fn url(&self, path: &str) -> Result<Url, Failure> {
        Url::parse(&format!("{}{path}", self.base()))
            .map_err(|e| Failure::new(format!("cannot build the URL for {path}: {e}")))
    }

    /// The `XSRF-TOKEN` cookie the jar would send to the API.
    fn csrf_token(&self) -> Option<String> {
        let cookies = self.jar.cookies(&self.base)?;
        let cookies = cookies.to_str().ok()?;
        cookies.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == "XSRF-TOKEN").then(|| value.to_string())
        })
    }

    /// A request in the API session: cookies, and the CSRF header on state-changing methods.
    pub async fn api(
        &self,
        record: &mut HttpRecord,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Failure> {
        let url = self.url(path)?;
        let mut req = self.api.request(method.clone(), url);
        if method != Method::GET
            && method != Method::HEAD
            && let Some(token) = self.csrf_token()
        {
            req = req.header("x-csrf-token", token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        self.send(record, method, strip_query(path), req).await
    }

    /// An API-key request without cookies.
    pub async fn with_key(
        &self,
        record: &mut HttpRecord,
        path: &str,
        key: &str,
        body: &Value,
    ) -> Result<Answer, Failure> {
        let req = self.plain.post(self.url(path)?).bearer_auth(key).json(body);
        self.send(record, Method::POST, path.to_string(), req).await
    }

    /// A request to a signed URL handed out by the API (any host), without cookies.
    pub async fn signed(
        &self,
        record: &mut HttpRecord,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        bytes: Vec<u8>,
    ) -> Result<Answer, Failure> {
        let parsed = Url::parse(url)
            .map_err(|e| Failure::new(format!("the upload URL is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Failure::new(format!(
                "the upload URL has scheme {:?}; expected http(s)",
                parsed.scheme()
            )));
        }
        let shown = parsed.path().to_string();
        let req = self
            .plain
            .request(method.clone(), parsed)
            .headers(headers.clone())
            .body(bytes);
        self.send(record, method, shown, req).await
    }

    async fn send(
        &self,
        record: &mut HttpRecord,
        method: Method,
        shown_path: String,
        req: reqwest::RequestBuilder,
    ) -> Result<Answer, Failure> {
        *record = HttpRecord {
            method: method.to_string(),
            path: shown_path.clone(),
            status: None,
        };
        let mut resp = req.send().await.map_err(|e| {
            Failure::mismatch(
                format!("{method} {shown_path}: no response"),
                "an HTTP response",
                error_chain(&e),
            )
        })?;
        let status = resp.status().as_u16();
        record.status = Some(status);
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.max_bytes {
                        return Err(Failure::mismatch(
                            format!("{method} {shown_path}: response body too large"),
                            format!("at most {} bytes", self.max_bytes),
                            format!("HTTP {status} with more than {} bytes", self.max_bytes),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(Failure::mismatch(
                        format!("{method} {shown_path}: the response body broke off"),
                        "a complete body",
                        error_chain(&e),
                    ));
                }
            }
        }
        Ok(Answer { status, body })
    }
}

/// Header map from the `headers` object of an upload ticket.
pub fn header_map(v: Option<&Value>) -> Result<HeaderMap, Failure> {
    let mut map = HeaderMap::new();
    let Some(obj) = v.and_then(Value::as_object) else {
        return Ok(map);
    };
    for (name, value) in obj {
        let value = value.as_str().unwrap_or_default();
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Failure::new(format!("the upload ticket has a bad header {name:?}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| Failure::new(format!("the upload ticket's {name} header is bad")))?;
        map.insert(name, value);
    }
    Ok(map)
}

fn strip_query(path: &str) -> String {
    path.split('?').next().unwrap_or(path).to_string()
}

/// reqwest's error with its sources ("error sending request: connection refused").
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
