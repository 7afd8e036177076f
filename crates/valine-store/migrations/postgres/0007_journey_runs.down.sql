DROP INDEX journey_runs_status_idx;
DROP TABLE journey_runs;
