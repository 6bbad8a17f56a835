-- PostgreSQL twin of db/sqlite/migrations/0007_upload_formats.sql: the
-- upload formats of issue 13 and the client's parse options with the job.
-- PostgreSQL changes a CHECK in place; the inline constraint of 0002 has the
-- default name jobs_format_check.
ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_format_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_format_check
  CHECK (format IN ('csv', 'json', 'ndjson', 'parquet'));
ALTER TABLE jobs ADD COLUMN parse_options text;
