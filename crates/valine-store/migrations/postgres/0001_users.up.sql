-- Accounts. Flags are kept as nullable instants (email_verified_at, two_factor_enabled_at):
-- "verified" is "verified at some time", which cannot drift from its timestamp and decodes
-- identically on both backends.
CREATE TABLE users (
    id                    TEXT PRIMARY KEY NOT NULL,
    username              TEXT NOT NULL,
    normalized_username   TEXT NOT NULL,
    email                 TEXT NOT NULL,
    normalized_email      TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    bio                   TEXT,
    avatar                TEXT,
    role                  TEXT NOT NULL DEFAULT 'user',
    email_verified_at     BIGINT,
    two_factor_enabled_at BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_normalized_email_key ON users (normalized_email);
CREATE UNIQUE INDEX users_normalized_username_key ON users (normalized_username);
