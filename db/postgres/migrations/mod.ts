/**
 * The ordered list of PostgreSQL schema migrations: the same numbers and
 * names as db/sqlite/migrations/ (a test checks), each the same change in
 * PostgreSQL's dialect. Embedded as text for `deno compile`, like SQLite's.
 *
 * @module
 */
import type { Migration } from "../../types.ts";
import init from "./0001_init.sql" with { type: "text" };
import jobs from "./0002_jobs.sql" with { type: "text" };
import apiKeys from "./0003_api_keys.sql" with { type: "text" };
import imports from "./0004_imports.sql" with { type: "text" };
import leases from "./0005_leases.sql" with { type: "text" };
import instances from "./0006_instances.sql" with { type: "text" };
import uploadFormats from "./0007_upload_formats.sql" with { type: "text" };
import byteaStorage from "./0008_bytea_storage.sql" with { type: "text" };

/** Every migration, oldest first. Append only: never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "0001_init", sql: init },
  { version: 2, name: "0002_jobs", sql: jobs },
  { version: 3, name: "0003_api_keys", sql: apiKeys },
  { version: 4, name: "0004_imports", sql: imports },
  { version: 5, name: "0005_leases", sql: leases },
  { version: 6, name: "0006_instances", sql: instances },
  { version: 7, name: "0007_upload_formats", sql: uploadFormats },
  { version: 8, name: "0008_bytea_storage", sql: byteaStorage },
];
