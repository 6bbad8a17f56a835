/**
 * Copies every row of one reportd database into another, empty one, and
 * proves the copy: `main.ts copy-to-postgres` moves a SQLite deployment onto
 * PostgreSQL with it, so a user who outgrows one machine keeps their data.
 *
 * Engine-neutral on purpose: both sides are read and written through the
 * `?`-placeholder query of db/mod.ts, in primary-key order with keyset paging
 * (row-value comparison, which SQLite and PostgreSQL both have), so memory
 * stays bounded by one page whatever the database's size. Both schemas are
 * the same numbered migrations, so the columns match by name.
 *
 * Proof: per table, the row count and a SHA-256 over every row (columns in
 * name order, each value tagged with its type, bytes as bytes) are computed
 * from the source while copying and from the target afterwards, by reading
 * it back; any difference fails the copy.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { type Database, querySql, schemaVersion } from "./mod.ts";

/** The tables copied, parents before children, each with its primary key. */
export const COPIED_TABLES: readonly { name: string; key: readonly string[] }[] = [
  { name: "reports", key: ["id"] },
  { name: "series_columns", key: ["report_id", "position"] },
  { name: "upload_chunks", key: ["upload_id", "seq"] },
  { name: "jobs", key: ["report_id"] },
  { name: "idempotency_keys", key: ["key"] },
  { name: "api_keys", key: ["id"] },
  { name: "upstream_cache", key: ["provider", "cache_key"] },
];

/** What was copied from one table. */
export interface TableCopy {
  /** The table. */
  table: string;
  /** Rows copied (equal on both sides). */
  rows: number;
  /** Hex SHA-256 over its rows (equal on both sides). */
  sha256: string;
}

/** Options for {@linkcode copyDatabase}. */
export interface CopyOptions {
  /** Rows per page read and per INSERT (default 200). */
  pageRows?: number;
  /** Called after each table, for progress lines. */
  onTable?: (copied: TableCopy) => void;
}

/** Thrown when the copy cannot start or does not verify; the message is one printable line. */
export class CopyError extends Error {
  /** Names the error in logs. */
  override name = "CopyError";
}

type Row = Record<string, unknown>;

/**
 * Copies every table of `source` into `target`, which must be empty and at
 * the same schema version, then verifies counts and checksums. Throws a
 * {@linkcode CopyError} (and leaves the target empty again) when it is not
 * empty, the versions differ or the verification fails; a StorageError when
 * a database fails (the target is emptied again when it can be).
 *
 * @example Copy one SQLite database into another
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeDatabase, openDatabase } from "./mod.ts";
 * import { copyDatabase } from "./copy.ts";
 * const source = await openDatabase(":memory:");
 * const target = await openDatabase(":memory:");
 * const copied = await copyDatabase(source, target);
 * assert.equal(copied.find((table) => table.table === "reports")?.rows, 0);
 * await closeDatabase(source);
 * await closeDatabase(target);
 * ```
 */
export async function copyDatabase(
  source: Database,
  target: Database,
  options: CopyOptions = {},
): Promise<TableCopy[]> {
  const [from, to] = await Promise.all([schemaVersion(source), schemaVersion(target)]);
  if (from !== to) {
    throw new CopyError(
      `The source is at schema version ${from} and the target at ${to}; run this reportd's ` +
        "migrations on both first (main.ts migrate)",
    );
  }
  const occupied = await occupiedTables(target);
  if (occupied.length > 0) {
    throw new CopyError(
      `The target database ${target.location} is not empty (${occupied.join(", ")}); ` +
        "copy only into a new, empty database",
    );
  }
  const copied: TableCopy[] = [];
  try {
    for (const table of COPIED_TABLES) {
      const written = await copyTable(source, target, { table, pageRows: options.pageRows ?? 200 });
      const check = await checksum(target, { table, pageRows: options.pageRows ?? 200 });
      if (check.rows !== written.rows || check.sha256 !== written.sha256) {
        throw new CopyError(
          `Table ${table.name} does not verify: ${written.rows} rows (${written.sha256}) read, ` +
            `${check.rows} rows (${check.sha256}) in the target`,
        );
      }
      copied.push(written);
      options.onTable?.(written);
    }
  } catch (error) {
    // The target was empty before: emptying it again makes a retry possible.
    await emptyTables(target).catch(() => {});
    throw error;
  }
  return copied;
}

/** The tables of `db` that hold rows, as `name (count)`. */
async function occupiedTables(db: Database): Promise<string[]> {
  const occupied: string[] = [];
  for (const { name } of COPIED_TABLES) {
    const [{ count }] = await querySql(db, `SELECT count(*) AS count FROM ${name}`);
    if (Number(count) > 0) occupied.push(`${name}: ${count} rows`);
  }
  return occupied;
}

async function emptyTables(db: Database): Promise<void> {
  for (const { name } of [...COPIED_TABLES].reverse()) await querySql(db, `DELETE FROM ${name}`);
}

type TableSpec = { table: (typeof COPIED_TABLES)[number]; pageRows: number };

async function copyTable(source: Database, target: Database, spec: TableSpec): Promise<TableCopy> {
  const hash = createHash("sha256");
  let rows = 0;
  for await (const page of pages(source, spec)) {
    const columns = Object.keys(page[0]);
    const placeholders = `(${columns.map(() => "?").join(", ")})`;
    await querySql(
      target,
      `INSERT INTO ${spec.table.name} (${columns.join(", ")}) VALUES ` +
        page.map(() => placeholders).join(", "),
      page.flatMap((row) => columns.map((column) => row[column])),
    );
    for (const row of page) hashRow(hash, row);
    rows += page.length;
  }
  return { table: spec.table.name, rows, sha256: hash.digest("hex") };
}

async function checksum(db: Database, spec: TableSpec): Promise<TableCopy> {
  const hash = createHash("sha256");
  let rows = 0;
  for await (const page of pages(db, spec)) {
    for (const row of page) hashRow(hash, row);
    rows += page.length;
  }
  return { table: spec.table.name, rows, sha256: hash.digest("hex") };
}

/** Pages of rows in primary-key order, each after the last key of the one before. */
async function* pages(db: Database, spec: TableSpec): AsyncGenerator<Row[]> {
  const key = spec.table.key;
  const order = key.join(", ");
  let after: unknown[] | undefined;
  while (true) {
    const where = after === undefined
      ? ""
      : `WHERE (${order}) > (${key.map(() => "?").join(", ")}) `;
    const page = await querySql(
      db,
      `SELECT * FROM ${spec.table.name} ${where}ORDER BY ${order} LIMIT ${spec.pageRows}`,
      after ?? [],
    );
    if (page.length === 0) return;
    yield page;
    const last = page[page.length - 1];
    after = key.map((column) => last[column]);
  }
}

// Columns in name order, each value tagged with its kind, so that "1" and 1,
// or null and "", never hash alike, and bytes hash as bytes on both engines
// (node:sqlite returns Uint8Array, pg a Buffer, which is one).
function hashRow(hash: Hash, row: Row): void {
  for (const column of Object.keys(row).sort()) {
    const value = row[column];
    hash.update(`${column}\u0000`);
    if (value === null || value === undefined) hash.update("n\u0000");
    else if (value instanceof Uint8Array) {
      hash.update(`b${value.byteLength}\u0000`);
      hash.update(value);
    } else if (typeof value === "number" || typeof value === "bigint") {
      hash.update(`i${value}\u0000`);
    } else {
      const text = String(value);
      hash.update(`s${new TextEncoder().encode(text).byteLength}\u0000`);
      hash.update(text);
    }
  }
  hash.update("\u0001");
}
