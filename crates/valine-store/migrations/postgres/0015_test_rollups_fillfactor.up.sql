-- Every ingest rewrites the data of each test's bucket for the day; with free space left
-- in each page, PostgreSQL updates the row in place of the page (a HOT update, no new index
-- entry) instead of appending a new version elsewhere. Applies to pages written from now on.
ALTER TABLE test_rollups SET (fillfactor = 50);
