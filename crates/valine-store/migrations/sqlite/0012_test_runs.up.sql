-- Flaky-test detection (SPEC §11).
--
-- test_batches: one row per accepted ingest request. infrastructure_failure_runs counts
-- the runs of the batch judged infrastructure failures (their results are kept for history
-- but never enter the rollups).
CREATE TABLE test_batches (
    id                          TEXT PRIMARY KEY NOT NULL,
    run_id                      TEXT NOT NULL,
    commit_sha                  TEXT,
    branch                      TEXT,
    job_url                     TEXT,
    format                      TEXT NOT NULL,
    api_key_name                TEXT,
    result_count                BIGINT NOT NULL,
    failed_count                BIGINT NOT NULL,
    infrastructure_failure_runs BIGINT NOT NULL,
    created_at                  BIGINT NOT NULL
);
CREATE INDEX test_batches_created_at_idx ON test_batches (created_at);

-- test_runs: the raw results (seed table name), one row per test per run. The id is an
-- integer sequence rather than a UUID: it is the ingestion order the detector relies on,
-- and at millions of rows a 36-byte text key would double the index size.
CREATE TABLE test_runs (
    id          INTEGER PRIMARY KEY,
    batch_id    TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    commit_sha  TEXT,
    branch      TEXT,
    suite       TEXT NOT NULL,
    test_name   TEXT NOT NULL,
    status      TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    attempt     INTEGER NOT NULL,
    retries     INTEGER NOT NULL,
    file        TEXT,
    metadata    TEXT,
    run_at      BIGINT NOT NULL
);
-- GET /internal/tests/history: one test, newest first.
CREATE INDEX test_runs_suite_test_name_idx ON test_runs (suite, test_name, id);

-- test_rollups: the detector's per-test aggregate (valine_ci::flaky::Rollup, JSON in
-- data) per branch and UTC day, maintained at ingest and merged at query time over the
-- requested window. total_runs/failed/retry_passes duplicate three of its counters so
-- SQL can skip tests that cannot be candidates without decoding them.
CREATE TABLE test_rollups (
    suite        TEXT NOT NULL,
    test_name    TEXT NOT NULL,
    branch_key   TEXT NOT NULL,
    day          BIGINT NOT NULL,
    total_runs   BIGINT NOT NULL,
    failed       BIGINT NOT NULL,
    retry_passes BIGINT NOT NULL,
    data         TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX test_rollups_suite_test_name_branch_key_day_key
    ON test_rollups (suite, test_name, branch_key, day);
CREATE INDEX test_rollups_day_idx ON test_rollups (day, branch_key);
