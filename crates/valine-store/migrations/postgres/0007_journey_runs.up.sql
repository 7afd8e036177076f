-- Synthetic journey runs (SPEC §13, phase 7): one row per POST /internal/journey/run,
-- with its summary in columns (for listings and the success metrics) and the full
-- report document as JSON. Ids are UUIDv7, so id order is start order.
CREATE TABLE journey_runs (
    id                TEXT PRIMARY KEY NOT NULL,
    status            TEXT NOT NULL,
    total_duration_ms BIGINT NOT NULL,
    started_at        BIGINT NOT NULL,
    finished_at       BIGINT NOT NULL,
    steps_total       BIGINT NOT NULL,
    steps_passed      BIGINT NOT NULL,
    steps_failed      BIGINT NOT NULL,
    steps_skipped     BIGINT NOT NULL,
    success_rate      BIGINT NOT NULL,
    api_base_url      TEXT NOT NULL,
    actor             TEXT NOT NULL,
    report            TEXT NOT NULL
);
CREATE INDEX journey_runs_status_idx ON journey_runs (status);
