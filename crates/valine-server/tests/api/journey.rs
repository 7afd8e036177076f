//! Synthetic journeys (SPEC §13): the whole journey over real HTTP against a fresh server
//! leaves nothing behind; a dead media store fails `uploadMedia` and cleanup still runs;
//! the verification-token side door serves journey-domain accounts only; server-side runs
//! are stored, listed and counted.

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};
use valine_journey::{Config, Report, Step, StepStatus};

use crate::internal_keys::{api_key, with_key};
use crate::support::{Spawn, TestApp, assert_error, backends, raw_client};

async fn journey(app: &TestApp, key: Option<&str>) -> Report {
    let mut config = Config::new(app.base.clone());
    config.api_key = key.map(str::to_string);
    valine_journey::run(&config, &mut |_| {}).await
}

/// Regular files under `dir` (the media store), recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The synthetic account left no user, profile or media row behind.
async fn assert_account_gone(app: &TestApp, report: &Report) {
    let store = &app.state.store;
    let email = &report.journey.account.email;
    assert!(
        store.user_by_login(email).await.unwrap().is_none(),
        "user {email} remains"
    );
    let vanity = report.journey.account.username.replace('_', "-");
    assert!(
        store.profile_by_vanity(&vanity).await.unwrap().is_none(),
        "profile {vanity} remains"
    );
    assert_eq!(store.count_users().await.unwrap(), 0);
}

#[tokio::test]
async fn the_whole_journey_passes_and_leaves_nothing_behind() {
    for db in backends() {
        let app = Spawn::new(db).self_addressed().start().await;
        let key = api_key(&app, &["journey"]).await;
        let mut media_seen = Vec::new();
        let mut config = Config::new(app.base.clone());
        config.api_key = Some(key.clone());
        let media_dir = app._dir.path().join("media");
        let report = valine_journey::run(&config, &mut |event| {
            // Right after uploadMedia, the object is really on disk.
            if let valine_journey::Progress::Finished { result, .. } = event
                && result.step == Step::UploadMedia
            {
                media_seen = files_under(&media_dir);
            }
        })
        .await;
        let doc = serde_json::to_value(&report).unwrap();
        assert_eq!(report.journey.status.as_str(), "passed", "{doc:#}");
        let names: Vec<&str> = report
            .journey
            .steps
            .iter()
            .map(|s| s.step.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "register",
                "verify",
                "login",
                "createProfile",
                "uploadMedia",
                "searchSelf",
                "exportData",
                "logout",
                "cleanup"
            ]
        );
        for s in &report.journey.steps {
            assert_eq!(s.status, StepStatus::Passed, "{doc:#}");
            assert!(
                s.http.status.is_some_and(|c| (200..300).contains(&c)),
                "{doc:#}"
            );
        }
        assert_eq!(doc["journey"]["steps"][0]["http"]["status"], 201);
        assert_eq!(doc["journey"]["steps"][0]["http"]["path"], "/auth/register");
        assert_eq!(doc["journey"]["summary"]["successRate"], 100);
        assert_eq!(doc["metadata"]["simulated"], false);
        assert_eq!(doc["metadata"]["apiBaseUrl"], app.base.as_str());
        assert!(
            report
                .journey
                .account
                .email
                .ends_with("@journey.valine.invalid"),
            "{doc}"
        );
        assert!(report.journey.account.username.starts_with("journey_"));
        assert_eq!(
            media_seen.len(),
            1,
            "one stored object after upload: {media_seen:?}"
        );

        assert_account_gone(&app, &report).await;
        assert_eq!(files_under(&media_dir), Vec::<std::path::PathBuf>::new());
    }
}

