/**
 * The SQLite connection: opening, pragmas, the process lock, migrations,
 * statements, transactions, closing.
 *
 * SQLite comes through `node:sqlite`, which is built into Deno: no FFI, no
 * native download, and it works inside `deno compile` binaries. Its API is
 * synchronous; the repositories beside this module wrap it in async functions
 * so that services see the same signatures as with PostgreSQL.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { clearImmediate, setImmediate } from "node:timers";
import { isStorageFull, StorageError } from "../errors.ts";
import { runStorage } from "../run_storage.ts";
import type { ApiKeyRecord, Migration, MigrationResult } from "../types.ts";
import { MIGRATIONS } from "./migrations/mod.ts";
import { CommitCounter } from "./commit_counter.ts";

/** An open SQLite database. */
export interface SqliteConnection {
  /** The file path, or `:memory:`. */
  readonly path: string;
  /** The underlying connection; only db/sqlite/ modules use it. */
  readonly sqlite: DatabaseSync;
  /** Prepared statements by SQL text, so hot queries are compiled once. */
  readonly statements: Map<string, StatementSync>;
  /** The held process lock (`<path>.lock`), released on close. */
  readonly lock: Deno.FsFile | undefined;
  /** Durable changes waiting for the next shared commit ({@linkcode groupCommit}). */
  readonly group: CommitGroup;
  /** API key answers kept while nobody commits (db/sqlite/keys.ts). */
  readonly keys: KeysSeen;
  /** Bulk bytes written since the last checkpoint ({@linkcode noteWritten}). */
  readonly wal: {
    unchecked: number;
    timer: ReturnType<typeof setTimeout> | undefined;
    /** Bulk bytes after which a checkpoint is scheduled. */
    limit: number;
  };
}

/**
 * What db/sqlite/keys.ts read about API keys, kept for as long as the
 * database's commit counter stays at `version` (nobody committed since).
 */
export interface KeysSeen {
  /** The commit counter; undefined for `:memory:` (then every answer is a query). */
  readonly counter: CommitCounter | undefined;
  /** The counter's value when the answers below were read. */
  version: number | undefined;
  /**
   * When the counter was last read (`performance.now()`): for
   * `KEYS_RECHECK_MS` after that (db/sqlite/keys.ts), it is not read again.
   */
  checkedAt: number;
  /** Whether any key exists, once read. */
  anyKey: boolean | undefined;
  /** Records of keys that exist, by id (made-up ids are never kept). */
  readonly records: Map<string, ApiKeyRecord>;
}

/** Changes gathered for one shared transaction, and the timer that commits them. */
export interface CommitGroup {
  /** Each waiting change, with how to answer its caller. */
  pending: GroupedChange[];
  /** Set while a commit is scheduled. */
  scheduled: ReturnType<typeof setImmediate> | undefined;
  /** Shared commits so far (what the batching test reads; never reset). */
  commits: number;
  /** The WAL file, opened once for the fsyncs of shared commits. */
  walFile: Deno.FsFile | undefined;
  /** The fsyncs in flight (closing waits for them). */
  syncing: Set<Promise<void>>;
}

