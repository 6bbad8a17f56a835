/**
 * Giving disk space back: incremental vacuum after deletes, and a full
 * `VACUUM` for `main.ts vacuum`.
 *
 * SQLite keeps the pages of deleted rows in the file as free pages; without
 * help the file never shrinks (81 MB with 18,522 of 18,540 pages free after
 * deleting every report, in the disk-full trial of issue 12). A database
 * created with `auto_vacuum = INCREMENTAL` (every new one: db/mod.ts sets it
 * before the first table) can hand free pages back with
 * `PRAGMA incremental_vacuum`; in WAL mode the file shrinks at the next
 * checkpoint. Older files have no such bookkeeping: one `VACUUM` rewrites
 * them with it (`main.ts vacuum`).
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import {
  closeDatabase,
  type Database,
  databaseSizeBytes,
  openDatabase,
  runStorage,
  schemaVersion,
  statement,
} from "./mod.ts";

/** What a reclaim or vacuum did, in bytes of the main file. */
export interface SpaceResult {
  /** Main file size before. */
  before: number;
  /** Main file size after. */
  after: number;
}

/**
 * Returns free pages to the filesystem: `incremental_vacuum`, then a
 * checkpoint that truncates the WAL and lets the main file shrink. Does
 * nothing useful (and costs little) for a file without incremental
 * auto-vacuum; `main.ts vacuum` converts one.
 */
export function reclaimSpace(db: Database): Promise<SpaceResult> {
  return runStorage("give free pages back", () => {
    const before = fileBytes(db);
    db.sqlite.exec("PRAGMA incremental_vacuum");
    if (db.path !== ":memory:") db.sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return { before, after: fileBytes(db) };
  });
}

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
 * space about the size of the data and the service stopped (the rename
 * would pull the file from under a running one).
 */
export async function vacuumDatabase(path: string): Promise<SpaceResult> {
  const target = `${path}-vacuum`;
  for (const leftover of [target, `${target}-wal`, `${target}-shm`]) {
    await Deno.remove(leftover).catch(() => {});
  }
  const old = await openDatabase(path);
  const before = await databaseSizeBytes(old);
  try {
    await runStorage("vacuum the database", () => copyInto(old, target));
  } finally {
    closeDatabase(old);
  }
  await Deno.rename(target, path);
  const rebuilt = await openDatabase(path);
  try {
    return { before, after: await databaseSizeBytes(rebuilt) };
  } finally {
    closeDatabase(rebuilt);
  }
}

function copyInto(old: Database, target: string): void {
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
    for (
      const name of [...tables.map((table) => table.name), ...(sequence ? ["sqlite_sequence"] : [])]
    ) {
      copyRows(old, fresh, name);
    }
    for (const entry of schema.filter((entry) => entry.type !== "table")) fresh.exec(entry.sql);
    fresh.exec(`PRAGMA user_version = ${Math.trunc(schemaVersion(old))}`);
    fresh.exec("COMMIT");
    fresh.exec("PRAGMA journal_mode = WAL");
  } finally {
    fresh.close();
  }
}

function copyRows(old: Database, fresh: DatabaseSync, table: string): void {
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

/** The auto-vacuum mode: 0 none, 1 full, 2 incremental. */
export function autoVacuumMode(db: Database): Promise<number> {
  return runStorage("read the auto-vacuum mode", () => {
    return (statement(db, "PRAGMA auto_vacuum").get() as { auto_vacuum: number }).auto_vacuum;
  });
}

function fileBytes(db: Database): number {
  const pages = db.sqlite.prepare("PRAGMA page_count").get() as { page_count: number };
  const size = db.sqlite.prepare("PRAGMA page_size").get() as { page_size: number };
  return pages.page_count * size.page_size;
}
