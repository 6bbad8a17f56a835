-- Work off the request path: a report is accepted as soon as its raw upload
-- is committed, and processed later by a worker.

-- When each lifecycle step happened (ISO-8601 UTC; null until it happens).
ALTER TABLE reports ADD COLUMN queued_at TEXT;
ALTER TABLE reports ADD COLUMN started_at TEXT;
ALTER TABLE reports ADD COLUMN finished_at TEXT;

-- Reports made before this migration were processed synchronously.
UPDATE reports SET queued_at = created_at, started_at = created_at, finished_at = updated_at;

-- The raw upload, written chunk by chunk while the body streams in, so memory
-- stays bounded by the chunk size however large the upload. Chunks belong to
-- an upload id rather than a report: the report row is created only once the
-- whole body is stored, in the same transaction as its job.
CREATE TABLE upload_chunks (
  upload_id TEXT NOT NULL,
  seq       INTEGER NOT NULL,
  data      BLOB NOT NULL,
  PRIMARY KEY (upload_id, seq)
) STRICT;

-- One job per report still to be processed (or kept after failing, with its
-- upload, for the retention period). The report's status is the job's state.
CREATE TABLE jobs (
  report_id   TEXT PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
  upload_id   TEXT NOT NULL,
  format      TEXT NOT NULL CHECK (format IN ('csv', 'json')),
  bytes       INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  -- A JSON upload without ?name= takes the name from its body once parsed.
  name_from_body INTEGER NOT NULL DEFAULT 0 CHECK (name_from_body IN (0, 1)),
  traceparent TEXT,                        -- W3C trace context of the request that queued it
  last_error  TEXT
) STRICT;

-- Idempotency-Key: the same key with the same body returns the same report.
CREATE TABLE idempotency_keys (
  key         TEXT PRIMARY KEY,
  body_sha256 TEXT NOT NULL,
  report_id   TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
  created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- The queue is read oldest first among queued reports.
CREATE INDEX reports_queue ON reports (status, queued_at, id);
