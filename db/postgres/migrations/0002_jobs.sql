-- PostgreSQL twin of db/sqlite/migrations/0002_jobs.sql.
ALTER TABLE reports ADD COLUMN queued_at text COLLATE "C";
ALTER TABLE reports ADD COLUMN started_at text COLLATE "C";
ALTER TABLE reports ADD COLUMN finished_at text COLLATE "C";
UPDATE reports SET queued_at = created_at, started_at = created_at, finished_at = updated_at;

-- Raw uploads as 1 MiB bytea chunks: memory stays bounded by the chunk size,
-- and each chunk is far below bytea's 1 GB limit and TOAST-compressed off-row.
CREATE TABLE upload_chunks (
  upload_id text COLLATE "C" NOT NULL,
  seq       integer NOT NULL,
  data      bytea NOT NULL,
  PRIMARY KEY (upload_id, seq)
);

CREATE TABLE jobs (
  report_id      text COLLATE "C" PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
  upload_id      text COLLATE "C" NOT NULL,
  format         text NOT NULL CHECK (format IN ('csv', 'json')),
  bytes          bigint NOT NULL,
  attempts       integer NOT NULL DEFAULT 0,
  name_from_body integer NOT NULL DEFAULT 0 CHECK (name_from_body IN (0, 1)),
  traceparent    text,
  last_error     text
);

-- The key is inserted before its report in the same transaction (the unique
-- key decides between two instances racing with one key), so the reference
-- is checked at commit.
CREATE TABLE idempotency_keys (
  key         text COLLATE "C" PRIMARY KEY,
  body_sha256 text NOT NULL,
  report_id   text COLLATE "C" NOT NULL
    REFERENCES reports (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  created_at  text COLLATE "C" NOT NULL
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE INDEX reports_queue ON reports (status, queued_at, id);
