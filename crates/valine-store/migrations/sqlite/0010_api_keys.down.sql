DROP INDEX api_keys_key_hash_key;
DROP TABLE api_keys;
