-- PostgreSQL twin of db/sqlite/migrations/0003_api_keys.sql.
CREATE TABLE api_keys (
  id         text COLLATE "C" PRIMARY KEY,
  name       text NOT NULL,
  key_sha256 text NOT NULL,
  scopes     text NOT NULL,
  created_at text COLLATE "C" NOT NULL,
  revoked_at text COLLATE "C"
);

ALTER TABLE reports ADD COLUMN created_by text;
