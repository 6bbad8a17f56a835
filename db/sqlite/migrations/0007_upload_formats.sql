-- Upload formats beyond CSV and JSON (issue 13), and the parse options a
-- client gave with an upload (?delimiter=, ?date_format=, ...), which the
-- worker needs to read the stored bytes the way the client meant.

-- SQLite cannot change a CHECK constraint in place: the table is rebuilt the
-- documented way (https://sqlite.org/lang_altertable.html#otheralter), inside
-- the migration's transaction. Nothing references jobs; its one index
-- (0005's jobs_lease_expires_at) goes with the old table and is made again.
CREATE TABLE jobs_0007 (
  report_id   TEXT PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
  upload_id   TEXT NOT NULL,
  format      TEXT NOT NULL CHECK (format IN ('csv', 'json', 'ndjson', 'parquet')),
  bytes       INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  -- A JSON upload without ?name= takes the name from its body once parsed.
  name_from_body INTEGER NOT NULL DEFAULT 0 CHECK (name_from_body IN (0, 1)),
  traceparent TEXT,                        -- W3C trace context of the request that queued it
  last_error  TEXT,
  import_source TEXT,                      -- JSON: {"provider", "symbol", ...}
  locked_by TEXT,                          -- 0005: the lease (see 0005_leases.sql)
  lease_token TEXT,
  lease_expires_at TEXT,                   -- ISO-8601 UTC
  not_before TEXT,                         -- ISO-8601 UTC
  parse_options TEXT                       -- JSON: {"delimiter", "dateFormat", ...}; null = none
) STRICT;

INSERT INTO jobs_0007 (report_id, upload_id, format, bytes, attempts, name_from_body,
  traceparent, last_error, import_source, locked_by, lease_token, lease_expires_at, not_before)
SELECT report_id, upload_id, format, bytes, attempts, name_from_body, traceparent, last_error,
  import_source, locked_by, lease_token, lease_expires_at, not_before
FROM jobs;

DROP TABLE jobs;
ALTER TABLE jobs_0007 RENAME TO jobs;
CREATE INDEX jobs_lease_expires_at ON jobs (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
