-- How PostgreSQL stores the two large bytea columns (issue 15, goal 5).
--
-- Upload chunks are stored as they come, without compression: SET STORAGE
-- EXTERNAL keeps a large value out of line (TOAST) but skips compression,
-- which is CPU on the database server for data that lives seconds (a chunk is
-- deleted when its job is done). Measured with `deno task bench
-- --database=postgres` (docs/benchmarks.md): the 1,000,000-row CSV's POST
-- answered in about 1,100 ms instead of 1,500.
ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- Series columns live as long as their report, so they stay compressed, but
-- with lz4 instead of the default pglz: `deno task bench:bytea` (1,000,000
-- Float64 values per column) inserts in 90 to 198 ms with lz4 against 191 to
-- 451 with pglz, and the 1,000,000-row upload is ready about 300 ms sooner
-- (docs/benchmarks.md). The price: compressible columns take more room than
-- with pglz (minute-spaced timestamps 63% of their raw size instead of 55%,
-- two-decimal prices 32 to 46% instead of 25 to 33%); random data is stored
-- raw by both. lz4 needs a server built with it (PostgreSQL 14 or later;
-- Debian's packages and the official images are); elsewhere the columns keep
-- pglz and the migration still succeeds. Rows stored before keep theirs.
DO $$
BEGIN
  ALTER TABLE series_columns ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
  RAISE NOTICE 'lz4 is not available here: series columns stay compressed with pglz';
END
$$;
