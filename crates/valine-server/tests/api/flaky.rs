//! Flaky-test detection over HTTP (SPEC §11): JUnit fixtures, all-or-nothing batches, a
//! seeded synthetic history, branch filtering, history paging, stats and metrics.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};

use crate::internal_keys::{api_key, with_key};
use crate::support::{Db, Spawn, TestApp, assert_error, backends};

fn fixture(name: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/junit");
    std::fs::read(dir.join(name)).unwrap()
}

async fn ingest_json(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    with_key(app, Method::POST, "/internal/tests/ingest", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get_json(app: &TestApp, key: &str, path: &str) -> Value {
    let resp = with_key(app, Method::GET, path, key).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

/// (file, cases, failed + error, retry-passes), counted by hand from each report.
const FIXTURES: &[(&str, u64, usize, u64)] = &[
    ("01-surefire-soda-msteams-flaky.xml", 1, 0, 1),
    ("04-nextest-parry3d.xml", 3, 1, 0),
    ("06-gradle-spring-powerdroid.xml", 3, 1, 0),
    ("09-playwright-digest-repro.xml", 28, 1, 0),
    ("10-pytest-props-xfail.xml", 10, 2, 0),
    ("11-jest-junit-empty-classname.xml", 2, 0, 0),
    ("13-dotnet-trx2junit-xunit.xml", 3, 1, 0),
];

#[tokio::test]
async fn junit_fixtures_ingest_with_hand_counted_results() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let key = api_key(&app, &["tests:write", "tests:read"]).await;
        for (file, cases, failing, retry_passes) in FIXTURES {
            // One branch per fixture, so each one's candidates can be read back alone.
            let branch = file.split('-').next().unwrap();
            let resp = with_key(
                &app,
                Method::POST,
                &format!("/internal/tests/ingest?runId=r-{branch}&commitSha=c1&branch=b{branch}"),
                &key,
            )
            .header("content-type", "application/xml")
            .body(fixture(file))
            .send()
            .await
            .unwrap();
            assert_eq!(resp.status(), 201, "{file}");
            let v: Value = resp.json().await.unwrap();
            assert_eq!(v["count"], *cases, "{file}");
            assert_eq!(v["runId"], format!("r-{branch}"));
            // One run: a failing test is 100 % failing (broken), a retry-pass is flaky.
            let c = get_json(
                &app,
                &key,
                &format!(
                    "/internal/tests/flaky-candidates?minRuns=1&includeBroken=true&branch=b{branch}"
                ),
            )
            .await;
            let list = c["flakyCandidates"].as_array().unwrap();
            let broken = list
                .iter()
                .filter(|x| x["classification"] == "broken")
                .count();
            let retries: u64 = list
                .iter()
                .map(|x| x["retryPasses"].as_u64().unwrap())
                .sum();
            assert_eq!(broken, *failing, "{file}: {c}");
            assert_eq!(retries, *retry_passes, "{file}: {c}");
        }
        // The Surefire retry-pass is flaky on first sight, with evidence.
        let c = get_json(
            &app,
            &key,
            "/internal/tests/flaky-candidates?minRuns=1&branch=b01",
        )
        .await;
        let first = &c["flakyCandidates"][0];
        assert_eq!(first["testName"], "createWebhook");
        assert_eq!(first["classification"], "flaky");
        assert_eq!(first["isFlaky"], true);
        assert!(!first["evidence"].as_array().unwrap().is_empty());
        // History keeps what the report said.
        let h = get_json(
            &app,
            &key,
            "/internal/tests/history?suite=io.sodadata.dependson.soda.integrations.msteams.MicrosoftTeamsCrudTest&testName=createWebhook",
        )
        .await;
        let item = &h["items"][0];
        assert_eq!(item["status"], "passed");
        assert_eq!(item["durationMs"], 683);
        assert_eq!(item["attempt"], 2);
        assert_eq!(item["runId"], "r-01");
        assert_eq!(item["commitSha"], "c1");
        assert_eq!(item["branch"], "b01");
    }
}

#[tokio::test]
async fn malformed_or_invalid_batches_store_nothing() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let key = api_key(&app, &["tests:write", "tests:read", "all"]).await;
        let resp = with_key(&app, Method::POST, "/internal/tests/ingest?runId=x", &key)
            .header("content-type", "application/xml")
            .body("<testsuite name=\"s\">\n  <testcase classname=\"s\" name=\"a\"/>\n  <testcase name=\"b\">\n</testsuite>")
            .send()
            .await
            .unwrap();
        let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
        assert_eq!(body["details"]["line"], "4", "{body}");
        assert!(body["details"]["column"].as_str().is_some());

        // One bad status spoils the whole batch.
        let resp = ingest_json(
            &app,
            &key,
            &json!({"runId": "r1", "tests": [
                {"suite": "s", "testName": "a", "status": "passed", "durationMs": 3},
                {"suite": "s", "testName": "b", "status": "flaky", "durationMs": 3}]}),
        )
        .await;
        let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
        assert!(
            body["details"]["tests[1].status"].as_str().is_some(),
            "{body}"
        );
        for bad in [
            json!({"tests": []}),
            json!({"tests": [{"suite": "s", "testName": "", "status": "passed"}]}),
            json!({"tests": [{"suite": "s", "testName": "a", "status": "passed", "durationMs": -1}]}),
            json!({"tests": [{"suite": "s", "testName": "a", "status": "passed", "attempt": 0}]}),
            json!({"tests": "nope"}),
            // PostgreSQL cannot store NUL in text: refused up front on every backend.
            json!({"tests": [{"suite": "s\u{0}", "testName": "a", "status": "passed"}]}),
            json!({"tests": [{"suite": "s", "testName": "a", "status": "passed", "file": "a\u{0}.rs"}]}),
        ] {
            let resp = ingest_json(&app, &key, &bad).await;
            assert_error(resp, 400, "VALIDATION_FAILED").await;
        }
        let resp = with_key(&app, Method::POST, "/internal/tests/ingest", &key)
            .header("content-type", "application/json")
            .body("{\"tests\": [")
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "INVALID_JSON").await;
        let resp = with_key(&app, Method::POST, "/internal/tests/ingest", &key)
            .header("content-type", "text/plain")
            .body("passed")
            .send()
            .await
            .unwrap();
        assert_error(resp, 415, "UNSUPPORTED_MEDIA_TYPE").await;
        let too_many: Vec<Value> = (0..50_001)
            .map(|i| json!({"suite": "s", "testName": format!("t{i}"), "status": "passed"}))
            .collect();
        let resp = ingest_json(&app, &key, &json!({"tests": too_many})).await;
        assert_error(resp, 413, "PAYLOAD_TOO_LARGE").await;

        let h = get_json(&app, &key, "/internal/tests/history?suite=s&testName=a").await;
        assert_eq!(h["items"].as_array().unwrap().len(), 0, "nothing stored");
        let stats = get_json(&app, &key, "/internal/stats").await;
        assert_eq!(stats["phase5"]["resultsIngested"], 0);
        assert_eq!(stats["phase5"]["batchesFailed"], 12, "{stats}");

        // A raw NUL byte in a report's name is stored as U+FFFD, not a 500 from the
        // database; an unresolvable `&#0;` is kept as written.
        for (name, stored) in [("a\0b", "a%EF%BF%BDb"), ("c&#0;d", "c%26%230%3Bd")] {
            let resp = with_key(&app, Method::POST, "/internal/tests/ingest?runId=nul", &key)
                .header("content-type", "application/xml")
                .body(format!(
                    "<testsuite name=\"s\"><testcase classname=\"s\" name=\"{name}\"/></testsuite>"
                ))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
            let h = get_json(
                &app,
                &key,
                &format!("/internal/tests/history?suite=s&testName={stored}"),
            )
            .await;
            assert_eq!(h["items"].as_array().unwrap().len(), 1, "{name:?}: {h}");
        }
    }
}

