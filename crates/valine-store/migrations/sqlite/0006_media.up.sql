-- Portfolio media. A row is created with the signed upload URL (processed_status
-- 'pending') and finished by /complete ('complete' or 'failed' with failure_reason).
-- user_id duplicates the profile's owner so ownership checks, the export and account
-- deletion need no join. object_key names the stored object (never sent to clients).
-- media_type rather than "type": a keyword in both dialects.
CREATE TABLE media (
    id               TEXT PRIMARY KEY NOT NULL,
    profile_id       TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    media_type       TEXT NOT NULL,
    title            TEXT,
    description      TEXT,
    privacy          TEXT NOT NULL DEFAULT 'public',
    content_type     TEXT NOT NULL,
    file_size        BIGINT NOT NULL,
    width            BIGINT,
    height           BIGINT,
    processed_status TEXT NOT NULL DEFAULT 'pending',
    failure_reason   TEXT,
    object_key       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX media_profile_id_created_at_idx ON media (profile_id, created_at);
CREATE INDEX media_user_id_idx ON media (user_id);
CREATE UNIQUE INDEX media_object_key_key ON media (object_key);