#[tokio::test]
async fn a_dead_media_store_fails_upload_media_and_cleanup_still_runs() {
    // A path under a regular file: creating the directory fails even for root (chmod
    // would not stop root from writing).
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let media_store = blocker.path().join("media");
    let app = Spawn::new(crate::support::Db::Sqlite)
        .self_addressed()
        .var("MEDIA_STORE", media_store.to_str().unwrap())
        .start()
        .await;
    let key = api_key(&app, &["journey"]).await;
    let report = journey(&app, Some(&key)).await;
    let doc = serde_json::to_value(&report).unwrap();
    assert_eq!(report.journey.status.as_str(), "failed", "{doc:#}");
    let status_of = |name: &str| {
        report
            .journey
            .steps
            .iter()
            .find(|s| s.step.as_str() == name)
            .unwrap()
            .clone()
    };
    for passed in ["register", "verify", "login", "createProfile", "cleanup"] {
        assert_eq!(
            status_of(passed).status,
            StepStatus::Passed,
            "{passed}: {doc:#}"
        );
    }
    let upload = status_of("uploadMedia");
    eprintln!("{}", valine_journey::render::text(&report));
    assert_eq!(upload.status, StepStatus::Failed, "{doc:#}");
    let error = upload.error.clone().unwrap();
    // Useful: names the request, what was expected, what came back, and the request id
    // to find the server's log line.
    assert!(error.contains("/media/"), "{error}");
    assert!(error.contains("expected"), "{error}");
    assert!(
        error.contains("500") && error.contains("requestId"),
        "{error}"
    );
    assert!(upload.expected.is_some() && upload.received.is_some());
    assert_eq!(upload.http.status, Some(500));
    for skipped in ["searchSelf", "exportData", "logout"] {
        let s = status_of(skipped);
        assert_eq!(s.status, StepStatus::Skipped, "{skipped}: {doc:#}");
        assert_eq!(s.http.status, None);
    }
    assert_eq!(doc["journey"]["summary"]["failed"], 1);
    assert_eq!(doc["journey"]["summary"]["skipped"], 3);
    assert_eq!(doc["journey"]["summary"]["successRate"], 56); // 5 of 9
    assert_account_gone(&app, &report).await;
}

