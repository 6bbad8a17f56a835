-- PostgreSQL twin of db/sqlite/migrations/0004_imports.sql.
ALTER TABLE jobs ADD COLUMN import_source text;

CREATE TABLE upstream_cache (
  provider   text COLLATE "C" NOT NULL,
  cache_key  text COLLATE "C" NOT NULL,
  body       bytea NOT NULL,
  fetched_at text COLLATE "C" NOT NULL,
  expires_at text COLLATE "C" NOT NULL,
  PRIMARY KEY (provider, cache_key)
);