/// A tiny deterministic generator, so the synthetic history is the same on every run.
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

#[tokio::test]
async fn synthetic_history_finds_flakes_not_streaks_broken_or_infra_failures() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let key = api_key(&app, &["tests:write", "tests:read", "all"]).await;
        let mut rng = Lcg(20_261_128);
        let fillers: Vec<String> = (0..12).map(|i| format!("filler_{i}")).collect();
        for run in 0..30 {
            // Two runs per commit, so a flake can fail and pass on the same commit.
            let commit = format!("c{}", run / 2);
            let mut tests = vec![
                json!({"suite": "Syn", "testName": "random_flake", "durationMs": 10,
                       "status": if rng.next() < 0.35 { "failed" } else { "passed" }}),
                json!({"suite": "Syn", "testName": "same_commit",
                       "status": if run % 2 == 1 && run % 6 == 1 { "failed" } else { "passed" }}),
                json!({"suite": "Syn", "testName": "broken", "status": "error"}),
                // A third failing, as one red streak at the end (no commit both passed and failed).
                json!({"suite": "Syn", "testName": "streak",
                       "status": if run >= 20 { "failed" } else { "passed" }}),
                json!({"suite": "Syn", "testName": "stable", "status": "passed"}),
            ];
            // Retried within the run: failed then passed on attempt 2.
            if run == 4 {
                tests.push(json!({"suite": "Syn", "testName": "retried", "status": "failed", "attempt": 1}));
                tests.push(json!({"suite": "Syn", "testName": "retried", "status": "passed", "attempt": 2}));
            } else {
                tests.push(json!({"suite": "Syn", "testName": "retried", "status": "passed"}));
            }
            for f in &fillers {
                tests.push(json!({"suite": "Syn", "testName": f, "status": "passed"}));
            }
            let resp = ingest_json(
                &app,
                &key,
                &json!({"runId": format!("run-{run}"), "commitSha": commit, "branch": "main", "tests": tests}),
            )
            .await;
            assert_eq!(resp.status(), 201);
            // An infrastructure outage every tenth run: everything fails.
            if run % 10 == 5 {
                let mut all_fail: Vec<Value> = fillers
                    .iter()
                    .map(|f| json!({"suite": "Syn", "testName": f, "status": "failed"}))
                    .collect();
                all_fail.push(json!({"suite": "Syn", "testName": "stable", "status": "error"}));
                let resp = ingest_json(
                    &app,
                    &key,
                    &json!({"runId": format!("outage-{run}"), "commitSha": commit, "branch": "main", "tests": all_fail}),
                )
                .await;
                assert_eq!(resp.status(), 201);
                let v: Value = resp.json().await.unwrap();
                assert_eq!(v["infrastructureFailure"], true);
            }
        }
        let c = get_json(
            &app,
            &key,
            "/internal/tests/flaky-candidates?minRuns=10&windowDays=7",
        )
        .await;
        let names: Vec<&str> = c["flakyCandidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["testName"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"random_flake"), "{db:?} {c}");
        assert!(names.contains(&"same_commit"), "{c}");
        assert!(names.contains(&"retried"), "{c}");
        assert!(!names.contains(&"broken"), "broken only on request: {c}");
        assert!(!names.contains(&"stable"), "{c}");
        assert!(
            names.iter().all(|n| !n.starts_with("filler")),
            "outages excluded: {c}"
        );
        if let Some(pos) = names.iter().position(|n| *n == "streak") {
            for flake in ["random_flake", "same_commit", "retried"] {
                let f = names.iter().position(|n| *n == flake).unwrap();
                assert!(f < pos, "{flake} must rank above the streak: {names:?}");
            }
        }
        assert_eq!(c["totalCandidates"].as_u64().unwrap() as usize, names.len());
        assert_eq!(c["minRuns"], 10);
        assert_eq!(c["windowDays"], 7);
        let same = c["flakyCandidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["testName"] == "same_commit")
            .unwrap();
        assert!(same["mixedOutcomeCommits"].as_u64().unwrap() >= 1, "{same}");
        assert_eq!(same["totalRuns"], 30);
        assert_eq!(same["classification"], "flaky");
        for field in [
            "suite",
            "failedRuns",
            "passedRuns",
            "failureRate",
            "avgDuration",
            "lastRun",
            "isFlaky",
            "flakinessScore",
            "flipRate",
            "retryPasses",
            "evidence",
        ] {
            assert!(!same[field].is_null(), "{field} missing: {same}");
        }

        let c = get_json(
            &app,
            &key,
            "/internal/tests/flaky-candidates?minRuns=10&includeBroken=true",
        )
        .await;
        let broken = c["flakyCandidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["testName"] == "broken")
            .expect("broken listed on request");
        assert_eq!(broken["classification"], "broken");
        assert_eq!(broken["failureRate"], 100.0);
        // Branch filter: nothing ran on `release`.
        let c = get_json(
            &app,
            &key,
            "/internal/tests/flaky-candidates?branch=release",
        )
        .await;
        assert_eq!(c["totalCandidates"], 0);
        let c = get_json(
            &app,
            &key,
            "/internal/tests/flaky-candidates?branch=main&limit=2",
        )
        .await;
        assert_eq!(c["flakyCandidates"].as_array().unwrap().len(), 2);
        assert!(c["totalCandidates"].as_u64().unwrap() >= 3);

        // History: newest first, paged by cursor, covering all 30 runs.
        let mut runs = Vec::new();
        let mut path = "/internal/tests/history?suite=Syn&testName=same_commit&limit=7".to_string();
        loop {
            let page = get_json(&app, &key, &path).await;
            for item in page["items"].as_array().unwrap() {
                runs.push(item["runId"].as_str().unwrap().to_string());
            }
            match page["nextCursor"].as_str() {
                Some(c) => {
                    path = format!(
                        "/internal/tests/history?suite=Syn&testName=same_commit&limit=7&cursor={c}"
                    )
                }
                None => break,
            }
        }
        assert_eq!(runs.len(), 30);
        assert_eq!(runs[0], "run-29");
        assert_eq!(runs[29], "run-0");

        // Stats and metrics see the same world.
        let stats = get_json(&app, &key, "/internal/stats").await;
        let p5 = &stats["phase5"];
        assert_eq!(p5["batchesIngested"], 33);
        assert_eq!(p5["infrastructureFailureRuns"], 3);
        assert_eq!(p5["resultsIngested"], 30 * 18 + 1 + 3 * 13);
        assert!(p5["currentFlakyTests"].as_u64().unwrap() >= 3, "{stats}");
        assert_eq!(p5["currentBrokenTests"], 1, "{stats}");
        assert!(stats["phase4"]["analysesByLevel"].is_object());
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(
            metrics.contains("test_results_ingested_total 580"),
            "{metrics}"
        );
        assert!(metrics.contains("broken_tests_current 1"), "{metrics}");
        assert!(metrics.contains("flaky_tests_current "), "{metrics}");
    }
}

#[tokio::test]
async fn candidate_parameters_are_validated_not_500() {
    let app = Spawn::new(Db::Sqlite).start().await;
    let key = api_key(&app, &["tests:read"]).await;
    for q in [
        "minRuns=0",
        "minRuns=10001",
        "minRuns=abc",
        "minRuns=-1",
        "windowDays=0",
        "windowDays=366",
        "windowDays=99999999999",
        "limit=0",
        "limit=101",
        "includeBroken=maybe",
    ] {
        let resp = with_key(
            &app,
            Method::GET,
            &format!("/internal/tests/flaky-candidates?{q}"),
            &key,
        )
        .send()
        .await
        .unwrap();
        assert_error(resp, 400, "VALIDATION_FAILED").await;
    }
    for q in [
        "suite=s",
        "testName=t",
        "suite=s&testName=t&limit=0",
        "suite=s&testName=t&cursor=!!",
    ] {
        let resp = with_key(
            &app,
            Method::GET,
            &format!("/internal/tests/history?{q}"),
            &key,
        )
        .send()
        .await
        .unwrap();
        assert_error(resp, 400, "VALIDATION_FAILED").await;
    }
    let disabled = Spawn::new(Db::Sqlite)
        .var("FLAKY_DETECTOR_ENABLED", "false")
        .start()
        .await;
    let key = api_key(&disabled, &["all"]).await;
    let resp = with_key(
        &disabled,
        Method::GET,
        "/internal/tests/flaky-candidates",
        &key,
    )
    .send()
    .await
    .unwrap();
    assert_error(resp, 404, "FEATURE_DISABLED").await;
}

/// Every assessed candidate on `main` over the last 30 days (broken tests included, no
/// minimum of runs), by test name, as the replay tests compare them.
async fn main_branch_candidates(
    app: &TestApp,
    now: i64,
) -> std::collections::HashMap<String, valine_ci::flaky::FlakyCandidate> {
    use valine_server::internal::tests::{CandidateQuery, assess};
    let query = CandidateQuery {
        min_runs: 1,
        window_days: 30,
        branch: Some("main".into()),
        limit: 100,
        include_broken: true,
    };
    assess(&app.state.store, &query, now)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.test_name.clone(), c))
        .collect()
}

