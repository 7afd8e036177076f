//! Contract of the internal-tooling tables (API keys, PR analyses, test results), on
//! SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.

use crate::StoreError;
use crate::api_keys::{NewApiKey, Revoked};
use crate::contract_tests::stores;
use crate::pr_intel::PrAnalysisRow;
use crate::test_results::{NewTestBatch, NewTestResult, RollupWrite};

#[tokio::test]
async fn api_keys_are_found_by_hash_touched_and_revoked() {
    for (store, _dir) in stores().await {
        let id = crate::new_id();
        store
            .insert_api_key(&NewApiKey {
                id: &id,
                name: "ci",
                key_hash: "abc123",
                scopes: "tests:write,pr-intel:read",
                now: 1_000,
            })
            .await
            .unwrap();
        let found = store.api_key_by_hash("abc123").await.unwrap().unwrap();
        assert_eq!(found.name, "ci");
        assert_eq!(found.scope_list(), vec!["tests:write", "pr-intel:read"]);
        assert_eq!(found.last_used_at, None);
        assert!(store.api_key_by_hash("abc124").await.unwrap().is_none());

        store.touch_api_key(&id, 5_000).await.unwrap();
        // An older touch arriving late does not move lastUsedAt back.
        store.touch_api_key(&id, 4_000).await.unwrap();
        let found = store.api_key_by_hash("abc123").await.unwrap().unwrap();
        assert_eq!(found.last_used_at, Some(5_000));

        assert_eq!(
            store.revoke_api_key(&id, 6_000).await.unwrap(),
            Revoked::Now
        );
        assert_eq!(
            store.revoke_api_key(&id, 7_000).await.unwrap(),
            Revoked::Already
        );
        assert!(matches!(
            store.revoke_api_key("nope", 7_000).await,
            Err(StoreError::NotFound)
        ));
        let listed = store.list_api_keys().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].revoked_at, Some(6_000));

        // The same hash twice is a named conflict (keys are random, so this is a bug guard).
        let dup = store
            .insert_api_key(&NewApiKey {
                id: &crate::new_id(),
                name: "other",
                key_hash: "abc123",
                scopes: "all",
                now: 1,
            })
            .await;
        match dup {
            Err(StoreError::Conflict { constraint }) => {
                assert_eq!(constraint, "api_keys_key_hash_key")
            }
            other => panic!("{other:?}"),
        }
    }
}

fn analysis(pr: i64, repo: &str, score: i64) -> PrAnalysisRow {
    PrAnalysisRow {
        id: crate::new_id(),
        pr_number: pr,
        repository: Some(repo.to_string()),
        title: None,
        author: None,
        base_ref: None,
        head_sha: None,
        risk_score: score,
        level: if score >= 30 { "medium" } else { "low" }.to_string(),
        reasons: "[]".into(),
        components: "[]".into(),
        changed_files_count: 1,
        sensitive_paths_count: 0,
        client_risk_score: Some(12.5),
        metadata: "{}".into(),
        source: "api-key".into(),
        created_at: crate::now_ms(),
    }
}

