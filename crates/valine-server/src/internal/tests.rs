//! Flaky-test detection (SPEC §11): all-or-nothing ingestion of a batch of results, the
//! per-test rollups maintained at ingest, and the windowed candidate ranking.
//!
//! Storage decision: every result is kept raw (`test_runs`, for history), and each
//! *tracked* test (one that has failed or passed on a retry: it has a `test_hot` row) has
//! one `valine_ci::flaky::Rollup` per (branch, UTC day) bucket, updated inside the ingest
//! transaction. A test that never failed cannot be a candidate and gets no rollup; at its
//! first failure its stored history is replayed into buckets (`replay_history`; in the
//! background when a batch brings more than [`INLINE_REPLAY_MAX`] first failures). A query
//! merges the buckets of its window in day order, so
//! `windowDays` is exact to the UTC day and `branch` selects buckets; without `branch`,
//! the buckets of one day are merged branch by branch, which can misplace at most one flip
//! per bucket seam (counts, mixed-outcome commits and retry passes stay exact). A small
//! `test_hot` table remembers, per test and branch, the last day it failed or passed on a
//! retry; only those tests can be candidates, so tests that never failed in the window,
//! the vast majority, are never read or decoded. That keeps the query fast at millions of
//! stored results.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use valine_ci::flaky::{
    self, Classification, FlakyCandidate, InfraPolicy, Observation, Ranking, Rollup, RunTotals,
};
use valine_ci::junit::Status;
use valine_store::Store;
use valine_store::test_results::{
    IngestTx, NewTestBatch, NewTestResult, RollupWrite, StoredRollup,
};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const DAY_MS: i64 = 86_400_000;
/// The longest `windowDays` a query may ask for: a test's history is replayed this far
/// back when it starts being tracked.
pub const MAX_WINDOW_DAYS: i64 = 365;
/// The contract's batch cap.
pub const MAX_RESULTS: usize = 50_000;

/// One validated result of a batch.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub suite: String,
    pub test_name: String,
    pub status: Status,
    pub duration_ms: u64,
    /// 1-based attempt within the run.
    pub attempt: u32,
    /// Retries inside the run before this result (Surefire reruns, or `attempt − 1`).
    pub retries: u32,
    pub file: Option<String>,
    /// JSON object text.
    pub metadata: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub run_id: String,
    pub commit_sha: Option<String>,
    pub branch: Option<String>,
    pub job_url: Option<String>,
    /// `json` or `junit`.
    pub format: &'static str,
    pub results: Vec<Incoming>,
}

