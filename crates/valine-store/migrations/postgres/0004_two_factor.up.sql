-- TOTP state per user. Secrets are stored encrypted (AEAD with DATA_ENCRYPTION_KEY; the
-- ciphertext names its key id). pending_secret_enc holds a secret from /2fa/setup until
-- /2fa/enable proves the user has it. last_step is the last accepted TOTP time step: a code
-- at or before it is refused (replay protection).
CREATE TABLE two_factor (
    user_id            TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_enc         TEXT,
    pending_secret_enc TEXT,
    last_step          BIGINT,
    updated_at         BIGINT NOT NULL
);

-- Single-use backup codes, stored hashed.
CREATE TABLE backup_codes (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE UNIQUE INDEX backup_codes_user_id_code_hash_key ON backup_codes (user_id, code_hash);

-- Login challenges: a password-verified login waiting for its second factor.
CREATE TABLE two_factor_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    used_at    BIGINT
);
CREATE UNIQUE INDEX two_factor_challenges_token_hash_key ON two_factor_challenges (token_hash);