#[tokio::test]
async fn pr_deliveries_conflict_and_analyses_page_riskiest_first() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_write().await.unwrap();
        store.record_delivery(&mut tx, "d-1", 1).await.unwrap();
        store
            .insert_pr_analysis(&mut tx, &analysis(7, "a/b", 40))
            .await
            .unwrap();
        crate::commit(tx).await.unwrap();

        let mut tx = store.begin_write().await.unwrap();
        match store.record_delivery(&mut tx, "d-1", 2).await {
            Err(StoreError::Conflict { constraint }) => {
                assert_eq!(constraint, "pr_webhook_deliveries_delivery_id_key")
            }
            other => panic!("{:?}: {other:?}", store.backend()),
        }
        drop(tx);

        let mut tx = store.begin_write().await.unwrap();
        for (pr, repo, score) in [(7, "c/d", 10), (8, "a/b", 90), (9, "a/b", 40)] {
            store
                .insert_pr_analysis(&mut tx, &analysis(pr, repo, score))
                .await
                .unwrap();
        }
        crate::commit(tx).await.unwrap();

        let (rows, total) = store.pr_analyses(7, None, 10).await.unwrap();
        assert_eq!(total, 2);
        assert_eq!(rows[0].repository.as_deref(), Some("c/d"), "newest first");
        assert_eq!(rows[0].client_risk_score, Some(12.5));
        let (rows, total) = store.pr_analyses(7, Some("a/b"), 10).await.unwrap();
        assert_eq!((rows.len(), total), (1, 1));

        let first = store.pr_analyses_page(0, None, 2).await.unwrap();
        let scores: Vec<i64> = first.iter().map(|r| r.risk_score).collect();
        assert_eq!(scores, vec![90, 40]);
        let last = first.last().unwrap();
        let rest = store
            .pr_analyses_page(0, Some((last.risk_score, &last.id)), 10)
            .await
            .unwrap();
        let scores: Vec<i64> = rest.iter().map(|r| r.risk_score).collect();
        assert_eq!(scores, vec![40, 10]);
        assert_eq!(store.pr_analyses_page(41, None, 10).await.unwrap().len(), 1);

        let (by_level, prs) = store.pr_analysis_counts().await.unwrap();
        assert_eq!(prs, 4, "(a/b,7) (c/d,7) (a/b,8) (a/b,9)");
        assert_eq!(
            by_level,
            vec![("low".to_string(), 1), ("medium".to_string(), 3)]
        );
    }
}

