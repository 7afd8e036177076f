-- Tests whose first failure arrived in a batch with many other first failures: their stored
-- history is replayed into rollups by a background drain (under the ingest lock) instead
-- of inside that ingest request. A test here is not tracked yet (no test_hot row).
CREATE TABLE test_replay_queue (
    suite     TEXT NOT NULL,
    test_name TEXT NOT NULL,
    queued_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX test_replay_queue_suite_test_name_key ON test_replay_queue (suite, test_name);
