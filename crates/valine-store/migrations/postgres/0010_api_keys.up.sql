-- Internal API keys (SPEC §9). Only the SHA-256 of a key is stored; the key itself is
-- shown once by `valine api-key create`. Scopes are a comma-separated list.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash);
