-- PostgreSQL twin of db/sqlite/migrations/0006_instances.sql: live instances
-- and their heartbeats, so each enforces its share of the rate limits.
CREATE TABLE instances (
  id           text COLLATE "C" PRIMARY KEY,
  started_at   text COLLATE "C" NOT NULL,
  heartbeat_at text COLLATE "C" NOT NULL
);
CREATE INDEX instances_heartbeat_at ON instances (heartbeat_at);
