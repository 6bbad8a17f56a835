/**
 * The ordered list of schema migrations.
 *
 * The SQL files are imported as text so that `deno compile` embeds them in the
 * executable: the binary never reads its schema from the working directory and
 * needs no read permission for it. A test checks that every `.sql` file in this
 * folder is listed here, in order.
 *
 * @module
 */
import init from "./0001_init.sql" with { type: "text" };
import jobs from "./0002_jobs.sql" with { type: "text" };
import apiKeys from "./0003_api_keys.sql" with { type: "text" };
import imports from "./0004_imports.sql" with { type: "text" };
import uploadFormats from "./0007_upload_formats.sql" with { type: "text" };

/** One numbered schema change. */
export interface Migration {
  /** Matches the file's number; stored in `PRAGMA user_version` once applied. */
  version: number;
  /** The file name without extension, for logs. */
  name: string;
  /** The statements to run, in one transaction. */
  sql: string;
}

/** Every migration, oldest first. Append only: never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "0001_init", sql: init },
  { version: 2, name: "0002_jobs", sql: jobs },
  { version: 3, name: "0003_api_keys", sql: apiKeys },
  { version: 4, name: "0004_imports", sql: imports },
  // 0005 and 0006 belong to the PostgreSQL work (issue 11), landing separately.
  { version: 7, name: "0007_upload_formats", sql: uploadFormats },
];
