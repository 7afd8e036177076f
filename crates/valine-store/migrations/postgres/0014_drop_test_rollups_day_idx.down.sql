CREATE INDEX test_rollups_day_idx ON test_rollups (day, branch_key);
