-- Email verification tokens (seed name), stored hashed; single use; a resend retires the
-- earlier ones (retired_at).
CREATE TABLE email_verification_tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    retired_at BIGINT,
    -- 'registration' or 'resend': only resends count against the resend limit.
    source     TEXT NOT NULL DEFAULT 'registration'
);
CREATE UNIQUE INDEX email_verification_tokens_token_hash_key ON email_verification_tokens (token_hash);
CREATE INDEX email_verification_tokens_user_id_idx ON email_verification_tokens (user_id, created_at);

-- Password reset tokens: hashed, 30 minutes, single use.
CREATE TABLE password_reset_tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE UNIQUE INDEX password_reset_tokens_token_hash_key ON password_reset_tokens (token_hash);
CREATE INDEX password_reset_tokens_user_id_idx ON password_reset_tokens (user_id, created_at);

-- Transactional outbox: written in the same transaction as the token it carries; a worker
-- delivers it. locked_until is a lease so several instances never send one message twice
-- while it is being delivered.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    sent_at         BIGINT,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);
