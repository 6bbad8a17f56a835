-- Live instances, each with its last heartbeat: instances divide the rate
-- limits among themselves by how many are alive (services/instances.ts). On
-- SQLite there is only ever one, but the schema is the same on both engines.
CREATE TABLE instances (
  id           TEXT PRIMARY KEY,
  started_at   TEXT NOT NULL,  -- ISO-8601 UTC
  heartbeat_at TEXT NOT NULL   -- ISO-8601 UTC
);
CREATE INDEX instances_heartbeat_at ON instances (heartbeat_at);
