DROP INDEX two_factor_challenges_token_hash_key;
DROP TABLE two_factor_challenges;
DROP INDEX backup_codes_user_id_code_hash_key;
DROP TABLE backup_codes;
DROP TABLE two_factor;