#[derive(Debug, Clone)]
pub struct Ingested {
    pub batch_id: String,
    pub run_id: String,
    pub count: usize,
    /// The run was judged an infrastructure failure: stored, but left out of detection.
    pub infrastructure_failure: bool,
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Stores `batch` in one transaction: the batch row, its results and the updated rollups.
/// Either all of it is stored or nothing.
pub async fn ingest(state: &AppState, batch: &Batch, actor: &str) -> ApiResult<Ingested> {
    ingest_at(state, batch, actor, valine_store::now_ms()).await
}

/// [`ingest`] as if it happened at `now` (epoch ms): benchmarks and tests use it to lay
/// down history over many days.
pub async fn ingest_at(
    state: &AppState,
    batch: &Batch,
    actor: &str,
    now: i64,
) -> ApiResult<Ingested> {
    let store = &state.store;
    let mut totals = RunTotals::default();
    for r in &batch.results {
        totals.record(r.status);
    }
    let infrastructure_failure = totals.is_infrastructure_failure(&InfraPolicy::default());
    let day = now.div_euclid(DAY_MS);
    let branch_key = batch.branch.as_deref().unwrap_or("");
    let batch_id = valine_store::new_id();
    let row = NewTestBatch {
        id: &batch_id,
        run_id: &batch.run_id,
        commit_sha: batch.commit_sha.as_deref(),
        branch: batch.branch.as_deref(),
        job_url: batch.job_url.as_deref(),
        format: batch.format,
        api_key_name: Some(actor),
        result_count: i64::try_from(batch.results.len()).unwrap_or(i64::MAX),
        failed_count: i64_of(totals.failed),
        infrastructure_failure_runs: i64::from(infrastructure_failure),
        run_at: now,
    };
    let results: Vec<NewTestResult<'_>> = batch
        .results
        .iter()
        .map(|r| NewTestResult {
            suite: &r.suite,
            test_name: &r.test_name,
            status: r.status.as_str(),
            duration_ms: i64_of(r.duration_ms),
            attempt: i64::from(r.attempt),
            retries: i64::from(r.retries),
            file: r.file.as_deref(),
            metadata: r.metadata.as_deref(),
        })
        .collect();

    let mut deferred = false;
    let mut tx = store.begin_test_ingest().await?;
    store.insert_test_batch(&mut tx, &row).await?;
    if infrastructure_failure {
        store.insert_test_results(&mut tx, &row, &results).await?;
    } else {
        let tests = by_test(batch);
        let keys: Vec<(&str, &str)> = tests.iter().map(|(k, _)| *k).collect();
        let tracked = store
            .insert_results_and_load_tracked(&mut tx, &row, &results, branch_key, day, &keys)
            .await?;
        let known: HashSet<(&str, &str)> = tracked
            .tests
            .iter()
            .map(|(s, t)| (s.as_str(), t.as_str()))
            .collect();
        let hot: Vec<(&str, &str)> = tests
            .iter()
            .filter(|(_, results)| {
                results
                    .iter()
                    .any(|r| r.status.is_failure() || r.retries > 0)
            })
            .map(|(k, _)| *k)
            .collect();
        // Tests that never failed get no rollup (see the module docs).
        let tracked_tests: ByTest<'_> = tests
            .into_iter()
            .filter(|(k, _)| known.contains(k))
            .collect();
        write_rollups(
            store,
            &mut tx,
            batch,
            &tracked_tests,
            tracked.rollups,
            branch_key,
            day,
            now,
        )
        .await?;
        let (tracked_hot, newly_tracked): (Vec<TestKey<'_>>, Vec<TestKey<'_>>) =
            hot.iter().partition(|k| known.contains(*k));
        store
            .mark_hot(&mut tx, branch_key, day, &tracked_hot)
            .await?;
        if newly_tracked.len() <= INLINE_REPLAY_MAX {
            replay_history(store, &mut tx, &newly_tracked, day, now).await?;
        } else {
            store.queue_replay(&mut tx, &newly_tracked, now).await?;
            deferred = true;
        }
    }
    tx.commit().await?;
    if deferred {
        schedule_replay(state);
    }

    let m = &state.metrics.internal;
    m.test_results_ingested.inc_by(batch.results.len() as u64);
    m.test_batches_ingested.inc();
    super::audit(
        store,
        actor,
        "tests_ingested",
        serde_json::json!({
            "batchId": batch_id,
            "runId": batch.run_id,
            "count": batch.results.len(),
            "infrastructureFailure": infrastructure_failure,
        }),
    )
    .await;
    schedule_gauge_refresh(state);
    Ok(Ingested {
        batch_id,
        run_id: batch.run_id.clone(),
        count: batch.results.len(),
        infrastructure_failure,
    })
}

/// Suite and test name.
type TestKey<'a> = (&'a str, &'a str);

/// The batch's tests in first-seen order, each with its results in batch order.
type ByTest<'a> = Vec<((&'a str, &'a str), Vec<&'a Incoming>)>;

fn by_test(batch: &Batch) -> ByTest<'_> {
    let mut index: HashMap<(&str, &str), usize> = HashMap::with_capacity(batch.results.len());
    let mut tests: ByTest<'_> = Vec::new();
    for r in &batch.results {
        let key = (r.suite.as_str(), r.test_name.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            tests.push((key, Vec::new()));
            tests.len() - 1
        });
        if let Some((_, list)) = tests.get_mut(i) {
            list.push(r);
        }
    }
    tests
}

