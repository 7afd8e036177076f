DROP INDEX test_rollups_day_idx;
DROP INDEX test_rollups_suite_test_name_branch_key_day_key;
DROP TABLE test_rollups;
DROP INDEX test_runs_suite_test_name_idx;
DROP TABLE test_runs;
DROP INDEX test_batches_created_at_idx;
DROP TABLE test_batches;
