DROP INDEX media_object_key_key;
DROP INDEX media_user_id_idx;
DROP INDEX media_profile_id_created_at_idx;
DROP TABLE media;
