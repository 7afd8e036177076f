//! Hostile input gets a 4xx in the error shape — never a 5xx, never a crash.

use axum::Router;
use axum::routing::{get, post};
use proptest::prelude::*;
use serde::Deserialize;
use valine_server::http::extract::ValidJson;

use crate::support::{Db, Spawn, TestApp, assert_error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Echo {
    name: String,
    count: u32,
}

/// A JSON route and a panicking route, mounted only in tests.
fn test_routes() -> Router<valine_server::AppState> {
    Router::new()
        .route(
            "/test/echo",
            post(|ValidJson(e): ValidJson<Echo>| async move { e.name }),
        )
        .route(
            "/test/panic",
            get(|| async {
                let v: Vec<u8> = Vec::new();
                // Deliberate out-of-bounds access: a bug in a handler.
                #[allow(clippy::indexing_slicing)]
                let x = v[3];
                x.to_string()
            }),
        )
}

async fn app() -> TestApp {
    Spawn::new(Db::Sqlite).routes(test_routes()).start().await
}

#[tokio::test]
async fn table_of_bad_requests() {
    let app = app().await;
    let json = "application/json";
    let huge = format!(
        "{{\"name\":\"{}\",\"count\":1}}",
        "a".repeat(2 * 1024 * 1024)
    );
    // (case, content type, body, status, code)
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "not json",
            Some(json),
            b"{not json".to_vec(),
            400,
            "INVALID_JSON",
        ),
        ("empty body", Some(json), vec![], 400, "INVALID_JSON"),
        (
            "truncated",
            Some(json),
            b"{\"name\":".to_vec(),
            400,
            "INVALID_JSON",
        ),
        (
            "wrong type",
            Some(json),
            br#"{"name":1,"count":1}"#.to_vec(),
            400,
            "VALIDATION_FAILED",
        ),
        (
            "negative",
            Some(json),
            br#"{"name":"a","count":-1}"#.to_vec(),
            400,
            "VALIDATION_FAILED",
        ),
        (
            "overflow",
            Some(json),
            br#"{"name":"a","count":99999999999}"#.to_vec(),
            400,
            "VALIDATION_FAILED",
        ),
        (
            "missing field",
            Some(json),
            br#"{"name":"a"}"#.to_vec(),
            400,
            "VALIDATION_FAILED",
        ),
        (
            "unknown field",
            Some(json),
            br#"{"name":"a","count":1,"x":2}"#.to_vec(),
            400,
            "VALIDATION_FAILED",
        ),
        (
            "array",
            Some(json),
            b"[1,2,3]".to_vec(),
            400,
            "VALIDATION_FAILED",
        ),
        (
            "invalid utf8",
            Some(json),
            b"{\"name\":\"\xff\xfe\",\"count\":1}".to_vec(),
            400,
            "INVALID_JSON",
        ),
        (
            "no content type",
            None,
            br#"{"name":"a","count":1}"#.to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "text/plain",
            Some("text/plain"),
            br#"{"name":"a","count":1}"#.to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "huge",
            Some(json),
            huge.into_bytes(),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
    ];
    for (name, ctype, body, status, code) in cases {
        let mut req = app.client.post(app.url("/test/echo")).body(body);
        if let Some(c) = ctype {
            req = req.header("content-type", c);
        }
        let resp = req.send().await.unwrap();
        let got = resp.status().as_u16();
        assert_eq!(got, status, "case {name}");
        assert_error(resp, status, code).await;
    }
    // And the good request works.
    let ok = app
        .client
        .post(app.url("/test/echo"))
        .json(&serde_json::json!({"name": "fine", "count": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn hostile_paths_headers_and_methods() {
    let app = app().await;
    // Percent-encoded invalid UTF-8 and control characters in the path.
    for path in [
        "/%FF%FE",
        "/profiles/%C0%80",
        "/..%2F..%2Fetc%2Fpasswd",
        "/health/%00",
    ] {
        let resp = app.get(path).await;
        assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
        assert!(resp.json::<serde_json::Value>().await.unwrap()["code"].is_string());
    }
    // Invalid UTF-8 bytes in header values are tolerated.
    let resp = app
        .client
        .get(app.url("/health"))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .header(
            "x-request-id",
            reqwest::header::HeaderValue::from_bytes(b"\xe9\xe9").unwrap(),
        )
        .header(
            "cookie",
            reqwest::header::HeaderValue::from_bytes(b"access_token=\xff").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Wrong method on a known route.
    let resp = app.client.delete(app.url("/health")).send().await.unwrap();
    assert_error(resp, 405, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn a_panicking_handler_is_a_bare_500_and_the_server_keeps_serving() {
    let app = app().await;
    let resp = app.get("/test/panic").await;
    let body = assert_error(resp, 500, "INTERNAL").await;
    let text = body.to_string();
    assert!(!text.contains("index out of bounds"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert_eq!(body["error"], "Internal server error");
    assert_eq!(app.get("/health").await.status(), 200);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Arbitrary bytes as a JSON body, with arbitrary content types: never a 5xx.
    #[test]
    fn arbitrary_bodies_never_cause_5xx(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        ctype in prop_oneof![
            Just("application/json"), Just("text/plain"), Just("application/xml"),
            Just("application/json; charset=utf-8"), Just("multipart/form-data")
        ],
    ) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let app = shared_app().await;
            let resp = app.client.post(app.url("/test/echo"))
                .header("content-type", ctype)
                .body(body)
                .send().await.unwrap();
            let status = resp.status().as_u16();
            prop_assert!(status < 500, "status {}", status);
            if status >= 400 {
                let v: serde_json::Value = resp.json().await.unwrap();
                prop_assert!(v["code"].is_string());
            }
            Ok(())
        })?;
    }
}

/// One server for all proptest cases (each case has its own runtime, so the server runs on
/// a dedicated thread with its own runtime).
async fn shared_app() -> SharedApp {
    static ADDR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let base = ADDR
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().unwrap();
                rt.block_on(async move {
                    let app = app().await;
                    tx.send(app.base.clone()).unwrap();
                    std::future::pending::<()>().await;
                });
            });
            rx.recv().unwrap()
        })
        .clone();
    SharedApp {
        base,
        client: reqwest::Client::new(),
    }
}

struct SharedApp {
    base: String,
    client: reqwest::Client,
}

impl SharedApp {
    fn url(&self, p: &str) -> String {
        format!("{}{}", self.base, p)
    }
}