interface GroupedChange {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Options for {@linkcode openSqlite}. */
export interface SqliteOpenOptions {
  /** How long a writer waits for a lock before failing, in ms (default 5000). */
  busyTimeoutMs?: number;
  /**
   * Take the process lock (default true): SQLite is one process, because
   * its job queue and caches assume nobody else changes the file.
   */
  exclusive?: boolean;
  /**
   * Bulk bytes written (chunks, series columns) after which the WAL is
   * checkpointed: 4 MiB, or this when it is less. What the WAL holds beyond
   * the main file is what a checkpoint must find room for when the disk
   * fills, so it has to stay well under the disk reserve
   * (services/runtime/disk_space.ts).
   */
  checkpointBytes?: number;
}

/** Another process holds the database: the message names it and fits one line. */
export class DatabaseBusyError extends StorageError {
  /** `message` names the path and the holder. */
  constructor(message: string) {
    super(message);
    this.name = "DatabaseBusyError";
  }
}

/**
 * Opens (creating if needed) the database at `path`.
 *
 * WAL mode lets readers proceed while a writer commits; `synchronous=FULL`
 * makes every commit durable before we answer a client, because an accepted
 * upload must survive a crash or power loss; `busy_timeout` turns lock
 * contention into a bounded wait instead of an immediate error; foreign keys
 * make deleting a report delete its series.
 *
 * Before anything else it takes an exclusive `flock` on `<path>.lock`: a
 * second reportd on the same file would requeue the first one's running jobs
 * and delete the uploads it is receiving. The kernel drops the lock when the
 * process dies however it dies, so a crash never leaves a stale lock; the
 * file's text (pid, host, start time) only names the holder for the error.
 */
export async function openSqlite(
  path: string,
  options: SqliteOpenOptions = {},
): Promise<SqliteConnection> {
  if (path !== ":memory:") await ensureParentDirectory(path);
  const lock = path === ":memory:" || options.exclusive === false
    ? undefined
    : await takeProcessLock(path);
  let sqlite: DatabaseSync;
  try {
    sqlite = new DatabaseSync(path);
    // First: the pragmas below take locks too. Set after them, a `keys
    // revoke` opening the file while the server committed failed at once
    // with "database is locked" (auto_vacuum wants the write lock) instead
    // of waiting a moment (tests/unit/db_test.ts).
    sqlite.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    // Takes effect only in a file without tables yet, which is what we want:
    // new databases give freed pages back (db/sqlite/space.ts); older ones
    // are converted by `main.ts vacuum`, never behind the operator's back.
    sqlite.exec("PRAGMA auto_vacuum = INCREMENTAL");
    if (path !== ":memory:") sqlite.exec("PRAGMA journal_mode = WAL");
    sqlite.exec("PRAGMA synchronous = FULL");
    sqlite.exec("PRAGMA foreign_keys = ON");
    // A backstop only: checkpoints are run by noteWritten, after the commit
    // that needed them has been answered.
    sqlite.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  } catch (error) {
    lock?.close();
    throw new StorageError(`Cannot open the database at ${path}`, { cause: error });
  }
  return {
    path,
    sqlite,
    statements: new Map(),
    lock,
    group: {
      pending: [],
      scheduled: undefined,
      commits: 0,
      walFile: undefined,
      syncing: new Set(),
    },
    keys: {
      counter: path === ":memory:" ? undefined : new CommitCounter(path),
      version: undefined,
      checkedAt: -Infinity,
      anyKey: undefined,
      records: new Map(),
    },
    wal: {
      unchecked: 0,
      timer: undefined,
      limit: Math.min(options.checkpointBytes ?? Infinity, CHECKPOINT_BYTES),
    },
  };
}

async function takeProcessLock(path: string): Promise<Deno.FsFile> {
  const lockPath = `${path}.lock`;
  const file = await Deno.open(lockPath, { read: true, write: true, create: true });
  if (!await file.tryLock(true)) {
    file.close();
    const holder = (await Deno.readTextFile(lockPath).catch(() => "")).trim() ||
      "an unknown process";
    throw new DatabaseBusyError(
      `The database ${path} is in use by ${holder}; SQLite allows one reportd process per ` +
        "file (stop the other one, or set REPORTD_DATABASE_URL to run several on PostgreSQL)",
    );
  }
  const holder = `reportd pid ${Deno.pid} (started ${new Date().toISOString()})`;
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${holder}\n`));
  return file;
}

/**
 * Runs `work` as the storage operation `action` (a span, errors as
 * StorageError). `work` is synchronous, or a {@linkcode groupCommit}.
 */
export function run<T>(action: string, work: () => T | Promise<T>): Promise<T> {
  return runStorage("sqlite", action, work);
}

/**
 * Applies every migration newer than `PRAGMA user_version`, each in its own
 * transaction together with the version bump, so a crash mid-way leaves the
 * schema at a known version. One process holds the file (the process lock),
 * so no other lock is needed.
 */
export function migrateSqlite(
  db: SqliteConnection,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  return run("migrate the database", () => {
    const from = sqliteSchemaVersion(db);
    const applied: string[] = [];
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      transaction(db, () => {
        db.sqlite.exec(migration.sql);
        db.sqlite.exec(`PRAGMA user_version = ${Math.trunc(migration.version)}`);
      });
      applied.push(migration.name);
    }
    return { from, to: sqliteSchemaVersion(db), applied };
  });
}

/** Returns the schema version recorded in the database file. */
export function sqliteSchemaVersion(db: SqliteConnection): number {
  const row = db.sqlite.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

/**
 * Returns a cached prepared statement for `sql`.
 * Only db/sqlite/ modules call this: it is the one way SQL reaches the connection.
 */
export function statement(db: SqliteConnection, sql: string): StatementSync {
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
export function transaction<T>(db: SqliteConnection, work: () => T): T {
  db.sqlite.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.sqlite.exec("COMMIT");
    return result;
  } catch (error) {
    try {
      if (db.sqlite.isTransaction) db.sqlite.exec("ROLLBACK");
    } catch {
      // SQLite may have rolled back by itself; the error to report is the first.
    }
    throw error;
  }
}

/** Bulk bytes (upload chunks, series columns) after which the WAL is checkpointed, by default. */
const CHECKPOINT_BYTES = 4 * 1024 * 1024;

/** SQLite's own automatic checkpoint, in pages, for whatever noteWritten does not count. */
const BACKSTOP_CHECKPOINT_PAGES = 10_000;

/**
 * How long after the write a checkpoint waits: long enough for the answers
 * (and the reads they lead to) that the write held up to go out first.
 */
const CHECKPOINT_DELAY_MS = 20;

/**
 * Counts bulk bytes just written and, past {@linkcode CHECKPOINT_BYTES},
 * schedules a checkpoint a moment later. SQLite's automatic checkpoint
 * (every 1,000 pages) ran inside the COMMIT that crossed the mark: storing
 * the 1,000,000-row CSV's 16 MB of columns took 33 ms to commit with it and
 * 10 ms without, and the report could not be read as ready meanwhile
 * (node:sqlite blocks the thread). Moved to a timer, it runs after the
 * waiting callers were answered. Durability is untouched: a commit is
 * durable in the WAL; a checkpoint only copies it into the main file.
 */
export function noteWritten(db: SqliteConnection, bytes: number): void {
  const wal = db.wal;
  wal.unchecked += bytes;
  if (wal.unchecked < wal.limit || wal.timer !== undefined) return;
  wal.timer = setTimeout(() => {
    wal.timer = undefined;
    wal.unchecked = 0;
    try {
      // PASSIVE: copies what no reader needs; never waits, never fails a caller.
      db.sqlite.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch {
      // A full disk or a busy file: the next one (or the backstop) catches up.
    }
  }, CHECKPOINT_DELAY_MS);
}

/**
 * Runs `work` under `synchronous=NORMAL`: its commit is written to the WAL
 * but not fsynced. Only for changes that need not survive a power loss on
 * their own: an upload's chunks (the report and job rows that acknowledge
 * the upload are committed afterwards under FULL, and in WAL mode that one
 * fsync makes every earlier frame of the log durable too, chunks included),
 * a job's claim or lease renewal (lost, the job is simply queued again). A
 * process crash loses nothing in either mode; only the OS or the power
 * going down can. Saves one fsync per stored 1 MiB chunk and two per job:
 * bench/ingest.ts, docs/benchmarks.md (issue 15).
 */
export function relaxed<T>(db: SqliteConnection, work: () => T): T {
  if (db.sqlite.isTransaction) return work();
  statement(db, "PRAGMA synchronous = NORMAL").run();
  try {
    return work();
  } finally {
    statement(db, "PRAGMA synchronous = FULL").run();
  }
}

/**
 * Runs `work` in a transaction shared with every other change asked for in
 * the same turn of the event loop, and resolves once that transaction is
 * committed and fsynced (group commit). node:sqlite is synchronous, so while
 * one commit waits for the disk the requests behind it pile up; they then
 * share the next commit and its single fsync instead of paying one each.
 * With the other changes of issue 15, 32 clients of small uploads went from
 * 782 to about 1,100 uploads per second with the jobs keeping up (before,
 * a small part of them was processed), p99 from 102 to 55 to 72 ms
 * (bench/ingest.ts, docs/benchmarks.md).
 *
 * Each change runs inside its own SAVEPOINT: one that throws is rolled back
 * alone and its caller gets the error, while the others commit. Nobody is
 * answered before the COMMIT that holds their change returned (under
 * `synchronous=FULL`, after the fsync); when the COMMIT itself fails, every
 * caller of the group gets that error and none of their changes is stored.
 * `work` must be synchronous and must not open a transaction of its own.
 */
export function groupCommit<T>(db: SqliteConnection, work: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    db.group.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
    // The next turn of the event loop: requests that arrived while the last
    // commit blocked the thread are all here by then, and a lone request
    // waits microseconds. Not setTimeout(0), which Deno makes about 2 ms: a
    // client sending after each answer paid that every time (the fuzz test's
    // 10,400 requests took 23 s instead of 4, and its heap bound failed).
    // The longer window batched more under load (1,850 small uploads/s
    // against 1,050) only because it starved the jobs: their queue grew by
    // 1,400 a second instead of keeping up (docs/benchmarks.md, issue 15).
    db.group.scheduled ??= setImmediate(() => commitGroup(db));
  });
}

/** Commits the waiting group now (the timer does; closing does it early). */
export function commitGroup(db: SqliteConnection): void {
  const group = db.group;
  clearImmediate(group.scheduled);
  group.scheduled = undefined;
  const batch = group.pending.splice(0);
  if (batch.length === 0) return;
  // A group of several (clients arriving together) is committed under
  // synchronous=NORMAL, written to the WAL but not fsynced, and then the WAL
  // is fsynced off the main thread; nobody is answered before that fsync
  // returned. As durable as a FULL commit, whose fsync is the same fsync of
  // the same file, but the thread serves other requests meanwhile instead
  // of blocking in it (the COMMIT's fsync was 22% of the main thread with 32
  // clients of small uploads). A group of one keeps the blocking FULL
  // commit: the hop to a thread and back costs a lone client about 1 ms
  // more than the fsync itself (the fuzz test's sequential requests took
  // 25 s instead of 4). Measured: docs/benchmarks.md, issue 15.
  const offThread = batch.length > 1 && db.path !== ":memory:";
  type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
  const commit = () =>
    transaction(db, () =>
      batch.map((change): Outcome => {
        db.sqlite.exec("SAVEPOINT grouped");
        try {
          return { ok: true, value: change.work() };
        } catch (error) {
          // Undoes this change only; the transaction stays open for the rest.
          db.sqlite.exec("ROLLBACK TO grouped");
          return { ok: false, error };
        } finally {
          db.sqlite.exec("RELEASE grouped");
        }
      }));
  let outcomes: Outcome[];
  try {
    outcomes = offThread ? relaxed(db, commit) : commit();
    group.commits++;
  } catch (error) {
    // The transaction itself failed (a full disk, an I/O error): nothing of
    // the group is stored, so nobody may be told otherwise.
    for (const change of batch) change.reject(error);
    return;
  }
  const answer = () =>
    batch.forEach((change, index) => {
      const outcome = outcomes[index];
      if (outcome.ok) change.resolve(outcome.value);
      else change.reject(outcome.error);
    });
  if (!offThread) {
    answer();
    return;
  }
  const synced = syncWal(db).then(answer, (error) => {
    // Committed but perhaps not durable: nobody may be told it is stored.
    for (const change of batch) change.reject(error);
  }).finally(() => group.syncing.delete(synced));
  group.syncing.add(synced);
}

/** Fsyncs the WAL file's data, on Deno's blocking-task threads. */
function syncWal(db: SqliteConnection): Promise<void> {
  try {
    db.group.walFile ??= Deno.openSync(`${db.path}-wal`, { read: true });
  } catch (error) {
    return Promise.reject(error);
  }
  return db.group.walFile.syncData();
}

/** Commits what waits and waits for the fsyncs in flight, so closing cuts no answer off. */
export async function settleGroup(db: SqliteConnection): Promise<void> {
  commitGroup(db);
  await Promise.all(db.group.syncing);
}

/**
 * The database's size in bytes: pages times page size, which is the main
 * file's size after a checkpoint (the WAL file comes on top until then).
 */
export function sqliteSizeBytes(db: SqliteConnection): Promise<number> {
  return run("measure the database", () => {
    const pages = statement(db, "PRAGMA page_count").get() as { page_count: number };
    const size = statement(db, "PRAGMA page_size").get() as { page_size: number };
    return pages.page_count * size.page_size;
  });
}

/** Runs `PRAGMA integrity_check`: `["ok"]`, or one line per problem. */
export function sqliteIntegrity(db: SqliteConnection): Promise<string[]> {
  return run(
    "check the database's integrity",
    () =>
      statement(db, "PRAGMA integrity_check").all().map((row) =>
        String((row as { integrity_check: unknown }).integrity_check)
      ),
  );
}

/** Checks that the database answers a trivial query (used by `/readyz`). */
export function pingSqlite(db: SqliteConnection): Promise<void> {
  return run("reach the database", () => {
    statement(db, "SELECT 1").get();
  });
}

/** Runs one statement with `?` placeholders and returns its rows (tests and tools). */
export function querySqlite(
  db: SqliteConnection,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Record<string, unknown>[]> {
  return run("run a query", () => {
    const prepared = db.sqlite.prepare(sql);
    const values = params as (null | number | bigint | string | Uint8Array)[];
    if (prepared.columns().length === 0) {
      prepared.run(...values);
      return [];
    }
    return prepared.all(...values) as Record<string, unknown>[];
  });
}

/**
 * Checkpoints the WAL into the main file and closes the connection, so a
 * stopped service leaves one self-contained database file behind, then
 * releases the process lock (on a full disk the checkpoint may be refused:
 * the WAL then stays beside the file, complete, and the next open replays
 * it). Safe to call twice.
 */
export function closeSqlite(db: SqliteConnection): void {
  if (!db.sqlite.isOpen) return;
  // Changes already asked for are committed, not dropped with their callers waiting.
  commitGroup(db);
  clearTimeout(db.wal.timer);
  db.wal.timer = undefined;
  db.group.walFile?.close();
  db.group.walFile = undefined;
  db.keys.counter?.close();
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
    // Closing the descriptor drops the flock; the file stays (it is tiny).
    db.lock?.close();
  }
}

async function ensureParentDirectory(path: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  if (slash <= 0) return;
  await Deno.mkdir(path.slice(0, slash), { recursive: true });
}
