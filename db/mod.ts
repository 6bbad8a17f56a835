/**
 * The engine-neutral surface of db/: open a database (SQLite or PostgreSQL),
 * migrate it, ping it, close it. Services and routes see only this module,
 * the records in ./types.ts and the functions in db/*_repo.ts; which engine
 * runs is decided here, by the location string, and nowhere else.
 *
 * - A path (or `:memory:`) opens embedded SQLite (db/sqlite/): one process,
 *   one file, the default for one machine.
 * - A `postgres://` or `postgresql://` URL opens PostgreSQL (db/postgres/):
 *   any number of identical instances on one database.
 *
 * @module
 */
import type { EngineOperations, Migration, MigrationResult, Repositories } from "./types.ts";

export { StorageError } from "./errors.ts";
export { DatabaseBusyError } from "./sqlite/connection.ts";
export type { Migration, MigrationResult } from "./types.ts";
export { databaseHost, databaseUrlProblem, redactDatabaseUrl } from "./url.ts";

/** An open reportd database, whichever engine holds it. */
export interface Database {
  /** Which engine: for logs and metrics only; behaviour never depends on it outside db/. */
  readonly engine: "sqlite" | "postgres";
  /** Where it is, safe to log: the file path, or the URL without its password. */
  readonly location: string;
  /**
   * True when this process is the database's only user (SQLite holds a
   * process lock): then start-up may recover every job and upload at once.
   */
  readonly exclusive: boolean;
  /** The storage operations; services call them through db/*_repo.ts. */
  readonly repositories: Repositories;
  /** Housekeeping: migrations, probes, notifications, closing. */
  readonly operations: EngineOperations;
}

/** Options for {@linkcode openDatabase}. */
export interface OpenOptions {
  /** Apply pending migrations (default true). `main.ts migrate` runs them explicitly. */
  migrate?: boolean;
  /** SQLite: how long a writer waits for a lock before failing, in ms (default 5000). */
  busyTimeoutMs?: number;
  /** SQLite: take the one-process lock (default true). */
  exclusive?: boolean;
  /** SQLite: bulk bytes written between checkpoints, when under the usual 4 MiB (db/sqlite/connection.ts). */
  checkpointBytes?: number;
  /** PostgreSQL: most connections in the pool (default 10). */
  poolSize?: number;
  /**
   * PostgreSQL: longest wait for a connection and longest statement, in ms
   * (default 10 s), so an unreachable server means a quick 503, not a hang.
   */
  timeoutMs?: number;
  /**
   * PostgreSQL: what its connections are called in `pg_stat_activity`
   * (default `reportd`; its listening connection adds `-listen`).
   */
  applicationName?: string;
}

/** True when `location` names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * Opens the database at `location` (a SQLite path, `:memory:`, or a
 * PostgreSQL URL) and brings its schema up to date.
 *
 * @example Open an in-memory database
 * ```ts
 * import { closeDatabase, openDatabase } from "./mod.ts";
 * const db = await openDatabase(":memory:");
 * await closeDatabase(db);
 * ```
 */
export async function openDatabase(location: string, options: OpenOptions = {}): Promise<Database> {
  // Imported on demand: the PostgreSQL driver reads its environment when it
  // loads, which a SQLite deployment neither needs nor is granted.
  const engine = isPostgresUrl(location)
    ? await import("./postgres/mod.ts").then((module) => module.openPostgresDatabase)
    : await import("./sqlite/mod.ts").then((module) => module.openSqliteDatabase);
  const db = await engine(location, options);
  if (options.migrate ?? true) {
    try {
      await db.operations.migrate();
    } catch (error) {
      await db.operations.close();
      throw error;
    }
  }
  return db;
}

/** Applies pending migrations (PostgreSQL: exactly once however many instances start). */
export function migrateDatabase(
  db: Database,
  options: { migrations?: readonly Migration[] } = {},
): Promise<MigrationResult> {
  return db.operations.migrate(options.migrations);
}

/** Returns the schema version recorded in the database. */
export function schemaVersion(db: Database): Promise<number> {
  return db.operations.schemaVersion();
}

/** Checks that the database answers a trivial query (used by `/readyz`). */
export function pingDatabase(db: Database): Promise<void> {
  return db.operations.ping();
}

/** The database's size in bytes (a gauge on `/metrics`). */
export function databaseSizeBytes(db: Database): Promise<number> {
  return db.operations.sizeBytes();
}

/** Integrity findings: `["ok"]` for a sound database, otherwise one line per problem. */
export function checkIntegrity(db: Database): Promise<string[]> {
  return db.operations.checkIntegrity();
}

/**
 * Calls `listener` with each message on `channel` from any process using the
 * database (PostgreSQL NOTIFY; in-process for SQLite), and with `undefined`
 * after a lost connection came back (messages may have been missed: re-read).
 * Returns a function that stops listening.
 */
export function listen(
  db: Database,
  channel: string,
  listener: (payload: string | undefined) => void,
): () => void {
  return db.operations.listen(channel, listener);
}

/**
 * Runs one SQL statement with `?` placeholders on either engine and returns
 * its rows. For tests and operator tools only: services use the repositories.
 */
export function querySql(
  db: Database,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Record<string, unknown>[]> {
  return db.operations.query(sql, params);
}

/**
 * Closes the database (SQLite: checkpoints the WAL and releases the process
 * lock; PostgreSQL: ends the pool and the listener). Safe to call twice.
 */
export function closeDatabase(db: Database): Promise<void> {
  return db.operations.close();
}
