/**
 * How PostgreSQL's two compressions of a `bytea` compare on series columns:
 * the default pglz against lz4, on four 1,000,000-value Float64 columns of
 * different kinds (minute-spaced timestamps, a repeating pattern, a random
 * walk, two-decimal prices). For each: the share of the raw size stored
 * (`pg_column_size` against `length`) and the time of the insert, measured
 * from this process as the job's result store would see it. Migration 0008
 * chose lz4 for `series_columns.data` from these numbers (docs/benchmarks.md).
 *
 * Usage: deno task bench:bytea [--database=postgres|postgres://...]
 * (a fresh database on that server, dropped afterwards; bench/database.ts).
 *
 * @module
 */
import { closeDatabase, openDatabase, querySql } from "../db/mod.ts";
import { benchDatabase, databaseChoice } from "./database.ts";

const VALUES = 1_000_000;

/** The columns compared, each as the job would store it. */
function columns(): [string, Float64Array][] {
  const timestamps = new Float64Array(VALUES);
  const pattern = new Float64Array(VALUES);
  const walk = new Float64Array(VALUES);
  const prices = new Float64Array(VALUES);
  let price = 100;
  for (let i = 0; i < VALUES; i++) {
    timestamps[i] = (1577836800 + i * 60) * 1000;
    pattern[i] = (i % 1000) / 10;
    walk[i] = (i === 0 ? 0 : walk[i - 1]) + Math.random() - 0.5;
    price *= 1 + (Math.random() - 0.5) / 100;
    prices[i] = Math.round(price * 100) / 100;
  }
  return [
    ["timestamps, 1 min apart", timestamps],
    ["a repeating pattern", pattern],
    ["a random walk", walk],
    ["prices, 2 decimals", prices],
  ];
}

if (import.meta.main) {
  // SQLite never compresses a BLOB: with no --database, PostgreSQL.
  const given = databaseChoice(Deno.args);
  await using database = await benchDatabase(given === "sqlite" ? "postgres" : given);
  if (database === undefined) throw new Error("This benchmark needs PostgreSQL");
  const db = await openDatabase(database.url, { migrate: false });
  try {
    const rows: Record<string, string>[] = [];
    for (const method of ["pglz", "lz4"]) {
      await querySql(
        db,
        `CREATE TABLE bench_${method} (name text, data bytea COMPRESSION ${method})`,
      );
      for (const [name, column] of columns()) {
        const bytes = new Uint8Array(column.buffer);
        const started = performance.now();
        await querySql(db, `INSERT INTO bench_${method} VALUES (?, ?)`, [name, bytes]);
        const ms = performance.now() - started;
        const [size] = await querySql(
          db,
          `SELECT length(data) AS raw, pg_column_size(data) AS stored FROM bench_${method} ` +
            "WHERE name = ?",
          [name],
        );
        rows.push({
          method,
          column: name,
          "stored %": (Number(size.stored) / Number(size.raw) * 100).toFixed(0),
          "insert ms": ms.toFixed(0),
        });
      }
    }
    console.table(rows);
  } finally {
    await closeDatabase(db);
  }
}
