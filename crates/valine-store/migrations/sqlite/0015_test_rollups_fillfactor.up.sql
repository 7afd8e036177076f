-- PostgreSQL-only storage tuning (fillfactor of test_rollups); SQLite has no such knob.
-- Kept so both backends share migration versions.
SELECT 1;
