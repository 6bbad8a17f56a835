/**
 * Giving disk space back on SQLite: incremental vacuum after deletes, and a
 * rewrite for `main.ts vacuum`.
 *
 * SQLite keeps the pages of deleted rows in the file as free pages; without
 * help the file never shrinks (81 MB with 18,522 of 18,540 pages free after
 * deleting every report, in the disk-full trial of issue 12). A database
 * created with `auto_vacuum = INCREMENTAL` (every new one: connection.ts
 * sets it before the first table) hands free pages back with
 * `PRAGMA incremental_vacuum`; in WAL mode the file shrinks at the next
 * checkpoint. Older files have no such bookkeeping: one rewrite gives them
 * it ({@linkcode vacuumSqlite}).
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { SpaceResult } from "../types.ts";
import {
  closeSqlite,
  openSqlite,
  relaxed,
  run,
  type SqliteConnection,
  sqliteSchemaVersion,
  statement,
} from "./connection.ts";

/**
 * Returns free pages to the filesystem: `incremental_vacuum`, then a
 * checkpoint that truncates the WAL and lets the main file shrink. Costs
 * little and does nothing for a file without incremental auto-vacuum.
 */
export async function reclaimSqliteSpace(db: SqliteConnection): Promise<SpaceResult> {
  const before = fileBytes(db);
  for (;;) {
    const left = await run("give free pages back", () =>
      // Not durable on its own (losing it only leaves free pages for later).
      relaxed(db, () => {
        // Stepped to the end: `incremental_vacuum` frees one page per step,
        // and node:sqlite's exec() stops after the first (a file with 5,842
        // free pages kept 5,841), so deletes gave almost nothing back; found
        // by the flaky tests/e2e/disk_full_test.ts.
        statement(db, `PRAGMA incremental_vacuum(${VACUUM_SLICE_PAGES})`).all();
        return Number(statement(db, "PRAGMA freelist_count").get()?.freelist_count ?? 0);
      }));
    if (left === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (db.path !== ":memory:") {
    await run("give free pages back", () => db.sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  return { before, after: fileBytes(db) };
}

/**
 * Pages freed per turn of the event loop: freeing is about 22 us a page, so
 * the 16 MB of a 1,000,000-row report's columns held the thread for 91 ms
 * in one statement; in slices of 256, about 6 ms at a time.
 */
const VACUUM_SLICE_PAGES = 256;

/**
 * Rewrites the database at `path` compactly with incremental auto-vacuum on,
 * so later deletes give space back by themselves (`main.ts vacuum`).
 *
 * Why not SQLite's `VACUUM`: it attaches a temporary database, and Deno's
 * node:sqlite forbids ATTACH unless every permission is granted ("too many
 * attached databases - max 0"), so under reportd's permission set it cannot
 * run. This does what VACUUM does by hand: a new file beside the old one
 * (the schema, then every row, then indexes and triggers, and the schema
 * version), then a rename over the old file, which is atomic. Needs free disk
 * space about the size of the data, and the service stopped (the process
 * lock makes sure of it).
 */
export async function vacuumSqlite(path: string): Promise<SpaceResult> {
  const target = `${path}-vacuum`;
  for (const leftover of [target, `${target}-wal`, `${target}-shm`]) {
    await Deno.remove(leftover).catch(() => {});
  }
  const old = await openSqlite(path);
  let before;
  try {
    before = fileBytes(old);
    await run("vacuum the database", () => copyInto(old, target));
    // Renamed while the process lock is still held: nobody opens the file
    // between the copy and the swap.
    await Deno.rename(target, path);
  } finally {
    closeSqlite(old);
  }
  const rebuilt = await openSqlite(path);
  try {
    return { before, after: fileBytes(rebuilt) };
  } finally {
    closeSqlite(rebuilt);
  }
}

function copyInto(old: SqliteConnection, target: string): void {
  const fresh = new DatabaseSync(target);
  try {
    // Before the first table, so it takes effect; no foreign keys while
    // rows arrive table by table, and triggers only once the rows are in.
    fresh.exec("PRAGMA auto_vacuum = INCREMENTAL");
    fresh.exec("PRAGMA foreign_keys = OFF");
    const schema = old.sqlite.prepare(
      "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL " +
        "AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END",
    ).all() as { type: string; name: string; sql: string }[];
    fresh.exec("BEGIN");
    const tables = schema.filter((entry) => entry.type === "table");
    for (const table of tables) fresh.exec(table.sql);
    const sequence = old.sqlite.prepare(
      "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'",
    ).get();
    const names = tables.map((table) => table.name);
    for (const name of sequence ? [...names, "sqlite_sequence"] : names) {
      copyRows(old, fresh, name);
    }
    for (const entry of schema.filter((entry) => entry.type !== "table")) fresh.exec(entry.sql);
    fresh.exec(`PRAGMA user_version = ${Math.trunc(sqliteSchemaVersion(old))}`);
    fresh.exec("COMMIT");
    fresh.exec("PRAGMA journal_mode = WAL");
  } finally {
    fresh.close();
  }
}

function copyRows(old: SqliteConnection, fresh: DatabaseSync, table: string): void {
  const quoted = `"${table.replaceAll('"', '""')}"`;
  const read = old.sqlite.prepare(`SELECT * FROM ${quoted}`);
  // Integers as BigInt: a 64-bit id must not round through a double.
  read.setReadBigInts(true);
  const names = read.columns().map((column) => column.name);
  if (table === "sqlite_sequence") fresh.exec("DELETE FROM sqlite_sequence");
  const list = names.map((name) => `"${name.replaceAll('"', '""')}"`).join(", ");
  const write = fresh.prepare(
    `INSERT INTO ${quoted} (${list}) VALUES (${names.map(() => "?").join(", ")})`,
  );
  for (const row of read.iterate()) {
    const values = row as Record<string, SQLInputValue>;
    write.run(...names.map((name) => values[name]));
  }
}

function fileBytes(db: SqliteConnection): number {
  const pages = statement(db, "PRAGMA page_count").get() as { page_count: number };
  const size = statement(db, "PRAGMA page_size").get() as { page_size: number };
  return pages.page_count * size.page_size;
}
