DROP INDEX security_events_user_id_idx;
DROP TABLE security_events;
DROP INDEX refresh_tokens_session_id_idx;
DROP INDEX refresh_tokens_token_hash_key;
DROP TABLE refresh_tokens;
DROP INDEX sessions_user_id_idx;
DROP TABLE sessions;
