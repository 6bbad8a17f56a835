/**
 * The database connection: opening, pragmas, migrations, statements, closing.
 *
 * reportd uses SQLite through `node:sqlite`, which is built into Deno: no FFI,
 * no native download, and it works inside `deno compile` binaries. The API is
 * synchronous; the repository modules wrap it in async functions so that a
 * networked engine (PostgreSQL) can later sit behind the same signatures.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { isStorageFull, StorageError } from "./errors.ts";
import { type Migration, MIGRATIONS } from "./migrations/mod.ts";

export { StorageError } from "./errors.ts";

/** An open reportd database. */
export interface Database {
  /** The file path, or `:memory:`. */
  readonly path: string;
  /** The underlying connection; only db/ modules use it. */
  readonly sqlite: DatabaseSync;
  /** Prepared statements by SQL text, so hot queries are compiled once. */
  readonly statements: Map<string, StatementSync>;
}

/** Options for {@linkcode openDatabase}. */
export interface OpenOptions {
  /** Apply pending migrations (default true). `main.ts migrate` runs them explicitly. */
  migrate?: boolean;
  /** How long a writer waits for a lock before failing, in ms (default 5000). */
  busyTimeoutMs?: number;
}

/** What {@linkcode migrateDatabase} did. */
export interface MigrationResult {
  /** Schema version before. */
  from: number;
  /** Schema version after. */
  to: number;
  /** Names of the migrations applied now. */
  applied: string[];
}

/**
 * Opens (creating if needed) the database at `path` and brings its schema up to date.
 *
 * WAL mode lets readers proceed while a writer commits; `synchronous=FULL`
 * makes every commit durable before we answer a client, because an accepted
 * upload must survive a crash or power loss; `busy_timeout` turns lock
 * contention into a bounded wait instead of an immediate error; foreign keys
 * make deleting a report delete its series.
 *
 * @example Open an in-memory database
 * ```ts
 * import { closeDatabase, openDatabase } from "./mod.ts";
 * const db = await openDatabase(":memory:");
 * closeDatabase(db);
 * ```
 */
export async function openDatabase(path: string, options: OpenOptions = {}): Promise<Database> {
  if (path !== ":memory:") await ensureParentDirectory(path);
  let sqlite: DatabaseSync;
  try {
    sqlite = new DatabaseSync(path);
    // Takes effect only in a file without tables yet, which is what we want:
    // new databases give freed pages back (db/space.ts); older ones are
    // converted by `main.ts vacuum`, never behind the operator's back.
    sqlite.exec("PRAGMA auto_vacuum = INCREMENTAL");
    if (path !== ":memory:") sqlite.exec("PRAGMA journal_mode = WAL");
    sqlite.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    sqlite.exec("PRAGMA synchronous = FULL");
    sqlite.exec("PRAGMA foreign_keys = ON");
  } catch (error) {
    throw new StorageError(`Cannot open the database at ${path}`, { cause: error });
  }
  const db: Database = { path, sqlite, statements: new Map() };
  if (options.migrate ?? true) await migrateDatabase(db);
  return db;
}

/**
 * Applies every migration newer than `PRAGMA user_version`, each in its own
 * transaction together with the version bump, so a crash mid-way leaves the
 * schema at a known version.
 */
export function migrateDatabase(
  db: Database,
  options: { migrations?: readonly Migration[] } = {},
): Promise<MigrationResult> {
  const migrations = options.migrations ?? MIGRATIONS;
  return runStorage("migrate the database", () => {
    const from = schemaVersion(db);
    const applied: string[] = [];
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      transaction(db, () => {
        db.sqlite.exec(migration.sql);
        db.sqlite.exec(`PRAGMA user_version = ${Math.trunc(migration.version)}`);
      });
      applied.push(migration.name);
    }
    return { from, to: schemaVersion(db), applied };
  });
}