/// Pushes the batch's results, in order, into each test's rollup for today's bucket
/// (`stored`: the bucket's rollups before this batch) and writes them back.
#[allow(clippy::too_many_arguments)]
async fn write_rollups(
    store: &Store,
    tx: &mut IngestTx,
    batch: &Batch,
    tests: &ByTest<'_>,
    stored: Vec<StoredRollup>,
    branch_key: &str,
    day: i64,
    now: i64,
) -> ApiResult<()> {
    let mut existing: HashMap<(&str, &str), Rollup> = HashMap::with_capacity(stored.len());
    for row in &stored {
        let rollup = Rollup::decode(&*row.suite, &*row.test_name, &row.data).map_err(|e| {
            ApiError::internal(anyhow::anyhow!(
                "rollup of {}::{}: {e}",
                row.suite,
                row.test_name
            ))
        })?;
        existing.insert((&row.suite, &row.test_name), rollup);
    }
    // Buckets this batch creates are inserted without a conflict check (see
    // `insert_new_rollups`); the others are updated in place.
    // One observation, its per-result fields overwritten: the run's id and commit are
    // shared by every result of the batch.
    let mut obs = Observation {
        run_id: batch.run_id.clone(),
        commit_sha: batch.commit_sha.clone(),
        status: Status::Passed,
        retries: 0,
        duration_ms: 0,
        run_at: now,
    };
    let mut fresh = Vec::with_capacity(tests.len());
    let mut updates = Vec::with_capacity(existing.len());
    for ((suite, name), results) in tests {
        let (mut rollup, writes) = match existing.remove(&(*suite, *name)) {
            Some(r) => (r, &mut updates),
            None => (Rollup::new(*suite, *name), &mut fresh),
        };
        for r in results {
            obs.status = r.status;
            obs.retries = r.retries;
            obs.duration_ms = r.duration_ms;
            rollup.push(&obs);
        }
        writes.push(RollupWrite {
            suite,
            test_name: name,
            branch_key,
            day,
            total_runs: i64_of(rollup.passed + rollup.failed),
            failed: i64_of(rollup.failed),
            retry_passes: i64_of(rollup.retry_passes),
            data: rollup.encode(),
        });
    }
    store.upsert_rollups(tx, &updates, now).await?;
    store.insert_new_rollups(tx, &fresh, now).await?;
    Ok(())
}

/// Suite, test name, branch key and UTC day of a rollup bucket.
type BucketKey<'a> = (&'a str, &'a str, &'a str, i64);

