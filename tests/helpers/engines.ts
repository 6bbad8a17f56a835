/**
 * Runs one test against every storage engine: the repository contract that
 * db/sqlite/ and db/postgres/ both implement. Each run gets a fresh database
 * (a SQLite file in a new temporary folder, or a new PostgreSQL database)
 * that is removed afterwards.
 *
 * @module
 */
import { closeDatabase, type Database, openDatabase } from "../../db/mod.ts";
import type { ReportRecord } from "../../db/reports_repo.ts";
import { postgresSkipReason, testDatabase } from "./postgres.ts";

/** The engines a contract test runs on. */
export const ENGINES = ["sqlite", "postgres"] as const;

/** Opens a fresh, migrated database on `engine`; disposing it removes it. */
export async function freshDatabase(
  engine: (typeof ENGINES)[number],
): Promise<{ db: Database; url: string } & AsyncDisposable> {
  if (engine === "postgres") {
    const database = await testDatabase();
    const db = await openDatabase(database.url);
    return {
      db,
      url: database.url,
      async [Symbol.asyncDispose]() {
        await closeDatabase(db);
        await database[Symbol.asyncDispose]();
      },
    };
  }
  const dir = await Deno.makeTempDir({ prefix: "reportd-contract-" });
  const db = await openDatabase(`${dir}/reportd.db`);
  return {
    db,
    url: `${dir}/reportd.db`,
    async [Symbol.asyncDispose]() {
      await closeDatabase(db);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * Registers `name [sqlite]` and `name [postgres]`. The PostgreSQL run is
 * skipped, with the reason, only when no server can be had and
 * `REPORTD_REQUIRE_POSTGRES` is not set (see tests/helpers/postgres.ts).
 */
export function contractTest(name: string, fn: (db: Database) => Promise<void>): void {
  for (const engine of ENGINES) {
    const skip = engine === "postgres" ? postgresSkipReason() : undefined;
    Deno.test({
      name: `${name} [${engine}]`,
      ignore: skip !== undefined,
      async fn() {
        await using fresh = await freshDatabase(engine);
        await fn(fresh.db);
      },
    });
  }
}

/** A report record with fixed times. */
export function record(id: string, status: ReportRecord["status"] = "ready"): ReportRecord {
  return {
    id,
    name: `report ${id}`,
    status,
    source: { kind: "upload", format: "csv" },
    rowCounts: { received: 1 },
    summary: { points: 1 },
    error: null,
    createdAt: "2020-01-01T00:00:00.000Z",
    updatedAt: "2020-01-01T00:00:00.000Z",
    queuedAt: "2020-01-01T00:00:00.000Z",
    startedAt: "2020-01-01T00:00:00.000Z",
    finishedAt: "2020-01-01T00:00:00.000Z",
  };
}

/** A report as an upload leaves it: queued at `now`, nothing computed yet. */
export function queuedRecord(
  id: string,
  options: { name?: string; now?: string } = {},
): ReportRecord {
  const now = options.now ?? new Date().toISOString();
  return {
    id,
    name: options.name ?? `report ${id}`,
    status: "queued",
    source: { kind: "upload", format: "csv" },
    rowCounts: null,
    summary: null,
    error: null,
    createdAt: now,
    updatedAt: now,
    queuedAt: now,
    startedAt: null,
    finishedAt: null,
  };
}