/** Returns the schema version recorded in the database file. */
export function schemaVersion(db: Database): number {
  const row = db.sqlite.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

/**
 * Returns a cached prepared statement for `sql`.
 * Only db/ modules call this: it is the one way SQL reaches the connection.
 */
export function statement(db: Database, sql: string): StatementSync {
  let prepared = db.statements.get(sql);
  if (prepared === undefined) {
    prepared = db.sqlite.prepare(sql);
    db.statements.set(sql, prepared);
  }
  return prepared;
}

/**
 * Runs `work` inside `BEGIN IMMEDIATE ... COMMIT`, rolling back on any error.
 * IMMEDIATE takes the write lock up front, so two writers queue on
 * `busy_timeout` instead of failing half-way with SQLITE_BUSY.
 */
export function transaction<T>(db: Database, work: () => T): T {
  db.sqlite.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.sqlite.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.sqlite.isTransaction) db.sqlite.exec("ROLLBACK");
    throw error;
  }
}

/**
 * Runs a synchronous storage operation and turns any failure into a
 * {@linkcode StorageError} that names the operation, keeping the original
 * error as `cause` for the logs.
 *
 * Every repository call passes through here, so this is where database spans
 * are made: one per operation, named by `action`, as a child of the request's
 * or job's span when that span is recorded (a collector is configured).
 * Outside any span (the queue looking for work, a metrics callback) it makes
 * none: those calls would each start a trace of their own and bury the ones
 * that matter.
 */
export function runStorage<T>(action: string, work: () => T): Promise<T> {
  // Only the OpenTelemetry API, never services/telemetry: db/ imports no
  // service. The tracer is looked up per call (a cached map lookup) because
  // the provider behind it is registered, and in tests replaced, later.
  const span = trace.getActiveSpan()?.isRecording() !== true
    ? undefined
    : trace.getTracer("reportd.db").startSpan(action, {
      kind: SpanKind.CLIENT,
      attributes: { "db.system.name": "sqlite", "db.query.summary": action },
    });
  try {
    return Promise.resolve(work());
  } catch (error) {
    span?.recordException(error as Error);
    span?.setStatus({ code: SpanStatusCode.ERROR });
    if (error instanceof StorageError) return Promise.reject(error);
    return Promise.reject(new StorageError(`Cannot ${action}`, { cause: error }));
  } finally {
    span?.end();
  }
}

/**
 * The database's size in bytes: pages times page size, which is the main
 * file's size after a checkpoint (the WAL file comes on top until then).
 */
export function databaseSizeBytes(db: Database): Promise<number> {
  return runStorage("measure the database", () => {
    const pages = statement(db, "PRAGMA page_count").get() as { page_count: number };
    const size = statement(db, "PRAGMA page_size").get() as { page_size: number };
    return pages.page_count * size.page_size;
  });
}

/**
 * Runs `PRAGMA integrity_check` and returns its findings: `["ok"]` for a
 * sound database, otherwise one line per problem (for tests and operators).
 */
export function checkIntegrity(db: Database): Promise<string[]> {
  return runStorage(
    "check the database's integrity",
    () =>
      statement(db, "PRAGMA integrity_check").all().map((row) =>
        String((row as { integrity_check: unknown }).integrity_check)
      ),
  );
}

/** Checks that the database answers a trivial query (used by `/readyz`). */
export function pingDatabase(db: Database): Promise<void> {
  return runStorage("reach the database", () => {
    statement(db, "SELECT 1").get();
  });
}

/**
 * Checkpoints the WAL into the main file and closes the connection, so a
 * stopped service leaves one self-contained database file behind (on a full
 * disk the checkpoint may be refused: the WAL then stays beside the file,
 * complete, and the next open replays it). Safe to call twice.
 */
export function closeDatabase(db: Database): void {
  if (!db.sqlite.isOpen) return;
  try {
    if (db.path !== ":memory:") db.sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.sqlite.exec("PRAGMA optimize");
  } catch (error) {
    // A full disk can refuse the checkpoint. Nothing is lost: every commit is
    // in the WAL, which the next open replays. Refusing to close (and exiting
    // 1) would only make a full disk worse to recover from.
    if (!isStorageFull(error)) throw error;
  } finally {
    db.statements.clear();
    db.sqlite.close();
  }
}

async function ensureParentDirectory(path: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  if (slash <= 0) return;
  await Deno.mkdir(path.slice(0, slash), { recursive: true });
}
