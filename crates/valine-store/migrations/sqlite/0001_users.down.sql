DROP INDEX users_normalized_username_key;
DROP INDEX users_normalized_email_key;
DROP TABLE users;