/// Rollups are kept only for tests that have failed or retry-passed, and a test's stored
/// history is replayed into them at its first failure: on one branch, over three weeks,
/// the result must equal the reference batch analysis of the whole history, with an
/// infrastructure-failure run left out.
#[tokio::test]
async fn tracked_rollups_with_replayed_history_match_the_reference_analysis() {
    use std::collections::{HashMap, HashSet};
    use valine_ci::flaky::{Observation, analyze_history};
    use valine_ci::junit::Status;
    use valine_server::internal::tests::{Batch, DAY_MS, Incoming, ingest_at};

    for db in backends() {
        let app = Spawn::new(db).start().await;
        let now = valine_store::now_ms();
        let start = now - 21 * DAY_MS;
        let mut rng = Lcg(99);
        let names = [
            "late_flake",
            "early_fail",
            "never_fails",
            "retried",
            "broken",
        ];
        let mut main: HashMap<&str, Vec<Observation>> = HashMap::new();
        let mut excluded = HashSet::new();
        for run in 0..63i64 {
            let at = start + run * DAY_MS / 3;
            let branch = if run % 4 == 3 { "feature" } else { "main" };
            let run_id = format!("run-{run}");
            let commit = format!("c{}", run / 2);
            let outage = run == 25;
            let status = |name: &str, rng: &mut Lcg| -> Status {
                let fails = match name {
                    _ if outage => true,
                    "late_flake" => run >= 40 && rng.next() < 0.4,
                    "early_fail" => run == 10 || (run > 10 && rng.next() < 0.3),
                    "broken" => rng.next() < 0.9,
                    _ => false,
                };
                if fails {
                    Status::Failed
                } else {
                    Status::Passed
                }
            };
            let mut results = Vec::new();
            for name in names {
                let status = status(name, &mut rng);
                results.push(Incoming {
                    suite: "Replay".into(),
                    test_name: name.into(),
                    status,
                    duration_ms: run as u64,
                    attempt: 1,
                    retries: 0,
                    file: None,
                    metadata: None,
                });
            }
            if run == 30 && !outage {
                // Failed, then passed on a retry within the run.
                results.push(Incoming {
                    suite: "Replay".into(),
                    test_name: "retried".into(),
                    status: Status::Passed,
                    duration_ms: 1,
                    attempt: 2,
                    retries: 1,
                    file: None,
                    metadata: None,
                });
            }
            // Five tests cannot make an outage; add fillers so the run qualifies.
            for i in 0..5 {
                results.push(Incoming {
                    suite: "Replay".into(),
                    test_name: format!("filler_{i}"),
                    status: if outage {
                        Status::Failed
                    } else {
                        Status::Passed
                    },
                    duration_ms: 1,
                    attempt: 1,
                    retries: 0,
                    file: None,
                    metadata: None,
                });
            }
            if branch == "main" {
                if outage {
                    excluded.insert(run_id.clone());
                }
                for r in &results {
                    if let Some(name) = names.iter().find(|n| **n == r.test_name) {
                        main.entry(name).or_default().push(Observation {
                            run_id: run_id.clone(),
                            commit_sha: Some(commit.clone()),
                            status: r.status,
                            retries: r.retries,
                            duration_ms: r.duration_ms,
                            run_at: at,
                        });
                    }
                }
            }
            let batch = Batch {
                run_id,
                commit_sha: Some(commit),
                branch: Some(branch.into()),
                job_url: None,
                format: "json",
                results,
            };
            let done = ingest_at(&app.state, &batch, "test", at).await.unwrap();
            assert_eq!(done.infrastructure_failure, outage, "run {run}");
        }
        assert!(excluded.len() == 1 || excluded.is_empty());

        let got = main_branch_candidates(&app, now).await;
        // Tests that never failed are not tracked, hence not assessed at all.
        assert!(!got.contains_key("never_fails"), "{got:?}");
        assert!(got.keys().all(|k| !k.starts_with("filler")), "{got:?}");
        for name in ["late_flake", "early_fail", "retried", "broken"] {
            let expected = analyze_history("Replay", name, &main[name], &excluded);
            assert_eq!(got.get(name), Some(&expected), "{db:?} {name}");
        }
    }
}