#[tokio::test]
async fn bulk_results_cross_chunk_boundaries_in_order_and_rollups_upsert() {
    for (store, _dir) in stores().await {
        // More rows than one statement may carry (2,520 per chunk on SQLite, 4,095 on PostgreSQL).
        let names: Vec<String> = (0..9_000).map(|i| format!("t{i:05}")).collect();
        let results: Vec<NewTestResult<'_>> = names
            .iter()
            .enumerate()
            .map(|(i, n)| NewTestResult {
                suite: "S",
                test_name: n,
                status: if i % 3 == 0 { "failed" } else { "passed" },
                duration_ms: i as i64,
                attempt: 1,
                retries: 0,
                file: None,
                metadata: None,
            })
            .collect();
        let batch = NewTestBatch {
            id: &crate::new_id(),
            run_id: "run-1",
            commit_sha: Some("abc"),
            branch: None,
            job_url: None,
            format: "json",
            api_key_name: Some("ci"),
            result_count: 9_000,
            failed_count: 3_000,
            infrastructure_failure_runs: 0,
            run_at: 86_400_000 * 3 + 5,
        };
        let mut tx = store.begin_test_ingest().await.unwrap();
        store.insert_test_batch(&mut tx, &batch).await.unwrap();
        store
            .insert_test_results(&mut tx, &batch, &results)
            .await
            .unwrap();
        // Same test twice in a second run: history is newest first.
        store
            .insert_test_results(&mut tx, &batch, &results[8_999..])
            .await
            .unwrap();
        // Characters `COPY`'s text format escapes, and NULL against text that looks like it.
        let awkward = "tab\there\nnew line\r\\N back\\slash";
        store
            .insert_test_results(
                &mut tx,
                &batch,
                &[NewTestResult {
                    suite: "S\\",
                    test_name: awkward,
                    status: "error",
                    duration_ms: -1,
                    attempt: 2,
                    retries: 1,
                    file: Some("\\N"),
                    metadata: Some("{\"k\":\"a\\tb\"}"),
                }],
            )
            .await
            .unwrap();
        let writes: Vec<RollupWrite<'_>> = names[..5_000]
            .iter()
            .map(|n| RollupWrite {
                suite: "S",
                test_name: n,
                branch_key: "",
                day: 3,
                total_runs: 1,
                failed: i64::from(n.ends_with('0')),
                retry_passes: 0,
                data: format!("v1-{n}"),
            })
            .collect();
        store.upsert_rollups(&mut tx, &writes, 1).await.unwrap();
        tx.commit().await.unwrap();

        let history = store.test_history("S", "t08999", None, 10).await.unwrap();
        assert_eq!(history.len(), 2);
        assert!(history[0].id > history[1].id);
        assert_eq!(history[0].run_at, 86_400_000 * 3 + 5);
        assert_eq!(history[0].commit_sha.as_deref(), Some("abc"));
        let older = store
            .test_history("S", "t08999", Some(history[0].id), 10)
            .await
            .unwrap();
        assert_eq!(older.len(), 1);
        assert!(
            store
                .test_history("S", "zz", None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let odd = store.test_history("S\\", awkward, None, 5).await.unwrap();
        assert_eq!(odd.len(), 1);
        assert_eq!(
            (odd[0].test_name.as_str(), odd[0].status.as_str()),
            (awkward, "error")
        );
        assert_eq!((odd[0].duration_ms, odd[0].attempt), (-1, 2));
        assert!(odd[0].id > history[0].id);
        let (file, metadata): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT file, metadata FROM test_runs WHERE test_name = $1")
                .bind(awkward)
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!(file.as_deref(), Some("\\N"));
        assert_eq!(metadata.as_deref(), Some("{\"k\":\"a\\tb\"}"));
        let (file, metadata): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT file, metadata FROM test_runs WHERE test_name = $1")
                .bind("t00003")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!((file, metadata), (None, None));
        let t0 = store.test_history("S", "t00003", None, 1).await.unwrap();
        assert_eq!((t0[0].status.as_str(), t0[0].duration_ms), ("failed", 3));

        // Upsert replaces; load finds exactly the asked keys of the bucket.
        let mut tx = store.begin_test_ingest().await.unwrap();
        let again = [RollupWrite {
            suite: "S",
            test_name: "t00010",
            branch_key: "",
            day: 3,
            total_runs: 12,
            failed: 4,
            retry_passes: 0,
            data: "v2".into(),
        }];
        store.upsert_rollups(&mut tx, &again, 2).await.unwrap();
        let loaded = store
            .load_rollups(
                &mut tx,
                "",
                3,
                &[("S", "t00010"), ("S", "t00011"), ("S", "nope")],
            )
            .await
            .unwrap();
        let mut loaded: Vec<(String, String)> =
            loaded.into_iter().map(|r| (r.test_name, r.data)).collect();
        loaded.sort();
        assert_eq!(
            loaded,
            vec![
                ("t00010".to_string(), "v2".to_string()),
                ("t00011".to_string(), "v1-t00011".to_string())
            ]
        );
        assert!(
            store
                .load_rollups(&mut tx, "main", 3, &[("S", "t00010")])
                .await
                .unwrap()
                .is_empty()
        );
        tx.commit().await.unwrap();

        // Window: only tests marked hot in it come back, with every bucket in the window.
        assert!(store.rollups_in_window(0, None).await.unwrap().is_empty());
        let mut tx = store.begin_test_ingest().await.unwrap();
        store
            .mark_hot(&mut tx, "", 3, &[("S", "t00010"), ("S", "t00020")])
            .await
            .unwrap();
        // An older day never moves last_hot_day back.
        store
            .mark_hot(&mut tx, "", 1, &[("S", "t00010")])
            .await
            .unwrap();
        store
            .upsert_rollups(
                &mut tx,
                &[RollupWrite {
                    suite: "S",
                    test_name: "t00010",
                    branch_key: "main",
                    day: 3,
                    total_runs: 1,
                    failed: 0,
                    retry_passes: 0,
                    data: "main".into(),
                }],
                3,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut hot: Vec<(String, i64, String, String)> = Vec::new();
        for t in store.rollups_in_window(3, None).await.unwrap() {
            for b in t.buckets().unwrap() {
                hot.push((
                    t.test_name.clone(),
                    b.day,
                    b.branch_key.to_string(),
                    b.data.to_string(),
                ));
            }
        }
        hot.sort();
        assert_eq!(
            hot,
            vec![
                ("t00010".to_string(), 3, "".to_string(), "v2".to_string()),
                (
                    "t00010".to_string(),
                    3,
                    "main".to_string(),
                    "main".to_string()
                ),
                (
                    "t00020".to_string(),
                    3,
                    "".to_string(),
                    "v1-t00020".to_string()
                )
            ]
        );
        assert!(store.rollups_in_window(4, None).await.unwrap().is_empty());
        assert!(
            store
                .rollups_in_window(0, Some("main"))
                .await
                .unwrap()
                .is_empty(),
            "nothing failed on main"
        );
        let on_default = store.rollups_in_window(3, Some("")).await.unwrap();
        assert_eq!(on_default.len(), 2);
        assert!(
            on_default
                .iter()
                .all(|t| t.buckets().unwrap().iter().all(|b| b.branch_key.is_empty()))
        );

        let totals = store.test_ingest_totals().await.unwrap();
        assert_eq!((totals.batches, totals.results), (1, 9_000));
    }
}

#[tokio::test]
async fn journey_runs_page_newest_first_and_count_passes() {
    use crate::journey_runs::JourneyRunRow;
    for (store, _dir) in stores().await {
        assert_eq!(store.journey_run_counts().await.unwrap(), (0, 0));
        let mut ids = Vec::new();
        for i in 0..5i64 {
            let run = JourneyRunRow {
                id: crate::new_id(),
                status: if i % 2 == 0 { "passed" } else { "failed" }.into(),
                total_duration_ms: 100 + i,
                started_at: 1_000 + i,
                finished_at: 2_000 + i,
                steps_total: 9,
                steps_passed: 9 - i,
                steps_failed: i.min(1),
                steps_skipped: 0,
                success_rate: 100 - i,
                api_base_url: "http://127.0.0.1:3000".into(),
                actor: "ci".into(),
            };
            store
                .insert_journey_run(&run, &format!("{{\"n\":{i}}}"))
                .await
                .unwrap();
            ids.push(run.id);
        }
        assert_eq!(store.journey_run_counts().await.unwrap(), (5, 3));
        let first = store.journey_runs_page(None, 2).await.unwrap();
        assert_eq!(
            first.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            [ids[4].as_str(), ids[3].as_str()]
        );
        assert_eq!(first[0].total_duration_ms, 104);
        assert_eq!(first[1].status, "failed");
        let rest = store
            .journey_runs_page(Some(&first[1].id), 10)
            .await
            .unwrap();
        assert_eq!(
            rest.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()]
        );
        assert_eq!(
            store.journey_report(&ids[1]).await.unwrap().as_deref(),
            Some("{\"n\":1}")
        );
        assert_eq!(store.journey_report("nope").await.unwrap(), None);
    }
}

#[tokio::test]
async fn replay_queue_keeps_the_first_queue_time_and_drains_oldest_first() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_test_ingest().await.unwrap();
        store
            .queue_replay(&mut tx, &[("S", "b"), ("S", "a\tx")], 10)
            .await
            .unwrap();
        store
            .queue_replay(&mut tx, &[("S", "b"), ("S", "c")], 20)
            .await
            .unwrap();
        let head = store.replay_queue_head(&mut tx, 10).await.unwrap();
        let names: Vec<&str> = head.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(names, ["a\tx", "b", "c"], "{:?}", store.backend());
        store
            .dequeue_replay(&mut tx, &[("S", "a\tx"), ("S", "b")])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin_test_ingest().await.unwrap();
        let head = store.replay_queue_head(&mut tx, 10).await.unwrap();
        assert_eq!(head, vec![("S".to_string(), "c".to_string())]);
        tx.commit().await.unwrap();
    }
}
