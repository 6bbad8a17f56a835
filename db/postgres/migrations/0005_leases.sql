-- PostgreSQL twin of db/sqlite/migrations/0005_leases.sql: job leases held
-- by one instance at a time, fenced by a token per claim, and the age of
-- upload chunks (the comments there say why).
ALTER TABLE jobs ADD COLUMN locked_by text;
ALTER TABLE jobs ADD COLUMN lease_token text;
ALTER TABLE jobs ADD COLUMN lease_expires_at text COLLATE "C";
ALTER TABLE jobs ADD COLUMN not_before text COLLATE "C";
CREATE INDEX jobs_lease_expires_at ON jobs (lease_expires_at) WHERE lease_expires_at IS NOT NULL;

ALTER TABLE upload_chunks ADD COLUMN created_at text COLLATE "C" NOT NULL DEFAULT '';
