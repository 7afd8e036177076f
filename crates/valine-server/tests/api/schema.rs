//! Schema migration risk over HTTP (SPEC §12, §16 phase 6): the seed shape on real schema
//! histories, positioned 422s, scopes, the kill switch, body validation, metrics and stats.

use std::collections::BTreeSet;
use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};

use crate::internal_keys::{api_key, with_key};
use crate::support::{Db, Spawn, TestApp, assert_error, backends, raw_client};

const PATH: &str = "/internal/schema/diff";

/// The Prisma fixture versions, oldest first (file names sort by version).
fn fixture_versions() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/prisma");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "prisma"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 2, "fixtures missing in {}", dir.display());
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

async fn post_diff(app: &TestApp, key: &str, base: &str, target: &str) -> reqwest::Response {
    with_key(app, Method::POST, PATH, key)
        .json(&json!({"baseSchema": base, "targetSchema": target}))
        .send()
        .await
        .unwrap()
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// The value of an unlabelled or labelled Prometheus sample, 0 when absent.
fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn fixture_pairs_give_the_seed_shape_and_are_counted() {
    let versions = fixture_versions();
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let key = api_key(&app, &["schema"]).await;
        let mut by_severity = std::collections::BTreeMap::<String, u64>::new();
        let mut saw_operations = false;
        for pair in versions.windows(2) {
            let resp = post_diff(&app, &key, &pair[0], &pair[1]).await;
            assert_eq!(resp.status(), 200);
            let body: Value = resp.json().await.unwrap();
            assert_eq!(
                keys(&body),
                BTreeSet::from([
                    "operations",
                    "riskScore",
                    "severity",
                    "windowRecommendation",
                    "summary",
                    "warnings"
                ]),
                "{body}"
            );
            assert_eq!(
                keys(&body["summary"]),
                BTreeSet::from([
                    "totalOperations",
                    "addModels",
                    "dropModels",
                    "addFields",
                    "dropFields",
                    "alterTypes",
                    "hasDestructive",
                    "hasTypeChanges"
                ])
            );
            let ops = body["operations"].as_array().unwrap();
            saw_operations |= !ops.is_empty();
            assert_eq!(body["summary"]["totalOperations"], ops.len());
            let sum: u64 = ops.iter().map(|o| o["risk"].as_u64().unwrap()).sum();
            assert_eq!(
                body["riskScore"], sum,
                "riskScore is the sum of the weights"
            );
            let expected_severity = match sum {
                s if s > 50 => "high",
                s if s > 20 => "medium",
                _ => "low",
            };
            assert_eq!(body["severity"], expected_severity);
            for op in ops {
                for field in ["type", "model", "table", "risk", "destructive", "reason"] {
                    assert!(!op[field].is_null(), "{field} missing in {op}");
                }
            }
            // The server adapts the library and adds nothing: same analysis as offline.
            let offline = valine_prisma::analyze(&pair[0], &pair[1]).unwrap();
            assert_eq!(body, serde_json::to_value(&offline).unwrap());
            *by_severity
                .entry(body["severity"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        assert!(saw_operations, "the fixture history has real changes");

        // Identical schemas: nothing to migrate.
        let resp = post_diff(&app, &key, &versions[0], &versions[0]).await;
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["operations"], json!([]));
        assert_eq!(body["riskScore"], 0);
        assert_eq!(body["windowRecommendation"], "low-traffic");
        *by_severity.entry("low".into()).or_default() += 1;

        let metrics = app.get("/metrics").await.text().await.unwrap();
        let stats_key = api_key(&app, &["all"]).await;
        let stats: Value = with_key(&app, Method::GET, "/internal/stats", &stats_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let phase6 = &stats["phase6"];
        let total: u64 = by_severity.values().sum();
        assert_eq!(phase6["diffsRun"], total, "{stats}");
        assert_eq!(phase6["invalidSchemas"], 0);
        for severity in ["low", "medium", "high"] {
            let n = by_severity.get(severity).copied().unwrap_or(0);
            assert_eq!(
                sample(
                    &metrics,
                    &format!("schema_diffs_total{{severity=\"{severity}\"}}")
                ),
                n,
                "{severity}: {metrics}"
            );
            assert_eq!(phase6["diffsBySeverity"][severity], n, "{stats}");
        }
    }
}

#[tokio::test]
async fn seed_cases_add_then_drop_a_field() {
    let app = TestApp::sqlite().await;
    let key = api_key(&app, &["schema"]).await;
    let without = "model User {\n  id Int @id\n}\n";
    let with = "model User {\n  id       Int    @id\n  username String\n}\n";
    let added: Value = post_diff(&app, &key, without, with)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(added["operations"][0]["type"], "addField");
    assert_eq!(added["operations"][0]["column"], "username");
    assert_eq!(added["riskScore"], 2);
    assert_eq!(added["summary"]["addFields"], 1);
    // Required without a default on an existing table: warned.
    assert!(!added["warnings"].as_array().unwrap().is_empty(), "{added}");

    let dropped: Value = post_diff(&app, &key, with, without)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dropped["operations"][0]["type"], "dropField");
    assert_eq!(dropped["operations"][0]["destructive"], true);
    assert_eq!(dropped["summary"]["hasDestructive"], true);
    assert_eq!(dropped["windowRecommendation"], "scheduled-maintenance");
}

#[tokio::test]
async fn an_invalid_schema_is_422_with_its_position() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let key = api_key(&app, &["schema"]).await;
        let good = "model A {\n  id Int @id\n}\n";
        // Prisma rejects a block whose `{` is on the next line.
        let brace_below = "// v2\nmodel A\n{\n  id Int @id\n}\n";
        let resp = post_diff(&app, &key, good, brace_below).await;
        let body = assert_error(resp, 422, "UNPROCESSABLE").await;
        assert_eq!(body["details"]["line"], "3", "{body}");
        assert_eq!(body["details"]["column"], "1", "{body}");
        assert_eq!(body["details"]["side"], "target", "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("line 3, column 1"),
            "{body}"
        );

        // A semantic error in the base: a field of an unknown type.
        let unknown_type = "model A {\n  id Int @id\n  x  Nope\n}\n";
        let resp = post_diff(&app, &key, unknown_type, good).await;
        let body = assert_error(resp, 422, "UNPROCESSABLE").await;
        assert_eq!(body["details"]["side"], "base", "{body}");
        assert_eq!(body["details"]["line"], "3", "{body}");

        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert_eq!(
            sample(&metrics, "schema_diffs_invalid_total"),
            2,
            "{metrics}"
        );
        assert_eq!(
            sample(&metrics, "schema_diffs_total{severity=\"low\"}"),
            0,
            "{metrics}"
        );
        let all = api_key(&app, &["all"]).await;
        let stats: Value = with_key(&app, Method::GET, "/internal/stats", &all)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(stats["phase6"]["invalidSchemas"], 2, "{stats}");
        assert_eq!(stats["phase6"]["diffsRun"], 0, "{stats}");
    }
}

