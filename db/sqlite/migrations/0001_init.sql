-- Reports: one row per report. Everything a listing needs lives here, so
-- listing never touches the (large) series BLOBs in series_columns.
CREATE TABLE reports (
  id           TEXT PRIMARY KEY,          -- UUIDv7: sorts by creation time
  name         TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
  source       TEXT NOT NULL,             -- JSON: {"kind", "format", ...}
  row_counts   TEXT,                      -- JSON: RowCounts, set when processed
  summary      TEXT,                      -- JSON: Summary, set when ready
  error        TEXT,                      -- JSON: problem object, set when failed
  created_at   TEXT NOT NULL,             -- ISO-8601 UTC
  updated_at   TEXT NOT NULL
) STRICT;

-- Newest-first listing, optionally filtered by status, paginated by id.
CREATE INDEX reports_status_id ON reports (status, id);

-- A series is stored column by column: position 0 holds the timestamps
-- (Float64Array of epoch milliseconds), positions 1..n the value columns
-- (Float64Array, NaN = missing). One BLOB per column instead of one row per
-- point keeps a 5-million-point series to a handful of rows and makes reading
-- it back a memcpy rather than millions of row decodes.
CREATE TABLE series_columns (
  report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  name      TEXT NOT NULL,
  data      BLOB NOT NULL,
  PRIMARY KEY (report_id, position)
) STRICT;