/// Starts tracking tests that failed (or retry-passed) for the first time: their stored
/// results of the longest window a query may ask for, this batch's included, are replayed
/// into per-(branch, day) rollups exactly as ingestion would have built them, and their
/// `test_hot` marks are set from the same results (the last such day per branch).
async fn replay_history(
    store: &Store,
    tx: &mut IngestTx,
    keys: &[(&str, &str)],
    day: i64,
    now: i64,
) -> ApiResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let since = (day - MAX_WINDOW_DAYS + 1) * DAY_MS;
    let raw = store.raw_results_since(tx, keys, since).await?;
    // Buckets in first-seen order; each filled in ingestion order.
    let mut index: HashMap<BucketKey<'_>, usize> = HashMap::new();
    let mut buckets: Vec<(BucketKey<'_>, Rollup)> = Vec::new();
    for r in &raw {
        let status: Status = r.status.parse().map_err(|e| {
            ApiError::internal(anyhow::anyhow!(
                "stored result of {}::{}: {e}",
                r.suite,
                r.test_name
            ))
        })?;
        let key = (
            r.suite.as_str(),
            r.test_name.as_str(),
            r.branch.as_deref().unwrap_or(""),
            r.run_at.div_euclid(DAY_MS),
        );
        let i = *index.entry(key).or_insert_with(|| {
            buckets.push((key, Rollup::new(key.0, key.1)));
            buckets.len() - 1
        });
        if let Some((_, rollup)) = buckets.get_mut(i) {
            rollup.push(&Observation {
                run_id: r.run_id.clone(),
                commit_sha: r.commit_sha.clone(),
                status,
                retries: u32::try_from(r.retries).unwrap_or(0),
                duration_ms: u64::try_from(r.duration_ms).unwrap_or(0),
                run_at: r.run_at,
            });
        }
    }
    let writes: Vec<RollupWrite<'_>> = buckets
        .iter()
        .map(|((suite, name, branch_key, day), rollup)| RollupWrite {
            suite,
            test_name: name,
            branch_key,
            day: *day,
            total_runs: i64_of(rollup.passed + rollup.failed),
            failed: i64_of(rollup.failed),
            retry_passes: i64_of(rollup.retry_passes),
            data: rollup.encode(),
        })
        .collect();
    // Upsert, not insert: rows written by versions that kept a rollup for every test, or
    // by an earlier replay of a test queued twice, are replaced by the replay.
    store.upsert_rollups(tx, &writes, now).await?;

    let mut last_hot: HashMap<(&str, &str, &str), i64> = HashMap::new();
    for ((suite, name, branch_key, day), rollup) in &buckets {
        if rollup.failed > 0 || rollup.retry_passes > 0 {
            let last = last_hot.entry((suite, name, branch_key)).or_insert(*day);
            *last = (*last).max(*day);
        }
    }
    let mut marks: HashMap<(&str, i64), Vec<(&str, &str)>> = HashMap::new();
    for ((suite, name, branch_key), day) in last_hot {
        marks
            .entry((branch_key, day))
            .or_default()
            .push((suite, name));
    }
    for ((branch_key, day), tests) in marks {
        store.mark_hot(tx, branch_key, day, &tests).await?;
    }
    Ok(())
}

/// A batch with more first failures than this queues their history replay for the
/// background drain instead of doing it inside the request: each costs a read of the test's
/// stored history, and a broken build that fails thousands of long-lived tests for the first
/// time would otherwise make that one ingest request arbitrarily slow. Until replayed, such a
/// test is not a candidate (normally for well under a second).
pub const INLINE_REPLAY_MAX: usize = 500;
/// Tests replayed per drain transaction, so ingestion waits behind one chunk at most.
const REPLAY_CHUNK: i64 = 500;

/// Replays every queued test's history, a chunk per transaction under the ingestion lock,
/// and returns how many it replayed. Any instance may drain; the lock serialises them.
pub async fn drain_replay_queue(state: &AppState) -> ApiResult<usize> {
    let store = &state.store;
    let mut total = 0;
    loop {
        let now = valine_store::now_ms();
        let mut tx = store.begin_test_ingest().await?;
        let head = store.replay_queue_head(&mut tx, REPLAY_CHUNK).await?;
        if head.is_empty() {
            tx.commit().await?;
            return Ok(total);
        }
        let keys: Vec<(&str, &str)> = head.iter().map(|(s, t)| (s.as_str(), t.as_str())).collect();
        replay_history(store, &mut tx, &keys, now.div_euclid(DAY_MS), now).await?;
        store.dequeue_replay(&mut tx, &keys).await?;
        tx.commit().await?;
        total += keys.len();
    }
}

/// Drains the replay queue in the background.
pub fn schedule_replay(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        match drain_replay_queue(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tests = n, "replayed the history of newly failing tests"),
            Err(e) => tracing::warn!(error = %e, "could not replay queued test histories"),
        }
    });
}

/// What `flaky-candidates` asks for.
#[derive(Debug, Clone)]
pub struct CandidateQuery {
    pub min_runs: u64,
    pub window_days: u32,
    pub branch: Option<String>,
    pub limit: usize,
    pub include_broken: bool,
}

impl Default for CandidateQuery {
    fn default() -> Self {
        CandidateQuery {
            min_runs: 10,
            window_days: 30,
            branch: None,
            limit: 20,
            include_broken: false,
        }
    }
}

