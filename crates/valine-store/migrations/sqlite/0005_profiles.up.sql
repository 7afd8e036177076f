-- Profiles: one per user. List-valued fields are JSON text; roles_text and location_text
-- are lower-cased, '|'-delimited copies for case-insensitive filtering.
CREATE TABLE profiles (
    id                TEXT PRIMARY KEY NOT NULL,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    vanity_url        TEXT NOT NULL,
    normalized_vanity TEXT NOT NULL,
    headline          TEXT,
    title             TEXT,
    bio               TEXT,
    roles             TEXT NOT NULL DEFAULT '[]',
    tags              TEXT NOT NULL DEFAULT '[]',
    location          TEXT NOT NULL DEFAULT '{}',
    social_links      TEXT NOT NULL DEFAULT '{}',
    privacy           TEXT NOT NULL DEFAULT '{}',
    visibility        TEXT NOT NULL DEFAULT 'public',
    roles_text        TEXT NOT NULL DEFAULT '',
    location_text     TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX profiles_user_id_key ON profiles (user_id);
CREATE UNIQUE INDEX profiles_normalized_vanity_key ON profiles (normalized_vanity);

CREATE TABLE profile_links (
    id         TEXT PRIMARY KEY NOT NULL,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    label      TEXT NOT NULL,
    url        TEXT NOT NULL,
    link_type  TEXT NOT NULL
);
CREATE INDEX profile_links_profile_id_idx ON profile_links (profile_id, position);

-- Full-text search document per profile (display name, username, vanity URL, headline,
-- bio, tags), maintained by the store on every profile or user change.
CREATE VIRTUAL TABLE profile_search USING fts5 (profile_id UNINDEXED, body, tokenize = 'unicode61');

CREATE TABLE user_settings (
    user_id          TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notifications    TEXT NOT NULL,
    account_security TEXT NOT NULL,
    privacy          TEXT NOT NULL,
    updated_at       BIGINT NOT NULL
);
