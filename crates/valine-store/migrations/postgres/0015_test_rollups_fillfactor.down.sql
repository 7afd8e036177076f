ALTER TABLE test_rollups RESET (fillfactor);