/// Every test that failed or retry-passed in the window, assessed over the window (not
/// yet filtered by `min_runs` nor ranked). Buckets are merged in day order (then branch).
pub async fn assess(store: &Store, q: &CandidateQuery, now: i64) -> ApiResult<Vec<FlakyCandidate>> {
    let today = now.div_euclid(DAY_MS);
    let from_day = today - i64::from(q.window_days.max(1)) + 1;
    let tests = store
        .rollups_in_window(from_day, q.branch.as_deref())
        .await?;
    let mut out = Vec::with_capacity(tests.len());
    for test in &tests {
        let mut merged = Rollup::new(test.suite.as_str(), test.test_name.as_str());
        for bucket in test.buckets()? {
            merged.merge_encoded(bucket.data).map_err(|e| {
                ApiError::internal(anyhow::anyhow!(
                    "rollup of {}::{} (branch {:?}, day {}): {e}",
                    test.suite,
                    test.test_name,
                    bucket.branch_key,
                    bucket.day
                ))
            })?;
        }
        out.push(merged.to_candidate());
    }
    Ok(out)
}

/// Ranked candidates as `GET /internal/tests/flaky-candidates` returns them.
pub async fn candidates(store: &Store, q: &CandidateQuery, now: i64) -> ApiResult<Ranking> {
    let assessed = assess(store, q, now).await?;
    Ok(flaky::rank(assessed, q.include_broken, q.min_runs, q.limit))
}

/// Flaky and broken tests under the default query (minRuns 10, 30 days, all branches).
pub async fn current_counts(store: &Store) -> ApiResult<(u64, u64)> {
    let q = CandidateQuery::default();
    let assessed: Vec<FlakyCandidate> = assess(store, &q, valine_store::now_ms())
        .await?
        .into_iter()
        .filter(|c| c.total_runs >= q.min_runs)
        .collect();
    let flaky = assessed
        .iter()
        .filter(|c| c.classification == Classification::Flaky)
        .count() as u64;
    let broken = assessed
        .iter()
        .filter(|c| c.classification == Classification::Broken)
        .count() as u64;
    Ok((flaky, broken))
}

/// Sets the flaky/broken gauges from the database.
pub async fn refresh_gauges(state: &AppState) -> ApiResult<(u64, u64)> {
    let (flaky, broken) = current_counts(&state.store).await?;
    let m = &state.metrics.internal;
    m.flaky_tests.set(i64_of(flaky));
    m.broken_tests.set(i64_of(broken));
    Ok((flaky, broken))
}

/// How long after an ingest the flaky/broken gauges are refreshed. The refresh reads every
/// hot rollup (a flaky-candidates query): under steady CI load it then runs at most once
/// per this interval instead of beside nearly every batch, and a scrape sees counts at
/// most this old (`GET /internal/stats` refreshes them at once).
const GAUGE_REFRESH_DELAY: std::time::Duration = std::time::Duration::from_secs(5);

/// Refreshes the gauges a little after ingestion, once per burst of batches.
pub fn schedule_gauge_refresh(state: &AppState) {
    let m = &state.metrics.internal;
    if m.refresh_pending.swap(true, Ordering::AcqRel) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        tokio::time::sleep(GAUGE_REFRESH_DELAY).await;
        state
            .metrics
            .internal
            .refresh_pending
            .store(false, Ordering::Release);
        if let Err(e) = refresh_gauges(&state).await {
            tracing::warn!(error = %e, "could not refresh the flaky-test gauges");
        }
    });
}

/// Records a refused or failed batch (metrics and audit), so `batchesFailed` is visible
/// to operators across instances.
pub async fn record_failure(state: &AppState, actor: &str, reason: &str) {
    state.metrics.internal.test_batches_failed.inc();
    super::audit(
        &state.store,
        actor,
        "tests_ingest_failed",
        serde_json::json!({"reason": reason}),
    )
    .await;
}
