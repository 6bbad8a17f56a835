-- Access control: API keys created with `reportd keys create`, and which key
-- created each report (deleting needs that key's write scope, or admin).

-- Only a hash of each key is stored. A key is `rk_<id>_<secret>`: the id is
-- public (it is how `keys list` and `keys revoke` name the key, and how a
-- request's key is found without comparing secrets in SQL); the secret is 256
-- random bits. Because the secret is that long and random, one SHA-256 is
-- enough: guessing a preimage is as hard as guessing the key, so a slow
-- password hash (bcrypt, scrypt) would only cost CPU on every request.
CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY,                -- the public part of the key
  name       TEXT NOT NULL,                   -- what the key is for ("ci"); not unique
  key_sha256 TEXT NOT NULL,                   -- hex SHA-256 of the whole key
  scopes     TEXT NOT NULL,                   -- "read", "write", "admin" joined by "+"
  created_at TEXT NOT NULL,                   -- ISO-8601 UTC
  revoked_at TEXT                             -- set by `keys revoke`; the row stays for audit
) STRICT;

-- The principal that created a report: an api_keys id, or "config:<name>" for
-- a key from REPORTD_API_KEYS or REPORTD_API_KEYS_FILE. NULL when it was
-- created in open mode (no keys configured): then only an admin may delete it.
-- No foreign key: configured keys have no row, and a revoked key's reports
-- keep their owner.
ALTER TABLE reports ADD COLUMN created_by TEXT;
