-- SQLite twin of db/postgres/migrations/0008_chunk_storage.sql, which stops
-- PostgreSQL compressing upload chunks. SQLite never compresses a BLOB, so
-- there is nothing to change here; the migration exists so that both engines
-- keep the same numbered list (tests/contract/engine_test.ts checks).
SELECT 1;
