DROP INDEX test_hot_last_hot_day_idx;
DROP INDEX test_hot_suite_test_name_branch_key_key;
DROP TABLE test_hot;