#[tokio::test]
async fn schema_diff_needs_a_key_with_the_schema_scope() {
    let app = TestApp::sqlite().await;
    let body = json!({"baseSchema": "", "targetSchema": ""});
    let resp = raw_client()
        .post(app.url(PATH))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "UNAUTHORIZED").await;
    // Authentication comes before body validation: no key and a bad body is still 401.
    let resp = raw_client()
        .post(app.url(PATH))
        .json(&json!({"baseSchema": 1}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "UNAUTHORIZED").await;
    let resp = with_key(&app, Method::POST, PATH, "vk_not-a-real-key")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(resp, 401, "UNAUTHORIZED").await;

    for scopes in [&["pr-intel:read", "tests:write"][..], &["journey"][..]] {
        let wrong = api_key(&app, scopes).await;
        let resp = post_diff(&app, &wrong, "", "").await;
        assert_error(resp, 403, "FORBIDDEN").await;
    }
    for scopes in [&["schema"][..], &["all"][..]] {
        let right = api_key(&app, scopes).await;
        let resp = post_diff(&app, &right, "", "").await;
        assert_eq!(resp.status(), 200, "{scopes:?}");
    }
}

#[tokio::test]
async fn kill_switch_answers_feature_disabled() {
    let app = Spawn::new(Db::Sqlite)
        .var("SCHEMA_DIFF_ENABLED", "false")
        .start()
        .await;
    let key = api_key(&app, &["schema"]).await;
    let resp = post_diff(&app, &key, "", "").await;
    assert_error(resp, 404, "FEATURE_DISABLED").await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(
        sample(&metrics, "schema_diffs_total{severity=\"low\"}"),
        0,
        "{metrics}"
    );
}

#[tokio::test]
async fn malformed_bodies_are_4xx_with_the_field() {
    let app = TestApp::sqlite().await;
    let key = api_key(&app, &["schema"]).await;
    let send = |body: String| {
        with_key(&app, Method::POST, PATH, &key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let resp = send(json!({"baseSchema": ""}).to_string()).await.unwrap();
    let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
    assert!(body["details"]["targetSchema"].is_string(), "{body}");

    let resp = send(json!({"baseSchema": 42, "targetSchema": ""}).to_string())
        .await
        .unwrap();
    let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
    assert!(body["details"]["baseSchema"].is_string(), "{body}");

    let resp = send(json!({"baseSchema": null, "targetSchema": ""}).to_string())
        .await
        .unwrap();
    assert_error(resp, 400, "VALIDATION_FAILED").await;

    let resp = send("{\"baseSchema\": ".into()).await.unwrap();
    assert_error(resp, 400, "INVALID_JSON").await;

    // Over the 1 MiB body cap.
    let huge = "/".repeat(1024 * 1024 + 1);
    let resp = send(json!({"baseSchema": huge, "targetSchema": ""}).to_string())
        .await
        .unwrap();
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE").await;

    let resp = with_key(&app, Method::POST, PATH, &key)
        .body(json!({"baseSchema": "", "targetSchema": ""}).to_string())
        .send()
        .await
        .unwrap();
    assert_error(resp, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[tokio::test]
async fn the_route_is_in_the_openapi_document() {
    let app = TestApp::sqlite().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let op = &doc["paths"][PATH]["post"];
    assert!(op.is_object(), "{}", doc["paths"]);
    assert!(op["responses"]["422"].is_object());
    let analysis = &doc["components"]["schemas"]["SchemaAnalysis"]["properties"];
    assert!(analysis["windowRecommendation"].is_object(), "{analysis}");
}
