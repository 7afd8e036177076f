-- flaky-candidates now reaches rollups through test_hot and the unique
-- (suite, test_name, branch_key, day) index; the day index only slowed every ingest upsert.
DROP INDEX test_rollups_day_idx;
