-- Leases: a claimed job belongs to one instance (locked_by) until its lease
-- runs out (lease_expires_at), and the instance renews it while the job runs.
-- A job whose lease expired is anyone's again, so a crashed process's work is
-- taken over by sweeping expired leases rather than by requeueing everything
-- at start (which, with several instances, would steal living ones' work).
-- lease_token is new on every claim: only the holder of the current claim may
-- complete, fail or requeue the job (a fenced update), so a process that was
-- paused past its lease cannot overwrite the result of the one that took over.
ALTER TABLE jobs ADD COLUMN locked_by TEXT;
ALTER TABLE jobs ADD COLUMN lease_token TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at TEXT;  -- ISO-8601 UTC
-- After a storage error, a job waits (exponential backoff) before its next try.
ALTER TABLE jobs ADD COLUMN not_before TEXT;        -- ISO-8601 UTC
CREATE INDEX jobs_lease_expires_at ON jobs (lease_expires_at) WHERE lease_expires_at IS NOT NULL;

-- When each chunk was written: an upload that is no job's and whose newest
-- chunk is old is a body whose request died; one still arriving is left alone.
-- Chunks from before this migration read as '' (older than any time).
ALTER TABLE upload_chunks ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
