-- Imports from market-data providers.

-- An import job has no upload: it carries the validated source instead, and
-- the worker gets the CSV the provider returns.
ALTER TABLE jobs ADD COLUMN import_source TEXT;  -- JSON: {"provider", "symbol", ...}

-- Upstream answers, so a repeated import does not hit the provider again.
-- Keyed by provider and the provider's own cache key (symbol, interval and
-- range for Stooq; the URL for the url provider).
CREATE TABLE upstream_cache (
  provider   TEXT NOT NULL,
  cache_key  TEXT NOT NULL,
  body       BLOB NOT NULL,
  fetched_at TEXT NOT NULL,               -- ISO-8601 UTC
  expires_at TEXT NOT NULL,               -- after this, stale: used only when the upstream fails
  PRIMARY KEY (provider, cache_key)
) STRICT;
