-- Tests that failed (or passed only on a retry) per branch, with the last UTC day they did.
-- Only these can be flaky or broken candidates, and a window contains a failure exactly
-- when the latest one falls inside it, so flaky-candidates starts from this small table
-- instead of grouping every rollup of the window.
CREATE TABLE test_hot (
    suite        TEXT NOT NULL,
    test_name    TEXT NOT NULL,
    branch_key   TEXT NOT NULL,
    last_hot_day BIGINT NOT NULL
);
CREATE UNIQUE INDEX test_hot_suite_test_name_branch_key_key
    ON test_hot (suite, test_name, branch_key);
CREATE INDEX test_hot_last_hot_day_idx ON test_hot (last_hot_day);
