-- SQLite twin of db/postgres/migrations/0008_bytea_storage.sql, which stops
-- PostgreSQL compressing upload chunks and compresses series columns with
-- lz4. SQLite never compresses a BLOB, so there is nothing to change here;
-- the migration exists so that both engines keep the same numbered list
-- (tests/contract/engine_test.ts checks).
SELECT 1;
