//! PR intelligence over HTTP (SPEC §10): signatures, replays, GitHub events, server-side
//! risk, history and the riskiest-first list.

use reqwest::Method;
use serde_json::{Value, json};
use valine_ci::signature::sign_github;

use crate::internal_keys::{api_key, with_key};
use crate::support::{Spawn, TestApp, assert_error, backends, raw_client};

const SECRET: &str = "It's a Secret to Everybody";

async fn signed(app: &TestApp, body: &[u8], headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = raw_client()
        .post(app.url("/internal/pr-intel/ingest"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign_github(SECRET.as_bytes(), body))
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

fn file(path: &str, additions: u64, deletions: u64, status: &str) -> Value {
    json!({"path": path, "additions": additions, "deletions": deletions, "status": status})
}

#[tokio::test]
async fn githubs_published_test_vector_verifies_over_http() {
    let app = Spawn::new(crate::support::Db::Sqlite)
        .var("PR_INTEL_WEBHOOK_SECRET", SECRET)
        .start()
        .await;
    let resp = raw_client()
        .post(app.url("/internal/pr-intel/ingest"))
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header(
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )
        .body("Hello, World!")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "pong");
}

#[tokio::test]
async fn bad_signatures_are_403_and_unknown_keys_401_never_500() {
    let app = Spawn::new(crate::support::Db::Sqlite)
        .var("PR_INTEL_WEBHOOK_SECRET", SECRET)
        .start()
        .await;
    let body = json!({"prNumber": 1}).to_string();
    let wrong_secret = sign_github(b"another secret", body.as_bytes());
    let short = format!("sha256={}", "a".repeat(63));
    let sha1 = format!("sha1={}", "a".repeat(40));
    let upper = sign_github(SECRET.as_bytes(), body.as_bytes()).replace("sha256=", "SHA256=");
    for header in [
        None,
        Some(""),
        Some("sha256=invalid"),
        Some(short.as_str()),
        Some(sha1.as_str()),
        Some(wrong_secret.as_str()),
        Some(upper.as_str()),
        Some("sha256=zz57107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1"),
    ] {
        let mut req = raw_client()
            .post(app.url("/internal/pr-intel/ingest"))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(h) = header {
            req = req.header("x-hub-signature-256", h);
        }
        let resp = req.send().await.unwrap();
        assert_error(resp, 403, "INVALID_SIGNATURE").await;
    }
    // Signed over different bytes than were sent.
    let resp = raw_client()
        .post(app.url("/internal/pr-intel/ingest"))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            sign_github(SECRET.as_bytes(), b"{\"prNumber\": 2}"),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "INVALID_SIGNATURE").await;
    // An Authorization header means "judge me by my key": an unknown key is 401 even with
    // a valid signature.
    let resp = raw_client()
        .post(app.url("/internal/pr-intel/ingest"))
        .bearer_auth("vk_unknown")
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            sign_github(SECRET.as_bytes(), body.as_bytes()),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "UNAUTHORIZED").await;
    // A key without pr-intel:write is 403 FORBIDDEN.
    let reader = api_key(&app, &["pr-intel:read"]).await;
    let resp = with_key(&app, Method::POST, "/internal/pr-intel/ingest", &reader)
        .json(&json!({"prNumber": 1}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 403, "FORBIDDEN").await;

    // Without a configured secret no signature can be valid.
    let unsigned = Spawn::new(crate::support::Db::Sqlite).start().await;
    let resp = signed(&unsigned, body.as_bytes(), &[]).await;
    assert_error(resp, 403, "INVALID_SIGNATURE").await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("pr_intel_signature_rejections_total{reason=\"malformed\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn sensitive_small_pr_outscores_large_docs_pr_and_client_score_is_not_trusted() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let key = api_key(&app, &["pr-intel:write", "pr-intel:read"]).await;
        let risky = json!({
            "prNumber": 101, "repository": "acme/app", "title": "Session hardening",
            "author": "ada", "headSha": "abc123",
            "riskScore": 5,
            "files": [
                file("src/auth/session.rs", 40, 12, "modified"),
                file("migrations/0003_add_sessions.sql", 25, 0, "added"),
                file(".github/workflows/ci.yml", 6, 2, "modified"),
            ]
        });
        let docs_files: Vec<Value> = (0..40)
            .map(|i| file(&format!("docs/guide/page-{i}.md"), 60, 20, "modified"))
            .collect();
        let docs = json!({"prNumber": 102, "repository": "acme/app", "riskScore": 99,
                          "files": docs_files});
        let mut results = Vec::new();
        for body in [&risky, &docs] {
            let resp = with_key(&app, Method::POST, "/internal/pr-intel/ingest", &key)
                .json(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201, "{db:?}");
            let v: Value = resp.json().await.unwrap();
            assert!(v["id"].as_str().is_some());
            results.push(v);
        }
        let (r, d) = (&results[0], &results[1]);
        assert_eq!(r["prNumber"], 101);
        let (rs, ds) = (
            r["riskScore"].as_i64().unwrap(),
            d["riskScore"].as_i64().unwrap(),
        );
        assert!(rs > ds, "sensitive PR {rs} must outscore docs PR {ds}");
        assert!(["medium", "high", "critical"].contains(&r["level"].as_str().unwrap()));
        let reasons = r["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty());
        let text = reasons
            .iter()
            .map(|x| x.as_str().unwrap().to_lowercase())
            .collect::<Vec<_>>()
            .join(" | ");
        assert!(text.contains("sensitive"), "{text}");
        assert!(!d["reasons"].as_array().unwrap().is_empty());
        // The level follows the documented thresholds.
        let level_of = |s: i64| match s {
            0..30 => "low",
            30..60 => "medium",
            60..80 => "high",
            _ => "critical",
        };
        assert_eq!(r["level"], level_of(rs));
        assert_eq!(d["level"], level_of(ds));

        let resp = with_key(&app, Method::GET, "/internal/pr-intel/101", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let h: Value = resp.json().await.unwrap();
        assert_eq!(h["totalAnalyses"], 1);
        assert_eq!(h["latestRiskScore"], rs);
        assert_eq!(h["latestLevel"], r["level"]);
        let rec = &h["records"][0];
        assert_eq!(rec["clientRiskScore"], 5.0);
        assert_eq!(
            rec["riskScore"], rs,
            "the client's 5 is not the stored score"
        );
        assert_eq!(rec["sensitivePathsCount"].as_i64().unwrap(), 3);
        assert_eq!(rec["changedFilesCount"], 3);
        assert_eq!(rec["repository"], "acme/app");
        assert!(rec["createdAt"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            app.state
                .store
                .count_events("pr_intel_ingested")
                .await
                .unwrap(),
            2
        );
    }
}

#[tokio::test]
async fn github_events_replays_and_ignored_actions() {
    for db in backends() {
        let app = Spawn::new(db)
            .var("PR_INTEL_WEBHOOK_SECRET", SECRET)
            .start()
            .await;
        let event = |action: &str| {
            json!({
                "action": action, "number": 77,
                "pull_request": {"number": 77, "title": "Big change", "user": {"login": "octo"},
                    "head": {"sha": "deadbeef", "ref": "feature"}, "base": {"ref": "main"},
                    "additions": 1800, "deletions": 300, "changed_files": 45},
                "repository": {"full_name": "acme/app"}
            })
            .to_string()
        };
        let opened = event("opened");
        let resp = signed(
            &app,
            opened.as_bytes(),
            &[
                ("x-github-event", "pull_request"),
                ("x-github-delivery", "d-1"),
            ],
        )
        .await;
        assert_eq!(resp.status(), 201, "{db:?}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["prNumber"], 77);
        assert!(v["riskScore"].as_i64().unwrap() > 0);

        let resp = signed(
            &app,
            opened.as_bytes(),
            &[
                ("x-github-event", "pull_request"),
                ("x-github-delivery", "d-1"),
            ],
        )
        .await;
        assert_error(resp, 409, "CONFLICT").await;

        let sync = event("synchronize");
        let resp = signed(
            &app,
            sync.as_bytes(),
            &[
                ("x-github-event", "pull_request"),
                ("x-github-delivery", "d-2"),
            ],
        )
        .await;
        assert_eq!(resp.status(), 201);

        let closed = event("closed");
        let resp = signed(
            &app,
            closed.as_bytes(),
            &[
                ("x-github-event", "pull_request"),
                ("x-github-delivery", "d-3"),
            ],
        )
        .await;
        assert_eq!(resp.status(), 202);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["ignored"], true);
        assert!(v["message"].as_str().is_some());

        let key = api_key(&app, &["pr-intel:read"]).await;
        let h: Value = with_key(
            &app,
            Method::GET,
            "/internal/pr-intel/77?repository=acme/app",
            &key,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(h["totalAnalyses"], 2, "closed was not analysed: {h}");
        assert_eq!(
            h["records"][0]["metadata"]["action"], "synchronize",
            "newest first"
        );
        assert_eq!(h["records"][0]["author"], "octo");
        assert_eq!(h["records"][0]["source"], "webhook");
        let resp = with_key(
            &app,
            Method::GET,
            "/internal/pr-intel/77?repository=other/repo",
            &key,
        )
        .send()
        .await
        .unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;

        // Broken bodies are 4xx even when correctly signed.
        for (body, code) in [
            ("{not json", "INVALID_JSON"),
            ("{\"prNumber\": \"x\"}", "VALIDATION_FAILED"),
            ("{\"prNumber\": 0}", "VALIDATION_FAILED"),
            ("{\"prNumber\": 3, \"riskScore\": 140}", "VALIDATION_FAILED"),
        ] {
            let resp = signed(&app, body.as_bytes(), &[]).await;
            assert_error(resp, 400, code).await;
        }
    }
}

#[tokio::test]
async fn list_is_riskiest_first_paginated_and_validated() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let key = api_key(&app, &["pr-intel:write", "pr-intel:read"]).await;
        let shapes = [
            vec![file("README.md", 3, 1, "modified")],
            vec![
                file("src/auth/password.rs", 200, 50, "modified"),
                file("Dockerfile", 5, 1, "modified"),
            ],
            vec![
                file("src/lib.rs", 120, 40, "modified"),
                file("tests/lib.rs", 60, 0, "added"),
            ],
            vec![
                file("migrations/0001_init.sql", 10, 40, "modified"),
                file(".github/workflows/deploy.yml", 10, 2, "modified"),
                file("secrets/prod.pem", 1, 1, "added"),
            ],
        ];
        for (i, files) in shapes.iter().enumerate() {
            let resp = with_key(&app, Method::POST, "/internal/pr-intel/ingest", &key)
                .json(&json!({"prNumber": i + 1, "files": files}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/internal/pr-intel?limit=3&cursor={c}"),
                None => "/internal/pr-intel?limit=3".to_string(),
            };
            let page: Value = with_key(&app, Method::GET, &path, &key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for item in page["items"].as_array().unwrap() {
                seen.push(item["riskScore"].as_i64().unwrap());
            }
            if page["hasMore"] == false {
                assert!(page["nextCursor"].is_null());
                break;
            }
            cursor = Some(page["nextCursor"].as_str().unwrap().to_string());
        }
        assert_eq!(seen.len(), 4, "{db:?}");
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "riskiest first");
        let min = seen[1];
        let page: Value = with_key(
            &app,
            Method::GET,
            &format!("/internal/pr-intel?minRisk={min}"),
            &key,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert!(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["riskScore"].as_i64().unwrap() >= min)
        );
        assert!(page["items"].as_array().unwrap().len() >= 2);

        for bad in [
            "/internal/pr-intel?minRisk=101",
            "/internal/pr-intel?minRisk=abc",
            "/internal/pr-intel?limit=0",
            "/internal/pr-intel?limit=101",
            "/internal/pr-intel?cursor=%%%",
            "/internal/pr-intel/abc",
            "/internal/pr-intel/-3",
        ] {
            let resp = with_key(&app, Method::GET, bad, &key).send().await.unwrap();
            assert_error(resp, 400, "VALIDATION_FAILED").await;
        }
        let resp = with_key(&app, Method::GET, "/internal/pr-intel/999", &key)
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;
    }
}

#[tokio::test]
async fn disabled_pr_intel_is_feature_disabled() {
    let app = Spawn::new(crate::support::Db::Sqlite)
        .var("PR_INTEL_ENABLED", "false")
        .start()
        .await;
    let key = api_key(&app, &["all"]).await;
    for (method, path) in [
        (Method::POST, "/internal/pr-intel/ingest"),
        (Method::GET, "/internal/pr-intel"),
        (Method::GET, "/internal/pr-intel/1"),
    ] {
        let resp = with_key(&app, method, path, &key)
            .json(&json!({"prNumber": 1}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "FEATURE_DISABLED").await;
    }
}
