-- One row per PR analysis (SPEC §10). risk_score/level/reasons/components are computed by
-- the server; client_risk_score is what the client claimed, kept but never trusted.
-- reasons, components and metadata are JSON text.
CREATE TABLE pr_intelligence (
    id                    TEXT PRIMARY KEY NOT NULL,
    pr_number             BIGINT NOT NULL,
    repository            TEXT,
    title                 TEXT,
    author                TEXT,
    base_ref              TEXT,
    head_sha              TEXT,
    risk_score            INTEGER NOT NULL,
    level                 TEXT NOT NULL,
    reasons               TEXT NOT NULL,
    components            TEXT NOT NULL,
    changed_files_count   INTEGER NOT NULL,
    sensitive_paths_count INTEGER NOT NULL,
    client_risk_score     DOUBLE PRECISION,
    metadata              TEXT NOT NULL DEFAULT '{}',
    source                TEXT NOT NULL,
    created_at            BIGINT NOT NULL
);
-- GET /internal/pr-intel/{prNumber}: newest first per PR.
CREATE INDEX pr_intelligence_pr_number_idx ON pr_intelligence (pr_number, id);
-- GET /internal/pr-intel: riskiest first, keyset-paginated on (risk_score, id).
CREATE INDEX pr_intelligence_risk_idx ON pr_intelligence (risk_score, id);

-- X-GitHub-Delivery ids already processed; a repeat is a replay (409).
CREATE TABLE pr_webhook_deliveries (
    delivery_id TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX pr_webhook_deliveries_delivery_id_key ON pr_webhook_deliveries (delivery_id);
