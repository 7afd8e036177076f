//! Flaky-detection benchmark (SPEC §15, issue 9): ingest rate over HTTP for JSON and JUnit
//! batches of 50,000 results, then history filled to N stored results over 30 days and two
//! branches, then `GET /internal/tests/flaky-candidates` latency.
//!
//! ```sh
//! cargo run --release -p valine-server --example flaky_bench                 # SQLite
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release -p valine-server --example flaky_bench                # PostgreSQL
//! BENCH_RESULTS=1000000 BENCH_TESTS=2000 …                                    # sizes
//! ```
//! Prints one line per figure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use valine_ci::junit::Status;
use valine_server::config::{Settings, Source};
use valine_server::internal::api_keys::{Scope, create_api_key};
use valine_server::internal::tests::{Batch, DAY_MS, Incoming, ingest_at};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let total: usize = env_usize("BENCH_RESULTS", 1_000_000);
    let tests: usize = env_usize("BENCH_TESTS", 2_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let (backend, url) = match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) => (
            "postgres",
            valine_store::testing::fresh_postgres_url(&admin)
                .await
                .unwrap(),
        ),
        Err(_) => ("sqlite", format!("sqlite://{data}/valine.db")),
    };
    let settings = Settings::load(&Source::from_map(vec![
        ("DATA_DIR".to_string(), data.clone()),
        ("DATABASE_URL".to_string(), url),
        ("REQUEST_TIMEOUT_SECONDS".to_string(), "300".to_string()),
    ]))
    .unwrap();
    let app = valine_server::build_app(settings).await.unwrap();
    let state = app.state().clone();
    let key = create_api_key(&state.store, "bench", &[Scope::All], "bench")
        .await
        .unwrap()
        .key;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app.run(listener, std::future::pending()));
    let client = reqwest::Client::new();
    let mut stored = 0usize;

    // Ingest over HTTP: 50,000-result batches (a large monorepo's run), 4 of each format.
    const BATCH: usize = 50_000;
    let mut rng = Lcg(42);
    let started = Instant::now();
    for run in 0..4 {
        let tests_json: Vec<serde_json::Value> = (0..BATCH)
            .map(|i| {
                serde_json::json!({"suite": format!("ingest.Suite{}", i / 100),
                    "testName": format!("case_{i}"),
                    "status": if rng.next() < 0.01 { "failed" } else { "passed" },
                    "durationMs": (rng.next() * 500.0) as u64})
            })
            .collect();
        let body = serde_json::json!({"runId": format!("json-{run}"), "commitSha": format!("j{run}"),
                                      "branch": "main", "tests": tests_json});
        let resp = client
            .post(format!("{base}/internal/tests/ingest"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    stored += 4 * BATCH;
    println!(
        "{backend}: ingest JSON   {:>9.0} results/s ({} results in {secs:.2} s, batches of {BATCH})",
        (4 * BATCH) as f64 / secs,
        4 * BATCH
    );

    let started = Instant::now();
    for run in 0..4 {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<testsuites>\n");
        for s in 0..BATCH / 100 {
            xml.push_str(&format!("<testsuite name=\"junit.Suite{s}\">\n"));
            for c in 0..100 {
                let t = rng.next();
                xml.push_str(&format!(
                    "<testcase classname=\"junit.Suite{s}\" name=\"case_{c}\" time=\"{:.3}\">",
                    t
                ));
                if t < 0.01 {
                    xml.push_str("<failure message=\"boom\">trace</failure>");
                }
                xml.push_str("</testcase>\n");
            }
            xml.push_str("</testsuite>\n");
        }
        xml.push_str("</testsuites>\n");
        let resp = client
            .post(format!(
                "{base}/internal/tests/ingest?runId=junit-{run}&commitSha=k{run}&branch=main"
            ))
            .bearer_auth(&key)
            .header("content-type", "application/xml")
            .body(xml)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    stored += 4 * BATCH;
    println!(
        "{backend}: ingest JUnit  {:>9.0} results/s ({} results in {secs:.2} s, batches of {BATCH})",
        (4 * BATCH) as f64 / secs,
        4 * BATCH
    );

    // History: `tests` tests, one run each, spread over 30 days and two branches, until
    // `total` results are stored. 5 % of tests flake at 30 %, 1 % are broken, the rest
    // fail 0.1 % of the time; every commit runs twice.
    let runs = total.saturating_sub(stored) / tests;
    let now = valine_store::now_ms();
    let started = Instant::now();
    for run in 0..runs {
        let at = now - 29 * DAY_MS + (run as i64 * 29 * DAY_MS) / runs.max(1) as i64;
        let results: Vec<Incoming> = (0..tests)
            .map(|i| {
                let p = if i % 20 == 0 {
                    0.3
                } else if i % 100 == 1 {
                    0.95
                } else {
                    0.001
                };
                Incoming {
                    suite: format!("app.Suite{}", i / 50),
                    test_name: format!("test_{i}"),
                    status: if rng.next() < p {
                        Status::Failed
                    } else {
                        Status::Passed
                    },
                    duration_ms: (rng.next() * 200.0) as u64,
                    attempt: 1,
                    retries: 0,
                    file: None,
                    metadata: None,
                }
            })
            .collect();
        let batch = Batch {
            run_id: format!("hist-{run}"),
            commit_sha: Some(format!("h{}", run / 2)),
            branch: Some(if run % 3 == 0 { "feature" } else { "main" }.to_string()),
            job_url: None,
            format: "json",
            results,
        };
        ingest_at(&state, &batch, "bench", at).await.unwrap();
    }
    stored += runs * tests;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{backend}: history fill {:>9.0} results/s ({} runs × {tests} tests, in-process)",
        (runs * tests) as f64 / secs,
        runs
    );

    for (label, query) in [
        ("default", "minRuns=10&windowDays=30"),
        (
            "includeBroken",
            "minRuns=10&windowDays=30&includeBroken=true",
        ),
        ("branch=main", "branch=main"),
        ("windowDays=7", "windowDays=7"),
    ] {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..env_usize("BENCH_QUERY_REPEAT", 15) {
            let t = Instant::now();
            let resp = client
                .get(format!("{base}/internal/tests/flaky-candidates?{query}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let v: serde_json::Value = resp.json().await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            found = v["totalCandidates"].as_u64().unwrap();
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "{backend}: flaky-candidates ({label}) at {stored} results: p50 {:.1} ms, max {:.1} ms, {found} candidates",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}
