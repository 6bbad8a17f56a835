-- Upload chunks are stored as they come, without compression: SET STORAGE
-- EXTERNAL keeps a large bytea out of line (TOAST) but skips pglz, which is
-- CPU on the database server for data that lives seconds (a chunk is deleted
-- when its job is done) and rarely compresses well. Measured with
-- `deno task bench --database=postgres` (docs/benchmarks.md, issue 15): the
-- 1,000,000-row CSV's POST answered in about 1,100 ms instead of 1,500, and
-- was ready in about 2,300 instead of 2,650. Rows stored before this keep
-- their compression; new ones are plain.
ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
