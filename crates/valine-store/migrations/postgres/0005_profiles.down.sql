DROP TABLE user_settings;
DROP INDEX profile_links_profile_id_idx;
DROP TABLE profile_links;
DROP INDEX profiles_search_vector_idx;
DROP INDEX profiles_normalized_vanity_key;
DROP INDEX profiles_user_id_key;
DROP TABLE profiles;