/// A batch with more first failures than `INLINE_REPLAY_MAX` queues their history replay
/// for the background drain; once drained, the result is as exact as an inline replay.
#[tokio::test]
async fn mass_first_failures_are_replayed_in_the_background_exactly() {
    use std::collections::{HashMap, HashSet};
    use valine_ci::flaky::{Observation, analyze_history};
    use valine_ci::junit::Status;
    use valine_server::internal::tests::{
        Batch, DAY_MS, INLINE_REPLAY_MAX, Incoming, drain_replay_queue, ingest_at,
    };

    for db in backends() {
        let app = Spawn::new(db).start().await;
        let now = valine_store::now_ms();
        let tests = 1_000;
        let fails = |run: i64, i: usize| match run {
            4 => i % 5 < 3,
            5 => i.is_multiple_of(7),
            _ => false,
        };
        assert!((0..tests).filter(|i| fails(4, *i)).count() > INLINE_REPLAY_MAX);
        let mut history: HashMap<usize, Vec<Observation>> = HashMap::new();
        for run in 0..6i64 {
            let at = now - (6 - run) * DAY_MS / 2;
            let results: Vec<Incoming> = (0..tests)
                .map(|i| Incoming {
                    suite: "Mass".into(),
                    test_name: format!("t{i}"),
                    status: if fails(run, i) {
                        Status::Failed
                    } else {
                        Status::Passed
                    },
                    duration_ms: i as u64,
                    attempt: 1,
                    retries: 0,
                    file: None,
                    metadata: None,
                })
                .collect();
            for r in &results {
                let i: usize = r.test_name[1..].parse().unwrap();
                history.entry(i).or_default().push(Observation {
                    run_id: format!("m{run}"),
                    commit_sha: Some(format!("c{run}")),
                    status: r.status,
                    retries: 0,
                    duration_ms: r.duration_ms,
                    run_at: at,
                });
            }
            let batch = Batch {
                run_id: format!("m{run}"),
                commit_sha: Some(format!("c{run}")),
                branch: Some("main".into()),
                job_url: None,
                format: "json",
                results,
            };
            let done = ingest_at(&app.state, &batch, "test", at).await.unwrap();
            assert!(!done.infrastructure_failure);
        }
        // The background drain may have run already; draining again must leave it empty.
        drain_replay_queue(&app.state).await.unwrap();
        assert_eq!(drain_replay_queue(&app.state).await.unwrap(), 0);

        let got = main_branch_candidates(&app, now).await;
        let ever_failed: HashSet<usize> = (0..tests)
            .filter(|i| (0..6).any(|run| fails(run, *i)))
            .collect();
        assert_eq!(got.len(), ever_failed.len(), "{db:?}");
        for i in [0, 1, 2, 7, 14, 21, 35] {
            let name = format!("t{i}");
            let expected = analyze_history("Mass", &name, &history[&i], &HashSet::new());
            assert_eq!(got.get(&name), Some(&expected), "{db:?} {name}");
        }
    }
}