#[tokio::test]
async fn the_verification_token_endpoint_serves_pending_journey_accounts_only() {
    for db in backends() {
        let app = Spawn::new(db).start().await;
        let journey_key = api_key(&app, &["journey"]).await;
        let all_key = api_key(&app, &["all"]).await;
        let other_key = api_key(&app, &["tests:write", "schema"]).await;
        let path = "/internal/journey/verification-token";
        let token_for = |key: &str, email: &str| {
            with_key(&app, Method::POST, path, key).json(&json!({"email": email}))
        };

        // An ordinary, unverified account: 404 — the side door does not exist for it.
        let ordinary = app.register("ordinary").await;
        let ordinary_email = app
            .state
            .store
            .user_by_id(&ordinary.user_id)
            .await
            .unwrap()
            .unwrap()
            .email;
        let resp = token_for(&journey_key, &ordinary_email)
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;

        // A pending journey-domain account.
        let email = "journey-probe@journey.valine.invalid";
        let resp = raw_client()
            .post(app.url("/auth/register"))
            .json(
                &json!({"email": email, "password": "Correct-Horse-Battery-9",
                          "username": "journey_probe", "displayName": "Probe"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);

        // Authentication and scope come first.
        let resp = raw_client()
            .post(app.url(path))
            .json(&json!({"email": email}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 401, "UNAUTHORIZED").await;
        let resp = token_for(&other_key, email).send().await.unwrap();
        assert_error(resp, 403, "FORBIDDEN").await;
        // Unknown addresses under the domain, and look-alike domains, are 404 too.
        for wrong in [
            "journey-nobody@journey.valine.invalid",
            "journey-probe@journey.valine.invalid.evil.test",
            "journey-probe@evil-journey.valine.invalid",
        ] {
            let resp = token_for(&journey_key, wrong).send().await.unwrap();
            assert_error(resp, 404, "NOT_FOUND").await;
        }
        let resp = token_for(&journey_key, "  Journey-Probe@JOURNEY.valine.invalid ")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let token = resp.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        // `all` grants the scope too; a newer token retires the older one.
        let resp = token_for(&all_key, email).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let newer = resp.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let verify = |t: &str| {
            raw_client()
                .post(app.url("/auth/verify-email"))
                .json(&json!({"token": t}))
                .send()
        };
        assert_eq!(verify(&token).await.unwrap().status(), 400);
        let resp = verify(&newer).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.json::<Value>().await.unwrap()["verified"], true);

        // Verified now: no more tokens for it.
        let resp = token_for(&journey_key, email).send().await.unwrap();
        assert_error(resp, 404, "NOT_FOUND").await;
        // Missing field is a validation error, not a 404.
        let resp = with_key(&app, Method::POST, path, &journey_key)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "VALIDATION_FAILED").await;
        // Every issue is in the audit log under the key's name.
        let issued = app
            .state
            .store
            .count_events("journey_verification_token_issued")
            .await
            .unwrap();
        assert_eq!(issued, 2);
    }
}

#[tokio::test]
async fn server_runs_target_api_base_url_and_are_stored_listed_and_counted() {
    for db in backends() {
        let app = Spawn::new(db).self_addressed().start().await;
        let key = api_key(&app, &["journey"]).await;
        let all = api_key(&app, &["all"]).await;
        let run = |body: Option<Value>| {
            let req = with_key(&app, Method::POST, "/internal/journey/run", &key);
            match body {
                Some(b) => req.json(&b),
                None => req,
            }
        };
        let resp = run(Some(json!({"scenarios": ["login", "teleport"]})))
            .send()
            .await
            .unwrap();
        let body = assert_error(resp, 400, "VALIDATION_FAILED").await;
        assert!(
            body["error"].as_str().unwrap().contains("teleport"),
            "{body}"
        );
        let resp = with_key(
            &app,
            Method::POST,
            "/internal/journey/run",
            &api_key(&app, &["schema"]).await,
        )
        .send()
        .await
        .unwrap();
        assert_error(resp, 403, "FORBIDDEN").await;

        // An empty body runs the whole journey.
        let resp = run(None).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let full: Value = resp.json().await.unwrap();
        assert_eq!(full["journey"]["status"], "passed", "{full:#}");
        assert_eq!(full["journey"]["steps"].as_array().unwrap().len(), 9);
        assert_eq!(full["metadata"]["simulated"], false);
        assert_eq!(full["metadata"]["apiBaseUrl"], app.base.as_str());

        // A selection runs what it needs, cleanup last.
        let resp = run(Some(json!({"scenarios": ["exportData"]})))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let part: Value = resp.json().await.unwrap();
        let names: Vec<&str> = part["journey"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["step"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["register", "exportData", "cleanup"], "{part:#}");
        assert_eq!(part["journey"]["status"], "passed", "{part:#}");
        assert_eq!(app.state.store.count_users().await.unwrap(), 0);

        // History, newest first, paginated.
        let resp = with_key(&app, Method::GET, "/internal/journey/runs?limit=1", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let page: Value = resp.json().await.unwrap();
        assert_eq!(page["hasMore"], true);
        let newest = &page["items"][0];
        assert_eq!(newest["status"], "passed");
        assert_eq!(newest["summary"]["total"], 3);
        assert_eq!(newest["summary"]["successRate"], 100);
        assert!(newest["totalDuration"].as_i64().unwrap() >= 0);
        assert!(newest["startedAt"].as_str().unwrap().ends_with('Z'));
        let cursor = page["nextCursor"].as_str().unwrap();
        let resp = with_key(
            &app,
            Method::GET,
            &format!("/internal/journey/runs?limit=1&cursor={cursor}"),
            &key,
        )
        .send()
        .await
        .unwrap();
        let page: Value = resp.json().await.unwrap();
        assert_eq!(page["hasMore"], false, "{page}");
        assert_eq!(page["items"][0]["summary"]["total"], 9);
        let resp = with_key(&app, Method::GET, "/internal/journey/runs?limit=0", &key)
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "VALIDATION_FAILED").await;

        // Phase 7 metrics and stats.
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(
            metrics.contains("journey_runs_total{status=\"passed\"} 2"),
            "{metrics}"
        );
        assert!(metrics.contains("journey_success_rate 1"), "{metrics}");
        assert!(
            metrics.contains(
                "journey_step_duration_seconds_count{step=\"uploadMedia\",status=\"passed\"} 1"
            ),
            "{metrics}"
        );
        let resp = with_key(&app, Method::GET, "/internal/stats", &all)
            .send()
            .await
            .unwrap();
        let stats: Value = resp.json().await.unwrap();
        assert_eq!(stats["phase7"]["journeyRuns"], 2, "{stats}");
        assert_eq!(stats["phase7"]["journeyRunsPassed"], 2);
        assert_eq!(stats["phase7"]["successRate"], 1.0);
        assert_eq!(stats["phase7"]["lastRunStatus"], "passed");
        assert_eq!(
            app.state.store.count_events("journey_run").await.unwrap(),
            2
        );
    }
}

#[tokio::test]
async fn a_failed_server_run_is_still_200_and_counted_as_failed() {
    // API_BASE_URL points at a port nothing listens on: register gets no response.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let app = Spawn::new(crate::support::Db::Sqlite)
        .var("API_BASE_URL", &format!("http://{closed}"))
        .start()
        .await;
    let key = api_key(&app, &["journey"]).await;
    let resp = with_key(&app, Method::POST, "/internal/journey/run", &key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["journey"]["status"], "failed", "{doc:#}");
    let register = &doc["journey"]["steps"][0];
    assert_eq!(register["status"], "failed");
    assert_eq!(register["http"]["status"], Value::Null);
    assert!(
        register["error"].as_str().unwrap().contains("no response"),
        "{doc:#}"
    );
    // Registration may have landed for all the journey knows: cleanup tried, and failed
    // against the same dead address.
    assert_eq!(doc["journey"]["steps"][8]["step"], "cleanup");
    assert_eq!(doc["journey"]["steps"][8]["status"], "failed");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("journey_runs_total{status=\"failed\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("journey_success_rate 0"), "{metrics}");
}

#[tokio::test]
async fn journey_routes_are_404_when_the_feature_is_off() {
    let app = Spawn::new(crate::support::Db::Sqlite)
        .var("SYNTHETIC_JOURNEY_ENABLED", "false")
        .start()
        .await;
    let key = api_key(&app, &["journey"]).await;
    for (method, path) in [
        (Method::POST, "/internal/journey/verification-token"),
        (Method::POST, "/internal/journey/run"),
        (Method::GET, "/internal/journey/runs"),
    ] {
        let resp = with_key(&app, method, path, &key)
            .json(&json!({"email": "journey-x@journey.valine.invalid"}))
            .send()
            .await
            .unwrap();
        assert_error(resp, 404, "FEATURE_DISABLED").await;
    }
}

#[tokio::test]
async fn the_junit_rendering_of_a_real_failed_run_parses_with_the_project_parser() {
    // No API key: `verify` cannot get a token, so the journey fails there for real.
    let app = Spawn::new(crate::support::Db::Sqlite)
        .self_addressed()
        .start()
        .await;
    let report = journey(&app, None).await;
    assert_eq!(report.journey.status.as_str(), "failed");
    let xml = valine_journey::render::junit(&report);
    let cases = valine_ci::junit::parse(xml.as_bytes()).unwrap();
    let got: Vec<(String, String)> = cases
        .iter()
        .map(|c| {
            (
                c.test_name.clone(),
                format!("{:?}", c.status).to_lowercase(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("register", "passed"),
            ("verify", "failed"),
            ("login", "skipped"),
            ("createProfile", "skipped"),
            ("uploadMedia", "skipped"),
            ("searchSelf", "skipped"),
            ("exportData", "skipped"),
            ("logout", "skipped"),
            ("cleanup", "passed"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(cases.iter().all(|c| c.suite == "journey"));
    assert_account_gone(&app, &report).await;
}
