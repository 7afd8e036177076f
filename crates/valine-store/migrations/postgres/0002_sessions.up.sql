-- One row per login (device). Revocation is a timestamp plus a reason; "live" means not
-- revoked and not past expires_at.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent     TEXT,
    ip_address     TEXT,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id, revoked_at);

-- Refresh-token generations of a session, stored only as SHA-256 hashes. Exactly one
-- generation of a live session has retired_at NULL; rotation retires it with a single
-- compare-and-swap UPDATE and inserts the next.
CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    generation BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- The audit log. user_id is NULL for events with no account (failed login for an unknown
-- email, internal API writes); actor names the API key for internal writes.
CREATE TABLE security_events (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    at         BIGINT NOT NULL,
    ip_address TEXT,
    user_agent TEXT,
    actor      TEXT,
    metadata   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX security_events_user_id_idx ON security_events (user_id, id);
