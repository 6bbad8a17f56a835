-- PostgreSQL twin of db/sqlite/migrations/0001_init.sql (same numbers, same
-- tables, same meaning; the comments there say why the tables look so).
-- Ids and ISO-8601 timestamps are text with the "C" collation: they then sort
-- byte by byte, exactly as in SQLite, whatever the database's locale.
CREATE TABLE reports (
  id           text COLLATE "C" PRIMARY KEY,
  name         text NOT NULL,
  status       text NOT NULL CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
  source       text NOT NULL,
  row_counts   text,
  summary      text,
  error        text,
  created_at   text COLLATE "C" NOT NULL,
  updated_at   text COLLATE "C" NOT NULL
);
CREATE INDEX reports_status_id ON reports (status, id);

CREATE TABLE series_columns (
  report_id text COLLATE "C" NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
  position  integer NOT NULL,
  name      text NOT NULL,
  data      bytea NOT NULL,
  PRIMARY KEY (report_id, position)
);
